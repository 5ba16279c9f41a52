/* fold.c - text made comparable: NFKC, case folding and the default-ignorable
 * code points (U+200B..U+200D, U+2060, U+FEFF, U+00AD, variation selectors,
 * ...) dropped, with utf8proc, into an array of code points; ALL-CAPS words
 * counted on the way in, before folding (see fold.h).
 *
 *   "ＦＲＥＥ Money\u200b!!"  ->  "free money!!"   (1 ALL-CAPS word) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "thresh/error.h"
#include "ascii.h"
#include "fold.h"

#define NORM_OPTS (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | \
                   UTF8PROC_STABLE | UTF8PROC_IGNORE)

/* Unicode's Stream-Safe Text Format (UAX #15): no more than 30 non-starters
 * (combining class > 0) in a row. utf8proc_decompose_custom puts each run of
 * non-starters in canonical order with an exchange sort, quadratic in the
 * run's length: 16,376 U+0301 followed by 16,376 U+0316 (64 KiB) took 4 s to
 * fold. So fold_text does that part itself (fold_stretch): it decomposes one
 * character at a time with utf8proc_decompose_char, puts each mark in its
 * place as it comes, and applies the standard's Stream-Safe Text Process,
 * counting non-starters as each character decomposes (case folded, NFKD:
 * U+0F73 is a starter that decomposes into two marks; an ignorable folds to
 * nothing and neither counts nor ends a run). Where the next character would
 * make the run longer than 30, it acts as if U+034F COMBINING GRAPHEME JOINER
 * stood there: CGJ is a starter that composes with nothing, so the text
 * before it is ordered and composed (utf8proc_normalize_utf32) apart from
 * the text after it, and, default-ignorable, the CGJ itself is dropped like
 * every ignorable. Inserting it (rather than dropping the marks past the
 * 30th) is the standard's own process and keeps every character the author
 * sent; the marks after the cut are ordered and composed among themselves.
 * No run sorted is longer than 30 + 18 (the longest decomposition), so the
 * work is linear. The standard chose 30 far beyond what any language needs:
 * text with no run over 30 folds exactly as utf8proc folds it whole, and no
 * token id of real text moves (test_tokenize_pin, and test_fold's
 * comparison with utf8proc_map on random texts). */
#define SAFE_NONSTARTERS 30

static void caps_flush(struct fold_caps *x)
{
	if (x->upper >= 3 && x->lower == 0)
		x->words++;
	x->upper = x->lower = 0;
}

/* caps_cb - sees each code point before folding; counts ALL-CAPS words. */
static utf8proc_int32_t caps_cb(utf8proc_int32_t c, void *data)
{
	struct fold_caps *x = data;
	const utf8proc_property_t *p = utf8proc_get_property(c);
	if (p->ignorable)
		return c;
	switch (p->category) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LT:
		x->upper++;
		break;
	case UTF8PROC_CATEGORY_LL:
		x->lower++;
		break;
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		break;
	default:
		caps_flush(x);
	}
	return c;
}

/* ascii_fold - the fast path of fold_text for ASCII: NFKC leaves it alone,
 * case folding lowers it, and caps_cb's counting is done inline. */
static void ascii_fold(struct fold_caps *x, const unsigned char *s, size_t n, int32_t *u)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c >= 'A' && c <= 'Z') {
			x->upper++;
			c = (unsigned char)(c + 32);
		} else if (c >= 'a' && c <= 'z')
			x->lower++;
		else if (!a_digit(c))
			caps_flush(x);
		u[i] = c;
	}
}

/* ccc - the canonical combining class of c: 0 for a starter. */
static int ccc(utf8proc_int32_t c)
{
	return utf8proc_get_property(c)->combining_class;
}

/* place - the non-starter u[i] (class cc) moved back among the marks before
 * it to its canonical place, never before u[lo] (a piece's start acts as a
 * starter): an insertion, stable like utf8proc's own ordering, so the same
 * order results. */
static void place(int32_t *u, size_t lo, size_t i, int cc)
{
	int32_t c = u[i];
	for (; i > lo && ccc(u[i - 1]) > cc; i--)
		u[i] = u[i - 1];
	u[i] = c;
}

/* fold_stretch - s[a..k) through utf8proc into u from *m (room up to cap):
 * what utf8proc_decompose_custom and utf8proc_normalize_utf32 do with it,
 * made stream-safe (see SAFE_NONSTARTERS): each character decomposed (case
 * folded, NFKD, ignorables dropped) and its marks put in canonical order as
 * they come, a piece composed whenever the process cuts and at the end.
 * Returns 0 with *m moved on; FOLD_MORE with *m + *more the code points
 * needed up to k (decomposed, before composing); THRESH_EUTF8 or
 * THRESH_ENOMEM. */
