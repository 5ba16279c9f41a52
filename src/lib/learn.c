/* learn.c - learning and unlearning, in batches of one write transaction.
 *
 * Each learned comment is remembered in `learned` by its digest and label:
 *   learn L, not learned       -> counts += tokens under L          (learned)
 *   learn L, learned as L      -> nothing                           (duplicates)
 *   learn L, learned as not-L  -> tokens move from not-L to L       (moved)
 *   unlearn L, learned as L    -> counts -= tokens under L          (unlearned)
 *   unlearn L, otherwise       -> nothing                           (not_found)
 * The author of each comment (hashed e-mail, else hashed IP) gets the same
 * change in `authors`: learning ham counts an approved comment, spam a spam
 * one. Before a comment is learned into a database with a prior, it is
 * scored under each candidate weight of the prior and the log loss of its
 * label added to that candidate's total (model.h). Comments are tokenized and
 * their authors hashed when added to the batch, outside any transaction; the
 * transaction only reads and writes.
 *
 * A batch may instead train the prior layer (thresh_batch_prior): every
 * comment then counts `weight` comments in the prior, with no digest, author
 * or loss; that is how the default model is made from weighted corpora. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "thresh/learn.h"
#include "comment_int.h"
#include "db_int.h"
#include "idmap.h"
#include "moderate.h"
#include "tokenize.h"

enum { OP_LEARN, OP_UNLEARN };

struct batch_entry {
	unsigned char digest[HASH_DIGEST_BYTES];
	unsigned char author[HASH_ID_BYTES];
	int has_author;
	int label, op;
	uint32_t day;
	size_t first, n; /* its token ids: ids[first .. first+n) */
};

struct thresh_batch {
	thresh_db *db;
	uint32_t prior;  /* 0: the site's layer; else the prior's, this much a comment (1/PRIOR_UNIT) */
	bayes_params bp; /* the classifier, for the prior weights' losses */
	unsigned char key[HASH_MODEL_KEY_BYTES];
	unsigned char secret[HASH_SECRET_BYTES];
	int has_secret;
	uint32_t tokenizer;
	tok_list tl;
	uint64_t *ids;
	unsigned char *gram; /* gram[i]: ids[i] is a character n-gram */
	size_t nids, capids;
	struct batch_entry *e;
	size_t n, cap;
	thresh_learn_summary sum;
};

int thresh_batch_begin(thresh_db *db, thresh_batch **out)
{
	model_meta m;
	int rc;
	if (!db || !out)
		return THRESH_EINVAL;
	if (db->flags & THRESH_DB_RDONLY)
		return THRESH_EREADONLY;
	thresh_batch *b = calloc(1, sizeof *b);
	if (!b)
		return THRESH_ENOMEM;
	if ((rc = meta_read(db, 1, 1, &m))) {
		free(b);
		return rc;
	}
	memcpy(b->key, m.key, sizeof b->key);
	hash_wipe(m.key, sizeof m.key);
	b->tokenizer = m.tokenizer;
	model_params(&m, &b->bp);
	b->db = db;
	b->has_secret = db_secret(db, b->secret);
	tok_list_init(&b->tl);
	b->tl.notext = 1; /* learning needs the ids only */
	*out = b;
	return 0;
}

void thresh_batch_abort(thresh_batch *b)
{
	if (!b)
		return;
	tok_list_free(&b->tl);
	hash_wipe(b->key, sizeof b->key);
	hash_wipe(b->secret, sizeof b->secret);
	free(b->ids);
	free(b->gram);
	free(b->e);
	free(b);
}

size_t thresh_batch_size(const thresh_batch *b)
{
	return b ? b->n : 0;
}

int thresh_batch_prior(thresh_batch *b, double weight)
{
	if (!b || b->n || !(weight >= 1.0 / PRIOR_UNIT && weight <= 1000))
		return THRESH_EINVAL;
	b->prior = (uint32_t)lround(weight * PRIOR_UNIT);
	return 0;
}

