/* src/lib/model.c: the model's meta (meta_init, meta_load and the formats
 * and magic it refuses, a database of thresh 0.2 read), the classifier
 * parameters' names, keys, defaults and ranges (param_index, param_valid,
 * param_meta_key), model_day, the prior's weight, and the calibration and
 * cutoffs in force (model_in_force: the defaults exactly with nothing
 * learned, blended towards the site's, pins winning). */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "migrate.h"
#include "model.h"
#include "thresh/error.h"
#include "tokenize.h"
#include "testutil.h"

static store *S;
static char *dir;

static void setup(void)
{
	cr_assert_eq(hash_init(), 0);
	dir = tu_tmpdir();
	cr_assert_eq(store_open(dir, 0, 0, &S), 0);
}

static void teardown(void)
{
	store_close(S);
	tu_rmtree(dir);
	free(dir);
}

TestSuite(model, .init = setup, .fini = teardown);

static int init_fn(store_txn *t, void *ctx)
{
	(void)ctx;
	return meta_init(t);
}

struct put {
	const char *key;
	const void *val;
	size_t size;
};

static int put_fn(store_txn *t, void *ctx)
{
	const struct put *p = ctx;
	return store_meta_put(t, p->key, p->val, p->size);
}

/* meta_put - write one meta key in a transaction of its own. */
static void meta_put(const char *key, const void *val, size_t size)
{
	struct put p = {key, val, size};
	cr_assert_eq(store_write(S, put_fn, &p), 0);
}

static int load(model_meta *m)
{
	store_txn *t;
	cr_assert_eq(store_read_begin(S, &t), 0);
	int rc = meta_load(t, m);
	store_read_end(t);
	return rc;
}

Test(model, init_then_load_gives_a_new_empty_model)
{
	static const unsigned char zero[HASH_MODEL_KEY_BYTES];
	model_meta m, m2;
	cr_assert_eq(store_write(S, init_fn, NULL), 0);
	cr_assert_eq(load(&m), 0);
	cr_expect_eq(m.tokenizer, TOK_F_DEFAULT);
	cr_expect(m.site.spam == 0 && m.site.ham == 0 && m.site.spam_tok == 0 && m.site.ham_tok == 0);
	cr_expect(m.prior.spam == 0 && m.prior.ham == 0 && m.prior.spam_tok == 0 && m.prior.ham_tok == 0);
	for (int i = 0; i < PREQ_N; i++)
		cr_expect_eq(m.preq[i], 0);
	cr_expect(memcmp(m.key, zero, sizeof zero) != 0, "a random key");
	/* the defaults of model.c's table */
	static const double def[P_COUNT] = {
		[P_ROBS] = 0.1, [P_ROBX] = 0.5, [P_MIN_DEV] = 0.1, [P_HOLD] = 0.2113, [P_REJECT] = 0.9452,
		[P_BLATANT] = 0.99999, [P_CLASSIFIER] = BAYES_NB, [P_NB_POWER] = 1.0, [P_GRAM_WEIGHT] = 0.3,
		[P_NB_SCALE] = 17.354, [P_NB_SHIFT] = 1.4038, [P_MIN_TOKENS] = 30, [P_PRIOR_COMMENTS] = 0,
	};
	for (int i = 0; i < P_COUNT; i++) {
		cr_expect_eq(m.param[i], def[i], "%s = %g", param_meta_key(i), m.param[i]);
		cr_expect(param_valid(i, m.param[i]), "the default of %s is in its range", param_meta_key(i));
	}
	/* a second model gets another key */
	cr_assert_eq(store_write(S, init_fn, NULL), 0);
	cr_assert_eq(load(&m2), 0);
	cr_expect(memcmp(m.key, m2.key, sizeof m.key) != 0);
}

Test(model, load_reads_what_is_stored)
{
	model_meta m;
	cr_assert_eq(store_write(S, init_fn, NULL), 0);
	uint64_t spam = 12, ham = 34;
	uint32_t tok = TOK_F_WORDS | TOK_F_URLS;
	double robx = 0.42;
	meta_put("spam", &spam, sizeof spam);
	meta_put("ham", &ham, sizeof ham);
	meta_put("tokenizer", &tok, sizeof tok);
	meta_put(param_meta_key(P_ROBX), &robx, sizeof robx);
	cr_assert_eq(load(&m), 0);
	cr_expect_eq(m.site.spam, 12);
	cr_expect_eq(m.site.ham, 34);
	cr_expect_eq(m.tokenizer, tok);
	cr_expect_eq(m.param[P_ROBX], 0.42);
}

