/* cli.h - the pieces the `thresh` command's files share.
 *
 * The command uses the public API alone (<thresh/thresh.h>), exactly as an
 * outside program would. Each command lives in its own file and has the
 * shape  int cmd_NAME(struct cli *cli, int argc, char **argv)  where argv[0]
 * is the command's name; it returns the process's exit status. */
#ifndef THRESH_CLI_H
#define THRESH_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <thresh/thresh.h>

/* src/common: shared with threshd, not public API */
#include "json.h"
#include "num.h"
#include "sbuf.h"

/* Exit statuses; `thresh check` uses 0, 1 and 2 for its verdict. */
#define CLI_OK 0
#define CLI_HOLD 1
#define CLI_REJECT 2
#define CLI_FAIL 3     /* usage, database or file error */
#define CLI_BADINPUT 4 /* a bad line or comment was reported (and skipped) */
#define CLI_INTR 130   /* interrupted by SIGINT or SIGTERM */

/* Labels as the command spells them. */
#define CLI_LABEL_SPAM "spam"
#define CLI_LABEL_HAM "ham"

/* Settings given before (or after) the command. */
struct cli {
	const char *db_opt; /* --db DIR, or NULL */
	int have_now;       /* THRESH_NOW was set */
	int64_t now;        /* its value, seconds since the epoch */
};

typedef int (*cli_cmd_fn)(struct cli *cli, int argc, char **argv);

