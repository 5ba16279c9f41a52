/* akismet.c - Akismet's REST protocol (1.1 and the 1.2 usage limit), so that
 * an Akismet client, WordPress's own plugin first, switches to thresh by
 * changing its host.
 *
 *   POST /1.1/comment-check   blog=https://x.example&user_ip=203.0.113.9
 *                             &comment_content=Buy+cheap+pills&api_key=KEY
 *   200 "true"  (spam)        X-Thresh-Verdict: reject, X-Thresh-Score: 0.9981,
 *                             X-akismet-pro-tip: discard when blatant
 *   200 "false" (ham)         X-Thresh-Verdict: accept
 *   200 "false" + X-akismet-error   held for moderation (see below)
 *   200 "invalid"             a key that is not in the key file
 *
 * Also verify-key, submit-spam, submit-ham, get-subscription, get-stats,
 * deactivate, GET or POST /1.1/test ("connected") and GET /1.2/usage-limit.
 *
 * The key comes from the body (api_key or key; verify-key, get-subscription
 * and get-stats check key first, as that is the key being asked about while
 * WordPress's plugin adds the stored api_key to every request) or, failing
 * that, from the host name's first label, as older clients send it
 * (http://KEY.rest.example:8707/1.1/comment-check).
 *
 * Lenient, as Akismet is: an Akismet client cannot act on an error (WordPress's
 * plugin leaves the comment pending with a check error), so nothing in a
 * body that a commenter controls is refused. The form is read with
 * form_parse_lenient (bad escapes kept as written, fields past FORM_MAX_FIELDS
 * left out but for the ones read here); each field read is decoded from the
 * charset the client declares (Content-Type's charset, else blog_charset;
 * unknown charsets and invalid bytes give U+FFFD) and cut to the library's
 * limits at a character boundary. Every other field (POST_*, HTTP_*, ...)
 * is ignored, whatever its bytes. Only what the client itself gets wrong is
 * answered with an error: a wrong key ("invalid"), a body that is not a form
 * (415), a missing blog (400).
 *
 * Akismet's conventions (threshd(8) lists them):
 *   comment_author viagra-test-123, comment_author_email
 *     akismet-guaranteed-spam@example.com   always "true"; nothing changes
 *   user_role holding administrator          always "false"
 *   is_test (any value but "", 0, false)     no state changes: the check is
 *                                            THRESH_CHECK_READONLY, a submit
 *                                            is answered but not learned
 *   recheck_reason                           a recheck of a stored comment
 *                                            ("Check for Spam"): READONLY
 *   a logged-in user (user_role, or user_id   WordPress authenticated them:
 *     / user_ID other than 0)                READONLY, never rate-limited
 *
 * Akismet has no "hold". A held comment is answered by its reasons:
 *   - only first_comment (with trusted_author, learned_ham or none besides):
 *     "false", so that the site's own rule ("Comment author must have a
 *     previously approved comment", on by default) decides;
 *   - any other reason (bayes, unfamiliar, too_many_links, moderation_word,
 *     too_fast, author_spam, rate_limited): "false" with an X-akismet-error
 *     header, which WordPress's plugin takes as "hold for moderation": the
 *     comment is pending, its meta says akismet_result=false, no check error
 *     is recorded and no recheck is scheduled;
 *   - with --hold-as-spam: "true" for every hold.
 * X-Thresh-Verdict always tells the three verdicts apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "wpform.h"
#include "threshd.h"

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define THANKS "Thanks for making the web a better place."

/* The fields read here, kept whatever their number (form_parse_lenient's
 * want list); the first of each name counts. */
enum {
	W_CONTENT, W_AUTHOR, W_EMAIL, W_URL, W_USER_IP, W_AUTHOR_IP, W_USER_AGENT, W_AGENT,
	W_REFERRER, W_REFERER, W_PERMALINK, W_TYPE, W_BLOG_LANG, W_API_KEY, W_KEY, W_BLOG,
	W_HONEYPOT_NAME, W_BLOG_CHARSET, W_IS_TEST, W_USER_ROLE, W_USER_ID, W_USER_ID2,
	W_RECHECK, W_FROM, W_COUNT
};

