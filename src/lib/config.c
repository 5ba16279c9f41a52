/* config.c - reading, checking and printing thresh.conf. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thresh/db.h"
#include "thresh/error.h"
#include "errors.h"
#include "comment_int.h"
#include "config.h"
#include "fold.h"
#include "num.h"
#include "redis.h"
#include "sbuf.h"
#include "utf8.h"

#define CONF_LINE_MAX 4096
#define CONF_WORD_MAX 1024 /* bytes of one folded word */
#define CONF_PRINT_LINE 2048 /* a printed word list wraps onto another key line past this */

enum kind { K_NUM, K_UINT, K_BOOL, K_ACTION, K_WORDS };

/* One key of the main section. off is the offset of its field in conf;
 * min/max bound numbers. */
struct key_def {
	const char *name;
	enum kind kind;
	size_t off;
	double min, max;
	const char *help;
};

#define F(field) offsetof(conf, field)
static const struct key_def keys[] = {
	{"rate_limit", K_NUM, F(rate_limit), 0, 1e6, "comments an author may post per rate_period (0: no rate limit at all, per IP neither)"},
	{"rate_period", K_NUM, F(rate_period), 1, 86400 * 366, "seconds"},
	{"rate_burst", K_UINT, F(rate_burst), 1, 1e6, "comments an author may post at once"},
	{"ip_rate_limit", K_NUM, F(ip_rate_limit), 0, 1e6, "comments one IP address (an IPv6 /64) may post per ip_rate_period, whatever the e-mails (0: no limit)"},
	{"ip_rate_period", K_NUM, F(ip_rate_period), 1, 86400 * 366, "seconds"},
	{"ip_rate_burst", K_UINT, F(ip_rate_burst), 1, 1e6, "comments one IP address may post at once"},
	{"rate_limit_action", K_ACTION, F(rate_action), 0, 0, "hold or reject a comment over the rate"},
	{"hold_links", K_UINT, F(hold_links), 0, 1e6, "hold a comment with this many links or more (0: off)"},
	{"moderation_words", K_WORDS, F(mod_words), 0, 0, "hold a comment containing any of these"},
	{"disallowed_words", K_WORDS, F(bad_words), 0, 0, "reject a comment containing any of these"},
	{"first_comment", K_BOOL, F(first_comment), 0, 0, "hold an author's first comment unless clearly ham"},
	{"first_comment_max_score", K_NUM, F(first_comment_max_score), 0, 1, "a first comment scoring below this is clearly ham"},
	{"trust_approved", K_UINT, F(trust_approved), 0, 1e9, "approved comments that make an author trusted (0: off)"},
	{"trust_max_score", K_NUM, F(trust_max_score), 0, 1, "a trusted author's comment is not held for its score below this"},
	{"honeypot", K_BOOL, F(honeypot), 0, 0, "reject a comment whose honeypot field is filled"},
	{"min_form_seconds", K_NUM, F(min_form_seconds), 0, 86400, "hold a form submitted faster than this after it was shown (0: off)"},
	{"memory_cache", K_BOOL, F(memory_cache), 0, 0, "keep the model's counts in memory for speed (40-80 bytes a token, 16-32 a learned comment)"},
};
#undef F

conf *conf_defaults(void)
{
	conf *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	atomic_init(&c->refs, 1);
	c->rate_limit = 5;
	c->rate_period = 60;
	c->rate_burst = 3;
	/* Many honest people share one IPv4 address (an office, a school, a
	 * mobile carrier's NAT), so an address gets 4 times an author's rate
	 * and room for 3 authors' bursts at once; still, rotating e-mails from
	 * one address no longer escapes the limit. */
	c->ip_rate_limit = 20;
	c->ip_rate_period = 60;
	c->ip_rate_burst = 10;
	c->rate_action = ACT_REJECT;
	c->hold_links = 2;
	c->first_comment = 1;
	c->first_comment_max_score = 0.05;
	c->trust_approved = 1;
	c->trust_max_score = 0.9452;
	c->honeypot = 1;
	c->min_form_seconds = 3;
	c->memory_cache = 1;
	cluster_conf_defaults(&c->cl);
	return c;
}

void cluster_conf_defaults(cluster_conf *cc)
{
	memset(cc, 0, sizeof *cc);
	strcpy(cc->ns, "thresh");
	if (gethostname(cc->node, sizeof cc->node - 1) != 0 || !cc->node[0])
		strcpy(cc->node, "node");
	cc->node[sizeof cc->node - 1] = '\0';
	cc->nodes = 1;
	cc->timeout_ms = 50;
	cc->connect_timeout_ms = 100;
	cc->upload_timeout_ms = 60000;
	cc->batch = 500;
	cc->snapshot_every = 10000;
	cc->stream_max = 100000;
	cc->retain = 10000;
}

