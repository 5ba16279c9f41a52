/* bayes.c - Robinson/Fisher and naive-Bayes combinations of token counts. */
#include <math.h>
#include <pthread.h>

#include "bayes.h"

/* Estimates are kept away from 0 and 1 so ln() stays finite. */
#define PROB_FLOOR 1e-6

double bayes_token_prob(const tok_counts *c, const bayes_totals *tot, const bayes_params *p)
{
	double b = c->spam, g = c->ham, n = b + g;
	double f;
	if (n == 0)
		return p->robx;
	/* A class with no comments yet counts as one, so p(w) stays defined. */
	double bs = b / (double)(tot->spam ? tot->spam : 1);
	double gs = g / (double)(tot->ham ? tot->ham : 1);
	double pw = bs + gs > 0 ? bs / (bs + gs) : 0.5;
	f = (p->robs * p->robx + n * pw) / (p->robs + n);
	if (f < PROB_FLOOR)
		f = PROB_FLOOR;
	if (f > 1 - PROB_FLOOR)
		f = 1 - PROB_FLOOR;
	return f;
}

double bayes_chi2q(double x2, unsigned v)
{
	double m = x2 / 2.0, sum, term;
	if (x2 <= 0 || v < 2)
		return 1.0;
	sum = term = exp(-m);
	for (unsigned i = 1; i < v / 2; i++) {
		term *= m / i;
		sum += term;
	}
	return sum < 1.0 ? sum : 1.0;
}

double bayes_fisher(const tok_counts *counts, size_t n, const bayes_totals *tot,
                    const bayes_params *p, double *probs)
{
	double ln_f = 0, ln_1f = 0;
	unsigned k = 0;
	for (size_t i = 0; i < n; i++) {
		double f = bayes_token_prob(&counts[i], tot, p);
		if (probs)
			probs[i] = f;
		if (fabs(f - 0.5) < p->min_dev)
			continue;
		ln_f += log(f);
		ln_1f += log(1 - f);
		k++;
	}
	if (k == 0)
		return 0.5;
	/* Spam evidence S grows as the f(w) approach 1 (so the 1 - f(w) approach
	 * 0); ham evidence H as they approach 0. */
	double s = 1 - bayes_chi2q(-2 * ln_1f, 2 * k);
	double h = 1 - bayes_chi2q(-2 * ln_f, 2 * k);
	return (1 + s - h) / 2;
}

/* ln(k) for small k, so the common token costs two loads, not two log()s.
 * Filled once, before any thread reads it (pthread_once). */
#define LN_TABLE 4096
static double ln_table[LN_TABLE];
static pthread_once_t ln_once = PTHREAD_ONCE_INIT;

static void ln_fill(void)
{
	ln_table[0] = -INFINITY;
	for (int k = 1; k < LN_TABLE; k++)
		ln_table[k] = log((double)k);
}

static inline double ln_u64(uint64_t k)
{
	return k < LN_TABLE ? ln_table[k] : log((double)k);
}

double bayes_token_llr(const tok_counts *c, const bayes_totals *tot)
{
	pthread_once(&ln_once, ln_fill);
	return ln_u64((uint64_t)c->spam + 1) - ln_u64(tot->spam + 2) - ln_u64((uint64_t)c->ham + 1) +
	       ln_u64(tot->ham + 2);
}

double bayes_nb(const tok_counts *counts, size_t n, const unsigned char *gram,
                const bayes_totals *tot, const bayes_params *p, double *probs)
{
	double z = 0;
	size_t k = 0;
	pthread_once(&ln_once, ln_fill);
	/* bayes_token_llr with the totals' logs taken once */
	double base = ln_u64(tot->ham + 2) - ln_u64(tot->spam + 2);
	for (size_t i = 0; i < n; i++) {
		if (counts[i].spam == 0 && counts[i].ham == 0) {
			if (probs)
				probs[i] = 0.5;
			continue;
		}
		double llr = ln_u64((uint64_t)counts[i].spam + 1) - ln_u64((uint64_t)counts[i].ham + 1) + base;
		if (probs)
			probs[i] = 1 / (1 + exp(-llr));
		z += (gram && gram[i]) ? p->gram_weight * llr : llr;
		k++;
	}
	if (k == 0)
		return 0.5;
	return 1 / (1 + exp(-z / pow((double)k, p->nb_power)));
}

double bayes_score(const tok_counts *counts, size_t n, const unsigned char *gram,
                   const bayes_totals *tot, const bayes_params *p, double *probs)
{
	if (p->kind == BAYES_FISHER)
		return bayes_fisher(counts, n, tot, p, probs);
	return bayes_nb(counts, n, gram, tot, p, probs);
}
