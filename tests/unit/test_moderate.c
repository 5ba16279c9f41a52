/* Moderation: every rule and reason from a table, the rate limiter with
 * injected time, the configuration file and its errors, and author records
 * across restarts. (Across processes: tests/robust/test_concurrency.c; what
 * reaches the disk: tests/robust/test_privacy.c.) */
#include <criterion/criterion.h>
#include <math.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "comment_int.h"
#include "config.h"
#include "moderate.h"
#include "ratelimit.h"
#include "testutil.h"

/* ---------- the rules, from a table ---------- */

struct rule_case {
	const char *name;
	const char *field, *value;  /* one extra comment field */
	const char *conf_line;      /* one extra thresh.conf line, or NULL */
	double score;
	unsigned links;
	int known, approved, spam;  /* the author's record */
	int rate_checked, rate_allowed;
	thresh_verdict verdict;
	const char *reasons;        /* space-separated, in order */
	int blatant;
};

static const struct rule_case cases[] = {
	{"clean", NULL, NULL, NULL, 0.1, 0, 0, 0, 0, 0, 0, THRESH_ACCEPT, "", 0},
	{"bayes hold", NULL, NULL, NULL, 0.65, 0, 0, 0, 0, 0, 0, THRESH_HOLD, "bayes", 0},
	{"bayes reject", NULL, NULL, NULL, 0.8, 0, 0, 0, 0, 0, 0, THRESH_REJECT, "bayes", 0},
	{"bayes blatant", NULL, NULL, NULL, 0.97, 0, 0, 0, 0, 0, 0, THRESH_REJECT, "bayes", 1},
	{"honeypot", "honeypot", "x", NULL, 0.1, 0, 0, 0, 0, 0, 0, THRESH_REJECT, "honeypot", 1},
	{"empty honeypot", "honeypot", "", NULL, 0.1, 0, 0, 0, 0, 0, 0, THRESH_ACCEPT, "", 0},
	{"honeypot off", "honeypot", "x", "honeypot = off", 0.1, 0, 0, 0, 0, 0, 0, THRESH_ACCEPT, "", 0},
	{"two links", NULL, NULL, NULL, 0.1, 2, 0, 0, 0, 0, 0, THRESH_HOLD, "too_many_links", 0},
	{"one link", NULL, NULL, NULL, 0.1, 1, 0, 0, 0, 0, 0, THRESH_ACCEPT, "", 0},
	{"links off", NULL, NULL, "hold_links = 0", 0.1, 9, 0, 0, 0, 0, 0, THRESH_ACCEPT, "", 0},
	{"moderation word in content", "content", "Buy CHEAP Watches", "moderation_words = watches, rolex",
	 0.1, 0, 0, 0, 0, 0, 0, THRESH_HOLD, "moderation_word", 0},
	{"moderation word in author", "author", "Rolex Dealer", "moderation_words = watches, rolex", 0.1,
	 0, 0, 0, 0, 0, 0, THRESH_HOLD, "moderation_word", 0},
	{"moderation word in IP", "ip", "203.0.113.9", "moderation_words = 203.0.113.", 0.1, 0, 0, 0, 0,
	 0, 0, THRESH_HOLD, "moderation_word", 0},
	{"moderation word in user agent", "user_agent", "EvilBot/1.0", "moderation_words = evilbot", 0.1,
	 0, 0, 0, 0, 0, 0, THRESH_HOLD, "moderation_word", 0},
	{"disallowed word in url", "url", "http://CASINO.example", "disallowed_words = casino", 0.1, 0, 0,
	 0, 0, 0, 0, THRESH_REJECT, "disallowed_word", 0},
	{"disallowed word in e-mail", "email", "x@Spam-Domain.example", "disallowed_words = spam-domain",
	 0.1, 0, 0, 0, 0, 0, 0, THRESH_REJECT, "disallowed_word", 0},
	{"words folded (NFKC, case)", "content", "ＣＡＳＩＮＯ night", "disallowed_words = Casino", 0.1, 0,
	 0, 0, 0, 0, 0, THRESH_REJECT, "disallowed_word", 0},
	{"rate limited", NULL, NULL, NULL, 0.1, 0, 0, 0, 0, 1, 0, THRESH_REJECT, "rate_limited", 0},
	{"rate limited, hold", NULL, NULL, "rate_limit_action = hold", 0.1, 0, 0, 0, 0, 1, 0, THRESH_HOLD,
	 "rate_limited", 0},
	{"rate allowed", NULL, NULL, NULL, 0.1, 0, 0, 0, 0, 1, 1, THRESH_ACCEPT, "", 0},
	{"too fast", "form_age", "1.5", NULL, 0.1, 0, 0, 0, 0, 0, 0, THRESH_HOLD, "too_fast", 0},
	{"slow enough", "form_age", "30", NULL, 0.1, 0, 0, 0, 0, 0, 0, THRESH_ACCEPT, "", 0},
	{"too fast off", "form_age", "1", "min_form_seconds = 0", 0.1, 0, 0, 0, 0, 0, 0, THRESH_ACCEPT, "", 0},
	{"first comment", "email", "new@example.org", NULL, 0.3, 0, 0, 0, 0, 0, 0, THRESH_HOLD,
	 "first_comment", 0},
	{"first comment clearly ham", "email", "new@example.org", NULL, 0.1, 0, 0, 0, 0, 0, 0,
	 THRESH_ACCEPT, "", 0},
	{"first comment off", "email", "new@example.org", "first_comment = off", 0.3, 0, 0, 0, 0, 0, 0,
	 THRESH_ACCEPT, "", 0},
	{"trusted author", "email", "old@example.org", NULL, 0.66, 0, 1, 3, 0, 0, 0, THRESH_ACCEPT,
	 "trusted_author", 0},
	{"trusted author, high score", "email", "old@example.org", NULL, 0.8, 0, 1, 3, 0, 0, 0,
	 THRESH_REJECT, "bayes", 0},
	{"trust off", "email", "old@example.org", "trust_approved = 0", 0.66, 0, 1, 3, 0, 0, 0,
	 THRESH_HOLD, "bayes", 0},
	{"trust needs enough approvals", "email", "old@example.org", "trust_approved = 5", 0.66, 0, 1, 3,
	 0, 0, 0, THRESH_HOLD, "bayes", 0},
	{"author with more spam", "email", "bad@example.org", NULL, 0.1, 0, 1, 1, 4, 0, 0, THRESH_HOLD,
	 "author_spam", 0},
	{"everything at once", "honeypot", "filled", "moderation_words = x", 0.99, 5, 0, 0, 0, 1, 0,
	 THRESH_REJECT, "honeypot rate_limited bayes too_many_links moderation_word", 1},
};

