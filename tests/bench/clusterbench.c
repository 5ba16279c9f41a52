/* clusterbench.c - what the cluster costs a check, in-process.
 *
 *   thresh-clusterbench DB FILE.tsv SECONDS THREADS [AUTHORS]
 *
 * Opens the database DB (its thresh.conf decides: with a [cluster] section
 * every check asks Redis for the rate limit; without, the local limiter),
 * builds one comment per line of FILE.tsv (LABEL<TAB>TEXT, the label
 * ignored), each with one of AUTHORS e-mail addresses (default 1000) so the
 * rate limiter works as on a site, then runs THREADS threads calling
 * thresh_check (rate limit on: it changes state) for SECONDS seconds, every
 * check timed on its own. Prints one JSON object:
 *   {"checks":N,"seconds":S,"per_second":R,"p50_ms":..,"p99_ms":..,
 *    "p999_ms":..,"max_ms":..,"rate_local":L,"rate_limited":M}
 * rate_local counts the checks whose rate was judged locally (Redis away).
 * Uses the public API alone. Exit status: 0, 2 usage, 1 a thresh error. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <thresh/thresh.h>

#define BENCH_NAME "thresh-clusterbench"
#include "benchutil.h"

struct shared {
	thresh_db *db;
	thresh_comment **c;
	size_t n;
	double end;
};

struct worker {
	struct shared *sh;
	pthread_t th;
	size_t first;
	double *lat;
	size_t nlat, cap;
	unsigned long local, limited;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	for (size_t i = w->first; now() < sh->end; i++) {
		thresh_result *r;
		double t0 = now();
		int rc = thresh_check(sh->db, sh->c[i % sh->n], 0, &r);
		double t1 = now();
		if (rc) {
			w->rc = rc;
			return NULL;
		}
		for (size_t k = 0; k < thresh_result_reason_count(r); k++) {
			const char *name = thresh_result_reason(r, k);
			w->local += !strcmp(name, "rate_local");
			w->limited += !strcmp(name, "rate_limited");
		}
		thresh_result_free(r);
		if (w->nlat == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 1 << 16;
			double *p = realloc(w->lat, w->cap * sizeof *p);
			if (!p) {
				w->rc = THRESH_ENOMEM;
				return NULL;
			}
			w->lat = p;
		}
		w->lat[w->nlat++] = t1 - t0;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6) {
		fputs("usage: thresh-clusterbench DB FILE.tsv SECONDS THREADS [AUTHORS]\n", stderr);
		return 2;
	}
	double seconds = atof(argv[3]);
	int threads = atoi(argv[4]), authors = argc > 5 ? atoi(argv[5]) : 1000;
	if (seconds <= 0 || threads < 1 || threads > 64 || authors < 1)
		return 2;
	struct shared sh = {0};
	char err[512] = "";
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	int rc = thresh_db_open(argv[1], &o, &sh.db);
	if (rc) {
		fprintf(stderr, "thresh-clusterbench: %s: %s (%s)\n", argv[1], thresh_strerror(rc), err);
		return 1;
	}
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	char line[70000];
	size_t cap = 0;
	while (fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\r\n");
		line[len] = '\0';
		char *text = strchr(line, '\t');
		text = text ? text + 1 : line;
		if (!*text)
			continue;
		if (sh.n == cap) {
			cap = cap ? cap * 2 : 1024;
			sh.c = realloc(sh.c, cap * sizeof *sh.c);
			if (!sh.c)
				return 1;
		}
		char email[64];
		snprintf(email, sizeof email, "author%zu@example.org", sh.n % (size_t)authors);
		thresh_comment *c;
		if (thresh_comment_new(&c) || thresh_comment_set(c, "content", text, (size_t)-1) ||
		    thresh_comment_set(c, "email", email, (size_t)-1)) {
			thresh_comment_free(c);
			continue;
		}
		sh.c[sh.n++] = c;
	}
	fclose(f);
	if (!sh.n)
		return 2;
	thresh_db_warm(sh.db);
	struct worker *w = calloc((size_t)threads, sizeof *w);
	double t0 = now();
	sh.end = t0 + seconds;
	for (int i = 0; i < threads; i++) {
		w[i].sh = &sh;
		w[i].first = (size_t)i * (sh.n / (size_t)threads);
		pthread_create(&w[i].th, NULL, work, &w[i]);
	}
	size_t total = 0;
	unsigned long local = 0, limited = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].rc) {
			fprintf(stderr, "thresh-clusterbench: check: %s\n", thresh_strerror(w[i].rc));
			return 1;
		}
		total += w[i].nlat;
		local += w[i].local;
		limited += w[i].limited;
	}
	double elapsed = now() - t0;
	double *all = malloc((total ? total : 1) * sizeof *all);
	size_t k = 0;
	for (int i = 0; i < threads; i++) {
		memcpy(all + k, w[i].lat, w[i].nlat * sizeof *all);
		k += w[i].nlat;
		free(w[i].lat);
	}
	qsort(all, total, sizeof *all, cmp_double);
#define PCT(p) (total ? 1000 * all[(size_t)((double)(total - 1) * (p))] : 0)
	printf("{\"checks\":%zu,\"seconds\":%.3f,\"per_second\":%.1f,\"p50_ms\":%.4f,"
	       "\"p99_ms\":%.4f,\"p999_ms\":%.4f,\"max_ms\":%.4f,\"rate_local\":%lu,"
	       "\"rate_limited\":%lu}\n",
	       total, elapsed, (double)total / elapsed, PCT(0.5), PCT(0.99), PCT(0.999),
	       total ? 1000 * all[total - 1] : 0, local, limited);
	free(all);
	free(w);
	for (size_t i = 0; i < sh.n; i++)
		thresh_comment_free(sh.c[i]);
	free(sh.c);
	thresh_db_close(sh.db);
	return 0;
}
