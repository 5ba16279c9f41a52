/* probe.c - read a database the way the robustness tests need: message
 * counts and the counts of chosen word tokens, all from one snapshot (one
 * LMDB read transaction), which no public function gives at once.
 *
 *   thresh-probe DIR WORD...
 *       One snapshot as one line of JSON:
 *       {"spam":S,"ham":H,"learned":L,"tokens":T,"map_size":M,
 *        "words":{"WORD":[SPAM,HAM],...}}
 *
 *   thresh-probe --watch SECONDS --writers W --batch B [--total N] DIR
 *       For SECONDS (or until N comments are in), take snapshot after
 *       snapshot while writers train and
 *       check in each that no batch is half there. The writers' comments
 *       follow tests/robust/robustlib.py: every comment holds the word
 *       "common", and every comment of batch b of writer w the word
 *       "bm<w>x<b>"; a writer's batches are committed in order. So in every
 *       snapshot: each batch marker counts B or 0 (B only before the first
 *       0), spam == learned == common == B * (markers at B), ham == 0.
 *       Each round also checks the comment "common" through thresh_check
 *       (the public read path, with whatever it keeps in memory) and checks
 *       the counts it explains (check_public). Prints "N snapshots consistent"
 *       and exits 0, or prints the first inconsistent snapshot and exits 1.
 *
 * Word tokens are looked up by id: hash_token() of the word under the model
 * key, as the tokenizer makes them for a lower-case ASCII word. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thresh/thresh.h"
#include "db_int.h"

struct snap {
	uint64_t spam, ham, learned, tokens, map_size;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* snapshot - counts and the counts of words[0..n) in one read transaction. */
static int snapshot(thresh_db *db, const char *const *words, size_t n, struct snap *s,
                    tok_counts *counts)
{
	store_txn *t;
	model_meta m;
	store_info info;
	uint64_t ids[256];
	int rc;
	if (n > 256)
		return THRESH_EINVAL;
	if ((rc = store_read_begin(db->st, &t)))
		return rc;
	if (!(rc = meta_load(t, &m)) && !(rc = store_info_get(t, &info))) {
		for (size_t i = 0; i < n; i++)
			ids[i] = hash_token(m.key, words[i], strlen(words[i]));
		rc = store_tokens_get(t, ids, n, counts);
		s->spam = m.site.spam;
		s->ham = m.site.ham;
		s->learned = info.learned;
		s->tokens = info.tokens;
		s->map_size = info.map_size;
	}
	store_read_end(t);
	return rc;
}

static int open_db(const char *dir, thresh_db **db)
{
	thresh_db_options o;
	char err[256] = "";
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY | THRESH_DB_NOCONFIG;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	int rc = thresh_db_open(dir, &o, db);
	if (rc)
		fprintf(stderr, "thresh-probe: %s: %s %s\n", dir, thresh_strerror(rc), err);
	return rc;
}

static int cmd_snapshot(const char *dir, int n, char **words)
{
	thresh_db *db;
	struct snap s;
	tok_counts c[256];
	if (open_db(dir, &db))
		return 2;
	int rc = snapshot(db, (const char *const *)words, (size_t)n, &s, c);
	thresh_db_close(db);
	if (rc) {
		fprintf(stderr, "thresh-probe: %s: %s\n", dir, thresh_strerror(rc));
		return 2;
	}
	printf("{\"spam\":%" PRIu64 ",\"ham\":%" PRIu64 ",\"learned\":%" PRIu64 ",\"tokens\":%" PRIu64
	       ",\"map_size\":%" PRIu64 ",\"words\":{",
	       s.spam, s.ham, s.learned, s.tokens, s.map_size);
	for (int i = 0; i < n; i++)
		printf("%s\"%s\":[%" PRIu32 ",%" PRIu32 "]", i ? "," : "", words[i], c[i].spam, c[i].ham);
	printf("}}\n");
	return 0;
}

/* check_public - the same through the public API: thresh_check of the
 * comment "common" (whose every token is in every training comment, once)
 * explains tokens that must all count one number of spam comments, whole
 * batches, no fewer than the snapshot taken just before (before) and no more
 * than one taken just after. A read path that served some counts from an
 * older snapshot than others (a cache) would break this. */
static int check_public(thresh_db *db, thresh_comment *cm, uint32_t batch, uint64_t before,
                        unsigned long round)
{
	thresh_result *r;
	int rc = thresh_check(db, cm, THRESH_CHECK_READONLY | THRESH_CHECK_EXPLAIN, &r);
	if (rc) {
		printf("snapshot %lu: thresh_check: %s\n", round, thresh_strerror(rc));
		return 1;
	}
	uint64_t seen = UINT64_MAX;
	int bad = 0;
	for (size_t i = 0; i < thresh_result_token_count(r) && !bad; i++) {
		const char *text;
		uint64_t sp, hm;
		thresh_result_token(r, i, &text, NULL, &sp, &hm);
		if (sp == 0 && hm == 0)
			continue;
		if (hm != 0 || (seen != UINT64_MAX && sp != seen) || sp % batch || sp < before) {
			printf("snapshot %lu: thresh_check explains [%s] spam %" PRIu64 " ham %" PRIu64
			       " (other tokens %" PRIu64 ", snapshot before %" PRIu64 ")\n",
			       round, text, sp, hm, seen, before);
			bad = 1;
		}
		seen = sp;
	}
	thresh_result_free(r);
	struct snap after;
	tok_counts c;
	const char *common = "common";
	if (!bad && seen != UINT64_MAX) {
		if ((rc = snapshot(db, &common, 1, &after, &c))) {
			printf("snapshot %lu: %s\n", round, thresh_strerror(rc));
			bad = 1;
		} else if (seen > after.spam) {
			printf("snapshot %lu: thresh_check saw %" PRIu64 " spam comments, a snapshot after it %" PRIu64 "\n",
			       round, seen, after.spam);
			bad = 1;
		}
	}
	return bad;
}

