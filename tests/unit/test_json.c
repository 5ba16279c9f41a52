/* src/common/json.c: json_object_parse (members of one object, strings
 * decoded, numbers as written, nested values checked and skipped, a byte
 * order mark, the depth limit, every malformed case with its message and
 * byte offset, a callback that stops the parse) and the writers
 * json_put_string and json_put_double. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---------- collecting members ---------- */

struct got {
	int n;
	struct {
		char key[64], str[256];
		size_t key_len, str_len;
		enum json_type type;
		int has_str;
	} m[16];
	const char *stop_at; /* the callback stops at this key */
};

static int collect(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct got *g = ctx;
	if (g->stop_at && !strcmp(m->key, g->stop_at)) {
		snprintf(why, whysize, "stopped at %s", m->key);
		return 1;
	}
	cr_assert_lt(g->n, 16);
	cr_assert_lt(m->key_len, sizeof g->m[0].key);
	memcpy(g->m[g->n].key, m->key, m->key_len + 1);
	g->m[g->n].key_len = m->key_len;
	g->m[g->n].type = m->type;
	g->m[g->n].has_str = m->str != NULL;
	if (m->str) {
		cr_assert_lt(m->str_len, sizeof g->m[0].str);
		memcpy(g->m[g->n].str, m->str, m->str_len + 1);
		g->m[g->n].str_len = m->str_len;
	}
	g->n++;
	return 0;
}

static int parse(const char *text, size_t len, struct got *g, char *why, size_t *pos)
{
	memset(g, 0, sizeof *g);
	why[0] = '\0';
	return json_object_parse(text, len, collect, g, why, 256, pos);
}

static void parse_ok(const char *text, struct got *g)
{
	char why[256];
	size_t pos = 99;
	int rc = parse(text, strlen(text), g, why, &pos);
	cr_assert_eq(rc, 0, "%s: %s at %zu", text, why, pos);
	cr_expect_eq(pos, strlen(text), "errpos is the end on success");
}

