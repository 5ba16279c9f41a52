/* cache.c - a snapshot's token counts in an idmap, with their ratios beside
 * them, shared by reference. */
#include <math.h>
#include <stdatomic.h>
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
	idmap map;
	/* By slot of map.vals (llr_zero for id 0): each token's ratio, made when
	 * a check first reads it (NaN until then: every token here is seen, so
	 * NaN never means unseen); a model of a million tokens is not worked
	 * through for a batch that reads a few thousand. Doubles, so a check
	 * scores exactly as from LMDB; relaxed atomics, since checks of many
	 * threads may make the same ratio at once (they store the same value). */
	_Atomic double *llr;
	_Atomic double llr_zero;
};

static int put(uint64_t id, const tok_counts *v, void *ctx)
{
	int added;
	tok_counts *c = idmap_add(ctx, id, &added);
	if (!c)
		return THRESH_ENOMEM;
	*c = *v;
	return 0;
}

int cache_build(store_txn *t, const bayes_totals *tot, tok_cache **out)
{
	store_info info;
	int rc = store_info_get(t, &info);
	if (rc)
		return rc;
	if (info.tokens > SIZE_MAX)
		return THRESH_ENOMEM;
	tok_cache *c = calloc(1, sizeof *c);
	if (!c)
		return THRESH_ENOMEM;
	atomic_init(&c->refs, 1);
	c->txn = store_txn_id(t);
	c->tot = *tot;
	if ((rc = idmap_init(&c->map, (size_t)info.tokens)) ||
	    (rc = store_tokens_foreach(t, put, &c->map))) {
		cache_unref(c);
		return rc;
	}
	/* The ratios, by slot (the map no longer changes), made on first read. */
	size_t slots = c->map.mask + 1;
	if (!(c->llr = malloc(slots * sizeof *c->llr))) {
		cache_unref(c);
		return THRESH_ENOMEM;
	}
	for (size_t i = 0; i < slots; i++)
		atomic_init(&c->llr[i], NAN);
	atomic_init(&c->llr_zero, NAN);
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
	idmap_free(&c->map);
	free(c->llr);
	free(c);
}

uint64_t cache_txn(const tok_cache *c)
{
	return c->txn;
}

size_t cache_tokens(const tok_cache *c)
{
	return idmap_count(&c->map);
}

int cache_fits(const tok_cache *c, uint64_t txn, const bayes_totals *tot)
{
	return c->txn == txn && c->tot.w == tot->w && c->tot.spam == tot->spam &&
	       c->tot.ham == tot->ham && c->tot.spam_tok == tot->spam_tok &&
	       c->tot.ham_tok == tot->ham_tok;
}

/* ratio - the ratio of the token in slot (its counts v), made now if no
 * check has read it yet. */
static inline double ratio(tok_cache *c, _Atomic double *slot, const tok_counts *v)
{
	double r = atomic_load_explicit(slot, memory_order_relaxed);
	if (r != r) {
		r = bayes_token_llr(v, &c->tot);
		atomic_store_explicit(slot, r, memory_order_relaxed);
	}
	return r;
}

void cache_get_llr(tok_cache *c, const uint64_t *ids, size_t n, double *llr)
{
	const idmap *m = &c->map;
	for (size_t k = 0; k < n; k++) {
		uint64_t id = ids[k];
		double v = NAN;
		if (id == 0) {
			if (m->has_zero)
				v = ratio(c, &c->llr_zero, &m->zero);
		} else {
			for (size_t i = (size_t)(id >> m->shift);; i = (i + 1) & m->mask) {
				uint64_t key = m->keys[i];
				if (key == id) {
					v = ratio(c, &c->llr[i], &m->vals[i]);
					break;
				}
				if (key == 0)
					break;
			}
		}
		llr[k] = v;
	}
}

void cache_get(tok_cache *c, const uint64_t *ids, size_t n, tok_counts *out, double *llr)
{
	for (size_t k = 0; k < n; k++) {
		const tok_counts *v = idmap_find(&c->map, ids[k]);
		if (v) {
			out[k] = *v;
			if (llr)
				llr[k] = ratio(c, v == &c->map.zero ? &c->llr_zero : &c->llr[v - c->map.vals], v);
		} else {
			memset(&out[k], 0, sizeof out[k]);
			if (llr)
				llr[k] = NAN;
		}
	}
}