Test(model, magic_and_format_refused)
{
	model_meta m;
	cr_expect_eq(load(&m), THRESH_ECORRUPT, "an empty store is not a thresh database");
	cr_assert_eq(store_write(S, init_fn, NULL), 0);
	cr_assert_eq(load(&m), 0);
	uint32_t fmt = DB_FORMAT_VERSION + 1;
	meta_put("format", &fmt, sizeof fmt);
	cr_expect_eq(load(&m), THRESH_EVERSION, "a format this build does not read");
	fmt = 0;
	meta_put("format", &fmt, sizeof fmt);
	cr_expect_eq(load(&m), THRESH_EVERSION);
	fmt = DB_FORMAT_VERSION;
	meta_put("format", &fmt, sizeof fmt);
	cr_assert_eq(load(&m), 0);
	meta_put("magic", "thresh-dc", sizeof DB_MAGIC);
	cr_expect_eq(load(&m), THRESH_ECORRUPT, "another magic");
	meta_put("magic", "thresh", 7);
	cr_expect_eq(load(&m), THRESH_ECORRUPT, "a magic of another size");
}

/* The keys a database of this format must hold, and a helper that writes all
 * of them but one (NULL: all). */
static const char *const required[] = {
	"format", "key", "tokenizer", "spam", "ham", "spam_tokens", "ham_tokens", "prior_spam",
	"prior_ham", "prior_spam_tokens", "prior_ham_tokens", "preq",
};

static void put_meta_without(const char *skip)
{
	uint32_t fmt = DB_FORMAT_VERSION, tok = TOK_F_DEFAULT;
	unsigned char key[HASH_MODEL_KEY_BYTES] = {1};
	uint64_t zero = 0;
	double preq[PREQ_N - 1] = {0}; /* as thresh 0.2 wrote it: no site alone */
	meta_put("magic", DB_MAGIC, sizeof DB_MAGIC);
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		const char *k = required[i];
		if (skip && !strcmp(k, skip))
			continue;
		if (!strcmp(k, "format"))
			meta_put(k, &fmt, sizeof fmt);
		else if (!strcmp(k, "key"))
			meta_put(k, key, sizeof key);
		else if (!strcmp(k, "tokenizer"))
			meta_put(k, &tok, sizeof tok);
		else if (!strcmp(k, "preq"))
			meta_put(k, preq, sizeof preq);
		else
			meta_put(k, &zero, sizeof zero);
	}
}

Test(model, missing_meta_is_corruption)
{
	for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
		model_meta m;
		/* a store with the magic and every key but one */
		store_close(S);
		tu_rmtree(dir);
		free(dir);
		dir = tu_tmpdir();
		cr_assert_eq(store_open(dir, 0, 0, &S), 0);
		put_meta_without(required[k]);
		cr_expect_eq(load(&m), THRESH_ECORRUPT, "without %s", required[k]);
	}
}

/* A parameter an older database never stored reads as its default; one
 * stored with the wrong size is corruption. */
Test(model, parameters_missing_get_their_default)
{
	model_meta m;
	unsigned char key[HASH_MODEL_KEY_BYTES] = {1};
	put_meta_without(NULL);
	double robs = 0.25;
	meta_put(param_meta_key(P_ROBS), &robs, sizeof robs);
	cr_assert_eq(load(&m), 0);
	cr_expect_eq(m.param[P_ROBS], 0.25);
	cr_expect_eq(m.param[P_GRAM_WEIGHT], 0.3, "the default");
	cr_expect_eq(m.param[P_CLASSIFIER], BAYES_NB);
	cr_expect_eq(memcmp(m.key, key, sizeof key), 0);
	float small = 0.5f;
	meta_put(param_meta_key(P_ROBX), &small, sizeof small);
	cr_expect_eq(load(&m), THRESH_ECORRUPT, "a parameter of the wrong size");
}