/* name_ok - a namespace or node name: 1 to 63 letters, digits, '.', '_', '-'. */
static int name_ok(const char *v)
{
	size_t n = strlen(v);
	if (!n || n >= CLUSTER_NAME_MAX)
		return 0;
	for (const char *q = v; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
		      *q == '.' || *q == '_' || *q == '-'))
			return 0;
	return 1;
}

int cluster_conf_set(cluster_conf *cc, const char *key, const char *val, char *why, size_t whysize)
{
	static const struct {
		const char *name;
		size_t off;
		uint64_t min, max;
	} nums[] = {
		{"nodes", offsetof(cluster_conf, nodes), 1, 1000},
		{"timeout", offsetof(cluster_conf, timeout_ms), 1, 60000},
		{"connect_timeout", offsetof(cluster_conf, connect_timeout_ms), 1, 60000},
		{"upload_timeout", offsetof(cluster_conf, upload_timeout_ms), 1000, 3600000},
		{"batch", offsetof(cluster_conf, batch), 1, 100000},
		{"snapshot_every", offsetof(cluster_conf, snapshot_every), 10, 100000000},
		{"stream_max", offsetof(cluster_conf, stream_max), 100, 1000000000},
		{"retain", offsetof(cluster_conf, retain), 0, 100000000},
	};
	uint64_t n;
	cc->on = 1;
	if (!strcmp(key, "redis")) {
		if (strlen(val) >= sizeof cc->redis || (strncmp(val, "unix:", 5) && !strchr(val, ':')) ||
		    !strcmp(val, "unix:")) {
			snprintf(why, whysize, "redis: expected unix:PATH or HOST:PORT, got \"%s\"", val);
			return -1;
		}
		strcpy(cc->redis, val);
		return 0;
	}
	if (!strcmp(key, "namespace") || !strcmp(key, "node")) {
		if (!name_ok(val)) {
			snprintf(why, whysize, "%s: expected 1 to %d letters, digits, '.', '_' or '-', got \"%s\"",
			         key, CLUSTER_NAME_MAX - 1, val);
			return -1;
		}
		strcpy(key[0] == 'n' && key[1] == 'a' ? cc->ns : cc->node, val);
		return 0;
	}
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (!strcmp(key, nums[i].name)) {
			if (parse_u64(val, nums[i].min, nums[i].max, &n)) {
				snprintf(why, whysize, "%s: expected a whole number from %llu to %llu%s, got \"%s\"",
				         key, (unsigned long long)nums[i].min, (unsigned long long)nums[i].max,
				         strstr(key, "timeout") ? " (milliseconds)" : "", val);
				return -1;
			}
			*(unsigned *)((char *)cc + nums[i].off) = (unsigned)n;
			return 0;
		}
	snprintf(why, whysize, "unknown key \"%s\" in [cluster] (thresh.conf(5) lists them)", key);
	return -1;
}

