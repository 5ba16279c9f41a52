/* db_int.h - the database handle, shared by the files that operate on one:
 * db.c (open, close, shared state), check.c, learn.c and manage.c. Nothing
 * below them includes it. */
#ifndef THRESH_DB_INT_H
#define THRESH_DB_INT_H

#include <pthread.h>
#include <stdint.h>

#include "thresh/db.h"
#include "config.h"
#include "hash.h"
#include "model.h"
#include "store.h"

struct conf;
struct cluster;
struct thresh_view;

#define DB_CLUSTER_OVERRIDES 16
/* thresh_check's views kept between checks (check.c) */
#define DB_VIEW_POOL 8

struct thresh_db {
	char *dir;
	store *st;                  /* the model: meta, tokens, learned, authors */
	store *rate;                /* rate-limit state, no fsync per commit; NULL read-only */
	unsigned flags;
	const char *config_path;    /* the file to (re)load, NULL for none */
	int config_explicit;        /* named by the caller, not found as DIR/thresh.conf */
	char *config_buf;           /* owns config_path */
	pthread_mutex_t lock;       /* guards cf and keys */
	struct conf *cf;            /* the configuration in force (reference counted) */
	site_keys keys;             /* the identity secret and what derives from it (hash.h) */
	int has_secret;             /* 0 on a read-only database without a secret file */
	_Atomic uint64_t gen;       /* counts changes of cf and keys, made under lock */
	pthread_mutex_t pool_lock;  /* guards pool and npool */
	struct thresh_view *pool[DB_VIEW_POOL]; /* views between checks, reset (check.c) */
	size_t npool;
	_Atomic unsigned long checks; /* counts rate-limited checks, to prune now and then */
	struct tok_cache *cache;    /* token counts of one snapshot in memory (under lock) */
	_Atomic unsigned misses;    /* checks since the cache went stale */
	_Atomic int building;       /* a thread is filling a new cache */
	uint32_t upgraded_from;     /* the format this handle upgraded at open; 0: none */
	_Atomic uint64_t legacy_at; /* db_view_legacy's answer for a snapshot: its transaction
	                             * id << 1 | whether it holds legacy digests; 0: none yet */
	/* the cluster (cluster.h), under lock */
	cluster_conf clc;           /* [cluster] in force: thresh.conf's, then the overrides */
	char *clover[DB_CLUSTER_OVERRIDES][2]; /* thresh_db_cluster_set's keys and values */
	size_t nclover;
	char fp[33];                /* the cluster fingerprint of this model key and secret */
	struct cluster *cl;         /* connections and counters, made at first use */
};

/* db_cluster_conf - a copy of the [cluster] in force; returns out->on. */
int db_cluster_conf(thresh_db *db, cluster_conf *out);
/* db_cluster_on - 1 when this handle is a node of a cluster. */
int db_cluster_on(thresh_db *db);
/* db_cluster - the handle's cluster state with its fingerprint copied into
 * fp, made at the first call; NULL when out of memory. */
struct cluster *db_cluster(thresh_db *db, char fp[33]);
/* db_cluster_refresh - recompute the fingerprint and the [cluster] in force
 * (after the configuration, the secret or the model key changed). */
void db_cluster_refresh(thresh_db *db);

/* db_cache_for - a reference to the in-memory cache of the snapshot t reads
 * with the totals tot, or NULL: checks then read LMDB. After DB_CACHE_AFTER
 * checks found the cache stale, a background thread fills a new one from
 * the latest snapshot. */
struct tok_cache *db_cache_for(thresh_db *db, store_txn *t, const bayes_totals *tot);
#define DB_CACHE_AFTER 32

/* view_pool_free - close the views thresh_check keeps (check.c); by
 * thresh_db_close, before the store closes. */
void view_pool_free(thresh_db *db);

/* db_conf - a reference to the configuration in force (conf_unref it). */
struct conf *db_conf(thresh_db *db);

/* db_keys - copy the site's keys (the identity secret and its derived
 * keys); 0 when there is none (then out is left alone). */
int db_keys(thresh_db *db, site_keys *out);

/* db_set_keys - make k the handle's keys (after a rotation). */
void db_set_keys(thresh_db *db, const site_keys *k);

/* db_has_legacy - *legacy set to 1 when the database holds learned digests
 * of format 2 (store.h, "legacy"), which a check and a learn must then
 * compute too. Returns 0 or a store error. */
int db_has_legacy(thresh_db *db, int *legacy);

/* db_view_legacy - the same for the snapshot t reads, remembered for the
 * latest transaction id seen, so the checks of one snapshot ask LMDB once.
 * Returns 0 or a store error. */
int db_view_legacy(thresh_db *db, store_txn *t, int *legacy);

/* db_meta_load - meta_load, with the parameters the configuration in force
 * overrides applied (and pinned, model.h); the values the site's decisions
 * set are not applied (model_force_apply does). Returns as meta_load. */
int db_meta_load(thresh_db *db, store_txn *t, model_meta *m);

/* meta_read - the model's meta in a read transaction of its own; overrides:
 * apply the configuration's (db_meta_load), else the stored values. The
 * model key is wiped from m unless keep_key. Returns as meta_load, or a
 * store error. */
int meta_read(thresh_db *db, int overrides, int keep_key, model_meta *m);

#endif
