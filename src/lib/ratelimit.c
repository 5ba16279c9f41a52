/* ratelimit.c - GCRA rate limiting over the no-sync rate store. */
#include <math.h>
#include <string.h>

#include "thresh/error.h"
#include "ratelimit.h"

/* TATs are stored as microseconds since the epoch. */
#define USEC 1e6

struct gcra {
	const unsigned char *id;
	double now;
	const rate_rule *rule;
	int allowed;
	double retry_after;
};

static int gcra_fn(store_txn *t, void *ctx)
{
	struct gcra *g = ctx;
	int64_t tat_us;
	double T = g->rule->period / g->rule->rate;
	double tau = T * (g->rule->burst - 1);
	int rc = store_rec_get(t, "rate", g->id, HASH_ID_BYTES, &tat_us, sizeof tat_us);
	double tat;
	if (rc == THRESH_ENOTFOUND)
		tat = g->now;
	else if (rc)
		return rc;
	else
		tat = fmax((double)tat_us / USEC, g->now);
	if (tat - g->now > tau + 1e-9) {
		g->allowed = 0;
		g->retry_after = tat - tau - g->now;
		return 0;
	}
	g->allowed = 1;
	g->retry_after = 0;
	tat_us = (int64_t)llround((tat + T) * USEC);
	return store_rec_put(t, "rate", g->id, HASH_ID_BYTES, &tat_us, sizeof tat_us);
}

int ratelimit_check(store *rate, const unsigned char id[HASH_ID_BYTES], double now,
                    const rate_rule *rule, int *allowed, double *retry_after)
{
	struct gcra g = {id, now, rule, 1, 0};
	if (!(rule->rate > 0) || rule->burst < 1) {
		*allowed = 1;
		*retry_after = 0;
		return 0;
	}
	int rc = store_write(rate, gcra_fn, &g);
	if (rc)
		return rc;
	*allowed = g.allowed;
	*retry_after = g.retry_after;
	return 0;
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
