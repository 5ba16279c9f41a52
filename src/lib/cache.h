/* cache.h - an in-memory copy of the token ratios of one snapshot.
 *
 * With a large model the read path decides the speed: a comment has a
 * hundred or more tokens, and one LMDB lookup costs about 0.3 us with 100k
 * tokens and up to 1 us with 1M, against about 0.1 us in an open-addressing
 * table. The cache is such a table, filled from one read transaction and
 * labelled with that transaction's id; a check uses it only when its own
 * read transaction sees the same id, so it never serves a value older than
 * the transaction it reads in. LMDB stays the store of record.
 *
 * For each token the cache keeps its naive-Bayes ratio (bayes_token_llr)
 * under the totals and the prior's weight of that snapshot, made when the
 * cache is filled: a check adds ratios up instead of taking two logarithms
 * a token, and touches 16 bytes a token. The counts themselves are kept
 * only when asked (the Fisher classifier scores from them); otherwise the
 * rare reader of counts (an explanation) reads LMDB. A check whose totals
 * differ (a configuration that sets another prior weight) does not use the
 * cache.
 *
 * A process that serves many sites made from one default model holds the
 * same prior layer once per site: ~124,000 tokens, 4 MiB of slots each.
 * cache_build_share keeps, per cache, the ratios of the tokens the site
 * itself has (site counts or flags) only, and reads the rest from a table
 * of prior counts that every cache whose prior layer is the same shares:
 * immutable, reference counted, in a small registry of the process (the
 * one piece of the library's state that is not a handle's). A token found
 * there alone has its ratio made when it is read, as the full table would
 * have made it: bit for bit the same scores, a logarithm a token dearer. */

#ifndef THRESH_CACHE_H
#define THRESH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "bayes.h"
#include "counts.h"

struct store_txn;

typedef struct tok_cache tok_cache;

/* cache_build - every token of t's snapshot into a new cache: its ratio
 * under tot (the snapshot's totals as a check reads them) and, with
 * with_counts, its counts. Returns 0, THRESH_ENOMEM or a store error. */
int cache_build(struct store_txn *t, const bayes_totals *tot, int with_counts, tok_cache **out);

/* What a prior layer is known by before its tokens are read: the totals
 * of that layer which the model's meta keeps (model.h, layer_totals). Two
 * snapshots whose prior layers are the same have the same; the converse is
 * checked token by token. */
typedef struct cache_prior_sig {
	uint64_t spam, ham, spam_tok, ham_tok;
} cache_prior_sig;

/* cache_build_share - like cache_build without the counts, the prior layer
 * shared: the cache's own table holds the ratios of the tokens with site
 * counts or flags, and a token of the prior alone is read from the shared
 * table of prior counts registered under sig, which this snapshot's prior
 * layer must equal exactly (the same ids, the same pspam and pham each, as
 * they are read). With no table registered under sig, one is made of this
 * snapshot's prior layer and registered. When the table registered under
 * sig turns out to differ (a prior changed by an import or by hand), or sig
 * is all zeros (no prior), the cache is filled as cache_build fills it.
 * Either way its ratios are cache_build's, bit for bit. Returns 0,
 * THRESH_ENOMEM or a store error. */
int cache_build_share(struct store_txn *t, const bayes_totals *tot, const cache_prior_sig *sig,
                      tok_cache **out);

/* cache_shares - 1 when c reads a shared table of prior counts (made or
 * found by cache_build_share), 0 when it holds every ratio itself. */
int cache_shares(const tok_cache *c);

/* cache_shared_count - how many tables of prior counts are alive in the
 * process, and into *users (optional) how many caches hold them, for tests
 * and statistics. Cannot fail. */
size_t cache_shared_count(size_t *users);

/* cache_ref / cache_unref - share a cache between checks; the last unref
 * frees it. Both accept NULL. */
tok_cache *cache_ref(tok_cache *c);
void cache_unref(tok_cache *c);

/* cache_txn - the transaction id the cache was filled from. */
uint64_t cache_txn(const tok_cache *c);

/* cache_fits - 1 when the cache was filled from transaction txn with the
 * totals tot, so its counts and ratios are those a check of txn reads. */
int cache_fits(const tok_cache *c, uint64_t txn, const bayes_totals *tot);

/* cache_tokens - how many tokens the cache holds (its snapshot's distinct
 * tokens, those of a shared prior table included). */
size_t cache_tokens(const tok_cache *c);

/* cache_has_counts - 1 when the cache was built with the counts. */
int cache_has_counts(const tok_cache *c);

/* cache_get - like store_tokens_get: out[i] for ids[i], zeros when
 * unknown. Returns 0, or THRESH_ENOTSUP (nothing written) when the cache
 * was built without the counts. */
int cache_get(const tok_cache *c, const uint64_t *ids, size_t n, tok_counts *out);

/* cache_maybe_learned - 0 when no comment of the cache's snapshot was
 * learned with this digest (of the site's keys), 1 when one may have been
 * (its first 8 bytes match one's: LMDB says which). Cannot fail. */
int cache_maybe_learned(const tok_cache *c, const unsigned char digest[16]);

/* cache_learned_prefetch - ask the memory system for the slot
 * cache_maybe_learned will read for this digest. Cannot fail. */
void cache_learned_prefetch(const tok_cache *c, const unsigned char digest[16]);

/* cache_get_llr - each token's ratio, NaN for an unknown one: what a
 * naive-Bayes check reads. Cannot fail. */
void cache_get_llr(const tok_cache *c, const uint64_t *ids, size_t n, double *llr);

#endif
