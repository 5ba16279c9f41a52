/* threshd.h - the pieces the scoring daemon's files share.
 *
 * threshd answers HTTP on GNU libmicrohttpd: Akismet's protocol (akismet.c)
 * and a JSON API (api.c) over the public libthresh API alone, exactly as an
 * outside program would use it. http.c owns the connection: routing, bodies,
 * keys, errors, the request log; metrics.c counts; main.c starts and stops.
 *
 * One connection's life (guard.c keeps count of connections per address,
 * deadlines and body bytes):
 *
 *   on_accept                 refused when its address has its share open
 *   on_connection (started)   --header-timeout starts
 *   on_request (first call)   framing, route, method, the JSON API's key,
 *                             Content-Length, the body budget, allocate;
 *                             a body has --timeout from here
 *   on_request (data calls)   append the body, refusing past --body-limit
 *   on_request (last call)    route->handler(rq): parse, check, reply
 *   on_completed              metrics, log line, free; --header-timeout
 *                             again for the next request
 *   on_connection (closed)    counted by why it ended early, if it did
 * and the sweeper thread shuts down connections past their deadline.
 */
#ifndef THRESHD_H
#define THRESHD_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>
#include <thresh/thresh.h>

/* src/common: shared with the command, not public API */
#include "json.h"
#include "num.h"
#include "sbuf.h"
#include "site_key.h"
#include "text.h"
#include "utf8.h"

/* ---- form.c: application/x-www-form-urlencoded ---- */

