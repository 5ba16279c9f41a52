/* json.h - a small strict JSON reader for one object or one array
 * (RFC 8259), and the writer of JSON strings and numbers; used by the thresh
 * command and by threshd (src/common: shared by the programs, not public API).
 *
 * The command reads comments as JSON objects (`check --json`, `train
 * --jsonl`). json_object_parse() checks the whole text and calls back once
 * per member of the top-level object, with strings decoded to UTF-8
 * (escapes, \uXXXX and surrogate pairs included). Nested objects and arrays
 * are checked and reported by type, and handed over as written (to be
 * parsed on their own). json_array_parse() does the same for the elements
 * of one array (`train --wp-json`: a page of WordPress's REST API). A
 * leading UTF-8 byte order mark is skipped. Anything malformed is refused
 * with a message and the byte offset where it went wrong. */
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
 * NULL. raw is the value as written in the text (a nested object or array
 * whole, checked already, to parse on its own). */
struct json_member {
	const char *key;
	size_t key_len;
	enum json_type type;
	const char *str;
	size_t str_len;
	const char *raw;
	size_t raw_len;
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

/* An element callback gets each element of the top-level array as written
 * (text[0..len), at offset `at` of the whole) and its type; it returns 0 to
 * go on, or non-zero (having written its own reason into why) to stop. */
typedef int (*json_element_fn)(const char *text, size_t len, size_t at, enum json_type type,
                               void *ctx, char *why, size_t whysize);

/* json_array_parse - parse text[0..len) as exactly one JSON array,
 * surrounded by nothing but white space (a leading UTF-8 byte order mark is
 * skipped), and call fn (when not NULL) once per element: a page of a REST
 * API's results, for instance, each element then read on its own with
 * json_object_parse. Every element is checked before the next one is given.
 * Returns as json_object_parse: 0, -1 malformed (why, *errpos), -2 the
 * callback stopped it (*errpos: the element's offset), -3 out of memory. */
int json_array_parse(const char *text, size_t len, json_element_fn fn, void *ctx, char *why,
                     size_t whysize, size_t *errpos);

/* json_type_name - "string", "number", ... for messages. */
const char *json_type_name(enum json_type t);

/* json_put_string - s[0..n) as a JSON string, quotes included: '"', '\\'
 * and control characters escaped, everything else as it is. */
void json_put_string(struct sbuf *b, const char *s, size_t n);
/* json_put_double - the shortest text that reads back as v (fmt_double);
 * null when v is not finite. */
void json_put_double(struct sbuf *b, double v);

#endif
