/* check.c - one check: tokenize, look up, score, decide, explain. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/check.h"
#include "thresh/error.h"
#include <time.h>

#include "cache.h"
#include "cluster.h"
#include "comment_int.h"
#include "config.h"
#include "db_int.h"
#include "moderate.h"
#include "ratelimit.h"
#include "tokenize.h"

#define RESULT_MAX_REASONS MOD_MAX_REASONS
/* Stale rate-limit entries are swept once per this many rate-limited checks. */
#define RATE_PRUNE_EVERY 4096
#define EXPLAIN_TOKENS 15

struct explain_tok {
	size_t off, len; /* text inside thresh_result.text */
	double strength; /* how far it moved the score, for sorting */
	double prob;
	uint64_t spam, ham;
};

struct thresh_result {
	thresh_verdict verdict;
	double score;
	int blatant;
	double retry_after;
	const char *reasons[RESULT_MAX_REASONS]; /* static strings */
	size_t nreasons;
	struct explain_tok *tok;
	size_t ntok;
	char *text;
};

struct thresh_view {
	thresh_db *db;
	int readonly; /* a view of the caller's: no state changes */
	store_txn *t;
	/* what m, keys, legacy and tot were read from: the snapshot's
	 * transaction id and the handle's db->gen (a pooled view reads them
	 * again when either changed), and, for a pooled view, the
	 * configuration of that generation */
	uint64_t txn_id, gen;
	struct conf *cf;
	model_meta m;
	site_keys keys;    /* the site's keys (hash.h), when has_keys */
	int has_keys;
	int legacy;        /* the snapshot holds digests of format 2 */
	bayes_totals tot;  /* the totals this view scores with (model_totals) */
	tok_list tl;
	tok_counts *counts;
	double *probs;
	double *llr;
	size_t cap;
	size_t seen;       /* tokens of the last comment the model has seen */
	struct tok_cache *cache; /* the counts of this view's snapshot in memory, or NULL */
};

/* view_new - a read-only view of db in a read transaction of its own, on
 * the newest snapshot, with nothing read yet (view_load). Returns 0 or a
 * THRESH_E* code. */
