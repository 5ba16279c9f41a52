/* replica.c - see replica.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "apply.h"
#include "moderate.h"
#include "replica.h"

/* An outbox entry: state(u8) cseq(u64) evlen(u32) event undo. */
enum { OB_PENDING = 1, OB_RETAINED = 2 };
#define OB_HEAD 13

/* The snapshot's abandoned write transaction, told apart from errors. */
#define ABANDON 2

static void le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---------- the state ---------- */

static int meta_u64(store_txn *t, const char *key, uint64_t *v)
{
	int rc = store_meta_get(t, key, v, sizeof *v);
	if (rc == THRESH_ENOTFOUND) {
		*v = 0;
		rc = 0;
	}
	return rc;
}

int replica_state_get(store_txn *t, replica_state *s)
{
	uint64_t nv;
	int rc;
	memset(s, 0, sizeof *s);
	if ((rc = meta_u64(t, "c:seq", &s->seq)) || (rc = meta_u64(t, "c:t", &s->t_ms)) ||
	    (rc = meta_u64(t, "c:next", &s->next)) || (rc = meta_u64(t, "c:nv", &nv)))
		return rc;
	if (!s->next)
		s->next = 1;
	rc = store_meta_get(t, "c:epoch", s->epoch, sizeof s->epoch);
	if (rc && rc != THRESH_ENOTFOUND)
		return rc;
	s->epoch[sizeof s->epoch - 1] = '\0';
	if (nv > REPLICA_NODES_MAX)
		return THRESH_ECORRUPT;
	s->nv = (size_t)nv;
	if (nv && (rc = store_meta_get(t, "c:vec", s->v, s->nv * sizeof s->v[0])))
		return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
	return 0;
}

static int state_put(store_txn *t, const replica_state *s)
{
	uint64_t nv = s->nv;
	int rc;
	if ((rc = store_meta_put(t, "c:seq", &s->seq, sizeof s->seq)) ||
	    (rc = store_meta_put(t, "c:t", &s->t_ms, sizeof s->t_ms)) ||
	    (rc = store_meta_put(t, "c:next", &s->next, sizeof s->next)) ||
	    (rc = store_meta_put(t, "c:nv", &nv, sizeof nv)) ||
	    (rc = store_meta_put(t, "c:epoch", s->epoch, sizeof s->epoch)))
		return rc;
	return nv ? store_meta_put(t, "c:vec", s->v, s->nv * sizeof s->v[0]) : 0;
}

int replica_next(store *st, uint64_t *next)
{
	store_txn *t;
	int rc = store_read_begin(st, &t);
	if (rc)
		return rc;
	rc = meta_u64(t, "c:next", next);
	store_read_end(t);
	if (!rc && !*next)
		*next = 1;
	return rc;
}

uint64_t replica_lseq(const replica_state *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->nv; i++)
		if (strlen(s->v[i].name) == len && !memcmp(s->v[i].name, name, len))
			return s->v[i].lseq;
	return 0;
}

/* vec_set - origin name's last local sequence. Returns 0, or THRESH_ETOOBIG
 * with more origins than REPLICA_NODES_MAX (or a name too long). */
static int vec_set(replica_state *s, const char *name, size_t len, uint64_t lseq)
{
	for (size_t i = 0; i < s->nv; i++)
		if (strlen(s->v[i].name) == len && !memcmp(s->v[i].name, name, len)) {
			s->v[i].lseq = lseq;
			return 0;
		}
	if (s->nv == REPLICA_NODES_MAX || len >= CLUSTER_NAME_MAX || !len)
		return THRESH_ETOOBIG;
	memset(&s->v[s->nv], 0, sizeof s->v[0]);
	memcpy(s->v[s->nv].name, name, len);
	s->v[s->nv++].lseq = lseq;
	return 0;
}

struct count_ctx {
	uint64_t pending, retained;
};

static int count_entry(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	struct count_ctx *c = ctx;
	(void)k, (void)kl;
	if (vl >= 1 && ((const unsigned char *)v)[0] == OB_PENDING)
		c->pending++;
	else
		c->retained++;
	return 0;
}

int replica_state_read(store *st, replica_state *s, uint64_t *pending, uint64_t *retained)
{
	store_txn *t;
	struct count_ctx c = {0, 0};
	int rc = store_read_begin(st, &t);
	if (rc)
		return rc;
	rc = replica_state_get(t, s);
	if (!rc && (pending || retained))
		rc = store_rec_foreach(t, "outbox", count_entry, &c);
	store_read_end(t);
	if (pending)
		*pending = c.pending;
	if (retained)
		*retained = c.retained;
	return rc;
}

/* ---------- the outbox ---------- */

