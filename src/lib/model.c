/* model.c - the model's meta: format, key, feature set, the totals of the
 * site's and the prior's layers, the prior's weight, and the classifier
 * parameters (see model.h). */
#include <math.h>
#include <stdlib.h>
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
const double preq_comments[PREQ_N] = {INFINITY, 3000, 1000, 300, 100, 30, 10, 0};

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

/* The losses are kept under two keys: "preq" holds the prior weights' as
 * thresh 0.2 wrote them (PREQ_PRIOR doubles), so that it still reads the
 * database, and "preq_site" the site alone's. */
#define PREQ_PRIOR (PREQ_N - 1)

int meta_put_totals(store_txn *t, const model_meta *m)
{
	layer_totals site = m->site, prior = m->prior;
	int rc;
	for (int i = 0; i < 4; i++)
		if ((rc = store_meta_put(t, site_totals[i], layer_field(&site, i), sizeof(uint64_t))) ||
		    (rc = store_meta_put(t, prior_totals[i], layer_field(&prior, i), sizeof(uint64_t))))
			return rc;
	if ((rc = store_meta_put(t, "preq", m->preq, PREQ_PRIOR * sizeof m->preq[0])))
		return rc;
	return store_meta_put(t, "preq_site", &m->preq[PREQ_PRIOR], sizeof m->preq[0]);
}

int meta_put_fits(store_txn *t, const model_meta *m)
{
	return store_meta_put(t, "fit", &m->fits, sizeof m->fits);
}

int meta_put_pins(store_txn *t, unsigned pinned)
{
	uint32_t v = pinned & MODEL_PINNABLE;
	return store_meta_put(t, "pins", &v, sizeof v);
}

unsigned meta_pins_infer(const double param[P_COUNT])
{
	unsigned pins = 0;
	for (int i = 0; i < P_COUNT; i++)
		if ((MODEL_PINNABLE >> i & 1) && param[i] != params[i].def)
			pins |= 1u << i;
	return pins;
}

/* The ring as stored: its size, pos and n (u32 each), then size labels,
 * size fingerprints (u64) and size * PREQ_N floats, in this machine's byte
 * order (meta is local; dumps and snapshots write it portably). */
#define RING_HEAD 12
#define RING_BYTES (RING_HEAD + MODEL_RING * (1 + sizeof(uint64_t) + PREQ_N * sizeof(float)))

int meta_ring_get(store_txn *t, model_ring *r)
{
	memset(r, 0, sizeof *r);
	unsigned char *p = malloc(RING_BYTES);
	if (!p)
		return THRESH_ENOMEM;
	int rc = store_meta_get(t, "ring", p, RING_BYTES);
	if (rc == THRESH_ENOTFOUND) {
		rc = 0;
	} else if (rc == 0) {
		uint32_t size;
		memcpy(&size, p, 4);
		memcpy(&r->pos, p + 4, 4);
		memcpy(&r->n, p + 8, 4);
		if (size != MODEL_RING || r->pos >= MODEL_RING || r->n > MODEL_RING ||
		    (r->n < MODEL_RING && r->pos != r->n)) {
			rc = THRESH_ECORRUPT;
		} else {
			memcpy(r->label, p + RING_HEAD, MODEL_RING);
			memcpy(r->fp, p + RING_HEAD + MODEL_RING, sizeof r->fp);
			memcpy(r->x, p + RING_HEAD + MODEL_RING + sizeof r->fp, sizeof r->x);
			for (size_t i = 0; i < MODEL_RING; i++)
				if (r->label[i] > RING_WITHDRAWN)
					rc = THRESH_ECORRUPT;
		}
	}
	free(p);
	if (rc)
		memset(r, 0, sizeof *r);
	return rc;
}

int meta_ring_put(store_txn *t, const model_ring *r)
{
	unsigned char *p = malloc(RING_BYTES);
	uint32_t size = MODEL_RING;
	if (!p)
		return THRESH_ENOMEM;
	memcpy(p, &size, 4);
	memcpy(p + 4, &r->pos, 4);
	memcpy(p + 8, &r->n, 4);
	memcpy(p + RING_HEAD, r->label, MODEL_RING);
	memcpy(p + RING_HEAD + MODEL_RING, r->fp, sizeof r->fp);
	memcpy(p + RING_HEAD + MODEL_RING + sizeof r->fp, r->x, sizeof r->x);
	int rc = store_meta_put(t, "ring", p, RING_BYTES);
	free(p);
	return rc;
}

