/* sbuf.h - a string that grows as it is written.
 *
 * Part of src/common: one buffer for the library (thresh.conf's printed
 * form), the command and threshd (replies, JSON). Not public API.
 *
 * On allocation failure a buffer stops growing and sets oom; the writer
 * checks once at the end instead of after every call:
 *
 *   struct sbuf b;
 *   sb_init(&b);
 *   sb_printf(&b, "%s = %u\n", key, value);
 *   if (b.oom) ... else use b.p (NUL-terminated, b.len bytes) ... sb_free(&b); */
#ifndef THRESH_COMMON_SBUF_H
#define THRESH_COMMON_SBUF_H

#include <stddef.h>

struct sbuf {
	char *p;     /* NUL-terminated once anything was written; NULL before */
	size_t len, cap;
	int oom;
};

/* sb_init - an empty buffer. Cannot fail. */
void sb_init(struct sbuf *b);
/* sb_free - release it and make it empty again. */
void sb_free(struct sbuf *b);
/* sb_putn, sb_puts, sb_printf - append; on failure oom is set. */
void sb_putn(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sb_take - the text (malloc'd, NUL-terminated, "" when nothing was
 * written), the buffer left empty; NULL when oom (the buffer is freed). */
char *sb_take(struct sbuf *b);

#endif
