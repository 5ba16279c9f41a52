/* conf.c - threshd's settings in thresh.conf, and the parsers of values
 * that flags and the file share.
 *
 *   [threshd]
 *   address = 192.0.2.10
 *   keys = /etc/thresh/keys
 *   hold_as_spam = no
 *
 * The library reads the file and keeps other programs' sections for them
 * (thresh_db_config_get "threshd.KEY"); threshd checks its own: an unknown key
 * or a bad value is an error, even for a setting a flag overrides. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threshd.h"

/* The [threshd] keys, each the twin of a flag; a flag wins. */
static const struct conf_key {
	const char *name;
	unsigned given;
	int live; /* applied again on SIGHUP; the others need a restart */
} conf_keys[] = {
	{"address", G_ADDRESS, 0},
	{"port", G_PORT, 0},
	{"threads", G_THREADS, 0},
	{"keys", G_KEYS, 0},
	{"body_limit", G_BODY_LIMIT, 0},
	{"timeout", G_TIMEOUT, 0},
	{"shutdown_timeout", G_SHUTDOWN_TIMEOUT, 0},
	{"max_connections", G_MAX_CONNECTIONS, 0},
	{"log", G_LOG, 0},
	{"hold_as_spam", G_HOLD, 1},
	{"akismet_body_limit", G_AKISMET_BODY_LIMIT, 0},
	{"tls_port", G_TLS_PORT, 0},
	{"tls_cert", G_TLS_CERT, 0},
	{"tls_key", G_TLS_KEY, 0},
	{"header_timeout", G_HEADER_TIMEOUT, 0},
	{"max_connections_per_ip", G_PER_IP, 0},
	{"body_budget", G_BODY_BUDGET, 0},
	{"open_sites", G_OPEN_SITES, 1},
};

_Static_assert(sizeof conf_keys / sizeof conf_keys[0] == CONF_KEYS, "CONF_KEYS");

/* conf_value - [threshd] name into buf: 1 found, 0 not set, -1 error (reported). */
static int conf_value(struct server *s, const char *name, char *buf, size_t size)
{
	char key[64];
	snprintf(key, sizeof key, "threshd.%s", name);
	int rc = thresh_db_config_get(s->db, key, buf, size);
	if (rc == THRESH_ENOTFOUND)
		return 0;
	if (rc) {
		say("thresh.conf: [threshd] %s: %s", name, thresh_strerror(rc));
		return -1;
	}
	return 1;
}

/* conf_path - a path from thresh.conf: relative ones are taken from the
 * folder of that file (the database folder unless --config names another).
 * Returns a malloc'd string or NULL. */
static char *conf_path(struct server *s, const char *v)
{
	const char *base = s->cfg.db_dir;
	char dir[PATH_MAX];
	if (v[0] == '/')
		return strdup(v);
	if (s->cfg.config) {
		const char *slash = strrchr(s->cfg.config, '/');
		if (!slash) {
			base = ".";
		} else {
			size_t n = (size_t)(slash - s->cfg.config);
			if (n >= sizeof dir)
				return NULL;
			memcpy(dir, s->cfg.config, n);
			dir[n] = '\0';
			base = n ? dir : "/";
		}
	}
	size_t len = strlen(base) + strlen(v) + 2;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/%s", base, v);
	return p;
}