static int view_new(thresh_db *db, thresh_view **out)
{
	int rc;
	thresh_view *v = calloc(1, sizeof *v);
	if (!v)
		return THRESH_ENOMEM;
	v->db = db;
	v->readonly = 1;
	tok_list_init(&v->tl);
	if ((rc = store_read_begin(db->st, &v->t))) {
		thresh_view_close(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* view_load - what a check needs of the view's snapshot and of the handle:
 * the model's meta with the configuration's overrides, the site's keys,
 * the calibration and cutoffs in force, the totals; gen is db->gen, read
 * before. Returns 0 or a store error. */
static int view_load(thresh_view *v, uint64_t gen)
{
	thresh_db *db = v->db;
	int rc;
	if ((rc = db_meta_load(db, v->t, &v->m)) || (rc = db_view_legacy(db, v->t, &v->legacy)))
		return rc;
	v->has_keys = db_keys(db, &v->keys);
	model_force_apply(&v->m); /* the site's calibration and cutoffs, unless pinned */
	model_totals(&v->m, &v->tot, NULL);
	v->txn_id = store_txn_id(v->t);
	v->gen = gen;
	return 0;
}

int thresh_view_open(thresh_db *db, thresh_view **out)
{
	thresh_view *v;
	int rc;
	if (!db || !out)
		return THRESH_EINVAL;
	if ((rc = view_new(db, &v)))
		return rc;
	if ((rc = view_load(v, atomic_load(&db->gen)))) {
		thresh_view_close(v);
		return rc;
	}
	*out = v;
	return 0;
}

void thresh_view_close(thresh_view *v)
{
	if (!v)
		return;
	cache_unref(v->cache);
	conf_unref(v->cf);
	store_read_end(v->t);
	hash_wipe(v->m.key, sizeof v->m.key);
	hash_wipe(&v->keys, sizeof v->keys);
	tok_list_free(&v->tl);
	free(v->counts);
	free(v->probs);
	free(v->llr);
	free(v);
}

static void add_reason(thresh_result *r, const char *name)
{
	if (r->nreasons < RESULT_MAX_REASONS)
		r->reasons[r->nreasons++] = name;
}

static int cmp_strength(const void *a, const void *b)
{
	const struct explain_tok *x = a, *y = b;
	return x->strength < y->strength ? 1 : x->strength > y->strength ? -1 : 0;
}

/* explain - keep the EXPLAIN_TOKENS tokens that moved the score most, with
 * copies of their texts: by log-odds, character n-grams scaled by their
 * weight (for Fisher, whose tokens all weigh alike, the same order as the
 * distance of the estimate from 0.5). */
static int explain(thresh_result *r, const thresh_view *v)
{
	const tok_list *tl = &v->tl;
	struct explain_tok *all;
	size_t n = tl->n, keep, bytes = 0;
	if (!n)
		return 0;
	if (!(all = malloc(n * sizeof *all)))
		return THRESH_ENOMEM;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		/* Tokens the model has never seen say nothing: leave them out. */
		if (counts_empty(&v->counts[i]))
			continue;
		all[m].off = tl->off[i];
		all[m].len = tl->len[i];
		all[m].prob = v->probs[i];
		double p = v->probs[i];
		all[m].strength = fabs(log(p / (1 - p)));
		if (v->tl.gram[i] && (int)v->m.param[P_CLASSIFIER] == BAYES_NB)
			all[m].strength *= v->m.param[P_GRAM_WEIGHT];
		/* the counts the check read: the site's and the prior's at its weight */
		double s, h;
		bayes_counts(&v->counts[i], v->tot.w, &s, &h);
		all[m].spam = (uint64_t)llround(s);
		all[m].ham = (uint64_t)llround(h);
		m++;
	}
	n = m;
	if (!n) {
		free(all);
		return 0;
	}
	qsort(all, n, sizeof *all, cmp_strength);
	keep = n < EXPLAIN_TOKENS ? n : EXPLAIN_TOKENS;
	for (size_t i = 0; i < keep; i++)
		bytes += all[i].len + 1;
	if (!(r->text = malloc(bytes))) {
		free(all);
		return THRESH_ENOMEM;
	}
	size_t pos = 0;
	for (size_t i = 0; i < keep; i++) {
		memcpy(r->text + pos, tl->text + all[i].off, all[i].len);
		r->text[pos + all[i].len] = '\0';
		all[i].off = pos;
		pos += all[i].len + 1;
	}
	r->tok = all;
	r->ntok = keep;
	return 0;
}

/* grow_scratch - room for n counts and estimates in the view. */
static int grow_scratch(thresh_view *v, size_t n)
{
	if (n <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 64;
	while (cap < n)
		cap *= 2;
	tok_counts *c = realloc(v->counts, cap * sizeof *c);
	if (!c)
		return THRESH_ENOMEM;
	v->counts = c;
	double *p = realloc(v->probs, cap * sizeof *p);
	if (!p)
		return THRESH_ENOMEM;
	v->probs = p;
	if (!(p = realloc(v->llr, cap * sizeof *p)))
		return THRESH_ENOMEM;
	v->llr = p;
	v->cap = cap;
	return 0;
}

/* score_comment - the classifier's part of a check, inside the view; each
 * token's estimate lands in v->probs only when explain is set. */
static int score_comment(thresh_view *v, const thresh_comment *c, int explain, double *score)
{
	const model_meta *m = &v->m;
	bayes_params bp;
	int rc;
	model_params(m, &bp);
	v->tl.notext = !explain;
	if ((rc = tok_comment(&v->tl, c, m->tokenizer, m->key, v->has_keys ? v->keys.ident : NULL)) ||
	    (rc = grow_scratch(v, v->tl.n)))
		return rc;
	double *probs = explain ? v->probs : NULL;
	if (v->cache && bp.kind == BAYES_NB) {
		/* the ratios made when the cache was filled; the counts only for
		 * an explanation */
		cache_get_llr(v->cache, v->tl.ids, v->tl.n, v->llr);
		if (explain && cache_get(v->cache, v->tl.ids, v->tl.n, v->counts) &&
		    (rc = store_tokens_get(v->t, v->tl.ids, v->tl.n, v->counts)))
			return rc;
		*score = bayes_score_llr(v->llr, v->tl.n, v->tl.gram, &bp, probs, &v->seen);
		return 0;
	}
	if ((!v->cache || cache_get(v->cache, v->tl.ids, v->tl.n, v->counts)) &&
	    (rc = store_tokens_get(v->t, v->tl.ids, v->tl.n, v->counts)))
		return rc;
	*score = bayes_score(v->counts, v->tl.n, v->tl.gram, &v->tot, &bp, probs, &v->seen);
	return 0;
}

/* learned_label - the label this exact comment (its digest: content,
 * author, e-mail, URL; computed by the caller when the view has keys) was
 * learned under, or -1; while the snapshot holds
 * digests of format 2, by its digest of that format too. Returns 0 or a
 * store error. */
static int learned_label(thresh_view *v, const thresh_comment *c,
                         const unsigned char digest[HASH_DIGEST_BYTES], int *label)
{
	unsigned char d[HASH_DIGEST_BYTES], l;
	int rc = THRESH_ENOTFOUND;
	if (v->has_keys) {
		/* the snapshot's digests in memory say "not learned" at once */
		if (!v->cache || cache_maybe_learned(v->cache, digest))
			rc = store_learned_get(v->t, digest, label);
	}
	if (rc == THRESH_ENOTFOUND && v->legacy) {
		hash_comment_digest_b2(v->m.key, c, d);
		if ((rc = store_rec_get(v->t, "legacy", d, sizeof d, &l, 1)) == 0)
			*label = l ? 1 : 0;
	}
	if (rc == THRESH_ENOTFOUND) {
		*label = -1;
		return 0;
	}
	return rc;
}

/* now_seconds - the comment's own time, else the clock's. */
static double now_seconds(const thresh_comment *c)
{
	struct timespec ts;
	if (c->time > 0)
		return (double)c->time;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The author of a check and, unless read-only, its rate limits: found
 * before the comment is scored, so that a node of a cluster can send its
 * question to Redis first and read the answer after scoring (the round trip
 * overlaps the scoring). */
struct author {
	int has;                 /* an e-mail or IP was given */
	unsigned char id[HASH_ID_BYTES];
	int rate;                /* the rate limit applies */
	rate_bucket b[RATE_BUCKETS_MAX]; /* the author's, then the IP address's */
	size_t nb;
	double now;
	struct cluster *cl;      /* a node of a cluster: Redis decides */
	cluster_conf cc;
	cluster_rate q;          /* its question, outstanding */
};

/* author_begin - the author's key, the buckets its comment counts against
 * and, for a node, the rate question sent. Returns 0 or a THRESH_E* code
 * (then nothing is outstanding). */
static int author_begin(thresh_view *v, const thresh_comment *c, unsigned flags, const conf *cf,
                        struct author *a)
{
	unsigned char addr[HASH_ID_BYTES];
	char fp[33];
	a->has = a->rate = 0;
	a->nb = 0;
	a->cl = NULL;
	a->q.c = NULL;
	if (!v->has_keys)
		return 0;
	int k = identity_key(v->keys.secret, c, a->id), ka = 0;
	if (k > 0 && cf->rate_limit > 0 && cf->ip_rate_limit > 0)
		ka = address_key(v->keys.secret, c, addr);
	if (k <= 0)
		return k;
	if (ka < 0)
		return ka;
	a->has = 1;
	if ((flags & THRESH_CHECK_READONLY) || v->readonly || !v->db->rate || !(cf->rate_limit > 0))
		return 0;
	a->rate = 1;
	memcpy(a->b[0].id, a->id, HASH_ID_BYTES);
	a->b[0].rule = (rate_rule){cf->rate_limit, cf->rate_period, cf->rate_burst};
	a->nb = 1;
	if (ka > 0) {
		/* the address counts whoever the author says they are */
		memcpy(a->b[1].id, addr, HASH_ID_BYTES);
		a->b[1].rule = (rate_rule){cf->ip_rate_limit, cf->ip_rate_period, cf->ip_rate_burst};
		a->nb = 2;
	}
	a->now = now_seconds(c);
	if (db_cluster_conf(v->db, &a->cc) && (a->cl = db_cluster(v->db, fp)))
		/* one rate for the whole cluster, Redis's clock unless the comment
		 * carries its own time */
		cluster_rate_send(a->cl, &a->cc, fp, a->b, a->nb, c->time > 0 ? a->now : 0, &a->q);
	return 0;
}

/* author_drop - a check that fails before gather: its question abandoned. */
static void author_drop(struct author *a)
{
	if (a->cl)
		cluster_rate_drop(a->cl, &a->q);
}

/* gather - what the rules need beyond the score: the author's record and,
 * unless read-only, the rate limiter's answer. */
static int gather(thresh_view *v, const thresh_comment *c, struct author *a, mod_in *in)
{
	int rc;
	unsigned refused = 0;
	if (!a->has)
		return 0;
	in->has_identity = 1;
	rc = store_rec_get(v->t, "authors", a->id, sizeof a->id, &in->author, sizeof in->author);
	if (rc == 0)
		in->known = in->author.approved + in->author.spam > 0;
	else if (rc != THRESH_ENOTFOUND) {
		author_drop(a);
		return rc;
	}
	if (!a->rate)
		return 0;
	if (a->cl)
		rc = cluster_rate_recv(a->cl, &a->cc, &a->q, v->db->rate, a->b, a->nb,
		                       c->time > 0 ? a->now : 0, &in->rate_allowed, &in->retry_after,
		                       &refused, &in->rate_local);
	else
		rc = ratelimit_check_all(v->db->rate, a->b, a->nb, a->now, &in->rate_allowed,
		                         &in->retry_after, &refused);
	if (rc)
		return rc;
	in->rate_checked = 1;
	in->rate_ip = (refused & 2) != 0;
	if (atomic_fetch_add(&v->db->checks, 1) % RATE_PRUNE_EVERY == RATE_PRUNE_EVERY - 1)
		ratelimit_prune(v->db->rate, a->now, NULL); /* best effort: a failure only delays it */
	return 0;
}

/* view_check - thresh_view_check under the configuration cf. */
static int view_check(thresh_view *v, conf *cf, const thresh_comment *c, unsigned flags,
                      thresh_result **out)
{
	thresh_result *r;
	mod_in in;
	mod_out mo;
	double score;
	int rc;
	struct author a;
	unsigned char digest[HASH_DIGEST_BYTES];
	if ((rc = author_begin(v, c, flags, cf, &a)))
		return rc;
	/* Every check without a cache counts towards building one. */
	if (!v->cache)
		v->cache = db_cache_for(v->db, v->t, &v->tot);
	if (v->has_keys) {
		/* the digest's slot in the memory copy is fetched while the comment
		 * is scored, not waited for after */
		hash_comment_digest(&v->keys, c, digest);
		if (v->cache)
			cache_learned_prefetch(v->cache, digest);
	}
	if ((rc = score_comment(v, c, (flags & THRESH_CHECK_EXPLAIN) != 0, &score))) {
		author_drop(&a);
		return rc;
	}
	memset(&in, 0, sizeof in);
	in.cf = cf;
	in.c = c;
	in.score = score;
	in.hold = v->m.param[P_HOLD];
	in.reject = v->m.param[P_REJECT];
	in.blatant = v->m.param[P_BLATANT];
	in.seen = v->seen;
	in.min_seen = v->m.param[P_MIN_TOKENS];
	in.learned = -1;
	if ((rc = learned_label(v, c, digest, &in.learned))) {
		author_drop(&a);
		return rc;
	}
	in.links = (unsigned)v->tl.links;
	if (!(rc = gather(v, c, &a, &in)))
		rc = moderate_decide(&in, &mo);
	if (rc)
		return rc;
	if (!(r = calloc(1, sizeof *r)))
		return THRESH_ENOMEM;
	r->score = score;
	r->verdict = mo.verdict;
	r->blatant = mo.blatant;
	r->retry_after = mo.retry_after;
	for (size_t i = 0; i < mo.nreasons; i++)
		add_reason(r, mo.reasons[i]);
	if ((flags & THRESH_CHECK_EXPLAIN) && (rc = explain(r, v))) {
		thresh_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int thresh_view_check(thresh_view *v, const thresh_comment *c, unsigned flags, thresh_result **out)
{
	if (!v || !c || !out)
		return THRESH_EINVAL;
	conf *cf = db_conf(v->db);
	int rc = view_check(v, cf, c, flags, out);
	conf_unref(cf);
	return rc;
}

/* The views of thresh_check. A check in a view of its own would begin a
 * read transaction, read some thirty meta values and copy the keys, each
 * time; on the default model that was about a fifth of the library's time
 * in a check. So the handle keeps up to DB_VIEW_POOL views between checks,
 * their read transactions reset (store_read_reset), with their tokenizer's
 * list and scratch arrays. A check takes the newest, renews its
 * transaction on the newest snapshot, and reads the meta, the keys and the
 * configuration again only when the snapshot (its transaction id) or the
 * handle's configuration or keys (db->gen) changed since that view last
 * read them: so it scores with exactly what a new view would read. A view
 * goes back without the in-memory copy of the counts (score_comment takes
 * the one of its snapshot again), so no pooled view keeps an old copy
 * alive; one a comment left larger than VIEW_KEEP_TOKENS is closed
 * instead, so the pool holds little memory. Each pooled view holds a slot
 * of LMDB's reader table (MDB_NOTLS: the slot is the transaction's). */
#define VIEW_KEEP_TOKENS 4096

/* view_get - a view for one check by thresh_check, which may change state:
 * the pool's newest, renewed, else a new one. Returns 0 or a THRESH_E*
 * code. */
static int view_get(thresh_db *db, thresh_view **out)
{
	thresh_view *v = NULL;
	int rc;
	pthread_mutex_lock(&db->pool_lock);
	if (db->npool)
		v = db->pool[--db->npool];
	pthread_mutex_unlock(&db->pool_lock);
	if (v)
		rc = store_read_renew(v->t);
	else if (!(rc = view_new(db, &v)))
		v->readonly = 0;
	if (rc) {
		thresh_view_close(v);
		return rc;
	}
	/* db->gen first: a configuration replaced after it was read is one of
	 * a later generation, read again by the next check. */
	uint64_t gen = atomic_load(&db->gen);
	if (!v->cf || gen != v->gen || store_txn_id(v->t) != v->txn_id) {
		conf_unref(v->cf);
		v->cf = db_conf(db);
		if ((rc = view_load(v, gen))) {
			thresh_view_close(v);
			return rc;
		}
	}
	*out = v;
	return 0;
}

/* view_put - a view back in the pool after its check, or closed. */
static void view_put(thresh_view *v)
{
	thresh_db *db = v->db;
	cache_unref(v->cache);
	v->cache = NULL;
	if (v->cap <= VIEW_KEEP_TOKENS && v->tl.cap <= VIEW_KEEP_TOKENS) {
		store_read_reset(v->t);
		pthread_mutex_lock(&db->pool_lock);
		if (db->npool < DB_VIEW_POOL) {
			db->pool[db->npool++] = v;
			v = NULL;
		}
		pthread_mutex_unlock(&db->pool_lock);
	}
	thresh_view_close(v);
}

void view_pool_free(thresh_db *db)
{
	while (db->npool)
		thresh_view_close(db->pool[--db->npool]);
}

int thresh_check(thresh_db *db, const thresh_comment *c, unsigned flags, thresh_result **out)
{
	thresh_view *v;
	int rc;
	if (!db || !c || !out)
		return THRESH_EINVAL;
	if ((rc = view_get(db, &v)))
		return rc;
	rc = view_check(v, v->cf, c, flags, out);
	view_put(v);
	return rc;
}

void thresh_result_free(thresh_result *r)
{
	if (!r)
		return;
	free(r->tok);
	free(r->text);
	free(r);
}

thresh_verdict thresh_result_verdict(const thresh_result *r)
{
	return r ? r->verdict : THRESH_ACCEPT;
}

double thresh_result_score(const thresh_result *r)
{
	return r ? r->score : 0;
}

int thresh_result_blatant(const thresh_result *r)
{
	return r ? r->blatant : 0;
}

double thresh_result_retry_after(const thresh_result *r)
{
	return r ? r->retry_after : 0;
}

size_t thresh_result_reason_count(const thresh_result *r)
{
	return r ? r->nreasons : 0;
}

const char *thresh_result_reason(const thresh_result *r, size_t i)
{
	return r && i < r->nreasons ? r->reasons[i] : NULL;
}

size_t thresh_result_token_count(const thresh_result *r)
{
	return r ? r->ntok : 0;
}

int thresh_result_token(const thresh_result *r, size_t i, const char **text, double *prob,
                        uint64_t *spam, uint64_t *ham)
{
	if (!r || i >= r->ntok)
		return THRESH_EINVAL;
	if (text)
		*text = r->text + r->tok[i].off;
	if (prob)
		*prob = r->tok[i].prob;
	if (spam)
		*spam = r->tok[i].spam;
	if (ham)
		*ham = r->tok[i].ham;
	return 0;
}

const char *thresh_verdict_name(thresh_verdict v)
{
	switch (v) {
	case THRESH_ACCEPT:
		return "accept";
	case THRESH_HOLD:
		return "hold";
	case THRESH_REJECT:
		return "reject";
	}
	return "unknown";
}
