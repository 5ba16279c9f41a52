/* fuzz_json - the programs' JSON reader (src/common/json.c) against any text.
 *
 * Input: the bytes given to json_object_parse, as `thresh check --json` and
 * `thresh train --jsonl` give it a line. Checked:
 *   - it returns 0, -1 (malformed: a message, and an offset within the
 *     input) or -2 (the callback stopped it at a member: the offset is that
 *     member's opening quote);
 *   - every member's key and string are NUL-terminated at their length and
 *     well-formed UTF-8 (NUL bytes from \u0000 allowed); a number's text is
 *     a JSON number that strtod reads whole;
 *   - a member's value as written (raw) lies within the input, and a
 *     nested object or array read on its own parses whole; so does every
 *     element of the input read as an array (json_array_parse);
 *   - the members of an accepted object, written back as JSON by the
 *     writer (json_put_string; nested values as {} or []), parse to the same
 *     members.
 *   - utf8_check (src/common/utf8.c, the one validator of the project)
 *     agrees with a second, independent validator here, and the offset of
 *     the first bad byte it reports is right; json_put_double writes every
 *     number's value as a JSON number that reads back as the same double
 *     ("null" when it is not finite).
 * The callback stops the parse at a member whose key is "stop". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "json.h"
#include "utf8.h"

#include "fuzz_util.h"

struct member {
	char *key;
	size_t key_len;
	enum json_type type;
	char *str;
	size_t str_len;
};

struct members {
	struct member *m;
	size_t n, cap;
};

static const uint8_t *in_start;
static size_t in_size;

/* raw_ok - text[0..len) lies within the input and, an object or an array,
 * parses on its own. */
static void raw_ok(const char *text, size_t len, enum json_type type)
{
	char why[256];
	size_t pos;
	FUZZ_CHECK((const uint8_t *)text >= in_start && len <= in_size &&
	           (size_t)((const uint8_t *)text - in_start) <= in_size - len, "raw value outside the input");
	FUZZ_CHECK(len > 0, "an empty raw value");
	if (type == JSON_OBJECT)
		FUZZ_CHECK(json_object_parse(text, len, NULL, NULL, why, sizeof why, &pos) == 0,
		           "a nested object does not parse on its own: %s", why);
	if (type == JSON_ARRAY)
		FUZZ_CHECK(json_array_parse(text, len, NULL, NULL, why, sizeof why, &pos) == 0,
		           "a nested array does not parse on its own: %s", why);
}

static int on_element(const char *text, size_t len, size_t at, enum json_type type, void *ctx,
                      char *why, size_t whysize)
{
	(void)ctx;
	(void)why;
	(void)whysize;
	FUZZ_CHECK((const uint8_t *)text == in_start + at, "an element's offset");
	raw_ok(text, len, type);
	return 0;
}

