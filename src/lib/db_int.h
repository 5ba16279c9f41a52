/* db_int.h - the database handle and the model settings read from meta. */
#ifndef THRESH_DB_INT_H
#define THRESH_DB_INT_H

#include <pthread.h>
#include <stdint.h>

#include "thresh/db.h"
#include "bayes.h"
#include "hash.h"
#include "store.h"
#include "tokenize.h"

#define DB_FORMAT_VERSION 1u
#define DB_MAGIC "thresh-db"

/* Classifier parameters, in the order of the table in db.c. */
enum param_id {
	P_ROBS, P_ROBX, P_MIN_DEV, P_HOLD, P_REJECT, P_BLATANT,
	P_CLASSIFIER, P_NB_POWER, P_GRAM_WEIGHT,
	P_COUNT
};

/* Everything a check needs from meta, read in the check's own transaction so
 * it is never older than the counts it is used with. */
typedef struct model_meta {
	unsigned char key[HASH_MODEL_KEY_BYTES];
	uint32_t tokenizer;
	bayes_totals tot;
	double param[P_COUNT];
} model_meta;

struct conf;

struct thresh_db {
	char *dir;
	store *st;                  /* the model: meta, tokens, learned, authors */
	store *rate;                /* rate-limit state, no fsync per commit; NULL read-only */
	unsigned flags;
	const char *config_path;    /* the file to (re)load, NULL for none */
	int config_explicit;        /* named by the caller, not found as DIR/thresh.conf */
	char *config_buf;           /* owns config_path */
	pthread_mutex_t lock;       /* guards cf and secret */
	struct conf *cf;            /* the configuration in force (reference counted) */
	unsigned char secret[HASH_SECRET_BYTES];
	int has_secret;             /* 0 on a read-only database without a secret file */
	_Atomic unsigned long checks; /* counts rate-limited checks, to prune now and then */
	struct tok_cache *cache;    /* token counts of one snapshot in memory (under lock) */
	_Atomic unsigned misses;    /* checks since the cache went stale */
	_Atomic int building;       /* a thread is filling a new cache */
};

/* db_cache_for - a reference to the in-memory cache of the snapshot t reads,
 * or NULL: checks then read LMDB. After DB_CACHE_AFTER checks found the
 * cache stale, a background thread fills a new one from the latest snapshot. */
struct tok_cache *db_cache_for(thresh_db *db, store_txn *t);
#define DB_CACHE_AFTER 32

/* db_conf - a reference to the configuration in force (conf_unref it). */
struct conf *db_conf(thresh_db *db);

/* db_secret - copy the identity secret; 0 when there is none. */
int db_secret(thresh_db *db, unsigned char out[HASH_SECRET_BYTES]);

/* meta_load - read the model settings and apply this handle's overrides.
 * Returns 0, THRESH_ECORRUPT or THRESH_EVERSION. */
int meta_load(thresh_db *db, store_txn *t, model_meta *m);

/* meta_read - meta_load in a read transaction of its own; overrides: apply
 * this handle's thresh.conf overrides. The model key is wiped from m unless
 * keep_key. Returns as meta_load, or a store error. */
int meta_read(thresh_db *db, int overrides, int keep_key, model_meta *m);

/* meta_init - write the meta of a new, empty model with a fresh key. */
int meta_init(store_txn *t);

/* param_index - the id of a parameter name, or -1. */
int param_index(const char *name);
/* param_valid - 1 when v is in the range of parameter i. */
int param_valid(int i, double v);
/* param_meta_key - the meta key a parameter is stored under ("p:robs"). */
const char *param_meta_key(int i);

/* today - days since the epoch of time t (0: now). */
uint32_t db_day(int64_t t);

/* db_set_err - write a one-line message to an optional buffer. */
void db_set_err(char *buf, size_t size, const char *fmt, ...);

/* dump_import_into - import a dump inside a write transaction of its own;
 * used for a new database's default model and by thresh_db_import. */
int dump_import_path(store *st, const char *path, unsigned flags, char *errbuf, size_t errbuf_size);

#endif
