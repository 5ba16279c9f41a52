/* src/lib/manage.c: what is done with an open handle: the classifier
 * parameters (stored, checked, listed), pruning old tokens, and rotating
 * the identity secret. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <inttypes.h>

#include "db_int.h"
#include "testutil.h"

Test(manage, params_stored_checked_and_listed)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	double v;
	size_t n = 0;
	while (thresh_db_param_name(n))
		n++;
	cr_expect_eq(n, 13);
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

/* ident_counts - the counts of the identity token text under db's keys. */
static tok_counts ident_counts(thresh_db *db, const char *text)
{
	site_keys k;
	store_txn *t;
	tok_counts c;
	cr_assert(db_keys(db, &k));
	uint64_t id = hash_token(k.ident, text, strlen(text));
	cr_assert_eq(store_read_begin(db->st, &t), 0);
	cr_assert_eq(store_tokens_get(t, &id, 1, &c), 0);
	store_read_end(t);
	return c;
}

/* A rotation drops what the old secret keys (author records, rate state,
 * identity tokens, with the totals recounted) and keeps the learned
 * comments' digests, whose keys the file keeps; with THRESH_ROTATE_DIGESTS
 * the digests go too, and a comment learned before is learned anew. */
Test(manage, rotate_keys_drops_identity_tokens_and_keeps_digests)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_comment *c = tu_comment("cheap pills at the usual place", "rolf@ostrander.example");
	cr_assert_eq(thresh_comment_set(c, "author", "Rolf Ostrander", (size_t)-1), 0);
	cr_assert_eq(thresh_comment_set(c, "ip", "198.51.100.23", (size_t)-1), 0);
	cr_assert_eq(thresh_learn(db, c, THRESH_SPAM, NULL), 0);
	tu_learn(db, "a lovely garden", THRESH_HAM);
	tok_counts k = ident_counts(db, "ip24:198.51.100");
	cr_assert(k.spam == 1 && (k.flags & COUNTS_IDENTITY));
	thresh_stats a = {.size = sizeof a}, b = {.size = sizeof b};
	cr_assert_eq(thresh_db_stats(db, &a), 0);
	model_meta m0, m1;
	cr_assert_eq(meta_read(db, 0, 0, &m0), 0);

	thresh_rotate_summary s = {.size = sizeof s};
	cr_assert_eq(thresh_db_rotate_keys(db, 0, &s), 0);
	/* author:, author-word: x2, email-domain:, ip24: */
	cr_expect(s.authors == 1 && s.identity_tokens == 5 && s.learned == 0,
	          "%" PRIu64 " %" PRIu64 " %" PRIu64, s.authors, s.identity_tokens, s.learned);
	cr_assert_eq(thresh_db_stats(db, &b), 0);
	cr_expect_eq(b.tokens, a.tokens - 5);
	cr_expect_eq(b.learned, 2);
	cr_assert_eq(meta_read(db, 0, 0, &m1), 0);
	cr_expect_eq(m1.site.spam_tok, m0.site.spam_tok - 5, "the totals recounted");
	cr_expect_eq(m1.site.ham_tok, m0.site.ham_tok);
	cr_expect_eq(ident_counts(db, "ip24:198.51.100").spam, 0);
	/* the digests kept: the moderator's decision still stands */
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(tu_has_reason(r, "learned_spam"));
	thresh_result_free(r);
	thresh_learn_summary ls = {.size = sizeof ls};
	cr_assert_eq(thresh_learn(db, c, THRESH_SPAM, &ls), 0);
	cr_expect_eq(ls.duplicates, 1);
	/* a second rotation carries the same digests' keys on */
	cr_assert_eq(thresh_db_rotate_keys(db, 0, &s), 0);
	cr_assert_eq(thresh_unlearn(db, c, THRESH_SPAM, &ls), 0);
	cr_expect_eq(ls.unlearned, 1, "found by its digest after two rotations");
	cr_assert_eq(thresh_learn(db, c, THRESH_SPAM, &ls), 0);
	cr_expect_eq(ls.learned, 1);
	cr_expect_eq(ident_counts(db, "ip24:198.51.100").spam, 1, "under the new key");
	/* and with the digests' keys */
	cr_assert_eq(thresh_db_rotate_keys(db, THRESH_ROTATE_DIGESTS, &s), 0);
	cr_expect(s.learned == 2 && s.identity_tokens == 5, "%" PRIu64, s.learned);
	cr_assert_eq(thresh_db_stats(db, &b), 0);
	cr_expect_eq(b.learned, 0);
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!tu_has_reason(r, "learned_spam"), "forgotten with its digest");
	thresh_result_free(r);
	cr_assert_eq(thresh_learn(db, c, THRESH_SPAM, &ls), 0);
	cr_expect_eq(ls.learned, 1, "learned anew (counted twice)");
	/* bad arguments */
	cr_expect_eq(thresh_db_rotate_keys(NULL, 0, NULL), THRESH_EINVAL);
	cr_expect_eq(thresh_db_rotate_keys(db, 0x80, NULL), THRESH_EINVAL);
	thresh_rotate_summary small = {.size = 0};
	cr_expect_eq(thresh_db_rotate_keys(db, 0, &small), THRESH_EINVAL);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A batch begun under the old secret does not commit identity tokens and
 * digests under it after a rotation. */
