/* metrics.c - counters, the latency histogram, and /metrics in Prometheus'
 * text format (version 0.0.4).
 *
 *   threshd_requests_total{endpoint="comment-check",code="200"} 1234
 *   threshd_request_duration_seconds_bucket{endpoint="comment-check",le="0.001"} 1200
 *   threshd_verdicts_total{verdict="reject"} 87
 *   threshd_db_used_bytes 20971520
 *
 * Counters are relaxed atomics: each is exact, a scrape is not a snapshot. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "threshd.h"

static const char *const ep_names[EP_COUNT] = {
	[EP_VERIFY_KEY] = "verify-key",
	[EP_COMMENT_CHECK] = "comment-check",
	[EP_SUBMIT_SPAM] = "submit-spam",
	[EP_SUBMIT_HAM] = "submit-ham",
	[EP_USAGE_LIMIT] = "usage-limit",
	[EP_GET_SUBSCRIPTION] = "get-subscription",
	[EP_GET_STATS] = "get-stats",
	[EP_DEACTIVATE] = "deactivate",
	[EP_AK_TEST] = "test",
	[EP_V1_CHECK] = "v1-check",
	[EP_V1_LEARN] = "v1-learn",
	[EP_V1_UNLEARN] = "v1-unlearn",
	[EP_V1_STATS] = "v1-stats",
	[EP_V1_LEARN_BULK] = "v1-learn-bulk",
	[EP_HEALTHZ] = "healthz",
	[EP_METRICS] = "metrics",
	[EP_UNKNOWN] = "unknown",
};

/* The statuses counted one by one; anything else counts as "other", a
 * connection closed without a response as "none". */
static const unsigned statuses[METRICS_STATUSES] = {
	200, 400, 401, 403, 404, 405, 408, 413, 415, 500, 503, 507, 0, 0, 0, 0,
};
#define STATUS_OTHER 14
#define STATUS_NONE 15

/* Upper bounds of the latency buckets, in seconds. */
static const double buckets[METRICS_BUCKETS] = {
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
};

const char *endpoint_name(enum endpoint ep)
{
	return ep < EP_COUNT ? ep_names[ep] : "unknown";
}

static int status_slot(unsigned status)
{
	if (status == 0)
		return STATUS_NONE;
	for (int i = 0; i < METRICS_STATUSES && statuses[i]; i++)
		if (statuses[i] == status)
			return i;
	return STATUS_OTHER;
}

void metrics_request(struct metrics *m, enum endpoint ep, unsigned status, double seconds)
{
	int b = 0;
	if (ep >= EP_COUNT)
		ep = EP_UNKNOWN;
	atomic_fetch_add_explicit(&m->requests[ep][status_slot(status)], 1, memory_order_relaxed);
	while (b < METRICS_BUCKETS && seconds > buckets[b])
		b++;
	atomic_fetch_add_explicit(&m->latency[ep][b], 1, memory_order_relaxed);
	if (seconds < 0)
		seconds = 0;
	atomic_fetch_add_explicit(&m->latency_ns[ep], (uint64_t)(seconds * 1e9),
	                          memory_order_relaxed);
}

