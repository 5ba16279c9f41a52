/* apply.c - see apply.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "thresh/learn.h"
#include "apply.h"
#include "moderate.h"

_Static_assert(sizeof(author_rec) == 16, "undo.author_rec holds an author_rec");

int apply_begin(apply_ctx *k, store_txn *t, size_t expect, const bayes_params *bp,
                unsigned char key_out[HASH_MODEL_KEY_BYTES])
{
	int rc;
	memset(k, 0, sizeof *k);
	k->t = t;
	if ((rc = meta_load(t, &k->m)))
		return rc;
	if (key_out)
		memcpy(key_out, k->m.key, HASH_MODEL_KEY_BYTES);
	hash_wipe(k->m.key, sizeof k->m.key);
	if (bp)
		k->bp = *bp;
	else
		model_params(&k->m, &k->bp);
	k->pinned = k->m.pinned;
	/* A comment's tokens are distinct, but a batch repeats most of them:
	 * about one id in four is new to the batch in both corpora. */
	return idmap_init(&k->dt, expect);
}

void apply_free(apply_ctx *k)
{
	idmap_free(&k->dt);
	free(k->seen);
	k->seen = NULL;
	free(k->ring);
	k->ring = NULL;
}

/* ring_load - the ring of decisions, read the first time. Returns 0, a
 * store error or THRESH_ENOMEM. */
static int ring_load(apply_ctx *k)
{
	if (k->ring)
		return 0;
	if (!(k->ring = malloc(sizeof *k->ring)))
		return THRESH_ENOMEM;
	int rc = meta_ring_get(k->t, k->ring);
	if (rc) {
		free(k->ring);
		k->ring = NULL;
	}
	return rc;
}

/* fits_make - the candidates' fits of the ring as it stands. */
static void fits_make(apply_ctx *k)
{
	if (!k->fits_dirty)
		return;
	model_fits_make(k->ring, &k->m, &k->m.fits);
	k->fits_dirty = 0;
}

/* digest_fp - the first 8 bytes of a comment's digest, little endian: how
 * the ring knows a decision again. */
static uint64_t digest_fp(const unsigned char *d)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | d[i];
	return v;
}

/* ring_push - the decision (label, x under every candidate) into the ring,
 * over its oldest when full; the slot's pre-image into the undo record. */
static void ring_push(apply_ctx *k, const event *e, int label, const double x[PREQ_N])
{
	model_ring *r = k->ring;
	uint32_t p = r->pos;
	if (k->u) {
		k->u->ring_had = 1;
		k->u->ring_pos = p;
		k->u->ring_n = r->n;
		k->u->ring_label = r->label[p];
		k->u->ring_fp = r->fp[p];
		memcpy(k->u->ring_x, r->x[p], sizeof k->u->ring_x);
	}
	r->fp[p] = digest_fp(e->digest);
	r->label[p] = (unsigned char)(label ? RING_SPAM : RING_HAM);
	for (int j = 0; j < PREQ_N; j++)
		r->x[p][j] = (float)x[j];
	r->pos = (p + 1) % MODEL_RING;
	if (r->n < MODEL_RING)
		r->n++;
	k->ring_dirty = k->fits_dirty = 1;
}

/* ring_withdraw - the newest standing decision of e's comment under label
 * withdrawn (it was taken back), when the ring still holds it; the slot
 * into the undo record. Returns 0 or an error of ring_load. */
static int ring_withdraw(apply_ctx *k, const event *e, int label)
{
	int rc = ring_load(k);
	if (rc)
		return rc;
	model_ring *r = k->ring;
	uint64_t fp = digest_fp(e->digest);
	unsigned char want = (unsigned char)(label ? RING_SPAM : RING_HAM);
	for (uint32_t age = 0; age < r->n; age++) {
		uint32_t i = (r->pos + MODEL_RING - 1 - age) % MODEL_RING;
		if (r->fp[i] != fp || r->label[i] != want)
			continue;
		if (k->u) {
			k->u->ring_wd = 1;
			k->u->ring_wd_pos = i;
			k->u->ring_wd_label = want;
		}
		r->label[i] = RING_WITHDRAWN;
		k->ring_dirty = k->fits_dirty = 1;
		break;
	}
	return 0;
}

/* delta_get - the in-memory counts of id, read from the store the first
 * time; NULL with *rc set on failure. */
