/* cluster.h - several nodes serving one site, through Redis: the shared
 * rate limit, and the training log's publisher and consumer. The nodes'
 * LMDB side (outbox, applying the log, snapshots) is replica.h; the Redis
 * connection is redis.h. Scoring never comes here: token counts stay in the
 * node's own LMDB.
 *
 * Redis keys, under the namespace NS of [cluster]:
 *   NS:fp        the cluster's fingerprint (a keyed digest of the model key
 *                and the identity secret); a node whose own differs may not
 *                join, and runs alone
 *   NS:epoch     a random id set when Redis was found empty; a new one means
 *                Redis lost its data, and every node resyncs to the new
 *                epoch's base and publishes again what it may have lost
 *   NS:lock      who is making a new epoch: taken only while there is no
 *                epoch, expiring upload_timeout after its last chunk
 *   NS:seq       the last sequence given to an event (dense, from 1)
 *   NS:log       the stream of events: id SEQ-0, fields n (origin), l (its
 *                local sequence), t (ms published), e (the event)
 *   NS:pub       origin -> the last local sequence published (a retried
 *                publish is skipped, so it is harmless)
 *   NS:progress  node -> the last sequence it has applied
 *   NS:snap, NS:snapseq   the latest snapshot of a confirmed state, and its
 *                sequence; NS:snap:tmp:NODE while one is uploaded, expiring
 *                upload_timeout after its last chunk, removed when an
 *                upload fails and when the node connects again
 *   NS:rl:ID     an author's or an IP address's rate-limit state (GCRA's TAT
 *                in microseconds), expiring when it would count as never seen
 * Each node reads NS:log in a consumer group named after itself.
 *
 * Everything here is called with a timeout and never blocks longer; a
 * failure backs off (the next calls go straight to the local fallback),
 * and a broken connection is replaced, never reused. */
#ifndef THRESH_LIB_CLUSTER_H
#define THRESH_LIB_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ratelimit.h"
#include "store.h"

typedef struct cluster cluster;

/* The fingerprint as text: 32 hex digits. */
#define CLUSTER_FP_LEN 33

/* cluster_new - the state of one handle's cluster side: connections (made
 * lazily, in the process that uses them: a forked child makes its own),
 * backoff, counters. Returns 0 or THRESH_ENOMEM. */
int cluster_new(cluster **out);
/* cluster_free - close every connection. Accepts NULL. */
void cluster_free(cluster *cl);

/* cluster_ratelimit - GCRA for one comment against buckets b[0..n) (its
 * author's and its address's; ratelimit.h) in Redis: the same rule, all of
 * them in one Lua script, so that the comment conforms to all or spends
 * none, with Redis's clock unless now > 0. A bucket whose rule is off always
 * conforms. When Redis is away, slow or refuses this node, the local
 * limiter of rate (the handle's own LMDB) decides at this node's share of
 * each: rate / nodes, burst / nodes (at least 1), and *local says so.
 * [out] refused  bit i set when b[i] refused the comment.
 * Returns 0, or an error of the local limiter. */
int cluster_ratelimit(cluster *cl, const cluster_conf *cc, const char *fp, store *rate,
                      const rate_bucket *b, size_t n, double now, int *allowed,
                      double *retry_after, unsigned *refused, int *local);

/* A rate-limit question sent to Redis and not answered yet: a check sends
 * it before it scores the comment and reads the answer after, so that the
 * round trip to Redis overlaps the scoring. */
typedef struct cluster_rate {
	struct rconn *c;    /* the connection the answer will come on; NULL: none */
	double deadline;    /* monotonic: the check's wait for Redis ends then */
	int n;              /* buckets asked about (those whose rule is on) */
	unsigned char which[RATE_BUCKETS_MAX]; /* ... each one's index in b */
	char key[RATE_BUCKETS_MAX][200], t[RATE_BUCKETS_MAX][40], tau[RATE_BUCKETS_MAX][40];
	char now[40];
} cluster_rate;

/* cluster_rate_send - ask Redis (the GCRA script) about one comment against
 * buckets b[0..n), without waiting; leaves q->c NULL when Redis is left
 * alone (backing off, refusing this node), could not be asked in time, or
 * there is nothing to ask (every rule off). Cannot fail: a question not
 * sent is decided locally by cluster_rate_recv. */
void cluster_rate_send(cluster *cl, const cluster_conf *cc, const char *fp, const rate_bucket *b,
                       size_t n, double now, cluster_rate *q);
/* cluster_rate_recv - the answer of q (asked with the same b, n and now),
 * or, Redis away or too slow, the local limiter's at this node's share (as
 * cluster_ratelimit). */
int cluster_rate_recv(cluster *cl, const cluster_conf *cc, cluster_rate *q, store *rate,
                      const rate_bucket *b, size_t n, double now, int *allowed,
                      double *retry_after, unsigned *refused, int *local);
/* cluster_rate_drop - abandon an outstanding question (its connection is
 * closed: the answer would come on it). Accepts one with none. */
void cluster_rate_drop(cluster *cl, cluster_rate *q);

/* What one round of replication did. */
typedef struct cluster_round {
	int redis_up;       /* Redis answered */
	int refused;        /* this node's fingerprint is not the cluster's */
	int resynced;       /* the state was replaced by a snapshot */
	int new_epoch;      /* this node made a new epoch (Redis was empty) */
	uint64_t published; /* own learns appended to the log */
	uint64_t applied;   /* events applied */
	uint64_t seq;       /* the last sequence applied, afterwards */
	uint64_t head;      /* the last sequence of the log, as seen */
	char message[256];  /* what an operator should know, or "" */
} cluster_round;

/* cluster_replicate - one round: make sure of the epoch (resync from a
 * snapshot when this node follows another or none), publish what the
 * outbox holds, read and apply one batch of the log, acknowledge it (an
 * idle round then waits up to wait_ms, ending when a learn is made here),
 * now and then write a snapshot and trim what
 * every node has applied. self's name, the store st. Returns 0,
 * THRESH_EUNAVAIL (Redis away: try again later), THRESH_EREFUSED, or a
 * store error. */
int cluster_replicate(cluster *cl, const cluster_conf *cc, const char *fp, store *st, int wait_ms,
                      cluster_round *out);

/* The cluster's figures for statistics. */
typedef struct cluster_figures {
	int redis_up;            /* Redis answered just now */
	uint64_t head;           /* the last sequence of the log */
	double head_age;         /* seconds since the oldest event not applied here was
	                          * published (0: none) */
	uint64_t fallbacks;      /* checks this handle rate-limited locally */
	uint64_t published, applied; /* by this handle's rounds */
} cluster_figures;

/* cluster_figures_get - ask Redis (within the timeout) for the log's head
 * and the age of the first event after applied. Cannot fail: a Redis away
 * gives redis_up 0. */
void cluster_figures_get(cluster *cl, const cluster_conf *cc, const char *fp, uint64_t applied,
                         cluster_figures *out);

#endif
