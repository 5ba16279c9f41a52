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

struct thresh_db {
	char *dir;
	store *st;
	unsigned flags;
	pthread_mutex_t lock;       /* guards override[] */
	double override[P_COUNT];
	unsigned char has_override[P_COUNT];
};

/* meta_load - read the model settings and apply this handle's overrides.
 * Returns 0, THRESH_ECORRUPT or THRESH_EVERSION. */
int meta_load(thresh_db *db, store_txn *t, model_meta *m);

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