/* utf8_ok - well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
 * values past U+10FFFF); a NUL byte is a character like any other here. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], need, lo = 0x80, hi = 0xBF;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		else
			return 0;
		if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (unsigned k = 2; k <= need; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += need + 1;
	}
	return 1;
}

static int number_ok(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i < n && s[i] == '.') {
		if (++i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i != n)
		return 0;
	char *end;
	strtod(s, &end);
	return end == s + n;
}

static char *copy(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	FUZZ_CHECK(p, "out of memory");
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int on_member(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct members *ms = ctx;
	FUZZ_CHECK(m->key && m->key[m->key_len] == '\0', "key not terminated");
	FUZZ_CHECK(utf8_ok((const unsigned char *)m->key, m->key_len), "key not UTF-8");
	switch (m->type) {
	case JSON_STRING:
		FUZZ_CHECK(m->str && m->str[m->str_len] == '\0', "string not terminated");
		FUZZ_CHECK(utf8_ok((const unsigned char *)m->str, m->str_len), "string not UTF-8");
		break;
	case JSON_NUMBER: {
		FUZZ_CHECK(m->str && m->str[m->str_len] == '\0' && strlen(m->str) == m->str_len,
		           "number text");
		FUZZ_CHECK(number_ok(m->str, m->str_len), "not a JSON number: %s", m->str);
		struct sbuf b;
		double v = strtod(m->str, NULL);
		sb_init(&b);
		json_put_double(&b, v);
		FUZZ_CHECK(!b.oom, "out of memory");
		const char *t = b.p;
		if (isfinite(v))
			FUZZ_CHECK(number_ok(t, strlen(t)) && strtod(t, NULL) == v,
			           "json_put_double(%s) gave %s", m->str, t);
		else
			FUZZ_CHECK(!strcmp(t, "null"), "json_put_double(%s) gave %s", m->str, t);
		sb_free(&b);
		break;
	}
	case JSON_TRUE: case JSON_FALSE: case JSON_NULL: case JSON_OBJECT: case JSON_ARRAY:
		FUZZ_CHECK(m->str == NULL && m->str_len == 0, "%s with text", json_type_name(m->type));
		break;
	default:
		FUZZ_CHECK(0, "type %d", (int)m->type);
	}
	raw_ok(m->raw, m->raw_len, m->type);
	if (ms) {
		if (ms->n == ms->cap) {
			ms->cap = ms->cap ? ms->cap * 2 : 8;
			ms->m = realloc(ms->m, ms->cap * sizeof *ms->m);
			FUZZ_CHECK(ms->m, "out of memory");
		}
		struct member *c = &ms->m[ms->n++];
		c->key = copy(m->key, m->key_len);
		c->key_len = m->key_len;
		c->type = m->type;
		c->str = m->str ? copy(m->str, m->str_len) : NULL;
		c->str_len = m->str_len;
	}
	if (m->key_len == 4 && !memcmp(m->key, "stop", 4)) {
		snprintf(why, whysize, "stopped");
		return 1;
	}
	return 0;
}

static void members_free(struct members *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].key);
		free(ms->m[i].str);
	}
	free(ms->m);
	memset(ms, 0, sizeof *ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t errpos = (size_t)-1;
	struct members first = {0}, second = {0};
	/* two UTF-8 validators agree on the raw input */
	size_t bad = (size_t)-1;
	int ok = utf8_check(data, size, &bad);
	FUZZ_CHECK(ok == utf8_ok(data, size), "utf8_check %d, utf8_ok %d", ok, utf8_ok(data, size));
	if (!ok)
		FUZZ_CHECK(bad < size && utf8_ok(data, bad) && !utf8_ok(data + bad, size - bad),
		           "first bad byte reported at %zu", bad);
	in_start = data;
	in_size = size;
	why[0] = '\0';
	int arc = json_array_parse((const char *)data, size, on_element, NULL, why, sizeof why, &errpos);
	FUZZ_CHECK(arc == 0 || arc == -1, "json_array_parse returned %d", arc);
	FUZZ_CHECK(errpos <= size, "array: error offset %zu past the input", errpos);
	why[0] = '\0';
	int rc = json_object_parse((const char *)data, size, on_member, &first, why, sizeof why, &errpos);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2, "returned %d", rc);
	FUZZ_CHECK(errpos <= size, "error offset %zu past the input (%zu bytes)", errpos, size);
	if (rc == -1)
		FUZZ_CHECK(why[0], "refused without a reason");
	if (rc == -2) {
		FUZZ_CHECK(first.n > 0 && !strcmp(first.m[first.n - 1].key, "stop"), "stopped elsewhere");
		FUZZ_CHECK(data[errpos] == '"', "a stop's offset %zu is not at its member", errpos);
		FUZZ_CHECK(!strcmp(why, "stopped"), "the callback's reason was lost: %s", why);
	}
	if (rc != 0) {
		members_free(&first);
		return 0;
	}

	/* write the members back with the writer (json_put_string) and read
	 * them again */
	struct sbuf o;
	sb_init(&o);
	sb_puts(&o, "{");
	for (size_t i = 0; i < first.n; i++) {
		const struct member *m = &first.m[i];
		if (i)
			sb_puts(&o, ",");
		json_put_string(&o, m->key, m->key_len);
		sb_puts(&o, ":");
		switch (m->type) {
		case JSON_STRING: json_put_string(&o, m->str, m->str_len); break;
		case JSON_NUMBER: sb_putn(&o, m->str, m->str_len); break;
		case JSON_TRUE: sb_puts(&o, "true"); break;
		case JSON_FALSE: sb_puts(&o, "false"); break;
		case JSON_NULL: sb_puts(&o, "null"); break;
		case JSON_OBJECT: sb_puts(&o, "{}"); break;
		case JSON_ARRAY: sb_puts(&o, "[]"); break;
		}
	}
	sb_puts(&o, "}");
	FUZZ_CHECK(!o.oom, "out of memory");
	in_start = (const uint8_t *)o.p;
	in_size = o.len;
	rc = json_object_parse(o.p, o.len, on_member, &second, why, sizeof why, &errpos);
	FUZZ_CHECK(rc == 0, "written back, it does not parse: %s at %zu: %s", why, errpos, o.p);
	FUZZ_CHECK(second.n == first.n, "%zu members became %zu", first.n, second.n);
	for (size_t i = 0; i < first.n; i++) {
		const struct member *a = &first.m[i], *b = &second.m[i];
		FUZZ_CHECK(a->type == b->type && a->key_len == b->key_len &&
		           !memcmp(a->key, b->key, a->key_len) && a->str_len == b->str_len &&
		           (!a->str || !memcmp(a->str, b->str, a->str_len)),
		           "member %zu changed in the round trip", i);
	}
	sb_free(&o);
	members_free(&first);
	members_free(&second);
	return 0;
}
