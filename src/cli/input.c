/* input.c - training records from files: plain lines, label<TAB>text lines
 * and JSON lines, with the file and line of every bad one; WordPress's own
 * comment rows through wordpress.c.
 *
 *   plain   one comment per line; the label comes from the command line
 *   tsv     spam<TAB>Buy cheap pills        (text may hold more tabs)
 *   jsonl   {"label":"ham","content":"Nice post","author":"Ann"}
 *   wp-json, wp-mariadb   see wordpress.c
 *
 * Lines end in "\n" or "\r\n"; empty lines are skipped without a word. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "comment_json.h"
#include "text.h"

int parse_label(const char *s, size_t len)
{
	if (len == 4 && !memcmp(s, CLI_LABEL_SPAM, 4))
		return THRESH_SPAM;
	if (len == 3 && !memcmp(s, CLI_LABEL_HAM, 3))
		return THRESH_HAM;
	return -1;
}

/* ---------- a comment from a JSON object ---------- */

/* on_member - one member through the shared mapping, refused in the
 * command's words. */
static int on_member(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct cj_state *st = ctx;
	char kb[48];
	const char *key = printable(m->key, m->key_len, kb, sizeof kb, 0);
	switch (cj_member(st, m)) {
	case CJ_OK:
		return 0;
	case CJ_UNKNOWN_FIELD:
		snprintf(why, whysize, "unknown field \"%s\"", key);
		break;
	case CJ_DUPLICATE:
		snprintf(why, whysize, "duplicate key \"%s\"", key);
		break;
	case CJ_OTHER_NAME:
		snprintf(why, whysize, "field \"%s\" given twice (once under its other name)", key);
		break;
	case CJ_BAD_LABEL:
		snprintf(why, whysize, "\"label\" must be \"spam\" or \"ham\"");
		break;
	case CJ_BAD_TYPE:
		snprintf(why, whysize, "field \"%s\" must be a string, a number or null, not %s", key,
		         json_type_name(m->type));
		break;
	case CJ_BAD_FORM_AGE:
		snprintf(why, whysize, "field \"form_age\": not a number of seconds >= 0");
		break;
	default:
		snprintf(why, whysize, "field \"%s\": %s", key, thresh_strerror(st->rc));
	}
	return -1;
}

int comment_from_json(thresh_comment *c, const char *text, size_t len, int want_label,
                      int *label, char *why, size_t whysize, size_t *line)
{
	struct cj_state x;
	char inner[384];
	size_t pos = 0;
	cj_start(&x, c, want_label);
	int rc = json_object_parse(text, len, on_member, &x, inner, sizeof inner, &pos);
	cj_end(&x);
	size_t col = 1;
	*line = 1;
	for (size_t i = 0; i < pos && i < len; i++, col++)
		if (text[i] == '\n') {
			(*line)++;
			col = 0;
		}
	if (rc == -1) {
		snprintf(why, whysize, "malformed JSON: %s (column %zu)", inner, col);
		return -1;
	}
	if (rc) {
		snprintf(why, whysize, "%s", inner);
		return -1;
	}
	if (want_label && x.label < 0) {
		snprintf(why, whysize, "no \"label\" (\"spam\" or \"ham\")");
		return -1;
	}
	if (want_label)
		*label = x.label;
	return 0;
}

/* ---------- the record reader ---------- */

int rec_open(struct rec_reader *r, const struct cli *cli, enum rec_format fmt, int label,
             char **paths, int npaths)
{
	static char *stdin_path[] = {"-"};
	int stdin_uses = 0;
	memset(r, 0, sizeof *r);
	r->fmt = fmt;
	r->label = label;
	r->cli = cli;
	if (npaths == 0) {
		paths = stdin_path;
		npaths = 1;
	}
	r->paths = paths;
	r->npaths = npaths;
	/* Check every input now: a missing file stops the command before anything
	 * is learned. Their sizes make the progress bar's percentage. Nothing is
	 * opened here: opening and closing a named pipe would lose its writer. */
	int all_known = 1;
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (!strcmp(paths[i], "-")) {
			if (stdin_uses++) {
				cli_warn("standard input ('-') given more than once");
				return CLI_FAIL;
			}
			if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
				r->total_bytes += (uint64_t)st.st_size;
			else
				all_known = 0;
			continue;
		}
		if (stat(paths[i], &st) != 0 || access(paths[i], R_OK) != 0) {
			cli_warn("%s: %s", paths[i], strerror(errno));
			return CLI_FAIL;
		}
		if (S_ISDIR(st.st_mode)) {
			cli_warn("%s: %s", paths[i], strerror(EISDIR));
			return CLI_FAIL;
		}
		if (S_ISREG(st.st_mode))
			r->total_bytes += (uint64_t)st.st_size;
		else
			all_known = 0;
	}
	if (!all_known)
		r->total_bytes = 0;
	if (thresh_comment_new(&r->c)) {
		cli_warn("out of memory");
		return CLI_FAIL;
	}
	r->cur = -1;
	if ((fmt == REC_WP_JSON || fmt == REC_WP_MARIADB) && wp_open(r)) {
		rec_close(r);
		return CLI_FAIL;
	}
	return 0;
}

