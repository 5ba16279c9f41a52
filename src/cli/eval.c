/* eval.c - `thresh eval`: stratified K-fold cross-validation of the
 * classifier on a labelled file, with fresh temporary databases.
 *
 *   thresh eval --folds 5 --seed 1 corpus.tsv
 *
 * 1. Read label<TAB>text lines. Drop repeated texts (keep the first); a text
 *    seen under both labels is dropped altogether.
 * 2. Shuffle with splitmix64 seeded by --seed, then deal spam and ham
 *    round-robin into K folds, so every fold has the same mix.
 * 3. For each fold: a new empty database in a temporary folder, trained in
 *    one batch on the other K-1 folds, scores the fold through one view.
 *    The folder is removed afterwards (also on an error or a signal).
 * 4. Pool the K folds' scores: ROC AUC (Mann-Whitney, ties averaged),
 *    accuracy, precision, recall and F1 with spam as the positive class at
 *    the reject cutoff and at 0.5, and the moderation table, each comment
 *    judged at the cutoffs its fold's database has after training (fitted
 *    on its own decisions, or set in thresh.conf).
 * The user's database is never opened. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { O_FOLDS, O_SEED, O_JSON, O_PLOT };

static const struct opt_def eval_opts[] = {
	{"folds", OPT_ARG, O_FOLDS},
	{"seed", OPT_ARG, O_SEED},
	{"json", OPT_NOARG, O_JSON},
	{"plot", OPT_ARG, O_PLOT},
	{NULL, 0, 0},
};

struct item {
	char *text;
	size_t len;
	int label;
	size_t first;   /* index of the first item with the same text */
	int conflict;   /* (on a first item) the text was seen under both labels */
	int fold;
	double score;
	double hold, reject; /* its fold's cutoffs */
};

struct corpus {
	struct item *it;
	size_t n, cap;
	size_t *table;  /* open addressing: item index + 1, 0 = empty */
	size_t tcap;
	uint64_t bad;
};

/* ---------- a deterministic PRNG: splitmix64 ---------- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* below - a uniform number in [0, n), without modulo bias. */
static uint64_t below(uint64_t *state, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, r;
	do
		r = splitmix64(state);
	while (r >= limit);
	return r % n;
}

/* ---------- reading and de-duplicating ---------- */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int table_grow(struct corpus *c)
{
	size_t cap = c->tcap ? c->tcap * 2 : 1024;
	size_t *t = calloc(cap, sizeof *t);
	if (!t)
		return -1;
	for (size_t i = 0; i < c->tcap; i++) {
		if (!c->table[i])
			continue;
		const struct item *x = &c->it[c->table[i] - 1];
		size_t h = (size_t)fnv1a(x->text, x->len) & (cap - 1);
		while (t[h])
			h = (h + 1) & (cap - 1);
		t[h] = c->table[i];
	}
	free(c->table);
	c->table = t;
	c->tcap = cap;
	return 0;
}

/* add_item - append a labelled text, linking it to an earlier copy. */
static int add_item(struct corpus *c, const char *text, size_t len, int label)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct item *p = realloc(c->it, cap * sizeof *p);
		if (!p)
			return -1;
		c->it = p;
		c->cap = cap;
	}
	if ((c->n + 1) * 2 > c->tcap && table_grow(c))
		return -1;
	struct item *x = &c->it[c->n];
	if (!(x->text = malloc(len + 1)))
		return -1;
	memcpy(x->text, text, len);
	x->text[len] = '\0';
	x->len = len;
	x->label = label;
	x->conflict = 0;
	x->fold = -1;
	x->score = 0;
	size_t h = (size_t)fnv1a(text, len) & (c->tcap - 1);
	for (;;) {
		if (!c->table[h]) {
			c->table[h] = c->n + 1;
			x->first = c->n;
			break;
		}
		struct item *y = &c->it[c->table[h] - 1];
		if (y->len == len && !memcmp(y->text, text, len)) {
			x->first = c->table[h] - 1;
			if (y->label != label)
				y->conflict = 1;
			break;
		}
		h = (h + 1) & (c->tcap - 1);
	}
	c->n++;
	return 0;
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->it[i].text);
	free(c->it);
	free(c->table);
}