Test(model, parameter_names_and_keys)
{
	static const char *const names[P_COUNT] = {
		"robs", "robx", "min_dev", "hold_cutoff", "reject_cutoff", "blatant_cutoff",
		"classifier", "nb_power", "gram_weight", "nb_scale", "nb_shift", "reject_min_tokens",
		"prior_comments",
	};
	for (int i = 0; i < P_COUNT; i++) {
		cr_expect_eq(param_index(names[i]), i, "%s", names[i]);
		cr_expect_str_eq(thresh_db_param_name((size_t)i), names[i]);
		char key[64];
		snprintf(key, sizeof key, "p:%s", names[i]);
		cr_expect_str_eq(param_meta_key(i), key);
	}
	cr_expect_null(thresh_db_param_name(P_COUNT));
	cr_expect_eq(param_index("nope"), -1);
	cr_expect_eq(param_index(""), -1);
	cr_expect_eq(param_index("ROBS"), -1, "names are exact");
	cr_expect_eq(param_index("p:robs"), -1, "a key is not a name");
}

Test(model, parameter_ranges)
{
	cr_expect(param_valid(P_ROBX, 0.01));
	cr_expect(param_valid(P_ROBX, 0.99));
	cr_expect(!param_valid(P_ROBX, 0.0));
	cr_expect(!param_valid(P_ROBX, 1.0));
	cr_expect(param_valid(P_ROBS, 1e-6));
	cr_expect(!param_valid(P_ROBS, 0));
	cr_expect(param_valid(P_ROBS, 1000));
	cr_expect(!param_valid(P_ROBS, 1000.5));
	cr_expect(param_valid(P_MIN_DEV, 0.49));
	cr_expect(!param_valid(P_MIN_DEV, 0.5));
	cr_expect(param_valid(P_HOLD, 0) && param_valid(P_HOLD, 1));
	cr_expect(!param_valid(P_REJECT, -0.01));
	cr_expect(!param_valid(P_BLATANT, 1.01));
	cr_expect(param_valid(P_CLASSIFIER, BAYES_NB));
	cr_expect(param_valid(P_CLASSIFIER, BAYES_FISHER));
	cr_expect(!param_valid(P_CLASSIFIER, 0.5), "a classifier is one of the kinds, not between");
	cr_expect(!param_valid(P_CLASSIFIER, 2));
	for (int i = 0; i < P_COUNT; i++) {
		cr_expect(!param_valid(i, NAN), "NaN for %s", param_meta_key(i));
		cr_expect(!param_valid(i, INFINITY), "infinity for %s", param_meta_key(i));
		cr_expect(!param_valid(i, -INFINITY));
	}
}

Test(model, day)
{
	cr_expect_eq(model_day(86400), 1);
	cr_expect_eq(model_day(3 * 86400 + 86399), 3);
	cr_expect_eq(model_day(1700000000), 19675);
	uint32_t today = (uint32_t)(time(NULL) / 86400);
	uint32_t d = model_day(0);
	cr_expect(d == today || d == today + 1, "0 is now: %u, today %u", d, today);
	d = model_day(-5);
	cr_expect(d == today || d == today + 1, "before the epoch is now too");
}

/* The prior's weight: the whole prior until the site's decisions say
 * otherwise; the candidate with the least loss; prior_comments when set. */
