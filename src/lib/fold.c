/* fold.c - text made comparable: NFKC, case folding and the default-ignorable
 * code points (U+200B..U+200D, U+2060, U+FEFF, U+00AD, variation selectors,
 * ...) dropped, with utf8proc, into an array of code points; ALL-CAPS words
 * counted on the way in, before folding (see fold.h).
 *
 *   "ＦＲＥＥ Money\u200b!!"  ->  "free money!!"   (1 ALL-CAPS word) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <utf8proc.h>

#include "thresh/error.h"
#include "ascii.h"
#include "fold.h"

#define NORM_OPTS (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | \
                   UTF8PROC_STABLE | UTF8PROC_IGNORE)

/* Unicode's Stream-Safe Text Format (UAX #15): no more than 30 non-starters
 * (combining class > 0) in a row. utf8proc puts each run of non-starters in
 * canonical order with an exchange sort, quadratic in the run's length:
 * 16,376 U+0301 followed by 16,376 U+0316 (64 KiB) took 4 s to fold.
 *
 * fold_text applies the standard's Stream-Safe Text Process, counting
 * non-starters as each character decomposes (case folded, NFKD: U+0F73 is a
 * starter that decomposes into two marks; an ignorable folds to nothing and
 * neither counts nor ends a run). Where the next character would make the
 * run longer than 30, it acts as if U+034F COMBINING GRAPHEME JOINER stood
 * there: CGJ is a starter that composes with nothing, so utf8proc is handed
 * the text before it and the text after it apart, and, default-ignorable,
 * the CGJ itself is then dropped like every ignorable. Inserting it (rather
 * than dropping the marks past the 30th) is the standard's own process and
 * keeps every character the author sent; the marks after the cut are
 * ordered and composed among themselves. The standard chose 30 far beyond
 * what any language needs, so text with no run over 30 folds exactly as
 * before and no token id of real text moves (test_tokenize_pin, and
 * test_fold's comparison with utf8proc folding whole texts). */
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

/* nonstarters - how c decomposes the way fold_text folds it: *lead
 * non-starters at its start, *trail at its end, and whether it is all
 * non-starters (*all; also when it folds to nothing, as an ignorable
 * does: it neither adds to a run nor ends one). */
static void nonstarters(utf8proc_int32_t c, unsigned *lead, unsigned *trail, int *all)
{
	const utf8proc_property_t *p = utf8proc_get_property(c);
	*lead = *trail = 0;
	*all = 0;
	if (!p->ignorable && p->decomp_seqindex == UINT16_MAX && p->casefold_seqindex == UINT16_MAX) {
		/* no mapping: it stands for itself (Hangul syllables decompose into
		 * jamo, which are starters) */
		if (p->combining_class)
			*lead = *trail = 1, *all = 1;
		return;
	}
	utf8proc_int32_t d[32];
	int bc = 0;
	utf8proc_ssize_t r = utf8proc_decompose_char(c, d, 32, NORM_OPTS, &bc);
	if (r < 0 || r > 32) {
		/* no such character (the longest decomposition is 18): cut
		 * before and after it */
		*lead = *trail = SAFE_NONSTARTERS + 1;
		return;
	}
	utf8proc_ssize_t i = 0;
	while (i < r && utf8proc_get_property(d[i])->combining_class)
		i++;
	*lead = (unsigned)i;
	if (i == r) {
		*all = 1;
		*trail = *lead;
		return;
	}
	for (i = r; i > 0 && utf8proc_get_property(d[i - 1])->combining_class; i--)
		;
	*trail = (unsigned)(r - i);
}

/* safe_end - the end of the first piece of s[i..k) as the Stream-Safe Text
 * Process cuts it (see SAFE_NONSTARTERS): where a CGJ would be inserted,
 * or k. Returns 0 or THRESH_EUTF8. */
static int safe_end(const unsigned char *s, size_t i, size_t k, size_t *end)
{
	unsigned run = 0;
	size_t p = i;
	while (p < k) {
		utf8proc_int32_t c;
		utf8proc_ssize_t len = utf8proc_iterate(s + p, (utf8proc_ssize_t)(k - p), &c);
		if (len < 0 || c < 0)
			return THRESH_EUTF8;
		unsigned lead, trail;
		int all;
		nonstarters(c, &lead, &trail, &all);
		if (run + lead > SAFE_NONSTARTERS && p > i)
			break;
		run = all ? run + lead : trail;
		p += (size_t)len;
	}
	*end = p;
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
		size_t k = j;
		while (k < n && !(s[k] < 0x80 && (k + 1 >= n || s[k + 1] < 0x80)))
			k++;
		/* s[a..k) through utf8proc, a stream-safe piece at a time */
		for (size_t e; a < k; a = e) {
			if (safe_end(s, a, k, &e))
				return THRESH_EUTF8;
			utf8proc_ssize_t room = (utf8proc_ssize_t)(cap - m);
			utf8proc_ssize_t r = utf8proc_decompose_custom(s + a, (utf8proc_ssize_t)(e - a), u + m,
			                                               room, NORM_OPTS, caps ? caps_cb : NULL, x);
			if (r < 0)
				return r == UTF8PROC_ERROR_INVALIDUTF8 ? THRESH_EUTF8 : THRESH_ENOMEM;
			if (r > room) {
				*need = m + (size_t)r + (n - e) + 16;
				return FOLD_MORE;
			}
			r = utf8proc_normalize_utf32(u + m, r, NORM_OPTS);
			if (r < 0)
				return THRESH_ENOMEM;
			m += (size_t)r;
		}
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
