/* src/lib/fold.c: fold_text (NFKC, case folding, default-ignorables dropped,
 * into code points; ALL-CAPS words counted before folding; FOLD_MORE when
 * the room is short) and fold_dup (the same folding as a UTF-8 string). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

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

/* ------------------------------------------------ runs of combining marks */

/* put - append code point c to s as UTF-8; returns the new length. */
static size_t put(char *s, size_t n, int32_t c)
{
	return n + (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)s + n);
}

/* reference - the code points utf8proc_map gives for s[0..n) folded as
 * fold_text folds, whole (no piece of it apart), into u; returns how many. */
static size_t reference(const char *s, size_t n, int32_t *u, size_t room)
{
	utf8proc_uint8_t *m = NULL;
	utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &m,
	                                  UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
	                                          UTF8PROC_STABLE | UTF8PROC_IGNORE);
	cr_assert_geq(r, 0, "utf8proc_map: %zd", r);
	size_t k = 0;
	for (utf8proc_ssize_t i = 0; i < r;) {
		utf8proc_int32_t c;
		i += utf8proc_iterate(m + i, r - i, &c);
		cr_assert_lt(k, room);
		u[k++] = c;
	}
	free(m);
	return k;
}

/* expect_pieces - s (its pieces back to back) folds to the references of
 * the pieces laid end to end: as if a CGJ stood between them. */
static void expect_pieces(const char *what, const char *const *piece, const size_t *len, size_t npieces)
{
	char s[1024];
	int32_t want[1024], got[1024];
	size_t n = 0, nwant = 0;
	for (size_t p = 0; p < npieces; p++) {
		memcpy(s + n, piece[p], len[p]);
		n += len[p];
		nwant += reference(piece[p], len[p], want + nwant, 1024 - nwant);
	}
	size_t out = 0, need = 0;
	cr_assert_eq(fold_text((const unsigned char *)s, n, NULL, got, 1024, &out, &need), 0, "%s", what);
	cr_assert_eq(out, nwant, "%s: %zu code points, want %zu", what, out, nwant);
	for (size_t i = 0; i < out; i++)
		cr_expect_eq(got[i], want[i], "%s [%zu]: U+%04X, want U+%04X", what, i, (unsigned)got[i],
		             (unsigned)want[i]);
}

/* Unicode's Stream-Safe Text Format: up to 30 non-starters in a row are put
 * in canonical order and composed as utf8proc does with the whole text; the
 * 31st starts a run of its own, as if a CGJ (U+034F) stood before it. The
 * count is of non-starters as the text decomposes: U+0F73 (a starter by its
 * own class) is two, an ignorable is none and does not end a run either. */
Test(fold, at_most_30_nonstarters_are_reordered_together)
{
	char a[256], b[64];
	size_t na = put(a, 0, 'a'), nb;
	for (int i = 0; i < 29; i++)
		na = put(a, na, 0x301);
	nb = put(b, 0, 0x316);
	/* 30 in a row: one run, U+0316 (class 220) sorts before U+0301 (230) */
	char whole[512];
	memcpy(whole, a, na);
	memcpy(whole + na, b, nb);
	size_t nwhole = na + nb;
	expect_pieces("a + 29 x U+0301 + U+0316", (const char *const[]){whole}, &nwhole, 1);
	int32_t u[64];
	size_t out = 0, need = 0;
	cr_assert_eq(fold_text((const unsigned char *)whole, nwhole, NULL, u, 64, &out, &need), 0);
	cr_expect_eq(u[0], 0xE1, "a + U+0301 composes");
	cr_expect_eq(u[1], 0x316, "U+0316 moved before the other U+0301s");
	/* 31: the last one is a run of its own */
	na = put(a, na, 0x301);
	expect_pieces("a + 30 x U+0301 + U+0316", (const char *const[]){a, b}, (size_t[]){na, nb}, 2);
	/* U+0F73 decomposes into two non-starters (U+0F71 U+0F72) */
	char t[256];
	size_t nt = 0;
	for (int i = 0; i < 15; i++)
		nt = put(t, nt, 0xF73);
	char t1[8];
	size_t nt1 = put(t1, 0, 0xF73);
	expect_pieces("16 x U+0F73", (const char *const[]){t, t1}, (size_t[]){nt, nt1}, 2);
	/* an ignorable inside a run neither counts nor ends it */
	char z[256];
	size_t nz = 0;
	for (int i = 0; i < 20; i++)
		nz = put(z, nz, 0x301);
	nz = put(z, nz, 0x200B);
	for (int i = 0; i < 10; i++)
		nz = put(z, nz, 0x316);
	expect_pieces("20 x U+0301, U+200B, 11 x U+0316", (const char *const[]){z, b}, (size_t[]){nz, nb}, 2);
	/* a precomposed letter brings its marks along: U+1E08 is C, U+0327, U+0301 */
	char c[256];
	size_t nc = put(c, 0, 0x1E08);
	for (int i = 0; i < 28; i++)
		nc = put(c, nc, 0x316);
	expect_pieces("U+1E08 + 29 x U+0316", (const char *const[]){c, b}, (size_t[]){nc, nb}, 2);
}