void model_fits_default(model_fits *out)
{
	memset(out, 0, sizeof *out);
	out->check_a = params[P_NB_SCALE].def;
	out->check_b = params[P_NB_SHIFT].def;
	for (int j = 0; j < PREQ_N; j++)
		out->c[j] = (calib_fit){params[P_NB_SCALE].def, params[P_NB_SHIFT].def, NAN, NAN};
}

/* fit_weights - the weights of candidate j's entries: w for its
 * calibration, wh for its cutoffs, wc for the calibration checks use. In
 * the calibrations the newest decision weighs 1, each older one
 * MODEL_RECENCY (MODEL_RECENCY_CHECK) times the next newer's. In the
 * cutoffs a decision weighs ((n + 1) / (N + 1))^MODEL_HOLD_POWER, n the
 * site's comments the model knew when it judged the decision, N those it
 * knows now: the older decisions were judged by a model that knew less, by
 * how much less, whatever the site's size (a memory that grows with the
 * site: about its newest N/5 decisions weigh in, where a fixed recency
 * would give a site of thousands of decisions the same few tens). A
 * decision the candidate judged while it counted fewer than MODEL_MATURE
 * comments of either class (the site's then, and the prior's at the
 * candidate's weight) weighs that much less in a calibration, and nothing
 * in the cutoffs: the first decisions of a site, or a history learned one
 * class after the other, say little of how the model judges now. The
 * site's counts then are its counts now less the decisions since (an
 * unlearn since is not counted back). */
static void fit_weights(const model_ring *r, const model_meta *m, int j, double *w, double *wh,
                        double *wc)
{
	double rho = MODEL_RECENCY, rhoc = MODEL_RECENCY_CHECK, mature = MODEL_MATURE;
	double prior = (double)(m->prior.spam + m->prior.ham) / PRIOR_UNIT;
	double cj = preq_comments[j] < prior ? preq_comments[j] : prior;
	double ps = prior > 0 ? cj * ((double)m->prior.spam / PRIOR_UNIT) / prior : 0;
	double ph = prior > 0 ? cj * ((double)m->prior.ham / PRIOR_UNIT) / prior : 0;
	double spam = (double)m->site.spam, ham = (double)m->site.ham;
	double now = spam + ham + 1;
	double wk = 1, wck = 1;
	for (size_t age = 0; age < r->n; age++) {
		size_t i = (r->pos + MODEL_RING - 1 - age) % MODEL_RING;
		if (r->label[i] == RING_WITHDRAWN) {
			/* weighs nothing, and the others are aged as if it were not
			 * there: learning and unlearning a comment changes nothing */
			w[i] = wh[i] = wc[i] = 0;
			continue;
		}
		if (r->label[i] == RING_SPAM)
			spam = spam > 1 ? spam - 1 : 0;
		else
			ham = ham > 1 ? ham - 1 : 0;
		double least = spam + ps < ham + ph ? spam + ps : ham + ph;
		double mat = mature > 0 ? least / mature : 1;
		if (mat > 1)
			mat = 1;
		w[i] = wk * mat;
		wc[i] = wck * mat;
		wh[i] = mat >= 1 ? pow((spam + ham + 1) / now, MODEL_HOLD_POWER) : 0;
		wk *= rho;
		wck *= rhoc;
	}
}

/* fit_ridge - the default calibration's weight in candidate j's fits: the
 * default is the prior's own, so it weighs MODEL_RIDGE_PRIOR comments as
 * far as the candidate's model is the prior's (the prior's comments at its
 * weight against the site's), and MODEL_RIDGE besides. */
static double fit_ridge(const model_meta *m, int j, double prior, double site)
{
	double cj = preq_comments[j] < prior ? preq_comments[j] : prior;
	(void)m;
	return MODEL_RIDGE + (cj > 0 ? MODEL_RIDGE_PRIOR * (cj / prior) * cj / (cj + site) : 0);
}

