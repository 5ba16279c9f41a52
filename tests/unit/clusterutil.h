/* clusterutil.h - helpers of the cluster's unit tests (test_apply.c,
 * test_replica.c, test_cluster.c): copies of one database folder (so they
 * share the model key and the secret), exports compared byte for byte, and
 * a redis-server of the test's own on a unix socket. */
#ifndef THRESH_CLUSTERUTIL_H
#define THRESH_CLUSTERUTIL_H

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

/* cu_open - open folder path with conf as its thresh.conf (NULL: none). */
static inline thresh_db *cu_open(const char *path, const char *conf)
{
	char p[PATH_MAX + 16], err[512] = "";
	thresh_db_options o;
	thresh_db *db = NULL;
	if (conf) {
		snprintf(p, sizeof p, "%s/thresh.conf", path);
		FILE *f = fopen(p, "w");
		cr_assert_not_null(f);
		fputs(conf, f);
		cr_assert_eq(fclose(f), 0);
	}
	thresh_db_options_init(&o);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	int rc = thresh_db_open(path, &o, &db);
	cr_assert_eq(rc, 0, "open %s: %s (%s)", path, thresh_strerror(rc), err);
	return db;
}

/* cu_export - the export of db as a malloc'd string (*len bytes). */
static inline char *cu_export(thresh_db *db, const char *dir, const char *name, size_t *len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s.dump", dir, name);
	cr_assert_eq(thresh_db_export(db, p), 0);
	return tu_slurp(p, len);
}

/* cu_same_export - a's and b's exports are byte for byte the same. */
static inline void cu_same_export(thresh_db *a, thresh_db *b, const char *dir, const char *what)
{
	size_t la, lb;
	char *ea = cu_export(a, dir, "cmp-a", &la), *eb = cu_export(b, dir, "cmp-b", &lb);
	cr_expect(la == lb && !memcmp(ea, eb, la), "%s: the exports differ", what);
	free(ea);
	free(eb);
}

/* A redis-server of the test's own. */
struct cu_redis {
	pid_t pid;
	char dir[PATH_MAX];
	char addr[PATH_MAX + 8];
};

static inline int cu_redis_start(struct cu_redis *r, const char *dir)
{
	char sock[PATH_MAX];
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	snprintf(sock, sizeof sock, "%s/redis.sock", dir);
	snprintf(r->addr, sizeof r->addr, "unix:%s", sock);
	r->pid = fork();
	if (r->pid == 0) {
		freopen("/dev/null", "w", stdout);
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
		       "--unixsocketperm", "700", "--dir", dir, "--save", "", "--appendonly", "no",
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int st;
		if (access(sock, F_OK) == 0)
			return 0;
		if (waitpid(r->pid, &st, WNOHANG) == r->pid)
			return -1; /* not installed */
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	return -1;
}

static inline void cu_redis_stop(struct cu_redis *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
}

#endif
