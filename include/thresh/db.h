/* thresh/db.h - a thresh database: one folder on disk holding a model.
 *
 * A database folder holds the token statistics (an LMDB environment), the
 * installation's identity secret and optionally thresh.conf. One handle is
 * safe to share between threads; many processes may open one folder at once.
 */
#ifndef THRESH_DB_H
#define THRESH_DB_H

#include <stddef.h>
#include <stdint.h>
#include "thresh/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct thresh_db thresh_db;

/* Flags of thresh_db_options.flags. */
#define THRESH_DB_CREATE 0x1u   /* create the folder when it does not exist */
#define THRESH_DB_EMPTY 0x2u    /* a created database starts empty, not from the default model */
#define THRESH_DB_RDONLY 0x4u   /* open read-only: learning returns THRESH_EREADONLY */
#define THRESH_DB_NOCONFIG 0x8u /* do not read thresh.conf */
#define THRESH_DB_EXCL 0x10u    /* with CREATE: fail with THRESH_EEXIST if it exists */
#define THRESH_DB_SHARE_PRIOR 0x20u /* share the prior's counts in memory with other handles
                                     * (below); added in 0.4 */

/* THRESH_DB_SHARE_PRIOR - for a process that opens many databases made from
 * the same default model (a server of many sites). Each handle's in-memory
 * copy of the model (thresh_db_warm) then holds only the tokens its site
 * has learned itself; the prior's counts, which every such database holds
 * alike (~124,000 tokens, ~4 MiB of memory each), are held once in the
 * process and shared by every handle whose prior is exactly the same,
 * which is checked token by token as the copy is filled (a handle whose
 * prior differs, changed by an import say, gets a whole copy of its own,
 * as without the flag). And once a copy is filled, the handle lets go of
 * the database file's pages that filling it read (they stay in the
 * system's file cache). An open, warmed site then costs well under 1 MiB
 * of memory instead of ~9 MB (tests/bench/share-prior.sh: 0.4 against 9.0
 * MiB). Scores are exactly the same (to the bit); a check costs more CPU,
 * a logarithm for each token of the prior alone, made when it is read
 * (about 0.83 times the checks per second). Nothing changes with the
 * Fisher classifier, whose copy keeps the counts. Added in 0.4. */

/* Options of thresh_db_open(). Initialise with thresh_db_options_init(),
 * then change what you need; the size field lets later versions grow it. */
typedef struct thresh_db_options {
	size_t size;        /* sizeof(thresh_db_options), set by _init */
	unsigned flags;     /* THRESH_DB_* */
	const char *model;  /* dump that seeds a created database; NULL: $THRESH_MODEL, else the installed default model */
	const char *config; /* configuration file; NULL: DIR/thresh.conf when it exists */
	char *errbuf;       /* optional: receives a one-line explanation of a failure */
	size_t errbuf_size; /* size of errbuf */
} thresh_db_options;

/* thresh_db_options_init - fill opts with the defaults (no flags, every
 * pointer NULL). Cannot fail; accepts NULL. Added in 0.1. */
THRESH_API void thresh_db_options_init(thresh_db_options *opts);

/* thresh_db_open - open (and with THRESH_DB_CREATE create) a database folder.
 * [in]  dir   the folder.
 * [in]  opts  options, or NULL for the defaults.
 * [out] out   the handle, released with thresh_db_close().
 * A database is created from the default model unless THRESH_DB_EMPTY is
 * given; creation is atomic: a crash leaves no half-made folder behind.
 * Returns 0, THRESH_EINVAL, THRESH_ENOENT (no folder and no CREATE),
 * THRESH_EEXIST (EXCL), THRESH_EVERSION, THRESH_ECORRUPT, THRESH_EACCES,
 * THRESH_EBUSY, THRESH_EFULL, THRESH_EIO, THRESH_ENOMEM, THRESH_ENOMODEL,
 * THRESH_EFORMAT (a bad model dump) or THRESH_ECONFIG. Added in 0.1. */
