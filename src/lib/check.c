/* check.c - one check: tokenize, look up, score, decide, explain. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/check.h"
#include "thresh/error.h"
#include "comment_int.h"
#include "db_int.h"

#define RESULT_MAX_REASONS 16
#define EXPLAIN_TOKENS 15

struct explain_tok {
	size_t off, len; /* text inside thresh_result.text */
	double strength; /* how far it moved the score, for sorting */
	double prob;
	uint64_t spam, ham;
};

struct thresh_result {
	thresh_verdict verdict;
	double score;
	int blatant;
	double retry_after;
	const char *reasons[RESULT_MAX_REASONS]; /* static strings */
	size_t nreasons;
	struct explain_tok *tok;
	size_t ntok;
	char *text;
};

struct thresh_view {
	thresh_db *db;
	store_txn *t;
	model_meta m;
	tok_list tl;
	tok_counts *counts;
	double *probs;
	size_t cap;
};

int thresh_view_open(thresh_db *db, thresh_view **out)
{
	int rc;
	if (!db || !out)
		return THRESH_EINVAL;
	thresh_view *v = calloc(1, sizeof *v);
	if (!v)
		return THRESH_ENOMEM;
	v->db = db;
	tok_list_init(&v->tl);
	if ((rc = store_read_begin(db->st, &v->t)) || (rc = meta_load(db, v->t, &v->m))) {
		thresh_view_close(v);
		return rc;
	}
	*out = v;
	return 0;
}

void thresh_view_close(thresh_view *v)
{
	if (!v)
		return;
	store_read_end(v->t);
	hash_wipe(v->m.key, sizeof v->m.key);
	tok_list_free(&v->tl);
	free(v->counts);
	free(v->probs);
	free(v);
}

static void add_reason(thresh_result *r, const char *name)
{
	if (r->nreasons < RESULT_MAX_REASONS)
		r->reasons[r->nreasons++] = name;
}

static int cmp_strength(const void *a, const void *b)
{
	const struct explain_tok *x = a, *y = b;
	return x->strength < y->strength ? 1 : x->strength > y->strength ? -1 : 0;
}

/* explain - keep the EXPLAIN_TOKENS tokens that moved the score most, with
 * copies of their texts: by log-odds, character n-grams scaled by their
 * weight (for Fisher, whose tokens all weigh alike, the same order as the
 * distance of the estimate from 0.5). */
static int explain(thresh_result *r, const thresh_view *v)
{
	const tok_list *tl = &v->tl;
	struct explain_tok *all;
	size_t n = tl->n, keep, bytes = 0;
	if (!n)
		return 0;
	if (!(all = malloc(n * sizeof *all)))
		return THRESH_ENOMEM;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		/* Tokens the model has never seen say nothing: leave them out. */
		if (v->counts[i].spam == 0 && v->counts[i].ham == 0)
			continue;
		all[m].off = tl->off[i];
		all[m].len = tl->len[i];
		all[m].prob = v->probs[i];
		double p = v->probs[i];
		all[m].strength = fabs(log(p / (1 - p)));
		if (v->tl.gram[i] && (int)v->m.param[P_CLASSIFIER] == BAYES_NB)
			all[m].strength *= v->m.param[P_GRAM_WEIGHT];
		all[m].spam = v->counts[i].spam;
		all[m].ham = v->counts[i].ham;
		m++;
	}
	n = m;
	if (!n) {
		free(all);
		return 0;
	}
	qsort(all, n, sizeof *all, cmp_strength);
	keep = n < EXPLAIN_TOKENS ? n : EXPLAIN_TOKENS;
	for (size_t i = 0; i < keep; i++)
		bytes += all[i].len + 1;
	if (!(r->text = malloc(bytes))) {
		free(all);
		return THRESH_ENOMEM;
	}
	size_t pos = 0;
	for (size_t i = 0; i < keep; i++) {
		memcpy(r->text + pos, tl->text + all[i].off, all[i].len);
		r->text[pos + all[i].len] = '\0';
		all[i].off = pos;
		pos += all[i].len + 1;
	}
	r->tok = all;
	r->ntok = keep;
	return 0;
}