static conf *conf_with(const char *line)
{
	conf *cf;
	char err[256] = "";
	if (!line)
		return conf_defaults();
	char *dir = tu_tmpdir(), path[PATH_MAX];
	snprintf(path, sizeof path, "%s/thresh.conf", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s\n", line);
	fclose(f);
	int rc = conf_load(path, &cf, err, sizeof err);
	cr_assert_eq(rc, 0, "%s: %s", line, err);
	tu_rmtree(dir);
	free(dir);
	return cf;
}

Test(moderate, rules_table)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rule_case *k = &cases[i];
		thresh_comment *c;
		mod_in in;
		mod_out out;
		char got[256] = "";
		cr_assert_eq(thresh_comment_new(&c), 0);
		cr_assert_eq(thresh_comment_set(c, "content", "some text", (size_t)-1), 0);
		if (k->field)
			cr_assert_eq(thresh_comment_set(c, k->field, k->value, (size_t)-1), 0, "%s", k->name);
		conf *cf = conf_with(k->conf_line);
		memset(&in, 0, sizeof in);
		in.cf = cf;
		in.c = c;
		in.score = k->score;
		in.hold = 0.62;
		in.reject = 0.73;
		in.blatant = 0.95;
		in.links = k->links;
		in.has_identity = k->field && !strcmp(k->field, "email");
		in.known = k->known;
		in.author.approved = (uint32_t)k->approved;
		in.author.spam = (uint32_t)k->spam;
		in.rate_checked = k->rate_checked;
		in.rate_allowed = k->rate_allowed;
		in.retry_after = k->rate_checked && !k->rate_allowed ? 7.5 : 0;
		cr_assert_eq(moderate_decide(&in, &out), 0);
		for (size_t r = 0; r < out.nreasons; r++) {
			strcat(got, r ? " " : "");
			strcat(got, out.reasons[r]);
		}
		cr_expect_eq(out.verdict, k->verdict, "%s: verdict %d", k->name, out.verdict);
		cr_expect_str_eq(got, k->reasons, "%s: reasons [%s]", k->name, got);
		cr_expect_eq(out.blatant, k->blatant, "%s: blatant", k->name);
		if (k->rate_checked && !k->rate_allowed)
			cr_expect_eq(out.retry_after, 7.5, "%s: retry_after", k->name);
		conf_unref(cf);
		thresh_comment_free(c);
	}
}