THRESH_API int thresh_db_open(const char *dir, const thresh_db_options *opts,
                              thresh_db **out);

/* thresh_db_clone - a new database folder, a copy of another's model.
 * [in]  from  an open database (any thread may use it meanwhile).
 * [in]  dir   the new folder; it must not exist.
 * [in]  derive  NULL for a random secret; else (1 to 256 bytes) the copy's
 *             secret is derived from from's secret and derive, so that
 *             machines holding copies of one database make the same copy
 *             (the nodes of a cluster making one site alike: derive is
 *             the site's name). from must have a secret.
 * [in]  opts  how to open the copy, or NULL (its CREATE, EXCL and EMPTY
 *             flags are ignored).
 * [out] out   the copy, open, released with thresh_db_close().
 * The copy holds from's newest snapshot: token counts (both layers),
 * parameters, fitted cutoffs and calibration. It gets a secret of its own
 * (random, or derived), so what from keyed by its secret is left out: authors, learned comments'
 * digests (the copy may learn them again), identity tokens, rate-limit
 * state, and a cluster node's place in its cluster. A database made from
 * the default model and never learned into, cloned, is what creating one
 * from the default model makes, in a fraction of the time (no dump to
 * read): threshd --sites makes its sites so. Like creation it is atomic:
 * the folder appears whole or not at all. Returns 0, THRESH_EINVAL,
 * THRESH_EEXIST (dir exists, or appeared meanwhile), THRESH_EACCES,
 * THRESH_EFULL, THRESH_EIO, THRESH_ENOMEM, or what thresh_db_open returns.
 * Added in 0.4. */
THRESH_API int thresh_db_clone(thresh_db *from, const char *dir, const char *derive,
                               const thresh_db_options *opts, thresh_db **out);

/* thresh_db_close - close a handle. No other thread may use it any more.
 * Accepts NULL. Added in 0.1. */
THRESH_API void thresh_db_close(thresh_db *db);

/* Statistics of a database; set size before the call. */
typedef struct thresh_stats {
	size_t size;               /* sizeof(thresh_stats), set by the caller */
	uint32_t format_version;   /* the on-disk format */
	uint32_t tokenizer;        /* the tokenizer feature set the model was made with */
	uint64_t spam_messages;    /* comments learned as spam */
	uint64_t ham_messages;     /* comments learned as ham */
	uint64_t tokens;           /* distinct tokens stored */
	uint64_t learned;          /* distinct comments remembered for duplicate detection
	                            * (legacy_learned of them by a digest of format 2) */
	uint64_t map_size;         /* bytes of the current LMDB map */
	uint64_t used_bytes;       /* bytes of the map in use */
	/* added in 0.2: the two layers. spam_messages and ham_messages are the
	 * site's own; the prior is the default model the database started from. */
	double prior_spam_messages; /* the comments the prior was made of (weighted) */
	double prior_ham_messages;
	double prior_weight;       /* the weight its counts have in checks now, 0..1 */
	double prior_comments;     /* ... so it counts as this many comments */
	int prior_auto;            /* 1: that weight is chosen by the site's decisions */
	double site_share;         /* the site's own share of the comments a check counts,
	                            * site / (site + prior_comments), 0..1 */
	uint32_t upgraded_from;    /* this handle upgraded the database from that format
	                            * when it opened it; 0: it did not */
	/* added in 0.3: the cluster (thresh/cluster.h), all 0 on a database
	 * without [cluster] in thresh.conf */
	int cluster;               /* 1: this database is a node of a cluster */
	int redis_up;              /* 1: Redis answered within the timeout just now */
	uint64_t outbox;           /* own learns not yet seen back in the cluster's log */
	uint64_t cluster_seq;      /* the last sequence of the log applied here */
	uint64_t lag_events;       /* events of the log not applied here yet */
	double lag_seconds;        /* seconds since the oldest of them was published (0: none) */
	uint64_t rate_fallbacks;   /* checks of this handle whose rate was judged locally,
	                            * Redis being away or slow */
	/* added in 0.2: the digests kept from format 2 (before they were keyed
	 * by the site's secret); each goes when its comment is learned or
	 * unlearned again */
	uint64_t legacy_learned;
	/* added in 0.3: the calibration and cutoffs in force, fitted on the
	 * site's own decisions (the newest of them) unless pinned */
	double hold_cutoff;        /* the cutoffs checks use now */
	double reject_cutoff;
	int hold_from;             /* where each came from: THRESH_FROM_* */
	int reject_from;
	double hold_alpha;         /* the site's share of each (THRESH_FROM_BLEND), 0..1 */
	double reject_alpha;
	double nb_scale;           /* the calibration checks use now (naive Bayes) */
	double nb_shift;
	int calibration_from;      /* THRESH_FROM_NEW_SITE, _SITE or _PINNED */
	uint64_t decisions;        /* the site's decisions they were fitted on */
	uint64_t decisions_spam;   /* ... of them spam */
} thresh_stats;

