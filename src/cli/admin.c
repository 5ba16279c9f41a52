/* admin.c - the small commands that look after a database: init, stats,
 * export, import, prune, set, get, config and rotate-secret. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "comment_json.h"
#include "model_path.h"

enum { O_DB, O_EMPTY, O_JSON, O_MERGE, O_OLDER, O_MINCOUNT, O_DIGESTS };

/* parse_args - the options of a small command and up to max positionals.
 * Returns -1 to go on, or an exit status. */
static int parse_args(struct cli *cli, int argc, char **argv, const struct opt_def *defs,
                      int (*on_opt)(int id, const char *arg, void *ctx), void *ctx,
                      const char **pos, int min, int max)
{
	const char *cmd = argv[0], *arg;
	struct opt_iter it;
	int o, n = 0;
	opt_start(&it, cmd, argc, argv);
	while ((o = opt_next(&it, defs, &arg)) != OPT_DONE) {
		switch (o) {
		case OPT_HELP:
			help_print(stdout, cmd);
			return CLI_OK;
		case OPT_ERROR:
			return CLI_FAIL;
		case O_DB:
			cli->db_opt = arg;
			break;
		case OPT_POSITIONAL:
			if (n >= max)
				return usage_error(cmd, "unexpected argument '%s'", arg);
			pos[n++] = arg;
			break;
		default:
			if (on_opt && on_opt(o, arg, ctx))
				return CLI_FAIL;
		}
	}
	if (n < min)
		return usage_error(cmd, "missing argument (see 'thresh %s --help')", cmd);
	for (int i = n; i < max; i++)
		pos[i] = NULL;
	return -1;
}

static int stats_get(thresh_db *db, const char *dir, thresh_stats *st)
{
	memset(st, 0, sizeof *st);
	st->size = sizeof *st;
	int rc = thresh_db_stats(db, st);
	if (rc)
		cli_warn("%s: %s", dir, thresh_strerror(rc));
	return rc ? CLI_FAIL : 0;
}

/* prior_note - "; a prior of S spam and H ham" when the model has a prior
 * layer, else "" (a static buffer). */
static const char *prior_note(const thresh_stats *st)
{
	static char buf[96];
	if (st->prior_spam_messages <= 0 && st->prior_ham_messages <= 0)
		return "";
	snprintf(buf, sizeof buf, "; a prior of %.1f spam and %.1f ham", st->prior_spam_messages,
	         st->prior_ham_messages);
	return buf;
}

/* ---------- init ---------- */

