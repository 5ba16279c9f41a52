/* The map grows under load: a writer that keeps filling a small LMDB map
 * while reader threads of its own process and reader processes read.
 *
 * tests/unit/test_store.c (store/map_grows_by_itself) proves one write that
 * overflows the map is grown and redone whole. Here a 64 KiB map is grown
 * some ten times by 60 writes of 1000 tokens each, while two threads sharing
 * the writer's store handle (the grow lock) and two forked processes with
 * their own handle (LMDB's MDB_MAP_RESIZED, adopted by store.c) read without
 * pause, and two more processes open the store for writing again and again
 * (an open waits for the writer's lock, and may find the map grown when it
 * gets it). Every open must succeed and every snapshot be whole: the meta
 * counter "n" equals the number of tokens stored, and the last token of
 * that write is there.
 *
 * Snapshots are not required to come in order. LMDB 0.9 (mdb_txn_renew0)
 * takes a reader's transaction id from the lock file, then the meta page of
 * that id's parity, without checking that the page still holds that id: a
 * reader preempted between the two while the writer commits twice reads
 * the newer snapshot, under the older id, and its next transaction may be
 * the one in between. Each snapshot is still whole (its pages are those of
 * a committed transaction, kept from reuse by the reader's slot). Seen here
 * about once in 30 runs with another test loading both cores. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "store.h"
#include "thresh/error.h"
#include "../unit/testutil.h"

#define WRITES 60
#define PER_WRITE 1000
#define START_MAP (64 * 1024)

static uint64_t token_id(uint64_t i)
{
	return (i + 1) * 0x9E3779B97F4A7C15ULL;
}

struct wctx {
	uint64_t first;
};

static int write_fn(store_txn *t, void *ctx)
{
	struct wctx *w = ctx;
	uint64_t n = w->first + PER_WRITE;
	for (uint64_t i = w->first; i < n; i++) {
		int rc = store_token_add(t, token_id(i), 1, 0, 100, 0, 0);
		if (rc)
			return rc;
	}
	return store_meta_put(t, "n", &n, sizeof n);
}

/* check_once - one snapshot; 0 when whole, else a description in why. */
static int check_once(store *s, uint64_t *seen, char *why, size_t size)
{
	store_txn *t;
	store_info info;
	uint64_t n = 0;
	tok_counts c;
	int rc = store_read_begin(s, &t);
	if (rc) {
		snprintf(why, size, "read_begin: %s", thresh_strerror(rc));
		return -1;
	}
	rc = store_meta_get(t, "n", &n, sizeof n);
	if (rc == THRESH_ENOTFOUND)
		n = 0, rc = 0;
	if (!rc)
		rc = store_info_get(t, &info);
	if (!rc && n) {
		uint64_t id = token_id(n - 1);
		rc = store_tokens_get(t, &id, 1, &c);
	}
	store_read_end(t);
	if (rc) {
		snprintf(why, size, "read: %s", thresh_strerror(rc));
		return -1;
	}
	if (info.tokens != n || (n && c.spam != 1)) {
		snprintf(why, size, "n %llu, tokens %llu, last token %u",
		         (unsigned long long)n, (unsigned long long)info.tokens, n ? c.spam : 0);
		return -1;
	}
	if (n > *seen)
		*seen = n; /* the most any snapshot has shown */
	return 0;
}

struct reader {
	store *s;
	atomic_int *stop;
	unsigned long rounds;
	char why[200];
	int bad;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	uint64_t seen = 0;
	while (!atomic_load(r->stop) && !r->bad) {
		r->bad = check_once(r->s, &seen, r->why, sizeof r->why) != 0;
		r->rounds++;
	}
	return NULL;
}

/* reader_process - reads with its own handle until the writer is done
 * (n reaches the end); exits 0, or 1 with the reason on stderr. */
static void reader_process(const char *dir)
{
	store *s;
	char why[200];
	uint64_t seen = 0;
	unsigned long rounds = 0;
	if (store_open(dir, STORE_RDONLY, START_MAP, &s))
		_exit(2);
	time_t end = time(NULL) + 60;
	while (seen < (uint64_t)WRITES * PER_WRITE && time(NULL) < end) {
		if (check_once(s, &seen, why, sizeof why)) {
			fprintf(stderr, "reader process, snapshot %lu: %s\n", rounds, why);
			_exit(1);
		}
		rounds++;
	}
	store_close(s);
	_exit(seen == (uint64_t)WRITES * PER_WRITE ? 0 : 3);
}

/* opener_process - opens the store for writing again and again (as every
 * `thresh` command and plugin process does), each time waiting for the
 * writer's lock in store_open, until the writer is done. */
static void opener_process(const char *dir)
{
	uint64_t seen = 0;
	unsigned long opens = 0;
	time_t end = time(NULL) + 60;
	while (seen < (uint64_t)WRITES * PER_WRITE && time(NULL) < end) {
		store *s;
		char why[200];
		int rc = store_open(dir, 0, START_MAP, &s);
		if (rc) {
			fprintf(stderr, "opener process, open %lu: %s\n", opens, thresh_strerror(rc));
			_exit(1);
		}
		rc = check_once(s, &seen, why, sizeof why);
		store_close(s);
		if (rc) {
			fprintf(stderr, "opener process, open %lu: %s\n", opens, why);
			_exit(1);
		}
		opens++;
	}
	_exit(seen == (uint64_t)WRITES * PER_WRITE ? 0 : 3);
}

Test(mapgrow, readers_while_the_writer_grows_the_map, .timeout = 120)
{
	char *dir = tu_tmpdir();
	store *s;
	cr_assert_eq(store_open(dir, 0, START_MAP, &s), 0);
	struct wctx w0 = {0};
	cr_assert_eq(store_write(s, write_fn, &w0), 0, "the first write");

	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		cr_assert_neq(kids[i], -1);
		if (kids[i] == 0) {
			if (i < 2)
				reader_process(dir);
			opener_process(dir);
		}
	}
	atomic_int stop = 0;
	struct reader rd[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		memset(&rd[i], 0, sizeof rd[i]);
		rd[i].s = s;
		rd[i].stop = &stop;
		cr_assert_eq(pthread_create(&th[i], NULL, reader_thread, &rd[i]), 0);
	}
	int wrc = 0;
	for (uint64_t k = 1; k < WRITES && !wrc; k++) {
		struct wctx w = {k * PER_WRITE};
		wrc = store_write(s, write_fn, &w);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_expect_eq(wrc, 0, "a write failed: %s", thresh_strerror(wrc));
	for (int i = 0; i < 2; i++)
		cr_expect(!rd[i].bad, "reader thread %d: %s", i, rd[i].why);
	for (int i = 0; i < 4; i++) {
		int st;
		waitpid(kids[i], &st, 0);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s process %d: status %d",
		          i < 2 ? "reader" : "opener", i, st);
	}

	store_txn *t;
	store_info info;
	cr_assert_eq(store_read_begin(s, &t), 0);
	cr_assert_eq(store_info_get(t, &info), 0);
	store_read_end(t);
	cr_expect_eq(info.tokens, (uint64_t)WRITES * PER_WRITE);
	cr_expect_geq(info.map_size, (uint64_t)START_MAP << 5, "the map grew: %llu bytes",
	              (unsigned long long)info.map_size);
	cr_log_info("reader threads: %lu and %lu snapshots; map %llu bytes", rd[0].rounds, rd[1].rounds,
	            (unsigned long long)info.map_size);
	store_close(s);
	tu_rmtree(dir);
	free(dir);
}
