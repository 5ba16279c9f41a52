/* src/lib/manage.c: what is done with an open handle: the classifier
 * parameters (stored, checked, listed) and pruning old tokens. */
#include <criterion/criterion.h>

#include "testutil.h"

Test(manage, params_stored_checked_and_listed)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	double v;
	size_t n = 0;
	while (thresh_db_param_name(n))
		n++;
	cr_expect_eq(n, 9);
	cr_assert_eq(thresh_db_param_set(db, "robs", 0.25), 0);
	cr_assert_eq(thresh_db_param_get(db, "robs", &v), 0);
	cr_expect_eq(v, 0.25);
	cr_expect_eq(thresh_db_param_set(db, "robx", 7), THRESH_EPARAM);
	cr_expect_eq(thresh_db_param_set(db, "nope", 0.1), THRESH_EPARAM);
	cr_expect_eq(thresh_db_param_get(db, "nope", &v), THRESH_EPARAM);
	/* cutoffs stay ordered */
	cr_expect_eq(thresh_db_param_set(db, "hold_cutoff", 0.999), THRESH_EPARAM);
	thresh_db_close(db);
	/* stored: survives a reopen */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/db", dir);
	cr_assert_eq(thresh_db_open(path, NULL, &db), 0);
	cr_assert_eq(thresh_db_param_get(db, "robs", &v), 0);
	cr_expect_eq(v, 0.25);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

Test(manage, prune_forgets_old_tokens)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_comment *old = tu_comment("ancient words here", NULL);
	cr_assert_eq(thresh_comment_set_time(old, 86400 * 100), 0); /* 1970 */
	cr_assert_eq(thresh_learn(db, old, THRESH_SPAM, NULL), 0);
	tu_learn(db, "fresh", THRESH_HAM);
	uint64_t removed = 0;
	cr_assert_eq(thresh_db_prune(db, 30, 0, &removed), 0);
	cr_expect_gt(removed, 2);
	cr_expect_eq(tu_score(db, "ancient"), tu_score(db, "neverseen"), "its counts are gone");
	thresh_comment_free(old);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
