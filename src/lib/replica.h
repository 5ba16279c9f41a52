/* replica.h - a node's side of the cluster's training log, in its LMDB:
 * the outbox, the state of the log it has applied, applying a batch of the
 * log exactly, and snapshots of the confirmed state. No Redis here
 * (cluster.c carries the bytes); every function runs in LMDB transactions.
 *
 * The model of a node is its confirmed state (every event of the log up to
 * the sequence it stores, applied in log order) plus an overlay: its own
 * learns not yet seen back in the log, applied at once when learnt. Each
 * such pending learn sits in the outbox (key: its local sequence) with an
 * undo record, the exact pre-image of what it changed. A batch of the log
 * is applied in one write transaction:
 *   1. while the batch's first events are this node's own pending ones, in
 *      order, they are confirmed as they are (the overlay already holds
 *      them: nothing to redo);
 *   2. otherwise the pending overlay is taken back, newest first, from its
 *      undo records (which leaves the confirmed state, bit for bit), the
 *      batch's events are applied in log order (an own one is then applied
 *      for real and confirmed), and the learns still pending are applied
 *      again on top, with fresh undo records;
 *   3. the last sequence applied, and which local sequence of each origin
 *      it includes, are stored in the same transaction.
 * So every node's model is "the log applied in log order" plus its own
 * overlay, and once the overlays drain every node holds the same model.
 *
 * An origin's events are applied in its local order and at most once: an
 * event at or below the local sequence recorded for its origin was applied
 * already (a publish retried, or republished after Redis lost its data) and
 * is skipped. An own learn stays in the outbox after confirmation
 * (retained, without its undo) until every node has applied it, so that it
 * can be published again if Redis loses the log. */
#ifndef THRESH_REPLICA_H
#define THRESH_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "store.h"

#define REPLICA_NODES_MAX 64
#define REPLICA_EPOCH_MAX 40

typedef struct replica_origin {
	char name[CLUSTER_NAME_MAX];
	uint64_t lseq; /* the last local sequence of this origin applied */
} replica_origin;

/* What a node's confirmed state holds of the log. */
typedef struct replica_state {
	char epoch[REPLICA_EPOCH_MAX]; /* the Redis epoch it follows; "" none yet */
	uint64_t seq;                  /* the last sequence of the log applied */
	uint64_t t_ms;                 /* when that event was published (ms, Redis's clock) */
	uint64_t next;                 /* the local sequence the next own learn gets */
	size_t nv;
	replica_origin v[REPLICA_NODES_MAX];
} replica_state;

/* replica_state_get - the state stored in t (zeros for a database that never
 * joined). Returns 0 or a store error. */
int replica_state_get(store_txn *t, replica_state *s);
/* replica_state_read - the same in a read transaction of its own, with the
 * number of learns pending (not yet seen in the log) and retained. */
int replica_state_read(store *st, replica_state *s, uint64_t *pending, uint64_t *retained);
/* replica_next - the local sequence the next own learn will get (cheap: one
 * read transaction). Returns 0 or a store error. */
int replica_next(store *st, uint64_t *next);
/* replica_lseq - the last local sequence of origin name applied (0: none). */
uint64_t replica_lseq(const replica_state *s, const char *name, size_t len);

/* replica_outbox_add - an own learn applied in t (u: its undo record) to the
 * outbox, under the next local sequence. Returns 0 or a store error. */
int replica_outbox_add(store_txn *t, const event *e, const undo *u);

/* replica_outbox_migrate - every outbox entry of t rewritten for format 3
 * (migrate.h): each token id becomes map(id, &moved, ctx) (flagged an
 * identity token when moved), an event's digest of format 2 becomes its
 * legacy digest, and its undo record says so. Returns 0, THRESH_ECORRUPT
 * (an entry that does not decode), THRESH_ENOMEM or a store error. */
int replica_outbox_migrate(store_txn *t, uint64_t (*map)(uint64_t id, int *ident, void *ctx),
                           void *ctx);

