/* src/lib/comment.c: a comment's fields, what each accepts and refuses, and
 * that a refused value leaves the field as it was. */
#include <criterion/criterion.h>
#include <string.h>

#include "comment_int.h"
#include "testutil.h"

Test(comment, fields_are_validated_and_kept_on_error)
{
	thresh_comment *c;
	const char *v;
	char big[THRESH_CONTENT_MAX + 2];
	cr_assert_eq(thresh_comment_new(&c), 0);
	cr_expect_eq(thresh_comment_set(c, "content", "hello", (size_t)-1), 0);
	cr_expect_eq(thresh_comment_set(c, "content", "\xc3\x28", 2), THRESH_EUTF8);
	cr_expect_eq(thresh_comment_set(c, "content", "\xe0\x80\xaf", 3), THRESH_EUTF8, "overlong");
	cr_expect_eq(thresh_comment_set(c, "content", "\xed\xa0\x80", 3), THRESH_EUTF8, "surrogate");
	cr_expect_eq(thresh_comment_set(c, "content", "\xf4\x90\x80\x80", 4), THRESH_EUTF8, "> U+10FFFF");
	cr_expect_eq(thresh_comment_set(c, "content", "a\0b", 3), THRESH_ENUL);
	memset(big, 'a', sizeof big);
	cr_expect_eq(thresh_comment_set(c, "content", big, THRESH_CONTENT_MAX + 1), THRESH_ETOOBIG);
	cr_expect_eq(thresh_comment_set(c, "content", big, THRESH_CONTENT_MAX), 0);
	cr_expect_eq(thresh_comment_set(c, "author", big, THRESH_FIELD_MAX + 1), THRESH_ETOOBIG);
	cr_expect_eq(thresh_comment_set(c, "author", "Ann", (size_t)-1), 0);
	cr_expect_eq(thresh_comment_set(c, "author", "\xff", 1), THRESH_EUTF8);
	cr_assert_eq(thresh_comment_get(c, "comment_author", &v), 0, "Akismet alias");
	cr_expect_str_eq(v, "Ann", "a rejected value leaves the field as it was");
	cr_expect_eq(thresh_comment_set(c, "nosuch", "x", 1), THRESH_EFIELD);
	cr_expect_eq(thresh_comment_set(c, "form_age", "abc", 3), THRESH_EINVAL);
	cr_expect_eq(thresh_comment_set(c, "form_age", "-1", 2), THRESH_EINVAL);
	cr_expect_eq(thresh_comment_set(c, "form_age", "2.5", 3), 0);
	cr_expect_eq(thresh_comment_set_time(c, -1), THRESH_EINVAL);
	cr_expect(thresh_comment_is_field("user_ip"));
	cr_expect(!thresh_comment_is_field("blog"));
	thresh_comment_reset(c);
	cr_assert_eq(thresh_comment_get(c, "author", &v), 0);
	cr_expect_null(v);
	thresh_comment_free(c);
	thresh_comment_free(NULL);
	cr_expect_eq(thresh_comment_new(NULL), THRESH_EINVAL);
}

/* The tokenizer reads a value's UTF-8 once: it skips the check only for a
 * value thresh_comment_set checked, which the record notes per field, and
 * the note follows the value through every change. */
Test(comment, the_record_notes_which_values_were_checked)
{
	thresh_comment *c;
	cr_assert_eq(thresh_comment_new(&c), 0);
	cr_expect_eq(c->checked, 0u);
	cr_assert_eq(thresh_comment_set(c, "content", "fine", (size_t)-1), 0);
	cr_expect_eq(c->checked, 1u << F_CONTENT);
	/* a refused value leaves the field, and its note, as they were */
	cr_expect_eq(thresh_comment_set(c, "content", "\xff", 1), THRESH_EUTF8);
	cr_expect_eq(c->checked, 1u << F_CONTENT);
	cr_expect_eq(thresh_comment_set(c, "author", "\xc3", 1), THRESH_EUTF8);
	cr_expect_eq(c->checked, 1u << F_CONTENT);
	cr_assert_eq(thresh_comment_set(c, "author", "Ann", (size_t)-1), 0);
	cr_expect_eq(c->checked, 1u << F_CONTENT | 1u << F_AUTHOR);
	cr_assert_eq(thresh_comment_set(c, "content", NULL, 0), 0);
	cr_expect_eq(c->checked, 1u << F_AUTHOR);
	thresh_comment_reset(c);
	cr_expect_eq(c->checked, 0u);
	thresh_comment_free(c);
}