/* load - every good line of path; bad ones are reported and counted. */
static int load(struct corpus *c, const char *path)
{
	struct line_reader lr;
	thresh_comment *cm;
	char *line;
	size_t len;
	int got, rc;
	if (lr_open(&lr, path)) {
		cli_warn("%s: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	if (thresh_comment_new(&cm)) {
		lr_close(&lr);
		cli_warn("out of memory");
		return CLI_FAIL;
	}
	while ((got = lr_next(&lr, &line, &len)) > 0) {
		if (len == 0)
			continue;
		char *tab = memchr(line, '\t', len);
		int label = tab ? parse_label(line, (size_t)(tab - line)) : -1;
		size_t tlen = tab ? len - (size_t)(tab + 1 - line) : 0;
		if (!tab || label < 0 || tlen == 0) {
			cli_warn("%s:%zu: %s", lr.name, lr.lineno,
			         !tab ? "expected LABEL<TAB>TEXT (no tab on the line)"
			         : label < 0 ? "bad label (expected spam or ham)"
			                     : "no text after the label");
			c->bad++;
			continue;
		}
		/* The library is the judge of what a comment may hold. */
		if ((rc = thresh_comment_set(cm, "content", tab + 1, tlen))) {
			cli_warn("%s:%zu: %s", lr.name, lr.lineno, thresh_strerror(rc));
			c->bad++;
			continue;
		}
		if (add_item(c, tab + 1, tlen, label)) {
			cli_warn("out of memory");
			got = -2;
			break;
		}
	}
	int status = got < 0 ? CLI_FAIL : 0;
	if (got == -1 && errno == EINTR && cli_interrupted)
		status = CLI_INTR;
	else if (got == -1)
		cli_warn("%s: line %zu: %s", lr.name, lr.lineno + 1, strerror(errno));
	thresh_comment_free(cm);
	lr_close(&lr);
	return status;
}

/* ---------- temporary databases ---------- */

/* rmtree - remove a folder we made and everything in it; best effort. */
static void rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char p[PATH_MAX];
		struct stat st;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
				continue;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				rmtree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* run_fold - train a fresh database on every fold but f and score fold f.
 * Returns 0, CLI_FAIL (reported) or CLI_INTR. */
static int run_fold(const struct cli *cli, struct corpus *c, const size_t *keep, size_t nkeep,
                    int f, double *hold, double *reject)
{
	char base[PATH_MAX], dir[PATH_MAX + 8], err[512] = "";
	const char *tmp = getenv("TMPDIR");
	thresh_db_options o;
	thresh_db *db = NULL;
	thresh_batch *b = NULL;
	thresh_view *v = NULL;
	thresh_comment *cm = NULL;
	int rc, status = CLI_FAIL;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(base, sizeof base, "%s/thresh-eval-XXXXXX", tmp) >= (int)sizeof base) {
		cli_warn("TMPDIR is too long");
		return CLI_FAIL;
	}
	if (!mkdtemp(base)) {
		cli_warn("%s: %s", base, strerror(errno));
		return CLI_FAIL;
	}
	snprintf(dir, sizeof dir, "%s/db", base);
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY | THRESH_DB_NOCONFIG;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	if ((rc = thresh_db_open(dir, &o, &db))) {
		cli_warn("%s: %s%s%s", dir, thresh_strerror(rc), err[0] ? ": " : "", err);
		goto out;
	}
	if ((rc = thresh_comment_new(&cm)) || (rc = thresh_batch_begin(db, &b))) {
		cli_warn("%s: %s", dir, thresh_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < nkeep; i++) {
		struct item *x = &c->it[keep[i]];
		if (x->fold == f)
			continue;
		if (cli_interrupted) {
			status = CLI_INTR;
			goto out;
		}
		thresh_comment_reset(cm);
		cli_set_time(cli, cm);
		if ((rc = thresh_comment_set(cm, "content", x->text, x->len)) ||
		    (rc = thresh_batch_learn(b, cm, x->label))) {
			cli_warn("fold %d: learning: %s", f + 1, thresh_strerror(rc));
			goto out;
		}
	}
	rc = thresh_batch_commit(b, NULL);
	b = NULL;
	if (rc) {
		cli_warn("%s: storing the training batch: %s", dir, thresh_strerror(rc));
		goto out;
	}
	if ((rc = thresh_db_param_get(db, "hold_cutoff", hold)) ||
	    (rc = thresh_db_param_get(db, "reject_cutoff", reject)) ||
	    (rc = thresh_view_open(db, &v))) {
		cli_warn("%s: %s", dir, thresh_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < nkeep; i++) {
		struct item *x = &c->it[keep[i]];
		thresh_result *r;
		if (x->fold != f)
			continue;
		if (cli_interrupted) {
			status = CLI_INTR;
			goto out;
		}
		thresh_comment_reset(cm);
		cli_set_time(cli, cm);
		if ((rc = thresh_comment_set(cm, "content", x->text, x->len)) ||
		    (rc = thresh_view_check(v, cm, THRESH_CHECK_READONLY, &r))) {
			cli_warn("fold %d: checking: %s", f + 1, thresh_strerror(rc));
			goto out;
		}
		x->score = thresh_result_score(r);
		x->hold = *hold;
		x->reject = *reject;
		thresh_result_free(r);
	}
	status = cli_interrupted ? CLI_INTR : 0;
out:
	thresh_view_close(v);
	thresh_batch_abort(b);
	thresh_db_close(db);
	thresh_comment_free(cm);
	rmtree(base);
	return status;
}

/* ---------- measures ---------- */

static int cmp_score(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* auc - the Mann-Whitney U of the spam scores over ham, averaged ranks for ties. */
static double auc(struct scored *s, size_t n, size_t nspam, size_t nham)
{
	double rank_sum = 0;
	qsort(s, n, sizeof *s, cmp_score);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j].score == s[i].score)
			j++;
		double avg = (double)(i + 1 + j) / 2.0; /* ranks i+1 .. j */
		for (size_t k = i; k < j; k++)
			if (s[k].label == THRESH_SPAM)
				rank_sum += avg;
		i = j;
	}
	return (rank_sum - (double)nspam * ((double)nspam + 1) / 2.0) / ((double)nspam * (double)nham);
}

