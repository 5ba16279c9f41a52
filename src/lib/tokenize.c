/* tokenize.c - turn a comment into the distinct token ids the model counts:
 * the token rules. The text work it builds on lives beside it: utf8.c
 * (src/common: validation, encoding), html.c (entities, tags, link targets),
 * fold.c (NFKC, case folding, ALL-CAPS counting) and url.c (URLs, hosts,
 * registered domains).
 *
 * tok_comment() reads every field of a comment in four steps:
 *
 *   1. every set field is checked for well-formed UTF-8 (THRESH_EUTF8);
 *   2. content only: HTML entities are decoded and tags dropped, link
 *      targets (href, src) kept in place of their tag (html_strip);
 *   3. each field is normalized: NFKC, case-folded, with the
 *      default-ignorable code points removed, into an array of code points
 *      (fold_text); ALL-CAPS words are counted on the way in, before folding;
 *   4. content is scanned once, left to right (scan_content); the other
 *      fields give prefixed metadata tokens (meta).
 *
 * Each token text is built in a small stack buffer (struct tb) and appended
 * to the list; the ids are made a batch at a time and only the first of
 * each kept (tokenize.h, tok_list). The only allocations are the list's own
 * growing arrays and, for fields over 1 KiB, one scratch buffer per call.
 *
 * Token texts (all case-folded NFKC; <w> is a word as below):
 *
 *   family        text                          example
 *   words         <w>                           free, don't, tkts21st, привет
 *                 num:<digit count> (20+ max)   "12345" -> num:5
 *                 long:<alpha|alnum>:<40|64|128|256>  a word over 40 bytes
 *                 phone:<digit count>           "555-123-4567" -> phone:10
 *                 punct:<first 3>[+]            "!!!!!" -> punct:!!!+
 *                 emoji:<ch>, has:emoji         emoji:🎁, a flag is one emoji
 *                 cjk:<bigram> | cjk:<char>     "東京都" -> cjk:東京 cjk:京都
 *   TOK_F_PAIRS   pair:<w> <w>                  pair:free money
 *   TOK_F_URLS    url:<url without scheme>      url:bit.ly/xyz
 *                 url-host:<host>               url-host:www.example.co.uk
 *                 url-domain:<registered dom.>  url-domain:example.co.uk
 *                 url-path:watch                YouTube-style watch?v=
 *                 email:<addr>*, email-domain:<domain>
 *                 (plus the words of a URL's path, as words)
 *   TOK_F_CHARGRAMS cx:<4 code points>          " free " -> cx: fre, cx:free, cx:ree 
 *                 over the whole normalized content, spaces collapsed
 *   TOK_F_SHAPE   shape:caps:<0|1|2|3+>         ALL-CAPS words of 3+ letters
 *                 shape:len:<0-19|20-49|50-99|100-199|200-499|500+>  content bytes
 *   TOK_F_META    author:<name>*, author-word:<w>*
 *                 email-domain:<domain>* (or has:bad-email)
 *                 url-host:*, url-domain:*, has:author-url   (the url field)
 *                 ip24:<a.b.c>*, ip48:<x:x:x>* (or ip:invalid)
 *                 ua:<first product name> (or ua:empty)
 *                 ref-host:<host>, type:<v>, lang:<v> (one per listed language)
 *                 links:<0|1|2|3+>              distinct URLs in content
 *
 * The tokens marked * are identity tokens (tokenize.h): hashed under the
 * identity key, or left out without one, and their texts kept as
 * placeholders ("author:…"). The others are hashed under the model key; a
 * host or domain of a link in the content is not an identity token, the
 * host of the author's own URL is.
 *
 * Words are runs of letters, digits and marks with internal apostrophes
 * (U+2019 becomes '). Unspaced scripts (Han, Hiragana, Katakana, Thai, Lao,
 * Khmer, Myanmar) give overlapping bigrams instead; Hangul is spaced and gives
 * words. A URL, an e-mail address or an unspaced run ends the word sequence
 * that pairs are made of; punctuation and emoji do not.
 *
 * Everything is bounded: detectors that look ahead remember where a failed
 * look-ahead ended, so scanning stays linear in the input whatever it holds. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* inet_pton */
#endif
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <utf8proc.h>

#include "thresh/error.h"
#include "comment_int.h"
#include "ascii.h"
#include "fold.h"
#include "html.h"
#include "sip.h"
#include "tokenize.h"
#include "url.h"
#include "utf8.h"

#define WORD_MAX 40    /* bytes of a word token; longer ones become long: shapes */
#define NUM_MAX 20     /* num:<digits> counts up to this, then "20+" */
#define URL_MAX 256    /* bytes of a url: body */
#define META_MAX 128   /* bytes of author:, type:, email-domain:, ... bodies */
#define TB_CAP 320     /* the largest token text: prefix + body */
#define SMALL 1024     /* scratch held on the stack before going to the heap */


/* ---------------------------------------------------------------- tok_list */

/* TOK_BATCH - tokens read before their ids are made and merged: most
 * comments in one batch, and a long comment's batch in a few KiB. */
#define TOK_BATCH 256

struct tok_batch {
	/* the short texts of the batch packed for SipHash, by their number of
	 * blocks (1 to 3): pack[b - 1][j] is token at[b - 1][j]'s */
	sip_short pack[3][TOK_BATCH];
	uint32_t at[3][TOK_BATCH];
	unsigned count[3];
	uint64_t id[TOK_BATCH];
};

void tok_list_init(tok_list *t)
{
	if (t)
		memset(t, 0, sizeof *t);
}

/* seen_slot - the slot holding id, or the empty slot where it would go.
 * Ids are keyed SipHash values, so their low bits index well as they are;
 * 0 marks an empty slot (an id of 0 is kept out of the set: t->zero). */
static size_t seen_slot(const tok_list *t, uint64_t id)
{
	size_t mask = t->seen_cap - 1, i = (size_t)id & mask;
	while (t->seen[i] != 0 && t->seen[i] != id)
		i = (i + 1) & mask;
	return i;
}

/* The set always holds exactly the non-zero ids[0..done), inserted in that
 * order into a table with linear probing. Removing them in reverse order
 * undoes each insertion exactly, so a large table (a long comment's, kept)
 * is emptied in O(done); a table of a few KiB is simply zeroed. */
