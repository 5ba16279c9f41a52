/* src/lib/cache.c: the in-memory copy of one snapshot's token counts:
 * filled from a read transaction and labelled with its id, the same answers
 * as LMDB (zeros for an id it does not hold, id 0 too), shared by
 * reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "cache.h"
#include "store.h"
#include "testutil.h"

/* the totals the cache's ratios are made with */
static const bayes_totals TOT = {40, 60, 400, 900, 0.5};

struct spread_ctx {
	uint64_t n;
};

static int spread_fn(store_txn *t, void *ctx)
{
	uint64_t n = ((struct spread_ctx *)ctx)->n;
	for (uint64_t i = 0; i < n; i++) {
		tok_counts c = {(uint32_t)(i % 7 + 1), (uint32_t)(i % 5), (uint32_t)(i % 1000), (uint32_t)(i % 3) * 500, 0, 0};
		int rc = store_token_put(t, tu_spread_id(i), &c);
		if (rc)
			return rc;
	}
	return 0;
}

/* The memory cache of a model large enough for its tables to take the
 * huge-page path of idmap.c's table answers exactly as LMDB does, for every
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
	cr_assert_eq(cache_build(t, &TOT, 1, &c), 0);
	cr_expect_eq(cache_tokens(c), n);
	cr_expect_eq(cache_txn(c), store_txn_id(t));
	enum { B = 512 };
	uint64_t ids[B];
	tok_counts want[B], got[B];
	for (uint64_t i = 0; i < n + 2 * B; i += B) {
		for (uint64_t k = 0; k < B; k++) /* past n: ids it does not hold */
			ids[k] = i + k < n ? tu_spread_id(i + k) : tu_spread_id(i + k) ^ 0x5555;
		cr_assert_eq(store_tokens_get(t, ids, B, want), 0);
		cr_assert_eq(cache_get(c, ids, B, got), 0);
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

/* ---------- small fixtures ---------- */

struct put_ctx {
	const uint64_t *ids;
	const tok_counts *c;
	size_t n;
};

