/* hash.h - every use of libsodium in thresh: token ids, digests, secrets.
 * Only hash.c includes <sodium.h>. */
#ifndef THRESH_HASH_H
#define THRESH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_MODEL_KEY_BYTES 16 /* crypto_shorthash_KEYBYTES (SipHash-2-4) */
#define HASH_DIGEST_BYTES 16    /* learned-comment digests */
#define HASH_SECRET_BYTES 32    /* the per-installation identity secret */
#define HASH_ID_BYTES 16        /* hashed identities (e-mail, IP) */

struct thresh_comment;

/* hash_init - initialise libsodium; idempotent and thread-safe.
 * Returns 0 or THRESH_ENOMEM when libsodium cannot start. */
int hash_init(void);

/* hash_random - fill buf with n random bytes. Cannot fail once hash_init succeeded. */
void hash_random(void *buf, size_t n);

/* hash_token - the 64-bit id of a token: SipHash-2-4 of its bytes under key.
 * Cannot fail. */
uint64_t hash_token(const unsigned char key[HASH_MODEL_KEY_BYTES], const void *s, size_t n);

/* hash_comment_digest - a keyed BLAKE2b-128 digest of the fields that make
 * a comment the same comment (content, author, email, url), for duplicate
 * detection. Cannot fail. */
void hash_comment_digest(const unsigned char key[HASH_MODEL_KEY_BYTES],
                         const struct thresh_comment *c,
                         unsigned char out[HASH_DIGEST_BYTES]);

/* hash_identity - the key of an author: keyed BLAKE2b-128 of a normalized
 * e-mail address or IP address under the installation's secret, with the
 * kind mixed in so that kinds never collide: 'e' an author's e-mail, 'i' an
 * author known by IP, 'a' an IP address's own rate. The raw
 * identity is never stored; without the secret the key cannot be linked
 * back to it. Cannot fail. */
void hash_identity(const unsigned char secret[HASH_SECRET_BYTES], char kind, const void *s,
                   size_t n, unsigned char out[HASH_ID_BYTES]);

/* hash_bytes - BLAKE2b of data, outlen bytes (16 to 64), keyed when key is
 * not NULL (klen 16 to 64 bytes): the cluster's fingerprints and the check
 * digest of a snapshot. Cannot fail. */
void hash_bytes(const void *key, size_t klen, const void *data, size_t len, unsigned char *out,
                size_t outlen);

/* hash_wipe - zero memory that held a secret, in a way the compiler keeps. */
void hash_wipe(void *p, size_t n);

/* hash_equal - constant-time comparison; 1 when equal. */
int hash_equal(const void *a, const void *b, size_t n);

#endif
