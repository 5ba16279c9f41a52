/* wpform.c - a WordPress comment's fields in one form (see wpform.h). */
#include <stdint.h>
#include <string.h>

#include "utf8.h"
#include "wpform.h"

static int hexdig(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* entity - the reference at s[0..n) (s[0] == '&'): its length with the
 * ';', and its code point in *cp; 0 when none is recognized. */
static size_t entity(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		size_t k = strlen(named[i].name);
		if (n >= k && !memcmp(s, named[i].name, k)) {
			*cp = named[i].cp;
			return k;
		}
	}
	if (n < 4 || s[1] != '#')
		return 0;
	size_t i = 2;
	int hex = s[2] == 'x' || s[2] == 'X';
	uint32_t v = 0;
	if (hex)
		i++;
	size_t start = i;
	for (; i < n && i < start + 7; i++) {
		int d = hex ? hexdig(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
		if (d < 0)
			break;
		v = v * (hex ? 16u : 10u) + (uint32_t)d;
	}
	if (i == start || i >= n || s[i] != ';' || v == 0 || v > 0x10FFFF ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return i + 1;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t wp_canonical(unsigned char *s, size_t n, size_t cap, enum wp_canon kind)
{
	int collapse = kind == WP_CANON_AUTHOR, url = kind == WP_CANON_URL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k;
		if (s[i] == '&' && (k = entity(s + i, n - i, &cp)) > 0) {
			unsigned char tmp[4];
			size_t m = utf8_put(cp, tmp); /* never longer than the reference */
			memcpy(s + o, tmp, m);
			o += m;
			i += k;
		} else if (collapse && is_space(s[i])) {
			while (i < n && is_space(s[i]))
				i++;
			s[o++] = ' ';
		} else {
			s[o++] = s[i++];
		}
	}
	size_t a = 0;
	while (a < o && is_space(s[a]))
		a++;
	while (o > a && is_space(s[o - 1]))
		o--;
	memmove(s, s + a, o - a);
	o -= a;
	if (url && o) {
		/* esc_url_raw: a web site without a ':' anywhere, not starting
		 * with '/', '#' or '?', is stored with "http://" before it */
		if (!memchr(s, ':', o) && s[0] != '/' && s[0] != '#' && s[0] != '?' && o + 7 <= cap) {
			memmove(s + 7, s, o);
			memcpy(s, "http://", 7);
			o += 7;
		}
	}
	return o;
}
