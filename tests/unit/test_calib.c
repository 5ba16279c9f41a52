/* src/lib/calib.c: the site's calibration and cutoffs from its decisions.
 * The fit is the default with no decision, stays near it with few, follows
 * decisions the default calibration is overconfident on, and stays bounded
 * on decisions a candidate separates perfectly; the cutoffs keep the ring's
 * ham rejected <= 0.5% and spam accepted <= 2%, and hold <= reject. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "calib.h"

#define A0 17.354
#define B0 1.4038

/* A deterministic uniform number in [0, 1). */
static double uni(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(*s >> 11) / 9007199254740992.0;
}

/* draw - n decisions whose x is spread over [-1, 1] and whose label is
 * spam with probability sigmoid(a x + b). */
static void draw(float *x, unsigned char *label, size_t n, double a, double b, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		x[i] = (float)(2 * uni(&seed) - 1);
		label[i] = uni(&seed) < calib_sigmoid(a * x[i] + b);
	}
}

Test(calib, no_decision_is_exactly_the_default)
{
	double a, b;
	calib_fit_ab(NULL, 1, NULL, NULL, 0, A0, B0, 10, &a, &b);
	cr_expect(a == A0 && b == B0, "%.17g %.17g", a, b);
}

Test(calib, few_decisions_stay_near_the_default)
{
	float x[2] = {0.3f, -0.2f};
	unsigned char label[2] = {0, 1}; /* both against the default */
	double a, b;
	calib_fit_ab(x, 1, label, NULL, 2, A0, B0, 10, &a, &b);
	cr_expect(a >= A0 / 8 && a <= A0 * 8);
	cr_expect(fabs(b - B0) < 2, "b %g stays near %g", b, B0);
}

/* The default calibration overconfident: decisions made by a slope of a
 * quarter of it, many of them, and a light ridge: the fit comes down to it. */
Test(calib, an_overconfident_default_comes_down)
{
	static float x[256];
	static unsigned char label[256];
	draw(x, label, 256, A0 / 4, -0.5, 7);
	double a, b;
	calib_fit_ab(x, 1, label, NULL, 256, A0, B0, 1, &a, &b);
	cr_expect(a < A0 / 2 && a > A0 / 8, "a %g, the truth %g", a, A0 / 4);
	cr_expect(fabs(b + 0.5) < 1, "b %g, the truth -0.5", b);
	/* a column inside a wider ring (stride) fits the same */
	static float wide[256][3];
	for (int i = 0; i < 256; i++)
		wide[i][1] = x[i];
	double a2, b2;
	calib_fit_ab(&wide[0][1], 3, label, NULL, 256, A0, B0, 1, &a2, &b2);
	/* a heavier ridge holds it nearer the default */
	double a3, b3;
	calib_fit_ab(x, 1, label, NULL, 256, A0, B0, 10, &a3, &b3);
	cr_expect(a3 > a && a3 < A0, "%g", a3);
	cr_expect(a2 == a && b2 == b, "the same bits");
}

/* Perfectly separated decisions would send an unregularized slope to
 * infinity: the fit stays finite, within its bounds, and its log loss is no
 * worse than the default's. */
Test(calib, separable_decisions_do_not_diverge)
{
	float x[200];
	unsigned char label[200];
	for (int i = 0; i < 200; i++) {
		label[i] = i % 2;
		x[i] = label[i] ? 0.05f + 0.001f * (float)i : -0.05f - 0.001f * (float)i;
	}
	double a, b;
	calib_fit_ab(x, 1, label, NULL, 200, A0, B0, 10, &a, &b);
	cr_expect(isfinite(a) && isfinite(b));
	cr_expect(a <= A0 * 8 && a >= A0 / 8, "a %g within its bounds", a);
	cr_expect(b >= -20 && b <= 20);
	cr_expect(a > A0, "separable: steeper than the default (%g)", a);
	/* even with almost no ridge */
	calib_fit_ab(x, 1, label, NULL, 200, A0, B0, 1e-9, &a, &b);
	cr_expect(isfinite(a) && a <= A0 * 8 + 1e-9, "a %g", a);
}

static size_t count(const float *x, const unsigned char *label, size_t n, int lab, double lo,
                    double hi)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += label[i] == lab && x[i] >= lo && x[i] < hi;
	return k;
}