void tok_list_clear(tok_list *t)
{
	if (!t)
		return;
	if (t->seen_cap) {
		if (t->done * 8 >= t->seen_cap || t->seen_cap <= 1024)
			memset(t->seen, 0, t->seen_cap * sizeof *t->seen);
		else
			for (size_t i = t->done; i-- > 0;)
				if (t->ids[i])
					t->seen[seen_slot(t, t->ids[i])] = 0;
	}
	if (t->batch)
		memset(t->batch->count, 0, sizeof t->batch->count);
	t->n = t->done = 0;
	t->zero = 0;
	t->text_len = 0;
	t->links = 0;
}

void tok_list_free(tok_list *t)
{
	if (!t)
		return;
	free(t->ids);
	free(t->off);
	free(t->len);
	free(t->gram);
	free(t->ident);
	free(t->text);
	free(t->seen);
	free(t->batch);
	memset(t, 0, sizeof *t);
}

/* seen_grow - room in the set for done + more ids, at most half full: a
 * larger table, ids[0..done) inserted again in order. Returns 0 or
 * THRESH_ENOMEM, leaving the set unchanged. */
static int seen_grow(tok_list *t, size_t more)
{
	size_t want = (t->done + more) * 2, cap = t->seen_cap ? t->seen_cap : 256;
	while (cap < want)
		cap *= 2;
	if (cap == t->seen_cap)
		return 0;
	uint64_t *s = calloc(cap, sizeof *s);
	if (!s)
		return THRESH_ENOMEM;
	free(t->seen);
	t->seen = s;
	t->seen_cap = cap;
	for (size_t i = 0; i < t->done; i++)
		if (t->ids[i])
			t->seen[seen_slot(t, t->ids[i])] = t->ids[i];
	return 0;
}

/* tok_flush - make the ids of the batch, tokens [done, n), under key, and
 * keep those new to the list, in order, moved down to follow ids[0..done).
 * Returns 0 or THRESH_ENOMEM (the list as it was). */
static int tok_flush(tok_list *t, const unsigned char *key)
{
	size_t from = t->done, n = t->n;
	if (from == n)
		return 0;
	if (seen_grow(t, n - from))
		return THRESH_ENOMEM;
	struct tok_batch *b = t->batch;
	sip_key k = sip_key_load(key);
	for (unsigned g = 0; g < 3; g++) {
		sip_many(k, b->pack[g], b->count[g], g + 1, b->id);
		for (unsigned j = 0; j < b->count[g]; j++)
			t->ids[b->at[g][j]] = b->id[j];
		b->count[g] = 0;
	}
	/* merge: each id new to the list moves down, its text too */
	size_t w = from, tw = from ? t->off[from - 1] + t->len[from - 1] : 0;
	for (size_t i = from; i < n; i++) {
		uint64_t id = t->ids[i];
		if (id == 0) { /* a 2^-64 chance, kept out of the set */
			if (t->zero)
				continue;
			t->zero = 1;
		} else {
			size_t slot = seen_slot(t, id);
			if (t->seen[slot] == id)
				continue;
			t->seen[slot] = id;
		}
		if (!t->notext) {
			memmove(t->text + tw, t->text + t->off[i], t->len[i]);
			t->off[w] = (uint32_t)tw;
			t->len[w] = t->len[i];
			tw += t->len[i];
		}
		t->ids[w] = id;
		t->gram[w] = t->gram[i];
		t->ident[w] = t->ident[i];
		w++;
	}
	t->n = t->done = w;
	t->text_len = tw;
	return 0;
}

/* IDENT_MARK - what stands for an identity token's value in its text. */
#define IDENT_MARK "\xe2\x80\xa6" /* U+2026 HORIZONTAL ELLIPSIS */

/* tok_grow_slow - the arrays grown, the batch made. Returns 0 or
 * THRESH_ENOMEM. */
