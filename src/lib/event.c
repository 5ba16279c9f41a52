/* event.c - encoding and decoding of events and undo records (event.h). */
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "event.h"

#define EVENT_MAX_TOKENS (1u << 24)

/* A little-endian writer and reader over a byte buffer. */
struct wbuf {
	unsigned char *p;
	size_t len;
};

static void put_u8(struct wbuf *w, unsigned v)
{
	w->p[w->len++] = (unsigned char)v;
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->len++] = (unsigned char)(v >> (8 * i));
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		w->p[w->len++] = (unsigned char)(v >> (8 * i));
}

static void put_bytes(struct wbuf *w, const void *s, size_t n)
{
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

struct rbuf {
	const unsigned char *p;
	size_t len, pos;
	int bad;
};

static const unsigned char *take(struct rbuf *r, size_t n)
{
	if (r->bad || r->len - r->pos < n) {
		r->bad = 1;
		return NULL;
	}
	const unsigned char *s = r->p + r->pos;
	r->pos += n;
	return s;
}

static unsigned get_u8(struct rbuf *r)
{
	const unsigned char *s = take(r, 1);
	return s ? s[0] : 0;
}

static uint32_t get_u32(struct rbuf *r)
{
	const unsigned char *s = take(r, 4);
	uint32_t v = 0;
	for (int i = 3; s && i >= 0; i--)
		v = (v << 8) | s[i];
	return v;
}

static uint64_t get_u64(struct rbuf *r)
{
	const unsigned char *s = take(r, 8);
	uint64_t v = 0;
	for (int i = 7; s && i >= 0; i--)
		v = (v << 8) | s[i];
	return v;
}

static void get_bytes(struct rbuf *r, void *out, size_t n)
{
	const unsigned char *s = take(r, n);
	if (s)
		memcpy(out, s, n);
	else
		memset(out, 0, n);
}

static uint64_t get_double_bits(double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	return v;
}

static double from_bits(uint64_t v)
{
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

uint64_t event_keyfp(const unsigned char key[HASH_MODEL_KEY_BYTES])
{
	static const char label[] = "thresh-cluster-model-key";
	unsigned char buf[sizeof label + HASH_MODEL_KEY_BYTES], out[16];
	memcpy(buf, label, sizeof label);
	memcpy(buf + sizeof label, key, HASH_MODEL_KEY_BYTES);
	hash_bytes(NULL, 0, buf, sizeof buf, out, sizeof out);
	hash_wipe(buf, sizeof buf);
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | out[i];
	return v;
}

/* put_bits - n flags as ceil(n/8) bytes, flag i in bit i % 8 of byte i / 8. */
static void put_bits(struct wbuf *w, const unsigned char *f, size_t n)
{
	size_t bytes = (n + 7) / 8;
	memset(w->p + w->len, 0, bytes);
	for (size_t i = 0; f && i < n; i++)
		if (f[i])
			w->p[w->len + i / 8] |= (unsigned char)(1u << (i % 8));
	w->len += bytes;
}

static void get_bits(const unsigned char *b, unsigned char *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f[i] = (b[i / 8] >> (i % 8)) & 1;
}

int event_encode(const event *e, unsigned char **out, size_t *len)
{
	if (e->n > EVENT_MAX_TOKENS || (!e->has_digest && !e->has_legacy))
		return THRESH_EINVAL;
	size_t size = 2 + 4 + 4 + 4 + 8 + 2 * HASH_DIGEST_BYTES + HASH_ID_BYTES + 4 + 8 * e->n +
	              2 * ((e->n + 7) / 8);
	struct wbuf w = {malloc(size), 0};
	if (!w.p)
		return THRESH_ENOMEM;
	put_u8(&w, 'T');
	put_u8(&w, 'E');
	put_u8(&w, EVENT_VERSION);
	put_u8(&w, (unsigned)e->op);
	put_u8(&w, (unsigned)e->label);
	put_u8(&w, (e->has_author ? 1u : 0u) | (e->has_digest ? 2u : 0u) | (e->has_legacy ? 4u : 0u));
	put_u32(&w, e->day);
	put_u32(&w, e->tokenizer);
	put_u64(&w, e->keyfp);
	if (e->has_digest)
		put_bytes(&w, e->digest, HASH_DIGEST_BYTES);
	if (e->has_legacy)
		put_bytes(&w, e->legacy, HASH_DIGEST_BYTES);
	if (e->has_author)
		put_bytes(&w, e->author, HASH_ID_BYTES);
	put_u32(&w, (uint32_t)e->n);
	for (size_t i = 0; i < e->n; i++)
		put_u64(&w, e->ids[i]);
	put_bits(&w, e->gram, e->n);
	put_bits(&w, e->ident, e->n);
	*out = w.p;
	*len = w.len;
	return 0;
}

int event_decode(const void *buf, size_t len, event_buf *b)
{
	struct rbuf r = {buf, len, 0, 0};
	event *e = &b->ev;
	memset(b, 0, sizeof *b);
	if (get_u8(&r) != 'T' || get_u8(&r) != 'E')
		return THRESH_EFORMAT;
	unsigned version = get_u8(&r);
	if (version != 1 && version != EVENT_VERSION)
		return THRESH_EFORMAT;
	e->op = (int)get_u8(&r);
	e->label = (int)get_u8(&r);
	unsigned flags = get_u8(&r), known = version == 1 ? 1u : 7u;
	e->has_author = flags & 1;
	e->day = get_u32(&r);
	e->tokenizer = get_u32(&r);
	e->keyfp = get_u64(&r);
	if (version == 1) {
		/* its digest is of format 2: a legacy one */
		e->has_legacy = 1;
		get_bytes(&r, e->legacy, HASH_DIGEST_BYTES);
	} else {
		e->has_digest = (flags >> 1) & 1;
		e->has_legacy = (flags >> 2) & 1;
		if (e->has_digest)
			get_bytes(&r, e->digest, HASH_DIGEST_BYTES);
		if (e->has_legacy)
			get_bytes(&r, e->legacy, HASH_DIGEST_BYTES);
	}
	if (e->has_author)
		get_bytes(&r, e->author, HASH_ID_BYTES);
	uint32_t n = get_u32(&r);
	size_t bits = (n + 7) / 8;
	if (r.bad || (e->op != EV_LEARN && e->op != EV_UNLEARN) || e->label > 1 || (flags & ~known) ||
	    (!e->has_digest && !e->has_legacy) ||
	    n > EVENT_MAX_TOKENS || (len - r.pos) != (size_t)n * 8 + (version == 1 ? 1 : 2) * bits)
		return THRESH_EFORMAT;
	b->ids = malloc(n ? n * sizeof *b->ids : 1);
	b->gram = malloc(n ? n : 1);
	b->ident = calloc(n ? n : 1, 1);
	if (!b->ids || !b->gram || !b->ident) {
		event_buf_free(b);
		return THRESH_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		b->ids[i] = get_u64(&r);
	get_bits(take(&r, bits), b->gram, n);
	if (version > 1)
		get_bits(take(&r, bits), b->ident, n);
	e->n = n;
	e->ids = b->ids;
	e->gram = b->gram;
	e->ident = b->ident;
	return 0;
}

void event_buf_free(event_buf *b)
{
	if (!b)
		return;
	free(b->ids);
	free(b->gram);
	free(b->ident);
	memset(b, 0, sizeof *b);
}

void undo_reset(undo *u)
{
	size_t cap = u->cap;
	undo_tok *tok = u->tok;
	memset(u, 0, sizeof *u);
	u->cap = cap;
	u->tok = tok;
	u->learned = -1;
	u->legacy = -1;
}

void undo_free(undo *u)
{
	free(u->tok);
	memset(u, 0, sizeof *u);
}

int undo_add_tok(undo *u, uint64_t id, uint32_t spam, uint32_t ham, uint32_t day)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 128;
		undo_tok *p = realloc(u->tok, cap * sizeof *p);
		if (!p)
			return THRESH_ENOMEM;
		u->tok = p;
		u->cap = cap;
	}
	u->tok[u->n++] = (undo_tok){id, spam, ham, day};
	return 0;
}

/* float bits, as the doubles'. */
static uint32_t float_bits(float f)
{
	uint32_t v;
	memcpy(&v, &f, sizeof v);
	return v;
}

static float float_from_bits(uint32_t v)
{
	float f;
	memcpy(&f, &v, sizeof f);
	return f;
}

/* "TU" 3 learned(+1) legacy(+1) flags(bit 0 author, bit 1 author_had,
 * bit 2 a slot of the ring taken, bit 3 a decision withdrawn) [rec(16)]
 * site(4 * u64) preq(8 * f64) [taken: pos(u32) n(u32) label(u8) fp(u64)
 * x(8 * f32)] [withdrawn: pos(u32) label(u8)] n(u32)
 * tokens(n * (u64 + 3 * u32)).
 * Version 2 had no ring and 7 losses, version 1 (thresh 0.2) no legacy
 * label besides: read with the eighth loss equal to the seventh (as
 * meta_load reads its database) and no slot to give back (their learns
 * took none). */
#define UNDO_VERSION 3
#define UNDO_RING_BYTES (4 + 4 + 1 + 8 + 4 * PREQ_N + 4 + 1)

int undo_encode(const undo *u, unsigned char **out, size_t *len)
{
	if (u->n > EVENT_MAX_TOKENS * 2)
		return THRESH_EINVAL;
	size_t size = 6 + 16 + 32 + 8 * PREQ_N + UNDO_RING_BYTES + 4 + 20 * u->n;
	struct wbuf w = {malloc(size), 0};
	if (!w.p)
		return THRESH_ENOMEM;
	put_u8(&w, 'T');
	put_u8(&w, 'U');
	put_u8(&w, UNDO_VERSION);
	put_u8(&w, (unsigned)(u->learned + 1));
	put_u8(&w, (unsigned)(u->legacy + 1));
	put_u8(&w, (u->has_author ? 1u : 0u) | (u->author_had ? 2u : 0u) | (u->ring_had ? 4u : 0u) |
	               (u->ring_wd ? 8u : 0u));
	if (u->has_author && u->author_had)
		put_bytes(&w, u->author_rec, sizeof u->author_rec);
	put_u64(&w, u->site.spam);
	put_u64(&w, u->site.ham);
	put_u64(&w, u->site.spam_tok);
	put_u64(&w, u->site.ham_tok);
	for (int i = 0; i < PREQ_N; i++)
		put_u64(&w, get_double_bits(u->preq[i]));
	if (u->ring_had) {
		put_u32(&w, u->ring_pos);
		put_u32(&w, u->ring_n);
		put_u8(&w, u->ring_label);
		put_u64(&w, u->ring_fp);
		for (int i = 0; i < PREQ_N; i++)
			put_u32(&w, float_bits(u->ring_x[i]));
	}
	if (u->ring_wd) {
		put_u32(&w, u->ring_wd_pos);
		put_u8(&w, u->ring_wd_label);
	}
	put_u32(&w, (uint32_t)u->n);
	for (size_t i = 0; i < u->n; i++) {
		put_u64(&w, u->tok[i].id);
		put_u32(&w, u->tok[i].spam);
		put_u32(&w, u->tok[i].ham);
		put_u32(&w, u->tok[i].day);
	}
	*out = w.p;
	*len = w.len;
	return 0;
}

int undo_decode(const void *buf, size_t len, undo *u)
{
	struct rbuf r = {buf, len, 0, 0};
	memset(u, 0, sizeof *u);
	if (get_u8(&r) != 'T' || get_u8(&r) != 'U')
		return THRESH_EFORMAT;
	unsigned version = get_u8(&r);
	if (version < 1 || version > UNDO_VERSION)
		return THRESH_EFORMAT;
	u->learned = (int)get_u8(&r) - 1;
	u->legacy = version > 1 ? (int)get_u8(&r) - 1 : -1;
	unsigned flags = get_u8(&r);
	u->has_author = flags & 1;
	u->author_had = (flags >> 1) & 1;
	u->ring_had = version > 2 && ((flags >> 2) & 1);
	u->ring_wd = version > 2 && ((flags >> 3) & 1);
	if (flags >> (version > 2 ? 4 : 2))
		return THRESH_EFORMAT;
	if (u->has_author && u->author_had)
		get_bytes(&r, u->author_rec, sizeof u->author_rec);
	u->site.spam = get_u64(&r);
	u->site.ham = get_u64(&r);
	u->site.spam_tok = get_u64(&r);
	u->site.ham_tok = get_u64(&r);
	int nl = version > 2 ? PREQ_N : PREQ_N - 1;
	for (int i = 0; i < nl; i++)
		u->preq[i] = from_bits(get_u64(&r));
	if (nl < PREQ_N)
		u->preq[PREQ_N - 1] = u->preq[PREQ_N - 2];
	if (u->ring_had) {
		u->ring_pos = get_u32(&r);
		u->ring_n = get_u32(&r);
		u->ring_label = (unsigned char)get_u8(&r);
		u->ring_fp = get_u64(&r);
		for (int i = 0; i < PREQ_N; i++)
			u->ring_x[i] = float_from_bits(get_u32(&r));
	}
	if (u->ring_wd) {
		u->ring_wd_pos = get_u32(&r);
		u->ring_wd_label = (unsigned char)get_u8(&r);
	}
	uint32_t n = get_u32(&r);
	if (r.bad || u->learned < -1 || u->learned > 1 || u->legacy < -1 || u->legacy > 1 ||
	    (len - r.pos) != (size_t)n * 20 || u->ring_label > 2 || u->ring_wd_label > 1)
		return THRESH_EFORMAT;
	if (n && !(u->tok = malloc(n * sizeof *u->tok)))
		return THRESH_ENOMEM;
	u->n = u->cap = n;
	for (uint32_t i = 0; i < n; i++) {
		u->tok[i].id = get_u64(&r);
		u->tok[i].spam = get_u32(&r);
		u->tok[i].ham = get_u32(&r);
		u->tok[i].day = get_u32(&r);
	}
	return 0;
}
