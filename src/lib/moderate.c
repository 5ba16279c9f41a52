/* moderate.c - site rules and identities. */
#include <arpa/inet.h>
#include <limits.h>
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
		if (in->rate_ip)
			add(o, "rate_ip", THRESH_ACCEPT); /* says which rate: the address's */
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

/* trimmed - s[0..*n) without the characters of `space` at either end. */
static const char *trimmed(const char *s, size_t *n, const char *space)
{
	while (*n && strchr(space, *s))
		s++, (*n)--;
	while (*n && strchr(space, s[*n - 1]))
		(*n)--;
	return s;
}

/* joined - a new string of prefix then a[0..na) then b (NUL-terminated), its
 * length in *len, or NULL when out of memory. */
static char *joined(const char *prefix, const char *a, size_t na, const char *b, size_t *len)
{
	size_t np = strlen(prefix), nb = strlen(b);
	char *s = malloc(np + na + nb + 1);
	if (!s)
		return NULL;
	memcpy(s, prefix, np);
	memcpy(s + np, a, na);
	memcpy(s + np + na, b, nb + 1);
	*len = np + na + nb;
	return s;
}

/* norm_email - "e:" + the trimmed, case-folded address without its +tag, as
 * a new string (*out, its length in *len). Folding may make it far longer
 * than the field (U+FDFA folds to 18 characters, 33 bytes), so the length is
 * the text's, never a fixed buffer's: an address too long for one must not
 * leave its author without an identity. Returns 1, 0 when the field is
 * blank, or THRESH_ENOMEM. */
static int norm_email(const char *s, size_t n, char **out, size_t *len)
{
	s = trimmed(s, &n, " \t\r\n");
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
	*out = joined("e:", f, local, at ? at : "", len);
	free(f);
	return *out ? 1 : THRESH_ENOMEM;
}

/* dotted - IPv4 address a as inet_ntop writes it ("192.0.2.7"), into ip
 * (16 bytes), without its printf: every check spells its author's address
 * once or twice. Returns ip. */
static char *dotted(const unsigned char a[4], char ip[16])
{
	char *p = ip;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return ip;
}

/* norm_ip - "i:" + IPv4 in dotted form, or the /64 of an IPv6 address
 * (an IPv4-mapped address counts as IPv4); anything else as folded text;
 * as norm_email. */
static int norm_ip(const char *s, size_t n, char **out, size_t *len)
{
	char tmp[64];
	unsigned char a[16];
	s = trimmed(s, &n, " \t");
	if (!n)
		return 0;
	if (n < sizeof tmp) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char ip[INET6_ADDRSTRLEN + 8];
		if (inet_pton(AF_INET, tmp, a) == 1) {
			dotted(a, ip);
			*out = joined("i:", ip, strlen(ip), "", len);
			return *out ? 1 : THRESH_ENOMEM;
		}
		if (inet_pton(AF_INET6, tmp, a) == 1) {
			static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
			if (!memcmp(a, mapped, 12)) {
				dotted(a + 12, ip);
			} else {
				memset(a + 8, 0, 8);
				inet_ntop(AF_INET6, a, ip, sizeof ip);
				strcat(ip, "/64");
			}
			*out = joined("i:", ip, strlen(ip), "", len);
			return *out ? 1 : THRESH_ENOMEM;
		}
	}
	char *f = fold_dup(s, n);
	if (!f)
		return THRESH_ENOMEM;
	*out = joined("i:", f, strlen(f), "", len);
	free(f);
	return *out ? 1 : THRESH_ENOMEM;
}

/* identity_text - the normalized identity (the e-mail's, else the IP's) as
 * a new string; as norm_email. */
static int identity_text(const struct thresh_comment *c, char **out, size_t *len)
{
	int k = 0;
	if (c->val[F_EMAIL])
		k = norm_email(c->val[F_EMAIL], c->len[F_EMAIL], out, len);
	if (k == 0 && c->val[F_IP])
		k = norm_ip(c->val[F_IP], c->len[F_IP], out, len);
	return k;
}

int identity_normalize(const struct thresh_comment *c, char *buf, size_t size)
{
	char *s;
	size_t n;
	int k = identity_text(c, &s, &n);
	if (k <= 0)
		return k;
	k = n < size && n <= INT_MAX ? (int)n : THRESH_ETOOBIG;
	if (k > 0)
		memcpy(buf, s, n + 1);
	hash_wipe(s, n);
	free(s);
	return k;
}

/* keyed - s (a normalized identity, "e:..." or "i:...") hashed under the
 * secret as kind, then wiped and freed. */
static void keyed(const unsigned char secret[HASH_SECRET_BYTES], char kind, char *s, size_t n,
                  unsigned char out[HASH_ID_BYTES])
{
	hash_identity(secret, kind, s + 2, n - 2, out);
	hash_wipe(s, n);
	free(s);
}

int identity_key(const unsigned char secret[HASH_SECRET_BYTES], const struct thresh_comment *c,
                 unsigned char out[HASH_ID_BYTES])
{
	char *s;
	size_t n;
	int k = identity_text(c, &s, &n);
	if (k > 0)
		keyed(secret, s[0], s, n, out);
	return k;
}

int address_key(const unsigned char secret[HASH_SECRET_BYTES], const struct thresh_comment *c,
                unsigned char out[HASH_ID_BYTES])
{
	char *s;
	size_t n;
	int k = c->val[F_IP] ? norm_ip(c->val[F_IP], c->len[F_IP], &s, &n) : 0;
	if (k > 0)
		keyed(secret, 'a', s, n, out);
	return k;
}