/* ob_put - write an entry. */
static int ob_put(store_txn *t, uint64_t lseq, int state, uint64_t cseq, const void *ev, size_t evlen,
                  const void *un, size_t unlen)
{
	unsigned char *buf = malloc(OB_HEAD + evlen + unlen);
	if (!buf)
		return THRESH_ENOMEM;
	buf[0] = (unsigned char)state;
	le64(buf + 1, cseq);
	le32(buf + 9, (uint32_t)evlen);
	memcpy(buf + OB_HEAD, ev, evlen);
	if (unlen)
		memcpy(buf + OB_HEAD + evlen, un, unlen);
	int rc = store_rec_put(t, "outbox", &lseq, sizeof lseq, buf, OB_HEAD + evlen + unlen);
	free(buf);
	return rc;
}

int replica_outbox_add(store_txn *t, const event *e, const undo *u)
{
	unsigned char *ev = NULL, *un = NULL;
	size_t evlen, unlen;
	uint64_t next;
	int rc = meta_u64(t, "c:next", &next);
	if (rc)
		return rc;
	if (!next)
		next = 1;
	if (!(rc = event_encode(e, &ev, &evlen)) && !(rc = undo_encode(u, &un, &unlen)) &&
	    !(rc = ob_put(t, next, OB_PENDING, 0, ev, evlen, un, unlen))) {
		next++;
		rc = store_meta_put(t, "c:next", &next, sizeof next);
	}
	free(ev);
	free(un);
	return rc;
}

/* An entry copied out of the store. */
struct entry {
	uint64_t lseq;
	int state;
	uint64_t cseq;
	unsigned char *ev, *un;
	size_t evlen, unlen;
	int done; /* confirmed by this batch */
};

static void entries_free(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].ev);
		free(e[i].un);
	}
	free(e);
}

struct collect {
	struct entry *e;
	size_t n, cap, max, bytes, max_bytes;
	int rc;
	int pending_only;
};

static int collect_entry(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	struct collect *c = ctx;
	const unsigned char *p = v;
	if (kl != 8 || vl < OB_HEAD || rd32(p + 9) > vl - OB_HEAD)
		return THRESH_ECORRUPT;
	if (c->n >= c->max || (c->max_bytes && c->bytes >= c->max_bytes))
		return STORE_STOP;
	if (c->pending_only && p[0] != OB_PENDING)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct entry *ne = realloc(c->e, cap * sizeof *ne);
		if (!ne)
			return THRESH_ENOMEM;
		c->e = ne;
		c->cap = cap;
	}
	struct entry *e = &c->e[c->n];
	memset(e, 0, sizeof *e);
	memcpy(&e->lseq, k, 8);
	e->state = p[0];
	e->cseq = rd64(p + 1);
	e->evlen = rd32(p + 9);
	e->unlen = vl - OB_HEAD - e->evlen;
	if (!(e->ev = malloc(e->evlen ? e->evlen : 1)) || !(e->un = malloc(e->unlen ? e->unlen : 1))) {
		free(e->ev);
		return THRESH_ENOMEM;
	}
	memcpy(e->ev, p + OB_HEAD, e->evlen);
	memcpy(e->un, p + OB_HEAD + e->evlen, e->unlen);
	c->n++;
	c->bytes += e->evlen;
	return 0;
}

/* collect_from - the entries after lseq after (pending ones only, when asked). */
static int collect_from(store_txn *t, uint64_t after, size_t max, size_t max_bytes, int pending_only,
                        struct entry **out, size_t *n)
{
	struct collect c = {NULL, 0, 0, max, 0, max_bytes, 0, pending_only};
	uint64_t from = after + 1;
	int rc = store_rec_foreach_from(t, "outbox", &from, sizeof from, collect_entry, &c);
	if (rc) {
		entries_free(c.e, c.n);
		return rc;
	}
	*out = c.e;
	*n = c.n;
	return 0;
}

int replica_outbox_read(store *st, uint64_t after, size_t max, size_t max_bytes, replica_out **out,
                        size_t *n)
{
	store_txn *t;
	struct entry *e = NULL;
	size_t ne = 0;
	int rc = store_read_begin(st, &t);
	if (rc)
		return rc;
	rc = collect_from(t, after, max, max_bytes, 0, &e, &ne);
	store_read_end(t);
	if (rc)
		return rc;
	replica_out *o = calloc(ne ? ne : 1, sizeof *o);
	if (!o) {
		entries_free(e, ne);
		return THRESH_ENOMEM;
	}
	for (size_t i = 0; i < ne; i++) {
		o[i].lseq = e[i].lseq;
		o[i].ev = e[i].ev;
		o[i].len = e[i].evlen;
		e[i].ev = NULL;
	}
	entries_free(e, ne);
	*out = o;
	*n = ne;
	return 0;
}

void replica_out_free(replica_out *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++)
		free(o[i].ev);
	free(o);
}