/* Each name with its length: want() is asked of every field, twice. */
#define W(id, name) [id] = {name, sizeof name - 1}
static const struct {
	const char *name;
	size_t len;
} wanted[W_COUNT] = {
	W(W_CONTENT, "comment_content"),
	W(W_AUTHOR, "comment_author"),
	W(W_EMAIL, "comment_author_email"),
	W(W_URL, "comment_author_url"),
	W(W_USER_IP, "user_ip"),
	W(W_AUTHOR_IP, "comment_author_IP"),
	W(W_USER_AGENT, "user_agent"),
	W(W_AGENT, "comment_agent"),
	W(W_REFERRER, "referrer"),
	W(W_REFERER, "referer"),
	W(W_PERMALINK, "permalink"),
	W(W_TYPE, "comment_type"),
	W(W_BLOG_LANG, "blog_lang"),
	W(W_API_KEY, "api_key"),
	W(W_KEY, "key"),
	W(W_BLOG, "blog"),
	W(W_HONEYPOT_NAME, "honeypot_field_name"),
	W(W_BLOG_CHARSET, "blog_charset"),
	W(W_IS_TEST, "is_test"),
	W(W_USER_ROLE, "user_role"),
	W(W_USER_ID, "user_id"),
	W(W_USER_ID2, "user_ID"),
	W(W_RECHECK, "recheck_reason"),
	W(W_FROM, "from"),
};
#undef W

_Static_assert(W_COUNT <= FORM_WANT_MAX, "FORM_WANT_MAX");

/* A comment field of the library and where it comes from: the first of
 * the form fields given (an alias only when the first name is absent). */
static const struct {
	const char *field;
	int from[2];
} comment_map[] = {
	{"comment_content", {W_CONTENT, -1}},
	{"comment_author", {W_AUTHOR, -1}},
	{"comment_author_email", {W_EMAIL, -1}},
	{"comment_author_url", {W_URL, -1}},
	{"user_ip", {W_USER_IP, W_AUTHOR_IP}},
	{"user_agent", {W_USER_AGENT, W_AGENT}},
	{"referrer", {W_REFERRER, W_REFERER}},
	{"permalink", {W_PERMALINK, -1}},
	{"comment_type", {W_TYPE, -1}},
	{"blog_lang", {W_BLOG_LANG, -1}},
};

/* Akismet's documented test values. */
#define TEST_SPAM_AUTHOR "viagra-test-123"
#define TEST_SPAM_EMAIL "akismet-guaranteed-spam@example.com"

/* ---------- one comment, as WordPress sends it twice ----------
 *
 * WordPress's plugin sends a comment's text as the visitor typed it on
 * arrival and in submit-spam / submit-ham (akismet_as_submitted), but as
 * WordPress stored it when "Check for Spam" rechecks it, or when a comment
 * without akismet_as_submitted is marked: the four fields of the digest are
 * brought to one form first (src/common/wpform.c), the form `thresh train
 * --wp-json` and --wp-mariadb learn a site's history in. */

static int want(const char *name, size_t len)
{
	for (int i = 0; i < W_COUNT; i++)
		if (wanted[i].len == len && !memcmp(wanted[i].name, name, len))
			return i;
	return -1;
}

/* One Akismet request, read. */
struct ak {
	struct form f;
	const struct form_field *w[W_COUNT]; /* the first field of each name, or NULL */
	struct charset cs;
	int is_test;   /* is_test given */
	int recheck;   /* recheck_reason given */
	int logged_in; /* user_role, or a user id other than 0 */
	int admin;     /* user_role holds administrator */
};

static void ak_free(struct ak *a)
{
	form_free(&a->f);
}

static int nonempty(const struct form_field *x)
{
	return x && x->value_len;
}

/* value_is - the field's value equals s, ASCII case ignored. */
static int value_is(const struct form_field *x, const char *s)
{
	size_t n = strlen(s);
	return x && x->value_len == n && !strncasecmp(x->value, s, n);
}

/* role_has - a comma-separated list of roles holds role. */
static int role_has(const struct form_field *x, const char *role)
{
	size_t n = strlen(role);
	if (!x)
		return 0;
	const char *p = x->value, *end = x->value + x->value_len;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		const char *a = p;
		while (a < e && (*a == ' ' || *a == '\t'))
			a++;
		const char *b = e;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if ((size_t)(b - a) == n && !strncasecmp(a, role, n))
			return 1;
		p = e + 1;
	}
	return 0;
}