static int fold_stretch(const unsigned char *s, size_t a, size_t k, struct fold_caps *caps,
                        int32_t *u, size_t cap, size_t *m, size_t *more)
{
	size_t w = *m, start = w, short_by = 0;
	unsigned run = 0; /* non-starters at the end of the piece */
	for (size_t p = a; p < k;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t len = utf8proc_iterate(s + p, (utf8proc_ssize_t)(k - p), &c);
		if (len < 0 || c < 0)
			return THRESH_EUTF8;
		p += (size_t)len;
		if (caps)
			c = caps_cb(c, caps);
		int bc = 0;
		size_t room = short_by ? 0 : cap - w;
		utf8proc_ssize_t r = utf8proc_decompose_char(c, short_by ? NULL : u + w,
		                                             (utf8proc_ssize_t)room, NORM_OPTS, &bc);
		if (r < 0)
			return THRESH_EUTF8;
		if (short_by || (size_t)r > room) {
			short_by += (size_t)r; /* only counting from here on */
			continue;
		}
		size_t n = (size_t)r, lead = 0, trail = 0;
		while (lead < n && ccc(u[w + lead]))
			lead++;
		while (trail < n && lead < n && ccc(u[w + n - 1 - trail]))
			trail++;
		if (run + lead > SAFE_NONSTARTERS) {
			/* where the process inserts a CGJ: the piece so far is done */
			utf8proc_ssize_t z = utf8proc_normalize_utf32(u + start, (utf8proc_ssize_t)(w - start),
			                                              NORM_OPTS);
			if (z < 0)
				return THRESH_ENOMEM;
			memmove(u + start + z, u + w, n * sizeof *u);
			w = start = start + (size_t)z;
			run = 0;
		}
		for (size_t i = w; i < w + n; i++) {
			int cc = ccc(u[i]);
			if (cc)
				place(u, start, i, cc);
		}
		run = lead == n ? run + (unsigned)n : (unsigned)trail;
		w += n;
	}
	if (short_by) {
		*more = w - *m + short_by;
		return FOLD_MORE;
	}
	utf8proc_ssize_t z = utf8proc_normalize_utf32(u + start, (utf8proc_ssize_t)(w - start), NORM_OPTS);
	if (z < 0)
		return THRESH_ENOMEM;
	*m = start + (size_t)z;
	return 0;
}

int fold_text(const unsigned char *s, size_t n, struct fold_caps *caps, int32_t *u, size_t cap,
              size_t *out, size_t *need)
{
	struct fold_caps none, *x = caps ? caps : &none;
	size_t i = 0, m = 0;
	x->words = x->upper = x->lower = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] < 0x80)
			j++;
		size_t a = j < n && j > i ? j - 1 : j;
		if (a - i > cap - m) {
			*need = m + (n - i) + 16;
			return FOLD_MORE;
		}
		ascii_fold(x, s + i, a - i, u + m);
		m += a - i;
		if (a == n)
			break;
		size_t k = j, more = 0;
		while (k < n && !(s[k] < 0x80 && (k + 1 >= n || s[k + 1] < 0x80)))
			k++;
		int rc = fold_stretch(s, a, k, caps ? x : NULL, u, cap, &m, &more);
		if (rc == FOLD_MORE)
			*need = m + more + (n - k) + 16;
		if (rc)
			return rc;
		i = k;
	}
	caps_flush(x);
	*out = m;
	return 0;
}

/* utf8_len - the UTF-8 length of code point c (fold_text gives valid ones). */
static size_t utf8_len(int32_t c)
{
	return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

char *fold_dup(const char *s, size_t n)
{
	if (n > (size_t)PTRDIFF_MAX / 64)
		return NULL;
	size_t cap = n + 16, m = 0, need = 0, bytes = 0;
	int32_t *u = NULL;
	int rc = FOLD_MORE;
	for (int pass = 0; rc == FOLD_MORE && pass < 8; pass++) {
		int32_t *p = realloc(u, cap * sizeof *u);
		if (!p)
			break;
		u = p;
		rc = fold_text((const unsigned char *)s, n, NULL, u, cap, &m, &need);
		cap = need > cap * 2 ? need : cap * 2;
	}
	char *out = NULL;
	if (rc == 0) {
		for (size_t i = 0; i < m; i++)
			bytes += utf8_len(u[i]);
		if ((out = malloc(bytes + 1))) {
			size_t w = 0;
			for (size_t i = 0; i < m; i++)
				w += (size_t)utf8proc_encode_char(u[i], (utf8proc_uint8_t *)out + w);
			out[w] = '\0';
		}
	}
	free(u);
	return out;
}
