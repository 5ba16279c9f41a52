/* http.c - threshd's side of libmicrohttpd: the routes, reading bodies
 * within the limit, keys, replies and errors, the request log, and a
 * graceful stop.
 *
 * libmicrohttpd calls on_request several times per request: once when the
 * headers are in, once per piece of the body, and once more with no data,
 * when the handler runs. Routing, the method and Content-Length are decided
 * at the first call. A reply queued then makes libmicrohttpd skip the body
 * and close the connection after the reply: that is how a 413 (or a 404 or
 * 405 that announces a body) goes out before any body is read. A body that
 * turns out too long while it is being read (chunked, without a length) is
 * dropped as it arrives and answered 413 at its end, since libmicrohttpd
 * 0.9 cannot reply in the middle of a body; past four times the limit the
 * connection is simply closed.
 *
 * The first call also refuses what could be read two ways (repeated
 * lengths, a second Host or Authorization: 400), checks the JSON API's key
 * (401 before any body is read) and reserves the body in the budget of
 * bodies in flight (503 past it). guard.c keeps the connections' deadlines
 * (--header-timeout, --timeout), each address's share of connections and
 * the budget; a sweeper thread here enforces the deadlines and gives freed
 * memory back. */
#include <errno.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "threshd.h"

static const struct route routes[] = {
	{"/1.1/verify-key", EP_VERIFY_KEY, M_POST, 1, KEY_CHECK, ak_verify_key},
	{"/1.1/comment-check", EP_COMMENT_CHECK, M_POST, 1, KEY_CHECK, ak_comment_check},
	{"/1.1/submit-spam", EP_SUBMIT_SPAM, M_POST, 1, KEY_LEARN, ak_submit_spam},
	{"/1.1/submit-ham", EP_SUBMIT_HAM, M_POST, 1, KEY_LEARN, ak_submit_ham},
	{"/1.1/get-subscription", EP_GET_SUBSCRIPTION, M_POST, 1, KEY_CHECK, ak_get_subscription},
	{"/1.1/get-stats", EP_GET_STATS, M_POST, 1, KEY_CHECK, ak_get_stats},
	{"/1.1/deactivate", EP_DEACTIVATE, M_POST, 1, KEY_CHECK, ak_deactivate},
	{"/1.1/test", EP_AK_TEST, M_GET | M_POST, 1, KEY_NONE, ak_test},
	{"/1.2/usage-limit", EP_USAGE_LIMIT, M_GET, 1, KEY_CHECK, ak_usage_limit},
	{"/v1/check", EP_V1_CHECK, M_POST, 0, KEY_CHECK, api_check},
	{"/v1/learn", EP_V1_LEARN, M_POST, 0, KEY_LEARN, api_learn},
	{"/v1/unlearn", EP_V1_UNLEARN, M_POST, 0, KEY_LEARN, api_unlearn},
	{"/v1/learn/bulk", EP_V1_LEARN_BULK, M_POST, 0, KEY_LEARN, api_learn_bulk},
	{"/v1/stats", EP_V1_STATS, M_GET, 0, KEY_CHECK, api_stats},
	{"/healthz", EP_HEALTHZ, M_GET, 0, KEY_NONE, api_healthz},
	{"/metrics", EP_METRICS, M_GET, 0, KEY_NONE, api_metrics},
};

static const struct route *route_find(const char *url)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (!strcmp(routes[i].path, url))
			return &routes[i];
	return NULL;
}

static unsigned method_bits(const char *m)
{
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
		return M_GET;
	if (!strcmp(m, "POST"))
		return M_POST;
	return 0;
}

/* The method as the log names it: only known words, never client text. */
static const char *method_label(const char *m)
{
	static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
	                                    "OPTIONS", "TRACE", "CONNECT"};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(m, known[i]))
			return known[i];
	return "OTHER";
}

/* ---------- reading the request ---------- */