/* The charset parameter of the Content-Type header, or NULL. */
static const char *ctype_charset(struct request *rq, size_t *len)
{
	const char *ct = header(rq, MHD_HTTP_HEADER_CONTENT_TYPE), *p;
	if (!ct)
		return NULL;
	for (p = ct; (p = strchr(p, ';')) != NULL;) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncasecmp(p, "charset=", 8)) {
			p += 8;
			*len = strcspn(p, ";");
			return p;
		}
	}
	return NULL;
}

/* read_form - the body as a lenient form. Returns 0, or -1 having replied
 * (the reply's result in *ret). */
static int read_form(struct request *rq, struct ak *a, enum MHD_Result *ret)
{
	struct server *s = rq->srv;
	memset(a, 0, sizeof *a);
	if (!media_type_is(rq, "application/x-www-form-urlencoded")) {
		*ret = reply_error(rq, 415, "unsupported_media_type", NULL,
		                   "Akismet's endpoints take application/x-www-form-urlencoded bodies");
		return -1;
	}
	if (form_parse_lenient(rq->body, rq->len, &a->f, FORM_MAX_FIELDS, want) != FORM_OK) {
		*ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
		return -1;
	}
	if (a->f.dropped)
		atomic_fetch_add_explicit(&s->metrics.ak_dropped, a->f.dropped, memory_order_relaxed);
	for (size_t i = 0; i < a->f.n; i++) {
		int w = want(a->f.f[i].name, a->f.f[i].name_len);
		if (w >= 0 && !a->w[w])
			a->w[w] = &a->f.f[i];
	}
	size_t n = 0;
	const char *label = ctype_charset(rq, &n);
	if (!label && a->w[W_BLOG_CHARSET]) {
		label = a->w[W_BLOG_CHARSET]->value;
		n = a->w[W_BLOG_CHARSET]->value_len;
	}
	charset_lookup(label ? label : "", label ? n : 0, &a->cs);

	const struct form_field *t = a->w[W_IS_TEST];
	a->is_test = nonempty(t) && !value_is(t, "0") && !value_is(t, "false");
	a->recheck = nonempty(a->w[W_RECHECK]);
	a->admin = role_has(a->w[W_USER_ROLE], "administrator");
	a->logged_in = nonempty(a->w[W_USER_ROLE]);
	for (int k = W_USER_ID; k <= W_USER_ID2; k++)
		if (nonempty(a->w[k]) && !value_is(a->w[k], "0"))
			a->logged_in = 1;
	return 0;
}

static enum MHD_Result invalid_key(struct request *rq, const char *why)
{
	return reply(rq, 200, TEXT_PLAIN, "invalid", 7, "X-akismet-debug-help", why, NULL);
}

/* check_key - the request's key, api_key first (key first when key_first:
 * verify-key and friends ask about key). Returns 1, or 0 having replied. */
static int check_key(struct request *rq, struct ak *a, int key_first, int learning,
                     enum MHD_Result *ret)
{
	const struct form_field *k = a->w[key_first ? W_KEY : W_API_KEY];
	if (!nonempty(k))
		k = a->w[key_first ? W_API_KEY : W_KEY];
	const char *key;
	size_t klen = 0;
	int fold = 0;
	if (nonempty(k)) {
		key = k->value;
		klen = k->value_len;
	} else {
		key = host_key(rq, &klen);
		fold = 1;
	}
	if (key_ok(rq, key, klen, fold, learning))
		return 1;
	*ret = invalid_key(rq, !keys_configured(rq->srv) && learning
	                          ? "threshd has no key file: learning is off"
	                       : key ? "the API key is not valid"
	                             : "no API key given");
	return 0;
}

/* need_blog - Akismet requires blog (the site's address, which no commenter
 * controls). Returns 1, or 0 having replied. */
static int need_blog(struct request *rq, struct ak *a, enum MHD_Result *ret)
{
	if (nonempty(a->w[W_BLOG]))
		return 1;
	*ret = reply_error(rq, 400, "missing_field", "blog", "missing required field: blog");
	return 0;
}

/* make_comment - the comment from the form: each field decoded from the
 * declared charset and cut to the library's limit. Returns 0 with *c, or
 * -1 having replied. */
