/* moderate.c - site rules and identities. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "comment_int.h"
#include "fold.h"
#include "moderate.h"

static void add(mod_out *o, const char *reason, thresh_verdict v)
{
	if (o->nreasons < MOD_MAX_REASONS)
		o->reasons[o->nreasons++] = reason;
	if (v > o->verdict)
		o->verdict = v;
}

/* The fields WordPress matches its word lists against. */
static const enum comment_field word_fields[] = {F_CONTENT, F_AUTHOR, F_EMAIL, F_URL, F_IP,
                                                  F_USER_AGENT};
#define NWF (sizeof word_fields / sizeof word_fields[0])

/* any_word - 1 when a word of the list occurs in a folded field. */
static int any_word(char *const *words, size_t n, char *const *folded)
{
	for (size_t w = 0; w < n; w++)
		for (size_t f = 0; f < NWF; f++)
			if (folded[f] && strstr(folded[f], words[w]))
				return 1;
	return 0;
}

int moderate_decide(const mod_in *in, mod_out *o)
{
	const conf *cf = in->cf;
	const struct thresh_comment *c = in->c;
	memset(o, 0, sizeof *o);
	o->verdict = THRESH_ACCEPT;

	if (cf->honeypot && c->val[F_HONEYPOT] && c->len[F_HONEYPOT]) {
		add(o, "honeypot", THRESH_REJECT);
		o->blatant = 1;
	}

	int mod_hit = 0, bad_hit = 0;
	if (cf->n_mod || cf->n_bad) {
		char *folded[NWF] = {0};
		int rc = 0;
		for (size_t f = 0; f < NWF; f++) {
			enum comment_field k = word_fields[f];
			if (c->val[k] && !(folded[f] = fold_dup(c->val[k], c->len[k])))
				rc = THRESH_ENOMEM;
		}
		if (!rc) {
			bad_hit = any_word(cf->bad_words, cf->n_bad, folded);
			mod_hit = any_word(cf->mod_words, cf->n_mod, folded);
		}
		for (size_t f = 0; f < NWF; f++)
			free(folded[f]);
		if (rc)
			return rc;
	}
	if (bad_hit)
		add(o, "disallowed_word", THRESH_REJECT);

	if (in->rate_checked && !in->rate_allowed) {
		add(o, "rate_limited", cf->rate_action == ACT_HOLD ? THRESH_HOLD : THRESH_REJECT);
		o->retry_after = in->retry_after;
	}
	if (in->rate_checked && in->rate_local)
		add(o, "rate_local", THRESH_ACCEPT); /* says how the rate was judged; decides nothing */

	if (in->learned == 1)
		add(o, "learned_spam", THRESH_REJECT);
	if (in->learned == 0) {
		/* the moderator's word on this very comment stands over the score
		 * and the rules that only ask for a look */
		add(o, "learned_ham", THRESH_ACCEPT);
		return 0;
	}

	int trusted = in->known && cf->trust_approved && in->author.approved >= cf->trust_approved &&
	              in->author.approved > in->author.spam;
	if (in->score >= in->reject && (double)in->seen < in->min_seen) {
		/* sure, but of a comment the model knows too little of */
		add(o, "bayes", THRESH_HOLD);
		add(o, "unfamiliar", THRESH_HOLD);
	} else if (in->score >= in->reject) {
		add(o, "bayes", THRESH_REJECT);
		if (in->score >= in->blatant)
			o->blatant = 1;
	} else if (in->score >= in->hold) {
		if (trusted && in->score < cf->trust_max_score)
			add(o, "trusted_author", THRESH_ACCEPT);
		else
			add(o, "bayes", THRESH_HOLD);
	}

	if (cf->hold_links && in->links >= cf->hold_links)
		add(o, "too_many_links", THRESH_HOLD);
	if (mod_hit)
		add(o, "moderation_word", THRESH_HOLD);
	if (cf->min_form_seconds > 0 && c->val[F_FORM_AGE] && c->form_age < cf->min_form_seconds)
		add(o, "too_fast", THRESH_HOLD);
	if (cf->first_comment && in->has_identity && !in->known && in->score >= cf->first_comment_max_score)
		add(o, "first_comment", THRESH_HOLD);
	if (in->known && in->author.spam > in->author.approved)
		add(o, "author_spam", THRESH_HOLD);
	return 0;
}

/* norm_email - "e:" + the trimmed, case-folded address without its +tag. */
static int norm_email(const char *s, size_t n, char *buf, size_t size)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (!n)
		return 0;
	char *f = fold_dup(s, n);
	if (!f)
		return THRESH_ENOMEM;
	char *at = strrchr(f, '@');
	char *plus = strchr(f, '+');
	size_t local = at ? (size_t)(at - f) : strlen(f);
	if (plus && plus < f + local)
		local = (size_t)(plus - f);
	int k = snprintf(buf, size, "e:%.*s%s", (int)local, f, at ? at : "");
	free(f);
	if (k < 0 || (size_t)k >= size)
		return THRESH_ETOOBIG;
	return k;
}

/* norm_ip - "i:" + IPv4 in dotted form, or the /64 of an IPv6 address
 * (an IPv4-mapped address counts as IPv4); anything else as folded text. */
static int norm_ip(const char *s, size_t n, char *buf, size_t size)
{
	char tmp[64];
	unsigned char a[16];
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n)
		return 0;
	int k;
	if (n < sizeof tmp) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char out[INET6_ADDRSTRLEN];
		if (inet_pton(AF_INET, tmp, a) == 1) {
			inet_ntop(AF_INET, a, out, sizeof out);
			k = snprintf(buf, size, "i:%s", out);
			return k < 0 || (size_t)k >= size ? THRESH_ETOOBIG : k;
		}
		if (inet_pton(AF_INET6, tmp, a) == 1) {
			static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
			if (!memcmp(a, mapped, 12)) {
				inet_ntop(AF_INET, a + 12, out, sizeof out);
			} else {
				memset(a + 8, 0, 8);
				inet_ntop(AF_INET6, a, out, sizeof out);
				strcat(out, "/64");
			}
			k = snprintf(buf, size, "i:%s", out);
			return k < 0 || (size_t)k >= size ? THRESH_ETOOBIG : k;
		}
	}
	char *f = fold_dup(s, n);
	if (!f)
		return THRESH_ENOMEM;
	k = snprintf(buf, size, "i:%s", f);
	free(f);
	return k < 0 || (size_t)k >= size ? THRESH_ETOOBIG : k;
}

int identity_normalize(const struct thresh_comment *c, char *buf, size_t size)
{
	int k = 0;
	if (c->val[F_EMAIL])
		k = norm_email(c->val[F_EMAIL], c->len[F_EMAIL], buf, size);
	if (k == 0 && c->val[F_IP])
		k = norm_ip(c->val[F_IP], c->len[F_IP], buf, size);
	return k;
}

int identity_key(const unsigned char secret[HASH_SECRET_BYTES], const struct thresh_comment *c,
                 unsigned char out[HASH_ID_BYTES])
{
	char buf[THRESH_FIELD_MAX * 3 + 8];
	int k = identity_normalize(c, buf, sizeof buf);
	if (k <= 0)
		return k == THRESH_ETOOBIG ? 0 : k;
	hash_identity(secret, buf[0], buf + 2, (size_t)k - 2, out);
	hash_wipe(buf, (size_t)k);
	return 1;
}
