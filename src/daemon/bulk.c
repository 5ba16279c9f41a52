/* bulk.c - POST /v1/learn/bulk: many moderation decisions in one request,
 * stored in one transaction (a site's history, say).
 *
 *   POST /v1/learn/bulk?form=wordpress
 *   Authorization: Bearer KEY
 *   Content-Type: application/x-ndjson
 *
 *   {"label":"ham","content":"Tom &amp; Jerry","author":"Ann","email":"ann@example.org"}
 *   {"label":"spam","content":"Buy cheap pills","url":"pills.example"}
 *
 *   200 {"lines":2,"learned":2,"duplicates":0,"moved":0,"skipped":0,"errors":[],
 *        "errors_omitted":0}
 *
 * The body is JSON lines: each non-blank line one object as /v1/learn takes
 * it (the comment's fields and "label"). A line that cannot be learned
 * (malformed JSON, an unknown member, no label, no content, author, email
 * or url, a value the library refuses) is skipped and listed in "errors"
 * with its line number, its code and message (those of /v1/learn), and its
 * member when one is to blame: the first BULK_ERRORS_MAX, the others
 * counted in "errors_omitted". Every other line is learned, all of them in
 * one write transaction: a request is stored whole or, when storing fails
 * (a full disk, say: 507), not at all. Learning is idempotent, so a request
 * whose answer was lost can be sent again.
 *
 * With ?form=wordpress, content, author, email and url are first brought to
 * the one form threshd's Akismet endpoints learn them in
 * (src/common/wpform.c): rows of a WordPress site's wp_comments sent as
 * they are stored then count once with a moderator's later Spam or Not Spam
 * through Akismet, as with `thresh train --wp-json`.
 *
 * The body may be up to BULK_FACTOR times --body-limit (bulk_body_limit).
 * The route's key (KEY_LEARN) is checked with the headers, before the body
 * is read, as /v1/learn's. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comment_json.h"
#include "threshd.h"
#include "wpform.h"

#define BULK_ERRORS_MAX 100

size_t bulk_body_limit(const struct config *c)
{
	return c->body_limit > MAX_BODY_LIMIT / BULK_FACTOR ? MAX_BODY_LIMIT
	                                                    : c->body_limit * BULK_FACTOR;
}

struct line_ctx {
	struct cj_state st;
	const char *code;
	char field[64];
};

static int on_member(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct line_ctx *x = ctx;
	x->code = api_member_error(&x->st, m, x->field, sizeof x->field, why, whysize);
	return x->code ? -1 : 0;
}

/* to_wordpress - content, author, email and url of c in WordPress's one
 * form; 0 or THRESH_ENOMEM. */
static int to_wordpress(thresh_comment *c)
{
	static const struct {
		const char *field;
		enum wp_canon kind;
	} f[] = {{"content", WP_CANON_TEXT}, {"author", WP_CANON_AUTHOR},
	         {"email", WP_CANON_TEXT},   {"url", WP_CANON_URL}};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *v = NULL;
		if (thresh_comment_get(c, f[i].field, &v) || !v)
			continue;
		size_t n = strlen(v);
		unsigned char *buf = malloc(n + 8);
		if (!buf)
			return THRESH_ENOMEM;
		memcpy(buf, v, n);
		n = wp_canonical(buf, n, n + 8, f[i].kind);
		/* an empty value is no value; what fitted before still fits, but
		 * for "http://", which a field at its limit may not take */
		int rc = thresh_comment_set(c, f[i].field, n ? (const char *)buf : NULL, n);
		free(buf);
		if (rc == THRESH_ENOMEM)
			return rc;
	}
	return 0;
}

struct bulk {
	struct request *rq;
	struct sbuf errors;
	uint64_t nerrors, lines;
};

