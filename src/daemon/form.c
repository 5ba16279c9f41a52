/* form.c - application/x-www-form-urlencoded bodies (the WHATWG URL
 * standard's parser, made strict about escapes).
 *
 *   comment_author=Ann+Lee&comment_content=caf%C3%A9&blog=https%3A%2F%2Fx.example
 *
 * gives three fields: comment_author = "Ann Lee", comment_content = "café",
 * blog = "https://x.example". Names and values are decoded into one buffer
 * as large as the body (decoding never lengthens), each NUL-terminated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threshd.h"
#include "urlform.h"

/* A name=value pair of a body, not yet decoded. */
struct pair {
	const char *name, *value;
	size_t name_len, value_len;
};

/* next_pair - the next non-empty pair of body[*at..len) into p ('&' ends a
 * pair; one without '=' has an empty value), *at moved past it. Returns 0
 * when there is none left. */
static int next_pair(const char *body, size_t len, size_t *at, struct pair *p)
{
	while (*at <= len) {
		const char *seg = body + *at;
		size_t rest = len - *at;
		const char *amp = rest ? memchr(seg, '&', rest) : NULL;
		size_t slen = amp ? (size_t)(amp - seg) : rest;
		*at += slen + 1;
		if (!slen)
			continue;
		const char *eq = memchr(seg, '=', slen);
		p->name = seg;
		p->name_len = eq ? (size_t)(eq - seg) : slen;
		p->value = eq ? eq + 1 : seg + slen;
		p->value_len = eq ? slen - p->name_len - 1 : 0;
		return 1;
	}
	return 0;
}

int form_parse(const char *body, size_t len, struct form *out, char *why, size_t whysize)
{
	size_t nfields = 0, pos = 0, at = 0;
	memset(out, 0, sizeof *out);
	/* Empty fields are skipped and more than FORM_MAX_FIELDS others are an
	 * error, so the table never needs more slots than that; each field
	 * decodes into at most its own length plus two NULs. */
	for (size_t i = 0; i <= len && nfields <= FORM_MAX_FIELDS; i++)
		if (i == len || body[i] == '&')
			nfields++;
	if (nfields > FORM_MAX_FIELDS)
		nfields = FORM_MAX_FIELDS;
	if (!(out->buf = malloc(len + 2 * nfields + 1)) ||
	    !(out->f = calloc(nfields ? nfields : 1, sizeof *out->f))) {
		form_free(out);
		snprintf(why, whysize, "out of memory");
		return FORM_NOMEM;
	}
	char *o = out->buf;
	struct pair p;
	size_t next = 0;
	while (next_pair(body, len, &next, &p)) {
		if (out->n >= FORM_MAX_FIELDS) {
			snprintf(why, whysize, "more than %d fields", FORM_MAX_FIELDS);
			form_free(out);
			return FORM_TOO_MANY;
		}
		struct form_field *f = &out->f[out->n];
		long d;
		if (p.name_len == 0) {
			snprintf(why, whysize, "a field without a name at byte %zu", (size_t)(p.name - body));
			form_free(out);
			return FORM_MALFORMED;
		}
		if ((d = urlform_decode(p.name, p.name_len, o, 1, &at)) < 0) {
			pos = (size_t)(p.name - body) + at;
			goto bad_escape;
		}
		f->name = o;
		f->name_len = (size_t)d;
		o += d + 1;
		if ((d = urlform_decode(p.value, p.value_len, o, 1, &at)) < 0) {
			pos = (size_t)(p.value - body) + at;
			goto bad_escape;
		}
		f->value = o;
		f->value_len = (size_t)d;
		o += d + 1;
		out->n++;
	}
	return FORM_OK;
bad_escape:
	snprintf(why, whysize, "a '%%' not followed by two hex digits at byte %zu", pos);
	form_free(out);
	return FORM_MALFORMED;
}

int form_parse_lenient(const char *body, size_t len, struct form *out, size_t max,
                       int (*want)(const char *name, size_t len))
{
	unsigned char seen[FORM_WANT_MAX];
	/* The fields kept: no more than the body's pairs (one more than its
	 * '&'), nor than max and, past them, one of each wanted name. */
	size_t slots = 1;
	for (const char *p = body, *end = body + len; (p = memchr(p, '&', (size_t)(end - p))); p++)
		slots++;
	if (slots > max + FORM_WANT_MAX)
		slots = max + FORM_WANT_MAX;
	memset(out, 0, sizeof *out);
	memset(seen, 0, sizeof seen);
	/* Every kept field decodes into at most its own length plus two NULs;
	 * a name decoded and then dropped is overwritten by the next one. */
	if (!(out->buf = malloc(len + 2 * slots + 1)) || !(out->f = malloc(slots * sizeof *out->f))) {
		form_free(out);
		return FORM_NOMEM;
	}
	char *o = out->buf;
	struct pair p;
	size_t next = 0;
	while (next_pair(body, len, &next, &p)) {
		if (p.name_len == 0) {
			out->dropped++;
			continue;
		}
		size_t dn = (size_t)urlform_decode(p.name, p.name_len, o, 0, NULL);
		int w = want ? want(o, dn) : -1;
		if (w >= FORM_WANT_MAX)
			w = -1;
		/* Past max fields, only the first of each wanted name. */
		if (out->n >= max && (w < 0 || seen[w])) {
			out->dropped++;
			continue;
		}
		if (w >= 0)
			seen[w] = 1;
		struct form_field *f = &out->f[out->n++];
		f->name = o;
		f->name_len = dn;
		o += dn + 1;
		f->value = o;
		f->value_len = (size_t)urlform_decode(p.value, p.value_len, o, 0, NULL);
		o += f->value_len + 1;
	}
	return FORM_OK;
}

const struct form_field *form_get(const struct form *f, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < f->n; i++)
		if (f->f[i].name_len == n && !memcmp(f->f[i].name, name, n))
			return &f->f[i];
	return NULL;
}

size_t form_count(const struct form *f, const char *name)
{
	size_t n = strlen(name), k = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->f[i].name_len == n && !memcmp(f->f[i].name, name, n))
			k++;
	return k;
}

void form_free(struct form *f)
{
	free(f->buf);
	free(f->f);
	memset(f, 0, sizeof *f);
}