/* grow_scratch - room for n counts and estimates in the view. */
static int grow_scratch(thresh_view *v, size_t n)
{
	if (n <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 64;
	while (cap < n)
		cap *= 2;
	tok_counts *c = realloc(v->counts, cap * sizeof *c);
	if (!c)
		return THRESH_ENOMEM;
	v->counts = c;
	double *p = realloc(v->probs, cap * sizeof *p);
	if (!p)
		return THRESH_ENOMEM;
	v->probs = p;
	v->cap = cap;
	return 0;
}

/* score_comment - the classifier's part of a check, inside the view. */
static int score_comment(thresh_view *v, const thresh_comment *c, double *score)
{
	const model_meta *m = &v->m;
	bayes_params bp = {(int)m->param[P_CLASSIFIER], m->param[P_ROBS], m->param[P_ROBX],
	                   m->param[P_MIN_DEV], m->param[P_NB_POWER], m->param[P_GRAM_WEIGHT]};
	int rc;
	if ((rc = tok_comment(&v->tl, c, m->tokenizer, m->key)) || (rc = grow_scratch(v, v->tl.n)) ||
	    (rc = store_tokens_get(v->t, v->tl.ids, v->tl.n, v->counts)))
		return rc;
	*score = bayes_score(v->counts, v->tl.n, v->tl.gram, &m->tot, &bp, v->probs);
	return 0;
}

int thresh_view_check(thresh_view *v, const thresh_comment *c, unsigned flags, thresh_result **out)
{
	thresh_result *r;
	double score;
	int rc;
	if (!v || !c || !out)
		return THRESH_EINVAL;
	if ((rc = score_comment(v, c, &score)))
		return rc;
	if (!(r = calloc(1, sizeof *r)))
		return THRESH_ENOMEM;
	r->score = score;
	if (score >= v->m.param[P_REJECT]) {
		r->verdict = THRESH_REJECT;
		add_reason(r, "bayes");
		r->blatant = score >= v->m.param[P_BLATANT];
	} else if (score >= v->m.param[P_HOLD]) {
		r->verdict = THRESH_HOLD;
		add_reason(r, "bayes");
	}
	if ((flags & THRESH_CHECK_EXPLAIN) && (rc = explain(r, v))) {
		thresh_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int thresh_check(thresh_db *db, const thresh_comment *c, unsigned flags, thresh_result **out)
{
	thresh_view *v;
	int rc;
	if (!db || !c || !out)
		return THRESH_EINVAL;
	if ((rc = thresh_view_open(db, &v)))
		return rc;
	rc = thresh_view_check(v, c, flags, out);
	thresh_view_close(v);
	return rc;
}

void thresh_result_free(thresh_result *r)
{
	if (!r)
		return;
	free(r->tok);
	free(r->text);
	free(r);
}

thresh_verdict thresh_result_verdict(const thresh_result *r)
{
	return r ? r->verdict : THRESH_ACCEPT;
}

double thresh_result_score(const thresh_result *r)
{
	return r ? r->score : 0;
}

int thresh_result_blatant(const thresh_result *r)
{
	return r ? r->blatant : 0;
}

double thresh_result_retry_after(const thresh_result *r)
{
	return r ? r->retry_after : 0;
}

size_t thresh_result_reason_count(const thresh_result *r)
{
	return r ? r->nreasons : 0;
}

const char *thresh_result_reason(const thresh_result *r, size_t i)
{
	return r && i < r->nreasons ? r->reasons[i] : NULL;
}

size_t thresh_result_token_count(const thresh_result *r)
{
	return r ? r->ntok : 0;
}

int thresh_result_token(const thresh_result *r, size_t i, const char **text, double *prob,
                        uint64_t *spam, uint64_t *ham)
{
	if (!r || i >= r->ntok)
		return THRESH_EINVAL;
	if (text)
		*text = r->text + r->tok[i].off;
	if (prob)
		*prob = r->tok[i].prob;
	if (spam)
		*spam = r->tok[i].spam;
	if (ham)
		*ham = r->tok[i].ham;
	return 0;
}

const char *thresh_verdict_name(thresh_verdict v)
{
	switch (v) {
	case THRESH_ACCEPT:
		return "accept";
	case THRESH_HOLD:
		return "hold";
	case THRESH_REJECT:
		return "reject";
	}
	return "unknown";
}
