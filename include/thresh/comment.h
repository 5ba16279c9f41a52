/* thresh/comment.h - one incoming comment and its fields.
 *
 * A comment is an opaque record of named text fields. Names are ours or
 * Akismet's, so a form post can be copied field by field:
 *
 *   ours        Akismet alias          what
 *   content     comment_content        the text of the comment
 *   author      comment_author         the name the commenter gave
 *   email       comment_author_email   the commenter's e-mail address
 *   url         comment_author_url     the commenter's web site
 *   ip          user_ip                the client's IP address (v4 or v6)
 *               comment_author_IP      (WordPress's name)
 *   user_agent  comment_agent          the client's User-Agent header (comment_agent: WordPress)
 *   referrer    referer                the Referer header
 *   permalink                          the page the comment is posted on
 *   type        comment_type           "comment", "reply", "forum-post", ...
 *   lang        blog_lang              the site's language(s), "en, fr_ca"
 *   honeypot                           the value of the form's honeypot field
 *                                      (set only when the form has one)
 *   form_age                           seconds between showing the form and
 *                                      its submission, a decimal number
 *
 * Values are copied. Every value must be valid UTF-8 without NUL bytes;
 * content may hold up to THRESH_CONTENT_MAX bytes and any other field up to
 * THRESH_FIELD_MAX bytes. A rejected value leaves the field as it was.
 * A comment is not thread-safe; use one per thread. */
#ifndef THRESH_COMMENT_H
#define THRESH_COMMENT_H

#include <stddef.h>
#include <stdint.h>
#include "thresh/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#define THRESH_CONTENT_MAX 65536
#define THRESH_FIELD_MAX 4096

typedef struct thresh_comment thresh_comment;

/* thresh_comment_new - allocate an empty comment.
 * [out] out  the new comment, to be released with thresh_comment_free().
 * Returns 0, THRESH_EINVAL (out is NULL) or THRESH_ENOMEM. Added in 0.1. */
THRESH_API int thresh_comment_new(thresh_comment **out);

/* thresh_comment_free - release a comment. Accepts NULL. Added in 0.1. */
THRESH_API void thresh_comment_free(thresh_comment *c);

/* thresh_comment_reset - clear every field and the time, so the record can
 * be reused for the next comment. Accepts NULL. Added in 0.1. */
THRESH_API void thresh_comment_reset(thresh_comment *c);

/* thresh_comment_set - set one field.
 * [in] c      the comment.
 * [in] field  a field name from the table above (ours or Akismet's).
 * [in] value  the value, UTF-8; NULL clears the field.
 * [in] len    its length in bytes, or (size_t)-1 to use strlen(value).
 * Returns 0, THRESH_EINVAL (c or field NULL, or form_age not a number >= 0),
 * THRESH_EFIELD (unknown name), THRESH_EUTF8, THRESH_ENUL, THRESH_ETOOBIG or
 * THRESH_ENOMEM. Added in 0.1. */
THRESH_API int thresh_comment_set(thresh_comment *c, const char *field,
                                  const char *value, size_t len);

/* thresh_comment_get - read a field back.
 * [out] value  the stored value (owned by c, valid until the field changes)
 *              or NULL when the field is not set.
 * Returns 0, THRESH_EINVAL or THRESH_EFIELD. Added in 0.1. */
THRESH_API int thresh_comment_get(const thresh_comment *c, const char *field,
                                  const char **value);

/* thresh_comment_set_time - the time of the comment, in seconds since the
 * Unix epoch; 0 (the default) means "now". Rate limiting and token ages use
 * it, so tests and replays of old comments can inject time.
 * Returns 0 or THRESH_EINVAL (c NULL or t negative). Added in 0.1. */
THRESH_API int thresh_comment_set_time(thresh_comment *c, int64_t t);

/* thresh_comment_is_field - 1 when name is a known field name (ours or an
 * Akismet alias), 0 otherwise. Cannot fail. Added in 0.1. */
THRESH_API int thresh_comment_is_field(const char *name);

#ifdef __cplusplus
}
#endif
#endif
