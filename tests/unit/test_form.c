/* src/daemon/form.c (threshd's application/x-www-form-urlencoded reader):
 * form_parse ('+', %XX, fields without '=' or empty, a malformed '%' or an
 * empty name with its byte offset, FORM_TOO_MANY), form_get and form_count.
 * Compiled into this test from the daemon's sources (tests/meson.build),
 * only when threshd is built. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threshd.h"

static struct form F;
static char why[256];

static int parse(const char *body)
{
	why[0] = '\0';
	return form_parse(body, strlen(body), &F, why, sizeof why);
}

static void teardown(void)
{
	form_free(&F);
}

TestSuite(form, .fini = teardown);

static void expect_field(size_t i, const char *name, const char *value)
{
	cr_assert_lt(i, F.n);
	cr_expect(F.f[i].name_len == strlen(name) && !memcmp(F.f[i].name, name, F.f[i].name_len),
	          "field %zu named [%.*s], want [%s]", i, (int)F.f[i].name_len, F.f[i].name, name);
	cr_expect(F.f[i].value_len == strlen(value) && !memcmp(F.f[i].value, value, F.f[i].value_len),
	          "field %zu = [%.*s], want [%s]", i, (int)F.f[i].value_len, F.f[i].value, value);
	cr_expect_eq(F.f[i].name[F.f[i].name_len], '\0');
	cr_expect_eq(F.f[i].value[F.f[i].value_len], '\0');
}

/* The example of form.c. */
Test(form, decodes_plus_and_escapes)
{
	cr_assert_eq(parse("comment_author=Ann+Lee&comment_content=caf%C3%A9&blog=https%3A%2F%2Fx.example"),
	             FORM_OK, "%s", why);
	cr_assert_eq(F.n, 3);
	expect_field(0, "comment_author", "Ann Lee");
	expect_field(1, "comment_content", "caf\xc3\xa9");
	expect_field(2, "blog", "https://x.example");
	form_free(&F);
	cr_assert_eq(parse("a%2Bb=1%2b2+%3d+3&%c3%a9=%C3%A9"), FORM_OK, "%s", why);
	expect_field(0, "a+b", "1+2 = 3");
	expect_field(1, "\xc3\xa9", "\xc3\xa9");
	form_free(&F);
	cr_assert_eq(parse("x=a=b=c&+=%20"), FORM_OK, "%s", why);
	expect_field(0, "x", "a=b=c");
	expect_field(1, " ", " ");
}

Test(form, empty_values_and_empty_fields)
{
	cr_assert_eq(parse("a=1&&b=2&"), FORM_OK);
	cr_expect_eq(F.n, 2, "empty fields are skipped");
	expect_field(0, "a", "1");
	expect_field(1, "b", "2");
	form_free(&F);
	cr_assert_eq(parse("flag&e="), FORM_OK);
	cr_assert_eq(F.n, 2);
	expect_field(0, "flag", "");
	expect_field(1, "e", "");
	form_free(&F);
	cr_assert_eq(parse(""), FORM_OK);
	cr_expect_eq(F.n, 0);
	form_free(&F);
	cr_assert_eq(parse("&&&"), FORM_OK);
	cr_expect_eq(F.n, 0);
}

Test(form, nul_from_an_escape_is_kept)
{
	cr_assert_eq(parse("n%00x=a%00b"), FORM_OK);
	cr_assert_eq(F.n, 1);
	cr_expect_eq(F.f[0].name_len, 3);
	cr_expect_eq(memcmp(F.f[0].name, "n\0x", 3), 0);
	cr_expect_eq(F.f[0].value_len, 3);
	cr_expect_eq(memcmp(F.f[0].value, "a\0b", 3), 0);
	cr_expect_null(form_get(&F, "n"), "the lengths decide, not the NUL");
}

