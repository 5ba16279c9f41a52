/* store.h - the storage backend: the only part of thresh that knows LMDB.
 *
 * A store is one LMDB environment in a folder with named databases:
 *   meta     short string keys -> small values (format, key, counts, params)
 *   tokens   64-bit token id -> tok_counts (site and prior layers)
 *   learned  16-byte comment digest -> 1-byte label
 *   authors  16-byte hashed identity -> author record (see moderate)
 *   outbox   64-bit local sequence -> a learn waiting for the cluster's log
 *            (replica.h); a folder made before it reads it as empty
 *   legacy   16-byte comment digest of format 2 (hash_comment_digest_b2)
 *            -> 1-byte label: comments learned before format 3, kept so
 *            they are still found (apply.h); likewise optional
 * Reads run in read transactions that never block; writes run through
 * store_write(), which retries the whole write when the map must grow. */
#ifndef THRESH_STORE_H
#define THRESH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "counts.h"

typedef struct store store;
typedef struct store_txn store_txn;


#define STORE_RDONLY 0x1u
#define STORE_NOSYNC 0x2u /* no fsync per commit (rate-limit state) */

/* store_open - open the environment in dir (which must exist).
 * [in] map_size  initial map size in bytes, 0 for the default.
 * Returns 0 or THRESH_ENOENT, THRESH_EACCES, THRESH_ECORRUPT, THRESH_EBUSY,
 * THRESH_ENOMEM, THRESH_EIO. */
int store_open(const char *dir, unsigned flags, size_t map_size, store **out);
/* store_close - close it; no transaction may be open. Accepts NULL. */
void store_close(store *s);

/* store_read_begin - start a read transaction (a snapshot).
 * Returns 0 or a THRESH_E* code. */
int store_read_begin(store *s, store_txn **out);
/* store_read_end - end a read transaction, also a reset one. Accepts NULL. */
void store_read_end(store_txn *t);
/* store_read_reset - let go of a read transaction's snapshot but keep the
 * transaction, and its slot in LMDB's reader table, for store_read_renew:
 * a reader that starts again and again saves the allocation and the reader
 * table's lock each time. A reset transaction pins no pages and holds no
 * grow lock; it may be renewed by any thread. Accepts NULL; does nothing to
 * a write transaction or one already reset. */
void store_read_reset(store_txn *t);
/* store_read_renew - a reset read transaction made a read transaction on
 * the newest snapshot again, as store_read_begin would start one. Returns 0,
 * or a THRESH_E* code with t still reset (THRESH_EINVAL when t is not a
 * reset read transaction). */
int store_read_renew(store_txn *t);
/* store_txn_id - the id of the last transaction the snapshot sees. */
uint64_t store_txn_id(store_txn *t);

/* store_release_pages - let go of this process's mapping of every page of
 * the environment's map (madvise MADV_DONTNEED), so the pages a walk read
 * (a cache filled from a whole table) stop counting in the process's
 * resident memory. The map is shared and read-only, so only the page-table
 * entries go: the pages stay in the kernel's page cache, and the next read
 * of one maps it again, from memory. Safe while other threads read; it
 * reads a record (in a read transaction of its own) to find the map, and
 * /proc/self/maps. Returns 0, THRESH_EINVAL (s NULL), THRESH_ENOTSUP (a
 * writable map: an environment opened with MDB_WRITEMAP, which store_open
 * never does; or no /proc), a store error, or THRESH_ENOMEM / THRESH_EIO
 * from madvise. */
int store_release_pages(store *s);

/* store_write - run fn(txn, ctx) in a write transaction and commit it when
 * fn returns 0. When the map is full the transaction is dropped, the map
 * grown and fn run again from the start, so fn must not keep state between
 * runs other than what it reads from txn. A non-zero return of fn aborts and
 * is returned. Returns 0, fn's code, THRESH_EFULL (disk full),
 * THRESH_EREADONLY or another THRESH_E* code. */
int store_write(store *s, int (*fn)(store_txn *t, void *ctx), void *ctx);

/* Meta. store_meta_get copies exactly size bytes; THRESH_ENOTFOUND when the
 * key is missing, THRESH_ECORRUPT when its size differs. */
int store_meta_get(store_txn *t, const char *key, void *buf, size_t size);
int store_meta_put(store_txn *t, const char *key, const void *buf, size_t size);

/* Tokens. store_tokens_get fills out[i] (zeros for an unknown id). */
int store_tokens_get(store_txn *t, const uint64_t *ids, size_t n, tok_counts *out);
/* store_counts_add - add (negative: subtract) to a token's site counts in
 * memory, clamped at zero; day, when not 0, becomes the last-seen day; a
 * token left in neither layer becomes all zeros (stored, it is deleted, so
 * it reads back as zeros). Cannot fail. */
