/* cache.c - a snapshot's token ratios (and, when asked, counts) in memory,
 * shared by reference; when asked, the prior layer's counts in a table of
 * the process, shared by every cache whose prior layer is the same. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h> /* the reference count */
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "cache.h"
#include "idmap.h"
#include "store.h"

struct slot {
	uint64_t key; /* 0: empty */
	double llr;
};

/* A token of a shared prior table: its prior counts as stored. */
struct pslot {
	uint64_t key; /* 0: empty */
	uint32_t pspam, pham;
};

/* A prior layer's counts (cache_build_share), in idmap.h's layout as the
 * ratios are: made once from one snapshot, never changed after, read by
 * every cache that holds it. Its reference count and its place in the
 * registry are under the registry's lock: taking a reference happens once
 * per cache built, and a lookup must not find a table being freed. */
struct prior_tab {
	struct prior_tab *next; /* the registry's list */
	size_t refs;
	int listed;             /* in the registry; else one cache's alone */
	cache_prior_sig sig;
	struct pslot *slots;
	size_t mask, used;
	unsigned shift;
	int has_zero;
	struct pslot zero;      /* id 0, kept aside */
};

/* The registry: the shared prior tables alive in the process, at most one
 * listed per signature. The library's one piece of state outside a handle:
 * it is what lets hundreds of handles opened from one default model hold
 * its counts once. */
static struct {
	pthread_mutex_t lock;
	struct prior_tab *head; /* the listed tables */
	size_t alive, users;    /* tables alive (listed or not), and their references */
} reg = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

/* Internal: the prior layer differs from the shared table it was checked
 * against (never returned by the functions of cache.h). */
#define PRIOR_DIFFERS (-3000)

struct tok_cache {
	atomic_int refs;
	uint64_t txn;
	bayes_totals tot;
	/* The ratios, in a table of their own with idmap.h's layout (open
	 * addressing, slot by the id's top bits, key 0 empty, id 0 aside): a
	 * naive-Bayes check reads a token's key and ratio and nothing else,
	 * side by side in one 16-byte slot, so a token found costs one cache
	 * line. Each ratio is made while the snapshot is read in, in id
	 * order, so the table is written front to back once. */
	struct slot *slots;
	size_t mask;
	size_t used;
	unsigned shift;
	int has_zero;
	double llr_zero;
	/* The learned comments' digests, their first 8 bytes in a set of the
	 * same layout (0 stands for a digest that begins with 0): a check asks
	 * it whether its comment may have been learned, and reads LMDB only
	 * when it may (a B-tree walk was a tenth of a check at a million
	 * tokens and 50,000 digests). */
	uint64_t *learned;
	size_t lmask;
	unsigned lshift;
	/* The counts, kept only when asked (the Fisher classifier reads them);
	 * an explanation of a naive-Bayes check reads them from LMDB. */
	int has_counts;
	idmap counts;
	/* The prior's weight and bayes_llr_base() of tot: every ratio's. */
	double w, base;
	/* With a shared prior (cache_build_share), slots hold the ratios of
	 * the tokens the site has itself (site counts or flags), and the
	 * tokens of the prior alone are read from prior, their ratios made
	 * when they are read. */
	struct prior_tab *prior;
	size_t tokens; /* the snapshot's distinct tokens */
};

static int put(uint64_t id, const tok_counts *v, void *ctx)
{
	tok_cache *c = ctx;
	double r = bayes_token_llr_at(v, c->w, c->base);
	if (id == 0) {
		c->has_zero = 1;
		c->llr_zero = r;
	} else {
		size_t i = (size_t)(id >> c->shift);
		while (c->slots[i].key != 0 && c->slots[i].key != id)
			i = (i + 1) & c->mask;
		/* more tokens than the snapshot's count said: a damaged file, and
		 * a table that could fill up and make a probe run forever */
		if (!c->slots[i].key && ++c->used > (c->mask + 1) / 2)
			return THRESH_ECORRUPT;
		c->slots[i].key = id;
		c->slots[i].llr = r;
	}
	if (c->has_counts) {
		int added;
		tok_counts *slot = idmap_add(&c->counts, id, &added);
		if (!slot)
			return THRESH_ENOMEM;
		*slot = *v;
	}
	return 0;
}

/* digest_key - a digest's key in the learned set: its first 8 bytes, never
 * 0 (the empty slot). */
static uint64_t digest_key(const unsigned char *d)
{
	uint64_t k;
	memcpy(&k, d, sizeof k);
	return k ? k : 1;
}

