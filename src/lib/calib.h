/* calib.h - the site's own calibration and cutoffs, fitted on its decisions:
 * pure arithmetic, no I/O.
 *
 * Before a comment is learned, its naive-Bayes value x (the weighted sum of
 * its tokens' log-likelihood ratios over k^nb_power, bayes.h) is taken under
 * every candidate weight of the prior (model.h) and kept with the label the
 * moderator gave: the prequential record of how the model, as it stood,
 * judged each decision. The newest MODEL_RING of them are kept (model.h's
 * ring). From one candidate's column of that ring:
 *
 *  - calib_fit_ab: its calibration, score = sigmoid(a x + b), by weighted
 *    logistic regression with a ridge pulling (a, b) towards the default
 *    calibration (a0, b0) with the weight of `ridge` comments, and hard
 *    bounds (a within [a0/8, 8 a0], b within [-20, 20]) so that a ring the
 *    candidate separates perfectly cannot send a to infinity. Newton's
 *    method from a linear discriminant's estimate, with step halving and a
 *    fixed cap on iterations: the result is a function of the entries
 *    alone, the same bits on every machine doing the same floating-point
 *    arithmetic;
 *  - calib_cutoffs: the site's cutoffs on x. Reject: just above the highest
 *    ham x once j of the ring's hams are allowed above it, j the most with
 *    (j + 1) / (hams + 1) <= CALIB_HAM_REJECTED: a ham to come, as likely to
 *    fall anywhere among the ring's, is then rejected with a probability of
 *    0.25% on average (with fewer than 799 hams none is allowed: just above
 *    the highest). Half the 0.5% a site may lose: that probability is itself
 *    a draw (Beta(j+1, hams-j)), and a site is judged by its own draw, not
 *    the mean. Hold: the greatest x with at most CALIB_SPAM_ACCEPTED (2%) of
 *    the ring's spam below it, the spam weighted (model.c weighs the newer
 *    decisions more: the model that judged the older ones knew less), and
 *    no higher than the x above which CALIB_HAM_HELD (5%) of the ring's hams
 *    lie: a ring holds a few tens of spam, too few to show their lowest 2%
 *    (the lowest of 60 is only their lowest 1.6% on average, and often far
 *    above it), so the hold cutoff keeps room below the spam it saw. Hold
 *    <= reject. NaN when the ring holds no comment of that class.
 *
 * model.c maps those cutoffs to scores with the calibration in force and
 * blends them with the new-site cutoffs as the site's decisions accrue. */
#ifndef THRESH_CALIB_H
#define THRESH_CALIB_H

#include <stddef.h>
#include <stdint.h>

/* The ham the site's reject cutoff may reject, the spam its hold cutoff
 * may accept, as shares of the ring's comments of that class (above; the
 * values compared by leave-one-set-out in README, "A new site"). */
#ifndef CALIB_HAM_REJECTED
#define CALIB_HAM_REJECTED 0.0025
#endif
#ifndef CALIB_SPAM_ACCEPTED
#define CALIB_SPAM_ACCEPTED 0.02
#endif
/* The ham the hold cutoff holds at least, when the ring's spam would put it
 * higher: the ring's few tens of spam cannot show the spam's lowest 2%. */
#ifndef CALIB_HAM_HELD
#define CALIB_HAM_HELD 0.05
#endif

/* Iterations of Newton's method at most, and halvings of one step. */
#define CALIB_ITER 40
#define CALIB_HALVINGS 30

/* One candidate's fit. */
typedef struct calib_fit {
	double a, b;             /* calibration: score = sigmoid(a x + b) */
	double x_hold, x_reject; /* the site's cutoffs on x; NaN: none */
} calib_fit;

/* An entry being sorted (calib_cutoffs' scratch). */
typedef struct calib_pair {
	float x;
	uint32_t i;
	double w;
} calib_pair;

/* calib_fit_ab - the calibration of n entries: x[i * stride], label[i] (1
 * spam, 0 ham) and weight w[i] (NULL: all 1), fitted as above from the
 * default (a0 > 0, b0) with the ridge's weight in comments (ridge > 0).
 * With n = 0: exactly (a0, b0). Cannot fail. */
void calib_fit_ab(const float *x, size_t stride, const unsigned char *label, const double *w,
                  size_t n, double a0, double b0, double ridge, double *a, double *b);

/* calib_cutoffs - the site's cutoffs on x of the same entries, into
 * *x_hold and *x_reject (NaN when no entry has that class); hold's share is
 * of the spam's weights w (NULL: all 1), reject's of the hams' count.
 * scratch: room for n pairs. Cannot fail. */
void calib_cutoffs(const float *x, size_t stride, const unsigned char *label, const double *w,
                   size_t n, calib_pair *scratch, double *x_hold, double *x_reject);

/* calib_sigmoid, calib_logit - the logistic function and its inverse (p
 * clamped into [1e-300, 1 - 1e-16]). Cannot fail. */
double calib_sigmoid(double z);
double calib_logit(double p);

#endif
