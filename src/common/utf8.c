/* utf8.c - UTF-8 validation, encoding and repair (see utf8.h).
 *
 *   utf8_seq("\xC3\xA9t\xC3\xA9", 5)  = 2       "é"
 *   utf8_seq("\xC0\xAF", 2)            = 0       an overlong "/"
 *   utf8_seq("\xED\xA0\x80", 3)        = 0       a surrogate
 *   utf8_repair("caf\xE9", 4, ...)     = "caf\xEF\xBF\xBD"   Latin-1 "é" */
#include <string.h>

#include "utf8.h"

size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0; /* no overlongs */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing past U+10FFFF */
	} else
		return 0;
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k <= need; k++)
		if ((s[k] & 0xC0) != 0x80)
			return 0;
	return need + 1;
}

int utf8_check(const unsigned char *s, size_t n, size_t *bad)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] < 0x80) { /* the common case, without a call */
			i++;
			continue;
		}
		size_t k = utf8_seq(s + i, n - i);
		if (!k) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += k;
	}
	return 1;
}

size_t utf8_put(uint32_t v, unsigned char e[4])
{
	if (v < 0x80) {
		e[0] = (unsigned char)v;
		return 1;
	}
	if (v < 0x800) {
		e[0] = (unsigned char)(0xC0 | (v >> 6));
		e[1] = (unsigned char)(0x80 | (v & 0x3F));
		return 2;
	}
	if (v >= 0x110000 || (v >= 0xD800 && v <= 0xDFFF))
		v = 0xFFFD;
	if (v < 0x10000) {
		e[0] = (unsigned char)(0xE0 | (v >> 12));
		e[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
		e[2] = (unsigned char)(0x80 | (v & 0x3F));
		return 3;
	}
	e[0] = (unsigned char)(0xF0 | (v >> 18));
	e[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3F));
	e[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
	e[3] = (unsigned char)(0x80 | (v & 0x3F));
	return 4;
}

size_t utf8_repair(const unsigned char *s, size_t n, unsigned char *out, size_t cap)
{
	static const unsigned char repl[] = {0xEF, 0xBF, 0xBD};
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t k = s[i] ? utf8_seq(s + i, n - i) : 0;
		const unsigned char *src = k ? s + i : repl;
		size_t len = k ? k : sizeof repl;
		if (len > cap - o)
			break;
		memcpy(out + o, src, len);
		o += len;
		i += k ? k : 1;
	}
	return o;
}
