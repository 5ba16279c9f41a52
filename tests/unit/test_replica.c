/* src/lib/replica.c: a node's side of the training log. Nodes that learn
 * the same comments both ways at once, each applying its own learns at
 * once, end identical once each has applied the log; a log that starts
 * with a node's own pending learns is confirmed without redoing them, and
 * the result is the same as redoing them; a publish repeated is skipped; a
 * gap is reported; a snapshot holds the confirmed state and loads exactly. */
#include <criterion/criterion.h>

#include "clusterutil.h"
#include "db_int.h"
#include "replica.h"

static const char node_conf[] = "[cluster]\nredis = unix:/nonexistent/redis.sock\n";

struct nodes {
	char *dir;
	char path[4][PATH_MAX];
	thresh_db *db[4];
};

/* start - four copies of one database with a prior (the default model), as
 * four nodes a, b, c, d. */
static void start(struct nodes *n)
{
	char *dir;
	thresh_db *seed = tu_model_db(&dir);
	thresh_db_close(seed);
	n->dir = dir;
	for (int i = 0; i < 4; i++) {
		char src[PATH_MAX];
		snprintf(src, sizeof src, "%s/db", dir);
		snprintf(n->path[i], sizeof n->path[i], "%s/node-%c", dir, 'a' + i);
		tu_copy_db(src, n->path[i]);
		n->db[i] = cu_open(n->path[i], node_conf);
		char name[2] = {(char)('a' + i), 0};
		cr_assert_eq(thresh_db_cluster_set(n->db[i], "node", name), 0);
	}
}

static void stop(struct nodes *n)
{
	for (int i = 0; i < 4; i++)
		thresh_db_close(n->db[i]);
	tu_rmtree(n->dir);
	free(n->dir);
}

static void learn(thresh_db *db, const char *text, const char *email, int label)
{
	thresh_comment *c = tu_comment(text, email);
	cr_assert_eq(thresh_learn(db, c, label, NULL), 0);
	thresh_comment_free(c);
}

/* A log being built: the events of the nodes' outboxes in a chosen order. */
struct log {
	replica_in in[64];
	replica_out *out[4];
	size_t nout[4];
	char names[4][2];
	size_t n;
};

static void outboxes(struct log *l, struct nodes *n)
{
	memset(l, 0, sizeof *l);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(replica_outbox_read(n->db[i]->st, 0, 64, 0, &l->out[i], &l->nout[i]), 0);
		l->names[i][0] = (char)('a' + i);
	}
}

/* take - node i's next unpublished event onto the log. */
static void take(struct log *l, int i, size_t k)
{
	replica_in *e = &l->in[l->n];
	e->seq = l->n + 1;
	e->node = l->names[i];
	e->node_len = 1;
	e->lseq = l->out[i][k].lseq;
	e->t_ms = 1000 + l->n;
	e->ev = l->out[i][k].ev;
	e->ev_len = l->out[i][k].len;
	l->n++;
}

static void free_log(struct log *l)
{
	for (int i = 0; i < 4; i++)
		replica_out_free(l->out[i], l->nout[i]);
}

static void apply_all(struct nodes *n, struct log *l, size_t from, size_t to)
{
	for (int i = 0; i < 4; i++) {
		replica_result r;
		char name[2] = {(char)('a' + i), 0};
		cr_assert_eq(replica_apply(n->db[i]->st, name, l->in + from, to - from, &r), 0);
		cr_expect_eq(r.seq, to);
	}
}

static uint64_t pending(thresh_db *db)
{
	replica_state s;
	uint64_t p;
	cr_assert_eq(replica_state_read(db->st, &s, &p, NULL), 0);
	return p;
}

