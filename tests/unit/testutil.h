/* testutil.h - small helpers shared by the unit and robust tests: temporary
 * folders, comments, databases, results and token ids. Every test makes its
 * own folder under $TMPDIR. */
#ifndef THRESH_TESTUTIL_H
#define THRESH_TESTUTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thresh/thresh.h>

static inline void tu_rmtree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		char p[PATH_MAX];
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) >= (int)sizeof p)
				continue;
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				tu_rmtree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

/* tu_tmpdir - a new empty folder; the caller frees and removes it. */
static inline char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof tmpl, "%s/thresh-test-XXXXXX", base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpl), "mkdtemp");
	return strdup(tmpl);
}

/* tu_plain - a toy model's scores unsquashed and every reject allowed: the
 * calibration of the default model (nb_scale, nb_shift, fitted to new sites
 * with thousands of comments) saturates the scores of a model of a few
 * comments, and the unfamiliar rule (reject_min_tokens) would hold what the
 * test means to reject. score = sigmoid(4 * mean ratio), held from 0.5,
 * rejected from 0.7. */
static inline void tu_plain(thresh_db *db)
{
	cr_assert_eq(thresh_db_param_set(db, "nb_scale", 4), 0);
	cr_assert_eq(thresh_db_param_set(db, "nb_shift", 0), 0);
	cr_assert_eq(thresh_db_param_set(db, "reject_min_tokens", 0), 0);
	cr_assert_eq(thresh_db_param_set(db, "hold_cutoff", 0.5), 0);
	cr_assert_eq(thresh_db_param_set(db, "reject_cutoff", 0.7), 0);
}

/* tu_slurp - the whole file at path, NUL-terminated (its length in *len),
 * to free(). */
static inline char *tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* tu_empty_db - a new empty database in a new folder (dir/db). */
static inline thresh_db *tu_empty_db(char **dir_out)
{
	char *dir = tu_tmpdir(), path[PATH_MAX];
	thresh_db_options o;
	thresh_db *db = NULL;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	snprintf(path, sizeof path, "%s/db", dir);
	int rc = thresh_db_open(path, &o, &db);
	cr_assert_eq(rc, 0, "open %s: %s", path, thresh_strerror(rc));
	*dir_out = dir;
	return db;
}

/* tu_open - the database at path opened with flags (THRESH_DB_*); the test
 * stops, with the library's message, when it cannot be. */
static inline thresh_db *tu_open(const char *path, unsigned flags)
{
	char err[512] = "";
	thresh_db_options o;
	thresh_db *db = NULL;
	thresh_db_options_init(&o);
	o.flags = flags;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	int rc = thresh_db_open(path, &o, &db);
	cr_assert_eq(rc, 0, "open %s: %s (%s)", path, thresh_strerror(rc), err);
	return db;
}

/* tu_model_db - a new database from the default model ($THRESH_MODEL, which
 * the suite sets to the build's model), in a new folder (dir/db). */
static inline thresh_db *tu_model_db(char **dir_out)
{
	char *dir = tu_tmpdir(), path[PATH_MAX];
	snprintf(path, sizeof path, "%s/db", dir);
	*dir_out = dir;
	return tu_open(path, THRESH_DB_CREATE);
}

/* tu_comment - a comment with content text (and optionally an author e-mail). */
static inline thresh_comment *tu_comment(const char *content, const char *email)
{
	thresh_comment *c;
	cr_assert_eq(thresh_comment_new(&c), 0);
	cr_assert_eq(thresh_comment_set(c, "content", content, (size_t)-1), 0);
	if (email)
		cr_assert_eq(thresh_comment_set(c, "email", email, (size_t)-1), 0);
	return c;
}

static inline void tu_learn(thresh_db *db, const char *text, int label)
{
	thresh_comment *c = tu_comment(text, NULL);
	int rc = thresh_learn(db, c, label, NULL);
	cr_assert_eq(rc, 0, "learn: %s", thresh_strerror(rc));
	thresh_comment_free(c);
}

/* tu_learn_numbered - learn n comments under label, comment i being fmt
 * (with one %d) filled with i. */
static inline void tu_learn_numbered(thresh_db *db, const char *fmt, int n, int label)
{
	for (int i = 0; i < n; i++) {
		char buf[256];
		snprintf(buf, sizeof buf, fmt, i);
		tu_learn(db, buf, label);
	}
}

/* tu_open_with_conf - write text as dir/db/thresh.conf (tu_empty_db's
 * layout) and open that database. */
static inline thresh_db *tu_open_with_conf(const char *dir, const char *text)
{
	char conf[PATH_MAX], path[PATH_MAX];
	thresh_db *db;
	snprintf(conf, sizeof conf, "%s/db/thresh.conf", dir);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f, "%s", conf);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	snprintf(path, sizeof path, "%s/db", dir);
	cr_assert_eq(thresh_db_open(path, NULL, &db), 0);
	return db;
}

/* tu_copy_secret - the secret file of database folder from copied over
 * that of to (then thresh_db_config_reload a handle of to). */
