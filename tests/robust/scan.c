/* thresh-scan - what a token id list reveals to someone who holds the model
 * key: every IPv4 /24 found among the ids, and each guessed token given.
 *
 *   thresh-scan KEY [TOKEN...] < IDS
 *
 * KEY is the model key (32 hex digits, the "key" line of an export); IDS are
 * token ids, 16 hex digits each, one a line (as an export writes them, or
 * decoded from the cluster's events and snapshots). Prints one line per
 * finding ("ip24:a.b.c", or the TOKEN) and exits 0; 2 on bad input. The
 * cluster's privacy test (tests/cluster/test_cluster.py) runs it on the
 * ids Redis holds. */
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "scan.h"

static void print24(unsigned a, unsigned b, unsigned c, void *ctx)
{
	(void)ctx;
	printf("ip24:%u.%u.%u\n", a, b, c);
}

int main(int argc, char **argv)
{
	unsigned char key[16];
	char line[128];
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;
	if (argc < 2 || strlen(argv[1]) != 32) {
		fprintf(stderr, "usage: thresh-scan KEY [TOKEN...] < IDS\n");
		return 2;
	}
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(argv[1] + 2 * i, "%2x", &v) != 1)
			return 2;
		key[i] = (unsigned char)v;
	}
	if (hash_init())
		return 2;
	while (fgets(line, sizeof line, stdin)) {
		unsigned long long id;
		if (sscanf(line, "%16llx", &id) != 1)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			uint64_t *p = realloc(ids, cap * sizeof *ids);
			if (!p)
				return 2;
			ids = p;
		}
		ids[n++] = id;
	}
	scan_sort(ids, n);
	scan_ip24(key, ids, n, print24, NULL);
	for (int i = 2; i < argc; i++)
		if (scan_token(key, ids, n, argv[i]))
			printf("%s\n", argv[i]);
	free(ids);
	return 0;
}