static tok_counts *delta_get(apply_ctx *k, uint64_t id, int *rc)
{
	int added;
	tok_counts *c = idmap_add(&k->dt, id, &added);
	if (!c)
		*rc = THRESH_ENOMEM;
	else if (added && (*rc = store_tokens_get(k->t, &id, 1, c)))
		c = NULL; /* the zeros it was added with stand; the transaction fails anyway */
	return c;
}

/* add_tokens - add d comments under label to every token of e, in the
 * site's layer, or the prior's (d * prior thousandths) when prior is set.
 * The first change of an event's tokens records their pre-images. */
static int add_tokens(apply_ctx *k, const event *e, int label, int64_t d, uint32_t prior)
{
	layer_totals *l = prior ? &k->m.prior : &k->m.site;
	uint64_t *sum = label ? &l->spam_tok : &l->ham_tok;
	int record = k->u && k->first;
	k->first = 0;
	for (size_t i = 0; i < e->n; i++) {
		int rc = 0;
		tok_counts *c = delta_get(k, e->ids[i], &rc);
		if (!c)
			return rc;
		if (record && (rc = undo_add_tok(k->u, e->ids[i], c->spam, c->ham, c->day)))
			return rc;
		uint32_t *v = prior ? (label ? &c->pspam : &c->pham) : (label ? &c->spam : &c->ham);
		uint32_t before = *v;
		if (prior) {
			store_prior_add(c, label ? d * prior : 0, label ? 0 : d * prior);
		} else {
			store_counts_add(c, label ? d : 0, label ? 0 : d, d > 0 ? e->day : 0);
			/* an identity token stays one while it has counts */
			if (d > 0 && e->ident && e->ident[i] && !counts_empty(c))
				c->flags |= COUNTS_IDENTITY;
		}
		*sum = *sum - before + *v; /* the sum holds before, so this never goes below 0 */
	}
	return 0;
}

/* add_comments - add d comments under label to a layer's total (by: one
 * comment's worth). */
static void add_comments(layer_totals *l, int label, int64_t d, uint64_t by)
{
	uint64_t *n = label ? &l->spam : &l->ham;
	if (d > 0)
		*n = *n > UINT64_MAX - by ? UINT64_MAX : *n + by;
	else
		*n = *n > by ? *n - by : 0;
}

/* score_losses - before the site learns e under label: its value x under
 * each candidate weight of the prior; with a prior, the log loss of each
 * under its calibration as it stands added to preq; then x into the ring.
 * Each token's counts are read once (into k->seen), not once per candidate:
 * the arithmetic, and so every bit of preq, is that of a token-by-token
 * reading. Without a prior every candidate is the site alone: x is made
 * once, and there is nothing to weigh. */
static int score_losses(apply_ctx *k, const event *e, int label, int had)
{
	double x[PREQ_N], loss[PREQ_N];
	int rc, prior = k->m.prior.spam + k->m.prior.ham > 0;
	if ((rc = ring_load(k)))
		return rc;
	if (e->n > k->seen_cap) {
		size_t cap = k->seen_cap ? k->seen_cap : 256;
		while (cap < e->n)
			cap *= 2;
		void *p = realloc(k->seen, cap * sizeof *k->seen);
		if (!p)
			return THRESH_ENOMEM;
		k->seen = p;
		k->seen_cap = cap;
	}
	size_t m = 0;
	for (size_t i = 0; i < e->n; i++) {
		const tok_counts *c = delta_get(k, e->ids[i], &rc);
		if (!c)
			return rc;
		if (!bayes_seen(c))
			continue;
		k->seen[m].c = *c;
		k->seen[m].gram = e->gram[i];
		m++;
	}
	for (int j = 0; j < PREQ_N; j++) {
		bayes_totals tot;
		double z = 0;
		if (!prior && j) {
			x[j] = x[0];
			continue;
		}
		model_totals_at(&k->m, preq_comments[j], &tot, NULL);
		double base = bayes_llr_base(&tot);
		for (size_t i = 0; i < m; i++) {
			double l = bayes_token_llr_at(&k->seen[i].c, tot.w, base);
			z += k->seen[i].gram ? k->bp.gram_weight * l : l;
		}
		x[j] = m ? z / pow((double)m, k->bp.nb_power) : 0;
	}
	if (prior) {
		int pinned = (k->pinned & ((1u << P_NB_SCALE) | (1u << P_NB_SHIFT))) != 0;
		fits_make(k);
		for (int j = 0; j < PREQ_N; j++) {
			double a = pinned ? k->bp.nb_scale : k->m.fits.c[j].a;
			double b = pinned ? k->bp.nb_shift : k->m.fits.c[j].b;
			loss[j] = model_loss(1 / (1 + exp(-(a * x[j] + b))), label);
		}
		for (int j = 0; j < PREQ_N; j++)
			k->m.preq[j] = MODEL_FORGET * k->m.preq[j] + loss[j];
	}
	if (had >= 0 && (rc = ring_withdraw(k, e, had)))
		return rc; /* moved: the decision it had stands no more */
	ring_push(k, e, label, x);
	return 0;
}