conf *conf_ref(conf *c)
{
	if (c)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void conf_unref(conf *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	free_list(c->mod_words, c->n_mod);
	free_list(c->bad_words, c->n_bad);
	free_list(c->ext, c->n_ext);
	free(c->path);
	free(c);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int push(char ***v, size_t *n, char *s)
{
	char **p = realloc(*v, (*n + 1) * sizeof **v);
	if (!p) {
		free(s);
		return THRESH_ENOMEM;
	}
	p[(*n)++] = s;
	*v = p;
	return 0;
}

struct parse {
	const char *path;
	size_t line;
	char *errbuf;
	size_t errsize;
};

static int fail(struct parse *p, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	set_err(p->errbuf, p->errsize, "%s:%zu: %s", p->path, p->line, msg);
	return THRESH_ECONFIG;
}

/* set_key - apply one "key = value" of the main section. */
static int set_key(conf *c, struct parse *p, const char *key, char *val)
{
	int pi = param_index(key);
	double d;
	if (pi >= 0) {
		if (parse_double(val, &d) || !param_valid(pi, d))
			return fail(p, "%s: expected a number in its range (see thresh_db_param_set), got \"%s\"",
			            key, val);
		c->param[pi] = d;
		c->has_param[pi] = 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key_def *k = &keys[i];
		if (strcmp(k->name, key))
			continue;
		void *field = (char *)c + k->off;
		switch (k->kind) {
		case K_NUM:
		case K_UINT:
			if (parse_double(val, &d) || d < k->min || d > k->max ||
			    (k->kind == K_UINT && d != floor(d)))
				return fail(p, "%s: expected %s from %g to %g, got \"%s\"", key,
				            k->kind == K_UINT ? "a whole number" : "a number", k->min, k->max, val);
			if (k->kind == K_NUM)
				*(double *)field = d;
			else
				*(unsigned *)field = (unsigned)d;
			return 0;
		case K_BOOL:
			if (parse_bool(val, (int *)field))
				return fail(p, "%s: expected on or off, got \"%s\"", key, val);
			return 0;
		case K_ACTION:
			if (!strcmp(val, "hold"))
				*(int *)field = ACT_HOLD;
			else if (!strcmp(val, "reject"))
				*(int *)field = ACT_REJECT;
			else
				return fail(p, "%s: expected hold or reject, got \"%s\"", key, val);
			return 0;
		case K_WORDS: {
			char ***list = field;
			size_t *n = field == &c->mod_words ? &c->n_mod : &c->n_bad;
			/* Fold the whole value first, then split: a fullwidth comma
			 * folds to ',' and separates words like any other. */
			char *folded = fold_dup(val, strlen(val));
			if (!folded)
				return fail(p, "%s: not valid UTF-8", key);
			int rc = 0;
			for (char *save = NULL, *w = strtok_r(folded, ",", &save); w && !rc;
			     w = strtok_r(NULL, ",", &save)) {
				w = trim(w);
				if (!*w)
					continue; /* empty, or only characters that fold to nothing */
				if (*w == '#' || strstr(w, " #"))
					rc = fail(p, "%s: a word may not start with '#' or hold \" #\" (they start a comment)",
					          key);
				else if (strlen(w) > CONF_WORD_MAX)
					rc = fail(p, "%s: a word longer than %d bytes", key, CONF_WORD_MAX);
				else {
					char *copy = strdup(w);
					rc = copy ? push(list, n, copy) : THRESH_ENOMEM;
				}
			}
			free(folded);
			return rc;
		}
		}
	}
	return fail(p, "unknown key \"%s\" (see `thresh config` for the keys)", key);
}

int conf_load(const char *path, conf **out, char *errbuf, size_t errsize)
{
	struct parse p = {path, 0, errbuf, errsize};
	char line[CONF_LINE_MAX + 2], section[64] = "";
	int rc = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		set_err(errbuf, errsize, "%s: %s", path, strerror(e));
		return e == ENOENT ? THRESH_ENOENT : e == EACCES ? THRESH_EACCES : THRESH_EIO;
	}
	conf *c = conf_defaults();
	if (!c || !(c->path = strdup(path))) {
		rc = THRESH_ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof line, f)) {
		p.line++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			rc = fail(&p, "line longer than %d bytes", CONF_LINE_MAX);
			goto out;
		}
		if (memchr(line, '\0', n) != NULL && strlen(line) != n) {
			rc = fail(&p, "a NUL byte");
			goto out;
		}
		if (!utf8_check((const unsigned char *)line, n, NULL)) {
			rc = fail(&p, "not valid UTF-8");
			goto out;
		}
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1] || e - s - 1 <= 0 || (size_t)(e - s - 1) >= sizeof section) {
				rc = fail(&p, "expected a section header \"[name]\"");
				goto out;
			}
			memcpy(section, s + 1, (size_t)(e - s - 1));
			section[e - s - 1] = '\0';
			for (char *q = section; *q; q++)
				if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
				      (*q >= '0' && *q <= '9') || *q == '_' || *q == '-')) {
					rc = fail(&p, "a section name has letters, digits, '_' and '-' only");
					goto out;
				}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = fail(&p, "expected \"key = value\"");
			goto out;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		if (!*key) {
			rc = fail(&p, "a value without a key");
			goto out;
		}
		/* a value may carry a trailing comment after " #" */
		char *hash = *val == '#' ? val : strstr(val, " #");
		if (hash) {
			*hash = '\0';
			val = trim(val);
		}
		if (section[0]) {
			char *k = malloc(strlen(section) + strlen(key) + 2), *v = strdup(val);
			if (!k || !v) {
				free(k);
				free(v);
				rc = THRESH_ENOMEM;
				goto out;
			}
			sprintf(k, "%s.%s", section, key);
			if (!strcmp(section, "cluster")) {
				char why[300];
				if (cluster_conf_set(&c->cl, key, val, why, sizeof why)) {
					free(k);
					free(v);
					rc = fail(&p, "[cluster] %s", why);
					goto out;
				}
			}
			if ((rc = push(&c->ext, &c->n_ext, k))) {
				free(v);
				goto out;
			}
			if ((rc = push(&c->ext, &c->n_ext, v)))
				goto out;
			continue;
		}
		if ((rc = set_key(c, &p, key, val)))
			goto out;
	}
	if (ferror(f))
		rc = THRESH_EIO;
	if (!rc && c->cl.on && !redis_available()) {
		p.line = 0;
		rc = fail(&p, "[cluster]: this libthresh was built without Redis support (hiredis): "
		              "rebuild it with hiredis (meson -Dredis=enabled), or remove the section");
	}
	if (!rc && c->cl.on && !c->cl.redis[0]) {
		p.line = 0;
		rc = fail(&p, "[cluster]: redis = unix:PATH or HOST:PORT is needed");
	}
	if (!rc && c->has_param[P_HOLD] && c->has_param[P_REJECT] &&
	    c->param[P_HOLD] > c->param[P_REJECT]) {
		p.line = 0;
		rc = fail(&p, "hold_cutoff is above reject_cutoff");
	}
