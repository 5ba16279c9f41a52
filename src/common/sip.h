/* sip.h - SipHash-2-4 with 64-bit output, the hash of token ids, made here
 * rather than by libsodium so that a comment's ~120 ids can be made together.
 *
 * A check makes one id per feature, most of them texts of 7 to 20 bytes
 * ("cx:free", "pair:free money"), and libsodium's one-call-per-text
 * crypto_shorthash_siphash24 was a fifth of a check. Short texts are packed
 * the way SipHash reads them (sip_short) and hashed eight at a time: four
 * lanes of 64 bits in two AVX2 registers each where the processor has
 * AVX2, two texts interleaved in plain C elsewhere. Every path gives the
 * same bits as libsodium (tests/unit/test_hash.c compares them). */
#ifndef THRESH_SIP_H
#define THRESH_SIP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SIP_KEY_BYTES 16

/* SIP_SHORT_MAX - the longest text sip_short holds: 23 bytes, three
 * SipHash blocks, the last of which ends with the length byte. */
#define SIP_SHORT_MAX 23

/* A text of at most SIP_SHORT_MAX bytes as SipHash reads it: its bytes in
 * little-endian 64-bit words, zero after the text, and the text's length in
 * the top byte of its last block, w[n / 8]. sip_blocks(n) words are used. */
typedef struct sip_short {
	uint64_t w[3];
} sip_short;

/* sip_blocks - how many 8-byte blocks SipHash reads for n bytes (n <= 23). */
static inline unsigned sip_blocks(size_t n)
{
	return (unsigned)(n / 8 + 1);
}

/* sip_key - the key in the form the functions below take it. */
typedef struct sip_key {
	uint64_t k0, k1;
} sip_key;

/* sip_key_load - the 16-byte key k as two little-endian words. */
sip_key sip_key_load(const unsigned char k[SIP_KEY_BYTES]);

/* sip_hash - SipHash-2-4 of s[0..n) under k. Cannot fail. */
uint64_t sip_hash(sip_key k, const void *s, size_t n);

/* sip_load64 - the 8 bytes at p as a little-endian number. */
static inline uint64_t sip_load64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
#else
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
#endif
}

/* sip_pack - s[0..n), n <= SIP_SHORT_MAX, into b. Cannot fail. */
void sip_pack(sip_short *b, const void *s, size_t n);

/* sip_pack_padded - the same, from a buffer s with at least
 * sizeof(sip_short) bytes readable whatever n: the bytes past n are read
 * but do not count (a token built in a larger buffer). Cannot fail. */
static inline void sip_pack_padded(sip_short *b, const unsigned char *s, size_t n)
{
	for (unsigned j = 0; j < 3; j++) {
		uint64_t w = sip_load64(s + 8 * j);
		size_t have = n > 8 * j ? n - 8 * j : 0;
		/* the bytes of s[8j..8j+have) only */
		b->w[j] = have >= 8 ? w : w & ((UINT64_C(1) << (8 * have)) - 1);
	}
	b->w[n / 8] |= (uint64_t)n << 56;
}

/* sip_many - out[i] = SipHash-2-4 under k of the text packed in b[i], for
 * n texts that all have the same number of blocks (1 to 3). Cannot fail. */
void sip_many(sip_key k, const sip_short *b, size_t n, unsigned blocks, uint64_t *out);

/* sip_simd - which path sip_many takes: 1 AVX2, 0 plain C. With on >= 0,
 * sets it first (tests compare the paths): AVX2 only where the processor
 * has it. Not thread-safe while setting; returns the path now taken. */
int sip_simd(int on);

#endif
