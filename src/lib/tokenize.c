/* tokenize.c - turn a comment into the distinct token ids the model counts.
 *
 * tok_comment() reads every field of a comment in four steps:
 *
 *   1. every set field is checked for well-formed UTF-8 (THRESH_EUTF8);
 *   2. content only: HTML entities are decoded and tags dropped, link
 *      targets (href, src) kept in place of their tag (html_strip);
 *   3. each field is normalized with utf8proc: NFKC, case-folded, with the
 *      default-ignorable code points (U+200B..U+200D, U+2060, U+FEFF, U+00AD,
 *      variation selectors, ...) removed, into an array of code points
 *      (normalize); ALL-CAPS words are counted on the way in, before folding;
 *   4. content is scanned once, left to right (scan_content); the other
 *      fields give prefixed metadata tokens (meta).
 *
 * Each token text is built in a small stack buffer (struct tb), hashed with
 * hash_token() and appended to the list only when its id is new, so the only
 * allocations are the list's own growing arrays and, for fields over 1 KiB,
 * one scratch buffer per call.
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
 *                 email:<addr>, email-domain:<domain>
 *                 (plus the words of a URL's path, as words)
 *   TOK_F_CHARGRAMS cx:<4 code points>          " free " -> cx: fre, cx:free, cx:ree 
 *                 over the whole normalized content, spaces collapsed
 *   TOK_F_SHAPE   shape:caps:<0|1|2|3+>         ALL-CAPS words of 3+ letters
 *                 shape:len:<0-19|20-49|50-99|100-199|200-499|500+>  content bytes
 *   TOK_F_META    author:<name>, author-word:<w>
 *                 email-domain:<domain> (or has:bad-email)
 *                 url-host:, url-domain:, has:author-url   (the url field)
 *                 ip24:<a.b.c>, ip48:<x:x:x> (or ip:invalid)
 *                 ua:<first product name> (or ua:empty)
 *                 ref-host:<host>, type:<v>, lang:<v> (one per listed language)
 *                 links:<0|1|2|3+>              distinct URLs in content
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
#include "tokenize.h"
#include "utf8.h"

#define WORD_MAX 40    /* bytes of a word token; longer ones become long: shapes */
#define NUM_MAX 20     /* num:<digits> counts up to this, then "20+" */
#define URL_MAX 256    /* bytes of a url: body */
#define META_MAX 128   /* bytes of author:, type:, email-domain:, ... bodies */
#define TB_CAP 320     /* the largest token text: prefix + body */
#define TAG_MAX 4096   /* bytes of one HTML tag; a longer one is taken as text */
#define SMALL 1024     /* scratch held on the stack before going to the heap */

#define NORM_OPTS (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | \
                   UTF8PROC_STABLE | UTF8PROC_IGNORE)

/* ---------------------------------------------------------------- tok_list */

void tok_list_init(tok_list *t)
{
	if (t)
		memset(t, 0, sizeof *t);
}

/* seen_slot - the slot holding id, or the empty slot where it would go.
 * Ids are keyed SipHash values, so their low bits index well as they are;
 * 0 marks an empty slot (an id of 0 is kept out of the set, see tok_add). */
static size_t seen_slot(const tok_list *t, uint64_t id)
{
	size_t mask = t->seen_cap - 1, i = (size_t)id & mask;
	while (t->seen[i] != 0 && t->seen[i] != id)
		i = (i + 1) & mask;
	return i;
}

/* The set always holds exactly the non-zero ids[0..n), inserted in that
 * order into a table with linear probing. Removing them in reverse order
 * undoes each insertion exactly, so a large table is emptied in O(n). */
void tok_list_clear(tok_list *t)
{
	if (!t)
		return;
	if (t->seen_cap) {
		if (t->n * 8 >= t->seen_cap)
			memset(t->seen, 0, t->seen_cap * sizeof *t->seen);
		else
			for (size_t i = t->n; i-- > 0;)
				if (t->ids[i])
					t->seen[seen_slot(t, t->ids[i])] = 0;
	}
	t->n = 0;
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
	free(t->text);
	free(t->seen);
	memset(t, 0, sizeof *t);
}

