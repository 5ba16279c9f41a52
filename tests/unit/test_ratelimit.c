/* src/lib/ratelimit.c: GCRA per author, with time injected, and through
 * thresh_check. (Across processes: tests/robust/test_concurrency.c.) */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "ratelimit.h"
#include "testutil.h"

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

/* reasons_of - the reasons of a check of c (which counts), space-joined
 * into out (256 bytes), and its verdict. */
static thresh_verdict reasons_of(thresh_db *db, thresh_comment *c, char out[256])
{
	thresh_result *r;
	int rc = thresh_check(db, c, 0, &r);
	cr_assert_eq(rc, 0, "check: %s", thresh_strerror(rc));
	out[0] = '\0';
	for (size_t k = 0; k < thresh_result_reason_count(r); k++) {
		if (k)
			strncat(out, " ", 255 - strlen(out));
		strncat(out, thresh_result_reason(r, k), 255 - strlen(out));
	}
	thresh_verdict v = thresh_result_verdict(r);
	thresh_result_free(r);
	return v;
}

/* Issue 18: an e-mail whose case-folded NFKC form passes 12 KiB (1,360 x
 * U+FDFA, 4,080 bytes, each folding to 18 characters) gave no identity at
 * all: 6 of 6 comments from one IP were accepted where the same IP without
 * an e-mail is limited from the 4th, and no first comment was held. An
 * author must never escape identity by the e-mail they send: that address
 * is an identity like any other, limited from the 4th, its first comment
 * held. */
Test(ratelimit, an_e_mail_that_folds_long_still_identifies_its_author)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	char email[1360 * 3 + 1], reasons[256];
	for (int i = 0; i < 1360; i++)
		memcpy(email + 3 * i, "\xef\xb7\xba", 3); /* U+FDFA */
	email[1360 * 3] = '\0';
	int64_t t = 1700000000;
	for (int who = 0; who < 2; who++) {
		for (int i = 0; i < 6; i++) {
			thresh_comment *c = tu_comment("hello there, nice post", who ? email : NULL);
			cr_assert_eq(thresh_comment_set(c, "user_ip", who ? "192.0.2.9" : "192.0.2.8", (size_t)-1), 0);
			cr_assert_eq(thresh_comment_set_time(c, t), 0);
			reasons_of(db, c, reasons);
			cr_expect_eq(strstr(reasons, "rate_limited") != NULL, i >= 3, "%s, comment %d: %s",
			             who ? "1,360 x U+FDFA" : "the IP alone", i + 1, reasons);
			if (i == 0)
				cr_expect(strstr(reasons, "first_comment"), "%s: the first comment is held: %s",
				          who ? "1,360 x U+FDFA" : "the IP alone", reasons);
			thresh_comment_free(c);
		}
	}
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* ---------- the rate of an IP address (issue 18) ---------- */

/* post - check (counting) a comment from email (NULL: none) and ip at time
 * t; its reasons space-joined into reasons (256 bytes), its retry_after. */
static double post(thresh_db *db, const char *email, const char *ip, int64_t t, char reasons[256])
{
	thresh_comment *c = tu_comment("hello there, nice post", email);
	cr_assert_eq(thresh_comment_set(c, "user_ip", ip, (size_t)-1), 0);
	cr_assert_eq(thresh_comment_set_time(c, t), 0);
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, 0, &r), 0);
	double retry = thresh_result_retry_after(r);
	reasons[0] = '\0';
	for (size_t k = 0; k < thresh_result_reason_count(r); k++) {
		if (k)
			strncat(reasons, " ", 255 - strlen(reasons));
		strncat(reasons, thresh_result_reason(r, k), 255 - strlen(reasons));
	}
	thresh_result_free(r);
	thresh_comment_free(c);
	return retry;
}

static int limited(const char *reasons)
{
	return strstr(reasons, "rate_limited") != NULL;
}

/* The repro of issue 18: with an e-mail the IP never counted, so
 * flood1@ .. flood6@ from one IP all passed. With the address's rate at the
 * author's (5 a minute, burst 3), the 4th and later are limited by the IP,
 * and say so (rate_ip). With the defaults (20 a minute, burst 10), the 11th. */
