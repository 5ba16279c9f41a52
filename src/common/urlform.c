/* urlform.c - see urlform.h. */
#include "urlform.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long urlform_decode(const char *src, size_t n, char *dst, int strict, size_t *bad)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		int h, l;
		if (c == '+') {
			dst[o++] = ' ';
		} else if (c == '%' && n - i >= 3 && (h = hexval((unsigned char)src[i + 1])) >= 0 &&
		           (l = hexval((unsigned char)src[i + 2])) >= 0) {
			dst[o++] = (char)(h * 16 + l);
			i += 2;
		} else if (c == '%' && strict) {
			if (bad)
				*bad = i;
			dst[o] = '\0';
			return -1;
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return (long)o;
}
