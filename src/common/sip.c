/* sip.c - SipHash-2-4 (Aumasson and Bernstein, 2012) for token ids: one
 * text at a time, and many short texts at once. See sip.h. */
#include <stdatomic.h>
#include <string.h>

#include "sip.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SIP_AVX2 1
#include <immintrin.h>
#endif

#define C0 0x736f6d6570736575ULL /* "somepseu" */
#define C1 0x646f72616e646f6dULL /* "dorandom" */
#define C2 0x6c7967656e657261ULL /* "lygenera" */
#define C3 0x7465646279746573ULL /* "tedbytes" */

sip_key sip_key_load(const unsigned char k[SIP_KEY_BYTES])
{
	return (sip_key){sip_load64(k), sip_load64(k + 8)};
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define ROUND(v0, v1, v2, v3)                                                  \
	do {                                                                   \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);      \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                         \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                         \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);      \
	} while (0)

uint64_t sip_hash(sip_key k, const void *s, size_t n)
{
	const unsigned char *p = s;
	uint64_t v0 = k.k0 ^ C0, v1 = k.k1 ^ C1, v2 = k.k0 ^ C2, v3 = k.k1 ^ C3;
	size_t full = n & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = sip_load64(p + i);
		v3 ^= m;
		ROUND(v0, v1, v2, v3);
		ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* the last block: the bytes left over, and the length's low byte on top */
	uint64_t b = (uint64_t)(n & 0xff) << 56;
	for (size_t i = 0; i < (n & 7); i++)
		b |= (uint64_t)p[full + i] << (8 * i);
	v3 ^= b;
	ROUND(v0, v1, v2, v3);
	ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	ROUND(v0, v1, v2, v3);
	ROUND(v0, v1, v2, v3);
	ROUND(v0, v1, v2, v3);
	ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

void sip_pack(sip_short *b, const void *s, size_t n)
{
	unsigned char m[sizeof b->w] = {0};
	memcpy(m, s, n);
	m[8 * (n / 8) + 7] = (unsigned char)n; /* the top byte of the last block */
	for (int i = 0; i < 3; i++)
		b->w[i] = sip_load64(m + 8 * i);
}

/* two texts interleaved: each round of one fills the other's stalls */
static void sip_two(sip_key k, const sip_short *a, const sip_short *b, unsigned blocks,
                    uint64_t *oa, uint64_t *ob)
{
	uint64_t a0 = k.k0 ^ C0, a1 = k.k1 ^ C1, a2 = k.k0 ^ C2, a3 = k.k1 ^ C3;
	uint64_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
	for (unsigned j = 0; j < blocks; j++) {
		a3 ^= a->w[j];
		b3 ^= b->w[j];
		ROUND(a0, a1, a2, a3);
		ROUND(b0, b1, b2, b3);
		ROUND(a0, a1, a2, a3);
		ROUND(b0, b1, b2, b3);
		a0 ^= a->w[j];
		b0 ^= b->w[j];
	}
	a2 ^= 0xff;
	b2 ^= 0xff;
	for (int r = 0; r < 4; r++) {
		ROUND(a0, a1, a2, a3);
		ROUND(b0, b1, b2, b3);
	}
	*oa = a0 ^ a1 ^ a2 ^ a3;
	*ob = b0 ^ b1 ^ b2 ^ b3;
}

static void many_c(sip_key k, const sip_short *b, size_t n, unsigned blocks, uint64_t *out)
{
	size_t i = 0;
	for (; i + 2 <= n; i += 2)
		sip_two(k, &b[i], &b[i + 1], blocks, &out[i], &out[i + 1]);
	if (i < n)
		sip_two(k, &b[i], &b[i], blocks, &out[i], &out[i]);
}

#ifdef SIP_AVX2
/* Four texts a register, two registers at once: AVX2 has no 64-bit
 * rotation, so a rotation is two shifts and an OR, except by 32 (a swap of
 * halves) and by 16 (a byte shuffle). */
__attribute__((target("avx2"))) static inline __m256i rotl4(__m256i x, int b)
{
	return _mm256_or_si256(_mm256_slli_epi64(x, b), _mm256_srli_epi64(x, 64 - b));
}

#define VROUND(v0, v1, v2, v3)                                                        \
	do {                                                                          \
		v0 = _mm256_add_epi64(v0, v1); v1 = rotl4(v1, 13);                    \
		v1 = _mm256_xor_si256(v1, v0);                                        \
		v0 = _mm256_shuffle_epi32(v0, _MM_SHUFFLE(2, 3, 0, 1));               \
		v2 = _mm256_add_epi64(v2, v3); v3 = _mm256_shuffle_epi8(v3, r16);     \
		v3 = _mm256_xor_si256(v3, v2);                                        \
		v0 = _mm256_add_epi64(v0, v3); v3 = rotl4(v3, 21);                    \
		v3 = _mm256_xor_si256(v3, v0);                                        \
		v2 = _mm256_add_epi64(v2, v1); v1 = rotl4(v1, 17);                    \
		v1 = _mm256_xor_si256(v1, v2);                                        \
		v2 = _mm256_shuffle_epi32(v2, _MM_SHUFFLE(2, 3, 0, 1));               \
	} while (0)

__attribute__((target("avx2"))) static inline __m256i lane_words(const sip_short *b, unsigned j)
{
	return _mm256_set_epi64x((long long)b[3].w[j], (long long)b[2].w[j], (long long)b[1].w[j],
	                         (long long)b[0].w[j]);
}

/* sip_eight - b[0..8) into out[0..8). */
__attribute__((target("avx2"))) static void sip_eight(sip_key k, const sip_short *b,
                                                      unsigned blocks, uint64_t *out)
{
	const __m256i r16 = _mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13,
	                                     6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13);
	__m256i a0 = _mm256_set1_epi64x((long long)(k.k0 ^ C0));
	__m256i a1 = _mm256_set1_epi64x((long long)(k.k1 ^ C1));
	__m256i a2 = _mm256_set1_epi64x((long long)(k.k0 ^ C2));
	__m256i a3 = _mm256_set1_epi64x((long long)(k.k1 ^ C3));
	__m256i c0 = a0, c1 = a1, c2 = a2, c3 = a3;
	for (unsigned j = 0; j < blocks; j++) {
		__m256i m = lane_words(b, j), n = lane_words(b + 4, j);
		a3 = _mm256_xor_si256(a3, m);
		c3 = _mm256_xor_si256(c3, n);
		VROUND(a0, a1, a2, a3);
		VROUND(c0, c1, c2, c3);
		VROUND(a0, a1, a2, a3);
		VROUND(c0, c1, c2, c3);
		a0 = _mm256_xor_si256(a0, m);
		c0 = _mm256_xor_si256(c0, n);
	}
	const __m256i ff = _mm256_set1_epi64x(0xff);
	a2 = _mm256_xor_si256(a2, ff);
	c2 = _mm256_xor_si256(c2, ff);
	for (int r = 0; r < 4; r++) {
		VROUND(a0, a1, a2, a3);
		VROUND(c0, c1, c2, c3);
	}
	_mm256_storeu_si256((__m256i *)out,
	                    _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3)));
	_mm256_storeu_si256((__m256i *)(out + 4),
	                    _mm256_xor_si256(_mm256_xor_si256(c0, c1), _mm256_xor_si256(c2, c3)));
}

