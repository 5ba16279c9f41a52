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
