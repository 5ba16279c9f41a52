/* comment_json.h - thresh's objects to and from JSON: one member of a JSON
 * object into a thresh_comment, the mapping that `thresh train --jsonl`,
 * `thresh check --json` and threshd's JSON API share; a check's result
 * (`thresh check --format json`, threshd's /v1/check); a database's
 * statistics and parameters (`thresh stats --json`, /v1/stats). Part of
 * src/common; not public API.
 *
 * Members are comment fields under thresh's names or Akismet's (see
 * thresh/comment.h), as strings or numbers (taken as written) or null (the
 * field is left out), plus "label" ("spam" or "ham"). A repeated key, or a
 * field given under both its names, is refused. Each program turns the
 * reason into its own words (a message, an HTTP status):
 *
 *   struct cj_state st;
 *   cj_start(&st, c, 1);
 *   ... for each member m:  if ((why = cj_member(&st, m)) != CJ_OK) report(why, m->key);
 *   ... at the end:         st.label is -1 when no "label" was given; cj_end(&st). */
#ifndef THRESH_COMMON_COMMENT_JSON_H
#define THRESH_COMMON_COMMENT_JSON_H

#include <thresh/thresh.h>

#include "json.h"

enum cj_reason {
	CJ_OK = 0,
	CJ_UNKNOWN_FIELD, /* not a comment field (a key holding NUL included) */
	CJ_DUPLICATE,     /* the key again */
	CJ_OTHER_NAME,    /* the field again, under its other name */
	CJ_BAD_TYPE,      /* an object, array or boolean where a value goes */
	CJ_BAD_LABEL,     /* "label" is not "spam" or "ham" */
	CJ_NUL,           /* the value holds a NUL byte */
	CJ_BAD_UTF8,      /* the value is not well-formed UTF-8 */
	CJ_TOO_LONG,      /* longer than the field takes (cj_field_max) */
	CJ_BAD_FORM_AGE,  /* "form_age" is not a number of seconds >= 0 */
	CJ_NOMEM,         /* out of memory */
	CJ_REFUSED,       /* the library refused the value: rc says why */
};

struct cj_state {
	thresh_comment *c;
	int want_label;     /* 1: "label" is read; 0: checked for repeats, then ignored */
	int label;          /* THRESH_SPAM, THRESH_HAM, or -1 until given */
	int rc;             /* the library's code behind the last reason */
	unsigned seen_label;
	char seen[32][24];  /* field keys taken so far (every name fits), to refuse repeats */
	int nseen;
	thresh_comment *given; /* the fields given so far under any name, null too */
};

/* cj_start - begin a new object: c is reset. Returns 0, or THRESH_ENOMEM
 * (then every member is refused with CJ_NOMEM). cj_end it either way. */
int cj_start(struct cj_state *s, thresh_comment *c, int want_label);

/* cj_end - release what cj_start took (not the comment). */
void cj_end(struct cj_state *s);

/* cj_member - take member m into the comment. Returns CJ_OK or the reason
 * it was refused (the comment then holds what came before). */
enum cj_reason cj_member(struct cj_state *s, const struct json_member *m);

/* cj_field_max - the most bytes the field named key takes. */
size_t cj_field_max(const char *key);

/* json_put_result - a check's result as one JSON object and a newline:
 *   {"verdict":"reject","score":0.9981,"blatant":true,"reasons":["bayes"],
 *    "retry_after":0,"tokens":[{"token":"pills","prob":0.99,"spam":12,"ham":0}]}
 * "tokens" (the explanation) only when there are tokens, or always when
 * tokens_always. On allocation failure b->oom is set. */
void json_put_result(struct sbuf *b, const thresh_result *r, int tokens_always);

/* json_put_stats - a database's statistics as JSON members (no braces):
 *   "format_version":2,...,"prior":{"spam_messages":906.3,...},"site_share":0.02,
 *   "cutoffs":{"hold":0.31,"hold_from":"site",...},"calibration":{...}
 * (`thresh stats --json`, threshd's /v1/stats). "cutoffs" and "calibration"
 * only when st->size reaches their fields. */
void json_put_stats(struct sbuf *b, const thresh_stats *st);

/* stats_from_name - a THRESH_FROM_* as "new_site", "blend", "site" or
 * "pinned". Cannot fail. */
const char *stats_from_name(int from);

/* json_put_params - the member "params":{NAME:VALUE,...} of every classifier
 * parameter in force. Returns 0 or the error of thresh_db_param_get (b then
 * holds a part). */
int json_put_params(struct sbuf *b, thresh_db *db);

#endif
