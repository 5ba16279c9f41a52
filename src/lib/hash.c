/* hash.c - the only user of libsodium: token ids, digests and secrets. */
#include <sodium.h>
#include <string.h>

#include "thresh/error.h"
#include "comment_int.h"
#include "hash.h"

_Static_assert(HASH_DIGEST_BYTES == crypto_shorthash_siphashx24_BYTES, "a digest is SipHash-128");
_Static_assert(HASH_MODEL_KEY_BYTES == crypto_shorthash_siphashx24_KEYBYTES, "16-byte keys");
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

/* SipHash-2-4 (Aumasson and Bernstein), written out for the token ids: a
 * check makes one for each of its ~120 tokens, most of them 7 to 20 bytes,
 * and libsodium's general function spent more on its calls and its byte
 * loops than on the rounds (13% of a check at a million tokens). The
 * result is the same function, bit for bit: tests/unit/test_hash.c holds it
 * to libsodium's crypto_shorthash_siphash24 on every length from 0 to 300
 * and on random keys, and test_tokenize_pin holds the ids of a corpus. */
static inline uint64_t le64(const unsigned char *p)
{
	uint64_t v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&v, p, sizeof v);
#else
	v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
#endif
	return v;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                  \
	do {                                                                          \
		v0 += v1;                                                                 \
		v1 = ROTL(v1, 13);                                                        \
		v1 ^= v0;                                                                 \
		v0 = ROTL(v0, 32);                                                        \
		v2 += v3;                                                                 \
		v3 = ROTL(v3, 16);                                                        \
		v3 ^= v2;                                                                 \
		v0 += v3;                                                                 \
		v3 = ROTL(v3, 21);                                                        \
		v3 ^= v0;                                                                 \
		v2 += v1;                                                                 \
		v1 = ROTL(v1, 17);                                                        \
		v1 ^= v2;                                                                 \
		v2 = ROTL(v2, 32);                                                        \
	} while (0)

uint64_t hash_token(const unsigned char key[HASH_MODEL_KEY_BYTES], const void *s, size_t n)
{
	const unsigned char *p = s;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	const unsigned char *end = p + (n & ~(size_t)7);
	for (; p != end; p += 8) {
		uint64_t m = le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)n << 56;
	switch (n & 7) {
	case 7: b |= (uint64_t)p[6] << 48; /* fall through */
	case 6: b |= (uint64_t)p[5] << 40; /* fall through */
	case 5: b |= (uint64_t)p[4] << 32; /* fall through */
	case 4: b |= (uint64_t)p[3] << 24; /* fall through */
	case 3: b |= (uint64_t)p[2] << 16; /* fall through */
	case 2: b |= (uint64_t)p[1] << 8;  /* fall through */
	case 1: b |= (uint64_t)p[0]; break;
	default: break;
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
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
