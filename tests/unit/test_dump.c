/* src/lib/dump.c (through thresh_db_export / thresh_db_import): the model
 * dump's round trip (both layers, the prior weights' losses, the ring of the
 * site's decisions and so its cutoffs), bad dumps refused with nothing
 * changed, merging, a new database seeded with a dump, and dumps of formats
 * 1 and 2. */
#include <criterion/criterion.h>
#include <stdlib.h>
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

/* Both layers and the prior weights' losses survive an export and an
 * import: the copy scores alike, weighs its prior alike, and exports the
 * very same bytes. */
Test(dump, both_layers_and_losses_round_trip)
{
	char *dir, dump[PATH_MAX], dump2[PATH_MAX];
	thresh_db *db = tu_model_db(&dir), *copy;
	tu_learn_numbered(db, "subscribe and check the views of this video %d", 8, THRESH_HAM);
	tu_learn(db, "cheap followers for your channel, click here", THRESH_SPAM);
	copy = tu_copy_model(db, dir, "copy", dump, sizeof dump);
	thresh_stats a = {.size = sizeof a}, b = {.size = sizeof b};
	cr_assert_eq(thresh_db_stats(db, &a), 0);
	cr_assert_eq(thresh_db_stats(copy, &b), 0);
	cr_expect(a.spam_messages == b.spam_messages && a.ham_messages == b.ham_messages);
	cr_expect(a.prior_spam_messages == b.prior_spam_messages && a.prior_ham_messages == b.prior_ham_messages);
	cr_expect(a.prior_weight == b.prior_weight && a.prior_comments == b.prior_comments,
	          "weights %g %g", a.prior_weight, b.prior_weight);
	cr_expect_eq(a.tokens, b.tokens);
	cr_expect_eq(tu_score(db, "check the views again"), tu_score(copy, "check the views again"));
	snprintf(dump2, sizeof dump2, "%s/copy2.dump", dir);
	cr_assert_eq(thresh_db_export(copy, dump2), 0);
	size_t n1, n2;
	char *t1 = tu_slurp(dump, &n1), *t2 = tu_slurp(dump2, &n2);
	cr_expect(n1 == n2 && !memcmp(t1, t2, n1), "the copy exports the same bytes");
	cr_expect(strstr(t1, "\nprior ") && strstr(t1, "\npreq "), "format 2 lines");
	cr_expect(strstr(t1, "\nring 9 9\nr ham ") != NULL, "format 3: the ring of 9 decisions");
	free(t1);
	free(t2);
	thresh_db_close(db);
	thresh_db_close(copy);
	tu_rmtree(dir);
	free(dir);
}

/* A new database made from a dump takes all of it as its prior: the dump's
 * site comments and prior both, and none of its learned digests. */
Test(dump, a_new_database_takes_the_whole_dump_as_its_prior)
{
	char *dir, dump[PATH_MAX], path[PATH_MAX], err[256] = "";
	thresh_db *db = tu_empty_db(&dir), *seeded;
	tu_learn_numbered(db, "win a prize now %d", 6, THRESH_SPAM);
	tu_learn_numbered(db, "see you at lunch %d", 4, THRESH_HAM);
	snprintf(dump, sizeof dump, "%s/model.dump", dir);
	cr_assert_eq(thresh_db_export(db, dump), 0);
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE;
	o.model = dump;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	snprintf(path, sizeof path, "%s/seeded", dir);
	cr_assert_eq(thresh_db_open(path, &o, &seeded), 0, "%s", err);
	thresh_stats a = {.size = sizeof a}, b = {.size = sizeof b};
	cr_assert_eq(thresh_db_stats(db, &a), 0);
	cr_assert_eq(thresh_db_stats(seeded, &b), 0);
	cr_expect(b.spam_messages == 0 && b.ham_messages == 0 && b.learned == 0, "the site is new");
	cr_expect(b.prior_spam_messages == 6 && b.prior_ham_messages == 4, "%g %g",
	          b.prior_spam_messages, b.prior_ham_messages);
	cr_expect_eq(b.tokens, a.tokens);
	cr_expect_eq(b.prior_weight, 1);
	/* the seeded site learns what the dump's site had learned: not a duplicate */
	thresh_comment *c = tu_comment("win a prize now 0", NULL);
	thresh_learn_summary s = {.size = sizeof s};
	cr_assert_eq(thresh_learn(seeded, c, THRESH_SPAM, &s), 0);
	cr_expect_eq(s.learned, 1);
	thresh_comment_free(c);
	thresh_db_close(db);
	thresh_db_close(seeded);
	tu_rmtree(dir);
	free(dir);
}

