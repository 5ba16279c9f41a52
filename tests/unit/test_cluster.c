/* src/lib/cluster.c: against a redis-server of the test's own. The GCRA
 * script decides exactly as ratelimit.c on the same sequence of times; the
 * local fallback takes this node's share; a round of replication carries a
 * learn from one node to another; a node of another model is refused;
 * nodes starting at once make one epoch and leave no temporary key. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>

#include "clusterutil.h"
#include "cluster.h"
#include "db_int.h"
#include "ratelimit.h"
#include "redis.h"
#include "store.h"

static struct cu_redis redis;
static char *tmp;

static void setup(void)
{
	tmp = tu_tmpdir();
	if (cu_redis_start(&redis, tmp))
		cr_skip_test("redis-server is not installed (scripts/deps.sh installs it)");
}

static void teardown(void)
{
	cu_redis_stop(&redis);
	tu_rmtree(tmp);
	free(tmp);
}

static cluster_conf conf_for(const char *addr, const char *node)
{
	cluster_conf cc;
	char why[300];
	cluster_conf_defaults(&cc);
	cr_assert_eq(cluster_conf_set(&cc, "redis", addr, why, sizeof why), 0, "%s", why);
	cr_assert_eq(cluster_conf_set(&cc, "node", node, why, sizeof why), 0, "%s", why);
	cr_assert_eq(cluster_conf_set(&cc, "nodes", "4", why, sizeof why), 0, "%s", why);
	cr_assert_eq(cluster_conf_set(&cc, "timeout", "500", why, sizeof why), 0, "%s", why);
	return cc;
}

static store *rate_store(const char *name)
{
	char d[PATH_MAX];
	store *s;
	snprintf(d, sizeof d, "%s/%s", tmp, name);
	cr_assert_eq(mkdir(d, 0700), 0);
	cr_assert_eq(store_open(d, STORE_NOSYNC, 0, &s), 0);
	return s;
}

/* The script decides as ratelimit.c on the same times, for one bucket (an
 * author) and for two at once (an author and an address, of different
 * rules): allowed, retry_after to the last bit, and which refused. */
Test(cluster, lua_gcra_decides_as_ratelimit_c, .init = setup, .fini = teardown)
{
	cluster_conf cc = conf_for(redis.addr, "a");
	cluster *cl;
	store *local = rate_store("rate-c"), *fallback = rate_store("rate-fallback");
	cr_assert_eq(cluster_new(&cl), 0);
	const rate_rule rules[] = {{5, 60, 3}, {1, 1, 1}, {7, 3.3, 4}, {1000, 1, 10}};
	const size_t nrules = sizeof rules / sizeof rules[0];
	unsigned seed = 12345;
	for (size_t n = 1; n <= 2; n++)
		for (size_t k = 0; k < nrules; k++) {
			rate_bucket b[2];
			for (size_t i = 0; i < n; i++) {
				memset(b[i].id, 0x42, sizeof b[i].id);
				b[i].id[0] = (unsigned char)k;
				b[i].id[1] = (unsigned char)n;
				b[i].id[2] = (unsigned char)i;
				b[i].rule = rules[(k + i) % nrules];
			}
			double t = 1.7e9 + 0.123456 * (double)k;
			for (int i = 0; i < 300; i++) {
				/* bursts at one instant, small and large steps, fractions of a µs */
				seed = seed * 1103515245u + 12345u;
				unsigned r = (seed >> 16) % 100;
				t += r < 40 ? 0 : r < 80 ? (double)(r % 7) * 0.37 : (double)r * 0.9 + 1e-7;
				int a1, a2, local_used;
				double ra1, ra2;
				unsigned f1, f2;
				cr_assert_eq(ratelimit_check_all(local, b, n, t, &a1, &ra1, &f1), 0);
				cr_assert_eq(cluster_ratelimit(cl, &cc, "fp-test", fallback, b, n, t, &a2, &ra2, &f2,
				                               &local_used),
				             0);
				cr_assert_eq(local_used, 0, "Redis answered");
				cr_assert_eq(a1, a2, "%zu buckets, rule %zu, step %d at %.6f: allowed %d in C, %d in Lua",
				             n, k, i, t, a1, a2);
				cr_assert(ra1 == ra2, "%zu buckets, rule %zu, step %d: retry_after %.17g in C, %.17g in Lua",
				          n, k, i, ra1, ra2);
				cr_assert_eq(f1, f2, "%zu buckets, rule %zu, step %d: refused %u in C, %u in Lua", n, k,
				             i, f1, f2);
			}
		}
	cluster_free(cl);
	store_close(local);
	store_close(fallback);
}