/* The cutoffs on a synthetic ring: 800 ham and 150 spam overlapping. */
Test(calib, cutoffs_keep_the_rules)
{
	static float x[950];
	static calib_pair scratch[950];
	static unsigned char label[950];
	for (int i = 0; i < 800; i++) {
		x[i] = -1 + 0.002f * (float)i; /* ham: -1 .. 0.6 */
		label[i] = 0;
	}
	for (int i = 0; i < 150; i++) {
		x[800 + i] = -0.2f + 0.01f * (float)i; /* spam: -0.2 .. 1.3 */
		label[800 + i] = 1;
	}
	double h, r;
	calib_cutoffs(x, 1, label, NULL, 950, scratch, &h, &r);
	/* 800 ham: a new one lies above the second highest with probability
	 * 2/801 <= 0.25%, above the third 3/801 > 0.25%: one may be above */
	cr_expect_eq(count(x, label, 950, 0, r, INFINITY), 1, "ham at or above %g", r);
	cr_expect(r > x[798] && r <= nextafterf(x[798], INFINITY), "just above the second");
	/* 2% of 150 spam: 3 may be below hold, and hold is the greatest such
	 * (far below the 40 highest hams: the floor does not move it) */
	cr_expect_eq(count(x, label, 950, 1, -INFINITY, h), 3, "spam below %g", h);
	cr_expect_eq(h, x[803]);
	cr_expect(h <= r);
	/* a column inside a wider ring gives the same */
	static float wide[950][2];
	for (int i = 0; i < 950; i++)
		wide[i][1] = x[i];
	double h2, r2;
	calib_cutoffs(&wide[0][1], 2, label, NULL, 950, scratch, &h2, &r2);
	cr_expect(h2 == h && r2 == r);
	/* 398 ham or fewer: none may be above */
	calib_cutoffs(x + 402, 1, label + 402, NULL, 548, scratch, &h2, &r2);
	cr_expect(r2 > x[799] && r2 <= nextafterf(x[799], INFINITY), "above the highest");
	/* weighted spam: the older ones (the lower here) weigh a tenth; 2% of
	 * the weight lies below the new hold */
	static double w[950];
	for (int i = 0; i < 950; i++)
		w[i] = i < 875 ? 0.1 : 1;
	calib_cutoffs(x, 1, label, w, 950, scratch, &h2, &r2);
	double below = 0, total = 0;
	for (int i = 800; i < 950; i++) {
		total += w[i];
		below += x[i] < h2 ? w[i] : 0;
	}
	cr_expect(below <= 0.02 * total && h2 == x[800 + 16], "hold %g: %g of %g below", h2, below,
	          total);
	cr_expect_eq(r2, r, "reject counts the ham alike");
}

/* A ring whose spam all lie above its ham: the spam's lowest 2% are not in
 * it, so the hold cutoff stays where 5% of the ham lie above it, not at
 * the lowest spam (nor at the reject cutoff, where nothing would be held). */
Test(calib, hold_keeps_room_below_the_spam_it_saw)
{
	static float x[260];
	static calib_pair scratch[260];
	static unsigned char label[260];
	for (int i = 0; i < 200; i++) {
		x[i] = -1 + 0.005f * (float)i; /* ham: -1 .. -0.005 */
		label[i] = 0;
	}
	for (int i = 0; i < 60; i++) {
		x[200 + i] = 0.5f + 0.01f * (float)i; /* spam: 0.5 .. 1.09 */
		label[200 + i] = 1;
	}
	double h, r;
	calib_cutoffs(x, 1, label, NULL, 260, scratch, &h, &r);
	cr_expect(r > x[199] && r <= nextafterf(x[199], INFINITY), "reject above the highest ham");
	cr_expect_eq(count(x, label, 260, 0, h, INFINITY), 10, "5%% of 200 ham held: hold %g", h);
	cr_expect_eq(h, x[190]);
	/* fewer than 20 ham: no ham need be held, and the spam set it (here
	 * at the reject cutoff, which is lower) */
	calib_cutoffs(x + 181, 1, label + 181, NULL, 79, scratch, &h, &r);
	cr_expect(h == r, "hold %g reject %g", h, r);
}

Test(calib, hold_never_above_reject_and_a_missing_class_is_nan)
{
	float x[4] = {0.9f, 0.8f, 0.1f, 0.2f};
	calib_pair scratch[4];
	unsigned char label[4] = {1, 1, 0, 0};
	double h, r;
	/* spam above the ham: the hold the spam give (0.8, their lowest) is above
	 * the reject the ham give (just above 0.2): hold gives way */
	calib_cutoffs(x, 1, label, NULL, 4, scratch, &h, &r);
	cr_expect(r > x[3] && r < x[1] && h == r, "hold %g reject %g", h, r);
	/* spam below the ham: both stand */
	unsigned char swapped[4] = {0, 0, 1, 1};
	calib_cutoffs(x, 1, swapped, NULL, 4, scratch, &h, &r);
	cr_expect(r > x[0] && h == x[2], "hold %g reject %g", h, r);
	/* only ham: no hold of the site's own */
	unsigned char ham[4] = {0, 0, 0, 0};
	calib_cutoffs(x, 1, ham, NULL, 4, scratch, &h, &r);
	cr_expect(isnan(h) && !isnan(r));
	calib_cutoffs(x, 1, label, NULL, 0, scratch, &h, &r);
	cr_expect(isnan(h) && isnan(r));
}

Test(calib, sigmoid_and_logit)
{
	cr_expect_eq(calib_sigmoid(0), 0.5);
	cr_expect(fabs(calib_logit(calib_sigmoid(3)) - 3) < 1e-12);
	cr_expect(isfinite(calib_logit(0)) && isfinite(calib_logit(1)));
}
