/* migrate.c - older formats brought to this one (migrate.h). */
#include <stdlib.h>
#include <string.h>

#include "thresh/error.h"
#include "migrate.h"
#include "model.h"
#include "replica.h"
#include "tokenize.h"

/* An open-addressing set of 64-bit ids, at most half full: the tokens a
 * /24's id is looked for among, 2^24 times. Ids are keyed SipHash values,
 * so their low bits index well; 0 marks an empty slot, id 0 is kept aside. */
struct idset {
	uint64_t *slot;
	size_t mask;
	int zero;
};

static int idset_has(const struct idset *s, uint64_t id)
{
	if (!id)
		return s->zero;
	for (size_t i = (size_t)id & s->mask;; i = (i + 1) & s->mask) {
		if (s->slot[i] == id)
			return 1;
		if (!s->slot[i])
			return 0;
	}
}

static void idset_add(struct idset *s, uint64_t id)
{
	if (!id) {
		s->zero = 1;
		return;
	}
	size_t i = (size_t)id & s->mask;
	while (s->slot[i] && s->slot[i] != id)
		i = (i + 1) & s->mask;
	s->slot[i] = id;
}

struct fill {
	struct idset *set;
	size_t n;
};

static int count_plain(uint64_t id, const tok_counts *c, void *ctx)
{
	(void)id;
	if (!(c->flags & COUNTS_IDENTITY))
		((struct fill *)ctx)->n++;
	return 0;
}

static int add_plain(uint64_t id, const tok_counts *c, void *ctx)
{
	if (!(c->flags & COUNTS_IDENTITY))
		idset_add(((struct fill *)ctx)->set, id);
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	uint64_t x = ((const migrate_pair *)a)->from, y = ((const migrate_pair *)b)->from;
	return x < y ? -1 : x > y;
}

uint64_t migrate_pair_find(const migrate_pair *p, size_t n, uint64_t from)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p[mid].from < from)
			lo = mid + 1;
		else if (p[mid].from > from)
			hi = mid;
		else
			return p[mid].to;
	}
	return from;
}

/* move_token - the counts of from moved onto to (NULL: dropped). */
static int move_token(store_txn *t, uint64_t from, uint64_t to, int drop)
{
	tok_counts a, b;
	int rc;
	if ((rc = store_tokens_get(t, &from, 1, &a)))
		return rc;
	memset(&b, 0, sizeof b);
	if ((rc = store_token_put(t, from, &b)))
		return rc; /* all zeros: deleted */
	if (drop || (a.spam == 0 && a.ham == 0))
		return 0; /* a /24 in the prior alone: the prior never holds one */
	if ((rc = store_tokens_get(t, &to, 1, &b)))
		return rc;
	store_counts_add(&b, a.spam, a.ham, 0);
	if (a.day > b.day)
		b.day = a.day;
	b.flags |= COUNTS_IDENTITY;
	return store_token_put(t, to, &b);
}

int migrate_ip24(store_txn *t, const unsigned char from[HASH_MODEL_KEY_BYTES],
                 const unsigned char *to, migrate_pair **pairs, size_t *npairs, uint64_t *found)
{
	struct idset set = {NULL, 0, 0};
	struct fill f = {&set, 0};
	migrate_pair *p = NULL;
	size_t np = 0, cap = 0;
	int rc;
	if ((rc = store_tokens_foreach(t, count_plain, &f)))
		return rc;
	size_t slots = 16;
	while (slots < 2 * f.n + 2)
		slots *= 2;
	if (!(set.slot = calloc(slots, sizeof *set.slot)))
		return THRESH_ENOMEM;
	set.mask = slots - 1;
	if (f.n && (rc = store_tokens_foreach(t, add_plain, &f)))
		goto out;
	char text[TOK_IP24_MAX];
	for (unsigned a = 0; f.n && a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (unsigned c = 0; c < 256; c++) {
				size_t n = tok_ip24_text(text, a, b, c);
				uint64_t id = hash_token(from, text, n);
				if (!idset_has(&set, id))
					continue;
				if (np == cap) {
					cap = cap ? cap * 2 : 64;
					migrate_pair *q = realloc(p, cap * sizeof *p);
					if (!q) {
						rc = THRESH_ENOMEM;
						goto out;
					}
					p = q;
				}
				p[np].from = id;
				p[np].to = to ? hash_token(to, text, n) : 0;
				np++;
			}
	for (size_t i = 0; i < np; i++)
		if ((rc = move_token(t, p[i].from, p[i].to, to == NULL)))
			goto out;
	if (np)
		qsort(p, np, sizeof *p, cmp_pair);
	if (found)
		*found = np;
	if (pairs) {
		*pairs = p;
		*npairs = np;
		p = NULL;
	}
out:
	free(p);
	free(set.slot);
	return rc;
}

static int to_legacy(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	int rc = store_rec_put(ctx, "legacy", k, kl, v, vl);
	return rc ? rc : 1; /* and deleted from learned */
}

int migrate_learned(store_txn *t)
{
	return store_rec_foreach(t, "learned", to_legacy, t);
}

struct pairs {
	const migrate_pair *p;
	size_t n;
};

static uint64_t map_pair(uint64_t id, int *ident, void *ctx)
{
	const struct pairs *m = ctx;
	uint64_t to = migrate_pair_find(m->p, m->n, id);
	*ident = to != id;
	return to;
}

/* from2 - format 2 to 3 (the header's list). */
static int from2(store_txn *t, const site_keys *k)
{
	model_meta m;
	migrate_pair *p = NULL;
	size_t np = 0;
	uint32_t fmt = 3;
	int rc;
	if ((rc = store_meta_get(t, "key", m.key, sizeof m.key)))
		return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
	rc = migrate_ip24(t, m.key, k->ident, &p, &np, NULL);
	hash_wipe(m.key, sizeof m.key);
	if (!rc && !(rc = migrate_learned(t))) {
		struct pairs m2 = {p, np};
		rc = replica_outbox_migrate(t, map_pair, &m2);
	}
	free(p);
	if (rc || (rc = store_meta_put(t, "format", &fmt, sizeof fmt)) || (rc = meta_load(t, &m)))
		return rc;
	hash_wipe(m.key, sizeof m.key);
	return meta_recount(t, &m);
}

int migrate_db(store_txn *t, const site_keys *k, uint32_t *from)
{
	uint32_t fmt;
	int rc = meta_format(t, &fmt);
	if (rc)
		return rc;
	*from = fmt;
	if (fmt == 1 && (rc = meta_upgrade(t)))
		return rc;
	if (fmt <= 2 && (rc = from2(t, k)))
		return rc;
	return fmt > DB_FORMAT_VERSION ? THRESH_EVERSION : 0;
}
