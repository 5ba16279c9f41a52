/* src/lib/check.c: a comment's score, verdict, reasons and the tokens that
 * weighed most, and a view that sees one snapshot. */
#include <criterion/criterion.h>
#include <string.h>

#include "testutil.h"

Test(check, verdicts_follow_cutoffs_and_explain)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	tu_learn_numbered(db, "cheap pills viagra casino offer %d", 20, THRESH_SPAM);
	tu_learn_numbered(db, "great song love this melody %d", 20, THRESH_HAM);
	thresh_comment *c = tu_comment("cheap viagra casino pills", NULL);
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_EXPLAIN | THRESH_CHECK_READONLY, &r), 0);
	cr_expect_eq(thresh_result_verdict(r), THRESH_REJECT, "score %f", thresh_result_score(r));
	double reject;
	cr_assert_eq(thresh_db_param_get(db, "reject_cutoff", &reject), 0);
	cr_expect_geq(thresh_result_score(r), reject);
	cr_assert_geq(thresh_result_reason_count(r), 1);
	cr_expect_str_eq(thresh_result_reason(r, 0), "bayes");
	cr_expect_null(thresh_result_reason(r, 99));
	cr_assert_gt(thresh_result_token_count(r), 0);
	const char *text;
	double prob;
	uint64_t sp, hm;
	int found = 0;
	for (size_t i = 0; i < thresh_result_token_count(r); i++) {
		cr_assert_eq(thresh_result_token(r, i, &text, &prob, &sp, &hm), 0);
		if (!strcmp(text, "viagra")) {
			found = 1;
			cr_expect_eq(sp, 20);
			cr_expect_eq(hm, 0);
			cr_expect_gt(prob, 0.9);
		}
	}
	cr_expect(found, "viagra is among the tokens that weighed most");
	cr_expect_eq(thresh_result_token(r, 999, &text, NULL, NULL, NULL), THRESH_EINVAL);
	thresh_result_free(r);

	double hold;
	cr_assert_eq(thresh_db_param_get(db, "hold_cutoff", &hold), 0);
	cr_expect_lt(tu_score(db, "love this great melody"), hold);
	cr_expect_str_eq(thresh_verdict_name(THRESH_HOLD), "hold");
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

Test(check, view_sees_one_snapshot)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	tu_learn(db, "alpha beta", THRESH_SPAM);
	tu_learn(db, "gamma delta", THRESH_HAM);
	thresh_view *v;
	thresh_result *r;
	thresh_comment *c = tu_comment("alpha beta", NULL);
	cr_assert_eq(thresh_view_open(db, &v), 0);
	cr_assert_eq(thresh_view_check(v, c, 0, &r), 0);
	double before = thresh_result_score(r);
	thresh_result_free(r);
	tu_learn_numbered(db, "alpha beta %d", 5, THRESH_HAM);
	cr_assert_eq(thresh_view_check(v, c, 0, &r), 0);
	cr_expect_eq(thresh_result_score(r), before, "the view does not see later learning");
	thresh_result_free(r);
	thresh_view_close(v);
	cr_expect_lt(tu_score(db, "alpha beta"), before, "a new check does");
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
