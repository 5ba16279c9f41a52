/* check.c - `thresh check`: one comment from stdin, or a whole file.
 *
 *   $ echo 'Buy cheap pills at http://spam.example' | thresh check --explain
 *   reject 0.9987 bayes
 *     0.9900  spam=12 ham=0  url-host:spam.example
 *
 *   $ thresh check --tsv comments.tsv         one "score<TAB>verdict" per line
 *
 * The exit status of a single check is its verdict (0 accept, 1 hold,
 * 2 reject). A check never changes the database: it runs with
 * THRESH_CHECK_READONLY (no rate-limit or author records). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "comment_json.h"
#include "num.h"

/* The most a single check reads from stdin: room for every field at its
 * limit, written with JSON escapes. */
#define CHECK_INPUT_MAX (4u << 20)

enum { O_JSON, O_FORMAT, O_EXPLAIN, O_TSV, O_DB };

static const struct opt_def check_opts[] = {
	{"json", OPT_NOARG, O_JSON},
	{"format", OPT_ARG, O_FORMAT},
	{"explain", OPT_NOARG, O_EXPLAIN},
	{"tsv", OPT_ARG, O_TSV},
	{"db", OPT_ARG, O_DB},
	{NULL, 0, 0},
};

static void print_text(const thresh_result *r)
{
	size_t n = thresh_result_reason_count(r);
	printf("%s %.4f ", thresh_verdict_name(thresh_result_verdict(r)), thresh_result_score(r));
	if (n == 0)
		fputs("-", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? " " : "", thresh_result_reason(r, i));
	putchar('\n');
	for (size_t i = 0; i < thresh_result_token_count(r); i++) {
		const char *text;
		double prob;
		uint64_t spam, ham;
		if (thresh_result_token(r, i, &text, &prob, &spam, &ham))
			continue;
		printf("  %.4f  spam=%" PRIu64 " ham=%" PRIu64 "  %s\n", prob, spam, ham, text);
	}
}

static void print_json(const thresh_result *r)
{
	struct sbuf b;
	sb_init(&b);
	json_put_result(&b, r, 1);
	if (!b.oom)
		fwrite(b.p, 1, b.len, stdout);
	sb_free(&b);
}

/* check_one - the comment on stdin. */
static int check_one(struct cli *cli, int json_in, int json_out, int explain)
{
	thresh_comment *c = NULL;
	thresh_result *res = NULL;
	thresh_db *db = NULL;
	char *buf = NULL, why[512];
	size_t len, line;
	int rc, status = CLI_FAIL;

	if (cli_read_now(cli))
		return CLI_FAIL;
	rc = read_all(stdin, CHECK_INPUT_MAX, &buf, &len);
	if (rc == -2) {
		cli_warn("<stdin>: more than %u bytes: too large for one comment", CHECK_INPUT_MAX);
		return CLI_BADINPUT;
	}
	if (rc) {
		cli_warn("<stdin>: %s", strerror(errno));
		return CLI_FAIL;
	}
	if (thresh_comment_new(&c)) {
		cli_warn("out of memory");
		goto out;
	}
	if (json_in) {
		if (comment_from_json(c, buf, len, 0, NULL, why, sizeof why, &line)) {
			cli_warn("<stdin>:%zu: %s", line, why);
			status = CLI_BADINPUT;
			goto out;
		}
	} else {
		/* The whole input is the content, less one trailing line end. */
		if (len && buf[len - 1] == '\n') {
			len--;
			if (len && buf[len - 1] == '\r')
				len--;
		}
		if ((rc = thresh_comment_set(c, "content", buf, len))) {
			cli_warn("<stdin>: %s", thresh_strerror(rc));
			status = CLI_BADINPUT;
			goto out;
		}
	}
	cli_set_time(cli, c);
	if (cli_db_open(cli, 0, &db))
		goto out;
	unsigned flags = THRESH_CHECK_READONLY | (explain ? THRESH_CHECK_EXPLAIN : 0);
	if ((rc = thresh_check(db, c, flags, &res))) {
		cli_warn("check: %s", thresh_strerror(rc));
		status = (rc == THRESH_EUTF8 || rc == THRESH_ETOOBIG || rc == THRESH_ENUL) ? CLI_BADINPUT
		                                                                           : CLI_FAIL;
		goto out;
	}
	if (json_out)
		print_json(res);
	else
		print_text(res);
	switch (thresh_result_verdict(res)) {
	case THRESH_ACCEPT:
		status = CLI_OK;
		break;
	case THRESH_HOLD:
		status = CLI_HOLD;
		break;
	case THRESH_REJECT:
		status = CLI_REJECT;
		break;
	}
out:
	thresh_result_free(res);
	thresh_db_close(db);
	thresh_comment_free(c);
	free(buf);
	return status;
}

/* check_tsv - every line of a file against one snapshot of the model. The
 * label column (before the first tab) is ignored; a line without a tab is
 * all text. A line that cannot be checked prints "nan<TAB>error". */