/* author_add - change the author's record of e: d comments under label.
 * The first change of an event records the record's pre-image. */
static int author_add(apply_ctx *k, const event *e, int label, int d)
{
	author_rec a;
	if (!e->has_author)
		return 0;
	int rc = store_rec_get(k->t, "authors", e->author, HASH_ID_BYTES, &a, sizeof a);
	if (rc == THRESH_ENOTFOUND)
		memset(&a, 0, sizeof a);
	else if (rc)
		return rc;
	if (k->u && !k->u->has_author) {
		k->u->has_author = 1;
		k->u->author_had = rc == 0;
		memcpy(k->u->author_rec, &a, sizeof a);
	}
	uint32_t *n = label == THRESH_SPAM ? &a.spam : &a.approved;
	if (d < 0 && *n == 0)
		return 0;
	*n = d < 0 ? *n - 1 : *n + 1;
	if (d > 0) {
		if (!a.first_day)
			a.first_day = e->day;
		if (e->day > a.last_day)
			a.last_day = e->day;
	}
	if (a.approved == 0 && a.spam == 0)
		return store_rec_del(k->t, "authors", e->author, HASH_ID_BYTES);
	return store_rec_put(k->t, "authors", e->author, HASH_ID_BYTES, &a, sizeof a);
}

/* label_get - the label a digest table holds for d: -1 none. */
static int label_get(store_txn *t, int legacy, const unsigned char d[HASH_DIGEST_BYTES], int *label)
{
	unsigned char v;
	int rc = legacy ? store_rec_get(t, "legacy", d, HASH_DIGEST_BYTES, &v, 1)
	                : store_learned_get(t, d, label);
	if (rc == THRESH_ENOTFOUND) {
		*label = -1;
		return 0;
	}
	if (!rc && legacy)
		*label = v ? 1 : 0;
	return rc;
}

/* label_set - set (label >= 0) or delete (-1) d's label in a digest table. */
static int label_set(store_txn *t, int legacy, const unsigned char d[HASH_DIGEST_BYTES], int label)
{
	unsigned char v = (unsigned char)label;
	if (label < 0)
		return legacy ? store_rec_del(t, "legacy", d, HASH_DIGEST_BYTES) : store_learned_del(t, d);
	return legacy ? store_rec_put(t, "legacy", d, HASH_DIGEST_BYTES, &v, 1)
	              : store_learned_put(t, d, label);
}

/* remember - after e: its comment learned under label (-1: not learned).
 * It is remembered by its own digest; a legacy entry of it is dropped, so
 * the legacy table only shrinks as the comments learned before format 3
 * come back. An event of version 1 has the legacy digest alone: it stays
 * there. */
static int remember(apply_ctx *k, const event *e, int label)
{
	int rc = 0;
	if (e->has_digest) {
		if ((rc = label_set(k->t, 0, e->digest, label)))
			return rc;
		if (e->has_legacy)
			rc = label_set(k->t, 1, e->legacy, -1);
	} else if (e->has_legacy) {
		rc = label_set(k->t, 1, e->legacy, label);
	}
	return rc;
}