const char *header(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

int media_type_is(struct request *rq, const char *type)
{
	const char *ct = header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen(type);
	if (!ct)
		return 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, type, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

const char *host_key(struct request *rq, size_t *len)
{
	const char *h = header(rq, MHD_HTTP_HEADER_HOST), *dot, *end;
	if (!h || h[0] == '[') /* none, or an IPv6 literal */
		return NULL;
	end = strchr(h, ':');
	if (!end)
		end = h + strlen(h);
	dot = memchr(h, '.', (size_t)(end - h));
	if (!dot || dot == h)
		return NULL;
	/* An IPv4 literal ("127.0.0.1") names no key. */
	int all_digits = 1;
	for (const char *p = h; p < end; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			all_digits = 0;
	if (all_digits)
		return NULL;
	*len = (size_t)(dot - h);
	return h;
}

int keys_configured(struct server *s)
{
	return s->cfg.keys_path != NULL;
}

int key_ok(struct request *rq, const char *cand, size_t len, int fold, int learning)
{
	struct server *s = rq->srv;
	size_t which;
	if (!keys_configured(s))
		return !learning;
	pthread_rwlock_rdlock(&s->keys_lock);
	which = keyring_find(s->keys, cand, len, fold);
	const char *site = keyring_site(s->keys, which);
	if (site) /* copied: a SIGHUP may free the key file's text */
		snprintf(rq->key_site, sizeof rq->key_site, "%s", site);
	pthread_rwlock_unlock(&s->keys_lock);
	return which != 0;
}

int request_db(struct request *rq, const char *blog, size_t len, thresh_db **db,
               enum MHD_Result *ret)
{
	struct server *s = rq->srv;
	char name[SITE_NAME_MAX + 1], why[1024];
	if (!s->sites) {
		*db = s->db;
		return 1;
	}
	if (rq->site) { /* asked before for this request */
		*db = site_db(rq->site);
		return 1;
	}
	if (!rq->key_site[0]) { /* no key passed key_ok: not reached by a keyed route */
		*ret = reply_error(rq, 401, "unauthorized", NULL, "no API key");
		return 0;
	}
	pthread_rwlock_rdlock(&s->keys_lock);
	const char *to = site_map_find(s->site_map, rq->key_site, blog, len);
	snprintf(name, sizeof name, "%s", to ? to : rq->key_site);
	pthread_rwlock_unlock(&s->keys_lock);
	int rc = sites_acquire(s->sites, name, &rq->site, why, sizeof why);
	if (rc) {
		say("site %s: %s", name, why);
		*ret = reply_error(rq, 503, "unavailable", NULL, "the site's database could not be "
		                   "opened: %s", thresh_strerror(rc));
		return 0;
	}
	*db = site_db(rq->site);
	return 1;
}

/* ---------- replies ---------- */

static enum MHD_Result queue(struct request *rq, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret;
	if (!r)
		return MHD_NO;
	if (atomic_load_explicit(&rq->srv->draining, memory_order_relaxed))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(rq->conn, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES) {
		rq->responded = 1;
		rq->status = status;
	}
	return ret;
}

static void add_headers(struct MHD_Response *r, va_list ap)
{
	const char *name, *value;
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		if (value)
			MHD_add_response_header(r, name, value);
	}
}

enum MHD_Result reply(struct request *rq, unsigned status, const char *ctype, const char *body,
                      size_t len, ...)
{
	va_list ap;
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	va_start(ap, len);
	add_headers(r, ap);
	va_end(ap);
	return queue(rq, status, r);
}

enum MHD_Result reply_sb(struct request *rq, unsigned status, const char *ctype, struct sbuf *b,
                         ...)
{
	va_list ap;
	struct MHD_Response *r;
	static const char oom[] = "{\"error\":\"unavailable\",\"message\":\"out of memory\"}\n";
	if (b->oom) {
		sb_free(b);
		return reply(rq, 503, "application/json", oom, sizeof oom - 1, NULL);
	}
	r = MHD_create_response_from_buffer(b->len, b->p ? b->p : (char *)"",
	                                    b->p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		sb_free(b);
		return MHD_NO;
	}
	sb_init(b); /* the response owns the text now */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	va_start(ap, b);
	add_headers(r, ap);
	va_end(ap);
	return queue(rq, status, r);
}

enum MHD_Result reply_error(struct request *rq, unsigned status, const char *code,
                            const char *field, const char *fmt, ...)
{
	char msg[512], safe[512];
	struct sbuf b;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sb_init(&b);
	sb_puts(&b, "{\"error\":");
	json_put_string(&b, code, strlen(code));
	sb_puts(&b, ",\"message\":");
	json_put_string(&b, msg, strlen(msg));
	if (field) {
		sb_puts(&b, ",\"field\":");
		json_put_string(&b, field, strlen(field));
	}
	sb_puts(&b, "}\n");

	const char *allow = NULL, *debug = NULL, *auth = NULL, *retry = NULL;
	if (status == 405 && rq->route)
		allow = rq->route->methods == M_GET    ? "GET, HEAD"
		        : rq->route->methods == M_POST ? "POST"
		                                       : "GET, HEAD, POST";
	if (rq->route && rq->route->akismet)
		debug = printable(msg, strlen(msg), safe, sizeof safe, PRINT_ASCII);
	else if (status == 401)
		auth = "Bearer realm=\"threshd\"";
	if (status == 503)
		retry = "1";
	return reply_sb(rq, status, "application/json", &b, "Allow", allow, "X-akismet-debug-help",
	                debug, "WWW-Authenticate", auth, "Retry-After", retry, NULL);
}

enum MHD_Result reply_lib_error(struct request *rq, int rc, const char *what)
{
	switch (rc) {
	case THRESH_EUTF8:
		return reply_error(rq, 400, "invalid_utf8", NULL, "%s: %s", what, thresh_strerror(rc));
	case THRESH_ENUL:
		return reply_error(rq, 400, "nul_byte", NULL, "%s: %s", what, thresh_strerror(rc));
	case THRESH_ETOOBIG:
		return reply_error(rq, 400, "field_too_long", NULL, "%s: %s", what,
		                   thresh_strerror(rc));
	case THRESH_EREADONLY:
		return reply_error(rq, 403, "read_only", NULL,
		                   "%s: threshd serves a read-only database: learning is off", what);
	case THRESH_EBUSY:
	case THRESH_ENOMEM:
		return reply_error(rq, 503, "unavailable", NULL, "%s: %s", what, thresh_strerror(rc));
	case THRESH_EFULL:
		return reply_error(rq, 507, "disk_full", NULL, "%s: %s", what, thresh_strerror(rc));
	default:
		return reply_error(rq, 500, "internal", NULL, "%s: %s (%s)", what, thresh_strerror(rc),
		                   thresh_errname(rc));
	}
}

/* ---------- the request log ---------- */

/* log_request - one line per request, when a log is configured:
 *   2025-06-01T12:00:00.123Z POST /1.1/comment-check 200 0.412ms reject 0.9981
 * Never a key, an address, an e-mail, a host name or a comment: only the
 * route (unknown paths are "-"), the status, the time and the verdict. */
static void log_request(struct request *rq, double secs)
{
	struct server *s = rq->srv;
	struct timespec ts;
	struct tm tm;
	char line[352], when[32], verdict[48] = "", site[SITE_NAME_MAX + 8] = "";
	if (s->log_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rq->have_verdict)
		snprintf(verdict, sizeof verdict, " %s %.4f", thresh_verdict_name(rq->verdict),
		         rq->score);
	if (rq->site) /* --sites: the operator's own name for it */
		snprintf(site, sizeof site, " site=%s", site_name(rq->site));
	char status[16] = "-";
	if (rq->status)
		snprintf(status, sizeof status, "%u", rq->status);
	int n = snprintf(line, sizeof line, "%s.%03ldZ %s %s %s %.3fms%s%s\n", when,
	                 ts.tv_nsec / 1000000, rq->method_name,
	                 rq->route ? rq->route->path : "-", status, secs * 1e3, verdict, site);
	if (n > 0) {
		/* One write(2) per line on an O_APPEND file: lines never interleave. */
		ssize_t w = write(s->log_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)w;
	}
}

/* ---------- reading a request ---------- */

static double elapsed(const struct request *rq)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - rq->t0.tv_sec) + (double)(t.tv_nsec - rq->t0.tv_nsec) / 1e9;
}