static int check_tsv(struct cli *cli, const char *path)
{
	static char obuf[1 << 16];
	struct line_reader lr;
	thresh_comment *c = NULL;
	thresh_db *db = NULL;
	thresh_view *v = NULL;
	uint64_t bad = 0;
	char *line;
	size_t len;
	int rc, got, status = CLI_FAIL;

	if (cli_read_now(cli))
		return CLI_FAIL;
	if (lr_open(&lr, path)) {
		cli_warn("%s: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	if (thresh_comment_new(&c)) {
		cli_warn("out of memory");
		goto out;
	}
	/* Every check here is THRESH_CHECK_READONLY: the rate store is not needed. */
	if (cli_db_open(cli, THRESH_DB_RDONLY, &db))
		goto out;
	/* The memory copy of the model pays when the input is large next to the
	 * model. Copying costs about 0.1 us a token of the model; reading from
	 * LMDB instead about 0.3-1 us a count, and a comment of some hundred
	 * bytes reads about a hundred counts. So a file of an eighth as many
	 * bytes as the model has tokens is worth the copy, made up front; from
	 * a pipe it is made once a thousandth as many lines were read, when the
	 * reads so far have cost about what the copy does. It is only speed: a
	 * failure leaves the checks reading LMDB. */
	thresh_stats st = {.size = sizeof st};
	uint64_t warm_at = UINT64_MAX, lines = 0;
	if (thresh_db_stats(db, &st) == 0) {
		if (lr.size_known)
			warm_at = lr.size >= st.tokens / 8 ? 0 : UINT64_MAX;
		else
			warm_at = st.tokens / 1024 + 1;
	}
	if (warm_at == 0)
		(void)thresh_db_warm(db);
	if ((rc = thresh_view_open(db, &v))) {
		cli_warn("%s: %s", cli_db_dir(cli), thresh_strerror(rc));
		goto out;
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	while ((got = lr_next(&lr, &line, &len)) > 0) {
		thresh_result *res = NULL;
		char *tab = memchr(line, '\t', len);
		const char *text = tab ? tab + 1 : line;
		size_t tlen = tab ? len - (size_t)(tab + 1 - line) : len;
		if (++lines == warm_at)
			(void)thresh_db_warm(db);
		/* the content replaced in place: its buffer is reused line after line */
		cli_set_time(cli, c);
		rc = thresh_comment_set(c, "content", text, tlen);
		if (!rc)
			rc = thresh_view_check(v, c, THRESH_CHECK_READONLY, &res);
		if (rc == THRESH_EUTF8 || rc == THRESH_ETOOBIG || rc == THRESH_ENUL) {
			cli_warn("%s:%zu: %s", lr.name, lr.lineno, thresh_strerror(rc));
			fputs("nan\terror\n", stdout);
			bad++;
			continue;
		}
		if (rc) {
			cli_warn("%s:%zu: %s", lr.name, lr.lineno, thresh_strerror(rc));
			goto out;
		}
		/* printf's "%.6f", without its exact arithmetic for every line */
		char num[32];
		fputs(fmt_fixed(num, sizeof num, thresh_result_score(res), 6), stdout);
		putchar('\t');
		fputs(thresh_verdict_name(thresh_result_verdict(res)), stdout);
		putchar('\n');
		thresh_result_free(res);
	}
	if (got < 0) {
		cli_warn("%s: line %zu: %s", lr.name, lr.lineno + 1, strerror(errno));
		goto out;
	}
	status = bad ? CLI_BADINPUT : CLI_OK;
out:
	fflush(stdout);
	thresh_view_close(v);
	thresh_db_close(db);
	thresh_comment_free(c);
	lr_close(&lr);
	return status;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0], *arg, *tsv = NULL;
	int json_in = 0, json_out = 0, explain = 0, format_given = 0, o;
	struct opt_iter it;

	opt_start(&it, cmd, argc, argv);
	while ((o = opt_next(&it, check_opts, &arg)) != OPT_DONE) {
		switch (o) {
		case OPT_HELP:
			help_print(stdout, cmd);
			return CLI_OK;
		case OPT_ERROR:
			return CLI_FAIL;
		case O_JSON:
			json_in = 1;
			break;
		case O_FORMAT:
			if (!strcmp(arg, "json"))
				json_out = 1;
			else if (!strcmp(arg, "text"))
				json_out = 0;
			else
				return usage_error(cmd, "--format %s: expected text or json", arg);
			format_given = 1;
			break;
		case O_EXPLAIN:
			explain = 1;
			break;
		case O_TSV:
			tsv = arg;
			break;
		case O_DB:
			cli->db_opt = arg;
			break;
		case OPT_POSITIONAL:
			return usage_error(cmd, "unexpected argument '%s' (check reads one comment on "
			                        "standard input; use --tsv FILE for a file)", arg);
		}
	}
	if (tsv) {
		if (json_in || explain || format_given)
			return usage_error(cmd, "--tsv prints score<TAB>verdict lines; "
			                        "--json, --explain and --format do not apply");
		return check_tsv(cli, tsv);
	}
	return check_one(cli, json_in, json_out, explain);
}