/* seen_grow - double the set and insert ids[0..n) again, in order.
 * Returns 0 or THRESH_ENOMEM, leaving the list unchanged. */
static int seen_grow(tok_list *t)
{
	size_t cap = t->seen_cap ? t->seen_cap * 2 : 256;
	uint64_t *s = calloc(cap, sizeof *s);
	if (!s)
		return THRESH_ENOMEM;
	free(t->seen);
	t->seen = s;
	t->seen_cap = cap;
	for (size_t i = 0; i < t->n; i++)
		if (t->ids[i])
			t->seen[seen_slot(t, t->ids[i])] = t->ids[i];
	return 0;
}

/* tok_add - append the token s[0..n) unless its id is already in the list.
 * Returns 0 or THRESH_ENOMEM; on failure the list is as it was. */
static int tok_add(tok_list *t, const unsigned char *key, const char *s, size_t n)
{
	uint64_t id = hash_token(key, s, n);
	size_t slot = 0;
	if (id == 0) { /* a 2^-64 chance; kept out of the set, found by a scan */
		for (size_t i = 0; i < t->n; i++)
			if (t->ids[i] == 0)
				return 0;
	} else {
		if ((t->n + 1) * 2 > t->seen_cap && seen_grow(t))
			return THRESH_ENOMEM;
		slot = seen_slot(t, id);
		if (t->seen[slot] == id)
			return 0;
	}
	if (t->n == t->cap) {
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
		t->cap = cap;
	}
	if (t->notext) {
		/* ids only: nothing asked for the texts (no explanation) */
		t->ids[t->n] = id;
		t->off[t->n] = t->len[t->n] = 0;
		t->gram[t->n] = 0;
		t->n++;
		if (id)
			t->seen[slot] = id;
		return 0;
	}
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
	t->ids[t->n] = id;
	t->off[t->n] = (uint32_t)t->text_len;
	t->len[t->n] = (uint32_t)n;
	t->gram[t->n] = 0;
	t->n++;
	t->text_len += n;
	if (id)
		t->seen[slot] = id;
	return 0;
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
	int k = snprintf(d, sizeof d, "%zu", v);
	tb_mem(b, d, (size_t)k);
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
	/* ALL-CAPS words, counted before case folding */
	unsigned caps, cw_upper, cw_lower;
	/* not zeroed by ctx_init: */
	char prev[TB_CAP];
	struct scratch s;
} tctx;

static void emit(tctx *x, const tb *b)
{
	if (!x->err)
		x->err = tok_add(x->t, x->key, b->b, b->n);
}

