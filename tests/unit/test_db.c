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
	char *dir, path[4][PATH_MAX], file[PATH_MAX + 16];
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

/* ---------- THRESH_DB_SHARE_PRIOR: the prior's counts shared ---------- */

/* Comments of every kind: spam, ham, links, an author's e-mail (identity
 * tokens), words the default model never saw. */
static const char *const SHARE_TEXTS[] = {
	"Check out my channel, subscribe and win a free iPhone http://bit.ly/free-phone",
	"I love this song, it reminds me of summer with my family",
	"cheap pills online buy now discount viagra http://pharma.example.com/buy",
	"Great explanation, the part about the second law finally makes sense to me",
	"Make money fast working from home!!! Click here http://money.example.net",
	"quasar zyxwv plumbago frobnicate",
	"Thanks for sharing. What camera did you use for the sunset shots?",
	"FREE entry in 2 a wkly comp to win FA Cup final tkts text FA to 87121",
	"",
	"Hello everyone please visit my website www.example.org for more videos like this",
	"The recipe worked perfectly, though I used less sugar than you suggested",
	"URGENT! You have won a 1 week FREE membership call 09061701461 now",
};
#define NSHARE (sizeof SHARE_TEXTS / sizeof SHARE_TEXTS[0])

struct outcome {
	double score;
	thresh_verdict verdict;
};

/* share_comment - comment i of SHARE_TEXTS, every third with an e-mail. */
static thresh_comment *share_comment(size_t i)
{
	char email[64];
	snprintf(email, sizeof email, "author%zu@example.org", i % 4);
	return tu_comment(SHARE_TEXTS[i], i % 3 == 0 ? email : NULL);
}

static void outcomes(thresh_db *db, struct outcome *out)
{
	for (size_t i = 0; i < NSHARE; i++) {
		thresh_comment *c = share_comment(i);
		thresh_result *r;
		int rc = thresh_check(db, c, THRESH_CHECK_READONLY, &r);
		cr_assert_eq(rc, 0, "check: %s", thresh_strerror(rc));
		out[i].score = thresh_result_score(r);
		out[i].verdict = thresh_result_verdict(r);
		thresh_result_free(r);
		thresh_comment_free(c);
	}
}

/* same_outcomes - a and b's checks of every comment give the same score,
 * to the bit, and the same verdict. */
static void same_outcomes(thresh_db *a, thresh_db *b, const char *when)
{
	struct outcome x[NSHARE], y[NSHARE];
	outcomes(a, x);
	outcomes(b, y);
	for (size_t i = 0; i < NSHARE; i++) {
		cr_expect(!memcmp(&x[i].score, &y[i].score, sizeof x[i].score),
		          "%s: comment %zu scores %.17g shared, %.17g not", when, i, x[i].score,
		          y[i].score);
		cr_expect_eq(x[i].verdict, y[i].verdict, "%s: comment %zu", when, i);
	}
}

/* both_ways - dir/db (closed) copied to dir/copy, and the two opened and
 * warmed: *sh with THRESH_DB_SHARE_PRIOR, *whole without; a and b (PATH_MAX)
 * receive their paths. */
static void both_ways(const char *dir, char *a, char *b, thresh_db **sh, thresh_db **whole)
{
	snprintf(a, PATH_MAX, "%s/db", dir);
	snprintf(b, PATH_MAX, "%s/copy", dir);
	tu_copy_db(a, b);
	*sh = tu_open(a, THRESH_DB_SHARE_PRIOR);
	*whole = tu_open(b, 0);
	cr_assert_eq(thresh_db_warm(*sh), 0);
	cr_assert_eq(thresh_db_warm(*whole), 0);
}

/* learn_some - the same comments learned on db, some with an e-mail. */
static void learn_some(thresh_db *db)
{
	for (size_t i = 0; i < NSHARE; i++) {
		if (!SHARE_TEXTS[i][0])
			continue;
		thresh_comment *c = share_comment(i);
		int label = strstr(SHARE_TEXTS[i], "http") || strstr(SHARE_TEXTS[i], "FREE") ||
		            strstr(SHARE_TEXTS[i], "cheap") ? THRESH_SPAM : THRESH_HAM;
		int rc = thresh_learn(db, c, label, NULL);
		cr_assert_eq(rc, 0, "learn %zu: %s", i, thresh_strerror(rc));
		thresh_comment_free(c);
	}
	tu_learn_numbered(db, "my own site's word zorblax number %d", 6, THRESH_HAM);
}