/* A malformed body: the byte offset of the fault, and nothing kept. */
Test(form, malformed_bodies_say_where)
{
	static const struct {
		const char *body, *why;
	} bad[] = {
		{"a=%4", "a '%' not followed by two hex digits at byte 2"},
		{"a=%zz", "a '%' not followed by two hex digits at byte 2"},
		{"a=%4g", "at byte 2"},
		{"a=1&b=%", "at byte 6"},
		{"a=1&b=x%", "at byte 7"},
		{"x%=1", "at byte 1"},
		{"%", "at byte 0"},
		{"a=%%41", "at byte 2"},
		{"=x", "a field without a name at byte 0"},
		{"a=1&=2", "a field without a name at byte 4"},
		{"a=1&&=2", "a field without a name at byte 5"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_eq(parse(bad[i].body), FORM_MALFORMED, "[%s]", bad[i].body);
		cr_expect(strstr(why, bad[i].why) != NULL, "[%s]: [%s], want [%s]", bad[i].body, why, bad[i].why);
		cr_expect_eq(F.n, 0, "nothing kept");
		cr_expect_null(F.buf);
		cr_expect_null(F.f);
	}
}

/* fields - n fields "f0=0&f1=1&...", with empties between when gaps. */
static char *fields(int n, int gaps)
{
	char *s = malloc((size_t)n * 16 + 1), *o = s;
	for (int i = 0; i < n; i++)
		o += sprintf(o, "%sf%d=%d%s", i ? "&" : "", i, i, gaps ? "&&" : "");
	return s;
}

Test(form, too_many_fields)
{
	char *s = fields(FORM_MAX_FIELDS, 0);
	cr_expect_eq(parse(s), FORM_OK, "%d fields: %s", FORM_MAX_FIELDS, why);
	cr_expect_eq(F.n, FORM_MAX_FIELDS);
	expect_field(FORM_MAX_FIELDS - 1, "f255", "255");
	form_free(&F);
	free(s);
	s = fields(FORM_MAX_FIELDS, 1);
	cr_expect_eq(parse(s), FORM_OK, "empty fields do not count: %s", why);
	cr_expect_eq(F.n, FORM_MAX_FIELDS);
	form_free(&F);
	free(s);
	s = fields(FORM_MAX_FIELDS + 1, 0);
	cr_expect_eq(parse(s), FORM_TOO_MANY);
	cr_expect(strstr(why, "more than 256 fields") != NULL, "%s", why);
	cr_expect_eq(F.n, 0);
	cr_expect_null(F.buf);
	free(s);
	s = fields(5000, 1);
	cr_expect_eq(parse(s), FORM_TOO_MANY);
	free(s);
}

Test(form, get_and_count)
{
	cr_assert_eq(parse("a=1&b=2&a=3&A=4&ab=5&a"), FORM_OK);
	const struct form_field *f = form_get(&F, "a");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "1", "the first of its name");
	cr_expect_eq(form_count(&F, "a"), 3);
	cr_expect_eq(form_count(&F, "A"), 1, "names are exact");
	cr_expect_eq(form_count(&F, "ab"), 1);
	cr_expect_eq(form_count(&F, "nope"), 0);
	cr_expect_null(form_get(&F, "nope"));
	cr_expect_null(form_get(&F, ""));
	cr_expect_str_eq(form_get(&F, "b")->value, "2");
	form_free(&F);
	cr_expect_eq(F.n, 0, "form_free leaves an empty form");
	cr_expect_null(form_get(&F, "a"));
	cr_expect_eq(form_count(&F, "a"), 0);
}

/* form_parse_lenient: what Akismet's routes read. */
static int want_ab(const char *name, size_t len)
{
	if (len == 1 && name[0] == 'a')
		return 0;
	if (len == 1 && name[0] == 'b')
		return 1;
	return -1;
}

Test(form, lenient_keeps_bad_escapes_and_skips_nameless)
{
	const char *body = "x=50%&=v&y=%zz%4&&z=%41";
	cr_assert_eq(form_parse_lenient(body, strlen(body), &F, FORM_MAX_FIELDS, NULL), FORM_OK);
	cr_assert_eq(F.n, 3);
	expect_field(0, "x", "50%");
	expect_field(1, "y", "%zz%4");
	expect_field(2, "z", "A");
	cr_expect_eq(F.dropped, 1);
}

Test(form, lenient_keeps_wanted_fields_past_the_limit)
{
	/* 4 fields at most, then only the first a and the first b */
	const char *body = "p=1&q=2&a=first&r=3&s=4&t=5&a=second&b=bee&b=again";
	cr_assert_eq(form_parse_lenient(body, strlen(body), &F, 4, want_ab), FORM_OK);
	cr_assert_eq(F.n, 5);
	expect_field(2, "a", "first");
	expect_field(4, "b", "bee");
	cr_expect_eq(F.dropped, 4);
}