/* A dump of format 1 (thresh 0.1) is read as a model of the site's own
 * layer; its parameters, of another scale, are left out. */
Test(dump, format_1_is_read_as_the_sites_own)
{
	char *dir, path[PATH_MAX], err[256] = "";
	thresh_db *db = tu_empty_db(&dir);
	snprintf(path, sizeof path, "%s/old.dump", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("thresh-dump 1\ntokenizer 63\nkey 00112233445566778899aabbccddeeff\nmessages 3 2\n"
	      "param hold_cutoff 0.62\nparam reject_cutoff 0.73\ntokens 2\n"
	      "t 0123456789abcdef 3 0 20418\nt 89abcdef01234567 0 2 20418\nlearned 1\n"
	      "l 00112233445566778899aabbccddeeff spam\nend\n", f);
	fclose(f);
	double hold;
	cr_assert_eq(thresh_db_param_get(db, "hold_cutoff", &hold), 0);
	cr_assert_eq(thresh_db_import(db, path, 0, err, sizeof err), 0, "%s", err);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.spam_messages == 3 && st.ham_messages == 2 && st.tokens == 2 && st.learned == 1);
	cr_expect(st.prior_spam_messages == 0 && st.prior_ham_messages == 0);
	double v;
	cr_assert_eq(thresh_db_param_get(db, "hold_cutoff", &v), 0);
	cr_expect_eq(v, hold, "thresh 0.1's cutoff is not taken");
	/* a format 2 token line of four fields is refused, naming the line */
	f = fopen(path, "w");
	fputs("thresh-dump 2\ntokenizer 63\nkey 00112233445566778899aabbccddeeff\nmessages 3 2\n"
	      "tokens 1\nt 0123456789abcdef 3 0 20418\nlearned 0\nend\n", f);
	fclose(f);
	cr_expect_eq(thresh_db_import(db, path, 0, err, sizeof err), THRESH_EFORMAT);
	cr_expect(strstr(err, "line 6") != NULL, "%s", err);
	/* prior counts: at most three decimals */
	f = fopen(path, "w");
	fputs("thresh-dump 2\ntokenizer 63\nkey 00112233445566778899aabbccddeeff\nmessages 3 2\n"
	      "prior 1.5 0.25\ntokens 1\nt 0123456789abcdef 3 0 20418 0.1234 0\nlearned 0\nend\n", f);
	fclose(f);
	cr_expect_eq(thresh_db_import(db, path, 0, err, sizeof err), THRESH_EFORMAT);
	cr_expect(strstr(err, "line 7") != NULL, "%s", err);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.tokens, 2, "a refused dump changes nothing");
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* The site's cutoffs and calibration survive a dump: the copy holds the
 * same ring of decisions, so the same values, bit for bit; a dump of format
 * 2 (no ring, seven losses) reads with an empty ring; a bad ring is refused. */