Test(json, members_and_their_types)
{
	struct got g;
	parse_ok("{\"a\": \"x\", \"n\": -1.5e3, \"t\": true, \"f\": false, \"z\": null,"
	         " \"o\": {\"k\": [1, 2]}, \"arr\": [], \"e\": \"\"}", &g);
	cr_assert_eq(g.n, 8);
	cr_expect_str_eq(g.m[0].key, "a");
	cr_expect_eq(g.m[0].type, JSON_STRING);
	cr_expect_str_eq(g.m[0].str, "x");
	cr_expect_eq(g.m[1].type, JSON_NUMBER);
	cr_expect_str_eq(g.m[1].str, "-1.5e3", "a number as written");
	cr_expect_eq(g.m[2].type, JSON_TRUE);
	cr_expect_eq(g.m[3].type, JSON_FALSE);
	cr_expect_eq(g.m[4].type, JSON_NULL);
	cr_expect_eq(g.m[5].type, JSON_OBJECT);
	cr_expect_eq(g.m[6].type, JSON_ARRAY);
	for (int i = 2; i < 7; i++)
		cr_expect(!g.m[i].has_str, "member %d has no text", i);
	cr_expect_eq(g.m[7].type, JSON_STRING);
	cr_expect_str_eq(g.m[7].str, "");
	/* the example of json.c */
	parse_ok("{\"content\": \"caf\\u00e9 \\ud83d\\ude00\", \"form_age\": 12.5, \"lang\": null}", &g);
	cr_assert_eq(g.n, 3);
	cr_expect_str_eq(g.m[0].str, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	cr_expect_str_eq(g.m[1].str, "12.5");
	cr_expect(!g.m[2].has_str);
	parse_ok("{}", &g);
	cr_expect_eq(g.n, 0);
	parse_ok(" \t\r\n{ \n } \n", &g);
	cr_expect_eq(g.n, 0);
}

Test(json, numbers)
{
	static const char *const ok[] = {"0", "-0", "7", "-12", "3.25", "1e5", "1E+5", "2.5e-3", "0.0"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char text[64];
		struct got g;
		snprintf(text, sizeof text, "{\"n\":%s}", ok[i]);
		parse_ok(text, &g);
		cr_assert_eq(g.n, 1);
		cr_expect_eq(g.m[0].type, JSON_NUMBER);
		cr_expect_str_eq(g.m[0].str, ok[i]);
	}
}

Test(json, escapes_and_surrogates)
{
	struct got g;
	parse_ok("{\"s\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", &g);
	cr_expect_str_eq(g.m[0].str, "\"\\/\b\f\n\r\t");
	parse_ok("{\"s\": \"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\"}", &g);
	cr_expect_str_eq(g.m[0].str, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	cr_expect_eq(g.m[0].str_len, 1 + 2 + 3 + 4);
	/* \u0000 is a NUL inside the text: the lengths tell */
	parse_ok("{\"k\\u0000x\": \"a\\u0000b\"}", &g);
	cr_expect_eq(g.m[0].key_len, 3);
	cr_expect_eq(memcmp(g.m[0].key, "k\0x", 4), 0);
	cr_expect_eq(g.m[0].str_len, 3);
	cr_expect_eq(memcmp(g.m[0].str, "a\0b", 4), 0);
	/* UTF-8 as it is */
	parse_ok("{\"\xc3\xa9\": \"\xe4\xb8\xad\xe6\x96\x87\"}", &g);
	cr_expect_str_eq(g.m[0].key, "\xc3\xa9");
	cr_expect_str_eq(g.m[0].str, "\xe4\xb8\xad\xe6\x96\x87");
}

Test(json, byte_order_mark_skipped)
{
	struct got g;
	parse_ok("\xef\xbb\xbf{\"a\": 1}", &g);
	cr_expect_eq(g.n, 1);
	parse_ok("\xef\xbb\xbf  {}", &g);
	char why[256];
	size_t pos;
	cr_expect_eq(parse(" \xef\xbb\xbf{}", 6, &g, why, &pos), -1, "only a leading one");
	cr_expect_eq(pos, 1);
}

Test(json, nested_values_checked_and_skipped)
{
	struct got g;
	parse_ok("{\"a\": {\"b\": {\"c\": [1, {\"d\": \"e\"}, [], {}]}}, \"z\": [true, null, \"s\"]}", &g);
	cr_assert_eq(g.n, 2, "only the top-level members are called back");
	cr_expect_str_eq(g.m[0].key, "a");
	cr_expect_eq(g.m[0].type, JSON_OBJECT);
	cr_expect_str_eq(g.m[1].key, "z");
	cr_expect_eq(g.m[1].type, JSON_ARRAY);
}

/* nested - {"a": followed by depth '[' and as many ']'. */
static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 8);
	strcpy(s, "{\"a\":");
	memset(s + 5, '[', (size_t)depth);
	memset(s + 5 + depth, ']', (size_t)depth);
	strcpy(s + 5 + 2 * depth, "}");
	return s;
}

Test(json, depth_limit)
{
	struct got g;
	char why[256];
	size_t pos;
	char *s = nested(63); /* with the object, 64 levels */
	parse_ok(s, &g);
	free(s);
	s = nested(64);
	cr_expect_eq(parse(s, strlen(s), &g, why, &pos), -1);
	cr_expect(strstr(why, "nested more than 64 deep") != NULL, "%s", why);
	cr_expect_eq(pos, 5 + 63, "at the bracket one too deep");
	cr_expect_eq(g.n, 0);
	free(s);
	s = nested(100000);
	cr_expect_eq(parse(s, strlen(s), &g, why, &pos), -1, "deep input does not exhaust the stack");
	free(s);
}

/* ---------- every malformed case: message and offset ---------- */

