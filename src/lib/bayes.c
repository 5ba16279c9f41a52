/* bayes.c - naive-Bayes and Robinson/Fisher combinations of token counts
 * (see bayes.h). */
#include <math.h>

#include "bayes.h"

/* Estimates are kept away from 0 and 1 so ln() stays finite. */
#define PROB_FLOOR 1e-6
/* A class with no tokens yet counts as this many, so the ratio stays defined. */
#define TOK_FLOOR 1.0

double bayes_llr_base(const bayes_totals *tot)
{
	double st = tot->spam_tok > TOK_FLOOR ? tot->spam_tok : TOK_FLOOR;
	double ht = tot->ham_tok > TOK_FLOOR ? tot->ham_tok : TOK_FLOOR;
	return log(ht / st);
}

double bayes_token_llr(const tok_counts *c, const bayes_totals *tot)
{
	return bayes_token_llr_at(c, tot->w, bayes_llr_base(tot));
}

/* calibrate - the NB score of a weighted sum z over k seen tokens. */
static double calibrate(double z, size_t k, const bayes_params *p)
{
	double x = k ? z / pow((double)k, p->nb_power) : 0;
	return 1 / (1 + exp(-(p->nb_scale * x + p->nb_shift)));
}

/* nb_sum - the weighted sum of the ratios of the seen tokens among n (llr
 * NaN: unseen), their number added to *k, the estimates into probs. */
static double nb_sum(const double *llr, size_t n, const unsigned char *gram,
                     const bayes_params *p, double *probs, size_t *k)
{
	double z = 0;
	for (size_t i = 0; i < n; i++) {
		double l = llr[i];
		if (l != l) { /* unseen */
			if (probs)
				probs[i] = 0.5;
			continue;
		}
		if (probs)
			probs[i] = 1 / (1 + exp(-l));
		z += (gram && gram[i]) ? p->gram_weight * l : l;
		++*k;
	}
	return z;
}

double bayes_nb_combine(const double *llr, size_t n, const unsigned char *gram,
                        const bayes_params *p, double *probs, size_t *seen)
{
	size_t k = 0;
	double z = nb_sum(llr, n, gram, p, probs, &k);
	if (seen)
		*seen = k;
	return calibrate(z, k, p);
}

double bayes_token_prob(const tok_counts *c, const bayes_totals *tot, const bayes_params *p)
{
	double b, g;
	bayes_counts(c, tot->w, &b, &g);
	double n = b + g, f;
	if (n <= 0)
		return p->robx;
	/* A class with no comments yet counts as one, so p(w) stays defined. */
	double bs = b / (tot->spam >= 1 ? tot->spam : 1);
	double gs = g / (tot->ham >= 1 ? tot->ham : 1);
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

double bayes_score(const tok_counts *counts, size_t n, const unsigned char *gram,
                   const bayes_totals *tot, const bayes_params *p, double *probs, size_t *seen)
{
	size_t k = 0;
	if (p->kind == BAYES_FISHER) {
		for (size_t i = 0; i < n; i++)
			k += (size_t)bayes_seen(&counts[i]);
		if (seen)
			*seen = k;
		return bayes_fisher(counts, n, tot, p, probs);
	}
	/* the ratios on the stack, a chunk at a time */
	double llr[64], z = 0, base = bayes_llr_base(tot);
	for (size_t i0 = 0; i0 < n; i0 += 64) {
		size_t m = n - i0 < 64 ? n - i0 : 64;
		for (size_t i = 0; i < m; i++)
			llr[i] = bayes_seen(&counts[i0 + i]) ? bayes_token_llr_at(&counts[i0 + i], tot->w, base) : NAN;
		z += nb_sum(llr, m, gram ? gram + i0 : NULL, p, probs ? probs + i0 : NULL, &k);
	}
	if (seen)
		*seen = k;
	return calibrate(z, k, p);
}
