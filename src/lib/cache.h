/* cache.h - an in-memory copy of the token counts of one snapshot.
 *
 * With a large model the read path decides the speed: a comment has a
 * hundred or more tokens, and one LMDB lookup costs about 0.3 us with 100k
 * tokens and up to 1 us with 1M, against about 0.1 us in an open-addressing
 * table. The cache is such a table, filled from one read transaction and
 * labelled with that transaction's id; a check uses it only when its own
 * read transaction sees the same id, so it never serves a count older than
 * the transaction it reads in. LMDB stays the store of record.
 *
 * Beside each token's counts the cache keeps its naive-Bayes ratio
 * (bayes_token_llr) under the totals and the prior's weight of that
 * snapshot, made the first time a check reads the token: from then on a
 * check adds ratios up instead of taking two logarithms a token. A check
 * whose totals differ (a configuration that sets another prior weight) does
 * not use it. */
#ifndef THRESH_CACHE_H
#define THRESH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "bayes.h"
#include "counts.h"

struct store_txn;

typedef struct tok_cache tok_cache;

/* cache_build - copy every token of t's snapshot into a new cache, with
 * its ratio under tot (the snapshot's totals as a check reads them).
 * Returns 0, THRESH_ENOMEM or a store error. */
int cache_build(struct store_txn *t, const bayes_totals *tot, tok_cache **out);

/* cache_ref / cache_unref - share a cache between checks; the last unref
 * frees it. Both accept NULL. */
tok_cache *cache_ref(tok_cache *c);
void cache_unref(tok_cache *c);

/* cache_txn - the transaction id the cache was filled from. */
uint64_t cache_txn(const tok_cache *c);

/* cache_fits - 1 when the cache was filled from transaction txn with the
 * totals tot, so its counts and ratios are those a check of txn reads. */
int cache_fits(const tok_cache *c, uint64_t txn, const bayes_totals *tot);

/* cache_tokens - how many tokens the cache holds. */
size_t cache_tokens(const tok_cache *c);

/* cache_get - like store_tokens_get: out[i] for ids[i], zeros when
 * unknown; llr (optional) gets each token's ratio, NaN when unknown.
 * Cannot fail. */
void cache_get(tok_cache *c, const uint64_t *ids, size_t n, tok_counts *out, double *llr);

/* cache_get_llr - the ratios alone, NaN for an unknown token: what a
 * naive-Bayes check reads, touching the ids and the ratios only (the counts
 * lie apart, so a large model's check takes one memory miss less a token).
 * Cannot fail. */
void cache_get_llr(tok_cache *c, const uint64_t *ids, size_t n, double *llr);

#endif
