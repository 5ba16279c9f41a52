/* html.h - comment HTML made plain text (see html.c for the rules). */
#ifndef THRESH_HTML_H
#define THRESH_HTML_H

#include <stddef.h>

/* html_strip - s[0..n) with character references decoded, tags dropped and
 * link targets kept, into out (room for cap bytes; the text is never longer
 * than its input, so cap >= n is enough). Returns the bytes written; out is
 * not NUL-terminated. Cannot fail. */
size_t html_strip(const unsigned char *s, size_t n, unsigned char *out, size_t cap);

#endif
