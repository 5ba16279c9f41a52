/* calib.c - the site's calibration and cutoffs from its decisions (calib.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"

/* The bounds of a fit: a within [a0 / A_SPAN, a0 * A_SPAN], |b| <= B_MAX. */
#define A_SPAN 8.0
#define B_MAX 20.0
/* The ridge's weight on a against b's: the square of a typical x. */
#define VX 0.01

double calib_sigmoid(double z)
{
	return 1 / (1 + exp(-z));
}

double calib_logit(double p)
{
	if (!(p > 1e-300))
		p = 1e-300;
	if (p > 1 - 1e-16)
		p = 1 - 1e-16;
	return log(p / (1 - p));
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct fit_data {
	const float *x;
	size_t stride;
	const unsigned char *label;
	const double *w;
	size_t n;
	double a0, b0;
	double ra, rb; /* the ridge's curvature on a and on b */
};

#define W(d, i) ((d)->w ? (d)->w[i] : 1.0)

/* The gradient and Hessian of the penalized, weighted log loss at (a, b). */
struct eval {
	double ga, gb, haa, hab, hbb;
};

/* evaluate - the gradient and Hessian at (a, b) in one pass over the
 * entries (one exp an entry). */
static void evaluate(const struct fit_data *d, double a, double b, struct eval *e)
{
	double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
	for (size_t i = 0; i < d->n; i++) {
		double xi = (double)d->x[i * d->stride], wi = W(d, i), z = a * xi + b;
		double t = exp(-fabs(z)); /* in (0, 1] */
		double p = z >= 0 ? 1 / (1 + t) : t / (1 + t);
		double r = wi * (p - (d->label[i] ? 1 : 0)), v = wi * p * (1 - p);
		ga += r * xi;
		gb += r;
		haa += v * xi * xi;
		hab += v * xi;
		hbb += v;
	}
	e->ga = ga + d->ra * (a - d->a0);
	e->gb = gb + d->rb * (b - d->b0);
	e->haa = haa + d->ra;
	e->hab = hab;
	e->hbb = hbb + d->rb;
}

/* start - where Newton's method starts: a linear discriminant's slope and
 * intercept from the classes' weighted means and pooled variance (a
 * function of the entries alone), within the bounds; (a0, b0) when the
 * entries hold one class only or do not spread. */
static void start(const struct fit_data *d, double alo, double ahi, double *a, double *b)
{
	double w[2] = {0, 0}, m[2] = {0, 0}, v = 0;
	for (size_t i = 0; i < d->n; i++) {
		int y = d->label[i] != 0;
		w[y] += W(d, i);
		m[y] += W(d, i) * (double)d->x[i * d->stride];
	}
	*a = d->a0;
	*b = d->b0;
	if (!(w[0] > 0 && w[1] > 0))
		return;
	m[0] /= w[0];
	m[1] /= w[1];
	for (size_t i = 0; i < d->n; i++) {
		double dx = (double)d->x[i * d->stride] - m[d->label[i] != 0];
		v += W(d, i) * dx * dx;
	}
	v /= w[0] + w[1];
	if (!(v > 0) || !(m[1] > m[0]))
		return;
	*a = clamp((m[1] - m[0]) / v, alo, ahi);
	*b = clamp(-*a * (m[0] + m[1]) / 2 + log(w[1] / w[0]), -B_MAX, B_MAX);
}

void calib_fit_ab(const float *x, size_t stride, const unsigned char *label, const double *w,
                  size_t n, double a0, double b0, double ridge, double *a_out, double *b_out)
{
	double a, b;
	if (n == 0) {
		*a_out = a0;
		*b_out = b0;
		return;
	}
	struct fit_data d = {x, stride, label, w, n, a0, b0, ridge * VX, ridge};
	double alo = a0 / A_SPAN, ahi = a0 * A_SPAN;
	struct eval cur, nxt;
	start(&d, alo, ahi, &a, &b);
	evaluate(&d, a, b, &cur);
	for (int it = 0; it < CALIB_ITER; it++) {
		double det = cur.haa * cur.hbb - cur.hab * cur.hab;
		if (!(det > 0))
			break;
		/* Newton's step; along it the loss is convex, so a step is taken
		 * when the loss still falls at its end, or falls less steeply
		 * than at its start (the least lies within it); else halved */
		double da = -(cur.hbb * cur.ga - cur.hab * cur.gb) / det;
		double db = -(cur.haa * cur.gb - cur.hab * cur.ga) / det;
		double slope0 = cur.ga * da + cur.gb * db, step = 1, na = a, nb = b;
		int taken = 0;
		if (!(slope0 < -1e-12))
			break; /* converged: Newton's decrement is nothing */
		for (int h = 0; h < CALIB_HALVINGS; h++, step /= 2) {
			na = clamp(a + step * da, alo, ahi);
			nb = clamp(b + step * db, -B_MAX, B_MAX);
			evaluate(&d, na, nb, &nxt);
			double slope = nxt.ga * (na - a) + nxt.gb * (nb - b);
			double was = cur.ga * (na - a) + cur.gb * (nb - b);
			if (slope <= -was) {
				taken = 1;
				break;
			}
		}
		if (!taken)
			break;
		double moved = fabs(na - a) + fabs(nb - b);
		a = na;
		b = nb;
		cur = nxt;
		if (moved <= 1e-9 * (1 + fabs(a) + fabs(b)))
			break;
	}
	*a_out = a;
	*b_out = b;
}

static int cmp_pair(const void *p, const void *q)
{
	const calib_pair *u = p, *v = q;
	return u->x < v->x ? -1 : u->x > v->x ? 1 : (u->i > v->i) - (u->i < v->i);
}

/* gather - the entries labelled lab into out, sorted by x ascending (ties
 * by position: the order is total, so every machine sorts alike); returns
 * how many, their weights' sum into *total. */
static size_t gather(const float *x, size_t stride, const unsigned char *label, const double *w,
                     size_t n, int lab, calib_pair *out, double *total)
{
	size_t m = 0;
	*total = 0;
	for (size_t i = 0; i < n; i++)
		if (label[i] == lab && (!w || w[i] > 0)) { /* the weightless do not count */
			out[m].x = x[i * stride];
			out[m].w = w ? w[i] : 1.0;
			out[m].i = (uint32_t)i;
			*total += out[m].w;
			m++;
		}
	qsort(out, m, sizeof *out, cmp_pair);
	return m;
}

void calib_cutoffs(const float *x, size_t stride, const unsigned char *label, const double *w,
                   size_t n, calib_pair *scratch, double *x_hold, double *x_reject)
{
	double total, acc;
	*x_hold = *x_reject = NAN;
	/* j hams allowed above: a new ham lies above the j+1 highest of m with
	 * probability (j+1)/(m+1) at most; just above the next. The j+1
	 * highest by selection: j is 0 below 399 hams. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += label[i] == 0 && (!w || w[i] > 0);
	if (m) {
		double jf = floor(CALIB_HAM_REJECTED * (double)(m + 1) - 1 + 1e-9);
		size_t j = jf > 0 ? (size_t)jf : 0;
		float top, prev = INFINITY;
		size_t above = 0;
		for (;;) {
			/* the next value down and how many hams have it */
			size_t cnt = 0;
			top = -INFINITY;
			for (size_t i = 0; i < n; i++) {
				float v = x[i * stride];
				if (label[i] != 0 || !(v < prev) || (w && !(w[i] > 0)))
					continue;
				if (v > top) {
					top = v;
					cnt = 1;
				} else if (v == top) {
					cnt++;
				}
			}
			if (above + cnt > j) /* not all of them may be above */
				break;
			above += cnt;
			prev = top;
		}
		*x_reject = (double)nextafterf(top, INFINITY);
	}
	m = gather(x, stride, label, w, n, 1, scratch, &total);
	if (m) {
		/* the spam allowed below, from the lowest; hold at the next */
		size_t i = 0;
		for (acc = 0; i + 1 < m && acc + scratch[i].w <= CALIB_SPAM_ACCEPTED * total; i++)
			acc += scratch[i].w;
		*x_hold = (double)scratch[i].x;
	}
	if (!isnan(*x_hold)) {
		/* no higher than the r-th highest ham, r the most that are at most
		 * CALIB_HAM_HELD of them (none below 1 / CALIB_HAM_HELD hams) */
		double t;
		size_t mh = gather(x, stride, label, w, n, 0, scratch, &t);
		double rf = floor(CALIB_HAM_HELD * (double)mh + 1e-9);
		size_t r = rf > 0 ? (size_t)rf : 0;
		if (r && r <= mh && (double)scratch[mh - r].x < *x_hold)
			*x_hold = (double)scratch[mh - r].x;
	}
	if (*x_hold > *x_reject) /* false when either is NaN */
		*x_hold = *x_reject;
}
