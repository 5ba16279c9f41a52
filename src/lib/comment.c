/* comment.c - the comment record: named fields, validated when set. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "comment_int.h"
#include "utf8.h"

struct field_name {
	const char *name;
	enum comment_field slot;
};

/* Our names first (comment_field_name indexes them), then Akismet's. */
static const struct field_name names[] = {
	{"content", F_CONTENT},
	{"author", F_AUTHOR},
	{"email", F_EMAIL},
	{"url", F_URL},
	{"ip", F_IP},
	{"user_agent", F_USER_AGENT},
	{"referrer", F_REFERRER},
	{"permalink", F_PERMALINK},
	{"type", F_TYPE},
	{"lang", F_LANG},
	{"honeypot", F_HONEYPOT},
	{"form_age", F_FORM_AGE},
	{"comment_content", F_CONTENT},
	{"comment_author", F_AUTHOR},
	{"comment_author_email", F_EMAIL},
	{"comment_author_url", F_URL},
	{"user_ip", F_IP},
	{"referer", F_REFERRER},
	{"comment_type", F_TYPE},
	{"blog_lang", F_LANG},
	{"comment_author_IP", F_IP},    /* WordPress's own column names */
	{"comment_agent", F_USER_AGENT},
};

const char *comment_field_name(enum comment_field f)
{
	return f < F_COUNT ? names[f].name : "?";
}

static int field_slot(const char *name)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(names[i].name, name) == 0)
			return (int)names[i].slot;
	return -1;
}

int thresh_comment_is_field(const char *name)
{
	return name && field_slot(name) >= 0;
}

int thresh_comment_new(thresh_comment **out)
{
	if (!out)
		return THRESH_EINVAL;
	thresh_comment *c = calloc(1, sizeof *c);
	if (!c)
		return THRESH_ENOMEM;
	*out = c;
	return 0;
}

void thresh_comment_free(thresh_comment *c)
{
	if (!c)
		return;
	for (int i = 0; i < F_COUNT; i++)
		free(c->val[i]);
	free(c);
}

void thresh_comment_reset(thresh_comment *c)
{
	if (!c)
		return;
	for (int i = 0; i < F_COUNT; i++) {
		free(c->val[i]);
		c->val[i] = NULL;
		c->len[i] = c->cap[i] = 0;
	}
	c->time = 0;
	c->form_age = 0;
	c->checked = 0;
}

/* parse_form_age - a decimal number of seconds >= 0, or -1. */
static double parse_form_age(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || errno || !isfinite(v) || v < 0)
		return -1;
	return v;
}

int thresh_comment_set(thresh_comment *c, const char *field, const char *value, size_t len)
{
	if (!c || !field)
		return THRESH_EINVAL;
	int slot = field_slot(field);
	if (slot < 0)
		return THRESH_EFIELD;
	if (!value) {
		free(c->val[slot]);
		c->val[slot] = NULL;
		c->len[slot] = c->cap[slot] = 0;
		c->checked &= ~(1u << slot);
		return 0;
	}
	if (len == (size_t)-1)
		len = strlen(value);
	size_t max = slot == F_CONTENT ? THRESH_CONTENT_MAX : THRESH_FIELD_MAX;
	if (len > max)
		return THRESH_ETOOBIG;
	if (memchr(value, '\0', len))
		return THRESH_ENUL;
	if (!utf8_check((const unsigned char *)value, len, NULL))
		return THRESH_EUTF8;
	double age = 0;
	if (slot == F_FORM_AGE) {
		char tmp[64];
		if (len >= sizeof tmp)
			return THRESH_EINVAL;
		memcpy(tmp, value, len);
		tmp[len] = '\0';
		if ((age = parse_form_age(tmp)) < 0)
			return THRESH_EINVAL;
	}
	if (len + 1 > c->cap[slot]) {
		char *p = realloc(c->val[slot], len + 1);
		if (!p)
			return THRESH_ENOMEM;
		c->val[slot] = p;
		c->cap[slot] = len + 1;
	}
	memcpy(c->val[slot], value, len);
	c->val[slot][len] = '\0';
	c->len[slot] = len;
	c->checked |= 1u << slot;
	if (slot == F_FORM_AGE)
		c->form_age = age;
	return 0;
}

int thresh_comment_get(const thresh_comment *c, const char *field, const char **value)
{
	if (!c || !field || !value)
		return THRESH_EINVAL;
	int slot = field_slot(field);
	if (slot < 0)
		return THRESH_EFIELD;
	*value = c->val[slot];
	return 0;
}

int thresh_comment_set_time(thresh_comment *c, int64_t t)
{
	if (!c || t < 0)
		return THRESH_EINVAL;
	c->time = t;
	return 0;
}