Test(cluster, redis_away_falls_back_to_this_nodes_share, .init = setup, .fini = teardown)
{
	char away[PATH_MAX + 16];
	snprintf(away, sizeof away, "unix:%s/nothing.sock", tmp);
	cluster_conf cc = conf_for(away, "a");
	cluster *cl;
	store *fallback = rate_store("rate-fallback");
	/* an author of burst 3 and an address of burst 8, over 4 nodes */
	rate_bucket b[2] = {{{7}, {5, 60, 3}}, {{8}, {20, 60, 8}}};
	cr_assert_eq(cluster_new(&cl), 0);
	int passed = 0;
	for (int i = 0; i < 10; i++) {
		int a, local;
		double ra;
		unsigned refused;
		cr_assert_eq(cluster_ratelimit(cl, &cc, "fp", fallback, b, 1, 1.7e9, &a, &ra, &refused, &local),
		             0);
		cr_expect_eq(local, 1);
		passed += a;
	}
	cr_expect_eq(passed, 1, "burst 3 over 4 nodes: at least 1 each, %d passed", passed);
	/* the address's share (8 / 4 = 2) holds whoever the author is */
	passed = 0;
	for (int i = 0; i < 10; i++) {
		int a, local;
		double ra;
		unsigned refused;
		b[0].id[1] = (unsigned char)(i + 1); /* another author each time */
		cr_assert_eq(cluster_ratelimit(cl, &cc, "fp", fallback, b, 2, 1.7e9, &a, &ra, &refused, &local),
		             0);
		cr_expect_eq(local, 1);
		cr_expect_eq(refused, a ? 0u : 2u, "comment %d: refused by %u", i, refused);
		passed += a;
	}
	cr_expect_eq(passed, 2, "an address's burst of 8 over 4 nodes: %d passed", passed);
	cluster_free(cl);
	store_close(fallback);
}

