/* src/lib/learn.c: learning and unlearning, one comment at a time or in a
 * batch: duplicates, moves, one transaction, a batch storing exactly what
 * the same learns one at a time store, and the authors' records. */
#include <criterion/criterion.h>
#include <string.h>

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
	cr_expect(tu_has_reason(r, "first_comment") == (score >= 0.2), "score %f", score);
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