static int put_fn(store_txn *t, void *ctx)
{
	const struct put_ctx *p = ctx;
	for (size_t i = 0; i < p->n; i++) {
		int rc = store_token_put(t, p->ids[i], &p->c[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static void put(store *s, const uint64_t *ids, const tok_counts *c, size_t n)
{
	struct put_ctx p = {ids, c, n};
	cr_assert_eq(store_write(s, put_fn, &p), 0);
}

static int same(tok_counts a, tok_counts b)
{
	return a.spam == b.spam && a.ham == b.ham && a.day == b.day && a.pspam == b.pspam &&
	       a.pham == b.pham;
}

Test(cache, empty_snapshot_reads_as_zeros)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	tok_cache *c;
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build(t, &TOT, 1, &c), 0);
	cr_expect_eq(cache_tokens(c), 0);
	uint64_t ids[3] = {0, 1, UINT64_MAX};
	tok_counts got[3];
	memset(got, 0xff, sizeof got);
	cr_assert_eq(cache_get(c, ids, 3, got), 0);
	for (int i = 0; i < 3; i++)
		cr_expect(same(got[i], (tok_counts){0, 0, 0, 0, 0, 0}), "id %d", i);
	cr_assert_eq(cache_get(c, ids, 0, got), 0); /* nothing asked, nothing read */
	cache_unref(c);
	store_read_end(t);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* Id 0 (the empty-slot mark of the table) and the largest id are held
 * like any other. */
Test(cache, id_zero_and_the_largest_id)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	tok_cache *c;
	const uint64_t ids[3] = {0, UINT64_MAX, 42};
	const tok_counts v[3] = {{1, 2, 3, 0, 0, 0}, {4, 5, 6, 0, 0, 0}, {7, 8, 9, 0, 0, 0}};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	put(s, ids, v, 3);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build(t, &TOT, 1, &c), 0);
	cr_expect_eq(cache_tokens(c), 3);
	uint64_t ask[4] = {UINT64_MAX, 41, 0, 42};
	tok_counts got[4];
	cr_assert_eq(cache_get(c, ask, 4, got), 0);
	cr_expect(same(got[0], v[1]), "UINT64_MAX: %u/%u/%u", got[0].spam, got[0].ham, got[0].day);
	cr_expect(same(got[1], (tok_counts){0, 0, 0, 0, 0, 0}), "an id it does not hold");
	cr_expect(same(got[2], v[0]), "id 0: %u/%u/%u", got[2].spam, got[2].ham, got[2].day);
	cr_expect(same(got[3], v[2]));
	cache_unref(c);
	store_read_end(t);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* A cache is labelled with the transaction it was filled from and keeps
 * that snapshot's counts: later writes change neither. */
Test(cache, labelled_with_its_snapshot_and_unchanged_by_later_writes)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t1, *t2;
	tok_cache *c;
	const uint64_t ids[2] = {10, 20};
	const tok_counts before[2] = {{1, 0, 100, 0, 0, 0}, {0, 1, 100, 0, 0, 0}}, later[2] = {{5, 5, 200, 0, 0, 0}, {9, 9, 200, 0, 0, 0}};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	put(s, ids, before, 2);
	cr_assert_eq(store_read_begin(s, &t1), 0);
	cr_assert_eq(cache_build(t1, &TOT, 1, &c), 0);
	uint64_t id1 = store_txn_id(t1);
	cr_expect_eq(cache_txn(c), id1);
	store_read_end(t1);

	put(s, ids, later, 2);
	cr_assert_eq(store_read_begin(s, &t2), 0);
	cr_expect_gt(store_txn_id(t2), id1);
	cr_expect_neq(cache_txn(c), store_txn_id(t2), "a later snapshot has another label");
	tok_counts got[2], now[2];
	cr_assert_eq(cache_get(c, ids, 2, got), 0);
	cr_assert_eq(store_tokens_get(t2, ids, 2, now), 0);
	cr_expect(same(got[0], before[0]) && same(got[1], before[1]), "the cache kept its snapshot");
	cr_expect(same(now[0], later[0]) && same(now[1], later[1]), "the store moved on");
	store_read_end(t2);
	cache_unref(c);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* A cache shared by reference stays readable until the last unref. */
Test(cache, shared_by_reference)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	tok_cache *c;
	const uint64_t ids[1] = {7};
	const tok_counts v[1] = {{3, 1, 50, 0, 0, 0}};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	put(s, ids, v, 1);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build(t, &TOT, 1, &c), 0);
	store_read_end(t);
	cr_expect_eq(cache_ref(c), c, "a reference is the same cache");
	cache_unref(c); /* one of two */
	tok_counts got;
	cr_assert_eq(cache_get(c, ids, 1, &got), 0);
	cr_expect(same(got, v[0]), "still readable after one of two unrefs");
	cache_unref(c);
	cr_expect_null(cache_ref(NULL));
	cache_unref(NULL);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

Test(cache, ratios_are_those_of_the_totals_it_was_made_with)
{
	char *dir = tu_tmpdir();
	store *st;
	store_txn *t;
	tok_cache *c;
	const tok_counts v[3] = {{3, 1, 50, 0, 0, 0}, {0, 0, 0, 2500, 1000, 0}, {1, 7, 9, 100, 0, 0}};
	uint64_t ids[4] = {11, 22, 33, 44};
	cr_assert_eq(store_open(dir, 0, 0, &st), 0);
	put(st, ids, v, 3);
	cr_assert_eq(store_read_begin(st, &t), 0);
	cr_assert_eq(cache_build(t, &TOT, 1, &c), 0);
	tok_counts got[4];
	double llr[4];
	cr_assert_eq(cache_get(c, ids, 4, got), 0);
	cache_get_llr(c, ids, 4, llr);
	for (int i = 0; i < 3; i++)
		cr_expect(fabs(llr[i] - bayes_token_llr(&v[i], &TOT)) < 1e-6, "token %d: %g", i, llr[i]);
	cr_expect(llr[3] != llr[3], "an unknown token's ratio is NaN");
	cr_expect(cache_fits(c, store_txn_id(t), &TOT));
	bayes_totals other = TOT;
	other.w = 1;
	cr_expect(!cache_fits(c, store_txn_id(t), &other), "another prior weight: not these ratios");
	cr_expect(!cache_fits(c, store_txn_id(t) + 1, &TOT), "another snapshot: not these counts");
	cache_unref(c);
	store_read_end(t);
	store_close(st);
	tu_rmtree(dir);
	free(dir);
}

/* Built without the counts (a naive-Bayes model's cache), it holds the same
 * ratios, id 0 among them, and refuses to hand out counts rather than make
 * them up: the check then reads them from LMDB. */
Test(cache, without_counts_the_same_ratios_and_no_counts)
{
	char *dir = tu_tmpdir();
	store *st;
	store_txn *t;
	tok_cache *with, *without;
	const tok_counts v[3] = {{3, 1, 50, 0, 0, 0}, {0, 0, 0, 2500, 1000, 0}, {1, 7, 9, 100, 0, 0}};
	uint64_t ids[4] = {0, 22, 33, 44};
	cr_assert_eq(store_open(dir, 0, 0, &st), 0);
	put(st, ids, v, 3);
	cr_assert_eq(store_read_begin(st, &t), 0);
	cr_assert_eq(cache_build(t, &TOT, 1, &with), 0);
	cr_assert_eq(cache_build(t, &TOT, 0, &without), 0);
	cr_expect(cache_has_counts(with));
	cr_expect(!cache_has_counts(without));
	cr_expect_eq(cache_tokens(without), 3);
	double a[4], b[4];
	cache_get_llr(with, ids, 4, a);
	cache_get_llr(without, ids, 4, b);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(a[i], b[i], "token %d: %g and %g", i, a[i], b[i]);
		cr_expect_eq(b[i], bayes_token_llr(&v[i], &TOT), "token %d", i);
	}
	cr_expect(b[3] != b[3], "an unknown token's ratio is NaN");
	tok_counts got[4];
	memset(got, 0x5a, sizeof got);
	cr_expect_eq(cache_get(without, ids, 4, got), THRESH_ENOTSUP);
	cr_expect_eq(got[1].spam, 0x5a5a5a5au, "nothing written");
	cache_unref(with);
	cache_unref(without);
	store_read_end(t);
	store_close(st);
	tu_rmtree(dir);
	free(dir);
}

