/* fuzz_dump - the dump importer (thresh_db_import) against any file.
 *
 * Input: the bytes of a dump file. One empty database is opened per process
 * (in a temporary folder) and every input is imported into it, replacing
 * the model. Checked:
 *   - a refused dump gives THRESH_EFORMAT ("line N: ..." in errbuf) or
 *     THRESH_EVERSION, and leaves the statistics exactly as they were;
 *   - after an accepted dump the database still checks a comment, with a
 *     score in [0, 1];
 *   - export, import of that export, and export again give the same file
 *     and the same statistics (the format round-trips);
 *   - merging the dump into itself keeps the tokens and learned digests and
 *     never makes a message count smaller (no wrap-around). */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/thresh.h"

#include "fuzz_util.h"

static thresh_db *db;

static void close_db(void)
{
	thresh_db_close(db);
	db = NULL;
}

static void open_db(void)
{
	char path[PATH_MAX];
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY | THRESH_DB_NOCONFIG;
	fuzz_path(path, "db");
	int rc = thresh_db_open(path, &o, &db);
	FUZZ_CHECK(rc == 0, "open %s: %s", path, thresh_strerror(rc));
	atexit(close_db); /* runs before fuzz_dir's cleanup (registered earlier) */
}

static thresh_stats stats(void)
{
	thresh_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	int rc = thresh_db_stats(db, &st);
	FUZZ_CHECK(rc == 0, "stats: %s", thresh_strerror(rc));
	return st;
}

static int same_stats(const thresh_stats *a, const thresh_stats *b)
{
	return a->tokenizer == b->tokenizer && a->spam_messages == b->spam_messages &&
	       a->ham_messages == b->ham_messages && a->tokens == b->tokens && a->learned == b->learned;
}

#define STATS_FMT "tokenizer %" PRIu32 ", %" PRIu64 " spam, %" PRIu64 " ham, %" PRIu64 " tokens, %" PRIu64 " learned"
#define STATS_ARGS(s) (s).tokenizer, (s).spam_messages, (s).ham_messages, (s).tokens, (s).learned

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	FUZZ_CHECK(f, "open %s", path);
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	FUZZ_CHECK(s, "out of memory");
	for (size_t k; (k = fread(s + n, 1, cap - n, f)) > 0;) {
		n += k;
		if (n == cap) {
			s = realloc(s, cap *= 2);
			FUZZ_CHECK(s, "out of memory");
		}
	}
	fclose(f);
	*len = n;
	return s;
}

static void check_scores(void)
{
	thresh_comment *c;
	thresh_result *r;
	FUZZ_CHECK(thresh_comment_new(&c) == 0, "comment");
	thresh_comment_set(c, "content", "Free money at http://example.com now!!!", (size_t)-1);
	thresh_comment_set(c, "author", "someone", (size_t)-1);
	int rc = thresh_check(db, c, THRESH_CHECK_READONLY | THRESH_CHECK_EXPLAIN, &r);
	FUZZ_CHECK(rc == 0, "check after an accepted dump: %s", thresh_strerror(rc));
	double s = thresh_result_score(r);
	FUZZ_CHECK(s >= 0 && s <= 1, "score %g", s);
	for (size_t i = 0; i < thresh_result_token_count(r); i++) {
		double p;
		FUZZ_CHECK(thresh_result_token(r, i, NULL, &p, NULL, NULL) == 0, "token %zu", i);
		FUZZ_CHECK(p >= 0 && p <= 1, "token %zu: probability %g", i, p);
	}
	thresh_result_free(r);
	thresh_comment_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	if (!db)
		open_db();
	const char *in = fuzz_write(0, "in.dump", data, size);
	thresh_stats before = stats();
	err[0] = '\0';
	int rc = thresh_db_import(db, in, 0, err, sizeof err);
	thresh_stats after = stats();
	if (rc) {
		FUZZ_CHECK(rc == THRESH_EFORMAT || rc == THRESH_EVERSION, "import: %s (%s)",
		           thresh_errname(rc), err);
		FUZZ_CHECK(!strncmp(err, "line ", 5), "message without a line: %s", err);
		FUZZ_CHECK(same_stats(&before, &after),
		           "a refused dump changed the model: " STATS_FMT " became " STATS_FMT,
		           STATS_ARGS(before), STATS_ARGS(after));
		return 0;
	}
	check_scores();

	/* export, import the export, export again: the same file, the same model */
	char a[PATH_MAX], b[PATH_MAX];
	fuzz_path(a, "a.dump");
	fuzz_path(b, "b.dump");
	rc = thresh_db_export(db, a);
	FUZZ_CHECK(rc == 0, "export: %s", thresh_strerror(rc));
	rc = thresh_db_import(db, a, 0, err, sizeof err);
	FUZZ_CHECK(rc == 0, "an export does not import: %s: %s", thresh_strerror(rc), err);
	thresh_stats again = stats();
	FUZZ_CHECK(same_stats(&after, &again), "round trip: " STATS_FMT " became " STATS_FMT,
	           STATS_ARGS(after), STATS_ARGS(again));
	rc = thresh_db_export(db, b);
	FUZZ_CHECK(rc == 0, "export: %s", thresh_strerror(rc));
	size_t na, nb;
	char *ta = slurp(a, &na), *tb = slurp(b, &nb);
	FUZZ_CHECK(na == nb && !memcmp(ta, tb, na), "export, import, export changed the dump");
	free(ta);
	free(tb);

	/* merge the accepted dump into the model it made */
	rc = thresh_db_import(db, in, THRESH_IMPORT_MERGE, err, sizeof err);
	FUZZ_CHECK(rc == 0, "merge of the same model: %s: %s", thresh_strerror(rc), err);
	thresh_stats merged = stats();
	FUZZ_CHECK(merged.tokens == after.tokens && merged.learned == after.learned &&
	           merged.tokenizer == after.tokenizer,
	           "merge into itself: " STATS_FMT " became " STATS_FMT, STATS_ARGS(after),
	           STATS_ARGS(merged));
	FUZZ_CHECK(merged.spam_messages >= after.spam_messages && merged.ham_messages >= after.ham_messages,
	           "merge made a count wrap around: " STATS_FMT " became " STATS_FMT, STATS_ARGS(after),
	           STATS_ARGS(merged));
	return 0;
}
