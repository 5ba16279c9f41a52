/* src/lib/store.c: the LMDB backend on real folders: round trips, isolation,
 * growth, prune. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <lmdb.h>
#include <string.h>
#include <sys/wait.h>

#include "store.h"
#include "thresh/error.h"
#include "testutil.h"

struct add_ctx {
	uint64_t first, n;
	int64_t d;
};

static int add_fn(store_txn *t, void *ctx)
{
	struct add_ctx *a = ctx;
	for (uint64_t i = 0; i < a->n; i++) {
		int rc = store_token_add(t, a->first + i * 0x9E3779B97F4A7C15ULL, a->d, 0, 100, 0, 0);
		if (rc)
			return rc;
	}
	return store_meta_put(t, "n", &a->n, sizeof a->n);
}

Test(store, round_trip_and_zero_counts_delete)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	struct add_ctx a = {7, 100, 2};
	cr_assert_eq(store_write(s, add_fn, &a), 0);

	uint64_t ids[2] = {7, 12345};
	tok_counts c[2];
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(store_tokens_get(t, ids, 2, c), 0);
	cr_expect_eq(c[0].spam, 2);
	cr_expect_eq(c[0].ham, 0);
	cr_expect_eq(c[0].day, 100);
	cr_expect_eq(c[1].spam, 0, "unknown id reads as zeros");
	store_info info;
	cr_assert_eq(store_info_get(t, &info), 0);
	cr_expect_eq(info.tokens, 100);
	store_read_end(t);

	a.d = -5; /* clamps at zero, and a token at zero/zero is deleted */
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(store_info_get(t, &info), 0);
	cr_expect_eq(info.tokens, 0);
	store_read_end(t);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

Test(store, reader_keeps_its_snapshot)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	uint64_t n = 0;
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	struct add_ctx a = {1, 10, 1};
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_read_begin(s, &r), 0);
	uint64_t before = store_txn_id(r);
	a.n = 20;
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_meta_get(r, "n", &n, sizeof n), 0);
	cr_expect_eq(n, 10, "a reader sees the state it began with");
	cr_expect_eq(store_txn_id(r), before);
	store_read_end(r);
	cr_assert_eq(store_read_begin(s, &r), 0);
	cr_assert_eq(store_meta_get(r, "n", &n, sizeof n), 0);
	cr_expect_eq(n, 20);
	cr_expect_gt(store_txn_id(r), before);
	store_read_end(r);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* A reset reader renewed reads the newest snapshot, as a new one would;
 * ended while reset, it leaves nothing behind (the sanitizers' builds
 * would see a leak). */
Test(store, reset_reader_renews_on_the_newest_snapshot)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	uint64_t n = 0;
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	struct add_ctx a = {1, 10, 1};
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_read_begin(s, &r), 0);
	uint64_t before = store_txn_id(r);
	cr_expect_eq(store_read_renew(r), THRESH_EINVAL, "only a reset reader renews");
	store_read_reset(r);
	a.n = 20;
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_read_renew(r), 0);
	cr_assert_eq(store_meta_get(r, "n", &n, sizeof n), 0);
	cr_expect_eq(n, 20, "renewed, it sees the write made while it was reset");
	cr_expect_gt(store_txn_id(r), before);
	store_read_reset(r);
	store_read_reset(r); /* twice does nothing */
	cr_assert_eq(store_read_renew(r), 0);
	cr_assert_eq(store_meta_get(r, "n", &n, sizeof n), 0);
	cr_expect_eq(n, 20);
	store_read_reset(r);
	store_read_end(r); /* a reset reader ends too */
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* A reset reader holds the map at no size: a write that must grow the map
 * goes through while it waits (an active reader would have it wait for the
 * grow lock), and renewed it reads the grown map; so it does when another
 * process grew the map (LMDB's MDB_MAP_RESIZED on renew, adopted). */
Test(store, reset_reader_lets_the_map_grow)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	store_info info;
	uint64_t n = 0;
	cr_assert_eq(store_open(dir, 0, 64 * 1024, &s), 0);
	cr_assert_eq(store_read_begin(s, &r), 0);
	store_read_reset(r);
	struct add_ctx a = {3, 50000, 1};
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_read_renew(r), 0);
	cr_assert_eq(store_info_get(r, &info), 0);
	cr_expect_eq(info.tokens, 50000);
	cr_expect_gt(info.map_size, 64 * 1024);
	store_read_reset(r);

	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* its own environment, as another process has */
		store *o;
		struct add_ctx b = {7, 200000, 1};
		_exit(store_open(dir, 0, 0, &o) == 0 && store_write(o, add_fn, &b) == 0 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the other process grew the map");
	cr_assert_eq(store_read_renew(r), 0);
	cr_assert_eq(store_meta_get(r, "n", &n, sizeof n), 0);
	cr_expect_eq(n, 200000, "renewed, it reads the other process's write");
	cr_assert_eq(store_info_get(r, &info), 0);
	cr_expect_eq(info.tokens, 250000);
	store_read_end(r);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

static int fail_fn(store_txn *t, void *ctx)
{
	(void)ctx;
	uint64_t v = 99;
	store_meta_put(t, "n", &v, sizeof v);
	return THRESH_EFORMAT;
}

Test(store, failed_write_changes_nothing)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	uint64_t n;
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	struct add_ctx a = {1, 3, 1};
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_expect_eq(store_write(s, fail_fn, NULL), THRESH_EFORMAT);
	cr_assert_eq(store_read_begin(s, &r), 0);
	cr_assert_eq(store_meta_get(r, "n", &n, sizeof n), 0);
	cr_expect_eq(n, 3);
	cr_expect_eq(store_meta_get(r, "nothing", &n, sizeof n), THRESH_ENOTFOUND);
	cr_expect_eq(store_meta_get(r, "n", &n, 4), THRESH_ECORRUPT, "wrong size is corruption");
	store_read_end(r);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

Test(store, map_grows_by_itself)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	store_info info;
	/* A 64 KiB map cannot hold 50,000 tokens in one transaction: store_write
	 * must grow the map and redo the write, and the result must be whole. */
	cr_assert_eq(store_open(dir, 0, 64 * 1024, &s), 0);
	struct add_ctx a = {3, 50000, 1};
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_read_begin(s, &r), 0);
	cr_assert_eq(store_info_get(r, &info), 0);
	cr_expect_eq(info.tokens, 50000);
	cr_expect_gt(info.map_size, 64 * 1024);
	store_read_end(r);
	store_close(s);

	/* Another process opening with a small size adopts the grown one. */
	cr_assert_eq(store_open(dir, 0, 64 * 1024, &s), 0);
	cr_assert_eq(store_read_begin(s, &r), 0);
	cr_assert_eq(store_info_get(r, &info), 0);
	cr_expect_eq(info.tokens, 50000);
	cr_expect_gt(info.map_size, 64 * 1024);
	store_read_end(r);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