/* apply_conf_key - one [threshd] value into cfg; -1 on a bad value (reported). */
static int apply_conf_key(struct server *s, struct config *cfg, size_t i, const char *v,
                          char **owned)
{
	uint64_t n;
	int b;
	const char *what = NULL;
	switch (conf_keys[i].given) {
	case G_ADDRESS:
		if (!(*owned = strdup(v)))
			goto nomem;
		cfg->address = *owned;
		return 0;
	case G_PORT:
		if (parse_u64(v, 0, 65535, &n)) {
			what = "a port number, 0 to 65535";
			break;
		}
		cfg->port = (unsigned)n;
		return 0;
	case G_THREADS:
		if (parse_u64(v, 1, MAX_THREADS, &n)) {
			what = "1 to 256 threads";
			break;
		}
		cfg->threads = (unsigned)n;
		return 0;
	case G_TLS_PORT:
		if (parse_u64(v, 0, 65535, &n)) {
			what = "a port number, 0 to 65535";
			break;
		}
		cfg->tls_port = (unsigned)n;
		cfg->tls = 1;
		return 0;
	case G_KEYS:
	case G_LOG:
	case G_TLS_CERT:
	case G_TLS_KEY:
		if (!*v) {
			what = "a file name";
			break;
		}
		if (conf_keys[i].given == G_LOG && !strcmp(v, "-"))
			*owned = strdup(v);
		else
			*owned = conf_path(s, v);
		if (!*owned)
			goto nomem;
		if (conf_keys[i].given == G_KEYS)
			cfg->keys_path = *owned;
		else if (conf_keys[i].given == G_LOG)
			cfg->log_path = *owned;
		else if (conf_keys[i].given == G_TLS_CERT)
			cfg->tls_cert = *owned;
		else
			cfg->tls_key = *owned;
		return 0;
	case G_BODY_LIMIT:
	case G_AKISMET_BODY_LIMIT:
		if (parse_size(v, MAX_BODY_LIMIT, &n)) {
			what = "bytes (K and M suffixes allowed), at most 64M";
			break;
		}
		if (conf_keys[i].given == G_BODY_LIMIT)
			cfg->body_limit = (size_t)n;
		else
			cfg->akismet_body_limit = (size_t)n;
		return 0;
	case G_TIMEOUT:
	case G_SHUTDOWN_TIMEOUT:
	case G_HEADER_TIMEOUT:
		if (parse_u64(v, 0, 86400, &n)) {
			what = "seconds, 0 to 86400";
			break;
		}
		if (conf_keys[i].given == G_TIMEOUT)
			cfg->timeout = (unsigned)n;
		else if (conf_keys[i].given == G_SHUTDOWN_TIMEOUT)
			cfg->shutdown_timeout = (unsigned)n;
		else
			cfg->header_timeout = (unsigned)n;
		return 0;
	case G_PER_IP:
		if (parse_u64(v, 0, 1000000, &n)) {
			what = "0 to 1000000";
			break;
		}
		cfg->max_connections_per_ip = (unsigned)n;
		return 0;
	case G_BODY_BUDGET:
		if (parse_size(v, MAX_BODY_BUDGET, &n)) {
			what = "bytes (K and M suffixes allowed), at most 4096M";
			break;
		}
		cfg->body_budget = n;
		return 0;
	case G_MAX_CONNECTIONS:
		if (parse_u64(v, 1, 1000000, &n)) {
			what = "1 to 1000000";
			break;
		}
		cfg->max_connections = (unsigned)n;
		return 0;
	case G_HOLD:
		if (parse_bool(v, &b)) {
			what = "yes or no";
			break;
		}
		cfg->hold_as_spam = b;
		return 0;
	case G_OPEN_SITES:
		if (parse_u64(v, 1, MAX_OPEN_SITES, &n)) {
			what = "1 to 100000 sites";
			break;
		}
		cfg->open_sites = (unsigned)n;
		return 0;
	}
	say("thresh.conf: [threshd] %s = %s: expected %s", conf_keys[i].name, v,
	    what ? what : "a value");
	return -1;
nomem:
	say("out of memory");
	return -1;
}

/* unknown_conf_keys - name the keys of [threshd] threshd does not know
 * (the library checks only its own section). Returns how many. */
static int unknown_conf_keys(struct server *s)
{
	char *text = NULL;
	int bad = 0, in = 0;
	if (thresh_db_config_text(s->db, &text) || !text)
		return 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '[') {
			in = !strncmp(line, "[threshd]", 9);
			continue;
		}
		if (!in || !*line || *line == '#')
			continue;
		size_t n = strcspn(line, " \t=");
		int known = 0;
		for (size_t i = 0; i < CONF_KEYS; i++)
			if (strlen(conf_keys[i].name) == n && !strncmp(conf_keys[i].name, line, n))
				known = 1;
		if (!known) {
			say("thresh.conf: [threshd] unknown key \"%.*s\" (threshd(8) lists the keys)",
			    (int)n, line);
			bad++;
		}
	}
	thresh_free(text);
	return bad;
}

