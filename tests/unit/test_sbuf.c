/* src/common/sbuf.c: the string that grows as it is written: appends of
 * bytes, strings and formats (short and past the 256-byte fast path), the
 * NUL after the text, sb_take and sb_free, and a buffer that ran out of
 * memory ignoring writes until sb_take gives NULL. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

Test(sbuf, starts_empty)
{
	struct sbuf b;
	sb_init(&b);
	cr_expect_null(b.p, "nothing allocated before the first write");
	cr_expect_eq(b.len, 0);
	cr_expect_eq(b.oom, 0);
	sb_putn(&b, "", 0);
	cr_assert_not_null(b.p, "NUL-terminated once anything was written");
	cr_expect_str_eq(b.p, "");
	sb_free(&b);
	cr_expect_null(b.p, "sb_free leaves it empty");
	cr_expect_eq(b.len, 0);
	sb_free(&b);
}

Test(sbuf, appends_bytes_strings_and_formats)
{
	struct sbuf b;
	sb_init(&b);
	sb_puts(&b, "key");
	sb_putn(&b, " = xyz", 3);
	sb_printf(&b, "%u, %s", 42u, "words");
	cr_expect_str_eq(b.p, "key = 42, words");
	cr_expect_eq(b.len, strlen("key = 42, words"));
	sb_putn(&b, "a\0b", 3);
	cr_expect_eq(b.len, 18, "NUL bytes are bytes");
	cr_expect_eq(memcmp(b.p + 15, "a\0b", 4), 0, "and the text stays NUL-terminated");
	sb_free(&b);
}

/* Formats longer than sb_printf's small buffer take the other path. */
Test(sbuf, long_formats)
{
	char want[2000];
	struct sbuf b;
	memset(want, 'x', sizeof want - 1);
	want[sizeof want - 1] = '\0';
	for (size_t n = 250; n < 270; n++) {
		sb_init(&b);
		sb_puts(&b, "<");
		sb_printf(&b, "%.*s>", (int)n, want);
		cr_assert_eq(b.len, n + 2, "%zu", n);
		cr_expect_eq(b.p[0], '<');
		cr_expect_eq(b.p[n + 1], '>');
		cr_expect_eq(b.p[n + 2], '\0');
		cr_expect_eq(strspn(b.p + 1, "x"), n);
		sb_free(&b);
	}
	sb_init(&b);
	sb_printf(&b, "%s|%s", want, want);
	cr_expect_eq(b.len, 2 * 1999 + 1);
	cr_expect_eq(b.p[1999], '|');
	sb_free(&b);
}

Test(sbuf, grows_across_many_writes)
{
	struct sbuf b;
	sb_init(&b);
	for (int i = 0; i < 20000; i++)
		sb_printf(&b, "%d,", i % 10);
	cr_assert_eq(b.len, 40000);
	cr_expect_geq(b.cap, b.len + 1);
	for (int i = 0; i < 20000; i++)
		cr_assert(b.p[2 * i] == '0' + i % 10 && b.p[2 * i + 1] == ',', "at %d", i);
	cr_expect_eq(b.p[b.len], '\0');
	sb_free(&b);
}

Test(sbuf, take_hands_over_the_text)
{
	struct sbuf b;
	sb_init(&b);
	sb_puts(&b, "reply");
	char *t = sb_take(&b);
	cr_assert_not_null(t);
	cr_expect_str_eq(t, "reply");
	cr_expect_null(b.p, "the buffer is left empty");
	cr_expect_eq(b.len, 0);
	free(t);
	t = sb_take(&b);
	cr_assert_not_null(t, "an empty buffer gives \"\"");
	cr_expect_str_eq(t, "");
	free(t);
	sb_puts(&b, "again");
	cr_expect_str_eq(b.p, "again", "usable after a take");
	sb_free(&b);
}

/* After a failed allocation (oom set) writes are ignored, and sb_take
 * gives NULL and frees the buffer: the writer checks once, at the end. */
Test(sbuf, out_of_memory_is_sticky)
{
	struct sbuf b;
	sb_init(&b);
	sb_puts(&b, "partial");
	b.oom = 1;
	sb_puts(&b, " more");
	sb_printf(&b, "%d", 7);
	sb_putn(&b, "x", 1);
	cr_expect_str_eq(b.p, "partial", "nothing written after oom");
	cr_expect_eq(b.len, 7);
	cr_expect_null(sb_take(&b));
	cr_expect_null(b.p, "freed");
	cr_expect_eq(b.oom, 0, "and empty again");
}