Test(json, malformed_cases_name_what_and_where)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *why;
		size_t pos;
	} bad[] = {
		{"", 0, "expected a JSON object ('{'), found the end of the input", 0},
		{"[1]", 0, "expected a JSON object ('{'), found '['", 0},
		{"  x", 0, "expected a JSON object ('{'), found 'x'", 2},
		{"\xef\xbb\xbf", 0, "found the end of the input", 3},
		{"{", 0, "expected a string key, found the end of the input", 1},
		{"{a:1}", 0, "expected a string key, found 'a'", 1},
		{"{\x01}", 0, "expected a string key, found byte 0x01", 1},
		{"{\"a\"}", 0, "expected ':' after a key, found '}'", 4},
		{"{\"a\":}", 0, "expected a value, found '}'", 5},
		{"{\"a\":", 0, "expected a value, found the end of the input", 5},
		{"{\"a\":1,}", 0, "expected a string key, found '}'", 7},
		{"{\"a\":1 \"b\":2}", 0, "expected ',' or '}', found '\"'", 7},
		{"{\"a\":1", 0, "expected ',' or '}', found the end of the input", 6},
		{"{\"a\":1} x", 0, "text after the object: 'x'", 8},
		{"{\"a\":1}{}", 0, "text after the object: '{'", 7},
		{"{\"a\":01}", 0, "a number may not start with 0", 6},
		{"{\"a\":1.}", 0, "digits must follow a decimal point", 7},
		{"{\"a\":.5}", 0, "expected a value, found '.'", 5},
		{"{\"a\":1e}", 0, "digits must follow an exponent", 7},
		{"{\"a\":1e+}", 0, "digits must follow an exponent", 8},
		{"{\"a\":-}", 0, "a number needs digits", 6},
		{"{\"a\":+1}", 0, "expected a value, found '+'", 5},
		{"{\"a\":tru}", 0, "unknown literal (expected true)", 5},
		{"{\"a\":nul}", 0, "unknown literal (expected null)", 5},
		{"{\"a\":falsey}", 0, "expected ',' or '}', found 'y'", 10},
		{"{\"a\":\"x}", 0, "unterminated string", 8},
		{"{\"a\":\"x\\", 0, "unterminated string", 8},
		{"{\"a\":\"\\x\"}", 0, "unknown escape \\x", 7},
		{"{\"a\":\"\\u12\"}", 0, "\\u needs four hex digits", 8},
		{"{\"a\":\"\\u12", 0, "\\u needs four hex digits", 8},
		{"{\"a\":\"\\udc00\"}", 0, "a lone low surrogate \\udc00", 12},
		{"{\"a\":\"\\ud83dx\"}", 0, "a high surrogate \\ud83d without its low half", 12},
		{"{\"a\":\"\\ud83d\\u0041\"}", 0, "a high surrogate \\ud83d without its low half", 18},
		{"{\"a\":\"x\ty\"}", 0, "control character 0x09 in a string (escape it)", 7},
		{"{\"a\":\"\xff\"}", 0, "invalid UTF-8 in a string", 6},
		{"{\"a\":\"\xed\xa0\x80\"}", 0, "invalid UTF-8 in a string", 6},
		{"{\"\xc3\"  :1}", 0, "invalid UTF-8 in a string", 2},
		{"{\"a\":[1,]}", 0, "expected a value, found ']'", 8},
		{"{\"a\":[1 2]}", 0, "expected ',' or ']', found '2'", 8},
		{"{\"a\":[1", 0, "expected ',' or ']', found the end of the input", 7},
		{"{\"a\":{\"b\" 1}}", 0, "expected ':' after a key, found '1'", 10},
		{"{\"a\":{1:2}}", 0, "expected a string key, found '1'", 6},
		{"{\"a\":{\"b\":1,}}", 0, "expected a string key, found '}'", 12},
		{"{\"a\":1}\0", 8, "text after the object: byte 0x00", 7},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct got g;
		char why[256];
		size_t pos = 999;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		cr_expect_eq(parse(bad[i].text, len, &g, why, &pos), -1, "[%s] accepted", bad[i].text);
		cr_expect(strstr(why, bad[i].why) != NULL, "[%s]: [%s], want [%s]", bad[i].text, why, bad[i].why);
		cr_expect_eq(pos, bad[i].pos, "[%s]: at %zu, want %zu (%s)", bad[i].text, pos, bad[i].pos, why);
	}
}

/* Members before the fault were called back; a message buffer is optional. */
Test(json, members_before_a_fault_are_seen)
{
	struct got g;
	char why[256];
	size_t pos;
	cr_expect_eq(parse("{\"a\":1,\"b\":2,\"c\":}", 18, &g, why, &pos), -1);
	cr_expect_eq(g.n, 2);
	cr_expect_eq(json_object_parse("{x}", 3, NULL, NULL, NULL, 0, &pos), -1);
	cr_expect_eq(pos, 1);
	cr_expect_eq(json_object_parse("{\"a\":[1]}", 9, NULL, NULL, NULL, 0, &pos), 0, "no callback");
}

/* A callback that returns non-zero stops the parse: -2, its own reason,
 * and the offset of the member it stopped at. */