/* parse_length - a Content-Length value; 0 or -1. */
static int parse_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* The headers whose repetition changes a request's meaning. */
struct framing {
	unsigned lengths, encodings, hosts, auths;
	const char *length;  /* the first Content-Length */
	int lengths_differ;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (f->lengths++ && strcmp(value ? value : "", f->length))
			f->lengths_differ = 1;
		else if (!f->length)
			f->length = value ? value : "";
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->encodings++;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_HOST)) {
		f->hosts++;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION)) {
		f->auths++;
	}
	return MHD_YES;
}

/* framing_error - a request whose length, or whose key, two readers could
 * take differently: a proxy before threshd one way, libmicrohttpd (which
 * takes the first of repeated headers) another. Answered 400 (501 for a
 * transfer coding libmicrohttpd does not decode) before anything else,
 * on every route: Akismet's leniency is about what a commenter wrote, not
 * about where a request ends. Returns the reply, or MHD_YES with nothing
 * queued when the framing is sound. */
static enum MHD_Result framing_error(struct request *rq)
{
	struct framing f;
	const char *te;
	memset(&f, 0, sizeof f);
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, count_header, &f);
	if (f.lengths_differ)
		return reply_error(rq, 400, "bad_request", NULL,
		                   "Content-Length given twice with different values");
	if (f.lengths && f.encodings)
		return reply_error(rq, 400, "bad_request", NULL,
		                   "both Transfer-Encoding and Content-Length: send one of them");
	if (f.encodings > 1)
		return reply_error(rq, 400, "bad_request", NULL, "Transfer-Encoding given twice");
	if ((te = header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING)) && strcasecmp(te, "chunked"))
		return reply_error(rq, 501, "not_implemented", NULL,
		                   "the only transfer coding taken is chunked");
	if (f.hosts > 1)
		return reply_error(rq, 400, "bad_request", NULL, "Host given twice");
	if (f.auths > 1)
		return reply_error(rq, 400, "bad_request", NULL, "Authorization given twice");
	return MHD_YES;
}

