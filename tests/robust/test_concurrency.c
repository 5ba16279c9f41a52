/* Concurrency: many threads on one handle, many processes on one database.
 * LMDB serialises writers across threads and processes; these check that
 * the library's counts stay exact when they race (moved here from the unit
 * suites: src/lib/db.c's shared handle, src/lib/ratelimit.c's GCRA), that
 * the views src/lib/check.c keeps between checks never serve an older
 * snapshot or configuration than the newest, and that handles sharing the
 * prior's counts (src/lib/cache.c, THRESH_DB_SHARE_PRIOR) score on while
 * others open and close. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/wait.h>

#include "../unit/testutil.h"
#include "cache.h"

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

/* ---------- checks while another thread learns or reloads (check.c) ---------- */

/* thresh_check keeps views between checks. Each check must still see the
 * newest snapshot and configuration: one that began after learn k (or
 * reload k) returned sees it or a later one, never an earlier one. The
 * learner (or reloader) counts a change as begun before its call and as
 * done once the call returned; a checker reads the changes done before a
 * check and those begun after it, so its result must be that of one of
 * the changes between. The copy of the counts in memory is off, so that
 * every check reads the counts as the learner's own view does. */
#define CHANGES 40
#define CHECKERS 6
#define PER_CHANGE 100 /* checks recorded per change, per checker */
#define RECORDS ((CHANGES + 1) * PER_CHANGE)

struct checks {
	thresh_db *db;
	atomic_int begun, done;     /* changes (learns or reloads) begun, and done */
	double score[CHANGES + 1];  /* the probe's score after change k */
};

struct checker {
	struct checks *x;
	int failures, n;
	int per[CHANGES + 1];       /* checks recorded begun after change k */
	int before[RECORDS], after[RECORDS];
	double score[RECORDS];
	int held[RECORDS];          /* the reason moderation_word fired */
};

static void *checker_main(void *arg)
{
	struct checker *k = arg;
	thresh_comment *c;
	thresh_comment_new(&c);
	thresh_comment_set(c, "content", "alpha beta gamma", (size_t)-1);
	while (atomic_load(&k->x->done) < CHANGES) {
		thresh_result *r = NULL;
		int before = atomic_load(&k->x->done);
		if (thresh_check(k->x->db, c, THRESH_CHECK_READONLY, &r)) {
			k->failures++;
			continue;
		}
		int after = atomic_load(&k->x->begun);
		if (k->per[before] < PER_CHANGE) {
			k->per[before]++;
			k->before[k->n] = before;
			k->after[k->n] = after;
			k->score[k->n] = thresh_result_score(r);
			k->held[k->n] = tu_has_reason(r, "moderation_word");
			k->n++;
		}
		thresh_result_free(r);
	}
	thresh_comment_free(c);
	return NULL;
}

static double probe_score(thresh_db *db)
{
	thresh_view *v;
	thresh_result *r;
	thresh_comment *c;
	thresh_comment_new(&c);
	thresh_comment_set(c, "content", "alpha beta gamma", (size_t)-1);
	cr_assert_eq(thresh_view_open(db, &v), 0);
	cr_assert_eq(thresh_view_check(v, c, THRESH_CHECK_READONLY, &r), 0);
	double s = thresh_result_score(r);
	thresh_result_free(r);
	thresh_view_close(v);
	thresh_comment_free(c);
	return s;
}

/* run_checkers - CHECKERS threads checking in db, no change begun yet. */
static void run_checkers(struct checks *x, thresh_db *db, struct checker *k, pthread_t *th)
{
	x->db = db;
	atomic_store(&x->begun, 0);
	atomic_store(&x->done, 0);
	for (int i = 0; i < CHECKERS; i++) {
		k[i].x = x;
		k[i].failures = k[i].n = 0;
		memset(k[i].per, 0, sizeof k[i].per);
		cr_assert_eq(pthread_create(&th[i], NULL, checker_main, &k[i]), 0);
	}
}

