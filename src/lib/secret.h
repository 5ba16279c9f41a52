/* secret.h - the installation secret: DIR/secret, HASH_SECRET_BYTES random
 * bytes, mode 0600. Identities (e-mail, IP) are hashed under it; it never
 * enters the database or an export, so a copied model links no one. */
#ifndef THRESH_SECRET_H
#define THRESH_SECRET_H

#include "hash.h"

/* secret_write - make a new random secret in dir: written beside its final
 * name, fsync'd and renamed into place, so a crash leaves the old one or the
 * new one. out receives it. Returns 0 or a THRESH_E* code of the file
 * operation that failed. */
int secret_write(const char *dir, unsigned char out[HASH_SECRET_BYTES]);

/* secret_read - load dir's secret into out. Returns 0, THRESH_ENOENT when
 * there is none, THRESH_EACCES when others may read it (it must stay the
 * installation's own; errbuf says how to fix it), THRESH_ECORRUPT when it
 * is not a secret, or another THRESH_E* code. */
int secret_read(const char *dir, unsigned char out[HASH_SECRET_BYTES], char *errbuf,
                size_t errsize);

#endif