/* rekey_entry - one outbox entry of t made before format 3, rewritten. */
static int rekey_entry(store_txn *t, const struct entry *e,
                       uint64_t (*map)(uint64_t id, int *ident, void *ctx), void *ctx)
{
	event_buf b;
	undo u = {0};
	unsigned char *ev = NULL, *un = NULL;
	size_t evlen = 0, unlen = 0;
	int rc = event_decode(e->ev, e->evlen, &b);
	if (rc)
		return rc == THRESH_EFORMAT ? THRESH_ECORRUPT : rc;
	int was_v1 = !b.ev.has_digest; /* its digest was of format 2, now legacy */
	for (size_t i = 0; i < b.ev.n; i++) {
		int moved = 0;
		b.ids[i] = map(b.ids[i], &moved, ctx);
		b.ident[i] |= (unsigned char)moved;
	}
	if (e->unlen) {
		if ((rc = undo_decode(e->un, e->unlen, &u)))
			goto out;
		if (was_v1 && u.legacy < 0) {
			u.legacy = u.learned;
			u.learned = -1;
		}
		for (size_t i = 0; i < u.n; i++) {
			int moved;
			u.tok[i].id = map(u.tok[i].id, &moved, ctx);
		}
	}
	if (!(rc = event_encode(&b.ev, &ev, &evlen)) && (!e->unlen || !(rc = undo_encode(&u, &un, &unlen))))
		rc = ob_put(t, e->lseq, e->state, e->cseq, ev, evlen, un, unlen);
out:
	if (rc == THRESH_EFORMAT)
		rc = THRESH_ECORRUPT;
	free(ev);
	free(un);
	undo_free(&u);
	event_buf_free(&b);
	return rc;
}

int replica_outbox_migrate(store_txn *t, uint64_t (*map)(uint64_t id, int *ident, void *ctx),
                           void *ctx)
{
	struct entry *e = NULL;
	size_t ne = 0;
	int rc = collect_from(t, 0, (size_t)-1, 0, 0, &e, &ne);
	for (size_t i = 0; !rc && i < ne; i++)
		rc = rekey_entry(t, &e[i], map, ctx);
	entries_free(e, ne);
	return rc;
}

/* ---------- applying the log ---------- */

struct apply_job {
	const char *self;
	const replica_in *in;
	size_t n;
	replica_result *res;
};

/* reapply - the pending learns e[from..n) not done, applied on top with
 * fresh undo records written to the outbox; those the state holds already
 * (an own learn at or below its recorded local sequence) are retained. */
static int reapply(apply_ctx *k, const replica_state *s, const char *self, struct entry *e,
                   size_t from, size_t n, uint64_t keyfp, uint32_t tokenizer)
{
	uint64_t mine = replica_lseq(s, self, strlen(self));
	undo u = {0};
	int rc = 0;
	for (size_t j = from; j < n && !rc; j++) {
		event_buf b;
		int what;
		if (e[j].done)
			continue;
		if (e[j].lseq <= mine) {
			rc = ob_put(k->t, e[j].lseq, OB_RETAINED, s->seq, e[j].ev, e[j].evlen, NULL, 0);
			continue;
		}
		if ((rc = event_decode(e[j].ev, e[j].evlen, &b)))
			break;
		if (b.ev.keyfp == keyfp && b.ev.tokenizer == tokenizer) {
			unsigned char *un = NULL;
			size_t unlen = 0;
			if (!(rc = apply_event(k, &b.ev, &u, &what)) && !(rc = undo_encode(&u, &un, &unlen)))
				rc = ob_put(k->t, e[j].lseq, OB_PENDING, 0, e[j].ev, e[j].evlen, un, unlen);
			free(un);
		} else {
			/* a learn of another model (an import replaced it since): it
			 * changes nothing here, so it has nothing to take back */
			rc = ob_put(k->t, e[j].lseq, OB_PENDING, 0, e[j].ev, e[j].evlen, NULL, 0);
		}
		event_buf_free(&b);
	}
	undo_free(&u);
	return rc;
}

/* revert - take back the pending learns e[from..n), newest first. */
static int revert(apply_ctx *k, struct entry *e, size_t from, size_t n)
{
	int rc = 0;
	for (size_t j = n; j-- > from && !rc;) {
		event_buf b;
		undo u;
		if (!e[j].unlen)
			continue; /* another model's learn: it changed nothing */
		if ((rc = event_decode(e[j].ev, e[j].evlen, &b)))
			break;
		if (!(rc = undo_decode(e[j].un, e[j].unlen, &u)))
			rc = apply_revert(k, &b.ev, &u);
		undo_free(&u);
		event_buf_free(&b);
	}
	return rc;
}

static int is_self(const char *self, const replica_in *in)
{
	return strlen(self) == in->node_len && !memcmp(self, in->node, in->node_len);
}