static int batch_add(thresh_batch *b, const thresh_comment *c, int label, int op)
{
	int rc;
	if (!b || !c || (label != THRESH_HAM && label != THRESH_SPAM))
		return THRESH_EINVAL;
	if ((rc = tok_comment(&b->tl, c, b->tokenizer, b->key)))
		return rc;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		void *p = realloc(b->e, cap * sizeof *b->e);
		if (!p)
			return THRESH_ENOMEM;
		b->e = p;
		b->cap = cap;
	}
	if (b->nids + b->tl.n > b->capids) {
		size_t cap = b->capids ? b->capids : 1024;
		while (cap < b->nids + b->tl.n)
			cap *= 2;
		void *p = realloc(b->ids, cap * sizeof *b->ids);
		if (!p)
			return THRESH_ENOMEM;
		b->ids = p;
		if (!(p = realloc(b->gram, cap)))
			return THRESH_ENOMEM;
		b->gram = p;
		b->capids = cap;
	}
	struct batch_entry *e = &b->e[b->n];
	e->has_author = 0;
	if (b->has_secret) {
		int k = identity_key(b->secret, c, e->author);
		if (k < 0)
			return k;
		e->has_author = k;
	}
	b->n++;
	hash_comment_digest(b->key, c, e->digest);
	e->label = label;
	e->op = op;
	e->day = model_day(c->time);
	e->first = b->nids;
	e->n = b->tl.n;
	memcpy(b->ids + b->nids, b->tl.ids, b->tl.n * sizeof *b->ids);
	memcpy(b->gram + b->nids, b->tl.gram, b->tl.n);
	b->nids += b->tl.n;
	return 0;
}

int thresh_batch_learn(thresh_batch *b, const thresh_comment *c, int label)
{
	return batch_add(b, c, label, OP_LEARN);
}

int thresh_batch_unlearn(thresh_batch *b, const thresh_comment *c, int label)
{
	return batch_add(b, c, label, OP_UNLEARN);
}

/* A batch changes the counts of the same tokens many times over (a word in
 * a hundred comments of one batch). The commit reads each token once into
 * an idmap, replays every change on it in batch order, with exactly the
 * clamping and deletion rules of the store (store_counts_add,
 * store_prior_add), and writes each token once, in key order: a fifth of the
 * LMDB operations, each near the last. The totals follow the counts as they
 * really change (a clamped subtraction changes less). */

/* commit - the state of a batch being applied in one transaction. */
struct commit {
	thresh_batch *b;
	store_txn *t;
	idmap dt;           /* token id -> counts as the batch leaves them */
	model_meta m;       /* the totals as the batch leaves them */
};

/* delta_get - the in-memory counts of id, read from the store the first
 * time; NULL with *rc set on failure. */
static tok_counts *delta_get(struct commit *k, uint64_t id, int *rc)
{
	int added;
	tok_counts *c = idmap_add(&k->dt, id, &added);
	if (!c)
		*rc = THRESH_ENOMEM;
	else if (added && (*rc = store_tokens_get(k->t, &id, 1, c)))
		c = NULL; /* the zeros it was added with stand; the commit fails anyway */
	return c;
}

/* add_tokens - add d comments under label to every token of e, in the
 * site's layer or, for a prior batch, the prior's (d * b->prior). */
static int add_tokens(struct commit *k, const struct batch_entry *e, int label, int64_t d)
{
	const thresh_batch *b = k->b;
	layer_totals *l = b->prior ? &k->m.prior : &k->m.site;
	uint64_t *sum = label ? &l->spam_tok : &l->ham_tok;
	for (size_t i = 0; i < e->n; i++) {
		int rc = 0;
		tok_counts *c = delta_get(k, b->ids[e->first + i], &rc);
		if (!c)
			return rc;
		uint32_t *v = b->prior ? (label ? &c->pspam : &c->pham) : (label ? &c->spam : &c->ham);
		uint32_t before = *v;
		if (b->prior)
			store_prior_add(c, label ? d * b->prior : 0, label ? 0 : d * b->prior);
		else
			store_counts_add(c, label ? d : 0, label ? 0 : d, d > 0 ? e->day : 0);
		*sum = *sum - before + *v; /* the sum holds before, so this never goes below 0 */
	}
	return 0;
}

