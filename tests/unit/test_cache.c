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

/* ---------- the shared prior (cache_build_share) ---------- */

/* A signature as the meta would give it: the tests below pass their own,
 * since the prior tables are found by it and checked token by token. */
static const cache_prior_sig SIG = {1000, 2000, 30000, 40000};

/* The i-th token of a mixed model: mostly the prior's alone (some with a
 * day left by an unlearned comment), some with site counts on top, some
 * the site's alone, a few identity tokens (flags) of the site. Ids are
 * tu_spread_id's, so id 0 and the largest are the prior's alone. */
static tok_counts mixed(uint64_t i, uint32_t site)
{
	tok_counts c = {0, 0, 0, 0, 0, 0};
	switch (i % 6) {
	case 0: case 1: case 2: /* the prior's alone */
		c.pspam = (uint32_t)(i * 37 % 5000);
		c.pham = (uint32_t)(i * 11 % 7000) + 1;
		c.day = i % 3 == 2 ? 19000 : 0;
		break;
	case 3: /* both layers */
		c.spam = (uint32_t)(i % 4) + site;
		c.ham = (uint32_t)(i % 3);
		c.day = 19500;
		c.pspam = (uint32_t)(i * 13 % 900);
		c.pham = 250;
		break;
	default: /* the site's alone, an identity token now and then */
		c.spam = (uint32_t)(i % 5) + site;
		c.ham = (uint32_t)(i % 2) + 1;
		c.day = 19600;
		c.flags = i % 4 == 0 ? COUNTS_IDENTITY : 0;
	}
	return c;
}

struct mixed_ctx {
	uint64_t n;
	uint32_t site;  /* added to the site counts: another site's layer */
	uint64_t bump;  /* a token whose prior counts get one more (0: none) */
	uint64_t extra; /* a prior token more (0: none) */
	uint64_t drop;  /* a prior token left out (0: none) */
};

static int mixed_fn(store_txn *t, void *ctx)
{
	const struct mixed_ctx *m = ctx;
	for (uint64_t i = 0; i < m->n; i++) {
		tok_counts c = mixed(i, m->site);
		if (m->drop && i == m->drop)
			continue;
		if (m->bump && i == m->bump)
			c.pspam++;
		int rc = store_token_put(t, tu_spread_id(i), &c);
		if (rc)
			return rc;
	}
	if (m->extra) {
		tok_counts c = {0, 0, 0, 5, 5, 0};
		return store_token_put(t, m->extra, &c);
	}
	return 0;
}

/* mixed_store - a new store in a new folder holding m's tokens. */
static store *mixed_store(struct mixed_ctx m, char **dir)
{
	store *s;
	*dir = tu_tmpdir();
	cr_assert_eq(store_open(*dir, 0, 0, &s), 0);
	cr_assert_eq(store_write(s, mixed_fn, &m), 0);
	return s;
}

