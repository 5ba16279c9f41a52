/* src/lib/fold.c: fold_text (NFKC, case folding, default-ignorables dropped,
 * into code points; ALL-CAPS words counted before folding; FOLD_MORE when
 * the room is short) and fold_dup (the same folding as a UTF-8 string). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "thresh/error.h"

/* fold - fold_text of s into u (room for room code points, which must be
 * enough); returns how many code points it wrote. */
static size_t fold(const char *s, int32_t *u, size_t room, struct fold_caps *caps)
{
	size_t out = 0, need = 0;
	int rc = fold_text((const unsigned char *)s, strlen(s), caps, u, room, &out, &need);
	cr_assert_eq(rc, 0, "fold_text(%s): %d", s, rc);
	return out;
}

/* expect_fold - s folds to the code points of want (given as UTF-32). */
static void expect_fold(const char *s, const int32_t *want, size_t nwant)
{
	int32_t u[256];
	size_t n = fold(s, u, 256, NULL);
	cr_expect_eq(n, nwant, "fold(%s): %zu code points, want %zu", s, n, nwant);
	for (size_t i = 0; i < n && i < nwant; i++)
		cr_expect_eq(u[i], want[i], "fold(%s)[%zu] = U+%04X, want U+%04X", s, i, (unsigned)u[i],
		             (unsigned)want[i]);
}

/* expect_ascii - s folds to the ASCII text want. */
static void expect_ascii(const char *s, const char *want)
{
	int32_t w[256];
	size_t n = strlen(want);
	for (size_t i = 0; i < n; i++)
		w[i] = (unsigned char)want[i];
	expect_fold(s, w, n);
}

static unsigned caps_of(const char *s)
{
	int32_t u[256];
	struct fold_caps c = {99, 99, 99}; /* fold_text resets it */
	fold(s, u, 256, &c);
	return c.words;
}

/* The worked example of fold.c. */
Test(fold, worked_example)
{
	struct fold_caps c;
	int32_t u[64];
	size_t n = fold("\xef\xbc\xa6\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\xa5 Money\xe2\x80\x8b!!", u, 64, &c);
	const char *want = "free money!!";
	cr_assert_eq(n, strlen(want));
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(u[i], want[i], "at %zu", i);
	cr_expect_eq(c.words, 1);
}

Test(fold, ascii_is_lowered_and_kept)
{
	expect_ascii("Hello, World! 42 <a href=x>", "hello, world! 42 <a href=x>");
	expect_ascii("", "");
	expect_ascii("\t\n", "\t\n");
}

Test(fold, nfkc_and_case_folding)
{
	expect_ascii("\xef\xac\x81nance", "finance");         /* the fi ligature */
	expect_ascii("\xe2\x91\xa0", "1");                     /* circled one */
	expect_ascii("Stra\xc3\x9f" "e", "strasse");           /* sharp s folds to ss */
	static const int32_t sigma[] = {0x3C3, 0x3AF, 0x3C3, 0x3C5, 0x3C6, 0x3BF, 0x3C3};
	expect_fold("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3", sigma, 7); /* ΣΊΣΥΦΟΣ */
	static const int32_t kata[] = {0x30AB, 0x30BF};
	expect_fold("\xef\xbd\xb6\xef\xbe\x80", kata, 2);       /* halfwidth katakana */
}

/* A combining mark composes with the ASCII letter before it: the stretch
 * handed to utf8proc starts one character early. Decomposed and composed
 * input fold alike. */
Test(fold, combining_mark_composes_with_the_ascii_letter_before)
{
	static const int32_t cafe[] = {'c', 'a', 'f', 0xE9, ' ', 'o', 'k'};
	expect_fold("cafe\xcc\x81 ok", cafe, 7);
	expect_fold("caf\xc3\xa9 ok", cafe, 7);
	expect_fold("CAFE\xcc\x81 OK", cafe, 7);
	static const int32_t bai[] = {'b', 0xE0, 'i'};
	expect_fold("Ba\xcc\x80i", bai, 3);
}

Test(fold, default_ignorables_are_dropped)
{
	expect_ascii("fr\xe2\x80\x8b" "ee", "free");        /* U+200B zero-width space */
	expect_ascii("sp\xc2\xad" "am", "spam");            /* U+00AD soft hyphen */
	expect_ascii("\xef\xbb\xbfhello", "hello");         /* U+FEFF */
	expect_ascii("mon\xe2\x80\x8c" "ey w\xe2\x81\xa0in", "money win"); /* U+200C, U+2060 */
	static const int32_t heart[] = {0x2764};
	expect_fold("\xe2\x9d\xa4\xef\xb8\x8f", heart, 1);   /* variation selector 16 */
}