static thresh_db *node(const char *seed, const char *name, const char *addr)
{
	char path[PATH_MAX], conf[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/node-%s", tmp, name);
	tu_copy_db(seed, path);
	snprintf(conf, sizeof conf, "[cluster]\nredis = %s\nnode = %s\nnodes = 2\n", addr, name);
	return cu_open(path, conf);
}

static int learned_as(thresh_db *db, const char *text)
{
	thresh_comment *c = tu_comment(text, NULL);
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	int v = tu_has_reason(r, "learned_spam") ? 1 : tu_has_reason(r, "learned_ham") ? 0 : -1;
	thresh_result_free(r);
	thresh_comment_free(c);
	return v;
}

Test(cluster, a_round_carries_a_learn_across, .init = setup, .fini = teardown)
{
	char *sdir, seed[PATH_MAX];
	thresh_db *s = tu_empty_db(&sdir);
	tu_learn(s, "a comment the seed knew", THRESH_HAM);
	thresh_db_close(s);
	snprintf(seed, sizeof seed, "%s/db", sdir);
	thresh_db *a = node(seed, "a", redis.addr), *b = node(seed, "b", redis.addr);
	thresh_replicate_info info = {.size = sizeof info};
	cr_assert_eq(thresh_db_replicate(a, 0, &info), 0, "%s", info.message);
	cr_expect_eq(info.new_epoch, 1, "the first node makes the epoch");
	cr_assert_eq(thresh_db_replicate(b, 0, &info), 0, "%s", info.message);
	cr_expect_eq(info.resynced, 1, "the second joins from its snapshot");
	tu_learn(a, "learnt on node a", THRESH_SPAM);
	cr_expect_eq(learned_as(b, "learnt on node a"), -1);
	cr_assert_eq(thresh_db_replicate(a, 0, &info), 0, "%s", info.message);
	cr_expect_eq(info.published, 1);
	cr_assert_eq(thresh_db_replicate(b, 0, &info), 0, "%s", info.message);
	cr_expect_eq(info.applied, 1);
	cr_expect_eq(learned_as(b, "learnt on node a"), 1);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(b, &st), 0);
	cr_expect_eq(st.cluster, 1);
	cr_expect_eq(st.redis_up, 1);
	cr_expect_eq(st.cluster_seq, 1);
	cr_expect_eq(st.lag_events, 0);
	cr_assert_eq(thresh_db_replicate(a, 0, &info), 0, "%s", info.message);
	cr_assert_eq(thresh_db_stats(a, &st), 0);
	cr_expect_eq(st.outbox, 0, "a saw its learn back in the log");
	cu_same_export(a, b, tmp, "after one learn");
	/* a node of another model (its own key and secret) may not join */
	char *xtmp, xdir[PATH_MAX];
	thresh_db *x = tu_empty_db(&xtmp);
	snprintf(xdir, sizeof xdir, "%s/db", xtmp);
	thresh_db_close(x);
	x = cu_open(xdir, NULL);
	cr_assert_eq(thresh_db_cluster_set(x, "redis", redis.addr), 0);
	cr_assert_eq(thresh_db_cluster_set(x, "node", "x"), 0);
	cr_expect_eq(thresh_db_cluster_set(x, "nodes", "zero"), THRESH_EINVAL);
	cr_expect_eq(thresh_db_replicate(x, 0, &info), THRESH_EREFUSED);
	cr_expect(strstr(info.message, "refusing to join"), "%s", info.message);
	thresh_db_close(x);
	thresh_db_close(a);
	thresh_db_close(b);
	tu_rmtree(xtmp);
	tu_rmtree(sdir);
	free(xtmp);
	free(sdir);
}

/* rq - one command to the test's Redis (NULL-terminated arguments); its
 * integer answer, the number of elements of an array, 1 for a string, 0
 * for nil. */
static long long rq(const char *a0, ...)
{
	const char *argv[8] = {a0};
	int argc = 1;
	va_list ap;
	va_start(ap, a0);
	for (const char *a; argc < 8 && (a = va_arg(ap, const char *));)
		argv[argc++] = a;
	va_end(ap);
	rconn *c;
	rreply *r;
	cr_assert_eq(rconn_open(redis.addr, 1000, 5000, &c, NULL, 0), 0);
	cr_assert_eq(rconn_cmd(c, &r, argc, argv, NULL), 0, "%s", a0);
	const rval *v = rreply_root(r);
	cr_assert_neq(v->type, RV_ERR, "%s: %s", a0, v->s);
	long long n = v->type == RV_INT ? v->i : v->type == RV_ARR ? (long long)v->n
	                                     : v->type == RV_NIL ? 0 : 1;
	rreply_free(r);
	rconn_close(c);
	return n;
}

struct starter {
	thresh_db *db;
	pthread_barrier_t *go;
	int new_epoch, rounds, rc;
};

/* start_node - rounds until this node follows an epoch, begun here or
 * loaded from the winner's snapshot. */
static void *start_node(void *arg)
{
	struct starter *s = arg;
	pthread_barrier_wait(s->go);
	for (s->rounds = 0; s->rounds < 100000; s->rounds++) {
		thresh_replicate_info info = {.size = sizeof info};
		if ((s->rc = thresh_db_replicate(s->db, 0, &info)))
			return NULL;
		s->new_epoch += info.new_epoch;
		if (info.new_epoch || info.resynced)
			return NULL;
	}
	s->rc = -1;
	return NULL;
}

