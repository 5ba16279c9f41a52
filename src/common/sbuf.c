/* sbuf.c - a string that grows as it is written (see sbuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void sb_init(struct sbuf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void sb_free(struct sbuf *b)
{
	free(b->p);
	sb_init(b);
}

/* reserve - room for n more bytes and a NUL; 0 or -1 (oom set). */
static int reserve(struct sbuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->cap - b->len > n)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len <= n) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		sb_putn(b, small, (size_t)n);
		return;
	}
	if (reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *sb_take(struct sbuf *b)
{
	if (!b->oom && !b->p)
		sb_putn(b, "", 0);
	if (b->oom) {
		sb_free(b);
		return NULL;
	}
	char *p = b->p;
	sb_init(b);
	return p;
}