/* Where a value in force came from (thresh_stats, added in 0.3). */
#define THRESH_FROM_NEW_SITE 0 /* the default, as for a site that has learned nothing */
#define THRESH_FROM_BLEND 1    /* between the default and the site's own (by *_alpha) */
#define THRESH_FROM_SITE 2     /* the site's own decisions alone */
#define THRESH_FROM_PINNED 3   /* set by thresh_db_param_set or thresh.conf */

/* thresh_db_stats - read the statistics.
 * [in,out] st  st->size must be set; fields past it are left alone.
 * On a node of a cluster, with st->size reaching the cluster's fields, it
 * asks Redis for the log's head (waiting [cluster] timeout at most; a Redis
 * away gives redis_up 0 and no error).
 * Returns 0, THRESH_EINVAL or a store error. Added in 0.1. */
THRESH_API int thresh_db_stats(thresh_db *db, thresh_stats *st);

/* thresh_db_warm - fill the in-memory copy of the model's counts from the
 * latest snapshot now, in the calling thread, so that checks read memory
 * from the first one. Without it the copy is filled by a background thread
 * once 32 checks have found it missing or stale, and checks read LMDB until
 * then. Worth calling before scoring many comments in a row (about one for
 * every hundred tokens of the model, or more) or when a server starts; it
 * takes about 0.1 s for a model of a million tokens, and 40-80 bytes a token.
 * Does nothing when memory_cache is off in thresh.conf, or when the copy is
 * of the latest snapshot already.
 * Returns 0, THRESH_EINVAL, THRESH_ENOMEM or a store error. Added in 0.1. */
THRESH_API int thresh_db_warm(thresh_db *db);

/* Classifier parameters, by name:
 *   "robs"           Robinson's s, the strength of the prior (> 0)
 *   "robx"           Robinson's x, the prior of an unseen token (0..1)
 *   "min_dev"        tokens whose estimate lies within this of 0.5 are ignored (0..0.5)
 *   "hold_cutoff"    score at or above which a comment is held (0..1)
 *   "reject_cutoff"  score at or above which a comment is rejected (hold..1)
 *                    Unless set, both are fitted on the site's own decisions
 *                    as they accrue (from 0.3): a site that has learned
 *                    nothing has the defaults; see thresh_stats.
 *   "blatant_cutoff" score at or above which a rejected comment is flagged blatant
 *   "classifier"     0: naive Bayes over token presence (the default),
 *                    1: Robinson's estimates with Fisher's combination
 *   "nb_power"       naive Bayes: the summed log-odds are divided by n^nb_power (0..1)
 *   "gram_weight"    naive Bayes: the weight of character n-gram tokens (0..1)
 *   "nb_scale", "nb_shift"  naive Bayes: the calibration of the score,
 *                    sigmoid(nb_scale * x + nb_shift) (added in 0.2); unless
 *                    either is set, fitted on the site's decisions (from 0.3)
 *   "reject_min_tokens"  a score at or over reject_cutoff rejects only when
 *                    the model has seen this many of the comment's tokens;
 *                    else it holds, with the reason "unfamiliar" (added in 0.2)
 *   "prior_comments" the default model counts as at most this many comments;
 *                    0: chosen by the site's own decisions (added in 0.2)
 * They are stored in the database; thresh.conf may override them for the
 * processes that read it, without changing what is stored. A value set
 * (thresh_db_param_set, or in thresh.conf) is pinned: it wins over the one
 * the site's decisions give, until thresh_db_param_reset. */