Test(check, kept_views_see_the_newest_snapshot_while_another_thread_learns, .timeout = 120)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	db = tu_open_with_conf(dir, "memory_cache = no\n");
	tu_plain(db);
	tu_learn_numbered(db, "alpha beta gamma delta %d", 5, THRESH_HAM);
	tu_learn_numbered(db, "cheap pills %d", 5, THRESH_SPAM);
	static struct checks x;
	static struct checker k[CHECKERS];
	pthread_t th[CHECKERS];
	x.score[0] = probe_score(db);
	run_checkers(&x, db, k, th);
	for (int i = 1; i <= CHANGES; i++) {
		char text[64];
		snprintf(text, sizeof text, "alpha beta gamma %d", i);
		thresh_comment *c;
		thresh_comment_new(&c);
		thresh_comment_set(c, "content", text, (size_t)-1);
		atomic_store(&x.begun, i);
		cr_assert_eq(thresh_learn(db, c, i % 3 ? THRESH_SPAM : THRESH_HAM, NULL), 0);
		thresh_comment_free(c);
		atomic_store(&x.done, i);
		x.score[i] = probe_score(db); /* nothing else learns meanwhile */
	}
	size_t checked = 0;
	for (int i = 0; i < CHECKERS; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(k[i].failures, 0, "checker %d", i);
		for (int j = 0; j < k[i].n; j++) {
			int seen = 0;
			for (int s = k[i].before[j]; s <= k[i].after[j] && !seen; s++)
				seen = k[i].score[j] == x.score[s];
			cr_expect(seen, "checker %d: a check begun after learn %d, done before learn %d "
			          "began, scored %.17g, the score of none of them", i, k[i].before[j],
			          k[i].after[j] + 1, k[i].score[j]);
			checked++;
		}
	}
	cr_log_info("%zu checks against %d learns", checked, CHANGES);
	cr_expect_neq(x.score[0], x.score[CHANGES], "the learns move the probe's score");
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* write_conf - dir/db/thresh.conf holds text. */
static void write_conf(const char *dir, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	snprintf(path, sizeof path, "%s/db/thresh.conf", dir);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	FILE *f = fopen(tmp, "w");
	cr_assert_not_null(f, "%s", tmp);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(tmp, path), 0);
}

/* Reload k holds "beta" for moderation when k is odd: a check begun after
 * reload k and done before reload k + 1 began held the probe exactly then. */
Test(check, kept_views_see_the_newest_configuration_while_another_thread_reloads,
     .timeout = 120)
{
	char *dir, err[256];
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	db = tu_open_with_conf(dir, "memory_cache = no\n");
	static struct checks x;
	static struct checker k[CHECKERS];
	pthread_t th[CHECKERS];
	run_checkers(&x, db, k, th);
	for (int i = 1; i <= CHANGES; i++) {
		atomic_store(&x.begun, i);
		write_conf(dir, i % 2 ? "memory_cache = no\nmoderation_words = beta\n"
		                      : "memory_cache = no\n");
		cr_assert_eq(thresh_db_config_reload(db, err, sizeof err), 0, "%s", err);
		atomic_store(&x.done, i);
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL); /* some checks between two reloads */
	}
	size_t checked = 0, held = 0;
	for (int i = 0; i < CHECKERS; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(k[i].failures, 0, "checker %d", i);
		for (int j = 0; j < k[i].n; j++) {
			if (k[i].before[j] != k[i].after[j])
				continue; /* a reload during the check: either is right */
			cr_expect_eq(k[i].held[j], k[i].before[j] % 2,
			             "checker %d: a check made under reload %d %s held", i,
			             k[i].before[j], k[i].held[j] ? "was" : "was not");
			checked++;
			held += k[i].held[j];
		}
	}
	cr_log_info("%zu checks under one configuration, %zu of them held", checked, held);
	cr_expect_gt(held, 0);
	cr_expect_lt(held, checked);
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

/* ---------- handles sharing the prior's counts (cache.c) ---------- */

#define SHARE_SITES 4
static const char *const share_texts[] = {
	"Check out my channel, subscribe and win a free iPhone http://bit.ly/free-phone",
	"I love this song, it reminds me of summer with my family",
	"cheap pills online buy now discount http://pharma.example.com/buy",
	"quasar zyxwv plumbago frobnicate",
	"FREE entry in 2 a wkly comp to win FA Cup final tkts text FA to 87121",
	"The recipe worked perfectly, though I used less sugar than you suggested",
};
#define SHARE_N (sizeof share_texts / sizeof share_texts[0])

/* Every site is a copy of one database made from the default model: each
 * comment scores the same on every one, to the bit (want). */
struct share {
	char path[SHARE_SITES][PATH_MAX];
	double want[SHARE_N];
	atomic_int stop;
};

/* share_failures - the checks of every comment on db that fail or score
 * other than want. */
static int share_failures(const struct share *x, thresh_db *db)
{
	int failures = 0;
	for (size_t i = 0; i < SHARE_N; i++) {
		thresh_comment *c;
		thresh_result *r = NULL;
		thresh_comment_new(&c);
		thresh_comment_set(c, "content", share_texts[i], (size_t)-1);
		if (thresh_check(db, c, THRESH_CHECK_READONLY, &r) != 0)
			failures++;
		else if (memcmp(&(double){thresh_result_score(r)}, &x->want[i], sizeof(double)))
			failures++;
		thresh_result_free(r);
		thresh_comment_free(c);
	}
	return failures;
}