static void emit_lit(tctx *x, const char *s)
{
	if (!x->err)
		x->err = tok_add(x->t, x->key, s, strlen(s));
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

static bool a_digit(int32_t c) { return c >= '0' && c <= '9'; }
static bool a_alpha(int32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool a_alnum(int32_t c) { return a_digit(c) || a_alpha(c); }
static bool a_space(int32_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static char a_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

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

static int klass(int32_t c)
{
	if (c < 0x80) {
		if (a_alnum(c))
			return K_WORD;
		if (c == '\'')
			return K_APOS;
		return c > 0x20 && c < 0x7F ? K_PUNCT : K_SEP;
	}
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

static bool is_digit(int32_t c)
{
	return c < 0x80 ? a_digit(c) : utf8proc_category(c) == UTF8PROC_CATEGORY_ND;
}

/* ------------------------------------------------------------------- HTML */

struct ob { /* bounded output into scratch */
	unsigned char *b;
	size_t n, cap;
};

static void ob_put(struct ob *o, unsigned char c)
{
	if (o->n < o->cap)
		o->b[o->n++] = c;
}

static void ob_cp(struct ob *o, int32_t c)
{
	unsigned char e[4];
	size_t k = utf8_put((uint32_t)c, e);
	if (k <= o->cap - o->n) {
		memcpy(o->b + o->n, e, k);
		o->n += k;
	}
}

static const struct entity {
	const char *name;
	int32_t cp;
	bool bare; /* also recognised without the ';', as browsers do */
} entities[] = {
	{"amp", '&', true}, {"lt", '<', true}, {"gt", '>', true}, {"quot", '"', true},
	{"nbsp", 0xA0, true}, {"AMP", '&', true}, {"LT", '<', true}, {"GT", '>', true},
	{"QUOT", '"', true}, {"apos", '\'', false}, {"shy", 0xAD, false},
	{"zwj", 0x200D, false}, {"zwnj", 0x200C, false}, {"copy", 0xA9, false},
	{"reg", 0xAE, false}, {"trade", 0x2122, false}, {"hellip", 0x2026, false},
	{"mdash", 0x2014, false}, {"ndash", 0x2013, false}, {"lsquo", 0x2018, false},
	{"rsquo", 0x2019, false}, {"ldquo", 0x201C, false}, {"rdquo", 0x201D, false},
	{"laquo", 0xAB, false}, {"raquo", 0xBB, false}, {"euro", 0x20AC, false},
	{"pound", 0xA3, false}, {"yen", 0xA5, false}, {"cent", 0xA2, false},
	{"bull", 0x2022, false}, {"middot", 0xB7, false}, {"deg", 0xB0, false},
	{"times", 0xD7, false}, {"iexcl", 0xA1, false}, {"iquest", 0xBF, false},
};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)a_lower((char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* entity - decode the character reference at s[i] == '&' into o, or copy
 * the '&' when it is none. Returns the index after what was read. */
static size_t entity(const unsigned char *s, size_t n, size_t i, struct ob *o)
{
	size_t j = i + 1;
	if (j < n && s[j] == '#') {
		bool hex = false;
		uint32_t v = 0;
		size_t d = 0;
		if (++j < n && (s[j] == 'x' || s[j] == 'X')) {
			hex = true;
			j++;
		}
		for (; j < n; j++, d++) {
			int h = hex ? hexval(s[j]) : (a_digit(s[j]) ? s[j] - '0' : -1);
			if (h < 0)
				break;
			if (v <= 0x10FFFF)
				v = v * (hex ? 16 : 10) + (uint32_t)h;
		}
		if (d == 0) {
			ob_put(o, '&');
			return i + 1;
		}
		if (j < n && s[j] == ';')
			j++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		ob_cp(o, (int32_t)v);
		return j;
	}
	size_t k = j;
	while (k < n && k - j < 8 && a_alnum(s[k]))
		k++;
	for (size_t e = 0; e < sizeof entities / sizeof entities[0]; e++) {
		size_t len = strlen(entities[e].name);
		if (len != k - j || memcmp(s + j, entities[e].name, len) != 0)
			continue;
		if (k < n && s[k] == ';') {
			ob_cp(o, entities[e].cp);
			return k + 1;
		}
		if (entities[e].bare && (k >= n || !a_alnum(s[k]))) {
			ob_cp(o, entities[e].cp);
			return k;
		}
		break;
	}
	ob_put(o, '&');
	return i + 1;
}

/* Tags that do not separate words when dropped ("fr<b>ee</b>" is "free"). */
static bool inline_tag(const unsigned char *s, size_t n)
{
	static const char *const names[] = {
		"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "del", "dfn", "em",
		"font", "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span",
		"strike", "strong", "sub", "sup", "tt", "u", "var", "wbr",
	};
	char low[8];
	if (n >= sizeof low)
		return false;
	for (size_t i = 0; i < n; i++)
		low[i] = a_lower((char)s[i]);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && memcmp(names[i], low, n) == 0)
			return true;
	return false;
}

static bool ci_eq(const unsigned char *s, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a_lower((char)s[i]) != lit[i])
			return false;
	return true;
}

/* link_value - copy a link target s[a..b) into o, entities decoded, between
 * spaces so it reads as a word of its own. data: URIs are left out. */
static void link_value(const unsigned char *s, size_t a, size_t b, struct ob *o)
{
	while (a < b && a_space(s[a]))
		a++;
	if (b - a >= 5 && ci_eq(s + a, 5, "data:"))
		return;
	ob_put(o, ' ');
	while (a < b) {
		if (s[a] == '&')
			a = entity(s, b, a, o);
		else
			ob_put(o, s[a++]);
	}
	ob_put(o, ' ');
}

struct html {
	size_t last_gt;       /* index of the last '>' + 1, 0 when none */
	bool no_comment_end;  /* a "-->" was looked for and is not there */
};

/* tag - drop the tag, comment or declaration at s[i] == '<' from the text.
 * Returns the index after it, or i when s[i] starts none (then '<' is text).
 * Inline tags vanish; others leave a space; href and src values stay. */
static size_t tag(const unsigned char *s, size_t n, size_t i, struct ob *o, struct html *h)
{
	size_t j = i + 1, lim = n - i > TAG_MAX ? i + TAG_MAX : n;
	if (j >= n || h->last_gt <= j)
		return i; /* no '>' after this one: no tag can close */
	if (s[j] == '!' && j + 2 < n && s[j + 1] == '-' && s[j + 2] == '-') {
		if (h->no_comment_end)
			return i;
		for (size_t k = j + 3; k + 2 < n; k++)
			if (s[k] == '-' && s[k + 1] == '-' && s[k + 2] == '>')
				return k + 3;
		h->no_comment_end = true;
		return i;
	}
	if (s[j] == '!' || s[j] == '?') {
		const unsigned char *gt = memchr(s + j, '>', lim - j);
		if (!gt)
			return i;
		ob_put(o, ' ');
		return (size_t)(gt - s) + 1;
	}
	bool closing = false;
	if (s[j] == '/') {
		closing = true;
		j++;
	}
	if (j >= lim || !a_alpha(s[j]))
		return i;
	size_t name = j;
	while (j < lim && a_alnum(s[j]))
		j++;
	size_t mark = o->n;
	if (!inline_tag(s + name, j - name))
		ob_put(o, ' ');
	for (;;) {
		while (j < lim && (a_space(s[j]) || s[j] == '/'))
			j++;
		if (j >= lim)
			break;
		if (s[j] == '>')
			return j + 1;
		size_t as = j++; /* the first character of a name may be anything */
		while (j < lim && !a_space(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=')
			j++;
		size_t ae = j;
		while (j < lim && a_space(s[j]))
			j++;
		if (j >= lim || s[j] != '=')
			continue;
		j++;
		while (j < lim && a_space(s[j]))
			j++;
		if (j >= lim)
			break;
		size_t vs, ve;
		if (s[j] == '"' || s[j] == '\'') {
			const unsigned char *q = memchr(s + j + 1, s[j], lim - j - 1);
			if (!q)
				break;
			vs = j + 1;
			ve = (size_t)(q - s);
			j = ve + 1;
		} else {
			vs = j;
			while (j < lim && !a_space(s[j]) && s[j] != '>')
				j++;
			ve = j;
		}
		if (!closing && (ci_eq(s + as, ae - as, "href") || ci_eq(s + as, ae - as, "src")))
			link_value(s, vs, ve, o);
	}
	o->n = mark; /* unterminated: take the '<' as text */
	return i;
}

/* html_strip - content s[0..n) with entities decoded and tags dropped, into
 * x->s.b. The result is never longer than the input: every tag or reference
 * is at least as long as what replaces it. Returns 0 or THRESH_ENOMEM. */
static int html_strip(tctx *x, const unsigned char *s, size_t n, size_t *out)
{
	if (n > SIZE_MAX - 8 || scratch_b(&x->s, n + 8))
		return THRESH_ENOMEM;
	struct ob o = {x->s.b, 0, x->s.bcap};
	struct html h = {0, false};
	for (size_t k = n; k > 0; k--)
		if (s[k - 1] == '>') {
			h.last_gt = k;
			break;
		}
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c == '&') {
			i = entity(s, n, i, &o);
			continue;
		}
		if (c == '<') {
			size_t j = tag(s, n, i, &o, &h);
			if (j > i) {
				i = j;
				continue;
			}
		}
		ob_put(&o, c);
		i++;
	}
	*out = o.n;
	return 0;
}

/* ----------------------------------------------------------- normalization */

static void caps_flush(tctx *x)
{
	if (x->cw_upper >= 3 && x->cw_lower == 0)
		x->caps++;
	x->cw_upper = x->cw_lower = 0;
}

/* caps_cb - sees each code point before folding; counts ALL-CAPS words. */
static utf8proc_int32_t caps_cb(utf8proc_int32_t c, void *data)
{
	tctx *x = data;
	const utf8proc_property_t *p = utf8proc_get_property(c);
	if (p->ignorable)
		return c;
	switch (p->category) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LT:
		x->cw_upper++;
		break;
	case UTF8PROC_CATEGORY_LL:
		x->cw_lower++;
		break;
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		break;
	default:
		caps_flush(x);
	}
	return c;
}

/* ascii_fold - the fast path of normalize for ASCII: NFKC leaves it alone,
 * case folding lowers it, and caps_cb's counting is done inline. */
static void ascii_fold(tctx *x, const unsigned char *s, size_t n, int32_t *u)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c >= 'A' && c <= 'Z') {
			x->cw_upper++;
			c = (unsigned char)(c + 32);
		} else if (c >= 'a' && c <= 'z')
			x->cw_lower++;
		else if (!a_digit(c))
			caps_flush(x);
		u[i] = c;
	}
}

