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
 * learned, it is scored under every candidate, each through its own
 * calibration as it stood (below), and the log loss of the label the
 * moderator gave, -ln p(label), is added to that candidate's total
 * (preq[]), the older losses fading (each total is first multiplied by
 * MODEL_FORGET: the site and its model change, and what a candidate did in
 * the site's first tens of decisions says little of it later). The
 * candidate with the least total among the eligible is in force (one whose
 * model counts MODEL_ELIGIBLE comments of each class: model_eligible). A
 * prior that predicts the
 * site well keeps its full weight; one that does not (a blog with a
 * video-comment prior) gives way to the site within tens of decisions. The
 * last candidate is the site alone (weight 0).
 *
 * The site's calibration and cutoffs (calib.h). The same scoring before a
 * learn keeps the comment's raw value x under every candidate, with its
 * label and its digest's first bytes, in a ring of the newest MODEL_RING
 * decisions (meta key "ring", read by learning and statistics only); an
 * unlearn, or a learn under the other label, withdraws the decision it
 * takes back. After each learn every candidate's calibration (a, b) and
 * its cutoffs on x are fitted on its column of the ring, and a calibration
 * of slower recency for checks on the column of the candidate in force,
 * held nearer the default calibration as far as that candidate's model is
 * the prior's, which the default was fitted to (meta key "fit", small: a
 * check reads it; fit_weights and fit_ridge in model.c say how). A candidate is charged the loss of its own
 * calibration as it stood before the comment, so the choice among them is
 * honest (out of sample), and a candidate with a small prior, whose raw
 * values drift as the site grows, is judged by a calibration that follows.
 *
 * A check then scores with the candidate in force: its weight, its
 * calibration for checks (in place of nb_scale and nb_shift) and cutoffs
 * blended in logit space from the new-site cutoffs (the defaults of
 * hold_cutoff and reject_cutoff) towards the site's: reject by alpha =
 * min(1, site's ham / MODEL_N0_HAM), hold by min(1, site's spam /
 * MODEL_N0_SPAM). With nothing learned that is exactly the new-site cutoffs
 * and the default calibration. A parameter set by `thresh set` (or
 * thresh.conf) is pinned: it wins over what the site's decisions give
 * (model_in_force). */
#ifndef THRESH_MODEL_H
#define THRESH_MODEL_H

#include <stdint.h>

#include "bayes.h"
#include "calib.h"
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
 * as; the first is the whole prior, the last (0) the site alone. */
#define PREQ_N 8
extern const double preq_comments[PREQ_N];

/* The site's calibration and cutoffs (see the header comment; the values
 * chosen by tests/bench, README "A new site"). A benchmark build may set any
 * but MODEL_RING (which the formats carry) with -D, to compare values by
 * leave-one-set-out (tests/bench/choose.py). */
#ifndef MODEL_RING
#define MODEL_RING 1024    /* the decisions they are fitted on, newest */
#endif
#ifndef MODEL_RIDGE
#define MODEL_RIDGE 0.1    /* the default calibration's weight, in comments ... */
#endif
#ifndef MODEL_RIDGE_PRIOR
#define MODEL_RIDGE_PRIOR 10.0 /* ... and more as far as a model is the prior's */
#endif
#ifndef MODEL_RECENCY
#define MODEL_RECENCY 0.93 /* in a calibration, each older decision weighs this much
                            * of the next newer's */
#endif
#ifndef MODEL_HOLD_POWER
#define MODEL_HOLD_POWER 4 /* a decision's weight in the hold cutoff's share of spam:
                            * (the site's comments then / now) to this power */
#endif
#ifndef MODEL_RECENCY_CHECK
#define MODEL_RECENCY_CHECK 0.99 /* the same in the calibration checks score with */
#endif
#ifndef MODEL_MATURE
#define MODEL_MATURE 10    /* comments of each class a model counts for its judgements to count fully */
#endif
#ifndef MODEL_FORGET
#define MODEL_FORGET 0.98  /* each loss weighs this much of the next newer's */
#endif
#ifndef MODEL_N0_HAM
#define MODEL_N0_HAM 200   /* ham decisions for the reject cutoff to be the site's */
#endif
#ifndef MODEL_N0_SPAM
#define MODEL_N0_SPAM 50   /* spam decisions for the hold cutoff to be the site's */
#endif
#ifndef MODEL_ELIGIBLE
#define MODEL_ELIGIBLE 20  /* comments of each class a candidate's model counts to be in force */
#endif

/* The parameters a site's decisions set unless they are pinned, as bits
 * (1 << param id) of model_meta.pinned. */
#define MODEL_PINNABLE ((1u << P_HOLD) | (1u << P_REJECT) | (1u << P_NB_SCALE) | (1u << P_NB_SHIFT))

/* The ring of the newest decisions: entry i is label[i] and x[i][j] under
 * candidate j, of the comment whose digest begins with fp[i] (8 bytes, little
 * endian); pos is the entry the next decision replaces, n how many are held.
 * A decision taken back (unlearned, or learned again under the other label)
 * is withdrawn: it keeps its slot and weighs nothing. */
enum { RING_HAM = 0, RING_SPAM = 1, RING_WITHDRAWN = 2 };
typedef struct model_ring {
	uint32_t pos, n;
	unsigned char label[MODEL_RING];
	uint64_t fp[MODEL_RING];
	float x[MODEL_RING][PREQ_N];
} model_ring;

/* Every candidate's fit on the ring, and what it was fitted on. A check
 * scores with a calibration of slower recency (MODEL_RECENCY_CHECK) than
 * the one a candidate's losses are charged with, made for the candidate in
 * force when the fits were made (cand). */
typedef struct model_fits {
	uint32_t n, ham, spam;      /* the ring's decisions */
	uint32_t cand;              /* the candidate of check_a, check_b */
	double check_a, check_b;    /* its calibration for checks */
	calib_fit c[PREQ_N];
} model_fits;

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
	unsigned pinned;            /* MODEL_PINNABLE bits: set by thresh set (or thresh.conf) */
	model_fits fits;            /* the site's calibrations and cutoffs */
} model_meta;

