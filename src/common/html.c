/* html.c - comment HTML made plain text: character references decoded,
 * tags, comments and declarations dropped, link targets (href, src) kept in
 * place of their tag, between spaces, so they read as words of their own.
 *
 *   <p>Cheap <b>pills</b> &amp; more at <a href="http://x.example/buy">here</a></p>
 *   " Cheap pills & more at  http://x.example/buy here "
 *
 * Inline tags (b, i, span, a, ...) vanish without a space, so "fr<b>ee</b>"
 * stays "free"; other tags leave a space. A '<' that starts no complete tag
 * is text, and a tag longer than TAG_MAX bytes is taken as text. Lookahead
 * is bounded: the last '>' of the input is found once, and a comment found
 * unterminated is not looked for again, so the scan stays linear. */
#include <string.h>

#include "ascii.h"
#include "html.h"
#include "utf8.h"

#define TAG_MAX 4096   /* bytes of one HTML tag; a longer one is taken as text */

struct ob { /* bounded output into scratch */
	unsigned char *b;
	size_t n, cap;
};

static void ob_put(struct ob *o, unsigned char c)
{
	if (o->n < o->cap)
		o->b[o->n++] = c;
}

static void ob_cp(struct ob *o, int32_t c)
{
	unsigned char e[4];
	size_t k = utf8_put((uint32_t)c, e);
	if (k <= o->cap - o->n) {
		memcpy(o->b + o->n, e, k);
		o->n += k;
	}
}

static const struct entity {
	const char *name;
	int32_t cp;
	bool bare; /* also recognised without the ';', as browsers do */
} entities[] = {
	{"amp", '&', true}, {"lt", '<', true}, {"gt", '>', true}, {"quot", '"', true},
	{"nbsp", 0xA0, true}, {"AMP", '&', true}, {"LT", '<', true}, {"GT", '>', true},
	{"QUOT", '"', true}, {"apos", '\'', false}, {"shy", 0xAD, false},
	{"zwj", 0x200D, false}, {"zwnj", 0x200C, false}, {"copy", 0xA9, false},
	{"reg", 0xAE, false}, {"trade", 0x2122, false}, {"hellip", 0x2026, false},
	{"mdash", 0x2014, false}, {"ndash", 0x2013, false}, {"lsquo", 0x2018, false},
	{"rsquo", 0x2019, false}, {"ldquo", 0x201C, false}, {"rdquo", 0x201D, false},
	{"laquo", 0xAB, false}, {"raquo", 0xBB, false}, {"euro", 0x20AC, false},
	{"pound", 0xA3, false}, {"yen", 0xA5, false}, {"cent", 0xA2, false},
	{"bull", 0x2022, false}, {"middot", 0xB7, false}, {"deg", 0xB0, false},
	{"times", 0xD7, false}, {"iexcl", 0xA1, false}, {"iquest", 0xBF, false},
};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)a_lower((char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* entity - decode the character reference at s[i] == '&' into o, or copy
 * the '&' when it is none. Returns the index after what was read. */
static size_t entity(const unsigned char *s, size_t n, size_t i, struct ob *o)
{
	size_t j = i + 1;
	if (j < n && s[j] == '#') {
		bool hex = false;
		uint32_t v = 0;
		size_t d = 0;
		if (++j < n && (s[j] == 'x' || s[j] == 'X')) {
			hex = true;
			j++;
		}
		for (; j < n; j++, d++) {
			int h = hex ? hexval(s[j]) : (a_digit(s[j]) ? s[j] - '0' : -1);
			if (h < 0)
				break;
			if (v <= 0x10FFFF)
				v = v * (hex ? 16 : 10) + (uint32_t)h;
		}
		if (d == 0) {
			ob_put(o, '&');
			return i + 1;
		}
		if (j < n && s[j] == ';')
			j++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		ob_cp(o, (int32_t)v);
		return j;
	}
	size_t k = j;
	while (k < n && k - j < 8 && a_alnum(s[k]))
		k++;
	for (size_t e = 0; e < sizeof entities / sizeof entities[0]; e++) {
		size_t len = strlen(entities[e].name);
		if (len != k - j || memcmp(s + j, entities[e].name, len) != 0)
			continue;
		if (k < n && s[k] == ';') {
			ob_cp(o, entities[e].cp);
			return k + 1;
		}
		if (entities[e].bare && (k >= n || !a_alnum(s[k]))) {
			ob_cp(o, entities[e].cp);
			return k;
		}
		break;
	}
	ob_put(o, '&');
	return i + 1;
}

/* Tags that do not separate words when dropped ("fr<b>ee</b>" is "free"). */
static bool inline_tag(const unsigned char *s, size_t n)
{
	static const char *const names[] = {
		"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "del", "dfn", "em",
		"font", "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span",
		"strike", "strong", "sub", "sup", "tt", "u", "var", "wbr",
	};
	char low[8];
	if (n >= sizeof low)
		return false;
	for (size_t i = 0; i < n; i++)
		low[i] = a_lower((char)s[i]);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && memcmp(names[i], low, n) == 0)
			return true;
	return false;
}

static bool ci_eq(const unsigned char *s, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a_lower((char)s[i]) != lit[i])
			return false;
	return true;
}

