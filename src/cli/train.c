/* train.c - `thresh train` and `thresh untrain`.
 *
 *   thresh train spam|ham [FILE...]     one comment per line
 *   thresh train --tsv [FILE...]        spam<TAB>text lines
 *   thresh train --jsonl [FILE...]      one JSON object per line
 *   thresh train --wp-json [FILE...]    pages of WordPress's REST API
 *   thresh train --wp-mariadb [FILE...] a mariadb --batch query of wp_comments
 *   thresh train --prior [--weight W] ... into the prior layer (the default
 *                                       model a database starts from)
 *
 * Comments are learned in batches of --batch N (BATCH_DEFAULT), each stored
 * in one transaction, so the database always holds whole batches. A bad line is
 * reported with its file and line, skipped, and makes the exit status 4 at
 * the end; the good lines around it are learned. SIGINT or SIGTERM stops the
 * reading, stores the batch gathered so far and prints what was stored. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A commit rewrites every page its tokens touch, and a thousand comments
 * touch most pages of a model, so a commit costs about the size of the model
 * whatever the batch: fewer, larger batches train faster (on the SMS corpus,
 * 5,574 comments: 318 ms in batches of 1,000, 147 ms in one). A batch of
 * 10,000 holds some 10 MB of token ids. */
#define BATCH_DEFAULT 10000
#define BATCH_MAX 1000000

enum { O_TSV, O_JSONL, O_DB, O_BATCH, O_PRIOR, O_WEIGHT, O_WP_JSON, O_WP_MARIADB };

static const struct opt_def train_opts[] = {
	{"tsv", OPT_NOARG, O_TSV},
	{"jsonl", OPT_NOARG, O_JSONL},
	{"wp-json", OPT_NOARG, O_WP_JSON},
	{"wp-mariadb", OPT_NOARG, O_WP_MARIADB},
	{"db", OPT_ARG, O_DB},
	{"batch", OPT_ARG, O_BATCH},
	{"prior", OPT_NOARG, O_PRIOR},
	{"weight", OPT_ARG, O_WEIGHT},
	{NULL, 0, 0},
};

struct totals {
	uint64_t learned, duplicates, moved, unlearned, not_found;
};

/* commit - store the batch and add its summary to the totals; 0 or CLI_FAIL. */
static int commit(thresh_batch **b, struct totals *t, const char *dir)
{
	thresh_learn_summary sum;
	int rc;
	if (!*b)
		return 0;
	memset(&sum, 0, sizeof sum);
	sum.size = sizeof sum;
	rc = thresh_batch_commit(*b, &sum);
	*b = NULL;
	if (rc) {
		cli_warn("%s: storing a batch failed, the batch was not stored: %s", dir,
		         thresh_strerror(rc));
		return CLI_FAIL;
	}
	t->learned += sum.learned;
	t->duplicates += sum.duplicates;
	t->moved += sum.moved;
	t->unlearned += sum.unlearned;
	t->not_found += sum.not_found;
	return 0;
}

/* is_input_error - a learn error that is the comment's fault, not the database's. */
static int is_input_error(int rc)
{
	return rc == THRESH_EUTF8 || rc == THRESH_ETOOBIG || rc == THRESH_ENUL ||
	       rc == THRESH_EINVAL || rc == THRESH_EFIELD;
}