void metrics_verdict(struct metrics *m, thresh_verdict v)
{
	if ((unsigned)v < 3)
		atomic_fetch_add_explicit(&m->verdicts[v], 1, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

static void help(struct sbuf *b, const char *name, const char *type, const char *text)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* by_label - a counter kept per label (ham, spam), with its help lines. */
static void by_label(struct sbuf *b, const char *name, const char *text, _Atomic uint64_t c[2])
{
	static const char *const labels[2] = {"ham", "spam"};
	help(b, name, "counter", text);
	for (int l = 0; l < 2; l++)
		sb_printf(b, "%s{label=\"%s\"} %" PRIu64 "\n", name, labels[l], get(&c[l]));
}

/* metrics_cluster - a node of a cluster: Redis, the outbox, the lag, the
 * local fallbacks of the rate limit, the replication rounds. */
static void metrics_cluster(struct server *s, const thresh_stats *st, struct sbuf *b)
{
	char num[40];
	help(b, "threshd_cluster_redis_up", "gauge",
	     "1 when Redis answered within the timeout at this scrape.");
	sb_printf(b, "threshd_cluster_redis_up %d\n", st->redis_up);
	help(b, "threshd_cluster_outbox", "gauge",
	     "Learns of this node not yet seen back in the cluster's log.");
	sb_printf(b, "threshd_cluster_outbox %" PRIu64 "\n", st->outbox);
	help(b, "threshd_cluster_seq", "gauge", "The last sequence of the log applied here.");
	sb_printf(b, "threshd_cluster_seq %" PRIu64 "\n", st->cluster_seq);
	help(b, "threshd_cluster_lag_events", "gauge", "Events of the log not applied here yet.");
	sb_printf(b, "threshd_cluster_lag_events %" PRIu64 "\n", st->lag_events);
	help(b, "threshd_cluster_lag_seconds", "gauge",
	     "Seconds since the oldest event not applied here was published (0: none).");
	sb_printf(b, "threshd_cluster_lag_seconds %s\n", fmt_double(num, sizeof num, st->lag_seconds));
	help(b, "threshd_cluster_rate_fallbacks_total", "counter",
	     "Checks rate-limited locally at this node's share (rate_local): Redis away or slow.");
	sb_printf(b, "threshd_cluster_rate_fallbacks_total %" PRIu64 "\n", st->rate_fallbacks);
	help(b, "threshd_cluster_rounds_total", "counter", "Replication rounds run.");
	sb_printf(b, "threshd_cluster_rounds_total %" PRIu64 "\n", get(&s->cluster.rounds));
	help(b, "threshd_cluster_rounds_failed_total", "counter",
	     "Replication rounds that did not complete (Redis away, refused, ...).");
	sb_printf(b, "threshd_cluster_rounds_failed_total %" PRIu64 "\n", get(&s->cluster.failed));
}

/* The sites of --sites: totals, and the busiest few by name (a series a
 * site would grow without bound on a host of thousands). */
#define METRICS_TOP_SITES 10

static void metrics_sites(struct server *s, struct sbuf *b)
{
	struct sites_stats ss;
	struct site_count top[METRICS_TOP_SITES];
	sites_stats(s->sites, &ss);
	help(b, "threshd_sites", "gauge", "Sites asked for since threshd started (known), and of "
	     "them those whose database is open (open).");
	sb_printf(b, "threshd_sites{state=\"known\"} %zu\n", ss.known);
	sb_printf(b, "threshd_sites{state=\"open\"} %zu\n", ss.open);
	help(b, "threshd_sites_open_limit", "gauge", "[threshd] open_sites: idle sites past it are "
	     "closed, the least recently used first.");
	sb_printf(b, "threshd_sites_open_limit %zu\n", ss.max_open);
	help(b, "threshd_site_events_total", "counter", "Site databases made from the default "
	     "model (created), opened (opened), closed as least recently used (closed), and "
	     "failed to open or make (failed).");
	sb_printf(b, "threshd_site_events_total{event=\"created\"} %" PRIu64 "\n", ss.created);
	sb_printf(b, "threshd_site_events_total{event=\"opened\"} %" PRIu64 "\n", ss.opens);
	sb_printf(b, "threshd_site_events_total{event=\"closed\"} %" PRIu64 "\n", ss.closes);
	sb_printf(b, "threshd_site_events_total{event=\"failed\"} %" PRIu64 "\n", ss.failed);
	if (s->sites_cluster) {
		/* every site a node: the replicator's rounds over all of them */
		help(b, "threshd_cluster_redis_up", "gauge",
		     "1 when the last replication pass over the open sites reached Redis.");
		sb_printf(b, "threshd_cluster_redis_up %d\n",
		          atomic_load_explicit(&s->cluster.redis_up, memory_order_relaxed));
		help(b, "threshd_cluster_rounds_total", "counter",
		     "Replication passes run, each a round on every open site.");
		sb_printf(b, "threshd_cluster_rounds_total %" PRIu64 "\n", get(&s->cluster.rounds));
		help(b, "threshd_cluster_rounds_failed_total", "counter",
		     "Passes in which a site's round did not complete (Redis away, refused, ...).");
		sb_printf(b, "threshd_cluster_rounds_failed_total %" PRIu64 "\n",
		          get(&s->cluster.failed));
	}
	size_t n = sites_top(s->sites, top, METRICS_TOP_SITES);
	help(b, "threshd_site_requests_total", "counter", "Requests that worked on a site's "
	     "database, for the 10 sites with the most.");
	for (size_t i = 0; i < n; i++)
		sb_printf(b, "threshd_site_requests_total{site=\"%s\"} %" PRIu64 "\n", top[i].name,
		          top[i].requests);
}

void metrics_render(struct server *s, struct MHD_Daemon *d, struct sbuf *b)
{
	struct metrics *m = &s->metrics;
	static const char *const verdicts[3] = {"accept", "hold", "reject"};
	char num[40];

	help(b, "threshd_requests_total", "counter",
	     "Requests answered, by endpoint and HTTP status (none: closed unanswered).");
	for (int e = 0; e < EP_COUNT; e++)
		for (int i = 0; i < METRICS_STATUSES; i++) {
			uint64_t n = get(&m->requests[e][i]);
			if (!n)
				continue;
			if (i == STATUS_NONE)
				snprintf(num, sizeof num, "none");
			else if (i == STATUS_OTHER)
				snprintf(num, sizeof num, "other");
			else
				snprintf(num, sizeof num, "%u", statuses[i]);
			sb_printf(b, "threshd_requests_total{endpoint=\"%s\",code=\"%s\"} %" PRIu64 "\n",
			          ep_names[e], num, n);
		}

	help(b, "threshd_request_duration_seconds", "histogram",
	     "Time from a request's headers to its last byte sent, by endpoint.");
	for (int e = 0; e < EP_COUNT; e++) {
		uint64_t cum = 0, total = 0;
		for (int i = 0; i <= METRICS_BUCKETS; i++)
			total += get(&m->latency[e][i]);
		if (!total)
			continue;
		for (int i = 0; i <= METRICS_BUCKETS; i++) {
			cum += get(&m->latency[e][i]);
			if (i < METRICS_BUCKETS)
				fmt_double(num, sizeof num, buckets[i]);
			else
				snprintf(num, sizeof num, "+Inf");
			sb_printf(b,
			          "threshd_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%s\"} "
			          "%" PRIu64 "\n",
			          ep_names[e], num, cum);
		}
		sb_printf(b, "threshd_request_duration_seconds_sum{endpoint=\"%s\"} %s\n", ep_names[e],
		          fmt_double(num, sizeof num, (double)get(&m->latency_ns[e]) / 1e9));
		sb_printf(b, "threshd_request_duration_seconds_count{endpoint=\"%s\"} %" PRIu64 "\n",
		          ep_names[e], cum);
	}

	help(b, "threshd_verdicts_total", "counter", "Comments checked, by verdict.");
	for (int v = 0; v < 3; v++)
		sb_printf(b, "threshd_verdicts_total{verdict=\"%s\"} %" PRIu64 "\n", verdicts[v],
		          get(&m->verdicts[v]));

	by_label(b, "threshd_learned_total", "Comments learned, by label.", m->learned);
	by_label(b, "threshd_unlearned_total", "Comments unlearned, by label.", m->unlearned);

	help(b, "threshd_akismet_answers_total", "counter",
	     "Akismet comment-checks answered, by answer (is_test and rechecks not counted); "
	     "held: false with X-akismet-error.");
	sb_printf(b, "threshd_akismet_answers_total{answer=\"false\"} %" PRIu64 "\n",
	          get(&m->ak_answers[0]) - get(&m->ak_pending));
	sb_printf(b, "threshd_akismet_answers_total{answer=\"held\"} %" PRIu64 "\n",
	          get(&m->ak_pending));
	sb_printf(b, "threshd_akismet_answers_total{answer=\"true\"} %" PRIu64 "\n",
	          get(&m->ak_answers[1]));
	by_label(b, "threshd_akismet_reports_total",
	         "Akismet submit-ham and submit-spam learned (is_test not counted), by label.",
	         m->ak_reports);
	help(b, "threshd_akismet_fields_total", "counter",
	     "Akismet form fields taken leniently: dropped (past the field limit, without a "
	     "name, or refused), repaired (bytes made U+FFFD), truncated (cut to the limits).");
	sb_printf(b, "threshd_akismet_fields_total{fate=\"dropped\"} %" PRIu64 "\n",
	          get(&m->ak_dropped));
	sb_printf(b, "threshd_akismet_fields_total{fate=\"repaired\"} %" PRIu64 "\n",
	          get(&m->ak_repaired));
	sb_printf(b, "threshd_akismet_fields_total{fate=\"truncated\"} %" PRIu64 "\n",
	          get(&m->ak_truncated));

	help(b, "threshd_requests_in_flight", "gauge", "Requests being read, worked on or sent.");
	sb_printf(b, "threshd_requests_in_flight %ld\n",
	          atomic_load_explicit(&s->inflight, memory_order_relaxed));
	if (d) {
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		help(b, "threshd_connections", "gauge", "Open client connections.");
		sb_printf(b, "threshd_connections %u\n", di ? di->num_connections : 0u);
	}

	if (s->guard) {
		struct guard_stats gs;
		guard_stats(s->guard, &gs);
		help(b, "threshd_connections_aborted_total", "counter",
		     "Connections threshd closed early, refused, or whose body it refused, and "
		     "requests the client gave up, by reason: header_timeout (headers not in by "
		     "--header-timeout, idle keep-alive too), body_timeout (--timeout), idle_timeout, "
		     "per_ip (--max-connections-per-ip), budget (503 for --body-budget), too_large "
		     "(read on far past the limit), client_gone, error.");
		for (int r = GR_NONE + 1; r < GR_COUNT; r++)
			sb_printf(b, "threshd_connections_aborted_total{reason=\"%s\"} %" PRIu64 "\n",
			          guard_reason_name((enum guard_reason)r), gs.aborted[r]);
		help(b, "threshd_body_bytes", "gauge", "Bytes of request bodies held in memory.");
		sb_printf(b, "threshd_body_bytes %" PRIu64 "\n", gs.body_bytes);
		help(b, "threshd_body_unkeyed_bytes", "gauge",
		     "... of them, of requests whose key is not known before their body (at most "
		     "3/4 of the budget).");
		sb_printf(b, "threshd_body_unkeyed_bytes %" PRIu64 "\n", gs.unkeyed_bytes);
		help(b, "threshd_body_budget_bytes", "gauge", "--body-budget.");
		sb_printf(b, "threshd_body_budget_bytes %" PRIu64 "\n", gs.budget);
	}

	pthread_rwlock_rdlock(&s->keys_lock);
	size_t nkeys = keyring_count(s->keys);
	pthread_rwlock_unlock(&s->keys_lock);
	help(b, "threshd_api_keys", "gauge", "API keys loaded (0: development mode).");
	sb_printf(b, "threshd_api_keys %zu\n", nkeys);

	if (s->sites)
		metrics_sites(s, b);

	thresh_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	/* with --sites, each site's figures are its own (GET /v1/stats); the
	 * database here is DIR/.prior: up or not is what counts, and it is
	 * never a node of a cluster (its part is not asked for) */
	if (s->sites)
		st.size = offsetof(thresh_stats, cluster);
	int rc = thresh_db_stats(s->db, &st);
	if (s->sites) {
		help(b, "threshd_db_up", "gauge", "1 when the sites' shared prior answered this scrape.");
		sb_printf(b, "threshd_db_up %d\n", rc == 0);
		rc = -1;
	} else {
		help(b, "threshd_db_up", "gauge", "1 when the database answered this scrape.");
		sb_printf(b, "threshd_db_up %d\n", rc == 0);
	}
	if (rc == 0) {
		help(b, "threshd_db_map_size_bytes", "gauge", "Bytes of the database's LMDB map.");
		sb_printf(b, "threshd_db_map_size_bytes %" PRIu64 "\n", st.map_size);
		help(b, "threshd_db_used_bytes", "gauge", "Bytes of the map in use.");
		sb_printf(b, "threshd_db_used_bytes %" PRIu64 "\n", st.used_bytes);
		help(b, "threshd_db_tokens", "gauge", "Distinct tokens stored.");
		sb_printf(b, "threshd_db_tokens %" PRIu64 "\n", st.tokens);
		help(b, "threshd_db_messages", "gauge", "Comments the model has learned, by label.");
		sb_printf(b, "threshd_db_messages{label=\"ham\"} %" PRIu64 "\n", st.ham_messages);
		sb_printf(b, "threshd_db_messages{label=\"spam\"} %" PRIu64 "\n", st.spam_messages);
	}
	if (rc == 0 && st.cluster)
		metrics_cluster(s, &st, b);

	help(b, "threshd_start_time_seconds", "gauge", "When threshd started, since the epoch.");
	sb_printf(b, "threshd_start_time_seconds %.3f\n", s->started);
	help(b, "threshd_build_info", "gauge", "threshd's version and the libthresh it loaded.");
	sb_printf(b, "threshd_build_info{version=\"%s\",libthresh=\"%s\"} 1\n",
	          THRESH_VERSION_STRING, thresh_version());
}
