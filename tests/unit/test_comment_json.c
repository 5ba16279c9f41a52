/* src/common/comment_json.c: one JSON member into a thresh_comment
 * (cj_start, cj_member, cj_field_max, cj_end): each reason code, the label, null
 * values, both names of a field, and a refused member leaving the comment
 * as it was. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "comment_json.h"
#include "testutil.h"

/* member - a member as json_object_parse would give it. */
static struct json_member member(const char *key, enum json_type type, const char *str)
{
	size_t n = str ? strlen(str) : 0;
	struct json_member m = {key, strlen(key), type, str, n, str, n};
	return m;
}

static enum cj_reason take(struct cj_state *s, const char *key, enum json_type type, const char *str)
{
	struct json_member m = member(key, type, str);
	return cj_member(s, &m);
}

static const char *get(thresh_comment *c, const char *field)
{
	const char *v = NULL;
	cr_assert_eq(thresh_comment_get(c, field, &v), 0, "%s", field);
	return v;
}

static thresh_comment *C;
static struct cj_state S;

static void setup(void)
{
	cr_assert_eq(thresh_comment_new(&C), 0);
	cr_assert_eq(cj_start(&S, C, 1), 0);
}

static void teardown(void)
{
	cj_end(&S);
	thresh_comment_free(C);
}

TestSuite(comment_json, .init = setup, .fini = teardown);

/* The example of comment_json.c (its "author_email" is no field name:
 * Akismet's is comment_author_email). */
Test(comment_json, strings_numbers_and_null)
{
	cr_expect_eq(take(&S, "label", JSON_STRING, "ham"), CJ_OK);
	cr_expect_eq(take(&S, "content", JSON_STRING, "Nice post"), CJ_OK);
	cr_expect_eq(take(&S, "comment_author_email", JSON_NULL, NULL), CJ_OK);
	cr_expect_eq(take(&S, "form_age", JSON_NUMBER, "12"), CJ_OK);
	cr_expect_str_eq(get(C, "content"), "Nice post");
	cr_expect_null(get(C, "email"), "null leaves the field out");
	cr_expect_str_eq(get(C, "form_age"), "12", "a number as written");
	cr_expect_eq(S.label, THRESH_HAM);
	/* Akismet's names too */
	cr_expect_eq(take(&S, "comment_author", JSON_STRING, "Ann"), CJ_OK);
	cr_expect_str_eq(get(C, "author"), "Ann");
}

Test(comment_json, label)
{
	cr_expect_eq(S.label, -1, "none given yet");
	cr_expect_eq(take(&S, "label", JSON_STRING, "spam"), CJ_OK);
	cr_expect_eq(S.label, THRESH_SPAM);
	cr_expect_eq(take(&S, "label", JSON_STRING, "ham"), CJ_DUPLICATE);
	cr_expect_eq(S.label, THRESH_SPAM);
	static const struct {
		enum json_type t;
		const char *s;
	} bad[] = {{JSON_STRING, "maybe"}, {JSON_STRING, "Spam"}, {JSON_STRING, ""},
	           {JSON_NUMBER, "1"},     {JSON_NULL, NULL},     {JSON_TRUE, NULL}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cj_end(&S);
		cj_start(&S, C, 1);
		cr_expect_eq(take(&S, "label", bad[i].t, bad[i].s), CJ_BAD_LABEL, "case %zu", i);
		cr_expect_eq(S.label, -1);
	}
	/* not wanted: checked for repeats, then ignored */
	cj_end(&S);
	cj_start(&S, C, 0);
	cr_expect_eq(take(&S, "label", JSON_STRING, "anything"), CJ_OK);
	cr_expect_eq(S.label, -1);
	cr_expect_eq(take(&S, "label", JSON_STRING, "spam"), CJ_DUPLICATE);
}

Test(comment_json, unknown_fields)
{
	cr_expect_eq(take(&S, "blog", JSON_STRING, "x"), CJ_UNKNOWN_FIELD);
	cr_expect_eq(take(&S, "", JSON_STRING, "x"), CJ_UNKNOWN_FIELD);
	cr_expect_eq(take(&S, "Content", JSON_STRING, "x"), CJ_UNKNOWN_FIELD);
	/* a key holding a NUL ("content\0x" from \u0000) is no field */
	struct json_member m = {"content\0x", 9, JSON_STRING, "x", 1, "\"x\"", 3};
	cr_expect_eq(cj_member(&S, &m), CJ_UNKNOWN_FIELD);
	cr_expect_null(get(C, "content"));
}

Test(comment_json, repeats_and_other_names)
{
	cr_expect_eq(take(&S, "content", JSON_STRING, "a"), CJ_OK);
	cr_expect_eq(take(&S, "content", JSON_STRING, "b"), CJ_DUPLICATE);
	cr_expect_eq(take(&S, "comment_content", JSON_STRING, "b"), CJ_OTHER_NAME);
	cr_expect_str_eq(get(C, "content"), "a", "the first value stays");
	cr_expect_eq(take(&S, "comment_content", JSON_NULL, NULL), CJ_DUPLICATE,
	             "a key seen before, even refused, is a repeat");
	/* a null counts as given for repeats of its key */
	cr_expect_eq(take(&S, "ip", JSON_NULL, NULL), CJ_OK);
	cr_expect_eq(take(&S, "ip", JSON_STRING, "192.0.2.1"), CJ_DUPLICATE);
	/* other name after a value, even as null */
	cr_expect_eq(take(&S, "author", JSON_STRING, "Ann"), CJ_OK);
	cr_expect_eq(take(&S, "comment_author", JSON_NULL, NULL), CJ_OTHER_NAME);
}

