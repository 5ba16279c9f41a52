/* src/lib/check.c: a comment's score, verdict, reasons and the tokens that
 * weighed most, a view that sees one snapshot, and, with the default model,
 * what a new site sees: an unfamiliar comment held, not rejected, and the
 * site's own decisions outweighing the default model. */
#include <criterion/criterion.h>
#include <string.h>

#include "testutil.h"

Test(check, verdicts_follow_cutoffs_and_explain)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	tu_plain(db);
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
	tu_plain(db);
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
	cr_expect_neq(tu_score(db, "alpha beta"), before, "a new check does");
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* The default model is sure of "check my channel" (a score of 1) but has
 * seen few of its tokens: a new site holds it, with the reason unfamiliar.
 * With reject_min_tokens 0 the same score rejects. */
Test(check, unfamiliar_comment_is_held_not_rejected)
{
	char *dir, reasons[256];
	thresh_db *db = tu_model_db(&dir);
	double reject;
	cr_assert_eq(thresh_db_param_get(db, "reject_cutoff", &reject), 0);
	cr_expect_geq(tu_score(db, "check my channel"), reject, "the model is sure");
	cr_expect_eq(tu_verdict(db, "check my channel", reasons), THRESH_HOLD);
	cr_expect_str_eq(reasons, "bayes unfamiliar");
	/* a comment it knows enough of is rejected on the score alone */
	cr_expect_eq(tu_verdict(db, "go check out my channel for more music videos like this",
	                        reasons), THRESH_REJECT, "%s", reasons);
	cr_expect_str_eq(reasons, "bayes");
	cr_assert_eq(thresh_db_param_set(db, "reject_min_tokens", 0), 0);
	cr_expect_eq(tu_verdict(db, "check my channel", reasons), THRESH_REJECT);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A site where talk of views and subscribing is on topic: the default model
 * rejects it; after the site's own 50 decisions a new comment of that kind
 * (not one of the 50) is accepted. The default model's knowledge of generic
 * spam stays: a channel plug and a giveaway with a link are still rejected. */
Test(check, a_sites_decisions_flip_the_default_models_verdict)
{
	static const char *const adj[] = {"amazing", "great", "huge", "wild", "crazy",
	                                  "steady", "record", "massive", "daily", "weekly"};
	static const char *const noun[] = {"count", "numbers", "growth", "milestone", "chart",
	                                   "stats", "total", "curve", "spike", "jump"};
	const char *fresh = "subscribe to the channel and check the views, the wonderful tally "
	                    "is the most viewed video today";
	char *dir, reasons[256];
	thresh_db *db = tu_model_db(&dir);
	cr_expect_eq(tu_verdict(db, "subscribe to the channel and check the views, it is the most "
	                            "viewed video", reasons), THRESH_REJECT, "the default model: %s", reasons);
	cr_expect_neq(tu_verdict(db, fresh, reasons), THRESH_ACCEPT);
	for (int i = 0; i < 50; i++) {
		char text[256];
		snprintf(text, sizeof text,
		         "subscribe to the channel and check the views, the %s %s is the most viewed video %d",
		         adj[(i * 7) % 10], noun[(i * 3) % 10], i);
		tu_learn(db, text, THRESH_HAM);
	}
	cr_expect_eq(tu_verdict(db, fresh, reasons), THRESH_ACCEPT, "after 50 decisions: %s", reasons);
	cr_expect_eq(tu_verdict(db, "go check out my channel for more music videos like this", reasons),
	             THRESH_REJECT, "%s", reasons);
	cr_expect_eq(tu_verdict(db, "FREE iphone giveaway, click http://win-prizes.example.com now and "
	                            "claim your prize", reasons), THRESH_REJECT, "%s", reasons);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.prior_auto && st.prior_weight < 1, "the prior gave way: weight %g", st.prior_weight);
	cr_expect_gt(st.site_share, 0.5, "the site's own share: %g", st.site_share);
	cr_expect_eq(st.ham_messages, 50);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* What the moderator said of this very comment sticks: learned as ham, it is
 * accepted on the next check however it scores; learned as spam, rejected;
 * a comment that differs in its author is judged afresh. */
Test(check, a_moderators_decision_sticks)
{
	char *dir;
	thresh_db *db = tu_model_db(&dir);
	thresh_comment *c = tu_comment("go check out my channel for more music videos like this",
	                               "fan@example.org");
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	cr_expect_eq(thresh_result_verdict(r), THRESH_REJECT);
	thresh_result_free(r);
	cr_assert_eq(thresh_learn(db, c, THRESH_HAM, NULL), 0);
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	cr_expect_eq(thresh_result_verdict(r), THRESH_ACCEPT, "score %g", thresh_result_score(r));
	cr_expect(tu_has_reason(r, "learned_ham"));
	thresh_result_free(r);
	thresh_comment *other = tu_comment("go check out my channel for more music videos like this",
	                                   "someone@example.org");
	cr_assert_eq(thresh_check(db, other, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!tu_has_reason(r, "learned_ham"), "another author: not that comment");
	thresh_result_free(r);
	thresh_comment_free(other);
	thresh_comment *ham = tu_comment("what a lovely song, thanks for sharing it", NULL);
	cr_assert_eq(thresh_learn(db, ham, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_check(db, ham, THRESH_CHECK_READONLY, &r), 0);
	cr_expect_eq(thresh_result_verdict(r), THRESH_REJECT);
	cr_expect(tu_has_reason(r, "learned_spam"));
	thresh_result_free(r);
	thresh_comment_free(ham);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