/* early_error - the 404 or 405 decided at the first call. */
static enum MHD_Result early_error(struct request *rq)
{
	if (rq->early == 404)
		return reply_error(rq, 404, "not_found", NULL, "no such endpoint: %s", rq->url);
	return reply_error(rq, 405, "method_not_allowed", NULL, "%s takes %s", rq->route->path,
	                   rq->route->methods == M_GET    ? "GET"
	                   : rq->route->methods == M_POST ? "POST"
	                                                  : "GET or POST");
}

/* body_limit - the largest body of the request's route: Akismet's routes
 * take a whole WordPress comment twice (comment_content and POST_comment)
 * with every header; /v1/learn/bulk a batch of comments (bulk_body_limit);
 * the rest, --body-limit. */
static size_t body_limit(const struct request *rq)
{
	const struct config *c = &rq->srv->cfg;
	if (rq->route && rq->route->ep == EP_V1_LEARN_BULK)
		return bulk_body_limit(c);
	return rq->route && rq->route->akismet ? c->akismet_body_limit : c->body_limit;
}

static enum MHD_Result too_large(struct request *rq)
{
	return reply_error(rq, 413, "body_too_large", NULL, "the body is over %zu bytes",
	                   body_limit(rq));
}

/* over_budget - a body that does not fit in --body-budget now: a matter of
 * capacity, not of the request, so 503 with Retry-After, on Akismet's
 * routes too. */
static enum MHD_Result over_budget(struct request *rq)
{
	guard_abort(rq->gc, GR_BUDGET);
	return reply_error(rq, 503, "unavailable", NULL,
	                   "too many request bodies in flight: try again in a moment");
}