/* normalize - NFKC + case fold + ignorables dropped, s[0..n) into x->s.u.
 * ASCII runs take a fast path; the rest goes through utf8proc a stretch at a
 * time. A stretch starts one ASCII character early, because a combining mark
 * can compose with the base before it; it ends at an ASCII character followed
 * by another, because nothing composes onto an ASCII character and canonical
 * reordering never crosses one. Returns 0, THRESH_EUTF8 or THRESH_ENOMEM. */
static int normalize(tctx *x, const unsigned char *s, size_t n, bool caps, size_t *out)
{
	if (n > (size_t)PTRDIFF_MAX / 64)
		return THRESH_ENOMEM;
	size_t need = n + 16;
	for (int pass = 0; pass < 8; pass++) {
		if (scratch_u(&x->s, need))
			return THRESH_ENOMEM;
		x->caps = x->cw_upper = x->cw_lower = 0;
		size_t i = 0, m = 0, demand = 0;
		while (i < n) {
			size_t j = i;
			while (j < n && s[j] < 0x80)
				j++;
			size_t a = j < n && j > i ? j - 1 : j;
			if (a - i > x->s.ucap - m) {
				demand = m + (n - i) + 16;
				break;
			}
			ascii_fold(x, s + i, a - i, x->s.u + m);
			m += a - i;
			if (a == n)
				break;
			size_t k = j;
			while (k < n && !(s[k] < 0x80 && (k + 1 >= n || s[k + 1] < 0x80)))
				k++;
			utf8proc_ssize_t room = (utf8proc_ssize_t)(x->s.ucap - m);
			utf8proc_ssize_t r = utf8proc_decompose_custom(
				s + a, (utf8proc_ssize_t)(k - a), x->s.u + m, room, NORM_OPTS,
				caps ? caps_cb : NULL, x);
			if (r < 0)
				return r == UTF8PROC_ERROR_INVALIDUTF8 ? THRESH_EUTF8 : THRESH_ENOMEM;
			if (r > room) {
				demand = m + (size_t)r + (n - k) + 16;
				break;
			}
			r = utf8proc_normalize_utf32(x->s.u + m, r, NORM_OPTS);
			if (r < 0)
				return THRESH_ENOMEM;
			m += (size_t)r;
			i = k;
		}
		if (!demand) {
			caps_flush(x);
			*out = m;
			return 0;
		}
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
	unsigned char e[4];
	for (size_t k = i; k < j; k++) {
		bytes += utf8_put((uint32_t)u[k], e);
		digits += is_digit(u[k]);
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
			memmove(win, win + 1, (GRAM - 1) * sizeof *win);
			have = GRAM - 1;
		}
		win[have++] = c;
		if (have < GRAM)
			continue;
		tb b;
		tb_init(&b, "cx:", TB_CAP);
		for (size_t k = 0; k < GRAM; k++)
			tb_cp(&b, win[k]);
		size_t before = x->t->n;
		emit(x, &b);
		if (!x->err && x->t->n > before)
			x->t->gram[before] = 1;
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

static bool is_label(int32_t c)
{
	return (c >= 'a' && c <= 'z') || a_digit(c) || c == '-';
}

/* host_run - the end of DNS labels from u[i]: [a-z0-9-]+ joined by single
 * dots; a dot not followed by a label character ends it. *dots counts the
 * dots, *last is where the last label starts. */
static size_t host_run(const int32_t *u, size_t n, size_t i, size_t *dots, size_t *last)
{
	size_t j = i;
	*dots = 0;
	*last = i;
	for (;;) {
		while (j < n && is_label(u[j]))
			j++;
		if (j > *last && j + 1 < n && u[j] == '.' && is_label(u[j + 1])) {
			(*dots)++;
			*last = ++j;
			continue;
		}
		return j;
	}
}

static bool alpha_label(const int32_t *u, size_t i, size_t j)
{
	if (j - i < 2 || j - i > 24)
		return false;
	for (; i < j; i++)
		if (u[i] < 'a' || u[i] > 'z')
			return false;
	return true;
}

/* Top-level domains that make a bare "name.tld" a link. Two-letter country
 * codes that are also common words after a missing space ("end.It", "up.to")
 * are left out. Sorted, for bsearch. */
static const char *const tlds[] = {
	"ae", "app", "ar", "art", "asia", "au", "bd", "bid", "biz", "blog", "br", "buzz",
	"ca", "cam", "cc", "cf", "ch", "cl", "click", "club", "cn", "co", "com", "cyou",
	"cz", "date", "de", "dev", "dk", "download", "edu", "eg", "email", "es", "eu", "fi",
	"fr", "fun", "ga", "gdn", "gl", "gov", "gq", "gr", "hk", "hu", "icu", "ie", "il",
	"in", "info", "io", "ir", "jp", "ke", "kr", "kz", "link", "live", "lk", "loan",
	"lt", "lv", "ly", "me", "men", "ml", "mobi", "mx", "net", "news", "ng", "nl", "nz",
	"online", "org", "party", "pe", "ph", "pk", "pl", "pro", "pt", "pw", "review",
	"ro", "rs", "ru", "sa", "se", "sg", "shop", "site", "sk", "space", "store",
	"stream", "su", "tech", "th", "tk", "top", "tr", "tv", "tw", "ua", "uk", "vip",
	"vn", "website", "win", "work", "world", "ws", "xyz", "za",
};

static int tld_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, *(const char *const *)b);
}

