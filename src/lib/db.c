/* db.c - a database handle: opening a folder (creating it from the default
 * model, atomically, when asked), closing it, and the state the handle's
 * users share under its lock:
 *   - the configuration in force (db_conf; thresh_db_config_reload, which
 *     also picks up a secret rotated by another process);
 *   - the identity secret and the keys derived from it (db_keys; the file
 *     itself is secret.c's);
 *   - the model's meta with the configuration's overrides (db_meta_load,
 *     meta_read);
 *   - the in-memory copy of the token counts (db_cache_for, thresh_db_warm).
 * What is done with an open handle lives beside it: checks in check.c,
 * learning in learn.c, statistics, parameters, pruning, the secret's
 * rotation, dumps and the printed configuration in manage.c. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "thresh/error.h"
#include "cache.h"
#include "cluster.h"
#include "config.h"
#include "db_int.h"
#include "dump.h"
#include "errors.h"
#include "migrate.h"
#include "secret.h"

int db_meta_load(thresh_db *db, store_txn *t, model_meta *m)
{
	int rc = meta_load(t, m);
	if (rc)
		return rc;
	struct conf *cf = db_conf(db);
	for (int i = 0; i < P_COUNT; i++)
		if (cf && cf->has_param[i]) {
			m->param[i] = cf->param[i];
			m->pinned |= (1u << i) & MODEL_PINNABLE; /* the file pins it */
		}
	conf_unref(cf);
	return 0;
}

int meta_read(thresh_db *db, int overrides, int keep_key, model_meta *m)
{
	store_txn *t;
	int rc = store_read_begin(db->st, &t);
	if (rc)
		return rc;
	rc = overrides ? db_meta_load(db, t, m) : meta_load(t, m);
	store_read_end(t);
	if (rc || !keep_key)
		hash_wipe(m->key, sizeof m->key);
	return rc;
}

struct conf *db_conf(thresh_db *db)
{
	pthread_mutex_lock(&db->lock);
	struct conf *c = conf_ref(db->cf);
	pthread_mutex_unlock(&db->lock);
	return c;
}

int db_keys(thresh_db *db, site_keys *out)
{
	pthread_mutex_lock(&db->lock);
	int has = db->has_secret;
	if (has)
		*out = db->keys;
	pthread_mutex_unlock(&db->lock);
	return has;
}

void db_set_keys(thresh_db *db, const site_keys *k)
{
	pthread_mutex_lock(&db->lock);
	db->keys = *k;
	db->has_secret = 1;
	atomic_fetch_add(&db->gen, 1);
	pthread_mutex_unlock(&db->lock);
}

int db_view_legacy(thresh_db *db, store_txn *t, int *legacy)
{
	uint64_t id = store_txn_id(t), at = atomic_load(&db->legacy_at), n = 0;
	if (at && at >> 1 == id) {
		*legacy = (int)(at & 1);
		return 0;
	}
	int rc = store_rec_count(t, "legacy", &n);
	if (rc)
		return rc;
	*legacy = n > 0;
	if (id >= at >> 1) /* a newer snapshot's answer replaces an older one's */
		atomic_store(&db->legacy_at, id << 1 | (uint64_t)(n > 0));
	return 0;
}

int db_has_legacy(thresh_db *db, int *legacy)
{
	store_txn *t;
	uint64_t n = 0;
	int rc = store_read_begin(db->st, &t);
	if (rc)
		return rc;
	rc = store_rec_count(t, "legacy", &n);
	store_read_end(t);
	*legacy = n > 0;
	return rc;
}

int db_cluster_conf(thresh_db *db, cluster_conf *out)
{
	pthread_mutex_lock(&db->lock);
	int on = db->clc.on;
	if (on) /* every check asks: the copy only for a node */
		*out = db->clc;
	else
		out->on = 0;
	pthread_mutex_unlock(&db->lock);
	return on;
}

int db_cluster_on(thresh_db *db)
{
	pthread_mutex_lock(&db->lock);
	int on = db->clc.on;
	pthread_mutex_unlock(&db->lock);
	return on;
}

