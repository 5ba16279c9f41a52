/* akismet.c - Akismet's REST protocol (1.1 and the 1.2 usage limit), so that
 * an Akismet client switches to thresh by changing its host.
 *
 *   POST /1.1/comment-check   blog=https://x.example&user_ip=203.0.113.9
 *                             &comment_content=Buy+cheap+pills&api_key=KEY
 *   200 "true"  (spam)        X-Thresh-Verdict: reject, X-Thresh-Score: 0.9981,
 *                             X-akismet-pro-tip: discard when blatant
 *   200 "false" (ham)         X-Thresh-Verdict: accept
 *   200 "invalid"             a key that is not in the key file
 *
 * The key comes from the body (api_key, or key as verify-key's clients send
 * it) or, failing that, from the host name's first label, as older clients
 * send it (http://KEY.rest.example:8707/1.1/comment-check).
 *
 * Akismet has no "hold": a held comment is "false" with X-Thresh-Verdict: hold
 * by default (the library holds every first comment of a new author, which
 * Akismet clients would otherwise file as spam); with --hold-as-spam, "true".
 * X-Thresh-Verdict always tells the three apart.
 *
 * Fields thresh uses are copied into the comment; honeypot_field_name names
 * another field whose value is the honeypot; every other field (blog_charset,
 * is_test, user_role, comment_date_gmt, ...) is accepted and ignored. Every
 * field must still be UTF-8 without NUL bytes; blog and user_ip are
 * required, as Akismet requires them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threshd.h"

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define THANKS "Thanks for making the web a better place."

/* Akismet's fields that thresh reads; the library accepts these names. */
static const char *const comment_fields[] = {
	"comment_content", "comment_author", "comment_author_email", "comment_author_url",
	"user_ip", "user_agent", "referrer", "referer", "permalink", "comment_type", "blog_lang",
	NULL,
};

/* Fields that may appear at most once (the comment's, and these). */
static const char *const control_fields[] = {
	"api_key", "key", "blog", "honeypot_field_name", NULL,
};

/* Akismet requires these for comment-check and the submits. */
static const char *const required_fields[] = {"blog", "user_ip", NULL};

static enum MHD_Result invalid_key(struct request *rq, const char *why)
{
	return reply(rq, 200, TEXT_PLAIN, "invalid", 7, "X-akismet-debug-help", why, NULL);
}

/* read_form - the body as a form, every name and value checked. Returns 0,
 * or -1 having replied (the reply's result in *ret). */