static void close_store(store *s, char *dir)
{
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* same_llr - the ratios of c and ref for every id of a mixed model of n
 * tokens, and ids neither holds, are the same bits. */
static void same_llr(const tok_cache *c, const tok_cache *ref, uint64_t n)
{
	enum { B = 256 };
	uint64_t ids[B];
	double a[B], b[B];
	for (uint64_t i = 0; i < n + B; i += B) {
		for (uint64_t k = 0; k < B; k++) /* past n: ids it does not hold */
			ids[k] = i + k < n ? tu_spread_id(i + k) : tu_spread_id(i + k) ^ 0x5555;
		cache_get_llr(c, ids, B, a);
		cache_get_llr(ref, ids, B, b);
		for (uint64_t k = 0; k < B; k++)
			cr_assert(!memcmp(&a[k], &b[k], sizeof a[k]),
			          "id %016llx (token %llu): %.17g shared, %.17g whole",
			          (unsigned long long)ids[k], (unsigned long long)(i + k), a[k], b[k]);
	}
	cr_assert(b[B - 1] != b[B - 1], "an id it does not hold is NaN");
}

/* With the prior shared, every ratio is the whole table's, bit for bit,
 * under any prior weight: id 0 and the largest id (the prior's alone, read
 * from the shared table), tokens of both layers, of the site's alone, an
 * identity token, an id neither holds; and the cache counts every token. */
Test(cache, a_shared_prior_gives_the_whole_tables_ratios_bit_for_bit)
{
	char *dir;
	const uint64_t n = 5000;
	store *s = mixed_store((struct mixed_ctx){n, 0, 0, 0, 0}, &dir);
	store_txn *t;
	cr_assert_eq(store_read_begin(s, &t), 0);
	const double ws[] = {1, 0.5, 0.37, 0.0123, 0};
	for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
		bayes_totals tot = TOT;
		tot.w = ws[k];
		tok_cache *whole, *shared;
		cr_assert_eq(cache_build(t, &tot, 0, &whole), 0);
		cr_assert_eq(cache_build_share(t, &tot, &SIG, &shared), 0);
		cr_expect(cache_shares(shared), "w %g", ws[k]);
		cr_expect(!cache_shares(whole));
		cr_expect_eq(cache_tokens(shared), n, "w %g: %zu tokens", ws[k], cache_tokens(shared));
		cr_expect_eq(cache_tokens(shared), cache_tokens(whole));
		cr_expect(cache_fits(shared, store_txn_id(t), &tot));
		same_llr(shared, whole, n);
		cache_unref(whole);
		cache_unref(shared);
	}
	cr_expect_eq(cache_shared_count(NULL), 0, "the last cache freed the table");
	store_read_end(t);
	close_store(s, dir);
}

/* Two snapshots with the same prior layer and different sites share one
 * table, each with its own ratios; it lives as long as one of them does. */
Test(cache, two_sites_with_one_prior_share_one_table)
{
	char *d1, *d2;
	const uint64_t n = 3000;
	store *s1 = mixed_store((struct mixed_ctx){n, 0, 0, 0, 0}, &d1);
	store *s2 = mixed_store((struct mixed_ctx){n, 7, 0, 0, 0}, &d2);
	store_txn *t1, *t2;
	tok_cache *c1, *c2, *w2;
	size_t users;
	cr_assert_eq(store_read_begin(s1, &t1), 0);
	cr_assert_eq(store_read_begin(s2, &t2), 0);
	cr_expect_eq(cache_shared_count(&users), 0);
	cr_assert_eq(cache_build_share(t1, &TOT, &SIG, &c1), 0);
	cr_expect_eq(cache_shared_count(&users), 1);
	cr_expect_eq(users, 1);
	cr_assert_eq(cache_build_share(t2, &TOT, &SIG, &c2), 0);
	cr_expect(cache_shares(c1) && cache_shares(c2));
	cr_expect_eq(cache_shared_count(&users), 1, "one table for both");
	cr_expect_eq(users, 2);
	cr_assert_eq(cache_build(t2, &TOT, 0, &w2), 0);
	same_llr(c2, w2, n); /* the second site's own counts, the first one's table */
	cache_unref(c1);
	cr_expect_eq(cache_shared_count(&users), 1, "still held by the second");
	cr_expect_eq(users, 1);
	same_llr(c2, w2, n);
	cache_unref(c2);
	cr_expect_eq(cache_shared_count(&users), 0, "freed with its last user");
	cr_expect_eq(users, 0);
	cache_unref(w2);
	store_read_end(t1);
	store_read_end(t2);
	close_store(s1, d1);
	close_store(s2, d2);
}

/* A prior layer that is not the listed table's under the same signature
 * (one count changed, a token more, a token less: what an import or a
 * change by hand leaves) is found out while it is read, and that cache
 * holds every ratio itself, the whole table's; the listed table stays, for
 * the caches whose prior it is. */
