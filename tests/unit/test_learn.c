/* src/lib/learn.c: learning and unlearning, one comment at a time or in a
 * batch: duplicates, moves, one transaction, a batch storing exactly what
 * the same learns one at a time store, the authors' records, the token sums,
 * training the prior layer, and the losses that weigh the prior. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db_int.h"
#include "store.h"
#include "testutil.h"

static void expect_counts(thresh_db *db, uint64_t spam, uint64_t ham)
{
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.spam_messages, spam, "spam %llu", (unsigned long long)st.spam_messages);
	cr_expect_eq(st.ham_messages, ham, "ham %llu", (unsigned long long)st.ham_messages);
}

Test(learn, duplicates_count_once_and_moves_move)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_comment *c = tu_comment("cheap pills at example.com", NULL);
	thresh_learn_summary s = {.size = sizeof s};
	thresh_stats st1 = {.size = sizeof st1}, st2 = {.size = sizeof st2};

	cr_assert_eq(thresh_learn(db, c, THRESH_SPAM, &s), 0);
	cr_expect_eq(s.learned, 1);
	cr_assert_eq(thresh_db_stats(db, &st1), 0);
	cr_assert_eq(thresh_learn(db, c, THRESH_SPAM, &s), 0);
	cr_expect_eq(s.learned, 0);
	cr_expect_eq(s.duplicates, 1);
	cr_assert_eq(thresh_db_stats(db, &st2), 0);
	cr_expect_eq(st1.tokens, st2.tokens);
	expect_counts(db, 1, 0);

	cr_assert_eq(thresh_learn(db, c, THRESH_HAM, &s), 0);
	cr_expect_eq(s.moved, 1);
	expect_counts(db, 0, 1);

	cr_assert_eq(thresh_unlearn(db, c, THRESH_SPAM, &s), 0);
	cr_expect_eq(s.not_found, 1, "it is no longer spam");
	cr_assert_eq(thresh_unlearn(db, c, THRESH_HAM, &s), 0);
	cr_expect_eq(s.unlearned, 1);
	expect_counts(db, 0, 0);
	cr_assert_eq(thresh_db_stats(db, &st2), 0);
	cr_expect_eq(st2.tokens, 0, "unlearning takes back every token");
	cr_expect_eq(st2.learned, 0);
	cr_expect_eq(thresh_learn(db, c, 7, NULL), THRESH_EINVAL);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

Test(learn, batch_is_one_transaction_and_sees_its_own_duplicates)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_batch *b;
	thresh_learn_summary s = {.size = sizeof s};
	thresh_comment *a = tu_comment("buy now", NULL), *h = tu_comment("nice song", NULL);
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	cr_assert_eq(thresh_batch_learn(b, a, THRESH_SPAM), 0);
	cr_assert_eq(thresh_batch_learn(b, a, THRESH_SPAM), 0);
	cr_assert_eq(thresh_batch_learn(b, h, THRESH_HAM), 0);
	cr_expect_eq(thresh_batch_size(b), 3);
	expect_counts(db, 0, 0); /* nothing before commit */
	cr_assert_eq(thresh_batch_commit(b, &s), 0);
	cr_expect_eq(s.learned, 2);
	cr_expect_eq(s.duplicates, 1);
	expect_counts(db, 1, 1);
	/* an aborted batch stores nothing */
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	cr_assert_eq(thresh_batch_unlearn(b, a, THRESH_SPAM), 0);
	thresh_batch_abort(b);
	expect_counts(db, 1, 1);
	thresh_comment_free(a);
	thresh_comment_free(h);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* read_file - a whole small file, NUL-terminated; the caller frees it. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	char *buf = malloc(1 << 20);
	cr_assert_not_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	cr_assert(feof(f), "%s: over 1 MiB", path);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A batch gathers its token changes in memory and writes each token once;
 * what it stores must be exactly what the same learns and unlearns store one
 * transaction at a time: moves, unlearns, the same words over and over, the
 * last-seen day, and counts clamped at zero where a prune removed a token
 * that a remembered comment still had. */