static bool known_tld(const int32_t *u, size_t i, size_t j)
{
	char s[16];
	if (!alpha_label(u, i, j) || j - i >= sizeof s)
		return false;
	for (size_t k = i; k < j; k++)
		s[k - i] = (char)u[k];
	s[j - i] = '\0';
	return bsearch(s, tlds, sizeof tlds / sizeof tlds[0], sizeof tlds[0], tld_cmp) != NULL;
}

/* is_urlch - may appear inside a URL in running text. */
static bool is_urlch(int32_t c)
{
	if (c < 0x80)
		return c > 0x20 && c < 0x7F && !strchr("<>\"'`{}|\\^", (int)c);
	return klass(c) == K_WORD;
}

static bool match(const int32_t *u, size_t n, size_t i, const char *lit)
{
	for (; *lit; lit++, i++)
		if (i >= n || u[i] != (unsigned char)*lit)
			return false;
	return true;
}

/* url_trim - drop trailing punctuation that belongs to the sentence, and
 * closing brackets that have no opening one inside the URL. */
static size_t url_trim(const int32_t *u, size_t s, size_t e)
{
	size_t open = 0, close = 0, sopen = 0, sclose = 0;
	for (size_t k = s; k < e; k++) {
		open += u[k] == '(';
		close += u[k] == ')';
		sopen += u[k] == '[';
		sclose += u[k] == ']';
	}
	while (e > s) {
		int32_t c = u[e - 1];
		if (c < 0x80 && strchr(".,;:!?*", (int)c) && c != 0)
			e--;
		else if (c == ')' && close > open)
			e--, close--;
		else if (c == ']' && sclose > sopen)
			e--, sclose--;
		else
			break;
	}
	return e;
}

