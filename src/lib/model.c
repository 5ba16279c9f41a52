/* model.c - the model's meta: format, key, feature set, comment totals and
 * classifier parameters (see model.h). */
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

/* Defaults chosen by cross-validation on both corpora (see README). */
static const struct param_def params[P_COUNT] = {
	[P_ROBS] = {"robs", 0.1, 1e-6, 1000},
	[P_ROBX] = {"robx", 0.5, 0.01, 0.99},
	[P_MIN_DEV] = {"min_dev", 0.1, 0, 0.49},
	[P_HOLD] = {"hold_cutoff", 0.62, 0, 1},
	[P_REJECT] = {"reject_cutoff", 0.73, 0, 1},
	[P_BLATANT] = {"blatant_cutoff", 0.95, 0, 1},
	[P_CLASSIFIER] = {"classifier", BAYES_NB, BAYES_NB, BAYES_FISHER},
	[P_NB_POWER] = {"nb_power", 0.8, 0, 1},
	[P_GRAM_WEIGHT] = {"gram_weight", 0.3, 0, 1},
};

static const char *const param_keys[P_COUNT] = {
	"p:robs", "p:robx", "p:min_dev", "p:hold_cutoff", "p:reject_cutoff", "p:blatant_cutoff",
	"p:classifier", "p:nb_power", "p:gram_weight",
};

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

int meta_init(store_txn *t)
{
	unsigned char key[HASH_MODEL_KEY_BYTES];
	uint32_t fmt = DB_FORMAT_VERSION, tok = TOK_F_DEFAULT;
	uint64_t zero = 0;
	int rc;
	hash_random(key, sizeof key);
	if ((rc = store_meta_put(t, "magic", DB_MAGIC, sizeof DB_MAGIC)) ||
	    (rc = store_meta_put(t, "format", &fmt, sizeof fmt)) ||
	    (rc = store_meta_put(t, "key", key, sizeof key)) ||
	    (rc = store_meta_put(t, "tokenizer", &tok, sizeof tok)) ||
	    (rc = store_meta_put(t, "spam", &zero, sizeof zero)) ||
	    (rc = store_meta_put(t, "ham", &zero, sizeof zero)))
		return rc;
	for (int i = 0; i < P_COUNT; i++)
		if ((rc = store_meta_put(t, param_keys[i], &params[i].def, sizeof(double))))
			return rc;
	return 0;
}

int meta_load(store_txn *t, model_meta *m)
{
	char magic[sizeof DB_MAGIC];
	uint32_t fmt;
	int rc = store_meta_get(t, "magic", magic, sizeof magic);
	if (rc == THRESH_ENOTFOUND || (rc == 0 && memcmp(magic, DB_MAGIC, sizeof magic) != 0))
		return THRESH_ECORRUPT;
	if (rc)
		return rc;
	if ((rc = store_meta_get(t, "format", &fmt, sizeof fmt)))
		return rc == THRESH_ENOTFOUND ? THRESH_ECORRUPT : rc;
	if (fmt != DB_FORMAT_VERSION)
		return THRESH_EVERSION;
	if ((rc = store_meta_get(t, "key", m->key, sizeof m->key)) ||
	    (rc = store_meta_get(t, "tokenizer", &m->tokenizer, sizeof m->tokenizer)) ||
	    (rc = store_meta_get(t, "spam", &m->tot.spam, sizeof m->tot.spam)) ||
	    (rc = store_meta_get(t, "ham", &m->tot.ham, sizeof m->tot.ham)))
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