/* thresh_db_param_get - the value in force (override, stored, or fitted on
 * the site's decisions). Returns 0, THRESH_EINVAL or THRESH_EPARAM (unknown
 * name). Added in 0.1. */
THRESH_API int thresh_db_param_get(thresh_db *db, const char *name, double *value);

/* thresh_db_param_set - store a parameter in the database. A value given in
 * thresh.conf keeps overriding it for every handle that reads that file.
 * Returns 0, THRESH_EINVAL, THRESH_EPARAM (unknown name or out of range),
 * THRESH_EREADONLY or a store error. Added in 0.1. */
THRESH_API int thresh_db_param_set(thresh_db *db, const char *name, double value);

/* thresh_db_param_reset - store a parameter's default and unpin it: the
 * cutoffs and the calibration are again fitted on the site's decisions,
 * prior_comments is again chosen by them (0). thresh.conf still overrides.
 * Returns 0, THRESH_EINVAL, THRESH_EPARAM (unknown name, or the default
 * would break hold <= reject <= blatant with a cutoff that is set),
 * THRESH_EREADONLY or a store error. Added in 0.3. */
THRESH_API int thresh_db_param_reset(thresh_db *db, const char *name);

/* thresh_db_param_name - the name of parameter i (0-based), NULL past the
 * last; for listing them. Cannot fail. Added in 0.1. */
THRESH_API const char *thresh_db_param_name(size_t i);

/* thresh_db_export - write the model (format, tokenizer, key, parameters,
 * counts, every token) to a dump file. The identity secret, author records and
 * rate-limit state are never exported. The file is written beside its final
 * name and renamed into place, so a crash never leaves half a dump.
 * The dump format is text, versioned, documented in docs/dump-format.md.
 * Returns 0, THRESH_EINVAL, THRESH_EIO, THRESH_EACCES, THRESH_EFULL or a store
 * error. Added in 0.1. */
THRESH_API int thresh_db_export(thresh_db *db, const char *path);

#define THRESH_IMPORT_MERGE 0x1u /* add the dump's counts to the model instead of replacing it */

/* thresh_db_import - load a dump written by thresh_db_export.
 * The whole dump is parsed and checked before anything is stored, and stored
 * in one transaction: a bad dump changes nothing. Replacing takes the dump's
 * key, tokenizer and parameters; merging needs the same key and tokenizer.
 * [in]  flags   0 to replace the model, THRESH_IMPORT_MERGE to add to it.
 * [out] errbuf  optional: "line N: what was wrong" on THRESH_EFORMAT.
 * Returns 0, THRESH_EINVAL, THRESH_ENOENT, THRESH_EFORMAT, THRESH_EVERSION,
 * THRESH_EREADONLY, THRESH_EFULL or a store error. Added in 0.1. */
THRESH_API int thresh_db_import(thresh_db *db, const char *path, unsigned flags,
                                char *errbuf, size_t errbuf_size);

/* thresh_db_prune - forget tokens not seen for older_than_days days, except
 * those seen in at least keep_min_count comments (0: keep none of them).
 * [out] removed  optional: how many tokens were removed.
 * Returns 0, THRESH_EINVAL, THRESH_EREADONLY or a store error. Added in 0.1. */
THRESH_API int thresh_db_prune(thresh_db *db, uint32_t older_than_days,
                               uint64_t keep_min_count, uint64_t *removed);

/* ---------- configuration, secret (added in 0.1) ----------
 *
 * thresh.conf holds the site's moderation rules (rate limit, links, word
 * lists, first comments, trusted authors, honeypot, form timing) and may
 * override the classifier parameters. It is read on open from
 * thresh_db_options.config, else DIR/thresh.conf when that file exists;
 * docs/thresh.conf.5 lists every key. */

