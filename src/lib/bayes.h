/* bayes.h - the classifier: pure arithmetic over token counts, no I/O.
 *
 * Robinson's per-token estimate f(w) with Fisher's inverse chi-square
 * combination (as bogofilter and SpamBayes use). */
#ifndef THRESH_BAYES_H
#define THRESH_BAYES_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

typedef struct bayes_params {
	double robs;    /* Robinson's s: strength of the prior */
	double robx;    /* Robinson's x: the estimate of an unseen token */
	double min_dev; /* ignore tokens with |f - 0.5| < min_dev */
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

/* bayes_score - Fisher's combination of the estimates of n tokens:
 *   S = 1 - chi2q(-2 sum ln(1-f), 2k),  H = 1 - chi2q(-2 sum ln f, 2k)
 *   score = (1 + S - H) / 2
 * over the k tokens with |f - 0.5| >= min_dev; 0.5 when k is 0.
 * [out] probs  optional, n entries: each token's f(w) (0.5 for skipped ones).
 * Cannot fail. */
double bayes_score(const tok_counts *counts, size_t n, const bayes_totals *tot,
                   const bayes_params *p, double *probs);

#endif
