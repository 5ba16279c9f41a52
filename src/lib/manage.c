/* manage.c - what an administrator does with an open database: statistics,
 * classifier parameters, pruning, rotating the identity secret (and with it
 * what is keyed by it), dumps (export and import) and the configuration in
 * force as text. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thresh/error.h"
#include "cluster.h"
#include "config.h"
#include "db_int.h"
#include "dump.h"
#include "ratelimit.h"
#include "replica.h"
#include "secret.h"

void thresh_free(void *p)
{
	free(p);
}

int thresh_db_config_text(thresh_db *db, char **out)
{
	model_meta m;
	int rc;
	if (!db || !out)
		return THRESH_EINVAL;
	if ((rc = meta_read(db, 0, 0, &m))) /* stored values; the overrides are marked */
		return rc;
	struct conf *cf = db_conf(db);
	char *s = conf_format(cf, &m);
	conf_unref(cf);
	if (!s)
		return THRESH_ENOMEM;
	*out = s;
	return 0;
}

int thresh_db_config_get(thresh_db *db, const char *key, char *buf, size_t size)
{
	model_meta m;
	int rc;
	if (!db || !key || !buf || !size)
		return THRESH_EINVAL;
	if ((rc = meta_read(db, 0, 0, &m)))
		return rc;
	struct conf *cf = db_conf(db);
	rc = conf_get(cf, &m, key, buf, size);
	conf_unref(cf);
	return rc;
}

static int count_drop(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	(void)k, (void)kl, (void)v, (void)vl;
	++*(uint64_t *)ctx;
	return 1;
}

struct rotate_ctx {
	unsigned flags;
	thresh_rotate_summary sum;
};

/* drop_keyed_fn - what the old secret keys, out of the model: author
 * records, identity tokens (the totals recounted without them) and, with
 * THRESH_ROTATE_DIGESTS, the learned digests. */
static int drop_keyed_fn(store_txn *t, void *ctx)
{
	struct rotate_ctx *r = ctx;
	model_meta m;
	int rc;
	r->sum.authors = r->sum.identity_tokens = r->sum.learned = 0;
	if ((rc = store_rec_foreach(t, "authors", count_drop, &r->sum.authors)) ||
	    (rc = store_tokens_drop(t, COUNTS_IDENTITY, &r->sum.identity_tokens)))
		return rc;
	if ((r->flags & THRESH_ROTATE_DIGESTS) &&
	    (rc = store_rec_foreach(t, "learned", count_drop, &r->sum.learned)))
		return rc;
	if (!r->sum.identity_tokens)
		return 0;
	rc = meta_load(t, &m);
	hash_wipe(m.key, sizeof m.key);
	return rc ? rc : meta_recount(t, &m);
}

static int drop_rate_fn(store_txn *t, void *ctx)
{
	*(uint64_t *)ctx = 0;
	return store_rec_foreach(t, "rate", count_drop, ctx);
}

int thresh_db_rotate_keys(thresh_db *db, unsigned flags, thresh_rotate_summary *sum)
{
	struct rotate_ctx r;
	site_keys old, k;
	int rc;
	if (!db || (flags & ~THRESH_ROTATE_DIGESTS) || (sum && sum->size < sizeof(size_t)))
		return THRESH_EINVAL;
	if (db->flags & THRESH_DB_RDONLY)
		return THRESH_EREADONLY;
	memset(&r, 0, sizeof r);
	r.flags = flags;
	/* What is keyed by the old secret can never be found again: drop it
	 * first, so a crash in between leaves at worst an empty history under
	 * the old secret, never stale records. The digests' root is kept (the
	 * new file holds it beside the new secret) unless asked: a digest
	 * cannot be made again without the comment's text. */
	if (!(flags & THRESH_ROTATE_DIGESTS) && !db_keys(db, &old))
		return THRESH_EINVAL; /* a read-write handle always has its secret */
	if ((rc = store_write(db->st, drop_keyed_fn, &r)) ||
	    (rc = store_write(db->rate, drop_rate_fn, &r.sum.rates)) ||
	    (rc = secret_write(db->dir, (flags & THRESH_ROTATE_DIGESTS) ? NULL : old.root, &k))) {
		hash_wipe(&old, sizeof old);
		return rc;
	}
	db_set_keys(db, &k);
	hash_wipe(&k, sizeof k);
	hash_wipe(&old, sizeof old);
	db_cluster_refresh(db); /* the fingerprint changed with the secret */
	if (sum) {
		size_t keep = sum->size, n = keep < sizeof r.sum ? keep : sizeof r.sum;
		r.sum.size = keep;
		memcpy(sum, &r.sum, n);
	}
	return 0;
}