static int tok_grow_slow(tok_list *t)
{
	if (!t->batch) {
		/* 23 KiB, of which only the counts need be zero: a list used for
		 * one comment (a view of its own) does not clear the rest */
		if (!(t->batch = malloc(sizeof *t->batch)))
			return THRESH_ENOMEM;
		memset(t->batch->count, 0, sizeof t->batch->count);
	}
	if (t->n < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : 64;
	uint64_t *ids = realloc(t->ids, cap * sizeof *ids);
	if (!ids)
		return THRESH_ENOMEM;
	t->ids = ids;
	uint32_t *off = realloc(t->off, cap * sizeof *off);
	if (!off)
		return THRESH_ENOMEM;
	t->off = off;
	uint32_t *len = realloc(t->len, cap * sizeof *len);
	if (!len)
		return THRESH_ENOMEM;
	t->len = len;
	unsigned char *gram = realloc(t->gram, cap);
	if (!gram)
		return THRESH_ENOMEM;
	t->gram = gram;
	unsigned char *idf = realloc(t->ident, cap);
	if (!idf)
		return THRESH_ENOMEM;
	t->ident = idf;
	t->cap = cap;
	return 0;
}

/* tok_grow - room for one more token. Returns 0 or THRESH_ENOMEM. */
static inline int tok_grow(tok_list *t)
{
	return t->n < t->cap && t->batch ? 0 : tok_grow_slow(t);
}

/* tok_text - s[0..n) as the text of token i. Returns 0 or THRESH_ENOMEM. */
static int tok_text(tok_list *t, size_t i, const char *s, size_t n)
{
	if (n > t->text_cap - t->text_len) {
		size_t cap = t->text_cap ? t->text_cap : 1024;
		while (cap - t->text_len < n)
			cap *= 2;
		if (cap > (size_t)UINT32_MAX)
			return THRESH_ENOMEM; /* offsets are 32-bit */
		char *p = realloc(t->text, cap);
		if (!p)
			return THRESH_ENOMEM;
		t->text = p;
		t->text_cap = cap;
	}
	memcpy(t->text + t->text_len, s, n);
	t->off[i] = (uint32_t)t->text_len;
	t->len[i] = (uint32_t)n;
	t->text_len += n;
	return 0;
}

/* tok_add - append the token s[0..n), of which room bytes can be read.
 * Its id is made under ikey now for an identity token (whose text is then
 * only its prefix up to the first ':' and IDENT_MARK), under key now for a
 * text too long to pack, else under key with its batch; a full batch is
 * flushed. Returns 0 or THRESH_ENOMEM. */
static int tok_add(tok_list *t, const unsigned char *key, const char *s, size_t n, size_t room,
                   const unsigned char *ikey, int gram)
{
	if (tok_grow(t))
		return THRESH_ENOMEM;
	size_t i = t->n;
	t->ids[i] = 0;
	t->gram[i] = (unsigned char)gram;
	t->ident[i] = ikey != NULL;
	t->off[i] = t->len[i] = 0;
	if (ikey) {
		t->ids[i] = hash_token(ikey, s, n);
		if (!t->notext) {
			char mark[TB_CAP + sizeof IDENT_MARK];
			const char *colon = memchr(s, ':', n);
			size_t p = colon ? (size_t)(colon - s) + 1 : 0;
			memcpy(mark, s, p);
			memcpy(mark + p, IDENT_MARK, sizeof IDENT_MARK - 1);
			if (tok_text(t, i, mark, p + sizeof IDENT_MARK - 1))
				return THRESH_ENOMEM;
		}
	} else {
		if (!t->notext && tok_text(t, i, s, n))
			return THRESH_ENOMEM;
		if (n > SIP_SHORT_MAX) {
			t->ids[i] = hash_token(key, s, n);
		} else {
			struct tok_batch *b = t->batch;
			unsigned g = sip_blocks(n) - 1, j = b->count[g]++;
			if (room >= sizeof(sip_short))
				sip_pack_padded(&b->pack[g][j], (const unsigned char *)s, n);
			else
				sip_pack(&b->pack[g][j], s, n);
			b->at[g][j] = (uint32_t)i;
		}
	}
	t->n++;
	return t->n - t->done >= TOK_BATCH ? tok_flush(t, key) : 0;
}

/* tok_add_gram4 - tok_add of the gram "cx:" + four ASCII characters, the
 * commonest token of all (its first character in the low byte of four):
 * its SipHash block is made from them at once. */
static int tok_add_gram4(tok_list *t, const unsigned char *key, uint32_t four)
{
	/* "cx:" in the low bytes, the text's length (7) in the top one */
	const uint64_t cx = 0x63 | 0x78 << 8 | 0x3a << 16 | (uint64_t)7 << 56;
	if (tok_grow(t))
		return THRESH_ENOMEM;
	size_t i = t->n;
	t->ids[i] = 0;
	t->gram[i] = 1;
	t->ident[i] = 0;
	t->off[i] = t->len[i] = 0;
	if (!t->notext) {
		char s[7] = {'c', 'x', ':', (char)(four & 0x7f), (char)(four >> 8 & 0x7f),
		             (char)(four >> 16 & 0x7f), (char)(four >> 24 & 0x7f)};
		if (tok_text(t, i, s, sizeof s))
			return THRESH_ENOMEM;
	}
	struct tok_batch *b = t->batch;
	unsigned j = b->count[0]++;
	b->pack[0][j].w[0] = cx | (uint64_t)four << 24;
	b->at[0][j] = (uint32_t)i;
	t->n++;
	return t->n - t->done >= TOK_BATCH ? tok_flush(t, key) : 0;
}

/* ------------------------------------------------------- token text buffer */

/* A token text being built: a prefix, then a body cut at lim bytes (and at
 * a character boundary). Once something does not fit, nothing more does. */
typedef struct tb {
	size_t n, lim;
	char b[TB_CAP];
} tb;

static void tb_mem(tb *b, const char *s, size_t n)
{
	if (n > b->lim - b->n) {
		n = b->lim - b->n;
		b->lim = b->n + n;
	}
	memcpy(b->b + b->n, s, n);
	b->n += n;
}

static void tb_str(tb *b, const char *s)
{
	tb_mem(b, s, strlen(s));
}

/* tb_init - start a token with prefix; body at most body bytes. */
static void tb_init(tb *b, const char *prefix, size_t body)
{
	b->n = 0;
	b->lim = TB_CAP;
	tb_str(b, prefix);
	if (body < TB_CAP - b->n)
		b->lim = b->n + body;
}

static inline void tb_cp(tb *b, int32_t c)
{
	/* ASCII, most of what a check spends here, needs no encoding step. */
	if ((uint32_t)c < 0x80 && b->n < b->lim) {
		b->b[b->n++] = (char)c;
		return;
	}
	unsigned char e[4];
	size_t k = utf8_put((uint32_t)c, e);
	if (k <= b->lim - b->n) {
		memcpy(b->b + b->n, e, k);
		b->n += k;
	} else
		b->lim = b->n;
}

/* tb_utf8 - append valid UTF-8, cut before a character that does not fit. */
static void tb_utf8(tb *b, const char *s, size_t n)
{
	if (n > b->lim - b->n) {
		n = b->lim - b->n;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		b->lim = b->n + n;
	}
	memcpy(b->b + b->n, s, n);
	b->n += n;
}

static void tb_uint(tb *b, size_t v)
{
	char d[24];
	size_t k = sizeof d;
	do
		d[--k] = (char)('0' + v % 10);
	while (v /= 10);
	tb_mem(b, d + k, sizeof d - k);
}

/* ----------------------------------------------------------------- context */

struct scratch {
	unsigned char *b; /* HTML-stripped content, or a normalized field as UTF-8 */
	size_t bcap;
	int32_t *u;       /* normalized code points */
	size_t ucap;
	unsigned char bsmall[SMALL];
	int32_t usmall[SMALL];
};

typedef struct tctx {
	tok_list *t;
	const unsigned char *key;
	const unsigned char *ikey; /* the identity key; NULL: no identity tokens */
	uint32_t f;
	int err;
	/* the previous content word, for pairs (its text in prev) */
	bool have_prev;
	size_t prev_n;
	/* distinct content URLs, for the links: buckets and tok_list.links */
	uint64_t link[TOK_LINKS_MAX];
	unsigned nlinks;
	/* where failed look-aheads ended: no new look-ahead before these */
	size_t no_email, no_domain, no_phone;
	/* ALL-CAPS words of the content, counted before case folding */
	struct fold_caps caps;
	/* not zeroed by ctx_init: */
	char prev[TB_CAP];
	struct scratch s;
} tctx;

static void emit(tctx *x, const tb *b)
{
	if (!x->err)
		x->err = tok_add(x->t, x->key, b->b, b->n, sizeof b->b, NULL, 0);
}

/* emit_ident - an identity token: under the identity key, or none. */
static void emit_ident(tctx *x, const tb *b)
{
	if (!x->err && x->ikey)
		x->err = tok_add(x->t, x->key, b->b, b->n, sizeof b->b, x->ikey, 0);
}

static void emit_lit(tctx *x, const char *s)
{
	if (!x->err)
		x->err = tok_add(x->t, x->key, s, strlen(s), 0, NULL, 0);
}

static int scratch_b(struct scratch *s, size_t need)
{
	if (need <= s->bcap)
		return 0;
	unsigned char *p = malloc(need);
	if (!p)
		return THRESH_ENOMEM;
	if (s->b != s->bsmall)
		free(s->b);
	s->b = p;
	s->bcap = need;
	return 0;
}

static int scratch_u(struct scratch *s, size_t need)
{
	if (need <= s->ucap)
		return 0;
	int32_t *p = malloc(need * sizeof *p);
	if (!p)
		return THRESH_ENOMEM;
	if (s->u != s->usmall)
		free(s->u);
	s->u = p;
	s->ucap = need;
	return 0;
}

static void scratch_free(struct scratch *s)
{
	if (s->b != s->bsmall)
		free(s->b);
	if (s->u != s->usmall)
		free(s->u);
}

/* ------------------------------------------------------ character classes */

enum { K_SEP, K_WORD, K_CJK, K_PUNCT, K_APOS, K_EMOJI };


/* in_unspaced - Han, Hiragana, Katakana, Bopomofo, Thai, Lao, Khmer, Myanmar. */
static bool in_unspaced(int32_t c)
{
	return (c >= 0x0E00 && c <= 0x0EFF)     /* Thai, Lao */
	    || (c >= 0x1000 && c <= 0x109F)     /* Myanmar */
	    || (c >= 0x1780 && c <= 0x17FF)     /* Khmer */
	    || (c >= 0x19E0 && c <= 0x19FF)     /* Khmer symbols */
	    || (c >= 0x2E80 && c <= 0x2FDF)     /* CJK and Kangxi radicals */
	    || (c >= 0x3005 && c <= 0x3007)     /* 々 〆 〇 */
	    || (c >= 0x3021 && c <= 0x3029)     /* Hangzhou numerals */
	    || (c >= 0x3031 && c <= 0x3035)     /* kana repeat marks */
	    || (c >= 0x3038 && c <= 0x303C)
	    || (c >= 0x3040 && c <= 0x30FF)     /* Hiragana, Katakana */
	    || (c >= 0x3100 && c <= 0x312F)     /* Bopomofo */
	    || (c >= 0x31A0 && c <= 0x31BF)
	    || (c >= 0x31F0 && c <= 0x31FF)     /* Katakana extensions */
	    || (c >= 0x3400 && c <= 0x4DBF)     /* CJK extension A */
	    || (c >= 0x4E00 && c <= 0x9FFF)     /* CJK unified */
	    || (c >= 0xA9E0 && c <= 0xA9FF)     /* Myanmar extended-B */
	    || (c >= 0xAA60 && c <= 0xAA7F)     /* Myanmar extended-A */
	    || (c >= 0xF900 && c <= 0xFAFF)     /* CJK compatibility */
	    || (c >= 0x1B000 && c <= 0x1B16F)   /* kana supplement, extended */
	    || (c >= 0x20000 && c <= 0x3134F);  /* CJK extensions B..G */
}

/* is_emoji - a pictographic symbol (caller checked the category is So/Sk). */
static bool is_emoji(int32_t c)
{
	return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) ||
	       (c >= 0x2300 && c <= 0x23FF) || (c >= 0x2B00 && c <= 0x2BFF) ||
	       c == 0x3030 || c == 0x303D || c == 0x3297 || c == 0x3299;
}

