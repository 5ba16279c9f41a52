/* learn.c - learning and unlearning, in batches of one write transaction.
 *
 * Comments are tokenized and their authors hashed when added to the batch,
 * outside any transaction; each becomes an event (event.h: the hashes and
 * ids that replay it without its text), and the commit applies the events
 * in order through apply.c, the one code path of every learn (apply.h has
 * the rules: duplicates, moves, authors, the prior's weighing). On a node
 * of a cluster ([cluster] in thresh.conf) the same transaction writes each
 * event, with the exact pre-image of what it changed, to the outbox
 * (replica.h), from which the log's publisher takes it.
 *
 * A batch may instead train the prior layer (thresh_batch_prior): every
 * comment then counts `weight` comments in the prior, with no digest, author
 * or loss, and without identity tokens (tokenize.h): the prior is shared
 * between sites and never names anyone. That is how the default model is
 * made from weighted corpora. It is never replicated: the prior is the
 * database the nodes were copied from.
 *
 * A comment is remembered by its digest under the site's keys
 * (hash_comment_digest); while the database still holds digests of format
 * 2 (the "legacy" table), the digest of that format is computed too, so a
 * comment learned then is still found. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "thresh/learn.h"
#include "comment_int.h"
#include "db_int.h"
#include "apply.h"
#include "moderate.h"
#include "replica.h"
#include "tokenize.h"

enum { OP_LEARN = EV_LEARN, OP_UNLEARN = EV_UNLEARN };

struct batch_entry {
	unsigned char digest[HASH_DIGEST_BYTES];
	unsigned char legacy[HASH_DIGEST_BYTES];
	unsigned char author[HASH_ID_BYTES];
	int has_author, has_digest, has_legacy;
	int label, op;
	uint32_t day;
	size_t first, n; /* its token ids: ids[first .. first+n) */
};

struct thresh_batch {
	thresh_db *db;
	uint32_t prior;  /* 0: the site's layer; else the prior's, this much a comment (1/PRIOR_UNIT) */
	bayes_params bp; /* the classifier, for the prior weights' losses */
	unsigned pinned; /* the parameters pinned, stored or by thresh.conf (model.h) */
	unsigned char key[HASH_MODEL_KEY_BYTES];
	uint64_t keyfp;  /* event_keyfp(key) */
	int cluster;     /* a node of a cluster: events go to the outbox too */
	site_keys keys;  /* the site's keys (hash.h), when has_keys */
	int has_keys;
	int legacy;      /* the database held digests of format 2 when the batch began */
	uint32_t tokenizer;
	tok_list tl;
	uint64_t *ids;
	unsigned char *gram; /* gram[i]: ids[i] is a character n-gram */
	unsigned char *ident; /* ident[i]: ids[i] is an identity token */
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
	b->keyfp = event_keyfp(m.key);
	hash_wipe(m.key, sizeof m.key);
	b->cluster = db_cluster_on(db);
	b->tokenizer = m.tokenizer;
	model_params(&m, &b->bp);
	b->pinned = m.pinned;
	b->db = db;
	b->has_keys = db_keys(db, &b->keys);
	if ((rc = db_has_legacy(db, &b->legacy))) {
		thresh_batch_abort(b);
		return rc;
	}
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
	hash_wipe(&b->keys, sizeof b->keys);
	free(b->ids);
	free(b->gram);
	free(b->ident);
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
	const unsigned char *ident = b->has_keys && !b->prior ? b->keys.ident : NULL;
	if ((rc = tok_comment(&b->tl, c, b->tokenizer, b->key, ident)))
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
		if (!(p = realloc(b->ident, cap)))
			return THRESH_ENOMEM;
		b->ident = p;
		b->capids = cap;
	}
	struct batch_entry *e = &b->e[b->n];
	e->has_author = 0;
	if (b->has_keys) {
		int k = identity_key(b->keys.secret, c, e->author);
		if (k < 0)
			return k;
		e->has_author = k;
	}
	b->n++;
	e->has_digest = b->has_keys;
	if (e->has_digest)
		hash_comment_digest(&b->keys, c, e->digest);
	e->has_legacy = b->legacy;
	if (e->has_legacy)
		hash_comment_digest_b2(b->key, c, e->legacy);
	e->label = label;
	e->op = op;
	e->day = model_day(c->time);
	e->first = b->nids;
	e->n = b->tl.n;
	memcpy(b->ids + b->nids, b->tl.ids, b->tl.n * sizeof *b->ids);
	memcpy(b->gram + b->nids, b->tl.gram, b->tl.n);
	memcpy(b->ident + b->nids, b->tl.ident, b->tl.n);
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