Test(learn, batch_stores_what_one_at_a_time_stores)
{
	static const char *words[] = {"free", "song", "money", "love", "click", "video",
	                              "win", "nice", "subscribe", "katy"};
	char *dir;
	thresh_db *one = tu_empty_db(&dir), *many;
	char dump[PATH_MAX], d1[PATH_MAX], d2[PATH_MAX];
	thresh_comment *c[24];
	unsigned r = 7;
	for (int i = 0; i < 24; i++) {
		char text[128] = "";
		for (int w = 0; w < 4; w++) {
			r = r * 1103515245u + 12345u;
			strcat(text, words[(r >> 16) % 10]);
			strcat(text, w < 3 ? " " : "");
		}
		snprintf(text + strlen(text), 16, " c%d", i % 12); /* twelve texts twice over */
		c[i] = tu_comment(text, NULL);
		/* four days: the last-seen day must be the last learn's */
		cr_assert_eq(thresh_comment_set_time(c[i], 1700000000 + 86400 * (i % 4)), 0);
	}
	/* Both start from the same model (one key), with old comments learned and
	 * then their rare tokens pruned. */
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(thresh_comment_set_time(c[i], 1500000000), 0);
		cr_assert_eq(thresh_learn(one, c[i], i % 2 ? THRESH_HAM : THRESH_SPAM, NULL), 0);
		cr_assert_eq(thresh_comment_set_time(c[i], 1700000000 + 86400 * (i % 4)), 0);
	}
	uint64_t removed = 0;
	cr_assert_eq(thresh_db_prune(one, 30, 3, &removed), 0);
	cr_assert_gt(removed, 0);
	many = tu_copy_model(one, dir, "many", dump, sizeof dump);

	thresh_batch *b;
	cr_assert_eq(thresh_batch_begin(many, &b), 0);
	for (int k = 0; k < 200; k++) {
		r = r * 1103515245u + 12345u;
		thresh_comment *x = c[(r >> 16) % 24];
		int label = (r >> 8) & 1 ? THRESH_SPAM : THRESH_HAM, unlearn = (r >> 4) % 3 == 0;
		if (unlearn) {
			cr_assert_eq(thresh_unlearn(one, x, label, NULL), 0);
			cr_assert_eq(thresh_batch_unlearn(b, x, label), 0);
		} else {
			cr_assert_eq(thresh_learn(one, x, label, NULL), 0);
			cr_assert_eq(thresh_batch_learn(b, x, label), 0);
		}
	}
	thresh_learn_summary s = {.size = sizeof s};
	cr_assert_eq(thresh_batch_commit(b, &s), 0);
	cr_expect_gt(s.moved, 0);
	cr_expect_gt(s.unlearned, 0);

	snprintf(d1, sizeof d1, "%s/one.dump", dir);
	snprintf(d2, sizeof d2, "%s/many.dump", dir);
	cr_assert_eq(thresh_db_export(one, d1), 0);
	cr_assert_eq(thresh_db_export(many, d2), 0);
	char *t1 = read_file(d1), *t2 = read_file(d2);
	cr_expect_str_eq(t1, t2);
	cr_expect_neq(strstr(t1, "\nt "), NULL, "the models are not empty");
	free(t1);
	free(t2);
	for (int i = 0; i < 24; i++)
		thresh_comment_free(c[i]);
	thresh_db_close(one);
	thresh_db_close(many);
	tu_rmtree(dir);
	free(dir);
}

/* Learning records the author (hashed e-mail, else IP): the record survives
 * a restart, spam learns make an author with more spam than approved, and
 * unlearning takes them back. (With test_manage.c's
 * manage::rotate_secret_drops_author_records, this was
 * authors::records_survive_restarts_and_rotation_drops_them.) */