void store_counts_add(tok_counts *c, int64_t dspam, int64_t dham, uint32_t day);
/* store_prior_add - the same for the prior layer (1/PRIOR_UNIT units). */
void store_prior_add(tok_counts *c, int64_t dpspam, int64_t dpham);
/* store_token_add - store_counts_add and store_prior_add on a stored token. */
int store_token_add(store_txn *t, uint64_t id, int64_t dspam, int64_t dham, uint32_t day,
                    int64_t dpspam, int64_t dpham);
/* store_token_put - set a token's counts outright; a token in neither
 * layer is deleted. A value is 20 bytes (spam, ham, day, prior spam, prior
 * ham), or the first 12 of them when the prior's are zero, as every value
 * of format 1 was, then one byte of flags (COUNTS_*) when there are any (13
 * or 21 bytes, format 3); all are read back alike. */
int store_token_put(store_txn *t, uint64_t id, const tok_counts *c);
/* store_tokens_clear - delete every token and learned digest (legacy ones
 * too). */
int store_tokens_clear(store_txn *t);
/* store_tokens_foreach - call cb for every token in id order; a non-zero
 * return stops the walk and is returned. */
int store_tokens_foreach(store_txn *t, int (*cb)(uint64_t id, const tok_counts *c, void *ctx),
                         void *ctx);
/* store_tokens_prune - delete the site's tokens (those not in the prior)
 * with day < before_day whose spam+ham is below keep_min (keep_min 0:
 * regardless of counts); counts them in *removed, and the spam and ham
 * counts they held in *removed_spam and *removed_ham. */
int store_tokens_prune(store_txn *t, uint32_t before_day, uint64_t keep_min, uint64_t *removed,
                       uint64_t *removed_spam, uint64_t *removed_ham);

/* store_tokens_drop - delete every token with any of flags (COUNTS_*),
 * counting them in *removed; the totals are the caller's to recount. */
int store_tokens_drop(store_txn *t, uint32_t flags, uint64_t *removed);

/* Learned digests: label 0 ham, 1 spam. get gives THRESH_ENOTFOUND. Those
 * of format 2 are records of "legacy" (store_rec_*). */
int store_learned_get(store_txn *t, const unsigned char d[16], int *label);
int store_learned_put(store_txn *t, const unsigned char d[16], int label);
int store_learned_del(store_txn *t, const unsigned char d[16]);

/* Records of fixed-size keys in a named database other than the above
 * ("authors", "rate"): get gives THRESH_ENOTFOUND or copies exactly size. */
int store_rec_get(store_txn *t, const char *db, const void *key, size_t klen, void *val, size_t size);
int store_rec_put(store_txn *t, const char *db, const void *key, size_t klen, const void *val, size_t size);
int store_rec_del(store_txn *t, const char *db, const void *key, size_t klen);
/* store_rec_foreach - walk a record database in key order; cb may return 1
 * to delete the record it was given, 0 to keep it, STORE_STOP to end the
 * walk (which then returns 0), < 0 to stop with that code. */
#define STORE_STOP (-2000)
int store_rec_foreach(store_txn *t, const char *db,
                      int (*cb)(const void *key, size_t klen, const void *val, size_t vlen, void *ctx),
                      void *ctx);
/* store_rec_foreach_from - the same from the first key >= from. */
int store_rec_foreach_from(store_txn *t, const char *db, const void *from, size_t flen,
                           int (*cb)(const void *key, size_t klen, const void *val, size_t vlen,
                                     void *ctx),
                           void *ctx);
/* store_rec_count - the records of a database. */
int store_rec_count(store_txn *t, const char *db, uint64_t *n);
/* store_rec_clear - delete every record of named database db. Returns 0,
 * THRESH_EINVAL (no such database), THRESH_EREADONLY or a store error. */
int store_rec_clear(store_txn *t, const char *db);
/* store_meta_drop_prefix - delete every meta key that begins with prefix.
 * Returns 0, THRESH_EREADONLY or a store error. */
int store_meta_drop_prefix(store_txn *t, const char *prefix);
/* store_copy - a copy of s's newest snapshot into the existing, empty
 * folder dir (its data file alone, without free pages; the copy makes its
 * own lock file when opened). Other threads may read and write s meanwhile.
 * Returns 0 or a store error. */
int store_copy(store *s, const char *dir);

/* Sizes for stats. */
typedef struct store_info {
	uint64_t tokens, learned, authors;
	uint64_t legacy;   /* learned digests of format 2 */
	uint64_t map_size, used_bytes;
} store_info;
int store_info_get(store_txn *t, store_info *out);

#endif
