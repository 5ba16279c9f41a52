/* wordpress.c - a WordPress site's comments as training records: the pages
 * its REST API returns, and the rows a `mariadb --batch` query of
 * wp_comments prints (thresh(1), "train --wp-json" and "--wp-mariadb").
 *
 *   --wp-json     [{"id":7,"status":"approved","author_name":"Ann",
 *                   "content":{"raw":"Tom &amp; Jerry","rendered":"<p>..."}},
 *                  {"id":9,"status":"spam",...}]
 *   --wp-mariadb  comment_approved<TAB>comment_author<TAB>comment_content
 *                 1<TAB>Ann<TAB>line 1\nline 2
 *                 spam<TAB>Bob<TAB>Buy cheap pills
 *
 * Approved comments ("approved", comment_approved 1) are ham, spam is spam;
 * every other status ("hold" or 0, "trash", ...) is skipped and counted.
 * The comment is what WordPress's Akismet plugin sends threshd for it:
 * content, author, e-mail, web site, IP, user agent, type ("comment" when
 * empty) and, from the REST API, the page it is on (its link without the
 * "#comment-N"); content, author, e-mail and web site in the one form of
 * src/common/wpform.c, so that the comment learned from the history and
 * again from a moderator's Spam or Not Spam counts once. An empty value is
 * no value, as WordPress's plugins send it.
 *
 * A page is read whole and checked before anything is learned (a malformed
 * page, or an error WordPress answered instead of comments, stops the
 * command); so is the header of every regular file of rows (a missing
 * column stops it). A bad comment within is reported at its line and
 * skipped, as a bad line of the other formats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "html.h"
#include "text.h"
#include "wpform.h"

#define PAGE_MAX ((size_t)1 << 30) /* bytes of one --wp-json file */

/* The fields of a row, whichever form it came in. */
enum wpf {
	WPF_STATUS,
	WPF_CONTENT,
	WPF_AUTHOR,
	WPF_EMAIL,
	WPF_URL,
	WPF_IP,
	WPF_AGENT,
	WPF_TYPE,
	WPF_LINK,
	WPF_COUNT
};

/* thresh's field for each (NULL: not a comment field) */
static const char *const field_of[WPF_COUNT] = {
	[WPF_CONTENT] = "content", [WPF_AUTHOR] = "author", [WPF_EMAIL] = "email",
	[WPF_URL] = "url",         [WPF_IP] = "ip",         [WPF_AGENT] = "user_agent",
	[WPF_TYPE] = "type",       [WPF_LINK] = "permalink",
};

/* the REST API's names (content apart: an object of raw and rendered) */
static const char *const rest_name[WPF_COUNT] = {
	[WPF_STATUS] = "status",    [WPF_CONTENT] = "content",          [WPF_AUTHOR] = "author_name",
	[WPF_EMAIL] = "author_email", [WPF_URL] = "author_url",         [WPF_IP] = "author_ip",
	[WPF_AGENT] = "author_user_agent", [WPF_TYPE] = "type",         [WPF_LINK] = "link",
};

/* wp_comments' columns (no link: the row knows only its post's ID) */
static const char *const db_name[WPF_COUNT] = {
	[WPF_STATUS] = "comment_approved",   [WPF_CONTENT] = "comment_content",
	[WPF_AUTHOR] = "comment_author",     [WPF_EMAIL] = "comment_author_email",
	[WPF_URL] = "comment_author_url",    [WPF_IP] = "comment_author_IP",
	[WPF_AGENT] = "comment_agent",       [WPF_TYPE] = "comment_type",
};

struct elem {
	size_t at, len;
	enum json_type type;
};

/* one file of --wp-json, read whole */
struct page {
	const char *name;
	char *text;
	size_t len;
	struct elem *el;
	size_t n, cap;
};