Test(json, callback_stops_with_minus_two)
{
	struct got g;
	char why[256] = "";
	size_t pos = 0;
	const char *text = "{\"a\": 1, \"stop\": 2, \"c\": 3}";
	memset(&g, 0, sizeof g);
	g.stop_at = "stop";
	cr_expect_eq(json_object_parse(text, strlen(text), collect, &g, why, sizeof why, &pos), -2);
	cr_expect_str_eq(why, "stopped at stop");
	cr_expect_eq(pos, 9, "the offset of the member's key");
	cr_expect_eq(g.n, 1, "nothing called back after it");
	/* it stops even when the rest is malformed */
	text = "{\"stop\": 1, !!!";
	memset(&g, 0, sizeof g);
	g.stop_at = "stop";
	cr_expect_eq(json_object_parse(text, strlen(text), collect, &g, why, sizeof why, &pos), -2);
	cr_expect_eq(pos, 1);
}

Test(json, type_names)
{
	cr_expect_str_eq(json_type_name(JSON_STRING), "string");
	cr_expect_str_eq(json_type_name(JSON_NUMBER), "number");
	cr_expect_str_eq(json_type_name(JSON_TRUE), "boolean");
	cr_expect_str_eq(json_type_name(JSON_FALSE), "boolean");
	cr_expect_str_eq(json_type_name(JSON_NULL), "null");
	cr_expect_str_eq(json_type_name(JSON_OBJECT), "object");
	cr_expect_str_eq(json_type_name(JSON_ARRAY), "array");
}

/* ---------- writing ---------- */

static void expect_string(const char *s, size_t n, const char *want)
{
	struct sbuf b;
	sb_init(&b);
	json_put_string(&b, s, n);
	cr_assert(!b.oom);
	cr_expect_str_eq(b.p, want);
	sb_free(&b);
}

Test(json, put_string_escapes)
{
	expect_string("", 0, "\"\"");
	expect_string("plain", 5, "\"plain\"");
	expect_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	expect_string("\n\r\t", 3, "\"\\n\\r\\t\"");
	expect_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	expect_string("a\0b", 3, "\"a\\u0000b\"");
	expect_string("caf\xc3\xa9 /", 7, "\"caf\xc3\xa9 /\"");
	expect_string("abcdef", 3, "\"abc\"");
}

/* What json_put_string writes, json_object_parse reads back byte for byte. */
Test(json, put_string_round_trips)
{
	static const struct {
		const char *s;
		size_t n;
	} cases[] = {
		{"", 0}, {"x", 1}, {"a\0b", 3}, {"\"\\/\b\f\n\r\t", 8}, {"\x01\x02\x1f\x7f", 4},
		{"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad", 14},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sbuf b;
		struct got g;
		sb_init(&b);
		sb_puts(&b, "{\"k\":");
		json_put_string(&b, cases[i].s, cases[i].n);
		sb_puts(&b, "}");
		parse_ok(b.p, &g);
		cr_assert_eq(g.n, 1);
		cr_expect_eq(g.m[0].str_len, cases[i].n, "case %zu", i);
		cr_expect_eq(memcmp(g.m[0].str, cases[i].s, cases[i].n), 0, "case %zu: %s", i, b.p);
		sb_free(&b);
	}
}

static void expect_double(double v, const char *want)
{
	struct sbuf b;
	sb_init(&b);
	json_put_double(&b, v);
	cr_expect_str_eq(b.p, want, "%.17g", v);
	sb_free(&b);
}

Test(json, put_double)
{
	expect_double(0.1, "0.1");
	expect_double(-0.5, "-0.5");
	expect_double(12, "12");
	expect_double(1e300, "1e+300");
	expect_double(0.1 + 0.2, "0.30000000000000004");
	expect_double(NAN, "null");
	expect_double(INFINITY, "null");
	expect_double(-INFINITY, "null");
	/* what it writes is a JSON number */
	struct sbuf b;
	struct got g;
	sb_init(&b);
	sb_puts(&b, "{\"v\":");
	json_put_double(&b, 1.0 / 3);
	sb_puts(&b, "}");
	parse_ok(b.p, &g);
	cr_expect_eq(g.m[0].type, JSON_NUMBER);
	cr_expect_eq(strtod(g.m[0].str, NULL), 1.0 / 3);
	sb_free(&b);
}

/* ---------- raw values, arrays ---------- */

static char raw_seen[128];

