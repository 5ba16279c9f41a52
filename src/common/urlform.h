/* urlform.h - the escapes of application/x-www-form-urlencoded bodies.
 * Part of src/common; not public API. threshd's form parser and mod_thresh
 * both decode forms with it. */
#ifndef THRESH_COMMON_URLFORM_H
#define THRESH_COMMON_URLFORM_H

#include <stddef.h>

/* urlform_decode - decode src[0..n) of a form into dst, which has room for
 * n + 1 bytes (decoding never lengthens): '+' becomes a space, %XX the byte
 * XX. A '%' not followed by two hex digits is an error when strict (returns
 * -1, its offset in *bad when bad is not NULL) and stays as written
 * otherwise. Returns the decoded length; dst is NUL-terminated (the value
 * itself may hold NUL bytes).
 *   "Ann+Lee"    "Ann Lee"
 *   "caf%C3%A9"  "caf\xc3\xa9"
 *   "100%"       -1 at 3 when strict, "100%" when not */
long urlform_decode(const char *src, size_t n, char *dst, int strict, size_t *bad);

#endif
