/* moderate.h - from a score and the site's rules to one verdict.
 *
 * moderate_decide() is pure: everything it needs (score, link count, the
 * author's record, the rate limiter's answer) is gathered by the check first,
 * so every rule can be tested from a table. Reasons are stable names:
 *   honeypot         the form's honeypot field was filled        reject, blatant
 *   disallowed_word  a disallowed word in any field              reject
 *   rate_limited     the author, or the IP address (an IPv6 /64) it posts
 *                    from, posts faster than its rate            reject or hold
 *   rate_ip          with rate_limited: the address's rate (ip_rate_limit)
 *                    was passed, whatever the author's was (informational)
 *   rate_local       a node of a cluster judged the rate alone, at its
 *                    share (rate / nodes), because Redis was away or slow
 *                    (informational: it changes no verdict)
 *   bayes            the score is at or over a cutoff           hold or reject
 *   unfamiliar       over the reject cutoff, but on fewer than
 *                    reject_min_tokens tokens the model has seen  hold
 *   too_many_links   hold_links or more links                    hold
 *   moderation_word  a moderation word in any field              hold
 *   too_fast         the form came back faster than allowed      hold
 *   first_comment    an author's first comment, not clearly ham  hold
 *   author_spam      the author has more spam than approved      hold
 *   trusted_author   an approved author: the score alone does not hold
 *   learned_ham      this exact comment (content, author, e-mail, URL) was
 *                    learned as ham: accepted whatever the score and the
 *                    soft rules (honeypot, words and rate still apply)
 *   learned_spam     ... learned as spam                            reject
 */
#ifndef THRESH_MODERATE_H
#define THRESH_MODERATE_H

#include <stddef.h>
#include <stdint.h>

#include "thresh/check.h"
#include "config.h"
#include "hash.h"

#define MOD_MAX_REASONS 16

/* An author's record in the `authors` database, keyed by hashed identity. */
typedef struct author_rec {
	uint32_t approved;  /* comments learned as ham */
	uint32_t spam;      /* comments learned as spam */
	uint32_t first_day; /* days since the epoch */
	uint32_t last_day;
} author_rec;

typedef struct mod_in {
	const conf *cf;
	const struct thresh_comment *c;
	double score, hold, reject, blatant; /* score and the cutoffs in force */
	size_t seen;       /* the comment's tokens the model has seen */
	int learned;       /* -1, or the label this exact comment was learned under */
	double min_seen;   /* a reject on the score needs this many (reject_min_tokens) */
	unsigned links;
	int has_identity;  /* an e-mail or IP was given */
	int known;         /* ... and the author has a record */
	author_rec author;
	int rate_checked;  /* the rate limiter ran */
	int rate_allowed;
	int rate_local;    /* ... by the local fallback of a cluster node */
	int rate_ip;       /* ... and the IP address's bucket refused the comment */
	double retry_after;
} mod_in;

typedef struct mod_out {
	thresh_verdict verdict;
	int blatant;
	double retry_after;
	const char *reasons[MOD_MAX_REASONS];
	size_t nreasons;
} mod_out;

/* moderate_decide - the verdict, the reasons that fired, the blatant flag.
 * Returns 0 or THRESH_ENOMEM (word matching folds the fields' case). */
int moderate_decide(const mod_in *in, mod_out *out);

/* identity_key - the author key of a comment: its e-mail normalized
 * (trimmed, case-folded, "+tag" dropped), or without one its IP (IPv4 whole,
 * IPv6 reduced to its /64), hashed with the secret. However long the
 * normalized text grows (folding can make it 11 times the field), it is
 * the identity: no e-mail leaves its author without one. Returns 1 with out
 * filled, 0 when the comment has neither, or THRESH_ENOMEM. */
int identity_key(const unsigned char secret[HASH_SECRET_BYTES], const struct thresh_comment *c,
                 unsigned char out[HASH_ID_BYTES]);

/* address_key - the key of a comment's IP address for its rate: the IP
 * normalized as identity_key does (IPv4 whole, IPv6 reduced to its /64),
 * hashed with the secret as a kind of its own, so it never equals the key
 * of the author known by that same IP. Returns 1 with out filled, 0 when
 * the comment has no IP, or THRESH_ENOMEM. */
int address_key(const unsigned char secret[HASH_SECRET_BYTES], const struct thresh_comment *c,
                unsigned char out[HASH_ID_BYTES]);

/* identity_normalize - the normalized identity text that identity_key
 * hashes ("e:ann@example.org", "i:192.0.2.7", "i:2001:db8:1:2::/64") into
 * buf. Returns its length, 0 when none, THRESH_ENOMEM, or THRESH_ETOOBIG
 * when it does not fit in buf (identity_key has no such limit). */
int identity_normalize(const struct thresh_comment *c, char *buf, size_t size);

#endif
