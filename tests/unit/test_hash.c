/* src/lib/hash.c: known-answer tests of token ids (SipHash-2-4), the keys a
 * site derives from its secret (crypto_kdf), comment digests (SipHash-128
 * under them, and keyed BLAKE2b of format 2), and hash_equal. */
#include <criterion/criterion.h>
#include <string.h>

#include "comment_int.h"
#include "hash.h"
#include "thresh/thresh.h"

static const unsigned char key16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

Test(hash, siphash24_reference_vectors)
{
	/* The first vectors of the SipHash-2-4 paper (key 00..0f, message
	 * 00..len-1), read as little-endian 64-bit numbers. */
	static const uint64_t expect[4] = {
		0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
	};
	unsigned char msg[4] = {0, 1, 2, 3};
	cr_assert_eq(hash_init(), 0);
	for (size_t n = 0; n < 4; n++)
		cr_expect_eq(hash_token(key16, msg, n), expect[n], "length %zu: %016llx", n,
		             (unsigned long long)hash_token(key16, msg, n));
}

Test(hash, token_id_depends_on_key)
{
	unsigned char other[16] = {0};
	cr_assert_eq(hash_init(), 0);
	cr_expect_neq(hash_token(key16, "free", 4), hash_token(other, "free", 4));
	cr_expect_eq(hash_token(key16, "free", 4), hash_token(key16, "free", 4));
}

Test(hash, legacy_comment_digest_known_answer)
{
	/* BLAKE2b-128 keyed with key16 over four length-prefixed fields:
	 * content "hi" -> (3 as u64 LE) "hi", then three unset fields (0 as u64).
	 * The digest of format 2, still looked up while a database keeps any. */
	thresh_comment *c;
	unsigned char d[16];
	static const unsigned char expect[16] = {
#include "digest_kat.inc"
	};
	cr_assert_eq(hash_init(), 0);
	cr_assert_eq(thresh_comment_new(&c), 0);
	cr_assert_eq(thresh_comment_set(c, "content", "hi", 2), 0);
	hash_comment_digest_b2(key16, c, d);
	cr_expect_arr_eq(d, expect, 16);
	thresh_comment_free(c);
}

#include "site_keys_kat.inc"

/* The keys a secret derives (crypto_kdf), and the digest and an identity
 * token under them, against tests/unit/site_keys_kat.py, which computes
 * them with its own SipHash and Python's BLAKE2b. */
Test(hash, site_keys_known_answers)
{
	site_keys a, b;
	cr_assert_eq(hash_init(), 0);
	memset(&a, 0, sizeof a);
	for (int i = 0; i < 32; i++)
		a.secret[i] = (unsigned char)i;
	hash_site_keys(&a);
	cr_expect_arr_eq(a.root, kat_a_root, 32);
	cr_expect_arr_eq(a.ident, kat_a_ident, 16);
	cr_expect_arr_eq(a.digest, kat_a_digest, 16);
	cr_expect_arr_eq(a.field, kat_a_field, 16);
	/* a new secret beside a kept root: new identity key, same digests' keys */
	memset(&b, 0, sizeof b);
	for (int i = 0; i < 32; i++)
		b.secret[i] = (unsigned char)(32 + i);
	memcpy(b.root, a.root, sizeof b.root);
	b.own_root = 1;
	hash_site_keys(&b);
	cr_expect_arr_eq(b.root, kat_b_root, 32);
	cr_expect_arr_eq(b.ident, kat_b_ident, 16);
	cr_expect_arr_eq(b.digest, kat_b_digest, 16);
	cr_expect_arr_eq(b.field, kat_b_field, 16);

	thresh_comment *c;
	unsigned char d[16];
	cr_assert_eq(thresh_comment_new(&c), 0);
	cr_assert_eq(thresh_comment_set(c, "content", "hi", 2), 0);
	cr_assert_eq(thresh_comment_set(c, "author", "Ann", 3), 0);
	cr_assert_eq(thresh_comment_set(c, "url", "", 0), 0);
	hash_comment_digest(&a, c, d);
	cr_expect_arr_eq(d, kat_digest, 16);
	thresh_comment_free(c);
	cr_expect_eq(hash_token(a.ident, "ip24:203.0.113", 14), kat_ip24);
}

Test(hash, comment_digest_separates_fields)
{
	thresh_comment *a, *b;
	unsigned char da[16], db[16];
	site_keys k;
	cr_assert_eq(hash_init(), 0);
	memset(&k, 0, sizeof k);
	memcpy(k.secret, key16, 16);
	hash_site_keys(&k);
	thresh_comment_new(&a);
	thresh_comment_new(&b);
	thresh_comment_set(a, "content", "ab", 2);
	thresh_comment_set(b, "content", "a", 1);
	thresh_comment_set(b, "author", "b", 1);
	hash_comment_digest(&k, a, da);
	hash_comment_digest(&k, b, db);
	cr_expect(memcmp(da, db, 16) != 0, "\"ab\"+\"\" must differ from \"a\"+\"b\"");
	hash_comment_digest_b2(key16, a, da);
	hash_comment_digest_b2(key16, b, db);
	cr_expect(memcmp(da, db, 16) != 0, "\"ab\"+\"\" must differ from \"a\"+\"b\" (format 2)");
	/* a field set empty is not a field unset; swapped fields differ */
	thresh_comment_reset(b);
	thresh_comment_set(b, "content", "ab", 2);
	hash_comment_digest(&k, a, da);
	thresh_comment_set(b, "url", "", 0);
	hash_comment_digest(&k, b, db);
	cr_expect(memcmp(da, db, 16) != 0, "an empty url is a url");
	thresh_comment_reset(b);
	thresh_comment_set(b, "author", "ab", 2);
	hash_comment_digest(&k, b, db);
	cr_expect(memcmp(da, db, 16) != 0, "content \"ab\" is not author \"ab\"");
	/* ip and user agent do not make a comment a different comment */
	thresh_comment_set(a, "ip", "192.0.2.1", (size_t)-1);
	hash_comment_digest(&k, a, db);
	cr_expect(memcmp(da, db, 16) == 0);
	/* another site's keys, another digest */
	site_keys o = k;
	o.secret[0] ^= 1;
	hash_site_keys(&o);
	hash_comment_digest(&o, a, db);
	cr_expect(memcmp(da, db, 16) != 0);
	thresh_comment_free(a);
	thresh_comment_free(b);
}

Test(hash, equal_is_exact)
{
	unsigned char a[32] = {1}, b[32] = {1};
	cr_expect(hash_equal(a, b, 32));
	b[31] = 1;
	cr_expect(!hash_equal(a, b, 32));
}