struct measures {
	double accuracy, precision, recall, f1;
};

/* measure - spam when the score is at or over cut, or when cut is
 * negative, at or over the item's own reject cutoff (rej[i]). */
static struct measures measure(const struct scored *s, size_t n, double cut, const double *rej)
{
	uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
	struct measures m;
	for (size_t i = 0; i < n; i++) {
		int pred = s[i].score >= (cut < 0 ? rej[i] : cut);
		if (s[i].label == THRESH_SPAM)
			pred ? tp++ : fn++;
		else
			pred ? fp++ : tn++;
	}
	m.accuracy = n ? (double)(tp + tn) / (double)n : 0;
	m.precision = tp + fp ? (double)tp / (double)(tp + fp) : 0;
	m.recall = tp + fn ? (double)tp / (double)(tp + fn) : 0;
	m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
	return m;
}

static void json_num(const char *key, double v, int comma)
{
	printf("\"%s\":", key);
	print_json_double(stdout, v);
	if (comma)
		putchar(',');
}

/* ---------- the command ---------- */

int cmd_eval(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0], *arg, *path = NULL, *plot = NULL;
	uint64_t folds = 5, seed = 1, state;
	int json = 0, o, status = CLI_FAIL;
	struct opt_iter it;
	struct corpus c;
	size_t *keep = NULL, nkeep = 0, nspam = 0, nham = 0, ndup = 0, nconf = 0;
	struct scored *s = NULL;
	double hold = 0, reject = 0, *rej = NULL;
	struct progress pg;

	opt_start(&it, cmd, argc, argv);
	while ((o = opt_next(&it, eval_opts, &arg)) != OPT_DONE) {
		switch (o) {
		case OPT_HELP:
			help_print(stdout, cmd);
			return CLI_OK;
		case OPT_ERROR:
			return CLI_FAIL;
		case O_FOLDS:
			if (parse_u64(arg, 0, 1000, &folds) || folds < 2)
				return usage_error(cmd, "--folds %s: expected a whole number from 2 to 1000", arg);
			break;
		case O_SEED:
			if (parse_u64(arg, 0, UINT64_MAX, &seed))
				return usage_error(cmd, "--seed %s: expected a whole number >= 0", arg);
			break;
		case O_JSON:
			json = 1;
			break;
		case O_PLOT:
			plot = arg;
			break;
		case OPT_POSITIONAL:
			if (path)
				return usage_error(cmd, "give one FILE (unexpected '%s')", arg);
			path = arg;
			break;
		}
	}
	if (!path)
		return usage_error(cmd, "missing FILE (label<TAB>text lines)");
	if (cli_read_now(cli))
		return CLI_FAIL;

	memset(&c, 0, sizeof c);
	signals_catch();
	if ((status = load(&c, path))) {
		if (status == CLI_INTR)
			cli_warn("interrupted");
		goto out;
	}
	status = CLI_FAIL;
	if (!(keep = malloc((c.n + 1) * sizeof *keep)))
		goto oom;
	for (size_t i = 0; i < c.n; i++) {
		const struct item *x = &c.it[i];
		if (c.it[x->first].conflict)
			nconf++;
		else if (x->first != i)
			ndup++;
		else {
			keep[nkeep++] = i;
			x->label == THRESH_SPAM ? nspam++ : nham++;
		}
	}
	if (nspam == 0 || nham == 0 || nkeep < folds) {
		cli_warn("%s: %zu usable comments (%zu spam, %zu ham): eval needs both labels and at "
		         "least as many comments as folds (%" PRIu64 ")",
		         path, nkeep, nspam, nham, folds);
		status = CLI_BADINPUT;
		goto out;
	}
	/* Shuffle (Fisher-Yates), then deal spam and ham round-robin. */
	state = seed;
	for (size_t i = nkeep; i > 1; i--) {
		size_t j = (size_t)below(&state, i);
		size_t t = keep[i - 1];
		keep[i - 1] = keep[j];
		keep[j] = t;
	}
	size_t ds = 0, dh = 0;
	for (size_t i = 0; i < nkeep; i++) {
		struct item *x = &c.it[keep[i]];
		x->fold = (int)(x->label == THRESH_SPAM ? ds++ % folds : (nspam + dh++) % folds);
	}

	progress_start(&pg, cmd, 0);
	for (int f = 0; f < (int)folds; f++) {
		if (pg.on) {
			fprintf(stderr, "\rthresh: eval: fold %d/%d ", f + 1, (int)folds);
			fflush(stderr);
			pg.drawn = 1;
		}
		int rc = run_fold(cli, &c, keep, nkeep, f, &hold, &reject);
		if (rc) {
			progress_end(&pg);
			if (rc == CLI_INTR)
				cli_warn("interrupted; the temporary databases were removed");
			status = rc;
			goto out;
		}
	}
	progress_end(&pg);

	if (!(s = malloc(nkeep * sizeof *s)) || !(rej = calloc(nkeep ? nkeep : 1, sizeof *rej)))
		goto oom;
	size_t cnt[2][3] = {{0}}; /* [label][accepted, held, rejected] */
	double hold_lo = 1, hold_hi = 0, rej_lo = 1, rej_hi = 0;
	hold = reject = 0;
	for (size_t i = 0; i < nkeep; i++) {
		const struct item *x = &c.it[keep[i]];
		s[i].score = x->score;
		s[i].label = x->label;
		rej[i] = x->reject;
		cnt[x->label][x->score >= x->reject ? 2 : x->score >= x->hold ? 1 : 0]++;
		hold += x->hold / (double)nkeep;
		reject += x->reject / (double)nkeep;
		hold_lo = x->hold < hold_lo ? x->hold : hold_lo;
		hold_hi = x->hold > hold_hi ? x->hold : hold_hi;
		rej_lo = x->reject < rej_lo ? x->reject : rej_lo;
		rej_hi = x->reject > rej_hi ? x->reject : rej_hi;
	}
	struct measures at_rej = measure(s, nkeep, -1, rej), at_half = measure(s, nkeep, 0.5, rej);
	double a = auc(s, nkeep, nspam, nham); /* sorts s by score */
	if (plot) {
		int e = write_plot(plot, s, nkeep, nspam, nham, hold, reject, a);
		if (e) {
			cli_warn("--plot %s: %s", plot, strerror(e));
			status = CLI_FAIL;
			goto out;
		}
	}
	double pct[2][3];
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 3; k++)
			pct[l][k] = 100.0 * (double)cnt[l][k] / (double)(l == THRESH_SPAM ? nspam : nham);

	if (json) {
		printf("{\"n\":%zu,\"n_spam\":%zu,\"n_ham\":%zu,\"folds\":%" PRIu64 ",\"seed\":%" PRIu64
		       ",\"duplicates_dropped\":%zu,\"conflicts_dropped\":%zu,\"bad_lines\":%" PRIu64 ",",
		       nkeep, nspam, nham, folds, seed, ndup, nconf, c.bad);
		json_num("hold_cutoff", hold, 1);
		json_num("reject_cutoff", reject, 1);
		json_num("hold_cutoff_min", hold_lo, 1);
		json_num("hold_cutoff_max", hold_hi, 1);
		json_num("reject_cutoff_min", rej_lo, 1);
		json_num("reject_cutoff_max", rej_hi, 1);
		json_num("auc", a, 1);
		json_num("accuracy", at_rej.accuracy, 1);
		json_num("precision", at_rej.precision, 1);
		json_num("recall", at_rej.recall, 1);
		json_num("f1", at_rej.f1, 1);
		json_num("accuracy_05", at_half.accuracy, 1);
		json_num("precision_05", at_half.precision, 1);
		json_num("recall_05", at_half.recall, 1);
		json_num("f1_05", at_half.f1, 1);
		json_num("ham_accepted_pct", pct[THRESH_HAM][0], 1);
		json_num("ham_held_pct", pct[THRESH_HAM][1], 1);
		json_num("ham_rejected_pct", pct[THRESH_HAM][2], 1);
		json_num("spam_accepted_pct", pct[THRESH_SPAM][0], 1);
		json_num("spam_held_pct", pct[THRESH_SPAM][1], 1);
		json_num("spam_rejected_pct", pct[THRESH_SPAM][2], 0);
		puts("}");
	} else {
		printf("comments     %zu (%zu spam, %zu ham), %" PRIu64 " folds, seed %" PRIu64 "\n",
		       nkeep, nspam, nham, folds, seed);
		printf("dropped      %zu duplicates, %zu with both labels, %" PRIu64 " bad lines\n", ndup,
		       nconf, c.bad);
		printf("ROC AUC      %.4f\n", a);
		printf("cutoffs      hold %.4f, reject %.4f (each fold's own: hold %.4f-%.4f, reject "
		       "%.4f-%.4f)\n\n",
		       hold, reject, hold_lo, hold_hi, rej_lo, rej_hi);
		printf("spam if score >=  accuracy  precision  recall      F1\n");
		printf("its fold's reject %9.4f  %9.4f  %6.4f  %6.4f\n", at_rej.accuracy,
		       at_rej.precision, at_rej.recall, at_rej.f1);
		printf("%-17.4f %9.4f  %9.4f  %6.4f  %6.4f\n\n", 0.5, at_half.accuracy, at_half.precision,
		       at_half.recall, at_half.f1);
		printf("moderation    accepted      held  rejected\n");
		printf("ham          %8.2f%% %8.2f%% %8.2f%%\n", pct[THRESH_HAM][0], pct[THRESH_HAM][1],
		       pct[THRESH_HAM][2]);
		printf("spam         %8.2f%% %8.2f%% %8.2f%%\n", pct[THRESH_SPAM][0], pct[THRESH_SPAM][1],
		       pct[THRESH_SPAM][2]);
	}
	status = CLI_OK;
	if (c.bad) {
		cli_warn("%" PRIu64 " bad line%s skipped", c.bad, c.bad == 1 ? "" : "s");
		status = CLI_BADINPUT;
	}
	goto out;
oom:
	cli_warn("out of memory");
out:
	free(s);
	free(rej);
	free(keep);
	corpus_free(&c);
	return status;
}