/* ---------- identities ---------- */

static void expect_identity(const char *field, const char *value, const char *want)
{
	thresh_comment *c;
	char buf[256];
	thresh_comment_new(&c);
	thresh_comment_set(c, field, value, (size_t)-1);
	int k = identity_normalize(c, buf, sizeof buf);
	if (!want)
		cr_expect_eq(k, 0, "%s", value);
	else {
		cr_assert_gt(k, 0, "%s", value);
		cr_expect_str_eq(buf, want);
	}
	thresh_comment_free(c);
}

Test(moderate, identities_are_normalized)
{
	expect_identity("email", "  Ann.Lee+blog@Example.ORG \n", "e:ann.lee@example.org");
	expect_identity("email", "ann.lee@example.org", "e:ann.lee@example.org");
	expect_identity("email", "   ", NULL);
	expect_identity("ip", " 192.0.2.7", "i:192.0.2.7");
	expect_identity("ip", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "i:2001:db8:1:2::/64");
	expect_identity("ip", "2001:DB8:1:2::9", "i:2001:db8:1:2::/64");
	expect_identity("ip", "::ffff:192.0.2.7", "i:192.0.2.7");
	expect_identity("ip", "not an ip", "i:not an ip");
	/* the e-mail wins over the IP */
	thresh_comment *c;
	char buf[256];
	thresh_comment_new(&c);
	thresh_comment_set(c, "ip", "192.0.2.7", (size_t)-1);
	thresh_comment_set(c, "email", "a@b.example", (size_t)-1);
	cr_assert_gt(identity_normalize(c, buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "e:a@b.example");
	thresh_comment_free(c);
}

/* ---------- GCRA, time injected ---------- */

Test(ratelimit, gcra_allows_burst_then_rate)
{
	char *dir = tu_tmpdir();
	store *s;
	unsigned char id[16] = {1};
	rate_rule rule = {5, 60, 3}; /* T = 12 s, tau = 24 s */
	int ok;
	double retry;
	cr_assert_eq(store_open(dir, STORE_NOSYNC, 0, &s), 0);
	double t = 1000000;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ratelimit_check(s, id, t, &rule, &ok, &retry), 0);
		cr_expect(ok, "comment %d of the burst", i);
	}
	cr_assert_eq(ratelimit_check(s, id, t, &rule, &ok, &retry), 0);
	cr_expect(!ok);
	cr_expect(fabs(retry - 12) < 1e-6, "retry after %f", retry);
	/* refused comments do not push the limit further */
	cr_assert_eq(ratelimit_check(s, id, t + 5, &rule, &ok, &retry), 0);
	cr_expect(!ok);
	cr_expect(fabs(retry - 7) < 1e-6, "retry after %f", retry);
	cr_assert_eq(ratelimit_check(s, id, t + 12, &rule, &ok, &retry), 0);
	cr_expect(ok, "one more after T");
	cr_assert_eq(ratelimit_check(s, id, t + 12, &rule, &ok, &retry), 0);
	cr_expect(!ok);
	/* another author is not affected */
	unsigned char other[16] = {2};
	cr_assert_eq(ratelimit_check(s, other, t + 12, &rule, &ok, &retry), 0);
	cr_expect(ok);
	/* after a quiet while, the whole burst is back; stale entries prune */
	uint64_t removed = 0;
	cr_assert_eq(ratelimit_prune(s, t + 1000, &removed), 0);
	cr_expect_eq(removed, 2);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ratelimit_check(s, id, t + 1000, &rule, &ok, &retry), 0);
		cr_expect(ok);
	}
	rule.rate = 0; /* off */
	cr_assert_eq(ratelimit_check(s, id, t + 1000, &rule, &ok, &retry), 0);
	cr_expect(ok);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}

static thresh_comment *from(const char *email, int64_t t)
{
	thresh_comment *c = tu_comment("hello there, nice post", email);
	cr_assert_eq(thresh_comment_set_time(c, t), 0);
	return c;
}

