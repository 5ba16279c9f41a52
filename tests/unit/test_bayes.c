/* src/lib/bayes.c: the classifier's arithmetic against values computed by
 * hand (and checked with an independent few lines of Python, see the
 * comments). */
#include <criterion/criterion.h>
#include <math.h>

#include "bayes.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

Test(bayes, robinson_token_estimate)
{
	/* b=3 of 10 spam, g=1 of 20 ham: p = .3/(.3+.05) = 6/7;
	 * f = (1*.5 + 4*6/7) / (1+4) = 0.785714285714... */
	tok_counts c = {3, 1, 0};
	bayes_totals t = {10, 20};
	bayes_params p = {BAYES_FISHER, 1.0, 0.5, 0.0, 0, 0};
	double f = bayes_token_prob(&c, &t, &p);
	cr_expect(NEAR(f, 0.7857142857142858), "f = %.17g", f);
}

Test(bayes, unseen_token_is_robx)
{
	tok_counts c = {0, 0, 0};
	bayes_totals t = {10, 10};
	bayes_params p = {BAYES_FISHER, 1.0, 0.42, 0.0, 0, 0};
	cr_expect(NEAR(bayes_token_prob(&c, &t, &p), 0.42));
}

Test(bayes, empty_class_does_not_divide_by_zero)
{
	tok_counts c = {2, 0, 0};
	bayes_totals t = {2, 0};
	bayes_params p = {BAYES_FISHER, 1.0, 0.5, 0.0, 0, 0};
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
	tok_counts c[4] = {{9, 0, 0}, {0, 5, 0}, {4, 1, 0}, {1, 1, 0}};
	bayes_totals t = {10, 10};
	bayes_params p = {BAYES_FISHER, 1.0, 0.5, 0.1, 0, 0};
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
	bayes_totals t = {10, 10};
	bayes_params p = {BAYES_FISHER, 1.0, 0.5, 0.1, 0, 0};
	cr_expect(NEAR(bayes_fisher(NULL, 0, &t, &p, NULL), 0.5));
}

Test(bayes, extreme_counts_stay_finite)
{
	tok_counts c[2] = {{UINT32_MAX, 0, 0}, {UINT32_MAX, 0, 0}};
	bayes_totals t = {UINT32_MAX, 1};
	bayes_params p = {BAYES_FISHER, 1e-6, 0.5, 0.0, 0, 0};
	double s = bayes_fisher(c, 2, &t, &p, NULL);
	cr_expect(isfinite(s) && s >= 0 && s <= 1 && s > 0.99);
}

Test(bayes, naive_bayes_combination)
{
	/* totals 8 spam / 18 ham. Token A 3/0: llr = ln(4/10) - ln(1/20) = ln 8;
	 * token B 0/4: llr = ln(1/10) - ln(5/20) = ln 0.4; C unseen: skipped.
	 * B is an n-gram with weight .5: z = ln 8 + .5 ln .4, k = 2,
	 * score = 1/(1+exp(-z/2^.8)). */
	tok_counts c[3] = {{3, 0, 0}, {0, 4, 0}, {0, 0, 0}};
	unsigned char gram[3] = {0, 1, 0};
	bayes_totals t = {8, 18};
	bayes_params p = {BAYES_NB, 0, 0, 0, 0.8, 0.5};
	double probs[3];
	double z = log(8.0) + 0.5 * log(0.4);
	double expect = 1 / (1 + exp(-z / pow(2, 0.8)));
	double s = bayes_nb(c, 3, gram, &t, &p, probs);
	cr_expect(NEAR(s, expect), "score %.17g want %.17g", s, expect);
	cr_expect(NEAR(probs[0], 8.0 / 9.0));
	cr_expect(NEAR(probs[2], 0.5));
	cr_expect(NEAR(bayes_score(c, 3, gram, &t, &p, NULL), expect), "kind selects NB");
	cr_expect(NEAR(bayes_nb(c + 2, 1, NULL, &t, &p, NULL), 0.5), "nothing seen: 0.5");
}
