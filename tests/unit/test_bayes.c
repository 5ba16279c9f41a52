/* src/lib/bayes.c: the classifier's arithmetic against values computed by
 * hand (and checked with an independent few lines of Python, see the
 * comments). */
#include <criterion/criterion.h>
#include <math.h>

#include "bayes.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

/* counts of the site's layer only */
#define SITE(s, h) {(s), (h), 0, 0, 0, 0}
/* totals of comments only (Fisher), no prior */
#define TOT(s, h) {(s), (h), 0, 0, 0}
/* Fisher's parameters */
#define FISHER(robs, robx, min_dev) {BAYES_FISHER, (robs), (robx), (min_dev), 0, 0, 1, 0}

Test(bayes, robinson_token_estimate)
{
	/* b=3 of 10 spam, g=1 of 20 ham: p = .3/(.3+.05) = 6/7;
	 * f = (1*.5 + 4*6/7) / (1+4) = 0.785714285714... */
	tok_counts c = SITE(3, 1);
	bayes_totals t = TOT(10, 20);
	bayes_params p = FISHER(1.0, 0.5, 0.0);
	double f = bayes_token_prob(&c, &t, &p);
	cr_expect(NEAR(f, 0.7857142857142858), "f = %.17g", f);
}

Test(bayes, unseen_token_is_robx)
{
	tok_counts c = SITE(0, 0);
	bayes_totals t = TOT(10, 10);
	bayes_params p = FISHER(1.0, 0.42, 0.0);
	cr_expect(NEAR(bayes_token_prob(&c, &t, &p), 0.42));
}

Test(bayes, empty_class_does_not_divide_by_zero)
{
	tok_counts c = SITE(2, 0);
	bayes_totals t = TOT(2, 0);
	bayes_params p = FISHER(1.0, 0.5, 0.0);
	double f = bayes_token_prob(&c, &t, &p);
	cr_expect(f > 0.5 && f < 1.0 && isfinite(f));
}

Test(bayes, chi2q_closed_form)
{
	/* v=4: Q = e^-m (1 + m), m = x2/2; x2=4 -> 3 e^-2 */
	cr_expect(NEAR(bayes_chi2q(4, 4), 3 * exp(-2)));
	cr_expect(NEAR(bayes_chi2q(2, 2), exp(-1)));
	cr_expect(NEAR(bayes_chi2q(0, 4), 1.0));
	cr_expect(bayes_chi2q(1e6, 2) >= 0.0);
}

Test(bayes, fisher_combination)
{
	/* Four tokens over totals 10/10, s=1, x=.5:
	 *   9/0 -> .95, 0/5 -> 1/12, 4/1 -> .75, 1/1 -> .5
	 * With min_dev .1 the last is skipped: S = 1 - Q(-2 sum ln(1-f), 6),
	 * H = 1 - Q(-2 sum ln f, 6), score (1+S-H)/2 = 0.643344806013196. */
	tok_counts c[4] = {SITE(9, 0), SITE(0, 5), SITE(4, 1), SITE(1, 1)};
	bayes_totals t = TOT(10, 10);
	bayes_params p = FISHER(1.0, 0.5, 0.1);
	double probs[4];
	double s = bayes_fisher(c, 4, &t, &p, probs);
	cr_expect(NEAR(s, 0.643344806013196), "score %.17g", s);
	cr_expect(NEAR(probs[0], 0.95));
	cr_expect(NEAR(probs[1], 1.0 / 12));
	cr_expect(NEAR(probs[3], 0.5));
	p.min_dev = 0;
	s = bayes_fisher(c, 4, &t, &p, NULL);
	cr_expect(NEAR(s, 0.6449845933369409), "score %.17g", s);
}

Test(bayes, no_evidence_is_half)
{
	bayes_totals t = TOT(10, 10);
	bayes_params p = FISHER(1.0, 0.5, 0.1);
	cr_expect(NEAR(bayes_fisher(NULL, 0, &t, &p, NULL), 0.5));
}

Test(bayes, extreme_counts_stay_finite)
{
	tok_counts c[2] = {SITE(UINT32_MAX, 0), SITE(UINT32_MAX, 0)};
	bayes_totals t = TOT(UINT32_MAX, 1);
	bayes_params p = FISHER(1e-6, 0.5, 0.0);
	double s = bayes_fisher(c, 2, &t, &p, NULL);
	cr_expect(isfinite(s) && s >= 0 && s <= 1 && s > 0.99);
}