/* A handle opened with THRESH_DB_SHARE_PRIOR scores every comment as one
 * without it on a copy of the same folder, to the bit: on the default
 * model as it came, after the site learned (its own tokens, identity
 * tokens among them, and another weight of the prior), and with the
 * Fisher classifier, whose copy keeps the counts and shares nothing. */
Test(db, share_prior_scores_bit_for_bit, .timeout = 120)
{
	char *dir, a[PATH_MAX], b[PATH_MAX];
	thresh_db *db = tu_model_db(&dir), *sh, *whole;
	thresh_db_close(db);
	both_ways(dir, a, b, &sh, &whole);
	cr_assert(cache_shares(sh->cache), "the flag shares the prior");
	cr_assert(!cache_shares(whole->cache), "without it, nothing is shared");
	cr_expect_eq(cache_shared_count(NULL), 1);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(sh, &st), 0);
	cr_expect_eq(cache_tokens(sh->cache), st.tokens, "%zu tokens, %llu stored",
	             cache_tokens(sh->cache), (unsigned long long)st.tokens);
	cr_expect_eq(cache_tokens(whole->cache), st.tokens);
	same_outcomes(sh, whole, "the default model");
	struct outcome before[NSHARE], after[NSHARE];
	outcomes(whole, before);

	/* the site learns, and counts its prior as 60 comments: w < 1 */
	learn_some(sh);
	learn_some(whole);
	cr_assert_eq(thresh_db_param_set(sh, "prior_comments", 60), 0);
	cr_assert_eq(thresh_db_param_set(whole, "prior_comments", 60), 0);
	cr_assert_eq(thresh_db_warm(sh), 0);
	cr_assert_eq(thresh_db_warm(whole), 0);
	cr_assert(cache_shares(sh->cache), "the same prior after learning");
	cr_assert_eq(thresh_db_stats(sh, &st), 0);
	cr_expect_lt(st.prior_weight, 0.5, "w %g", st.prior_weight);
	cr_expect_eq(cache_tokens(sh->cache), st.tokens);
	cr_expect_eq(cache_shared_count(NULL), 1, "the old copy let go of its table");
	same_outcomes(sh, whole, "after learning");
	outcomes(whole, after);
	int moved = 0;
	for (size_t i = 0; i < NSHARE; i++)
		moved += before[i].score != after[i].score;
	cr_expect_gt(moved, NSHARE / 2, "learning and w moved the scores");

	/* Fisher: the counts are kept, nothing shared, the same scores */
	cr_assert_eq(thresh_db_param_set(sh, "classifier", 1), 0);
	cr_assert_eq(thresh_db_param_set(whole, "classifier", 1), 0);
	cr_assert_eq(thresh_db_warm(sh), 0);
	cr_assert_eq(thresh_db_warm(whole), 0);
	cr_expect(!cache_shares(sh->cache) && cache_has_counts(sh->cache));
	cr_expect_eq(cache_shared_count(NULL), 0);
	same_outcomes(sh, whole, "Fisher");
	thresh_db_close(sh);
	thresh_db_close(whole);
	tu_rmtree(dir);
	free(dir);
}

/* Two sites made apart from the same default model (each its own secret)
 * share one table of prior counts, whatever each learned; it is freed when
 * the last of them closes. */
Test(db, share_prior_two_sites_share_one_table, .timeout = 120)
{
	char *d1, *d2, p1[PATH_MAX], p2[PATH_MAX], p2c[PATH_MAX];
	size_t users;
	thresh_db *db = tu_model_db(&d1);
	learn_some(db);
	thresh_db_close(db);
	db = tu_model_db(&d2);
	tu_learn_numbered(db, "cheap quasar pills %d", 4, THRESH_SPAM);
	thresh_db_close(db);
	snprintf(p1, sizeof p1, "%s/db", d1);
	snprintf(p2, sizeof p2, "%s/db", d2);
	snprintf(p2c, sizeof p2c, "%s/copy", d2);
	tu_copy_db(p2, p2c);
	thresh_db *s1 = tu_open(p1, THRESH_DB_SHARE_PRIOR);
	thresh_db *s2 = tu_open(p2, THRESH_DB_SHARE_PRIOR | THRESH_DB_RDONLY);
	thresh_db *w2 = tu_open(p2c, 0);
	cr_expect_eq(cache_shared_count(NULL), 0, "nothing before a copy is filled");
	cr_assert_eq(thresh_db_warm(s1), 0);
	cr_assert_eq(thresh_db_warm(s2), 0);
	cr_assert_eq(thresh_db_warm(w2), 0);
	cr_expect(cache_shares(s1->cache) && cache_shares(s2->cache));
	cr_expect_eq(cache_shared_count(&users), 1, "one table for both sites");
	cr_expect_eq(users, 2);
	same_outcomes(s2, w2, "the second site");
	thresh_db_close(s1);
	cr_expect_eq(cache_shared_count(&users), 1, "the second site holds it");
	cr_expect_eq(users, 1);
	same_outcomes(s2, w2, "the second site alone");
	thresh_db_close(s2);
	cr_expect_eq(cache_shared_count(&users), 0, "freed with its last handle");
	cr_expect_eq(users, 0);
	thresh_db_close(w2);
	tu_rmtree(d1);
	tu_rmtree(d2);
	free(d1);
	free(d2);
}

