/* model.c - the model's meta: format, key, feature set, the totals of the
 * site's and the prior's layers, the prior's weight, and the classifier
 * parameters (see model.h). */
#include <math.h>
#include <string.h>
#include <time.h>

#include "thresh/db.h"
#include "thresh/error.h"
#include "model.h"
#include "tokenize.h"

struct param_def {
	const char *name;
	double def, min, max;
};

/* Defaults: see README ("Which classifier, and why", "A new site"): the
 * classifier's by cross-validation on both corpora, the calibration and the
 * cutoffs by leave-one-video-out (tests/bench/newsite.py --choose). */
static const struct param_def params[P_COUNT] = {
	[P_ROBS] = {"robs", 0.1, 1e-6, 1000},
	[P_ROBX] = {"robx", 0.5, 0.01, 0.99},
	[P_MIN_DEV] = {"min_dev", 0.1, 0, 0.49},
	[P_HOLD] = {"hold_cutoff", 0.2113, 0, 1},
	[P_REJECT] = {"reject_cutoff", 0.9452, 0, 1},
	[P_BLATANT] = {"blatant_cutoff", 0.99999, 0, 1},
	[P_CLASSIFIER] = {"classifier", BAYES_NB, BAYES_NB, BAYES_FISHER},
	[P_NB_POWER] = {"nb_power", 1.0, 0, 1},
	[P_GRAM_WEIGHT] = {"gram_weight", 0.3, 0, 1},
	[P_NB_SCALE] = {"nb_scale", 17.354, 0.01, 100},
	[P_NB_SHIFT] = {"nb_shift", 1.4038, -20, 20},
	[P_MIN_TOKENS] = {"reject_min_tokens", 30, 0, 100000},
	[P_PRIOR_COMMENTS] = {"prior_comments", 0, 0, 1e9},
};

static const char *const param_keys[P_COUNT] = {
	"p:robs", "p:robx", "p:min_dev", "p:hold_cutoff", "p:reject_cutoff", "p:blatant_cutoff",
	"p:classifier", "p:nb_power", "p:gram_weight", "p:nb_scale", "p:nb_shift",
	"p:reject_min_tokens", "p:prior_comments",
};

/* The prior counts as at most this many comments; INFINITY: all of it. */
const double preq_comments[PREQ_N] = {INFINITY, 3000, 1000, 300, 100, 30, 10};

int param_index(const char *name)
{
	for (int i = 0; i < P_COUNT; i++)
		if (strcmp(params[i].name, name) == 0)
			return i;
	return -1;
}

int param_valid(int i, double v)
{
	if (i == P_CLASSIFIER && v != BAYES_NB && v != BAYES_FISHER)
		return 0;
	return v == v && v >= params[i].min && v <= params[i].max;
}

double param_default(int i)
{
	return params[i].def;
}

const char *param_meta_key(int i)
{
	return param_keys[i];
}

const char *thresh_db_param_name(size_t i)
{
	return i < P_COUNT ? params[i].name : NULL;
}

uint32_t model_day(int64_t t)
{
	if (t <= 0)
		t = (int64_t)time(NULL);
	return (uint32_t)(t / 86400);
}

/* Meta keys of the totals. */
static const char *const site_totals[4] = {"spam", "ham", "spam_tokens", "ham_tokens"};
static const char *const prior_totals[4] = {"prior_spam", "prior_ham", "prior_spam_tokens",
                                          "prior_ham_tokens"};

static uint64_t *layer_field(layer_totals *l, int i)
{
	uint64_t *f[4] = {&l->spam, &l->ham, &l->spam_tok, &l->ham_tok};
	return f[i];
}

int meta_put_totals(store_txn *t, const model_meta *m)
{
	layer_totals site = m->site, prior = m->prior;
	int rc;
	for (int i = 0; i < 4; i++)
		if ((rc = store_meta_put(t, site_totals[i], layer_field(&site, i), sizeof(uint64_t))) ||
		    (rc = store_meta_put(t, prior_totals[i], layer_field(&prior, i), sizeof(uint64_t))))
			return rc;
	return store_meta_put(t, "preq", m->preq, sizeof m->preq);
}

static int put_params_default(store_txn *t)
{
	int rc;
	for (int i = 0; i < P_COUNT; i++)
		if ((rc = store_meta_put(t, param_keys[i], &params[i].def, sizeof(double))))
			return rc;
	return 0;
}

int meta_init(store_txn *t)
{
	model_meta m;
	uint32_t fmt = DB_FORMAT_VERSION;
	int rc;
	memset(&m, 0, sizeof m);
	hash_random(m.key, sizeof m.key);
	m.tokenizer = TOK_F_DEFAULT;
	if (!(rc = store_meta_put(t, "magic", DB_MAGIC, sizeof DB_MAGIC)) &&
	    !(rc = store_meta_put(t, "format", &fmt, sizeof fmt)) &&
	    !(rc = store_meta_put(t, "key", m.key, sizeof m.key)) &&
	    !(rc = store_meta_put(t, "tokenizer", &m.tokenizer, sizeof m.tokenizer)) &&
	    !(rc = meta_put_totals(t, &m)))
		rc = put_params_default(t);
	hash_wipe(m.key, sizeof m.key);
	return rc;
}

