/* json.c - a small strict JSON reader for one object or one array of
 * values (RFC 8259), and the JSON writer of the programs.
 *
 * Recursive descent over a byte buffer. Strings are decoded into one scratch
 * buffer as large as the input: an escape never decodes longer than it is
 * written ("\u00e9" is 6 bytes and decodes to 2; a surrogate pair is 12 and
 * decodes to 4), so every decoded string fits where its source was.
 *
 *   {"content": "caf\u00e9 \ud83d\ude00", "form_age": 12.5, "lang": null}
 *
 * calls back three times: content = "café 😀" (string), form_age = "12.5"
 * (number), lang = NULL (null). */
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "num.h"
#include "utf8.h"

#define JSON_MAX_DEPTH 64

struct parser {
	const unsigned char *s;
	size_t n, i;
	char *scratch; /* decoded strings, back to back */
	size_t used;
	char *why;
	size_t whysize;
};

const char *json_type_name(enum json_type t)
{
	switch (t) {
	case JSON_STRING:
		return "string";
	case JSON_NUMBER:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	}
	return "value";
}

/* fail - write the reason; returns -1. */
static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	if (p->why && p->whysize) {
		va_start(ap, fmt);
		vsnprintf(p->why, p->whysize, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* what_here - a short description of the byte at the cursor, for messages. */
static const char *what_here(const struct parser *p, char *buf, size_t size)
{
	if (p->i >= p->n)
		return "the end of the input";
	unsigned char c = p->s[p->i];
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

static void skip_ws(struct parser *p)
{
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->i++;
	}
}

static int hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->n - p->i < 4)
		return fail(p, "\\u needs four hex digits");
	for (int k = 0; k < 4; k++) {
		unsigned char c = p->s[p->i + k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(p, "\\u needs four hex digits");
	}
	p->i += 4;
	*out = v;
	return 0;
}

/* parse_string - the cursor is on '"'; decode into scratch. */
static int parse_string(struct parser *p, const char **out, size_t *outlen)
{
	char *o = p->scratch + p->used, *start = o;
	p->i++; /* the opening quote */
	for (;;) {
		if (p->i >= p->n)
			return fail(p, "unterminated string");
		unsigned char c = p->s[p->i];
		if (c == '"') {
			p->i++;
			break;
		}
		if (c < 0x20)
			return fail(p, "control character 0x%02x in a string (escape it)", c);
		if (c == '\\') {
			if (++p->i >= p->n)
				return fail(p, "unterminated string");
			c = p->s[p->i++];
			switch (c) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '/': *o++ = '/'; break;
			case 'b': *o++ = '\b'; break;
			case 'f': *o++ = '\f'; break;
			case 'n': *o++ = '\n'; break;
			case 'r': *o++ = '\r'; break;
			case 't': *o++ = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (hex4(p, &cp))
					return -1;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return fail(p, "a lone low surrogate \\u%04x", cp);
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
						return fail(p, "a high surrogate \\u%04x without its low half", cp);
					p->i += 2;
					if (hex4(p, &lo))
						return -1;
					if (lo < 0xDC00 || lo > 0xDFFF)
						return fail(p, "a high surrogate \\u%04x without its low half", cp);
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				}
				o += utf8_put(cp, (unsigned char *)o);
				break;
			}
			default:
				p->i--;
				return fail(p, "unknown escape \\%c", c >= 0x20 && c < 0x7f ? c : '?');
			}
			continue;
		}
		size_t k = utf8_seq(p->s + p->i, p->n - p->i);
		if (!k)
			return fail(p, "invalid UTF-8 in a string");
		memcpy(o, p->s + p->i, k);
		o += k;
		p->i += k;
	}
	*o++ = '\0';
	*out = start;
	*outlen = (size_t)(o - start) - 1;
	p->used += (size_t)(o - start);
	return 0;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* parse_number - -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, copied as text. */