/* Issue 18: three nodes meeting an empty Redis at once. The one that lost
 * the race for NS:lock took it right after the winner committed, uploaded a
 * whole snapshot for an epoch it never committed, and left it in
 * NS:snap:tmp:NODE without an expiry. Exactly one node makes the epoch;
 * nothing of an upload stays behind. Redis emptied again, the same. */
Test(cluster, nodes_starting_at_once_make_one_epoch, .init = setup, .fini = teardown,
     .timeout = 100)
{
	char *sdir, seed[PATH_MAX];
	thresh_db *s = tu_model_db(&sdir); /* a snapshot of megabytes: a long upload */
	thresh_db_close(s);
	snprintf(seed, sizeof seed, "%s/db", sdir);
	thresh_db *db[3] = {node(seed, "a", redis.addr), node(seed, "b", redis.addr),
	                    node(seed, "c", redis.addr)};
	for (int trial = 0; trial < 4; trial++) {
		pthread_barrier_t go;
		pthread_t th[3];
		struct starter st[3];
		pthread_barrier_init(&go, NULL, 3);
		for (int i = 0; i < 3; i++) {
			st[i] = (struct starter){.db = db[i], .go = &go};
			cr_assert_eq(pthread_create(&th[i], NULL, start_node, &st[i]), 0);
		}
		int made = 0;
		for (int i = 0; i < 3; i++) {
			pthread_join(th[i], NULL);
			cr_assert_eq(st[i].rc, 0, "trial %d, node %d: %d", trial, i, st[i].rc);
			made += st[i].new_epoch;
		}
		pthread_barrier_destroy(&go);
		cr_expect_eq(made, 1, "trial %d: %d nodes made an epoch", trial, made);
		cr_expect_eq(rq("KEYS", "thresh:snap:tmp:*", NULL), 0,
		             "trial %d: a temporary key stayed in Redis", trial);
		cr_expect_eq(rq("EXISTS", "thresh:lock", NULL), 0, "trial %d: the lock stayed", trial);
		cr_expect_eq(rq("PTTL", "thresh:snap", NULL), -1, "the snapshot must not expire");
		rq("FLUSHALL", NULL); /* Redis lost everything: the nodes meet it empty again */
	}
	for (int i = 0; i < 3; i++)
		thresh_db_close(db[i]);
	tu_rmtree(sdir);
	free(sdir);
}

/* A node killed mid-upload left its temporary key and its lock: restarted,
 * it removes both when it connects, and begins the epoch at once instead of
 * waiting for its own lock to run out. */
Test(cluster, a_restarted_node_cleans_up_its_dead_upload, .init = setup, .fini = teardown)
{
	char *sdir, seed[PATH_MAX];
	thresh_db *s = tu_empty_db(&sdir);
	thresh_db_close(s);
	snprintf(seed, sizeof seed, "%s/db", sdir);
	rq("SET", "thresh:snap:tmp:a", "half a snapshot", NULL);
	rq("SET", "thresh:lock", "a", "PX", "60000", NULL);
	rq("SET", "thresh:snap:tmp:b", "another node's upload", "PX", "60000", NULL);
	thresh_db *a = node(seed, "a", redis.addr);
	thresh_replicate_info info = {.size = sizeof info};
	cr_assert_eq(thresh_db_replicate(a, 0, &info), 0, "%s", info.message);
	cr_expect_eq(info.new_epoch, 1, "%s", info.message);
	cr_expect_eq(rq("EXISTS", "thresh:snap:tmp:a", NULL), 0);
	cr_expect_eq(rq("EXISTS", "thresh:lock", NULL), 0);
	cr_expect_eq(rq("EXISTS", "thresh:snap:tmp:b", NULL), 1, "not a's to remove");
	cr_expect_eq(rq("PTTL", "thresh:snap", NULL), -1, "the snapshot must not expire");
	thresh_db_close(a);
	tu_rmtree(sdir);
	free(sdir);
}