static int learned_fn(store_txn *t, void *ctx)
{
	(void)ctx;
	unsigned char d[16] = {1, 2, 3};
	int rc = store_learned_put(t, d, 1);
	if (rc)
		return rc;
	unsigned char k[16] = {9};
	uint32_t v = 77;
	return store_rec_put(t, "authors", k, 16, &v, sizeof v);
}

Test(store, learned_and_records)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	int label = -1;
	uint32_t v = 0;
	unsigned char d[16] = {1, 2, 3}, other[16] = {4}, k[16] = {9};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	cr_assert_eq(store_write(s, learned_fn, NULL), 0);
	cr_assert_eq(store_read_begin(s, &r), 0);
	cr_expect_eq(store_learned_get(r, d, &label), 0);
	cr_expect_eq(label, 1);
	cr_expect_eq(store_learned_get(r, other, &label), THRESH_ENOTFOUND);
	cr_expect_eq(store_rec_get(r, "authors", k, 16, &v, sizeof v), 0);
	cr_expect_eq(v, 77);
	cr_expect_eq(store_rec_get(r, "nosuchdb", k, 16, &v, sizeof v), THRESH_EINVAL);
	store_read_end(r);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

struct prune_ctx {
	uint64_t removed, rs, rh;
};

static int seed_prune_fn(store_txn *t, void *ctx)
{
	(void)ctx;
	tok_counts old1 = {1, 0, 10, 0, 0, 0}, oldbig = {50, 50, 10, 0, 0, 0}, fresh = {1, 0, 500, 0, 0, 0};
	tok_counts old_prior = {0, 2, 10, 500, 0, 0}; /* old and rare for the site, but in the prior */
	int rc;
	if ((rc = store_token_put(t, 1, &old1)) || (rc = store_token_put(t, 2, &oldbig)) ||
	    (rc = store_token_put(t, 3, &fresh)) || (rc = store_token_put(t, 4, &old_prior)))
		return rc;
	return 0;
}

static int prune_fn(store_txn *t, void *ctx)
{
	struct prune_ctx *p = ctx;
	return store_tokens_prune(t, 100, 10, &p->removed, &p->rs, &p->rh);
}

Test(store, prune_by_age_and_count)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	struct prune_ctx p = {0};
	tok_counts c[4];
	uint64_t ids[4] = {1, 2, 3, 4};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	cr_assert_eq(store_write(s, seed_prune_fn, NULL), 0);
	cr_assert_eq(store_write(s, prune_fn, &p), 0);
	cr_expect_eq(p.removed, 1, "only the old, rare token of the site's own goes");
	cr_expect(p.rs == 1 && p.rh == 0, "the counts it held: %" PRIu64 " %" PRIu64, p.rs, p.rh);
	cr_assert_eq(store_read_begin(s, &r), 0);
	cr_assert_eq(store_tokens_get(r, ids, 4, c), 0);
	cr_expect_eq(c[0].spam + c[0].ham, 0);
	cr_expect_eq(c[1].spam, 50);
	cr_expect_eq(c[2].spam, 1);
	cr_expect(c[3].ham == 2 && c[3].pspam == 500, "the prior's token stays whole");
	store_read_end(r);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