static size_t learned_slot(const tok_cache *c, uint64_t k)
{
	/* the digest is a keyed hash: its bytes are spread already */
	return (size_t)(k >> c->lshift);
}

static int put_learned(const void *key, size_t klen, const void *val, size_t vlen, void *ctx)
{
	tok_cache *c = ctx;
	(void)val, (void)vlen;
	if (klen != 16)
		return THRESH_ECORRUPT;
	uint64_t k = digest_key(key);
	size_t i = learned_slot(c, k);
	for (size_t probes = 0; c->learned[i] != 0 && c->learned[i] != k; i = (i + 1) & c->lmask)
		if (++probes > c->lmask) /* more digests than counted: a damaged file */
			return THRESH_ECORRUPT;
	c->learned[i] = k;
	return 0;
}

/* learned_build - the set of t's learned digests, at most half full. */
static int learned_build(store_txn *t, tok_cache *c, uint64_t n)
{
	unsigned bits = 6;
	while (bits < 8 * sizeof(size_t) - 5 && ((uint64_t)1 << bits) < n * 2)
		bits++;
	if (((uint64_t)1 << bits) < n * 2)
		return THRESH_ENOMEM;
	c->lmask = ((size_t)1 << bits) - 1;
	c->lshift = 64 - bits;
	if (!(c->learned = idmap_table((c->lmask + 1) * sizeof *c->learned)))
		return THRESH_ENOMEM;
	return store_rec_foreach(t, "learned", put_learned, c);
}

void cache_learned_prefetch(const tok_cache *c, const unsigned char digest[16])
{
	__builtin_prefetch(&c->learned[learned_slot(c, digest_key(digest))]);
}

int cache_maybe_learned(const tok_cache *c, const unsigned char digest[16])
{
	uint64_t k = digest_key(digest);
	for (size_t i = learned_slot(c, k);; i = (i + 1) & c->lmask) {
		if (c->learned[i] == k)
			return 1;
		if (c->learned[i] == 0)
			return 0;
	}
}

/* table_bits - the bits of a table of at least 2^min slots that holds n
 * keys at most half full, as idmap.h's maps; 0 when it cannot be made. */
static unsigned table_bits(uint64_t n, unsigned min)
{
	unsigned bits = min;
	while (bits < 8 * sizeof(size_t) - 5 && ((uint64_t)1 << bits) < n * 2)
		bits++;
	return ((uint64_t)1 << bits) < n * 2 ? 0 : bits;
}

/* slots_alloc - c's ratio table, empty, of 2^bits slots (bits 0: too
 * many). Returns 0 or THRESH_ENOMEM. */
static int slots_alloc(tok_cache *c, unsigned bits)
{
	if (!bits || !(c->slots = idmap_table(((size_t)1 << bits) * sizeof *c->slots)))
		return THRESH_ENOMEM;
	c->mask = ((size_t)1 << bits) - 1;
	c->shift = 64 - bits;
	return 0;
}

/* cache_new - an empty cache of t's snapshot under tot, no table yet.
 * NULL when out of memory. */
static tok_cache *cache_new(store_txn *t, const bayes_totals *tot)
{
	tok_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	atomic_init(&c->refs, 1);
	c->txn = store_txn_id(t);
	c->tot = *tot;
	c->w = tot->w;
	c->base = bayes_llr_base(tot);
	return c;
}

int cache_build(store_txn *t, const bayes_totals *tot, int with_counts, tok_cache **out)
{
	store_info info;
	int rc = store_info_get(t, &info);
	if (rc)
		return rc;
	/* at most half full, as idmap.h's maps */
	unsigned bits = table_bits(info.tokens, 10);
	if (!bits)
		return THRESH_ENOMEM;
	tok_cache *c = cache_new(t, tot);
	if (!c)
		return THRESH_ENOMEM;
	c->has_counts = with_counts;
	if ((rc = slots_alloc(c, bits)))
		;
	else if (with_counts && (rc = idmap_init(&c->counts, (size_t)info.tokens)))
		;
	else if (!(rc = store_tokens_foreach(t, put, c)))
		rc = learned_build(t, c, info.learned);
	if (rc) {
		cache_unref(c);
		return rc;
	}
	c->tokens = c->used + (size_t)c->has_zero;
	*out = c;
	return 0;
}

/* ---------- the shared prior ---------- */

static int sig_equal(const cache_prior_sig *a, const cache_prior_sig *b)
{
	return a->spam == b->spam && a->ham == b->ham && a->spam_tok == b->spam_tok &&
	       a->ham_tok == b->ham_tok;
}

