/* src/common/text.c: printable, text made safe for a message: control bytes
 * as '?', with PRINT_ASCII also bytes past 0x7e, '"' and '\', and a text
 * too long for the buffer cut with "..." inside it. */
#include <criterion/criterion.h>
#include <string.h>

#include "text.h"

static const char *p(const char *s, size_t size, unsigned flags)
{
	static char buf[256];
	memset(buf, '#', sizeof buf);
	return printable(s, strlen(s), buf, size, flags);
}

Test(text, examples_of_text_h)
{
	cr_expect_str_eq(p("ke\ny", 48, 0), "ke?y");
	cr_expect_str_eq(p("caf\xc3\xa9", 48, PRINT_ASCII), "caf??");
}

Test(text, control_bytes_become_question_marks)
{
	char all[33];
	for (int i = 1; i < 32; i++)
		all[i - 1] = (char)i;
	all[31] = 0x7f;
	all[32] = '\0';
	char want[33];
	memset(want, '?', 32);
	want[32] = '\0';
	cr_expect_str_eq(p(all, 64, 0), want);
	cr_expect_str_eq(p(all, 64, PRINT_ASCII), want);
	char buf[16];
	cr_expect_str_eq(printable("a\0b", 3, buf, sizeof buf, 0), "a?b", "NUL too");
}

Test(text, print_ascii_flag)
{
	cr_expect_str_eq(p("say \"hi\" \\ ok", 64, 0), "say \"hi\" \\ ok", "kept without the flag");
	cr_expect_str_eq(p("say \"hi\" \\ ok", 64, PRINT_ASCII), "say ?hi? ? ok");
	cr_expect_str_eq(p("caf\xc3\xa9 \xe2\x82\xac", 64, 0), "caf\xc3\xa9 \xe2\x82\xac", "UTF-8 kept");
	cr_expect_str_eq(p("\xe2\x82\xac~", 64, PRINT_ASCII), "???~");
}

Test(text, long_text_is_cut_with_dots)
{
	const char *s = "abcdefghijklmnopqrstuvwxyz";
	const char *got = p(s, 10, 0);
	cr_expect_str_eq(got, "abcdef...");
	cr_expect_eq(strlen(got), 9, "within the buffer, NUL included");
	got = p(s, 4, 0);
	cr_expect_str_eq(got, "...");
	char buf[64];
	memset(buf, '#', sizeof buf);
	printable(s, strlen(s), buf, 12, 0);
	cr_expect_eq(buf[12], '#', "nothing written past size");
}

Test(text, short_text_and_tiny_buffers)
{
	cr_expect_str_eq(p("", 8, 0), "");
	cr_expect_str_eq(p("ok", 8, 0), "ok");
	cr_expect_str_eq(p("abc", 8, 0), "abc");
	char buf[4] = "###";
	cr_expect_eq(printable("abc", 3, buf, 0, 0), buf);
	cr_expect_eq(buf[0], '#', "size 0: nothing written");
	cr_expect_str_eq(printable("abc", 3, buf, 1, 0), "", "room for the NUL alone");
}

/* Regression: text.h cuts "a text that does not fit", but a
 * text of size-3 to size-1 bytes fits and is cut anyway, and the cut text is
 * then longer than the original. */
Test(text, a_text_that_fits_is_not_cut)
{
	cr_expect_str_eq(p("abcde", 6, 0), "abcde", "5 bytes and the NUL fit in 6");
	cr_expect_str_eq(p("abcd", 6, 0), "abcd");
	char s[46];
	memset(s, 'x', 45);
	s[45] = '\0';
	const char *got = p(s, 48, 0);
	cr_expect_str_eq(got, s, "45 bytes in 48");
	cr_expect_leq(strlen(got), 45, "cutting made it longer: %zu bytes", strlen(got));
}
