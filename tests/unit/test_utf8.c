/* src/common/utf8.c: the project's one UTF-8 validator (utf8_seq,
 * utf8_check and the offset of the first bad byte), encoder (utf8_put) and
 * repairer (utf8_repair: U+FFFD for bad bytes and NUL, cut at a character
 * boundary). Well-formed is RFC 3629. */
#include <criterion/criterion.h>
#include <string.h>

#include "utf8.h"

#define B(s) (const unsigned char *)(s), sizeof(s) - 1

Test(utf8, seq_lengths_of_well_formed_sequences)
{
	cr_expect_eq(utf8_seq(B("a")), 1);
	cr_expect_eq(utf8_seq((const unsigned char *)"", 1), 1, "NUL is well-formed");
	cr_expect_eq(utf8_seq(B("\x7f")), 1);
	cr_expect_eq(utf8_seq(B("\xc2\x80")), 2, "U+0080");
	cr_expect_eq(utf8_seq(B("\xc3\xa9t\xc3\xa9")), 2, "utf8.c's example");
	cr_expect_eq(utf8_seq(B("\xdf\xbf")), 2, "U+07FF");
	cr_expect_eq(utf8_seq(B("\xe0\xa0\x80")), 3, "U+0800");
	cr_expect_eq(utf8_seq(B("\xe2\x82\xac")), 3, "U+20AC");
	cr_expect_eq(utf8_seq(B("\xed\x9f\xbf")), 3, "U+D7FF");
	cr_expect_eq(utf8_seq(B("\xee\x80\x80")), 3, "U+E000");
	cr_expect_eq(utf8_seq(B("\xef\xbf\xbf")), 3, "U+FFFF");
	cr_expect_eq(utf8_seq(B("\xf0\x90\x80\x80")), 4, "U+10000");
	cr_expect_eq(utf8_seq(B("\xf0\x9f\x98\x80")), 4, "U+1F600");
	cr_expect_eq(utf8_seq(B("\xf4\x8f\xbf\xbf")), 4, "U+10FFFF");
}