static void many_avx2(sip_key k, const sip_short *b, size_t n, unsigned blocks, uint64_t *out)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		sip_eight(k, b + i, blocks, out + i);
	if (i < n) {
		/* the last few padded to eight with copies of the last text */
		sip_short pad[8];
		uint64_t o[8];
		for (size_t j = 0; j < 8; j++)
			pad[j] = b[i + j < n ? i + j : n - 1];
		sip_eight(k, pad, blocks, o);
		memcpy(out + i, o, (n - i) * sizeof *o);
	}
}

static int have_avx2(void)
{
	return __builtin_cpu_supports("avx2") ? 1 : 0;
}
#else
static int have_avx2(void)
{
	return 0;
}
#endif

/* -1 until first asked: whether sip_many takes AVX2 */
static atomic_int simd = -1;

int sip_simd(int on)
{
	if (on >= 0)
		atomic_store_explicit(&simd, on && have_avx2(), memory_order_relaxed);
	int s = atomic_load_explicit(&simd, memory_order_relaxed);
	if (s < 0) {
		s = have_avx2();
		atomic_store_explicit(&simd, s, memory_order_relaxed);
	}
	return s;
}

void sip_many(sip_key k, const sip_short *b, size_t n, unsigned blocks, uint64_t *out)
{
#ifdef SIP_AVX2
	if (n >= 4 && sip_simd(-1)) {
		many_avx2(k, b, n, blocks, out);
		return;
	}
#endif
	many_c(k, b, n, blocks, out);
}
