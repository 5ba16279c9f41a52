/* util.c - what every command of `thresh` shares: messages, options, the
 * database folder, reading lines, the progress bar, signals, JSON output. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "model_path.h"

/* ---------- messages ---------- */

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("thresh: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------- options ---------- */

void opt_start(struct opt_iter *it, const char *cmd, int argc, char **argv)
{
	it->argc = argc;
	it->argv = argv;
	it->i = 1;
	it->no_more_opts = 0;
	it->cmd = cmd;
}

int opt_next(struct opt_iter *it, const struct opt_def *defs, const char **arg)
{
	*arg = NULL;
	if (it->i >= it->argc)
		return OPT_DONE;
	char *a = it->argv[it->i++];
	/* "-" (standard input) and negative numbers ("-0.5") are positionals. */
	if (it->no_more_opts || a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9') ||
	    a[1] == '.') {
		*arg = a;
		return OPT_POSITIONAL;
	}
	if (!strcmp(a, "--")) {
		it->no_more_opts = 1;
		return opt_next(it, defs, arg);
	}
	if (!strcmp(a, "-h") || !strcmp(a, "--help"))
		return OPT_HELP;
	if (a[1] != '-')
		return usage_error(it->cmd, "unknown option '%s'", a), OPT_ERROR;
	const char *name = a + 2, *eq = strchr(name, '=');
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
	for (const struct opt_def *d = defs; d && d->name; d++) {
		if (strlen(d->name) != nlen || strncmp(d->name, name, nlen) != 0)
			continue;
		if (d->has_arg == OPT_NOARG) {
			if (eq)
				return usage_error(it->cmd, "option '--%s' takes no value", d->name),
				       OPT_ERROR;
			return d->id;
		}
		if (eq) {
			*arg = eq + 1;
		} else {
			if (it->i >= it->argc)
				return usage_error(it->cmd, "option '--%s' needs a value", d->name),
				       OPT_ERROR;
			*arg = it->argv[it->i++];
		}
		return d->id;
	}
	return usage_error(it->cmd, "unknown option '--%.*s'", (int)nlen, name), OPT_ERROR;
}

/* ---------- the database ---------- */

const char *cli_db_dir(const struct cli *cli)
{
	static char buf[PATH_MAX];
	const char *e;
	int n;
	if (cli->db_opt) {
		if (!*cli->db_opt) {
			cli_warn("--db: an empty folder name");
			return NULL;
		}
		return cli->db_opt;
	}
	if ((e = getenv("THRESH_DB")) && *e)
		return e;
	/* XDG: a relative XDG_DATA_HOME is invalid and ignored. */
	if ((e = getenv("XDG_DATA_HOME")) && e[0] == '/') {
		n = snprintf(buf, sizeof buf, "%s/thresh", e);
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home || !*home) {
			cli_warn("no database folder: give --db DIR or set THRESH_DB (HOME is not set)");
			return NULL;
		}
		n = snprintf(buf, sizeof buf, "%s/.local/share/thresh", home);
	}
	if (n < 0 || (size_t)n >= sizeof buf) {
		cli_warn("the database folder's name is too long");
		return NULL;
	}
	return buf;
}

/* open_with - one thresh_db_open, with the library's explanation on failure. */
static int open_with(const char *dir, unsigned flags, thresh_db **out, char *err, size_t errsize)
{
	thresh_db_options o;
	char model[4096];
	thresh_db_options_init(&o);
	o.flags = flags;
	o.model = build_tree_model(model, sizeof model);
	o.errbuf = err;
	o.errbuf_size = errsize;
	err[0] = '\0';
	return thresh_db_open(dir, &o, out);
}

int cli_db_open(const struct cli *cli, unsigned extra_flags, thresh_db **out)
{
	char err[1024];
	const char *dir = cli_db_dir(cli);
	int rc;
	if (!dir)
		return CLI_FAIL;
	/* First without CREATE, so we know whether we made it. RDONLY applies
	 * to an existing database only: a new one is made writable. */
	rc = open_with(dir, extra_flags & THRESH_DB_RDONLY, out, err, sizeof err);
	if (rc == THRESH_EVERSION && (extra_flags & THRESH_DB_RDONLY))
		rc = open_with(dir, 0, out, err, sizeof err); /* an older format: upgrade it */
	if (rc == THRESH_ENOENT) {
		rc = open_with(dir, THRESH_DB_CREATE | (extra_flags & ~THRESH_DB_RDONLY), out, err,
		               sizeof err);
		if (rc == 0)
			fprintf(stderr, "thresh: created %s %s\n", dir,
			        (extra_flags & THRESH_DB_EMPTY) ? "(empty)" : "from the default model");
	}
	if (rc) {
		if (err[0])
			cli_warn("%s: %s: %s", dir, thresh_strerror(rc), err);
		else
			cli_warn("%s: %s", dir, thresh_strerror(rc));
		return CLI_FAIL;
	}
	thresh_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	if (thresh_db_stats(*out, &st) == 0 && st.upgraded_from)
		cli_warn("%s: upgraded from format %" PRIu32 " to %" PRIu32 ": its counts are kept as the "
		         "site's own, and the classifier's parameters are this version's defaults",
		         dir, st.upgraded_from, st.format_version);
	return 0;
}

