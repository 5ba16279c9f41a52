/* src/lib/db.c: opening a database folder (create, exclusive, read-only,
 * the errors), and the in-memory copy of a snapshot's counts it keeps for
 * checks (db_cache_for, thresh_db_warm). */
#include <criterion/criterion.h>
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
	cr_expect_gt(after, first, "a stale count was served: %f then %f", first, after);
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
