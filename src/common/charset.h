/* charset.h - text in a declared character set, made UTF-8.
 *
 * Part of src/common (see README there), for the programs: threshd decodes
 * an Akismet form by the charset its client declares (Content-Type's
 * charset parameter, or the blog_charset field), as WordPress sites in
 * ISO-8859-1 send their comments in that charset. Not public API.
 *
 * Decoding never fails: a byte that is not valid in the charset, and every
 * NUL, becomes U+FFFD, and the text is cut at a character boundary when it
 * does not fit. Labels are read as the WHATWG Encoding Standard reads them
 * (what browsers send forms in): "ISO-8859-1", "latin1" and "US-ASCII" mean
 * windows-1252; UTF-8 and windows-1252 are decoded here, any other label
 * with iconv(3) when the C library knows it, and as UTF-8 otherwise. */
#ifndef THRESH_COMMON_CHARSET_H
#define THRESH_COMMON_CHARSET_H

#include <stddef.h>

enum charset_kind {
	CHARSET_UTF8 = 0,     /* also every label not known at all */
	CHARSET_WINDOWS_1252, /* also ISO-8859-1, Latin-1, US-ASCII */
	CHARSET_ICONV,        /* another charset iconv(3) knows: name */
};

struct charset {
	enum charset_kind kind;
	char name[48]; /* the label as given, for iconv */
};

/* charset_lookup - the charset that label[0..n) names (surrounding spaces
 * and quotes ignored, case ignored). Returns 1 when the label is known (to
 * this file or to iconv), else 0 with *cs set to UTF-8. Cannot fail. */
int charset_lookup(const char *label, size_t n, struct charset *cs);

/* charset_to_utf8 - s[0..n) in charset cs into out (room for cap bytes) as
 * well-formed UTF-8 without NUL: invalid bytes become U+FFFD, and the text
 * is cut before the first character that does not fit. Returns the bytes
 * written (out is not NUL-terminated); *repaired (may be NULL) gets the
 * number of bytes replaced, *cut (may be NULL) 1 when the text was cut. A
 * UTF-8 result never needs more than 3 * n bytes. Cannot fail. */
size_t charset_to_utf8(const struct charset *cs, const unsigned char *s, size_t n,
                       unsigned char *out, size_t cap, size_t *repaired, int *cut);

#endif
