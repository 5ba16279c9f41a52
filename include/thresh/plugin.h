/* thresh/plugin.h - the stable boundary for server integrations.
 *
 * An integration (a web-server module, a language binding) programs against
 * one versioned table of functions, obtained from one exported entry point:
 *
 *     const thresh_plugin *t;
 *     if (THRESH_PLUGIN_INIT(&t) != 0) ... refuse to load, with t == NULL
 *     t->open(dir, NULL, 0, &db, err, sizeof err);
 *
 * The table opens with its ABI version and its size and keeps spare slots at
 * the end, so later releases append functions without moving any: an
 * integration built against ABI 1 keeps working with every library that
 * provides ABI 1. thresh_plugin_get() refuses an ABI it does not provide, or a
 * table larger than it knows, with THRESH_EABI instead of undefined behaviour
 * later. THRESH_PLUGIN_INIT passes the ABI and size the integration was
 * compiled with, so no integration can skip the check.
 *
 * No LMDB, libsodium or other dependency type crosses this boundary: a
 * database is an opaque handle, a comment is field/value string pairs with
 * Akismet's field names (or thresh's), a result is a plain record. */
#ifndef THRESH_PLUGIN_H
#define THRESH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include "thresh/version.h"
#include "thresh/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define THRESH_PLUGIN_ABI 1u
/* The spare slots left at the end of the table: 16 in 0.1, one fewer for each
 * function appended since (learn_batch), so the table keeps its size. */
#define THRESH_PLUGIN_SPARE 15

/* The result of a check through the table. */
typedef struct thresh_plugin_result {
	uint32_t size;        /* sizeof(thresh_plugin_result), set by the caller */
	int verdict;          /* THRESH_ACCEPT 0, THRESH_HOLD 1, THRESH_REJECT 2 */
	double score;         /* the classifier's spam probability, 0..1 */
	int blatant;          /* 1: spam a site may drop unseen (Akismet "discard") */
	double retry_after;   /* seconds, when rate-limited; else 0 */
	char reasons[256];    /* the reasons that fired, space-separated ("bayes too_many_links") */
} thresh_plugin_result;

/* What learn_batch() did. Added in 0.3. */
typedef struct thresh_plugin_learn_result {
	uint32_t size;       /* sizeof(thresh_plugin_learn_result), set by the caller */
	uint64_t learned;    /* comments newly learned */
	uint64_t duplicates; /* learned before under the same label: counted once */
	uint64_t moved;      /* learned before under the other label: moved to this one */
	uint64_t refused;    /* comments refused (their codes in rcs) and left out */
} thresh_plugin_learn_result;

/* Flags of open(). */
#define THRESH_PLUGIN_CREATE 0x1u /* create a missing database from the default model */
#define THRESH_PLUGIN_RDONLY 0x2u /* never write (no learning, no rate-limit state) */
#define THRESH_PLUGIN_EMPTY 0x4u  /* with CREATE: start empty, not from the default model (0.1) */

typedef struct thresh_plugin {
	uint32_t abi;  /* THRESH_PLUGIN_ABI of the library that filled it */
	uint32_t size; /* sizeof the table as the library filled it */

	/* version - the library's version string. */
	const char *(*version)(void);
	/* strerror - the text of a THRESH_E* code. */
	const char *(*strerror)(int code);
	/* open - open a database folder; config is a thresh.conf path or NULL for
	 * DIR/thresh.conf when present; errbuf (optional) gets a one-line reason.
	 * Returns 0 or a THRESH_E* code. */
	int (*open)(const char *dir, const char *config, unsigned flags, thresh_db **out,
	            char *errbuf, size_t errbuf_size);
	/* close - close a database; accepts NULL. */
	void (*close)(thresh_db *db);
	/* is_field - 1 when name is a comment field thresh reads (so an
	 * integration can pass a whole form and skip the rest). */
	int (*is_field)(const char *name);
	/* check - check a comment given as n field/value pairs (values UTF-8,
	 * lengths by strlen). Unknown field names give THRESH_EFIELD.
	 * [in,out] out  out->size must be set; filled on success. */
	int (*check)(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
	             thresh_plugin_result *out);
	/* learn / unlearn - label THRESH_SPAM (1) or THRESH_HAM (0). */
	int (*learn)(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
	             int label);
	int (*unlearn)(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
	               int label);
	/* reload - read thresh.conf (and the secret) again, as on SIGHUP. */
	int (*reload)(thresh_db *db, char *errbuf, size_t errbuf_size);

	/* learn_batch - learn count comments in one write transaction, so a
	 * crash leaves all of them stored or none, and learning them costs one
	 * commit: a site's history, a moderator's bulk action. Comment i is the
	 * next nfields[i] pairs of fields/values (the pairs of all the comments
	 * one after another, sum(nfields) in all), learned as labels[i]
	 * (THRESH_SPAM or THRESH_HAM). A comment learned before counts once, as
	 * with learn.
	 * [out] rcs  NULL: a comment refused (an unknown field, a value that is
	 *            not UTF-8, a bad label) stores nothing, and its code is
	 *            returned. Else count codes: rcs[i] is 0 or the code that
	 *            refused comment i, which is left out while the others are
	 *            stored (counted in out->refused).
	 * [out] out  optional; out->size must be set; filled on success.
	 * Returns 0, THRESH_EINVAL (db NULL, arrays NULL while count > 0), a
	 * refused comment's code (rcs NULL), THRESH_EREADONLY, THRESH_EFULL or a
	 * store error; on error nothing is stored. Added in 0.3, in the first
	 * spare slot: NULL in the table of an older library, so check it. */
	int (*learn_batch)(thresh_db *db, size_t count, const size_t *nfields, const char *const *fields,
	                   const char *const *values, const int *labels, int *rcs,
	                   thresh_plugin_learn_result *out);

	/* Room for later functions of ABI 1; NULL until then. */
	void (*spare[THRESH_PLUGIN_SPARE])(void);
} thresh_plugin;

/* thresh_plugin_get - the function table.
 * [in]  abi   the ABI the caller was built for (THRESH_PLUGIN_ABI).
 * [in]  size  sizeof(thresh_plugin) as the caller was built.
 * [out] out   the library's static table (never freed), or NULL on error.
 * Returns 0, THRESH_EINVAL (out NULL) or THRESH_EABI (an ABI this library
 * does not provide, or a table larger than it knows). Added in 0.1. */
THRESH_API int thresh_plugin_get(uint32_t abi, size_t size, const thresh_plugin **out);

#define THRESH_PLUGIN_INIT(out) thresh_plugin_get(THRESH_PLUGIN_ABI, sizeof(thresh_plugin), (out))

#ifdef __cplusplus
}
#endif
#endif
