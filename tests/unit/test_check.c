/* src/lib/check.c: a comment's score, verdict, reasons and the tokens that
 * weighed most, a view that sees one snapshot, and, with the default model,
 * what a new site sees: an unfamiliar comment held, not rejected, and the
 * site's own decisions outweighing the default model. */
#include <criterion/criterion.h>
#include <inttypes.h>
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

/* same_result - thresh_check's result for text (read-only, explained)
 * against that of a view opened now, which reads the newest snapshot, the
 * configuration and the keys afresh: thresh_check keeps views between
 * checks (check.c) and must score exactly as a new one would. Returns the
 * verdict; its reasons joined by spaces into reasons (256 bytes). */
static thresh_verdict same_result(thresh_db *db, const char *text, char reasons[256])
{
	thresh_comment *c = tu_comment(text, NULL);
	thresh_result *r, *f;
	thresh_view *v;
	unsigned flags = THRESH_CHECK_READONLY | THRESH_CHECK_EXPLAIN;
	cr_assert_eq(thresh_check(db, c, flags, &r), 0);
	cr_assert_eq(thresh_view_open(db, &v), 0);
	cr_assert_eq(thresh_view_check(v, c, flags, &f), 0);
	thresh_view_close(v);
	cr_expect_eq(thresh_result_score(r), thresh_result_score(f), "\"%s\": %.17g, a new view %.17g",
	             text, thresh_result_score(r), thresh_result_score(f));
	cr_expect_eq(thresh_result_verdict(r), thresh_result_verdict(f), "\"%s\"", text);
	cr_assert_eq(thresh_result_reason_count(r), thresh_result_reason_count(f), "\"%s\"", text);
	reasons[0] = '\0';
	for (size_t k = 0; k < thresh_result_reason_count(r); k++) {
		cr_expect_str_eq(thresh_result_reason(r, k), thresh_result_reason(f, k));
		if (k)
			strncat(reasons, " ", 255 - strlen(reasons));
		strncat(reasons, thresh_result_reason(r, k), 255 - strlen(reasons));
	}
	cr_assert_eq(thresh_result_token_count(r), thresh_result_token_count(f), "\"%s\"", text);
	for (size_t k = 0; k < thresh_result_token_count(r); k++) {
		const char *a, *b;
		uint64_t sa, ha, sb, hb;
		cr_assert_eq(thresh_result_token(r, k, &a, NULL, &sa, &ha), 0);
		cr_assert_eq(thresh_result_token(f, k, &b, NULL, &sb, &hb), 0);
		cr_expect(!strcmp(a, b) && sa == sb && ha == hb, "token %zu: %s %" PRIu64 "/%" PRIu64
		          ", a new view's %s %" PRIu64 "/%" PRIu64, k, a, sa, ha, b, sb, hb);
	}
	thresh_verdict verdict = thresh_result_verdict(r);
	thresh_result_free(r);
	thresh_result_free(f);
	thresh_comment_free(c);
	return verdict;
}

/* thresh_check keeps its views between checks: each check still sees the
 * newest snapshot, so a learn, a parameter set or a pin shows in the next
 * check, exactly as a new view sees it; so does the copy of the counts in
 * memory once it is filled. A comment too large for a kept view (over 4096
 * tokens: check.c closes that view) changes nothing either. */
