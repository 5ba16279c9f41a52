/* cache.c - open addressing with linear probing; id 0 marks an empty slot,
 * so a token whose id is 0 (a 2^-64 chance) is kept aside.
 *
 * A slot is chosen by the id's top bits, not its low bits. Ids are keyed
 * SipHash values, even in either, but LMDB hands the tokens over in id
 * order, so by the top bits the table fills front to back: a sequential
 * write instead of a cache miss per token. The table's memory comes from
 * mem_table (huge pages when the kernel gives them). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "cache.h"
#include "mem.h"

struct tok_cache {
	atomic_int refs;
	uint64_t txn;
	size_t mask, n;
	unsigned shift; /* a slot is id >> shift */
	uint64_t *keys;
	tok_counts *vals;
	int has_zero;
	tok_counts zero;
};

struct fill {
	tok_cache *c;
};

static int put(uint64_t id, const tok_counts *v, void *ctx)
{
	tok_cache *c = ((struct fill *)ctx)->c;
	if (c->n >= c->mask / 2 + 1)
		return THRESH_ECORRUPT; /* more tokens than the snapshot counted */
	if (id == 0) {
		c->has_zero = 1;
		c->zero = *v;
		return 0;
	}
	size_t i = (size_t)(id >> c->shift);
	while (c->keys[i] != 0)
		i = (i + 1) & c->mask;
	c->keys[i] = id;
	c->vals[i] = *v;
	c->n++;
	return 0;
}

int cache_build(store_txn *t, tok_cache **out)
{
	store_info info;
	int rc = store_info_get(t, &info);
	if (rc)
		return rc;
	tok_cache *c = calloc(1, sizeof *c);
	if (!c)
		return THRESH_ENOMEM;
	size_t cap = 1024;
	unsigned shift = 64 - 10;
	while (cap < info.tokens * 2) { /* load at most one half */
		cap *= 2;
		shift--;
	}
	c->keys = mem_table(cap * sizeof *c->keys);
	c->vals = mem_table(cap * sizeof *c->vals);
	if (!c->keys || !c->vals) {
		cache_unref(c);
		return THRESH_ENOMEM;
	}
	atomic_init(&c->refs, 1);
	c->mask = cap - 1;
	c->shift = shift;
	c->txn = store_txn_id(t);
	struct fill f = {c};
	if ((rc = store_tokens_foreach(t, put, &f))) {
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
	free(c->vals);
	free(c);
}

uint64_t cache_txn(const tok_cache *c)
{
	return c->txn;
}

size_t cache_tokens(const tok_cache *c)
{
	return c->n + (size_t)c->has_zero;
}

void cache_get(const tok_cache *c, const uint64_t *ids, size_t n, tok_counts *out)
{
	for (size_t k = 0; k < n; k++) {
		uint64_t id = ids[k];
		if (id == 0) {
			if (c->has_zero)
				out[k] = c->zero;
			else
				memset(&out[k], 0, sizeof out[k]);
			continue;
		}
		size_t i = (size_t)(id >> c->shift);
		for (;;) {
			uint64_t key = c->keys[i];
			if (key == id) {
				out[k] = c->vals[i];
				break;
			}
			if (key == 0) {
				memset(&out[k], 0, sizeof out[k]);
				break;
			}
			i = (i + 1) & c->mask;
		}
	}
}
