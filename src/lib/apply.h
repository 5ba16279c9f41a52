/* apply.h - applying events to the model in one write transaction: the one
 * code path of every learn, whether it came from a local batch (learn.c) or
 * from the cluster's log (replica.c).
 *
 * Each learned comment is remembered in `learned` by its digest and label:
 *   learn L, not learned       -> counts += tokens under L          (learned)
 *   learn L, learned as L      -> nothing                           (duplicate)
 *   learn L, learned as not-L  -> tokens move from not-L to L       (moved)
 *   unlearn L, learned as L    -> counts -= tokens under L          (unlearned)
 *   unlearn L, otherwise       -> nothing                           (not_found)
 * The author (hashed e-mail, else hashed IP) gets the same change in
 * `authors`: learning ham counts an approved comment, spam a spam one.
 * Before a comment is learned, it is scored under each candidate weight of
 * the prior: with a prior, the log loss of its label under each candidate's
 * own calibration is added to that candidate's total; with or without, its
 * values join the ring of the site's decisions and every candidate's
 * calibration and cutoffs are fitted again (model.h, calib.h).
 *
 * A transaction's events change the counts of the same tokens many times
 * over (a word in a hundred comments). apply_begin reads each token once
 * into an idmap, every change is replayed on it in order, with exactly the
 * clamping and deletion rules of the store (store_counts_add,
 * store_prior_add), and apply_end writes each token once, in key order.
 * The totals follow the counts as they really change (a clamped
 * subtraction changes less).
 *
 * Application is a deterministic function of the state and the event:
 * the same events applied in the same order to the same state leave the
 * same state, bit for bit, on any node. With an undo record (event.h) an
 * event can be taken back exactly (apply_revert). */
#ifndef THRESH_APPLY_H
#define THRESH_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "bayes.h"
#include "event.h"
#include "idmap.h"
#include "model.h"
#include "store.h"

/* What an event did. */
enum apply_result { APPLY_LEARNED, APPLY_DUPLICATE, APPLY_MOVED, APPLY_UNLEARNED, APPLY_NOT_FOUND };

typedef struct apply_ctx {
	store_txn *t;
	idmap dt;           /* token id -> counts as the transaction leaves them */
	model_meta m;       /* the totals as the transaction leaves them */
	bayes_params bp;    /* the classifier the prior weights' losses are scored with */
	undo *u;            /* the undo record being filled, or NULL */
	int first;          /* the first change of the event's tokens (records pre-images) */
	struct apply_seen { /* scratch: the seen tokens of the event being weighed */
		tok_counts c;
		unsigned char gram;
	} *seen;
	size_t seen_cap;
	unsigned pinned;    /* parameters pinned (model.h): the stored pins, and the
	                     * caller's thresh.conf overrides when bp is its own */
	model_ring *ring;   /* the site's decisions, read at the first need; NULL before */
	int ring_dirty;     /* the ring changed: written at the end */
	int fits_dirty;     /* m.fits are not the ring's yet */
} apply_ctx;

/* apply_begin - start applying in the write transaction t: meta read (the
 * key is wiped from k->m at once), room for about expect token ids. bp: the
 * classifier to weigh the prior with; NULL: the parameters stored in t (a
 * node of a cluster, so every node weighs alike whatever its thresh.conf).
 * Returns 0 or a store / meta error; on error apply_free still applies. */
int apply_begin(apply_ctx *k, store_txn *t, size_t expect, const bayes_params *bp,
                unsigned char key_out[HASH_MODEL_KEY_BYTES]);

/* apply_event - the site's layer learns e; *result says how (APPLY_*).
 * u: when not NULL, filled with the exact pre-image of what e changed.
 * Returns 0 or a store error / THRESH_ENOMEM. */
int apply_event(apply_ctx *k, const event *e, undo *u, int *result);

/* apply_prior - the prior's layer learns (or unlearns) e, weight
 * thousandths of a comment per comment: counts only, no digest, author or
 * loss. Returns 0 or a store error / THRESH_ENOMEM. */
int apply_prior(apply_ctx *k, const event *e, uint32_t weight);

/* apply_revert - take back an event applied with undo record u (the
 * latest event not yet reverted; e is that event). Returns 0 or a store
 * error / THRESH_ENOMEM. */
int apply_revert(apply_ctx *k, const event *e, const undo *u);

/* apply_end - write the tokens and totals into the transaction. The
 * context must then be freed. Returns 0 or a store error. */
int apply_end(apply_ctx *k);

/* apply_free - release the context. Accepts one whose begin failed. */
void apply_free(apply_ctx *k);

#endif
