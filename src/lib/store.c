/* store.c - the LMDB backend. The only file in thresh that includes <lmdb.h>.
 *
 * Every LMDB and errno code is translated into a THRESH_E* code here. The map
 * grows by itself: a write that fills it is aborted, the map doubled and the
 * write run again; a process that finds another has grown it adopts the new
 * size. mdb_env_set_mapsize() needs no transaction open in this process, so
 * transactions hold a read lock on `grow` and growing takes it exclusively; a
 * read transaction that is reset (store_read_reset) reads nothing until it
 * is renewed, and holds no lock meanwhile. */
#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <stdio.h> /* /proc/self/maps */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h> /* madvise */

#include "thresh/error.h"
#include "store.h"

#define STORE_DEFAULT_MAP (4u << 20)
#define STORE_MAX_READERS 510
/* Internal: the map is full and store_write() should grow it. Never
 * returned to callers of store_write(). */
#define STORE_EMAPFULL (-1000)

enum { DB_META, DB_TOKENS, DB_LEARNED, DB_AUTHORS, DB_RATE, DB_OUTBOX, DB_LEGACY, DB_COUNT };
static const char *const db_names[DB_COUNT] = {"meta", "tokens", "learned", "authors", "rate",
                                               "outbox", "legacy"};
/* The first database a format-2 folder may lack (made before it existed):
 * a read-only open then reads it as empty. */
#define DB_OPTIONAL DB_OUTBOX

struct store {
	char *dir;
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	unsigned char missing[DB_COUNT]; /* an optional database not made yet (read-only) */
	unsigned flags;
	pthread_rwlock_t grow;
};

struct store_txn {
	store *s;
	MDB_txn *txn;
	int write;
	int reset; /* a read transaction between store_read_reset and store_read_renew */
};

/* map_err - a THRESH_E* code for an LMDB or errno code. */
static int map_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return THRESH_ENOTFOUND;
	case ENOMEM:
		return THRESH_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		return THRESH_EFULL;
	case MDB_MAP_FULL:
		return STORE_EMAPFULL;
	case EACCES:
	case EPERM:
		return THRESH_EACCES;
	case EROFS:
		return THRESH_EREADONLY;
	case ENOENT:
		return THRESH_ENOENT;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_DBI:
		return THRESH_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return THRESH_EVERSION;
	case MDB_READERS_FULL:
	case MDB_TLS_FULL:
	case EAGAIN:
	case EBUSY:
		return THRESH_EBUSY;
	default:
		return THRESH_EIO;
	}
}