/* thresh_db_config_text - the configuration in force as thresh.conf text
 * (every key with its value and what it does).
 * [out] out  a string to release with thresh_free().
 * Returns 0, THRESH_EINVAL, THRESH_ENOMEM or a store error. Added in 0.1. */
THRESH_API int thresh_db_config_text(thresh_db *db, char **out);

/* thresh_db_config_get - one value of the configuration in force, as text:
 * a key of the library ("rate_limit", "hold_cutoff", ...) or of another
 * program's section ("threshd.port" for "port" under "[threshd]").
 * Returns 0, THRESH_EINVAL, THRESH_ENOTFOUND (not set), THRESH_ETOOBIG
 * (buf too small) or THRESH_ENOMEM. Added in 0.1. */
THRESH_API int thresh_db_config_get(thresh_db *db, const char *key, char *buf, size_t size);

/* thresh_db_config_reload - read the configuration file again (a daemon's
 * SIGHUP), and the identity secret in case another process rotated it.
 * On error the configuration in force stays as it was.
 * Returns 0, THRESH_EINVAL, THRESH_ENOENT, THRESH_EACCES, THRESH_EIO,
 * THRESH_ENOMEM or THRESH_ECONFIG ("FILE:LINE: ..." in errbuf). Added in 0.1. */
THRESH_API int thresh_db_config_reload(thresh_db *db, char *errbuf, size_t errbuf_size);

/* thresh_db_rotate_secret - thresh_db_rotate_keys(db, 0, ...): replace the
 * installation's identity secret, keeping the learned comments' digests.
 * [out] authors_dropped  optional: how many author records were dropped.
 * Returns as thresh_db_rotate_keys. Added in 0.1. */
THRESH_API int thresh_db_rotate_secret(thresh_db *db, uint64_t *authors_dropped);

/* What thresh_db_rotate_keys dropped. */
typedef struct thresh_rotate_summary {
	size_t size;               /* sizeof(thresh_rotate_summary), set by the caller */
	uint64_t authors;          /* author records */
	uint64_t rates;            /* rate-limit entries */
	uint64_t identity_tokens;  /* identity tokens (names, hosts, IP prefixes, addresses) */
	uint64_t learned;          /* learned comments' digests (THRESH_ROTATE_DIGESTS) */
} thresh_rotate_summary;

#define THRESH_ROTATE_DIGESTS 0x1u /* replace the digests' keys too, dropping the digests */

/* thresh_db_rotate_keys - replace the installation's identity secret
 * (DIR/secret, mode 0600), so that nothing it keyed can be linked to what
 * comes after. Author records, rate-limit state and identity tokens (the
 * model's counts of names, hosts, IP prefixes and e-mail addresses, keyed by
 * the secret so that the model key cannot test them) are keyed by the old
 * secret and can never be found again, so they are dropped. Learned
 * comments are remembered by digests under keys of their own, which the
 * file keeps beside the new secret: a digest cannot be made again without
 * the comment's text, which thresh never keeps, so replacing its keys
 * (THRESH_ROTATE_DIGESTS) drops the digests, and a comment learned before
 * can then be learned twice and no longer unlearned. Digests of format 2
 * (stats legacy_learned) are keyed by the model key and stay either way.
 * Other processes pick the new secret up on thresh_db_config_reload(); a
 * batch begun before the rotation fails with THRESH_EBUSY.
 * [in]  flags  0 or THRESH_ROTATE_DIGESTS.
 * [out] sum    optional (sum->size set): what was dropped.
 * Returns 0, THRESH_EINVAL, THRESH_EREADONLY, THRESH_EIO, THRESH_EACCES,
 * THRESH_EFULL or a store error. Added in 0.2. */
THRESH_API int thresh_db_rotate_keys(thresh_db *db, unsigned flags, thresh_rotate_summary *sum);

/* thresh_free - release memory the library returned (thresh_db_config_text).
 * Accepts NULL. Added in 0.1. */
THRESH_API void thresh_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