/* ---- commands (one file each, admin.c holds the small ones) ---- */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_train(struct cli *cli, int argc, char **argv);
int cmd_untrain(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_eval(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_prune(struct cli *cli, int argc, char **argv);
int cmd_set(struct cli *cli, int argc, char **argv);
int cmd_get(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);

/* ---- eval.c, plot.c ---- */
struct scored {
	double score;
	int label; /* THRESH_SPAM or THRESH_HAM */
};
/* write_plot - the ROC curve and score histograms as SVG into path (written
 * beside it and renamed). s must be sorted by score. Returns 0 or an errno. */
int write_plot(const char *path, const struct scored *s, size_t n, size_t nspam, size_t nham,
               double hold, double reject, double auc);
int cmd_rotate_secret(struct cli *cli, int argc, char **argv);
/* replicate.c: the cluster's replicator, for nodes without threshd */
int cmd_replicate(struct cli *cli, int argc, char **argv);

/* sites.c: the sites of a threshd --sites folder */
int cmd_sites(struct cli *cli, int argc, char **argv);

/* ---- keyfile.c: threshd's key file with --sites ("KEY SITE" lines) ---- */
struct kf_line {
	size_t off, len;       /* the line in text, without its newline */
	int is_key;            /* 0: blank or a comment */
	size_t key, key_len;   /* the key's place in text */
	size_t site, site_len; /* the site's */
};

struct keyfile {
	char *path;       /* the file (a symbolic link's target) */
	int create_ok;    /* a missing file reads as an empty one */
	int exists;
	struct stat st;   /* when it exists */
	char *text;       /* its contents, NUL-terminated (wiped when closed) */
	size_t len, cap;
	struct kf_line *line;
	size_t nline;
	int dir_fd;       /* its folder, locked */
	char *tmp;        /* a prepared new file, not installed yet */
	size_t new_keys;  /* the keys of the prepared file */
};

/* kf_open - lock the folder of path, read the file and check it by
 * threshd's rules (a missing file is an empty one with create_ok). A
 * symbolic link is resolved. Returns 0 or -1 (reported: "FILE:LINE: ..."). */
int kf_open(struct keyfile *kf, const char *path, int create_ok);
/* kf_count - how many keys site has. */
size_t kf_count(const struct keyfile *kf, const char *site);
/* kf_has_key - 1 when key is in the file. */
int kf_has_key(const struct keyfile *kf, const char *key);
/* kf_prepare - write the new file beside the old, flushed: the lines of
 * site dropped (to NULL) or given to site `to`, and "add_key add_site"
 * appended (add_key NULL: none); all else as it was. It gets the old file's
 * mode and owner, or 0600 and new_uid:new_gid (-1: ours) when new.
 * Returns 0 or -1 (reported; nothing is left behind). */
int kf_prepare(struct keyfile *kf, const char *site, const char *to, const char *add_key,
               const char *add_site, uid_t new_uid, gid_t new_gid);
/* kf_install - rename the prepared file into place. 0 or -1 (reported). */
int kf_install(struct keyfile *kf);
/* kf_close - remove a prepared file not installed, unlock, wipe. */
void kf_close(struct keyfile *kf);

/* ---- help.c ---- */
/* help_text - the --help text of a command (NULL: the general help), or
 * NULL when there is no such command. */
const char *help_text(const char *cmd);
/* help_print - print the help of cmd (NULL: general) to f. */
void help_print(FILE *f, const char *cmd);
/* usage_error - "thresh: MESSAGE" and a hint to --help on stderr; returns
 * CLI_FAIL so callers can `return usage_error(...)`. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- util.c: messages ---- */
/* cli_warn - "thresh: MESSAGE" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- util.c: option parsing ---- */
enum { OPT_NOARG = 0, OPT_ARG = 1 };
#define OPT_POSITIONAL (-1) /* a positional argument, in *arg */
#define OPT_DONE (-2)       /* no more arguments */
#define OPT_ERROR (-3)      /* an unknown option or a missing argument (reported) */
#define OPT_HELP (-4)       /* -h or --help */

struct opt_def {
	const char *name; /* long name without "--" */
	int has_arg;      /* OPT_NOARG or OPT_ARG */
	int id;           /* >= 0, returned by opt_next */
};

struct opt_iter {
	int argc;
	char **argv;
	int i;            /* next argument to look at */
	int no_more_opts; /* after "--" */
	const char *cmd;  /* for messages */
};

/* opt_start - iterate over argv[1..argc). */
void opt_start(struct opt_iter *it, const char *cmd, int argc, char **argv);
/* opt_next - the next option's id (its value in *arg when it takes one),
 * OPT_POSITIONAL, OPT_HELP, OPT_DONE or OPT_ERROR (already reported).
 * Accepts "--name VALUE", "--name=VALUE", "--" and "-" (a positional). */
int opt_next(struct opt_iter *it, const struct opt_def *defs, const char **arg);


/* ---- util.c: the database ---- */
/* cli_db_dir - the database folder: --db, $THRESH_DB, $XDG_DATA_HOME/thresh or
 * ~/.local/share/thresh. Returns a static buffer, or NULL (reported). */
const char *cli_db_dir(const struct cli *cli);
/* cli_db_open - open the database, creating a missing one from the default
 * model (or empty, with THRESH_DB_EMPTY in extra_flags) with a note on
 * stderr. THRESH_DB_RDONLY in extra_flags opens an existing one read-only
 * (no rate-limit store); a missing one is still created. Prints the error itself. Returns 0 or CLI_FAIL. */
int cli_db_open(const struct cli *cli, unsigned extra_flags, thresh_db **out);
/* cli_set_time - apply THRESH_NOW to a comment. */
void cli_set_time(const struct cli *cli, thresh_comment *c);
/* cli_read_now - read THRESH_NOW into cli; 0 or CLI_FAIL (reported). */
int cli_read_now(struct cli *cli);

/* ---- util.c: reading lines ---- */
struct line_reader {
	FILE *f;
	const char *name;   /* for messages: the path, or "<stdin>" */
	int is_stdin;
	char *buf;
	size_t cap;
	size_t lineno;      /* of the line last returned */
	uint64_t bytes;     /* read so far, newlines included */
	uint64_t size;      /* file size when known (regular file), else 0 */
	int size_known;
};

/* lr_open - open path ("-" is stdin) for reading; 0 or -1 (errno set). */
int lr_open(struct line_reader *lr, const char *path);
/* lr_next - the next line without "\n" or "\r\n", and without a UTF-8 byte
 * order mark when it is the file's first line (may hold NUL bytes: use *len). Returns 1 with a line, 0 at the end, -1 on a read error or
 * an interrupt (errno set, EINTR for an interrupt). */
int lr_next(struct line_reader *lr, char **line, size_t *len);
/* lr_close - close it (not stdin). */
void lr_close(struct line_reader *lr);

/* read_all - the whole of f into a malloc'd buffer (NUL-terminated, length
 * in *len), at most max bytes. Returns 0, -1 on a read error (errno set) or
 * -2 when longer than max. */
int read_all(FILE *f, size_t max, char **out, size_t *len);

/* ---- util.c: progress on a terminal ---- */
struct progress {
	int on;            /* stderr is a terminal */
	double last;       /* when last drawn, seconds */
	uint64_t total;    /* bytes expected, 0 when unknown */
	const char *what;  /* "train", ... */
	int drawn;
};
void progress_start(struct progress *p, const char *what, uint64_t total);
/* progress_update - redraw at most about ten times a second. */
void progress_update(struct progress *p, uint64_t lines, uint64_t bytes);
/* progress_end - wipe the bar. */
void progress_end(struct progress *p);
/* now_seconds - a monotonic clock. */
double now_seconds(void);

/* ---- util.c: signals ---- */
extern volatile sig_atomic_t cli_interrupted;
/* signals_catch - SIGINT and SIGTERM set cli_interrupted (once; a second
 * signal acts as usual). Reads are not restarted, so a blocked read ends. */
void signals_catch(void);

/* ---- util.c: JSON output (src/common/json.c's writer, onto a stream) ---- */
void print_json_string(FILE *f, const char *s, size_t len);
/* print_json_double - the shortest text that reads back as v; null when not finite. */
void print_json_double(FILE *f, double v);

/* ---- input.c: training records ---- */
enum rec_format { REC_PLAIN, REC_TSV, REC_JSONL, REC_WP_JSON, REC_WP_MARIADB };

#define REC_STATUS_KINDS 8 /* statuses named in a summary; the rest are "other" */

struct wp_input; /* wordpress.c */

struct rec_reader {
	enum rec_format fmt;
	int label;                /* REC_PLAIN: the label of every line */
	char **paths;             /* inputs; NULL or empty: stdin */
	int npaths;
	int cur;                  /* index of the open input */
	struct line_reader lr;
	int open;
	uint64_t done_bytes;      /* bytes of inputs already finished */
	uint64_t total_bytes;     /* sum of their sizes, 0 when one is unknown */
	thresh_comment *c;        /* the record's comment */
	const struct cli *cli;
	char why[512];            /* a bad line's reason */
	const char *where;        /* the input of the last record, for messages */
	size_t where_line;        /* and its line */
	/* WordPress's comment rows (wordpress.c) */
	struct wp_input *wp;
	uint64_t wp_skipped;      /* rows neither approved nor spam: not learned */
	struct {
		char name[24];        /* "hold", "trash", ...; "other" last */
		uint64_t n;
	} wp_status[REC_STATUS_KINDS];
	int wp_nstatus;
	uint64_t wp_rendered;     /* --wp-json rows learned from content.rendered */
};

#define REC_OK 1
#define REC_EOF 0
#define REC_BAD (-1)   /* a bad line: why, where and where_line tell */
#define REC_IOERR (-2) /* a read error (reported) */
#define REC_INTR (-3)  /* interrupted */

/* rec_open - open every input up front (so a missing file stops the command
 * before anything is learned). Returns 0 or CLI_FAIL (reported). */
int rec_open(struct rec_reader *r, const struct cli *cli, enum rec_format fmt, int label,
             char **paths, int npaths);
/* rec_line - the next line of r's files, in order, opening each in turn
 * (*opened set to 1 when a file was opened on the way, if opened is given).
 * Returns REC_OK with *line and *len set (the line holds no newline),
 * REC_EOF after the last file, REC_IOERR (reported) or REC_INTR. */
int rec_line(struct rec_reader *r, char **line, size_t *len, int *opened);

/* rec_next - the next record: its comment in r->c, its label in *label. */
int rec_next(struct rec_reader *r, int *label);
/* rec_bytes - bytes read so far over all inputs. */
uint64_t rec_bytes(const struct rec_reader *r);
void rec_close(struct rec_reader *r);

/* ---- wordpress.c: WordPress's comment rows, as rec_reader formats ----
 * REC_WP_JSON: pages of GET /wp-json/wp/v2/comments?context=edit (a JSON
 * array of comment objects per file); REC_WP_MARIADB: the output of a
 * `mariadb --batch` query of wp_comments (a header line, then rows).
 * Approved comments are ham, spam is spam; any other status is skipped and
 * counted in wp_status. The fields are brought to the form threshd's
 * Akismet endpoints learn (src/common/wpform.c), so a comment learned from
 * the history and again from a moderator counts once. */
/* wp_open - after rec_open's checks: load and check every JSON page, or
 * check the header of every regular file of rows, before anything is
 * learned. Returns 0 or CLI_FAIL (reported). */
int wp_open(struct rec_reader *r);
/* wp_next - the next comment to learn, as rec_next. */
int wp_next(struct rec_reader *r, int *label);
/* wp_bytes - bytes read so far. */
uint64_t wp_bytes(const struct rec_reader *r);
void wp_close(struct rec_reader *r);
/* wp_print_skipped - "; N skipped by status: N hold, N trash" onto f. */
void wp_print_skipped(FILE *f, const struct rec_reader *r);

/* parse_label - THRESH_SPAM or THRESH_HAM for "spam" / "ham", else -1. */
int parse_label(const char *s, size_t len);

/* comment_from_json - fill c (reset first) from one JSON object.
 * want_label: 1 to require "label" (returned in *label), 0 to ignore it.
 * Returns 0, or -1 with the reason in why and the line (1-based, within
 * text) in *line. */
int comment_from_json(thresh_comment *c, const char *text, size_t len, int want_label,
                      int *label, char *why, size_t whysize, size_t *line);

#endif