/* entry_event - the event of entry e (its arrays point into the batch). */
static void entry_event(const thresh_batch *b, const struct batch_entry *e, event *ev)
{
	ev->op = e->op;
	ev->label = e->label;
	ev->has_author = e->has_author;
	ev->has_digest = e->has_digest;
	ev->has_legacy = e->has_legacy;
	memcpy(ev->digest, e->digest, sizeof ev->digest);
	memcpy(ev->legacy, e->legacy, sizeof ev->legacy);
	memcpy(ev->author, e->author, sizeof ev->author);
	ev->day = e->day;
	ev->tokenizer = b->tokenizer;
	ev->keyfp = b->keyfp;
	ev->n = e->n;
	ev->ids = b->ids + e->first;
	ev->gram = b->gram + e->first;
	ev->ident = b->ident + e->first;
}

/* apply_entries - the batch's entries in order, through apply.c; on a
 * node of a cluster each one goes to the outbox with its undo record. */
static int apply_entries(thresh_batch *b, apply_ctx *k)
{
	undo u = {0};
	int rc = 0;
	for (size_t i = 0; i < b->n && !rc; i++) {
		event ev;
		int what;
		entry_event(b, &b->e[i], &ev);
		if (b->prior) {
			rc = apply_prior(k, &ev, b->prior);
			what = ev.op == EV_LEARN ? APPLY_LEARNED : APPLY_UNLEARNED;
		} else {
			rc = apply_event(k, &ev, b->cluster ? &u : NULL, &what);
			if (!rc && b->cluster)
				rc = replica_outbox_add(k->t, &ev, &u);
		}
		if (rc)
			break;
		uint64_t *count[] = {[APPLY_LEARNED] = &b->sum.learned, [APPLY_DUPLICATE] = &b->sum.duplicates,
		                     [APPLY_MOVED] = &b->sum.moved, [APPLY_UNLEARNED] = &b->sum.unlearned,
		                     [APPLY_NOT_FOUND] = &b->sum.not_found};
		++*count[what];
	}
	undo_free(&u);
	return rc;
}

/* commit_fn - the write transaction of a batch; may run more than once
 * (store_write grows the map and retries), so it starts from zero each time. */
static int commit_fn(store_txn *t, void *ctx)
{
	thresh_batch *b = ctx;
	unsigned char key[HASH_MODEL_KEY_BYTES];
	apply_ctx k;
	/* A node of a cluster weighs the prior with the stored parameters, as
	 * every node does with the events of the others. */
	int rc = apply_begin(&k, t, b->nids / 4, b->cluster ? NULL : &b->bp, key);
	if (!rc && !b->cluster)
		k.pinned |= b->pinned; /* its calibration is the one bp holds */
	if (!rc) {
		/* An import that replaced the model since the batch began changed the
		 * key: the batch's token ids mean nothing in the new model. */
		int same = hash_equal(key, b->key, sizeof key) && k.m.tokenizer == b->tokenizer;
		/* nor under a secret rotated since (its identity tokens and digests) */
		site_keys now;
		if (b->has_keys && (!db_keys(b->db, &now) ||
		                    !hash_equal(now.ident, b->keys.ident, sizeof now.ident) ||
		                    !hash_equal(now.digest, b->keys.digest, sizeof now.digest)))
			same = 0;
		hash_wipe(&now, sizeof now);
		memset(&b->sum, 0, sizeof b->sum);
		rc = same ? apply_entries(b, &k) : THRESH_EBUSY;
		if (!rc)
			rc = apply_end(&k);
	}
	hash_wipe(key, sizeof key);
	apply_free(&k);
	return rc;
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
