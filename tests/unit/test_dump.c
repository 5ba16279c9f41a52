/* src/lib/dump.c (through thresh_db_export / thresh_db_import): the model
 * dump's round trip, bad dumps refused with nothing changed, and merging. */
#include <criterion/criterion.h>
#include <string.h>

#include "testutil.h"

Test(dump, export_import_round_trip_and_bad_dumps_change_nothing)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir), *db2;
	char dump[PATH_MAX], err[256];
	tu_learn(db, "win a free prize now", THRESH_SPAM);
	tu_learn(db, "see you at lunch", THRESH_HAM);
	cr_assert_eq(thresh_db_param_set(db, "robx", 0.6), 0);
	db2 = tu_copy_model(db, dir, "db2", dump, sizeof dump);
	thresh_stats a = {.size = sizeof a}, b = {.size = sizeof b};
	cr_assert_eq(thresh_db_stats(db, &a), 0);
	cr_assert_eq(thresh_db_stats(db2, &b), 0);
	cr_expect_eq(a.tokens, b.tokens);
	cr_expect_eq(a.spam_messages, b.spam_messages);
	cr_expect_eq(a.ham_messages, b.ham_messages);
	cr_expect_eq(a.learned, b.learned);
	cr_expect_eq(tu_score(db, "free prize lunch"), tu_score(db2, "free prize lunch"));
	double v;
	cr_assert_eq(thresh_db_param_get(db2, "robx", &v), 0);
	cr_expect_eq(v, 0.6);
	/* the dedupe memory came along: learning it again is a duplicate */
	thresh_comment *c = tu_comment("win a free prize now", NULL);
	thresh_learn_summary s = {.size = sizeof s};
	cr_assert_eq(thresh_learn(db2, c, THRESH_SPAM, &s), 0);
	cr_expect_eq(s.duplicates, 1);
	thresh_comment_free(c);

	/* a truncated dump: error naming the problem, nothing changed */
	FILE *f = fopen(dump, "r+");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fclose(f);
	cr_assert_eq(truncate(dump, len - 4), 0);
	cr_expect_eq(thresh_db_import(db2, dump, 0, err, sizeof err), THRESH_EFORMAT);
	cr_expect(strstr(err, "line") != NULL, "err: %s", err);
	thresh_stats c2 = {.size = sizeof c2};
	cr_assert_eq(thresh_db_stats(db2, &c2), 0);
	cr_expect_eq(c2.tokens, b.tokens);

	/* garbage and a future version */
	f = fopen(dump, "w");
	fputs("thresh-dump 99\n", f);
	fclose(f);
	cr_expect_eq(thresh_db_import(db2, dump, 0, err, sizeof err), THRESH_EVERSION);
	f = fopen(dump, "w");
	fputs("hello\n", f);
	fclose(f);
	cr_expect_eq(thresh_db_import(db2, dump, 0, err, sizeof err), THRESH_EFORMAT);
	cr_expect_eq(thresh_db_import(db2, "/nonexistent.dump", 0, err, sizeof err), THRESH_ENOENT);
	cr_assert_eq(thresh_db_stats(db2, &c2), 0);
	cr_expect_eq(c2.tokens, b.tokens);
	cr_expect_eq(c2.spam_messages, b.spam_messages);

	thresh_db_close(db);
	thresh_db_close(db2);
	tu_rmtree(dir);
	free(dir);
}

Test(dump, merge_needs_same_model)
{
	char *d1, *d2, dump[PATH_MAX], err[256];
	thresh_db *a = tu_empty_db(&d1), *b = tu_empty_db(&d2);
	tu_learn(a, "merge me please", THRESH_SPAM);
	snprintf(dump, sizeof dump, "%s/a.dump", d1);
	cr_assert_eq(thresh_db_export(a, dump), 0);
	cr_expect_eq(thresh_db_import(b, dump, THRESH_IMPORT_MERGE, err, sizeof err), THRESH_EFORMAT,
	             "different keys cannot merge");
	/* merging a dump of itself adds the counts */
	cr_assert_eq(thresh_db_import(a, dump, THRESH_IMPORT_MERGE, err, sizeof err), 0, "%s", err);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(a, &st), 0);
	cr_expect_eq(st.spam_messages, 2);
	thresh_db_close(a);
	thresh_db_close(b);
	tu_rmtree(d1);
	tu_rmtree(d2);
	free(d1);
	free(d2);
}