Test(comment_json, bad_types)
{
	static const enum json_type t[] = {JSON_OBJECT, JSON_ARRAY, JSON_TRUE, JSON_FALSE};
	for (size_t i = 0; i < 4; i++) {
		cj_end(&S);
		cj_start(&S, C, 1);
		cr_expect_eq(take(&S, "content", t[i], NULL), CJ_BAD_TYPE, "%s", json_type_name(t[i]));
		cr_expect_null(get(C, "content"));
	}
}

Test(comment_json, values_the_library_refuses)
{
	struct json_member m = {"content", 7, JSON_STRING, "a\0b", 3, "\"a\\u0000b\"", 10};
	cr_expect_eq(cj_member(&S, &m), CJ_NUL);
	cr_expect_eq(S.rc, THRESH_ENUL);
	cj_end(&S);
	cj_start(&S, C, 1);
	cr_expect_eq(take(&S, "author", JSON_STRING, "\xc3\x28"), CJ_BAD_UTF8);
	cr_expect_eq(S.rc, THRESH_EUTF8);
	cj_end(&S);
	cj_start(&S, C, 1);
	cr_expect_eq(take(&S, "form_age", JSON_STRING, "soon"), CJ_BAD_FORM_AGE);
	cr_expect_eq(take(&S, "form_age", JSON_NUMBER, "3"), CJ_DUPLICATE, "refused, yet seen");
	cj_end(&S);
	cj_start(&S, C, 1);
	cr_expect_eq(take(&S, "form_age", JSON_NUMBER, "-1"), CJ_BAD_FORM_AGE);
	cr_expect_eq(S.rc, THRESH_EINVAL);
	cj_end(&S);
	cj_start(&S, C, 1);
	cr_expect_eq(take(&S, "form_age", JSON_NUMBER, "2.5"), CJ_OK);
}

Test(comment_json, too_long)
{
	size_t big = THRESH_CONTENT_MAX + 1;
	char *s = malloc(big + 1);
	memset(s, 'a', big);
	s[big] = '\0';
	cr_expect_eq(cj_field_max("content"), THRESH_CONTENT_MAX);
	cr_expect_eq(cj_field_max("comment_content"), THRESH_CONTENT_MAX);
	cr_expect_eq(cj_field_max("author"), THRESH_FIELD_MAX);
	cr_expect_eq(cj_field_max("user_ip"), THRESH_FIELD_MAX);
	cr_expect_eq(take(&S, "content", JSON_STRING, s), CJ_TOO_LONG);
	cr_expect_eq(S.rc, THRESH_ETOOBIG);
	s[THRESH_CONTENT_MAX] = '\0';
	cj_end(&S);
	cj_start(&S, C, 1);
	cr_expect_eq(take(&S, "content", JSON_STRING, s), CJ_OK, "exactly the most it takes");
	s[THRESH_FIELD_MAX + 1] = '\0';
	cr_expect_eq(take(&S, "author", JSON_STRING, s), CJ_TOO_LONG);
	s[THRESH_FIELD_MAX] = '\0';
	cj_end(&S);
	cj_start(&S, C, 1);
	cr_expect_eq(take(&S, "author", JSON_STRING, s), CJ_OK);
	free(s);
}

/* cj_start begins a new object: the comment and what was seen are reset. */
Test(comment_json, start_resets)
{
	cr_expect_eq(take(&S, "content", JSON_STRING, "first"), CJ_OK);
	cr_expect_eq(take(&S, "label", JSON_STRING, "spam"), CJ_OK);
	cj_end(&S);
	cj_start(&S, C, 1);
	cr_expect_null(get(C, "content"), "the comment is reset");
	cr_expect_eq(S.label, -1);
	cr_expect_eq(take(&S, "content", JSON_STRING, "second"), CJ_OK, "not a repeat");
	cr_expect_eq(take(&S, "label", JSON_STRING, "ham"), CJ_OK);
	cr_expect_str_eq(get(C, "content"), "second");
}

/* Regression: comment_json.h refuses "a field given under
 * both its names", but only when the first name carried a value: after
 * "content": null, "comment_content" is taken. */
Test(comment_json, other_name_after_a_null)
{
	cr_expect_eq(take(&S, "content", JSON_NULL, NULL), CJ_OK);
	cr_expect_eq(take(&S, "comment_content", JSON_STRING, "x"), CJ_OTHER_NAME);
}

/* Regression: a repeated key was refused only while the 16 slots of seen[]
 * lasted. Every field under every name, null, then each again: each repeat
 * is refused, as a repeat of its own name or of the field's other name. */
Test(comment_json, every_name_once_then_every_repeat_refused)
{
	static const char *const ours[] = {"content", "author", "email", "url", "ip", "user_agent",
	                                   "referrer", "permalink", "type", "lang", "honeypot",
	                                   "form_age"};
	static const char *const akismet[] = {"comment_content", "comment_author",
	                                      "comment_author_email", "comment_author_url", "user_ip",
	                                      "referer", "comment_type", "blog_lang",
	                                      "comment_author_IP", "comment_agent"};
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		cr_assert_eq(take(&S, ours[i], JSON_NULL, NULL), CJ_OK, "%s", ours[i]);
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		cr_expect_eq(take(&S, ours[i], JSON_NULL, NULL), CJ_DUPLICATE, "%s", ours[i]);
	for (size_t i = 0; i < sizeof akismet / sizeof akismet[0]; i++)
		cr_expect_eq(take(&S, akismet[i], JSON_NULL, NULL), CJ_OTHER_NAME, "%s", akismet[i]);
	for (size_t i = 0; i < sizeof akismet / sizeof akismet[0]; i++)
		cr_expect_eq(take(&S, akismet[i], JSON_STRING, "x"), CJ_DUPLICATE, "%s again", akismet[i]);
}