static int apply_fn(store_txn *t, void *ctx)
{
	struct apply_job *job = ctx;
	replica_result *res = job->res;
	const replica_in *in = job->in;
	replica_state s;
	struct entry *p = NULL;
	size_t np = 0, i = 0, k = 0;
	apply_ctx ac;
	int rc, ac_on = 0;

	memset(res, 0, sizeof *res);
	if ((rc = replica_state_get(t, &s)))
		return rc;
	res->seq = s.seq;
	while (i < job->n && in[i].seq <= s.seq)
		i++;
	if (i == job->n)
		return 0;
	if (in[i].seq != s.seq + 1)
		return REPLICA_GAP;
	size_t n = i;
	while (n < job->n && in[n].seq == s.seq + 1 + (n - i))
		n++; /* consecutive only; the rest comes again */

	uint64_t mine = replica_lseq(&s, job->self, strlen(job->self));
	/* 1. own pending learns at the head of the batch, in order: confirmed as
	 * they stand */
	if ((rc = collect_from(t, mine, n - i, 0, 1, &p, &np)))
		return rc;
	while (i < n && k < np && is_self(job->self, &in[i]) && in[i].lseq == p[k].lseq &&
	       in[i].lseq > mine) {
		if ((rc = ob_put(t, p[k].lseq, OB_RETAINED, in[i].seq, p[k].ev, p[k].evlen, NULL, 0)) ||
		    (rc = vec_set(&s, in[i].node, in[i].node_len, in[i].lseq)))
			goto out;
		mine = in[i].lseq;
		s.seq = in[i].seq;
		s.t_ms = in[i].t_ms;
		res->confirmed++;
		res->applied++;
		i++;
		k++;
	}
	if (i < n) {
		/* 2. every pending learn taken back, the log applied, the pending
		 * learns applied again */
		unsigned char key[HASH_MODEL_KEY_BYTES];
		entries_free(p, np);
		p = NULL;
		np = 0;
		k = 0;
		if ((rc = collect_from(t, mine, (size_t)-1, 0, 1, &p, &np)))
			goto out;
		ac_on = 1;
		if ((rc = apply_begin(&ac, t, 1024, NULL, key)))
			goto out;
		uint64_t keyfp = event_keyfp(key);
		hash_wipe(key, sizeof key);
		res->rebased = np > 0;
		if ((rc = revert(&ac, p, 0, np)))
			goto out;
		for (; i < n; i++) {
			const replica_in *e = &in[i];
			event_buf b;
			int what;
			s.seq = e->seq;
			s.t_ms = e->t_ms;
			if (e->lseq <= replica_lseq(&s, e->node, e->node_len)) {
				res->skipped++;
				continue;
			}
			if ((rc = vec_set(&s, e->node, e->node_len, e->lseq)))
				goto out;
			if (event_decode(e->ev, e->ev_len, &b)) {
				res->foreign++;
				continue;
			}
			if (b.ev.keyfp != keyfp || b.ev.tokenizer != ac.m.tokenizer) {
				res->foreign++;
				event_buf_free(&b);
				continue;
			}
			rc = apply_event(&ac, &b.ev, NULL, &what);
			event_buf_free(&b);
			if (rc)
				goto out;
			res->applied++;
			if (is_self(job->self, e)) {
				for (size_t j = 0; j < np; j++)
					if (p[j].lseq == e->lseq && !p[j].done) {
						p[j].done = 1;
						res->confirmed++;
						if ((rc = ob_put(t, p[j].lseq, OB_RETAINED, e->seq, p[j].ev, p[j].evlen,
						                 NULL, 0)))
							goto out;
					}
			}
		}
		if ((rc = reapply(&ac, &s, job->self, p, 0, np, keyfp, ac.m.tokenizer)) ||
		    (rc = apply_end(&ac)))
			goto out;
	}
	res->seq = s.seq;
	rc = state_put(t, &s);
out:
	if (ac_on)
		apply_free(&ac);
	entries_free(p, np);
	return rc;
}

int replica_apply(store *st, const char *self, const replica_in *in, size_t n, replica_result *res)
{
	struct apply_job job = {self, in, n, res};
	return store_write(st, apply_fn, &job);
}

/* ---------- retention ---------- */

struct trim_ctx {
	uint64_t upto, keep;   /* confirmed at or below upto; at most keep of them */
	uint64_t over, seen, dropped;
};

static int trim_entry(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	struct trim_ctx *c = ctx;
	const unsigned char *p = v;
	(void)k, (void)kl;
	if (vl < OB_HEAD || p[0] != OB_RETAINED)
		return STORE_STOP; /* the pending ones come after the retained */
	c->seen++;
	if (rd64(p + 1) <= c->upto || c->seen <= c->over) {
		c->dropped++;
		return 1;
	}
	return 0;
}