int meta_format(store_txn *t, uint32_t *fmt)
{
	char magic[sizeof DB_MAGIC];
	int rc = store_meta_get(t, "magic", magic, sizeof magic);
	if (rc == THRESH_ENOTFOUND || (rc == 0 && memcmp(magic, DB_MAGIC, sizeof magic) != 0))
		return THRESH_ECORRUPT;
	if (rc)
		return rc;
	rc = store_meta_get(t, "format", fmt, sizeof *fmt);
	return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
}

int meta_load(store_txn *t, model_meta *m)
{
	uint32_t fmt;
	int rc = meta_format(t, &fmt);
	if (rc)
		return rc;
	if (fmt != DB_FORMAT_VERSION)
		return THRESH_EVERSION;
	if ((rc = store_meta_get(t, "key", m->key, sizeof m->key)) ||
	    (rc = store_meta_get(t, "tokenizer", &m->tokenizer, sizeof m->tokenizer)) ||
	    (rc = store_meta_get(t, "preq", m->preq, sizeof m->preq)))
		return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
	for (int i = 0; i < 4; i++)
		if ((rc = store_meta_get(t, site_totals[i], layer_field(&m->site, i), sizeof(uint64_t))) ||
		    (rc = store_meta_get(t, prior_totals[i], layer_field(&m->prior, i), sizeof(uint64_t))))
			return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
	for (int i = 0; i < P_COUNT; i++) {
		rc = store_meta_get(t, param_keys[i], &m->param[i], sizeof(double));
		if (rc == THRESH_ENOTFOUND)
			m->param[i] = params[i].def;
		else if (rc)
			return rc;
	}
	return 0;
}

static int sum_tokens(uint64_t id, const tok_counts *c, void *ctx)
{
	model_meta *m = ctx;
	(void)id;
	m->site.spam_tok += c->spam;
	m->site.ham_tok += c->ham;
	m->prior.spam_tok += c->pspam;
	m->prior.ham_tok += c->pham;
	return 0;
}

int meta_recount(store_txn *t, model_meta *m)
{
	int rc;
	m->site.spam_tok = m->site.ham_tok = m->prior.spam_tok = m->prior.ham_tok = 0;
	if ((rc = store_tokens_foreach(t, sum_tokens, m)))
		return rc;
	return meta_put_totals(t, m);
}

int meta_upgrade(store_txn *t)
{
	model_meta m;
	uint32_t fmt;
	int rc = meta_format(t, &fmt);
	if (rc)
		return rc;
	if (fmt >= 2)
		return 0;
	if (fmt != 1)
		return THRESH_EVERSION;
	memset(&m, 0, sizeof m);
	if ((rc = store_meta_get(t, "spam", &m.site.spam, sizeof m.site.spam)) ||
	    (rc = store_meta_get(t, "ham", &m.site.ham, sizeof m.site.ham)))
		return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
	fmt = 2;
	if ((rc = meta_recount(t, &m)) || (rc = put_params_default(t)))
		return rc;
	return store_meta_put(t, "format", &fmt, sizeof fmt);
}

void model_totals(const model_meta *m, bayes_totals *out, double *comments)
{
	double prior = (double)(m->prior.spam + m->prior.ham) / PRIOR_UNIT;
	double n = m->param[P_PRIOR_COMMENTS];
	if (!(n > 0)) {
		int best = 0;
		for (int i = 1; i < PREQ_N; i++)
			if (m->preq[i] < m->preq[best])
				best = i;
		n = preq_comments[best];
	}
	double w = prior > 0 ? (n >= prior ? 1 : n / prior) : 0;
	out->w = w;
	out->spam = (double)m->site.spam + w * ((double)m->prior.spam / PRIOR_UNIT);
	out->ham = (double)m->site.ham + w * ((double)m->prior.ham / PRIOR_UNIT);
	out->spam_tok = (double)m->site.spam_tok + w * ((double)m->prior.spam_tok / PRIOR_UNIT);
	out->ham_tok = (double)m->site.ham_tok + w * ((double)m->prior.ham_tok / PRIOR_UNIT);
	if (comments)
		*comments = w * prior;
}

void model_params(const model_meta *m, bayes_params *out)
{
	out->kind = (int)m->param[P_CLASSIFIER];
	out->robs = m->param[P_ROBS];
	out->robx = m->param[P_ROBX];
	out->min_dev = m->param[P_MIN_DEV];
	out->nb_power = m->param[P_NB_POWER];
	out->gram_weight = m->param[P_GRAM_WEIGHT];
	out->nb_scale = m->param[P_NB_SCALE];
	out->nb_shift = m->param[P_NB_SHIFT];
}

double model_loss(double p, int label)
{
	double q = label ? p : 1 - p;
	return -log(q > 1e-6 ? q : 1e-6);
}
