/* replicate.c - `thresh replicate`: the cluster's replicator for a node
 * whose servers only load the library (Apache prefork, PHP-FPM), so that no
 * web server process publishes or applies the log. It calls
 * thresh_db_replicate() in a loop until SIGTERM or SIGINT, and says on
 * stderr what changes (Redis away or back, a resync, a new epoch, a refusal).
 * dist/thresh-replicate.service runs it under systemd. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "num.h"

enum { O_DB, O_ONCE, O_DRAIN, O_WAIT, O_REDIS, O_NODE, O_NODES };

static void nap(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cli_interrupted)
		;
}

int cmd_replicate(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{"db", OPT_ARG, O_DB},       {"once", OPT_NOARG, O_ONCE},   {"drain", OPT_NOARG, O_DRAIN},
		{"wait", OPT_ARG, O_WAIT},   {"redis", OPT_ARG, O_REDIS},   {"node", OPT_ARG, O_NODE},
		{"nodes", OPT_ARG, O_NODES}, {NULL, 0, 0}};
	const char *arg, *set[3] = {NULL, NULL, NULL};
	static const char *const keys[3] = {"redis", "node", "nodes"};
	int once = 0, drain = 0, o, rc;
	uint64_t wait_ms = 50;
	struct opt_iter it;
	opt_start(&it, argv[0], argc, argv);
	while ((o = opt_next(&it, defs, &arg)) != OPT_DONE) {
		switch (o) {
		case OPT_HELP:
			help_print(stdout, argv[0]);
			return CLI_OK;
		case OPT_ERROR:
			return CLI_FAIL;
		case O_DB:
			cli->db_opt = arg;
			break;
		case O_ONCE:
			once = 1;
			break;
		case O_DRAIN:
			drain = 1;
			break;
		case O_WAIT:
			if (parse_u64(arg, 0, 60000, &wait_ms))
				return usage_error(argv[0], "--wait %s: expected milliseconds, 0 to 60000", arg);
			break;
		case O_REDIS:
		case O_NODE:
		case O_NODES:
			set[o - O_REDIS] = arg;
			break;
		case OPT_POSITIONAL:
			return usage_error(argv[0], "unexpected argument '%s'", arg);
		}
	}
	thresh_db *db;
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	const char *dir = cli_db_dir(cli);
	for (int i = 0; i < 3; i++)
		if (set[i] && (rc = thresh_db_cluster_set(db, keys[i], set[i]))) {
			cli_warn("--%s %s: %s", keys[i], set[i],
			         rc == THRESH_EINVAL ? "not a valid value (see thresh.conf(5), [cluster])"
			                             : thresh_strerror(rc));
			thresh_db_close(db);
			return CLI_FAIL;
		}
	signals_catch();
	char last[256] = "";
	double backoff = 0;
	int status = CLI_OK, was_up = -1;
	while (!cli_interrupted) {
		thresh_replicate_info info;
		memset(&info, 0, sizeof info);
		info.size = sizeof info;
		rc = thresh_db_replicate(db, once || drain ? 0 : (int)wait_ms, &info);
		if (rc == THRESH_ENOTFOUND) {
			cli_warn("%s: no [cluster] section in thresh.conf, and no --redis: nothing to "
			         "replicate (see thresh.conf(5))", dir);
			status = CLI_FAIL;
			break;
		}
		if (info.message[0] && strcmp(info.message, last)) {
			cli_warn("%s", info.message);
			snprintf(last, sizeof last, "%s", info.message);
		}
		if (info.redis_up != was_up && (rc == 0 || rc == THRESH_EUNAVAIL)) {
			if (was_up >= 0 || !info.redis_up)
				cli_warn("Redis is %s", info.redis_up ? "back: publishing and applying the log"
				                                      : "away: learns wait in the outbox");
			was_up = info.redis_up;
		}
		if (rc && rc != THRESH_EUNAVAIL && rc != THRESH_EREFUSED) {
			cli_warn("%s: %s", dir, thresh_strerror(rc));
			status = CLI_FAIL;
			if (once || drain)
				break;
		}
		if (once) {
			if (rc)
				status = CLI_FAIL;
			break;
		}
		if (drain && !rc) {
			thresh_stats st;
			memset(&st, 0, sizeof st);
			st.size = sizeof st;
			if (!info.published && !info.applied && !info.resynced && !info.new_epoch &&
			    thresh_db_stats(db, &st) == 0 && st.outbox == 0 && st.lag_events == 0)
				break;
		}
		if (rc) {
			backoff = backoff ? (backoff * 2 > 2 ? 2 : backoff * 2) : 0.1;
			nap(backoff);
		} else {
			backoff = 0;
		}
	}
	thresh_db_close(db);
	return status;
}