/* prior_new - an empty prior table under sig with room for n tokens, one
 * reference held, alive but not listed. NULL when out of memory. */
static struct prior_tab *prior_new(uint64_t n, const cache_prior_sig *sig)
{
	unsigned bits = table_bits(n, 10);
	struct prior_tab *p = bits ? calloc(1, sizeof *p) : NULL;
	if (!p)
		return NULL;
	if (!(p->slots = idmap_table(((size_t)1 << bits) * sizeof *p->slots))) {
		free(p);
		return NULL;
	}
	p->mask = ((size_t)1 << bits) - 1;
	p->shift = 64 - bits;
	p->sig = *sig;
	p->refs = 1;
	pthread_mutex_lock(&reg.lock);
	reg.alive++;
	reg.users++;
	pthread_mutex_unlock(&reg.lock);
	return p;
}

/* prior_release - drop a reference to p; the last frees it (and takes it
 * off the registry). Accepts NULL. */
static void prior_release(struct prior_tab *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&reg.lock);
	reg.users--;
	int last = --p->refs == 0;
	if (last) {
		if (p->listed) {
			struct prior_tab **pp = &reg.head;
			while (*pp != p)
				pp = &(*pp)->next;
			*pp = p->next;
		}
		reg.alive--;
	}
	pthread_mutex_unlock(&reg.lock);
	if (last) {
		free(p->slots);
		free(p);
	}
}

/* prior_lookup - a reference to the table listed under sig, or NULL. */
static struct prior_tab *prior_lookup(const cache_prior_sig *sig)
{
	pthread_mutex_lock(&reg.lock);
	struct prior_tab *p = reg.head;
	while (p && !sig_equal(&p->sig, sig))
		p = p->next;
	if (p) {
		p->refs++;
		reg.users++;
	}
	pthread_mutex_unlock(&reg.lock);
	return p;
}

static const struct pslot *prior_find(const struct prior_tab *p, uint64_t id)
{
	if (id == 0)
		return p->has_zero ? &p->zero : NULL;
	for (size_t i = (size_t)(id >> p->shift);; i = (i + 1) & p->mask) {
		uint64_t key = p->slots[i].key;
		if (key == id)
			return &p->slots[i];
		if (key == 0)
			return NULL;
	}
}

/* prior_put - id's prior counts into p while it is made. Returns 0 or
 * THRESH_ECORRUPT (more tokens than the snapshot's count said). */
static int prior_put(struct prior_tab *p, uint64_t id, const tok_counts *v)
{
	struct pslot *s = &p->zero;
	if (id == 0) {
		p->has_zero = 1;
	} else {
		size_t i = (size_t)(id >> p->shift);
		while (p->slots[i].key != 0 && p->slots[i].key != id)
			i = (i + 1) & p->mask;
		if (!p->slots[i].key && ++p->used > (p->mask + 1) / 2)
			return THRESH_ECORRUPT;
		s = &p->slots[i];
	}
	s->key = id;
	s->pspam = v->pspam;
	s->pham = v->pham;
	return 0;
}

/* prior_tokens - how many tokens p holds. */
static size_t prior_tokens(const struct prior_tab *p)
{
	return p->used + (size_t)p->has_zero;
}

/* prior_same - 1 when a and b hold the same ids with the same counts. */
static int prior_same(const struct prior_tab *a, const struct prior_tab *b)
{
	if (prior_tokens(a) != prior_tokens(b))
		return 0;
	if (a->has_zero) {
		const struct pslot *s = prior_find(b, 0);
		if (!s || s->pspam != a->zero.pspam || s->pham != a->zero.pham)
			return 0;
	}
	for (size_t i = 0; i <= a->mask; i++) {
		if (!a->slots[i].key)
			continue;
		const struct pslot *s = prior_find(b, a->slots[i].key);
		if (!s || s->pspam != a->slots[i].pspam || s->pham != a->slots[i].pham)
			return 0;
	}
	return 1;
}

/* prior_publish - list the table p just made under its signature and
 * return it; or, when one is listed under it already (another cache made
 * it meanwhile) and holds the same counts, drop p and return a reference
 * to that one; or, when that one differs, keep p this cache's alone. */