/* add_comments - add d comments under label to the layer's total. */
static void add_comments(struct commit *k, int label, int64_t d)
{
	layer_totals *l = k->b->prior ? &k->m.prior : &k->m.site;
	uint64_t *n = label ? &l->spam : &l->ham;
	uint64_t by = k->b->prior ? (uint64_t)k->b->prior : 1;
	if (d > 0)
		*n = *n > UINT64_MAX - by ? UINT64_MAX : *n + by;
	else
		*n = *n > by ? *n - by : 0;
}

/* score_losses - before the site learns e under label: its score under
 * each candidate weight of the prior, the log loss added to preq. */
static int score_losses(struct commit *k, const struct batch_entry *e, int label)
{
	const thresh_batch *b = k->b;
	model_meta mc = k->m;
	double loss[PREQ_N];
	if (k->m.prior.spam + k->m.prior.ham == 0)
		return 0; /* no prior: nothing to weigh */
	for (int j = 0; j < PREQ_N; j++) {
		bayes_totals tot;
		double z = 0, p;
		size_t seen = 0;
		mc.param[P_PRIOR_COMMENTS] = isinf(preq_comments[j]) ? 1e300 : preq_comments[j];
		model_totals(&mc, &tot, NULL);
		for (size_t i = 0; i < e->n; i++) {
			int rc = 0;
			const tok_counts *c = delta_get(k, b->ids[e->first + i], &rc);
			if (!c)
				return rc;
			if (!bayes_seen(c))
				continue;
			double l = bayes_token_llr(c, &tot);
			z += b->gram[e->first + i] ? b->bp.gram_weight * l : l;
			seen++;
		}
		double x = seen ? z / pow((double)seen, b->bp.nb_power) : 0;
		p = 1 / (1 + exp(-(b->bp.nb_scale * x + b->bp.nb_shift)));
		loss[j] = model_loss(p, label);
	}
	for (int j = 0; j < PREQ_N; j++)
		k->m.preq[j] += loss[j];
	return 0;
}

/* deltas_write - every token of dt to the store, in key order (tokens is
 * an integer-key database). dt can only be freed afterwards. */