static int raw_of_o(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	(void)ctx;
	(void)why;
	(void)whysize;
	if (!strcmp(m->key, "o")) {
		cr_assert_lt(m->raw_len, sizeof raw_seen);
		memcpy(raw_seen, m->raw, m->raw_len);
		raw_seen[m->raw_len] = '\0';
	}
	return 0;
}

Test(json, a_member_value_as_written)
{
	char why[256];
	size_t pos;
	const char *t = "{\"a\": 1, \"o\" :  {\"raw\": \"x\\u0041\", \"n\": [1, {}]} , \"z\": 2}";
	raw_seen[0] = '\0';
	cr_assert_eq(json_object_parse(t, strlen(t), raw_of_o, NULL, why, sizeof why, &pos), 0);
	cr_expect_str_eq(raw_seen, "{\"raw\": \"x\\u0041\", \"n\": [1, {}]}");
}

struct elems {
	int n;
	char text[8][64];
	size_t at[8];
	enum json_type type[8];
	int stop_at;
};

static int elem(const char *text, size_t len, size_t at, enum json_type type, void *ctx,
                char *why, size_t whysize)
{
	struct elems *e = ctx;
	if (e->n == e->stop_at) {
		snprintf(why, whysize, "stopped at %d", e->n);
		return 1;
	}
	cr_assert_lt(e->n, 8);
	cr_assert_lt(len, sizeof e->text[0]);
	memcpy(e->text[e->n], text, len);
	e->text[e->n][len] = '\0';
	e->at[e->n] = at;
	e->type[e->n] = type;
	e->n++;
	return 0;
}

Test(json, array_elements_as_written)
{
	struct elems e = {.stop_at = -1};
	char why[256];
	size_t pos;
	const char *t = "\xEF\xBB\xBF [ {\"a\": [1, 2]},\n \"s\\n\" , 3, null, [] ]\n";
	cr_assert_eq(json_array_parse(t, strlen(t), elem, &e, why, sizeof why, &pos), 0, "%s", why);
	cr_assert_eq(e.n, 5);
	cr_expect_str_eq(e.text[0], "{\"a\": [1, 2]}");
	cr_expect_eq(e.type[0], JSON_OBJECT);
	cr_expect_eq(e.at[0], 6);
	cr_expect_str_eq(e.text[1], "\"s\\n\"");
	cr_expect_eq(e.type[1], JSON_STRING);
	cr_expect_str_eq(e.text[2], "3");
	cr_expect_eq(e.type[3], JSON_NULL);
	cr_expect_eq(e.type[4], JSON_ARRAY);
	cr_expect_eq(pos, strlen(t));

	e.n = 0;
	cr_assert_eq(json_array_parse(" [ ] ", 5, elem, &e, why, sizeof why, &pos), 0);
	cr_expect_eq(e.n, 0, "an empty page");
	cr_assert_eq(json_array_parse("[1]", 3, NULL, NULL, why, sizeof why, &pos), 0, "no callback");
}

Test(json, array_refusals)
{
	static const struct {
		const char *text, *why;
		size_t pos;
	} cases[] = {
		{"{\"code\": \"x\"}", "expected a JSON array ('['), found '{'", 0},
		{"", "expected a JSON array ('['), found the end of the input", 0},
		{"[1, 2", "expected ',' or ']', found the end of the input", 5},
		{"[1,]", "expected a value, found ']'", 3},
		{"[1] [2]", "text after the array: '['", 4},
		{"[{\"a\": }]", "expected a value, found '}'", 7},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char why[256] = "";
		size_t pos = 99;
		struct elems e = {.stop_at = -1};
		cr_expect_eq(json_array_parse(cases[i].text, strlen(cases[i].text), elem, &e, why,
		                              sizeof why, &pos), -1, "%s", cases[i].text);
		cr_expect_str_eq(why, cases[i].why, "%s", cases[i].text);
		cr_expect_eq(pos, cases[i].pos, "%s: at %zu", cases[i].text, pos);
	}
	struct elems e = {.stop_at = 1};
	char why[256];
	size_t pos;
	cr_expect_eq(json_array_parse("[1,  2, 3]", 10, elem, &e, why, sizeof why, &pos), -2);
	cr_expect_str_eq(why, "stopped at 1");
	cr_expect_eq(pos, 5, "the stopping element's offset");
	cr_expect_eq(e.n, 1);
}