/* host_span - the host inside URL text s[0..n): after an optional
 * "scheme://" or "//", before '/', '?' or '#', without user info, port or a
 * trailing dot. Returns false when there is none. */
static bool host_span(const char *s, size_t n, size_t *a, size_t *b)
{
	size_t i = 0, e, k;
	for (k = 0; k < n && k < 32; k++) {
		char c = s[k];
		if (c == ':') {
			if (k > 0 && k + 2 < n && s[k + 1] == '/' && s[k + 2] == '/')
				i = k + 3;
			break;
		}
		if (!a_alnum(c) && c != '+' && c != '-' && c != '.')
			break;
	}
	if (i == 0 && n >= 2 && s[0] == '/' && s[1] == '/')
		i = 2;
	for (e = i; e < n; e++)
		if (s[e] == '/' || s[e] == '?' || s[e] == '#' || s[e] == '\\' || a_space(s[e]))
			break;
	for (k = e; k > i; k--)
		if (s[k - 1] == '@') {
			i = k;
			break;
		}
	if (i < e && s[i] == '[') {
		const char *r = memchr(s + i, ']', e - i);
		if (r)
			e = (size_t)(r - s) + 1;
	} else {
		for (k = e; k > i; k--)
			if (s[k - 1] == ':') {
				e = k - 1;
				break;
			}
	}
	while (e > i && s[e - 1] == '.')
		e--;
	*a = i;
	*b = e;
	return e > i;
}

