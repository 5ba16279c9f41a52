/* bayes.h - the classifiers: pure arithmetic over token counts, no I/O.
 *
 * Two combinations of the same counts, chosen by the "classifier" parameter:
 *  - BAYES_FISHER: Robinson's per-token estimate f(w) with Fisher's inverse
 *    chi-square combination, as bogofilter and SpamBayes use;
 *  - BAYES_NB: a naive-Bayes sum of per-token log-likelihood ratios of
 *    presence, normalised by the number of tokens to a power, through a
 *    sigmoid. Cross-validation on both corpora favours it (README). */
#ifndef THRESH_BAYES_H
#define THRESH_BAYES_H

#include <stddef.h>
#include <stdint.h>
#include "counts.h"

enum bayes_kind { BAYES_NB = 0, BAYES_FISHER = 1 };

typedef struct bayes_params {
	int kind;         /* enum bayes_kind */
	double robs;      /* Robinson's s: strength of the prior (Fisher) */
	double robx;      /* Robinson's x: the estimate of an unseen token (Fisher) */
	double min_dev;   /* ignore tokens with |f - 0.5| < min_dev (Fisher) */
	double nb_power;  /* NB: the sum is divided by n^nb_power */
	double gram_weight; /* NB: weight of character n-gram tokens */
} bayes_params;

typedef struct bayes_totals {
	uint64_t spam; /* comments learned as spam */
	uint64_t ham;  /* comments learned as ham */
} bayes_totals;

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

/* bayes_token_llr - the log-likelihood ratio of a token's presence, with
 * add-one smoothing: ln((b+1)/(nspam+2)) - ln((g+1)/(nham+2)). Cannot fail. */
double bayes_token_llr(const tok_counts *c, const bayes_totals *tot);

/* bayes_nb - the naive-Bayes combination over the k tokens the model has
 * seen (b + g > 0):
 *   z = sum w_i llr_i,  w_i = gram_weight for n-gram tokens else 1
 *   score = 1 / (1 + exp(-z / k^nb_power));  0.5 when k is 0.
 * [in]  gram   optional, n flags: token i is a character n-gram.
 * [out] probs  optional, n entries: each token's 1/(1+exp(-llr)), 0.5 unseen.
 * Cannot fail. */
double bayes_nb(const tok_counts *counts, size_t n, const unsigned char *gram,
                const bayes_totals *tot, const bayes_params *p, double *probs);

/* bayes_score - the combination p->kind selects. Cannot fail. */
double bayes_score(const tok_counts *counts, size_t n, const unsigned char *gram,
                   const bayes_totals *tot, const bayes_params *p, double *probs);

#endif