struct wp_input {
	/* the row being read */
	struct sbuf v[WPF_COUNT];
	int have[WPF_COUNT];
	int rendered;      /* content is content.rendered (HTML) */
	unsigned seen;     /* REST members taken, to refuse a repeat */
	unsigned char *scratch;
	size_t scap;
	/* --wp-json */
	struct page *pages;
	int npages, page;  /* the pages, the one being read */
	size_t el;         /* its next element */
	size_t line_at, line; /* its line number, counted up to byte line_at */
	uint64_t done_bytes;
	/* --wp-mariadb: the open input's columns */
	int col[WPF_COUNT];
	int ncols;
};

/* ---------- from a row to a comment ---------- */

static void row_reset(struct wp_input *w)
{
	for (int f = 0; f < WPF_COUNT; f++) {
		w->v[f].len = 0;
		w->have[f] = 0;
	}
	w->rendered = 0;
	w->seen = 0;
}

/* put - the value of field f; 0 or -1 out of memory. */
static int put(struct wp_input *w, enum wpf f, const char *s, size_t n)
{
	w->v[f].len = 0;
	sb_putn(&w->v[f], s, n);
	w->have[f] = 1;
	return w->v[f].oom ? -1 : 0;
}

/* count_status - one more row of a status that is not learned. */
static void count_status(struct rec_reader *r, const char *s, size_t n)
{
	char name[sizeof r->wp_status[0].name];
	int i;
	printable(s, n, name, sizeof name, PRINT_ASCII);
	if (!name[0])
		snprintf(name, sizeof name, "\"\"");
	r->wp_skipped++;
	for (i = 0; i < r->wp_nstatus; i++)
		if (!strcmp(r->wp_status[i].name, name))
			break;
	if (i == r->wp_nstatus) {
		if (r->wp_nstatus >= REC_STATUS_KINDS - 1 && strcmp(name, "other")) {
			/* the last slot gathers the rest */
			snprintf(name, sizeof name, "other");
			for (i = 0; i < r->wp_nstatus; i++)
				if (!strcmp(r->wp_status[i].name, name))
					break;
		}
		if (i == r->wp_nstatus) {
			snprintf(r->wp_status[i].name, sizeof r->wp_status[i].name, "%s", name);
			r->wp_nstatus++;
		}
	}
	r->wp_status[i].n++;
}

/* value_set - field f of the row into the comment, in WordPress's one
 * form; REC_OK or REC_BAD. */
static int value_set(struct rec_reader *r, enum wpf f)
{
	struct wp_input *w = r->wp;
	const char *s = w->v[f].p;
	size_t n = w->v[f].len;
	if (!w->have[f] || !field_of[f])
		return REC_OK;
	if (n + 8 > w->scap) {
		unsigned char *p = realloc(w->scratch, n + 8);
		if (!p) {
			snprintf(r->why, sizeof r->why, "out of memory");
			return REC_BAD;
		}
		w->scratch = p;
		w->scap = n + 8;
	}
	if (f == WPF_CONTENT && w->rendered)
		n = html_strip((const unsigned char *)s, n, w->scratch, w->scap);
	else if (n)
		memcpy(w->scratch, s, n);
	switch (f) {
	case WPF_CONTENT:
	case WPF_EMAIL:
		n = wp_canonical(w->scratch, n, w->scap, WP_CANON_TEXT);
		break;
	case WPF_AUTHOR:
		n = wp_canonical(w->scratch, n, w->scap, WP_CANON_AUTHOR);
		break;
	case WPF_URL:
		n = wp_canonical(w->scratch, n, w->scap, WP_CANON_URL);
		break;
	case WPF_LINK: {
		/* the post's permalink, as the plugins send it: the comment's
		 * link less its "#comment-N" */
		unsigned char *hash = memchr(w->scratch, '#', n);
		if (hash)
			n = (size_t)(hash - w->scratch);
		break;
	}
	default:
		break;
	}
	if (f == WPF_TYPE && n == 0) {
		memcpy(w->scratch, "comment", 7); /* WordPress's name for an empty type */
		n = 7;
	}
	if (n == 0)
		return REC_OK; /* an empty value is no value */
	int rc = thresh_comment_set(r->c, field_of[f], (const char *)w->scratch, n);
	if (rc) {
		const char *name = r->fmt == REC_WP_JSON ? rest_name[f] : db_name[f];
		snprintf(r->why, sizeof r->why, "%s%s: %s", name,
		         f == WPF_CONTENT && r->fmt == REC_WP_JSON ? (w->rendered ? ".rendered" : ".raw")
		                                                   : "",
		         thresh_strerror(rc));
		return REC_BAD;
	}
	return REC_OK;
}

