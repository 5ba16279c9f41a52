/* shareprior.c - the memory an open site costs, with and without
 * THRESH_DB_SHARE_PRIOR, and what the flag costs a check.
 *
 *   thresh-shareprior [--sites N] [--seconds S] [--checks K] WORKDIR FILE.tsv
 *
 * Makes N database folders (default 200) under WORKDIR from the default
 * model ($THRESH_MODEL, else the installed one), unless they are there
 * already, and reads the comments of FILE.tsv (LABEL<TAB>TEXT per line, as
 * thresh-libscore reads them). Then, in a child process of its own for each
 * mode (without the flag: "whole", with it: "share"), opens every folder,
 * warms its handle (thresh_db_warm) and checks K comments on it (default
 * 5, thresh_check as a server calls it), and reads VmRSS, RssAnon and
 * RssFile from /proc/self/status before the first handle, after it, and
 * after the last: a handle's cost is the growth from the first handle to
 * the last over N - 1 (the first also pays for what is made once, the
 * shared table among it). Last, one more child opens folder 0 without the
 * flag and folder 1 with it and times thresh_check (read-only) over all the
 * comments on each in turn, pass by pass, for S seconds each (default 3),
 * and prints the median pass's checks per second. The sum of the scores on
 * each is printed too (as %a): the same bits with and without the flag.
 * Prints figures, asserts nothing. Exit status: 0, 2 usage, 1 any error. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <thresh/thresh.h>

#define BENCH_NAME "thresh-shareprior"
#include "benchutil.h"

static void usage(void)
{
	fputs("usage: thresh-shareprior [--sites N] [--seconds S] [--checks K] WORKDIR FILE.tsv\n",
	      stderr);
	exit(2);
}

/* Memory of the process, in KiB, from /proc/self/status. */
struct mem {
	long rss, anon, file;
};

static struct mem mem_now(void)
{
	struct mem m = {-1, -1, -1};
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) {
		perror("thresh-shareprior: /proc/self/status");
		exit(1);
	}
	while (fgets(line, sizeof line, f)) {
		sscanf(line, "VmRSS: %ld kB", &m.rss);
		sscanf(line, "RssAnon: %ld kB", &m.anon);
		sscanf(line, "RssFile: %ld kB", &m.file);
	}
	fclose(f);
	return m;
}

static void site_path(char *buf, size_t size, const char *work, int i)
{
	snprintf(buf, size, "%s/site-%03d", work, i);
}

static thresh_db *open_site(const char *work, int i, unsigned flags)
{
	char path[4096], err[256] = "";
	thresh_db_options o;
	thresh_db *db;
	thresh_db_options_init(&o);
	o.flags = flags;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	site_path(path, sizeof path, work, i);
	int rc = thresh_db_open(path, &o, &db);
	if (rc) {
		fprintf(stderr, "thresh-shareprior: %s: %s\n", path, err);
		exit(1);
	}
	return db;
}

/* What a child reports, in memory shared with the parent. */
struct report {
	struct mem base, one, all;
	double per_second[2]; /* whole, share */
	double sum[2];
};

/* measure - open, warm and check every site in one mode, and the memory. */
static void measure(const char *work, int sites, unsigned flags, thresh_comment **cs, size_t n,
                    int checks, struct report *r)
{
	thresh_db **dbs = calloc((size_t)sites, sizeof *dbs);
	if (!dbs)
		die("sites", THRESH_ENOMEM);
	r->base = mem_now();
	for (int i = 0; i < sites; i++) {
		dbs[i] = open_site(work, i, flags);
		int rc = thresh_db_warm(dbs[i]);
		if (rc)
			die("thresh_db_warm", rc);
		for (int k = 0; k < checks; k++) {
			thresh_result *res;
			if ((rc = thresh_check(dbs[i], cs[(size_t)(i * checks + k) % n], 0, &res)))
				die("thresh_check", rc);
			thresh_result_free(res);
		}
		if (i == 0)
			r->one = mem_now();
	}
	r->all = mem_now();
	for (int i = 0; i < sites; i++)
		thresh_db_close(dbs[i]);
	free(dbs);
}

/* pass - check every comment once on db; the sum of their scores. */
static double pass(thresh_db *db, thresh_comment **cs, size_t n)
{
	double sum = 0;
	for (size_t k = 0; k < n; k++) {
		thresh_result *res;
		int rc = thresh_check(db, cs[k], THRESH_CHECK_READONLY, &res);
		if (rc)
			die("thresh_check", rc);
		sum += thresh_result_score(res);
		thresh_result_free(res);
	}
	return sum;
}

/* speed - checks per second on one handle without the flag and one with
 * it, pass by pass in turn, so that a burst of load falls on both. */