static thresh_db *share_open(const struct share *x, int site, unsigned flags)
{
	thresh_db_options o;
	thresh_db *db = NULL;
	thresh_db_options_init(&o);
	o.flags = flags;
	int rc = thresh_db_open(x->path[site], &o, &db);
	return rc || thresh_db_warm(db) ? (thresh_db_close(db), NULL) : db;
}

struct share_checker {
	struct share *x;
	thresh_db *db;
	int site; /* share_cycle: the site it opens and closes */
	int failures, rounds;
};

/* share_check - check on a handle until told to stop. */
static void *share_check(void *arg)
{
	struct share_checker *k = arg;
	while (!atomic_load(&k->x->stop)) {
		k->failures += share_failures(k->x, k->db);
		k->rounds++;
	}
	return NULL;
}

/* share_cycle - open a handle of its site, warm it, check, close, again. */
static void *share_cycle(void *arg)
{
	struct share_checker *k = arg;
	for (; k->rounds < 6; k->rounds++) {
		thresh_db *db = share_open(k->x, k->site, THRESH_DB_SHARE_PRIOR);
		if (!db) {
			k->failures++;
			continue;
		}
		k->failures += share_failures(k->x, db);
		thresh_db_close(db);
	}
	return NULL;
}

/* share_setup - the sites, and the scores of a handle without the flag. */
static char *share_setup(struct share *x)
{
	char *dir;
	thresh_db *db = tu_model_db(&dir);
	thresh_db_close(db);
	for (int i = 0; i < SHARE_SITES; i++) {
		snprintf(x->path[i], sizeof x->path[i], i ? "%s/db%d" : "%s/db", dir, i);
		if (i)
			tu_copy_db(x->path[0], x->path[i]);
	}
	db = share_open(x, 0, 0);
	cr_assert_not_null(db);
	for (size_t i = 0; i < SHARE_N; i++)
		x->want[i] = tu_score(db, share_texts[i]);
	thresh_db_close(db);
	atomic_store(&x->stop, 0);
	return dir;
}

/* Threads check on two handles sharing one table of prior counts while
 * another handle of a third site is closed and opened again and again: it
 * drops its reference to the table and takes one again, and nobody's
 * scores move. */
Test(share, checks_go_on_while_a_handle_closes_and_opens, .timeout = 180)
{
	static struct share x;
	char *dir = share_setup(&x);
	thresh_db *a = share_open(&x, 0, THRESH_DB_SHARE_PRIOR);
	thresh_db *b = share_open(&x, 1, THRESH_DB_SHARE_PRIOR);
	cr_assert(a && b);
	struct share_checker k[3] = {{&x, a, 0, 0, 0}, {&x, a, 0, 0, 0}, {&x, b, 0, 0, 0}};
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, share_check, &k[i]), 0);
	int failures = 0;
	for (int r = 0; r < 10; r++) {
		thresh_db *c = share_open(&x, 2, THRESH_DB_SHARE_PRIOR);
		if (!c) {
			failures++;
			continue;
		}
		size_t users;
		if (cache_shared_count(&users) != 1 || users < 3)
			failures++;
		failures += share_failures(&x, c);
		thresh_db_close(c);
	}
	atomic_store(&x.stop, 1);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(k[i].failures, 0, "checker %d: %d of %d rounds failed", i, k[i].failures,
		             k[i].rounds);
		cr_expect_gt(k[i].rounds, 0, "checker %d", i);
	}
	cr_expect_eq(failures, 0, "the handle opened and closed: %d failures", failures);
	cr_expect_eq(cache_shared_count(NULL), 1);
	thresh_db_close(a);
	thresh_db_close(b);
	cr_expect_eq(cache_shared_count(NULL), 0, "freed with the last handle");
	tu_rmtree(dir);
	free(dir);
}

/* Threads open, warm, check and close handles of their own sites at once:
 * the table of prior counts is made, found, made twice and kept once,
 * freed and made again as they race, and every score stays the same. */
Test(share, handles_open_and_close_at_once, .timeout = 180)
{
	static struct share x;
	char *dir = share_setup(&x);
	struct share_checker k[SHARE_SITES - 1];
	pthread_t th[SHARE_SITES - 1];
	for (int i = 0; i < SHARE_SITES - 1; i++) {
		k[i] = (struct share_checker){&x, NULL, i + 1, 0, 0};
		cr_assert_eq(pthread_create(&th[i], NULL, share_cycle, &k[i]), 0);
	}
	for (int i = 0; i < SHARE_SITES - 1; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(k[i].failures, 0, "thread %d: %d failures", i, k[i].failures);
	}
	cr_expect_eq(cache_shared_count(NULL), 0, "freed with the last handle");
	tu_rmtree(dir);
	free(dir);
}
