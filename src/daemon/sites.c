/* sites.c - threshd --sites DIR: one daemon, many sites.
 *
 * A request's key names its site (keys.c), or [sites] in thresh.conf maps
 * the key's site and the blog the request names to another (a WordPress
 * network sends one key for all its blogs):
 *
 *   [sites]
 *   network example.org/blog1 = blog1
 *   network shop.example.org  = shop
 *
 * The site's database is DIR/SITE, made from the default model on its
 * first request. Each site has its own LMDB environment, so its learning,
 * authors, digests, rate limits, cutoffs and secret are its own; the
 * default model's counts, which every site made from it holds alike, are
 * kept in memory once (THRESH_DB_SHARE_PRIOR), and DIR/.prior, the default
 * model opened read-only, keeps them loaded while sites come and go.
 *
 * Sites are opened on demand and closed, the least recently used first,
 * once more than max_open are open and idle ([threshd] open_sites). A
 * site in use by a request is never closed; a site being opened or closed
 * is worked on by one thread while the others asking for it wait (LMDB
 * forbids opening an environment a process has open already). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "threshd.h"

struct site {
	char name[SITE_NAME_MAX + 1];
	thresh_db *db;           /* NULL: closed */
	unsigned refs;           /* requests using db */
	int opening;             /* a thread is opening or closing it: the others wait, since
	                          * LMDB forbids one environment open twice in a process */
	uint64_t used;           /* the registry's clock when last acquired */
	_Atomic uint64_t requests; /* requests served, since threshd started */
	struct ak_counts ak;
	struct site *next;       /* the hash chain */
};

struct sites {
	thresh_db *seed; /* DIR/.prior: a new site is its copy */
	/* a cluster: every site a node, in a namespace of its own */
	int cluster;
	char ns[64];
	const char *over[3][2]; /* --redis, --node, --nodes */
	pthread_mutex_t lock;
	pthread_cond_t opened;
	char *dir;
	const char *config;
	size_t max_open;
	size_t open;
	uint64_t clock;
	struct site **table; /* by name */
	size_t buckets;
	size_t known;
	uint64_t created, opens, closes, failed;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: names are the operator's */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

int sites_new(const char *dir, const char *config, thresh_db *seed, size_t max_open,
              struct sites **out)
{
	struct sites *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->buckets = 1024;
	if (!(r->table = calloc(r->buckets, sizeof *r->table)) || !(r->dir = strdup(dir))) {
		free(r->table);
		free(r);
		return -1;
	}
	r->config = config;
	r->seed = seed;
	r->max_open = max_open ? max_open : 1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->opened, NULL);
	*out = r;
	return 0;
}

void sites_set_cluster(struct sites *r, const char *ns, const char *const over[3][2])
{
	r->cluster = 1;
	snprintf(r->ns, sizeof r->ns, "%s", ns);
	for (int i = 0; i < 3; i++) {
		r->over[i][0] = over[i][0];
		r->over[i][1] = over[i][1];
	}
}

void site_namespace(const char *ns, const char *name, char *out, size_t size)
{
	/* "NS.SITE", or "NS.hHASH" past the 63 characters a namespace holds */
	if (strlen(ns) + 1 + strlen(name) <= 63)
		snprintf(out, size, "%s.%s", ns, name);
	else
		snprintf(out, size, "%s.h%016" PRIx64, ns, name_hash(name));
}

void sites_set_max_open(struct sites *r, size_t max_open)
{
	pthread_mutex_lock(&r->lock);
	r->max_open = max_open ? max_open : 1;
	pthread_mutex_unlock(&r->lock);
}

size_t sites_foreach_open(struct sites *r, void (*fn)(struct site *x, void *ctx), void *ctx)
{
	size_t n = 0, cap = 0;
	struct site **open = NULL;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->buckets; i++)
		for (struct site *x = r->table[i]; x; x = x->next) {
			if (!x->db || x->opening)
				continue;
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 64;
				struct site **g = realloc(open, nc * sizeof *g);
				if (!g)
					goto full; /* the rest next time */
				open = g;
				cap = nc;
			}
			x->refs++; /* kept open while fn works on it */
			open[n++] = x;
		}
full:
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < n; i++) {
		fn(open[i], ctx);
		sites_release(r, open[i]);
	}
	free(open);
	return n;
}

struct reload {
	size_t failed;
};

static void reload_one(struct site *x, void *ctx)
{
	struct reload *rl = ctx;
	char err[1024] = "";
	int rc = thresh_db_config_reload(x->db, err, sizeof err);
	if (rc) {
		say("site %s: thresh.conf not reloaded: %s%s%s", x->name, thresh_strerror(rc),
		    err[0] ? ": " : "", err);
		rl->failed++;
	}
}

