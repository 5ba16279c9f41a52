/* model.h - what a database knows about its model, in its meta database:
 * the format and magic, the model key, the tokenizer's feature set, the
 * totals of its two layers (the site's own comments and the prior, the
 * default model it started from), how well each weight of the prior has
 * predicted the site's decisions, and the classifier parameters.
 *
 * A check reads all of it in its own read transaction (meta_load), so the
 * settings are never older than the counts they are used with. The
 * configuration file may override parameters; that is applied on top by the
 * database handle (db_meta_load in db_int.h), not here.
 *
 * The prior's weight. A check counts a token as site + w * prior, w =
 * min(1, N / prior comments): the prior counts as at most N comments. N is
 * the parameter prior_comments when set; when 0 (the default) it is chosen
 * among PREQ_N candidates by the site's own decisions: before a comment is
 * learned, it is scored under every candidate and the log loss of the label
 * the moderator gave, -ln p(label), is added to that candidate's total
 * (preq[]). The candidate with the least total is in force. A prior that
 * predicts the site well keeps its full weight; one that does not (a blog
 * with a video-comment prior) gives way to the site within tens of
 * decisions. */
#ifndef THRESH_MODEL_H
#define THRESH_MODEL_H

#include <stdint.h>

#include "bayes.h"
#include "hash.h"
#include "store.h"

/* Format 3 keys identity tokens and learned digests by the site's secret
 * (migrate.h); format 2 added the prior layer; format 1 was thresh 0.1's. */
#define DB_FORMAT_VERSION 3u
#define DB_MAGIC "thresh-db"

/* Classifier parameters, in the order of the table in model.c. */
enum param_id {
	P_ROBS, P_ROBX, P_MIN_DEV, P_HOLD, P_REJECT, P_BLATANT,
	P_CLASSIFIER, P_NB_POWER, P_GRAM_WEIGHT,
	/* added in format 2 */
	P_NB_SCALE, P_NB_SHIFT, P_MIN_TOKENS, P_PRIOR_COMMENTS,
	P_COUNT
};

/* The candidates for the prior's weight, as the most comments it counts
 * as; the first is the whole prior. */
#define PREQ_N 7
extern const double preq_comments[PREQ_N];

/* The totals of one layer. The site's are whole comments; the prior's are
 * in 1/PRIOR_UNIT of a comment. */
typedef struct layer_totals {
	uint64_t spam, ham;         /* comments learned per class */
	uint64_t spam_tok, ham_tok; /* the sums of their tokens' counts, per class */
} layer_totals;

/* Everything a check needs from meta. */
typedef struct model_meta {
	unsigned char key[HASH_MODEL_KEY_BYTES];
	uint32_t tokenizer;
	layer_totals site, prior;
	double preq[PREQ_N];        /* log loss of the site's decisions under each candidate */
	double param[P_COUNT];
} model_meta;

/* meta_init - write the meta of a new, empty model: a fresh random key, the
 * default feature set, empty layers, the default parameters. Returns 0 or a
 * store error. */
int meta_init(store_txn *t);

/* meta_load - read the model's meta as stored (a parameter missing from an
 * older database gets its default). The caller wipes m->key when done.
 * Returns 0, THRESH_ECORRUPT (not a thresh database), THRESH_EVERSION (a
 * format this build does not read as it is: meta_upgrade may make it one) or
 * a store error. */
int meta_load(store_txn *t, model_meta *m);

/* meta_format - the format version stored in t's meta, into *fmt. Returns
 * 0, THRESH_ECORRUPT or a store error. */
int meta_format(store_txn *t, uint32_t *fmt);

/* meta_upgrade - bring a database of format 1 (one layer, scored by the
 * classifier of thresh 0.1) to format 2 in the write transaction t (then
 * migrate_db takes it on to format 3): its counts stay as the site's own
 * layer, the prior layer is empty, the token totals are summed from the
 * tokens, and the classifier parameters are reset to this version's
 * defaults (scores are on another scale now). A database of format 2 or
 * later is left alone. Returns 0, THRESH_EVERSION for a format it cannot
 * upgrade, or a store error. */
int meta_upgrade(store_txn *t);

/* meta_put_totals - write the totals of both layers and the log losses. */
int meta_put_totals(store_txn *t, const model_meta *m);

/* meta_recount - the token sums of both layers in m counted from t's
 * tokens, then meta_put_totals. Returns 0 or a store error. */
int meta_recount(store_txn *t, model_meta *m);

/* model_totals - the totals a check scores with: site + w * prior, where w
 * is the prior's weight in force (model.h's header comment). *comments, when
 * not NULL, gets the most comments the prior counts as (its own comments
 * when that is all of them). Cannot fail. */
void model_totals(const model_meta *m, bayes_totals *out, double *comments);

/* model_params - the classifier's parameters from m->param. Cannot fail. */
void model_params(const model_meta *m, bayes_params *out);

/* model_loss - the log loss of a comment that scored p under a candidate,
 * when the moderator's label is label (1 spam, 0 ham). Cannot fail. */
double model_loss(double p, int label);

/* param_index - the id of a parameter name, or -1. Cannot fail. */
int param_index(const char *name);
/* param_valid - 1 when v is in the range of parameter i. Cannot fail. */
int param_valid(int i, double v);
/* param_default - the default of parameter i. Cannot fail. */
double param_default(int i);
/* param_meta_key - the meta key a parameter is stored under ("p:robs"). */
const char *param_meta_key(int i);

/* model_day - days since the epoch of time t (t <= 0: now). Cannot fail. */
uint32_t model_day(int64_t t);

#endif
