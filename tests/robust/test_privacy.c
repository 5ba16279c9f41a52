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