int apply_event(apply_ctx *k, const event *e, undo *u, int *result)
{
	int had = -1, old = -1, rc;
	if ((e->has_digest && (rc = label_get(k->t, 0, e->digest, &had))) ||
	    (e->has_legacy && (rc = label_get(k->t, 1, e->legacy, &old))))
		return rc;
	k->u = u;
	k->first = 1;
	if (u) {
		undo_reset(u);
		u->learned = had;
		u->legacy = old;
		u->site = k->m.site;
		memcpy(u->preq, k->m.preq, sizeof u->preq);
	}
	if (had < 0)
		had = old; /* learned before format 3 */
	if (e->op == EV_LEARN) {
		if (had == e->label) {
			*result = APPLY_DUPLICATE;
			return old >= 0 ? remember(k, e, e->label) : 0;
		}
		if ((rc = score_losses(k, e, e->label, had)))
			return rc;
		if (had >= 0) {
			if ((rc = add_tokens(k, e, had, -1, 0)) || (rc = author_add(k, e, had, -1)))
				return rc;
			add_comments(&k->m.site, had, -1, 1);
			*result = APPLY_MOVED;
		} else {
			*result = APPLY_LEARNED;
		}
		if ((rc = add_tokens(k, e, e->label, 1, 0)) || (rc = author_add(k, e, e->label, 1)) ||
		    (rc = remember(k, e, e->label)))
			return rc;
		add_comments(&k->m.site, e->label, 1, 1);
		return 0;
	}
	if (had != e->label) {
		*result = APPLY_NOT_FOUND;
		return 0;
	}
	if ((rc = add_tokens(k, e, e->label, -1, 0)) || (rc = author_add(k, e, e->label, -1)) ||
	    (rc = remember(k, e, -1)) || (rc = ring_withdraw(k, e, e->label)))
		return rc;
	add_comments(&k->m.site, e->label, -1, 1);
	*result = APPLY_UNLEARNED;
	return 0;
}

int apply_prior(apply_ctx *k, const event *e, uint32_t weight)
{
	int64_t d = e->op == EV_LEARN ? 1 : -1;
	k->u = NULL;
	int rc = add_tokens(k, e, e->label, d, weight);
	if (!rc)
		add_comments(&k->m.prior, e->label, d, weight);
	return rc;
}

int apply_revert(apply_ctx *k, const event *e, const undo *u)
{
	int rc;
	for (size_t i = 0; i < u->n; i++) {
		tok_counts *c = delta_get(k, u->tok[i].id, &rc);
		if (!c)
			return rc;
		/* Events change the site's layer only: the prior's counts stay. */
		c->spam = u->tok[i].spam;
		c->ham = u->tok[i].ham;
		c->day = u->tok[i].day;
		if (counts_empty(c))
			memset(c, 0, sizeof *c);
	}
	if ((e->has_digest && (rc = label_set(k->t, 0, e->digest, u->learned))) ||
	    (e->has_legacy && (rc = label_set(k->t, 1, e->legacy, u->legacy))))
		return rc;
	if (u->has_author) {
		rc = u->author_had ? store_rec_put(k->t, "authors", e->author, HASH_ID_BYTES, u->author_rec,
		                                   sizeof u->author_rec)
		                   : store_rec_del(k->t, "authors", e->author, HASH_ID_BYTES);
		if (rc)
			return rc;
	}
	k->m.site = u->site;
	memcpy(k->m.preq, u->preq, sizeof k->m.preq);
	if (u->ring_had || u->ring_wd) {
		if ((rc = ring_load(k)))
			return rc;
		model_ring *r = k->ring;
		if (u->ring_pos >= MODEL_RING || u->ring_n > MODEL_RING || u->ring_wd_pos >= MODEL_RING)
			return THRESH_ECORRUPT;
		/* in the reverse of the event's order: the slot it took, then the
		 * decision it withdrew (which may have been that very slot) */
		if (u->ring_had) {
			r->label[u->ring_pos] = u->ring_label;
			r->fp[u->ring_pos] = u->ring_fp;
			memcpy(r->x[u->ring_pos], u->ring_x, sizeof r->x[0]);
			r->pos = u->ring_pos;
			r->n = u->ring_n;
		}
		if (u->ring_wd)
			r->label[u->ring_wd_pos] = u->ring_wd_label;
		k->ring_dirty = k->fits_dirty = 1;
	}
	return 0;
}

int apply_end(apply_ctx *k)
{
	/* every token to the store in key order (tokens is an integer-key
	 * database); dt is no longer a map afterwards */
	size_t n = idmap_sort(&k->dt);
	for (size_t i = 0; i < n; i++) {
		int rc = store_token_put(k->t, k->dt.keys[i], &k->dt.vals[i]);
		if (rc)
			return rc;
	}
	if (k->ring_dirty) {
		int rc;
		fits_make(k);
		if ((rc = meta_ring_put(k->t, k->ring)) || (rc = meta_put_fits(k->t, &k->m)))
			return rc;
		k->ring_dirty = 0;
	}
	return meta_put_totals(k->t, &k->m);
}
