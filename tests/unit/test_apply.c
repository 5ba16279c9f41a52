/* src/lib/apply.c: applying events is exact and can be taken back exactly:
 * reverting events from their undo records, newest first, leaves the
 * database byte for byte as it was (tokens, digests, authors, totals and
 * the prior weights' losses), also for moves, unlearns and clamped counts. */
#include <criterion/criterion.h>

#include "apply.h"
#include "clusterutil.h"
#include "db_int.h"
#include "moderate.h"

#define NEV 6

struct job {
	event ev[NEV];
	int n;        /* apply ev[0..n) */
	int revert;   /* then revert the last `revert` of them */
	int result[NEV];
};

static int job_fn(store_txn *t, void *ctx)
{
	struct job *j = ctx;
	undo u[NEV];
	apply_ctx k;
	memset(u, 0, sizeof u);
	int rc = apply_begin(&k, t, 64, NULL, NULL);
	for (int i = 0; !rc && i < j->n; i++) {
		undo_reset(&u[i]);
		rc = apply_event(&k, &j->ev[i], &u[i], &j->result[i]);
	}
	for (int i = j->n - 1; !rc && i >= j->n - j->revert; i--)
		rc = apply_revert(&k, &j->ev[i], &u[i]);
	if (!rc)
		rc = apply_end(&k);
	apply_free(&k);
	for (int i = 0; i < NEV; i++)
		undo_free(&u[i]);
	return rc;
}

static uint64_t ids[NEV][40];
static unsigned char grams[NEV][40], idents[NEV][40];

/* events - learns of three comments by one author: spam, a move to ham,
 * an unlearn, a duplicate, a second author, an unlearn of nothing. */
static void events(struct job *j, thresh_db *db)
{
	model_meta m;
	cr_assert_eq(meta_read(db, 0, 1, &m), 0);
	uint64_t fp = event_keyfp(m.key);
	memset(j, 0, sizeof *j);
	for (int i = 0; i < NEV; i++) {
		event *e = &j->ev[i];
		e->tokenizer = m.tokenizer;
		e->keyfp = fp;
		e->day = 20000 + (uint32_t)i;
		e->n = 40;
		for (int t = 0; t < 40; t++) {
			/* overlapping token sets, some of them the prior's */
			ids[i][t] = 0x1000 + (uint64_t)(t * 3 + i * 5);
			grams[i][t] = t % 2;
			idents[i][t] = t % 5 == 3; /* some identity tokens */
		}
		e->ids = ids[i];
		e->gram = grams[i];
		e->ident = idents[i];
		e->has_author = 1;
		memset(e->author, i == 4 ? 0xbb : 0xaa, sizeof e->author);
		e->has_digest = 1;
		memset(e->digest, 0x11 * (1 + (i == 4)), sizeof e->digest);
	}
	j->ev[0].op = EV_LEARN, j->ev[0].label = 1;
	j->ev[1].op = EV_LEARN, j->ev[1].label = 0;   /* moved */
	j->ev[2].op = EV_LEARN, j->ev[2].label = 0;   /* duplicate */
	j->ev[3].op = EV_UNLEARN, j->ev[3].label = 0; /* unlearned */
	j->ev[4].op = EV_LEARN, j->ev[4].label = 1;   /* another comment, another author */
	j->ev[5].op = EV_UNLEARN, j->ev[5].label = 0; /* not found */
	hash_wipe(m.key, sizeof m.key);
}

