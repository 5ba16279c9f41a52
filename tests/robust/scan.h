/* scan.h - what someone holding a model's token ids and its key can test:
 * every IPv4 /24 (2^24 guesses of "ip24:a.b.c") and any guessed token text,
 * hashed as the tokenizer hashes them under the model key. Shared by the
 * privacy suite (test_privacy.c, against an export) and thresh-scan (scan.c,
 * against ids found anywhere else: the cluster's Redis log). */
#ifndef THRESH_TEST_SCAN_H
#define THRESH_TEST_SCAN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static int scan_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* scan_sort - sort ids for scan_has. */
static inline void scan_sort(uint64_t *ids, size_t n)
{
	qsort(ids, n, sizeof *ids, scan_cmp_u64);
}

/* scan_has - id among the sorted ids[0..n). */
static inline int scan_has(const uint64_t *ids, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid] < id)
			lo = mid + 1;
		else if (ids[mid] > id)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/* scan_token - the guessed token text among the sorted ids under key. */
static inline int scan_token(const unsigned char key[16], const uint64_t *ids, size_t n,
                             const char *text)
{
	return scan_has(ids, n, hash_token(key, text, strlen(text)));
}

/* scan_ip24 - try every IPv4 /24 under key: found(a, b, c) for each
 * "ip24:a.b.c" among the sorted ids. Returns how many were found. */
static inline size_t scan_ip24(const unsigned char key[16], const uint64_t *ids, size_t n,
                               void (*found)(unsigned a, unsigned b, unsigned c, void *ctx),
                               void *ctx)
{
	size_t hits = 0;
	char t[32];
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			int k = snprintf(t, sizeof t, "ip24:%u.%u.", a, b);
			for (unsigned c = 0; c < 256; c++) {
				int m = k;
				if (c >= 100)
					t[m++] = (char)('0' + c / 100);
				if (c >= 10)
					t[m++] = (char)('0' + c / 10 % 10);
				t[m++] = (char)('0' + c % 10);
				if (scan_has(ids, n, hash_token(key, t, (size_t)m))) {
					hits++;
					if (found)
						found(a, b, c, ctx);
				}
			}
		}
	return hits;
}

#endif
