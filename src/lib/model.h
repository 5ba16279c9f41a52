/* model.h - what a database knows about its model, in its meta database:
 * the format and magic, the model key, the tokenizer's feature set, the
 * comments learned per class, and the classifier parameters.
 *
 * A check reads all of it in its own read transaction (meta_load), so the
 * settings are never older than the counts they are used with. The
 * configuration file may override parameters; that is applied on top by the
 * database handle (db_meta_load in db_int.h), not here. */
#ifndef THRESH_MODEL_H
#define THRESH_MODEL_H

#include <stdint.h>

#include "bayes.h"
#include "hash.h"
#include "store.h"

#define DB_FORMAT_VERSION 1u
#define DB_MAGIC "thresh-db"

/* Classifier parameters, in the order of the table in model.c. */
enum param_id {
	P_ROBS, P_ROBX, P_MIN_DEV, P_HOLD, P_REJECT, P_BLATANT,
	P_CLASSIFIER, P_NB_POWER, P_GRAM_WEIGHT,
	P_COUNT
};

/* Everything a check needs from meta. */
typedef struct model_meta {
	unsigned char key[HASH_MODEL_KEY_BYTES];
	uint32_t tokenizer;
	bayes_totals tot;
	double param[P_COUNT];
} model_meta;

/* meta_init - write the meta of a new, empty model: a fresh random key, the
 * default feature set, no comments, the default parameters. Returns 0 or a
 * store error. */
int meta_init(store_txn *t);

/* meta_load - read the model's meta as stored (a parameter missing from an
 * older database gets its default). The caller wipes m->key when done.
 * Returns 0, THRESH_ECORRUPT (not a thresh database), THRESH_EVERSION (a
 * format this build does not read) or a store error. */
int meta_load(store_txn *t, model_meta *m);

/* param_index - the id of a parameter name, or -1. Cannot fail. */
int param_index(const char *name);
/* param_valid - 1 when v is in the range of parameter i. Cannot fail. */
int param_valid(int i, double v);
/* param_meta_key - the meta key a parameter is stored under ("p:robs"). */
const char *param_meta_key(int i);

/* model_day - days since the epoch of time t (t <= 0: now). Cannot fail. */
uint32_t model_day(int64_t t);

#endif