int thresh_db_rotate_secret(thresh_db *db, uint64_t *authors_dropped)
{
	thresh_rotate_summary s;
	memset(&s, 0, sizeof s);
	s.size = sizeof s;
	int rc = thresh_db_rotate_keys(db, 0, &s);
	if (!rc && authors_dropped)
		*authors_dropped = s.authors;
	return rc;
}

/* cluster_stats - the cluster's figures: the outbox and the sequence from
 * the store, the log's head and the lag from Redis (within the timeout). */
static int cluster_stats(thresh_db *db, thresh_stats *full)
{
	cluster_conf cc;
	replica_state s;
	cluster_figures f;
	char fp[33];
	uint64_t pending = 0;
	if (!db_cluster_conf(db, &cc))
		return 0;
	full->cluster = 1;
	int rc = replica_state_read(db->st, &s, &pending, NULL);
	if (rc)
		return rc;
	full->outbox = pending;
	full->cluster_seq = s.seq;
	struct cluster *cl = db_cluster(db, fp);
	if (!cl)
		return THRESH_ENOMEM;
	cluster_figures_get(cl, &cc, fp, s.seq, &f);
	full->redis_up = f.redis_up;
	full->lag_events = f.head > s.seq ? f.head - s.seq : 0;
	full->lag_seconds = f.head_age;
	full->rate_fallbacks = f.fallbacks;
	return 0;
}

int thresh_db_stats(thresh_db *db, thresh_stats *st)
{
	store_txn *t;
	model_meta m;
	store_info info;
	thresh_stats full;
	int rc;
	if (!db || !st || st->size < sizeof(size_t))
		return THRESH_EINVAL;
	if ((rc = store_read_begin(db->st, &t)))
		return rc;
	rc = db_meta_load(db, t, &m);
	if (!rc)
		rc = store_info_get(t, &info);
	store_read_end(t);
	hash_wipe(m.key, sizeof m.key);
	if (rc)
		return rc;
	memset(&full, 0, sizeof full);
	full.size = st->size;
	full.format_version = DB_FORMAT_VERSION;
	full.tokenizer = m.tokenizer;
	full.spam_messages = m.site.spam;
	full.ham_messages = m.site.ham;
	full.prior_spam_messages = (double)m.prior.spam / PRIOR_UNIT;
	full.prior_ham_messages = (double)m.prior.ham / PRIOR_UNIT;
	bayes_totals tot;
	model_totals(&m, &tot, &full.prior_comments);
	full.prior_weight = tot.w;
	full.prior_auto = !(m.param[P_PRIOR_COMMENTS] > 0);
	double site = (double)(m.site.spam + m.site.ham);
	full.site_share = site + full.prior_comments > 0 ? site / (site + full.prior_comments) : 1;
	model_force f;
	model_in_force(&m, &f);
	full.hold_cutoff = f.hold;
	full.reject_cutoff = f.reject;
	full.hold_from = f.hold_from;
	full.reject_from = f.reject_from;
	full.hold_alpha = f.hold_alpha;
	full.reject_alpha = f.reject_alpha;
	full.nb_scale = f.a;
	full.nb_shift = f.b;
	full.calibration_from = f.cal_from;
	full.decisions = m.fits.n;
	full.decisions_spam = m.fits.spam;
	full.upgraded_from = db->upgraded_from;
	full.tokens = info.tokens;
	full.learned = info.learned + info.legacy;
	full.legacy_learned = info.legacy;
	full.map_size = info.map_size;
	full.used_bytes = info.used_bytes;
	if (st->size > offsetof(thresh_stats, cluster) && (rc = cluster_stats(db, &full)))
		return rc;
	memcpy(st, &full, st->size < sizeof full ? st->size : sizeof full);
	return 0;
}

int thresh_db_param_get(thresh_db *db, const char *name, double *value)
{
	model_meta m;
	int i, rc;
	if (!db || !name || !value)
		return THRESH_EINVAL;
	if ((i = param_index(name)) < 0)
		return THRESH_EPARAM;
	if ((rc = meta_read(db, 1, 0, &m)))
		return rc;
	model_force_apply(&m);
	*value = m.param[i];
	return 0;
}

