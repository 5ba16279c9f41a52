/* A learning process killed with SIGKILL mid-batch leaves a database that
 * opens and holds exactly the batches that were committed. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../unit/testutil.h"

#define BATCH 200

/* child - learn batches of BATCH distinct spam comments that all share the
 * word "common", forever, until killed. */
static void child(const char *path)
{
	thresh_db *db;
	thresh_comment *c;
	char buf[128];
	if (thresh_db_open(path, NULL, &db) || thresh_comment_new(&c))
		_exit(1);
	for (unsigned long n = 0;; n++) {
		thresh_batch *b;
		if (thresh_batch_begin(db, &b))
			_exit(2);
		for (int i = 0; i < BATCH; i++) {
			snprintf(buf, sizeof buf, "common word%lu w%d x%lux%d", n, i, n, i);
			thresh_comment_set(c, "content", buf, (size_t)-1);
			if (thresh_batch_learn(b, c, THRESH_SPAM))
				_exit(3);
		}
		if (thresh_batch_commit(b, NULL))
			_exit(4);
	}
}

Test(crash, sigkill_mid_batch_leaves_whole_batches, .timeout = 120)
{
	char *dir, path[PATH_MAX];
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	snprintf(path, sizeof path, "%s/db", dir);
	srand((unsigned)time(NULL));
	uint64_t last = 0;
	for (int round = 0; round < 8; round++) {
		pid_t pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0)
			child(path);
		struct timespec ts = {0, (long)(20 + rand() % 200) * 1000000L};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		cr_assert(WIFSIGNALED(status), "the child died by itself: status %d", status);

		cr_assert_eq(thresh_db_open(path, NULL, &db), 0, "the database opens after a kill");
		thresh_stats st = {.size = sizeof st};
		cr_assert_eq(thresh_db_stats(db, &st), 0);
		cr_expect_eq(st.spam_messages % BATCH, 0, "only whole batches: %llu",
		             (unsigned long long)st.spam_messages);
		cr_expect_eq(st.learned, st.spam_messages);
		cr_expect_geq(st.spam_messages, last);
		last = st.spam_messages;
		/* the word in every comment counts exactly the comments stored */
		thresh_comment *c = tu_comment("common", NULL);
		thresh_result *r;
		cr_assert_eq(thresh_check(db, c, THRESH_CHECK_EXPLAIN | THRESH_CHECK_READONLY, &r), 0);
		uint64_t sp = 0;
		const char *text;
		for (size_t i = 0; i < thresh_result_token_count(r); i++) {
			uint64_t s;
			thresh_result_token(r, i, &text, NULL, &s, NULL);
			if (!strcmp(text, "common"))
				sp = s;
		}
		cr_expect_eq(sp, st.spam_messages);
		thresh_result_free(r);
		thresh_comment_free(c);
		thresh_db_close(db);
	}
	tu_rmtree(dir);
	free(dir);
}
