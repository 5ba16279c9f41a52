/* fold.c - text made comparable: NFKC, case folding and the default-ignorable
 * code points (U+200B..U+200D, U+2060, U+FEFF, U+00AD, variation selectors,
 * ...) dropped, with utf8proc, into an array of code points; ALL-CAPS words
 * counted on the way in, before folding (see fold.h).
 *
 *   "ＦＲＥＥ Money\u200b!!"  ->  "free money!!"   (1 ALL-CAPS word) */
#include <stddef.h>
#include <utf8proc.h>

#include "thresh/error.h"
#include "ascii.h"
#include "fold.h"

#define NORM_OPTS (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | \
                   UTF8PROC_STABLE | UTF8PROC_IGNORE)

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
		utf8proc_ssize_t room = (utf8proc_ssize_t)(cap - m);
		utf8proc_ssize_t r = utf8proc_decompose_custom(s + a, (utf8proc_ssize_t)(k - a), u + m,
		                                               room, NORM_OPTS, caps ? caps_cb : NULL, x);
		if (r < 0)
			return r == UTF8PROC_ERROR_INVALIDUTF8 ? THRESH_EUTF8 : THRESH_ENOMEM;
		if (r > room) {
			*need = m + (size_t)r + (n - k) + 16;
			return FOLD_MORE;
		}
		r = utf8proc_normalize_utf32(u + m, r, NORM_OPTS);
		if (r < 0)
			return THRESH_ENOMEM;
		m += (size_t)r;
		i = k;
	}
	caps_flush(x);
	*out = m;
	return 0;
}

char *fold_dup(const char *s, size_t n)
{
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &out, NORM_OPTS);
	return r < 0 ? NULL : (char *)out;
}