static bool is_ri(int32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }   /* flag letters */
static bool is_skin(int32_t c) { return c >= 0x1F3FB && c <= 0x1F3FF; } /* tone modifiers */
static bool is_apos(int32_t c) { return c == '\'' || c == 0x2019; }

/* klass_wide - klass of a code point past ASCII */
static int klass_wide(int32_t c)
{
	if (c == 0x2019)
		return K_APOS;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return in_unspaced(c) ? K_CJK : K_WORD;
	case UTF8PROC_CATEGORY_ND:
		return K_WORD;
	case UTF8PROC_CATEGORY_SO: case UTF8PROC_CATEGORY_SK:
		return is_emoji(c) ? K_EMOJI : K_PUNCT;
	case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
	case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
	case UTF8PROC_CATEGORY_PO: case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC:
		return K_PUNCT;
	default:
		return K_SEP; /* separators, controls, format, private use, unassigned */
	}
}

/* klass - the class of c: ASCII, most of every comment, inline */
static inline int klass(int32_t c)
{
	if (c >= 0x80)
		return klass_wide(c);
	if (a_alnum(c))
		return K_WORD;
	if (c == '\'')
		return K_APOS;
	return c > 0x20 && c < 0x7F ? K_PUNCT : K_SEP;
}

static inline bool is_digit(int32_t c)
{
	return c < 0x80 ? a_digit(c) : utf8proc_category(c) == UTF8PROC_CATEGORY_ND;
}

/* ------------------------------------------------------------------- HTML */

/* strip_html - content s[0..n) through html_strip into x->s.b. Returns 0 or
 * THRESH_ENOMEM. */
static int strip_html(tctx *x, const unsigned char *s, size_t n, size_t *out)
{
	if (n > SIZE_MAX - 8 || scratch_b(&x->s, n + 8))
		return THRESH_ENOMEM;
	*out = html_strip(s, n, x->s.b, x->s.bcap);
	return 0;
}

/* ----------------------------------------------------------- normalization */

/* normalize - s[0..n) folded (fold_text) into x->s.u, which grows as
 * fold_text asks; ALL-CAPS words counted into x->caps when caps. Returns 0,
 * THRESH_EUTF8 or THRESH_ENOMEM. */