size_t sites_reload(struct sites *r)
{
	struct reload rl = {0};
	sites_foreach_open(r, reload_one, &rl);
	return rl.failed;
}

void sites_free(struct sites *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->buckets; i++)
		for (struct site *x = r->table[i], *nx; x; x = nx) {
			nx = x->next;
			thresh_db_close(x->db);
			free(x);
		}
	pthread_cond_destroy(&r->opened);
	pthread_mutex_destroy(&r->lock);
	free(r->table);
	free(r->dir);
	free(r);
}

/* find - the entry of name, made (closed) when missing; under the lock. */
static struct site *find(struct sites *r, const char *name, int make)
{
	size_t b = (size_t)(name_hash(name) % r->buckets);
	for (struct site *x = r->table[b]; x; x = x->next)
		if (!strcmp(x->name, name))
			return x;
	if (!make)
		return NULL;
	struct site *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	snprintf(x->name, sizeof x->name, "%s", name);
	x->next = r->table[b];
	r->table[b] = x;
	r->known++;
	return x;
}

/* lru_victim - the open, idle site used longest ago, when more than
 * max_open are open; under the lock. */
static struct site *lru_victim(struct sites *r)
{
	struct site *v = NULL;
	if (r->open <= r->max_open)
		return NULL;
	for (size_t i = 0; i < r->buckets; i++)
		for (struct site *x = r->table[i]; x; x = x->next)
			if (x->db && !x->refs && !x->opening && (!v || x->used < v->used))
				v = x;
	return v;
}

/* close_idle - close sites past max_open, least recently used first;
 * called without the lock (closing waits for a cache builder). */
static void close_idle(struct sites *r)
{
	for (;;) {
		pthread_mutex_lock(&r->lock);
		struct site *v = lru_victim(r);
		thresh_db *db = NULL;
		if (v) {
			db = v->db;
			v->db = NULL;
			v->opening = 1; /* until it is closed: no second open meanwhile */
			r->open--;
			r->closes++;
		}
		pthread_mutex_unlock(&r->lock);
		if (!db)
			return;
		thresh_db_close(db);
		pthread_mutex_lock(&r->lock);
		v->opening = 0;
		pthread_cond_broadcast(&r->opened);
		pthread_mutex_unlock(&r->lock);
	}
}

/* open_site - DIR/name, made from the default model when missing. */
static int open_site(struct sites *r, const char *name, thresh_db **db, int *created, char *why,
                     size_t whysize)
{
	char path[PATH_MAX], err[512] = "";
	thresh_db_options o;
	int rc;
	*created = 0;
	if (snprintf(path, sizeof path, "%s/%s", r->dir, name) >= (int)sizeof path) {
		snprintf(why, whysize, "the folder name is too long");
		return THRESH_EINVAL;
	}
	thresh_db_options_init(&o);
	/* the site's own DIR/SITE/thresh.conf, else the one of all sites */
	char own[PATH_MAX + 16];
	snprintf(own, sizeof own, "%s/thresh.conf", path);
	struct stat st;
	o.config = stat(own, &st) == 0 ? NULL : r->config;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	/* the default model's counts in memory once for all the sites */
	o.flags = THRESH_DB_SHARE_PRIOR;
	rc = thresh_db_open(path, &o, db);
	if (rc == THRESH_ENOENT) {
		/* a copy of DIR/.prior, the default model never learned into, is
		 * what creating from the default model makes, without its dump to
		 * read (a tenth of the time); its secret is derived from .prior's
		 * and the name, so machines holding copies of one .prior (a
		 * cluster's nodes) make the site alike, and so does thresh sites */
		err[0] = '\0';
		if ((rc = thresh_db_clone(r->seed, path, name, &o, db)) == 0)
			*created = 1;
		else if (rc == THRESH_EEXIST) /* another threshd made it first */
			rc = thresh_db_open(path, &o, db);
	}
	if (rc) {
		snprintf(why, whysize, "%s: %s%s%s", path, thresh_strerror(rc), err[0] ? ": " : "", err);
		return rc;
	}
	if (r->cluster) {
		char ns[80];
		site_namespace(r->ns, name, ns, sizeof ns);
		rc = thresh_db_cluster_set(*db, "namespace", ns);
		for (int i = 0; i < 3 && !rc; i++)
			if (r->over[i][1])
				rc = thresh_db_cluster_set(*db, r->over[i][0], r->over[i][1]);
		if (rc) {
			snprintf(why, whysize, "%s: [cluster] namespace %s: %s", path, ns,
			         thresh_strerror(rc));
			thresh_db_close(*db);
			*db = NULL;
			return rc;
		}
	}
	/* Only speed: without the copy in memory, checks read LMDB. */
	if ((rc = thresh_db_warm(*db)))
		say("%s: the in-memory copy of the model was not made: %s", path, thresh_strerror(rc));
	return 0;
}