static bool generic_sld(const char *s, size_t n)
{
	static const char *const g[] = {"ac", "co", "com", "edu", "go", "gob", "gov",
	                                "ltd", "mil", "ne", "net", "or", "org", "plc"};
	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
		if (strlen(g[i]) == n && memcmp(g[i], s, n) == 0)
			return true;
	return false;
}

/* regdom - where the registered domain starts in host h[0..n): the last two
 * labels, or three under a generic second level of a country code
 * ("example.co.uk"); an IP address is its own domain. */
static size_t regdom(const char *h, size_t n)
{
	size_t d[3], nd = 0, k;
	bool ip = true;
	for (k = 0; k < n; k++)
		if (!a_digit(h[k]) && h[k] != '.')
			ip = false;
	if (ip || (n && h[0] == '['))
		return 0;
	for (k = n; k-- > 0 && nd < 3;)
		if (h[k] == '.')
			d[nd++] = k;
	if (nd == 0)
		return 0;
	size_t s2 = nd > 1 ? d[1] + 1 : 0;
	if (n - d[0] - 1 == 2 && generic_sld(h + s2, d[0] - s2))
		return nd > 2 ? d[2] + 1 : 0;
	return s2;
}

/* emit_host - prefix + host and, when domain is given, domain + its
 * registered domain, from URL text s[0..n). Returns false without a host. */