int store_open(const char *dir, unsigned flags, size_t map_size, store **out)
{
	store *s = calloc(1, sizeof *s);
	MDB_txn *txn = NULL;
	int rc;

	if (!s)
		return THRESH_ENOMEM;
	s->flags = flags;
	if (pthread_rwlock_init(&s->grow, NULL) != 0) {
		free(s);
		return THRESH_ENOMEM;
	}
	if ((rc = mdb_env_create(&s->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(s->env, DB_COUNT + 2);
	mdb_env_set_maxreaders(s->env, STORE_MAX_READERS);
	if ((rc = mdb_env_set_mapsize(s->env, map_size ? map_size : STORE_DEFAULT_MAP)) != 0)
		goto fail;
	unsigned envflags = MDB_NOTLS;
	if (flags & STORE_RDONLY)
		envflags |= MDB_RDONLY;
	if (flags & STORE_NOSYNC)
		envflags |= MDB_NOSYNC;
	if ((rc = mdb_env_open(s->env, dir, envflags, 0600)) != 0)
		goto fail;
	/* Another process may have grown the map past our size: adopt its size. */
	if ((rc = mdb_env_set_mapsize(s->env, 0)) != 0)
		goto fail;
	/* Reader slots of processes that died inside a read transaction stay
	 * taken until someone clears them; a crashed server would otherwise
	 * fill the table after enough restarts. */
	int dead;
	mdb_reader_check(s->env, &dead);
	if (!(s->dir = strdup(dir))) {
		rc = ENOMEM;
		goto fail;
	}

	for (int tries = 0;; tries++) {
		rc = mdb_txn_begin(s->env, NULL, (flags & STORE_RDONLY) ? MDB_RDONLY : 0, &txn);
		if (rc != MDB_MAP_RESIZED || tries > 3)
			break;
		/* grown by another process between our open and this transaction */
		if ((rc = mdb_env_set_mapsize(s->env, 0)) != 0)
			break;
	}
	if (rc != 0) {
		txn = NULL;
		goto fail;
	}
	for (int i = 0; i < DB_COUNT; i++) {
		unsigned dbflags = (flags & STORE_RDONLY) ? 0 : MDB_CREATE;
		if (i == DB_TOKENS || i == DB_OUTBOX)
			dbflags |= MDB_INTEGERKEY;
		rc = mdb_dbi_open(txn, db_names[i], dbflags, &s->dbi[i]);
		if (rc == MDB_NOTFOUND && i >= DB_OPTIONAL) {
			s->missing[i] = 1;
			continue;
		}
		if (rc == MDB_NOTFOUND) {
			/* A read-only open of a database made before this one existed. */
			rc = MDB_INVALID;
			goto fail;
		}
		if (rc != 0)
			goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	if (s->env)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->grow);
	free(s->dir);
	free(s);
	rc = map_err(rc);
	return rc == STORE_EMAPFULL ? THRESH_EFULL : rc;
}

void store_close(store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->grow);
	free(s->dir);
	free(s);
}

/* adopt_size - another process grew the map: take its size. Needs no
 * transaction open here, so it takes the grow lock exclusively. */
static int adopt_size(store *s)
{
	pthread_rwlock_wrlock(&s->grow);
	int rc = mdb_env_set_mapsize(s->env, 0);
	pthread_rwlock_unlock(&s->grow);
	return rc;
}

/* grow_map - double the map, unless another thread already did since
 * `seen` was read. */
static int grow_map(store *s, size_t seen)
{
	MDB_envinfo info;
	int rc = 0;
	pthread_rwlock_wrlock(&s->grow);
	mdb_env_info(s->env, &info);
	if (info.me_mapsize <= seen)
		rc = mdb_env_set_mapsize(s->env, seen * 2);
	pthread_rwlock_unlock(&s->grow);
	return rc;
}

/* txn_begin - begin a transaction holding the grow lock shared. */
static int txn_begin(store *s, int write, store_txn **out)
{
	store_txn *t = malloc(sizeof *t);
	int rc;
	if (!t)
		return THRESH_ENOMEM;
	for (int tries = 0;; tries++) {
		pthread_rwlock_rdlock(&s->grow);
		rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
		if (rc == 0)
			break;
		pthread_rwlock_unlock(&s->grow);
		if (rc == MDB_READERS_FULL && tries == 0) {
			/* slots of dead processes: clear them and try again */
			int dead = 0;
			if (mdb_reader_check(s->env, &dead) == 0 && dead > 0)
				continue;
		}
		if (rc != MDB_MAP_RESIZED || tries > 3) {
			free(t);
			return map_err(rc);
		}
		if ((rc = adopt_size(s)) != 0) {
			free(t);
			return map_err(rc);
		}
	}
	t->s = s;
	t->write = write;
	t->reset = 0;
	*out = t;
	return 0;
}

static void txn_release(store_txn *t)
{
	pthread_rwlock_unlock(&t->s->grow);
	free(t);
}

int store_read_begin(store *s, store_txn **out)
{
	if (!s || !out)
		return THRESH_EINVAL;
	return txn_begin(s, 0, out);
}

void store_read_end(store_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	if (t->reset)
		free(t); /* it holds no grow lock */
	else
		txn_release(t);
}

void store_read_reset(store_txn *t)
{
	if (!t || t->write || t->reset)
		return;
	mdb_txn_reset(t->txn);
	t->reset = 1;
	pthread_rwlock_unlock(&t->s->grow);
}

int store_read_renew(store_txn *t)
{
	if (!t || !t->reset)
		return THRESH_EINVAL;
	store *s = t->s;
	for (int tries = 0;; tries++) {
		pthread_rwlock_rdlock(&s->grow);
		int rc = mdb_txn_renew(t->txn);
		if (rc == 0) {
			t->reset = 0;
			return 0;
		}
		pthread_rwlock_unlock(&s->grow);
		/* A failed renew leaves the handle reset, to renew again or end. */
		if (rc != MDB_MAP_RESIZED || tries > 3)
			return map_err(rc);
		if ((rc = adopt_size(s)) != 0)
			return map_err(rc);
	}
}

uint64_t store_txn_id(store_txn *t)
{
	return (uint64_t)mdb_txn_id(t->txn);
}

/* map_of - the bounds of the mapping of this process that holds p, from
 * /proc/self/maps, and whether it is a shared mapping that cannot be
 * written. Returns 0, or THRESH_ENOTFOUND (no such mapping) or THRESH_ENOTSUP
 * (no /proc). */
static int map_of(const void *p, uintptr_t *lo, uintptr_t *hi, int *readonly_shared)
{
	uintptr_t a = (uintptr_t)p;
	char line[256];
	int rc = THRESH_ENOTFOUND, bol = 1;
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return THRESH_ENOTSUP;
	while (fgets(line, sizeof line, f)) {
		/* a line longer than the buffer (a long path) goes on in the next */
		int start = bol;
		bol = strchr(line, '\n') != NULL;
		unsigned long b, e;
		char perms[5];
		if (!start || sscanf(line, "%lx-%lx %4s", &b, &e, perms) != 3 || a < b || a >= e)
			continue;
		*lo = b;
		*hi = e;
		*readonly_shared = perms[1] == '-' && perms[3] == 's';
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int store_release_pages(store *s)
{
	unsigned envflags = 0;
	store_txn *t;
	MDB_cursor *cur;
	MDB_val key, val;
	uintptr_t lo, hi;
	int rc, ro;
	if (!s)
		return THRESH_EINVAL;
	/* MADV_DONTNEED on a writable shared map is not advice any more: keep
	 * off one (no environment here is opened so) */
	if (mdb_env_get_flags(s->env, &envflags) != 0 || (envflags & MDB_WRITEMAP))
		return THRESH_ENOTSUP;
	/* LMDB tells where its map is only when it is fixed (me_mapaddr of
	 * mdb_env_info): a record read in a read transaction lies in it, and
	 * the process's mapping that holds it is the map. The transaction
	 * holds the grow lock, so the map does not move meanwhile. */
	if ((rc = txn_begin(s, 0, &t)))
		return rc;
	if ((rc = mdb_cursor_open(t->txn, s->dbi[DB_META], &cur)) == 0) {
		rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
		mdb_cursor_close(cur);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0; /* an empty store: nothing read, nothing to let go of */
	else if (rc)
		rc = map_err(rc);
	else if (!(rc = map_of(key.mv_data, &lo, &hi, &ro)) && !ro)
		rc = THRESH_ENOTSUP; /* writable after all: leave it */
	else if (!rc && madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0)
		rc = map_err(errno);
	store_read_end(t);
	return rc;
}

/* commit_err - the code of a failed commit. LMDB reports a short write
 * as EIO, which is what a full disk gives: say so when the disk is full. */
static int commit_err(store *s, int rc)
{
	struct statvfs v;
	if (rc == EIO && statvfs(s->dir, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < (1u << 20))
		return THRESH_EFULL;
	return map_err(rc);
}

int store_write(store *s, int (*fn)(store_txn *t, void *ctx), void *ctx)
{
	if (!s || !fn)
		return THRESH_EINVAL;
	if (s->flags & STORE_RDONLY)
		return THRESH_EREADONLY;
	for (int attempt = 0; attempt < 40; attempt++) {
		store_txn *t;
		MDB_envinfo info;
		int rc = txn_begin(s, 1, &t);
		if (rc)
			return rc;
		mdb_env_info(s->env, &info);
		size_t seen = info.me_mapsize;
		int frc = fn(t, ctx);
		if (frc == 0) {
			int crc = mdb_txn_commit(t->txn);
			txn_release(t);
			if (crc != MDB_MAP_FULL)
				return commit_err(s, crc);
		} else {
			mdb_txn_abort(t->txn);
			txn_release(t);
			if (frc != STORE_EMAPFULL)
				return frc;
		}
		/* The map is full: grow it and run fn again from the start. */
		if (seen >= ((size_t)1 << 40))
			break;
		if ((rc = grow_map(s, seen)) != 0)
			return map_err(rc);
	}
	return THRESH_EFULL;
}

static int put(store_txn *t, int db, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
	if (!t->write)
		return THRESH_EREADONLY;
	return map_err(mdb_put(t->txn, t->s->dbi[db], &key, &val, 0));
}

static int get(store_txn *t, int db, const void *k, size_t kl, void *v, size_t vl)
{
	MDB_val key = {kl, (void *)k}, val;
	if (t->s->missing[db])
		return THRESH_ENOTFOUND;
	int rc = mdb_get(t->txn, t->s->dbi[db], &key, &val);
	if (rc)
		return map_err(rc);
	if (val.mv_size != vl)
		return THRESH_ECORRUPT;
	memcpy(v, val.mv_data, vl);
	return 0;
}

static int del(store_txn *t, int db, const void *k, size_t kl)
{
	MDB_val key = {kl, (void *)k};
	if (!t->write)
		return THRESH_EREADONLY;
	int rc = mdb_del(t->txn, t->s->dbi[db], &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int store_meta_get(store_txn *t, const char *key, void *buf, size_t size)
{
	return get(t, DB_META, key, strlen(key), buf, size);
}

int store_meta_put(store_txn *t, const char *key, const void *buf, size_t size)
{
	return put(t, DB_META, key, strlen(key), buf, size);
}

/* A token's value: spam, ham, day (12 bytes, TOK_SITE_SIZE), then the
 * prior's spam and ham when it has any (20 bytes, TOK_BOTH_SIZE), then one
 * byte of flags (COUNTS_*) when it has any (13 or 21 bytes). Format 1 had
 * 12 bytes only; format 2 12 or 20; format 3 adds the flags. Host order. */
#define TOK_SITE_SIZE (3 * sizeof(uint32_t))
#define TOK_BOTH_SIZE (5 * sizeof(uint32_t))

/* decode_counts - a stored value into c. */
static int decode_counts(const MDB_val *val, tok_counts *c)
{
	size_t n = val->mv_size;
	if (n != TOK_SITE_SIZE && n != TOK_BOTH_SIZE && n != TOK_SITE_SIZE + 1 && n != TOK_BOTH_SIZE + 1)
		return THRESH_ECORRUPT;
	memset(c, 0, sizeof *c);
	memcpy(c, val->mv_data, n & ~(size_t)3);
	if (n & 1)
		c->flags = ((const unsigned char *)val->mv_data)[n - 1];
	return 0;
}

int store_tokens_get(store_txn *t, const uint64_t *ids, size_t n, tok_counts *out)
{
	for (size_t i = 0; i < n; i++) {
		MDB_val key = {sizeof ids[i], (void *)&ids[i]}, val;
		int rc = mdb_get(t->txn, t->s->dbi[DB_TOKENS], &key, &val);
		if (rc == MDB_NOTFOUND) {
			memset(&out[i], 0, sizeof out[i]);
			continue;
		}
		if (rc)
			return map_err(rc);
		if ((rc = decode_counts(&val, &out[i])))
			return rc;
	}
	return 0;
}

static uint32_t clamp_add(uint32_t v, int64_t d)
{
	int64_t r = (int64_t)v + d;
	if (r < 0)
		return 0;
	if (r > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)r;
}

void store_counts_add(tok_counts *c, int64_t dspam, int64_t dham, uint32_t day)
{
	c->spam = clamp_add(c->spam, dspam);
	c->ham = clamp_add(c->ham, dham);
	if (day)
		c->day = day;
	if (counts_empty(c))
		memset(c, 0, sizeof *c); /* deleted: read back as zeros */
}

void store_prior_add(tok_counts *c, int64_t dpspam, int64_t dpham)
{
	c->pspam = clamp_add(c->pspam, dpspam);
	c->pham = clamp_add(c->pham, dpham);
	if (counts_empty(c))
		memset(c, 0, sizeof *c);
}

int store_token_add(store_txn *t, uint64_t id, int64_t dspam, int64_t dham, uint32_t day,
                    int64_t dpspam, int64_t dpham)
{
	tok_counts c;
	int rc = store_tokens_get(t, &id, 1, &c);
	if (rc)
		return rc;
	store_counts_add(&c, dspam, dham, day);
	store_prior_add(&c, dpspam, dpham);
	return store_token_put(t, id, &c);
}

int store_token_put(store_txn *t, uint64_t id, const tok_counts *c)
{
	unsigned char v[TOK_BOTH_SIZE + 1];
	if (counts_empty(c))
		return del(t, DB_TOKENS, &id, sizeof id);
	/* a token of the site's layer alone keeps the 12 bytes it had in
	 * format 1: a site-only model stays as small as before the prior */
	size_t n = c->pspam || c->pham ? TOK_BOTH_SIZE : TOK_SITE_SIZE;
	memcpy(v, c, n);
	if (c->flags)
		v[n++] = (unsigned char)c->flags;
	return put(t, DB_TOKENS, &id, sizeof id, v, n);
}

int store_tokens_clear(store_txn *t)
{
	int rc;
	if (!t->write)
		return THRESH_EREADONLY;
	if ((rc = mdb_drop(t->txn, t->s->dbi[DB_TOKENS], 0)) != 0 ||
	    (rc = mdb_drop(t->txn, t->s->dbi[DB_LEARNED], 0)) != 0)
		return map_err(rc);
	return t->s->missing[DB_LEGACY] ? 0 : map_err(mdb_drop(t->txn, t->s->dbi[DB_LEGACY], 0));
}

int store_tokens_foreach(store_txn *t, int (*cb)(uint64_t id, const tok_counts *c, void *ctx),
                         void *ctx)
{
	MDB_cursor *cur;
	MDB_val key, val;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[DB_TOKENS], &cur);
	if (rc)
		return map_err(rc);
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		uint64_t id;
		tok_counts c;
		if (key.mv_size != sizeof id || decode_counts(&val, &c)) {
			mdb_cursor_close(cur);
			return THRESH_ECORRUPT;
		}
		memcpy(&id, key.mv_data, sizeof id);
		int r = cb(id, &c, ctx);
		if (r) {
			mdb_cursor_close(cur);
			return r;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int store_tokens_prune(store_txn *t, uint32_t before_day, uint64_t keep_min, uint64_t *removed,
                       uint64_t *removed_spam, uint64_t *removed_ham)
{
	MDB_cursor *cur;
	MDB_val key, val;
	uint64_t n = 0, rs = 0, rh = 0;
	if (!t->write)
		return THRESH_EREADONLY;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[DB_TOKENS], &cur);
	if (rc)
		return map_err(rc);
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		tok_counts c;
		if (decode_counts(&val, &c)) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (c.pspam || c.pham)
			continue; /* the prior's tokens stay */
		if (c.day >= before_day)
			continue;
		if (keep_min && (uint64_t)c.spam + c.ham >= keep_min)
			continue;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n++;
		rs += c.spam;
		rh += c.ham;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return map_err(rc);
	*removed = n;
	*removed_spam = rs;
	*removed_ham = rh;
	return 0;
}

int store_tokens_drop(store_txn *t, uint32_t flags, uint64_t *removed)
{
	MDB_cursor *cur;
	MDB_val key, val;
	uint64_t n = 0;
	if (!t->write)
		return THRESH_EREADONLY;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[DB_TOKENS], &cur);
	if (rc)
		return map_err(rc);
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		tok_counts c;
		if (decode_counts(&val, &c)) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (!(c.flags & flags))
			continue;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return map_err(rc);
	*removed = n;
	return 0;
}

int store_learned_get(store_txn *t, const unsigned char d[16], int *label)
{
	unsigned char v = 0;
	int rc = get(t, DB_LEARNED, d, 16, &v, 1);
	if (rc == 0)
		*label = v;
	return rc;
}

int store_learned_put(store_txn *t, const unsigned char d[16], int label)
{
	unsigned char v = (unsigned char)label;
	return put(t, DB_LEARNED, d, 16, &v, 1);
}

int store_learned_del(store_txn *t, const unsigned char d[16])
{
	return del(t, DB_LEARNED, d, 16);
}

static int db_index(const char *name)
{
	for (int i = DB_LEARNED; i < DB_COUNT; i++)
		if (strcmp(db_names[i], name) == 0)
			return i;
	return -1;
}

int store_rec_get(store_txn *t, const char *db, const void *key, size_t klen, void *val, size_t size)
{
	int i = db_index(db);
	return i < 0 ? THRESH_EINVAL : get(t, i, key, klen, val, size);
}

int store_rec_put(store_txn *t, const char *db, const void *key, size_t klen, const void *val, size_t size)
{
	int i = db_index(db);
	return i < 0 ? THRESH_EINVAL : put(t, i, key, klen, val, size);
}

int store_rec_del(store_txn *t, const char *db, const void *key, size_t klen)
{
	int i = db_index(db);
	return i < 0 ? THRESH_EINVAL : del(t, i, key, klen);
}

int store_rec_foreach(store_txn *t, const char *db,
                      int (*cb)(const void *key, size_t klen, const void *val, size_t vlen, void *ctx),
                      void *ctx)
{
	return store_rec_foreach_from(t, db, NULL, 0, cb, ctx);
}

int store_rec_foreach_from(store_txn *t, const char *db, const void *from, size_t flen,
                           int (*cb)(const void *key, size_t klen, const void *val, size_t vlen,
                                     void *ctx),
                           void *ctx)
{
	MDB_cursor *cur;
	MDB_val key, val;
	int i = db_index(db), rc;
	if (i < 0)
		return THRESH_EINVAL;
	if (t->s->missing[i])
		return 0;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[i], &cur)) != 0)
		return map_err(rc);
	key.mv_size = flen;
	key.mv_data = (void *)from;
	for (rc = mdb_cursor_get(cur, &key, &val, from ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		int r = cb(key.mv_data, key.mv_size, val.mv_data, val.mv_size, ctx);
		if (r == STORE_STOP)
			break;
		if (r < 0) {
			mdb_cursor_close(cur);
			return r;
		}
		if (r == 1) {
			if (!t->write) {
				mdb_cursor_close(cur);
				return THRESH_EREADONLY;
			}
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int store_rec_clear(store_txn *t, const char *db)
{
	int i = db_index(db);
	if (i < 0)
		return THRESH_EINVAL;
	if (!t->write)
		return THRESH_EREADONLY;
	return t->s->missing[i] ? 0 : map_err(mdb_drop(t->txn, t->s->dbi[i], 0));
}

int store_meta_drop_prefix(store_txn *t, const char *prefix)
{
	MDB_cursor *cur;
	size_t n = strlen(prefix);
	MDB_val key = {n, (void *)prefix}, val;
	if (!t->write)
		return THRESH_EREADONLY;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[DB_META], &cur);
	if (rc)
		return map_err(rc);
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		if (key.mv_size < n || memcmp(key.mv_data, prefix, n) != 0)
			break; /* past the keys that begin with prefix */
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

int store_copy(store *s, const char *dir)
{
	char path[PATH_MAX];
	/* a consistent snapshot, written compactly (free pages left out) */
	int rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
	if (rc)
		return map_err(rc);
	/* LMDB makes the file as umask allows; a database's is its owner's */
	if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
		return THRESH_EINVAL;
	return chmod(path, 0600) == 0 ? 0 : map_err(errno);
}

int store_rec_count(store_txn *t, const char *db, uint64_t *n)
{
	MDB_stat st;
	int i = db_index(db), rc;
	if (i < 0)
		return THRESH_EINVAL;
	*n = 0;
	if (t->s->missing[i])
		return 0;
	if ((rc = mdb_stat(t->txn, t->s->dbi[i], &st)) != 0)
		return map_err(rc);
	*n = st.ms_entries;
	return 0;
}

int store_info_get(store_txn *t, store_info *out)
{
	MDB_stat st;
	MDB_envinfo info;
	MDB_stat envst;
	int rc;
	memset(out, 0, sizeof *out);
	if ((rc = mdb_stat(t->txn, t->s->dbi[DB_TOKENS], &st)) != 0)
		return map_err(rc);
	out->tokens = st.ms_entries;
	if ((rc = mdb_stat(t->txn, t->s->dbi[DB_LEARNED], &st)) != 0)
		return map_err(rc);
	out->learned = st.ms_entries;
	if ((rc = mdb_stat(t->txn, t->s->dbi[DB_AUTHORS], &st)) != 0)
		return map_err(rc);
	out->authors = st.ms_entries;
	if (!t->s->missing[DB_LEGACY]) {
		if ((rc = mdb_stat(t->txn, t->s->dbi[DB_LEGACY], &st)) != 0)
			return map_err(rc);
		out->legacy = st.ms_entries;
	}
	mdb_env_info(t->s->env, &info);
	mdb_env_stat(t->s->env, &envst);
	out->map_size = info.me_mapsize;
	out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * envst.ms_psize;
	return 0;
}
