/* src/lib/secret.c: the installation secret DIR/secret: written (mode 0600
 * whatever the umask, renamed into place, nothing left beside it) and read
 * back; a missing, others-readable, wrong-sized or linked secret refused. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "secret.h"
#include "thresh/error.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	cr_assert_eq(hash_init(), 0);
	dir = tu_tmpdir();
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

TestSuite(secret, .init = setup, .fini = teardown);

static void secret_path(char *buf, size_t size)
{
	snprintf(buf, size, "%s/secret", dir);
}

/* write_bytes - DIR/secret made by hand: n bytes, mode. */
static void write_bytes(size_t n, mode_t mode)
{
	char p[PATH_MAX];
	unsigned char b[128];
	secret_path(p, sizeof p);
	memset(b, 0x5a, sizeof b);
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b, n), (ssize_t)n);
	close(fd);
	cr_assert_eq(chmod(p, mode), 0);
}

static size_t files_in(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	size_t n = 0;
	cr_assert_not_null(dd);
	while ((e = readdir(dd)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dd);
	return n;
}

Test(secret, written_then_read_back)
{
	site_keys w, r;
	unsigned char zero[HASH_SECRET_BYTES] = {0};
	char err[256] = "";
	cr_assert_eq(secret_write(dir, NULL, &w), 0);
	cr_expect(memcmp(w.secret, zero, sizeof w.secret) != 0, "random bytes");
	cr_expect(!w.own_root, "its digests' root is derived from it");
	cr_assert_eq(secret_read(dir, &r, err, sizeof err), 0, "%s", err);
	cr_expect_eq(memcmp(&w, &r, sizeof w), 0, "the same secret and keys");
	char p[PATH_MAX];
	struct stat st;
	secret_path(p, sizeof p);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_size, HASH_SECRET_BYTES);
	cr_expect_eq(files_in(dir), 1, "no temporary file left beside it");
}

Test(secret, a_new_secret_replaces_the_old)
{
	site_keys a, b, r;
	cr_assert_eq(secret_write(dir, NULL, &a), 0);
	cr_assert_eq(secret_write(dir, NULL, &b), 0);
	cr_expect(memcmp(a.secret, b.secret, sizeof a.secret) != 0);
	cr_expect(memcmp(a.ident, b.ident, sizeof a.ident) != 0);
	cr_expect(memcmp(a.digest, b.digest, sizeof a.digest) != 0);
	cr_assert_eq(secret_read(dir, &r, NULL, 0), 0);
	cr_expect_eq(memcmp(&b, &r, sizeof b), 0);
	cr_expect_eq(files_in(dir), 1);
}

/* A rotation that keeps the digests: the new file holds the new secret and
 * the old digests' root, so the digests' keys stay and the rest moves. */
Test(secret, a_new_secret_can_keep_the_digests_root)
{
	site_keys a, b, r;
	cr_assert_eq(secret_write(dir, NULL, &a), 0);
	cr_assert_eq(secret_write(dir, a.root, &b), 0);
	cr_expect(b.own_root);
	cr_expect(memcmp(a.secret, b.secret, sizeof a.secret) != 0, "a new secret");
	cr_expect(memcmp(a.ident, b.ident, sizeof a.ident) != 0, "new identity tokens");
	cr_expect_eq(memcmp(a.root, b.root, sizeof a.root), 0);
	cr_expect_eq(memcmp(a.digest, b.digest, sizeof a.digest), 0, "the digests' keys kept");
	cr_expect_eq(memcmp(a.field, b.field, sizeof a.field), 0);
	cr_expect(memcmp(a.root, a.secret, sizeof a.root) != 0, "the root is not the old secret");
	cr_assert_eq(secret_read(dir, &r, NULL, 0), 0);
	cr_expect_eq(memcmp(&b, &r, sizeof b), 0);
	char p[PATH_MAX];
	struct stat st;
	secret_path(p, sizeof p);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_size, 2 * HASH_SECRET_BYTES);
	/* and again: the root is carried on */
	site_keys c;
	cr_assert_eq(secret_write(dir, b.root, &c), 0);
	cr_expect_eq(memcmp(a.digest, c.digest, sizeof a.digest), 0);
	cr_expect_eq(files_in(dir), 1);
}