Test(utf8, seq_refuses_ill_formed)
{
	static const struct {
		const char *what, *s;
		size_t n;
	} bad[] = {
		{"lone continuation", "\x80", 1},
		{"overlong NUL", "\xc0\x80", 2},
		{"overlong '/'", "\xc0\xaf", 2},
		{"overlong C1", "\xc1\xbf", 2},
		{"overlong 3-byte", "\xe0\x9f\xbf", 3},
		{"surrogate D800", "\xed\xa0\x80", 3},
		{"surrogate DFFF", "\xed\xbf\xbf", 3},
		{"overlong 4-byte", "\xf0\x8f\xbf\xbf", 4},
		{"past U+10FFFF", "\xf4\x90\x80\x80", 4},
		{"F5", "\xf5\x80\x80\x80", 4},
		{"FF", "\xff", 1},
		{"FE", "\xfe", 1},
		{"2-byte cut", "\xc3", 1},
		{"3-byte cut", "\xe2\x82", 2},
		{"4-byte cut", "\xf0\x9f\x98", 3},
		{"bad second byte", "\xc3\x28", 2},
		{"bad third byte", "\xe2\x82\x28", 3},
		{"bad fourth byte", "\xf0\x9f\x98\x28", 4},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(utf8_seq((const unsigned char *)bad[i].s, bad[i].n), 0, "%s", bad[i].what);
	/* n bounds the read: a whole sequence beyond n is none */
	cr_expect_eq(utf8_seq((const unsigned char *)"\xc3\xa9", 1), 0);
	cr_expect_eq(utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80", 3), 0);
}

Test(utf8, check_gives_the_offset_of_the_first_bad_byte)
{
	size_t bad = 99;
	cr_expect_eq(utf8_check(B("plain ascii"), &bad), 1);
	cr_expect_eq(bad, 99, "left alone when well-formed");
	cr_expect_eq(utf8_check(B("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), &bad), 1);
	cr_expect_eq(utf8_check((const unsigned char *)"", 0, &bad), 1, "empty");
	cr_expect_eq(utf8_check((const unsigned char *)"a\0b", 3, &bad), 1, "NUL is well-formed");
	cr_expect_eq(utf8_check(B("ab\xc3\x28"), &bad), 0);
	cr_expect_eq(bad, 2);
	cr_expect_eq(utf8_check(B("caf\xc3\xa9 \xff"), &bad), 0);
	cr_expect_eq(bad, 6);
	cr_expect_eq(utf8_check(B("abc\xe2\x82"), &bad), 0, "cut at the end");
	cr_expect_eq(bad, 3);
	cr_expect_eq(utf8_check(B("\xed\xa0\x80 x"), &bad), 0);
	cr_expect_eq(bad, 0);
	cr_expect_eq(utf8_check(B("\xe2\x82\xac\x80"), &bad), 0, "a stray continuation after a whole one");
	cr_expect_eq(bad, 3);
	cr_expect_eq(utf8_check(B("x\xff"), NULL), 0, "bad may be NULL");
}

static void expect_put(uint32_t cp, const char *want, size_t n)
{
	unsigned char out[4];
	size_t k = utf8_put(cp, out);
	cr_expect_eq(k, n, "U+%04X: %zu bytes", cp, k);
	cr_expect_eq(memcmp(out, want, n), 0, "U+%04X", cp);
}

Test(utf8, put_encodes_and_replaces)
{
	expect_put(0, "\0", 1);
	expect_put(0x7f, "\x7f", 1);
	expect_put(0x80, "\xc2\x80", 2);
	expect_put(0x7ff, "\xdf\xbf", 2);
	expect_put(0x800, "\xe0\xa0\x80", 3);
	expect_put(0xffff, "\xef\xbf\xbf", 3);
	expect_put(0x10000, "\xf0\x90\x80\x80", 4);
	expect_put(0x10ffff, "\xf4\x8f\xbf\xbf", 4);
	/* surrogates and values past U+10FFFF become U+FFFD */
	expect_put(0xd800, "\xef\xbf\xbd", 3);
	expect_put(0xdfff, "\xef\xbf\xbd", 3);
	expect_put(0x110000, "\xef\xbf\xbd", 3);
	expect_put(0xffffffff, "\xef\xbf\xbd", 3);
}

/* Every scalar value encodes to one well-formed sequence of its length. */
Test(utf8, put_then_seq_round_trips_every_code_point)
{
	unsigned char out[4];
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		size_t k = utf8_put(cp, out);
		size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		cr_assert_eq(k, want, "U+%04X", cp);
		cr_assert_eq(utf8_seq(out, k), k, "U+%04X", cp);
	}
}

static void expect_repair(const unsigned char *s, size_t n, size_t cap, const char *want, size_t wn)
{
	unsigned char out[64];
	memset(out, '#', sizeof out);
	size_t k = utf8_repair(s, n, out, cap);
	cr_expect_eq(k, wn, "%zu bytes, want %zu", k, wn);
	cr_expect_eq(memcmp(out, want, wn), 0);
	cr_expect_eq(out[k], '#', "nothing written past what it returned");
	cr_expect_eq(utf8_check(out, k, NULL), 1, "the result is well-formed");
}

#define W(s) s, sizeof(s) - 1 /* an expected result and its length */

Test(utf8, repair_replaces_bad_bytes_and_nul)
{
	expect_repair(B("caf\xe9"), 64, W("caf\xef\xbf\xbd")); /* utf8.c's example */
	expect_repair(B("caf\xc3\xa9"), 64, W("caf\xc3\xa9"));
	expect_repair(B("a\0b"), 64, W("a\xef\xbf\xbd" "b"));
	expect_repair(B("\xe2\x82"), 64, W("\xef\xbf\xbd\xef\xbf\xbd")); /* each byte of a cut sequence */
	expect_repair(B("\xed\xa0\x80"), 64, W("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));
	expect_repair(B("x\xc0\xafy"), 64, W("x\xef\xbf\xbd\xef\xbf\xbdy"));
	expect_repair(B(""), 64, W(""));
}

Test(utf8, repair_cuts_at_a_character_boundary)
{
	/* "a" "é" "€": 1 + 2 + 3 bytes */
	const unsigned char *s = (const unsigned char *)"a\xc3\xa9\xe2\x82\xac";
	expect_repair(s, 6, 6, W("a\xc3\xa9\xe2\x82\xac"));
	expect_repair(s, 6, 5, W("a\xc3\xa9"));
	expect_repair(s, 6, 3, W("a\xc3\xa9"));
	expect_repair(s, 6, 2, W("a"));
	expect_repair(s, 6, 0, W(""));
	/* a replacement that does not fit whole is not written either */
	expect_repair(B("ab\xff"), 4, W("ab"));
	expect_repair(B("ab\xff"), 5, W("ab\xef\xbf\xbd"));
	expect_repair(B("a\0"), 3, W("a"));
}
