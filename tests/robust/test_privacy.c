/* Privacy: no raw identity (e-mail, IP, author name) nor comment text
 * reaches the disk, in any case or as UTF-16 or binary addresses, and an
 * export holds no secret. A scan of every file of a database folder after
 * learning and checking, so it lives with the robustness suites rather than
 * with one module's unit tests (it checks learn.c, check.c, moderate.c's
 * identity hashing and dump.c together). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../unit/testutil.h"
#include "comment_int.h"
#include "scan.h"

static int file_has(const char *path, const void *needle, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)len + 1);
	size_t got = fread(buf, 1, (size_t)len, f);
	fclose(f);
	int found = 0;
	for (size_t i = 0; !found && n <= got && i + n <= got; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

/* tree_has - any file under dir holding needle. */
static int tree_has(const char *dir, const void *needle, size_t n, char *where, size_t wsize)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	char p[PATH_MAX];
	while (d && !found && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		lstat(p, &st);
		found = S_ISDIR(st.st_mode) ? tree_has(p, needle, n, where, wsize) : file_has(p, needle, n);
		if (found && !where[0])
			snprintf(where, wsize, "%s", p);
	}
	if (d)
		closedir(d);
	return found;
}

static void expect_absent(const char *dir, const char *s)
{
	char where[PATH_MAX] = "", lower[256], upper[256], u16[512];
	size_t n = strlen(s);
	for (size_t i = 0; i <= n; i++) {
		lower[i] = (char)tolower((unsigned char)s[i]);
		upper[i] = (char)toupper((unsigned char)s[i]);
	}
	const char *forms[] = {s, lower, upper};
	for (int f = 0; f < 3; f++) {
		cr_expect(!tree_has(dir, forms[f], n, where, sizeof where), "\"%s\" found in %s", forms[f], where);
		for (size_t i = 0; i < n; i++) { /* UTF-16LE */
			u16[2 * i] = forms[f][i];
			u16[2 * i + 1] = 0;
		}
		cr_expect(!tree_has(dir, u16, 2 * n, where, sizeof where), "UTF-16 \"%s\" in %s", forms[f], where);
	}
}