static int init_opt(int id, const char *arg, void *ctx)
{
	(void)arg;
	if (id == O_EMPTY)
		*(int *)ctx = 1;
	return 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{"empty", OPT_NOARG, O_EMPTY}, {"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	char err[1024] = "";
	int empty = 0, rc;
	thresh_db_options o;
	thresh_db *db;
	char model[4096];
	if ((rc = parse_args(cli, argc, argv, defs, init_opt, &empty, NULL, 0, 0)) >= 0)
		return rc;
	const char *dir = cli_db_dir(cli);
	if (!dir)
		return CLI_FAIL;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EXCL | (empty ? THRESH_DB_EMPTY : 0);
	o.model = build_tree_model(model, sizeof model);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	if ((rc = thresh_db_open(dir, &o, &db))) {
		if (rc == THRESH_EEXIST)
			cli_warn("%s: a database already exists there (nothing was changed)", dir);
		else
			cli_warn("%s: %s%s%s", dir, thresh_strerror(rc), err[0] ? ": " : "", err);
		return CLI_FAIL;
	}
	thresh_db_close(db);
	printf("created %s %s\n", dir, empty ? "(empty)" : "from the default model");
	return CLI_OK;
}

/* ---------- stats ---------- */

static int json_opt(int id, const char *arg, void *ctx)
{
	(void)arg;
	if (id == O_JSON)
		*(int *)ctx = 1;
	return 0;
}

/* from_text - where a cutoff came from, in words (a static buffer per
 * kind: hold and reject may be in one printf). */
static const char *from_text(int from, double alpha, uint64_t ham, uint64_t spam, int hold)
{
	static char buf[2][96];
	char *b = buf[hold ? 1 : 0];
	switch (from) {
	case THRESH_FROM_PINNED:
		return hold ? "set by hold_cutoff" : "set by reject_cutoff";
	case THRESH_FROM_SITE:
		snprintf(b, sizeof buf[0], "the site's own, from its %s decisions", hold ? "spam" : "ham");
		return b;
	case THRESH_FROM_BLEND:
		snprintf(b, sizeof buf[0], "%.0f%% the site's own, %" PRIu64 " %s decisions", 100 * alpha,
		         hold ? spam : ham, hold ? "spam" : "ham");
		return b;
	default:
		return "a new site's";
	}
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{"json", OPT_NOARG, O_JSON}, {"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	int json = 0, rc;
	thresh_db *db;
	thresh_stats st;
	char num[40];
	if ((rc = parse_args(cli, argc, argv, defs, json_opt, &json, NULL, 0, 0)) >= 0)
		return rc;
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	const char *dir = cli_db_dir(cli);
	if (stats_get(db, dir, &st)) {
		thresh_db_close(db);
		return CLI_FAIL;
	}
	if (json) {
		struct sbuf b;
		sb_init(&b);
		sb_puts(&b, "{\"database\":");
		json_put_string(&b, dir, strlen(dir));
		sb_puts(&b, ",");
		json_put_stats(&b, &st);
		sb_puts(&b, ",");
		rc = json_put_params(&b, db);
		sb_puts(&b, "}\n");
		if (!rc && !b.oom)
			fwrite(b.p, 1, b.len, stdout);
		sb_free(&b);
		thresh_db_close(db);
		if (rc) {
			cli_warn("%s: %s", dir, thresh_strerror(rc));
			return CLI_FAIL;
		}
		return CLI_OK;
	}
	printf("%-16s%s\n", "database:", dir);
	printf("%-16s%" PRIu32 "\n", "format:", st.format_version);
	printf("%-16s%" PRIu32 "\n", "tokenizer:", st.tokenizer);
	printf("%-16s%" PRIu64 "\n", "spam comments:", st.spam_messages);
	printf("%-16s%" PRIu64 "\n", "ham comments:", st.ham_messages);
	printf("%-16s%.1f spam, %.1f ham (the default model it started from)\n", "prior:",
	       st.prior_spam_messages, st.prior_ham_messages);
	printf("%-16s%.3f, so it counts as %.0f comments (%s)\n", "prior weight:", st.prior_weight,
	       st.prior_comments,
	       st.prior_auto ? "chosen by the site's own decisions" : "set by prior_comments");
	printf("%-16s%.1f%% of the comments a check counts are the site's own\n", "site share:",
	       100 * st.site_share);
	printf("%-16shold %.4g (%s), reject %.4g (%s)\n", "cutoffs:", st.hold_cutoff,
	       from_text(st.hold_from, st.hold_alpha, st.decisions - st.decisions_spam, st.decisions_spam, 1),
	       st.reject_cutoff,
	       from_text(st.reject_from, st.reject_alpha, st.decisions - st.decisions_spam,
	                 st.decisions_spam, 0));
	printf("%-16ssigmoid(%.4g x %c %.4g) (%s)\n", "calibration:", st.nb_scale,
	       st.nb_shift < 0 ? '-' : '+', st.nb_shift < 0 ? -st.nb_shift : st.nb_shift,
	       st.calibration_from == THRESH_FROM_PINNED ? "set by nb_scale, nb_shift"
	       : st.calibration_from == THRESH_FROM_SITE ? "fitted on the site's newest decisions"
	                                                 : "the default");
	printf("%-16s%" PRIu64 " (%" PRIu64 " spam), the newest the cutoffs and calibration are fitted on\n",
	       "decisions:", st.decisions, st.decisions_spam);
	printf("%-16s%" PRIu64 "\n", "tokens:", st.tokens);
	printf("%-16s%" PRIu64 "\n", "learned:", st.learned);
	if (st.legacy_learned)
		printf("%-16s%" PRIu64 " of them by a digest of format 2 (until learned again)\n",
		       "legacy:", st.legacy_learned);
	printf("%-16s%" PRIu64 "\n", "map size:", st.map_size);
	printf("%-16s%" PRIu64 "\n", "used:", st.used_bytes);
	if (st.cluster) {
		printf("%-16s%s\n", "redis:", st.redis_up ? "up" : "down (or slower than the timeout)");
		printf("%-16s%" PRIu64 " learns not yet in the cluster's log\n", "outbox:", st.outbox);
		printf("%-16s%" PRIu64 " applied, %" PRIu64 " behind (%.3f s)\n", "log:", st.cluster_seq,
		       st.lag_events, st.lag_seconds);
	}
	const char *name;
	for (size_t i = 0; (name = thresh_db_param_name(i)); i++) {
		double v;
		if ((rc = thresh_db_param_get(db, name, &v))) {
			cli_warn("%s: parameter %s: %s", dir, name, thresh_strerror(rc));
			thresh_db_close(db);
			return CLI_FAIL;
		}
		printf("%-15s %s\n", name, fmt_double(num, sizeof num, v));
	}
	thresh_db_close(db);
	return CLI_OK;
}

/* ---------- export and import ---------- */

int cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {{"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	const char *pos[1] = {NULL};
	thresh_db *db;
	thresh_stats st;
	int rc;
	if ((rc = parse_args(cli, argc, argv, defs, NULL, NULL, pos, 1, 1)) >= 0)
		return rc;
	/* A dump is written beside its name and renamed into place, which
	 * standard output cannot be; a file named "-" is never what was meant. */
	if (strcmp(pos[0], "-") == 0)
		return usage_error(argv[0], "export writes a file, not standard output: give its name");
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	if ((rc = thresh_db_export(db, pos[0]))) {
		cli_warn("export %s: %s", pos[0], thresh_strerror(rc));
		thresh_db_close(db);
		return CLI_FAIL;
	}
	rc = stats_get(db, cli_db_dir(cli), &st);
	thresh_db_close(db);
	if (rc)
		return CLI_FAIL;
	printf("exported %s: %" PRIu64 " spam, %" PRIu64 " ham, %" PRIu64 " tokens%s\n", pos[0],
	       st.spam_messages, st.ham_messages, st.tokens, prior_note(&st));
	return CLI_OK;
}

static int import_opt(int id, const char *arg, void *ctx)
{
	(void)arg;
	if (id == O_MERGE)
		*(int *)ctx = 1;
	return 0;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{"merge", OPT_NOARG, O_MERGE}, {"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	const char *pos[1] = {NULL};
	char err[1024] = "";
	int merge = 0, rc;
	thresh_db *db;
	thresh_stats st;
	if ((rc = parse_args(cli, argc, argv, defs, import_opt, &merge, pos, 1, 1)) >= 0)
		return rc;
	/* A missing dump must not create a database on its way to failing. */
	if (access(pos[0], R_OK) != 0) {
		cli_warn("import %s: %s", pos[0], strerror(errno));
		return CLI_FAIL;
	}
	/* Replacing takes everything from the dump: a missing database is
	 * created empty rather than from the default model. */
	if (cli_db_open(cli, merge ? 0 : THRESH_DB_EMPTY, &db))
		return CLI_FAIL;
	rc = thresh_db_import(db, pos[0], merge ? THRESH_IMPORT_MERGE : 0, err, sizeof err);
	if (rc) {
		if (err[0] && !strncmp(err, "line ", 5))
			cli_warn("import %s: %s (nothing was changed)", pos[0], err);
		else if (err[0])
			cli_warn("import %s: %s: %s (nothing was changed)", pos[0], thresh_strerror(rc), err);
		else
			cli_warn("import %s: %s (nothing was changed)", pos[0], thresh_strerror(rc));
		thresh_db_close(db);
		return rc == THRESH_EFORMAT || rc == THRESH_EVERSION ? CLI_BADINPUT : CLI_FAIL;
	}
	rc = stats_get(db, cli_db_dir(cli), &st);
	thresh_db_close(db);
	if (rc)
		return CLI_FAIL;
	printf("%s %s: the model now has %" PRIu64 " spam, %" PRIu64 " ham, %" PRIu64 " tokens%s\n",
	       merge ? "merged" : "imported", pos[0], st.spam_messages, st.ham_messages, st.tokens,
	       prior_note(&st));
	return CLI_OK;
}

/* ---------- prune ---------- */

struct prune_args {
	const char *cmd;
	uint64_t days, min_count;
	int have_days;
};

static int prune_opt(int id, const char *arg, void *ctx)
{
	struct prune_args *p = ctx;
	if (id == O_OLDER) {
		if (parse_u64(arg, 0, UINT32_MAX, &p->days))
			return usage_error(p->cmd, "--older-than %s: expected a whole number of days", arg);
		p->have_days = 1;
	} else if (id == O_MINCOUNT) {
		if (parse_u64(arg, 0, UINT64_MAX, &p->min_count))
			return usage_error(p->cmd, "--min-count %s: expected a whole number", arg);
	}
	return 0;
}

int cmd_prune(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {{"older-than", OPT_ARG, O_OLDER},
	                                      {"min-count", OPT_ARG, O_MINCOUNT},
	                                      {"db", OPT_ARG, O_DB},
	                                      {NULL, 0, 0}};
	struct prune_args p = {argv[0], 0, 0, 0};
	uint64_t removed = 0;
	thresh_db *db;
	int rc;
	if ((rc = parse_args(cli, argc, argv, defs, prune_opt, &p, NULL, 0, 0)) >= 0)
		return rc;
	if (!p.have_days)
		return usage_error(argv[0], "missing --older-than DAYS");
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	rc = thresh_db_prune(db, (uint32_t)p.days, p.min_count, &removed);
	if (rc) {
		cli_warn("%s: prune: %s", cli_db_dir(cli), thresh_strerror(rc));
		thresh_db_close(db);
		return CLI_FAIL;
	}
	thresh_db_close(db);
	printf("pruned %" PRIu64 " tokens\n", removed);
	return CLI_OK;
}

/* ---------- set and get ---------- */

/* param_list - "robs, robx, ..." for messages. */
static const char *param_list(char *buf, size_t size)
{
	const char *name;
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; (name = thresh_db_param_name(i)); i++) {
		int n = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", name);
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
	return buf;
}

static int is_param(const char *name)
{
	const char *p;
	for (size_t i = 0; (p = thresh_db_param_name(i)); i++)
		if (!strcmp(p, name))
			return 1;
	return 0;
}

/* still_pinned - 1 when a cutoff or the calibration stays pinned after a
 * reset (thresh.conf sets it). */
static int still_pinned(thresh_db *db, const char *name)
{
	thresh_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	if (thresh_db_stats(db, &st))
		return 0;
	if (!strcmp(name, "hold_cutoff"))
		return st.hold_from == THRESH_FROM_PINNED;
	if (!strcmp(name, "reject_cutoff"))
		return st.reject_from == THRESH_FROM_PINNED;
	if (!strcmp(name, "nb_scale") || !strcmp(name, "nb_shift"))
		return st.calibration_from == THRESH_FROM_PINNED;
	return 0;
}

int cmd_set(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {{"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	const char *pos[2] = {NULL, NULL};
	char names[256];
	double v;
	thresh_db *db;
	int rc;
	if ((rc = parse_args(cli, argc, argv, defs, NULL, NULL, pos, 2, 2)) >= 0)
		return rc;
	if (!is_param(pos[0]))
		return usage_error(argv[0], "unknown parameter '%s' (one of: %s)", pos[0],
		                   param_list(names, sizeof names));
	int reset = !strcmp(pos[1], "auto");
	if (!reset && parse_double(pos[1], &v))
		return usage_error(argv[0], "%s: '%s' is not a number (or auto)", pos[0], pos[1]);
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	rc = reset ? thresh_db_param_reset(db, pos[0]) : thresh_db_param_set(db, pos[0], v);
	double in_force;
	if (!rc && !reset && !thresh_db_param_get(db, pos[0], &in_force) && in_force != v)
		cli_warn("note: %s is stored, but thresh.conf overrides it with %g", pos[0], in_force);
	if (!rc && reset && still_pinned(db, pos[0]))
		cli_warn("note: %s is back to auto in the database, but thresh.conf sets it", pos[0]);
	thresh_db_close(db);
	if (rc == THRESH_EPARAM) {
		if (strstr(pos[0], "_cutoff"))
			cli_warn("set %s %s: value out of range (each cutoff lies in 0..1, and "
			         "hold_cutoff <= reject_cutoff <= blatant_cutoff)", pos[0], pos[1]);
		else
			cli_warn("set %s %s: value out of range (see 'thresh set --help')", pos[0], pos[1]);
		return CLI_FAIL;
	}
	if (rc) {
		cli_warn("set %s: %s", pos[0], thresh_strerror(rc));
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cmd_get(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {{"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	const char *pos[1] = {NULL}, *name;
	char names[256], num[40];
	double v;
	thresh_db *db;
	int rc;
	if ((rc = parse_args(cli, argc, argv, defs, NULL, NULL, pos, 0, 1)) >= 0)
		return rc;
	if (pos[0] && !is_param(pos[0]))
		return usage_error(argv[0], "unknown parameter '%s' (one of: %s)", pos[0],
		                   param_list(names, sizeof names));
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	for (size_t i = 0; (name = thresh_db_param_name(i)); i++) {
		if (pos[0] && strcmp(pos[0], name))
			continue;
		if ((rc = thresh_db_param_get(db, name, &v))) {
			cli_warn("get %s: %s", name, thresh_strerror(rc));
			thresh_db_close(db);
			return CLI_FAIL;
		}
		if (pos[0])
			printf("%s\n", fmt_double(num, sizeof num, v));
		else
			printf("%s %s\n", name, fmt_double(num, sizeof num, v));
	}
	thresh_db_close(db);
	return CLI_OK;
}

int cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {{"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	const char *pos[1] = {NULL};
	char *text;
	thresh_db *db;
	int rc;
	if ((rc = parse_args(cli, argc, argv, defs, NULL, NULL, pos, 0, 1)) >= 0)
		return rc;
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	if (pos[0]) {
		char buf[4096];
		rc = thresh_db_config_get(db, pos[0], buf, sizeof buf);
		if (!rc)
			printf("%s\n", buf);
		else if (rc == THRESH_ENOTFOUND)
			cli_warn("config %s: no such key set (see 'thresh config')", pos[0]);
		else
			cli_warn("config %s: %s", pos[0], thresh_strerror(rc));
	} else if (!(rc = thresh_db_config_text(db, &text))) {
		fputs(text, stdout);
		thresh_free(text);
	} else {
		cli_warn("config: %s", thresh_strerror(rc));
	}
	thresh_db_close(db);
	return rc ? CLI_FAIL : CLI_OK;
}

static int rotate_opt(int id, const char *arg, void *ctx)
{
	(void)arg;
	if (id == O_DIGESTS)
		*(unsigned *)ctx |= THRESH_ROTATE_DIGESTS;
	return 0;
}

int cmd_rotate_secret(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{"digests", OPT_NOARG, O_DIGESTS}, {"db", OPT_ARG, O_DB}, {NULL, 0, 0}};
	const char *pos[1] = {NULL};
	thresh_rotate_summary sum = {.size = sizeof sum};
	unsigned flags = 0;
	thresh_db *db;
	int rc;
	if ((rc = parse_args(cli, argc, argv, defs, rotate_opt, &flags, pos, 0, 0)) >= 0)
		return rc;
	if (cli_db_open(cli, 0, &db))
		return CLI_FAIL;
	rc = thresh_db_rotate_keys(db, flags, &sum);
	thresh_db_close(db);
	if (rc) {
		cli_warn("rotate-secret: %s", thresh_strerror(rc));
		return CLI_FAIL;
	}
	printf("rotated the identity secret: dropped %" PRIu64 " author records, %" PRIu64
	       " identity tokens and the rate-limit history keyed by the old one\n",
	       sum.authors, sum.identity_tokens);
	if (flags & THRESH_ROTATE_DIGESTS)
		printf("and the learned comments' keys: dropped %" PRIu64 " digests (those comments "
		       "can be learned again, and no longer unlearned)\n", sum.learned);
	return CLI_OK;
}