struct param_set {
	thresh_db *db;
	int i;
	double v;
	int reset; /* back to the default: unpinned */
};

static int param_set_fn(store_txn *t, void *ctx)
{
	struct param_set *p = ctx;
	model_meta m;
	int rc = meta_load(t, &m);
	hash_wipe(m.key, sizeof m.key);
	if (rc)
		return rc;
	m.param[p->i] = p->v;
	/* Cutoffs must stay ordered: hold <= reject <= blatant. */
	if (m.param[P_HOLD] > m.param[P_REJECT] || m.param[P_REJECT] > m.param[P_BLATANT])
		return THRESH_EPARAM;
	unsigned pins = p->reset ? m.pinned & ~(1u << p->i) : m.pinned | (1u << p->i);
	if ((rc = meta_put_pins(t, pins)))
		return rc;
	return store_meta_put(t, param_meta_key(p->i), &p->v, sizeof p->v);
}

int thresh_db_param_set(thresh_db *db, const char *name, double value)
{
	struct param_set p = {db, 0, value, 0};
	if (!db || !name)
		return THRESH_EINVAL;
	if ((p.i = param_index(name)) < 0 || !param_valid(p.i, value))
		return THRESH_EPARAM;
	if (db->flags & THRESH_DB_RDONLY)
		return THRESH_EREADONLY;
	return store_write(db->st, param_set_fn, &p);
}

int thresh_db_param_reset(thresh_db *db, const char *name)
{
	struct param_set p = {db, 0, 0, 1};
	if (!db || !name)
		return THRESH_EINVAL;
	if ((p.i = param_index(name)) < 0)
		return THRESH_EPARAM;
	if (db->flags & THRESH_DB_RDONLY)
		return THRESH_EREADONLY;
	p.v = param_default(p.i);
	return store_write(db->st, param_set_fn, &p);
}

struct prune_ctx {
	uint32_t before;
	uint64_t keep, removed;
};

/* prune_fn - the site's old rare tokens out, their counts out of the totals. */
static int prune_fn(store_txn *t, void *ctx)
{
	struct prune_ctx *p = ctx;
	model_meta m;
	uint64_t rs, rh;
	int rc = meta_load(t, &m);
	hash_wipe(m.key, sizeof m.key);
	if (rc || (rc = store_tokens_prune(t, p->before, p->keep, &p->removed, &rs, &rh)))
		return rc;
	m.site.spam_tok -= rs < m.site.spam_tok ? rs : m.site.spam_tok;
	m.site.ham_tok -= rh < m.site.ham_tok ? rh : m.site.ham_tok;
	return meta_put_totals(t, &m);
}

int thresh_db_prune(thresh_db *db, uint32_t older_than_days, uint64_t keep_min_count, uint64_t *removed)
{
	struct prune_ctx p;
	int rc;
	if (!db)
		return THRESH_EINVAL;
	if (db->flags & THRESH_DB_RDONLY)
		return THRESH_EREADONLY;
	uint32_t today = model_day(0);
	p.before = older_than_days >= today ? 0 : today - older_than_days;
	p.keep = keep_min_count;
	p.removed = 0;
	if ((rc = store_write(db->st, prune_fn, &p)))
		return rc;
	/* Rate-limit state of authors quiet since: as if never seen. */
	if (db->rate && (rc = ratelimit_prune(db->rate, (double)time(NULL), NULL)))
		return rc;
	if (removed)
		*removed = p.removed;
	return 0;
}

int thresh_db_export(thresh_db *db, const char *path)
{
	if (!db || !path)
		return THRESH_EINVAL;
	return dump_export_path(db->st, path);
}

int thresh_db_import(thresh_db *db, const char *path, unsigned flags, char *errbuf, size_t errbuf_size)
{
	if (!db || !path || (flags & ~THRESH_IMPORT_MERGE))
		return THRESH_EINVAL;
	if (db->flags & THRESH_DB_RDONLY)
		return THRESH_EREADONLY;
	site_keys k;
	int has = db_keys(db, &k);
	int rc = dump_import_path(db->st, path, flags, has ? &k : NULL, errbuf, errbuf_size);
	hash_wipe(&k, sizeof k);
	if (!rc)
		db_cluster_refresh(db); /* a replaced model has another key */
	return rc;
}