int cli_read_now(struct cli *cli)
{
	const char *e = getenv("THRESH_NOW");
	uint64_t v;
	cli->have_now = 0;
	if (!e || !*e)
		return 0;
	if (parse_u64(e, 0, INT64_MAX, &v)) {
		cli_warn("THRESH_NOW=%s: expected seconds since the epoch (a whole number >= 0)", e);
		return CLI_FAIL;
	}
	cli->have_now = 1;
	cli->now = (int64_t)v;
	return 0;
}

void cli_set_time(const struct cli *cli, thresh_comment *c)
{
	if (cli->have_now)
		thresh_comment_set_time(c, cli->now);
}

/* ---------- reading lines ---------- */

int lr_open(struct line_reader *lr, const char *path)
{
	struct stat st;
	memset(lr, 0, sizeof *lr);
	if (!strcmp(path, "-")) {
		lr->f = stdin;
		lr->name = "<stdin>";
		lr->is_stdin = 1;
	} else {
		if (!(lr->f = fopen(path, "rb")))
			return -1;
		lr->name = path;
		if (fstat(fileno(lr->f), &st) == 0 && S_ISDIR(st.st_mode)) {
			fclose(lr->f);
			lr->f = NULL;
			errno = EISDIR;
			return -1;
		}
	}
	if (fstat(fileno(lr->f), &st) == 0 && S_ISREG(st.st_mode)) {
		lr->size = (uint64_t)st.st_size;
		lr->size_known = 1;
	}
	return 0;
}

int lr_next(struct line_reader *lr, char **line, size_t *len)
{
	errno = 0;
	ssize_t n = getline(&lr->buf, &lr->cap, lr->f);
	if (n < 0) {
		if (ferror(lr->f)) {
			int e = errno ? errno : EIO;
			clearerr(lr->f);
			errno = e;
			return -1;
		}
		return 0;
	}
	lr->lineno++;
	lr->bytes += (uint64_t)n;
	if (n > 0 && lr->buf[n - 1] == '\n')
		n--;
	if (n > 0 && lr->buf[n - 1] == '\r')
		n--;
	lr->buf[n] = '\0';
	*line = lr->buf;
	/* A UTF-8 byte order mark at the start of a file (as some Windows tools
	 * write) is not part of the first line. */
	if (lr->lineno == 1 && n >= 3 && !memcmp(lr->buf, "\xEF\xBB\xBF", 3)) {
		*line += 3;
		n -= 3;
	}
	*len = (size_t)n;
	return 1;
}

void lr_close(struct line_reader *lr)
{
	if (lr->f && !lr->is_stdin)
		fclose(lr->f);
	lr->f = NULL;
	free(lr->buf);
	lr->buf = NULL;
	lr->cap = 0;
}

int read_all(FILE *f, size_t max, char **out, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		if (cap - n < 2) {
			if (cap > max + 1) {
				free(buf);
				return -2;
			}
			char *p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				errno = ENOMEM;
				return -1;
			}
			buf = p;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				int e = errno ? errno : EIO;
				free(buf);
				errno = e;
				return -1;
			}
			break;
		}
	}
	if (n > max) {
		free(buf);
		return -2;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* ---------- progress ---------- */

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p, const char *what, uint64_t total)
{
	p->on = isatty(STDERR_FILENO);
	p->last = 0;
	p->total = total;
	p->what = what;
	p->drawn = 0;
}

void progress_update(struct progress *p, uint64_t lines, uint64_t bytes)
{
	if (!p->on)
		return;
	double t = now_seconds();
	if (p->drawn && t - p->last < 0.1)
		return;
	p->last = t;
	p->drawn = 1;
	if (p->total) {
		double pct = 100.0 * (double)bytes / (double)p->total;
		if (pct > 100)
			pct = 100;
		fprintf(stderr, "\rthresh: %s: %" PRIu64 " lines, %5.1f%%  ", p->what, lines, pct);
	} else {
		fprintf(stderr, "\rthresh: %s: %" PRIu64 " lines, %.1f MB  ", p->what, lines,
		        (double)bytes / 1e6);
	}
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = 0;
}

/* ---------- signals ---------- */

volatile sig_atomic_t cli_interrupted = 0;

static void on_signal(int sig)
{
	cli_interrupted = sig;
}

void signals_catch(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a read blocked on a terminal or a pipe returns EINTR.
	 * SA_RESETHAND: a second signal ends the process as usual. */
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---------- JSON output ---------- */

void print_json_string(FILE *f, const char *s, size_t len)
{
	struct sbuf b;
	sb_init(&b);
	json_put_string(&b, s, len);
	if (!b.oom)
		fwrite(b.p, 1, b.len, f);
	sb_free(&b);
}

void print_json_double(FILE *f, double v)
{
	struct sbuf b;
	sb_init(&b);
	json_put_double(&b, v);
	if (!b.oom)
		fwrite(b.p, 1, b.len, f);
	sb_free(&b);
}
