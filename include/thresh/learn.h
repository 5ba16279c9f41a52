/* thresh/learn.h - train the model from moderation decisions.
 *
 * A learned comment is remembered by a digest (never its text), so learning
 * the same comment twice under one label counts once, learning it under the
 * other label moves it, and unlearning takes back exactly what was learned.
 */
#ifndef THRESH_LEARN_H
#define THRESH_LEARN_H

#include <stddef.h>
#include <stdint.h>
#include "thresh/version.h"
#include "thresh/comment.h"
#include "thresh/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Labels. */
#define THRESH_HAM 0
#define THRESH_SPAM 1

/* What a learn or unlearn did, counted per batch. */
typedef struct thresh_learn_summary {
	size_t size;        /* sizeof(thresh_learn_summary), set by the caller */
	uint64_t learned;   /* comments newly learned */
	uint64_t duplicates;/* already learned under the same label: not counted again */
	uint64_t moved;     /* learned earlier under the other label: moved */
	uint64_t unlearned; /* comments taken back */
	uint64_t not_found; /* unlearn of a comment that was not learned under that label */
} thresh_learn_summary;

typedef struct thresh_batch thresh_batch;

/* thresh_learn - learn one comment as spam or ham, in its own transaction.
 * [out] sum  optional: what happened (size must be set).
 * Returns 0, THRESH_EINVAL (bad label), THRESH_EREADONLY, THRESH_ENOMEM,
 * THRESH_EFULL or a store error; on error nothing is stored. Added in 0.1. */
THRESH_API int thresh_learn(thresh_db *db, const thresh_comment *c, int label,
                            thresh_learn_summary *sum);

/* thresh_unlearn - take back an earlier learn of c under label. Unlearning a
 * comment that was not learned under that label changes nothing and counts
 * in sum->not_found. Errors as thresh_learn. Added in 0.1. */
THRESH_API int thresh_unlearn(thresh_db *db, const thresh_comment *c, int label,
                              thresh_learn_summary *sum);

/* thresh_batch_begin - start a batch: learns and unlearns are gathered in
 * memory and stored together by thresh_batch_commit() in one transaction, so
 * a crash leaves the whole batch in or the whole batch out. A batch belongs
 * to one thread. Returns 0, THRESH_EINVAL, THRESH_EREADONLY or THRESH_ENOMEM.
 * Added in 0.1. */
THRESH_API int thresh_batch_begin(thresh_db *db, thresh_batch **out);

/* thresh_batch_learn - add a learn to the batch. The comment is tokenized now
 * and need not outlive the call. Returns 0, THRESH_EINVAL, THRESH_EUTF8 (a
 * field is not valid UTF-8) or THRESH_ENOMEM; a refused comment leaves the
 * batch as it was.
 * Added in 0.1. */
THRESH_API int thresh_batch_learn(thresh_batch *b, const thresh_comment *c, int label);

/* thresh_batch_unlearn - add an unlearn to the batch. Added in 0.1. */
THRESH_API int thresh_batch_unlearn(thresh_batch *b, const thresh_comment *c, int label);

/* thresh_batch_size - how many learns and unlearns the batch holds. Added in 0.1. */
THRESH_API size_t thresh_batch_size(const thresh_batch *b);

/* thresh_batch_commit - store the batch in one write transaction and release
 * it (also on failure, when nothing is stored).
 * [out] sum  optional: what happened. Returns 0, THRESH_EINVAL, THRESH_EFULL,
 * THRESH_ENOMEM or a store error. Added in 0.1. */
THRESH_API int thresh_batch_commit(thresh_batch *b, thresh_learn_summary *sum);

/* thresh_batch_prior - make an empty batch train the prior layer (the
 * default model a database starts from) instead of the site's own: each
 * learn adds weight comments' worth (weight 0.001 to 1000, kept to three
 * decimals) to the prior's counts, an unlearn takes it back; no digest, no
 * author record and no weighing of the prior happen. This is how the default
 * model is made from corpora of unequal worth (models/build-model.sh).
 * Returns 0 or THRESH_EINVAL (no batch, a batch with entries, or a weight
 * out of range). Added in 0.2. */
THRESH_API int thresh_batch_prior(thresh_batch *b, double weight);

/* thresh_batch_abort - drop the batch unstored. Accepts NULL. Added in 0.1. */
THRESH_API void thresh_batch_abort(thresh_batch *b);

#ifdef __cplusplus
}
#endif
#endif
