/* api.c - the JSON API and the operational endpoints.
 *
 *   POST /v1/check    {"content": "Buy cheap pills", "author": "Ann", "explain": true}
 *   200  {"verdict":"reject","score":0.9981,"blatant":true,"reasons":["bayes"],
 *         "retry_after":0,"tokens":[{"token":"pills","prob":0.99,"spam":12,"ham":0}]}
 *
 *   POST /v1/learn    {"label": "spam", "content": "Buy cheap pills"}
 *   200  {"learned":1,"duplicates":0,"moved":0}
 *   POST /v1/unlearn  {"label": "spam", "content": "Buy cheap pills"}
 *   200  {"unlearned":1,"not_found":0}
 *
 *   POST /v1/learn/bulk  JSON lines of /v1/learn objects, one transaction
 *                        (bulk.c, with this file's member errors)
 *
 *   GET /v1/stats, GET /healthz, GET /metrics (Prometheus text)
 *
 * A request's key is "Authorization: Bearer KEY", checked with the
 * headers, before any body is read (http.c calls api_authorize); anything
 * after the key is refused (400). Members are the comment's fields under
 * thresh's names or Akismet's (see thresh/comment.h), strings (numbers are
 * taken as written, null leaves a field out); "label" for the learning
 * endpoints; "explain" and "dry_run" (booleans) for a check. An unknown or
 * repeated member is refused, as is a comment with none of content,
 * author, email or url. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "comment_json.h"
#include "text.h"
#include "threshd.h"

#define APPLICATION_JSON "application/json"

enum kind { K_CHECK, K_LEARN, K_UNLEARN };

struct jctx {
	enum kind kind;
	struct cj_state st;    /* the comment, its label */
	int explain;
	int dry_run;
	int seen_explain, seen_dry_run;
	const char *code;      /* the error code when the callback stops the parse */
	char field[64];        /* the member it stopped at */
};

/* The comment must have at least one of these. */
static const char *const main_fields[] = {"content", "author", "email", "url", NULL};

