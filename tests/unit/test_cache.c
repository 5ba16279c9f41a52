/* src/lib/cache.c: the in-memory copy of one snapshot's token counts. */
#include <criterion/criterion.h>

#include "cache.h"
#include "store.h"
#include "testutil.h"

struct spread_ctx {
	uint64_t n;
};

static int spread_fn(store_txn *t, void *ctx)
{
	uint64_t n = ((struct spread_ctx *)ctx)->n;
	for (uint64_t i = 0; i < n; i++) {
		tok_counts c = {(uint32_t)(i % 7 + 1), (uint32_t)(i % 5), (uint32_t)(i % 1000)};
		int rc = store_token_put(t, tu_spread_id(i), &c);
		if (rc)
			return rc;
	}
	return 0;
}

/* The memory cache of a model large enough for its tables to take the
 * huge-page path of mem_table answers exactly as LMDB does, for every
 * stored id, the edges, and ids it does not hold. */
Test(cache, agrees_with_the_store_on_a_large_model, .timeout = 120)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	tok_cache *c;
	const uint64_t n = 300000; /* 2^20 slots: 8 MiB of keys */
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	struct spread_ctx a = {n};
	cr_assert_eq(store_write(s, spread_fn, &a), 0);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build(t, &c), 0);
	cr_expect_eq(cache_tokens(c), n);
	cr_expect_eq(cache_txn(c), store_txn_id(t));
	enum { B = 512 };
	uint64_t ids[B];
	tok_counts want[B], got[B];
	for (uint64_t i = 0; i < n + 2 * B; i += B) {
		for (uint64_t k = 0; k < B; k++) /* past n: ids it does not hold */
			ids[k] = i + k < n ? tu_spread_id(i + k) : tu_spread_id(i + k) ^ 0x5555;
		cr_assert_eq(store_tokens_get(t, ids, B, want), 0);
		cache_get(c, ids, B, got);
		for (uint64_t k = 0; k < B; k++)
			cr_assert(want[k].spam == got[k].spam && want[k].ham == got[k].ham &&
			              want[k].day == got[k].day,
			          "id %016llx: store %u/%u/%u, cache %u/%u/%u",
			          (unsigned long long)ids[k], want[k].spam, want[k].ham, want[k].day,
			          got[k].spam, got[k].ham, got[k].day);
	}
	cr_expect_eq(got[B - 1].spam, 0, "an id it does not hold reads as zeros");
	cache_unref(c);
	store_read_end(t);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}