Test(privacy, no_raw_identity_or_text_reaches_the_disk)
{
	char *dir, path[PATH_MAX], dump[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	snprintf(path, sizeof path, "%s/db", dir);
	const char *emails[] = {"Zelda.Quantum+blog@Privacy-Test.example", "marmot.oxide@privacy-test.example"};
	const char *ips[] = {"198.51.100.77", "2001:db8:beef:cafe:1:2:3:4"};
	const char *text = "Xylophone marmalade zeppelin quokka";
	for (int i = 0; i < 2; i++) {
		thresh_comment *c = tu_comment(text, emails[i]);
		thresh_comment_set(c, "ip", ips[i], (size_t)-1);
		thresh_comment_set(c, "author", "Quentin Zarkov", (size_t)-1);
		thresh_result *r;
		cr_assert_eq(thresh_learn(db, c, i ? THRESH_SPAM : THRESH_HAM, NULL), 0);
		cr_assert_eq(thresh_check(db, c, THRESH_CHECK_EXPLAIN, &r), 0);
		thresh_result_free(r);
		thresh_comment_free(c);
	}
	snprintf(dump, sizeof dump, "%s/db/export.dump", dir);
	cr_assert_eq(thresh_db_export(db, dump), 0);
	thresh_db_close(db);
	char where0[PATH_MAX] = "";
	cr_assert(tree_has(path, "thresh-db", 9, where0, sizeof where0), "the search finds what is there");
	expect_absent(path, "Zelda.Quantum");
	expect_absent(path, "zelda.quantum@privacy-test.example");
	expect_absent(path, "marmot.oxide");
	expect_absent(path, "privacy-test.example");
	expect_absent(path, "198.51.100.77");
	expect_absent(path, "2001:db8:beef:cafe");
	expect_absent(path, "Xylophone");
	expect_absent(path, "marmalade zeppelin");
	expect_absent(path, "Quentin");
	/* nor the binary forms of the addresses */
	unsigned char a4[4], a6[16];
	char where[PATH_MAX] = "";
	inet_pton(AF_INET, ips[0], a4);
	inet_pton(AF_INET6, ips[1], a6);
	cr_expect(!tree_has(path, a4, 4, where, sizeof where), "binary IPv4 in %s", where);
	cr_expect(!tree_has(path, a6, 8, where, sizeof where), "binary IPv6 /64 in %s", where);
	/* and the export holds no secret */
	unsigned char secret[32];
	char sp[PATH_MAX + 16];
	snprintf(sp, sizeof sp, "%s/secret", path);
	int fd = open(sp, O_RDONLY);
	cr_assert_eq(read(fd, secret, 32), 32);
	close(fd);
	cr_expect(!file_has(dump, secret, 8), "the secret is in the export");
	char hex[65];
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", secret[i]);
	cr_expect(!file_has(dump, hex, 16), "the secret (hex) is in the export");
	tu_rmtree(dir);
	free(dir);
}

/* A dump as someone who holds it reads it: the model key, every token id
 * (site, prior and identity tokens alike) and every learned digest. */
struct dump_ids {
	unsigned char key[16];
	uint64_t *ids;
	size_t n;
	unsigned char (*dig)[16];
	size_t nd;
};

static int hex_bytes(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void read_dump(const char *path, struct dump_ids *d)
{
	char line[512];
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	memset(d, 0, sizeof *d);
	size_t cap = 0, dcap = 0;
	int keys = 0;
	while (fgets(line, sizeof line, f)) {
		char kind, hex[80];
		if (!strncmp(line, "key ", 4)) {
			cr_assert_eq(hex_bytes(line + 4, d->key, 16), 0);
			keys++;
		} else if (sscanf(line, "%c %79s", &kind, hex) == 2 && line[1] == ' ' &&
		           (kind == 't' || kind == 'i') && strlen(hex) == 16) {
			if (d->n == cap) {
				cap = cap ? 2 * cap : 4096;
				d->ids = realloc(d->ids, cap * sizeof *d->ids);
			}
			d->ids[d->n++] = strtoull(hex, NULL, 16);
		} else if (sscanf(line, "%c %79s", &kind, hex) == 2 && line[1] == ' ' &&
		           (kind == 'l' || kind == 'g') && strlen(hex) == 32) {
			if (d->nd == dcap) {
				dcap = dcap ? 2 * dcap : 64;
				d->dig = realloc(d->dig, dcap * sizeof *d->dig);
			}
			cr_assert_eq(hex_bytes(hex, d->dig[d->nd++], 16), 0);
		}
	}
	fclose(f);
	cr_assert_eq(keys, 1, "the dump names its key");
	scan_sort(d->ids, d->n);
}

static void print_found(unsigned a, unsigned b, unsigned c, void *ctx)
{
	(void)ctx;
	cr_log_error("a /24 is testable in the export: ip24:%u.%u.%u", a, b, c);
}

/* What issue 18 found: every database made from the default model shares
 * its key, which ships with thresh, so whoever holds an export could try
 * all 2^24 IPv4 /24s (2.3 s) and find the commenter's, and confirm guessed
 * names, the author's site, e-mail domains and addresses in the text.
 * Identity tokens are keyed by the site's secret now: with the model key
 * alone, an export confirms none of them, nor whether a known comment was
 * learned. */
Test(privacy, an_export_confirms_no_identity_under_the_model_key, .timeout = 120)
{
	char *dir, dump[PATH_MAX];
	thresh_db *db = tu_model_db(&dir);
	struct {
		const char *author, *email, *url, *ip, *text;
	} who[] = {
		{"Jane Q. Doe", "Jane.Doe@Example.org", "https://jane.example.net/blog", "203.0.113.7",
		 "Lovely recipe, write me at jane.private@mailbox.example"},
		{"Rolf Ostrander", "rolf@ostrander.example", "http://www.ostrander.example/", "2001:db8:77:1::5",
		 "Cheap pills at http://pills.example/buy now"},
	};
	thresh_comment *c[2];
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(thresh_comment_new(&c[i]), 0);
		thresh_comment_set(c[i], "author", who[i].author, (size_t)-1);
		thresh_comment_set(c[i], "email", who[i].email, (size_t)-1);
		thresh_comment_set(c[i], "url", who[i].url, (size_t)-1);
		thresh_comment_set(c[i], "ip", who[i].ip, (size_t)-1);
		thresh_comment_set(c[i], "content", who[i].text, (size_t)-1);
		cr_assert_eq(thresh_learn(db, c[i], i ? THRESH_SPAM : THRESH_HAM, NULL), 0);
	}
	snprintf(dump, sizeof dump, "%s/export.dump", dir);
	cr_assert_eq(thresh_db_export(db, dump), 0);
	thresh_db_close(db);

	struct dump_ids d;
	read_dump(dump, &d);
	cr_assert_gt(d.n, 1000, "the export holds the model's tokens");
	cr_assert(scan_token(d.key, d.ids, d.n, "lovely"), "the scan finds what is there");
	cr_expect_eq(scan_ip24(d.key, d.ids, d.n, print_found, NULL), 0,
	             "trying every /24 under the model key found some");
	const char *guesses[] = {
		"author:jane q. doe", "author-word:jane", "author-word:doe", "author:rolf ostrander",
		"author-word:ostrander", "email-domain:example.org", "email-domain:ostrander.example",
		"url-host:jane.example.net", "url-domain:example.net", "url-host:www.ostrander.example",
		"url-domain:ostrander.example", "ip48:2001:db8:77", "email:jane.private@mailbox.example",
	};
	for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++)
		cr_expect(!scan_token(d.key, d.ids, d.n, guesses[i]), "\"%s\" is testable in the export",
		          guesses[i]);
	/* nor whether a known comment was learned */
	for (int i = 0; i < 2; i++) {
		unsigned char g[16];
		hash_comment_digest_b2(d.key, c[i], g);
		for (size_t k = 0; k < d.nd; k++)
			cr_expect(memcmp(d.dig[k], g, 16) != 0, "comment %d's digest is testable", i);
		thresh_comment_free(c[i]);
	}
	free(d.ids);
	free(d.dig);
	tu_rmtree(dir);
	free(dir);
}