static int normalize(tctx *x, const unsigned char *s, size_t n, bool caps, size_t *out)
{
	if (n > (size_t)PTRDIFF_MAX / 64)
		return THRESH_ENOMEM;
	size_t need = n + 16;
	for (int pass = 0; pass < 8; pass++) {
		size_t demand = 0;
		if (scratch_u(&x->s, need))
			return THRESH_ENOMEM;
		int rc = fold_text(s, n, caps ? &x->caps : NULL, x->s.u, x->s.ucap, out, &demand);
		if (rc != FOLD_MORE)
			return rc;
		need = demand > need * 2 ? demand : need * 2;
	}
	return THRESH_ENOMEM;
}

/* --------------------------------------------------------------- words */

enum { W_TEXT, W_NUM, W_LONG };

/* word_end - the end of the word starting at u[i] (a K_WORD character):
 * letters, digits and marks, with apostrophes between them. */
static size_t word_end(const int32_t *u, size_t n, size_t i)
{
	size_t j = i + 1;
	for (;;) {
		while (j < n && klass(u[j]) == K_WORD)
			j++;
		if (j + 1 < n && is_apos(u[j]) && klass(u[j + 1]) == K_WORD) {
			j += 2;
			continue;
		}
		return j;
	}
}

/* word_text - append the token of the word u[i..j) to b: the word itself,
 * num:<digits> for a run of digits, or long:<kind>:<bucket> past WORD_MAX. */
static int word_text(tb *b, const int32_t *u, size_t i, size_t j)
{
	size_t bytes = 0, digits = 0;
	for (size_t k = i; k < j; k++) {
		int32_t c = u[k];
		bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; /* its UTF-8 */
		digits += is_digit(c);
	}
	if (digits == j - i) {
		tb_str(b, "num:");
		if (digits > NUM_MAX) {
			tb_uint(b, NUM_MAX);
			tb_str(b, "+");
		} else
			tb_uint(b, digits);
		return W_NUM;
	}
	if (bytes > WORD_MAX) {
		tb_str(b, digits ? "long:alnum:" : "long:alpha:");
		tb_str(b, bytes < 64 ? "40" : bytes < 128 ? "64" : bytes < 256 ? "128" : "256");
		return W_LONG;
	}
	for (size_t k = i; k < j; k++)
		tb_cp(b, u[k] == 0x2019 ? '\'' : u[k]);
	return W_TEXT;
}

/* plain_words - the words of u[i..j) as plain word tokens (URL paths). */
static void plain_words(tctx *x, const int32_t *u, size_t i, size_t j)
{
	while (i < j && !x->err) {
		if (klass(u[i]) != K_WORD) {
			i++;
			continue;
		}
		size_t e = word_end(u, j, i);
		tb w;
		tb_init(&w, "", TB_CAP);
		word_text(&w, u, i, e);
		emit(x, &w);
		i = e;
	}
}

/* chargrams - the cx: grams of the normalized content: every run of 4 code
 * points of " " + text + " ", with white space collapsed to one space and
 * punctuation kept. Across word boundaries they catch what words miss on
 * short comments: obfuscations ("fr ee"), URL pieces, emoticons, "!!!" next
 * to a word. They are flagged as grams so the classifier can weigh them
 * apart (they are many and overlap). Cross-validation on both corpora found
 * 4-grams alone as good as 3-, 4- and 5-grams together (AUC within 0.0006,
 * README), at a third of the tokens. */
#define GRAM 4
static void chargrams(tctx *x, const int32_t *u, size_t n)
{
	int32_t win[GRAM];
	uint32_t four = (uint32_t)' ' << 24; /* the window's low bytes, the oldest lowest */
	unsigned wide = 0;    /* code points past ASCII in the window */
	size_t have = 0;
	bool space = true; /* the text starts after a virtual space */
	win[have++] = ' ';
	for (size_t i = 0; i <= n && !x->err; i++) {
		int32_t c = i < n ? u[i] : ' ';
		if (a_space(c) || c == 0x00A0 || c == 0x3000)
			c = ' ';
		if (c == ' ' && space && i < n)
			continue;
		space = c == ' ';
		if (c == 0x2019)
			c = '\'';
		if (have == GRAM) {
			wide -= win[0] >= 0x80;
			for (size_t k = 0; k + 1 < GRAM; k++)
				win[k] = win[k + 1];
			have = GRAM - 1;
		}
		win[have++] = c;
		wide += c >= 0x80;
		four = four >> 8 | (uint32_t)(c & 0xff) << 24;
		if (have < GRAM)
			continue;
		if (!wide) {
			x->err = tok_add_gram4(x->t, x->key, four);
			continue;
		}
		tb b;
		tb_init(&b, "cx:", TB_CAP);
		for (size_t k = 0; k < GRAM; k++)
			tb_cp(&b, win[k]);
		x->err = tok_add(x->t, x->key, b.b, b.n, sizeof b.b, NULL, 1);
	}
}

/* content_word - the token of one content word, its pair with the word
 * before, and its character grams. Returns the word's kind. */
static int content_word(tctx *x, const int32_t *u, size_t i, size_t j)
{
	tb w;
	tb_init(&w, "", TB_CAP);
	int kind = word_text(&w, u, i, j);
	emit(x, &w);
	if (x->f & TOK_F_PAIRS) {
		if (x->have_prev) {
			tb p;
			tb_init(&p, "pair:", TB_CAP);
			tb_mem(&p, x->prev, x->prev_n);
			tb_str(&p, " ");
			tb_mem(&p, w.b, w.n);
			emit(x, &p);
		}
		memcpy(x->prev, w.b, w.n);
		x->prev_n = w.n;
		x->have_prev = true;
	}
	return kind;
}

/* ---------------------------------------------------------- phone numbers */

static bool phone_sep(int32_t c)
{
	return c == ' ' || c == '-' || c == '(' || c == ')';
}

static bool all_digits(const int32_t *u, size_t i, size_t j)
{
	for (; i < j; i++)
		if (!is_digit(u[i]))
			return false;
	return true;
}

/* try_phone - u[i..j) is a run of digits: when it starts digit groups joined
 * by spaces, dashes or parentheses with 7 to 15 digits in all (or one such
 * group after a '+'), add phone:<digits>. */