Test(ratelimit, through_thresh_check)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_result *r;
	int64_t t = 1700000000;
	for (int i = 0; i < 4; i++) {
		thresh_comment *c = from("Flood@Example.org", t);
		cr_assert_eq(thresh_check(db, c, 0, &r), 0);
		int limited = 0;
		for (size_t k = 0; k < thresh_result_reason_count(r); k++)
			limited |= !strcmp(thresh_result_reason(r, k), "rate_limited");
		cr_expect_eq(limited, i == 3, "comment %d", i);
		if (i == 3) {
			cr_expect_eq(thresh_result_verdict(r), THRESH_REJECT);
			cr_expect(fabs(thresh_result_retry_after(r) - 12) < 1e-6);
		}
		thresh_result_free(r);
		thresh_comment_free(c);
	}
	/* the same person with a +tag and other case is the same author */
	thresh_comment *c = from("flood+x@EXAMPLE.org", t);
	cr_assert_eq(thresh_check(db, c, 0, &r), 0);
	cr_expect_str_eq(thresh_result_reason(r, 0), "rate_limited");
	thresh_result_free(r);
	/* read-only checks (and views) never count */
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	for (size_t k = 0; k < thresh_result_reason_count(r); k++)
		cr_expect_str_neq(thresh_result_reason(r, k), "rate_limited");
	thresh_result_free(r);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* ---------- configuration ---------- */

struct bad_conf {
	const char *text;
	const char *expect; /* in the message after "FILE:LINE: " */
	int line;
};

Test(config, errors_name_file_line_and_expectation)
{
	static const struct bad_conf bad[] = {
		{"nosuchkey = 1\n", "unknown key \"nosuchkey\"", 1},
		{"# fine\nrate_limit = lots\n", "rate_limit: expected a number", 2},
		{"rate_burst = 2.5\n", "rate_burst: expected a whole number", 1},
		{"rate_burst = 0\n", "rate_burst: expected a whole number from 1", 1},
		{"honeypot = maybe\n", "honeypot: expected on or off", 1},
		{"rate_limit_action = drop\n", "expected hold or reject", 1},
		{"hold_cutoff = 2\n", "hold_cutoff: expected a number in its range", 1},
		{"\n\njust words\n", "expected \"key = value\"", 3},
		{"[threshd\n", "expected a section header", 1},
		{" = 3\n", "a value without a key", 1},
		{"moderation_words = \xff\xfe\n", "not valid UTF-8", 1},
		{"hold_cutoff = 0.9\nreject_cutoff = 0.8\n", "hold_cutoff is above reject_cutoff", 0},
	};
	char *dir = tu_tmpdir(), path[PATH_MAX], err[512];
	snprintf(path, sizeof path, "%s/thresh.conf", dir);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		FILE *f = fopen(path, "w");
		fputs(bad[i].text, f);
		fclose(f);
		conf *cf = NULL;
		err[0] = '\0';
		cr_expect_eq(conf_load(path, &cf, err, sizeof err), THRESH_ECONFIG, "%s", bad[i].text);
		char where[PATH_MAX + 32];
		snprintf(where, sizeof where, "%s:%d: ", path, bad[i].line);
		cr_expect(strncmp(err, where, strlen(where)) == 0, "[%s] should start with [%s]", err, where);
		cr_expect(strstr(err, bad[i].expect) != NULL, "[%s] should say [%s]", err, bad[i].expect);
	}
	/* through thresh_db_open: a bad file refuses to open, naming it */
	thresh_db *db;
	thresh_db_options o;
	char dbp[PATH_MAX];
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	o.config = path;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	snprintf(dbp, sizeof dbp, "%s/db", dir);
	cr_expect_eq(thresh_db_open(dbp, &o, &db), THRESH_ECONFIG);
	cr_expect(strstr(err, "thresh.conf:") != NULL, "%s", err);
	tu_rmtree(dir);
	free(dir);
}

