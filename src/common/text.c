/* text.c - text made safe to show (see text.h). */
#include <string.h>

#include "text.h"

const char *printable(const char *s, size_t n, char *buf, size_t size, unsigned flags)
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
		int bad = c < 0x20 || c == 0x7f;
		if (flags & PRINT_ASCII)
			bad = bad || c > 0x7f || c == '"' || c == '\\';
		buf[o++] = bad ? '?' : (char)c;
	}
	buf[o] = '\0';
	return buf;
}
