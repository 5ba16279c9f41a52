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

struct tok_cache {
	atomic_int refs;
	uint64_t txn;
	bayes_totals tot;
	/* The ratios, in a table of their own with idmap.h's layout (open
	 * addressing, slot by the id's top bits, key 0 empty, id 0 aside): a
	 * naive-Bayes check reads a token's key and ratio and nothing else.
	 * Each ratio is made while the snapshot is read in, in id order, so
	 * the table is written front to back once. */
	uint64_t *keys;
	double *llr;
	size_t mask;
	size_t used;
	unsigned shift;
	int has_zero;
	double llr_zero;
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
		while (c->keys[i] != 0 && c->keys[i] != id)
			i = (i + 1) & c->mask;
		/* more tokens than the snapshot's count said: a damaged file, and
		 * a table that could fill up and make a probe run forever */
		if (!c->keys[i] && ++c->used > (c->mask + 1) / 2)
			return THRESH_ECORRUPT;
		c->keys[i] = id;
		c->llr[i] = r;
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
	if (!(c->keys = idmap_table((c->mask + 1) * sizeof *c->keys)) ||
	    !(c->llr = idmap_table((c->mask + 1) * sizeof *c->llr)))
		rc = THRESH_ENOMEM;
	else if (with_counts && (rc = idmap_init(&c->counts, (size_t)info.tokens)))
		;
	else
		rc = store_tokens_foreach(t, put, &f);
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
	free(c->keys);
	free(c->llr);
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

void cache_get_llr(const tok_cache *c, const uint64_t *ids, size_t n, double *llr)
{
	for (size_t k = 0; k < n; k++) {
		uint64_t id = ids[k];
		double v = NAN;
		if (id == 0) {
			if (c->has_zero)
				v = c->llr_zero;
		} else {
			for (size_t i = (size_t)(id >> c->shift);; i = (i + 1) & c->mask) {
				uint64_t key = c->keys[i];
				if (key == id) {
					v = c->llr[i];
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