int sites_acquire(struct sites *r, const char *name, struct site **out, char *why, size_t whysize)
{
	pthread_mutex_lock(&r->lock);
	struct site *x = find(r, name, 1);
	if (!x) {
		pthread_mutex_unlock(&r->lock);
		snprintf(why, whysize, "out of memory");
		return THRESH_ENOMEM;
	}
	while (x->opening)
		pthread_cond_wait(&r->opened, &r->lock);
	x->refs++;
	x->used = ++r->clock;
	if (x->db) {
		pthread_mutex_unlock(&r->lock);
		atomic_fetch_add_explicit(&x->requests, 1, memory_order_relaxed);
		*out = x;
		return 0;
	}
	x->opening = 1;
	pthread_mutex_unlock(&r->lock);

	thresh_db *db = NULL;
	int created = 0;
	int rc = open_site(r, name, &db, &created, why, whysize);

	pthread_mutex_lock(&r->lock);
	x->opening = 0;
	if (rc) {
		x->refs--;
		r->failed++;
	} else {
		x->db = db;
		r->open++;
		r->opens++;
		r->created += (uint64_t)created;
	}
	pthread_cond_broadcast(&r->opened);
	pthread_mutex_unlock(&r->lock);
	if (rc)
		return rc;
	if (created)
		say("site %s: created %s/%s from the default model", name, r->dir, name);
	atomic_fetch_add_explicit(&x->requests, 1, memory_order_relaxed);
	close_idle(r);
	*out = x;
	return 0;
}

thresh_db *site_db(const struct site *x)
{
	return x->db;
}

struct ak_counts *site_ak_counts(struct site *x)
{
	return &x->ak;
}

const char *site_name(const struct site *x)
{
	return x->name;
}

void sites_release(struct sites *r, struct site *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&r->lock);
	x->refs--;
	pthread_mutex_unlock(&r->lock);
	close_idle(r);
}

void sites_stats(struct sites *r, struct sites_stats *st)
{
	pthread_mutex_lock(&r->lock);
	st->known = r->known;
	st->open = r->open;
	st->max_open = r->max_open;
	st->created = r->created;
	st->opens = r->opens;
	st->closes = r->closes;
	st->failed = r->failed;
	pthread_mutex_unlock(&r->lock);
}

size_t sites_top(struct sites *r, struct site_count *top, size_t n)
{
	size_t k = 0;
	if (!n)
		return 0;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->buckets; i++)
		for (struct site *x = r->table[i]; x; x = x->next) {
			uint64_t c = atomic_load_explicit(&x->requests, memory_order_relaxed);
			if (!c || (k == n && c <= top[n - 1].requests))
				continue;
			/* insert in order, most requests first; ties by name */
			size_t j = k < n ? k++ : n - 1;
			while (j > 0 && (top[j - 1].requests < c ||
			                 (top[j - 1].requests == c && strcmp(top[j - 1].name, x->name) > 0))) {
				top[j] = top[j - 1];
				j--;
			}
			top[j].requests = c;
			snprintf(top[j].name, sizeof top[j].name, "%s", x->name);
		}
	pthread_mutex_unlock(&r->lock);
	return k;
}

/* ---------- [sites]: a key's site and a blog to another site ---------- */

struct site_map {
	size_t n;
	char **from; /* "SITE HOST" or "SITE HOST/PATH" */
	char **to;
};

void site_map_free(struct site_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->from[i]);
		free(m->to[i]);
	}
	free(m->from);
	free(m->to);
	free(m);
}

static int host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* blog_ok - "host" or "host/segment": lower-case host name characters, and
 * one path segment of printable ASCII without '/', space or '='. */
static int blog_ok(const char *s)
{
	const char *p = s;
	while (*p && *p != '/')
		if (!host_char((unsigned char)*p++))
			return 0;
	if (p == s)
		return 0;
	if (!*p)
		return 1;
	if (!*++p)
		return 0;
	for (; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '/' || *p == '=')
			return 0;
	return 1;
}

