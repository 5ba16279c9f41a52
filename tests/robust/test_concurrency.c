/* Concurrency: many threads on one handle, many processes on one database.
 * LMDB serialises writers across threads and processes; these check that
 * the library's counts stay exact when they race (moved here from the unit
 * suites: src/lib/db.c's shared handle, src/lib/ratelimit.c's GCRA). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sys/wait.h>

#include "../unit/testutil.h"

/* ---------- one handle, many threads (db.c) ---------- */

struct worker {
	thresh_db *db;
	int id, failures;
};

/* Each thread learns its own comments through the shared handle and checks
 * others' while they are being learned. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char buf[64];
	for (int i = 0; i < 50; i++) {
		thresh_comment *c;
		thresh_result *r = NULL;
		thresh_comment_new(&c);
		snprintf(buf, sizeof buf, "thread %d comment %d shared", w->id, i);
		thresh_comment_set(c, "content", buf, (size_t)-1);
		if (thresh_learn(w->db, c, i % 2 ? THRESH_SPAM : THRESH_HAM, NULL))
			w->failures++;
		if (thresh_check(w->db, c, THRESH_CHECK_READONLY, &r))
			w->failures++;
		thresh_result_free(r);
		thresh_comment_free(c);
	}
	return NULL;
}

Test(db, one_handle_many_threads, .timeout = 120)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){db, i, 0};
		cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(w[i].failures, 0, "thread %d", i);
	}
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.spam_messages, 100, "every learn counted exactly once");
	cr_expect_eq(st.ham_messages, 100);
	cr_expect_eq(st.learned, 200);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* ---------- one rate limit, many processes (ratelimit.c) ---------- */

/* flood - PROCS processes (each its own handle) check EACH comments at one
 * instant, comment i of process p from the e-mail email(p, i) and the IP ip
 * (NULL: none); returns how many were not rate-limited. */
enum { PROCS = 6, EACH = 10 };
static int flood(const char *path, void (*email)(int p, int i, char *buf, size_t size), const char *ip)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pids[PROCS];
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		cr_assert_neq(pids[p], -1);
		if (pids[p] == 0) {
			thresh_db *d;
			thresh_result *r;
			unsigned char allowed = 0;
			if (thresh_db_open(path, NULL, &d))
				_exit(1);
			for (int i = 0; i < EACH; i++) {
				thresh_comment *c;
				char e[64];
				email(p, i, e, sizeof e);
				thresh_comment_new(&c);
				thresh_comment_set(c, "content", "flood", (size_t)-1);
				thresh_comment_set(c, "email", e, (size_t)-1);
				if (ip)
					thresh_comment_set(c, "user_ip", ip, (size_t)-1);
				thresh_comment_set_time(c, 1700000000);
				if (thresh_check(d, c, 0, &r))
					_exit(2);
				int limited = 0;
				for (size_t k = 0; k < thresh_result_reason_count(r); k++)
					limited |= !strcmp(thresh_result_reason(r, k), "rate_limited");
				allowed += !limited;
				thresh_result_free(r);
				thresh_comment_free(c);
			}
			thresh_db_close(d);
			if (write(fds[1], &allowed, 1) != 1)
				_exit(3);
			_exit(0);
		}
	}
	close(fds[1]);
	int total = 0;
	for (int p = 0; p < PROCS; p++) {
		int st;
		waitpid(pids[p], &st, 0);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d status %d", p, st);
	}
	unsigned char a;
	while (read(fds[0], &a, 1) == 1)
		total += a;
	close(fds[0]);
	return total;
}

static void same_author(int p, int i, char *buf, size_t size)
{
	(void)p, (void)i;
	snprintf(buf, size, "same@example.org");
}

/* five authors in turn, each with room for 3 (15 in all) */
static void five_authors(int p, int i, char *buf, size_t size)
{
	snprintf(buf, size, "author%d@example.org", (p * EACH + i) % 5);
}

Test(ratelimit, exact_across_processes, .timeout = 120)
{
	char *dir, path[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	snprintf(path, sizeof path, "%s/db", dir);
	int total = flood(path, same_author, NULL);
	cr_expect_eq(total, 3, "60 simultaneous comments, burst 3: exactly 3 allowed, got %d", total);
	tu_rmtree(dir);
	free(dir);
}

/* Both rates at once, exact: 60 comments of five authors (burst 3 each,
 * 15 in all) from one IP (burst 10 by default) at one instant. A comment
 * passes only when both its author's and the address's bucket have room,
 * and a refused one spends neither, so exactly 10 pass whatever the order. */
Test(ratelimit, exact_across_processes_per_ip, .timeout = 120)
{
	char *dir, path[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	snprintf(path, sizeof path, "%s/db", dir);
	int total = flood(path, five_authors, "198.51.100.23");
	cr_expect_eq(total, 10, "60 simultaneous comments, the address's burst 10: got %d", total);
	tu_rmtree(dir);
	free(dir);
}