Test(apply, revert_restores_every_byte)
{
	char *dir;
	thresh_db *db = tu_model_db(&dir);
	struct job j;
	events(&j, db);
	size_t l0, l1, l2;
	char *before = cu_export(db, dir, "before", &l0);
	/* all six applied and all six taken back */
	j.n = NEV;
	j.revert = NEV;
	cr_assert_eq(store_write(db->st, job_fn, &j), 0);
	cr_expect_eq(j.result[0], APPLY_LEARNED);
	cr_expect_eq(j.result[1], APPLY_MOVED);
	cr_expect_eq(j.result[2], APPLY_DUPLICATE);
	cr_expect_eq(j.result[3], APPLY_UNLEARNED);
	cr_expect_eq(j.result[4], APPLY_LEARNED);
	cr_expect_eq(j.result[5], APPLY_NOT_FOUND);
	char *after = cu_export(db, dir, "after", &l1);
	cr_expect(l0 == l1 && !memcmp(before, after, l0), "everything taken back");
	/* two applied and stored; then six applied and the last four taken back:
	 * the same as the two alone */
	j.n = 2;
	j.revert = 0;
	cr_assert_eq(store_write(db->st, job_fn, &j), 0);
	char *two = cu_export(db, dir, "two", &l2);
	cr_expect(l2 != l0 || memcmp(two, before, l0), "two learns changed the model");
	j.n = 2;
	j.revert = 2;
	cr_assert_eq(store_write(db->st, job_fn, &j), 0); /* moved and moved back, then taken back */
	free(after);
	after = cu_export(db, dir, "after2", &l1);
	cr_expect(l1 == l2 && !memcmp(two, after, l2), "moves taken back change nothing");
	free(before);
	free(after);
	free(two);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

Test(apply, authors_come_back)
{
	char *dir;
	thresh_db *db = tu_model_db(&dir);
	struct job j;
	events(&j, db);
	author_rec a;
	store_txn *t;
	j.n = 1;
	j.revert = 0;
	cr_assert_eq(store_write(db->st, job_fn, &j), 0);
	j.n = NEV;
	j.revert = NEV;
	/* learned once already: ev[0] is a duplicate, the rest as before */
	cr_assert_eq(store_write(db->st, job_fn, &j), 0);
	cr_assert_eq(store_read_begin(db->st, &t), 0);
	cr_assert_eq(store_rec_get(t, "authors", j.ev[0].author, 16, &a, sizeof a), 0);
	cr_expect_eq(a.spam, 1);
	cr_expect_eq(a.approved, 0);
	cr_expect_eq(store_rec_get(t, "authors", j.ev[4].author, 16, &a, sizeof a), THRESH_ENOTFOUND);
	store_read_end(t);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* meta_bytes - a meta key's value as stored (malloc'd, *len bytes). */
static void *meta_bytes(thresh_db *db, const char *key, size_t *len)
{
	store_txn *t;
	model_ring *r = malloc(sizeof *r);
	cr_assert_eq(store_read_begin(db->st, &t), 0);
	if (!strcmp(key, "ring")) {
		cr_assert_eq(meta_ring_get(t, r), 0);
		*len = sizeof *r;
	} else {
		model_meta m;
		cr_assert_eq(meta_load(t, &m), 0);
		hash_wipe(m.key, sizeof m.key);
		free(r);
		r = malloc(sizeof m.fits + sizeof m.preq);
		memcpy(r, &m.fits, sizeof m.fits);
		memcpy((char *)r + sizeof m.fits, m.preq, sizeof m.preq);
		*len = sizeof m.fits + sizeof m.preq;
	}
	store_read_end(t);
	return r;
}

#define MANY (MODEL_RING + 12)

struct many {
	event ev[MANY];
	uint64_t ids[MANY][24];
	unsigned char gram[MANY][24];
	int from, to;   /* apply ev[from..to) */
	int revert;     /* then revert the last `revert` of them */
};

static int many_fn(store_txn *t, void *ctx)
{
	struct many *j = ctx;
	static undo u[MANY];
	apply_ctx k;
	int rc = apply_begin(&k, t, 64, NULL, NULL), what;
	for (int i = j->from; !rc && i < j->to; i++) {
		undo_reset(&u[i]);
		rc = apply_event(&k, &j->ev[i], &u[i], &what);
	}
	for (int i = j->to - 1; !rc && i >= j->to - j->revert; i--)
		rc = apply_revert(&k, &j->ev[i], &u[i]);
	if (!rc)
		rc = apply_end(&k);
	apply_free(&k);
	for (int i = j->from; i < j->to; i++)
		undo_free(&u[i]);
	return rc;
}

/* The ring of decisions fills, wraps round, and every learn taken back
 * gives back its slot exactly: the ring, the fits and the losses are those
 * of before, bit for bit. */
Test(apply, the_ring_wraps_and_reverts_exactly)
{
	char *dir;
	thresh_db *db = tu_model_db(&dir);
	static struct many j;
	model_meta m;
	cr_assert_eq(meta_read(db, 0, 1, &m), 0);
	for (int i = 0; i < MANY; i++) {
		event *e = &j.ev[i];
		e->tokenizer = m.tokenizer;
		e->keyfp = event_keyfp(m.key);
		e->day = 20000;
		e->n = 24;
		e->op = EV_LEARN;
		e->label = i % 3 == 0;
		for (int t = 0; t < 24; t++) {
			/* a word of the class, a word of its own, the prior's */
			j.ids[i][t] = t < 8 ? 0x5000 + (uint64_t)(e->label * 8 + t)
			            : t < 16 ? 0x9000 + (uint64_t)(i * 8 + t) : 0x1000 + (uint64_t)t;
			j.gram[i][t] = 0;
		}
		e->ids = j.ids[i];
		e->gram = j.gram[i];
		memset(e->digest, 0, sizeof e->digest);
		memcpy(e->digest, &i, sizeof i);
	}
	hash_wipe(m.key, sizeof m.key);
	/* all but the last 12 learned: the ring is full and has wrapped */
	j.from = 0;
	j.to = MANY - 12;
	cr_assert_eq(store_write(db->st, many_fn, &j), 0);
	size_t lr, lf;
	model_ring *r0 = meta_bytes(db, "ring", &lr);
	void *f0 = meta_bytes(db, "fit", &lf);
	cr_expect_eq(r0->n, MODEL_RING);
	cr_expect_eq(r0->pos, (MANY - 12) % MODEL_RING, "wrapped: the next slot %u", r0->pos);
	model_meta after;
	cr_assert_eq(meta_read(db, 0, 0, &after), 0);
	cr_expect_eq(after.fits.n, MODEL_RING);
	cr_expect(after.fits.spam > 0 && after.fits.ham > 0);
	/* the last 12 learned over the oldest slots, then taken back */
	j.from = MANY - 12;
	j.to = MANY;
	j.revert = 12;
	cr_assert_eq(store_write(db->st, many_fn, &j), 0);
	size_t lr1, lf1;
	model_ring *r1 = meta_bytes(db, "ring", &lr1);
	void *f1 = meta_bytes(db, "fit", &lf1);
	cr_expect(lr1 == lr && !memcmp(r0, r1, lr), "the ring as it was");
	cr_expect(lf1 == lf && !memcmp(f0, f1, lf), "the fits and losses as they were");
	/* and learned for good, the ring moved on */
	j.revert = 0;
	cr_assert_eq(store_write(db->st, many_fn, &j), 0);
	free(r1);
	r1 = meta_bytes(db, "ring", &lr1);
	cr_expect_eq(r1->pos, MANY % MODEL_RING);
	cr_expect(memcmp(r0, r1, lr) != 0);
	free(r0);
	free(r1);
	free(f0);
	free(f1);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
