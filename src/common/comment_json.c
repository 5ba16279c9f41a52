/* comment_json.c - thresh's objects to and from JSON (see comment_json.h).
 *
 *   {"label": "ham", "content": "Nice post", "email": null, "form_age": 12}
 *
 * sets content to "Nice post" and form_age to "12" (as written), leaves the
 * e-mail out, and records the label; {"content": "a", "comment_content": "b"}
 * stops at the second member with CJ_OTHER_NAME. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "comment_json.h"

int cj_start(struct cj_state *s, thresh_comment *c, int want_label)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	s->want_label = want_label;
	s->label = -1;
	thresh_comment_reset(c);
	return thresh_comment_new(&s->given);
}

void cj_end(struct cj_state *s)
{
	thresh_comment_free(s->given);
	s->given = NULL;
}

size_t cj_field_max(const char *key)
{
	return !strcmp(key, "content") || !strcmp(key, "comment_content") ? THRESH_CONTENT_MAX
	                                                                   : THRESH_FIELD_MAX;
}

enum cj_reason cj_member(struct cj_state *s, const struct json_member *m)
{
	const char *old = NULL;
	if (strlen(m->key) != m->key_len)
		return CJ_UNKNOWN_FIELD;
	if (!strcmp(m->key, "label")) {
		if (s->seen_label++)
			return CJ_DUPLICATE;
		if (!s->want_label)
			return CJ_OK; /* a training record's label, checked: ignored */
		if (m->type == JSON_STRING && !strcmp(m->str, "spam"))
			s->label = THRESH_SPAM;
		else if (m->type == JSON_STRING && !strcmp(m->str, "ham"))
			s->label = THRESH_HAM;
		else
			return CJ_BAD_LABEL;
		return CJ_OK;
	}
	if (!thresh_comment_is_field(m->key))
		return CJ_UNKNOWN_FIELD;
	for (int i = 0; i < s->nseen; i++)
		if (!strcmp(s->seen[i], m->key))
			return CJ_DUPLICATE;
	/* every field name fits, and each is taken once: no key is ever left out */
	if (s->nseen < (int)(sizeof s->seen / sizeof s->seen[0]) && m->key_len < sizeof s->seen[0])
		memcpy(s->seen[s->nseen++], m->key, m->key_len + 1);
	/* given before under another name, with a value or null */
	if (!s->given)
		return CJ_NOMEM;
	if (thresh_comment_get(s->given, m->key, &old) == 0 && old)
		return CJ_OTHER_NAME;
	if (thresh_comment_set(s->given, m->key, "0", 1))
		return CJ_NOMEM;
	if (m->type == JSON_NULL)
		return CJ_OK;
	if (m->type != JSON_STRING && m->type != JSON_NUMBER)
		return CJ_BAD_TYPE;
	switch ((s->rc = thresh_comment_set(s->c, m->key, m->str, m->str_len))) {
	case 0:
		return CJ_OK;
	case THRESH_ENUL:
		return CJ_NUL;
	case THRESH_EUTF8:
		return CJ_BAD_UTF8;
	case THRESH_ETOOBIG:
		return CJ_TOO_LONG;
	case THRESH_ENOMEM:
		return CJ_NOMEM;
	case THRESH_EINVAL:
		if (!strcmp(m->key, "form_age"))
			return CJ_BAD_FORM_AGE;
		/* fall through */
	default:
		return CJ_REFUSED;
	}
}

void json_put_result(struct sbuf *b, const thresh_result *r, int tokens_always)
{
	size_t n = thresh_result_reason_count(r), nt = thresh_result_token_count(r);
	sb_puts(b, "{\"verdict\":\"");
	sb_puts(b, thresh_verdict_name(thresh_result_verdict(r)));
	sb_puts(b, "\",\"score\":");
	json_put_double(b, thresh_result_score(r));
	sb_printf(b, ",\"blatant\":%s,\"reasons\":[", thresh_result_blatant(r) ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		const char *s = thresh_result_reason(r, i);
		if (i)
			sb_puts(b, ",");
		json_put_string(b, s, strlen(s));
	}
	sb_puts(b, "],\"retry_after\":");
	json_put_double(b, thresh_result_retry_after(r));
	if (nt || tokens_always) {
		sb_puts(b, ",\"tokens\":[");
		for (size_t i = 0; i < nt; i++) {
			const char *text;
			double prob;
			uint64_t spam, ham;
			if (thresh_result_token(r, i, &text, &prob, &spam, &ham))
				continue;
			sb_puts(b, i ? ",{\"token\":" : "{\"token\":");
			json_put_string(b, text, strlen(text));
			sb_puts(b, ",\"prob\":");
			json_put_double(b, prob);
			sb_printf(b, ",\"spam\":%" PRIu64 ",\"ham\":%" PRIu64 "}", spam, ham);
		}
		sb_puts(b, "]");
	}
	sb_puts(b, "}\n");
}

