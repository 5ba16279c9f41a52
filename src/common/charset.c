/* charset.c - text in a declared character set, made UTF-8 (charset.h). */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "utf8.h"

/* windows-1252's 0x80-0x9F; the five bytes it leaves undefined map to the
 * C1 controls of the same value, as the WHATWG Encoding Standard does. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static const char *const utf8_labels[] = {
	"utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8",
	NULL,
};

/* The WHATWG labels of windows-1252. */
static const char *const cp1252_labels[] = {
	"windows-1252", "cp1252", "x-cp1252", "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1",
	"iso_8859-1:1987", "iso-ir-100", "latin1", "l1", "cp819", "ibm819", "csisolatin1",
	"us-ascii", "ascii", "ansi_x3.4-1968", "iso-8859-1:1987", NULL,
};

static int in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcasecmp(list[i], s))
			return 1;
	return 0;
}

int charset_lookup(const char *label, size_t n, struct charset *cs)
{
	char name[sizeof cs->name];
	memset(cs, 0, sizeof *cs);
	cs->kind = CHARSET_UTF8;
	while (n && (*label == ' ' || *label == '\t' || *label == '"' || *label == '\'')) {
		label++;
		n--;
	}
	while (n && (label[n - 1] == ' ' || label[n - 1] == '\t' || label[n - 1] == '"' ||
	             label[n - 1] == '\''))
		n--;
	if (!n || n >= sizeof name)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)label[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return 0;
		name[i] = (char)c;
	}
	name[n] = '\0';
	if (in_list(utf8_labels, name))
		return 1;
	if (in_list(cp1252_labels, name)) {
		cs->kind = CHARSET_WINDOWS_1252;
		return 1;
	}
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return 0;
	iconv_close(cd);
	cs->kind = CHARSET_ICONV;
	memcpy(cs->name, name, n + 1);
	return 1;
}

/* put - code point cp at out[*o] when it fits: 1, else 0. */
static int put(uint32_t cp, unsigned char *out, size_t cap, size_t *o)
{
	unsigned char tmp[4];
	size_t k = utf8_put(cp, tmp);
	if (k > cap - *o)
		return 0;
	memcpy(out + *o, tmp, k);
	*o += k;
	return 1;
}

static size_t from_utf8(const unsigned char *s, size_t n, unsigned char *out, size_t cap,
                        size_t *repaired, int *cut)
{
	/* Nearly every field a client sends is well-formed, without NUL, and
	 * fits: copied whole, it is not walked a character at a time. */
	if (n <= cap && !memchr(s, 0, n) && utf8_check(s, n, NULL)) {
		memcpy(out, s, n);
		return n;
	}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);
		if (k && s[i] != 0) {
			if (k > cap - o) {
				*cut = 1;
				break;
			}
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (!put(0xFFFD, out, cap, &o)) {
			*cut = 1;
			break;
		}
		(*repaired)++;
		i++;
	}
	return o;
}

static size_t from_cp1252(const unsigned char *s, size_t n, unsigned char *out, size_t cap,
                          size_t *repaired, int *cut)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t cp = s[i];
		if (cp >= 0x80 && cp < 0xA0)
			cp = cp1252_high[cp - 0x80];
		else if (cp == 0) {
			cp = 0xFFFD;
			(*repaired)++;
		}
		if (!put(cp, out, cap, &o)) {
			*cut = 1;
			break;
		}
	}
	return o;
}

/* from_iconv - through iconv(3) into a scratch buffer, invalid bytes as
 * U+FFFD, then through from_utf8 (which takes out NUL and cuts). Returns
 * (size_t)-1 when iconv cannot be used, for the caller to read UTF-8. */
static size_t from_iconv(const char *name, const unsigned char *s, size_t n, unsigned char *out,
                         size_t cap, size_t *repaired, int *cut)
{
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return (size_t)-1;
	/* 4 bytes of UTF-8 per input byte is more than any charset needs. */
	size_t tcap = n > (SIZE_MAX - 16) / 4 ? 0 : 4 * n + 16;
	char *tmp = tcap ? malloc(tcap) : NULL;
	if (!tmp) {
		iconv_close(cd);
		return (size_t)-1;
	}
	char *in = (char *)(uintptr_t)s, *op = tmp;
	size_t inleft = n, outleft = tcap;
	while (inleft) {
		if (iconv(cd, &in, &inleft, &op, &outleft) != (size_t)-1)
			break;
		if (errno == E2BIG || outleft < 3)
			break;
		/* EILSEQ or EINVAL (a sequence cut at the end): U+FFFD, next byte */
		memcpy(op, "\xEF\xBF\xBD", 3);
		op += 3;
		outleft -= 3;
		in++;
		inleft--;
		(*repaired)++;
		iconv(cd, NULL, NULL, NULL, NULL); /* back to the initial state */
	}
	iconv_close(cd);
	size_t o = from_utf8((const unsigned char *)tmp, (size_t)(op - tmp), out, cap, repaired, cut);
	if (inleft)
		*cut = 1;
	free(tmp);
	return o;
}

size_t charset_to_utf8(const struct charset *cs, const unsigned char *s, size_t n,
                       unsigned char *out, size_t cap, size_t *repaired, int *cut)
{
	size_t rep = 0, o;
	int c = 0;
	o = (size_t)-1;
	if (cs && cs->kind == CHARSET_WINDOWS_1252)
		o = from_cp1252(s, n, out, cap, &rep, &c);
	else if (cs && cs->kind == CHARSET_ICONV)
		o = from_iconv(cs->name, s, n, out, cap, &rep, &c);
	if (o == (size_t)-1)
		o = from_utf8(s, n, out, cap, &rep, &c);
	if (repaired)
		*repaired = rep;
	if (cut)
		*cut = c;
	return o;
}