Test(dump, the_sites_cutoffs_round_trip)
{
	char *dir, dump[PATH_MAX], err[256] = "";
	thresh_db *db = tu_model_db(&dir), *copy;
	for (int i = 0; i < 40; i++) {
		char text[96];
		snprintf(text, sizeof text, "what a lovely song number %d, thank you", i);
		tu_learn(db, text, THRESH_HAM);
		if (i % 3 == 0) {
			snprintf(text, sizeof text, "cheap followers %d for your channel, click here", i);
			tu_learn(db, text, THRESH_SPAM);
		}
	}
	copy = tu_copy_model(db, dir, "copy", dump, sizeof dump);
	thresh_stats a = {.size = sizeof a}, b = {.size = sizeof b};
	cr_assert_eq(thresh_db_stats(db, &a), 0);
	cr_assert_eq(thresh_db_stats(copy, &b), 0);
	cr_expect_eq(a.decisions, 54);
	cr_expect(a.hold_from == THRESH_FROM_BLEND && a.calibration_from == THRESH_FROM_SITE);
	cr_expect(a.hold_cutoff == b.hold_cutoff && a.reject_cutoff == b.reject_cutoff &&
	          a.nb_scale == b.nb_scale && a.nb_shift == b.nb_shift && a.decisions == b.decisions &&
	          a.decisions_spam == b.decisions_spam,
	          "hold %.17g %.17g, reject %.17g %.17g", a.hold_cutoff, b.hold_cutoff, a.reject_cutoff,
	          b.reject_cutoff);
	cr_expect_eq(tu_score(db, "a lovely channel"), tu_score(copy, "a lovely channel"));
	/* both go on learning alike */
	tu_learn(db, "one more lovely song", THRESH_HAM);
	tu_learn(copy, "one more lovely song", THRESH_HAM);
	cr_assert_eq(thresh_db_stats(db, &a), 0);
	cr_assert_eq(thresh_db_stats(copy, &b), 0);
	cr_expect(a.hold_cutoff == b.hold_cutoff && a.nb_scale == b.nb_scale);

	/* the same dump as version 3: no ring, seven losses */
	size_t n;
	char *t = tu_slurp(dump, &n);
	char *v2 = malloc(n + 1), *o = v2;
	const char *p = t;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p) + 1;
		if (!strncmp(p, "thresh-dump 4", 13)) {
			o += sprintf(o, "thresh-dump 3\n");
		} else if (!strncmp(p, "preq ", 5)) {
			memcpy(o, p, len);
			char *last = memchr(o, '\n', len);
			while (last[-1] != ' ')
				last--;
			last[-1] = '\n';
			o = last;
		} else if (strncmp(p, "ring ", 5) && strncmp(p, "r ", 2)) {
			memcpy(o, p, len);
			o += len;
		}
		p = nl + 1;
	}
	*o = '\0';
	char v2path[PATH_MAX];
	snprintf(v2path, sizeof v2path, "%s/v2.dump", dir);
	FILE *f = fopen(v2path, "w");
	fputs(v2, f);
	fclose(f);
	cr_assert_eq(thresh_db_import(copy, v2path, 0, err, sizeof err), 0, "%s", err);
	cr_assert_eq(thresh_db_stats(copy, &b), 0);
	cr_expect(b.decisions == 0 && b.calibration_from == THRESH_FROM_NEW_SITE &&
	          b.hold_from == THRESH_FROM_NEW_SITE, "an empty ring");

	/* a bad ring: refused, nothing changed */
	char *bad = malloc(n + 64);
	const char *r = strstr(t, "\nring ");
	cr_assert_not_null(r);
	const char *r1 = strchr(r + 1, '\n'); /* the end of the "ring" line */
	memcpy(bad, t, (size_t)(r1 - t));
	sprintf(bad + (r1 - t), "\nr maybe 1 2 3 4 5 6 7 8%s", strchr(r1 + 1, '\n'));
	f = fopen(v2path, "w");
	fputs(bad, f);
	fclose(f);
	cr_expect_eq(thresh_db_import(copy, v2path, 0, err, sizeof err), THRESH_EFORMAT);
	cr_expect(strstr(err, "spam|ham") != NULL, "%s", err);
	sprintf(bad, "%.*s\nring 3 5\n%s", (int)(r - t), t, strchr(r1 + 1, '\n') + 1);
	f = fopen(v2path, "w");
	fputs(bad, f);
	fclose(f);
	cr_expect_eq(thresh_db_import(copy, v2path, 0, err, sizeof err), THRESH_EFORMAT);
	cr_assert_eq(thresh_db_stats(copy, &b), 0);
	cr_expect_eq(b.decisions, 0, "nothing changed");
	free(bad);
	free(v2);
	free(t);
	thresh_db_close(db);
	thresh_db_close(copy);
	tu_rmtree(dir);
	free(dir);
}
