/* hash.c - the only user of libsodium: token ids, digests and secrets. */
#include <sodium.h>
#include <string.h>

#include "thresh/error.h"
#include "comment_int.h"
#include "hash.h"
#include "sip.h"

_Static_assert(HASH_DIGEST_BYTES == crypto_shorthash_siphashx24_BYTES, "a digest is SipHash-128");
_Static_assert(HASH_MODEL_KEY_BYTES == crypto_shorthash_siphashx24_KEYBYTES, "16-byte keys");
_Static_assert(HASH_MODEL_KEY_BYTES == SIP_KEY_BYTES, "token ids are SipHash-2-4");
_Static_assert(HASH_SECRET_BYTES == crypto_kdf_KEYBYTES, "keys derive from the secret");

int hash_init(void)
{
	/* sodium_init is idempotent and thread-safe; 1 means "already done". */
	return sodium_init() < 0 ? THRESH_ENOMEM : 0;
}

void hash_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

uint64_t hash_token(const unsigned char key[HASH_MODEL_KEY_BYTES], const void *s, size_t n)
{
	/* sip.c's SipHash-2-4, libsodium's bits, with the output as a
	 * little-endian number whatever the host (SipHash's definition) */
	return sip_hash(sip_key_load(key), s, n);
}

static const enum comment_field digest_parts[] = {F_CONTENT, F_AUTHOR, F_EMAIL, F_URL};
#define DIGEST_PARTS (sizeof digest_parts / sizeof digest_parts[0])

void hash_derive(unsigned char *out, size_t len, uint64_t id, const char ctx[8],
                 const unsigned char key[HASH_SECRET_BYTES])
{
	crypto_kdf_derive_from_key(out, len, id, ctx, key);
}

void hash_site_keys(site_keys *k)
{
	if (!k->own_root)
		hash_derive(k->root, sizeof k->root, 0, "thrshdig", k->secret);
	hash_derive(k->ident, sizeof k->ident, 1, "thrshidt", k->secret);
	hash_derive(k->digest, sizeof k->digest, 1, "thrshdig", k->root);
	hash_derive(k->field, sizeof k->field, 2, "thrshdig", k->root);
}

void hash_comment_digest(const site_keys *k, const struct thresh_comment *c,
                         unsigned char out[HASH_DIGEST_BYTES])
{
	unsigned char m[1 + DIGEST_PARTS * crypto_shorthash_siphashx24_BYTES] = {0};
	for (size_t i = 0; i < DIGEST_PARTS; i++) {
		enum comment_field f = digest_parts[i];
		if (!c->val[f])
			continue;
		m[0] |= (unsigned char)(1u << i);
		crypto_shorthash_siphashx24(m + 1 + i * crypto_shorthash_siphashx24_BYTES,
		                            (const unsigned char *)c->val[f], c->len[f], k->field);
	}
	crypto_shorthash_siphashx24(out, m, sizeof m, k->digest);
}

void hash_comment_digest_b2(const unsigned char key[HASH_MODEL_KEY_BYTES],
                            const struct thresh_comment *c,
                            unsigned char out[HASH_DIGEST_BYTES])
{
	const enum comment_field *parts = digest_parts;
	crypto_generichash_state st;
	crypto_generichash_init(&st, key, HASH_MODEL_KEY_BYTES, HASH_DIGEST_BYTES);
	for (size_t i = 0; i < DIGEST_PARTS; i++) {
		/* Length-prefix each field so ("ab","") and ("a","b") differ. */
		uint64_t n = c->val[parts[i]] ? c->len[parts[i]] + 1 : 0;
		unsigned char len[8];
		for (int k = 0; k < 8; k++)
			len[k] = (unsigned char)(n >> (8 * k));
		crypto_generichash_update(&st, len, sizeof len);
		if (n)
			crypto_generichash_update(&st, (const unsigned char *)c->val[parts[i]],
			                          c->len[parts[i]]);
	}
	crypto_generichash_final(&st, out, HASH_DIGEST_BYTES);
}

void hash_bytes(const void *key, size_t klen, const void *data, size_t len, unsigned char *out,
                size_t outlen)
{
	crypto_generichash(out, outlen, data, len, key, key ? klen : 0);
}

void hash_identity(const unsigned char secret[HASH_SECRET_BYTES], char kind, const void *s,
                   size_t n, unsigned char out[HASH_ID_BYTES])
{
	crypto_generichash_state st;
	unsigned char k = (unsigned char)kind;
	crypto_generichash_init(&st, secret, HASH_SECRET_BYTES, HASH_ID_BYTES);
	crypto_generichash_update(&st, &k, 1);
	crypto_generichash_update(&st, s, n);
	crypto_generichash_final(&st, out, HASH_ID_BYTES);
}

void hash_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

int hash_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}
