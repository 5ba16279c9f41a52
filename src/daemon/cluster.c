/* cluster.c - threshd as a node of a cluster: the replication thread.
 *
 * When thresh.conf has a [cluster] section (or --redis is given), one thread
 * calls thresh_db_replicate() in a loop: it publishes the learns this node
 * made and applies the cluster's training log, waiting up to REPL_WAIT_MS
 * at a time for new events. While Redis is away it retries with a growing pause
 * (0.1 s to 2 s); checks go on meanwhile (each rate-limited locally at this
 * node's share, with the reason rate_local) and learns wait in the outbox.
 * What changes is said once on stderr; /metrics counts rounds.
 *
 * With --sites every open site is a node (in a namespace of its own): one
 * thread runs a round on each open site in turn, without waiting for the
 * log, then pauses REPL_WAIT_MS; a site closed meanwhile catches up when it
 * is opened again.
 *
 * A round waits at most REPL_WAIT_MS for the log: a learn made here is
 * published by the next round, so that wait bounds the lag it adds (20 ms:
 * fifty rounds a second when idle, three small Redis commands each). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "threshd.h"

#define REPL_WAIT_MS 20

static void nap(struct server *s, double sec)
{
	/* in short steps, so a stop is seen within 50 ms */
	while (sec > 0 && !atomic_load(&s->cluster.stop)) {
		double step = sec < 0.05 ? sec : 0.05;
		struct timespec ts = {0, (long)(step * 1e9)};
		nanosleep(&ts, NULL);
		sec -= step;
	}
}

static void *replicator(void *arg)
{
	struct server *s = arg;
	char last[256] = "";
	double backoff = 0;
	int was_up = 1;
	while (!atomic_load(&s->cluster.stop)) {
		thresh_replicate_info info;
		memset(&info, 0, sizeof info);
		info.size = sizeof info;
		int rc = thresh_db_replicate(s->db, REPL_WAIT_MS, &info);
		atomic_fetch_add(&s->cluster.rounds, 1);
		atomic_store(&s->cluster.redis_up, info.redis_up);
		if (info.message[0] && strcmp(info.message, last)) {
			say("cluster: %s", info.message);
			snprintf(last, sizeof last, "%s", info.message);
		}
		if (rc == THRESH_EUNAVAIL && was_up) {
			say("cluster: Redis is away; checks are rate-limited locally (rate_local) and learns "
			    "wait in the outbox");
			was_up = 0;
		} else if (!rc && !was_up) {
			say("cluster: Redis is back");
			was_up = 1;
			last[0] = '\0';
		}
		if (!rc) {
			backoff = 0;
			continue;
		}
		atomic_fetch_add(&s->cluster.failed, 1);
		if (rc != THRESH_EUNAVAIL && rc != THRESH_EREFUSED)
			say("cluster: replication: %s", thresh_strerror(rc));
		backoff = backoff ? (backoff * 2 > 2 ? 2 : backoff * 2) : 0.1;
		nap(s, backoff);
	}
	return NULL;
}

/* One round on one site, for the sites' replicator. */
struct sites_round {
	struct server *s;
	size_t ok, away, failed;
};

static void replicate_site(struct site *x, void *ctx)
{
	struct sites_round *sr = ctx;
	thresh_replicate_info info;
	memset(&info, 0, sizeof info);
	info.size = sizeof info;
	int rc = thresh_db_replicate(site_db(x), 0, &info);
	if (info.message[0])
		say("cluster: site %s: %s", site_name(x), info.message);
	if (!rc)
		sr->ok++;
	else if (rc == THRESH_EUNAVAIL)
		sr->away++;
	else {
		sr->failed++;
		if (rc != THRESH_EREFUSED)
			say("cluster: site %s: replication: %s", site_name(x), thresh_strerror(rc));
	}
}

static void *sites_replicator(void *arg)
{
	struct server *s = arg;
	double backoff = 0;
	int was_up = 1;
	while (!atomic_load(&s->cluster.stop)) {
		struct sites_round sr = {s, 0, 0, 0};
		size_t n = sites_foreach_open(s->sites, replicate_site, &sr);
		atomic_fetch_add(&s->cluster.rounds, 1);
		int up = !n || sr.ok + sr.failed > 0;
		atomic_store(&s->cluster.redis_up, up);
		if (!up && was_up)
			say("cluster: Redis is away; checks are rate-limited locally (rate_local) and learns "
			    "wait in the outbox");
		else if (up && !was_up)
			say("cluster: Redis is back");
		was_up = up;
		if (sr.away || sr.failed)
			atomic_fetch_add(&s->cluster.failed, 1);
		backoff = up ? 0 : backoff ? (backoff * 2 > 2 ? 2 : backoff * 2) : 0.1;
		nap(s, up ? REPL_WAIT_MS / 1000.0 : backoff);
	}
	return NULL;
}

int cluster_start(struct server *s)
{
	thresh_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	if (s->sites ? !s->sites_cluster
	             : s->cfg.read_only || thresh_db_stats(s->db, &st) || !st.cluster)
		return 0;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&s->cluster.thread, NULL, s->sites ? sites_replicator : replicator, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		say("cluster: cannot start the replication thread: %s", strerror(rc));
		return -1;
	}
	s->cluster.running = 1;
	return 0;
}

void cluster_stop(struct server *s)
{
	if (!s->cluster.running)
		return;
	atomic_store(&s->cluster.stop, 1);
	pthread_join(s->cluster.thread, NULL);
	s->cluster.running = 0;
}
