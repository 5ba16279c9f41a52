/* ratelimit.c - GCRA rate limiting over the no-sync rate store. */
#include <math.h>
#include <string.h>

#include "thresh/error.h"
#include "ratelimit.h"

/* TATs are stored as microseconds since the epoch. */
#define USEC 1e6

struct gcra {
	const rate_bucket *b;
	size_t n;
	double now;
	int allowed;
	double retry_after;
	unsigned refused;
};

/* on - the rule limits anything. */
static int on(const rate_rule *r)
{
	return r->rate > 0 && r->burst >= 1;
}

static int gcra_fn(store_txn *t, void *ctx)
{
	struct gcra *g = ctx;
	double tat[RATE_BUCKETS_MAX];
	g->allowed = 1;
	g->retry_after = 0;
	g->refused = 0;
	for (size_t i = 0; i < g->n; i++) {
		const rate_rule *r = &g->b[i].rule;
		if (!on(r))
			continue;
		int64_t tat_us;
		double T = r->period / r->rate;
		double tau = T * (r->burst - 1);
		int rc = store_rec_get(t, "rate", g->b[i].id, HASH_ID_BYTES, &tat_us, sizeof tat_us);
		if (rc == THRESH_ENOTFOUND)
			tat[i] = g->now;
		else if (rc)
			return rc;
		else
			tat[i] = fmax((double)tat_us / USEC, g->now);
		if (tat[i] - g->now > tau + 1e-9) {
			g->allowed = 0;
			g->refused |= 1u << i;
			g->retry_after = fmax(g->retry_after, tat[i] - tau - g->now);
		}
	}
	if (!g->allowed)
		return 0; /* refused: no bucket moves */
	for (size_t i = 0; i < g->n; i++) {
		const rate_rule *r = &g->b[i].rule;
		if (!on(r))
			continue;
		int64_t tat_us = (int64_t)llround((tat[i] + r->period / r->rate) * USEC);
		int rc = store_rec_put(t, "rate", g->b[i].id, HASH_ID_BYTES, &tat_us, sizeof tat_us);
		if (rc)
			return rc;
	}
	return 0;
}

int ratelimit_check_all(store *rate, const rate_bucket *b, size_t n, double now, int *allowed,
                        double *retry_after, unsigned *refused)
{
	struct gcra g = {b, n, now, 1, 0, 0};
	size_t active = 0;
	if (n > RATE_BUCKETS_MAX)
		return THRESH_EINVAL;
	for (size_t i = 0; i < n; i++)
		active += on(&b[i].rule);
	if (active) {
		int rc = store_write(rate, gcra_fn, &g);
		if (rc)
			return rc;
	}
	*allowed = g.allowed;
	*retry_after = g.retry_after;
	if (refused)
		*refused = g.refused;
	return 0;
}

int ratelimit_check(store *rate, const unsigned char id[HASH_ID_BYTES], double now,
                    const rate_rule *rule, int *allowed, double *retry_after)
{
	rate_bucket b;
	memcpy(b.id, id, HASH_ID_BYTES);
	b.rule = *rule;
	return ratelimit_check_all(rate, &b, 1, now, allowed, retry_after, NULL);
}

struct prune {
	int64_t now_us;
	uint64_t removed;
};

static int prune_rec(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	struct prune *p = ctx;
	int64_t tat;
	(void)k;
	if (kl != HASH_ID_BYTES || vl != sizeof tat)
		return 1; /* not ours: drop it */
	memcpy(&tat, v, sizeof tat);
	if (tat > p->now_us)
		return 0;
	p->removed++;
	return 1;
}

static int prune_fn(store_txn *t, void *ctx)
{
	struct prune *p = ctx;
	p->removed = 0;
	return store_rec_foreach(t, "rate", prune_rec, p);
}

int ratelimit_prune(store *rate, double now, uint64_t *removed)
{
	struct prune p = {(int64_t)(now * USEC), 0};
	int rc = store_write(rate, prune_fn, &p);
	if (!rc && removed)
		*removed = p.removed;
	return rc;
}
