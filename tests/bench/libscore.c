/* libscore.c - in-process scoring speed of libthresh, on one core.
 *
 *   thresh-libscore [--min-seconds S] [--passes N] [--check] DB FILE.tsv
 *
 * Opens the database DB read-only, reads FILE.tsv (LABEL<TAB>TEXT per line;
 * the text before the first tab is ignored, a line without a tab is all
 * text, empty lines are skipped), builds every comment in memory first, then
 * scores all of them through one thresh_view (thresh_view_check) over and
 * over until at least S seconds (default 2) have passed, or exactly N passes
 * with --passes (for profilers such as valgrind --tool=callgrind, where the
 * wall clock means nothing). Only the scoring loop is timed: reading the file
 * and building the comments are not.
 *
 * With --check it also times thresh_check (one view, that is one LMDB read
 * transaction, opened and closed per comment), as a server calling
 * thresh_check for each incoming comment would.
 *
 * Each pass over all comments is timed on its own. Prints one JSON object:
 *   {"comments":N,"passes":P,"seconds":S,"cpu_seconds":C,
 *    "per_second":R,"per_second_mean":RM,"per_second_best":RB,
 *    "cpu_per_second":RC,"us_per_comment":U,"score_sum":X,
 *    "rejected":J,"held":H,"check_per_second":R2}
 * per_second and us_per_comment come from the median pass, so a burst of
 * load from other processes does not move them much; per_second_mean is all
 * comments over all the wall time, cpu_per_second over the process's CPU
 * time. check_per_second is there only with --check. score_sum and the
 * verdict counts of the last pass keep the work observable.
 * Exit status: 0, 2 usage, 1 any thresh error. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <thresh/thresh.h>

#define BENCH_NAME "thresh-libscore"
#include "benchutil.h"

static void usage(void)
{
	fputs("usage: thresh-libscore [--min-seconds S] [--passes N] [--check] DB FILE.tsv\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	double min_seconds = 2.0;
	long passes_wanted = 0;
	int with_check = 0, i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--min-seconds") && i + 1 < argc)
			min_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--passes") && i + 1 < argc)
			passes_wanted = atol(argv[++i]);
		else if (!strcmp(argv[i], "--check"))
			with_check = 1;
		else
			usage();
	}
	if (argc - i != 2)
		usage();
	const char *dbdir = argv[i], *path = argv[i + 1];

	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY;
	char err[256] = "";
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	thresh_db *db;
	int rc = thresh_db_open(dbdir, &o, &db);
	if (rc) {
		fprintf(stderr, "thresh-libscore: %s: %s %s\n", dbdir, thresh_strerror(rc), err);
		return 1;
	}
	size_t n;
	thresh_comment **cs = load(path, &n);
	if (n == 0) {
		fprintf(stderr, "thresh-libscore: %s: no comments\n", path);
		return 1;
	}

	thresh_view *v;
	if ((rc = thresh_view_open(db, &v)))
		die("thresh_view_open", rc);
	double *pass_s = NULL, sum = 0, t0 = bench_clock(CLOCK_MONOTONIC),
	       c0 = bench_clock(CLOCK_PROCESS_CPUTIME_ID), t1 = t0;
	size_t passes = 0, pcap = 0, rejected = 0, held = 0;
	do {
		double p0 = t1;
		sum = 0;
		rejected = held = 0;
		for (size_t k = 0; k < n; k++) {
			thresh_result *r;
			if ((rc = thresh_view_check(v, cs[k], 0, &r)))
				die("thresh_view_check", rc);
			sum += thresh_result_score(r);
			thresh_verdict vd = thresh_result_verdict(r);
			rejected += vd == THRESH_REJECT;
			held += vd == THRESH_HOLD;
			thresh_result_free(r);
		}
		t1 = bench_clock(CLOCK_MONOTONIC);
		if (passes == pcap) {
			pcap = pcap ? pcap * 2 : 64;
			double *p = realloc(pass_s, pcap * sizeof *p);
			if (!p)
				die("passes", THRESH_ENOMEM);
			pass_s = p;
		}
		pass_s[passes++] = t1 - p0;
	} while (passes_wanted > 0 ? passes < (size_t)passes_wanted : t1 - t0 < min_seconds);
	double cpu = bench_clock(CLOCK_PROCESS_CPUTIME_ID) - c0, wall = t1 - t0;
	thresh_view_close(v);
	double total = (double)n * (double)passes;
	qsort(pass_s, passes, sizeof *pass_s, cmp_double);
	double median = passes % 2 ? pass_s[passes / 2]
	                           : (pass_s[passes / 2 - 1] + pass_s[passes / 2]) / 2;
	double best = pass_s[0];
	free(pass_s);

	double check_rate = -1;
	if (with_check) {
		double s0 = bench_clock(CLOCK_MONOTONIC), s1;
		size_t cp = 0;
		do {
			for (size_t k = 0; k < n; k++) {
				thresh_result *r;
				if ((rc = thresh_check(db, cs[k], THRESH_CHECK_READONLY, &r)))
					die("thresh_check", rc);
				thresh_result_free(r);
			}
			cp++;
			s1 = bench_clock(CLOCK_MONOTONIC);
		} while (passes_wanted > 0 ? cp < (size_t)passes_wanted : s1 - s0 < min_seconds);
		check_rate = (double)n * (double)cp / (s1 - s0);
	}

	printf("{\"comments\":%zu,\"passes\":%zu,\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
	       "\"per_second\":%.1f,\"per_second_mean\":%.1f,\"per_second_best\":%.1f,"
	       "\"cpu_per_second\":%.1f,\"us_per_comment\":%.4f,"
	       "\"score_sum\":%.6f,\"rejected\":%zu,\"held\":%zu",
	       n, passes, wall, cpu, (double)n / median, total / wall, (double)n / best,
	       cpu > 0 ? total / cpu : 0.0, median / (double)n * 1e6, sum, rejected, held);
	if (with_check)
		printf(",\"check_per_second\":%.1f", check_rate);
	puts("}");

	for (size_t k = 0; k < n; k++)
		thresh_comment_free(cs[k]);
	free(cs);
	thresh_db_close(db);
	return 0;
}