Test(secret, mode_0600_whatever_the_umask)
{
	static const mode_t masks[] = {0, 022, 077};
	site_keys s;
	char p[PATH_MAX];
	secret_path(p, sizeof p);
	for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
		mode_t old = umask(masks[i]);
		int rc = secret_write(dir, i == 2 ? s.root : NULL, &s);
		umask(old);
		cr_assert_eq(rc, 0);
		struct stat st;
		cr_assert_eq(stat(p, &st), 0);
		cr_expect_eq(st.st_mode & 07777, 0600, "umask %03o: mode %03o", (unsigned)masks[i],
		             (unsigned)(st.st_mode & 07777));
	}
}

Test(secret, missing_is_enoent)
{
	site_keys s;
	cr_expect_eq(secret_read(dir, &s, NULL, 0), THRESH_ENOENT);
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/none", dir);
	cr_expect_eq(secret_read(p, &s, NULL, 0), THRESH_ENOENT);
	cr_expect_eq(secret_write(p, NULL, &s), THRESH_ENOENT, "no folder is made");
}

Test(secret, readable_by_others_is_refused)
{
	static const mode_t modes[] = {0644, 0640, 0604, 0660, 0602};
	site_keys s;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		char err[512] = "";
		write_bytes(i % 2 ? 2 * HASH_SECRET_BYTES : HASH_SECRET_BYTES, modes[i]);
		cr_expect_eq(secret_read(dir, &s, err, sizeof err), THRESH_EACCES, "mode %03o",
		             (unsigned)modes[i]);
		char mode[16];
		snprintf(mode, sizeof mode, "mode %03o", (unsigned)modes[i]);
		cr_expect(strstr(err, "chmod 600") != NULL, "%s", err);
		cr_expect(strstr(err, mode) != NULL, "%s should say %s", err, mode);
		cr_expect(strstr(err, dir) != NULL, "%s should name the file", err);
	}
	write_bytes(HASH_SECRET_BYTES, 0400);
	cr_expect_eq(secret_read(dir, &s, NULL, 0), 0, "the owner alone may read it: fine");
}

Test(secret, wrong_size_is_refused)
{
	static const size_t sizes[] = {0, 1, HASH_SECRET_BYTES - 1, HASH_SECRET_BYTES + 1,
	                               2 * HASH_SECRET_BYTES - 1, 2 * HASH_SECRET_BYTES + 1, 96};
	site_keys s;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char err[512] = "";
		write_bytes(sizes[i], 0600);
		cr_expect_eq(secret_read(dir, &s, err, sizeof err), THRESH_ECORRUPT, "%zu bytes", sizes[i]);
		cr_expect(strstr(err, "not a thresh secret") != NULL, "%s", err);
	}
	unsigned char want[HASH_SECRET_BYTES];
	memset(want, 0x5a, sizeof want);
	write_bytes(HASH_SECRET_BYTES, 0600);
	cr_assert_eq(secret_read(dir, &s, NULL, 0), 0);
	cr_expect_eq(memcmp(s.secret, want, sizeof want), 0);
	cr_expect(!s.own_root);
	write_bytes(2 * HASH_SECRET_BYTES, 0600);
	cr_assert_eq(secret_read(dir, &s, NULL, 0), 0);
	cr_expect_eq(memcmp(s.secret, want, sizeof want), 0);
	cr_expect_eq(memcmp(s.root, want, sizeof want), 0);
	cr_expect(s.own_root);
}

/* A symbolic link at DIR/secret is not followed, even to a good secret. */
Test(secret, a_link_is_not_followed)
{
	site_keys s;
	char other[PATH_MAX], p[PATH_MAX];
	snprintf(other, sizeof other, "%s/other", dir);
	cr_assert_eq(mkdir(other, 0700), 0);
	cr_assert_eq(secret_write(other, NULL, &s), 0);
	secret_path(p, sizeof p);
	snprintf(other, sizeof other, "%s/other/secret", dir);
	cr_assert_eq(symlink(other, p), 0);
	int rc = secret_read(dir, &s, NULL, 0);
	cr_expect_neq(rc, 0, "read through a link");
	cr_expect_neq(rc, THRESH_ENOENT, "it is there, and refused");
}
