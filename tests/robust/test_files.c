/* Files thresh writes: who may read them, and where the writes go.
 *
 * A database folder holds the model and the identity secret: it must stay
 * the owner's alone, whatever the umask (0000 here, the worst case). An
 * export holds the model key and the digests of learned comments, with
 * which a reader can test whether a given comment was learned: it is
 * written for the owner alone too. And an export is written beside its
 * final name: another local user who can write to that folder (/tmp) must
 * not be able to redirect the write through a symbolic link planted at the
 * temporary name. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/testutil.h"

static unsigned mode_of(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	cr_assert_eq(lstat(p, &st), 0, "%s is missing", p);
	return (unsigned)(st.st_mode & 07777);
}

Test(files, database_is_private_whatever_the_umask)
{
	char *dir, path[PATH_MAX];
	mode_t old = umask(0);
	thresh_db *db = tu_empty_db(&dir);
	snprintf(path, sizeof path, "%s/db", dir);
	tu_learn(db, "a comment to store", THRESH_SPAM);
	thresh_db_close(db);
	umask(old);
	cr_expect_eq(mode_of(dir, "db"), 0700, "the database folder: %03o", mode_of(dir, "db"));
	cr_expect_eq(mode_of(path, "data.mdb"), 0600, "data.mdb: %03o", mode_of(path, "data.mdb"));
	cr_expect_eq(mode_of(path, "lock.mdb"), 0600, "lock.mdb: %03o", mode_of(path, "lock.mdb"));
	cr_expect_eq(mode_of(path, "secret"), 0600, "secret: %03o", mode_of(path, "secret"));
	cr_expect_eq(mode_of(path, "rate"), 0700, "rate/: %03o", mode_of(path, "rate"));
	cr_expect_eq(mode_of(path, "rate/data.mdb"), 0600, "rate/data.mdb: %03o", mode_of(path, "rate/data.mdb"));
	tu_rmtree(dir);
	free(dir);
}

Test(files, export_is_private_whatever_the_umask)
{
	char *dir, dump[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	snprintf(dump, sizeof dump, "%s/model.dump", dir);
	mode_t old = umask(0);
	int rc = thresh_db_export(db, dump);
	umask(old);
	cr_assert_eq(rc, 0, "export: %s", thresh_strerror(rc));
	cr_expect_eq(mode_of(dir, "model.dump") & 077, 0, "the export is readable by others: %03o",
	             mode_of(dir, "model.dump"));
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

Test(files, export_does_not_follow_a_planted_link)
{
	char *dir, dump[PATH_MAX], tmp[PATH_MAX + 32], victim[PATH_MAX], buf[64];
	thresh_db *db = tu_empty_db(&dir);
	snprintf(dump, sizeof dump, "%s/model.dump", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	int fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "precious\n", 9), 9);
	close(fd);
	/* the name thresh_db_export writes first, as its source says: PATH.tmp-PID */
	snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dump, (long)getpid());
	cr_assert_eq(symlink(victim, tmp), 0);
	int rc = thresh_db_export(db, dump);
	fd = open(victim, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	cr_expect(n == 9 && !memcmp(buf, "precious\n", 9),
	          "the export (rc %s) wrote through a link planted at %s", thresh_errname(rc), tmp);
	struct stat st;
	if (rc == 0)
		cr_expect(lstat(dump, &st) == 0 && S_ISREG(st.st_mode), "the export is a regular file");
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