struct cluster *db_cluster(thresh_db *db, char fp[33])
{
	pthread_mutex_lock(&db->lock);
	if (!db->cl && cluster_new(&db->cl))
		db->cl = NULL;
	struct cluster *cl = db->cl;
	memcpy(fp, db->fp, 33);
	pthread_mutex_unlock(&db->lock);
	return cl;
}

/* cluster_fp - a keyed digest of the model key under the identity secret:
 * nodes share both (one database copied to each), and a node whose own
 * differs may not join. A secret file that holds its digests' root apart
 * (a rotated secret) has the root in the digest too. */
static void cluster_fp(thresh_db *db, char out[33])
{
	static const char label[] = "thresh-cluster-fingerprint";
	unsigned char msg[sizeof label + HASH_MODEL_KEY_BYTES + HASH_SECRET_BYTES], d[16];
	size_t len = sizeof label + HASH_MODEL_KEY_BYTES;
	site_keys k;
	model_meta m;
	memset(&k, 0, sizeof k);
	db_keys(db, &k);
	memcpy(msg, label, sizeof label);
	if (meta_read(db, 0, 1, &m) == 0) {
		memcpy(msg + sizeof label, m.key, HASH_MODEL_KEY_BYTES);
		hash_wipe(m.key, sizeof m.key);
	} else {
		memset(msg + sizeof label, 0, HASH_MODEL_KEY_BYTES);
	}
	if (k.own_root) {
		memcpy(msg + len, k.root, HASH_SECRET_BYTES);
		len += HASH_SECRET_BYTES;
	}
	hash_bytes(k.secret, sizeof k.secret, msg, len, d, sizeof d);
	hash_wipe(&k, sizeof k);
	hash_wipe(msg, sizeof msg);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

void db_cluster_refresh(thresh_db *db)
{
	char fp[33];
	cluster_fp(db, fp);
	struct conf *cf = db_conf(db);
	pthread_mutex_lock(&db->lock);
	if (cf)
		db->clc = cf->cl;
	for (size_t i = 0; i < db->nclover; i++) {
		char why[300];
		(void)cluster_conf_set(&db->clc, db->clover[i][0], db->clover[i][1], why, sizeof why);
	}
	memcpy(db->fp, fp, sizeof fp);
	pthread_mutex_unlock(&db->lock);
	conf_unref(cf);
}

void thresh_db_options_init(thresh_db_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
}

/* mkdir_parents - create every missing folder above path (like mkdir -p of
 * its dirname). Returns 0 or a THRESH_E* code. */
static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof buf)
		return THRESH_EINVAL;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return errno_code(errno);
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return errno_code(errno);
	return 0;
}