Test(model, prior_weight_by_loss_or_by_parameter)
{
	model_meta m;
	bayes_totals t;
	double as;
	memset(&m, 0, sizeof m);
	m.site.spam = 10;
	m.site.ham = 30;
	m.site.spam_tok = 1000;
	m.site.ham_tok = 2000;
	m.prior.spam = 1000 * PRIOR_UNIT; /* 2000 comments of prior */
	m.prior.ham = 1000 * PRIOR_UNIT;
	m.prior.spam_tok = 50000 * PRIOR_UNIT;
	m.prior.ham_tok = 40000 * PRIOR_UNIT;
	model_totals(&m, &t, &as);
	cr_expect_eq(t.w, 1, "no loss yet: the whole prior");
	cr_expect(fabs(as - 2000) < 1e-9);
	cr_expect(fabs(t.spam - 1010) < 1e-9 && fabs(t.ham_tok - 42000) < 1e-9);
	/* the candidate of 100 comments predicted the site best */
	for (int i = 0; i < PREQ_N; i++)
		m.preq[i] = preq_comments[i] == 100 ? 1.0 : 5.0;
	model_totals(&m, &t, &as);
	cr_expect(fabs(t.w - 0.05) < 1e-12, "w %g", t.w);
	cr_expect(fabs(as - 100) < 1e-9);
	cr_expect(fabs(t.spam - (10 + 0.05 * 1000)) < 1e-9);
	cr_expect(fabs(t.spam_tok - (1000 + 0.05 * 50000)) < 1e-9);
	/* a set prior_comments wins over the losses; over the prior: all of it */
	m.param[P_PRIOR_COMMENTS] = 500;
	model_totals(&m, &t, &as);
	cr_expect(fabs(t.w - 0.25) < 1e-12);
	m.param[P_PRIOR_COMMENTS] = 1e6;
	model_totals(&m, &t, NULL);
	cr_expect_eq(t.w, 1);
	/* no prior: nothing to weigh */
	memset(&m.prior, 0, sizeof m.prior);
	model_totals(&m, &t, &as);
	cr_expect(t.w == 0 && as == 0 && t.spam == 10);
	cr_expect(fabs(model_loss(0.8, 1) + log(0.8)) < 1e-12);
	cr_expect(fabs(model_loss(0.8, 0) + log(0.2)) < 1e-12);
	cr_expect(isfinite(model_loss(1.0, 0)), "a certain miss costs much, not infinity");
}

/* Format 1 (thresh 0.1): one layer, 12-byte token values. The upgrade keeps
 * the counts as the site's own, sums the token counts, empties the prior and
 * resets the classifier's parameters; anything newer is refused. */
static int v1_fn(store_txn *t, void *ctx)
{
	(void)ctx;
	uint32_t fmt = 1, tok = TOK_F_DEFAULT;
	unsigned char key[HASH_MODEL_KEY_BYTES] = {7};
	uint64_t spam = 3, ham = 5;
	double old_hold = 0.62;
	int rc;
	if ((rc = store_meta_put(t, "magic", DB_MAGIC, sizeof DB_MAGIC)) ||
	    (rc = store_meta_put(t, "format", &fmt, sizeof fmt)) ||
	    (rc = store_meta_put(t, "key", key, sizeof key)) ||
	    (rc = store_meta_put(t, "tokenizer", &tok, sizeof tok)) ||
	    (rc = store_meta_put(t, "spam", &spam, sizeof spam)) ||
	    (rc = store_meta_put(t, "ham", &ham, sizeof ham)) ||
	    (rc = store_meta_put(t, param_meta_key(P_HOLD), &old_hold, sizeof old_hold)))
		return rc;
	return 0;
}

/* put_v1_tokens - two tokens as thresh 0.1 stored them, 12 bytes each, with
 * LMDB itself (the store writes format 2 only); the store must be closed. */
