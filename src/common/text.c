/* text.c - text made safe to show (see text.h). */
#include <string.h>

#include "text.h"

const char *printable(const char *s, size_t n, char *buf, size_t size, unsigned flags)
{
	size_t o = 0, room;
	if (!size)
		return buf;
	/* all of it when it fits; else as much as leaves room for "..." */
	int cut = n > size - 1;
	room = cut ? (size >= 4 ? size - 4 : size - 1) : n;
	for (size_t i = 0; i < room; i++) {
		unsigned char c = (unsigned char)s[i];
		int bad = c < 0x20 || c == 0x7f;
		if (flags & PRINT_ASCII)
			bad = bad || c > 0x7f || c == '"' || c == '\\';
		buf[o++] = bad ? '?' : (char)c;
	}
	if (cut && size >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
