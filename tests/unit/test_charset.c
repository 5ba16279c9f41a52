/* src/common/charset.c: charset_lookup (labels, WHATWG's windows-1252 for
 * Latin-1, iconv for the rest, unknown as UTF-8) and charset_to_utf8
 * (invalid bytes and NUL as U+FFFD, cut at a character boundary). */
#include <criterion/criterion.h>
#include <string.h>

#include "charset.h"
#include "utf8.h"

static unsigned char out[256];

static size_t conv(const char *label, const char *in, size_t n, size_t cap, size_t *rep, int *cut)
{
	struct charset cs;
	charset_lookup(label, strlen(label), &cs);
	memset(out, 0, sizeof out);
	return charset_to_utf8(&cs, (const unsigned char *)in, n, out, cap, rep, cut);
}

Test(charset, labels)
{
	struct charset cs;
	cr_expect_eq(charset_lookup("UTF-8", 5, &cs), 1);
	cr_expect_eq(cs.kind, CHARSET_UTF8);
	cr_expect_eq(charset_lookup(" \"iso-8859-1\" ", 14, &cs), 1);
	cr_expect_eq(cs.kind, CHARSET_WINDOWS_1252);
	cr_expect_eq(charset_lookup("Latin1", 6, &cs), 1);
	cr_expect_eq(cs.kind, CHARSET_WINDOWS_1252);
	cr_expect_eq(charset_lookup("EUC-JP", 6, &cs), 1);
	cr_expect_eq(cs.kind, CHARSET_ICONV);
	cr_expect_str_eq(cs.name, "EUC-JP");
	cr_expect_eq(charset_lookup("x-no-such-charset", 17, &cs), 0);
	cr_expect_eq(cs.kind, CHARSET_UTF8);
	cr_expect_eq(charset_lookup("utf-8/../../etc", 15, &cs), 0);
	cr_expect_eq(charset_lookup("", 0, &cs), 0);
}

Test(charset, latin1_is_windows_1252)
{
	size_t rep;
	int cut;
	size_t n = conv("ISO-8859-1", "K\xf6ln \x80 \x81", 8, sizeof out, &rep, &cut);
	cr_expect_eq(n, 12);
	cr_expect(!memcmp(out, "K\xc3\xb6ln \xe2\x82\xac \xc2\x81", 12));
	cr_expect_eq(rep, 0);
	cr_expect_eq(cut, 0);
	n = conv("latin1", "a\0b", 3, sizeof out, &rep, &cut);
	cr_expect_eq(n, 5);
	cr_expect(!memcmp(out, "a\xef\xbf\xbd" "b", 5));
	cr_expect_eq(rep, 1);
}

Test(charset, utf8_repaired_and_cut)
{
	size_t rep;
	int cut;
	size_t n = conv("utf-8", "caf\xc3\xa9 \xff\xfe", 8, sizeof out, &rep, &cut);
	cr_expect_eq(n, 6 + 6);
	cr_expect(utf8_check(out, n, NULL));
	cr_expect_eq(rep, 2);
	/* Cut before a character that does not fit: "café" in 4 bytes is "caf". */
	n = conv("utf-8", "caf\xc3\xa9", 5, 4, &rep, &cut);
	cr_expect_eq(n, 3);
	cr_expect_eq(cut, 1);
	/* An unknown charset is read as UTF-8. */
	n = conv("x-unknown", "\xe9t\xe9", 3, sizeof out, &rep, &cut);
	cr_expect_eq(rep, 2);
	cr_expect(utf8_check(out, n, NULL));
}

Test(charset, iconv_with_invalid_bytes)
{
	size_t rep;
	int cut;
	/* "日本" in EUC-JP, then a byte EUC-JP has no character for */
	size_t n = conv("EUC-JP", "\xc6\xfc\xcb\xdc\xff", 5, sizeof out, &rep, &cut);
	cr_expect(utf8_check(out, n, NULL));
	cr_expect(!memcmp(out, "\xe6\x97\xa5\xe6\x9c\xac", 6), "%.*s", (int)n, out);
	cr_expect_eq(rep, 1);
	n = conv("EUC-JP", "\xc6\xfc\xcb\xdc", 4, 4, &rep, &cut);
	cr_expect_eq(n, 3);
	cr_expect_eq(cut, 1);
}

/* UTF-8 in, whatever its bytes: the same text as utf8_repair makes (each
 * NUL and each byte that starts no sequence as U+FFFD, cut before the
 * first character that does not fit), with the replacements counted and
 * the cut told; well-formed text that fits is copied whole. */
Test(charset, utf8_as_utf8_repair_makes_it)
{
	static const unsigned char alphabet[] = {'a', ' ', 0, 0x7f, 0x80, 0xbf, 0xc3, 0xa9,
	                                         0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0xff};
	unsigned char in[24], want[sizeof out];
	struct charset cs;
	charset_lookup("utf-8", 5, &cs);
	unsigned seed = 1;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 24);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly one of a few characters, now and then any byte */
			in[i] = (seed >> 16) % 4 ? alphabet[(seed >> 8) % sizeof alphabet]
			                         : (unsigned char)(seed >> 20);
		}
		size_t cap = (size_t)(round / 24) % 80, rep = 99;
		int cut = 9;
		size_t got = charset_to_utf8(&cs, in, n, out, cap, &rep, &cut);
		size_t exp = utf8_repair(in, n, want, cap);
		cr_assert_eq(got, exp, "round %d: %zu bytes, utf8_repair %zu", round, got, exp);
		cr_assert(!memcmp(out, want, got), "round %d", round);
		size_t bad = 0, used = 0, i = 0;
		while (i < n) {
			size_t k = in[i] ? utf8_seq(in + i, n - i) : 0;
			if (used + (k ? k : 3) > cap)
				break; /* cut here */
			used += k ? k : 3;
			bad += !k;
			i += k ? k : 1;
		}
		cr_assert_eq(rep, bad, "round %d: %zu replaced, expected %zu", round, rep, bad);
		cr_assert_eq(cut, i < n, "round %d", round);
	}
	/* fits exactly, and one byte short */
	size_t rep;
	int cut;
	cr_expect_eq(conv("utf-8", "caf\xc3\xa9", 5, 5, &rep, &cut), 5);
	cr_expect_eq(cut, 0);
	cr_expect_eq(rep, 0);
	cr_expect(!memcmp(out, "caf\xc3\xa9", 5));
	cr_expect_eq(conv("utf-8", "abcdef", 6, 4, &rep, &cut), 4);
	cr_expect_eq(cut, 1);
}