static void put_v1_tokens(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint32_t v1[2][3] = {{2, 1, 100}, {0, 4, 100}}; /* spam, ham, day */
	uint64_t ids[2] = {101, 202};
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
	cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "tokens", MDB_CREATE | MDB_INTEGERKEY, &dbi), 0);
	for (int i = 0; i < 2; i++) {
		MDB_val k = {sizeof ids[i], &ids[i]}, v = {sizeof v1[i], v1[i]};
		cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static int upgrade_fn(store_txn *t, void *ctx)
{
	site_keys k;
	uint32_t from;
	(void)ctx;
	memset(&k, 0x33, sizeof k);
	k.own_root = 0;
	hash_site_keys(&k);
	return migrate_db(t, &k, &from);
}

Test(model, format_1_upgrades)
{
	model_meta m;
	store_txn *t;
	tok_counts c[2];
	uint64_t ids[2] = {101, 202};
	cr_assert_eq(store_write(S, v1_fn, NULL), 0);
	store_close(S);
	put_v1_tokens();
	cr_assert_eq(store_open(dir, 0, 0, &S), 0);
	cr_expect_eq(load(&m), THRESH_EVERSION, "read as it is, format 1 is refused");
	cr_assert_eq(store_read_begin(S, &t), 0);
	cr_expect_eq(store_tokens_get(t, ids, 2, c), 0, "12-byte values are read");
	store_read_end(t);
	cr_expect(c[0].spam == 2 && c[0].ham == 1 && c[0].day == 100 && c[0].pspam == 0 && c[0].pham == 0);
	cr_assert_eq(store_write(S, upgrade_fn, NULL), 0);
	cr_assert_eq(load(&m), 0);
	cr_expect(m.site.spam == 3 && m.site.ham == 5, "the comments stay the site's own");
	cr_expect(m.site.spam_tok == 2 && m.site.ham_tok == 5, "token sums %" PRIu64 " %" PRIu64,
	          m.site.spam_tok, m.site.ham_tok);
	cr_expect(m.prior.spam == 0 && m.prior.ham == 0 && m.prior.spam_tok == 0);
	cr_expect_eq(m.param[P_HOLD], param_default(P_HOLD), "thresh 0.1's cutoff is not this scale's");
	unsigned char key[HASH_MODEL_KEY_BYTES] = {7};
	cr_expect_eq(memcmp(m.key, key, sizeof key), 0, "the key, and so every token id, stays");
	cr_expect_eq(store_write(S, upgrade_fn, NULL), 0, "upgrading twice is harmless");
	uint32_t fmt = DB_FORMAT_VERSION + 1;
	meta_put("format", &fmt, sizeof fmt);
	cr_expect_eq(store_write(S, upgrade_fn, NULL), THRESH_EVERSION, "a newer format is refused");
}

/* A database of thresh 0.2 (no "preq_site", "pins", "fit" or "ring"): the
 * site alone's loss starts as the weight 10's, a cutoff stored apart from
 * its default counts as pinned, the fits are the defaults. */
Test(model, a_database_of_0_2_reads)
{
	model_meta m;
	put_meta_without(NULL);
	double preq[PREQ_N - 1] = {1, 2, 3, 4, 5, 6, 7.5};
	meta_put("preq", preq, sizeof preq);
	double hold = 0.3, shift = param_default(P_NB_SHIFT);
	meta_put(param_meta_key(P_HOLD), &hold, sizeof hold);
	meta_put(param_meta_key(P_NB_SHIFT), &shift, sizeof shift);
	cr_assert_eq(load(&m), 0);
	cr_expect_eq(m.preq[PREQ_N - 1], 7.5);
	cr_expect_eq(m.preq[0], 1);
	cr_expect_eq(m.pinned, 1u << P_HOLD, "pinned %#x", m.pinned);
	cr_expect_eq(m.fits.n, 0);
	for (int j = 0; j < PREQ_N; j++)
		cr_expect(m.fits.c[j].a == param_default(P_NB_SCALE) &&
		          m.fits.c[j].b == param_default(P_NB_SHIFT) && isnan(m.fits.c[j].x_hold));
	/* the ring reads as empty */
	model_ring *r = malloc(sizeof *r);
	store_txn *t;
	cr_assert_eq(store_read_begin(S, &t), 0);
	cr_expect_eq(meta_ring_get(t, r), 0);
	store_read_end(t);
	cr_expect(r->n == 0 && r->pos == 0);
	free(r);
	/* the losses written back keep 0.2's key as it was */
	cr_expect_eq(m.preq[PREQ_N - 2], 7.5);
}

static int put_ring_fn(store_txn *t, void *ctx)
{
	return meta_ring_put(t, ctx);
}

Test(model, the_ring_round_trips_and_a_bad_one_is_corruption)
{
	model_ring *r = calloc(1, sizeof *r), *back = malloc(sizeof *back);
	store_txn *t;
	cr_assert_eq(store_write(S, init_fn, NULL), 0);
	r->n = MODEL_RING;
	r->pos = 17;
	for (int i = 0; i < MODEL_RING; i++) {
		r->label[i] = i % 3 == 0;
		for (int j = 0; j < PREQ_N; j++)
			r->x[i][j] = (float)(i * 0.01 - j * 0.1);
	}
	cr_assert_eq(store_write(S, put_ring_fn, r), 0);
	cr_assert_eq(store_read_begin(S, &t), 0);
	cr_expect_eq(meta_ring_get(t, back), 0);
	store_read_end(t);
	cr_expect_eq(memcmp(r, back, sizeof *r), 0);
	r->n = 5; /* not full, yet the next entry is not the sixth */
	cr_assert_eq(store_write(S, put_ring_fn, r), 0);
	cr_assert_eq(store_read_begin(S, &t), 0);
	cr_expect_eq(meta_ring_get(t, back), THRESH_ECORRUPT);
	store_read_end(t);
	free(r);
	free(back);
}

/* meta - a model with a prior of 2000 comments, the site's counts and one
 * candidate's fit. */
static void meta_with_fit(model_meta *m, uint64_t spam, uint64_t ham)
{
	memset(m, 0, sizeof *m);
	for (int i = 0; i < P_COUNT; i++)
		m->param[i] = param_default(i);
	m->prior.spam = 1000 * PRIOR_UNIT;
	m->prior.ham = 1000 * PRIOR_UNIT;
	m->site.spam = spam;
	m->site.ham = ham;
	model_fits_default(&m->fits);
	m->fits.n = 100;
	m->fits.c[0] = (calib_fit){10, -1, 0.1, 0.4};
	m->fits.cand = 0; /* checks calibrate candidate 0 alike */
	m->fits.check_a = 10;
	m->fits.check_b = -1;
}

/* Nothing learned: the new-site cutoffs and the default calibration, bit
 * for bit, so a check scores and decides as before. */
Test(model, nothing_learned_is_the_new_site_exactly)
{
	model_meta m;
	model_force f;
	cr_assert_eq(store_write(S, init_fn, NULL), 0);
	cr_assert_eq(load(&m), 0);
	model_in_force(&m, &f);
	cr_expect_eq(f.hold, param_default(P_HOLD));
	cr_expect_eq(f.reject, param_default(P_REJECT));
	cr_expect_eq(f.a, param_default(P_NB_SCALE));
	cr_expect_eq(f.b, param_default(P_NB_SHIFT));
	cr_expect(f.hold_from == THRESH_FROM_NEW_SITE && f.reject_from == THRESH_FROM_NEW_SITE &&
	          f.cal_from == THRESH_FROM_NEW_SITE);
	cr_expect(f.hold_alpha == 0 && f.reject_alpha == 0 && f.cand == 0);
	double before[P_COUNT];
	memcpy(before, m.param, sizeof before);
	model_force_apply(&m);
	cr_expect_eq(memcmp(before, m.param, sizeof before), 0, "the parameters as stored");
	/* decisions in the ring, but none counted yet by the site (an import):
	 * alpha 0 keeps the cutoffs at the new site's */
	meta_with_fit(&m, 0, 0);
	model_in_force(&m, &f);
	cr_expect(f.hold == param_default(P_HOLD) && f.reject == param_default(P_REJECT));
	cr_expect(f.a == 10 && f.b == -1 && f.cal_from == THRESH_FROM_SITE);
}

/* The cutoffs move from the new site's towards the site's own, in logit
 * space, by the share of decisions of each class. */
Test(model, cutoffs_blend_towards_the_sites)
{
	model_meta m;
	model_force f;
	double lh = 10 * 0.1 - 1, lr = 10 * 0.4 - 1; /* the site's, by its fit */
	meta_with_fit(&m, MODEL_N0_SPAM / 2, MODEL_N0_HAM / 4);
	model_in_force(&m, &f);
	cr_expect(f.hold_from == THRESH_FROM_BLEND && f.reject_from == THRESH_FROM_BLEND);
	cr_expect_eq(f.hold_alpha, 0.5);
	cr_expect_eq(f.reject_alpha, 0.25);
	cr_expect(fabs(calib_logit(f.hold) - (0.5 * calib_logit(param_default(P_HOLD)) + 0.5 * lh)) < 1e-9);
	cr_expect(fabs(calib_logit(f.reject) - (0.75 * calib_logit(param_default(P_REJECT)) + 0.25 * lr)) <
	          1e-9);
	meta_with_fit(&m, 10 * MODEL_N0_SPAM, 10 * MODEL_N0_HAM);
	model_in_force(&m, &f);
	cr_expect(f.hold_from == THRESH_FROM_SITE && f.reject_from == THRESH_FROM_SITE);
	cr_expect(f.hold_alpha == 1 && f.reject_alpha == 1);
	cr_expect(fabs(f.hold - calib_sigmoid(lh)) < 1e-15 && fabs(f.reject - calib_sigmoid(lr)) < 1e-15);
	/* no spam in the ring: hold stays the new site's whatever the count */
	m.fits.c[0].x_hold = NAN;
	model_in_force(&m, &f);
	cr_expect(f.hold == param_default(P_HOLD) && f.hold_from == THRESH_FROM_NEW_SITE);
	/* the cutoffs follow the calibration in force: a pinned one maps them */
	m.fits.c[0].x_hold = 0.1;
	m.pinned = 1u << P_NB_SCALE;
	model_in_force(&m, &f);
	cr_expect(f.a == param_default(P_NB_SCALE) && f.b == param_default(P_NB_SHIFT) &&
	          f.cal_from == THRESH_FROM_PINNED);
	cr_expect(fabs(f.hold - calib_sigmoid(f.a * 0.1 + f.b)) < 1e-15);
}

/* A pinned cutoff wins; hold and reject stay ordered, the pinned one
 * standing. */
Test(model, pins_win)
{
	model_meta m;
	model_force f;
	meta_with_fit(&m, 1000, 1000);
	m.pinned = 1u << P_REJECT;
	m.param[P_REJECT] = 0.99;
	model_in_force(&m, &f);
	cr_expect(f.reject == 0.99 && f.reject_from == THRESH_FROM_PINNED && f.reject_alpha == 0);
	cr_expect(f.hold_from == THRESH_FROM_SITE);
	/* a pinned hold above the site's reject: the reject gives way */
	m.pinned = 1u << P_HOLD;
	m.param[P_HOLD] = 0.999;
	model_in_force(&m, &f);
	cr_expect(f.hold == 0.999 && f.reject == 0.999 && f.reject_from == THRESH_FROM_SITE);
	/* Fisher's scores are on another scale: the stored values */
	m.pinned = 0;
	m.param[P_HOLD] = param_default(P_HOLD);
	m.param[P_REJECT] = param_default(P_REJECT);
	m.param[P_CLASSIFIER] = BAYES_FISHER;
	model_in_force(&m, &f);
	cr_expect(f.hold == param_default(P_HOLD) && f.reject == param_default(P_REJECT) &&
	          f.a == param_default(P_NB_SCALE) && f.hold_from == THRESH_FROM_NEW_SITE);
}

/* The candidate in force: the least loss; with prior_comments set, the
 * candidate of the nearest weight, whose fit checks then use. */
Test(model, candidate_in_force)
{
	model_meta m;
	meta_with_fit(&m, 0, 0);
	cr_expect_eq(model_candidate(&m), 0, "equal losses: the whole prior");
	for (int i = 0; i < PREQ_N; i++)
		m.preq[i] = i == PREQ_N - 1 ? 1 : 2;
	cr_expect_eq(model_candidate(&m), 0, "the site alone knows no comment yet: not eligible");
	m.site.spam = MODEL_ELIGIBLE - 1;
	m.site.ham = 500;
	cr_expect_eq(model_candidate(&m), 0, "nor with too few spam");
	m.site.spam = MODEL_ELIGIBLE;
	cr_expect_eq(model_candidate(&m), PREQ_N - 1, "the site alone");
	bayes_totals t;
	model_totals(&m, &t, NULL);
	cr_expect_eq(t.w, 0);
	/* a weight of 10 lends 5 of each class: eligible with 15 spam of the site's */
	for (int i = 0; i < PREQ_N; i++)
		m.preq[i] = preq_comments[i] == 10 ? 1 : 2;
	m.site.spam = MODEL_ELIGIBLE - 6;
	cr_expect_eq(model_candidate(&m), 0);
	m.site.spam = MODEL_ELIGIBLE - 5;
	cr_expect_eq(preq_comments[model_candidate(&m)], 10);
	m.param[P_PRIOR_COMMENTS] = 120;
	cr_expect_eq(preq_comments[model_candidate(&m)], 100);
	m.param[P_PRIOR_COMMENTS] = 5000; /* more than the prior: all of it */
	cr_expect_eq(model_candidate(&m), 0);
}