static inline void tu_copy_secret(const char *from, const char *to)
{
	char a[PATH_MAX + 16], b[PATH_MAX + 16], tmp[PATH_MAX + 16];
	unsigned char buf[128];
	snprintf(a, sizeof a, "%s/secret", from);
	snprintf(b, sizeof b, "%s/secret", to);
	snprintf(tmp, sizeof tmp, "%s/secret.copy", to);
	FILE *in = fopen(a, "rb"), *out = fopen(tmp, "wb");
	cr_assert(in && out, "%s, %s", a, tmp);
	size_t n = fread(buf, 1, sizeof buf, in);
	cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(chmod(tmp, 0600), 0);
	cr_assert_eq(rename(tmp, b), 0);
}

/* tu_copy_model - export db's model (db the database dir/db) to
 * dir/NAME.dump (its path into dump) and import it into a new empty
 * database dir/NAME, which is returned: a copy of the site, with its secret
 * too (the dump's learned digests and identity tokens are keyed by it). */
static inline thresh_db *tu_copy_model(thresh_db *db, const char *dir, const char *name,
                                       char *dump, size_t dumpsize)
{
	char path[PATH_MAX], from[PATH_MAX], err[256];
	thresh_db *copy;
	thresh_db_options o;
	snprintf(dump, dumpsize, "%s/%s.dump", dir, name);
	cr_assert_eq(thresh_db_export(db, dump), 0);
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_eq(thresh_db_open(path, &o, &copy), 0);
	snprintf(from, sizeof from, "%s/db", dir);
	tu_copy_secret(from, path);
	cr_assert_eq(thresh_db_config_reload(copy, err, sizeof err), 0, "%s", err);
	cr_assert_eq(thresh_db_import(copy, dump, 0, err, sizeof err), 0, "%s", err);
	return copy;
}

/* tu_copy_file - the file from copied to to (mode 0600). */
static inline void tu_copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	size_t n;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	cr_assert(in && out, "%s, %s", from, to);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(chmod(to, 0600), 0);
}

/* tu_copy_db - a copy of the closed database folder from as the new
 * folder to: the same model, secret and all (its data file and secret). */
static inline void tu_copy_db(const char *from, const char *to)
{
	char a[PATH_MAX + 16], b[PATH_MAX + 16];
	cr_assert_eq(mkdir(to, 0700), 0, "%s", to);
	snprintf(a, sizeof a, "%s/data.mdb", from);
	snprintf(b, sizeof b, "%s/data.mdb", to);
	tu_copy_file(a, b);
	snprintf(a, sizeof a, "%s/secret", from);
	snprintf(b, sizeof b, "%s/secret", to);
	tu_copy_file(a, b);
}

static inline double tu_score(thresh_db *db, const char *text)
{
	thresh_comment *c = tu_comment(text, NULL);
	thresh_result *r;
	int rc = thresh_check(db, c, THRESH_CHECK_READONLY, &r);
	cr_assert_eq(rc, 0, "check: %s", thresh_strerror(rc));
	double s = thresh_result_score(r);
	thresh_result_free(r);
	thresh_comment_free(c);
	return s;
}

/* tu_verdict - the verdict of a check of text (state unchanged), and its
 * reasons joined by spaces into reasons (256 bytes). */
static inline thresh_verdict tu_verdict(thresh_db *db, const char *text, char reasons[256])
{
	thresh_comment *c = tu_comment(text, NULL);
	thresh_result *r;
	int rc = thresh_check(db, c, THRESH_CHECK_READONLY, &r);
	cr_assert_eq(rc, 0, "check: %s", thresh_strerror(rc));
	thresh_verdict v = thresh_result_verdict(r);
	reasons[0] = '\0';
	for (size_t k = 0; k < thresh_result_reason_count(r); k++) {
		if (k)
			strncat(reasons, " ", 255 - strlen(reasons));
		strncat(reasons, thresh_result_reason(r, k), 255 - strlen(reasons));
	}
	thresh_result_free(r);
	thresh_comment_free(c);
	return v;
}

/* tu_has_reason - 1 when the result gives reason name. */
static inline int tu_has_reason(const thresh_result *r, const char *name)
{
	for (size_t k = 0; k < thresh_result_reason_count(r); k++)
		if (!strcmp(thresh_result_reason(r, k), name))
			return 1;
	return 0;
}

/* tu_spread_id - the i-th of ids spread over the whole 64-bit range, the
 * first ones the edges a table indexed by the top bits must get right: 0
 * (the empty-slot mark), 1, and the largest ids, whose probes wrap around
 * to the first slot. */
static inline uint64_t tu_spread_id(uint64_t i)
{
	static const uint64_t edge[] = {0, 1, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2,
	                                (uint64_t)1 << 63, ((uint64_t)1 << 63) - 1};
	if (i < sizeof edge / sizeof edge[0])
		return edge[i];
	return i * 0x9E3779B97F4A7C15ULL;
}

#endif