/* has_body - does the request announce a body? */
static int has_body(struct request *rq)
{
	const char *cl = header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n;
	if (header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return 1;
	return cl && (parse_length(cl, &n) != 0 || n > 0);
}

/* known_keyed - is the request known, before its body, to come with a
 * key that lets it through? The JSON API's are (api_authorize passed);
 * Akismet's when the host name's first label is a key, as older clients
 * send it. Otherwise the key, if any, is in the body: until it is read,
 * the body counts against the share of bodies not known to be keyed. */
static int known_keyed(struct request *rq)
{
	const char *key;
	size_t len = 0;
	if (!rq->route->akismet)
		return 1;
	key = host_key(rq, &len);
	return key_ok(rq, key, len, 1, rq->route->key == KEY_LEARN);
}

/* first_call - the headers are in: framing, route, method, key, length,
 * budget. A reply queued now makes libmicrohttpd close the connection after
 * it, which is right for a body we will not read, and wasteful otherwise:
 * without a body, 404, 405 and every GET are answered at the next call, on
 * a connection kept alive. */
static enum MHD_Result first_call(struct request *rq, const char *url)
{
	struct server *s = rq->srv;
	enum MHD_Result ret;
	const char *cl;
	uint64_t n;

	rq->route = route_find(url); /* for the reply's X-akismet-debug-help */
	if ((ret = framing_error(rq)) != MHD_YES || rq->responded)
		return ret;
	if (!rq->route)
		rq->early = 404;
	else if (!(rq->route->methods & rq->method))
		rq->early = 405;
	if (rq->early) {
		printable(url, strlen(url), rq->url, sizeof rq->url, PRINT_ASCII);
		return has_body(rq) ? early_error(rq) : MHD_YES;
	}
	/* The JSON API's key is a header: checked before any body is read. */
	if (!rq->route->akismet && rq->route->key != KEY_NONE &&
	    !api_authorize(rq, rq->route->key, &ret))
		return ret;
	if ((cl = header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH)) && parse_length(cl, &n) == 0) {
		if (n > body_limit(rq))
			return too_large(rq);
		if (n) {
			rq->keyed = known_keyed(rq);
			if (guard_reserve(s->guard, rq->gc, n + 1, rq->keyed))
				return over_budget(rq);
			if (!(rq->body = malloc((size_t)n + 1)))
				return reply_error(rq, 503, "unavailable", NULL, "out of memory");
			rq->cap = (size_t)n + 1;
		}
	} else if (has_body(rq)) {
		rq->keyed = known_keyed(rq); /* chunked: reserved as it grows */
	}
	if (has_body(rq))
		guard_phase(s->guard, rq->gc, GP_BODY, now_mono());
	return MHD_YES;
}

/* refuse - drop the body read so far and the rest as it comes; answer
 * status (413 or 503) at its end, since libmicrohttpd 0.9 cannot reply in
 * the middle of a body. */
static enum MHD_Result refuse(struct request *rq, unsigned status, size_t n)
{
	rq->refused = status;
	rq->discarded = rq->len + n;
	free(rq->body);
	rq->body = NULL;
	rq->len = rq->cap = 0;
	guard_release(rq->srv->guard, rq->gc);
	return MHD_YES;
}