Test(cache, a_prior_that_differs_gets_a_whole_table)
{
	char *d0;
	const uint64_t n = 3000;
	store *s0 = mixed_store((struct mixed_ctx){n, 0, 0, 0, 0}, &d0);
	store_txn *t0;
	tok_cache *c0;
	cr_assert_eq(store_read_begin(s0, &t0), 0);
	cr_assert_eq(cache_build_share(t0, &TOT, &SIG, &c0), 0);
	cr_assert(cache_shares(c0));
	const struct mixed_ctx odd[] = {
		{n, 0, 1500, 0, 0},          /* a prior count changed midway */
		{n, 0, 1, 0, 0},             /* ... at the first token */
		{n, 0, 0, 0x0123456789abcdefULL, 0}, /* a prior token more */
		{n, 0, 0, 0, 2996},          /* a prior token less: only the count tells */
		{n, 0, 0, 0, 6},             /* a prior token less early on */
	};
	for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
		char *d;
		store *s = mixed_store(odd[k], &d);
		store_txn *t;
		tok_cache *c, *whole;
		cr_assert_eq(store_read_begin(s, &t), 0);
		cr_assert_eq(cache_build_share(t, &TOT, &SIG, &c), 0);
		cr_expect(!cache_shares(c), "case %zu: shares a prior that is not its own", k);
		cr_expect_eq(cache_shared_count(NULL), 1, "case %zu", k);
		cr_assert_eq(cache_build(t, &TOT, 0, &whole), 0);
		cr_expect_eq(cache_tokens(c), cache_tokens(whole), "case %zu", k);
		same_llr(c, whole, n);
		cache_unref(c);
		cache_unref(whole);
		store_read_end(t);
		close_store(s, d);
	}
	/* another signature: a table of its own, listed beside the first */
	cache_prior_sig other = SIG;
	other.ham_tok++;
	char *d;
	store *s = mixed_store((struct mixed_ctx){n, 0, 1500, 0, 0}, &d);
	store_txn *t;
	tok_cache *c, *whole;
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build_share(t, &TOT, &other, &c), 0);
	cr_expect(cache_shares(c));
	cr_expect_eq(cache_shared_count(NULL), 2);
	cr_assert_eq(cache_build(t, &TOT, 0, &whole), 0);
	same_llr(c, whole, n);
	cache_unref(c);
	cache_unref(whole);
	store_read_end(t);
	close_store(s, d);
	cr_expect_eq(cache_shared_count(NULL), 1);
	cache_unref(c0);
	cr_expect_eq(cache_shared_count(NULL), 0);
	store_read_end(t0);
	close_store(s0, d0);
}

/* A snapshot without a prior (a database created empty: its signature is
 * all zeros) has nothing to share: a whole table, none listed. And id 0 in
 * both layers beside a shared prior is answered by the cache's own table. */
Test(cache, no_prior_nothing_shared)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	tok_cache *c, *whole;
	const uint64_t ids[3] = {0, UINT64_MAX, 42};
	const tok_counts v[3] = {{1, 2, 3, 0, 0, 0}, {4, 5, 6, 0, 0, 0}, {7, 8, 9, 0, 0, 0}};
	static const cache_prior_sig none;
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	put(s, ids, v, 3);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build_share(t, &TOT, &none, &c), 0);
	cr_expect(!cache_shares(c));
	cr_expect_eq(cache_shared_count(NULL), 0);
	cr_assert_eq(cache_build(t, &TOT, 0, &whole), 0);
	uint64_t ask[4] = {0, UINT64_MAX, 42, 43};
	double a[4], b[4];
	cache_get_llr(c, ask, 4, a);
	cache_get_llr(whole, ask, 4, b);
	cr_expect(!memcmp(a, b, sizeof a));
	cache_unref(c);
	cache_unref(whole);
	/* id 0 in both layers beside a shared prior: the shared table holds
	 * its prior counts, the cache's own its ratio, which wins */
	const tok_counts p[2] = {{0, 0, 0, 700, 300, 0}, {3, 0, 19000, 100, 50, 0}};
	const uint64_t pid[2] = {5, 0};
	store_read_end(t);
	put(s, pid, p, 2);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(cache_build_share(t, &TOT, &SIG, &c), 0);
	cr_assert_eq(cache_build(t, &TOT, 0, &whole), 0);
	cr_expect(cache_shares(c));
	uint64_t ask2[5] = {0, UINT64_MAX, 42, 5, 6};
	double a2[5], b2[5];
	cache_get_llr(c, ask2, 5, a2);
	cache_get_llr(whole, ask2, 5, b2);
	cr_expect(!memcmp(a2, b2, sizeof a2), "id 0: %g and %g", a2[0], b2[0]);
	cr_expect_eq(cache_tokens(c), 4, "%zu", cache_tokens(c));
	cache_unref(c);
	cache_unref(whole);
	store_read_end(t);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}