static int learned_fn(store_txn *t, void *ctx)
{
	const unsigned char (*d)[16] = ctx;
	for (int i = 0; i < 3000; i++) {
		int rc = store_learned_put(t, d[i], i % 2);
		if (rc)
			return rc;
	}
	return 0;
}

/* The learned digests of the snapshot are in memory: every one is "may
 * have been learned", so LMDB is asked; a digest never learned is "not
 * learned" (unless its first 8 bytes match one: then LMDB is asked too,
 * which happens here for none of 10,000). A digest beginning with 8 zero
 * bytes is held like any other. */
Test(cache, knows_which_digests_were_not_learned)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	tok_cache *c;
	static unsigned char d[3000][16], other[16];
	for (int i = 0; i < 3000; i++)
		for (int b = 0; b < 16; b++)
			d[i][b] = (unsigned char)((i * 131 + b * 7919 + (i >> 3) * b) ^ (i >> 8));
	memset(d[0], 0, 8);
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	cr_assert_eq(store_write(s, learned_fn, d), 0);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build(t, &TOT, 0, &c), 0);
	for (int i = 0; i < 3000; i++)
		cr_assert(cache_maybe_learned(c, d[i]), "digest %d", i);
	int maybe = 0;
	for (int i = 0; i < 10000; i++) {
		for (int b = 0; b < 16; b++)
			other[b] = (unsigned char)(i * 37 + b * 101 + 0x55);
		memcpy(other, &i, sizeof i);
		other[7] = 0xa5;
		maybe += cache_maybe_learned(c, other);
	}
	cr_expect_eq(maybe, 0);
	cache_unref(c);
	store_read_end(t);
	/* an empty snapshot: nothing was learned */
	store_close(s);
	tu_rmtree(dir);
	free(dir);
	dir = tu_tmpdir();
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build(t, &TOT, 0, &c), 0);
	cr_expect_eq(cache_maybe_learned(c, d[5]), 0);
	cache_unref(c);
	store_read_end(t);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}
