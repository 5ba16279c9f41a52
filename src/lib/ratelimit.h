/* ratelimit.h - GCRA (the generic cell rate algorithm) per hashed author.
 *
 * Each author key holds one number, its theoretical arrival time (TAT).
 * With emission interval T = period / rate and tolerance tau = T * (burst-1),
 * a comment at time t conforms when max(TAT, t) - t <= tau; then
 * TAT = max(TAT, t) + T. Otherwise it is refused with
 * retry_after = max(TAT, t) - tau - t, and TAT is left as it was.
 * Example: rate 5 per 60 s, burst 3 -> T = 12 s, tau = 24 s: three comments
 * at once conform, the fourth waits 12 s.
 *
 * The read-modify-write runs in one LMDB write transaction, and LMDB
 * serialises writers across threads and processes, so the count allowed is
 * exact however many check at once. */
#ifndef THRESH_RATELIMIT_H
#define THRESH_RATELIMIT_H

#include <stdint.h>
#include "hash.h"
#include "store.h"

typedef struct rate_rule {
	double rate;     /* comments per period; <= 0: no limit */
	double period;   /* seconds */
	unsigned burst;  /* comments at once, >= 1 */
} rate_rule;

/* ratelimit_check - account one comment of `id` at time now (seconds).
 * [out] allowed      1 when it conforms.
 * [out] retry_after  seconds to wait when it does not, else 0.
 * Returns 0 or a THRESH_E* code (nothing counted then). */
int ratelimit_check(store *rate, const unsigned char id[HASH_ID_BYTES], double now,
                    const rate_rule *rule, int *allowed, double *retry_after);

/* ratelimit_prune - forget authors whose TAT lies in the past (they are as
 * if never seen). [out] removed  optional count. */
int ratelimit_prune(store *rate, double now, uint64_t *removed);

#endif