static int parse_number(struct parser *p, const char **out, size_t *outlen)
{
	size_t start = p->i;
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n || !is_digit(p->s[p->i]))
		return fail(p, "a number needs digits");
	if (p->s[p->i] == '0') {
		p->i++;
		if (p->i < p->n && is_digit(p->s[p->i]))
			return fail(p, "a number may not start with 0");
	} else {
		while (p->i < p->n && is_digit(p->s[p->i]))
			p->i++;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (p->i >= p->n || !is_digit(p->s[p->i]))
			return fail(p, "digits must follow a decimal point");
		while (p->i < p->n && is_digit(p->s[p->i]))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->n || !is_digit(p->s[p->i]))
			return fail(p, "digits must follow an exponent");
		while (p->i < p->n && is_digit(p->s[p->i]))
			p->i++;
	}
	size_t len = p->i - start;
	char *o = p->scratch + p->used;
	memcpy(o, p->s + start, len);
	o[len] = '\0';
	p->used += len + 1;
	*out = o;
	*outlen = len;
	return 0;
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->n - p->i < n || memcmp(p->s + p->i, word, n) != 0)
		return fail(p, "unknown literal (expected %s)", word);
	p->i += n;
	return 0;
}

static int parse_value(struct parser *p, int depth, enum json_type *type, const char **str,
                       size_t *len);

/* parse_container - an object or array, checked and skipped. */
static int parse_container(struct parser *p, int depth)
{
	char buf[16];
	unsigned char close = p->s[p->i] == '{' ? '}' : ']';
	int is_obj = close == '}';
	enum json_type t;
	const char *s;
	size_t l;
	if (depth >= JSON_MAX_DEPTH)
		return fail(p, "nested more than %d deep", JSON_MAX_DEPTH);
	p->i++;
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (is_obj) {
			size_t mark = p->used;
			if (p->i >= p->n || p->s[p->i] != '"')
				return fail(p, "expected a string key, found %s", what_here(p, buf, sizeof buf));
			if (parse_string(p, &s, &l))
				return -1;
			p->used = mark;
			skip_ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return fail(p, "expected ':' after a key, found %s", what_here(p, buf, sizeof buf));
			p->i++;
		}
		size_t mark = p->used;
		if (parse_value(p, depth + 1, &t, &s, &l))
			return -1;
		p->used = mark;
		skip_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return 0;
		}
		return fail(p, "expected ',' or '%c', found %s", close, what_here(p, buf, sizeof buf));
	}
}

static int parse_value(struct parser *p, int depth, enum json_type *type, const char **str,
                       size_t *len)
{
	char buf[16];
	skip_ws(p);
	*str = NULL;
	*len = 0;
	if (p->i >= p->n)
		return fail(p, "expected a value, found the end of the input");
	switch (p->s[p->i]) {
	case '"':
		*type = JSON_STRING;
		return parse_string(p, str, len);
	case '{':
		*type = JSON_OBJECT;
		return parse_container(p, depth);
	case '[':
		*type = JSON_ARRAY;
		return parse_container(p, depth);
	case 't':
		*type = JSON_TRUE;
		return literal(p, "true");
	case 'f':
		*type = JSON_FALSE;
		return literal(p, "false");
	case 'n':
		*type = JSON_NULL;
		return literal(p, "null");
	default:
		if (p->s[p->i] == '-' || is_digit(p->s[p->i])) {
			*type = JSON_NUMBER;
			return parse_number(p, str, len);
		}
		return fail(p, "expected a value, found %s", what_here(p, buf, sizeof buf));
	}
}

/* container_open - start p on a JSON text that must be one object or one
 * array (open: '{' or '['; what: "object" or "array", for messages): its
 * scratch space, a byte order mark skipped (RFC 8259, 8.1: a parser may
 * ignore one), whitespace, the opening character. Returns 1 when the
 * container is empty (its closing character consumed too), 0 when an
 * element follows, -1 on a syntax error (why set), -3 out of memory. */
static int container_open(struct parser *p, char open, const char *what)
{
	char buf[16];
	if (!(p->scratch = malloc(p->n + 16))) {
		if (p->why && p->whysize)
			snprintf(p->why, p->whysize, "out of memory");
		return -3;
	}
	if (p->n >= 3 && !memcmp(p->s, "\xEF\xBB\xBF", 3))
		p->i = 3;
	skip_ws(p);
	if (p->i >= p->n || p->s[p->i] != (unsigned char)open) {
		fail(p, "expected a JSON %s ('%c'), found %s", what, open, what_here(p, buf, sizeof buf));
		return -1;
	}
	p->i++;
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == (unsigned char)(open + 2)) { /* '}' or ']' */
		p->i++;
		return 1;
	}
	return 0;
}