uint64_t rec_bytes(const struct rec_reader *r)
{
	if (r->wp)
		return wp_bytes(r);
	return r->done_bytes + (r->open ? r->lr.bytes : 0);
}

void rec_close(struct rec_reader *r)
{
	if (r->open)
		lr_close(&r->lr);
	r->open = 0;
	wp_close(r);
	thresh_comment_free(r->c);
	r->c = NULL;
}

/* set_content - the comment is the text alone. */
static int set_content(struct rec_reader *r, const char *text, size_t len)
{
	thresh_comment_reset(r->c);
	int rc = thresh_comment_set(r->c, "content", text, len);
	if (rc) {
		snprintf(r->why, sizeof r->why, "%s", thresh_strerror(rc));
		return REC_BAD;
	}
	return REC_OK;
}

/* parse_record - one non-empty line into r->c and *label. */
static int parse_record(struct rec_reader *r, char *line, size_t len, int *label)
{
	size_t jline;
	int rc;
	switch (r->fmt) {
	case REC_PLAIN:
		*label = r->label;
		rc = set_content(r, line, len);
		break;
	case REC_TSV: {
		char *tab = memchr(line, '\t', len);
		if (!tab) {
			snprintf(r->why, sizeof r->why, "expected LABEL<TAB>TEXT (no tab on the line)");
			return REC_BAD;
		}
		if ((*label = parse_label(line, (size_t)(tab - line))) < 0) {
			char lb[48];
			snprintf(r->why, sizeof r->why, "bad label \"%s\" (expected spam or ham)",
			         printable(line, (size_t)(tab - line), lb, sizeof lb, 0));
			return REC_BAD;
		}
		size_t tlen = len - (size_t)(tab + 1 - line);
		if (tlen == 0) {
			snprintf(r->why, sizeof r->why, "no text after the label");
			return REC_BAD;
		}
		rc = set_content(r, tab + 1, tlen);
		break;
	}
	case REC_JSONL:
	default:
		if (comment_from_json(r->c, line, len, 1, label, r->why, sizeof r->why, &jline))
			return REC_BAD;
		rc = REC_OK;
		break;
	}
	if (rc == REC_OK)
		cli_set_time(r->cli, r->c);
	return rc;
}

int rec_line(struct rec_reader *r, char **line, size_t *len, int *opened)
{
	for (;;) {
		if (cli_interrupted)
			return REC_INTR;
		if (!r->open) {
			if (r->cur + 1 >= r->npaths)
				return REC_EOF;
			r->cur++;
			if (lr_open(&r->lr, r->paths[r->cur])) {
				cli_warn("%s: %s", r->paths[r->cur], strerror(errno));
				return REC_IOERR;
			}
			r->open = 1;
			if (opened)
				*opened = 1;
		}
		int got = lr_next(&r->lr, line, len);
		if (got < 0) {
			if (errno == EINTR && cli_interrupted)
				return REC_INTR;
			cli_warn("%s: line %zu: %s", r->lr.name, r->lr.lineno + 1, strerror(errno));
			return REC_IOERR;
		}
		if (got > 0)
			return REC_OK;
		r->done_bytes += r->lr.bytes;
		lr_close(&r->lr);
		r->open = 0;
	}
}

int rec_next(struct rec_reader *r, int *label)
{
	char *line;
	size_t len;
	if (r->wp)
		return wp_next(r, label);
	for (;;) {
		int rc = rec_line(r, &line, &len, NULL);
		if (rc != REC_OK)
			return rc;
		/* Empty lines (also "\r\n" alone, or only blanks in JSON lines) are skipped. */
		if (len == 0)
			continue;
		if (r->fmt == REC_JSONL && strspn(line, " \t") == len)
			continue;
		r->where = r->lr.name;
		r->where_line = r->lr.lineno;
		return parse_record(r, line, len, label);
	}
}
