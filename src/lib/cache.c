/* cache.c - a snapshot's token ratios (and, when asked, counts) in memory,
 * shared by reference. */
#include <math.h>
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
};

struct fill {
	tok_cache *c;
	double w, base;  /* the prior's weight, bayes_llr_base() */
};

static int put(uint64_t id, const tok_counts *v, void *ctx)
{
	struct fill *f = ctx;
	tok_cache *c = f->c;
	double r = bayes_token_llr_at(v, f->w, f->base);
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

int cache_build(store_txn *t, const bayes_totals *tot, int with_counts, tok_cache **out)
{
	store_info info;
	int rc = store_info_get(t, &info);
	if (rc)
		return rc;
	/* at most half full, as idmap.h's maps */
	unsigned bits = 10;
	while (bits < 8 * sizeof(size_t) - 5 && ((uint64_t)1 << bits) < info.tokens * 2)
		bits++;
	if (((uint64_t)1 << bits) < info.tokens * 2)
		return THRESH_ENOMEM;
	tok_cache *c = calloc(1, sizeof *c);
	if (!c)
		return THRESH_ENOMEM;
	atomic_init(&c->refs, 1);
	c->txn = store_txn_id(t);
	c->tot = *tot;
	c->mask = ((size_t)1 << bits) - 1;
	c->shift = 64 - bits;
	c->has_counts = with_counts;
	struct fill f = {c, tot->w, bayes_llr_base(tot)};
	if (!(c->slots = idmap_table((c->mask + 1) * sizeof *c->slots)))
		rc = THRESH_ENOMEM;
	else if (with_counts && (rc = idmap_init(&c->counts, (size_t)info.tokens)))
		;
	else if (!(rc = store_tokens_foreach(t, put, &f)))
		rc = learned_build(t, c, info.learned);
	if (rc) {
		cache_unref(c);
		return rc;
	}
	*out = c;
	return 0;
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
	free(c);
}

uint64_t cache_txn(const tok_cache *c)
{
	return c->txn;
}

size_t cache_tokens(const tok_cache *c)
{
	return c->used + (size_t)c->has_zero;
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

void cache_get_llr(const tok_cache *c, const uint64_t *ids, size_t n, double *llr)
{
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