void model_fits_make(const model_ring *r, const model_meta *m, model_fits *out)
{
	calib_pair scratch[MODEL_RING];
	double w[MODEL_RING], wh[MODEL_RING], wc[MODEL_RING];
	double a0 = params[P_NB_SCALE].def, b0 = params[P_NB_SHIFT].def;
	double site = (double)(m->site.spam + m->site.ham);
	size_t n = r->n;
	memset(out, 0, sizeof *out);
	out->n = r->n;
	for (size_t i = 0; i < n; i++) {
		out->spam += r->label[i] == RING_SPAM;
		out->ham += r->label[i] == RING_HAM;
	}
	out->n = out->spam + out->ham; /* the withdrawn do not count */
	double prior = (double)(m->prior.spam + m->prior.ham) / PRIOR_UNIT;
	for (int j = 0; j < PREQ_N; j++) {
		int same = -1;
		for (int i = 0; i < j && same < 0; i++) {
			size_t e = 0;
			if ((preq_comments[i] < prior ? preq_comments[i] : prior) !=
			    (preq_comments[j] < prior ? preq_comments[j] : prior))
				continue;
			while (e < n && r->x[e][i] == r->x[e][j])
				e++;
			if (e == n)
				same = i;
		}
		if (same >= 0) {
			out->c[j] = out->c[same];
			continue;
		}
		calib_fit *c = &out->c[j];
		fit_weights(r, m, j, w, wh, wc);
		calib_fit_ab(&r->x[0][j], PREQ_N, r->label, w, n, a0, b0, MODEL_RIDGE, &c->a, &c->b);
		calib_cutoffs(&r->x[0][j], PREQ_N, r->label, wh, n, scratch, &c->x_hold, &c->x_reject);
	}
	int j = model_candidate(m);
	out->cand = (uint32_t)j;
	fit_weights(r, m, j, w, wh, wc);
	calib_fit_ab(&r->x[0][j], PREQ_N, r->label, wc, n, a0, b0, fit_ridge(m, j, prior, site),
	             &out->check_a, &out->check_b);
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
	    !(rc = meta_put_totals(t, &m)) && !(rc = meta_put_pins(t, 0)))
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
	    (rc = store_meta_get(t, "preq", m->preq, PREQ_PRIOR * sizeof m->preq[0])))
		return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
	rc = store_meta_get(t, "preq_site", &m->preq[PREQ_PRIOR], sizeof m->preq[0]);
	if (rc == THRESH_ENOTFOUND)
		m->preq[PREQ_PRIOR] = m->preq[PREQ_PRIOR - 1]; /* a database of thresh 0.2 */
	else if (rc)
		return rc;
	rc = store_meta_get(t, "fit", &m->fits, sizeof m->fits);
	if (rc == THRESH_ENOTFOUND)
		model_fits_default(&m->fits);
	else if (rc)
		return rc;
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
	uint32_t pins;
	rc = store_meta_get(t, "pins", &pins, sizeof pins);
	if (rc == THRESH_ENOTFOUND)
		m->pinned = meta_pins_infer(m->param); /* a database of thresh 0.2 */
	else if (rc)
		return rc;
	else
		m->pinned = pins & MODEL_PINNABLE;
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
	if ((rc = meta_recount(t, &m)) || (rc = put_params_default(t)) || (rc = meta_put_pins(t, 0)))
		return rc;
	return store_meta_put(t, "format", &fmt, sizeof fmt);
}

/* least_loss - the candidate of least loss (the first of equals). */
static int least_loss(const model_meta *m)
{
	int best = 0;
	for (int i = 1; i < PREQ_N; i++)
		if (m->preq[i] < m->preq[best] && model_eligible(m, i))
			best = i;
	return best;
}

int model_eligible(const model_meta *m, int j)
{
	double prior = (double)(m->prior.spam + m->prior.ham) / PRIOR_UNIT;
	double cj = preq_comments[j] < prior ? preq_comments[j] : prior;
	double ps = prior > 0 ? cj * ((double)m->prior.spam / PRIOR_UNIT) / prior : 0;
	double ph = prior > 0 ? cj * ((double)m->prior.ham / PRIOR_UNIT) / prior : 0;
	double s = (double)m->site.spam + ps, h = (double)m->site.ham + ph;
	return j == 0 || (s >= MODEL_ELIGIBLE && h >= MODEL_ELIGIBLE);
}