/* build - the row read into w as r->c and *label: REC_OK, REC_BAD, or 0
 * when its status is not learned (counted). */
static int build(struct rec_reader *r, int *label)
{
	struct wp_input *w = r->wp;
	const char *st = w->v[WPF_STATUS].p;
	size_t stn = w->v[WPF_STATUS].len;
	int json = r->fmt == REC_WP_JSON;
	if (!w->have[WPF_STATUS]) {
		snprintf(r->why, sizeof r->why, "no \"status\" (fetch the comments with context=edit)");
		return REC_BAD;
	}
	if (json ? stn == 8 && !memcmp(st, "approved", 8) : stn == 1 && st[0] == '1')
		*label = THRESH_HAM;
	else if (stn == 4 && !memcmp(st, "spam", 4))
		*label = THRESH_SPAM;
	else {
		if (!json && stn == 1 && st[0] == '0')
			count_status(r, "hold", 4); /* the REST API's name for it */
		else
			count_status(r, st, stn);
		return 0;
	}
	if (!w->have[WPF_CONTENT]) {
		snprintf(r->why, sizeof r->why, "no \"content\"");
		return REC_BAD;
	}
	thresh_comment_reset(r->c);
	for (int f = WPF_CONTENT; f < WPF_COUNT; f++)
		if (value_set(r, f) != REC_OK)
			return REC_BAD;
	const char *v;
	int any = 0;
	for (int f = WPF_CONTENT; f <= WPF_URL; f++)
		if (thresh_comment_get(r->c, field_of[f], &v) == 0 && v)
			any = 1;
	if (!any) {
		snprintf(r->why, sizeof r->why, "an empty comment (no content, author, e-mail or web site)");
		return REC_BAD;
	}
	if (w->rendered)
		r->wp_rendered++;
	cli_set_time(r->cli, r->c);
	return REC_OK;
}

/* ---------- --wp-json: pages of the REST API ---------- */

static int on_element(const char *text, size_t len, size_t at, enum json_type type, void *ctx,
                      char *why, size_t whysize)
{
	struct page *pg = ctx;
	(void)text;
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? pg->cap * 2 : 128;
		struct elem *el = realloc(pg->el, cap * sizeof *el);
		if (!el) {
			snprintf(why, whysize, "out of memory");
			return -1;
		}
		pg->el = el;
		pg->cap = cap;
	}
	pg->el[pg->n++] = (struct elem){at, len, type};
	return 0;
}

/* line_col - the line and column of byte at of text. */
static void line_col(const char *text, size_t at, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < at; i++, (*col)++)
		if (text[i] == '\n') {
			(*line)++;
			*col = 0;
		}
}

struct wp_error {
	char code[96], message[256];
};

static int on_error_member(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct wp_error *e = ctx;
	(void)why;
	(void)whysize;
	if (m->type == JSON_STRING && !strcmp(m->key, "code"))
		printable(m->str, m->str_len, e->code, sizeof e->code, 0);
	else if (m->type == JSON_STRING && !strcmp(m->key, "message"))
		printable(m->str, m->str_len, e->message, sizeof e->message, 0);
	return 0;
}

/* load_page - read path whole and find its elements; 0 or CLI_FAIL
 * (reported). */
