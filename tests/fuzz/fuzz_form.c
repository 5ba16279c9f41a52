/* fuzz_form - threshd's application/x-www-form-urlencoded decoder
 * (src/daemon/form.c) against any body.
 *
 * Checked: form_parse returns one of the FORM_* codes; an accepted body has
 * at most FORM_MAX_FIELDS fields, each with a non-empty name, name and value
 * NUL-terminated at their lengths; and the fields, percent-encoded back into
 * a body, decode to exactly the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "threshd.h"

#include "fuzz_util.h"

static size_t encode(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	return o;
}

static int want_some(const char *name, size_t len)
{
	return len == 1 && name[0] >= 'a' && name[0] <= 'h' ? name[0] - 'a' : -1;
}

/* lenient - form_parse_lenient never refuses, keeps at most max + 8
 * fields, each named, and every value decodes into well-formed UTF-8
 * without NUL, in windows-1252 and as UTF-8. */
static void lenient(const uint8_t *data, size_t size)
{
	struct form f;
	struct charset cs[2];
	unsigned char out[3 * 64 + 4];
	charset_lookup("utf-8", 5, &cs[0]);
	charset_lookup("latin1", 6, &cs[1]);
	int rc = form_parse_lenient((const char *)data, size, &f, 16, want_some);
	FUZZ_CHECK(rc == FORM_OK || rc == FORM_NOMEM, "form_parse_lenient returned %d", rc);
	if (rc != FORM_OK)
		return;
	FUZZ_CHECK(f.n <= 16 + 8, "%zu fields kept", f.n);
	for (size_t i = 0; i < f.n; i++) {
		FUZZ_CHECK(f.f[i].name_len > 0, "field %zu has an empty name", i);
		for (int k = 0; k < 2; k++) {
			size_t n = f.f[i].value_len < 64 ? f.f[i].value_len : 64;
			size_t o = charset_to_utf8(&cs[k], (const unsigned char *)f.f[i].value, n, out,
			                           sizeof out, NULL, NULL);
			FUZZ_CHECK(utf8_check(out, o, NULL) && !memchr(out, 0, o),
			           "field %zu: not UTF-8 without NUL after decoding", i);
		}
	}
	form_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f, g;
	char why[200];
	lenient(data, size);
	int rc = form_parse((const char *)data, size, &f, why, sizeof why);
	FUZZ_CHECK(rc == FORM_OK || rc == FORM_MALFORMED || rc == FORM_TOO_MANY || rc == FORM_NOMEM,
	           "form_parse returned %d", rc);
	if (rc != FORM_OK)
		return 0;
	FUZZ_CHECK(f.n <= FORM_MAX_FIELDS, "%zu fields", f.n);
	size_t cap = 1;
	for (size_t i = 0; i < f.n; i++) {
		FUZZ_CHECK(f.f[i].name_len > 0, "field %zu has an empty name", i);
		FUZZ_CHECK(f.f[i].name[f.f[i].name_len] == '\0' && f.f[i].value[f.f[i].value_len] == '\0',
		           "field %zu is not NUL-terminated at its length", i);
		cap += 3 * (f.f[i].name_len + f.f[i].value_len) + 2;
	}
	char *body = malloc(cap);
	FUZZ_CHECK(body != NULL, "out of memory");
	size_t o = 0;
	for (size_t i = 0; i < f.n; i++) {
		if (i)
			body[o++] = '&';
		o += encode(body + o, f.f[i].name, f.f[i].name_len);
		body[o++] = '=';
		o += encode(body + o, f.f[i].value, f.f[i].value_len);
	}
	rc = form_parse(body, o, &g, why, sizeof why);
	FUZZ_CHECK(rc == FORM_OK, "re-encoded fields do not parse: %s", why);
	FUZZ_CHECK(g.n == f.n, "%zu fields became %zu", f.n, g.n);
	for (size_t i = 0; i < f.n; i++)
		FUZZ_CHECK(g.f[i].name_len == f.f[i].name_len && g.f[i].value_len == f.f[i].value_len &&
		               !memcmp(g.f[i].name, f.f[i].name, f.f[i].name_len) &&
		               !memcmp(g.f[i].value, f.f[i].value, f.f[i].value_len),
		           "field %zu changed in the round trip", i);
	form_free(&g);
	form_free(&f);
	free(body);
	return 0;
}