static int make_comment(struct request *rq, struct ak *a, thresh_comment **c, enum MHD_Result *ret)
{
	struct server *s = rq->srv;
	/* Decoded, a value takes at most 3 bytes a byte (charset_to_utf8), and
	 * a URL 7 more ("http://"): room for the body's length in all cuts no
	 * field its own limit would not cut. Most comments' room is on the
	 * stack: a request took and freed 64 KiB, and glibc sweeps its fast
	 * bins (malloc_consolidate) for every allocation of 1 KiB or more
	 * while any are in use, and for every free of 64 KiB. */
	size_t room = rq->len < (THRESH_CONTENT_MAX - 7) / 3 ? 3 * rq->len + 7 : THRESH_CONTENT_MAX;
	unsigned char small[8192];
	unsigned char *buf = room <= sizeof small ? small : malloc(room);
	*c = NULL;
	if (!buf || thresh_comment_new(c)) {
		if (buf != small)
			free(buf);
		*ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
		return -1;
	}
	size_t nmap = sizeof comment_map / sizeof comment_map[0];
	for (size_t i = 0; i <= nmap; i++) {
		const struct form_field *x = NULL;
		const char *field;
		if (i < nmap) {
			field = comment_map[i].field;
			for (int k = 0; k < 2 && !x; k++)
				if (comment_map[i].from[k] >= 0 && a->w[comment_map[i].from[k]])
					x = a->w[comment_map[i].from[k]];
			/* An empty user_ip gives way to comment_author_IP. */
			if (x == a->w[W_USER_IP] && x && !x->value_len && a->w[W_AUTHOR_IP])
				x = a->w[W_AUTHOR_IP];
		} else {
			/* the honeypot: the field honeypot_field_name names */
			field = "honeypot";
			const struct form_field *hp = a->w[W_HONEYPOT_NAME];
			if (!nonempty(hp))
				break;
			for (size_t j = 0; j < a->f.n && !x; j++)
				if (a->f.f[j].name_len == hp->value_len &&
				    !memcmp(a->f.f[j].name, hp->value, hp->value_len))
					x = &a->f.f[j];
		}
		if (!x)
			continue;
		size_t cap = strcmp(field, "comment_content") ? THRESH_FIELD_MAX : THRESH_CONTENT_MAX;
		if (cap > room)
			cap = room;
		size_t repaired = 0;
		int cut = 0;
		size_t n = charset_to_utf8(&a->cs, (const unsigned char *)x->value, x->value_len, buf,
		                           cap, &repaired, &cut);
		if (i < 4) /* content, author, e-mail, URL: the digest's fields */
			n = wp_canonical(buf, n, cap, i == 1 ? WP_CANON_AUTHOR : i == 3 ? WP_CANON_URL : WP_CANON_TEXT);
		if (!n)
			continue; /* an empty field is no field */
		if (repaired)
			atomic_fetch_add_explicit(&s->metrics.ak_repaired, 1, memory_order_relaxed);
		if (cut)
			atomic_fetch_add_explicit(&s->metrics.ak_truncated, 1, memory_order_relaxed);
		int rc = thresh_comment_set(*c, field, (const char *)buf, n);
		if (rc == THRESH_ENOMEM) {
			*ret = reply_error(rq, 503, "unavailable", NULL, "out of memory");
			goto fail;
		}
		/* Any other refusal (none is expected of repaired text) leaves the
		 * field out: the comment is scored on what remains. */
		if (rc)
			atomic_fetch_add_explicit(&s->metrics.ak_dropped, 1, memory_order_relaxed);
	}
	if (buf != small)
		free(buf);
	return 0;
fail:
	if (buf != small)
		free(buf);
	thresh_comment_free(*c);
	*c = NULL;
	return -1;
}

enum MHD_Result ak_verify_key(struct request *rq)
{
	struct ak a;
	enum MHD_Result ret;
	if (read_form(rq, &a, &ret))
		return ret;
	if (check_key(rq, &a, 1, 0, &ret))
		ret = reply(rq, 200, TEXT_PLAIN, "valid", 5, NULL);
	ak_free(&a);
	return ret;
}

/* ---------- comment-check ---------- */

/* hold_is_pending - does a hold with these reasons go to the moderation
 * queue (1), or to the site's own first-comment rule (0)? */