/* remove_tree - remove a folder we made and the files in it (no subfolders
 * deeper than one level are ever made). Best effort. */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char p[PATH_MAX];
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
				continue;
			if (unlink(p) != 0 && errno == EISDIR)
				remove_tree(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* dir_state - 0: missing, 1: empty folder, 2: holds a database, 3: holds
 * something else, or a THRESH_E* code. */
static int dir_state(const char *dir)
{
	struct stat st;
	char p[PATH_MAX];
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? 0 : errno_code(errno);
	if (!S_ISDIR(st.st_mode))
		return 3;
	if (snprintf(p, sizeof p, "%s/data.mdb", dir) >= (int)sizeof p)
		return THRESH_EINVAL;
	if (access(p, F_OK) == 0)
		return 2;
	DIR *d = opendir(dir);
	if (!d)
		return errno_code(errno);
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty ? 1 : 3;
}

static int init_meta_fn(store_txn *t, void *ctx)
{
	(void)ctx;
	return meta_init(t);
}

/* model_path - the dump a new database starts from. */
static const char *model_path(const thresh_db_options *o)
{
	const char *env;
	if (o && o->model)
		return o->model;
	if ((env = getenv("THRESH_MODEL")) && *env)
		return env;
	return THRESH_MODEL_DIR "/default.dump";
}

/* create_db - build a new database in a temporary sibling folder and rename
 * it into place, so no reader ever sees half a database and a crash leaves
 * at worst a stray temporary folder. Returns 0, THRESH_EEXIST when another
 * process created dir first, or another code. */
/* folder_begin - a new temporary folder beside dir, "DIR.new-XXXXXX", into
 * tmp: a new database is made there and renamed into place whole
 * (folder_commit). Returns 0 or a THRESH_E* code. */
static int folder_begin(const char *dir, char *tmp, size_t size)
{
	int rc = mkdir_parents(dir);
	if (rc)
		return rc;
	if (snprintf(tmp, size, "%s.new-XXXXXX", dir) >= (int)size)
		return THRESH_EINVAL;
	return mkdtemp(tmp) ? 0 : errno_code(errno);
}

/* folder_commit - tmp renamed to dir. Returns 0, THRESH_EEXIST when dir
 * appeared meanwhile (another process made it first), or another code. */
static int folder_commit(const char *tmp, const char *dir)
{
	return rename(tmp, dir) == 0 ? 0 : errno_code(errno); /* ENOTEMPTY: THRESH_EEXIST */
}

static int create_db(const char *dir, const thresh_db_options *o, unsigned flags)
{
	char tmp[PATH_MAX];
	store *st = NULL;
	int rc;
	if ((rc = folder_begin(dir, tmp, sizeof tmp)))
		return rc;
	if ((rc = store_open(tmp, 0, 0, &st)))
		goto fail;
	if ((rc = store_write(st, init_meta_fn, NULL)))
		goto fail;
	{
		site_keys k;
		rc = secret_write(tmp, NULL, &k);
		hash_wipe(&k, sizeof k);
		if (rc)
			goto fail;
	}
	if (!(flags & THRESH_DB_EMPTY)) {
		const char *mp = model_path(o);
		if (access(mp, R_OK) != 0) {
			set_err(o ? o->errbuf : NULL, o ? o->errbuf_size : 0,
			           "default model %s: %s (set THRESH_MODEL or create the database empty)",
			           mp, strerror(errno));
			rc = THRESH_ENOMODEL;
			goto fail;
		}
		rc = dump_import_path(st, mp, DUMP_SEED, NULL, o ? o->errbuf : NULL,
		                      o ? o->errbuf_size : 0);
		if (rc)
			goto fail;
	}
	store_close(st);
	st = NULL;
	if ((rc = folder_commit(tmp, dir)))
		goto fail;
	return 0;
fail:
	store_close(st);
	remove_tree(tmp);
	return rc;
}

struct upgrade_ctx {
	uint32_t from;
	const site_keys *keys;
};

static int upgrade_fn(store_txn *t, void *ctx)
{
	struct upgrade_ctx *u = ctx;
	return migrate_db(t, u->keys, &u->from);
}

/* upgrade - a database of an older format brought to this one, in one
 * write transaction (db->upgraded_from tells), or refused with a message
 * that says why: a newer format, or a read-only handle. */
static int upgrade(thresh_db *db, const char *dir, char *errbuf, size_t errsize)
{
	struct upgrade_ctx u = {0, &db->keys};
	store_txn *t;
	model_meta m;
	int rc;
	if ((rc = store_read_begin(db->st, &t)))
		return rc;
	rc = meta_format(t, &u.from);
	store_read_end(t);
	if (rc)
		return rc;
	if (u.from > DB_FORMAT_VERSION) {
		set_err(errbuf, errsize, "%s: format %u, made by a newer thresh (this one reads %u)", dir,
		        (unsigned)u.from, DB_FORMAT_VERSION);
		return THRESH_EVERSION;
	}
	if (db->flags & THRESH_DB_RDONLY) {
		set_err(errbuf, errsize,
		        "%s: format %u needs an upgrade to %u: open it once read-write (e.g. thresh stats)",
		        dir, (unsigned)u.from, DB_FORMAT_VERSION);
		return THRESH_EVERSION;
	}
	if (!db->has_secret) {
		set_err(errbuf, errsize, "%s: format %u needs its secret to upgrade to %u", dir,
		        (unsigned)u.from, DB_FORMAT_VERSION);
		return THRESH_EVERSION;
	}
	if ((rc = store_write(db->st, upgrade_fn, &u))) {
		set_err(errbuf, errsize, "%s: upgrading format %u: %s", dir, (unsigned)u.from,
		        thresh_strerror(rc));
		return rc;
	}
	db->upgraded_from = u.from;
	return meta_read(db, 0, 0, &m);
}

static int db_open(const char *dir_in, const thresh_db_options *opts, thresh_db **out)
{
	char dir[PATH_MAX];
	unsigned flags = opts ? opts->flags : 0;
	char *errbuf = opts ? opts->errbuf : NULL;
	size_t errsize = opts ? opts->errbuf_size : 0;
	thresh_db *db = NULL;
	model_meta m;
	int rc;

	if (!dir_in || !*dir_in || !out || (opts && opts->size < sizeof(size_t)))
		return THRESH_EINVAL;
	/* Without trailing slashes, so "DIR.new-XXXXXX" is a sibling of DIR. */
	size_t dlen = strlen(dir_in);
	if (dlen >= sizeof dir)
		return THRESH_EINVAL;
	memcpy(dir, dir_in, dlen + 1);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dir[--dlen] = '\0';
	if ((rc = hash_init()))
		return rc;
	rc = dir_state(dir);
	if (rc < 0)
		return rc;
	if (rc == 3) {
		set_err(errbuf, errsize, "%s is not a thresh database folder", dir);
		return THRESH_ECORRUPT;
	}
	if (rc == 2 && (flags & THRESH_DB_CREATE) && (flags & THRESH_DB_EXCL))
		return THRESH_EEXIST;
	if (rc < 2) {
		if (!(flags & THRESH_DB_CREATE) || (flags & THRESH_DB_RDONLY)) {
			set_err(errbuf, errsize, "%s: no database here", dir);
			return THRESH_ENOENT;
		}
		rc = create_db(dir, opts, flags);
		if (rc == THRESH_EEXIST && !(flags & THRESH_DB_EXCL))
			rc = 0; /* another process won the race: open its database */
		if (rc)
			return rc;
	}

	if (!(db = calloc(1, sizeof *db)) || !(db->dir = strdup(dir))) {
		rc = THRESH_ENOMEM;
		goto fail;
	}
	db->flags = flags;
	pthread_mutex_init(&db->lock, NULL);
	pthread_mutex_init(&db->pool_lock, NULL);
	if ((rc = store_open(dir, (flags & THRESH_DB_RDONLY) ? STORE_RDONLY : 0, 0, &db->st)))
		goto fail_mutex;
	/* The secret first: an upgrade to format 3 re-keys by it. */
	rc = secret_read(dir, &db->keys, errbuf, errsize);
	if (rc == THRESH_ENOENT && !(flags & THRESH_DB_RDONLY))
		rc = secret_write(dir, NULL, &db->keys); /* a database made before secrets existed */
	if (rc == 0)
		db->has_secret = 1;
	else if (rc != THRESH_ENOENT)
		goto fail_mutex;
	rc = meta_read(db, 0, 0, &m);
	if (rc == THRESH_EVERSION)
		rc = upgrade(db, dir, errbuf, errsize);
	else if (rc)
		set_err(errbuf, errsize, "%s: %s", dir, thresh_strerror(rc));
	if (rc)
		goto fail_mutex;

	if (!(flags & THRESH_DB_NOCONFIG)) {
		char def[PATH_MAX];
		const char *cp = opts && opts->config ? opts->config : NULL;
		if (!cp && snprintf(def, sizeof def, "%s/thresh.conf", dir) < (int)sizeof def &&
		    access(def, F_OK) == 0)
			cp = def;
		if (cp && !(db->config_buf = strdup(cp))) {
			rc = THRESH_ENOMEM;
			goto fail_mutex;
		}
		db->config_path = db->config_buf;
		db->config_explicit = opts && opts->config;
	}
	if (db->config_path)
		rc = conf_load(db->config_path, &db->cf, errbuf, errsize);
	else
		rc = (db->cf = conf_defaults()) ? 0 : THRESH_ENOMEM;
	if (rc)
		goto fail_mutex;

	if (!(flags & THRESH_DB_RDONLY)) {
		char rdir[PATH_MAX];
		if (snprintf(rdir, sizeof rdir, "%s/rate", dir) >= (int)sizeof rdir) {
			rc = THRESH_EINVAL;
			goto fail_mutex;
		}
		if (mkdir(rdir, 0700) != 0 && errno != EEXIST) {
			rc = errno_code(errno);
			goto fail_mutex;
		}
		if ((rc = store_open(rdir, STORE_NOSYNC, 0, &db->rate)))
			goto fail_mutex;
	}
	db_cluster_refresh(db);
	*out = db;
	return 0;
fail_mutex:
	pthread_mutex_destroy(&db->lock);
	pthread_mutex_destroy(&db->pool_lock);
fail:
	if (db) {
		store_close(db->rate);
		store_close(db->st);
		conf_unref(db->cf);
		hash_wipe(&db->keys, sizeof db->keys);
		free(db->config_buf);
		free(db->dir);
		free(db);
	}
	return rc;
}

int thresh_db_open(const char *dir, const thresh_db_options *opts, thresh_db **out)
{
	char *errbuf = opts && opts->size >= sizeof *opts ? opts->errbuf : NULL;
	size_t errsize = errbuf ? opts->errbuf_size : 0;
	if (errbuf && errsize)
		errbuf[0] = '\0';
	int rc = db_open(dir, opts, out);
	/* Every failure gets a message, the specific one when there is one. */
	if (rc && errbuf && errsize && !errbuf[0])
		set_err(errbuf, errsize, "%s: %s", dir ? dir : "(null)", thresh_strerror(rc));
	return rc;
}

/* ---------- clone ---------- */

/* clone_fn - take out of a copy what its source keyed by its own secret
 * (authors, learned digests, identity tokens: a new secret could never
 * find them), its rate state, and its place in a cluster. */
static int clone_fn(store_txn *t, void *ctx)
{
	static const char *const keyed[] = {"learned", "legacy", "authors", "rate", "outbox"};
	uint64_t dropped;
	int rc;
	(void)ctx;
	for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++)
		if ((rc = store_rec_clear(t, keyed[i])))
			return rc;
	if ((rc = store_tokens_drop(t, COUNTS_IDENTITY, &dropped)))
		return rc;
	return store_meta_drop_prefix(t, "c:"); /* replica.c's keys */
}