static void try_phone(tctx *x, const int32_t *u, size_t n, size_t i, size_t j)
{
	if (i < x->no_phone)
		return;
	size_t groups = 1, digits = j - i, k = j;
	for (;;) {
		size_t s = k, sep = 0;
		while (s < n && sep < 3 && phone_sep(u[s])) {
			s++;
			sep++;
		}
		if (sep == 0 || s >= n || !a_digit(u[s]))
			break;
		size_t g = word_end(u, n, s);
		if (!all_digits(u, s, g))
			break;
		groups++;
		digits += g - s;
		k = g;
	}
	x->no_phone = k;
	bool plus = i > 0 && u[i - 1] == '+';
	if (digits >= 7 && digits <= 15 && (groups >= 2 || plus)) {
		tb b;
		tb_init(&b, "phone:", TB_CAP);
		tb_uint(&b, digits);
		emit(x, &b);
	}
}

/* ---------------------------------------------------- URLs and addresses */

/* is_urlch - may appear inside a URL in running text. */
static bool is_urlch(int32_t c)
{
	if (c < 0x80)
		return c > 0x20 && c < 0x7F && !strchr("<>\"'`{}|\\^", (int)c);
	return klass(c) == K_WORD;
}

/* emit_host - prefix + host and, when domain is given, domain + its
 * registered domain, from URL text s[0..n), as identity tokens when ident.
 * Returns false without a host. */