Test(manage, a_batch_across_a_rotation_is_refused)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_batch *b;
	cr_assert_eq(thresh_batch_begin(db, &b), 0);
	thresh_comment *c = tu_comment("hello there", "a@example.org");
	cr_assert_eq(thresh_batch_learn(b, c, THRESH_HAM), 0);
	cr_assert_eq(thresh_db_rotate_keys(db, 0, NULL), 0);
	cr_expect_eq(thresh_batch_commit(b, NULL), THRESH_EBUSY);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.ham_messages, 0);
	thresh_comment_free(c);
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

/* Rotating the secret drops the author records keyed by the old one, writes
 * a new secret (mode 0600), and the author is unknown again; a secret others
 * can read is refused at open. (With test_learn.c's
 * learn::author_records_survive_restarts_and_unlearning_takes_them_back,
 * this was authors::records_survive_restarts_and_rotation_drops_them.) */
Test(manage, rotate_secret_drops_author_records)
{
	char *dir, path[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	snprintf(path, sizeof path, "%s/db", dir);
	tu_learn_numbered(db, "buy pills now %d", 10, THRESH_SPAM);
	tu_learn_numbered(db, "lovely song thank you %d", 10, THRESH_HAM);
	thresh_comment *c = tu_comment("what a melody, pills", "Regular@Example.org");
	thresh_comment *again = tu_comment("another comment, pills maybe", "regular+x@example.org");
	thresh_result *r;
	cr_assert_eq(thresh_learn(db, c, THRESH_HAM, NULL), 0);
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!tu_has_reason(r, "first_comment"), "the author is known before the rotation");
	thresh_result_free(r);

	char sp[PATH_MAX + 16];
	unsigned char before[32], after[32];
	snprintf(sp, sizeof sp, "%s/secret", path);
	int fd = open(sp, O_RDONLY);
	cr_assert_eq(read(fd, before, 32), 32);
	close(fd);
	uint64_t dropped = 0;
	cr_assert_eq(thresh_db_rotate_secret(db, &dropped), 0);
	cr_expect_eq(dropped, 1);
	struct stat st;
	cr_assert_eq(stat(sp, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	fd = open(sp, O_RDONLY);
	cr_assert_eq(read(fd, after, 32), 32);
	close(fd);
	cr_expect(memcmp(before, after, 32) != 0);
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(tu_has_reason(r, "first_comment") || thresh_result_score(r) < 0.2,
	          "after rotation the author is unknown again");
	thresh_result_free(r);
	thresh_comment_free(c);
	thresh_comment_free(again);
	thresh_db_close(db);

	/* a secret others can read is refused */
	chmod(sp, 0644);
	thresh_db_options o;
	char err[256];
	thresh_db_options_init(&o);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	cr_expect_eq(thresh_db_open(path, &o, &db), THRESH_EACCES);
	cr_expect(strstr(err, "chmod 600") != NULL, "%s", err);
	tu_rmtree(dir);
	free(dir);
}

/* A cutoff or the calibration set is pinned: the site's decisions no longer
 * move it, stats say so, and reset (thresh set NAME auto) lets them again;
 * thresh.conf pins too. */
Test(manage, a_value_set_is_pinned_until_reset)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_stats st = {.size = sizeof st};
	double v;
	for (int i = 0; i < 30; i++) {
		char text[64];
		snprintf(text, sizeof text, "lovely garden poem %d", i);
		tu_learn(db, text, THRESH_HAM);
		snprintf(text, sizeof text, "cheap quasar pills %d", i);
		tu_learn(db, text, THRESH_SPAM);
	}
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	/* 30 of MODEL_N0_SPAM, 30 of MODEL_N0_HAM: both blended */
	cr_expect(st.hold_from == THRESH_FROM_BLEND && st.reject_from == THRESH_FROM_BLEND &&
	          st.calibration_from == THRESH_FROM_SITE);
	cr_expect_eq(st.decisions, 60);
	cr_expect_eq(st.decisions_spam, 30);
	/* what a check uses is what get gives */
	cr_assert_eq(thresh_db_param_get(db, "hold_cutoff", &v), 0);
	cr_expect_eq(v, st.hold_cutoff);
	cr_assert_eq(thresh_db_param_get(db, "nb_scale", &v), 0);
	cr_expect_eq(v, st.nb_scale);
	/* set: pinned */
	cr_assert_eq(thresh_db_param_set(db, "hold_cutoff", 0.5), 0);
	cr_assert_eq(thresh_db_param_set(db, "nb_shift", 0.25), 0);
	tu_learn_numbered(db, "more pills %d", 5, THRESH_SPAM);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.hold_cutoff == 0.5 && st.hold_from == THRESH_FROM_PINNED && st.hold_alpha == 0);
	cr_expect(st.nb_scale == 17.354 && st.nb_shift == 0.25 &&
	          st.calibration_from == THRESH_FROM_PINNED, "pinning one pins the pair");
	cr_expect_neq(st.reject_from, THRESH_FROM_PINNED);
	/* pins survive a reopen */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/db", dir);
	thresh_db_close(db);
	cr_assert_eq(thresh_db_open(path, NULL, &db), 0);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.hold_cutoff == 0.5 && st.hold_from == THRESH_FROM_PINNED);
	/* reset: the default stored, the site's again */
	cr_assert_eq(thresh_db_param_reset(db, "hold_cutoff"), 0);
	cr_assert_eq(thresh_db_param_reset(db, "nb_shift"), 0);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.hold_from == THRESH_FROM_BLEND && st.calibration_from == THRESH_FROM_SITE);
	cr_expect_eq(thresh_db_param_reset(db, "nope"), THRESH_EPARAM);
	cr_expect_eq(thresh_db_param_reset(NULL, "hold_cutoff"), THRESH_EINVAL);
	cr_assert_eq(thresh_db_param_set(db, "prior_comments", 50), 0);
	cr_assert_eq(thresh_db_param_reset(db, "prior_comments"), 0);
	cr_assert_eq(thresh_db_param_get(db, "prior_comments", &v), 0);
	cr_expect_eq(v, 0, "prior_comments back to auto");
	thresh_db_close(db);
	/* thresh.conf pins what it sets, in the handles that read it */
	db = tu_open_with_conf(dir, "reject_cutoff = 0.97\n");
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.reject_cutoff == 0.97 && st.reject_from == THRESH_FROM_PINNED);
	cr_expect_eq(st.hold_from, THRESH_FROM_BLEND);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* The statistics of a caller built against 0.2 (a smaller thresh_stats):
 * the fields past its size are left alone. */
Test(manage, stats_of_an_older_size)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_stats st;
	memset(&st, 0x5a, sizeof st);
	st.size = offsetof(thresh_stats, hold_cutoff);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	unsigned char *p = (unsigned char *)&st.hold_cutoff;
	for (size_t i = 0; i < sizeof st - offsetof(thresh_stats, hold_cutoff); i++)
		cr_expect_eq(p[i], 0x5a);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