/* link_value - copy a link target s[a..b) into o, entities decoded, between
 * spaces so it reads as a word of its own. data: URIs are left out. */
static void link_value(const unsigned char *s, size_t a, size_t b, struct ob *o)
{
	while (a < b && a_space(s[a]))
		a++;
	if (b - a >= 5 && ci_eq(s + a, 5, "data:"))
		return;
	ob_put(o, ' ');
	while (a < b) {
		if (s[a] == '&')
			a = entity(s, b, a, o);
		else
			ob_put(o, s[a++]);
	}
	ob_put(o, ' ');
}

struct html {
	size_t last_gt;       /* index of the last '>' + 1, 0 when none */
	bool no_comment_end;  /* a "-->" was looked for and is not there */
};

/* tag - drop the tag, comment or declaration at s[i] == '<' from the text.
 * Returns the index after it, or i when s[i] starts none (then '<' is text).
 * Inline tags vanish; others leave a space; href and src values stay. */
static size_t tag(const unsigned char *s, size_t n, size_t i, struct ob *o, struct html *h)
{
	size_t j = i + 1, lim = n - i > TAG_MAX ? i + TAG_MAX : n;
	if (j >= n || h->last_gt <= j)
		return i; /* no '>' after this one: no tag can close */
	if (s[j] == '!' && j + 2 < n && s[j + 1] == '-' && s[j + 2] == '-') {
		if (h->no_comment_end)
			return i;
		for (size_t k = j + 3; k + 2 < n; k++)
			if (s[k] == '-' && s[k + 1] == '-' && s[k + 2] == '>')
				return k + 3;
		h->no_comment_end = true;
		return i;
	}
	if (s[j] == '!' || s[j] == '?') {
		const unsigned char *gt = memchr(s + j, '>', lim - j);
		if (!gt)
			return i;
		ob_put(o, ' ');
		return (size_t)(gt - s) + 1;
	}
	bool closing = false;
	if (s[j] == '/') {
		closing = true;
		j++;
	}
	if (j >= lim || !a_alpha(s[j]))
		return i;
	size_t name = j;
	while (j < lim && a_alnum(s[j]))
		j++;
	size_t mark = o->n;
	if (!inline_tag(s + name, j - name))
		ob_put(o, ' ');
	for (;;) {
		while (j < lim && (a_space(s[j]) || s[j] == '/'))
			j++;
		if (j >= lim)
			break;
		if (s[j] == '>')
			return j + 1;
		size_t as = j++; /* the first character of a name may be anything */
		while (j < lim && !a_space(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=')
			j++;
		size_t ae = j;
		while (j < lim && a_space(s[j]))
			j++;
		if (j >= lim || s[j] != '=')
			continue;
		j++;
		while (j < lim && a_space(s[j]))
			j++;
		if (j >= lim)
			break;
		size_t vs, ve;
		if (s[j] == '"' || s[j] == '\'') {
			const unsigned char *q = memchr(s + j + 1, s[j], lim - j - 1);
			if (!q)
				break;
			vs = j + 1;
			ve = (size_t)(q - s);
			j = ve + 1;
		} else {
			vs = j;
			while (j < lim && !a_space(s[j]) && s[j] != '>')
				j++;
			ve = j;
		}
		if (!closing && (ci_eq(s + as, ae - as, "href") || ci_eq(s + as, ae - as, "src")))
			link_value(s, vs, ve, o);
	}
	o->n = mark; /* unterminated: take the '<' as text */
	return i;
}

size_t html_strip(const unsigned char *s, size_t n, unsigned char *out, size_t cap)
{
	struct ob o = {out, 0, cap};
	struct html h = {0, false};
	for (size_t k = n; k > 0; k--)
		if (s[k - 1] == '>') {
			h.last_gt = k;
			break;
		}
	size_t i = 0;
	while (i < n) {
		/* text up to the next '&' or '<', most of a comment, copied whole */
		size_t j = i;
		while (j < n && s[j] != '&' && s[j] != '<')
			j++;
		if (j > i) {
			size_t k = j - i < o.cap - o.n ? j - i : o.cap - o.n;
			memcpy(o.b + o.n, s + i, k);
			o.n += k;
			i = j;
			continue;
		}
		unsigned char c = s[i];
		if (c == '&') {
			i = entity(s, n, i, &o);
			continue;
		}
		if (c == '<') {
			size_t j = tag(s, n, i, &o, &h);
			if (j > i) {
				i = j;
				continue;
			}
		}
		ob_put(&o, c);
		i++;
	}
	return o.n;
}
