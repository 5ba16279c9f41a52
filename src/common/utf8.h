/* utf8.h - UTF-8: the one validator, encoder and repairer of the project.
 *
 * Part of src/common (see README there): compiled into libthresh, where it
 * checks every field a comment is given, into the programs, where the JSON
 * reader and threshd check their input with it, and into mod_thresh, which
 * repairs form fields before it scores them. Not public API.
 *
 * Well-formed means RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF. NUL is well-formed UTF-8; callers that refuse it say so. */
#ifndef THRESH_COMMON_UTF8_H
#define THRESH_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* utf8_seq - the length (1 to 4) of the well-formed sequence that starts at
 * s[0], of the n > 0 bytes there, or 0 when none starts there. Cannot fail. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* utf8_check - 1 when s[0..n) is well-formed, else 0 with *bad (when not
 * NULL) the offset of the first byte that starts no sequence. Cannot fail. */
int utf8_check(const unsigned char *s, size_t n, size_t *bad);

/* utf8_put - encode code point cp into out (room for 4 bytes); a surrogate
 * or a value past U+10FFFF is encoded as U+FFFD. Returns the bytes written. */
size_t utf8_put(uint32_t cp, unsigned char out[4]);

/* utf8_repair - copy s[0..n) into out (room for cap bytes), every byte that
 * starts no well-formed sequence, and every NUL, replaced by U+FFFD, cut
 * before the first character that would not fit. Returns the bytes written;
 * out is not NUL-terminated. Cannot fail. */
size_t utf8_repair(const unsigned char *s, size_t n, unsigned char *out, size_t cap);

#endif