/* rng - xorshift64*, for the property tests' texts (the same every run). */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Text with no run of more than 30 non-starters folds exactly as utf8proc
 * folds it whole (which is what it did before the runs were bounded): no
 * token id of such text moves. Random texts of tricky characters: marks of
 * many classes, letters that decompose or case-fold into marks, Hangul,
 * compatibility expansions, ignorables, ASCII next to all of them. Every
 * cluster opens with a letter that has no decomposition and holds at most 14
 * other characters, at most 2 non-starters each (half of them marks, so
 * that long runs out of order are common), so no run passes 30. */
Test(fold, stream_safe_text_folds_as_utf8proc_folds_it_whole)
{
	static const int32_t open[] = {'a', 'Z', ' ', '.', '1', 0x4E2D, 0x3042, 0x5D0, 0x627, 0x915};
	static const int32_t marks[] = {0x301, 0x316, 0x327, 0x344, 0xF71, 0xF72, 0xF73, 0x5B0,
	                                0x334, 0x93C, 0x3099, 0x345, 0x308, 0x1DCE, 0x1E08};
	static const int32_t any[] = {
		0x301, 0x316, 0x327, 0x344, 0xF71, 0xF72, 0xF73, 0x5B0, 0x334, 0x93C, 0x3099, 0x345,
		0x308, 0x20D2, 0x1DCE, 0x1E08, 0xE9, 0xC5, 0x1F80, 0x1F88, 0x3A3, 0x130, 0xDF, 0xFB01,
		0xAC00, 0xAC01, 0x1100, 0x1161, 0x11A8, 0xFDFA, 0x200B, 0x34F, 0xFE0F, 0xAD, 0xFF9E,
		0x2126, 0x212B, 'e', 'E', 'o', ' ', 0x3B1, 0x391, 0x416, 0x1100, 0xFF76};
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	char s[2048];
	static int32_t want[4096], got[4096];
	for (int round = 0; round < 20000; round++) {
		size_t n = 0, clusters = 1 + rng(&seed) % 6;
		for (size_t k = 0; k < clusters; k++) {
			n = put(s, n, open[rng(&seed) % (sizeof open / sizeof open[0])]);
			for (size_t m = rng(&seed) % 15; m > 0; m--) {
				uint64_t r = rng(&seed);
				n = r & 1 ? put(s, n, marks[(r >> 1) % (sizeof marks / sizeof marks[0])])
				          : put(s, n, any[(r >> 1) % (sizeof any / sizeof any[0])]);
			}
		}
		size_t nwant = reference(s, n, want, 4096), out = 0, need = 0;
		cr_assert_eq(fold_text((const unsigned char *)s, n, NULL, got, 4096, &out, &need), 0);
		cr_assert_eq(out, nwant, "round %d: %zu code points, want %zu", round, out, nwant);
		cr_assert_eq(memcmp(got, want, out * sizeof *got), 0, "round %d: %.*s", round, (int)n, s);
		char *d = fold_dup(s, n);
		cr_assert_not_null(d);
		utf8proc_uint8_t *m = NULL;
		cr_assert_geq(utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &m,
		                           UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
		                                   UTF8PROC_STABLE | UTF8PROC_IGNORE), 0);
		cr_assert_str_eq(d, (char *)m, "round %d: fold_dup", round);
		free(m);
		free(d);
	}
}