static bool emit_host(tctx *x, const char *s, size_t n, const char *host, const char *domain,
                      bool ident)
{
	size_t a, b;
	void (*put)(tctx *, const tb *) = ident ? emit_ident : emit;
	if (!url_host_span(s, n, &a, &b))
		return false;
	tb t;
	tb_init(&t, host, META_MAX);
	tb_utf8(&t, s + a, b - a);
	put(x, &t);
	if (domain) {
		size_t d = url_regdom(s + a, b - a);
		tb_init(&t, domain, META_MAX);
		tb_utf8(&t, s + a + d, b - a - d);
		put(x, &t);
	}
	return true;
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static void count_link(tctx *x, const char *s, size_t n)
{
	uint64_t h = fnv1a(s, n);
	for (unsigned i = 0; i < x->nlinks; i++)
		if (x->link[i] == h)
			return;
	if (x->nlinks < TOK_LINKS_MAX)
		x->link[x->nlinks++] = h;
}

/* url_found - the URL u[s..e), its host starting at u[hs]. */
static void url_found(tctx *x, const int32_t *u, size_t s, size_t hs, size_t e)
{
	size_t he = hs, end = e;
	while (he < e && u[he] != '/' && u[he] != '?' && u[he] != '#')
		he++;
	if (end == he + 1 && u[he] == '/')
		end = he; /* "example.com/" is "example.com" */
	tb w;
	tb_init(&w, "url:", URL_MAX);
	for (size_t k = hs; k < end; k++)
		tb_cp(&w, u[k]);
	count_link(x, w.b + 4, w.n - 4);
	if (!(x->f & TOK_F_URLS)) {
		plain_words(x, u, s, e);
		return;
	}
	emit(x, &w);
	emit_host(x, w.b + 4, w.n - 4, "url-host:", "url-domain:", false);
	plain_words(x, u, he, e);
	if (url_lit(u, e, he, "/watch?"))
		for (size_t k = he + 7; k + 1 < e; k++)
			if ((u[k - 1] == '?' || u[k - 1] == '&') && u[k] == 'v' && u[k + 1] == '=') {
				emit_lit(x, "url-path:watch");
				break;
			}
}

/* try_url - a URL starting at the word u[i]: http(s)://..., www.x.y or a
 * bare domain with a known TLD. Returns its end, or i when there is none. */
static size_t try_url(tctx *x, const int32_t *u, size_t n, size_t i)
{
	size_t hs = i, e;
	if (u[i] == 'h' && url_lit(u, n, i, "http://"))
		hs = i + 7;
	else if (u[i] == 'h' && url_lit(u, n, i, "https://"))
		hs = i + 8;
	if (hs > i) {
		for (e = hs; e < n && is_urlch(u[e]); e++)
			;
		e = url_trim(u, hs, e);
		if (e == hs || u[hs] == '/' || u[hs] == '?' || u[hs] == '#')
			return i;
	} else {
		if (i < x->no_domain)
			return i;
		/* most words: a label not followed by a dot, no host at all */
		size_t h = i;
		while (h < n && url_label_char(u[h]))
			h++;
		if (h >= n || u[h] != '.') {
			x->no_domain = h;
			return i;
		}
		size_t dots, last;
		h = url_host_run(u, n, i, &dots, &last);
		bool ok = dots > 0 && (h >= n || (klass(u[h]) != K_WORD && u[h] != '@' && u[h] != '_'));
		if (ok) {
			bool path = h < n && u[h] == '/';
			ok = (url_lit(u, n, i, "www.") && dots >= 2) || url_known_tld(u, last, h) ||
			     (path && url_alpha_label(u, last, h));
		}
		if (!ok) {
			x->no_domain = h;
			return i;
		}
		e = h;
		if (h < n && (u[h] == '/' || u[h] == '?' || u[h] == '#' ||
		              (u[h] == ':' && h + 1 < n && a_digit(u[h + 1])))) {
			while (e < n && is_urlch(u[e]))
				e++;
			e = url_trim(u, h, e);
		}
	}
	url_found(x, u, i, hs, e);
	return e;
}

/* try_email - an e-mail address starting at the word u[i]. Returns its end,
 * or i when there is none. */
static size_t try_email(tctx *x, const int32_t *u, size_t n, size_t i)
{
	if (i < x->no_email)
		return i;
	size_t j = i;
	while (j < n && url_local_char(u[j]))
		j++;
	size_t dots = 0, last = 0, e = j;
	if (j < n && u[j] == '@' && j - i <= 64)
		e = url_host_run(u, n, j + 1, &dots, &last);
	if (dots == 0 || !url_alpha_label(u, last, e)) {
		x->no_email = j;
		return i;
	}
	if (!(x->f & TOK_F_URLS)) {
		plain_words(x, u, i, e);
		return e;
	}
	tb t;
	tb_init(&t, "email:", META_MAX);
	for (size_t k = i; k < e; k++)
		tb_cp(&t, u[k]);
	emit_ident(x, &t);
	tb_init(&t, "email-domain:", META_MAX);
	for (size_t k = j + 1; k < e; k++)
		tb_cp(&t, u[k]);
	emit(x, &t);
	return e;
}

/* ------------------------------------------------------------- the content */

static size_t do_emoji(tctx *x, const int32_t *u, size_t n, size_t i)
{
	tb b;
	tb_init(&b, "emoji:", TB_CAP);
	int32_t c = u[i++];
	tb_cp(&b, c);
	if (is_ri(c) && i < n && is_ri(u[i]))
		tb_cp(&b, u[i++]); /* a flag is a pair of regional indicators */
	while (i < n && is_skin(u[i]))
		i++;
	emit(x, &b);
	emit_lit(x, "has:emoji");
	return i;
}

static size_t do_cjk(tctx *x, const int32_t *u, size_t n, size_t i)
{
	size_t j = i + 1;
	while (j < n && klass(u[j]) == K_CJK)
		j++;
	tb b;
	if (j - i == 1) {
		tb_init(&b, "cjk:", TB_CAP);
		tb_cp(&b, u[i]);
		emit(x, &b);
	}
	for (size_t k = i; k + 1 < j && !x->err; k++) {
		tb_init(&b, "cjk:", TB_CAP);
		tb_cp(&b, u[k]);
		tb_cp(&b, u[k + 1]);
		emit(x, &b);
	}
	return j;
}

static size_t do_punct(tctx *x, const int32_t *u, size_t n, size_t i)
{
	size_t j = i + 1;
	int k;
	while (j < n && ((k = klass(u[j])) == K_PUNCT || k == K_APOS))
		j++;
	if (j - i >= 2) {
		tb b;
		tb_init(&b, "punct:", TB_CAP);
		for (size_t m = i; m < j && m < i + 3; m++)
			tb_cp(&b, u[m]);
		if (j - i > 3)
			tb_str(&b, "+");
		emit(x, &b);
	}
	return j;
}

static void scan_content(tctx *x, const int32_t *u, size_t n)
{
	size_t i = 0, at = 0;
	/* without an '@' there is no address to look for at every word */
	while (at < n && u[at] != '@')
		at++;
	if (at == n)
		x->no_email = n;
	while (i < n && !x->err) {
		int32_t c = u[i];
		int k = klass(c);
		if (k == K_SEP) {
			i++;
		} else if (k == K_EMOJI) {
			i = do_emoji(x, u, n, i);
		} else if (k == K_CJK) {
			i = do_cjk(x, u, n, i);
			x->have_prev = false;
		} else if (k == K_PUNCT || k == K_APOS) {
			i = do_punct(x, u, n, i);
		} else {
			size_t e = i;
			if (c < 0x80 && (e = try_email(x, u, n, i)) == i)
				e = try_url(x, u, n, i);
			if (e > i) {
				x->have_prev = false;
				i = e;
				continue;
			}
			e = word_end(u, n, i);
			if (content_word(x, u, i, e) == W_NUM)
				try_phone(x, u, n, i, e);
			i = e;
		}
	}
}

/* -------------------------------------------------------------- metadata */

/* meta_text - field f normalized, as UTF-8 in x->s.b[0..*len), trimmed of
 * ASCII space. Also leaves the code points in x->s.u[0..*nu). */
static int meta_text(tctx *x, const struct thresh_comment *c, int f, const char **p,
                     size_t *len, size_t *nu)
{
	int rc = normalize(x, (const unsigned char *)c->val[f], c->len[f], false, nu);
	if (rc)
		return rc;
	if (*nu > (SIZE_MAX - 8) / 4 || scratch_b(&x->s, *nu * 4 + 8))
		return THRESH_ENOMEM;
	size_t n = 0;
	for (size_t k = 0; k < *nu; k++)
		n += utf8_put((uint32_t)x->s.u[k], x->s.b + n);
	const char *s = (const char *)x->s.b;
	while (n > 0 && a_space(s[n - 1]))
		n--;
	while (n > 0 && a_space(*s))
		s++, n--;
	*p = s;
	*len = n;
	return 0;
}

static void meta_author(tctx *x, const int32_t *u, size_t n)
{
	tb b;
	tb_init(&b, "author:", META_MAX);
	bool any = false, space = false;
	for (size_t k = 0; k < n; k++) {
		if (klass(u[k]) == K_SEP) {
			space = any;
			continue;
		}
		if (space)
			tb_cp(&b, ' ');
		tb_cp(&b, u[k] == 0x2019 ? '\'' : u[k]);
		any = true;
		space = false;
	}
	if (any)
		emit_ident(x, &b);
	for (size_t i = 0; i < n && !x->err;) {
		int k = klass(u[i]);
		if (k != K_WORD && k != K_CJK) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < n && ((k = klass(u[j])) == K_WORD || k == K_CJK ||
		                 (is_apos(u[j]) && j + 1 < n && klass(u[j + 1]) == K_WORD)))
			j++;
		tb_init(&b, "author-word:", TB_CAP);
		word_text(&b, u, i, j);
		emit_ident(x, &b);
		i = j;
	}
}

size_t tok_ip24_text(char out[TOK_IP24_MAX], unsigned a, unsigned b, unsigned c)
{
	unsigned v[3] = {a & 0xFF, b & 0xFF, c & 0xFF};
	size_t n = 0;
	memcpy(out, "ip24:", 5);
	n = 5;
	for (int i = 0; i < 3; i++) {
		if (i)
			out[n++] = '.';
		if (v[i] >= 100)
			out[n++] = (char)('0' + v[i] / 100);
		if (v[i] >= 10)
			out[n++] = (char)('0' + v[i] / 10 % 10);
		out[n++] = (char)('0' + v[i] % 10);
	}
	return n;
}

static void emit_ip24(tctx *x, const unsigned char *a)
{
	tb b;
	tb_init(&b, "", TB_CAP);
	b.n = tok_ip24_text(b.b, a[0], a[1], a[2]);
	emit_ident(x, &b);
}

