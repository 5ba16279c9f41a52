/* src/lib/check.c: a comment's score, verdict, reasons and the tokens that
 * weighed most, a view that sees one snapshot, and, with the default model,
 * what a new site sees: an unfamiliar comment held, not rejected, and the
 * site's own decisions outweighing the default model. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

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
	/* 50 ham and no spam: a candidate must know 20 spam of its own to be in
	 * force (model_eligible), so the prior counts as 100 comments */
	cr_expect_geq(st.site_share, 1.0 / 3 - 1e-9, "the site's own share: %g", st.site_share);
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

/* An explanation shows identity tokens by kind alone ("ip24:…"): their
 * values, keyed by the site's secret, never leave the tokenizer. */
Test(check, explanations_show_no_identity)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	tu_plain(db);
	static const char *const who[] = {"author", "Jane Q. Doe", "email", "jane@mailbox.example",
	                                  "url", "https://jane.example.net/", "ip", "203.0.113.7"};
	thresh_comment *c = tu_comment("cheap casino tonight", NULL);
	for (size_t i = 0; i + 1 < sizeof who / sizeof who[0]; i += 2)
		cr_assert_eq(thresh_comment_set(c, who[i], who[i + 1], (size_t)-1), 0);
	for (int i = 0; i < 6; i++) {
		char text[64];
		snprintf(text, sizeof text, "cheap casino tonight %d", i);
		cr_assert_eq(thresh_comment_set(c, "content", text, (size_t)-1), 0);
		cr_assert_eq(thresh_learn(db, c, THRESH_SPAM, NULL), 0);
	}
	tu_learn_numbered(db, "a lovely kitten %d", 6, THRESH_HAM);
	cr_assert_eq(thresh_comment_set(c, "content", "a lovely kitten", (size_t)-1), 0);
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_EXPLAIN | THRESH_CHECK_READONLY, &r), 0);
	size_t n = thresh_result_token_count(r), marks = 0;
	cr_assert_gt(n, 5);
	for (size_t i = 0; i < n; i++) {
		const char *text;
		cr_assert_eq(thresh_result_token(r, i, &text, NULL, NULL, NULL), 0);
		for (const char *const *v = (const char *const[]){"jane", "doe", "203", "mailbox",
		                                                   "example", NULL}; *v; v++)
			cr_expect(!strstr(text, *v), "token %zu shows an identity: %s", i, text);
		marks += strstr(text, ":\u2026") != NULL;
	}
	cr_expect_geq(marks, 5, "identity tokens are among the strongest, by kind (%zu)", marks);
	thresh_result_free(r);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* cpu - the CPU time this process has used, in seconds. */
static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* marks - a 65,504-byte content of 16,376 of mark a then 16,376 of mark b
 * (both two bytes in UTF-8), NUL-terminated, to free(). */
static char *marks(const char a[2], const char b[2])
{
	char *s = malloc(65504 + 1);
	cr_assert_not_null(s);
	for (size_t i = 0; i < 16376; i++)
		memcpy(s + 2 * i, a, 2), memcpy(s + 32752 + 2 * i, b, 2);
	s[65504] = '\0';
	return s;
}

/* check_and_learn - the CPU time of a check that counts (the rate, the
 * word lists, the author) and of learning content as spam, from one
 * author. */
static double check_and_learn(thresh_db *db, const char *content, thresh_verdict *v)
{
	thresh_comment *c = tu_comment(content, "marks@example.org");
	cr_assert_eq(thresh_comment_set(c, "user_ip", "192.0.2.77", (size_t)-1), 0);
	thresh_result *r;
	double t0 = cpu();
	int rc = thresh_check(db, c, 0, &r);
	cr_assert_eq(rc, 0, "check: %s", thresh_strerror(rc));
	rc = thresh_learn(db, c, THRESH_SPAM, NULL);
	double t = cpu() - t0;
	cr_assert_eq(rc, 0, "learn: %s", thresh_strerror(rc));
	*v = thresh_result_verdict(r);
	cr_expect(thresh_result_score(r) >= 0 && thresh_result_score(r) <= 1);
	thresh_result_free(r);
	thresh_comment_free(c);
	return t;
}

/* The attack of issue 18 through the whole library: a 64 KiB comment of
 * 16,376 U+0301 then 16,376 U+0316 (out of canonical order) cost ~3.9 s of
 * CPU a check, 8 s with moderation words set (each field is folded again
 * for the word lists), and as long to learn, holding the write lock; the
 * same marks in order 0.02 s. Checked and learned on a real database made
 * from the default model, with word lists, an e-mail and an IP. The budget
 * is relative to that peer in the same process, in CPU time: 20 times the
 * marks in order, or 0.25 s, whichever is more. Fixed, both cost about the
 * same; the quadratic sort cost over 500 times as much. Then what the
 * marks made: the comment is now learned spam, and its tokens are the
 * marks' own, each gram four of them. */
Test(check, reversed_mark_runs_check_and_learn_in_linear_time)
{
	char *dir;
	thresh_db *db = tu_model_db(&dir);
	thresh_db_close(db);
	db = tu_open_with_conf(dir, "moderation_words = casino, viagra\ndisallowed_words = xanax\n");
	char *good = marks("\xcc\x96", "\xcc\x81"), *bad = marks("\xcc\x81", "\xcc\x96");
	thresh_verdict vg, vb;
	tu_score(db, "warm up: the model's copy and the rate store opened"); /* not timed */
	double tg = check_and_learn(db, good, &vg), tb = check_and_learn(db, bad, &vb);
	double budget = 20 * tg > 0.25 ? 20 * tg : 0.25;
	cr_log_info("check and learn: reversed %.4f s, in order %.4f s, budget %.4f s", tb, tg, budget);
	cr_expect_leq(tb, budget, "reversed marks: %.3f s, the same in order %.4f s", tb, tg);
	cr_expect_eq(vb, vg, "the same verdict as the marks in order");

	thresh_comment *c = tu_comment(bad, "marks@example.org");
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_EXPLAIN | THRESH_CHECK_READONLY, &r), 0);
	cr_expect_eq(thresh_result_verdict(r), THRESH_REJECT);
	cr_expect(tu_has_reason(r, "learned_spam"));
	size_t grams = 0, mixed = 0;
	for (size_t i = 0; i < thresh_result_token_count(r); i++) {
		const char *text;
		cr_assert_eq(thresh_result_token(r, i, &text, NULL, NULL, NULL), 0);
		if (strncmp(text, "cx:", 3))
			continue;
		/* a gram: four of U+0301, U+0316 or the space that pads the text */
		const char *p = text + 3;
		size_t n = 0, acute = 0, grave = 0;
		while (*p) {
			if (!strncmp(p, "\xcc\x81", 2))
				acute++, p += 2;
			else if (!strncmp(p, "\xcc\x96", 2))
				grave++, p += 2;
			else
				cr_assert_eq(*p++, ' ', "gram %s", text);
			n++;
		}
		cr_expect_eq(n, 4, "gram %s", text);
		grams++;
		mixed += acute && grave;
	}
	cr_expect_gt(grams, 0);
	cr_expect_gt(mixed, 0, "grams where the two runs meet");
	thresh_result_free(r);
	thresh_comment_free(c);
	free(good);
	free(bad);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
