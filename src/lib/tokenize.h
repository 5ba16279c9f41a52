/* tokenize.h - turn a comment into the distinct token ids the model counts.
 *
 * The tokenizer is a pure function of the comment, the feature set and the
 * keys: no I/O, no global state. Token text is kept beside the ids so a
 * check can explain itself; the database only ever sees the ids.
 *
 * Identity tokens, those that name a person or a network (the author's
 * name and its words, the e-mail's domain, the host and domain of the
 * author's URL, the IP's /24 or /48, and e-mail addresses in the text), are
 * hashed under the site's identity key (hash.h, site_keys) instead of the
 * model key, which ships with the default model and so is public: whoever
 * holds a copy of the model can then not test a guessed name or address
 * against it. Their texts are kept only as placeholders ("ip24:…"), so no
 * explanation shows an identity either. Without an identity key (the prior's
 * training, a database without a secret) they are left out. */
#ifndef THRESH_TOKENIZE_H
#define THRESH_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>
#include "hash.h"

struct thresh_comment;

/* Feature families (bits of the model's "tokenizer" setting, stored in meta;
 * append-only: a model made with a set keeps meaning the same thing). */
#define TOK_F_WORDS 0x01u     /* words, numbers shapes, punctuation runs, emoji (always on) */
#define TOK_F_PAIRS 0x02u     /* adjacent word pairs */
#define TOK_F_URLS 0x04u      /* URL whole, host, registered domain; e-mail addresses */
#define TOK_F_META 0x08u      /* author, e-mail domain, URL host, IP prefix, link count, ... */
#define TOK_F_CHARGRAMS 0x10u /* character 4-grams of the normalized content */
#define TOK_F_SHAPE 0x20u     /* capitalisation, length and other shape buckets */

/* The feature set of a new model. */
#define TOK_F_DEFAULT \
	(TOK_F_WORDS | TOK_F_PAIRS | TOK_F_URLS | TOK_F_META | TOK_F_SHAPE | TOK_F_CHARGRAMS)

/* Distinct links counted in content, at most this many. */
#define TOK_LINKS_MAX 32

/* Token ids of one comment, distinct, in the order first seen.
 *
 * While a comment is read its tokens are appended as they come, duplicates
 * and all, each text packed the way SipHash reads it; their ids are made
 * together, a batch at a time (sip.h: eight short texts at once), and the
 * batch is then merged into the distinct tokens before it, in order,
 * through an open-addressing set of the ids. */
struct tok_batch;
typedef struct tok_list {
	uint64_t *ids;     /* n ids */
	uint32_t *off;     /* off[i], len[i]: token i's text inside text */
	uint32_t *len;
	unsigned char *gram; /* gram[i]: token i is a character n-gram (weighted apart) */
	unsigned char *ident; /* ident[i]: token i is an identity token (hashed by the identity key) */
	size_t n, cap;
	unsigned links;    /* distinct URLs in the content (href targets included), <= TOK_LINKS_MAX */
	int notext;        /* set by the caller: keep ids only, no texts (off, len are 0) */
	char *text;        /* token texts, back to back, not NUL-terminated */
	size_t text_len, text_cap;
	/* tokens [done, n) are the batch, their ids not made yet (but those
	 * of identity tokens and long texts); [0, done) are distinct */
	size_t done;
	uint64_t *seen;    /* open-addressing set of ids[0..done) but 0 */
	size_t seen_cap;
	int zero;          /* an id of 0 is among ids[0..done) */
	struct tok_batch *batch;
} tok_list;

/* tok_list_init - an empty list. Cannot fail. */
void tok_list_init(tok_list *t);
/* tok_list_clear - empty the list, keeping its memory. Cannot fail. */
void tok_list_clear(tok_list *t);
/* tok_list_free - release the list's memory. Accepts a zeroed list. */
void tok_list_free(tok_list *t);

/* tok_comment - append the tokens of every field of c to out (after
 * tok_list_clear, so out holds exactly this comment's distinct tokens).
 * [in] features  TOK_F_* bits of the model.
 * [in] key       the model key, for hash_token().
 * [in] ident     the identity key for identity tokens, or NULL to leave them out.
 * Field values are already checked for UTF-8, NUL and size when set, but
 * tok_comment trusts only what thresh_comment_set recorded as checked
 * (comment_int.h, checked): a value written into the record otherwise is
 * checked again, and bad UTF-8 gives THRESH_EUTF8.
 * Returns 0, THRESH_EUTF8 or THRESH_ENOMEM; on error out is cleared. */
int tok_comment(tok_list *out, const struct thresh_comment *c, uint32_t features,
                const unsigned char key[HASH_MODEL_KEY_BYTES], const unsigned char *ident);

/* TOK_IP24_MAX - the longest "ip24:a.b.c" text, without a NUL. */
#define TOK_IP24_MAX 16

/* tok_ip24_text - the text of the identity token of the /24 a.b.c, as
 * tok_comment makes it, into out (TOK_IP24_MAX bytes). Returns its length.
 * Cannot fail. */
size_t tok_ip24_text(char out[TOK_IP24_MAX], unsigned a, unsigned b, unsigned c);

#endif