static struct prior_tab *prior_publish(struct prior_tab *p)
{
	struct prior_tab *q, *drop = NULL;
	pthread_mutex_lock(&reg.lock);
	for (q = reg.head; q && !sig_equal(&q->sig, &p->sig); q = q->next)
		;
	if (!q) {
		p->listed = 1;
		p->next = reg.head;
		reg.head = p;
	} else if (prior_same(q, p)) {
		q->refs++;
		reg.users++;
		drop = p;
		p = q;
	}
	pthread_mutex_unlock(&reg.lock);
	prior_release(drop);
	return p;
}

size_t cache_shared_count(size_t *users)
{
	pthread_mutex_lock(&reg.lock);
	size_t n = reg.alive;
	if (users)
		*users = reg.users;
	pthread_mutex_unlock(&reg.lock);
	return n;
}

/* ratio_grow - double c's ratio table (cache_build_share does not know
 * ahead how many tokens the site has of its own). Returns 0 or
 * THRESH_ENOMEM (the table unchanged). */
static int ratio_grow(tok_cache *c)
{
	struct slot *old = c->slots;
	size_t n = c->mask + 1;
	unsigned bits = 64 - c->shift + 1;
	if (bits > 8 * sizeof(size_t) - 5 || slots_alloc(c, bits)) {
		c->slots = old;
		return THRESH_ENOMEM;
	}
	for (size_t j = 0; j < n; j++) {
		uint64_t id = old[j].key;
		if (!id)
			continue;
		size_t i = (size_t)(id >> c->shift);
		while (c->slots[i].key)
			i = (i + 1) & c->mask;
		c->slots[i] = old[j];
	}
	free(old);
	return 0;
}

struct share_fill {
	tok_cache *c;
	struct prior_tab *check; /* the listed table this prior layer must equal, or */
	struct prior_tab *make;  /* the new table it goes into */
	size_t matched;          /* prior tokens found equal in check */
};

/* put_share - one token of the snapshot: its prior counts checked against
 * (or put into) the shared table, its ratio into the cache's own table
 * unless it is the prior's alone, which the shared table then answers. */
static int put_share(uint64_t id, const tok_counts *v, void *ctx)
{
	struct share_fill *f = ctx;
	tok_cache *c = f->c;
	int rc, prior = v->pspam || v->pham;
	c->tokens++;
	if (prior && f->check) {
		const struct pslot *s = prior_find(f->check, id);
		if (!s || s->pspam != v->pspam || s->pham != v->pham)
			return PRIOR_DIFFERS;
		f->matched++;
	} else if (prior && (rc = prior_put(f->make, id, v))) {
		return rc;
	}
	if (prior && !v->spam && !v->ham && !v->flags)
		return 0;
	double r = bayes_token_llr_at(v, c->w, c->base);
	if (id == 0) {
		c->has_zero = 1;
		c->llr_zero = r;
		return 0;
	}
	if (c->used + 1 > (c->mask + 1) / 2 && (rc = ratio_grow(c)))
		return rc;
	size_t i = (size_t)(id >> c->shift);
	while (c->slots[i].key != 0 && c->slots[i].key != id)
		i = (i + 1) & c->mask;
	if (!c->slots[i].key)
		c->used++;
	c->slots[i].key = id;
	c->slots[i].llr = r;
	return 0;
}

int cache_build_share(store_txn *t, const bayes_totals *tot, const cache_prior_sig *sig,
                      tok_cache **out)
{
	static const cache_prior_sig none;
	store_info info;
	int rc;
	if (sig_equal(sig, &none)) /* no prior: nothing to share */
		return cache_build(t, tot, 0, out);
	if ((rc = store_info_get(t, &info)))
		return rc;
	tok_cache *c = cache_new(t, tot);
	if (!c)
		return THRESH_ENOMEM;
	struct share_fill f = {c, prior_lookup(sig), NULL, 0};
	if (!f.check && !(f.make = prior_new(info.tokens, sig)))
		rc = THRESH_ENOMEM;
	else if (!(rc = slots_alloc(c, 10)) && !(rc = store_tokens_foreach(t, put_share, &f)) &&
	         f.check && f.matched != prior_tokens(f.check))
		rc = PRIOR_DIFFERS; /* the listed table has tokens this snapshot lacks */
	if (!rc)
		rc = learned_build(t, c, info.learned);
	if (!rc) {
		c->prior = f.check ? f.check : prior_publish(f.make);
		f.check = f.make = NULL;
	}
	prior_release(f.check);
	prior_release(f.make);
	if (rc) {
		cache_unref(c);
		/* a prior changed since the listed table was made (an import, a
		 * token set by hand): this cache holds all of its ratios */
		return rc == PRIOR_DIFFERS ? cache_build(t, tot, 0, out) : rc;
	}
	*out = c;
	return 0;
}

