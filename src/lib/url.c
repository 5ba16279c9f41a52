/* url.c - URLs, host names and registered domains, over the code points
 * of normalized (case-folded) text or the bytes of a URL token. Pure
 * functions: the tokenizer decides which tokens they make (see url.h). */
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "url.h"

size_t url_host_run(const int32_t *u, size_t n, size_t i, size_t *dots, size_t *last)
{
	size_t j = i;
	*dots = 0;
	*last = i;
	for (;;) {
		while (j < n && url_label_char(u[j]))
			j++;
		if (j > *last && j + 1 < n && u[j] == '.' && url_label_char(u[j + 1])) {
			(*dots)++;
			*last = ++j;
			continue;
		}
		return j;
	}
}

bool url_alpha_label(const int32_t *u, size_t i, size_t j)
{
	if (j - i < 2 || j - i > 24)
		return false;
	for (; i < j; i++)
		if (u[i] < 'a' || u[i] > 'z')
			return false;
	return true;
}

/* Top-level domains that make a bare "name.tld" a link. Two-letter country
 * codes that are also common words after a missing space ("end.It", "up.to")
 * are left out. Sorted, for bsearch. */
static const char *const tlds[] = {
	"ae", "app", "ar", "art", "asia", "au", "bd", "bid", "biz", "blog", "br", "buzz",
	"ca", "cam", "cc", "cf", "ch", "cl", "click", "club", "cn", "co", "com", "cyou",
	"cz", "date", "de", "dev", "dk", "download", "edu", "eg", "email", "es", "eu", "fi",
	"fr", "fun", "ga", "gdn", "gl", "gov", "gq", "gr", "hk", "hu", "icu", "ie", "il",
	"in", "info", "io", "ir", "jp", "ke", "kr", "kz", "link", "live", "lk", "loan",
	"lt", "lv", "ly", "me", "men", "ml", "mobi", "mx", "net", "news", "ng", "nl", "nz",
	"online", "org", "party", "pe", "ph", "pk", "pl", "pro", "pt", "pw", "review",
	"ro", "rs", "ru", "sa", "se", "sg", "shop", "site", "sk", "space", "store",
	"stream", "su", "tech", "th", "tk", "top", "tr", "tv", "tw", "ua", "uk", "vip",
	"vn", "website", "win", "work", "world", "ws", "xyz", "za",
};

static int tld_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, *(const char *const *)b);
}

bool url_known_tld(const int32_t *u, size_t i, size_t j)
{
	char s[16];
	if (!url_alpha_label(u, i, j) || j - i >= sizeof s)
		return false;
	for (size_t k = i; k < j; k++)
		s[k - i] = (char)u[k];
	s[j - i] = '\0';
	return bsearch(s, tlds, sizeof tlds / sizeof tlds[0], sizeof tlds[0], tld_cmp) != NULL;
}

bool url_lit(const int32_t *u, size_t n, size_t i, const char *lit)
{
	for (; *lit; lit++, i++)
		if (i >= n || u[i] != (unsigned char)*lit)
			return false;
	return true;
}

size_t url_trim(const int32_t *u, size_t s, size_t e)
{
	size_t open = 0, close = 0, sopen = 0, sclose = 0;
	for (size_t k = s; k < e; k++) {
		open += u[k] == '(';
		close += u[k] == ')';
		sopen += u[k] == '[';
		sclose += u[k] == ']';
	}
	while (e > s) {
		int32_t c = u[e - 1];
		if (c < 0x80 && strchr(".,;:!?*", (int)c) && c != 0)
			e--;
		else if (c == ')' && close > open)
			e--, close--;
		else if (c == ']' && sclose > sopen)
			e--, sclose--;
		else
			break;
	}
	return e;
}

bool url_host_span(const char *s, size_t n, size_t *a, size_t *b)
{
	size_t i = 0, e, k;
	for (k = 0; k < n && k < 32; k++) {
		char c = s[k];
		if (c == ':') {
			if (k > 0 && k + 2 < n && s[k + 1] == '/' && s[k + 2] == '/')
				i = k + 3;
			break;
		}
		if (!a_alnum(c) && c != '+' && c != '-' && c != '.')
			break;
	}
	if (i == 0 && n >= 2 && s[0] == '/' && s[1] == '/')
		i = 2;
	for (e = i; e < n; e++)
		if (s[e] == '/' || s[e] == '?' || s[e] == '#' || s[e] == '\\' || a_space(s[e]))
			break;
	for (k = e; k > i; k--)
		if (s[k - 1] == '@') {
			i = k;
			break;
		}
	if (i < e && s[i] == '[') {
		const char *r = memchr(s + i, ']', e - i);
		if (r)
			e = (size_t)(r - s) + 1;
	} else {
		for (k = e; k > i; k--)
			if (s[k - 1] == ':') {
				e = k - 1;
				break;
			}
	}
	while (e > i && s[e - 1] == '.')
		e--;
	*a = i;
	*b = e;
	return e > i;
}

static bool generic_sld(const char *s, size_t n)
{
	static const char *const g[] = {"ac", "co", "com", "edu", "go", "gob", "gov",
	                                "ltd", "mil", "ne", "net", "or", "org", "plc"};
	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
		if (strlen(g[i]) == n && memcmp(g[i], s, n) == 0)
			return true;
	return false;
}

size_t url_regdom(const char *h, size_t n)
{
	size_t d[3], nd = 0, k;
	bool ip = true;
	for (k = 0; k < n; k++)
		if (!a_digit(h[k]) && h[k] != '.')
			ip = false;
	if (ip || (n && h[0] == '['))
		return 0;
	for (k = n; k-- > 0 && nd < 3;)
		if (h[k] == '.')
			d[nd++] = k;
	if (nd == 0)
		return 0;
	size_t s2 = nd > 1 ? d[1] + 1 : 0;
	if (n - d[0] - 1 == 2 && generic_sld(h + s2, d[0] - s2))
		return nd > 2 ? d[2] + 1 : 0;
	return s2;
}

bool url_local_char(int32_t c)
{
	return url_label_char(c) || c == '.' || c == '_' || c == '+' || c == '%';
}