int model_candidate(const model_meta *m)
{
	double n = m->param[P_PRIOR_COMMENTS];
	if (!(n > 0))
		return least_loss(m);
	/* the nearest weight, as the comments it makes the prior count as */
	double prior = (double)(m->prior.spam + m->prior.ham) / PRIOR_UNIT;
	double want = log1p(n < prior ? n : prior), best_d = INFINITY;
	int best = 0;
	for (int i = 0; i < PREQ_N; i++) {
		double c = preq_comments[i] < prior ? preq_comments[i] : prior;
		double d = fabs(log1p(c) - want);
		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	return best;
}

void model_totals(const model_meta *m, bayes_totals *out, double *comments)
{
	double n = m->param[P_PRIOR_COMMENTS];
	model_totals_at(m, n > 0 ? n : preq_comments[least_loss(m)], out, comments);
}

void model_totals_at(const model_meta *m, double n, bayes_totals *out, double *comments)
{
	double prior = (double)(m->prior.spam + m->prior.ham) / PRIOR_UNIT;
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

/* blend - a cutoff in force: the new-site value def moved towards the
 * site's (logit l) by alpha, in logit space. *alpha and *from say how far. */
static double blend(double def, double l, double *alpha, int *from)
{
	if (l != l || !(*alpha > 0)) { /* no decisions of the class yet */
		*alpha = 0;
		*from = THRESH_FROM_NEW_SITE;
		return def;
	}
	if (*alpha >= 1) {
		*alpha = 1;
		*from = THRESH_FROM_SITE;
		return calib_sigmoid(l);
	}
	*from = THRESH_FROM_BLEND;
	return calib_sigmoid((1 - *alpha) * calib_logit(def) + *alpha * l);
}

void model_in_force(const model_meta *m, model_force *f)
{
	const calib_fit *c;
	memset(f, 0, sizeof *f);
	f->cand = model_candidate(m);
	c = &m->fits.c[f->cand];
	unsigned pin = m->pinned;
	int nb = (int)m->param[P_CLASSIFIER] == BAYES_NB;
	/* Fisher's scores are on a scale of their own: the stored values */
	if (!nb)
		pin |= MODEL_PINNABLE;
	double ham = (double)m->site.ham, spam = (double)m->site.spam;
	double n0h = MODEL_N0_HAM, n0s = MODEL_N0_SPAM;
	f->reject_alpha = ham >= n0h ? 1 : ham / n0h;
	f->hold_alpha = spam >= n0s ? 1 : spam / n0s;
	if (pin & ((1u << P_NB_SCALE) | (1u << P_NB_SHIFT))) {
		f->a = m->param[P_NB_SCALE];
		f->b = m->param[P_NB_SHIFT];
		f->cal_from = THRESH_FROM_PINNED;
	} else {
		if (!m->fits.n) { /* no decisions: exactly the defaults */
			f->a = params[P_NB_SCALE].def;
			f->b = params[P_NB_SHIFT].def;
			f->cal_from = THRESH_FROM_NEW_SITE;
		} else {
			/* the check's calibration, unless made for another candidate
			 * (prior_comments set since) */
			int own = m->fits.cand == (uint32_t)f->cand;
			f->a = own ? m->fits.check_a : c->a;
			f->b = own ? m->fits.check_b : c->b;
			f->cal_from = THRESH_FROM_SITE;
		}
	}
	if (pin & (1u << P_REJECT)) {
		f->reject = m->param[P_REJECT];
		f->reject_from = THRESH_FROM_PINNED;
		f->reject_alpha = 0;
	} else {
		f->reject = blend(params[P_REJECT].def, f->a * c->x_reject + f->b, &f->reject_alpha,
		                  &f->reject_from);
	}
	if (pin & (1u << P_HOLD)) {
		f->hold = m->param[P_HOLD];
		f->hold_from = THRESH_FROM_PINNED;
		f->hold_alpha = 0;
	} else {
		f->hold = blend(params[P_HOLD].def, f->a * c->x_hold + f->b, &f->hold_alpha, &f->hold_from);
	}
	if (!nb) {
		f->cal_from = m->pinned & ((1u << P_NB_SCALE) | (1u << P_NB_SHIFT)) ? THRESH_FROM_PINNED
		                                                                     : THRESH_FROM_NEW_SITE;
		f->hold_from = m->pinned & (1u << P_HOLD) ? THRESH_FROM_PINNED : THRESH_FROM_NEW_SITE;
		f->reject_from = m->pinned & (1u << P_REJECT) ? THRESH_FROM_PINNED : THRESH_FROM_NEW_SITE;
	}
	if (f->hold > f->reject) {
		/* what was set stands; the other gives way */
		if (f->hold_from == THRESH_FROM_PINNED && f->reject_from != THRESH_FROM_PINNED)
			f->reject = f->hold;
		else
			f->hold = f->reject;
	}
}

void model_force_apply(model_meta *m)
{
	model_force f;
	model_in_force(m, &f);
	m->param[P_NB_SCALE] = f.a;
	m->param[P_NB_SHIFT] = f.b;
	m->param[P_HOLD] = f.hold;
	m->param[P_REJECT] = f.reject;
}
