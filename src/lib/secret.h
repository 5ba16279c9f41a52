/* secret.h - the installation secret: DIR/secret, mode 0600. It holds
 * HASH_SECRET_BYTES random bytes, the secret S, or twice that, S and the
 * root R of the learned-comment digests' keys (hash.h, site_keys), once a
 * rotation replaced S but kept the digests. Identities (e-mail, IP) and
 * identity tokens are hashed under keys of S, learned comments under keys
 * of R; the file never enters the database or an export, so a copied model
 * links no one. */
#ifndef THRESH_SECRET_H
#define THRESH_SECRET_H

#include "hash.h"

/* secret_write - make a new random secret in dir: written beside its final
 * name, fsync'd and renamed into place, so a crash leaves the old one or the
 * new one. root: NULL for a secret of its own (its digests' root derived
 * from it), else the root to keep beside it. k receives the keys (hash.h).
 * Returns 0 or a THRESH_E* code of the file operation that failed. */
int secret_write(const char *dir, const unsigned char *root, site_keys *k);

/* secret_write_as - the same with the given secret (its digests' root
 * derived from it): a secret derived where several machines must agree. */
int secret_write_as(const char *dir, const unsigned char secret[HASH_SECRET_BYTES], site_keys *k);

/* secret_read - load dir's secret into k with every key derived from it.
 * Returns 0, THRESH_ENOENT when there is none, THRESH_EACCES when others may
 * read it (it must stay the installation's own; errbuf says how to fix it),
 * THRESH_ECORRUPT when it is not a secret, or another THRESH_E* code. */
int secret_read(const char *dir, site_keys *k, char *errbuf, size_t errsize);

#endif
