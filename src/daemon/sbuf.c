/* sbuf.c - a growable string, JSON writing, and the small text helpers the
 * daemon's replies need. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threshd.h"

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
	if (n < 0)
		return;
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

void sb_json_string(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	sb_putn(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[6];
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7f) {
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
		} else
			continue;
		sb_putn(b, s + start, i - start);
		if (esc)
			sb_puts(b, esc);
		else
			sb_putn(b, u, 6);
		start = i + 1;
	}
	sb_putn(b, s + start, n - start);
	sb_putn(b, "\"", 1);
}

void sb_json_double(struct sbuf *b, double v)
{
	char buf[40];
	sb_puts(b, json_fmt_double(buf, sizeof buf, v));
}

const char *printable(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;
	if (!size)
		return buf;
	for (size_t i = 0; i < n; i++) {
		if (o + 4 >= size) {
			if (size >= 4) {
				memcpy(buf + (size - 4), "...", 3);
				o = size - 1;
			}
			break;
		}
		unsigned char c = (unsigned char)s[i];
		buf[o++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	buf[o] = '\0';
	return buf;
}

