/* json.h - a small strict JSON reader for one object (RFC 8259), and the
 * writer of JSON strings and numbers; used by the thresh command and by
 * threshd (src/common: shared by the programs, not public API).
 *
 * The command reads comments as JSON objects (`check --json`, `train
 * --jsonl`). json_object_parse() checks the whole text and calls back once
 * per member of the top-level object, with strings decoded to UTF-8
 * (escapes, \uXXXX and surrogate pairs included). Nested objects and arrays
 * are checked and reported by type only. A leading UTF-8 byte order mark is
 * skipped. Anything malformed is refused with
 * a message and the byte offset where it went wrong. */
#ifndef THRESH_COMMON_JSON_H
#define THRESH_COMMON_JSON_H

#include <stddef.h>

#include "sbuf.h"

enum json_type {
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
	JSON_OBJECT,
	JSON_ARRAY,
};

/* One member of the top-level object. key and str are NUL-terminated but
 * may hold NUL bytes of their own (from \u0000): use the lengths. str is
 * the decoded string (JSON_STRING), the number's text (JSON_NUMBER), or
 * NULL. */
struct json_member {
	const char *key;
	size_t key_len;
	enum json_type type;
	const char *str;
	size_t str_len;
};

/* A member callback returns 0 to go on, or non-zero (having written its own
 * reason into why) to stop the parse. */
typedef int (*json_member_fn)(const struct json_member *m, void *ctx, char *why, size_t whysize);

/* json_object_parse - parse text[0..len) as exactly one JSON object,
 * surrounded by nothing but white space.
 * Returns 0 on success; -1 on malformed JSON (why says what, *errpos the
 * byte offset), -2 when the callback stopped it (*errpos: the member's
 * offset), -3 out of memory. */
int json_object_parse(const char *text, size_t len, json_member_fn fn, void *ctx,
                      char *why, size_t whysize, size_t *errpos);

/* json_type_name - "string", "number", ... for messages. */
const char *json_type_name(enum json_type t);

/* json_put_string - s[0..n) as a JSON string, quotes included: '"', '\\'
 * and control characters escaped, everything else as it is. */
void json_put_string(struct sbuf *b, const char *s, size_t n);
/* json_put_double - the shortest text that reads back as v (fmt_double);
 * null when v is not finite. */
void json_put_double(struct sbuf *b, double v);

#endif