static int deltas_write(store_txn *t, idmap *dt)
{
	size_t n = idmap_sort(dt);
	for (size_t i = 0; i < n; i++) {
		int rc = store_token_put(t, dt->keys[i], &dt->vals[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* author_add - change the author's record of e: d comments under label. */
static int author_add(store_txn *t, const struct batch_entry *e, int label, int d)
{
	author_rec a;
	if (!e->has_author)
		return 0;
	int rc = store_rec_get(t, "authors", e->author, HASH_ID_BYTES, &a, sizeof a);
	if (rc == THRESH_ENOTFOUND)
		memset(&a, 0, sizeof a);
	else if (rc)
		return rc;
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
		return store_rec_del(t, "authors", e->author, HASH_ID_BYTES);
	return store_rec_put(t, "authors", e->author, HASH_ID_BYTES, &a, sizeof a);
}

/* apply_prior - a prior batch's entries: counts only. */
static int apply_prior(struct commit *k)
{
	thresh_batch *b = k->b;
	for (size_t i = 0; i < b->n; i++) {
		const struct batch_entry *e = &b->e[i];
		int d = e->op == OP_LEARN ? 1 : -1;
		int rc = add_tokens(k, e, e->label, d);
		if (rc)
			return rc;
		add_comments(k, e->label, d);
		if (d > 0)
			b->sum.learned++;
		else
			b->sum.unlearned++;
	}
	return 0;
}

/* apply_entries - the batch's entries in order: duplicates and moves found
 * through the learned digests, the prior weights' losses scored, authors
 * and learned digests written, token changes gathered in dt, totals in m. */
static int apply_entries(struct commit *k)
{
	thresh_batch *b = k->b;
	store_txn *t = k->t;
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		const struct batch_entry *e = &b->e[i];
		int had;
		rc = store_learned_get(t, e->digest, &had);
		if (rc == THRESH_ENOTFOUND)
			had = -1;
		else if (rc)
			return rc;
		if (e->op == OP_LEARN) {
			if (had == e->label) {
				b->sum.duplicates++;
				continue;
			}
			if ((rc = score_losses(k, e, e->label)))
				return rc;
			if (had >= 0) {
				if ((rc = add_tokens(k, e, had, -1)) || (rc = author_add(t, e, had, -1)))
					return rc;
				add_comments(k, had, -1);
				b->sum.moved++;
			} else {
				b->sum.learned++;
			}
			if ((rc = add_tokens(k, e, e->label, 1)) || (rc = author_add(t, e, e->label, 1)) ||
			    (rc = store_learned_put(t, e->digest, e->label)))
				return rc;
			add_comments(k, e->label, 1);
		} else {
			if (had != e->label) {
				b->sum.not_found++;
				continue;
			}
			if ((rc = add_tokens(k, e, e->label, -1)) || (rc = author_add(t, e, e->label, -1)) ||
			    (rc = store_learned_del(t, e->digest)))
				return rc;
			add_comments(k, e->label, -1);
			b->sum.unlearned++;
		}
	}
	return 0;
}

/* commit_fn - the write transaction of a batch; may run more than once
 * (store_write grows the map and retries), so it starts from zero each time. */
static int commit_fn(store_txn *t, void *ctx)
{
	struct commit k = {.b = ctx, .t = t};
	thresh_batch *b = k.b;
	int rc;

	if ((rc = meta_load(t, &k.m)))
		return rc;
	/* An import that replaced the model since the batch began changed the key:
	 * the batch's token ids mean nothing in the new model. */
	int same = hash_equal(k.m.key, b->key, sizeof k.m.key) && k.m.tokenizer == b->tokenizer;
	hash_wipe(k.m.key, sizeof k.m.key);
	if (!same)
		return THRESH_EBUSY;
	memset(&b->sum, 0, sizeof b->sum);
	/* A comment's tokens are distinct, but a batch repeats most of them:
	 * about one id in four is new to the batch in both corpora. */
	if ((rc = idmap_init(&k.dt, b->nids / 4)))
		return rc;
	rc = b->prior ? apply_prior(&k) : apply_entries(&k);
	if (!rc)
		rc = deltas_write(t, &k.dt);
	idmap_free(&k.dt);
	if (rc)
		return rc;
	return meta_put_totals(t, &k.m);
}

static void copy_summary(thresh_learn_summary *dst, const thresh_learn_summary *src)
{
	size_t n;
	if (!dst || dst->size < sizeof(size_t))
		return;
	n = dst->size < sizeof *src ? dst->size : sizeof *src;
	size_t keep = dst->size;
	memcpy(dst, src, n);
	dst->size = keep;
}

int thresh_batch_commit(thresh_batch *b, thresh_learn_summary *sum)
{
	int rc;
	if (!b)
		return THRESH_EINVAL;
	rc = b->n ? store_write(b->db->st, commit_fn, b) : 0;
	if (!rc)
		copy_summary(sum, &b->sum);
	thresh_batch_abort(b);
	return rc;
}

static int learn_one(thresh_db *db, const thresh_comment *c, int label, int op,
                     thresh_learn_summary *sum)
{
	thresh_batch *b;
	int rc;
	if (!db || !c)
		return THRESH_EINVAL;
	if ((rc = thresh_batch_begin(db, &b)))
		return rc;
	if ((rc = batch_add(b, c, label, op))) {
		thresh_batch_abort(b);
		return rc;
	}
	return thresh_batch_commit(b, sum);
}

int thresh_learn(thresh_db *db, const thresh_comment *c, int label, thresh_learn_summary *sum)
{
	return learn_one(db, c, label, OP_LEARN, sum);
}

int thresh_unlearn(thresh_db *db, const thresh_comment *c, int label, thresh_learn_summary *sum)
{
	return learn_one(db, c, label, OP_UNLEARN, sum);
}
