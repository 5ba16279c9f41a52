/* text.h - text made safe to show. Part of src/common; not public API. */
#ifndef THRESH_COMMON_TEXT_H
#define THRESH_COMMON_TEXT_H

#include <stddef.h>

#define PRINT_ASCII 0x1u /* for a header or a log: bytes past ASCII, '"' and '\' too */

/* printable - s[0..n) made safe for a message into buf: control bytes
 * become '?' (with PRINT_ASCII also bytes past 0x7e, '"' and '\'), and a
 * text that does not fit is cut with "..." at the end. Returns buf.
 *   printable("ke\ny", 4, buf, 48, 0)           "ke?y"
 *   printable("caf\xc3\xa9", 5, buf, 48, PRINT_ASCII)  "caf??" */
const char *printable(const char *s, size_t n, char *buf, size_t size, unsigned flags);

#endif