Test(config, read_printed_and_read_back)
{
	char *dir = tu_tmpdir(), path[PATH_MAX], dbp[PATH_MAX], buf[256];
	snprintf(path, sizeof path, "%s/thresh.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("# a site\nrate_limit = 2   # per minute\nrate_burst=1\nhold_links = 3\n"
	      "moderation_words = Rolex, cheap watches\nmoderation_words = viagra\n"
	      "hold_cutoff = 0.5\n\n[threshd]\nport = 9000\nport = 9001\n", f);
	fclose(f);
	thresh_db *db;
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	o.config = path;
	snprintf(dbp, sizeof dbp, "%s/db", dir);
	cr_assert_eq(thresh_db_open(dbp, &o, &db), 0);
	cr_assert_eq(thresh_db_config_get(db, "rate_limit", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "2");
	cr_assert_eq(thresh_db_config_get(db, "moderation_words", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "rolex, cheap watches, viagra");
	cr_assert_eq(thresh_db_config_get(db, "threshd.port", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "9001", "the last of a repeated key wins");
	cr_expect_eq(thresh_db_config_get(db, "threshd.host", buf, sizeof buf), THRESH_ENOTFOUND);
	cr_expect_eq(thresh_db_config_get(db, "rate_limit", buf, 1), THRESH_ETOOBIG);
	double v;
	cr_assert_eq(thresh_db_param_get(db, "hold_cutoff", &v), 0);
	cr_expect_eq(v, 0.5, "the file overrides the stored cutoff");
	/* the printed configuration is itself a valid configuration */
	char *text;
	cr_assert_eq(thresh_db_config_text(db, &text), 0);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	thresh_free(text);
	char err[256] = "";
	cr_assert_eq(thresh_db_config_reload(db, err, sizeof err), 0, "%s", err);
	cr_assert_eq(thresh_db_config_get(db, "hold_links", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "3");
	/* a thresh.conf that appears after open is read on reload */
	{
		char *d2;
		thresh_db *db2 = tu_empty_db(&d2);
		char p2[PATH_MAX + 16];
		cr_assert_eq(thresh_db_config_get(db2, "hold_links", buf, sizeof buf), 0);
		cr_expect_str_eq(buf, "2");
		snprintf(p2, sizeof p2, "%s/db/thresh.conf", d2);
		FILE *g = fopen(p2, "w");
		fputs("hold_links = 7\n", g);
		fclose(g);
		cr_assert_eq(thresh_db_config_reload(db2, err, sizeof err), 0, "%s", err);
		cr_assert_eq(thresh_db_config_get(db2, "hold_links", buf, sizeof buf), 0);
		cr_expect_str_eq(buf, "7");
		thresh_db_close(db2);
		tu_rmtree(d2);
		free(d2);
	}
	/* a broken reload keeps the configuration in force */
	f = fopen(path, "w");
	fputs("rate_limit = -1\n", f);
	fclose(f);
	cr_expect_eq(thresh_db_config_reload(db, err, sizeof err), THRESH_ECONFIG);
	cr_assert_eq(thresh_db_config_get(db, "rate_limit", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "2");
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* ---------- authors across restarts, secret rotation ---------- */

static int has_reason(thresh_result *r, const char *name)
{
	for (size_t k = 0; k < thresh_result_reason_count(r); k++)
		if (!strcmp(thresh_result_reason(r, k), name))
			return 1;
	return 0;
}

Test(authors, records_survive_restarts_and_rotation_drops_them)
{
	char *dir, path[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	snprintf(path, sizeof path, "%s/db", dir);
	for (int i = 0; i < 10; i++) {
		char buf[64];
		snprintf(buf, sizeof buf, "buy pills now %d", i);
		tu_learn(db, buf, THRESH_SPAM);
		snprintf(buf, sizeof buf, "lovely song thank you %d", i);
		tu_learn(db, buf, THRESH_HAM);
	}
	thresh_comment *c = tu_comment("what a melody, pills", "Regular@Example.org");
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	double score = thresh_result_score(r);
	cr_expect(has_reason(r, "first_comment") == (score >= 0.2), "score %f", score);
	thresh_result_free(r);
	cr_assert_eq(thresh_learn(db, c, THRESH_HAM, NULL), 0);
	thresh_db_close(db);

	cr_assert_eq(thresh_db_open(path, NULL, &db), 0);
	thresh_comment *again = tu_comment("another comment, pills maybe", "regular+x@example.org");
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!has_reason(r, "first_comment"), "the author is known after a restart");
	thresh_result_free(r);

	/* two spam learns make them an author with more spam than approved */
	thresh_comment *s1 = tu_comment("spam one", "regular@example.org");
	thresh_comment *s2 = tu_comment("spam two", "regular@example.org");
	cr_assert_eq(thresh_learn(db, s1, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_learn(db, s2, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(has_reason(r, "author_spam"));
	thresh_result_free(r);
	/* unlearning takes it back */
	cr_assert_eq(thresh_unlearn(db, s1, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_unlearn(db, s2, THRESH_SPAM, NULL), 0);
	cr_assert_eq(thresh_check(db, again, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!has_reason(r, "author_spam"));
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
	cr_expect(has_reason(r, "first_comment") || thresh_result_score(r) < 0.2,
	          "after rotation the author is unknown again");
	thresh_result_free(r);
	thresh_comment_free(c);
	thresh_comment_free(again);
	thresh_comment_free(s1);
	thresh_comment_free(s2);
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

