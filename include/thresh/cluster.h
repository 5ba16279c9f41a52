/* thresh/cluster.h - several nodes serving one site (added in 0.2).
 *
 * A site that runs several web servers gives each its own database folder,
 * copied from one database (so all share the model key and the identity
 * secret), and a [cluster] section in thresh.conf naming one Redis
 * (thresh.conf(5)). Scoring never leaves the node: token counts stay in the
 * local LMDB. Redis holds only what must be shared:
 *   - the rate limit: each check asks one Lua script (GCRA, the same rule as
 *     a single node's), so an author gets the rate once across all nodes;
 *     when Redis is away or slower than the timeout the node judges alone at
 *     its share of the rate (rate / nodes) and the check's reasons say
 *     "rate_local";
 *   - the training log: a learn on any node is applied to its own database
 *     at once and, in the same transaction, queued in an outbox; a
 *     replicator publishes the outbox to a Redis stream and applies the
 *     stream, in one order for all nodes, to the node's database, so every
 *     node ends with the same model. Events carry hashes only (token ids,
 *     digests, hashed authors): no comment text, e-mail or IP reaches Redis.
 * threshd runs the replicator in a thread; a host that only loads the
 * library (Apache prefork, PHP-FPM) runs `thresh replicate` beside it. Both
 * call thresh_db_replicate() in a loop.
 *
 * A library built without hiredis refuses a configured [cluster] with
 * THRESH_ECONFIG when the database is opened, saying why.
 */
#ifndef THRESH_CLUSTER_H
#define THRESH_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include "thresh/version.h"
#include "thresh/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What one round of replication did; set size before the call. */
typedef struct thresh_replicate_info {
	size_t size;          /* sizeof(thresh_replicate_info), set by the caller */
	int redis_up;         /* 1: Redis answered this round */
	int refused;          /* 1: this node may not join (another model key or secret) */
	int resynced;         /* 1: the database was brought to a snapshot of the cluster */
	int new_epoch;        /* 1: Redis was empty and this node began a new epoch */
	uint64_t published;   /* own learns appended to the log this round */
	uint64_t applied;     /* events of the log applied this round */
	uint64_t seq;         /* the last sequence of the log applied, afterwards */
	uint64_t head;        /* the last sequence of the log, as seen this round */
	char message[256];    /* what an operator should know about this round, or "" */
} thresh_replicate_info;

/* thresh_db_replicate - one round of replication: publish the own learns
 * Redis does not have yet, read one batch of the log, apply it in one
 * transaction, acknowledge it (a round that found nothing to do then waits
 * up to timeout_ms, less as soon as a learn is made on this node); make sure of the epoch first (a node new to
 * the cluster, or one whose Redis lost its data, is brought to a snapshot),
 * and now and then write a snapshot for nodes that fall behind. Call it in
 * a loop from one thread of one process per node.
 * [in]  timeout_ms  how long an idle round waits (0: not at all); it bounds
 *                   the lag a learn elsewhere waits here.
 * [out] info        optional: what happened (info->size must be set).
 * Returns 0, THRESH_EINVAL, THRESH_ENOTFOUND (no [cluster] configured),
 * THRESH_EREADONLY, THRESH_EUNAVAIL (Redis away or too slow: call again
 * later; learning goes on locally meanwhile), THRESH_EREFUSED (this node's
 * fingerprint differs from the cluster's: info->message says why; it runs
 * alone), THRESH_ENOMEM or a store error. Added in 0.2. */
THRESH_API int thresh_db_replicate(thresh_db *db, int timeout_ms, thresh_replicate_info *info);

/* thresh_db_cluster_set - set one [cluster] key for this handle, over
 * thresh.conf (a program's flags: threshd --redis, --node, --nodes). Keys
 * and values as in thresh.conf(5); setting any key makes the handle a node.
 * Call it before the first check or replication round.
 * Returns 0, THRESH_EINVAL (unknown key, bad value; NULL), THRESH_ENOTSUP
 * (built without hiredis), THRESH_ETOOBIG (too many keys set) or
 * THRESH_ENOMEM. Added in 0.2. */
THRESH_API int thresh_db_cluster_set(thresh_db *db, const char *key, const char *value);

#ifdef __cplusplus
}
#endif
#endif
