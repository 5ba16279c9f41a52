/* errors.h - the library's own error helpers (the codes are public:
 * thresh/error.h). */
#ifndef THRESH_ERRORS_H
#define THRESH_ERRORS_H

#include <stddef.h>

/* set_err - a one-line message into an optional buffer (NULL or size 0:
 * nothing is written). Cannot fail. */
void set_err(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* errno_code - the THRESH_E* code of an errno value from a file operation
 * (ENOENT: THRESH_ENOENT, ENOSPC: THRESH_EFULL, ...; anything unknown:
 * THRESH_EIO). Cannot fail. */
int errno_code(int e);

#endif