out:
	fclose(f);
	if (rc) {
		conf_unref(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---------- printing ---------- */

/* format_value - key k's value as text. */
static void format_value(struct sbuf *b, const conf *c, const struct key_def *k)
{
	const void *field = (const char *)c + k->off;
	switch (k->kind) {
	case K_NUM: {
		char num[40];
		sb_printf(b, "%s", fmt_double(num, sizeof num, *(const double *)field));
		break;
	}
		break;
	case K_UINT:
		sb_printf(b, "%u", *(const unsigned *)field);
		break;
	case K_BOOL:
		sb_printf(b, "%s", *(const int *)field ? "on" : "off");
		break;
	case K_ACTION:
		sb_printf(b, "%s", *(const int *)field == ACT_HOLD ? "hold" : "reject");
		break;
	case K_WORDS: {
		/* Long lists go on several lines of the same key, so the printed
		 * configuration always reads back within the line limit. */
		char *const *v = *(char *const *const *)field;
		size_t n = field == &c->mod_words ? c->n_mod : c->n_bad, width = 0;
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(v[i]);
			if (i && width + len + 2 > CONF_PRINT_LINE) {
				sb_printf(b, "\n%s = ", k->name);
				width = 0;
			} else if (i) {
				sb_printf(b, ", ");
				width += 2;
			}
			sb_printf(b, "%s", v[i]);
			width += len;
		}
		break;
	}
	}
}

char *conf_format(const conf *c, const model_meta *m)
{
	char num[40];
	struct sbuf b;
	sb_init(&b);
	sb_printf(&b, "# configuration in force%s%s\n", c->path ? ", read from " : " (defaults: no thresh.conf)",
	          c->path ? c->path : "");
	sb_printf(&b, "\n# classifier (stored in the database; set here to override)\n");
	for (int i = 0; i < P_COUNT; i++) {
		double v = c->has_param[i] ? c->param[i] : m ? m->param[i] : NAN;
		if (!c->has_param[i] && !m)
			continue;
		sb_printf(&b, "%s = %s%s\n", thresh_db_param_name((size_t)i), fmt_double(num, sizeof num, v),
		          c->has_param[i] ? "  # overridden by the configuration file" : "");
	}
	sb_printf(&b, "\n# moderation\n");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		sb_printf(&b, "%s = ", keys[i].name);
		format_value(&b, c, &keys[i]);
		sb_printf(&b, "  # %s\n", keys[i].help);
	}
	/* other programs' sections, as they were given */
	const char *section = NULL;
	size_t slen = 0;
	for (size_t i = 0; i + 1 < c->n_ext; i += 2) {
		const char *dot = strchr(c->ext[i], '.');
		size_t n = (size_t)(dot - c->ext[i]);
		if (!section || n != slen || strncmp(section, c->ext[i], n)) {
			section = c->ext[i];
			slen = n;
			sb_printf(&b, "\n[%.*s]\n", (int)n, section);
		}
		sb_printf(&b, "%s = %s\n", dot + 1, c->ext[i + 1]);
	}
	return sb_take(&b);
}

int conf_get(const conf *c, const model_meta *m, const char *key, char *buf, size_t size)
{
	struct sbuf b;
	sb_init(&b);
	char num[40];
	int found = 0, pi = param_index(key);
	if (pi >= 0) {
		sb_printf(&b, "%s", fmt_double(num, sizeof num, c->has_param[pi] ? c->param[pi] : m->param[pi]));
		found = 1;
	}
	for (size_t i = 0; !found && i < sizeof keys / sizeof keys[0]; i++)
		if (!strcmp(keys[i].name, key)) {
			format_value(&b, c, &keys[i]);
			found = 1;
		}
	/* the last of a repeated key wins */
	for (size_t i = c->n_ext; !found && i >= 2; i -= 2)
		if (!strcmp(c->ext[i - 2], key)) {
			sb_printf(&b, "%s", c->ext[i - 1]);
			found = 1;
		}
	if (!found)
		return THRESH_ENOTFOUND;
	if (b.oom)
		return THRESH_ENOMEM;
	const char *s = b.p ? b.p : "";
	size_t n = strlen(s);
	int rc = 0;
	if (n + 1 > size)
		rc = THRESH_ETOOBIG;
	else
		memcpy(buf, s, n + 1);
	sb_free(&b);
	return rc;
}
