/* counts.h - the counts of one token: what the store keeps per token id and
 * what the scoring math reads. A header of its own, so that the classifier
 * (bayes), the memory cache and the id map depend on the counts, never on
 * the storage behind them.
 *
 * A token is counted in two layers. The site's own layer counts the
 * comments the site learned (whole comments, one each). The prior layer is
 * the default model a database started from, counted in thousandths of a
 * comment, because its corpora are weighted (SMS at 0.1 of a comment): a
 * check reads site + w * prior, with the prior's weight w chosen by how well
 * the prior has predicted the site's own decisions (see model.h). */
#ifndef THRESH_COUNTS_H
#define THRESH_COUNTS_H

#include <stdint.h>

/* Prior counts are in units of 1/PRIOR_UNIT of a comment. */
#define PRIOR_UNIT 1000

/* Counts of one token. */
typedef struct tok_counts {
	uint32_t spam;  /* the site's spam comments that had the token */
	uint32_t ham;   /* the site's ham comments that had the token */
	uint32_t day;   /* the day (since the epoch) the site last learned it; 0: never */
	uint32_t pspam; /* the prior's spam comments that had it, in 1/PRIOR_UNIT */
	uint32_t pham;  /* the prior's ham comments that had it, in 1/PRIOR_UNIT */
	uint32_t flags; /* COUNTS_* */
} tok_counts;

/* An identity token (tokenize.h): hashed under the site's identity key, so
 * a new secret makes it unfindable; thresh_db_rotate_keys drops it. Set
 * when the site learns the token, kept while it has counts; the prior never
 * holds one. */
#define COUNTS_IDENTITY 0x1u

/* counts_empty - 1 when the token is in neither layer (it is then deleted,
 * flags and all). */
static inline int counts_empty(const tok_counts *c)
{
	return c->spam == 0 && c->ham == 0 && c->pspam == 0 && c->pham == 0;
}

#endif
