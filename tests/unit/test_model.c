/* src/lib/model.c: the model's meta (meta_init, meta_load and the formats
 * and magic it refuses), the classifier parameters' names, keys, defaults
 * and ranges (param_index, param_valid, param_meta_key), and model_day. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <time.h>

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
	cr_expect_eq(m.tot.spam, 0);
	cr_expect_eq(m.tot.ham, 0);
	cr_expect(memcmp(m.key, zero, sizeof zero) != 0, "a random key");
	/* the defaults of model.c's table */
	static const double def[P_COUNT] = {
		[P_ROBS] = 0.1, [P_ROBX] = 0.5, [P_MIN_DEV] = 0.1, [P_HOLD] = 0.62, [P_REJECT] = 0.73,
		[P_BLATANT] = 0.95, [P_CLASSIFIER] = BAYES_NB, [P_NB_POWER] = 0.8, [P_GRAM_WEIGHT] = 0.3,
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
	cr_expect_eq(m.tot.spam, 12);
	cr_expect_eq(m.tot.ham, 34);
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

Test(model, missing_meta_is_corruption)
{
	static const char *const keys[] = {"format", "key", "tokenizer", "spam", "ham"};
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		model_meta m;
		/* a store with the magic and every key but one */
		store_close(S);
		tu_rmtree(dir);
		free(dir);
		dir = tu_tmpdir();
		cr_assert_eq(store_open(dir, 0, 0, &S), 0);
		meta_put("magic", DB_MAGIC, sizeof DB_MAGIC);
		uint32_t fmt = DB_FORMAT_VERSION, tok = TOK_F_DEFAULT;
		unsigned char key[HASH_MODEL_KEY_BYTES] = {1};
		uint64_t zero = 0;
		if (strcmp(keys[k], "format"))
			meta_put("format", &fmt, sizeof fmt);
		if (strcmp(keys[k], "key"))
			meta_put("key", key, sizeof key);
		if (strcmp(keys[k], "tokenizer"))
			meta_put("tokenizer", &tok, sizeof tok);
		if (strcmp(keys[k], "spam"))
			meta_put("spam", &zero, sizeof zero);
		if (strcmp(keys[k], "ham"))
			meta_put("ham", &zero, sizeof zero);
		cr_expect_eq(load(&m), THRESH_ECORRUPT, "without %s", keys[k]);
	}
}

/* A parameter an older database never stored reads as its default; one
 * stored with the wrong size is corruption. */
Test(model, parameters_missing_get_their_default)
{
	model_meta m;
	meta_put("magic", DB_MAGIC, sizeof DB_MAGIC);
	uint32_t fmt = DB_FORMAT_VERSION, tok = TOK_F_DEFAULT;
	unsigned char key[HASH_MODEL_KEY_BYTES] = {1};
	uint64_t zero = 0;
	meta_put("format", &fmt, sizeof fmt);
	meta_put("key", key, sizeof key);
	meta_put("tokenizer", &tok, sizeof tok);
	meta_put("spam", &zero, sizeof zero);
	meta_put("ham", &zero, sizeof zero);
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
		"classifier", "nb_power", "gram_weight",
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