static int trim_fn(store_txn *t, void *ctx)
{
	struct trim_ctx *c = ctx;
	struct count_ctx n = {0, 0};
	int rc = store_rec_foreach(t, "outbox", count_entry, &n);
	if (rc)
		return rc;
	c->over = n.retained > c->keep ? n.retained - c->keep : 0;
	c->seen = c->dropped = 0;
	return store_rec_foreach(t, "outbox", trim_entry, c);
}

int replica_trim(store *st, uint64_t upto, uint64_t keep, uint64_t *dropped)
{
	struct trim_ctx c = {upto, keep, 0, 0, 0};
	int rc = store_write(st, trim_fn, &c);
	if (!rc && dropped)
		*dropped = c.dropped;
	return rc;
}

/* ---------- snapshots ---------- */

/* A growing byte buffer. */
struct bbuf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static unsigned char *bb_room(struct bbuf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	unsigned char *at = b->p + b->len;
	b->len += n;
	return at;
}

static void bb_u64(struct bbuf *b, uint64_t v)
{
	unsigned char *p = bb_room(b, 8);
	if (p)
		le64(p, v);
}

static void bb_u32(struct bbuf *b, uint32_t v)
{
	unsigned char *p = bb_room(b, 4);
	if (p)
		le32(p, v);
}

static void bb_bytes(struct bbuf *b, const void *s, size_t n)
{
	unsigned char *p = bb_room(b, n);
	if (p)
		memcpy(p, s, n);
}

static void bb_f64(struct bbuf *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	bb_u64(b, v);
}

/* Version 3 carries the eight losses (the site alone's too) and the ring
 * of the site's decisions (model.h); version 2 (a flags byte per token,
 * and the legacy digests: format 3) is read with the eighth loss equal to
 * the seventh and an empty ring. A snapshot of version 1 holds identity
 * tokens under the model key and digests of format 2; it is refused (as
 * malformed: a node waits for one of a version it reads, which any node of
 * this version writes). */
#define SNAP_VERSION 3
#define SNAP_DIGEST 16
#define SNAP_TOKEN 29
#define SNAP_RING_BYTES (12 + MODEL_RING * (1 + 8 + 4 * PREQ_N))

static int snap_token(uint64_t id, const tok_counts *c, void *ctx)
{
	struct bbuf *b = ctx;
	unsigned char f = (unsigned char)c->flags;
	bb_u64(b, id);
	bb_u32(b, c->spam);
	bb_u32(b, c->ham);
	bb_u32(b, c->day);
	bb_u32(b, c->pspam);
	bb_u32(b, c->pham);
	bb_bytes(b, &f, 1);
	return b->oom ? THRESH_ENOMEM : 0;
}

static int snap_rec(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	struct bbuf *b = ctx;
	bb_bytes(b, k, kl);
	bb_bytes(b, v, vl);
	return b->oom ? THRESH_ENOMEM : 0;
}

static void bb_layer(struct bbuf *b, const layer_totals *l)
{
	bb_u64(b, l->spam);
	bb_u64(b, l->ham);
	bb_u64(b, l->spam_tok);
	bb_u64(b, l->ham_tok);
}

/* snap_ring - the ring of the site's decisions: its size, pos and n
 * (u32), then every slot's label (u8), fingerprint (u64) and values (f32
 * bits), all of them,
 * so that a node loading it holds the very same ring. */
static int snap_ring(store_txn *t, struct bbuf *b)
{
	model_ring *r = malloc(sizeof *r);
	if (!r)
		return THRESH_ENOMEM;
	int rc = meta_ring_get(t, r);
	if (!rc) {
		bb_u32(b, MODEL_RING);
		bb_u32(b, r->pos);
		bb_u32(b, r->n);
		bb_bytes(b, r->label, MODEL_RING);
		for (int i = 0; i < MODEL_RING; i++)
			bb_u64(b, r->fp[i]);
		for (int i = 0; i < MODEL_RING; i++)
			for (int j = 0; j < PREQ_N; j++) {
				uint32_t v;
				memcpy(&v, &r->x[i][j], sizeof v);
				bb_u32(b, v);
			}
	}
	free(r);
	return rc;
}

