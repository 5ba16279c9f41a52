/* num.c - numbers as text (see num.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

int parse_double(const char *s, double *out)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t max, uint64_t *out)
{
	char buf[32];
	size_t n = s ? strlen(s) : 0;
	uint64_t mul = 1, v;
	if (!n || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n + 1);
	if (buf[n - 1] == 'k' || buf[n - 1] == 'K')
		mul = 1024, buf[--n] = '\0';
	else if (buf[n - 1] == 'm' || buf[n - 1] == 'M')
		mul = 1024 * 1024, buf[--n] = '\0';
	if (parse_u64(buf, 1, max, &v) || v > max / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "on", "true", "1"};
	static const char *const no[] = {"no", "off", "false", "0"};
	for (size_t i = 0; s && i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcmp(s, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

const char *fmt_double(char *buf, size_t size, double v)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

const char *fmt_fixed(char *buf, size_t size, double v, int prec)
{
	static const double scale[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
	static const uint64_t unit[10] = {1,      10,      100,      1000,      10000,
	                                  100000, 1000000, 10000000, 100000000, 1000000000};
	if (prec >= 0 && prec <= 9 && size >= 32 && v >= 0 && !signbit(v) && v < 1e15 / scale[prec]) {
		/* t is the exact product v * 10^prec rounded once, and rounding
		 * is monotonic, and k + 1/2 is a double (t < 2^50): t's fraction
		 * is below one half exactly when the product's is, above exactly
		 * when the product's is, so t rounds to the whole printf rounds
		 * the product to. At one half it could be either: snprintf. */
		double t = v * scale[prec], k = floor(t), f = t - k;
		if (f != 0.5) {
			uint64_t r = (uint64_t)k + (f > 0.5), whole = r / unit[prec];
			char digits[24];
			size_t n = 0, o = 0;
			do
				digits[n++] = (char)('0' + whole % 10);
			while ((whole /= 10) != 0);
			while (n)
				buf[o++] = digits[--n];
			if (prec) {
				uint64_t part = r % unit[prec];
				buf[o++] = '.';
				for (int i = prec - 1; i >= 0; i--, part /= 10)
					buf[o + (size_t)i] = (char)('0' + part % 10);
				o += (size_t)prec;
			}
			buf[o] = '\0';
			return buf;
		}
	}
	snprintf(buf, size, "%.*f", prec, v);
	return buf;
}
