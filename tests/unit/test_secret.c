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
	unsigned char b[64];
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
	unsigned char w[HASH_SECRET_BYTES], r[HASH_SECRET_BYTES], zero[HASH_SECRET_BYTES] = {0};
	char err[256] = "";
	cr_assert_eq(secret_write(dir, w), 0);
	cr_expect(memcmp(w, zero, sizeof w) != 0, "random bytes");
	cr_assert_eq(secret_read(dir, r, err, sizeof err), 0, "%s", err);
	cr_expect_eq(memcmp(w, r, sizeof w), 0);
	char p[PATH_MAX];
	struct stat st;
	secret_path(p, sizeof p);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_size, HASH_SECRET_BYTES);
	cr_expect_eq(files_in(dir), 1, "no temporary file left beside it");
}

Test(secret, a_new_secret_replaces_the_old)
{
	unsigned char a[HASH_SECRET_BYTES], b[HASH_SECRET_BYTES], r[HASH_SECRET_BYTES];
	cr_assert_eq(secret_write(dir, a), 0);
	cr_assert_eq(secret_write(dir, b), 0);
	cr_expect(memcmp(a, b, sizeof a) != 0);
	cr_assert_eq(secret_read(dir, r, NULL, 0), 0);
	cr_expect_eq(memcmp(b, r, sizeof b), 0);
	cr_expect_eq(files_in(dir), 1);
}

Test(secret, mode_0600_whatever_the_umask)
{
	static const mode_t masks[] = {0, 022, 077};
	unsigned char s[HASH_SECRET_BYTES];
	char p[PATH_MAX];
	secret_path(p, sizeof p);
	for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
		mode_t old = umask(masks[i]);
		int rc = secret_write(dir, s);
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
	unsigned char s[HASH_SECRET_BYTES];
	cr_expect_eq(secret_read(dir, s, NULL, 0), THRESH_ENOENT);
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/none", dir);
	cr_expect_eq(secret_read(p, s, NULL, 0), THRESH_ENOENT);
	cr_expect_eq(secret_write(p, s), THRESH_ENOENT, "no folder is made");
}

Test(secret, readable_by_others_is_refused)
{
	static const mode_t modes[] = {0644, 0640, 0604, 0660, 0602};
	unsigned char s[HASH_SECRET_BYTES];
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		char err[512] = "";
		write_bytes(HASH_SECRET_BYTES, modes[i]);
		cr_expect_eq(secret_read(dir, s, err, sizeof err), THRESH_EACCES, "mode %03o",
		             (unsigned)modes[i]);
		char mode[16];
		snprintf(mode, sizeof mode, "mode %03o", (unsigned)modes[i]);
		cr_expect(strstr(err, "chmod 600") != NULL, "%s", err);
		cr_expect(strstr(err, mode) != NULL, "%s should say %s", err, mode);
		cr_expect(strstr(err, dir) != NULL, "%s should name the file", err);
	}
	write_bytes(HASH_SECRET_BYTES, 0400);
	cr_expect_eq(secret_read(dir, s, NULL, 0), 0, "the owner alone may read it: fine");
}

Test(secret, wrong_size_is_refused)
{
	static const size_t sizes[] = {0, 1, HASH_SECRET_BYTES - 1, HASH_SECRET_BYTES + 1, 64};
	unsigned char s[HASH_SECRET_BYTES];
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char err[512] = "";
		write_bytes(sizes[i], 0600);
		cr_expect_eq(secret_read(dir, s, err, sizeof err), THRESH_ECORRUPT, "%zu bytes", sizes[i]);
		cr_expect(strstr(err, "not a thresh secret") != NULL, "%s", err);
	}
	write_bytes(HASH_SECRET_BYTES, 0600);
	unsigned char want[HASH_SECRET_BYTES];
	memset(want, 0x5a, sizeof want);
	cr_assert_eq(secret_read(dir, s, NULL, 0), 0);
	cr_expect_eq(memcmp(s, want, sizeof s), 0);
}

/* A symbolic link at DIR/secret is not followed, even to a good secret. */
Test(secret, a_link_is_not_followed)
{
	unsigned char s[HASH_SECRET_BYTES];
	char other[PATH_MAX], p[PATH_MAX];
	snprintf(other, sizeof other, "%s/other", dir);
	cr_assert_eq(mkdir(other, 0700), 0);
	cr_assert_eq(secret_write(other, s), 0);
	secret_path(p, sizeof p);
	snprintf(other, sizeof other, "%s/other/secret", dir);
	cr_assert_eq(symlink(other, p), 0);
	int rc = secret_read(dir, s, NULL, 0);
	cr_expect_neq(rc, 0, "read through a link");
	cr_expect_neq(rc, THRESH_ENOENT, "it is there, and refused");
}