Test(bayes, naive_bayes_rates_per_token)
{
	/* Token sums 20 spam / 50 ham. Token A 3/0: llr = ln(4/20) - ln(1/50) =
	 * ln 10; token B 0/4: llr = ln(1/20) - ln(5/50) = ln 0.5; C unseen:
	 * skipped. B is an n-gram with weight .5: z = ln 10 + .5 ln .5, k = 2,
	 * x = z / 2^.8, score = sigmoid(3 x - 1). */
	tok_counts c[3] = {SITE(3, 0), SITE(0, 4), SITE(0, 0)};
	unsigned char gram[3] = {0, 1, 0};
	bayes_totals t = {8, 18, 20, 50, 0};
	bayes_params p = {BAYES_NB, 0, 0, 0, 0.8, 0.5, 3, -1};
	double probs[3];
	size_t seen = 99;
	double z = log(10.0) + 0.5 * log(0.5);
	double expect = 1 / (1 + exp(-(3 * z / pow(2, 0.8) - 1)));
	cr_expect(NEAR(bayes_token_llr(&c[0], &t), log(10.0)));
	cr_expect(NEAR(bayes_token_llr(&c[1], &t), log(0.5)));
	double s = bayes_score(c, 3, gram, &t, &p, probs, &seen);
	cr_expect(NEAR(s, expect), "score %.17g want %.17g", s, expect);
	cr_expect_eq(seen, 2, "the unseen token does not count");
	cr_expect(NEAR(probs[0], 10.0 / 11.0));
	cr_expect(NEAR(probs[2], 0.5));
	/* nothing seen: the calibration's base, sigmoid(nb_shift) */
	cr_expect(NEAR(bayes_score(c + 2, 1, NULL, &t, &p, NULL, &seen), 1 / (1 + exp(1.0))));
	cr_expect_eq(seen, 0);
}

Test(bayes, ratios_made_ahead_score_the_same)
{
	/* What the memory cache does: the ratios made once, then combined. */
	tok_counts c[4] = {SITE(3, 0), SITE(0, 4), SITE(0, 0), {1, 2, 0, 1500, 250, 0}};
	unsigned char gram[4] = {1, 0, 0, 1};
	bayes_totals t = {8, 18, 20, 50, 0.5};
	bayes_params p = {BAYES_NB, 0, 0, 0, 1.0, 0.3, 17, 1.4};
	double llr[4], probs_a[4], probs_b[4];
	size_t seen_a, seen_b;
	for (int i = 0; i < 4; i++)
		llr[i] = bayes_seen(&c[i]) ? bayes_token_llr(&c[i], &t) : NAN;
	double a = bayes_score(c, 4, gram, &t, &p, probs_a, &seen_a);
	double b = bayes_score_llr(llr, 4, gram, &p, probs_b, &seen_b);
	cr_expect(NEAR(a, b), "%.17g %.17g", a, b);
	cr_expect_eq(seen_a, 3);
	cr_expect_eq(seen_b, 3);
	for (int i = 0; i < 4; i++)
		cr_expect(NEAR(probs_a[i], probs_b[i]));
}

Test(bayes, the_prior_counts_at_its_weight)
{
	/* A token of the prior alone (pspam 2.5 comments, pham 0.5) counts as
	 * 1.25 and 0.25 at weight 0.5; with the site's own 1/1 on top, 2.25/1.25. */
	tok_counts c = {1, 1, 0, 2500, 500, 0};
	double s, h;
	bayes_counts(&c, 0.5, &s, &h);
	cr_expect(NEAR(s, 2.25) && NEAR(h, 1.25), "%g %g", s, h);
	bayes_totals t = {10, 10, 100, 100, 0.5};
	cr_expect(NEAR(bayes_token_llr(&c, &t), log(3.25 / 2.25)));
	/* at weight 0 only the site's counts speak */
	t.w = 0;
	cr_expect(NEAR(bayes_token_llr(&c, &t), 0.0));
	/* a token of the prior alone is seen */
	tok_counts only_prior = {0, 0, 0, 1, 0, 0};
	cr_expect(bayes_seen(&only_prior));
}

Test(bayes, classes_without_tokens_stay_finite)
{
	tok_counts c = SITE(2, 0);
	bayes_totals t = {0, 0, 0, 0, 0};
	double l = bayes_token_llr(&c, &t);
	cr_expect(isfinite(l) && l > 0, "%g", l);
}