static int stop(struct jctx *x, const char *code, const char *key, char *why, size_t whysize,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int stop(struct jctx *x, const char *code, const char *key, char *why, size_t whysize,
                const char *fmt, ...)
{
	va_list ap;
	x->code = code;
	snprintf(x->field, sizeof x->field, "%s", key);
	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
	return -1;
}

static int flag_member(struct jctx *x, const struct json_member *m, const char *key, int *seen,
                       int *value, char *why, size_t whysize)
{
	if ((*seen)++)
		return stop(x, "duplicate_field", key, why, whysize, "duplicate member \"%s\"", key);
	if (m->type != JSON_TRUE && m->type != JSON_FALSE)
		return stop(x, "bad_field", key, why, whysize, "\"%s\" must be true or false, not %s",
		            key, json_type_name(m->type));
	*value = m->type == JSON_TRUE;
	return 0;
}

const char *api_member_error(struct cj_state *st, const struct json_member *m, char *field,
                             size_t fieldsize, char *why, size_t whysize)
{
	char key[64];
	printable(m->key, m->key_len, key, sizeof key, PRINT_ASCII);
	snprintf(field, fieldsize, "%s", key);
	switch (cj_member(st, m)) {
	case CJ_OK:
		return NULL;
	case CJ_UNKNOWN_FIELD:
		snprintf(why, whysize, "unknown member \"%s\"", key);
		return "unknown_field";
	case CJ_DUPLICATE:
	case CJ_OTHER_NAME:
		if (!strcmp(m->key, "label"))
			snprintf(why, whysize, "duplicate member \"label\"");
		else
			snprintf(why, whysize,
			         "member \"%s\" given twice (perhaps once under its other name)", key);
		return "duplicate_field";
	case CJ_BAD_LABEL:
		snprintf(why, whysize, "\"label\" must be \"spam\" or \"ham\"");
		return "bad_field";
	case CJ_BAD_TYPE:
		snprintf(why, whysize, "\"%s\" must be a string, a number or null, not %s", key,
		         json_type_name(m->type));
		return "bad_field";
	case CJ_NUL:
		snprintf(why, whysize, "\"%s\" holds a NUL byte", key);
		return "nul_byte";
	case CJ_BAD_UTF8:
		snprintf(why, whysize, "\"%s\" is not valid UTF-8", key);
		return "invalid_utf8";
	case CJ_TOO_LONG:
		snprintf(why, whysize, "\"%s\" is longer than %zu bytes", key, cj_field_max(m->key));
		return "field_too_long";
	case CJ_BAD_FORM_AGE:
		snprintf(why, whysize, "\"form_age\" must be a number of seconds >= 0");
		return "bad_field";
	case CJ_NOMEM:
		snprintf(why, whysize, "\"%s\": %s", key, thresh_strerror(st->rc));
		return "unavailable";
	default:
		snprintf(why, whysize, "\"%s\": %s", key, thresh_strerror(st->rc));
		return "bad_field";
	}
}

int api_has_main_field(const thresh_comment *c)
{
	for (size_t i = 0; main_fields[i]; i++) {
		const char *v = NULL;
		if (thresh_comment_get(c, main_fields[i], &v) == 0 && v)
			return 1;
	}
	return 0;
}

/* on_member - a check's own flags here, the comment's fields through the
 * shared mapping (src/common/comment_json.c), refused as a 400 or 503. */
static int on_member(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct jctx *x = ctx;
	char key[64];
	printable(m->key, m->key_len, key, sizeof key, PRINT_ASCII);
	if (x->kind == K_CHECK && !strcmp(m->key, "explain"))
		return flag_member(x, m, key, &x->seen_explain, &x->explain, why, whysize);
	if (x->kind == K_CHECK && !strcmp(m->key, "dry_run"))
		return flag_member(x, m, key, &x->seen_dry_run, &x->dry_run, why, whysize);
	const char *code = api_member_error(&x->st, m, x->field, sizeof x->field, why, whysize);
	if (!code)
		return 0;
	x->code = code;
	return -1;
}

/* b64token - a character of RFC 6750's b64token (before its '='s). */
static int b64token(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* bearer - "Authorization: Bearer KEY": 1 with the key, 0 when there is
 * no such header, another scheme or no token, -1 when it is malformed: a
 * token that is no b64token, or anything after it ("Bearer KEY junk"). */
static int bearer(struct request *rq, const char **key, size_t *len)
{
	const char *a = header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n = 0, m;
	if (!a || strncasecmp(a, "Bearer", 6) != 0 || (a[6] && a[6] != ' ' && a[6] != '\t'))
		return 0;
	a += 6;
	while (*a == ' ' || *a == '\t')
		a++;
	if (!*a)
		return 0;
	while (b64token(a[n]))
		n++;
	for (m = n; a[m] == '='; m++)
		;
	*key = a;
	*len = m;
	while (a[m] == ' ' || a[m] == '\t')
		m++;
	return n && !a[m] ? 1 : -1;
}

int api_authorize(struct request *rq, unsigned level, enum MHD_Result *ret)
{
	const char *key = NULL;
	size_t len = 0;
	int got = bearer(rq, &key, &len);
	if (got < 0) {
		*ret = reply_error(rq, 400, "bad_request", NULL,
		                   "malformed Authorization header: expected \"Bearer KEY\" and "
		                   "nothing after the key");
		return 0;
	}
	if (!got)
		key = NULL;
	if (key_ok(rq, key, len, 0, level == KEY_LEARN))
		return 1;
	if (!keys_configured(rq->srv))
		*ret = reply_error(rq, 401, "unauthorized", NULL,
		                   "learning needs an API key, and threshd runs without a key file");
	else if (!key)
		*ret = reply_error(rq, 401, "unauthorized", NULL,
		                   "no API key: send \"Authorization: Bearer KEY\"");
	else
		*ret = reply_error(rq, 401, "unauthorized", NULL, "the API key is not valid");
	return 0;
}

/* read_comment - parse the JSON body into x->st.c (the caller frees it);
 * -1 having replied. */
static int read_comment(struct request *rq, struct jctx *x, enum MHD_Result *ret)
{
	char why[384];
	size_t pos = 0, bad = 0;
	if (!media_type_is(rq, APPLICATION_JSON)) {
		*ret = reply_error(rq, 415, "unsupported_media_type", NULL,
		                   "the JSON API takes application/json bodies");
		return -1;
	}
	if (!utf8_check((const unsigned char *)rq->body, rq->len, &bad)) {
		*ret = reply_error(rq, 400, "invalid_utf8", NULL,
		                   "the body is not valid UTF-8 (byte %zu)", bad);
		return -1;
	}
	thresh_comment *c;
	if (thresh_comment_new(&c)) {
		*ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
		return -1;
	}
	cj_start(&x->st, c, x->kind != K_CHECK);
	int rc = json_object_parse(rq->body, rq->len, on_member, x, why, sizeof why, &pos);
	cj_end(&x->st);
	if (rc == -1) {
		*ret = reply_error(rq, 400, "malformed_json", NULL, "malformed JSON: %s (byte %zu)",
		                   why, pos);
		return -1;
	}
	if (rc == -2) {
		*ret = reply_error(rq, x->code && !strcmp(x->code, "unavailable") ? 503 : 400,
		                   x->code ? x->code : "bad_field", x->field, "%s", why);
		return -1;
	}
	if (rc) {
		*ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
		return -1;
	}
	if (x->kind != K_CHECK && x->st.label < 0) {
		*ret = reply_error(rq, 400, "missing_field", "label",
		                   "missing member \"label\" (\"spam\" or \"ham\")");
		return -1;
	}
	if (api_has_main_field(x->st.c))
		return 0;
	*ret = reply_error(rq, 400, "missing_field", "content",
	                   "missing member: a comment needs at least one of content, author, "
	                   "email or url");
	return -1;
}

enum MHD_Result api_check(struct request *rq)
{
	struct server *s = rq->srv;
	struct jctx x = {.kind = K_CHECK};
	thresh_result *res = NULL;
	enum MHD_Result ret;
	struct sbuf b;
	int rc;

	thresh_db *db;
	if (read_comment(rq, &x, &ret) || !request_db(rq, NULL, 0, &db, &ret)) {
		thresh_comment_free(x.st.c);
		return ret;
	}
	unsigned flags = (x.explain ? THRESH_CHECK_EXPLAIN : 0) |
	                 (x.dry_run ? THRESH_CHECK_READONLY : 0);
	rc = thresh_check(db, x.st.c, flags, &res);
	thresh_comment_free(x.st.c);
	if (rc)
		return reply_lib_error(rq, rc, "check");
	rq->have_verdict = 1;
	rq->verdict = thresh_result_verdict(res);
	rq->score = thresh_result_score(res);
	metrics_verdict(&s->metrics, rq->verdict);
	sb_init(&b);
	json_put_result(&b, res, 0);
	thresh_result_free(res);
	return reply_sb(rq, 200, APPLICATION_JSON, &b, NULL);
}

static enum MHD_Result learn(struct request *rq, int undo)
{
	struct server *s = rq->srv;
	struct jctx x = {.kind = undo ? K_UNLEARN : K_LEARN};
	thresh_learn_summary sum;
	enum MHD_Result ret;
	struct sbuf b;
	int rc;

	thresh_db *db;
	if (read_comment(rq, &x, &ret) || !request_db(rq, NULL, 0, &db, &ret)) {
		thresh_comment_free(x.st.c);
		return ret;
	}
	memset(&sum, 0, sizeof sum);
	sum.size = sizeof sum;
	rc = undo ? thresh_unlearn(db, x.st.c, x.st.label, &sum)
	          : thresh_learn(db, x.st.c, x.st.label, &sum);
	thresh_comment_free(x.st.c);
	if (rc)
		return reply_lib_error(rq, rc, undo ? "unlearn" : "learn");
	sb_init(&b);
	if (undo) {
		if (sum.unlearned)
			atomic_fetch_add_explicit(&s->metrics.unlearned[x.st.label], 1,
			                          memory_order_relaxed);
		sb_printf(&b, "{\"unlearned\":%" PRIu64 ",\"not_found\":%" PRIu64 "}\n", sum.unlearned,
		          sum.not_found);
	} else {
		if (sum.learned || sum.moved)
			atomic_fetch_add_explicit(&s->metrics.learned[x.st.label], 1, memory_order_relaxed);
		sb_printf(&b, "{\"learned\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"moved\":%" PRIu64 "}\n",
		          sum.learned, sum.duplicates, sum.moved);
	}
	return reply_sb(rq, 200, APPLICATION_JSON, &b, NULL);
}

enum MHD_Result api_learn(struct request *rq)
{
	return learn(rq, 0);
}

enum MHD_Result api_unlearn(struct request *rq)
{
	return learn(rq, 1);
}

enum MHD_Result api_stats(struct request *rq)
{
	struct server *s = rq->srv;
	thresh_stats st;
	struct sbuf b;
	thresh_db *db;
	enum MHD_Result ret;
	int rc;

	if (!request_db(rq, NULL, 0, &db, &ret))
		return ret;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	if ((rc = thresh_db_stats(db, &st)))
		return reply_lib_error(rq, rc, "stats");
	sb_init(&b);
	sb_printf(&b, "{\"version\":\"%s\",", thresh_version());
	if (rq->site) {
		sb_puts(&b, "\"site\":");
		json_put_string(&b, site_name(rq->site), strlen(site_name(rq->site)));
		sb_puts(&b, ",");
	}
	json_put_stats(&b, &st);
	sb_puts(&b, ",");
	if ((rc = json_put_params(&b, db))) {
		sb_free(&b);
		return reply_lib_error(rq, rc, "stats");
	}
	sb_printf(&b, ",\"checks\":%llu,\"uptime_seconds\":",
	          (unsigned long long)atomic_load_explicit(&s->checks, memory_order_relaxed));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	json_put_double(&b, (double)now.tv_sec + now.tv_nsec / 1e9 - s->started);
	sb_puts(&b, "}\n");
	return reply_sb(rq, 200, APPLICATION_JSON, &b, NULL);
}

enum MHD_Result api_healthz(struct request *rq)
{
	static const char ok[] = "{\"status\":\"ok\"}\n";
	static const char draining[] = "{\"status\":\"draining\"}\n";
	thresh_stats st;
	memset(&st, 0, sizeof st);
	/* the database alone: a node of a cluster is alive with Redis away */
	st.size = offsetof(thresh_stats, cluster);
	if (atomic_load_explicit(&rq->srv->draining, memory_order_relaxed))
		return reply(rq, 503, APPLICATION_JSON, draining, sizeof draining - 1, NULL);
	int rc = thresh_db_stats(rq->srv->db, &st);
	if (rc)
		return reply_error(rq, 503, "unavailable", NULL, "the database does not answer: %s",
		                   thresh_strerror(rc));
	return reply(rq, 200, APPLICATION_JSON, ok, sizeof ok - 1, NULL);
}

enum MHD_Result api_metrics(struct request *rq)
{
	struct sbuf b;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_DAEMON);
	sb_init(&b);
	metrics_render(rq->srv, ci ? ci->daemon : NULL, &b);
	return reply_sb(rq, 200, "text/plain; version=0.0.4; charset=utf-8", &b, NULL);
}