/* serialize - the state t holds (the overlay taken back already). */
static int serialize(store_txn *t, const char *epoch, struct bbuf *b, uint64_t *seq)
{
	replica_state s;
	model_meta m;
	store_info info;
	uint64_t nauth;
	int rc;
	if ((rc = replica_state_get(t, &s)) || (rc = meta_load(t, &m)) || (rc = store_info_get(t, &info)) ||
	    (rc = store_rec_count(t, "authors", &nauth)))
		return rc;
	uint64_t keyfp = event_keyfp(m.key);
	hash_wipe(m.key, sizeof m.key);
	if (epoch) {
		snprintf(s.epoch, sizeof s.epoch, "%s", epoch);
		s.seq = 0;
		s.t_ms = 0;
	}
	*seq = s.seq;
	bb_bytes(b, "TS", 2);
	unsigned char ver = SNAP_VERSION, elen = (unsigned char)strlen(s.epoch);
	bb_bytes(b, &ver, 1);
	bb_bytes(b, &elen, 1);
	bb_bytes(b, s.epoch, elen);
	bb_u64(b, s.seq);
	bb_u64(b, s.t_ms);
	bb_u64(b, keyfp);
	bb_u32(b, m.tokenizer);
	bb_layer(b, &m.site);
	bb_layer(b, &m.prior);
	for (int i = 0; i < PREQ_N; i++)
		bb_f64(b, m.preq[i]);
	if ((rc = snap_ring(t, b)))
		return rc;
	bb_u32(b, (uint32_t)s.nv);
	for (size_t i = 0; i < s.nv; i++) {
		unsigned char nl = (unsigned char)strlen(s.v[i].name);
		bb_bytes(b, &nl, 1);
		bb_bytes(b, s.v[i].name, nl);
		bb_u64(b, s.v[i].lseq);
	}
	bb_u64(b, info.tokens);
	if ((rc = store_tokens_foreach(t, snap_token, b)))
		return rc;
	bb_u64(b, info.learned);
	if ((rc = store_rec_foreach(t, "learned", snap_rec, b)))
		return rc;
	bb_u64(b, info.legacy);
	if ((rc = store_rec_foreach(t, "legacy", snap_rec, b)))
		return rc;
	bb_u64(b, nauth);
	if ((rc = store_rec_foreach(t, "authors", snap_rec, b)))
		return rc;
	if (b->oom)
		return THRESH_ENOMEM;
	unsigned char *d = bb_room(b, SNAP_DIGEST);
	if (!d)
		return THRESH_ENOMEM;
	hash_bytes(NULL, 0, b->p, b->len - SNAP_DIGEST, d, SNAP_DIGEST);
	return 0;
}

struct build_job {
	const char *epoch;
	struct bbuf b;
	uint64_t seq;
};

/* build_fn - in a write transaction: the overlay taken back, the state
 * serialized, the transaction abandoned (ABANDON). */
static int build_fn(store_txn *t, void *ctx)
{
	struct build_job *j = ctx;
	struct entry *p = NULL;
	size_t np = 0;
	apply_ctx ac;
	int rc;
	free(j->b.p);
	memset(&j->b, 0, sizeof j->b);
	if ((rc = collect_from(t, 0, (size_t)-1, 0, 1, &p, &np)))
		return rc;
	if ((rc = apply_begin(&ac, t, 1024, NULL, NULL)) == 0 && (rc = revert(&ac, p, 0, np)) == 0)
		rc = apply_end(&ac);
	apply_free(&ac);
	entries_free(p, np);
	if (!rc)
		rc = serialize(t, j->epoch, &j->b, &j->seq);
	return rc ? rc : ABANDON;
}

int replica_snapshot_build(store *st, int may_revert, const char *epoch, unsigned char **blob,
                           size_t *len, uint64_t *seq)
{
	struct build_job j = {epoch, {NULL, 0, 0, 0}, 0};
	struct count_ctx c = {0, 0};
	store_txn *t;
	int rc = store_read_begin(st, &t);
	if (rc)
		return rc;
	/* pending learns looked for in the snapshot's own transaction: one made
	 * after the look would otherwise be in the counts but not in the
	 * origins' sequences, and be applied twice by a node loading it */
	rc = store_rec_foreach(t, "outbox", count_entry, &c);
	if (!rc && !c.pending)
		rc = serialize(t, epoch, &j.b, &j.seq);
	store_read_end(t);
	if (!rc && c.pending) {
		if (!may_revert)
			return THRESH_EBUSY;
		rc = store_write(st, build_fn, &j); /* takes them back in a transaction of its own */
		if (rc == ABANDON)
			rc = 0;
	}
	if (rc) {
		free(j.b.p);
		return rc;
	}
	*blob = j.b.p;
	*len = j.b.len;
	*seq = j.seq;
	return 0;
}

/* A parsed snapshot: pointers into the blob. */
struct snap {
	char epoch[REPLICA_EPOCH_MAX];
	uint64_t seq, t_ms, keyfp;
	uint32_t tokenizer;
	layer_totals site, prior;
	double preq[PREQ_N];
	const unsigned char *ring; /* version 3: SNAP_RING_BYTES; NULL: none */
	replica_state vec;
	uint64_t ntok, nlrn, nleg, nauth;
	const unsigned char *tok, *lrn, *leg, *auth;
};

