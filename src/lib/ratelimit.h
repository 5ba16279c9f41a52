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
 * A comment may count against several buckets at once (its author's and
 * its IP address's): it conforms only when it conforms to every one, and
 * then every TAT advances; otherwise none moves, so a refused comment
 * spends nothing (an author over their own rate does not use up the rate
 * of the others behind the same address), and retry_after is the longest
 * wait, after which every bucket conforms again (unless others spend the
 * shared one meanwhile).
 *
 * The read-modify-write runs in one LMDB write transaction, and LMDB
 * serialises writers across threads and processes, so the count allowed is
 * exact however many check at once. */
#ifndef THRESH_RATELIMIT_H
#define THRESH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "store.h"

typedef struct rate_rule {
	double rate;     /* comments per period; <= 0: no limit */
	double period;   /* seconds */
	unsigned burst;  /* comments at once, >= 1 */
} rate_rule;

/* One bucket a comment counts against: a hashed identity (an author's, or
 * an address's, hashed as a kind of its own) and its rule. */
typedef struct rate_bucket {
	unsigned char id[HASH_ID_BYTES];
	rate_rule rule;
} rate_bucket;

#define RATE_BUCKETS_MAX 2

/* ratelimit_check_all - account one comment against buckets b[0..n)
 * (n <= RATE_BUCKETS_MAX; a bucket whose rule is off always conforms and is
 * not stored) at time now, in one transaction.
 * [out] allowed      1 when it conforms to every bucket (all advanced).
 * [out] retry_after  the longest wait of the buckets it does not conform
 *                    to, else 0.
 * [out] refused      bit i set when it does not conform to b[i].
 * Returns 0 or a THRESH_E* code (nothing counted then). */
int ratelimit_check_all(store *rate, const rate_bucket *b, size_t n, double now, int *allowed,
                        double *retry_after, unsigned *refused);

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