#define MAX_WRITERS 8
#define MAX_BATCHES 30

static int cmd_watch(double seconds, int writers, uint32_t batch, uint64_t total, const char *dir)
{
	static char names[1 + MAX_WRITERS * (MAX_BATCHES + 1)][32];
	const char *words[1 + MAX_WRITERS * (MAX_BATCHES + 1)];
	tok_counts c[1 + MAX_WRITERS * (MAX_BATCHES + 1)];
	size_t n = 0;
	if (writers < 1 || writers > MAX_WRITERS || batch == 0) {
		fprintf(stderr, "thresh-probe: 1 to %d writers, a batch of 1 or more\n", MAX_WRITERS);
		return 2;
	}
	snprintf(names[n++], sizeof names[0], "common");
	for (int w = 0; w < writers; w++)
		for (int b = 0; b <= MAX_BATCHES; b++)
			snprintf(names[n++], sizeof names[0], "bm%dx%d", w, b);
	for (size_t i = 0; i < n; i++)
		words[i] = names[i];

	thresh_db *db;
	thresh_comment *cm;
	if (open_db(dir, &db) || thresh_comment_new(&cm))
		return 2;
	thresh_comment_set(cm, "content", "common", (size_t)-1);
	unsigned long rounds = 0;
	uint64_t last = 0, grew = 0, last_map = 0;
	double end = now() + seconds;
	int bad = 0;
	while (!bad && now() < end && !(total && last >= total)) {
		struct snap s;
		int rc = snapshot(db, words, n, &s, c);
		if (rc) {
			printf("snapshot %lu: %s\n", rounds, thresh_strerror(rc));
			bad = 1;
			break;
		}
		uint64_t committed = 0;
		for (int w = 0; w < writers && !bad; w++) {
			int gap = 0;
			for (int b = 0; b <= MAX_BATCHES; b++) {
				tok_counts *k = &c[1 + (size_t)w * (MAX_BATCHES + 1) + (size_t)b];
				if (k->ham != 0 || (k->spam != 0 && k->spam != batch) || (gap && k->spam)) {
					printf("snapshot %lu: half a batch: bm%dx%d counts spam %" PRIu32 " ham %" PRIu32
					       " (a batch is %" PRIu32 ")%s\n",
					       rounds, w, b, k->spam, k->ham, batch, gap ? " after a missing batch" : "");
					bad = 1;
					break;
				}
				gap |= k->spam == 0;
				committed += k->spam;
			}
		}
		if (!bad && (s.spam != committed || c[0].spam != s.spam || c[0].ham != 0 ||
		             s.learned != s.spam || s.ham != 0 || s.spam < last)) {
			printf("snapshot %lu: spam %" PRIu64 ", ham %" PRIu64 ", learned %" PRIu64
			       ", \"common\" %" PRIu32 "/%" PRIu32 ", whole batches %" PRIu64 ", before %" PRIu64 "\n",
			       rounds, s.spam, s.ham, s.learned, c[0].spam, c[0].ham, committed, last);
			bad = 1;
		}
		last = s.spam;
		if (s.map_size != last_map) {
			grew += last_map != 0;
			last_map = s.map_size;
		}
		if (!bad)
			bad = check_public(db, cm, batch, s.spam, rounds);
		rounds++;
	}
	thresh_comment_free(cm);
	thresh_db_close(db);
	if (bad)
		return 1;
	printf("%lu snapshots consistent, last %" PRIu64 " spam, map grown %" PRIu64 " times while watching\n",
	       rounds, last, grew);
	if (total && last < total) {
		printf("gave up after %g s: %" PRIu64 " of %" PRIu64 " comments in\n", seconds, last, total);
		return 1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: thresh-probe DIR WORD...\n"
	                "       thresh-probe --watch SECONDS --writers W --batch B [--total N] DIR\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--watch")) {
		double seconds = -1;
		int writers = 0;
		uint32_t batch = 0;
		uint64_t total = 0;
		int i = 1;
		for (; i + 1 < argc; i += 2) {
			if (!strcmp(argv[i], "--watch"))
				seconds = atof(argv[i + 1]);
			else if (!strcmp(argv[i], "--writers"))
				writers = atoi(argv[i + 1]);
			else if (!strcmp(argv[i], "--batch"))
				batch = (uint32_t)strtoul(argv[i + 1], NULL, 10);
			else if (!strcmp(argv[i], "--total"))
				total = strtoull(argv[i + 1], NULL, 10);
			else
				return usage();
		}
		if (i != argc - 1 || seconds <= 0)
			return usage();
		return cmd_watch(seconds, writers, batch, total, argv[i]);
	}
	if (argc < 2 || argv[1][0] == '-')
		return usage();
	return cmd_snapshot(argv[1], argc - 2, argv + 2);
}