/* The context of a secret derived for a clone (thresh_db_clone's derive). */
static const char clone_ctx[] = "thresh clone secret v1";

int thresh_db_clone(thresh_db *from, const char *dir, const char *derive,
                    const thresh_db_options *opts, thresh_db **out)
{
	char tmp[PATH_MAX];
	char *errbuf = opts && opts->size >= sizeof *opts ? opts->errbuf : NULL;
	size_t errsize = errbuf ? opts->errbuf_size : 0;
	store *st = NULL;
	struct stat sb;
	int rc;
	if (errbuf && errsize)
		errbuf[0] = '\0';
	if (!from || !dir || !*dir || !out || (derive && (!*derive || !from->has_secret)))
		return THRESH_EINVAL;
	if (stat(dir, &sb) == 0) {
		set_err(errbuf, errsize, "%s: exists already", dir);
		return THRESH_EEXIST;
	}
	if ((rc = folder_begin(dir, tmp, sizeof tmp)))
		return rc;
	if ((rc = store_copy(from->st, tmp)) || (rc = store_open(tmp, 0, 0, &st)) ||
	    (rc = store_write(st, clone_fn, NULL)))
		goto fail;
	{
		site_keys k;
		if (derive) {
			/* BLAKE2b keyed by from's secret, of the context and derive */
			size_t cn = sizeof clone_ctx, dn = strlen(derive);
			unsigned char msg[sizeof clone_ctx + 256], secret[HASH_SECRET_BYTES];
			if (dn > 256) {
				rc = THRESH_EINVAL;
				goto fail;
			}
			memcpy(msg, clone_ctx, cn); /* its NUL ends the context */
			memcpy(msg + cn, derive, dn);
			pthread_mutex_lock(&from->lock);
			hash_bytes(from->keys.secret, HASH_SECRET_BYTES, msg, cn + dn, secret, sizeof secret);
			pthread_mutex_unlock(&from->lock);
			rc = secret_write_as(tmp, secret, &k);
			hash_wipe(secret, sizeof secret);
		} else {
			rc = secret_write(tmp, NULL, &k);
		}
		hash_wipe(&k, sizeof k);
		if (rc)
			goto fail;
	}
	store_close(st);
	st = NULL;
	/* into place whole, as create_db: a folder made meanwhile stays */
	if ((rc = folder_commit(tmp, dir)))
		goto fail;
	thresh_db_options o;
	thresh_db_options_init(&o);
	if (opts && opts->size >= sizeof o)
		o = *opts;
	o.flags &= ~(THRESH_DB_CREATE | THRESH_DB_EXCL | THRESH_DB_EMPTY);
	return thresh_db_open(dir, &o, out);
fail:
	store_close(st);
	remove_tree(tmp);
	if (errbuf && errsize && !errbuf[0])
		set_err(errbuf, errsize, "%s: %s", dir, thresh_strerror(rc));
	return rc;
}