Test(store, readonly_refuses_writes)
{
	char *dir = tu_tmpdir();
	store *s;
	struct add_ctx a = {1, 1, 1};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	store_close(s);
	cr_assert_eq(store_open(dir, STORE_RDONLY, 0, &s), 0);
	cr_expect_eq(store_write(s, add_fn, &a), THRESH_EREADONLY);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

Test(store, missing_folder)
{
	store *s;
	cr_expect_eq(store_open("/nonexistent/thresh/x", 0, 0, &s), THRESH_ENOENT);
}

struct put_ctx {
	const uint64_t *ids;
	const tok_counts *c;
	size_t n;
};

static int put_fn(store_txn *t, void *ctx)
{
	struct put_ctx *p = ctx;
	for (size_t i = 0; i < p->n; i++) {
		int rc = store_token_put(t, p->ids[i], &p->c[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* the size LMDB holds for token id in the store folder dir */
static size_t raw_size(const char *dir, uint64_t id)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {sizeof id, &id}, v = {0, NULL};
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
	cr_assert_eq(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "tokens", MDB_INTEGERKEY, &dbi), 0);
	int rc = mdb_get(txn, dbi, &k, &v);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc ? 0 : v.mv_size;
}

/* A token of the site's layer alone is stored in 12 bytes, as in format 1;
 * one with prior counts in 20; a token that loses its prior counts shrinks
 * back. All read back exactly. */
Test(store, a_site_only_token_takes_12_bytes)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *t;
	const uint64_t ids[3] = {101, 202, 303};
	tok_counts c[3] = {{3, 1, 9, 0, 0, 0}, {0, 0, 0, 2500, 0, 0}, {1, 2, 3, 4, 5, 0}}, got[3];
	struct put_ctx p = {ids, c, 3};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	cr_assert_eq(store_write(s, put_fn, &p), 0);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(store_tokens_get(t, ids, 3, got), 0);
	store_read_end(t);
	cr_expect_eq(memcmp(got, c, sizeof c), 0, "read back as written");
	store_close(s);
	cr_expect_eq(raw_size(dir, 101), 12);
	cr_expect_eq(raw_size(dir, 202), 20);
	cr_expect_eq(raw_size(dir, 303), 20);

	c[2].pspam = c[2].pham = 0; /* the prior's counts taken away */
	p = (struct put_ctx){ids + 2, c + 2, 1};
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	cr_assert_eq(store_write(s, put_fn, &p), 0);
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(store_tokens_get(t, ids, 3, got), 0);
	store_read_end(t);
	cr_expect_eq(memcmp(got, c, sizeof c), 0);
	store_close(s);
	cr_expect_eq(raw_size(dir, 303), 12);
	tu_rmtree(dir);
	free(dir);
}

/* rss_file_kb - the process's resident file-backed memory, in KiB. */
static long rss_file_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "RssFile: %ld kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_geq(kb, 0, "no RssFile in /proc/self/status");
	return kb;
}

static int sum_fn(uint64_t id, const tok_counts *c, void *ctx)
{
	(void)id;
	*(uint64_t *)ctx += c->spam;
	return 0;
}

/* store_release_pages lets go of the map's pages a walk read (they leave
 * the process's resident memory), also under a reader that stays open,
 * and every read after it reads the same. */
Test(store, release_pages_lets_go_of_what_a_walk_read)
{
	char *dir = tu_tmpdir();
	store *s;
	store_txn *r;
	store_info info;
	uint64_t sum = 0, again = 0;
	cr_expect_eq(store_release_pages(NULL), THRESH_EINVAL);
	cr_assert_eq(store_open(dir, 0, 0, &s), 0);
	struct add_ctx a = {3, 200000, 2};
	cr_assert_eq(store_write(s, add_fn, &a), 0);
	cr_assert_eq(store_read_begin(s, &r), 0);
	cr_assert_eq(store_info_get(r, &info), 0);
	cr_assert_eq(store_tokens_foreach(r, sum_fn, &sum), 0);
	cr_expect_eq(sum, 400000);
	long read = rss_file_kb();
	cr_assert_eq(store_release_pages(s), 0);
	long released = rss_file_kb();
	cr_expect_geq(read - released, (long)(info.used_bytes / 1024 / 2),
	              "RssFile %ld kB after the walk, %ld kB after the release; %llu bytes used",
	              read, released, (unsigned long long)info.used_bytes);
	cr_assert_eq(store_tokens_foreach(r, sum_fn, &again), 0);
	cr_expect_eq(again, sum, "the open reader reads on");
	store_read_end(r);
	cr_assert_eq(store_release_pages(s), 0);
	struct add_ctx b = {5, 10, 1};
	cr_assert_eq(store_write(s, add_fn, &b), 0, "a write after it");
	cr_assert_eq(store_read_begin(s, &r), 0);
	again = 0;
	cr_assert_eq(store_tokens_foreach(r, sum_fn, &again), 0);
	cr_expect_eq(again, sum + 10);
	store_read_end(r);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}
