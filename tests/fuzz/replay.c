/* replay.c - run a fuzz target over corpus files without libFuzzer.
 *
 *   fuzz-replay-TARGET DIR|FILE...
 *
 * Linked with one target (tests/fuzz/fuzz_*.c), it feeds every regular file
 * of each folder (sorted by name) and every file named to
 * LLVMFuzzerTestOneInput, so the seed corpus and every crash found and kept
 * there run in the normal build (gcc, no libFuzzer) as a test. A broken
 * invariant aborts (FUZZ_CHECK), which fails the test; the file being run is
 * printed first so the failure names it. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0, k;
	uint8_t *buf = malloc(cap);
	while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			uint8_t *p = realloc(buf, cap *= 2);
			if (!p) {
				free(buf);
				buf = NULL;
			} else
				buf = p;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		free(buf);
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	/* an exact-size copy, so reads past the end are caught by the sanitizers */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	size_t total = 0;
	int errors = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		struct stat st;
		if (stat(argv[a], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
			errors++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errors += run_file(argv[a]) != 0;
			total++;
			continue;
		}
		DIR *d = opendir(argv[a]);
		if (!d) {
			fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
			errors++;
			continue;
		}
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			char p[PATH_MAX];
			if (e->d_name[0] == '.' ||
			    snprintf(p, sizeof p, "%s/%s", argv[a], e->d_name) >= (int)sizeof p ||
			    stat(p, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				char **q = realloc(names, cap * sizeof *names);
				if (!q)
					return 3;
				names = q;
			}
			if (!(names[n++] = strdup(p)))
				return 3;
		}
		closedir(d);
		qsort(names, n, sizeof *names, by_name);
		for (size_t i = 0; i < n; i++) {
			errors += run_file(names[i]) != 0;
			free(names[i]);
		}
		free(names);
		total += n;
	}
	printf("replayed %zu inputs, %d unreadable\n", total, errors);
	return errors ? 1 : total ? 0 : 1;
}