static int bump_first_prior(uint64_t id, const tok_counts *c, void *ctx)
{
	if (!c->pspam && !c->pham)
		return 0;
	*(uint64_t *)ctx = id;
	return 1; /* found: stop */
}

/* bump_fn - one more prior spam on the first token of the prior, the
 * meta's totals left alone: a prior its signature does not tell apart. */
static int bump_fn(store_txn *t, void *ctx)
{
	uint64_t id = 0;
	int rc = store_tokens_foreach(t, bump_first_prior, &id);
	if (rc != 1)
		return rc ? rc : THRESH_ENOTFOUND;
	*(uint64_t *)ctx = id;
	return store_token_add(t, id, 0, 0, 0, 1, 0);
}

/* A site whose prior is not the shared table's (a database created empty
 * and trained; one whose prior token was changed in the store) holds all
 * of its ratios itself, and scores as without the flag. */
Test(db, share_prior_a_different_prior_is_not_shared, .timeout = 120)
{
	char *dir, a[PATH_MAX], b[PATH_MAX];
	/* created empty, trained: no prior at all */
	thresh_db *db = tu_empty_db(&dir), *sh, *whole;
	learn_some(db);
	thresh_db_close(db);
	both_ways(dir, a, b, &sh, &whole);
	cr_expect(!cache_shares(sh->cache));
	cr_expect_eq(cache_shared_count(NULL), 0);
	same_outcomes(sh, whole, "an empty database, trained");
	thresh_db_close(sh);
	thresh_db_close(whole);
	tu_rmtree(dir);
	free(dir);

	/* the default model, and a copy with one prior count changed */
	char c[PATH_MAX], cc[PATH_MAX];
	db = tu_model_db(&dir);
	thresh_db_close(db);
	snprintf(a, sizeof a, "%s/db", dir);
	snprintf(c, sizeof c, "%s/changed", dir);
	snprintf(cc, sizeof cc, "%s/changed-copy", dir);
	tu_copy_db(a, c);
	store *st;
	uint64_t id = 0;
	cr_assert_eq(store_open(c, 0, 0, &st), 0);
	cr_assert_eq(store_write(st, bump_fn, &id), 0);
	store_close(st);
	tu_copy_db(c, cc);
	thresh_db *ref = tu_open(a, THRESH_DB_SHARE_PRIOR);
	sh = tu_open(c, THRESH_DB_SHARE_PRIOR);
	whole = tu_open(cc, 0);
	cr_assert_eq(thresh_db_warm(ref), 0);
	cr_assert_eq(thresh_db_warm(sh), 0);
	cr_assert_eq(thresh_db_warm(whole), 0);
	cr_expect(cache_shares(ref->cache), "the model as it came shares");
	cr_expect(!cache_shares(sh->cache), "a changed prior token is found out");
	cr_expect_eq(cache_shared_count(NULL), 1);
	/* the changed token's own ratio, and the ones around it */
	double r1, r2;
	cache_get_llr(sh->cache, &id, 1, &r1);
	cache_get_llr(whole->cache, &id, 1, &r2);
	cr_expect(!memcmp(&r1, &r2, sizeof r1));
	cache_get_llr(ref->cache, &id, 1, &r2);
	cr_expect_neq(r1, r2, "the changed count is read");
	same_outcomes(sh, whole, "a changed prior");
	thresh_db_close(ref);
	thresh_db_close(sh);
	thresh_db_close(whole);
	cr_expect_eq(cache_shared_count(NULL), 0);
	tu_rmtree(dir);
	free(dir);
}
