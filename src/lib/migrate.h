/* migrate.h - bringing a database of an older format to this one (format 3),
 * in one write transaction, when a read-write handle opens it (db.c), and
 * bringing in what an older dump holds (dump.c).
 *
 * Format 3 keys by the site's secret what format 2 keyed by the model key,
 * which is public for every database made from the default model:
 *   - identity tokens (tokenize.h: ip24:, ip48:, author:, author-word:, the
 *     e-mail's domain, the author URL's host and domain, e-mail addresses
 *     in the text) are hashed under the identity key, and flagged
 *     (COUNTS_IDENTITY);
 *   - learned comments are remembered by a SipHash digest under the
 *     digests' keys (hash_comment_digest).
 * A token id or a digest is one-way, so what format 2 stored can be re-keyed
 * only where its text can be enumerated:
 *   - every IPv4 /24 is tried (2^24 guesses, about a second): a "ip24:a.b.c"
 *     found under the model key moves to its id under the identity key
 *     (migrate_ip24), its site's counts kept, any prior counts dropped;
 *   - names, hosts, domains, IPv6 /48s and addresses cannot be: they stay
 *     as they are, counted under the model key like any word, until the
 *     site prunes them (thresh prune) or they fade; new learns count them
 *     under the identity key;
 *   - digests of format 2 move to the "legacy" table (store.h), where a
 *     check or a learn still finds them by the digest of that format, which
 *     is computed only while that table holds any (apply.h);
 *   - the outbox of a node of a cluster (replica.h) is rewritten the same
 *     way: its events keep their digest as a legacy one and their /24s are
 *     re-keyed, its undo records name the legacy table. */
#ifndef THRESH_MIGRATE_H
#define THRESH_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "store.h"

/* An id of the model key and its new id under the identity key. */
typedef struct migrate_pair {
	uint64_t from, to;
} migrate_pair;

/* migrate_ip24 - try every IPv4 /24's token under the key from against the
 * tokens of t that are not identity tokens; each one found is moved to its
 * id under the key to (its site counts added there, flagged
 * COUNTS_IDENTITY; its prior counts dropped), or, when to is NULL,
 * deleted. The model's token sums are then stale: the caller recounts them
 * (meta_recount). pairs, when not NULL, receives the moves made, sorted by
 * from (free() it), *npairs their number; *found (optional) how many were
 * found. Returns 0, THRESH_ENOMEM or a store error. */
int migrate_ip24(store_txn *t, const unsigned char from[HASH_MODEL_KEY_BYTES],
                 const unsigned char *to, migrate_pair **pairs, size_t *npairs, uint64_t *found);

/* migrate_pair_find - the new id of from among the sorted pairs, or from
 * itself when it did not move. */
uint64_t migrate_pair_find(const migrate_pair *p, size_t n, uint64_t from);

/* migrate_learned - every digest of the learned table moved to the legacy
 * table (both hold digests as keys and a label as value). Returns 0 or a
 * store error. */
int migrate_learned(store_txn *t);

/* migrate_db - bring the database of t to DB_FORMAT_VERSION: format 1 by
 * meta_upgrade, then format 2 to 3 as the header says, under the site's
 * keys k. *from gets the format it was. Returns 0, THRESH_EVERSION (a
 * format it cannot upgrade), THRESH_ENOMEM or a store error. */
int migrate_db(store_txn *t, const site_keys *k, uint32_t *from);

#endif