Test(replica, the_same_comments_both_ways_converge)
{
	struct nodes n;
	struct log l;
	start(&n);
	/* a learns three comments as spam, b the same as ham, c one of its own */
	const char *texts[3] = {"cheap pills at pills.example now", "lovely garden thanks",
	                        "subscribe to my channel"};
	for (int i = 0; i < 3; i++) {
		learn(n.db[0], texts[i], "x@example.org", THRESH_SPAM);
		learn(n.db[1], texts[i], "x@example.org", THRESH_HAM);
	}
	learn(n.db[2], "a comment of c's own", "c@example.org", THRESH_HAM);
	cr_expect_eq(pending(n.db[0]), 3);
	outboxes(&l, &n);
	/* the log interleaves them: b1 a1 a2 c1 b2 b3 a3 */
	take(&l, 1, 0);
	take(&l, 0, 0);
	take(&l, 0, 1);
	take(&l, 2, 0);
	take(&l, 1, 1);
	take(&l, 1, 2);
	take(&l, 0, 2);
	/* applied in two batches (d has learnt nothing: the log alone) */
	apply_all(&n, &l, 0, 3);
	apply_all(&n, &l, 3, l.n);
	for (int i = 1; i < 4; i++)
		cu_same_export(n.db[0], n.db[i], n.dir, "after the whole log");
	for (int i = 0; i < 4; i++)
		cr_expect_eq(pending(n.db[i]), 0, "node %d's outbox drained", i);
	/* a republished event (the same origin and local sequence) is skipped */
	replica_in again = l.in[2];
	again.seq = l.n + 1;
	replica_result r;
	cr_assert_eq(replica_apply(n.db[3]->st, "d", &again, 1, &r), 0);
	cr_expect_eq(r.skipped, 1);
	cr_expect_eq(r.applied, 0);
	cu_same_export(n.db[0], n.db[3], n.dir, "after a repeated publish");
	/* a gap: the next sequence missing */
	again.seq = l.n + 3;
	cr_expect_eq(replica_apply(n.db[3]->st, "d", &again, 1, &r), REPLICA_GAP);
	free_log(&l);
	stop(&n);
}

Test(replica, own_learns_at_the_head_are_confirmed_as_they_stand)
{
	struct nodes n;
	struct log l;
	start(&n);
	for (int i = 0; i < 5; i++) {
		char t[64];
		snprintf(t, sizeof t, "comment %d of node a, words %d", i, i * 31);
		learn(n.db[0], t, "a@example.org", i % 2);
	}
	learn(n.db[1], "comment of node b", "b@example.org", THRESH_SPAM);
	outboxes(&l, &n);
	for (size_t k = 0; k < 5; k++)
		take(&l, 0, k);
	take(&l, 1, 0);
	for (int i = 0; i < 4; i++) {
		replica_result r;
		char name[2] = {(char)('a' + i), 0};
		cr_assert_eq(replica_apply(n.db[i]->st, name, l.in, 3, &r), 0);
		if (i == 0) {
			cr_expect_eq(r.confirmed, 3);
			cr_expect_eq(r.rebased, 0, "nothing to redo: the overlay holds them");
		}
		if (i == 1)
			cr_expect_eq(r.rebased, 1);
	}
	cr_expect_eq(pending(n.db[0]), 2);
	apply_all(&n, &l, 3, l.n);
	for (int i = 1; i < 4; i++)
		cu_same_export(n.db[0], n.db[i], n.dir, "after the log");
	free_log(&l);
	stop(&n);
}