Test(ratelimit, rotating_e_mails_from_one_ip_are_limited_by_the_ip)
{
	char *dir, reasons[256], email[64];
	thresh_db *db = tu_empty_db(&dir);
	int64_t t = 1700000000;
	for (int i = 1; i <= 12; i++) {
		snprintf(email, sizeof email, "flood%d@example.org", i);
		double retry = post(db, email, "198.51.100.7", t, reasons);
		cr_expect_eq(limited(reasons), i > 10, "defaults, comment %d: %s", i, reasons);
		if (i > 10) {
			cr_expect(strstr(reasons, "rate_ip"), "comment %d: %s", i, reasons);
			cr_expect(fabs(retry - 3) < 1e-6, "20 a minute: one more in 3 s, not %f", retry);
		}
	}
	thresh_db_close(db);
	db = tu_open_with_conf(dir, "ip_rate_limit = 5\nip_rate_burst = 3\n");
	t += 3600;
	for (int i = 1; i <= 6; i++) {
		snprintf(email, sizeof email, "flood%d@example.org", i);
		double retry = post(db, email, "203.0.113.9", t, reasons);
		cr_expect_eq(limited(reasons), i >= 4, "flood%d@: %s", i, reasons);
		cr_expect_eq(strstr(reasons, "rate_ip") != NULL, i >= 4, "flood%d@: %s", i, reasons);
		if (i >= 4)
			cr_expect(fabs(retry - 12) < 1e-6, "flood%d@: retry after %f", i, retry);
	}
	/* another address is another bucket; an IPv6 address counts by its /64 */
	cr_expect(!limited((post(db, "flood7@example.org", "203.0.113.10", t, reasons), reasons)), "%s",
	          reasons);
	for (int i = 1; i <= 4; i++) {
		char ip[64];
		snprintf(ip, sizeof ip, "2001:db8:1:2::%x", i * 0x101);
		snprintf(email, sizeof email, "v6-%d@example.org", i);
		post(db, email, ip, t, reasons);
		cr_expect_eq(limited(reasons), i == 4, "%s: %s", ip, reasons);
	}
	cr_expect(!limited((post(db, "v6-5@example.org", "2001:db8:1:3::1", t, reasons), reasons)),
	          "another /64: %s", reasons);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* Behind one NAT: a few people with their own e-mails, under the address's
 * budget, all pass. One of them over their own rate is limited as an author
 * (not rate_ip), and that refused comment spends nothing of the address's
 * rate: the others still get the whole of it. */
Test(ratelimit, people_behind_one_nat_share_the_address_budget)
{
	char *dir, reasons[256], email[64];
	thresh_db *db = tu_empty_db(&dir);
	int64_t t = 1700000000;
	/* 4 people, 2 comments each, at one instant: 8 of the 10 at once */
	for (int i = 0; i < 8; i++) {
		snprintf(email, sizeof email, "person%d@example.org", i % 4);
		post(db, email, "192.0.2.200", t, reasons);
		cr_expect(!limited(reasons), "person%d's comment %d: %s", i % 4, i / 4 + 1, reasons);
	}
	/* person0 posts a 3rd (passes, 9 of 10) and a 4th: over their own burst */
	post(db, "person0@example.org", "192.0.2.200", t, reasons);
	cr_expect(!limited(reasons), "%s", reasons);
	double retry = post(db, "person0@example.org", "192.0.2.200", t, reasons);
	cr_expect(limited(reasons) && !strstr(reasons, "rate_ip"), "person0's 4th: %s", reasons);
	cr_expect(retry > 0);
	for (int k = 0; k < 3; k++) {
		retry = post(db, "person0@example.org", "192.0.2.200", t, reasons);
		cr_expect(limited(reasons) && !strstr(reasons, "rate_ip"), "%s", reasons);
	}
	/* ... and took nothing from the others: the 10th of the address passes */
	post(db, "person4@example.org", "192.0.2.200", t, reasons);
	cr_expect(!limited(reasons), "the address's 10th: %s", reasons);
	post(db, "person5@example.org", "192.0.2.200", t, reasons);
	cr_expect(limited(reasons) && strstr(reasons, "rate_ip"), "the address's 11th: %s", reasons);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* retry_after is the longer wait when both rates refuse, and a comment with
 * no e-mail (its author known by the IP) counts in the author's bucket and
 * the address's, which are kept apart. */
Test(ratelimit, retry_after_is_the_longer_wait)
{
	char *dir, reasons[256];
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	/* the author: 1 a minute (T 60 s, no burst); the address: 5 a minute,
	 * burst 3 (T 12 s, tau 24 s) */
	db = tu_open_with_conf(dir, "rate_limit = 1\nrate_burst = 1\nip_rate_limit = 5\nip_rate_burst = 3\n");
	int64_t t = 1700000000;
	cr_expect(!limited((post(db, "ann@example.org", "192.0.2.1", t, reasons), reasons)), "%s", reasons);
	double retry = post(db, "ann@example.org", "192.0.2.1", t, reasons);
	cr_expect(limited(reasons) && !strstr(reasons, "rate_ip"), "ann's 2nd: %s", reasons);
	cr_expect(fabs(retry - 60) < 1e-6, "ann waits 60 s, not %f", retry);
	cr_expect(!limited((post(db, "bob@example.org", "192.0.2.1", t, reasons), reasons)), "%s", reasons);
	cr_expect(!limited((post(db, "cy@example.org", "192.0.2.1", t, reasons), reasons)), "%s", reasons);
	retry = post(db, "dee@example.org", "192.0.2.1", t, reasons);
	cr_expect(limited(reasons) && strstr(reasons, "rate_ip"), "the address's 4th: %s", reasons);
	cr_expect(fabs(retry - 12) < 1e-6, "dee waits for the address: 12 s, not %f", retry);
	retry = post(db, "ann@example.org", "192.0.2.1", t, reasons);
	cr_expect(limited(reasons) && strstr(reasons, "rate_ip"), "%s", reasons);
	cr_expect(fabs(retry - 60) < 1e-6, "both refuse: the longer wait, 60 s, not %f", retry);
	/* after 12 s the address has room again; ann still waits for herself */
	retry = post(db, "ann@example.org", "192.0.2.1", t + 12, reasons);
	cr_expect(limited(reasons) && !strstr(reasons, "rate_ip"), "%s", reasons);
	cr_expect(fabs(retry - 48) < 1e-6, "%f", retry);
	cr_expect(!limited((post(db, "dee@example.org", "192.0.2.1", t + 12, reasons), reasons)), "%s", reasons);
	/* no e-mail: the author is the IP, 1 a minute, apart from the address's bucket */
	cr_expect(!limited((post(db, NULL, "192.0.2.2", t, reasons), reasons)), "%s", reasons);
	retry = post(db, NULL, "192.0.2.2", t, reasons);
	cr_expect(limited(reasons) && !strstr(reasons, "rate_ip"), "%s", reasons);
	cr_expect(fabs(retry - 60) < 1e-6, "%f", retry);
	/* rate_limit = 0 turns every rate off, the address's too */
	thresh_db_close(db);
	db = tu_open_with_conf(dir, "rate_limit = 0\nip_rate_limit = 1\nip_rate_burst = 1\n");
	for (int i = 0; i < 5; i++) {
		char email[32];
		snprintf(email, sizeof email, "x%d@example.org", i);
		cr_expect(!limited((post(db, email, "192.0.2.3", t, reasons), reasons)), "%s", reasons);
	}
	/* ip_rate_limit = 0 turns the address's off */
	thresh_db_close(db);
	db = tu_open_with_conf(dir, "ip_rate_limit = 0\n");
	for (int i = 0; i < 15; i++) {
		char email[32];
		snprintf(email, sizeof email, "y%d@example.org", i);
		cr_expect(!limited((post(db, email, "192.0.2.4", t, reasons), reasons)), "%s", reasons);
	}
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