void thresh_db_close(thresh_db *db)
{
	if (!db)
		return;
	/* A cache being filled reads the store: let it finish first. */
	while (atomic_load(&db->building)) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	view_pool_free(db);
	cluster_free(db->cl);
	for (size_t i = 0; i < db->nclover; i++) {
		free(db->clover[i][0]);
		free(db->clover[i][1]);
	}
	store_close(db->rate);
	store_close(db->st);
	conf_unref(db->cf);
	cache_unref(db->cache);
	hash_wipe(&db->keys, sizeof db->keys);
	pthread_mutex_destroy(&db->lock);
	pthread_mutex_destroy(&db->pool_lock);
	free(db->config_buf);
	free(db->dir);
	free(db);
}

/* cache_install - make c the cache unless one as new is in place already;
 * takes over the reference to c. */
static void cache_install(thresh_db *db, struct tok_cache *c)
{
	pthread_mutex_lock(&db->lock);
	struct tok_cache *old = db->cache;
	if (!old || cache_txn(old) <= cache_txn(c)) {
		db->cache = c;
		atomic_store(&db->misses, 0);
	} else {
		old = c; /* a newer one is in place already */
	}
	pthread_mutex_unlock(&db->lock);
	cache_unref(old);
}

/* snapshot_totals - the totals a check of t's snapshot reads (the
 * configuration's overrides applied), whether its classifier scores from
 * the counts (Fisher) rather than from the ratios alone, and what its prior
 * layer is known by (cache_build_share). */