Test(replica, snapshots_hold_the_confirmed_state)
{
	struct nodes n;
	struct log l;
	start(&n);
	learn(n.db[0], "confirmed comment one", "s@example.org", THRESH_SPAM);
	learn(n.db[0], "confirmed comment two", "s@example.org", THRESH_HAM);
	outboxes(&l, &n);
	take(&l, 0, 0);
	take(&l, 0, 1);
	apply_all(&n, &l, 0, l.n);
	/* a pending learn on a: the snapshot leaves it out (built by taking it
	 * back in a transaction that is then abandoned) */
	learn(n.db[0], "still pending on a", "p@example.org", THRESH_SPAM);
	unsigned char *blob;
	size_t len;
	uint64_t seq;
	cr_expect_eq(replica_snapshot_build(n.db[0]->st, 0, NULL, &blob, &len, &seq), THRESH_EBUSY);
	cr_assert_eq(replica_snapshot_build(n.db[0]->st, 1, NULL, &blob, &len, &seq), 0);
	cr_expect_eq(seq, 2);
	cr_expect_eq(pending(n.db[0]), 1, "the pending learn is still there");
	/* b, d learnt nothing more: loading the snapshot gives what they have */
	cr_assert_eq(replica_snapshot_load(n.db[3]->st, "d", blob, len), 0);
	cu_same_export(n.db[1], n.db[3], n.dir, "a snapshot of the confirmed state");
	/* c has a learn of its own pending: it stays, applied on top */
	learn(n.db[2], "c learns this meanwhile", "c@example.org", THRESH_HAM);
	cr_assert_eq(replica_snapshot_load(n.db[2]->st, "c", blob, len), 0);
	cr_expect_eq(pending(n.db[2]), 1);
	/* a damaged snapshot is refused and changes nothing */
	blob[len / 2] ^= 1;
	cr_expect_eq(replica_snapshot_load(n.db[3]->st, "d", blob, len), THRESH_EFORMAT);
	cu_same_export(n.db[1], n.db[3], n.dir, "after a damaged snapshot");
	free(blob);
	free_log(&l);
	stop(&n);
}

/* A snapshot carries the ring of the site's decisions: a node loading it
 * holds the same ring, so the same cutoffs and calibration, and goes on
 * weighing alike. One of version 2 (seven losses, no ring) loads with an
 * empty ring. */
Test(replica, snapshots_carry_the_sites_decisions)
{
	struct nodes n;
	struct log l;
	start(&n);
	for (int i = 0; i < 12; i++) {
		char text[64];
		snprintf(text, sizeof text, "decision number %d of the site", i);
		learn(n.db[0], text, NULL, i % 3 == 0 ? THRESH_SPAM : THRESH_HAM);
	}
	outboxes(&l, &n);
	for (size_t i = 0; i < 12; i++)
		take(&l, 0, i);
	apply_all(&n, &l, 0, l.n);
	unsigned char *blob;
	size_t len;
	uint64_t seq;
	cr_assert_eq(replica_snapshot_build(n.db[0]->st, 0, NULL, &blob, &len, &seq), 0);
	cr_assert_eq(replica_snapshot_load(n.db[3]->st, "d", blob, len), 0);
	cu_same_export(n.db[0], n.db[3], n.dir, "the ring came along");
	thresh_stats a = {.size = sizeof a}, d = {.size = sizeof d};
	cr_assert_eq(thresh_db_stats(n.db[0], &a), 0);
	cr_assert_eq(thresh_db_stats(n.db[3], &d), 0);
	cr_expect(a.decisions == 12 && d.decisions == 12);
	cr_expect(a.hold_cutoff == d.hold_cutoff && a.nb_scale == d.nb_scale && a.nb_shift == d.nb_shift);

	/* the same as version 2: the eighth loss and the ring cut out */
	size_t elen = blob[3], at = 4 + elen + 28 + 64 + 8 * (PREQ_N - 1);
	size_t cut = 8 + 12 + MODEL_RING * (1 + 8 + 4 * PREQ_N);
	unsigned char *v1 = malloc(len);
	memcpy(v1, blob, at);
	memcpy(v1 + at, blob + at + cut, len - at - cut);
	size_t len1 = len - cut;
	v1[2] = 2;
	hash_bytes(NULL, 0, v1, len1 - 16, v1 + len1 - 16, 16);
	cr_assert_eq(replica_snapshot_load(n.db[3]->st, "d", v1, len1), 0);
	cr_assert_eq(thresh_db_stats(n.db[3], &d), 0);
	cr_expect(d.decisions == 0 && d.calibration_from == THRESH_FROM_NEW_SITE, "an empty ring");
	cr_expect(d.spam_messages == a.spam_messages && d.ham_messages == a.ham_messages);
	free(v1);
	free(blob);
	free_log(&l);
	stop(&n);
}