static int read_form(struct request *rq, struct form *f, enum MHD_Result *ret)
{
	char why[256], name[64];
	size_t bad;
	if (!media_type_is(rq, "application/x-www-form-urlencoded")) {
		*ret = reply_error(rq, 415, "unsupported_media_type", NULL,
		                   "Akismet's endpoints take application/x-www-form-urlencoded bodies");
		return -1;
	}
	switch (form_parse(rq->body, rq->len, f, why, sizeof why)) {
	case FORM_OK:
		break;
	case FORM_MALFORMED:
		*ret = reply_error(rq, 400, "malformed_form", NULL, "malformed form: %s", why);
		return -1;
	case FORM_TOO_MANY:
		*ret = reply_error(rq, 400, "too_many_fields", NULL, "malformed form: %s", why);
		return -1;
	default:
		*ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct form_field *x = &f->f[i];
		printable(x->name, x->name_len, name, sizeof name, PRINT_ASCII);
		if (!utf8_check((const unsigned char *)x->name, x->name_len, &bad) ||
		    !utf8_check((const unsigned char *)x->value, x->value_len, &bad)) {
			*ret = reply_error(rq, 400, "invalid_utf8", name,
			                   "field %s: not valid UTF-8 (after %%-decoding)", name);
			goto fail;
		}
		if (memchr(x->name, '\0', x->name_len) || memchr(x->value, '\0', x->value_len)) {
			*ret = reply_error(rq, 400, "nul_byte", name, "field %s: holds a NUL byte", name);
			goto fail;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *const *list = pass ? control_fields : comment_fields;
		for (size_t i = 0; list[i]; i++)
			if (form_count(f, list[i]) > 1) {
				*ret = reply_error(rq, 400, "duplicate_field", list[i],
				                   "field %s given more than once", list[i]);
				goto fail;
			}
	}
	return 0;
fail:
	form_free(f);
	return -1;
}

/* form_key - the key of an Akismet request: api_key or key in the body,
 * else the first label of the host name (compared without case). */
static const char *form_key(struct request *rq, const struct form *f, size_t *len, int *fold)
{
	const struct form_field *k = form_get(f, "api_key");
	if (!k || !k->value_len)
		k = form_get(f, "key");
	if (k && k->value_len) {
		*len = k->value_len;
		*fold = 0;
		return k->value;
	}
	*fold = 1;
	return host_key(rq, len);
}

/* set_field - copy one field into the comment; -1 having replied. */
static int set_field(struct request *rq, thresh_comment *c, const char *field, const char *value,
                     size_t len, enum MHD_Result *ret)
{
	const char *old = NULL;
	if (thresh_comment_get(c, field, &old) == 0 && old) {
		*ret = reply_error(rq, 400, "duplicate_field", field,
		                   "field %s given twice (once under its other name)", field);
		return -1;
	}
	int rc = thresh_comment_set(c, field, value, len);
	if (rc == THRESH_ETOOBIG)
		*ret = reply_error(rq, 400, "field_too_long", field,
		                   "field %s is longer than %d bytes", field,
		                   strcmp(field, "comment_content") ? THRESH_FIELD_MAX
		                                                    : THRESH_CONTENT_MAX);
	else if (rc == THRESH_EINVAL || rc == THRESH_EFIELD)
		*ret = reply_error(rq, 400, "bad_field", field, "field %s: %s", field,
		                   thresh_strerror(rc));
	else if (rc)
		*ret = reply_lib_error(rq, rc, field);
	return rc ? -1 : 0;
}

/* prepare - everything before the library call: the form, the key, the
 * required fields and the comment. Returns 0 with *c, or -1 having replied. */
static int prepare(struct request *rq, int learning, thresh_comment **c, enum MHD_Result *ret)
{
	struct form f;
	const char *key;
	size_t klen = 0;
	int fold;
	*c = NULL;
	if (read_form(rq, &f, ret))
		return -1;
	key = form_key(rq, &f, &klen, &fold);
	if (!key_ok(rq, key, klen, fold, learning)) {
		*ret = invalid_key(rq, !keys_configured(rq->srv)
		                          ? "threshd has no key file: learning is off"
		                          : key ? "the API key is not valid" : "no API key given");
		goto fail;
	}
	for (size_t i = 0; required_fields[i]; i++) {
		const struct form_field *x = form_get(&f, required_fields[i]);
		if (!x || !x->value_len) {
			*ret = reply_error(rq, 400, "missing_field", required_fields[i],
			                   "missing required field: %s", required_fields[i]);
			goto fail;
		}
	}
	if (thresh_comment_new(c)) {
		*ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
		goto fail;
	}
	for (size_t i = 0; comment_fields[i]; i++) {
		const struct form_field *x = form_get(&f, comment_fields[i]);
		if (x && set_field(rq, *c, comment_fields[i], x->value, x->value_len, ret))
			goto fail;
	}
	const struct form_field *hp = form_get(&f, "honeypot_field_name");
	if (hp && hp->value_len) {
		for (size_t i = 0; i < f.n; i++)
			if (f.f[i].name_len == hp->value_len &&
			    !memcmp(f.f[i].name, hp->value, hp->value_len)) {
				if (set_field(rq, *c, "honeypot", f.f[i].value, f.f[i].value_len, ret))
					goto fail;
				break;
			}
	}
	form_free(&f);
	return 0;
fail:
	thresh_comment_free(*c);
	*c = NULL;
	form_free(&f);
	return -1;
}

enum MHD_Result ak_verify_key(struct request *rq)
{
	struct form f;
	enum MHD_Result ret;
	const char *key;
	size_t klen = 0;
	int fold;
	if (read_form(rq, &f, &ret))
		return ret;
	key = form_key(rq, &f, &klen, &fold);
	if (!key || !klen)
		ret = invalid_key(rq, "no API key given");
	else if (key_ok(rq, key, klen, fold, 0))
		ret = reply(rq, 200, TEXT_PLAIN, "valid", 5, NULL);
	else
		ret = invalid_key(rq, "the API key is not valid");
	form_free(&f);
	return ret;
}

enum MHD_Result ak_comment_check(struct request *rq)
{
	struct server *s = rq->srv;
	thresh_comment *c;
	thresh_result *res = NULL;
	enum MHD_Result ret;
	char score[40], reasons[256], retry[32], retry_s[32];
	int rc;

	if (prepare(rq, 0, &c, &ret))
		return ret;
	if ((rc = thresh_check(s->db, c, 0, &res))) {
		thresh_comment_free(c);
		return reply_lib_error(rq, rc, "check");
	}
	thresh_comment_free(c);
	atomic_fetch_add_explicit(&s->checks, 1, memory_order_relaxed);

	thresh_verdict v = thresh_result_verdict(res);
	rq->have_verdict = 1;
	rq->verdict = v;
	rq->score = thresh_result_score(res);
	metrics_verdict(&s->metrics, v);

	int spam = v == THRESH_REJECT || (v == THRESH_HOLD && atomic_load_explicit(&s->hold_as_spam, memory_order_relaxed));
	snprintf(score, sizeof score, "%.6f", rq->score);
	size_t o = 0;
	reasons[0] = '\0';
	for (size_t i = 0; i < thresh_result_reason_count(res); i++) {
		int n = snprintf(reasons + o, sizeof reasons - o, "%s%s", i ? ", " : "",
		                 thresh_result_reason(res, i));
		if (n < 0 || (size_t)n >= sizeof reasons - o)
			break;
		o += (size_t)n;
	}
	double ra = thresh_result_retry_after(res);
	if (ra > 0) {
		snprintf(retry, sizeof retry, "%.3f", ra);
		snprintf(retry_s, sizeof retry_s, "%.0f", ra < 1 ? 1 : ra + 0.999);
	}
	ret = reply(rq, 200, TEXT_PLAIN, spam ? "true" : "false", spam ? 4 : 5,
	            "X-Thresh-Verdict", thresh_verdict_name(v),
	            "X-Thresh-Score", score,
	            "X-Thresh-Reasons", o ? reasons : NULL,
	            "X-akismet-pro-tip", spam && thresh_result_blatant(res) ? "discard" : NULL,
	            "X-Thresh-Retry-After", ra > 0 ? retry : NULL,
	            "Retry-After", ra > 0 ? retry_s : NULL,
	            NULL);
	thresh_result_free(res);
	return ret;
}

static enum MHD_Result submit(struct request *rq, int label)
{
	struct server *s = rq->srv;
	thresh_comment *c;
	thresh_learn_summary sum;
	enum MHD_Result ret;
	int rc;

	if (prepare(rq, 1, &c, &ret))
		return ret;
	memset(&sum, 0, sizeof sum);
	sum.size = sizeof sum;
	rc = thresh_learn(s->db, c, label, &sum);
	thresh_comment_free(c);
	if (rc)
		return reply_lib_error(rq, rc, label == THRESH_SPAM ? "submit-spam" : "submit-ham");
	if (sum.learned || sum.moved)
		atomic_fetch_add_explicit(&s->metrics.learned[label], 1, memory_order_relaxed);
	return reply(rq, 200, TEXT_PLAIN, THANKS, sizeof THANKS - 1, "X-Thresh-Learned",
	             sum.moved ? "moved" : sum.duplicates ? "duplicate" : "learned", NULL);
}

enum MHD_Result ak_submit_spam(struct request *rq)
{
	return submit(rq, THRESH_SPAM);
}

enum MHD_Result ak_submit_ham(struct request *rq)
{
	return submit(rq, THRESH_HAM);
}

/* GET /1.2/usage-limit?api_key=KEY - threshd has no quota: the limit is
 * "none" and the usage is the comment-checks served since it started. */
enum MHD_Result ak_usage_limit(struct request *rq)
{
	struct server *s = rq->srv;
	size_t klen = 0;
	int fold = 0;
	const char *key = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "api_key");
	if (key && *key) {
		klen = strlen(key);
	} else {
		key = host_key(rq, &klen);
		fold = 1;
	}
	if (!key_ok(rq, key, klen, fold, 0))
		return invalid_key(rq, key ? "the API key is not valid" : "no API key given");
	struct sbuf b;
	sb_init(&b);
	sb_printf(&b, "{\"limit\":\"none\",\"usage\":%llu,\"percentage\":\"0.00\",\"throttled\":false}\n",
	          (unsigned long long)atomic_load_explicit(&s->checks, memory_order_relaxed));
	return reply_sb(rq, 200, "application/json", &b, NULL);
}
