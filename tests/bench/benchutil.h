/* benchutil.h - what the C benches share: a clock, a comparison for qsort,
 * dying with a library error, and reading comments one a line.
 *
 * Each bench is one file and one program; these are static so that each
 * takes the copy it uses. BENCH_NAME names the program in messages. */
#ifndef THRESH_BENCHUTIL_H
#define THRESH_BENCHUTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <thresh/thresh.h>

#ifndef BENCH_NAME
#error "define BENCH_NAME before including benchutil.h"
#endif

/* bench_clock - seconds on clock clk (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID). */
static inline double bench_clock(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static inline void die(const char *what, int rc)
{
	fprintf(stderr, BENCH_NAME ": %s: %s (%s)\n", what, thresh_strerror(rc),
	        thresh_errname(rc));
	exit(1);
}

/* load - one comment per non-empty line of path ("-": standard input), its
 * content what follows the line's first tab (or the whole line); a line the
 * library refuses is skipped, with a message. *count receives how many. */
static inline thresh_comment **load(const char *path, size_t *count)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	thresh_comment **cs = NULL;
	size_t n = 0, cap = 0, lcap = 0, lineno = 0;
	char *line = NULL;
	ssize_t len;
	if (!f) {
		fprintf(stderr, BENCH_NAME ": %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((len = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		char *text = line, *tab = memchr(line, '\t', (size_t)len);
		if (tab)
			text = tab + 1;
		size_t tlen = (size_t)(line + len - text);
		if (tlen == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			thresh_comment **p = realloc(cs, cap * sizeof *p);
			if (!p)
				die("load", THRESH_ENOMEM);
			cs = p;
		}
		thresh_comment *c;
		int rc = thresh_comment_new(&c);
		if (rc)
			die("thresh_comment_new", rc);
		if ((rc = thresh_comment_set(c, "content", text, tlen))) {
			fprintf(stderr, BENCH_NAME ": %s:%zu: skipped: %s\n", path, lineno,
			        thresh_strerror(rc));
			thresh_comment_free(c);
			continue;
		}
		cs[n++] = c;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	*count = n;
	return cs;
}

#endif