static int learn_cmd(struct cli *cli, int argc, char **argv, int unlearn)
{
	const char *cmd = argv[0], *arg;
	enum rec_format fmt = REC_PLAIN;
	int nfmt = 0, label = -1, npaths = 0, o, status = CLI_OK;
	char **paths = calloc((size_t)argc + 1, sizeof *paths);
	struct opt_iter it;
	struct rec_reader r;
	struct progress pg;
	struct totals tot;
	thresh_db *db = NULL;
	thresh_batch *b = NULL;
	uint64_t skipped = 0, lines = 0, batch = BATCH_DEFAULT;
	int failed = 0, interrupted = 0, opened = 0, prior = 0, wp;
	double weight = 1;
	const char *weight_arg = NULL;

	if (!paths) {
		cli_warn("out of memory");
		return CLI_FAIL;
	}
	opt_start(&it, cmd, argc, argv);
	while ((o = opt_next(&it, train_opts, &arg)) != OPT_DONE) {
		switch (o) {
		case OPT_HELP:
			help_print(stdout, cmd);
			free(paths);
			return CLI_OK;
		case OPT_ERROR:
			free(paths);
			return CLI_FAIL;
		case O_TSV:
			fmt = REC_TSV;
			nfmt++;
			break;
		case O_JSONL:
			fmt = REC_JSONL;
			nfmt++;
			break;
		case O_WP_JSON:
			fmt = REC_WP_JSON;
			nfmt++;
			break;
		case O_WP_MARIADB:
			fmt = REC_WP_MARIADB;
			nfmt++;
			break;
		case O_DB:
			cli->db_opt = arg;
			break;
		case O_BATCH:
			if (parse_u64(arg, 0, BATCH_MAX, &batch) || batch < 1) {
				free(paths);
				return usage_error(cmd, "--batch %s: expected a whole number from 1 to %d",
				                   arg, BATCH_MAX);
			}
			break;
		case O_PRIOR:
			prior = 1;
			break;
		case O_WEIGHT:
			weight_arg = arg;
			if (parse_double(arg, &weight) || weight < 0.001 || weight > 1000) {
				free(paths);
				return usage_error(cmd, "--weight %s: expected a number from 0.001 to 1000", arg);
			}
			break;
		case OPT_POSITIONAL:
			paths[npaths++] = (char *)arg;
			break;
		}
	}
	if (weight_arg && !prior) {
		free(paths);
		return usage_error(cmd, "--weight goes with --prior (the site's own decisions count one each)");
	}
	if (nfmt > 1) {
		free(paths);
		return usage_error(cmd, "give one of --tsv, --jsonl, --wp-json and --wp-mariadb");
	}
	if (fmt == REC_PLAIN) {
		if (npaths == 0) {
			free(paths);
			return usage_error(cmd, "missing the label: spam or ham (or --tsv, --jsonl, --wp-json,"
			                        " --wp-mariadb)");
		}
		if ((label = parse_label(paths[0], strlen(paths[0]))) < 0) {
			usage_error(cmd, "bad label '%s': expected spam or ham", paths[0]);
			free(paths);
			return CLI_FAIL;
		}
		memmove(paths, paths + 1, (size_t)npaths * sizeof *paths);
		npaths--;
	} else if (npaths > 0 && parse_label(paths[0], strlen(paths[0])) >= 0) {
		static const char *const names[] = {
			[REC_TSV] = "tsv", [REC_JSONL] = "jsonl", [REC_WP_JSON] = "wp-json",
			[REC_WP_MARIADB] = "wp-mariadb"};
		usage_error(cmd, "'%s': with --%s the labels come from the file", paths[0], names[fmt]);
		free(paths);
		return CLI_FAIL;
	}

	wp = fmt == REC_WP_JSON || fmt == REC_WP_MARIADB;
	memset(&tot, 0, sizeof tot);
	if (cli_read_now(cli) || rec_open(&r, cli, fmt, label, paths, npaths)) {
		free(paths);
		return CLI_FAIL;
	}
	opened = 1;
	if (cli_db_open(cli, 0, &db)) {
		status = CLI_FAIL;
		goto out;
	}
	const char *dir = cli_db_dir(cli);
	signals_catch();
	progress_start(&pg, cmd, r.total_bytes);
	for (;;) {
		int lab, rc = rec_next(&r, &lab);
		if (rc == REC_EOF)
			break;
		if (rc == REC_INTR) {
			interrupted = 1;
			break;
		}
		if (rc == REC_IOERR) {
			failed = 1;
			break;
		}
		lines++;
		if (rc == REC_BAD) {
			progress_end(&pg);
			cli_warn("%s:%zu: %s", r.where, r.where_line, r.why);
			skipped++;
			continue;
		}
		if (!b && ((rc = thresh_batch_begin(db, &b)) || (prior && (rc = thresh_batch_prior(b, weight))))) {
			progress_end(&pg);
			cli_warn("%s: %s", dir, thresh_strerror(rc));
			failed = 1;
			break;
		}
		rc = unlearn ? thresh_batch_unlearn(b, r.c, lab) : thresh_batch_learn(b, r.c, lab);
		if (rc && is_input_error(rc)) {
			progress_end(&pg);
			cli_warn("%s:%zu: %s", r.where, r.where_line, thresh_strerror(rc));
			skipped++;
			continue;
		}
		if (rc) {
			progress_end(&pg);
			cli_warn("%s:%zu: %s", r.where, r.where_line, thresh_strerror(rc));
			failed = 1;
			break;
		}
		if (thresh_batch_size(b) >= batch && commit(&b, &tot, dir)) {
			failed = 1;
			break;
		}
		progress_update(&pg, lines, rec_bytes(&r));
	}
	progress_end(&pg);
	/* What was read before an interrupt or a read error is good: store it. */
	if (b && commit(&b, &tot, dir))
		failed = 1;

	/* WordPress's rows: bad rows, and the rows of other statuses apart */
	const char *bad = wp ? "bad rows" : "lines";
	if (prior)
		printf("%s %" PRIu64 " comments %s the prior at weight %g; %" PRIu64 " %s skipped",
		       unlearn ? "untrained" : "trained", unlearn ? tot.unlearned : tot.learned,
		       unlearn ? "out of" : "into", weight, skipped, bad);
	else if (unlearn)
		printf("untrained %" PRIu64 " comments: %" PRIu64 " unlearned, %" PRIu64
		       " not found; %" PRIu64 " %s skipped",
		       tot.unlearned + tot.not_found, tot.unlearned, tot.not_found, skipped, bad);
	else
		printf("trained %" PRIu64 " comments: %" PRIu64 " learned, %" PRIu64 " duplicates, %" PRIu64
		       " moved; %" PRIu64 " %s skipped",
		       tot.learned + tot.duplicates + tot.moved, tot.learned, tot.duplicates, tot.moved,
		       skipped, bad);
	if (wp)
		wp_print_skipped(stdout, &r);
	putchar('\n');
	if (r.wp_rendered)
		cli_warn("%" PRIu64 " comment%s had no content.raw (fetched without context=edit?): "
		         "%s text was read from content.rendered, and a moderator's later decision on "
		         "%s may count again", r.wp_rendered, r.wp_rendered == 1 ? "" : "s",
		         r.wp_rendered == 1 ? "its" : "their", r.wp_rendered == 1 ? "it" : "them");
	if (interrupted) {
		cli_warn("interrupted: the summary counts what was stored");
		status = CLI_INTR;
	} else if (failed) {
		status = CLI_FAIL;
	} else if (skipped) {
		cli_warn("%" PRIu64 " bad %s%s skipped (the other %ss were %s)", skipped,
		         wp ? "row" : "line", skipped == 1 ? "" : "s", wp ? "row" : "line",
		         unlearn ? "untrained" : "learned");
		status = CLI_BADINPUT;
	}
out:
	thresh_batch_abort(b);
	thresh_db_close(db);
	if (opened)
		rec_close(&r);
	free(paths);
	return status;
}

int cmd_train(struct cli *cli, int argc, char **argv)
{
	return learn_cmd(cli, argc, argv, 0);
}

int cmd_untrain(struct cli *cli, int argc, char **argv)
{
	return learn_cmd(cli, argc, argv, 1);
}
