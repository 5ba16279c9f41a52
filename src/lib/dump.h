/* dump.h - the model dump, a versioned text format (docs/dump-format.md),
 * read from and written to a store. The handle's thresh_db_export and
 * thresh_db_import (manage.c) and the creation of a new database from the
 * default model (db.c) go through these. */
#ifndef THRESH_DUMP_H
#define THRESH_DUMP_H

#include <stddef.h>

#include "hash.h"
#include "store.h"

/* dump_export_path - write the model of one snapshot of st to path: a new
 * file, mode 0600, written beside it and renamed into place. The stored
 * parameters are written, not a configuration's overrides. Returns 0,
 * THRESH_EINVAL, THRESH_EACCES, THRESH_ENOENT, THRESH_EFULL, THRESH_EIO or
 * a store error. */
int dump_export_path(store *st, const char *path);

/* DUMP_SEED - an import flag: the dump seeds a new database, every count
 * of it (both layers) goes into the prior layer, and its learned digests
 * and identity tokens are left out: the site has learned nothing yet, and
 * the prior names no one. */
#define DUMP_SEED 0x100u

/* dump_import_path - read and check the whole dump at path, then load it in
 * one write transaction: replacing the model (flags 0), with
 * THRESH_IMPORT_MERGE adding its counts to a model of the same key and
 * tokenizer, or with DUMP_SEED as a new database's prior. keys: the site's
 * (hash.h), by whose identity key the /24s of a dump of format 1 or 2 are
 * re-keyed (migrate.h); NULL drops them. Returns 0, THRESH_ENOENT,
 * THRESH_EACCES, THRESH_EIO, THRESH_EFORMAT (errbuf: the line and what was
 * wrong), THRESH_EVERSION, THRESH_ENOMEM or a store error. */
int dump_import_path(store *st, const char *path, unsigned flags, const site_keys *keys,
                     char *errbuf, size_t errbuf_size);

#endif
