/* src/lib/moderate.c: every rule and reason of moderate_decide from a table,
 * and how identity_normalize spells an author's identity. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "comment_int.h"
#include "config.h"
#include "moderate.h"
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
	 0.03, 0, 0, 0, 0, 0, 0, THRESH_REJECT, "disallowed_word", 0},
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
	{"first comment clearly ham", "email", "new@example.org", NULL, 0.03, 0, 0, 0, 0, 0, 0,
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

/* decide - moderate_decide on a comment "some text" (plus field=value when
 * field is given) under the defaults plus conf_line, with the rest of the
 * input in *in; the reasons joined by spaces into got (256 bytes). */
static void decide(mod_in *in, const char *field, const char *value, const char *conf_line,
                   mod_out *out, char got[256])
{
	thresh_comment *c;
	cr_assert_eq(thresh_comment_new(&c), 0);
	cr_assert_eq(thresh_comment_set(c, "content", "some text", (size_t)-1), 0);
	if (field)
		cr_assert_eq(thresh_comment_set(c, field, value, (size_t)-1), 0, "%s", field);
	conf *cf = conf_with(conf_line);
	in->cf = cf;
	in->c = c;
	cr_assert_eq(moderate_decide(in, out), 0);
	got[0] = '\0';
	for (size_t r = 0; r < out->nreasons; r++) {
		strcat(got, r ? " " : "");
		strcat(got, out->reasons[r]);
	}
	in->cf = NULL;
	in->c = NULL;
	conf_unref(cf);
	thresh_comment_free(c);
}

Test(moderate, rules_table)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rule_case *k = &cases[i];
		mod_in in;
		mod_out out;
		char got[256];
		memset(&in, 0, sizeof in);
		in.score = k->score;
		in.hold = 0.62;
		in.reject = 0.73;
		in.blatant = 0.95;
		in.seen = 100;
		in.min_seen = 30;
		in.learned = -1;
		in.links = k->links;
		in.has_identity = k->field && !strcmp(k->field, "email");
		in.known = k->known;
		in.author.approved = (uint32_t)k->approved;
		in.author.spam = (uint32_t)k->spam;
		in.rate_checked = k->rate_checked;
		in.rate_allowed = k->rate_allowed;
		in.retry_after = k->rate_checked && !k->rate_allowed ? 7.5 : 0;
		decide(&in, k->field, k->value, k->conf_line, &out, got);
		cr_expect_eq(out.verdict, k->verdict, "%s: verdict %d", k->name, out.verdict);
		cr_expect_str_eq(got, k->reasons, "%s: reasons [%s]", k->name, got);
		cr_expect_eq(out.blatant, k->blatant, "%s: blatant", k->name);
		if (k->rate_checked && !k->rate_allowed)
			cr_expect_eq(out.retry_after, 7.5, "%s: retry_after", k->name);
	}
}

/* A reject on the score alone needs a comment the model knows: on fewer
 * seen tokens than reject_min_tokens it holds, with "unfamiliar", and is
 * never flagged blatant; the other rules reject as before. */