struct form_field {
	const char *name; /* decoded, NUL-terminated; may hold NUL bytes (use the lengths) */
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct form {
	char *buf; /* the decoded names and values */
	struct form_field *f;
	size_t n;
	size_t dropped; /* form_parse_lenient: fields left out */
};

#define FORM_MAX_FIELDS 256

#define FORM_OK 0
#define FORM_MALFORMED (-1) /* why says what */
#define FORM_NOMEM (-2)
#define FORM_TOO_MANY (-3)  /* more than FORM_MAX_FIELDS fields */

/* form_parse - decode body[0..len): fields separated by '&', "name=value",
 * '+' for a space, %XX escapes. A field without '=' has an empty value;
 * empty fields ("a=1&&b=2") are skipped. A '%' not followed by two hex
 * digits, or a field with an empty name, is malformed. Returns FORM_*. */
int form_parse(const char *body, size_t len, struct form *out, char *why, size_t whysize);
/* form_parse_lenient - decode body[0..len) as leniently as Akismet's own
 * servers, refusing nothing a client sends: a '%' not followed by two hex
 * digits is kept as written, a field without a name is left out, and once
 * max fields are kept only the first field of each name that want() knows
 * is kept (want returns its index, below FORM_WANT_MAX, or -1; want may be
 * NULL). Fields left out are counted in out->dropped. Values are bytes as
 * sent: the caller decodes their charset. Returns FORM_OK or FORM_NOMEM. */
#define FORM_WANT_MAX 64
int form_parse_lenient(const char *body, size_t len, struct form *out, size_t max,
                       int (*want)(const char *name, size_t len));
/* form_get - the first field named name, or NULL. */
const struct form_field *form_get(const struct form *f, const char *name);
/* form_count - how many fields are named name. */
size_t form_count(const struct form *f, const char *name);
void form_free(struct form *f);

/* ---- keys.c: API keys ---- */

/* KEY_MIN_LEN, KEY_MAX_LEN, SITE_NAME_MAX, api_key_char and site_name_ok
 * are src/common's site_key.h, shared with `thresh sites`. */
struct keyring;

/* keyring_load - read a key file: one key per line, surrounding white space
 * trimmed, blank lines and lines starting with '#' ignored. A key is
 * KEY_MIN_LEN to KEY_MAX_LEN letters, digits, '-' or '_'. With sites, each
 * line is "KEY SITE" (site_name_ok); a key given twice for two sites is an
 * error, the same line twice is not. Without sites a line with anything
 * after its key is an error. Returns 0, or -1 with why ("FILE:LINE: ...").
 * A file without a key is an error, and so is one its group or other users
 * may write (they could add a key). */
int keyring_load(const char *path, int sites, struct keyring **out, char *why, size_t whysize);
void keyring_free(struct keyring *k);
size_t keyring_count(const struct keyring *k);
/* keyring_find - which key cand[0..len) is: its number from 1, or 0 when it
 * is none. The key is looked up by a SipHash of the candidate under a key
 * made at load, and compared in time that does not depend on where a
 * candidate differs; fold compares ASCII letters without case (keys sent as
 * a host name, which clients and proxies may lower-case). */
size_t keyring_find(const struct keyring *k, const char *cand, size_t len, int fold);
/* keyring_match - keyring_find(...) != 0. */
int keyring_match(const struct keyring *k, const char *cand, size_t len, int fold);
/* keyring_site - the site of key number which (keyring_find), or NULL
 * (no such key, or a key file read without sites). */
const char *keyring_site(const struct keyring *k, size_t which);
/* ct_equal - constant-time comparison of a[0..alen) and b[0..blen): the time
 * depends on alen only. Returns 1 when equal. */
int ct_equal(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen, int fold);

/* ---- sites.c: --sites DIR, one database a site ---- */

struct sites; /* the registry: every site asked for, the open ones */
struct site;  /* one site: its name, its database while open */

struct sites_stats {
	size_t known;     /* sites asked for since threshd started */
	size_t open;      /* ... whose database is open now */
	size_t max_open;  /* [threshd] open_sites */
	uint64_t created; /* databases made from the default model */
	uint64_t opens, closes, failed;
};

/* Akismet's answers and reports of one site, for its get-stats. */
struct ak_counts {
	_Atomic uint64_t answers[2]; /* comment-check answered false, true */
	_Atomic uint64_t pending;    /* ... false with X-akismet-error: held */
	_Atomic uint64_t reports[2]; /* submit-ham, submit-spam */
};

struct site_count {
	char name[SITE_NAME_MAX + 1];
	uint64_t requests;
};

/* sites_new - a registry of the sites under dir, each opened with config
 * (NULL: its own thresh.conf), a new one made as a copy of seed (DIR/.prior,
 * the default model never learned into), at most max_open open and idle at
 * once. Returns 0, or -1 (no memory). */
int sites_new(const char *dir, const char *config, thresh_db *seed, size_t max_open,
              struct sites **out);
/* sites_free - close every site (no request may use one any more). */
void sites_free(struct sites *r);
void sites_set_max_open(struct sites *r, size_t max_open);
/* sites_set_cluster - make every site opened from now on a node of a
 * cluster: in namespace site_namespace(ns, SITE), with the [cluster] keys
 * over[i][0] set to over[i][1] where that is not NULL (--redis, --node,
 * --nodes). (A new site's secret is derived from DIR/.prior's and its name
 * in any case, so that nodes holding copies of one DIR/.prior make each
 * site alike.) */
void sites_set_cluster(struct sites *r, const char *ns, const char *const over[3][2]);
/* site_namespace - a site's namespace in Redis: "NS.SITE", or "NS.hHASH"
 * when that is longer than a namespace may be (63). */
void site_namespace(const char *ns, const char *name, char *out, size_t size);
/* sites_foreach_open - fn on every open site, kept open meanwhile (without
 * the registry's lock: fn may take its time). Returns how many. */
size_t sites_foreach_open(struct sites *r, void (*fn)(struct site *x, void *ctx), void *ctx);
/* sites_reload - thresh_db_config_reload on every open site; returns how
 * many failed (each reported). */
size_t sites_reload(struct sites *r);
/* sites_acquire - site name (site_name_ok) for one request: opened, and
 * made from the default model when its folder is missing. Threads asking
 * for a site being opened wait for it. Past max_open, idle sites are
 * closed, the least recently used first. Returns 0 with *out, to give back
 * with sites_release, or a THRESH_E* code with why. */
int sites_acquire(struct sites *r, const char *name, struct site **out, char *why, size_t whysize);
void sites_release(struct sites *r, struct site *x);
thresh_db *site_db(const struct site *x);
/* site_ak_counts - the site's Akismet counts since threshd started (kept
 * while the site is closed). */
struct ak_counts *site_ak_counts(struct site *x);
const char *site_name(const struct site *x);
/* sites_stats - the counts now. Cannot fail. */
void sites_stats(struct sites *r, struct sites_stats *st);
/* sites_top - the n sites with the most requests (none without), most
 * first, into top. Returns how many. */
size_t sites_top(struct sites *r, struct site_count *top, size_t n);

/* [sites] of thresh.conf: "SITE BLOG = SITE2", a request whose key is
 * SITE's and whose blog (Akismet's blog field) is BLOG goes to SITE2. BLOG
 * is a lower-case host name, or a host name and the first folder of the
 * path ("example.org/blog1", for a network of blogs in folders). */
struct site_map;
/* site_map_parse - the [sites] section of a configuration's text (as
 * thresh_db_config_text gives it; none is an empty map). Returns 0, or -1
 * with why. */
int site_map_parse(const char *text, struct site_map **out, char *why, size_t whysize);
void site_map_free(struct site_map *m);
size_t site_map_count(const struct site_map *m);
/* site_map_find - the site a request of site with blog url[0..len) goes
 * to, "host/folder" before "host", or NULL (stays with site). */
const char *site_map_find(const struct site_map *m, const char *site, const char *url,
                          size_t len);

/* ---- guard.c: connections per address, deadlines, the body budget ---- */

struct sockaddr;
struct guard;      /* one per server */
struct guard_conn; /* one per open connection */

/* Why threshd cut a connection off (or refused its body), for /metrics. */
enum guard_reason {
	GR_NONE,
	GR_HEADER_TIMEOUT, /* headers not in by --header-timeout (also idle keep-alive) */
	GR_BODY_TIMEOUT,   /* a body still arriving after --timeout */
	GR_IDLE_TIMEOUT,   /* libmicrohttpd's idle timeout, mid-request */
	GR_PER_IP,         /* the address already had --max-connections-per-ip */
	GR_BUDGET,         /* a body refused (503) for --body-budget */
	GR_TOO_LARGE,      /* a body read on past four times its limit */
	GR_CLIENT_GONE,    /* the client closed or reset mid-request */
	GR_ERROR,          /* any other end of a request without its reply */
	GR_COUNT
};

enum guard_phase {
	GP_HEADERS, /* waiting for a request's headers: --header-timeout */
	GP_BODY,    /* reading its body: --timeout */
	GP_BUSY     /* working on it or sending the reply: no deadline */
};

struct guard_settings {
	unsigned max_connections; /* sizes the table of addresses */
	unsigned per_ip;          /* open connections per address; 0: no limit */
	double header_timeout;    /* seconds; 0: none */
	double body_timeout;      /* seconds; 0: none */
	uint64_t budget;          /* body bytes held at once, at least 8 */
};

struct guard_stats {
	uint64_t aborted[GR_COUNT]; /* connections cut off or bodies refused, by reason */
	uint64_t body_bytes;        /* body bytes held now */
	uint64_t unkeyed_bytes;     /* ... by requests not known to be keyed */
	uint64_t budget;
	size_t connections;         /* connections open */
};

/* Body bytes released between two guard_trim_due answers of 1. */
#define GUARD_TRIM_BYTES (8u << 20)

/* guard_new - a guard with these settings. Returns 0, or -1 (no memory). */
int guard_new(const struct guard_settings *set, struct guard **out);
/* guard_free - g and every connection it still holds (after the server
 * stopped). Accepts NULL. */
void guard_free(struct guard *g);
/* guard_admit - may a client at sa connect (libmicrohttpd's accept policy)?
 * 1, or 0 when its address has per_ip connections open already (counted
 * under GR_PER_IP). sa may be NULL (one address for all). */
int guard_admit(struct guard *g, const struct sockaddr *sa);
/* guard_open - a connection accepted on socket fd from sa, at time now
 * (now_mono()): its header deadline starts. Returns 0 with *out; 1 with
 * *out when the address is past its share after all (another thread
 * admitted one at the same time): the socket is shut down, the reason is
 * GR_PER_IP; -1 with *out NULL when out of memory: the socket is shut down. */
int guard_open(struct guard *g, int fd, const struct sockaddr *sa, double now,
               struct guard_conn **out);
/* guard_close - the connection closed at now (before its socket is): its
 * reason, if any, is counted, its bytes released, c freed. One closed with
 * no reason while it waited for headers, half a timeout or more into that
 * wait, its client still there, was closed by libmicrohttpd's own idle
 * timeout: counted as header_timeout. Accepts NULL. */
void guard_close(struct guard *g, struct guard_conn *c, double now);
/* guard_phase - c enters phase p at now: GP_HEADERS gives it until now +
 * header_timeout, GP_BODY until now + body_timeout, GP_BUSY no deadline.
 * Called by c's own thread only. Accepts NULL c. */
void guard_phase(struct guard *g, struct guard_conn *c, enum guard_phase p, double now);
/* guard_abort - record why c is ending, unless a reason was given before
 * (the first one counts). Accepts NULL. */
void guard_abort(struct guard_conn *c, enum guard_reason r);
/* guard_reserve - n more body bytes for c's request. keyed: the request
 * is known to be keyed. Returns 0 (reserved, or n == 0, or c NULL), or -1
 * when they would pass the budget (keyed or not), 3/4 of it for requests
 * not known keyed, or 1/8 of it for those of c's address. */
int guard_reserve(struct guard *g, struct guard_conn *c, uint64_t n, int keyed);
/* guard_release - give back every byte c's request reserved. Accepts NULL c. */
void guard_release(struct guard *g, struct guard_conn *c);
/* guard_sweep - shut down the socket of every connection past its
 * deadline at now, recording GR_HEADER_TIMEOUT or GR_BODY_TIMEOUT; with
 * probe, also of every connection waiting for its headers or body whose
 * client has closed or reset it (GR_CLIENT_GONE: a peek at the socket,
 * which libmicrohttpd may otherwise not read again before the deadline).
 * Returns how many. */
size_t guard_sweep(struct guard *g, double now, int probe);
/* guard_trim_due - 1 (once) when GUARD_TRIM_BYTES of bodies were released
 * since it last said so: time to give freed memory back (malloc_trim). */
int guard_trim_due(struct guard *g);
/* guard_stats - the counts and bytes now. Cannot fail. */
void guard_stats(struct guard *g, struct guard_stats *st);
/* guard_reason_name - "header_timeout", ... Cannot fail. */
const char *guard_reason_name(enum guard_reason r);

/* ---- metrics.c ---- */

/* Endpoints, as metrics and the log name them. */
enum endpoint {
	EP_VERIFY_KEY,
	EP_COMMENT_CHECK,
	EP_SUBMIT_SPAM,
	EP_SUBMIT_HAM,
	EP_USAGE_LIMIT,
	EP_GET_SUBSCRIPTION,
	EP_GET_STATS,
	EP_DEACTIVATE,
	EP_AK_TEST,
	EP_V1_CHECK,
	EP_V1_LEARN,
	EP_V1_UNLEARN,
	EP_V1_STATS,
	EP_V1_LEARN_BULK,
	EP_HEALTHZ,
	EP_METRICS,
	EP_UNKNOWN,
	EP_COUNT
};

#define METRICS_BUCKETS 15
#define METRICS_STATUSES 16

struct metrics {
	_Atomic uint64_t requests[EP_COUNT][METRICS_STATUSES];
	_Atomic uint64_t latency[EP_COUNT][METRICS_BUCKETS + 1]; /* the last: +Inf */
	_Atomic uint64_t latency_ns[EP_COUNT];
	_Atomic uint64_t verdicts[3];
	_Atomic uint64_t learned[2];   /* by label: ham, spam */
	_Atomic uint64_t unlearned[2];
	/* Akismet's endpoints (is_test and rechecks not counted) */
	_Atomic uint64_t ak_answers[2];  /* comment-check answered false, true */
	_Atomic uint64_t ak_pending;     /* ... false with X-akismet-error: held */
	_Atomic uint64_t ak_reports[2];  /* submit-ham, submit-spam learned */
	_Atomic uint64_t ak_dropped;     /* form fields left out (surplus, nameless, refused) */
	_Atomic uint64_t ak_repaired;    /* fields with bytes replaced by U+FFFD */
	_Atomic uint64_t ak_truncated;   /* fields cut to the library's limits */
};

struct server;

/* metrics_request - count one finished request: its status (0 when the
 * connection ended without a response) and how long it took. Cannot fail. */
void metrics_request(struct metrics *m, enum endpoint ep, unsigned status, double seconds);
void metrics_verdict(struct metrics *m, thresh_verdict v);
/* metrics_render - every metric in Prometheus' text format 0.0.4; d is the
 * daemon serving the request (s->mhd is the main thread's). */
void metrics_render(struct server *s, struct MHD_Daemon *d, struct sbuf *b);
/* endpoint_name - "comment-check", ... Cannot fail. */
const char *endpoint_name(enum endpoint ep);

/* ---- the server: main.c fills it, http.c serves it ---- */

struct config {
	const char *db_dir;
	const char *sites_dir;  /* --sites: a database a site under it, or NULL */
	unsigned open_sites;    /* [threshd] open_sites: sites kept open at most */
	const char *config;     /* thresh.conf for the library, or NULL */
	const char *address;    /* the literal IP address to listen on */
	unsigned port;
	unsigned threads;
	const char *keys_path;  /* NULL: development mode (loopback, no keys) */
	size_t body_limit;      /* the JSON API's and every other route's */
	size_t akismet_body_limit; /* Akismet's routes' */
	int tls;                /* serve HTTPS too, on tls_port (0: any free port) */
	unsigned tls_port;
	const char *tls_cert;   /* PEM files for it */
	const char *tls_key;
	unsigned timeout;       /* seconds a connection may idle, or a body take; 0: never */
	unsigned header_timeout; /* seconds a request's headers may take; 0: no limit */
	unsigned shutdown_timeout;
	unsigned max_connections;
	unsigned max_connections_per_ip; /* 0: no limit */
	uint64_t body_budget;   /* body bytes held at once */
	const char *log_path;   /* request log: NULL none, "-" stderr, else a file */
	int hold_as_spam;       /* comment-check says "true" for hold (see server.hold_as_spam) */
	int create;             /* create a missing database */
	int read_only;
	const char *redis;      /* --redis, --node, --nodes: [cluster] keys, or NULL */
	const char *node;
	const char *nodes;
};

/* cluster.c: the replication thread of a node of a cluster */
struct cluster_thread {
	pthread_t thread;
	int running;
	atomic_int stop;
	atomic_int redis_up;        /* the last round reached Redis */
	_Atomic uint64_t rounds;    /* replication rounds run */
	_Atomic uint64_t failed;    /* ... that did not complete (Redis away, ...) */
};

struct server {
	struct config cfg;
	thresh_db *db;              /* --db's; with --sites, DIR/.prior (read-only) */
	struct sites *sites;        /* --sites: the registry, else NULL */
	struct site_map *site_map;  /* --sites: [sites], under keys_lock */
	int sites_cluster;          /* --sites: every site a node of a cluster */
	struct MHD_Daemon *mhd;     /* plain HTTP */
	struct MHD_Daemon *mhd_tls; /* HTTPS, when configured */
	int listen_fd;              /* -1: none */
	int tls_fd;                 /* -1: none */
	char *tls_cert_pem;         /* the files' text, for libmicrohttpd */
	char *tls_key_pem;

