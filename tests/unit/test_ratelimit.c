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