const char *stats_from_name(int from)
{
	switch (from) {
	case THRESH_FROM_BLEND:
		return "blend";
	case THRESH_FROM_SITE:
		return "site";
	case THRESH_FROM_PINNED:
		return "pinned";
	default:
		return "new_site";
	}
}

void json_put_stats(struct sbuf *b, const thresh_stats *st)
{
	sb_printf(b,
	          "\"format_version\":%" PRIu32 ",\"tokenizer\":%" PRIu32 ",\"spam_messages\":%" PRIu64
	          ",\"ham_messages\":%" PRIu64 ",\"tokens\":%" PRIu64 ",\"learned\":%" PRIu64
	          ",\"legacy_learned\":%" PRIu64 ",\"map_size\":%" PRIu64 ",\"used_bytes\":%" PRIu64
	          ",\"prior\":{\"spam_messages\":",
	          st->format_version, st->tokenizer, st->spam_messages, st->ham_messages, st->tokens,
	          st->learned, st->legacy_learned, st->map_size, st->used_bytes);
	json_put_double(b, st->prior_spam_messages);
	sb_puts(b, ",\"ham_messages\":");
	json_put_double(b, st->prior_ham_messages);
	sb_puts(b, ",\"weight\":");
	json_put_double(b, st->prior_weight);
	sb_puts(b, ",\"counts_as\":");
	json_put_double(b, st->prior_comments);
	sb_printf(b, ",\"weight_by\":\"%s\"},\"site_share\":", st->prior_auto ? "site" : "prior_comments");
	json_put_double(b, st->site_share);
	if (st->size >= offsetof(thresh_stats, decisions_spam) + sizeof st->decisions_spam) {
		sb_puts(b, ",\"cutoffs\":{\"hold\":");
		json_put_double(b, st->hold_cutoff);
		sb_printf(b, ",\"hold_from\":\"%s\",\"hold_alpha\":", stats_from_name(st->hold_from));
		json_put_double(b, st->hold_alpha);
		sb_puts(b, ",\"reject\":");
		json_put_double(b, st->reject_cutoff);
		sb_printf(b, ",\"reject_from\":\"%s\",\"reject_alpha\":", stats_from_name(st->reject_from));
		json_put_double(b, st->reject_alpha);
		sb_printf(b, ",\"decisions\":%" PRIu64 ",\"decisions_spam\":%" PRIu64 "},\"calibration\":{\"nb_scale\":",
		          st->decisions, st->decisions_spam);
		json_put_double(b, st->nb_scale);
		sb_puts(b, ",\"nb_shift\":");
		json_put_double(b, st->nb_shift);
		sb_printf(b, ",\"from\":\"%s\"}", stats_from_name(st->calibration_from));
	}
	if (st->cluster) {
		sb_printf(b,
		          ",\"cluster\":{\"redis_up\":%s,\"outbox\":%" PRIu64 ",\"seq\":%" PRIu64
		          ",\"lag_events\":%" PRIu64 ",\"rate_fallbacks\":%" PRIu64 ",\"lag_seconds\":",
		          st->redis_up ? "true" : "false", st->outbox, st->cluster_seq, st->lag_events,
		          st->rate_fallbacks);
		json_put_double(b, st->lag_seconds);
		sb_puts(b, "}");
	}
}

int json_put_params(struct sbuf *b, thresh_db *db)
{
	const char *name;
	sb_puts(b, "\"params\":{");
	for (size_t i = 0; (name = thresh_db_param_name(i)); i++) {
		double v;
		int rc = thresh_db_param_get(db, name, &v);
		if (rc)
			return rc;
		sb_printf(b, "%s\"%s\":", i ? "," : "", name);
		json_put_double(b, v);
	}
	sb_puts(b, "}");
	return 0;
}