/* load_site_map - [sites] from the configuration in force into
 * s->site_map. Returns 0, or -1 (reported; the map in force stays). */
static int load_site_map(struct server *s, int at_start)
{
	char *text = NULL, why[1200];
	struct site_map *m = NULL, *old;
	int rc = thresh_db_config_text(s->db, &text);
	if (rc) {
		say("thresh.conf: %s", thresh_strerror(rc));
		return -1;
	}
	rc = site_map_parse(text, &m, why, sizeof why);
	thresh_free(text);
	if (rc) {
		say("thresh.conf: %s%s", why, at_start ? "" : " (keeping [sites] as it was)");
		return -1;
	}
	pthread_rwlock_wrlock(&s->keys_lock);
	old = s->site_map;
	s->site_map = m;
	pthread_rwlock_unlock(&s->keys_lock);
	site_map_free(old);
	return 0;
}

int conf_apply(struct server *s, struct conf_state *cs)
{
	unsigned given = cs->given;
	if (unknown_conf_keys(s))
		return -1;
	for (size_t i = 0; i < CONF_KEYS; i++) {
		int got = conf_value(s, conf_keys[i].name, cs->value[i], sizeof cs->value[i]);
		if (got < 0)
			return -1;
		cs->found[i] = got;
		if (!got)
			continue;
		if (given & conf_keys[i].given) {
			/* A flag wins, but a bad value is still an error. */
			struct config scratch = s->cfg;
			char *tmp = NULL;
			int rc = apply_conf_key(s, &scratch, i, cs->value[i], &tmp);
			free(tmp);
			if (rc)
				return -1;
			continue;
		}
		if (apply_conf_key(s, &s->cfg, i, cs->value[i], &cs->owned[i]))
			return -1;
	}
	return s->sites ? load_site_map(s, 1) : 0;
}

void conf_reload(struct server *s, struct conf_state *cs)
{
	char err[1024] = "", v[CONF_VALUE_MAX];
	unsigned given = cs->given;
	int rc = thresh_db_config_reload(s->db, err, sizeof err);
	if (rc) {
		say("thresh.conf not reloaded (the configuration in force stays): %s%s%s",
		    thresh_strerror(rc), err[0] ? ": " : "", err);
		return;
	}
	unknown_conf_keys(s);
	for (size_t i = 0; i < CONF_KEYS; i++) {
		int got = conf_value(s, conf_keys[i].name, v, sizeof v);
		if (got < 0 || (given & conf_keys[i].given))
			continue;
		if (conf_keys[i].live && conf_keys[i].given == G_HOLD) {
			int b = s->cfg.hold_as_spam;
			if (got && parse_bool(v, &b))
				say("thresh.conf: [threshd] hold_as_spam = %s: expected yes or no", v);
			else
				atomic_store(&s->hold_as_spam, b);
			continue;
		}
		if (conf_keys[i].live) { /* open_sites */
			uint64_t n = DEFAULT_OPEN_SITES;
			if (got && parse_u64(v, 1, MAX_OPEN_SITES, &n))
				say("thresh.conf: [threshd] open_sites = %s: expected 1 to 100000 sites", v);
			else if (s->sites)
				sites_set_max_open(s->sites, (size_t)n);
			continue;
		}
		if (got != cs->found[i] || (got && strcmp(v, cs->value[i])))
			say("thresh.conf: [threshd] %s changed: it takes effect when threshd restarts",
			    conf_keys[i].name);
	}
	if (s->sites) {
		load_site_map(s, 0);
		sites_reload(s->sites);
	}
	say("reloaded thresh.conf");
}

void conf_free(struct conf_state *cs)
{
	for (size_t i = 0; i < CONF_KEYS; i++) {
		free(cs->owned[i]);
		cs->owned[i] = NULL;
	}
}
