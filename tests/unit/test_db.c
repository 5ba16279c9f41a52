/* src/lib/db.c: opening a database folder (create, exclusive, read-only,
 * the errors), and the in-memory copy of a snapshot's counts it keeps for
 * checks (db_cache_for, thresh_db_warm). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "db_int.h"
#include "testutil.h"

Test(db, open_errors)
{
	thresh_db *db;
	thresh_db_options o;
	char err[256] = "";
	char *dir = tu_tmpdir(), path[PATH_MAX];
	thresh_db_options_init(&o);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	snprintf(path, sizeof path, "%s/none", dir);
	cr_expect_eq(thresh_db_open(path, &o, &db), THRESH_ENOENT);
	cr_expect_eq(access(path, F_OK), -1, "no folder made without CREATE");
	/* a folder holding something else is not taken over */
	snprintf(path, sizeof path, "%s/other", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/other/file.txt", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof path, "%s/other", dir);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	cr_expect_eq(thresh_db_open(path, &o, &db), THRESH_ECORRUPT);
	cr_expect(strstr(err, "not a thresh database") != NULL, "errbuf: %s", err);
	/* a missing default model is a clear error and leaves nothing behind */
	snprintf(path, sizeof path, "%s/m", dir);
	o.flags = THRESH_DB_CREATE;
	o.model = "/nonexistent/default.dump";
	cr_expect_eq(thresh_db_open(path, &o, &db), THRESH_ENOMODEL);
	cr_expect(strstr(err, "/nonexistent/default.dump") != NULL, "errbuf: %s", err);
	cr_expect_eq(access(path, F_OK), -1);
	cr_expect_eq(thresh_db_open(NULL, NULL, &db), THRESH_EINVAL);
	tu_rmtree(dir);
	free(dir);
}

Test(db, create_excl_and_reopen)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir), *db2;
	thresh_db_options o;
	char path[PATH_MAX];
	thresh_db_close(db);
	snprintf(path, sizeof path, "%s/db/", dir); /* trailing slash is fine */
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EXCL | THRESH_DB_EMPTY;
	cr_expect_eq(thresh_db_open(path, &o, &db2), THRESH_EEXIST);
	o.flags = 0;
	cr_assert_eq(thresh_db_open(path, &o, &db2), 0);
	thresh_db_close(db2);
	tu_rmtree(dir);
	free(dir);
}

