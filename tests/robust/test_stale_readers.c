/* Processes that die while reading leave no lasting trace.
 *
 * A process killed inside a read transaction (a PHP worker killed on a
 * timeout, a `thresh check` interrupted with SIGKILL) leaves its slot in
 * LMDB's reader table, marked with its dead pid. LMDB frees such slots only
 * when asked (mdb_reader_check) or when the lock file is opened by a process
 * alone; a long-running process (threshd, a web server) keeps it open. Each
 * stale slot pins the snapshot it read, so freed pages are never reused, and
 * once the table is full (510 slots, store.c STORE_MAX_READERS) every new
 * reader fails with THRESH_EBUSY.
 *
 * Here this process keeps one handle open, as a server would, while 520
 * children in turn open the database, start a view (a read transaction) and
 * are killed with SIGKILL. Afterwards a new view must still open, in this
 * process and in a new one. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/testutil.h"

#define DEATHS 520

static void reader_child(const char *path, int fd)
{
	thresh_db *db;
	thresh_view *v;
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY;
	if (thresh_db_open(path, &o, &db) || thresh_view_open(db, &v))
		_exit(1);
	if (write(fd, "r", 1) != 1)
		_exit(2);
	for (;;)
		pause(); /* reading, until killed */
}

static int view_opens(const char *path)
{
	thresh_db *db;
	thresh_view *v;
	int rc = thresh_db_open(path, NULL, &db);
	if (rc)
		return rc;
	if ((rc = thresh_view_open(db, &v)) == 0)
		thresh_view_close(v);
	thresh_db_close(db);
	return rc;
}

Test(stale_readers, killed_readers_do_not_fill_the_reader_table, .timeout = 120)
{
	char *dir, path[PATH_MAX];
	thresh_db *server = tu_empty_db(&dir); /* held open throughout */
	snprintf(path, sizeof path, "%s/db", dir);
	int died_reading = 0;
	for (int i = 0; i < DEATHS; i++) {
		int fds[2];
		char c;
		cr_assert_eq(pipe(fds), 0);
		pid_t pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0) {
			close(fds[0]);
			reader_child(path, fds[1]);
		}
		close(fds[1]);
		int got = read(fds[0], &c, 1) == 1;
		close(fds[0]);
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		died_reading += got;
		if (!got)
			break; /* the child could not open a view: the table is full */
	}
	cr_expect_eq(died_reading, DEATHS, "only %d of %d readers could open a view", died_reading,
	             DEATHS);

	thresh_view *v;
	int rc = thresh_view_open(server, &v);
	cr_expect_eq(rc, 0, "after %d killed readers, the long-running handle gets %s", died_reading,
	             thresh_errname(rc));
	thresh_view_close(v);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(view_opens(path) == 0 ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a new process cannot read");
	thresh_db_close(server);
	tu_rmtree(dir);
	free(dir);
}