static bool emit_host(tctx *x, const char *s, size_t n, const char *host, const char *domain)
{
	size_t a, b;
	if (!host_span(s, n, &a, &b))
		return false;
	tb t;
	tb_init(&t, host, META_MAX);
	tb_utf8(&t, s + a, b - a);
	emit(x, &t);
	if (domain) {
		size_t d = regdom(s + a, b - a);
		tb_init(&t, domain, META_MAX);
		tb_utf8(&t, s + a + d, b - a - d);
		emit(x, &t);
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
	emit_host(x, w.b + 4, w.n - 4, "url-host:", "url-domain:");
	plain_words(x, u, he, e);
	if (match(u, e, he, "/watch?"))
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
	if (match(u, n, i, "http://"))
		hs = i + 7;
	else if (match(u, n, i, "https://"))
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
		size_t dots, last, h = host_run(u, n, i, &dots, &last);
		bool ok = dots > 0 && (h >= n || (klass(u[h]) != K_WORD && u[h] != '@' && u[h] != '_'));
		if (ok) {
			bool path = h < n && u[h] == '/';
			ok = (match(u, n, i, "www.") && dots >= 2) || known_tld(u, last, h) ||
			     (path && alpha_label(u, last, h));
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

static bool is_local(int32_t c)
{
	return is_label(c) || c == '.' || c == '_' || c == '+' || c == '%';
}

/* try_email - an e-mail address starting at the word u[i]. Returns its end,
 * or i when there is none. */
static size_t try_email(tctx *x, const int32_t *u, size_t n, size_t i)
{
	if (i < x->no_email)
		return i;
	size_t j = i;
	while (j < n && is_local(u[j]))
		j++;
	size_t dots = 0, last = 0, e = j;
	if (j < n && u[j] == '@' && j - i <= 64)
		e = host_run(u, n, j + 1, &dots, &last);
	if (dots == 0 || !alpha_label(u, last, e)) {
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
	emit(x, &t);
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
	size_t i = 0;
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
		emit(x, &b);
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
		emit(x, &b);
		i = j;
	}
}

static void emit_ip24(tctx *x, const unsigned char *a)
{
	tb b;
	tb_init(&b, "ip24:", TB_CAP);
	for (int i = 0; i < 3; i++) {
		if (i)
			tb_str(&b, ".");
		tb_uint(&b, a[i]);
	}
	emit(x, &b);
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
			emit(x, &b);
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
			emit(x, &b);
			break;
		}
		case F_URL:
			if (n) {
				emit_host(x, s, n, "url-host:", "url-domain:");
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
			emit_host(x, s, n, "ref-host:", NULL);
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
                const unsigned char key[HASH_MODEL_KEY_BYTES])
{
	if (!out)
		return THRESH_EINVAL;
	tok_list_clear(out);
	if (!c || !key)
		return THRESH_EINVAL;
	for (int f = 0; f < F_COUNT; f++)
		if (c->val[f] && !utf8_check((const unsigned char *)c->val[f], c->len[f], NULL))
			return THRESH_EUTF8;

	tctx ctx, *x = &ctx; /* about 6 KiB, scratch for short fields included */
	memset(x, 0, offsetof(tctx, prev));
	x->t = out;
	x->key = key;
	x->f = features | TOK_F_WORDS;
	x->s.b = x->s.bsmall;
	x->s.bcap = SMALL;
	x->s.u = x->s.usmall;
	x->s.ucap = SMALL;

	unsigned caps = 0;
	if (c->val[F_CONTENT]) {
		size_t m, nu;
		x->err = html_strip(x, (const unsigned char *)c->val[F_CONTENT], c->len[F_CONTENT], &m);
		if (!x->err)
			x->err = normalize(x, x->s.b, m, true, &nu);
		if (!x->err) {
			caps = x->caps;
			scan_content(x, x->s.u, nu);
			if (x->f & TOK_F_CHARGRAMS)
				chargrams(x, x->s.u, nu);
		}
	}
	if (!x->err && (x->f & TOK_F_META))
		meta(x, c);
	if (!x->err && (x->f & TOK_F_SHAPE))
		shape(x, c, caps);

	int rc = x->err;
	out->links = x->nlinks;
	scratch_free(&x->s);
	if (rc)
		tok_list_clear(out);
	return rc;
}