Test(db, readonly_open)
{
	char *dir, path[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY;
	snprintf(path, sizeof path, "%s/db", dir);
	cr_assert_eq(thresh_db_open(path, &o, &db), 0);
	thresh_comment *c = tu_comment("x", NULL);
	cr_expect_eq(thresh_learn(db, c, THRESH_SPAM, NULL), THRESH_EREADONLY);
	cr_expect_eq(thresh_db_param_set(db, "robs", 0.3), THRESH_EREADONLY);
	cr_expect_eq(thresh_db_prune(db, 1, 0, NULL), THRESH_EREADONLY);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

Test(db, memory_cache_never_serves_a_stale_count)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	tu_learn_numbered(db, "neutral words here %d", 5, THRESH_HAM);
	tu_learn_numbered(db, "other words there %d", 5, THRESH_SPAM);
	/* enough checks of one snapshot to fill the cache (DB_CACHE_AFTER) */
	double first = tu_score(db, "quasar");
	for (int i = 0; i < 100; i++)
		cr_assert_eq(tu_score(db, "quasar"), first);
	/* learning changes the snapshot: the very next check must see it */
	tu_learn_numbered(db, "quasar offer %d", 5, THRESH_SPAM);
	double after = tu_score(db, "quasar");
	cr_expect_neq(after, first, "a stale count was served: %.17g then %.17g", first, after);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(tu_score(db, "quasar"), after, "the cache of the new snapshot agrees with LMDB");
	thresh_db_close(db);

	/* with the cache off, every score is the same */
	db = tu_open_with_conf(dir, "memory_cache = off\n");
	for (int i = 0; i < 50; i++)
		cr_assert_eq(tu_score(db, "quasar"), after);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* thresh_db_warm fills the memory copy of the latest snapshot at once (seen
 * here through the library's internals, as nothing public shows it), the
 * scores through it are LMDB's, and a later snapshot is not served from it. */
Test(db, warm_fills_the_cache_of_the_latest_snapshot)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	cr_expect_eq(thresh_db_warm(NULL), THRESH_EINVAL);
	/* the calibration pinned, so that a score follows the counts alone */
	cr_assert_eq(thresh_db_param_set(db, "nb_scale", 17.354), 0);
	tu_learn_numbered(db, "lovely garden poem %d", 5, THRESH_HAM);
	tu_learn_numbered(db, "cheap quasar pills %d", 5, THRESH_SPAM);
	double cold = tu_score(db, "cheap garden quasar"); /* one check: no cache yet */
	cr_assert_null(db->cache);
	cr_assert_eq(thresh_db_warm(db), 0);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_assert_not_null(db->cache);
	cr_expect_eq(cache_tokens(db->cache), st.tokens);
	struct tok_cache *c = db->cache;
	cr_assert_eq(thresh_db_warm(db), 0);
	cr_expect_eq(db->cache, c, "the copy of the latest snapshot is kept, not made again");
	cr_expect_eq(tu_score(db, "cheap garden quasar"), cold);

	tu_learn(db, "cheap garden quasar offer", THRESH_SPAM);
	double after = tu_score(db, "cheap garden quasar");
	cr_expect_gt(after, cold, "a count of the older snapshot was served");
	cr_assert_eq(thresh_db_warm(db), 0);
	cr_expect_neq(db->cache, c, "a new snapshot gets a new copy");
	cr_expect_eq(tu_score(db, "cheap garden quasar"), after);
	thresh_db_close(db);

	/* with memory_cache off it does nothing */
	db = tu_open_with_conf(dir, "memory_cache = off\n");
	cr_assert_eq(thresh_db_warm(db), 0);
	cr_expect_null(db->cache);
	cr_expect_eq(tu_score(db, "cheap garden quasar"), after);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* With the memory copy in use, a comment learned is still known as learned
 * (the copy's set of learned digests says "maybe", LMDB says which label),
 * and one never learned is not. */
Test(db, learned_comments_are_found_through_the_memory_copy)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	tu_learn_numbered(db, "lovely garden poem %d", 5, THRESH_HAM);
	tu_learn_numbered(db, "cheap quasar pills %d", 5, THRESH_SPAM);
	cr_assert_eq(thresh_db_warm(db), 0);
	cr_assert_not_null(db->cache);
	const char *text[3] = {"lovely garden poem 3", "cheap quasar pills 2", "lovely garden poem 9"};
	const char *want[3] = {"learned_ham", "learned_spam", NULL};
	for (int i = 0; i < 3; i++) {
		thresh_comment *c = tu_comment(text[i], NULL);
		thresh_result *r;
		cr_assert_eq(thresh_check(db, c, 0, &r), 0);
		if (want[i])
			cr_expect(tu_has_reason(r, want[i]), "%s: %s", text[i], want[i]);
		else
			cr_expect(!tu_has_reason(r, "learned_ham") && !tu_has_reason(r, "learned_spam"),
			          "%s was never learned", text[i]);
		thresh_result_free(r);
		thresh_comment_free(c);
	}
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* explained - text, probability and counts of each explanation token of a
 * check of text, one line each, into buf. */
static void explained(thresh_db *db, const char *text, char *buf, size_t size)
{
	thresh_comment *c = tu_comment(text, NULL);
	thresh_result *r;
	size_t at = 0;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_EXPLAIN, &r), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < thresh_result_token_count(r); i++) {
		const char *t;
		double p;
		uint64_t sp, hm;
		cr_assert_eq(thresh_result_token(r, i, &t, &p, &sp, &hm), 0);
		at += (size_t)snprintf(buf + at, size - at, "%s %.17g %llu %llu\n", t, p,
		                       (unsigned long long)sp, (unsigned long long)hm);
		cr_assert_lt(at, size);
	}
	cr_assert_gt(at, 0, "an explanation with tokens");
	thresh_result_free(r);
	thresh_comment_free(c);
}

/* The memory copy of a naive-Bayes model holds ratios, not counts: an
 * explanation through it reads the counts from LMDB, and says what it says
 * with the copy off. The Fisher classifier scores from counts: its copy
 * keeps them, and scores as LMDB does. */
Test(db, explanations_and_fisher_through_the_cache_agree_with_lmdb)
{
	char *dir;
	static char warm[8192], cold[8192];
	thresh_db *db = tu_empty_db(&dir);
	tu_learn_numbered(db, "lovely garden poem %d", 5, THRESH_HAM);
	tu_learn_numbered(db, "cheap quasar pills %d", 5, THRESH_SPAM);
	cr_assert_eq(thresh_db_warm(db), 0);
	cr_assert_not_null(db->cache);
	cr_expect(!cache_has_counts(db->cache), "naive Bayes: ratios only");
	explained(db, "cheap garden quasar", warm, sizeof warm);
	double nb = tu_score(db, "cheap garden quasar");
	cr_assert_eq(thresh_db_param_set(db, "classifier", 1), 0);
	cr_assert_eq(thresh_db_warm(db), 0);
	cr_assert_not_null(db->cache);
	cr_expect(cache_has_counts(db->cache), "Fisher: the counts too");
	double fisher = tu_score(db, "cheap garden quasar");
	cr_expect_neq(fisher, nb);
	thresh_db_close(db);

	db = tu_open_with_conf(dir, "memory_cache = off\n");
	cr_expect_eq(tu_score(db, "cheap garden quasar"), fisher);
	cr_assert_eq(thresh_db_param_set(db, "classifier", 0), 0);
	explained(db, "cheap garden quasar", cold, sizeof cold);
	cr_expect_str_eq(warm, cold);
	cr_expect_eq(tu_score(db, "cheap garden quasar"), nb);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* make_v1_db - a database folder as thresh 0.1 left it: format 1 meta and
 * tokens of 12 bytes (spam, ham, day), written with LMDB itself. */
static void make_v1_db(const char *path)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, tokens;
	uint32_t fmt = 1, tok = 63;
	unsigned char key[16] = {9};
	uint64_t spam = 4, ham = 6;
	double hold = 0.62;
	uint32_t v1[3][3] = {{4, 0, 20000}, {0, 6, 20000}, {2, 3, 20000}};
	uint64_t ids[3] = {5, 6, 7};
	struct {
		const char *k;
		void *v;
		size_t n;
	} m[] = {{"magic", "thresh-db", 10}, {"format", &fmt, 4},   {"key", key, 16},
	         {"tokenizer", &tok, 4},     {"spam", &spam, 8},     {"ham", &ham, 8},
	         {"p:hold_cutoff", &hold, 8}};
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
	cr_assert_eq(mdb_env_open(env, path, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
	cr_assert_eq(mdb_dbi_open(txn, "tokens", MDB_CREATE | MDB_INTEGERKEY, &tokens), 0);
	MDB_dbi other;
	cr_assert_eq(mdb_dbi_open(txn, "learned", MDB_CREATE, &other), 0);
	cr_assert_eq(mdb_dbi_open(txn, "authors", MDB_CREATE, &other), 0);
	cr_assert_eq(mdb_dbi_open(txn, "rate", MDB_CREATE, &other), 0);
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		MDB_val k = {strlen(m[i].k), (void *)m[i].k}, v = {m[i].n, m[i].v};
		cr_assert_eq(mdb_put(txn, meta, &k, &v, 0), 0);
	}
	for (int i = 0; i < 3; i++) {
		MDB_val k = {8, &ids[i]}, v = {12, v1[i]};
		cr_assert_eq(mdb_put(txn, tokens, &k, &v, 0), 0);
	}
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* A database of thresh 0.1: refused read-only with a message that says
 * how to upgrade it; opened read-write, upgraded once, its counts kept as
 * the site's own, told in the statistics of that handle. */
Test(db, a_format_1_database_is_upgraded_on_a_read_write_open)
{
	char *dir = tu_tmpdir(), path[PATH_MAX], err[512] = "";
	thresh_db *db;
	thresh_db_options o;
	snprintf(path, sizeof path, "%s/old", dir);
	make_v1_db(path);
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	cr_expect_eq(thresh_db_open(path, &o, &db), THRESH_EVERSION);
	cr_expect(strstr(err, "format 1 needs an upgrade") && strstr(err, "read-write"), "%s", err);
	o.flags = 0;
	cr_assert_eq(thresh_db_open(path, &o, &db), 0, "%s", err);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.upgraded_from, 1);
	cr_expect_eq(st.format_version, 3);
	cr_expect(st.spam_messages == 4 && st.ham_messages == 6 && st.tokens == 3);
	cr_expect(st.prior_spam_messages == 0 && st.prior_weight == 0);
	double hold;
	cr_assert_eq(thresh_db_param_get(db, "hold_cutoff", &hold), 0);
	cr_expect_neq(hold, 0.62, "thresh 0.1's cutoff does not apply to this score");
	/* it learns and checks like any database */
	tu_learn(db, "a new comment after the upgrade", THRESH_HAM);
	thresh_db_close(db);
	o.flags = THRESH_DB_RDONLY;
	cr_assert_eq(thresh_db_open(path, &o, &db), 0, "%s", err);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.upgraded_from, 0, "upgraded once");
	cr_expect_eq(st.ham_messages, 7);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* thresh_db_clone: the model copied, what the secret keyed left behind. */
static uint64_t stat_of(thresh_db *db, int which)
{
	thresh_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	return which == 0 ? st.spam_messages : which == 1 ? st.ham_messages
	       : which == 2 ? st.tokens : st.learned;
}

Test(db, clone_copies_the_model_with_a_secret_of_its_own)
{
	char *dir, path[PATH_MAX], err[256] = "";
	thresh_db *db = tu_empty_db(&dir), *copy = NULL, *again = (thresh_db *)1;
	tu_learn_numbered(db, "lovely garden poem %d", 6, THRESH_HAM);
	tu_learn_numbered(db, "cheap quasar pills %d", 6, THRESH_SPAM);
	/* an author's comments: identity tokens and an author record */
	for (int i = 0; i < 3; i++) {
		char text[64];
		snprintf(text, sizeof text, "kind words on the garden %d", i);
		thresh_comment *c = tu_comment(text, "pat@example.net");
		cr_assert_eq(thresh_learn(db, c, THRESH_HAM, NULL), 0);
		thresh_comment_free(c);
	}
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	o.flags = THRESH_DB_CREATE | THRESH_DB_EXCL; /* ignored */
	snprintf(path, sizeof path, "%s/copy", dir);
	cr_assert_eq(thresh_db_clone(db, path, NULL, &o, &copy), 0, "%s", err);

	cr_expect_eq(stat_of(copy, 0), stat_of(db, 0), "spam comments learned");
	cr_expect_eq(stat_of(copy, 1), stat_of(db, 1), "ham comments learned");
	cr_expect_lt(stat_of(copy, 2), stat_of(db, 2), "identity tokens left behind");
	cr_expect_eq(stat_of(db, 3), 15);
	cr_expect_eq(stat_of(copy, 3), 0, "learned digests left behind");
	static const char *probe[] = {"cheap quasar pills", "lovely garden poem", "a new text"};
	for (size_t i = 0; i < 3; i++) {
		double a = tu_score(db, probe[i]), b = tu_score(copy, probe[i]);
		cr_expect(memcmp(&a, &b, sizeof a) == 0, "%s: %.17g vs %.17g", probe[i], a, b);
	}
	/* its own secret: a file of its own, and the author unknown there */
	char s1[PATH_MAX], s2[PATH_MAX];
	size_t n1, n2;
	snprintf(s1, sizeof s1, "%s/db/secret", dir);
	snprintf(s2, sizeof s2, "%s/copy/secret", dir);
	char *a = tu_slurp(s1, &n1), *b = tu_slurp(s2, &n2);
	cr_expect(n1 == n2 && memcmp(a, b, n1) != 0, "a new secret");
	free(a);
	free(b);
	struct stat sb;
	snprintf(s2, sizeof s2, "%s/copy/data.mdb", dir);
	cr_assert_eq(stat(s2, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0600, "the data file is its owner's: %o", sb.st_mode & 0777);
	/* it learns on its own, the source does not move */
	tu_learn(copy, "cheap quasar pills again", THRESH_SPAM);
	cr_expect_eq(stat_of(copy, 0), 7);
	cr_expect_eq(stat_of(db, 0), 6);

	/* an existing folder is not replaced, and nothing is left behind */
	cr_expect_eq(thresh_db_clone(db, path, NULL, &o, &again), THRESH_EEXIST);
	cr_expect_eq(again, (thresh_db *)1, "*out untouched");
	cr_expect_eq(thresh_db_clone(NULL, path, NULL, &o, &again), THRESH_EINVAL);
	cr_expect_eq(thresh_db_clone(db, NULL, NULL, &o, &again), THRESH_EINVAL);
	thresh_db_close(copy);
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			n++;
			cr_expect(!strcmp(e->d_name, "db") || !strcmp(e->d_name, "copy"), "%s", e->d_name);
		}
	closedir(d);
	cr_expect_eq(n, 2, "no temporary folder left");
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A clone of a database made from the default model and never learned
 * into is what creating one from the default model makes. */
Test(db, clone_of_the_default_model_is_a_new_database)
{
	char *dir, *dir2, path[PATH_MAX];
	thresh_db *seed = tu_model_db(&dir), *made = tu_model_db(&dir2), *copy;
	snprintf(path, sizeof path, "%s/copy", dir);
	cr_assert_eq(thresh_db_clone(seed, path, NULL, NULL, &copy), 0);
	for (int w = 0; w < 4; w++)
		cr_expect_eq(stat_of(copy, w), stat_of(made, w), "stat %d", w);
	static const char *probe[] = {"check out my channel subscribe", "great song love it",
	                              "free iphone click http://x.example", "hello"};
	for (size_t i = 0; i < 4; i++) {
		double a = tu_score(made, probe[i]), b = tu_score(copy, probe[i]);
		cr_expect(memcmp(&a, &b, sizeof a) == 0, "%s: %.17g vs %.17g", probe[i], a, b);
	}
	double va, vb;
	for (size_t i = 0; thresh_db_param_name(i); i++) {
		cr_assert_eq(thresh_db_param_get(made, thresh_db_param_name(i), &va), 0);
		cr_assert_eq(thresh_db_param_get(copy, thresh_db_param_name(i), &vb), 0);
		cr_expect(memcmp(&va, &vb, sizeof va) == 0, "%s", thresh_db_param_name(i));
	}
	thresh_db_close(copy);
	thresh_db_close(made);
	thresh_db_close(seed);
	tu_rmtree(dir);
	tu_rmtree(dir2);
	free(dir);
	free(dir2);
}

/* A derived secret: the same from one database and one name, on every
 * machine holding a copy of that database; another name, another secret. */
Test(db, clone_derives_the_same_secret_from_the_same_source_and_name)
{
	char *dir, path[4][PATH_MAX], file[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir), *c[4];
	const char *derive[4] = {"blog1", "blog1", "blog2", NULL};
	char *secret[4];
	size_t n[4];
	for (int i = 0; i < 4; i++) {
		snprintf(path[i], sizeof path[i], "%s/c%d", dir, i);
		cr_assert_eq(thresh_db_clone(db, path[i], derive[i], NULL, &c[i]), 0, "clone %d", i);
		snprintf(file, sizeof file, "%s/secret", path[i]);
		secret[i] = tu_slurp(file, &n[i]);
		thresh_db_close(c[i]);
	}
	snprintf(file, sizeof file, "%s/db/secret", dir);
	size_t n0;
	char *own = tu_slurp(file, &n0);
	cr_expect(n[0] == n[1] && !memcmp(secret[0], secret[1], n[0]), "one name, one secret");
	cr_expect(memcmp(secret[0], secret[2], n[0]) != 0, "another name, another secret");
	cr_expect(memcmp(secret[0], secret[3], n[0]) != 0, "NULL: a random one");
	cr_expect(memcmp(secret[0], own, n[0]) != 0, "not the source's own");
	thresh_db *a = (thresh_db *)1;
	cr_expect_eq(thresh_db_clone(db, path[0], "", NULL, &a), THRESH_EINVAL, "an empty name");
	cr_expect_eq(a, (thresh_db *)1);
	for (int i = 0; i < 4; i++)
		free(secret[i]);
	free(own);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