static int map_add(struct site_map *m, const char *from, size_t fn, const char *to)
{
	char **f = realloc(m->from, (m->n + 1) * sizeof *f);
	if (!f)
		return -1;
	m->from = f;
	char **t = realloc(m->to, (m->n + 1) * sizeof *t);
	if (!t)
		return -1;
	m->to = t;
	if (!(m->from[m->n] = strndup(from, fn)))
		return -1;
	if (!(m->to[m->n] = strdup(to))) {
		free(m->from[m->n]);
		return -1;
	}
	m->n++;
	return 0;
}

int site_map_parse(const char *text, struct site_map **out, char *why, size_t whysize)
{
	struct site_map *m = calloc(1, sizeof *m);
	char line[1100];
	int in = 0;
	if (!m) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	for (const char *p = text ? text : ""; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), p);
		p += n + (e != NULL);
		char *s = line, *end = line + strlen(line);
		while (*s == ' ' || *s == '\t')
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			in = !strcmp(s, "[sites]");
			continue;
		}
		if (!in)
			continue;
		char *eq = strchr(s, '='), site[SITE_NAME_MAX + 2], blog[600], to[SITE_NAME_MAX + 2];
		char extra[2];
		if (!eq || sscanf(s, "%65s %599s", site, blog) != 2 ||
		    sscanf(eq + 1, " %65s %1s", to, extra) != 1) {
			snprintf(why, whysize, "[sites] %s: expected \"SITE BLOG = SITE\"", s);
			goto fail;
		}
		char *beq = strchr(blog, '=');
		if (beq)
			*beq = '\0'; /* "SITE BLOG=SITE" */
		if (!site_name_ok(site, strlen(site)) || !site_name_ok(to, strlen(to))) {
			snprintf(why, whysize, "[sites] %s: a site name is 1 to %d lower-case letters, "
			         "digits, '.', '_' or '-', and does not start with '.'", s, SITE_NAME_MAX);
			goto fail;
		}
		if (!blog_ok(blog)) {
			snprintf(why, whysize, "[sites] %s: a blog is a lower-case host name, or a host "
			         "name, '/' and the first folder of its path (example.org/blog1)", s);
			goto fail;
		}
		char from[SITE_NAME_MAX + 602];
		int fn = snprintf(from, sizeof from, "%s %s", site, blog);
		for (size_t i = 0; i < m->n; i++)
			if (!strcmp(m->from[i], from)) {
				snprintf(why, whysize, "[sites] %s: given twice", from);
				goto fail;
			}
		if (map_add(m, from, (size_t)fn, to)) {
			snprintf(why, whysize, "out of memory");
			goto fail;
		}
	}
	*out = m;
	return 0;
fail:
	site_map_free(m);
	return -1;
}

size_t site_map_count(const struct site_map *m)
{
	return m ? m->n : 0;
}

/* lookup - the site "site blog[0..n)" maps to, or NULL. */
static const char *lookup(const struct site_map *m, const char *site, const char *blog, size_t n)
{
	size_t sn = strlen(site);
	for (size_t i = 0; i < m->n; i++) {
		const char *f = m->from[i];
		if (!strncmp(f, site, sn) && f[sn] == ' ' && !strncmp(f + sn + 1, blog, n) &&
		    !f[sn + 1 + n])
			return m->to[i];
	}
	return NULL;
}

const char *site_map_find(const struct site_map *m, const char *site, const char *url,
                          size_t len)
{
	char blog[600];
	size_t n = 0, host;
	if (!m || !m->n || !url)
		return NULL;
	/* scheme://[user@]host[:port]/first/... lower-cased, without the port */
	const char *p = url, *end = url + len;
	const char *colon = memchr(p, ':', len);
	if (colon && colon + 2 < end && colon[1] == '/' && colon[2] == '/')
		p = colon + 3;
	const char *at = p;
	while (at < end && *at != '/' && *at != '@')
		at++;
	if (at < end && *at == '@')
		p = at + 1;
	for (; p < end && *p != '/' && *p != ':' && *p != '?' && *p != '#'; p++) {
		if (n + 1 >= sizeof blog)
			return NULL;
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
		blog[n++] = c;
	}
	while (n && blog[n - 1] == '.')
		n--; /* "example.org." */
	host = n;
	while (p < end && *p != '/' && *p != '?' && *p != '#')
		p++; /* the port */
	if (p < end && *p == '/') {
		const char *q = ++p;
		while (q < end && *q != '/' && *q != '?' && *q != '#')
			q++;
		if (q > p && (size_t)(q - p) + host + 2 < sizeof blog) {
			blog[host] = '/';
			memcpy(blog + host + 1, p, (size_t)(q - p));
			n = host + 1 + (size_t)(q - p);
			const char *to = lookup(m, site, blog, n);
			if (to)
				return to;
		}
	}
	return host ? lookup(m, site, blog, host) : NULL;
}
