/* src/lib/sip.c: thresh's own SipHash-2-4 gives libsodium's bits, one text
 * at a time and many at once, on the AVX2 path and the plain one. Token ids
 * are what a model stores: one differing bit would turn it into noise. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "sip.h"

static uint64_t sodium_id(const unsigned char key[16], const unsigned char *s, size_t n)
{
	unsigned char out[crypto_shorthash_siphash24_BYTES];
	crypto_shorthash_siphash24(out, s, n, key);
	uint64_t id = 0;
	for (int i = 7; i >= 0; i--)
		id = id << 8 | out[i];
	return id;
}

/* texts of every length up to 80 bytes under 50 random keys */
Test(sip, one_text_is_libsodiums_siphash24)
{
	cr_assert(sodium_init() >= 0);
	unsigned char key[16], s[80];
	for (int round = 0; round < 50; round++) {
		randombytes_buf(key, sizeof key);
		randombytes_buf(s, sizeof s);
		sip_key k = sip_key_load(key);
		for (size_t n = 0; n <= sizeof s; n++)
			cr_assert_eq(sip_hash(k, s, n), sodium_id(key, s, n), "round %d, %zu bytes",
			             round, n);
	}
}

Test(sip, packing_is_the_same_from_a_padded_buffer)
{
	unsigned char s[SIP_SHORT_MAX + sizeof(sip_short)];
	memset(s, 0xA5, sizeof s); /* what lies past a text must not count */
	for (size_t n = 0; n <= SIP_SHORT_MAX; n++) {
		sip_short a, b;
		for (size_t i = 0; i < n; i++)
			s[i] = (unsigned char)('a' + i);
		sip_pack(&a, s, n);
		sip_pack_padded(&b, s, n);
		for (unsigned j = 0; j < sip_blocks(n); j++)
			cr_assert_eq(a.w[j], b.w[j], "%zu bytes, word %u", n, j);
		/* the length sits in the top byte of the last block */
		cr_assert_eq(a.w[n / 8] >> 56, n);
	}
	cr_assert_eq(sip_blocks(0), 1);
	cr_assert_eq(sip_blocks(7), 1);
	cr_assert_eq(sip_blocks(8), 2);
	cr_assert_eq(sip_blocks(23), 3);
}

/* many_at_once - sip_many over 0 to 40 texts of each block count, on the
 * path asked for, against libsodium: full groups of eight, the padded
 * remainder, and fewer than four (which take the plain path). */
static void many_at_once(int simd)
{
	cr_assert(sodium_init() >= 0);
	sip_simd(simd);
	unsigned char key[16];
	randombytes_buf(key, sizeof key);
	sip_key k = sip_key_load(key);
	enum { MAX = 40 };
	unsigned char text[MAX][SIP_SHORT_MAX];
	size_t len[MAX];
	sip_short b[MAX];
	uint64_t out[MAX + 1];
	for (unsigned blocks = 1; blocks <= 3; blocks++) {
		for (size_t n = 0; n <= MAX; n++) {
			for (size_t i = 0; i < n; i++) {
				len[i] = 8 * (blocks - 1) + (size_t)randombytes_uniform(8);
				randombytes_buf(text[i], len[i]);
				sip_pack(&b[i], text[i], len[i]);
			}
			out[n] = 0x5eed; /* nothing is written past the n-th */
			sip_many(k, b, n, blocks, out);
			for (size_t i = 0; i < n; i++)
				cr_assert_eq(out[i], sodium_id(key, text[i], len[i]),
				             "simd %d, %u blocks, %zu texts, text %zu", simd, blocks, n, i);
			cr_assert_eq(out[n], 0x5eed);
		}
	}
	sip_simd(1);
}

Test(sip, many_texts_plain)
{
	cr_assert_eq(sip_simd(0), 0);
	many_at_once(0);
}

Test(sip, many_texts_avx2_where_there_is_avx2)
{
	/* on a processor without AVX2 this is the plain path again */
	many_at_once(1);
}
