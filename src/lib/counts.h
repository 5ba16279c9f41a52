/* counts.h - the counts of one token: what the store keeps per token id and
 * what the scoring math reads. A header of its own, so that the classifier
 * (bayes), the memory cache and the id map depend on the counts, never on
 * the storage behind them. */
#ifndef THRESH_COUNTS_H
#define THRESH_COUNTS_H

#include <stdint.h>

/* Counts of one token. */
typedef struct tok_counts {
	uint32_t spam; /* spam comments that had the token */
	uint32_t ham;  /* ham comments that had the token */
	uint32_t day;  /* the day (since the epoch) it was last learned */
} tok_counts;

#endif
