/* bayes.h - the classifiers: pure arithmetic over token counts, no I/O.
 *
 * A token's counts are read as site + w * prior (counts.h), with the
 * totals the same way (bayes_totals). Two combinations, chosen by the
 * "classifier" parameter:
 *  - BAYES_NB (the default): a naive-Bayes sum of each seen token's
 *    log-likelihood ratio, the rate of the token among the tokens of spam
 *    against its rate among the tokens of ham:
 *        llr = ln((s + 1) / S_tok) - ln((h + 1) / H_tok)
 *    character n-grams weighted gram_weight, divided by k^nb_power (k: the
 *    tokens seen), then calibrated: score = sigmoid(nb_scale * x + nb_shift).
 *    Rates per token, not per comment, so a long comment's common words do
 *    not lean towards the class whose comments are longer;
 *  - BAYES_FISHER: Robinson's per-token estimate f(w) with Fisher's inverse
 *    chi-square combination, as bogofilter and SpamBayes use. */
#ifndef THRESH_BAYES_H
#define THRESH_BAYES_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "counts.h"

enum bayes_kind { BAYES_NB = 0, BAYES_FISHER = 1 };

typedef struct bayes_params {
	int kind;           /* enum bayes_kind */
	double robs;        /* Robinson's s: strength of the prior (Fisher) */
	double robx;        /* Robinson's x: the estimate of an unseen token (Fisher) */
	double min_dev;     /* ignore tokens with |f - 0.5| < min_dev (Fisher) */
	double nb_power;    /* NB: the sum is divided by k^nb_power */
	double gram_weight; /* NB: weight of character n-gram tokens */
	double nb_scale;    /* NB: the calibration's slope */
	double nb_shift;    /* NB: the calibration's intercept */
} bayes_params;

/* The totals of a model as a check reads them: site + w * prior. */
typedef struct bayes_totals {
	double spam, ham;         /* comments learned per class */
	double spam_tok, ham_tok; /* the sums of every token's counts, per class */
	double w;                 /* the prior's weight */
} bayes_totals;

/* bayes_seen - 1 when the token is in either layer. Cannot fail. */
static inline int bayes_seen(const tok_counts *c)
{
	return !counts_empty(c);
}

/* bayes_counts - a token's spam and ham counts as a check reads them. */
static inline void bayes_counts(const tok_counts *c, double w, double *s, double *h)
{
	*s = c->spam + w * ((double)c->pspam / PRIOR_UNIT);
	*h = c->ham + w * ((double)c->pham / PRIOR_UNIT);
}

/* bayes_llr_base - the part of every token's ratio that depends on the
 * totals alone: ln(ham_tok / spam_tok), each sum at least 1. Cannot fail. */
double bayes_llr_base(const bayes_totals *tot);

/* bayes_token_llr_at - NB's log-likelihood ratio of a seen token (above)
 * under prior weight w and base = bayes_llr_base() of the totals:
 * ln((s+1)/(h+1)) + base, one logarithm a token. Cannot fail. */
static inline double bayes_token_llr_at(const tok_counts *c, double w, double base)
{
	double s, h;
	bayes_counts(c, w, &s, &h);
	return log((s + 1) / (h + 1)) + base;
}

/* bayes_token_llr - the same, the base taken from tot (two logarithms).
 * Cannot fail. */
double bayes_token_llr(const tok_counts *c, const bayes_totals *tot);

/* bayes_nb_combine - NB's score from the ratios of n tokens: llr[i] for a
 * seen token, NaN for an unseen one (they do not count).
 * [in]  gram   optional, n flags: token i is a character n-gram.
 * [out] probs  optional, n entries: each token's 1/(1+exp(-llr)), 0.5 unseen.
 * [out] seen   optional: k, the tokens seen.
 * Returns sigmoid(nb_scale * z / k^nb_power + nb_shift), z the weighted sum;
 * with no token seen, sigmoid(nb_shift). Cannot fail. */
double bayes_nb_combine(const double *llr, size_t n, const unsigned char *gram,
                        const bayes_params *p, double *probs, size_t *seen);

/* bayes_token_prob - Robinson's f(w) of a token: the spam probability
 * estimate from its counts, shrunk towards robx by robs.
 *   p(w) = (b/nspam) / (b/nspam + g/nham),  n = b + g
 *   f(w) = (s*x + n*p(w)) / (s + n)
 * A token never seen gives x. Cannot fail. */
double bayes_token_prob(const tok_counts *c, const bayes_totals *tot, const bayes_params *p);

/* bayes_chi2q - the probability that a chi-square variable with v degrees
 * of freedom (v even) exceeds x2. Cannot fail. */
double bayes_chi2q(double x2, unsigned v);

/* bayes_fisher - Fisher's combination of the estimates of n tokens:
 *   S = 1 - chi2q(-2 sum ln(1-f), 2k),  H = 1 - chi2q(-2 sum ln f, 2k)
 *   score = (1 + S - H) / 2
 * over the k tokens with |f - 0.5| >= min_dev; 0.5 when k is 0.
 * [out] probs  optional, n entries: each token's f(w).
 * Cannot fail. */
double bayes_fisher(const tok_counts *counts, size_t n, const bayes_totals *tot,
                    const bayes_params *p, double *probs);

/* bayes_score - the combination p->kind selects, from counts.
 * [out] seen  optional: the tokens seen (in either layer).
 * Cannot fail. */
double bayes_score(const tok_counts *counts, size_t n, const unsigned char *gram,
                   const bayes_totals *tot, const bayes_params *p, double *probs, size_t *seen);

/* bayes_score_llr - BAYES_NB from ratios already made (the memory cache
 * keeps them); the same as bayes_score on the counts they were made from. */
#define bayes_score_llr bayes_nb_combine

#endif