/* container_next - after an element: 1 when another follows (its ','
 * consumed), 0 at the closing character (consumed), -1 on a syntax error. */
static int container_next(struct parser *p, char close)
{
	char buf[16];
	skip_ws(p);
	if (p->i < p->n && p->s[p->i] == ',') {
		p->i++;
		return 1;
	}
	if (p->i < p->n && p->s[p->i] == (unsigned char)close) {
		p->i++;
		return 0;
	}
	fail(p, "expected ',' or '%c', found %s", close, what_here(p, buf, sizeof buf));
	return -1;
}

/* container_end - nothing but whitespace after the container: 0, or -1. */
static int container_end(struct parser *p, const char *what)
{
	char buf[16];
	skip_ws(p);
	if (p->i < p->n) {
		fail(p, "text after the %s: %s", what, what_here(p, buf, sizeof buf));
		return -1;
	}
	return 0;
}

int json_object_parse(const char *text, size_t len, json_member_fn fn, void *ctx, char *why,
                      size_t whysize, size_t *errpos)
{
	struct parser p = {(const unsigned char *)text, len, 0, NULL, 0, why, whysize};
	struct json_member m;
	char buf[16];
	int rc = -1, more = container_open(&p, '{', "object");

	if (more == -3) {
		*errpos = 0;
		return -3;
	}
	if (more < 0)
		goto out;
	for (more = !more; more;) {
		skip_ws(&p);
		size_t at = p.i;
		p.used = 0;
		if (p.i >= p.n || p.s[p.i] != '"') {
			fail(&p, "expected a string key, found %s", what_here(&p, buf, sizeof buf));
			goto out;
		}
		if (parse_string(&p, &m.key, &m.key_len))
			goto out;
		skip_ws(&p);
		if (p.i >= p.n || p.s[p.i] != ':') {
			fail(&p, "expected ':' after a key, found %s", what_here(&p, buf, sizeof buf));
			goto out;
		}
		p.i++;
		skip_ws(&p);
		size_t vstart = p.i;
		if (parse_value(&p, 1, &m.type, &m.str, &m.str_len))
			goto out;
		m.raw = text + vstart;
		m.raw_len = p.i - vstart;
		if (fn && fn(&m, ctx, why, whysize)) {
			p.i = at;
			rc = -2;
			goto out;
		}
		if ((more = container_next(&p, '}')) < 0)
			goto out;
	}
	if (!container_end(&p, "object"))
		rc = 0;
out:
	*errpos = p.i;
	free(p.scratch);
	return rc;
}

int json_array_parse(const char *text, size_t len, json_element_fn fn, void *ctx, char *why,
                     size_t whysize, size_t *errpos)
{
	struct parser p = {(const unsigned char *)text, len, 0, NULL, 0, why, whysize};
	enum json_type t;
	const char *str;
	size_t slen;
	int rc = -1, more = container_open(&p, '[', "array");

	if (more == -3) {
		*errpos = 0;
		return -3;
	}
	if (more < 0)
		goto out;
	for (more = !more; more;) {
		skip_ws(&p);
		size_t at = p.i;
		p.used = 0;
		if (parse_value(&p, 1, &t, &str, &slen))
			goto out;
		if (fn && fn(text + at, p.i - at, at, t, ctx, why, whysize)) {
			p.i = at;
			rc = -2;
			goto out;
		}
		if ((more = container_next(&p, ']')) < 0)
			goto out;
	}
	if (!container_end(&p, "array"))
		rc = 0;
out:
	*errpos = p.i;
	free(p.scratch);
	return rc;
}

/* ---------- writing ---------- */

void json_put_string(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	sb_putn(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[6];
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7f) {
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
		} else
			continue;
		sb_putn(b, s + start, i - start);
		if (esc)
			sb_puts(b, esc);
		else
			sb_putn(b, u, 6);
		start = i + 1;
	}
	sb_putn(b, s + start, n - start);
	sb_putn(b, "\"", 1);
}

void json_put_double(struct sbuf *b, double v)
{
	char buf[40];
	sb_puts(b, isfinite(v) ? fmt_double(buf, sizeof buf, v) : "null");
}