/* Where a value in force came from (the THRESH_FROM_* of thresh/db.h). */
typedef struct model_force {
	int cand;                   /* the candidate in force (index of preq_comments) */
	double a, b;                /* the calibration */
	int cal_from;
	double hold, reject;        /* the cutoffs */
	int hold_from, reject_from;
	double hold_alpha, reject_alpha; /* the site's share of each, 0..1 */
} model_force;

/* meta_init - write the meta of a new, empty model: a fresh random key, the
 * default feature set, empty layers, the default parameters. Returns 0 or a
 * store error. */
int meta_init(store_txn *t);

/* meta_load - read the model's meta as stored (a parameter missing from an
 * older database gets its default; without the keys of thresh 0.3 the site
 * alone's loss starts as the weight 10's, a cutoff or calibration parameter
 * that differs from its default counts as pinned, and the fits are the
 * defaults). The caller wipes m->key when done.
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

/* meta_put_fits - write m->fits. Returns 0 or a store error. */
int meta_put_fits(store_txn *t, const model_meta *m);

/* meta_put_pins - write the pinned parameters' bits. Returns 0 or a store
 * error. */
int meta_put_pins(store_txn *t, unsigned pinned);

/* meta_pins_infer - the pins of a database that has none stored: the
 * pinnable parameters whose value differs from the default. Cannot fail. */
unsigned meta_pins_infer(const double param[P_COUNT]);

/* meta_ring_get - the ring as stored (empty when there is none). Returns 0,
 * THRESH_ECORRUPT or a store error. */
int meta_ring_get(store_txn *t, model_ring *r);

/* meta_ring_put - write the ring. Returns 0 or a store error. */
int meta_ring_put(store_txn *t, const model_ring *r);

/* model_fits_make - every candidate's fit on the ring r, from the default
 * calibration (a column equal to an earlier one's copies its fit), and the
 * calibration for checks of m's candidate in force (model_candidate).
 * Cannot fail. */
void model_fits_make(const model_ring *r, const model_meta *m, model_fits *out);

/* model_fits_default - the fits of an empty ring. Cannot fail. */
void model_fits_default(model_fits *out);

/* meta_recount - the token sums of both layers in m counted from t's
 * tokens, then meta_put_totals. Returns 0 or a store error. */
int meta_recount(store_txn *t, model_meta *m);

/* model_totals - the totals a check scores with: site + w * prior, where w
 * is the prior's weight in force (model.h's header comment). *comments, when
 * not NULL, gets the most comments the prior counts as (its own comments
 * when that is all of them). Cannot fail. */
void model_totals(const model_meta *m, bayes_totals *out, double *comments);

/* model_totals_at - the same with the prior counting as at most n comments
 * (INFINITY: all of it; 0: none). Cannot fail. */
void model_totals_at(const model_meta *m, double n, bayes_totals *out, double *comments);

/* model_candidate - the candidate in force: the least loss among the
 * eligible when prior_comments is 0, else the one whose weight is nearest
 * to it. Cannot fail. */
int model_candidate(const model_meta *m);

/* model_eligible - 1 when candidate j may be in force: its model (the
 * site's comments and the prior's at its weight) counts MODEL_ELIGIBLE
 * comments of each class or more, so that a few decisions cannot hand the
 * site to a model that has barely seen one class; the whole prior always
 * may. Cannot fail. */
int model_eligible(const model_meta *m, int j);

/* model_in_force - the candidate, calibration and cutoffs a check uses,
 * and where each came from. Cannot fail. */
void model_in_force(const model_meta *m, model_force *f);

/* model_force_apply - m's parameters hold_cutoff, reject_cutoff, nb_scale
 * and nb_shift replaced by those in force (model_in_force). Cannot fail. */
void model_force_apply(model_meta *m);

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