static int snapshot_totals(thresh_db *db, store_txn *t, bayes_totals *tot, int *counts,
                           cache_prior_sig *sig)
{
	model_meta m;
	bayes_params p;
	int rc = db_meta_load(db, t, &m);
	hash_wipe(m.key, sizeof m.key);
	if (!rc) {
		model_totals(&m, tot, NULL);
		model_params(&m, &p);
		*counts = p.kind != BAYES_NB;
		*sig = (cache_prior_sig){m.prior.spam, m.prior.ham, m.prior.spam_tok, m.prior.ham_tok};
	}
	return rc;
}

/* snapshot_cache - a cache of t's snapshot, its prior layer shared with
 * other handles' when the handle was opened with THRESH_DB_SHARE_PRIOR and
 * the classifier needs no counts. Returns as cache_build. */
static int snapshot_cache(thresh_db *db, store_txn *t, const bayes_totals *tot, int counts,
                          const cache_prior_sig *sig, struct tok_cache **out)
{
	if (!counts && (db->flags & THRESH_DB_SHARE_PRIOR))
		return cache_build_share(t, tot, sig, out);
	return cache_build(t, tot, counts, out);
}

/* release_pages - with THRESH_DB_SHARE_PRIOR, once a cache is filled, the
 * map pages its filling read are let go of: a site the cache answers for
 * has no use for them, and hundreds of sites would keep ~5 MB each. They
 * stay in the kernel's page cache. */
static void release_pages(thresh_db *db)
{
	if (db->flags & THRESH_DB_SHARE_PRIOR)
		(void)store_release_pages(db->st); /* advice: a failure changes nothing */
}

/* cache_builder - fill a cache from a snapshot of its own and install it,
 * off the checking threads, so no check waits for a rebuild (on a model of a
 * million tokens it takes about a tenth of a second). thresh_db_close waits
 * for it. */