/* take_data - one piece of the body. */
static enum MHD_Result take_data(struct request *rq, const char *data, size_t n)
{
	struct server *s = rq->srv;
	size_t limit = body_limit(rq);
	/* A body that trickles in for longer than --timeout is a slow client
	 * however often it sends a byte, also while it is being dropped (the
	 * sweeper closes it at the same deadline, even with no byte coming). */
	if (s->cfg.timeout && elapsed(rq) > s->cfg.timeout) {
		guard_abort(rq->gc, GR_BODY_TIMEOUT);
		return MHD_NO;
	}
	if (rq->refused || rq->early) {
		rq->discarded += n;
		if (rq->discarded > 4 * (uint64_t)limit) {
			guard_abort(rq->gc, GR_TOO_LARGE);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (n > limit - rq->len)
		return refuse(rq, 413, n);
	if (rq->len + n + 1 > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 1024;
		while (cap < rq->len + n + 1)
			cap *= 2;
		if (cap > limit + 1)
			cap = limit + 1;
		if (guard_reserve(s->guard, rq->gc, cap - rq->cap, rq->keyed)) {
			guard_abort(rq->gc, GR_BUDGET);
			return refuse(rq, 503, n);
		}
		char *p = realloc(rq->body, cap);
		if (!p)
			return MHD_NO;
		rq->body = p;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return MHD_YES;
}

/* conn_guard - the guard's record of the request's connection. */
static struct guard_conn *conn_guard(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	struct server *s = cls;
	struct request *rq = *con_cls;
	(void)version;

	if (!rq) {
		if (!(rq = calloc(1, sizeof *rq)))
			return MHD_NO;
		*con_cls = rq;
		rq->srv = s;
		rq->conn = conn;
		rq->gc = conn_guard(conn);
		rq->method = method_bits(method);
		rq->method_name = method_label(method);
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		atomic_fetch_add_explicit(&s->inflight, 1, memory_order_relaxed);
		/* the headers are in: no deadline unless a body follows */
		guard_phase(s->guard, rq->gc, GP_BUSY, 0);
		return first_call(rq, url);
	}
	if (rq->responded) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		return take_data(rq, upload_data, n);
	}
	guard_phase(s->guard, rq->gc, GP_BUSY, 0);
	if (rq->early)
		return early_error(rq);
	if (rq->refused == 413)
		return too_large(rq);
	if (rq->refused)
		return over_budget(rq);
	if (!rq->body) {
		rq->body = malloc(1);
		if (!rq->body)
			return reply_error(rq, 503, "unavailable", NULL, "out of memory");
		rq->body[0] = '\0';
	}
	return rq->route->handler(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct request *rq = *con_cls;
	(void)conn;
	if (!rq)
		return;
	double secs = elapsed(rq);
	/* why a request ended without its reply (the first reason given counts) */
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		guard_abort(rq->gc, GR_IDLE_TIMEOUT);
	else if (toe == MHD_REQUEST_TERMINATED_READ_ERROR ||
	         toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT)
		guard_abort(rq->gc, GR_CLIENT_GONE);
	else if (toe == MHD_REQUEST_TERMINATED_WITH_ERROR)
		guard_abort(rq->gc, GR_ERROR);
	metrics_request(&s->metrics, rq->route ? rq->route->ep : EP_UNKNOWN,
	                rq->responded ? rq->status : 0, secs);
	log_request(rq, secs);
	if (rq->site)
		sites_release(s->sites, rq->site);
	free(rq->body);
	guard_release(s->guard, rq->gc);
	/* A connection kept alive has --header-timeout for its next request. */
	guard_phase(s->guard, rq->gc, GP_HEADERS, now_mono());
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_relaxed);
}

/* ---------- connections (guard.c) ---------- */

/* on_accept - libmicrohttpd's accept policy: an address past its share of
 * connections is closed as soon as it is accepted. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct server *s = cls;
	(void)len;
	return guard_admit(s->guard, addr) ? MHD_YES : MHD_NO;
}

/* on_connection - a connection opened (its header deadline starts) or
 * closed (before libmicrohttpd closes its socket). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *addr =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		struct guard_conn *c = NULL;
		if (fd)
			guard_open(s->guard, fd->connect_fd, addr ? addr->client_addr : NULL, now_mono(),
			           &c);
		*socket_context = c;
		return;
	}
	guard_close(s->guard, *socket_context, now_mono());
	*socket_context = NULL;
}

/* libmicrohttpd's own messages (one per connection it gives up on, among
 * others) come at most one every MHD_LOG_INTERVAL seconds, with the number
 * left out since; /metrics counts the connections. */
#define MHD_LOG_INTERVAL 5.0

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct server *s = cls;
	char msg[512];
	unsigned long skipped;
	double now = now_mono();
	pthread_mutex_lock(&s->mhd_log_lock);
	if (s->mhd_log_last && now - s->mhd_log_last < MHD_LOG_INTERVAL) {
		s->mhd_log_suppressed++;
		pthread_mutex_unlock(&s->mhd_log_lock);
		return;
	}
	skipped = s->mhd_log_suppressed;
	s->mhd_log_suppressed = 0;
	s->mhd_log_last = now;
	pthread_mutex_unlock(&s->mhd_log_lock);
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (skipped)
		say("libmicrohttpd: %s (%lu more messages not shown)", msg, skipped);
	else
		say("libmicrohttpd: %s", msg);
}

/* mhd_log_flush - the number of messages left out, once the interval
 * passed without another message to carry it. */
static void mhd_log_flush(struct server *s)
{
	unsigned long skipped = 0;
	double now = now_mono();
	pthread_mutex_lock(&s->mhd_log_lock);
	if (s->mhd_log_suppressed && now - s->mhd_log_last >= MHD_LOG_INTERVAL) {
		skipped = s->mhd_log_suppressed;
		s->mhd_log_suppressed = 0;
		s->mhd_log_last = now;
	}
	pthread_mutex_unlock(&s->mhd_log_lock);
	if (skipped)
		say("libmicrohttpd: %lu more messages not shown", skipped);
}

/* The sweeper: every SWEEP_MS, connections past their deadline are shut
 * down (and once a second those whose client left inside a request: see
 * guard_sweep), and memory freed by bodies goes back to the system (glibc
 * keeps freed memory for reuse: after a burst of large bodies it would
 * stay resident for good). */
#define SWEEP_MS 100

static void *sweeper(void *arg)
{
	struct server *s = arg;
	struct timespec ts = {0, SWEEP_MS * 1000 * 1000};
	unsigned round = 0;
	while (!atomic_load(&s->sweeper_stop)) {
		nanosleep(&ts, NULL);
		/* deadlines every round; clients gone once a second */
		guard_sweep(s->guard, now_mono(), ++round % (1000 / SWEEP_MS) == 0);
		if (guard_trim_due(s->guard)) {
#ifdef __GLIBC__
			malloc_trim(0);
#endif
		}
		mhd_log_flush(s);
	}
	return NULL;
}

/* start_one - a libmicrohttpd daemon on fd, with TLS when cert is given. */
static struct MHD_Daemon *start_one(struct server *s, int fd, const char *cert, const char *key)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL | MHD_USE_TURBO;
	else
		flags |= MHD_USE_POLL;
	if (cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(
		flags, 0, on_accept, s, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_connections,
		/* Each connection's memory pool holds its request's headers and a
		 * read buffer, and libmicrohttpd zeroes all of it after every
		 * request: 16 KiB (not the default 32) halves that cost and still
		 * leaves room for headers far larger than any client sends. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		/* A pool of one is no pool: one internal thread then (and the
		 * connection limit again in its place). */
		s->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_LIMIT,
		s->cfg.threads > 1 ? (unsigned)s->cfg.threads : (unsigned)s->cfg.max_connections,
		/* the PEM text, only for HTTPS (the options end here otherwise) */
		cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
		MHD_OPTION_HTTPS_MEM_KEY, key,
		MHD_OPTION_END);
}

int http_start(struct server *s)
{
	struct guard_settings gs = {
		.max_connections = s->cfg.max_connections,
		.per_ip = s->cfg.max_connections_per_ip,
		.header_timeout = s->cfg.header_timeout,
		.body_timeout = s->cfg.timeout,
		.budget = s->cfg.body_budget,
	};
	pthread_mutex_init(&s->mhd_log_lock, NULL);
	if (guard_new(&gs, &s->guard)) {
		say("out of memory");
		return -1;
	}
	atomic_store(&s->sweeper_stop, 0);
	if (pthread_create(&s->sweeper, NULL, sweeper, s)) {
		say("cannot start a thread: %s", strerror(errno));
		return -1;
	}
	s->sweeper_running = 1;
	if (s->listen_fd >= 0 && !(s->mhd = start_one(s, s->listen_fd, NULL, NULL))) {
		say("cannot start the HTTP server (libmicrohttpd %s)", MHD_get_version());
		return -1;
	}
	if (s->tls_fd >= 0 &&
	    !(s->mhd_tls = start_one(s, s->tls_fd, s->tls_cert_pem, s->tls_key_pem))) {
		say("cannot start the HTTPS server (libmicrohttpd %s): is the key the certificate's, "
		    "both PEM, the key unencrypted?", MHD_get_version());
		return -1;
	}
	return 0;
}

/* quiesce - stop accepting on d: new connections are refused from here on. */
static void quiesce(struct MHD_Daemon *d, int *fd)
{
	if (!d)
		return;
	MHD_socket q = MHD_quiesce_daemon(d);
	if (q != MHD_INVALID_SOCKET) {
		close(q);
		*fd = -1;
	}
}

void http_stop(struct server *s)
{
	if (s->mhd || s->mhd_tls) {
		atomic_store(&s->draining, 1);
		quiesce(s->mhd, &s->listen_fd);
		quiesce(s->mhd_tls, &s->tls_fd);
		double deadline = now_mono() + s->cfg.shutdown_timeout;
		long left;
		while ((left = atomic_load(&s->inflight)) > 0 && now_mono() < deadline) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (left > 0)
			say("stopping with %ld requests still in flight after %us", left,
			    s->cfg.shutdown_timeout);
		/* libmicrohttpd closes the listening socket unless quiesce gave it back. */
		if (s->mhd)
			MHD_stop_daemon(s->mhd);
		if (s->mhd_tls)
			MHD_stop_daemon(s->mhd_tls);
		s->mhd = s->mhd_tls = NULL;
		s->listen_fd = s->tls_fd = -1;
	}
	/* The guard outlives every connection it was told of. */
	if (s->sweeper_running) {
		atomic_store(&s->sweeper_stop, 1);
		pthread_join(s->sweeper, NULL);
		s->sweeper_running = 0;
	}
	if (s->guard) {
		guard_free(s->guard);
		s->guard = NULL;
		pthread_mutex_destroy(&s->mhd_log_lock);
	}
}