static void bad_line(struct bulk *k, uint64_t line, const char *code, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void bad_line(struct bulk *k, uint64_t line, const char *code, const char *field,
                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (k->nerrors++ >= BULK_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sb_printf(&k->errors, "%s{\"line\":%" PRIu64 ",\"error\":", k->nerrors > 1 ? "," : "", line);
	json_put_string(&k->errors, code, strlen(code));
	sb_puts(&k->errors, ",\"message\":");
	json_put_string(&k->errors, msg, strlen(msg));
	if (field && *field) {
		sb_puts(&k->errors, ",\"field\":");
		json_put_string(&k->errors, field, strlen(field));
	}
	sb_puts(&k->errors, "}");
}

/* lib_code - the JSON API's code of a library error that is the line's fault. */
static const char *lib_code(int rc)
{
	switch (rc) {
	case THRESH_EUTF8:
		return "invalid_utf8";
	case THRESH_ENUL:
		return "nul_byte";
	case THRESH_ETOOBIG:
		return "field_too_long";
	case THRESH_EINVAL:
	case THRESH_EFIELD:
		return "bad_field";
	default:
		return NULL;
	}
}

/* ctype_ok - JSON lines under any of their names, or no Content-Type. */
static int ctype_ok(struct request *rq)
{
	return media_type_is(rq, "application/x-ndjson") || media_type_is(rq, "application/jsonl") ||
	       media_type_is(rq, "application/json") || media_type_is(rq, "application/x-jsonlines");
}

enum MHD_Result api_learn_bulk(struct request *rq)
{
	struct bulk k;
	struct line_ctx x;
	thresh_batch *b = NULL;
	thresh_comment *c = NULL;
	thresh_learn_summary sum;
	enum MHD_Result ret;
	char why[384];
	int rc, wordpress = 0;

	/* the key was checked with the headers (KEY_LEARN), before the body */
	if (!ctype_ok(rq))
		return reply_error(rq, 415, "unsupported_media_type", NULL,
		                   "/v1/learn/bulk takes JSON lines (application/x-ndjson)");
	const char *form = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "form");
	if (form && strcmp(form, "wordpress"))
		return reply_error(rq, 400, "bad_request", "form",
		                   "form must be \"wordpress\" (or left out)");
	wordpress = form != NULL;
	thresh_db *db;
	if (!request_db(rq, NULL, 0, &db, &ret))
		return ret;
	if ((rc = thresh_batch_begin(db, &b)))
		return reply_lib_error(rq, rc, "learn");
	if ((rc = thresh_comment_new(&c))) {
		thresh_batch_abort(b);
		return reply_lib_error(rq, rc, "learn");
	}
	memset(&k, 0, sizeof k);
	k.rq = rq;
	sb_init(&k.errors);

	uint64_t lineno = 0;
	for (size_t at = 0; at < rq->len;) {
		const char *line = rq->body + at;
		const char *nl = memchr(line, '\n', rq->len - at);
		size_t n = nl ? (size_t)(nl - line) : rq->len - at;
		at += n + (nl ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		size_t blank = 0;
		while (blank < n && (line[blank] == ' ' || line[blank] == '\t'))
			blank++;
		if (blank == n)
			continue;
		k.lines++;
		size_t bad = 0, pos = 0;
		if (!utf8_check((const unsigned char *)line, n, &bad)) {
			bad_line(&k, lineno, "invalid_utf8", NULL, "the line is not valid UTF-8 (byte %zu)",
			         bad);
			continue;
		}
		memset(&x, 0, sizeof x);
		cj_start(&x.st, c, 1);
		rc = json_object_parse(line, n, on_member, &x, why, sizeof why, &pos);
		cj_end(&x.st);
		if (rc == -3 || (rc == -2 && x.code && !strcmp(x.code, "unavailable"))) {
			ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
			goto out;
		}
		if (rc == -1) {
			bad_line(&k, lineno, "malformed_json", NULL, "malformed JSON: %s (byte %zu)", why,
			         pos);
			continue;
		}
		if (rc) {
			bad_line(&k, lineno, x.code ? x.code : "bad_field", x.field, "%s", why);
			continue;
		}
		if (x.st.label < 0) {
			bad_line(&k, lineno, "missing_field", "label",
			         "missing member \"label\" (\"spam\" or \"ham\")");
			continue;
		}
		if (wordpress && (rc = to_wordpress(c))) {
			ret = reply_lib_error(rq, rc, "learn");
			goto out;
		}
		if (!api_has_main_field(c)) {
			bad_line(&k, lineno, "missing_field", "content",
			         "missing member: a comment needs at least one of content, author, "
			         "email or url");
			continue;
		}
		rc = thresh_batch_learn(b, c, x.st.label);
		if (rc && lib_code(rc)) {
			bad_line(&k, lineno, lib_code(rc), NULL, "%s", thresh_strerror(rc));
			continue;
		}
		if (rc) {
			ret = reply_lib_error(rq, rc, "learn");
			goto out;
		}
	}
	memset(&sum, 0, sizeof sum);
	sum.size = sizeof sum;
	if (thresh_batch_size(b)) {
		rc = thresh_batch_commit(b, &sum);
		b = NULL;
		if (rc) {
			ret = reply_lib_error(rq, rc, "learn");
			goto out;
		}
	}
	struct sbuf o;
	sb_init(&o);
	sb_printf(&o,
	          "{\"lines\":%" PRIu64 ",\"learned\":%" PRIu64 ",\"duplicates\":%" PRIu64
	          ",\"moved\":%" PRIu64 ",\"skipped\":%" PRIu64 ",\"errors\":[",
	          k.lines, sum.learned, sum.duplicates, sum.moved, k.nerrors);
	if (k.errors.len)
		sb_putn(&o, k.errors.p, k.errors.len);
	if (k.errors.oom)
		o.oom = 1;
	sb_printf(&o, "],\"errors_omitted\":%" PRIu64 "}\n",
	          k.nerrors > BULK_ERRORS_MAX ? k.nerrors - BULK_ERRORS_MAX : 0);
	ret = reply_sb(rq, 200, "application/json", &o, NULL);
out:
	thresh_batch_abort(b);
	thresh_comment_free(c);
	sb_free(&k.errors);
	return ret;
}
