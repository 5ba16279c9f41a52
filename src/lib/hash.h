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

/* The keys a site derives from its secret file (secret.h): the secret S
 * itself (author records and rate state: hash_identity), and, through
 * BLAKE2b's key derivation (crypto_kdf), the key of identity tokens
 * (names, hosts, IP prefixes, addresses: tokenize.h) and the keys of
 * learned-comment digests. The digests' keys come from a root of their own,
 * R: read from the file when it holds one (a secret rotated without its
 * digests keeps the old R beside the new S), else derived from S. So
 *   ident  = KDF(S, "thrshidt", 1)      16 bytes
 *   R      = stored, or KDF(S, "thrshdig", 0), 32 bytes
 *   digest = KDF(R, "thrshdig", 1)      16 bytes, the digest's own key
 *   field  = KDF(R, "thrshdig", 2)      16 bytes, each field's key
 * None of them is ever stored in the database, an export or Redis. */
typedef struct site_keys {
	unsigned char secret[HASH_SECRET_BYTES];
	unsigned char root[HASH_SECRET_BYTES];    /* R */
	int own_root;                             /* R was stored apart from S */
	unsigned char ident[HASH_MODEL_KEY_BYTES];
	unsigned char digest[HASH_MODEL_KEY_BYTES];
	unsigned char field[HASH_MODEL_KEY_BYTES];
} site_keys;

/* hash_site_keys - every key of k from k->secret and, when k->own_root,
 * k->root (else k->root is derived too). Cannot fail. */
void hash_site_keys(site_keys *k);

/* hash_derive - a subkey of len bytes (16 to 64) of a 32-byte key, for the
 * 8-character context ctx and number id (crypto_kdf_derive_from_key).
 * Cannot fail. */
void hash_derive(unsigned char *out, size_t len, uint64_t id, const char ctx[8],
                 const unsigned char key[HASH_SECRET_BYTES]);

/* hash_init - initialise libsodium; idempotent and thread-safe.
 * Returns 0 or THRESH_ENOMEM when libsodium cannot start. */
int hash_init(void);

/* hash_random - fill buf with n random bytes. Cannot fail once hash_init succeeded. */
void hash_random(void *buf, size_t n);

/* hash_token - the 64-bit id of a token: SipHash-2-4 of its bytes under key
 * (sip.h, which also makes many at once: the tokenizer's batches).
 * Cannot fail. */
uint64_t hash_token(const unsigned char key[HASH_MODEL_KEY_BYTES], const void *s, size_t n);

/* hash_comment_digest - the digest a learned comment is remembered by: of
 * the fields that make a comment the same comment (content, author, email,
 * url), under the site's digest keys (k->digest, k->field). Each field set
 * is hashed alone, h_i = SipHash-2-4-128(field key, its bytes); then
 *   digest = SipHash-2-4-128(digest key, m || h_0 || h_1 || h_2 || h_3)
 * where m has bit i set when field i is set (h_i is 16 zero bytes when
 * not). SipHash is a PRF under a secret key, and nobody but the site holds
 * these keys, so nobody else can make a comment with a given digest, nor
 * test a known comment against one. Cannot fail. */
void hash_comment_digest(const site_keys *k, const struct thresh_comment *c,
                         unsigned char out[HASH_DIGEST_BYTES]);

/* hash_comment_digest_b2 - the digest of format 2 and earlier (thresh 0.1
 * and 0.2), kept to find comments learned then: keyed BLAKE2b-128 under the
 * model key of the four fields, each prefixed by its length + 1 (0 when
 * unset) as 8 bytes little-endian. Cannot fail. */
void hash_comment_digest_b2(const unsigned char key[HASH_MODEL_KEY_BYTES],
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