Test(check, kept_views_see_each_new_snapshot)
{
	char *dir, reasons[256];
	thresh_db *db = tu_empty_db(&dir);
	tu_plain(db);
	tu_learn_numbered(db, "great song love this melody %d", 10, THRESH_HAM);
	tu_learn_numbered(db, "buy viagra now %d", 10, THRESH_SPAM);
	double first = tu_score(db, "cheap pills casino offer");
	for (int i = 0; i < 12; i++) {
		char text[64];
		snprintf(text, sizeof text, "cheap pills casino offer %d", i);
		tu_learn(db, text, THRESH_SPAM);
		same_result(db, "cheap pills casino offer", reasons);
		same_result(db, "love this melody", reasons);
	}
	cr_expect_gt(tu_score(db, "cheap pills casino offer"), first, "the learned spam counts");
	cr_expect_eq(same_result(db, "cheap pills casino offer", reasons), THRESH_REJECT, "%s", reasons);
	cr_assert_eq(thresh_db_param_set(db, "reject_cutoff", 0.9999), 0);
	cr_assert_eq(thresh_db_param_set(db, "hold_cutoff", 0.9998), 0);
	cr_expect_eq(same_result(db, "cheap pills casino offer", reasons), THRESH_ACCEPT, "%s", reasons);
	cr_assert_eq(thresh_db_param_set(db, "hold_cutoff", 0.5), 0);
	cr_assert_eq(thresh_db_param_set(db, "reject_cutoff", 0.7), 0);
	cr_expect_eq(same_result(db, "cheap pills casino offer", reasons), THRESH_REJECT, "%s", reasons);

	/* the in-memory copy, filled now, and learning that makes it stale */
	cr_assert_eq(thresh_db_warm(db), 0);
	same_result(db, "cheap pills casino offer", reasons);
	double spam = tu_score(db, "cheap pills casino offer");
	tu_learn_numbered(db, "cheap pills casino offer is a fine melody %d", 30, THRESH_HAM);
	same_result(db, "cheap pills casino offer", reasons);
	cr_expect_lt(tu_score(db, "cheap pills casino offer"), spam, "the learned ham counts");

	/* a comment of some 20,000 distinct tokens, then the usual again */
	char *big = malloc(200000), *p = big;
	cr_assert_not_null(big);
	for (int i = 0; i < 6000; i++)
		p += sprintf(p, "w%d ", i);
	same_result(db, big, reasons);
	free(big);
	same_result(db, "cheap pills casino offer", reasons);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* write_conf - dir/db/thresh.conf (tu_empty_db's layout) holds text. */
static void write_conf(const char *dir, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/db/thresh.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* A configuration reloaded is the next check's, whatever thresh_check
 * kept: its word lists and the parameters it overrides, though the model
 * has not changed (the same snapshot). */
Test(check, kept_views_follow_a_reloaded_configuration)
{
	char *dir, reasons[256], err[256];
	thresh_db *db = tu_empty_db(&dir);
	tu_plain(db);
	tu_learn_numbered(db, "cheap pills %d", 10, THRESH_SPAM);
	tu_learn_numbered(db, "great song love this melody %d", 10, THRESH_HAM);
	thresh_db_close(db);
	db = tu_open_with_conf(dir, "");
	for (int i = 0; i < 4; i++)
		cr_expect_eq(same_result(db, "a great song, buy it at the casino", reasons), THRESH_ACCEPT,
		             "%s", reasons);
	write_conf(dir, "moderation_words = casino\n");
	cr_assert_eq(thresh_db_config_reload(db, err, sizeof err), 0, "%s", err);
	cr_expect_eq(same_result(db, "a great song, buy it at the casino", reasons), THRESH_HOLD);
	cr_expect_str_eq(reasons, "moderation_word");
	/* a parameter of the model, overridden by the file */
	write_conf(dir, "hold_cutoff = 0.0001\nreject_cutoff = 0.0002\n");
	cr_assert_eq(thresh_db_config_reload(db, err, sizeof err), 0, "%s", err);
	cr_expect_eq(same_result(db, "a great song, buy it at the casino", reasons), THRESH_REJECT,
	             "%s", reasons);
	write_conf(dir, "");
	cr_assert_eq(thresh_db_config_reload(db, err, sizeof err), 0, "%s", err);
	cr_expect_eq(same_result(db, "a great song, buy it at the casino", reasons), THRESH_ACCEPT,
	             "%s", reasons);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A secret rotated by another process, taken on by a reload, is the next
 * check's: a comment learned under the old secret is no longer found by
 * its digest, though nothing in this database changed. */
Test(check, kept_views_follow_a_new_secret)
{
	char *dir, *other_dir, reasons[256], err[256], path[PATH_MAX], from[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir), *other = tu_empty_db(&other_dir);
	thresh_db_close(other);
	tu_plain(db);
	tu_learn(db, "a comment the moderator marked", THRESH_SPAM);
	for (int i = 0; i < 3; i++) {
		same_result(db, "a comment the moderator marked", reasons);
		cr_expect(strstr(reasons, "learned_spam"), "%s", reasons);
	}
	snprintf(from, sizeof from, "%s/db", other_dir);
	snprintf(path, sizeof path, "%s/db", dir);
	tu_copy_secret(from, path);
	cr_assert_eq(thresh_db_config_reload(db, err, sizeof err), 0, "%s", err);
	same_result(db, "a comment the moderator marked", reasons);
	cr_expect(!strstr(reasons, "learned_spam"), "%s", reasons);
	thresh_db_close(db);
	tu_rmtree(dir);
	tu_rmtree(other_dir);
	free(dir);
	free(other_dir);
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