static int hold_is_pending(const thresh_result *res)
{
	for (size_t i = 0; i < thresh_result_reason_count(res); i++) {
		const char *r = thresh_result_reason(res, i);
		if (strcmp(r, "first_comment") && strcmp(r, "trusted_author") && strcmp(r, "learned_ham"))
			return 1;
	}
	return 0;
}

/* count_answer - a comment-check's answer, in /metrics and, with --sites,
 * in its site's get-stats. */
static void count_answer(struct request *rq, int spam, int pending)
{
	struct metrics *m = &rq->srv->metrics;
	struct ak_counts *c = rq->site ? site_ak_counts(rq->site) : NULL;
	atomic_fetch_add_explicit(&m->ak_answers[spam], 1, memory_order_relaxed);
	if (c)
		atomic_fetch_add_explicit(&c->answers[spam], 1, memory_order_relaxed);
	if (pending) {
		atomic_fetch_add_explicit(&m->ak_pending, 1, memory_order_relaxed);
		if (c)
			atomic_fetch_add_explicit(&c->pending, 1, memory_order_relaxed);
	}
}

static enum MHD_Result answer_test_spam(struct request *rq, struct ak *a)
{
	struct server *s = rq->srv;
	rq->have_verdict = 1;
	rq->verdict = THRESH_REJECT;
	rq->score = 1;
	metrics_verdict(&s->metrics, THRESH_REJECT);
	if (!a->is_test && !a->recheck)
		count_answer(rq, 1, 0);
	return reply(rq, 200, TEXT_PLAIN, "true", 4, "X-Thresh-Verdict", "reject",
	             "X-Thresh-Reasons", "akismet_test_spam", NULL);
}

enum MHD_Result ak_comment_check(struct request *rq)
{
	struct server *s = rq->srv;
	struct ak a;
	thresh_comment *c;
	thresh_result *res = NULL;
	enum MHD_Result ret;
	char score[40], reasons[256], retry[32], retry_s[32], error[320];
	int rc;

	if (read_form(rq, &a, &ret))
		return ret;
	thresh_db *db;
	if (!check_key(rq, &a, 0, 0, &ret) || !need_blog(rq, &a, &ret) ||
	    !request_db(rq, a.w[W_BLOG]->value, a.w[W_BLOG]->value_len, &db, &ret))
		goto out;
	atomic_fetch_add_explicit(&s->checks, 1, memory_order_relaxed);
	if ((a.w[W_AUTHOR] && a.w[W_AUTHOR]->value_len == strlen(TEST_SPAM_AUTHOR) &&
	     !memcmp(a.w[W_AUTHOR]->value, TEST_SPAM_AUTHOR, strlen(TEST_SPAM_AUTHOR))) ||
	    value_is(a.w[W_EMAIL], TEST_SPAM_EMAIL)) {
		ret = answer_test_spam(rq, &a);
		goto out;
	}
	if (make_comment(rq, &a, &c, &ret))
		goto out;
	unsigned flags = a.is_test || a.recheck || a.logged_in ? THRESH_CHECK_READONLY : 0;
	rc = thresh_check(db, c, flags, &res);
	thresh_comment_free(c);
	if (rc) {
		ret = reply_lib_error(rq, rc, "check");
		goto out;
	}

	thresh_verdict v = thresh_result_verdict(res);
	size_t o = 0;
	reasons[0] = '\0';
	for (size_t i = 0; i < thresh_result_reason_count(res); i++) {
		const char *r = thresh_result_reason(res, i), *sep = i ? ", " : "";
		size_t ns = strlen(sep), nr = strlen(r);
		if (ns + nr >= sizeof reasons - o) {
			/* what fits, as snprintf cuts it, and no more reasons */
			snprintf(reasons + o, sizeof reasons - o, "%s%s", sep, r);
			break;
		}
		memcpy(reasons + o, sep, ns);
		memcpy(reasons + o + ns, r, nr + 1);
		o += ns + nr;
	}
	if (a.admin) {
		/* Akismet's convention: an administrator's comment is ham. */
		v = THRESH_ACCEPT;
		snprintf(reasons, sizeof reasons, "administrator");
		o = strlen(reasons);
	}
	rq->have_verdict = 1;
	rq->verdict = v;
	rq->score = thresh_result_score(res);
	metrics_verdict(&s->metrics, v);