static int snap_parse(const unsigned char *p, size_t len, struct snap *sn, int check)
{
	size_t pos = 0;
#define NEED(n)                                                                 \
	do {                                                                        \
		if (len - pos < (size_t)(n))                                            \
			return THRESH_EFORMAT;                                              \
	} while (0)
	memset(sn, 0, sizeof *sn);
	if (len < 4 + SNAP_DIGEST || p[0] != 'T' || p[1] != 'S' || (p[2] != 2 && p[2] != SNAP_VERSION))
		return THRESH_EFORMAT;
	int version = p[2];
	size_t elen = p[3];
	pos = 4;
	if (elen >= REPLICA_EPOCH_MAX)
		return THRESH_EFORMAT;
	NEED(elen + 28);
	memcpy(sn->epoch, p + pos, elen);
	pos += elen;
	sn->seq = rd64(p + pos);
	sn->t_ms = rd64(p + pos + 8);
	sn->keyfp = rd64(p + pos + 16);
	sn->tokenizer = rd32(p + pos + 24);
	pos += 28;
	if (!check)
		return 0;
	unsigned char d[SNAP_DIGEST];
	hash_bytes(NULL, 0, p, len - SNAP_DIGEST, d, SNAP_DIGEST);
	if (memcmp(d, p + len - SNAP_DIGEST, SNAP_DIGEST))
		return THRESH_EFORMAT; /* torn or damaged */
	len -= SNAP_DIGEST;
	int nl = version > 2 ? PREQ_N : PREQ_N - 1;
	NEED(64 + 8 * nl + (version > 2 ? SNAP_RING_BYTES : 0) + 4);
	layer_totals *l[2] = {&sn->site, &sn->prior};
	for (int i = 0; i < 2; i++) {
		l[i]->spam = rd64(p + pos);
		l[i]->ham = rd64(p + pos + 8);
		l[i]->spam_tok = rd64(p + pos + 16);
		l[i]->ham_tok = rd64(p + pos + 24);
		pos += 32;
	}
	for (int i = 0; i < nl; i++, pos += 8) {
		uint64_t v = rd64(p + pos);
		memcpy(&sn->preq[i], &v, sizeof v);
	}
	if (nl < PREQ_N)
		sn->preq[PREQ_N - 1] = sn->preq[PREQ_N - 2];
	if (version > 2) {
		const unsigned char *q = p + pos;
		uint32_t size = rd32(q), rpos = rd32(q + 4), rn = rd32(q + 8);
		if (size != MODEL_RING || rpos >= MODEL_RING || rn > MODEL_RING ||
		    (rn < MODEL_RING && rpos != rn))
			return THRESH_EFORMAT;
		for (int i = 0; i < MODEL_RING; i++)
			if (q[12 + i] > RING_WITHDRAWN)
				return THRESH_EFORMAT;
		sn->ring = q;
		pos += SNAP_RING_BYTES;
	}
	uint32_t nv = rd32(p + pos);
	pos += 4;
	if (nv > REPLICA_NODES_MAX)
		return THRESH_EFORMAT;
	for (uint32_t i = 0; i < nv; i++) {
		NEED(1);
		size_t nl = p[pos++];
		NEED(nl + 8);
		if (vec_set(&sn->vec, (const char *)p + pos, nl, rd64(p + pos + nl)))
			return THRESH_EFORMAT;
		pos += nl + 8;
	}
	NEED(8);
	sn->ntok = rd64(p + pos);
	pos += 8;
	if (sn->ntok > (len - pos) / SNAP_TOKEN)
		return THRESH_EFORMAT;
	sn->tok = p + pos;
	pos += sn->ntok * SNAP_TOKEN;
	NEED(8);
	sn->nlrn = rd64(p + pos);
	pos += 8;
	if (sn->nlrn > (len - pos) / 17)
		return THRESH_EFORMAT;
	sn->lrn = p + pos;
	pos += sn->nlrn * 17;
	NEED(8);
	sn->nleg = rd64(p + pos);
	pos += 8;
	if (sn->nleg > (len - pos) / 17)
		return THRESH_EFORMAT;
	sn->leg = p + pos;
	pos += sn->nleg * 17;
	NEED(8);
	sn->nauth = rd64(p + pos);
	pos += 8;
	if (sn->nauth > (len - pos) / 32 || pos + sn->nauth * 32 != len)
		return THRESH_EFORMAT;
	sn->auth = p + pos;
	return 0;
#undef NEED
}

int replica_snapshot_info(const void *blob, size_t len, char epoch[REPLICA_EPOCH_MAX], uint64_t *seq)
{
	struct snap sn;
	int rc = snap_parse(blob, len, &sn, 0);
	if (rc)
		return rc;
	memcpy(epoch, sn.epoch, REPLICA_EPOCH_MAX);
	*seq = sn.seq;
	return 0;
}

struct load_job {
	const char *self;
	const struct snap *sn;
};

static int drop_all(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	(void)k, (void)kl, (void)v, (void)vl, (void)ctx;
	return 1;
}