/* An outbox entry to publish. */
typedef struct replica_out {
	uint64_t lseq;
	unsigned char *ev;
	size_t len;
} replica_out;

/* replica_outbox_read - the outbox's entries after local sequence after
 * (pending or retained), in order, at most max of them and about max_bytes.
 * *out is malloc'd (replica_out_free). Returns 0 or a store error. */
int replica_outbox_read(store *st, uint64_t after, size_t max, size_t max_bytes, replica_out **out,
                        size_t *n);
void replica_out_free(replica_out *o, size_t n);

/* One event of the log. */
typedef struct replica_in {
	uint64_t seq;       /* its place in the log */
	const char *node;   /* its origin */
	size_t node_len;
	uint64_t lseq;      /* its local sequence at the origin */
	uint64_t t_ms;      /* when it was published */
	const void *ev;     /* the encoded event */
	size_t ev_len;
} replica_in;

typedef struct replica_result {
	uint64_t applied;   /* events applied (own ones included) */
	uint64_t confirmed; /* own pending learns confirmed */
	uint64_t skipped;   /* events applied before (a retried or repeated publish) */
	uint64_t foreign;   /* events of another model (key or tokenizer), ignored */
	int rebased;        /* the overlay was taken back and applied again */
	uint64_t seq;       /* the last sequence applied afterwards */
} replica_result;

/* REPLICA_GAP - replica_apply's answer when the batch does not start right
 * after the last sequence applied: the log was trimmed past this node, which
 * must resync from a snapshot. */
#define REPLICA_GAP 1

/* replica_apply - apply in[0..n) (consecutive sequences; those applied
 * already are left out) in one write transaction, as the header says.
 * self: this node's name. Returns 0, REPLICA_GAP, or a store error. */
int replica_apply(store *st, const char *self, const replica_in *in, size_t n, replica_result *res);

/* replica_trim - drop retained own learns confirmed at or below sequence
 * upto (every node has applied them), and the oldest beyond keep of them.
 * Returns 0 or a store error. */
int replica_trim(store *st, uint64_t upto, uint64_t keep, uint64_t *dropped);

/* replica_snapshot_build - the confirmed state as a snapshot: the totals,
 * every token, learned digest and author record, and the origins' local
 * sequences, hashes and counts only (docs/cluster-format.md). With pending
 * learns it is built by taking them back in a write transaction that is
 * then abandoned, when may_revert; else THRESH_EBUSY. epoch: the epoch to
 * stamp it with and sequence 0 (a new epoch's base), or NULL: the stored
 * epoch and sequence. *seq gets the sequence stamped. Returns 0,
 * THRESH_EBUSY, THRESH_ENOMEM or a store error. */
int replica_snapshot_build(store *st, int may_revert, const char *epoch, unsigned char **blob,
                           size_t *len, uint64_t *seq);

/* replica_snapshot_info - the epoch and sequence a snapshot says it holds,
 * without loading it. Returns 0 or THRESH_EFORMAT. */
int replica_snapshot_info(const void *blob, size_t len, char epoch[REPLICA_EPOCH_MAX], uint64_t *seq);

/* replica_snapshot_load - replace the confirmed state with a snapshot (of the
 * same model key and tokenizer), in one write transaction; own learns the
 * snapshot does not hold are applied again on top as pending (and will be
 * published again), those it holds are confirmed. Returns 0, THRESH_EFORMAT
 * (malformed, or its check digest fails), THRESH_EREFUSED (another model),
 * THRESH_ENOMEM or a store error. */
int replica_snapshot_load(store *st, const char *self, const void *blob, size_t len);

/* replica_epoch_begin - this node's confirmed state becomes sequence 0 of a
 * new epoch (it created the epoch with a snapshot of that state). Returns
 * 0 or a store error. */
int replica_epoch_begin(store *st, const char *epoch);

#endif