Test(moderate, unfamiliar_is_held_not_rejected)
{
	static const struct {
		double score;
		size_t seen;
		const char *bad_words;
		thresh_verdict verdict;
		const char *reasons;
		int blatant;
	} t[] = {
		{0.99, 29, NULL, THRESH_HOLD, "bayes unfamiliar", 0},
		{0.99, 30, NULL, THRESH_REJECT, "bayes", 1},
		{0.80, 0, NULL, THRESH_HOLD, "bayes unfamiliar", 0},
		{0.65, 5, NULL, THRESH_HOLD, "bayes", 0},
		{0.10, 0, NULL, THRESH_ACCEPT, "", 0},
		{0.99, 3, "disallowed_words = text", THRESH_REJECT, "disallowed_word bayes unfamiliar", 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		mod_in in;
		mod_out out;
		char got[256];
		memset(&in, 0, sizeof in);
		in.score = t[i].score;
		in.hold = 0.62;
		in.reject = 0.73;
		in.blatant = 0.95;
		in.seen = t[i].seen;
		in.min_seen = 30;
		in.learned = -1;
		decide(&in, NULL, NULL, t[i].bad_words, &out, got);
		cr_expect_eq(out.verdict, t[i].verdict, "case %zu: verdict %d", i, out.verdict);
		cr_expect_str_eq(got, t[i].reasons, "case %zu: [%s]", i, got);
		cr_expect_eq(out.blatant, t[i].blatant, "case %zu: blatant", i);
	}
}

/* A comment learned as it is (its digest) takes the moderator's label: ham
 * is accepted whatever the score and the rules that only ask for a look;
 * the honeypot, the disallowed words and the rate still apply; spam is
 * rejected. */
Test(moderate, a_learned_comment_keeps_its_label)
{
	static const struct {
		int learned;
		double score;
		unsigned links;
		const char *conf_line;
		int rate_limited;
		thresh_verdict verdict;
		const char *reasons;
	} t[] = {
		{0, 0.99, 3, "moderation_words = some", 0, THRESH_ACCEPT, "learned_ham"},
		{0, 0.99, 0, "disallowed_words = some", 0, THRESH_REJECT, "disallowed_word learned_ham"},
		{0, 0.10, 0, NULL, 1, THRESH_REJECT, "rate_limited learned_ham"},
		{1, 0.01, 0, NULL, 0, THRESH_REJECT, "learned_spam"},
		{1, 0.99, 0, NULL, 0, THRESH_REJECT, "learned_spam bayes"},
		{-1, 0.01, 0, NULL, 0, THRESH_ACCEPT, ""},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		mod_in in;
		mod_out out;
		char got[256];
		memset(&in, 0, sizeof in);
		in.score = t[i].score;
		in.hold = 0.62;
		in.reject = 0.73;
		in.blatant = 1;
		in.seen = 100;
		in.min_seen = 30;
		in.links = t[i].links;
		in.learned = t[i].learned;
		in.rate_checked = t[i].rate_limited;
		decide(&in, NULL, NULL, t[i].conf_line, &out, got);
		cr_expect_eq(out.verdict, t[i].verdict, "case %zu: verdict %d", i, out.verdict);
		cr_expect_str_eq(got, t[i].reasons, "case %zu: [%s]", i, got);
	}
}

/* A comment over its address's rate: rate_limited, and rate_ip to say
 * which rate; the wait passes through; rate_limit_action = hold holds. */
Test(moderate, the_address_rate_says_so)
{
	mod_in in;
	mod_out out;
	char got[256];
	memset(&in, 0, sizeof in);
	in.score = 0.01;
	in.hold = 0.5;
	in.reject = 0.7;
	in.blatant = 0.99;
	in.learned = -1;
	in.rate_checked = 1;
	in.rate_ip = 1;
	in.retry_after = 42;
	decide(&in, "email", "ann@example.org", "first_comment = off", &out, got);
	cr_expect_eq(out.verdict, THRESH_REJECT);
	cr_expect_str_eq(got, "rate_limited rate_ip");
	cr_expect_eq(out.retry_after, 42);
	decide(&in, "email", "ann@example.org", "rate_limit_action = hold\nfirst_comment = off", &out, got);
	cr_expect_eq(out.verdict, THRESH_HOLD);
	cr_expect_str_eq(got, "rate_limited rate_ip");
	in.rate_ip = 0;
	decide(&in, "email", "ann@example.org", "first_comment = off", &out, got);
	cr_expect_str_eq(got, "rate_limited", "the author's own rate");
	in.rate_allowed = 1;
	in.rate_ip = 0;
	decide(&in, "email", "ann@example.org", "first_comment = off", &out, got);
	cr_expect_str_eq(got, "");
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
	/* IPv4, plain and mapped, spelled as inet_ntop spells it */
	static const unsigned char octets[] = {0, 1, 9, 10, 42, 99, 100, 101, 199, 200, 255};
	for (size_t i = 0; i < sizeof octets * sizeof octets; i++) {
		unsigned char a[4] = {octets[i % sizeof octets], octets[i / sizeof octets],
		                      octets[(i * 7) % sizeof octets], octets[(i * 5 + 3) % sizeof octets]};
		char ip[INET_ADDRSTRLEN], text[64], want[64];
		cr_assert_not_null(inet_ntop(AF_INET, a, ip, sizeof ip));
		snprintf(want, sizeof want, "i:%s", ip);
		expect_identity("ip", ip, want);
		snprintf(text, sizeof text, "::ffff:%s", ip);
		expect_identity("ip", text, want);
	}
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