	pthread_rwlock_t keys_lock; /* guards keys */
	struct keyring *keys;       /* NULL in development mode */

	int log_fd;                 /* -1: no request log */
	atomic_int hold_as_spam;    /* cfg.hold_as_spam, or thresh.conf's after SIGHUP */
	atomic_int draining;        /* SIGTERM seen: answer with Connection: close */
	atomic_long inflight;       /* requests between their first call and completion */
	_Atomic uint64_t checks;    /* comment-checks served, for usage-limit */
	double started;             /* wall clock, seconds since the epoch */

	struct metrics metrics;
	struct cluster_thread cluster;

	/* http.c: connections and bodies (guard.c), and the thread that sweeps
	 * them; libmicrohttpd's own messages, at most one every few seconds */
	struct guard *guard;
	pthread_t sweeper;
	int sweeper_running;
	atomic_int sweeper_stop;
	pthread_mutex_t mhd_log_lock;
	double mhd_log_last;
	unsigned long mhd_log_suppressed;
};

/* ---- http.c ---- */

#define M_GET 0x1u  /* GET and HEAD */
#define M_POST 0x2u

struct request;
typedef enum MHD_Result (*handler_fn)(struct request *rq);

/* What a route's key allows (struct route's key). */
#define KEY_NONE 0  /* no key: /healthz, /metrics, /1.1/test */
#define KEY_CHECK 1 /* a key, or development mode */
#define KEY_LEARN 2 /* a key, always */

struct route {
	const char *path;
	enum endpoint ep;
	unsigned methods; /* M_* */
	int akismet;      /* errors carry X-akismet-debug-help */
	unsigned key;     /* KEY_*: the JSON API's Bearer key is checked with the headers */
	handler_fn handler;
};

struct request {
	struct server *srv;
	struct MHD_Connection *conn;
	const struct route *route;
	unsigned method;        /* M_*, 0 for any other method */
	const char *method_name;
	struct timespec t0;
	char *body;
	size_t len, cap;
	uint64_t discarded;     /* body bytes dropped past the limit */
	unsigned refused;       /* 413 or 503: the body is being dropped, answered at its end */
	int keyed;              /* known to be keyed before its body (guard_reserve) */
	struct guard_conn *gc;  /* its connection's, or NULL */
	unsigned early;         /* 404 or 405, decided at the first call */
	char url[96];           /* for a 404's message, made printable */
	int responded;
	unsigned status;
	int have_verdict;
	thresh_verdict verdict;
	double score;
	char key_site[SITE_NAME_MAX + 1]; /* --sites: the key's site, once key_ok passed */
	struct site *site;      /* --sites: the site in use (request_db), released at the end */
};

/* The handlers (akismet.c, api.c). Each queues exactly one response. */
enum MHD_Result ak_verify_key(struct request *rq);
enum MHD_Result ak_comment_check(struct request *rq);
enum MHD_Result ak_submit_spam(struct request *rq);
enum MHD_Result ak_submit_ham(struct request *rq);
enum MHD_Result ak_usage_limit(struct request *rq);
enum MHD_Result ak_get_subscription(struct request *rq);
enum MHD_Result ak_get_stats(struct request *rq);
enum MHD_Result ak_deactivate(struct request *rq);
enum MHD_Result ak_test(struct request *rq);
enum MHD_Result api_check(struct request *rq);
enum MHD_Result api_learn(struct request *rq);
enum MHD_Result api_unlearn(struct request *rq);
enum MHD_Result api_learn_bulk(struct request *rq); /* bulk.c */
enum MHD_Result api_stats(struct request *rq);
enum MHD_Result api_healthz(struct request *rq);
enum MHD_Result api_metrics(struct request *rq);

/* api_authorize - the JSON API's key ("Authorization: Bearer KEY"), for a
 * route's key level (KEY_CHECK, KEY_LEARN), at the request's first call.
 * Returns 1, or 0 having replied 401 (no key, a wrong one, learning in
 * development mode) or 400 (a malformed header), the reply's result in *ret. */
int api_authorize(struct request *rq, unsigned level, enum MHD_Result *ret);
/* api.c, for bulk.c: */
/* api_member_error - member m of a comment object through the shared
 * mapping (cj_member): NULL when taken, else the JSON API's error code
 * ("unknown_field", "bad_field", ...; "unavailable" out of memory), with
 * the reason in why and the member's name (printable) in field. */
struct cj_state;
const char *api_member_error(struct cj_state *st, const struct json_member *m, char *field,
                             size_t fieldsize, char *why, size_t whysize);
/* api_has_main_field - 1 when c has content, author, email or url. */
int api_has_main_field(const thresh_comment *c);
/* bulk_body_limit - the largest body of POST /v1/learn/bulk: BULK_FACTOR
 * times --body-limit (which bounds one comment), at most MAX_BODY_LIMIT. */
#define BULK_FACTOR 16
size_t bulk_body_limit(const struct config *c);

/* http_start - serve on s->listen_fd (plain HTTP) and s->tls_fd (HTTPS
 * with s->tls_cert_pem and s->tls_key_pem), those that are not -1.
 * Returns 0 or -1 (reported). */
int http_start(struct server *s);
/* http_stop - stop accepting, let requests in flight finish (at most
 * cfg.shutdown_timeout seconds), close every connection. Also after a
 * failed http_start; a second call does nothing. */
void http_stop(struct server *s);

/* reply - queue body[0..len) (copied) with the given status and content
 * type; extra headers are name/value pairs ending in NULL. */
enum MHD_Result reply(struct request *rq, unsigned status, const char *ctype, const char *body,
                      size_t len, ...);
/* reply_sb - the same with the text of b, which is taken over (and freed). */
enum MHD_Result reply_sb(struct request *rq, unsigned status, const char *ctype, struct sbuf *b,
                         ...);
/* reply_error - a JSON error {"error": code, "message": ..., "field": ...}
 * (field may be NULL); Akismet routes add X-akismet-debug-help. 405 adds
 * Allow; 401 on the JSON API adds WWW-Authenticate. */
enum MHD_Result reply_error(struct request *rq, unsigned status, const char *code,
                            const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* reply_lib_error - the reply for a failed library call rc. */
enum MHD_Result reply_lib_error(struct request *rq, int rc, const char *what);

/* key_ok - may this request go on? cand is the key it gave (NULL: none).
 * Without keys (development mode) checks need none and learning is refused;
 * with keys, cand must be one of them. */
int key_ok(struct request *rq, const char *cand, size_t len, int fold, int learning);
/* request_db - the database a request works on: --db's, or with --sites
 * its key's site's (after key_ok), or the site [sites] maps it to with
 * blog (url[0..len), may be NULL). Returns 1 with *db, or 0 having
 * replied (503: the site could not be opened or made). */
int request_db(struct request *rq, const char *blog, size_t len, thresh_db **db,
               enum MHD_Result *ret);
/* keys_configured - 1 unless in development mode. */
int keys_configured(struct server *s);
/* host_key - the first label of the Host header when it is a name of two
 * labels or more ("KEY.example.com:8707"), else NULL. */
const char *host_key(struct request *rq, size_t *len);
/* header - a request header, or NULL. */
const char *header(struct request *rq, const char *name);
/* media_type_is - 1 when the Content-Type header is absent or names type
 * (parameters such as charset are allowed). */
int media_type_is(struct request *rq, const char *type);

/* ---- conf.c: thresh.conf's [threshd] section ---- */

#define MAX_BODY_LIMIT (64u << 20)
#define MAX_THREADS 256

/* Settings given as flags, which thresh.conf's [threshd] cannot change. */
enum {
	G_ADDRESS = 1 << 0,
	G_PORT = 1 << 1,
	G_THREADS = 1 << 2,
	G_KEYS = 1 << 3,
	G_BODY_LIMIT = 1 << 4,
	G_TIMEOUT = 1 << 5,
	G_SHUTDOWN_TIMEOUT = 1 << 6,
	G_MAX_CONNECTIONS = 1 << 7,
	G_LOG = 1 << 8,
	G_HOLD = 1 << 9,
	G_AKISMET_BODY_LIMIT = 1 << 10,
	G_TLS_PORT = 1 << 11,
	G_TLS_CERT = 1 << 12,
	G_TLS_KEY = 1 << 13,
	G_HEADER_TIMEOUT = 1 << 14,
	G_PER_IP = 1 << 15,
	G_BODY_BUDGET = 1 << 16,
	G_OPEN_SITES = 1 << 17, /* no flag: thresh.conf's alone */
};

#define CONF_KEYS 18
/* [threshd] open_sites: the default, and the most */
#define DEFAULT_OPEN_SITES 256
#define MAX_OPEN_SITES 100000
/* --body-budget: at most 4 GiB (K and M suffixes) */
#define MAX_BODY_BUDGET (4096ull << 20)
#define CONF_VALUE_MAX 1024

struct conf_state {
	unsigned given;                       /* G_* bits of the flags given */
	int found[CONF_KEYS];                 /* what [threshd] said at start, */
	char value[CONF_KEYS][CONF_VALUE_MAX]; /* to tell on SIGHUP what needs a restart */
	char *owned[CONF_KEYS];               /* strings cfg points to */
};

/* conf_apply - the [threshd] values into s->cfg, under the flags, and with
 * --sites the [sites] map. Returns 0 or -1 (reported). */
int conf_apply(struct server *s, struct conf_state *cs);
/* conf_reload - SIGHUP: thresh_db_config_reload, then hold_as_spam and
 * open_sites applied, [sites] read again (--sites), every open site's
 * configuration reloaded, and other [threshd] changes reported as waiting
 * for a restart. Its last line on stderr is "reloaded thresh.conf", or why
 * it was not. */
void conf_reload(struct server *s, struct conf_state *cs);
void conf_free(struct conf_state *cs);
/* ---- cluster.c ---- */

/* cluster_start - when the database is a node of a cluster, start the
 * replication thread. Returns 0 (also when there is no cluster) or -1
 * (reported). */
int cluster_start(struct server *s);
/* cluster_stop - stop it and wait for it (a round ends within 100 ms). */
void cluster_stop(struct server *s);

/* ---- say.c ---- */

/* say - "threshd: MESSAGE" on stderr (daemon messages; never a key,
 * an address of a client, an e-mail or a comment). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double now_mono(void);

#endif
