/* The public API end to end on real database folders. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

Test(errors, every_code_has_a_name_and_text)
{
	for (int c = 0; c >= THRESH_ERROR_LAST; c--) {
		cr_expect_str_neq(thresh_strerror(c), "unknown error", "code %d", c);
		cr_expect_str_neq(thresh_errname(c), "THRESH_UNKNOWN", "code %d", c);
	}
	cr_expect_str_eq(thresh_strerror(THRESH_ERROR_LAST - 1), "unknown error");
	cr_expect_str_eq(thresh_strerror(5), "unknown error");
	cr_expect_str_eq(thresh_errname(THRESH_EUTF8), "THRESH_EUTF8");
	cr_expect_str_eq(thresh_version(), THRESH_VERSION_STRING);
}

Test(comment, fields_are_validated_and_kept_on_error)
{
	thresh_comment *c;
	const char *v;
	char big[THRESH_CONTENT_MAX + 2];
	cr_assert_eq(thresh_comment_new(&c), 0);
	cr_expect_eq(thresh_comment_set(c, "content", "hello", (size_t)-1), 0);
	cr_expect_eq(thresh_comment_set(c, "content", "\xc3\x28", 2), THRESH_EUTF8);
	cr_expect_eq(thresh_comment_set(c, "content", "\xe0\x80\xaf", 3), THRESH_EUTF8, "overlong");
	cr_expect_eq(thresh_comment_set(c, "content", "\xed\xa0\x80", 3), THRESH_EUTF8, "surrogate");
	cr_expect_eq(thresh_comment_set(c, "content", "\xf4\x90\x80\x80", 4), THRESH_EUTF8, "> U+10FFFF");
	cr_expect_eq(thresh_comment_set(c, "content", "a\0b", 3), THRESH_ENUL);
	memset(big, 'a', sizeof big);
	cr_expect_eq(thresh_comment_set(c, "content", big, THRESH_CONTENT_MAX + 1), THRESH_ETOOBIG);
	cr_expect_eq(thresh_comment_set(c, "content", big, THRESH_CONTENT_MAX), 0);
	cr_expect_eq(thresh_comment_set(c, "author", big, THRESH_FIELD_MAX + 1), THRESH_ETOOBIG);
	cr_expect_eq(thresh_comment_set(c, "author", "Ann", (size_t)-1), 0);
	cr_expect_eq(thresh_comment_set(c, "author", "\xff", 1), THRESH_EUTF8);
	cr_assert_eq(thresh_comment_get(c, "comment_author", &v), 0, "Akismet alias");
	cr_expect_str_eq(v, "Ann", "a rejected value leaves the field as it was");
	cr_expect_eq(thresh_comment_set(c, "nosuch", "x", 1), THRESH_EFIELD);
	cr_expect_eq(thresh_comment_set(c, "form_age", "abc", 3), THRESH_EINVAL);
	cr_expect_eq(thresh_comment_set(c, "form_age", "-1", 2), THRESH_EINVAL);
	cr_expect_eq(thresh_comment_set(c, "form_age", "2.5", 3), 0);
	cr_expect_eq(thresh_comment_set_time(c, -1), THRESH_EINVAL);
	cr_expect(thresh_comment_is_field("user_ip"));
	cr_expect(!thresh_comment_is_field("blog"));
	thresh_comment_reset(c);
	cr_assert_eq(thresh_comment_get(c, "author", &v), 0);
	cr_expect_null(v);
	thresh_comment_free(c);
	thresh_comment_free(NULL);
	cr_expect_eq(thresh_comment_new(NULL), THRESH_EINVAL);
}

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

Test(db, params_stored_checked_and_listed)
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

Test(db, prune_forgets_old_tokens)
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

Test(check, memory_cache_never_serves_a_stale_count)
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
#include "cache.h"
#include "db_int.h"

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
