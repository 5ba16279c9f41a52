/* Regression tests for library bugs found by the fuzzers and the
 * robustness review (see SECURITY.md, "Findings"). Inputs that crash a
 * fuzz target live in tests/fuzz/corpus/TARGET/regress-* instead and are
 * replayed by fuzz-replay-TARGET. */
#include <criterion/criterion.h>
#include <sys/resource.h>

#include "../unit/testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* A word list entry made only of characters case folding drops (a soft
 * hyphen, a zero-width space) folds to "", which strstr() finds in every
 * comment: one invisible character in thresh.conf rejected every comment.
 * Such a word must be ignored (or refused), never match everything. */
Test(regress, word_that_folds_to_nothing_matches_nothing)
{
	char *dir = tu_tmpdir(), conf[PATH_MAX], path[PATH_MAX];
	snprintf(conf, sizeof conf, "%s/thresh.conf", dir);
	snprintf(path, sizeof path, "%s/db", dir);
	write_file(conf, "disallowed_words = viagra, \xC2\xAD\n"    /* U+00AD soft hyphen */
	                 "moderation_words = casino, \xE2\x80\x8B\n"); /* U+200B zero-width space */
	thresh_db_options o;
	thresh_db *db;
	char err[256] = "";
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	o.config = conf;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	int rc = thresh_db_open(path, &o, &db);
	if (rc == THRESH_ECONFIG) { /* refusing the word is a fix too */
		tu_rmtree(dir);
		free(dir);
		return;
	}
	cr_assert_eq(rc, 0, "open: %s %s", thresh_strerror(rc), err);
	thresh_comment *c = tu_comment("What a lovely garden, thanks for sharing.", "reader@example.org");
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(!tu_has_reason(r, "disallowed_word"), "an invisible disallowed word rejected an innocent comment");
	cr_expect(!tu_has_reason(r, "moderation_word"), "an invisible moderation word held an innocent comment");
	thresh_result_free(r);
	thresh_comment_free(c);
	/* the visible words still work */
	c = tu_comment("cheap viagra here", NULL);
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	cr_expect(tu_has_reason(r, "disallowed_word"));
	thresh_result_free(r);
	thresh_comment_free(c);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A dump's "learned N" line made the importer allocate N records at once
 * (20 bytes each) before reading any: a 100-byte file asked for 80 GiB and
 * failed with "out of memory" instead of a line-numbered format error, or,
 * where memory is overcommitted, reserved it. The importer must allocate as
 * lines arrive. Run with 1 GiB of address space (not under AddressSanitizer,
 * which needs far more). */
Test(regress, dump_counts_do_not_size_allocations)
{
#ifdef UNDER_ASAN
	cr_skip_test("RLIMIT_AS cannot be lowered under AddressSanitizer");
#else
	char *dir, dump[PATH_MAX], err[256] = "";
	thresh_db *db = tu_empty_db(&dir);
	snprintf(dump, sizeof dump, "%s/claims.dump", dir);
	write_file(dump, "thresh-dump 1\ntokenizer 63\nkey 00112233445566778899aabbccddeeff\n"
	                 "messages 0 0\ntokens 0\nlearned 4294967296\nend\n");
	struct rlimit lim = {(rlim_t)1 << 30, (rlim_t)1 << 30}, old;
	getrlimit(RLIMIT_AS, &old);
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < lim.rlim_max)
		lim.rlim_cur = lim.rlim_max = old.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
	int rc = thresh_db_import(db, dump, 0, err, sizeof err);
	setrlimit(RLIMIT_AS, &old);
	cr_expect_eq(rc, THRESH_EFORMAT, "import of a dump claiming 2^32 learned records: %s (%s)",
	             thresh_errname(rc), err);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
#endif
}