/* ring_load - the snapshot's ring of the site's decisions and their fits
 * into t (a snapshot of version 2 has none: an empty ring). */
static int ring_load(store_txn *t, const struct snap *sn, model_meta *m)
{
	model_ring *r = calloc(1, sizeof *r);
	if (!r)
		return THRESH_ENOMEM;
	if (sn->ring) {
		const unsigned char *q = sn->ring;
		r->pos = rd32(q + 4);
		r->n = rd32(q + 8);
		memcpy(r->label, q + 12, MODEL_RING);
		q += 12 + MODEL_RING;
		for (int i = 0; i < MODEL_RING; i++, q += 8)
			r->fp[i] = rd64(q);
		for (int i = 0; i < MODEL_RING; i++)
			for (int j = 0; j < PREQ_N; j++, q += 4) {
				uint32_t v = rd32(q);
				memcpy(&r->x[i][j], &v, sizeof v);
			}
	}
	model_fits_make(r, m, &m->fits);
	int rc = meta_ring_put(t, r);
	free(r);
	return rc ? rc : meta_put_fits(t, m);
}

static int load_fn(store_txn *t, void *ctx)
{
	struct load_job *j = ctx;
	const struct snap *sn = j->sn;
	replica_state s;
	model_meta m;
	struct entry *e = NULL;
	size_t ne = 0;
	apply_ctx ac;
	int rc;
	if ((rc = replica_state_get(t, &s)) || (rc = meta_load(t, &m)))
		return rc;
	uint64_t keyfp = event_keyfp(m.key);
	hash_wipe(m.key, sizeof m.key);
	if (keyfp != sn->keyfp || m.tokenizer != sn->tokenizer)
		return THRESH_EREFUSED;
	/* every own learn in the outbox, pending or retained, copied out first */
	if ((rc = collect_from(t, 0, (size_t)-1, 0, 0, &e, &ne)))
		return rc;
	if ((rc = store_tokens_clear(t)) || (rc = store_rec_foreach(t, "authors", drop_all, NULL)))
		goto out;
	for (uint64_t i = 0; i < sn->ntok; i++) {
		const unsigned char *q = sn->tok + SNAP_TOKEN * i;
		tok_counts c = {rd32(q + 8), rd32(q + 12), rd32(q + 16), rd32(q + 20), rd32(q + 24), q[28]};
		if ((rc = store_token_put(t, rd64(q), &c)))
			goto out;
	}
	for (uint64_t i = 0; i < sn->nlrn; i++)
		if ((rc = store_learned_put(t, sn->lrn + 17 * i, sn->lrn[17 * i + 16] ? 1 : 0)))
			goto out;
	for (uint64_t i = 0; i < sn->nleg; i++) {
		unsigned char v = sn->leg[17 * i + 16] ? 1 : 0;
		if ((rc = store_rec_put(t, "legacy", sn->leg + 17 * i, 16, &v, 1)))
			goto out;
	}
	for (uint64_t i = 0; i < sn->nauth; i++)
		if ((rc = store_rec_put(t, "authors", sn->auth + 32 * i, 16, sn->auth + 32 * i + 16, 16)))
			goto out;
	m.site = sn->site;
	m.prior = sn->prior;
	memcpy(m.preq, sn->preq, sizeof m.preq);
	if ((rc = meta_put_totals(t, &m)) || (rc = ring_load(t, sn, &m)))
		goto out;
	uint64_t next = s.next;
	s = sn->vec;
	memcpy(s.epoch, sn->epoch, sizeof s.epoch);
	s.seq = sn->seq;
	s.t_ms = sn->t_ms;
	uint64_t mine = replica_lseq(&s, j->self, strlen(j->self));
	s.next = next > mine ? next : mine + 1;
	if (!(rc = apply_begin(&ac, t, 1024, NULL, NULL))) {
		rc = reapply(&ac, &s, j->self, e, 0, ne, keyfp, sn->tokenizer);
		if (!rc)
			rc = apply_end(&ac);
	}
	apply_free(&ac);
	if (!rc)
		rc = state_put(t, &s);
out:
	entries_free(e, ne);
	return rc;
}

int replica_snapshot_load(store *st, const char *self, const void *blob, size_t len)
{
	struct snap sn;
	int rc = snap_parse(blob, len, &sn, 1);
	if (rc)
		return rc;
	struct load_job j = {self, &sn};
	return store_write(st, load_fn, &j);
}

static int epoch_fn(store_txn *t, void *ctx)
{
	replica_state s;
	int rc = replica_state_get(t, &s);
	if (rc)
		return rc;
	snprintf(s.epoch, sizeof s.epoch, "%s", (const char *)ctx);
	s.seq = 0;
	s.t_ms = 0;
	return state_put(t, &s);
}

int replica_epoch_begin(store *st, const char *epoch)
{
	return store_write(st, epoch_fn, (void *)epoch);
}