static void *cache_builder(void *arg)
{
	thresh_db *db = arg;
	store_txn *t;
	struct tok_cache *c = NULL;
	bayes_totals tot;
	cache_prior_sig sig;
	int counts;
	if (store_read_begin(db->st, &t) == 0) {
		if (snapshot_totals(db, t, &tot, &counts, &sig) != 0 ||
		    snapshot_cache(db, t, &tot, counts, &sig, &c) != 0)
			c = NULL;
		store_read_end(t);
	}
	if (c) {
		release_pages(db);
		cache_install(db, c);
	}
	atomic_store(&db->building, 0);
	return NULL;
}

static int cache_on(thresh_db *db)
{
	struct conf *cf = db_conf(db);
	int on = cf && cf->memory_cache;
	conf_unref(cf);
	return on;
}

int thresh_db_warm(thresh_db *db)
{
	store_txn *t;
	struct tok_cache *c = NULL;
	bayes_totals tot;
	cache_prior_sig sig;
	int rc, counts;
	if (!db)
		return THRESH_EINVAL;
	if (!cache_on(db))
		return 0;
	if ((rc = store_read_begin(db->st, &t)))
		return rc;
	if (!(rc = snapshot_totals(db, t, &tot, &counts, &sig))) {
		pthread_mutex_lock(&db->lock);
		int fresh = db->cache && cache_fits(db->cache, store_txn_id(t), &tot);
		pthread_mutex_unlock(&db->lock);
		if (!fresh)
			rc = snapshot_cache(db, t, &tot, counts, &sig, &c);
	}
	store_read_end(t);
	if (c) {
		release_pages(db);
		cache_install(db, c);
	}
	return rc;
}

struct tok_cache *db_cache_for(thresh_db *db, store_txn *t, const bayes_totals *tot)
{
	uint64_t id = store_txn_id(t);
	/* every check asks: the configuration's word and the cache under one
	 * hold of the lock */
	pthread_mutex_lock(&db->lock);
	int on = db->cf && db->cf->memory_cache;
	struct tok_cache *c =
		on && db->cache && cache_fits(db->cache, id, tot) ? cache_ref(db->cache) : NULL;
	pthread_mutex_unlock(&db->lock);
	if (!on)
		return NULL;
	if (c)
		return c;
	/* Stale or missing: read LMDB for now, and have a new cache filled in
	 * the background once the model has stayed the same for a while, so a
	 * burst of learning does not rebuild it after every commit. */
	int idle = 0;
	if (atomic_fetch_add(&db->misses, 1) + 1 < DB_CACHE_AFTER ||
	    !atomic_compare_exchange_strong(&db->building, &idle, 1))
		return NULL;
	pthread_t th;
	pthread_attr_t attr;
	int started = pthread_attr_init(&attr) == 0 &&
	              pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
	              pthread_create(&th, &attr, cache_builder, db) == 0;
	pthread_attr_destroy(&attr);
	if (!started)
		atomic_store(&db->building, 0); /* no thread: LMDB keeps serving */
	return NULL;
}

int thresh_db_config_reload(thresh_db *db, char *errbuf, size_t errbuf_size)
{
	struct conf *cf = NULL, *old;
	site_keys keys;
	int rc, has;
	char def[PATH_MAX];
	const char *path = NULL;
	if (!db)
		return THRESH_EINVAL;
	if (db->config_explicit)
		path = db->config_path;
	else if (!(db->flags & THRESH_DB_NOCONFIG) &&
	         snprintf(def, sizeof def, "%s/thresh.conf", db->dir) < (int)sizeof def &&
	         access(def, F_OK) == 0)
		path = def; /* DIR/thresh.conf, also when it appeared after open */
	if (path)
		rc = conf_load(path, &cf, errbuf, errbuf_size);
	else
		rc = (cf = conf_defaults()) ? 0 : THRESH_ENOMEM;
	if (rc)
		return rc; /* the old configuration stays in force */
	/* Another process may have rotated the secret. */
	has = secret_read(db->dir, &keys, NULL, 0) == 0;
	pthread_mutex_lock(&db->lock);
	old = db->cf;
	db->cf = cf;
	if (has) {
		db->keys = keys;
		db->has_secret = 1;
	}
	atomic_fetch_add(&db->gen, 1);
	pthread_mutex_unlock(&db->lock);
	hash_wipe(&keys, sizeof keys);
	conf_unref(old);
	db_cluster_refresh(db);
	return 0;
}