	int hold_spam = atomic_load_explicit(&s->hold_as_spam, memory_order_relaxed);
	int spam = v == THRESH_REJECT || (v == THRESH_HOLD && hold_spam);
	int pending = v == THRESH_HOLD && !hold_spam && hold_is_pending(res);
	if (pending)
		snprintf(error, sizeof error, "held for moderation by thresh (%s)", reasons);
	if (!a.is_test && !a.recheck)
		count_answer(rq, spam, pending);
	fmt_fixed(score, sizeof score, rq->score, 6);
	double ra = a.admin ? 0 : thresh_result_retry_after(res);
	if (ra > 0) {
		fmt_fixed(retry, sizeof retry, ra, 3);
		fmt_fixed(retry_s, sizeof retry_s, ra < 1 ? 1 : ra + 0.999, 0);
	}
	ret = reply(rq, 200, TEXT_PLAIN, spam ? "true" : "false", spam ? 4 : 5,
	            "X-Thresh-Verdict", thresh_verdict_name(v),
	            "X-Thresh-Score", score,
	            "X-Thresh-Reasons", o ? reasons : NULL,
	            "X-akismet-pro-tip", spam && thresh_result_blatant(res) ? "discard" : NULL,
	            "X-akismet-error", pending ? error : NULL,
	            "X-Thresh-Retry-After", ra > 0 ? retry : NULL,
	            "Retry-After", ra > 0 ? retry_s : NULL,
	            "X-Thresh-Read-Only", flags ? "1" : NULL,
	            NULL);
	thresh_result_free(res);
out:
	ak_free(&a);
	return ret;
}

/* ---------- submit-spam, submit-ham ---------- */

static enum MHD_Result submit(struct request *rq, int label)
{
	struct server *s = rq->srv;
	struct ak a;
	thresh_comment *c;
	thresh_learn_summary sum;
	enum MHD_Result ret;
	int rc;

	if (read_form(rq, &a, &ret))
		return ret;
	if (!check_key(rq, &a, 0, 1, &ret) || !need_blog(rq, &a, &ret))
		goto out;
	if (a.is_test) {
		/* Akismet's test mode: thanked, not learned. */
		ret = reply(rq, 200, TEXT_PLAIN, THANKS, sizeof THANKS - 1, "X-Thresh-Learned",
		            "test", NULL);
		goto out;
	}
	thresh_db *db;
	if (!request_db(rq, a.w[W_BLOG]->value, a.w[W_BLOG]->value_len, &db, &ret))
		goto out;
	if (make_comment(rq, &a, &c, &ret))
		goto out;
	memset(&sum, 0, sizeof sum);
	sum.size = sizeof sum;
	rc = thresh_learn(db, c, label, &sum);
	thresh_comment_free(c);
	if (rc) {
		ret = reply_lib_error(rq, rc, label == THRESH_SPAM ? "submit-spam" : "submit-ham");
		goto out;
	}
	if (sum.learned || sum.moved)
		atomic_fetch_add_explicit(&s->metrics.learned[label], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->metrics.ak_reports[label], 1, memory_order_relaxed);
	if (rq->site)
		atomic_fetch_add_explicit(&site_ak_counts(rq->site)->reports[label], 1,
		                          memory_order_relaxed);
	ret = reply(rq, 200, TEXT_PLAIN, THANKS, sizeof THANKS - 1, "X-Thresh-Learned",
	            sum.moved ? "moved" : sum.duplicates ? "duplicate" : "learned", NULL);
out:
	ak_free(&a);
	return ret;
}

enum MHD_Result ak_submit_spam(struct request *rq)
{
	return submit(rq, THRESH_SPAM);
}

enum MHD_Result ak_submit_ham(struct request *rq)
{
	return submit(rq, THRESH_HAM);
}

/* ---------- the settings page: subscription, stats, test ---------- */

/* POST /1.1/get-subscription - WordPress's plugin keeps a key only when its
 * status is active, active-dunning or no-sub; threshd has no subscriptions:
 * a key in the key file is "active", with no billing and no limit. */