static void speed(const char *work, thresh_comment **cs, size_t n, double seconds,
                  struct report *r)
{
	thresh_db *db[2] = {open_site(work, 0, 0), open_site(work, 1, THRESH_DB_SHARE_PRIOR)};
	size_t cap = 4096, np = 0;
	double *t[2] = {malloc(cap * sizeof(double)), malloc(cap * sizeof(double))};
	if (!t[0] || !t[1])
		die("speed", THRESH_ENOMEM);
	for (int m = 0; m < 2; m++) {
		int rc = thresh_db_warm(db[m]);
		if (rc)
			die("thresh_db_warm", rc);
		r->sum[m] = pass(db[m], cs, n); /* and a warm-up */
	}
	double t0 = now();
	while (np < cap && now() - t0 < 2 * seconds) {
		for (int m = 0; m < 2; m++) {
			double p0 = now();
			pass(db[m], cs, n);
			t[m][np] = now() - p0;
		}
		np++;
	}
	for (int m = 0; m < 2; m++) {
		qsort(t[m], np, sizeof(double), cmp_double);
		double median = np % 2 ? t[m][np / 2] : (t[m][np / 2 - 1] + t[m][np / 2]) / 2;
		r->per_second[m] = (double)n / median;
		free(t[m]);
		thresh_db_close(db[m]);
	}
}

/* in_child - run fn's part in a child process, its report into *r. */
static void in_child(struct report *shared, int what, const char *work, int sites,
                     thresh_comment **cs, size_t n, int checks, double seconds)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("thresh-shareprior: fork");
		exit(1);
	}
	if (pid == 0) {
		if (what < 2)
			measure(work, sites, what ? THRESH_DB_SHARE_PRIOR : 0, cs, n, checks, &shared[what]);
		else
			speed(work, cs, n, seconds, &shared[2]);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "thresh-shareprior: a measuring child failed\n");
		exit(1);
	}
}

static void print_mode(const char *name, const struct report *r, int sites)
{
	double d = sites > 1 ? sites - 1 : 1;
	printf("%-6s  %9.0f  %9.0f  %9.0f    %9ld  %9ld  %9ld\n", name,
	       (double)(r->all.rss - r->one.rss) / d, (double)(r->all.anon - r->one.anon) / d,
	       (double)(r->all.file - r->one.file) / d, r->one.rss - r->base.rss,
	       r->one.anon - r->base.anon, r->one.file - r->base.file);
}

int main(int argc, char **argv)
{
	int sites = 200, checks = 5, i;
	double seconds = 3;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--sites") && i + 1 < argc)
			sites = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--checks") && i + 1 < argc)
			checks = atoi(argv[++i]);
		else
			usage();
	}
	if (argc - i != 2 || sites < 2 || checks < 0 || seconds <= 0)
		usage();
	const char *work = argv[i], *path = argv[i + 1];
	if (mkdir(work, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "thresh-shareprior: %s: %s\n", work, strerror(errno));
		return 1;
	}

	double t0 = now();
	int made = 0;
	for (int s = 0; s < sites; s++) {
		char p[4096];
		site_path(p, sizeof p, work, s);
		if (access(p, F_OK) == 0)
			continue;
		thresh_db_close(open_site(work, s, THRESH_DB_CREATE));
		made++;
	}
	if (made)
		printf("made %d sites from the default model in %.1f s (%.2f s each)\n", made,
		       now() - t0, (now() - t0) / made);
	size_t n;
	thresh_comment **cs = load(path, &n);
	if (n == 0) {
		fprintf(stderr, "thresh-shareprior: %s: no comments\n", path);
		return 1;
	}

	struct report *r = mmap(NULL, 3 * sizeof *r, PROT_READ | PROT_WRITE,
	                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		perror("thresh-shareprior: mmap");
		return 1;
	}
	memset(r, 0, 3 * sizeof *r);
	for (int what = 0; what < 3; what++)
		in_child(r, what, work, sites, cs, n, checks, seconds);

	printf("\n%d sites, each opened, warmed and %d comments checked on it (KiB)\n", sites,
	       checks);
	printf("        %-31s    %s\n", "per handle (handles 2..N)", "the first handle");
	printf("mode    %9s  %9s  %9s    %9s  %9s  %9s\n", "VmRSS", "RssAnon", "RssFile", "VmRSS",
	       "RssAnon", "RssFile");
	print_mode("whole", &r[0], sites);
	print_mode("share", &r[1], sites);
	printf("after %d handles: VmRSS %ld KiB whole, %ld KiB share (%.1fx less)\n", sites,
	       r[0].all.rss - r[0].base.rss, r[1].all.rss - r[1].base.rss,
	       (double)(r[0].all.rss - r[0].base.rss) / (double)(r[1].all.rss - r[1].base.rss));

	printf("\nchecks/s on one handle, %zu comments a pass, median pass (read-only checks)\n", n);
	printf("whole   %9.0f   score sum %a\n", r[2].per_second[0], r[2].sum[0]);
	printf("share   %9.0f   score sum %a\n", r[2].per_second[1], r[2].sum[1]);
	printf("share / whole: %.3f; the same scores: %s\n", r[2].per_second[1] / r[2].per_second[0],
	       memcmp(&r[2].sum[0], &r[2].sum[1], sizeof(double)) ? "NO" : "yes");
	for (size_t k = 0; k < n; k++)
		thresh_comment_free(cs[k]);
	free(cs);
	return 0;
}