int cache_shares(const tok_cache *c)
{
	return c->prior != NULL;
}

tok_cache *cache_ref(tok_cache *c)
{
	if (c)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

void cache_unref(tok_cache *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) > 1)
		return;
	free(c->slots);
	free(c->learned);
	idmap_free(&c->counts);
	prior_release(c->prior);
	free(c);
}

uint64_t cache_txn(const tok_cache *c)
{
	return c->txn;
}

size_t cache_tokens(const tok_cache *c)
{
	return c->tokens;
}

int cache_has_counts(const tok_cache *c)
{
	return c->has_counts;
}

int cache_fits(const tok_cache *c, uint64_t txn, const bayes_totals *tot)
{
	return c->txn == txn && c->tot.w == tot->w && c->tot.spam == tot->spam &&
	       c->tot.ham == tot->ham && c->tot.spam_tok == tot->spam_tok &&
	       c->tot.ham_tok == tot->ham_tok;
}

/* The lookups of one comment are gathered: every token's first slot is
 * asked of the memory system before any is read, so that its ~120 misses
 * (a model of a million tokens is 32 MiB of slots) overlap instead of
 * following one another, as a hash join's probe does. */
#define GATHER 16

/* prior_llr - the ratio of a token of the prior alone, made as
 * cache_build makes it (put), from the same counts, weight and base. */
static inline double prior_llr(const tok_cache *c, const struct pslot *s)
{
	tok_counts v = {0, 0, 0, s->pspam, s->pham, 0};
	return bayes_token_llr_at(&v, c->w, c->base);
}

/* get_llr_shared - cache_get_llr of a cache with a shared prior: the own
 * table first, then the prior's; both gathered. */
static void get_llr_shared(const tok_cache *c, const uint64_t *ids, size_t n, double *llr)
{
	const struct prior_tab *p = c->prior;
	for (size_t k = 0; k < n && k < GATHER; k++) {
		__builtin_prefetch(&c->slots[(size_t)(ids[k] >> c->shift)]);
		__builtin_prefetch(&p->slots[(size_t)(ids[k] >> p->shift)]);
	}
	for (size_t k = 0; k < n; k++) {
		if (k + GATHER < n) {
			__builtin_prefetch(&c->slots[(size_t)(ids[k + GATHER] >> c->shift)]);
			__builtin_prefetch(&p->slots[(size_t)(ids[k + GATHER] >> p->shift)]);
		}
		uint64_t id = ids[k];
		double v = NAN;
		int found = 0;
		if (id == 0) {
			if ((found = c->has_zero))
				v = c->llr_zero;
		} else {
			for (size_t i = (size_t)(id >> c->shift);; i = (i + 1) & c->mask) {
				uint64_t key = c->slots[i].key;
				if (key == id) {
					v = c->slots[i].llr;
					found = 1;
					break;
				}
				if (key == 0)
					break;
			}
		}
		const struct pslot *s;
		if (!found && (s = prior_find(p, id)))
			v = prior_llr(c, s);
		llr[k] = v;
	}
}

void cache_get_llr(const tok_cache *c, const uint64_t *ids, size_t n, double *llr)
{
	if (c->prior) {
		get_llr_shared(c, ids, n, llr);
		return;
	}
	for (size_t k = 0; k < n && k < GATHER; k++)
		__builtin_prefetch(&c->slots[(size_t)(ids[k] >> c->shift)]);
	for (size_t k = 0; k < n; k++) {
		if (k + GATHER < n)
			__builtin_prefetch(&c->slots[(size_t)(ids[k + GATHER] >> c->shift)]);
		uint64_t id = ids[k];
		double v = NAN;
		if (id == 0) {
			if (c->has_zero)
				v = c->llr_zero;
		} else {
			for (size_t i = (size_t)(id >> c->shift);; i = (i + 1) & c->mask) {
				uint64_t key = c->slots[i].key;
				if (key == id) {
					v = c->slots[i].llr;
					break;
				}
				if (key == 0)
					break;
			}
		}
		llr[k] = v;
	}
}

int cache_get(const tok_cache *c, const uint64_t *ids, size_t n, tok_counts *out)
{
	if (!c->has_counts)
		return THRESH_ENOTSUP;
	for (size_t k = 0; k < n; k++) {
		const tok_counts *v = idmap_find(&c->counts, ids[k]);
		if (v)
			out[k] = *v;
		else
			memset(&out[k], 0, sizeof out[k]);
	}
	return 0;
}