enum MHD_Result ak_get_subscription(struct request *rq)
{
	struct ak a;
	enum MHD_Result ret;
	static const char body[] =
		"{\"status\":\"active\",\"account_id\":0,\"account_name\":\"threshd\","
		"\"account_type\":\"threshd\",\"next_billing_date\":null,\"limit_reached\":false}\n";
	if (read_form(rq, &a, &ret))
		return ret;
	if (check_key(rq, &a, 1, 0, &ret))
		ret = reply(rq, 200, "application/json", body, sizeof body - 1, NULL);
	ak_free(&a);
	return ret;
}

/* POST /1.1/get-stats - what threshd has answered Akismet clients since it
 * started (every key together; is_test and rechecks not counted): spam
 * ("true"), ham ("false", held ones among them), missed_spam (submit-spam:
 * the plugin sends it only for a comment that was not in spam) and
 * false_positives (submit-ham: only for a comment that was). threshd keeps
 * no history, so every period ("from") gets the same figures, with "since"
 * saying from when. */
enum MHD_Result ak_get_stats(struct request *rq)
{
	struct server *s = rq->srv;
	struct ak a;
	enum MHD_Result ret;
	char since[32], acc[32];
	if (read_form(rq, &a, &ret))
		return ret;
	if (!check_key(rq, &a, 1, 0, &ret))
		goto out;
	/* with --sites, the site's own counts: never another tenant's */
	thresh_db *db;
	const struct form_field *blog = a.w[W_BLOG];
	if (s->sites && !request_db(rq, nonempty(blog) ? blog->value : NULL,
	                            nonempty(blog) ? blog->value_len : 0, &db, &ret))
		goto out;
	struct ak_counts *sc = rq->site ? site_ak_counts(rq->site) : NULL;
	uint64_t spam = atomic_load_explicit(sc ? &sc->answers[1] : &s->metrics.ak_answers[1],
	                                     memory_order_relaxed);
	uint64_t ham = atomic_load_explicit(sc ? &sc->answers[0] : &s->metrics.ak_answers[0],
	                                    memory_order_relaxed);
	uint64_t held = atomic_load_explicit(sc ? &sc->pending : &s->metrics.ak_pending,
	                                     memory_order_relaxed);
	uint64_t missed = atomic_load_explicit(sc ? &sc->reports[1] : &s->metrics.ak_reports[1],
	                                       memory_order_relaxed);
	uint64_t fp = atomic_load_explicit(sc ? &sc->reports[0] : &s->metrics.ak_reports[0],
	                                   memory_order_relaxed);
	double total = (double)spam + (double)ham, wrong = (double)missed + (double)fp;
	double accuracy = total > 0 ? 100.0 * (total - (wrong < total ? wrong : total)) / total : 100;
	snprintf(acc, sizeof acc, "%.1f", accuracy);
	time_t t = (time_t)s->started;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct sbuf b;
	sb_init(&b);
	sb_printf(&b,
	          "{\"spam\":%llu,\"ham\":%llu,\"held\":%llu,\"missed_spam\":%llu,"
	          "\"false_positives\":%llu,\"accuracy\":%s,\"from\":",
	          (unsigned long long)spam, (unsigned long long)ham, (unsigned long long)held,
	          (unsigned long long)missed, (unsigned long long)fp, acc);
	const struct form_field *from = a.w[W_FROM];
	if (from && utf8_check((const unsigned char *)from->value, from->value_len, NULL))
		json_put_string(&b, from->value, from->value_len);
	else
		sb_puts(&b, "\"all\"");
	sb_printf(&b, ",\"since\":\"%s\",\"source\":\"threshd since it started\"}\n", since);
	ret = reply_sb(rq, 200, "application/json", &b, NULL);
out:
	ak_free(&a);
	return ret;
}

/* POST /1.1/deactivate - the plugin's goodbye; nothing to undo. */
enum MHD_Result ak_deactivate(struct request *rq)
{
	struct ak a;
	enum MHD_Result ret;
	if (read_form(rq, &a, &ret))
		return ret;
	if (check_key(rq, &a, 1, 0, &ret))
		ret = reply(rq, 200, TEXT_PLAIN, "deactivated", 11, NULL);
	ak_free(&a);
	return ret;
}

/* GET or POST /1.1/test - the plugin's connectivity check (no key). */
enum MHD_Result ak_test(struct request *rq)
{
	return reply(rq, 200, TEXT_PLAIN, "connected", 9, NULL);
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