/* cpu - the CPU time this process has used, in seconds. */
static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* fold_cost - the least CPU time of three fold_text and fold_dup of s;
 * u (room code points) holds what fold_text gave, *out of them. */
static double fold_cost(const char *s, size_t n, int32_t *u, size_t room, size_t *out)
{
	double best = 1e9;
	for (int k = 0; k < 3; k++) {
		size_t need = 0;
		double t0 = cpu();
		cr_assert_eq(fold_text((const unsigned char *)s, n, NULL, u, room, out, &need), 0);
		char *d = fold_dup(s, n);
		double t = cpu() - t0;
		cr_assert_not_null(d);
		free(d);
		best = t < best ? t : best;
	}
	return best;
}

/* The attack of issue 18: a 64 KiB comment of 16,376 U+0301 then 16,376
 * U+0316, marks out of canonical order, took utf8proc's exchange sort ~2 s
 * a fold (against 1 ms in order: the square of the run). Bounded runs make
 * it cost what the same marks in order cost. The budget is relative to that
 * peer, measured in the same process in CPU time (so a loaded machine or
 * valgrind slows both alike): 25 times the marks in order, or 50 ms,
 * whichever is more. Fixed, the reversed marks cost 1 to 1.5 times the
 * marks in order; the quadratic sort cost 4,000 times. The same for U+0F73,
 * a starter by its own class that decomposes into two marks (classes 129
 * and 130) and so made the same out-of-order run. */
Test(fold, reversed_mark_runs_fold_in_linear_time)
{
	static const int32_t runs[][2] = {{0x301, 0x316}, {0xF73, 0xF73}};
	size_t n = 65504;
	size_t room = 2 * n;
	char *bad = malloc(n + 8), *good = malloc(2 * n + 8);
	int32_t *u = malloc(room * sizeof *u);
	cr_assert(bad && good && u);
	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		size_t nb = 0, ng = 0, w = (size_t)utf8proc_encode_char(runs[r][0], (utf8proc_uint8_t *)bad);
		size_t half = n / w / 2;
		for (size_t i = 0; i < half; i++)
			nb = put(bad, nb, runs[r][0]);
		for (size_t i = 0; i < half; i++)
			nb = put(bad, nb, runs[r][1]);
		/* the peer: the same marks in canonical order (U+0F73 has none: its
		 * peer is the already decomposed U+0F71 ... U+0F72 ...) */
		int32_t lo = runs[r][0] == 0xF73 ? 0xF71 : runs[r][1], hi = runs[r][0] == 0xF73 ? 0xF72 : runs[r][0];
		for (size_t i = 0; i < half * (runs[r][0] == 0xF73 ? 2 : 1); i++)
			ng = put(good, ng, lo);
		for (size_t i = 0; i < half * (runs[r][0] == 0xF73 ? 2 : 1); i++)
			ng = put(good, ng, hi);
		size_t outg, outb;
		double tg = fold_cost(good, ng, u, room, &outg);
		double tb = fold_cost(bad, nb, u, room, &outb);
		double budget = 25 * tg > 0.05 ? 25 * tg : 0.05;
		cr_log_info("U+%04X run: reversed %.4f s, in order %.4f s, budget %.4f s", (unsigned)runs[r][0],
		            tb, tg, budget);
		cr_expect_leq(tb, budget, "U+%04X run: %.3f s, the marks in order %.4f s", (unsigned)runs[r][0],
		              tb, tg);
		/* what it gave: every mark, each run of 30 in canonical order */
		cr_assert_eq(outb, outg, "U+%04X run: %zu code points, want %zu", (unsigned)runs[r][0], outb, outg);
		size_t count[2] = {0, 0};
		for (size_t i = 0; i < outb; i++) {
			cr_assert(u[i] == lo || u[i] == hi, "[%zu] U+%04X", i, (unsigned)u[i]);
			count[u[i] == hi]++;
		}
		cr_expect_eq(count[0], outg / 2);
		cr_expect_eq(count[1], outg / 2);
		for (size_t i = 0; i + 1 < outb; i++)
			if (i % 30 != 29)
				cr_assert(!(u[i] == hi && u[i + 1] == lo), "[%zu]: a run of 30 out of order", i);
	}
	free(bad);
	free(good);
	free(u);
}