/* meta_ip - ip24:a.b.c for IPv4 (and IPv4-mapped IPv6), ip48:x:x:x for IPv6. */
static void meta_ip(tctx *x, const char *s, size_t n)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	char buf[64];
	unsigned char a[16];
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
		s++, n -= 2;
	const char *zone = memchr(s, '%', n);
	if (zone)
		n = (size_t)(zone - s);
	if (n > 0 && n < sizeof buf) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, a) == 1) {
			emit_ip24(x, a);
			return;
		}
		if (inet_pton(AF_INET6, buf, a) == 1) {
			if (memcmp(a, mapped, sizeof mapped) == 0) {
				emit_ip24(x, a + 12);
				return;
			}
			tb b;
			char g[32];
			int k = snprintf(g, sizeof g, "ip48:%x:%x:%x", (unsigned)(a[0] << 8 | a[1]),
			                 (unsigned)(a[2] << 8 | a[3]), (unsigned)(a[4] << 8 | a[5]));
			tb_init(&b, "", TB_CAP);
			tb_mem(&b, g, (size_t)k);
			emit_ident(x, &b);
			return;
		}
	}
	emit_lit(x, "ip:invalid");
}

static bool tchar(char c)
{
	return a_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void meta(tctx *x, const struct thresh_comment *c)
{
	const char *s;
	size_t n, nu;
	tb b;
	for (int f = F_AUTHOR; f < F_COUNT && !x->err; f++) {
		if (!c->val[f] || f == F_PERMALINK || f == F_HONEYPOT || f == F_FORM_AGE)
			continue;
		if ((x->err = meta_text(x, c, f, &s, &n, &nu)))
			return;
		switch (f) {
		case F_AUTHOR:
			meta_author(x, x->s.u, nu);
			break;
		case F_EMAIL: {
			const char *at = NULL;
			for (size_t k = n; k > 0; k--)
				if (s[k - 1] == '@') {
					at = s + k - 1;
					break;
				}
			size_t d = at ? n - (size_t)(at - s) - 1 : 0;
			while (d > 0 && at[d] == '.')
				d--;
			if (!d) {
				emit_lit(x, "has:bad-email");
				break;
			}
			tb_init(&b, "email-domain:", META_MAX);
			tb_utf8(&b, at + 1, d);
			emit_ident(x, &b);
			break;
		}
		case F_URL:
			if (n) {
				emit_host(x, s, n, "url-host:", "url-domain:", true);
				emit_lit(x, "has:author-url");
			}
			break;
		case F_IP:
			meta_ip(x, s, n);
			break;
		case F_USER_AGENT: {
			size_t k = 0;
			while (k < n && k < 64 && tchar(s[k]))
				k++;
			tb_init(&b, "ua:", 64);
			tb_str(&b, k ? "" : "empty");
			tb_mem(&b, s, k);
			emit(x, &b);
			break;
		}
		case F_REFERRER:
			emit_host(x, s, n, "ref-host:", NULL, false);
			break;
		case F_TYPE:
			if (n) {
				tb_init(&b, "type:", 64);
				tb_utf8(&b, s, n);
				emit(x, &b);
			}
			break;
		case F_LANG:
			for (size_t i = 0; i < n;) {
				if (s[i] == ',' || s[i] == ';' || a_space(s[i])) {
					i++;
					continue;
				}
				size_t j = i;
				while (j < n && s[j] != ',' && s[j] != ';' && !a_space(s[j]))
					j++;
				tb_init(&b, "lang:", 32);
				tb_utf8(&b, s + i, j - i);
				emit(x, &b);
				i = j;
			}
			break;
		}
	}
	static const char *const links[] = {"links:0", "links:1", "links:2", "links:3+"};
	emit_lit(x, links[x->nlinks < 3 ? x->nlinks : 3]);
}

static void shape(tctx *x, const struct thresh_comment *c, unsigned caps)
{
	static const char *const cb[] = {"shape:caps:0", "shape:caps:1", "shape:caps:2",
	                                 "shape:caps:3+"};
	size_t len = c->val[F_CONTENT] ? c->len[F_CONTENT] : 0;
	emit_lit(x, cb[caps < 3 ? caps : 3]);
	emit_lit(x, len < 20 ? "shape:len:0-19" : len < 50 ? "shape:len:20-49"
	          : len < 100 ? "shape:len:50-99" : len < 200 ? "shape:len:100-199"
	          : len < 500 ? "shape:len:200-499" : "shape:len:500+");
}

/* ------------------------------------------------------------- tok_comment */

int tok_comment(tok_list *out, const struct thresh_comment *c, uint32_t features,
                const unsigned char key[HASH_MODEL_KEY_BYTES], const unsigned char *ident)
{
	if (!out)
		return THRESH_EINVAL;
	tok_list_clear(out);
	if (!c || !key)
		return THRESH_EINVAL;
	/* a value thresh_comment_set checked is not read twice; one written
	 * into the record by other means is */
	for (int f = 0; f < F_COUNT; f++)
		if (c->val[f] && !(c->checked & 1u << f) &&
		    !utf8_check((const unsigned char *)c->val[f], c->len[f], NULL))
			return THRESH_EUTF8;

	tctx ctx, *x = &ctx; /* about 6 KiB, scratch for short fields included */
	memset(x, 0, offsetof(tctx, prev));
	x->t = out;
	x->key = key;
	x->ikey = ident;
	x->f = features | TOK_F_WORDS;
	x->s.b = x->s.bsmall;
	x->s.bcap = SMALL;
	x->s.u = x->s.usmall;
	x->s.ucap = SMALL;

	unsigned caps = 0;
	if (c->val[F_CONTENT]) {
		size_t m, nu;
		x->err = strip_html(x, (const unsigned char *)c->val[F_CONTENT], c->len[F_CONTENT], &m);
		if (!x->err)
			x->err = normalize(x, x->s.b, m, true, &nu);
		if (!x->err) {
			caps = x->caps.words;
			scan_content(x, x->s.u, nu);
			if (x->f & TOK_F_CHARGRAMS)
				chargrams(x, x->s.u, nu);
		}
	}
	if (!x->err && (x->f & TOK_F_META))
		meta(x, c);
	if (!x->err && (x->f & TOK_F_SHAPE))
		shape(x, c, caps);
	if (!x->err)
		x->err = tok_flush(out, key);

	int rc = x->err;
	out->links = x->nlinks;
	scratch_free(&x->s);
	if (rc)
		tok_list_clear(out);
	return rc;
}
