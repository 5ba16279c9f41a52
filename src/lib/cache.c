/* cache.c - a snapshot's token counts in an idmap, shared by reference. */
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
	idmap map;
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

int cache_build(store_txn *t, tok_cache **out)
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
	if ((rc = idmap_init(&c->map, (size_t)info.tokens)) ||
	    (rc = store_tokens_foreach(t, put, &c->map))) {
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
	idmap_free(&c->map);
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

void cache_get(const tok_cache *c, const uint64_t *ids, size_t n, tok_counts *out)
{
	for (size_t k = 0; k < n; k++) {
		const tok_counts *v = idmap_find(&c->map, ids[k]);
		if (v)
			out[k] = *v;
		else
			memset(&out[k], 0, sizeof out[k]);
	}
}