static int load_page(struct page *pg, const char *path)
{
	char why[384];
	size_t pos, line, col;
	FILE *f = stdin;
	int rc;
	pg->name = strcmp(path, "-") ? path : "<stdin>";
	if (strcmp(path, "-") && !(f = fopen(path, "rb"))) {
		cli_warn("%s: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	rc = read_all(f, PAGE_MAX, &pg->text, &pg->len);
	int e = errno;
	if (f != stdin)
		fclose(f);
	if (rc == -2) {
		cli_warn("%s: longer than %zu bytes: give the pages as files of their own", pg->name,
		         PAGE_MAX);
		return CLI_FAIL;
	}
	if (rc) {
		cli_warn("%s: %s", pg->name, strerror(e));
		return CLI_FAIL;
	}
	rc = json_array_parse(pg->text, pg->len, on_element, pg, why, sizeof why, &pos);
	if (rc == 0)
		return 0;
	if (rc == -1 || rc == -2) {
		/* WordPress's answer to a bad request: {"code":...,"message":...} */
		struct wp_error err = {"", ""};
		size_t epos;
		if (json_object_parse(pg->text, pg->len, on_error_member, &err, NULL, 0, &epos) == 0 &&
		    err.code[0]) {
			cli_warn("%s: WordPress answered with an error, not comments: %s: %s", pg->name,
			         err.code, err.message);
			return CLI_FAIL;
		}
	}
	line_col(pg->text, pos, &line, &col);
	cli_warn("%s:%zu: %s%s (column %zu); nothing was learned", pg->name, line,
	         rc == -1 ? "not a page of WordPress comments: " : "", why, col);
	return CLI_FAIL;
}

/* on_content - content.raw and content.rendered */
static int on_content(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct wp_input *w = ctx;
	int raw = !strcmp(m->key, "raw");
	if (!raw && strcmp(m->key, "rendered"))
		return 0;
	if (m->type == JSON_NULL)
		return 0;
	if (m->type != JSON_STRING) {
		snprintf(why, whysize, "\"content.%s\" must be a string, not %s", m->key,
		         json_type_name(m->type));
		return -1;
	}
	/* raw wins over rendered, in whichever order they come */
	if (raw || !w->have[WPF_CONTENT]) {
		if (put(w, WPF_CONTENT, m->str, m->str_len)) {
			snprintf(why, whysize, "out of memory");
			return -1;
		}
		w->rendered = !raw;
	}
	return 0;
}

static int on_comment_member(const struct json_member *m, void *ctx, char *why, size_t whysize)
{
	struct wp_input *w = ctx;
	int f;
	for (f = 0; f < WPF_COUNT; f++)
		if (rest_name[f] && strlen(m->key) == m->key_len && !strcmp(m->key, rest_name[f]))
			break;
	if (f == WPF_COUNT)
		return 0; /* id, post, date_gmt, _links, ...: not the comment's */
	if (w->seen & (1u << f)) {
		snprintf(why, whysize, "duplicate key \"%s\"", rest_name[f]);
		return -1;
	}
	w->seen |= 1u << f;
	if (m->type == JSON_NULL)
		return 0;
	if (f == WPF_CONTENT && m->type == JSON_OBJECT) {
		char inner[256];
		size_t pos;
		int rc = json_object_parse(m->raw, m->raw_len, on_content, w, inner, sizeof inner, &pos);
		if (rc) {
			snprintf(why, whysize, "%s", inner);
			return -1;
		}
		return 0;
	}
	if (m->type != JSON_STRING) {
		snprintf(why, whysize, "\"%s\" must be %s, not %s", rest_name[f],
		         f == WPF_CONTENT ? "an object of raw and rendered" : "a string",
		         json_type_name(m->type));
		return -1;
	}
	if (put(w, f, m->str, m->str_len)) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	return 0;
}

static int json_next(struct rec_reader *r, int *label)
{
	struct wp_input *w = r->wp;
	for (;;) {
		if (cli_interrupted)
			return REC_INTR;
		if (w->page >= w->npages)
			return REC_EOF;
		struct page *pg = &w->pages[w->page];
		if (w->el >= pg->n) {
			w->done_bytes += pg->len;
			free(pg->text);
			pg->text = NULL;
			w->page++;
			w->el = 0;
			w->line_at = 0;
			w->line = 1;
			continue;
		}
		const struct elem *e = &pg->el[w->el++];
		for (; w->line_at < e->at; w->line_at++)
			if (pg->text[w->line_at] == '\n')
				w->line++;
		r->where = pg->name;
		r->where_line = w->line;
		if (e->type != JSON_OBJECT) {
			snprintf(r->why, sizeof r->why, "expected a comment object, found %s",
			         json_type_name(e->type));
			return REC_BAD;
		}
		row_reset(w);
		char why[384];
		size_t pos;
		if (json_object_parse(pg->text + e->at, e->len, on_comment_member, w, why, sizeof why,
		                      &pos)) {
			snprintf(r->why, sizeof r->why, "%s", why);
			return REC_BAD;
		}
		int rc = build(r, label);
		if (rc)
			return rc;
	}
}

/* ---------- --wp-mariadb: rows of a query ---------- */

/* unescape - mariadb --batch's escapes of s[0..n) undone into the field's
 * value: \\ \t \n \0 (NUL, which the library then refuses). 0, or -1 with
 * the reason in r->why. */
static int unescape(struct rec_reader *r, enum wpf f, const char *s, size_t n)
{
	struct wp_input *w = r->wp;
	struct sbuf *b = &w->v[f];
	b->len = 0;
	w->have[f] = 1;
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\')
			continue;
		sb_putn(b, s + start, i - start);
		char c = i + 1 < n ? s[i + 1] : '\0', out;
		if (c == '\\' || c == 't' || c == 'n' || c == '0') {
			out = c == 't' ? '\t' : c == 'n' ? '\n' : c == '0' ? '\0' : '\\';
		} else {
			snprintf(r->why, sizeof r->why,
			         "%s: a backslash that is none of mariadb --batch's escapes (\\\\ \\t \\n \\0);"
			         " was the query run with --raw?", db_name[f]);
			return -1;
		}
		sb_putn(b, &out, 1);
		start = i + 2;
		i++;
	}
	sb_putn(b, s + start, n - start);
	if (b->oom) {
		snprintf(r->why, sizeof r->why, "out of memory");
		return -1;
	}
	return 0;
}

/* header - the columns of a header line into w->col; 0, or -1 with the
 * reason in why. */
static int header(struct wp_input *w, const char *line, size_t len, char *why, size_t whysize)
{
	for (int f = 0; f < WPF_COUNT; f++)
		w->col[f] = -1;
	w->ncols = 0;
	for (size_t at = 0;; w->ncols++) {
		const char *tab = memchr(line + at, '\t', len - at);
		size_t n = tab ? (size_t)(tab - line) - at : len - at;
		for (int f = 0; f < WPF_COUNT; f++)
			if (db_name[f] && strlen(db_name[f]) == n && !strncasecmp(line + at, db_name[f], n)) {
				if (w->col[f] >= 0) {
					snprintf(why, whysize, "the column %s twice in the header line", db_name[f]);
					return -1;
				}
				w->col[f] = w->ncols;
			}
		if (!tab)
			break;
		at += n + 1;
	}
	w->ncols++;
	for (int f = WPF_STATUS; f <= WPF_CONTENT; f++)
		if (w->col[f] < 0) {
			char lb[64];
			snprintf(why, whysize,
			         "no column %s in the header line \"%s\" (the first line must name the"
			         " columns: mariadb --batch without -N)",
			         db_name[f], printable(line, len, lb, sizeof lb, 0));
			return -1;
		}
	return 0;
}

/* check_header - the header of a regular file, read now so that a file
 * that lacks a column stops the command before anything is learned; 0 or
 * CLI_FAIL (reported). */
static int check_header(struct wp_input *w, const char *path)
{
	struct line_reader lr;
	struct stat st;
	char *line, why[512];
	size_t len;
	if (!strcmp(path, "-") || stat(path, &st) || !S_ISREG(st.st_mode))
		return 0; /* a pipe is read once: its header is checked when it is */
	if (lr_open(&lr, path)) {
		cli_warn("%s: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	int got = lr_next(&lr, &line, &len), rc = 0;
	if (got < 0) {
		cli_warn("%s: %s", path, strerror(errno));
		rc = CLI_FAIL;
	} else if (got == 0) {
		/* an empty file: a query that found nothing prints nothing at all */
	} else if (header(w, line, len, why, sizeof why)) {
		cli_warn("%s:1: %s; nothing was learned", path, why);
		rc = CLI_FAIL;
	}
	lr_close(&lr);
	return rc;
}

static int mariadb_next(struct rec_reader *r, int *label)
{
	struct wp_input *w = r->wp;
	char *line;
	size_t len;
	for (;;) {
		int opened = 0;
		int got = rec_line(r, &line, &len, &opened);
		if (got != REC_OK)
			return got;
		if (opened)
			w->ncols = 0;
		r->where = r->lr.name;
		r->where_line = r->lr.lineno;
		if (w->ncols == 0) {
			char why[512];
			if (header(w, line, len, why, sizeof why)) {
				cli_warn("%s:%zu: %s", r->lr.name, r->lr.lineno, why);
				return REC_IOERR;
			}
			continue;
		}
		if (len == 0)
			continue;
		/* the columns we read, by their place */
		row_reset(w);
		int ncol = 0;
		for (size_t at = 0;; ncol++) {
			const char *tab = memchr(line + at, '\t', len - at);
			size_t n = tab ? (size_t)(tab - line) - at : len - at;
			for (int f = 0; f < WPF_COUNT; f++)
				if (w->col[f] == ncol && unescape(r, f, line + at, n))
					return REC_BAD;
			if (!tab)
				break;
			at += n + 1;
		}
		if (ncol + 1 != w->ncols) {
			snprintf(r->why, sizeof r->why, "%d columns where the header line has %d", ncol + 1,
			         w->ncols);
			return REC_BAD;
		}
		int rc = build(r, label);
		if (rc)
			return rc;
	}
}

/* ---------- the reader ---------- */

int wp_open(struct rec_reader *r)
{
	struct wp_input *w = calloc(1, sizeof *w);
	if (!w) {
		cli_warn("out of memory");
		return CLI_FAIL;
	}
	r->wp = w;
	w->line = 1;
	for (int f = 0; f < WPF_COUNT; f++)
		sb_init(&w->v[f]);
	if (r->fmt == REC_WP_MARIADB) {
		for (int i = 0; i < r->npaths; i++)
			if (check_header(w, r->paths[i]))
				return CLI_FAIL;
		return 0;
	}
	if (!(w->pages = calloc((size_t)r->npaths, sizeof *w->pages))) {
		cli_warn("out of memory");
		return CLI_FAIL;
	}
	for (int i = 0; i < r->npaths; i++) {
		w->npages++;
		if (load_page(&w->pages[i], r->paths[i]))
			return CLI_FAIL;
	}
	r->total_bytes = 0;
	for (int i = 0; i < w->npages; i++)
		r->total_bytes += w->pages[i].len;
	return 0;
}

int wp_next(struct rec_reader *r, int *label)
{
	return r->fmt == REC_WP_JSON ? json_next(r, label) : mariadb_next(r, label);
}

uint64_t wp_bytes(const struct rec_reader *r)
{
	const struct wp_input *w = r->wp;
	if (r->fmt != REC_WP_JSON)
		return r->done_bytes + (r->open ? r->lr.bytes : 0);
	return w->done_bytes + (w->page < w->npages ? w->line_at : 0);
}

void wp_close(struct rec_reader *r)
{
	struct wp_input *w = r->wp;
	if (!w)
		return;
	for (int i = 0; i < w->npages; i++) {
		free(w->pages[i].text);
		free(w->pages[i].el);
	}
	free(w->pages);
	for (int f = 0; f < WPF_COUNT; f++)
		sb_free(&w->v[f]);
	free(w->scratch);
	free(w);
	r->wp = NULL;
}

void wp_print_skipped(FILE *f, const struct rec_reader *r)
{
	fprintf(f, "; %llu skipped by status", (unsigned long long)r->wp_skipped);
	for (int i = 0; i < r->wp_nstatus; i++)
		fprintf(f, "%s%llu %s", i ? ", " : ": ", (unsigned long long)r->wp_status[i].n,
		        r->wp_status[i].name);
}
