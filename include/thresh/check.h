/* thresh/check.h - check a comment: score, verdict, reasons, explanation.
 */
#ifndef THRESH_CHECK_H
#define THRESH_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include "thresh/version.h"
#include "thresh/comment.h"
#include "thresh/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Verdicts, in rising order of severity. */
typedef enum thresh_verdict {
	THRESH_ACCEPT = 0, /* publish */
	THRESH_HOLD = 1,   /* put in the moderation queue */
	THRESH_REJECT = 2  /* spam */
} thresh_verdict;

/* Flags of thresh_check(). */
#define THRESH_CHECK_EXPLAIN 0x1u  /* keep the tokens that weighed most */
#define THRESH_CHECK_READONLY 0x2u /* score and rules only: no rate-limit or author state changes */

typedef struct thresh_result thresh_result;
typedef struct thresh_view thresh_view;

/* thresh_check - score a comment and decide what to do with it, against
 * the newest snapshot of the model and the configuration in force.
 * [in]  db     the database.
 * [in]  c      the comment.
 * [in]  flags  THRESH_CHECK_*.
 * [out] out    the result, released with thresh_result_free().
 * Between checks the handle keeps up to 8 of the read transactions checks
 * read in (each holds one of the 510 slots of LMDB's reader table, which
 * every process with the folder open shares) until thresh_db_close().
 * Returns 0, THRESH_EINVAL, THRESH_ENOMEM or a store error. Added in 0.1. */
THRESH_API int thresh_check(thresh_db *db, const thresh_comment *c,
                            unsigned flags, thresh_result **out);

/* thresh_view_open - a consistent read-only view of the model, for scoring
 * many comments against the same snapshot in one read transaction. A view
 * belongs to one thread at a time. Checks through a view are always
 * THRESH_CHECK_READONLY.
 * Returns 0, THRESH_EINVAL, THRESH_ENOMEM, THRESH_EBUSY or a store error.
 * Added in 0.1. */
THRESH_API int thresh_view_open(thresh_db *db, thresh_view **out);

/* thresh_view_check - like thresh_check, against the view's snapshot.
 * Added in 0.1. */
THRESH_API int thresh_view_check(thresh_view *v, const thresh_comment *c,
                                 unsigned flags, thresh_result **out);

/* thresh_view_close - end the view. Accepts NULL. Added in 0.1. */
THRESH_API void thresh_view_close(thresh_view *v);

/* thresh_result_free - release a result. Accepts NULL. Added in 0.1. */
THRESH_API void thresh_result_free(thresh_result *r);

/* The getters below cannot fail; given NULL they return ACCEPT, 0, or NULL. */

/* The verdict. Added in 0.1. */
THRESH_API thresh_verdict thresh_result_verdict(const thresh_result *r);
/* The spam probability in [0, 1] from the classifier. Added in 0.1. */
THRESH_API double thresh_result_score(const thresh_result *r);
/* 1 when the comment is blatant spam that a site may drop unseen. Added in 0.1. */
THRESH_API int thresh_result_blatant(const thresh_result *r);
/* Seconds until the author may post again when rate-limited, else 0. Added in 0.1. */
THRESH_API double thresh_result_retry_after(const thresh_result *r);
/* The number of reasons that fired. Added in 0.1. */
THRESH_API size_t thresh_result_reason_count(const thresh_result *r);
/* Reason i as a stable name ("bayes", "rate_limited", ...), NULL past the end.
 * Added in 0.1. */
THRESH_API const char *thresh_result_reason(const thresh_result *r, size_t i);
/* The number of explanation tokens (0 without THRESH_CHECK_EXPLAIN). Added in 0.1. */
THRESH_API size_t thresh_result_token_count(const thresh_result *r);

/* thresh_result_token - explanation token i, strongest first.
 * [out] text   the token as the tokenizer made it ("url-host:example.com"), owned by r.
 * [out] prob   its spam probability estimate.
 * [out] spam   comments learned as spam that had it: the site's own and the
 *              default model's (the prior) at the weight it has now, rounded.
 * [out] ham    the same for ham.
 * Any out-pointer may be NULL. Returns 0 or THRESH_EINVAL (i out of range).
 * Added in 0.1. */
THRESH_API int thresh_result_token(const thresh_result *r, size_t i, const char **text,
                                   double *prob, uint64_t *spam, uint64_t *ham);

/* thresh_verdict_name - "accept", "hold" or "reject" ("unknown" otherwise).
 * Cannot fail. Added in 0.1. */
THRESH_API const char *thresh_verdict_name(thresh_verdict v);

#ifdef __cplusplus
}
#endif
#endif