Test(fold, all_caps_words_counted_before_folding)
{
	cr_expect_eq(caps_of("BUY CHEAP PILLS NOW ok"), 4);
	cr_expect_eq(caps_of("OK go MP3"), 0, "two capitals are not a word of capitals");
	cr_expect_eq(caps_of("HeLLO World"), 0, "a lower-case letter spoils it");
	cr_expect_eq(caps_of("ABC1D"), 1, "digits neither count nor break a word");
	cr_expect_eq(caps_of("FREE"), 1, "a word at the very end counts");
	cr_expect_eq(caps_of("\xc3\x89" "COLE"), 1, "non-ASCII capitals count");    /* ÉCOLE */
	cr_expect_eq(caps_of("CAF\xc3\x89 au lait"), 1, "across the ASCII/utf8proc boundary");
	cr_expect_eq(caps_of("\xef\xbc\xa6\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\xa5 and F\xe2\x80\x8bREE"), 2,
	             "fullwidth capitals, and an ignorable inside a word");
	cr_expect_eq(caps_of("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3"), 1);
	cr_expect_eq(caps_of(""), 0);
	cr_expect_eq(caps_of("\xe4\xb8\xad\xe6\x96\x87"), 0, "letters without case are neither");
}

/* Too little room: FOLD_MORE with *need, enough for a second call that
 * then gives the same result as one with room to spare. */
Test(fold, fold_more_asks_for_enough_room)
{
	static const char *const texts[] = {
		"hello world, plain ASCII",
		"Stra\xc3\x9f" "e und Stra\xc3\x9f" "e",          /* folds longer than it reads */
		"\xef\xac\x81\xef\xac\x81\xef\xac\x81\xef\xac\x81", /* four ligatures, eight letters */
		"cafe\xcc\x81 BIG CAPS \xe2\x80\x8b end",
	};
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
		const char *s = texts[t];
		size_t n = strlen(s);
		int32_t full[256];
		struct fold_caps c1, c2;
		size_t want = fold(s, full, 256, &c1);
		for (size_t room = 0; room < want; room++) {
			int32_t *u = malloc((room + 1) * sizeof *u);
			size_t out = 0, need = 0;
			int rc = fold_text((const unsigned char *)s, n, &c2, u, room, &out, &need);
			cr_assert_eq(rc, FOLD_MORE, "%s with room %zu: %d", s, room, rc);
			cr_assert_gt(need, room, "%s: need %zu with room %zu", s, need, room);
			free(u);
			u = malloc(need * sizeof *u);
			rc = fold_text((const unsigned char *)s, n, &c2, u, need, &out, &need);
			cr_assert_eq(rc, 0, "%s: the room asked for was not enough", s);
			cr_assert_eq(out, want);
			cr_assert_eq(memcmp(u, full, want * sizeof *u), 0);
			cr_assert_eq(c2.words, c1.words, "caps counted afresh on the second call");
			free(u);
		}
	}
}

Test(fold, invalid_utf8_is_refused)
{
	static const char *const bad[] = {"abc\xff", "\xc3\x28", "ok \xed\xa0\x80", "\xe2\x82"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int32_t u[64];
		size_t out, need;
		cr_expect_eq(fold_text((const unsigned char *)bad[i], strlen(bad[i]), NULL, u, 64, &out, &need),
		             THRESH_EUTF8, "case %zu", i);
	}
}

Test(fold, fold_dup_gives_utf8)
{
	const char *in = "\xef\xbc\xa3" "asino \xc3\x89T\xc3\x89";
	char *s = fold_dup(in, strlen(in));
	cr_assert_not_null(s);
	cr_expect_str_eq(s, "casino \xc3\xa9t\xc3\xa9");
	free(s);
	s = fold_dup("Casino night", 6);
	cr_assert_not_null(s);
	cr_expect_str_eq(s, "casino", "only the n bytes given");
	free(s);
	/* a word of ignorables folds to nothing (robust/test_regressions.c has
	 * what that means for the word lists) */
	s = fold_dup("\xc2\xad\xe2\x80\x8b", 5);
	cr_assert_not_null(s);
	cr_expect_str_eq(s, "");
	free(s);
	cr_expect_null(fold_dup("bad \xff", 5));
}