Test(learn, author_records_survive_restarts_and_unlearning_takes_them_back)
{
	char *dir, path[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	snprintf(path, sizeof path, "%s/db", dir);
	tu_learn_numbered(db, "buy pills now %d", 10, THRESH_SPAM);
	tu_learn_numbered(db, "lovely song thank you %d", 10, THRESH_HAM);
	thresh_comment *c = tu_comment("what a melody, pills", "Regular@Example.org");
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	double score = thresh_result_score(r);
	/* first_comment_max_score (0.05): below it a first comment is clearly ham */
	cr_expect(tu_has_reason(r, "first_comment") == (score >= 0.05), "score %f", score);
	thresh_result_free(r);
	cr_assert_eq(thresh_learn(db, c, THRESH_HAM, NULL), 0);
	thresh_db_close(db);

	cr_assert_eq(thresh_db_open(path, NULL, &db), 0);
	thresh_comment *again = tu_comment("another comment, pills maybe", "regular+x@example.org");
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!tu_has_reason(r, "first_comment"), "the author is known after a restart");
	thresh_result_free(r);

	/* two spam learns make them an author with more spam than approved */
	thresh_comment *s1 = tu_comment("spam one", "regular@example.org");
	thresh_comment *s2 = tu_comment("spam two", "regular@example.org");
	cr_assert_eq(thresh_learn(db, s1, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_learn(db, s2, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(tu_has_reason(r, "author_spam"));
	thresh_result_free(r);
	/* unlearning takes it back */
	cr_assert_eq(thresh_unlearn(db, s1, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_unlearn(db, s2, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!tu_has_reason(r, "author_spam"));
	thresh_result_free(r);
	thresh_comment_free(c);
	thresh_comment_free(again);
	thresh_comment_free(s1);
	thresh_comment_free(s2);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* site_sums - the site's and the prior's token sums as stored in meta, and
 * the same sums counted from the tokens themselves. */
struct sums {
	uint64_t meta[4], counted[4];
};

static int sum_tok(uint64_t id, const tok_counts *c, void *ctx)
{
	uint64_t *s = ctx;
	(void)id;
	s[0] += c->spam;
	s[1] += c->ham;
	s[2] += c->pspam;
	s[3] += c->pham;
	return 0;
}

static struct sums sums_of(thresh_db *db)
{
	struct sums s;
	store_txn *t;
	model_meta m;
	memset(&s, 0, sizeof s);
	cr_assert_eq(store_read_begin(db->st, &t), 0);
	cr_assert_eq(meta_load(t, &m), 0);
	cr_assert_eq(store_tokens_foreach(t, sum_tok, s.counted), 0);
	store_read_end(t);
	s.meta[0] = m.site.spam_tok;
	s.meta[1] = m.site.ham_tok;
	s.meta[2] = m.prior.spam_tok;
	s.meta[3] = m.prior.ham_tok;
	return s;
}

static void expect_sums_exact(thresh_db *db, const char *when)
{
	struct sums s = sums_of(db);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(s.meta[i], s.counted[i], "%s: sum %d is %" PRIu64 " in meta, %" PRIu64 " counted",
		             when, i, s.meta[i], s.counted[i]);
}

/* The naive-Bayes rates divide by the sums of every token's counts; meta
 * keeps them as learning, moving, unlearning, pruning and the prior's own
 * training change the counts, to the unit, clamping included. */
Test(learn, token_sums_follow_every_change)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	tu_learn_numbered(db, "buy cheap pills now offer %d", 12, THRESH_SPAM);
	tu_learn_numbered(db, "lovely garden photos today %d", 9, THRESH_HAM);
	expect_sums_exact(db, "after learning");
	tu_learn_numbered(db, "buy cheap pills now offer %d", 4, THRESH_HAM); /* moves */
	expect_sums_exact(db, "after moves");
	thresh_comment *c = tu_comment("lovely garden photos today 3", NULL);
	cr_assert_eq(thresh_unlearn(db, c, THRESH_HAM, NULL), 0);
	thresh_comment_free(c);
	expect_sums_exact(db, "after an unlearn");
	/* a batch of both, with the prior trained on top */
	thresh_batch *b;
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	cr_assert_eq(thresh_batch_prior(b, 0.5), 0);
	for (int i = 0; i < 6; i++) {
		char text[64];
		snprintf(text, sizeof text, "win a prize quickly %d", i);
		c = tu_comment(text, NULL);
		cr_assert_eq(thresh_batch_learn(b, c, i % 2 ? THRESH_HAM : THRESH_SPAM), 0);
		thresh_comment_free(c);
	}
	cr_assert_eq(thresh_batch_commit(b, NULL), 0);
	expect_sums_exact(db, "after the prior's batch");
	/* prune forgets the site's old rare tokens, and their counts */
	cr_assert_eq(thresh_db_prune(db, 0, 100, NULL), 0);
	expect_sums_exact(db, "after pruning");
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A prior batch counts weight comments each in the prior, and no digest, no
 * author and no site comment; an unlearn takes it back; a batch with
 * entries or a weight out of range is refused. */
Test(learn, prior_batch_counts_weighted_comments)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_batch *b;
	thresh_comment *c = tu_comment("cheap pills for you", "seller@example.org");
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	cr_expect_eq(thresh_batch_prior(b, 0), THRESH_EINVAL);
	cr_expect_eq(thresh_batch_prior(b, 1001), THRESH_EINVAL);
	cr_expect_eq(thresh_batch_prior(NULL, 1), THRESH_EINVAL);
	cr_assert_eq(thresh_batch_prior(b, 0.25), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(thresh_batch_learn(b, c, THRESH_SPAM), 0);
	cr_expect_eq(thresh_batch_prior(b, 1), THRESH_EINVAL, "a batch with entries");
	thresh_learn_summary s = {.size = sizeof s};
	cr_assert_eq(thresh_batch_commit(b, &s), 0);
	cr_expect_eq(s.learned, 4, "no duplicates in a prior: each counts");
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.prior_spam_messages == 1.0 && st.prior_ham_messages == 0, "%g", st.prior_spam_messages);
	cr_expect(st.spam_messages == 0 && st.learned == 0, "nothing of the site's own");
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	uint64_t tokens = st.tokens;
	cr_expect_gt(tokens, 0);
	/* the author's record is the site's: the prior leaves none */
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(tu_has_reason(r, "first_comment") || thresh_result_score(r) < 0.05,
	          "the author is still unknown");
	thresh_result_free(r);
	/* taken back, the prior is empty again */
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	cr_assert_eq(thresh_batch_prior(b, 0.25), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(thresh_batch_unlearn(b, c, THRESH_SPAM), 0);
	cr_assert_eq(thresh_batch_commit(b, &s), 0);
	cr_expect_eq(s.unlearned, 4);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.prior_spam_messages == 0 && st.tokens == 0, "%g %" PRIu64, st.prior_spam_messages,
	          st.tokens);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* Before each of the site's learns, the comment is scored under every
 * weight of the prior and the log loss of its label added: a database with
 * a prior collects losses, one without none; learning the same comment
 * again (a duplicate) adds nothing. */
Test(learn, the_sites_decisions_weigh_the_prior)
{
	char *dir, *dir2;
	thresh_db *db = tu_model_db(&dir), *empty = tu_empty_db(&dir2);
	model_meta m;
	cr_assert_eq(meta_read(db, 0, 0, &m), 0);
	for (int i = 0; i < PREQ_N; i++)
		cr_expect_eq(m.preq[i], 0, "a new site has no losses");
	tu_learn(db, "what a lovely song, it reminds me of summer", THRESH_HAM);
	cr_assert_eq(meta_read(db, 0, 0, &m), 0);
	double first[PREQ_N];
	for (int i = 0; i < PREQ_N; i++) {
		cr_expect_gt(m.preq[i], 0, "candidate %d", i);
		first[i] = m.preq[i];
	}
	tu_learn(db, "what a lovely song, it reminds me of summer", THRESH_HAM);
	cr_assert_eq(meta_read(db, 0, 0, &m), 0);
	for (int i = 0; i < PREQ_N; i++)
		cr_expect_eq(m.preq[i], first[i], "a duplicate adds no loss");
	tu_learn(empty, "what a lovely song, it reminds me of summer", THRESH_HAM);
	cr_assert_eq(meta_read(empty, 0, 0, &m), 0);
	for (int i = 0; i < PREQ_N; i++)
		cr_expect_eq(m.preq[i], 0, "no prior: nothing to weigh");
	thresh_db_close(db);
	thresh_db_close(empty);
	tu_rmtree(dir);
	tu_rmtree(dir2);
	free(dir);
	free(dir2);
}

/* verdicts - the score and verdict of each of n texts. */
static void verdicts(thresh_db *db, const char *const *texts, size_t n, double *score, int *verdict)
{
	for (size_t i = 0; i < n; i++) {
		thresh_comment *c = tu_comment(texts[i], NULL);
		thresh_result *r;
		cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
		score[i] = thresh_result_score(r);
		verdict[i] = (int)thresh_result_verdict(r);
		thresh_result_free(r);
		thresh_comment_free(c);
	}
}

/* A new site that has learned nothing scores and decides exactly as with
 * the new-site cutoffs and the default calibration set by hand: bit for
 * bit, so a brand-new site keeps erring towards hold. */
Test(learn, nothing_learned_is_unchanged_bit_for_bit)
{
	static const char *const texts[] = {
		"Thank you so much for the amazing tutorial",
		"check out my channel and subscribe http://example.com",
		"free iphone, click here to win",
		"I love this song, it reminds me of summer",
		"",
	};
	enum { N = sizeof texts / sizeof texts[0] };
	char *dir, *dir2;
	thresh_db *db = tu_model_db(&dir), *set = tu_model_db(&dir2);
	static const char *const names[] = {"hold_cutoff", "reject_cutoff", "nb_scale", "nb_shift"};
	for (int i = 0; i < 4; i++) {
		double v;
		cr_assert_eq(thresh_db_param_get(db, names[i], &v), 0);
		cr_assert_eq(thresh_db_param_set(set, names[i], v), 0);
	}
	double s1[N], s2[N];
	int v1[N], v2[N];
	verdicts(db, texts, N, s1, v1);
	verdicts(set, texts, N, s2, v2);
	for (int i = 0; i < N; i++)
		cr_expect(s1[i] == s2[i] && v1[i] == v2[i], "%s: %.17g %.17g", texts[i], s1[i], s2[i]);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.hold_from == THRESH_FROM_NEW_SITE && st.reject_from == THRESH_FROM_NEW_SITE &&
	          st.calibration_from == THRESH_FROM_NEW_SITE);
	cr_expect(st.hold_cutoff == 0.2113 && st.reject_cutoff == 0.9452 && st.nb_scale == 17.354 &&
	          st.nb_shift == 1.4038);
	cr_expect_eq(st.decisions, 0);
	thresh_db_close(db);
	thresh_db_close(set);
	tu_rmtree(dir);
	tu_rmtree(dir2);
	free(dir);
	free(dir2);
}

/* learn_words - n comments under label, each of three words drawn from
 * words (a fixed, deterministic walk) and a number of its own. */
static void learn_words(thresh_batch *b, const char *const *words, size_t nw, int n, int label,
                        unsigned seed)
{
	char text[256];
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		size_t a = (seed >> 8) % nw, c = (seed >> 16) % nw, d = (seed >> 24) % nw;
		snprintf(text, sizeof text, "%s %s %s n%dx%u", words[a], words[c], words[d], i, seed % 97);
		thresh_comment *cm = tu_comment(text, NULL);
		cr_assert_eq(thresh_batch_learn(b, cm, label), 0);
		thresh_comment_free(cm);
	}
}

/* learn_mixed - nham comments of words a and nspam of words b, the spam
 * spread evenly among the ham (as a site's decisions come). */
static void learn_mixed(thresh_batch *b, const char *const *a, const char *const *bw, int nham,
                        int nspam, unsigned seed)
{
	int h = 0, s = 0;
	while (h < nham || s < nspam) {
		/* the class further behind its share goes next */
		if (s < nspam && (h >= nham || (double)s / nspam <= (double)h / nham))
			learn_words(b, bw, 8, 1, THRESH_SPAM, seed + 7919u * (unsigned)s++);
		else
			learn_words(b, a, 8, 1, THRESH_HAM, seed + 104729u * (unsigned)h++);
	}
}

static const char *const w_a[] = {"alpha", "amber", "anchor", "apple", "arrow", "atlas", "azure", "acorn"};
static const char *const w_b[] = {"bison", "bramble", "button", "beacon", "birch", "bottle", "bronze", "breeze"};

/* A site whose own comments say the opposite of the prior: the prior
 * learned the a-words as spam and the b-words as ham, the site the
 * reverse. Its decisions take the weight from the prior: the candidate in
 * force counts the prior as a small part of what a check counts, and the
 * site's cutoffs and calibration take over from the new site's. */
Test(learn, a_site_that_contradicts_the_prior_outweighs_it)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_batch *b;
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	cr_assert_eq(thresh_batch_prior(b, 1), 0);
	learn_words(b, w_a, 8, 1500, THRESH_SPAM, 1);
	learn_words(b, w_b, 8, 1500, THRESH_HAM, 2);
	cr_assert_eq(thresh_batch_commit(b, NULL), 0);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.prior_weight, 1, "no decisions yet: the whole prior");
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	learn_mixed(b, w_a, w_b, 250, 100, 3);
	cr_assert_eq(thresh_batch_commit(b, NULL), 0);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_leq(st.prior_comments, 30, "the prior counts as %g comments", st.prior_comments);
	cr_expect_gt(st.site_share, 0.9);
	cr_expect_eq(st.decisions, 350 < MODEL_RING ? 350 : MODEL_RING);
	cr_expect(st.reject_from == THRESH_FROM_SITE && st.hold_from == THRESH_FROM_SITE &&
	          st.calibration_from == THRESH_FROM_SITE);
	cr_expect(st.hold_cutoff != 0.2113 && st.reject_cutoff != 0.9452);
	cr_expect(st.hold_cutoff <= st.reject_cutoff);
	/* and it decides as the site does */
	cr_expect_lt(tu_score(db, "alpha amber anchor"), st.hold_cutoff);
	cr_expect_geq(tu_score(db, "bison bramble button"), st.hold_cutoff);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* The cutoffs move from the new site's towards the site's own as its
 * decisions of each class accrue: part of the way after a few, all of it
 * after MODEL_N0_HAM hams and MODEL_N0_SPAM spam. */
Test(learn, cutoffs_move_from_the_new_sites_to_the_sites_own)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_batch *b;
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	learn_mixed(b, w_a, w_b, 80, 20, 5);
	cr_assert_eq(thresh_batch_commit(b, NULL), 0);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.reject_from == THRESH_FROM_BLEND && st.hold_from == THRESH_FROM_BLEND);
	cr_expect(fabs(st.reject_alpha - 80.0 / MODEL_N0_HAM) < 1e-12, "%g", st.reject_alpha);
	cr_expect(fabs(st.hold_alpha - 20.0 / MODEL_N0_SPAM) < 1e-12, "%g", st.hold_alpha);
	cr_expect_eq(st.decisions, 100);
	cr_expect_eq(st.decisions_spam, 20);
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	learn_mixed(b, w_a, w_b, MODEL_N0_HAM, MODEL_N0_SPAM, 7);
	cr_assert_eq(thresh_batch_commit(b, NULL), 0);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.reject_from == THRESH_FROM_SITE && st.hold_from == THRESH_FROM_SITE);
	cr_expect(st.hold_alpha == 1 && st.reject_alpha == 1);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A decision taken back weighs no more: unlearning the comments just
 * learned, or learning them again under the other label and back, leaves
 * the cutoffs and calibration exactly as they were; a history learned one
 * class after the other counts for little until both classes are known. */
Test(learn, a_decision_taken_back_weighs_no_more)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_batch *b;
	thresh_stats a = {.size = sizeof a}, st = {.size = sizeof st};
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	learn_mixed(b, w_a, w_b, 60, 30, 11);
	cr_assert_eq(thresh_batch_commit(b, NULL), 0);
	cr_assert_eq(thresh_db_stats(db, &a), 0);
	cr_expect_eq(a.decisions, 90);
	static const char *const more[] = {"alpha bronze acorn extra", "bison amber breeze extra",
	                                   "atlas birch arrow extra"};
	for (int i = 0; i < 3; i++)
		tu_learn(db, more[i], i == 1 ? THRESH_SPAM : THRESH_HAM);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.decisions, 93);
	for (int i = 0; i < 3; i++) {
		thresh_comment *c = tu_comment(more[i], NULL);
		cr_assert_eq(thresh_unlearn(db, c, i == 1 ? THRESH_SPAM : THRESH_HAM, NULL), 0);
		thresh_comment_free(c);
	}
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.decisions, 90, "withdrawn");
	cr_expect(st.hold_cutoff == a.hold_cutoff && st.reject_cutoff == a.reject_cutoff &&
	          st.nb_scale == a.nb_scale && st.nb_shift == a.nb_shift,
	          "as before: hold %.17g %.17g, scale %.17g %.17g", a.hold_cutoff, st.hold_cutoff,
	          a.nb_scale, st.nb_scale);
	/* a move withdraws the decision it replaces */
	tu_learn(db, more[0], THRESH_SPAM);
	tu_learn(db, more[0], THRESH_HAM);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.decisions, 91);
	cr_expect_eq(st.decisions_spam, a.decisions_spam);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);

	/* one class after the other: 40 spam, then 40 ham: every decision was
	 * judged by a model that knew one class alone, or hardly the other */
	db = tu_empty_db(&dir);
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	learn_words(b, w_b, 8, 40, THRESH_SPAM, 12);
	learn_words(b, w_a, 8, 40, THRESH_HAM, 13);
	cr_assert_eq(thresh_batch_commit(b, NULL), 0);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.hold_from, THRESH_FROM_NEW_SITE, "no spam judged by a model that knew ham");
	cr_expect_lt(tu_score(db, "alpha amber anchor"), st.hold_cutoff);
	cr_expect_geq(tu_score(db, "bison bramble button"), st.reject_cutoff);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
