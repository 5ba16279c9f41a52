/* mod_thresh.c - check comment form posts with thresh before the application
 * sees them.
 *
 * In a location marked `Thresh On`, a POST whose body is a form
 * (application/x-www-form-urlencoded, as PHP recognises one: is_form) is read
 * whole in the fixups phase, up to ThreshMaxBody bytes (413 over it); one
 * with a Content-Encoding gets 415. Its comment fields (under the names PHP
 * gives them: parse_form), the client's address, User-Agent and Referer and
 * the request path go to thresh through the plugin
 * table (thresh/plugin.h), and the verdict decides: answer with the status the
 * admin chose, or pass the request on with X-Thresh-* request headers and
 * THRESH_* environment variables so the application can decide. The body is
 * then replayed, byte for byte, by an input filter that serves the saved
 * buckets, so the handler (CGI, PHP, a proxy) reads it as if nobody had.
 *
 * Each child process opens its databases in child_init, after Apache has
 * dropped privileges and after the fork (LMDB handles must not cross a fork),
 * and closes them with a cleanup of the child's pool. A database that cannot
 * be opened or checked logs an error and fails open (the request passes with
 * X-Thresh-Verdict: error) or closed (503), as ThreshFailMode says.
 *
 * The module never logs comment text, e-mail addresses or client addresses:
 * it logs through the server, not the request, so the error log carries no
 * [client ...] field either.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_buckets.h"
#include "apr_strings.h"
#include "apr_time.h"
#if APR_HAS_THREADS
#include "apr_thread_mutex.h"
#endif

#include "thresh/error.h"
#include "thresh/comment.h"
#include "thresh/check.h"
#include "thresh/plugin.h"
#include "urlform.h" /* src/common */
#include "utf8.h"    /* src/common */

module AP_MODULE_DECLARE_DATA thresh_module;

#define REPLAY_FILTER "THRESH_REPLAY"
#define DEFAULT_MAX_BODY ((apr_off_t)1 << 20)   /* 1 MiB */
#define LIMIT_MAX_BODY ((apr_off_t)64 << 20)    /* ThreshMaxBody accepts up to 64 MiB */
#define REOPEN_INTERVAL apr_time_from_sec(10)   /* retry a failed open at most this often */
#define READ_CHUNK 8192
#define MAX_EMPTY_READS 64                      /* empty brigades in a row before giving up */

/* The comment fields a form provides, in this order in dir_conf.field. */
enum { F_CONTENT, F_AUTHOR, F_EMAIL, F_URL, F_HONEYPOT, F_COUNT };
static const char *const field_thresh[F_COUNT] = {"content", "author", "email", "url", "honeypot"};
/* Default form field names: WordPress's comment form. No honeypot by default. */
static const char *const field_default[F_COUNT] = {"comment", "author", "email", "url", ""};

/* What a verdict leads to: pass the request on, or answer with a status. */
#define ACTION_UNSET (-1)
#define ACTION_PASS 0

enum { FAIL_UNSET = -1, FAIL_OPEN = 0, FAIL_CLOSED = 1 };

/* The library's table, fetched in post_config; never freed. */
static const thresh_plugin *thresh;
static ap_filter_rec_t *replay_handle;

/* One ThreshDatabase (with its ThreshConfig) as configured, and per process
 * the handle opened from it. Several sections naming one folder share the
 * first one's handle (LMDB forbids opening one environment twice in a
 * process): `shared` points to it once post_config has run. */
typedef struct dbref {
	const char *dir;        /* absolute path */
	const char *config;     /* absolute path, or NULL for DIR/thresh.conf */
	const char *where;      /* "FILE:LINE" of the directive, for messages */
	struct dbref *shared;   /* the reference that owns the handle */
	/* Per process, from child_init on (only in the owning reference). */
	thresh_db *db;
	int open_rc;            /* the last open's result when db is NULL */
	char err[256];          /* and its explanation */
	apr_time_t tried;       /* when it was last tried */
#if APR_HAS_THREADS
	apr_thread_mutex_t *lock;
#endif
} dbref;

typedef struct {
	apr_array_header_t *dbs; /* dbref *, every database named in this server's sections */
} server_conf;

typedef struct {
	int enabled;                  /* -1 unset */
	dbref *db;                    /* NULL unset */
	const char *field[F_COUNT];   /* form field names; NULL unset, "" none */
	int action[3];                /* by verdict: ACTION_PASS, an HTTP status, or unset */
	apr_off_t max_body;           /* -1 unset */
	int fail_mode;                /* FAIL_* */
} dir_conf;

/* What one request's check decided, kept so an internal redirect of the
 * request can replay the same body and see the same verdict. */
typedef struct {
	apr_bucket_brigade *body; /* what the handler has not read yet, EOS last */
	const char *verdict;      /* "accept", "hold", "reject" or "error" */
	const char *score;        /* NULL with "error" */
	const char *reasons;
	int blatant;
	long retry_after;         /* whole seconds, 0 when not rate-limited */
} req_state;

/* ---------- configuration ---------- */

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
	server_conf *sc = apr_pcalloc(p, sizeof *sc);
	(void)s;
	sc->dbs = apr_array_make(p, 2, sizeof(dbref *));
	return sc;
}

static void *create_dir_conf(apr_pool_t *p, char *path)
{
	dir_conf *dc = apr_pcalloc(p, sizeof *dc);
	(void)path;
	dc->enabled = -1;
	dc->action[THRESH_ACCEPT] = dc->action[THRESH_HOLD] = dc->action[THRESH_REJECT] = ACTION_UNSET;
	dc->max_body = -1;
	dc->fail_mode = FAIL_UNSET;
	return dc;
}

/* A section's settings override the enclosing ones they set. */
static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
	const dir_conf *base = basev, *add = addv;
	dir_conf *dc = apr_pcalloc(p, sizeof *dc);
	dc->enabled = add->enabled != -1 ? add->enabled : base->enabled;
	dc->db = add->db ? add->db : base->db;
	for (int i = 0; i < F_COUNT; i++)
		dc->field[i] = add->field[i] ? add->field[i] : base->field[i];
	for (int i = 0; i < 3; i++)
		dc->action[i] = add->action[i] != ACTION_UNSET ? add->action[i] : base->action[i];
	dc->max_body = add->max_body != -1 ? add->max_body : base->max_body;
	dc->fail_mode = add->fail_mode != FAIL_UNSET ? add->fail_mode : base->fail_mode;
	return dc;
}

/* section_db - the section's database reference, made and registered with
 * the server on first use, so ThreshDatabase and ThreshConfig may come in
 * either order. */
static dbref *section_db(cmd_parms *cmd, dir_conf *dc)
{
	if (!dc->db) {
		server_conf *sc = ap_get_module_config(cmd->server->module_config, &thresh_module);
		dc->db = apr_pcalloc(cmd->pool, sizeof *dc->db);
		dc->db->where = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
		                             cmd->directive->line_num);
		*(dbref **)apr_array_push(sc->dbs) = dc->db;
	}
	return dc->db;
}

static const char *set_database(cmd_parms *cmd, void *conf, const char *arg)
{
	const char *path = ap_server_root_relative(cmd->pool, arg);
	if (!path)
		return apr_pstrcat(cmd->pool, "ThreshDatabase: invalid path ", arg, NULL);
	section_db(cmd, conf)->dir = path;
	return NULL;
}

static const char *set_config(cmd_parms *cmd, void *conf, const char *arg)
{
	const char *path = ap_server_root_relative(cmd->pool, arg);
	if (!path)
		return apr_pstrcat(cmd->pool, "ThreshConfig: invalid path ", arg, NULL);
	section_db(cmd, conf)->config = path;
	return NULL;
}

static const char *set_enabled(cmd_parms *cmd, void *conf, int flag)
{
	(void)cmd;
	((dir_conf *)conf)->enabled = flag;
	return NULL;
}

static const char *set_field(cmd_parms *cmd, void *conf, const char *which, const char *name)
{
	dir_conf *dc = conf;
	for (int i = 0; i < F_COUNT; i++) {
		if (!strcmp(which, field_thresh[i])) {
			dc->field[i] = strcasecmp(name, "none") ? apr_pstrdup(cmd->pool, name) : "";
			return NULL;
		}
	}
	return apr_pstrcat(cmd->pool, "ThreshField: unknown comment field '", which,
	                   "' (content, author, email, url or honeypot)", NULL);
}

/* ThreshAction VERDICT pass | NNN | status NNN */
static const char *set_action(cmd_parms *cmd, void *conf, const char *verdict, const char *what,
                              const char *status)
{
	dir_conf *dc = conf;
	int v;
	if (!strcasecmp(verdict, "accept"))
		v = THRESH_ACCEPT;
	else if (!strcasecmp(verdict, "hold"))
		v = THRESH_HOLD;
	else if (!strcasecmp(verdict, "reject"))
		v = THRESH_REJECT;
	else
		return apr_pstrcat(cmd->pool, "ThreshAction: unknown verdict '", verdict,
		                   "' (accept, hold or reject)", NULL);
	if (!strcasecmp(what, "pass") && !status) {
		dc->action[v] = ACTION_PASS;
		return NULL;
	}
	if (!strcasecmp(what, "status") && status)
		what = status;
	else if (status)
		return "ThreshAction: expected VERDICT pass, VERDICT NNN or VERDICT status NNN";
	char *end;
	long n = strtol(what, &end, 10);
	if (end == what || *end || n < 400 || n > 599)
		return apr_pstrcat(cmd->pool, "ThreshAction: '", what,
		                   "' is neither pass nor an HTTP status from 400 to 599", NULL);
	dc->action[v] = (int)n;
	return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *conf, const char *arg)
{
	apr_off_t n;
	char *end;
	if (apr_strtoff(&n, arg, &end, 10) != APR_SUCCESS || end == arg || *end || n < 1 ||
	    n > LIMIT_MAX_BODY)
		return apr_psprintf(cmd->pool, "ThreshMaxBody: '%s' is not a byte count from 1 to %"
		                    APR_OFF_T_FMT, arg, LIMIT_MAX_BODY);
	((dir_conf *)conf)->max_body = n;
	return NULL;
}

static const char *set_fail_mode(cmd_parms *cmd, void *conf, const char *arg)
{
	dir_conf *dc = conf;
	(void)cmd;
	if (!strcasecmp(arg, "open"))
		dc->fail_mode = FAIL_OPEN;
	else if (!strcasecmp(arg, "closed"))
		dc->fail_mode = FAIL_CLOSED;
	else
		return "ThreshFailMode: expected open or closed";
	return NULL;
}

static const command_rec thresh_cmds[] = {
	AP_INIT_FLAG("Thresh", set_enabled, NULL, RSRC_CONF | ACCESS_CONF,
	             "On: check comment form posts to this location"),
	AP_INIT_TAKE1("ThreshDatabase", set_database, NULL, RSRC_CONF | ACCESS_CONF,
	              "the thresh database folder"),
	AP_INIT_TAKE1("ThreshConfig", set_config, NULL, RSRC_CONF | ACCESS_CONF,
	              "a thresh.conf to use instead of DIR/thresh.conf"),
	AP_INIT_TAKE2("ThreshField", set_field, NULL, RSRC_CONF | ACCESS_CONF,
	              "content|author|email|url|honeypot, then the form field that holds it (or none)"),
	AP_INIT_TAKE23("ThreshAction", set_action, NULL, RSRC_CONF | ACCESS_CONF,
	               "accept|hold|reject, then pass or an HTTP status (400-599)"),
	AP_INIT_TAKE1("ThreshMaxBody", set_max_body, NULL, RSRC_CONF | ACCESS_CONF,
	              "the largest form body checked, in bytes; larger ones get 413"),
	AP_INIT_TAKE1("ThreshFailMode", set_fail_mode, NULL, RSRC_CONF | ACCESS_CONF,
	              "open (pass with X-Thresh-Verdict: error) or closed (503) when the database fails"),
	{NULL, {NULL}, NULL, 0, RAW_ARGS, NULL}
};

/* ---------- startup and the child's databases ---------- */

/* canonical - the folder's real path when it exists, else the path given, so
 * two spellings of one folder share one handle. */
static const char *canonical(apr_pool_t *p, const char *path)
{
	char *real = realpath(path, NULL);
	if (!real)
		return path;
	const char *copy = apr_pstrdup(p, real);
	free(real);
	return copy;
}

/* post_config - fetch the library's table (refusing to start on an ABI the
 * library does not provide), and match up the databases: every reference
 * gets the one that will own the handle for its folder. Returns OK, or
 * HTTP_INTERNAL_SERVER_ERROR to stop the server with the error logged. */
static int thresh_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *base)
{
	const thresh_plugin *t = NULL;
	apr_array_header_t *all = apr_array_make(ptemp, 4, sizeof(dbref *));
	apr_array_header_t *real = apr_array_make(ptemp, 4, sizeof(const char *));
	int rc;
	(void)plog;

	if ((rc = THRESH_PLUGIN_INIT(&t)) != 0 || !t) {
		ap_log_error(APLOG_MARK, APLOG_CRIT, 0, base,
		             "mod_thresh: libthresh refused plugin ABI %u (a table of %lu bytes): %s; "
		             "rebuild mod_thresh against the libthresh that is installed",
		             THRESH_PLUGIN_ABI, (unsigned long)sizeof(thresh_plugin),
		             rc == THRESH_EABI ? "the library does not provide this ABI"
		                               : "thresh_plugin_get failed");
		return HTTP_INTERNAL_SERVER_ERROR;
	}
	thresh = t;
	/* Apache reads its configuration twice at startup; say things once. */
	int quiet = ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;

	for (server_rec *s = base; s; s = s->next) {
		server_conf *sc = ap_get_module_config(s->module_config, &thresh_module);
		for (int i = 0; i < sc->dbs->nelts; i++) {
			dbref *ref = APR_ARRAY_IDX(sc->dbs, i, dbref *);
			if (!ref->dir) {
				ap_log_error(APLOG_MARK, APLOG_CRIT, 0, base,
				             "mod_thresh: %s: ThreshConfig needs a ThreshDatabase in the same "
				             "section", ref->where);
				return HTTP_INTERNAL_SERVER_ERROR;
			}
			const char *canon = canonical(pconf, ref->dir);
			ref->shared = ref;
			for (int j = 0; j < all->nelts; j++) {
				dbref *other = APR_ARRAY_IDX(all, j, dbref *);
				if (strcmp(canon, APR_ARRAY_IDX(real, j, const char *)))
					continue;
				if ((ref->config == NULL) != (other->config == NULL) ||
				    (ref->config && strcmp(canonical(ptemp, ref->config),
				                           canonical(ptemp, other->config)))) {
					ap_log_error(APLOG_MARK, APLOG_CRIT, 0, base,
					             "mod_thresh: %s and %s open database %s with different "
					             "ThreshConfig files; one process can open a folder only once",
					             other->where, ref->where, ref->dir);
					return HTTP_INTERNAL_SERVER_ERROR;
				}
				ref->shared = other;
				break;
			}
			if (ref->shared == ref) {
				*(dbref **)apr_array_push(all) = ref;
				*(const char **)apr_array_push(real) = canon;
				if (!quiet && !ap_is_directory(ptemp, ref->dir))
					ap_log_error(APLOG_MARK, APLOG_WARNING, 0, base,
					             "mod_thresh: %s: database folder %s does not exist; create "
					             "it with `thresh --db %s init` as the server's user",
					             ref->where, ref->dir, ref->dir);
			}
		}
	}
	if (!quiet)
		ap_log_error(APLOG_MARK, APLOG_INFO, 0, base,
		             "mod_thresh: libthresh %s, plugin ABI %u, %d database(s)",
		             thresh->version(), (unsigned)thresh->abi, all->nelts);
	return OK;
}

/* try_open - open the reference's database now; the caller holds its lock.
 * Logs a failure (the folder and the library's reason, nothing else). */
static void try_open(dbref *ref, server_rec *s)
{
	ref->tried = apr_time_now();
	ref->err[0] = '\0';
	ref->open_rc = thresh->open(ref->dir, ref->config, 0, &ref->db, ref->err, sizeof ref->err);
	if (ref->open_rc != 0) {
		ref->db = NULL;
		ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
		             "mod_thresh: cannot open database %s: %s%s%s", ref->dir,
		             thresh->strerror(ref->open_rc), ref->err[0] ? ": " : "", ref->err);
	}
}

/* close_all - the child's pool cleanup: close every database it opened. */
static apr_status_t close_all(void *data)
{
	for (server_rec *s = data; s; s = s->next) {
		server_conf *sc = ap_get_module_config(s->module_config, &thresh_module);
		for (int i = 0; i < sc->dbs->nelts; i++) {
			dbref *ref = APR_ARRAY_IDX(sc->dbs, i, dbref *);
			if (ref->shared == ref && ref->db) {
				thresh->close(ref->db);
				ref->db = NULL;
			}
		}
	}
	return APR_SUCCESS;
}

/* child_init - open this process's databases, after the fork and after the
 * server dropped privileges, so the files are used as the server's user. */
static void thresh_child_init(apr_pool_t *pchild, server_rec *base)
{
	if (!thresh)
		return;
	for (server_rec *s = base; s; s = s->next) {
		server_conf *sc = ap_get_module_config(s->module_config, &thresh_module);
		for (int i = 0; i < sc->dbs->nelts; i++) {
			dbref *ref = APR_ARRAY_IDX(sc->dbs, i, dbref *);
			if (ref->shared != ref)
				continue;
			ref->db = NULL;
#if APR_HAS_THREADS
			if (apr_thread_mutex_create(&ref->lock, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS)
				ref->lock = NULL;
#endif
			try_open(ref, base);
		}
	}
	apr_pool_cleanup_register(pchild, base, close_all, apr_pool_cleanup_null);
}

/* db_get - the handle for a section's database, retrying a failed open at
 * most every REOPEN_INTERVAL. NULL when it is not open; *rc and *why then say
 * why (why points into r->pool). */
static thresh_db *db_get(request_rec *r, dbref *ref, int *rc, const char **why)
{
	thresh_db *db;
	ref = ref->shared ? ref->shared : ref;
#if APR_HAS_THREADS
	if (ref->lock)
		apr_thread_mutex_lock(ref->lock);
#endif
	if (!ref->db && apr_time_now() - ref->tried >= REOPEN_INTERVAL)
		try_open(ref, r->server);
	db = ref->db;
	*rc = ref->open_rc;
	*why = apr_pstrdup(r->pool, ref->err);
#if APR_HAS_THREADS
	if (ref->lock)
		apr_thread_mutex_unlock(ref->lock);
#endif
	return db;
}

/* ---------- the body ---------- */

/* replay_filter - serve the saved body to whoever reads the request body,
 * then step aside. Handles the modes handlers use to read a body. */
static apr_status_t replay_filter(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                  apr_read_type_e block, apr_off_t readbytes)
{
	req_state *st = f->ctx;
	apr_bucket *after, *b, *copy;
	apr_status_t rv;

	if (!st || !st->body || APR_BRIGADE_EMPTY(st->body)) {
		ap_remove_input_filter(f);
		return ap_get_brigade(f->next, bb, mode, block, readbytes);
	}
	switch (mode) {
	case AP_MODE_READBYTES:
	case AP_MODE_SPECULATIVE:
		if (readbytes <= 0)
			readbytes = READ_CHUNK;
		rv = apr_brigade_partition(st->body, readbytes, &after);
		if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
			return rv;
		if (mode == AP_MODE_READBYTES) {
			while ((b = APR_BRIGADE_FIRST(st->body)) != after) {
				APR_BUCKET_REMOVE(b);
				APR_BRIGADE_INSERT_TAIL(bb, b);
			}
		} else {
			for (b = APR_BRIGADE_FIRST(st->body); b != after; b = APR_BUCKET_NEXT(b)) {
				if ((rv = apr_bucket_copy(b, &copy)) != APR_SUCCESS)
					return rv;
				APR_BRIGADE_INSERT_TAIL(bb, copy);
			}
		}
		return APR_SUCCESS;
	case AP_MODE_GETLINE:
		return apr_brigade_split_line(bb, st->body, block, HUGE_STRING_LEN);
	case AP_MODE_EXHAUSTIVE:
		APR_BRIGADE_CONCAT(bb, st->body);
		return APR_SUCCESS;
	default:
		return ap_get_brigade(f->next, bb, mode, block, readbytes);
	}
}

/* read_body - read the whole request body, at most max bytes of it, into one
 * buffer (NUL-terminated) and into st->body for the replay. Returns OK, 413
 * over the limit, or the HTTP status for a failed read. */
static int read_body(request_rec *r, apr_off_t max, req_state *st, char **buf, apr_size_t *len)
{
	apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
	apr_bucket_brigade *tmp = apr_brigade_create(r->pool, ba);
	apr_bucket_brigade *kept = apr_brigade_create(r->pool, ba);
	apr_off_t total = 0;
	int eos = 0, empty = 0;
	apr_status_t rv;

	while (!eos) {
		rv = ap_get_brigade(r->input_filters, tmp, AP_MODE_READBYTES, APR_BLOCK_READ, READ_CHUNK);
		if (rv != APR_SUCCESS) {
			apr_brigade_destroy(tmp);
			apr_brigade_destroy(kept);
			return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
		}
		if (APR_BRIGADE_EMPTY(tmp)) {
			if (++empty > MAX_EMPTY_READS) {
				apr_brigade_destroy(kept);
				return HTTP_BAD_REQUEST;
			}
			continue;
		}
		empty = 0;
		while (!APR_BRIGADE_EMPTY(tmp)) {
			apr_bucket *b = APR_BRIGADE_FIRST(tmp);
			if (APR_BUCKET_IS_EOS(b)) {
				eos = 1;
				apr_bucket_delete(b);
				continue;
			}
			if (AP_BUCKET_IS_ERROR(b)) {
				int status = ((ap_bucket_error *)b->data)->status;
				apr_brigade_destroy(tmp);
				apr_brigade_destroy(kept);
				return status >= 400 ? status : HTTP_BAD_REQUEST;
			}
			if (APR_BUCKET_IS_METADATA(b)) {
				apr_bucket_delete(b);
				continue;
			}
			const char *data;
			apr_size_t n;
			if ((rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ)) != APR_SUCCESS) {
				apr_brigade_destroy(tmp);
				apr_brigade_destroy(kept);
				return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
			}
			total += (apr_off_t)n;
			if (total > max) {
				apr_brigade_destroy(tmp);
				apr_brigade_destroy(kept);
				return HTTP_REQUEST_ENTITY_TOO_LARGE;
			}
			if ((rv = apr_bucket_setaside(b, r->pool)) != APR_SUCCESS) {
				apr_brigade_destroy(tmp);
				apr_brigade_destroy(kept);
				return HTTP_INTERNAL_SERVER_ERROR;
			}
			APR_BUCKET_REMOVE(b);
			APR_BRIGADE_INSERT_TAIL(kept, b);
		}
	}
	apr_brigade_destroy(tmp);

	*len = (apr_size_t)total;
	*buf = apr_palloc(r->pool, *len + 1);
	if ((rv = apr_brigade_flatten(kept, *buf, len)) != APR_SUCCESS || *len != (apr_size_t)total) {
		apr_brigade_destroy(kept);
		return HTTP_INTERNAL_SERVER_ERROR;
	}
	(*buf)[*len] = '\0';
	apr_brigade_destroy(kept);

	/* The replay serves one bucket over the flat copy, then end of stream. */
	st->body = apr_brigade_create(r->pool, ba);
	if (*len)
		APR_BRIGADE_INSERT_TAIL(st->body, apr_bucket_pool_create(*buf, *len, r->pool, ba));
	APR_BRIGADE_INSERT_TAIL(st->body, apr_bucket_eos_create(ba));
	return OK;
}

/* ---------- the form ---------- */

/* url_decode - decode s[0..n) of a form ('+' is a space, %XX a byte; a
 * malformed escape stays as written) into a new NUL-terminated string.
 * *out_len gets its length (it may hold NUL bytes). Cannot fail. */
static char *url_decode(apr_pool_t *p, const char *s, apr_size_t n, apr_size_t *out_len)
{
	char *out = apr_palloc(p, n + 1);
	*out_len = (apr_size_t)urlform_decode(s, n, out, 0, NULL);
	return out;
}

/* php_name - rewrite the decoded field name name[0..n) in place into the name
 * PHP files its value under in $_POST (php_register_variable_ex, PHP 8):
 * the name ends at a NUL byte, leading spaces go, a '[' with a ']' anywhere
 * after it ends the name (the value goes into an array of that name), and a
 * space, '.' or unmatched '[' becomes '_'. Returns the new length; 0 for a
 * name PHP drops. Cannot fail.
 *   "+comment" -> "comment"   "comment\0x" -> "comment"   "comment[x]" -> "comment"
 *   "a.b c"    -> "a_b_c"     "a[b.c"      -> "a_b_c"     "[x]", "[x"  -> dropped */
static apr_size_t php_name(char *name, apr_size_t n)
{
	const char *nul = memchr(name, '\0', n);
	apr_size_t start = 0, o = 0;
	int bracket = 0; /* an unmatched '[' was seen: every later '[' is plain */
	if (nul)
		n = (apr_size_t)(nul - name);
	while (start < n && name[start] == ' ')
		start++;
	for (apr_size_t i = start; i < n; i++) {
		char c = name[i];
		if (c == '[' && !bracket) {
			if (o == 0 || memchr(name + i + 1, ']', n - i - 1))
				break;
			bracket = 1;
		}
		name[o++] = c == ' ' || c == '.' || c == '[' ? '_' : c;
	}
	return o;
}

/* utf8_clean - a copy of s[0..n) the library accepts: every byte that does not
 * start a valid UTF-8 sequence (and NUL) becomes U+FFFD, and the result is cut
 * at a character boundary to at most max bytes. Only what is scored changes;
 * the application still receives the body as sent. Cannot fail. */
static const char *utf8_clean(apr_pool_t *p, const char *s, apr_size_t n, apr_size_t max)
{
	apr_size_t cap = n * 3 < max ? n * 3 : max;
	char *out = apr_palloc(p, cap + 1);
	apr_size_t o = utf8_repair((const unsigned char *)s, n, (unsigned char *)out, cap);
	out[o] = '\0';
	return out;
}

/* parse_form - the values of the wanted form fields in body. A field counts
 * under its name as decoded and under the name PHP files it as (php_name),
 * so "+comment", "comment%00x" and "comment[]" are all the comment. vals[i]
 * stays NULL for a field that is absent or not wanted (name NULL or "").
 * Returns -1 - i when field i is given twice with different values (PHP reads
 * the last, other frameworks the first: no guess is safe), else 0. */
static int parse_form(apr_pool_t *p, const char *body, apr_size_t len,
                      const char *const names[F_COUNT], const char *vals[F_COUNT],
                      apr_size_t vlens[F_COUNT])
{
	const char *end = body + len;
	const char *php[F_COUNT];
	apr_size_t php_len[F_COUNT];
	char *key = apr_palloc(p, len + 1), *as_php = apr_palloc(p, len + 1);

	for (int i = 0; i < F_COUNT; i++) {
		if (!names[i] || !names[i][0])
			continue;
		char *n = apr_pstrdup(p, names[i]);
		php_len[i] = php_name(n, strlen(n));
		php[i] = n;
	}
	for (const char *pair = body; pair < end;) {
		const char *amp = memchr(pair, '&', (size_t)(end - pair));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(pair, '=', (size_t)(stop - pair));
		const char *kend = eq ? eq : stop;
		if (kend > pair) {
			apr_size_t klen = (apr_size_t)urlform_decode(pair, (size_t)(kend - pair), key, 0,
			                                             NULL);
			memcpy(as_php, key, klen);
			apr_size_t plen = php_name(as_php, klen);
			for (int i = 0; i < F_COUNT; i++) {
				if (!names[i] || !names[i][0])
					continue;
				if (!(strlen(names[i]) == klen && !memcmp(key, names[i], klen)) &&
				    !(plen && plen == php_len[i] && !memcmp(as_php, php[i], plen)))
					continue;
				const char *v = eq ? eq + 1 : stop;
				apr_size_t vlen;
				const char *val = url_decode(p, v, (apr_size_t)(stop - v), &vlen);
				if (vals[i] && (vlen != vlens[i] || memcmp(val, vals[i], vlen)))
					return -1 - i;
				vals[i] = val;
				vlens[i] = vlen;
			}
		}
		if (!amp)
			break;
		pair = amp + 1;
	}
	return 0;
}

/* form_type - apr_table_do callback over the Content-Type headers: sets
 * *(int *)rec when one of the comma-separated types in value is a URL-encoded
 * form, that is application/x-www-form-urlencoded in any case, followed by
 * nothing, ';', ',', a space or a tab. PHP cuts the type at the first ';',
 * ',' or space and ignores case; Apache joins a repeated header with ", ".
 * Any of them counts, so whatever an application makes of the header, a form
 * it reads was checked. */
static int form_type(void *rec, const char *key, const char *value)
{
	static const char type[] = "application/x-www-form-urlencoded";
	(void)key;
	for (const char *t = value; t;) {
		while (*t == ' ' || *t == '\t')
			t++;
		if (!strncasecmp(t, type, sizeof type - 1)) {
			char c = t[sizeof type - 1];
			if (c == '\0' || c == ';' || c == ',' || c == ' ' || c == '\t') {
				*(int *)rec = 1;
				return 0;
			}
		}
		t = strchr(t, ',');
		if (t)
			t++;
	}
	return 1;
}

/* is_form - 1 when the request's body is a URL-encoded form to any reader of
 * its Content-Type (form_type). */
static int is_form(request_rec *r)
{
	int yes = 0;
	apr_table_do(form_type, &yes, r->headers_in, "Content-Type", NULL);
	return yes;
}

/* encoded - apr_table_do callback over the Content-Encoding headers: sets
 * *(int *)rec when a coding other than identity is named. */
static int encoded(void *rec, const char *key, const char *value)
{
	(void)key;
	for (const char *t = value; *t;) {
		t += strspn(t, " \t,");
		apr_size_t n = strcspn(t, " \t,");
		if (n && !(n == 8 && !strncasecmp(t, "identity", 8))) {
			*(int *)rec = 1;
			return 0;
		}
		t += n;
	}
	return 1;
}

/* is_encoded - 1 when the request's body carries a content coding. PHP and
 * most applications ignore Content-Encoding and read the bytes as they come,
 * so such a body cannot be checked as the application will read it. */
static int is_encoded(request_rec *r)
{
	int yes = 0;
	apr_table_do(encoded, &yes, r->headers_in, "Content-Encoding", NULL);
	return yes;
}

/* ---------- the verdict ---------- */

static int strip_one(void *rec, const char *key, const char *value)
{
	(void)value;
	if (!strncasecmp(key, "X-Thresh-", 9))
		*(const char **)apr_array_push(rec) = key;
	return 1;
}

/* strip_spoofed - drop X-Thresh-* headers the client sent, so the
 * application can trust the ones it sees. */
static void strip_spoofed(request_rec *r)
{
	apr_array_header_t *keys = apr_array_make(r->pool, 2, sizeof(const char *));
	apr_table_do(strip_one, keys, r->headers_in, NULL);
	for (int i = 0; i < keys->nelts; i++)
		apr_table_unset(r->headers_in, APR_ARRAY_IDX(keys, i, const char *));
}

/* publish - tell the application (request headers, environment) and the
 * logs (environment, for %{THRESH_VERDICT}e) what the check said. */
static void publish(request_rec *r, const req_state *st)
{
	apr_table_set(r->headers_in, "X-Thresh-Verdict", st->verdict);
	apr_table_set(r->subprocess_env, "THRESH_VERDICT", st->verdict);
	if (!st->score)
		return;
	apr_table_set(r->headers_in, "X-Thresh-Score", st->score);
	apr_table_set(r->subprocess_env, "THRESH_SCORE", st->score);
	apr_table_set(r->headers_in, "X-Thresh-Reasons", st->reasons);
	apr_table_set(r->subprocess_env, "THRESH_REASONS", st->reasons);
	apr_table_set(r->headers_in, "X-Thresh-Blatant", st->blatant ? "1" : "0");
	apr_table_set(r->subprocess_env, "THRESH_BLATANT", st->blatant ? "1" : "0");
	if (st->retry_after > 0) {
		const char *s = apr_ltoa(r->pool, st->retry_after);
		apr_table_set(r->headers_in, "X-Thresh-Retry-After", s);
		apr_table_set(r->subprocess_env, "THRESH_RETRY_AFTER", s);
	}
}

/* replay - put the saved body back in front of the handler. */
static void replay(request_rec *r, req_state *st)
{
	if (st->body)
		ap_add_input_filter_handle(replay_handle, st, r, r->connection);
}

/* earlier_state - the state of the request this one was redirected from
 * internally, when that one already read and checked the body. */
static req_state *earlier_state(request_rec *r)
{
	for (request_rec *p = r->prev; p; p = p->prev) {
		req_state *st = ap_get_module_config(p->request_config, &thresh_module);
		if (st)
			return st;
	}
	return NULL;
}

/* failed - the database could not check this comment: log it and fail open
 * (pass on with verdict "error") or closed (503). */
static int failed(request_rec *r, const dir_conf *dc, req_state *st, const char *what)
{
	int closed = dc->fail_mode == FAIL_CLOSED;
	ap_log_error(APLOG_MARK, APLOG_ERR, 0, r->server,
	             "mod_thresh: %s %s: %s; failing %s", r->method, r->uri, what,
	             closed ? "closed (503)" : "open");
	st->verdict = "error";
	publish(r, st);
	if (closed) {
		st->body = NULL; /* nobody gets this body, not even an ErrorDocument */
		return HTTP_SERVICE_UNAVAILABLE;
	}
	replay(r, st);
	return DECLINED;
}

/* retry_seconds - a retry-after in whole seconds, rounded up, at least 1
 * when there is one at all, at most a day. Cannot fail. */
static long retry_seconds(double secs)
{
	if (!(secs > 0))
		return 0;
	if (secs >= 86400)
		return 86400;
	long whole = (long)secs;
	return (double)whole < secs ? whole + 1 : whole;
}

/* thresh_fixups - check a comment form post before the handler runs. */
static int thresh_fixups(request_rec *r)
{
	dir_conf *dc;
	req_state *st;
	const char *names[F_COUNT], *vals[F_COUNT] = {NULL};
	apr_size_t vlens[F_COUNT] = {0};
	const char *fields[F_COUNT + 4], *values[F_COUNT + 4];
	size_t n = 0;
	char *body = NULL;
	apr_size_t len = 0;
	int rc;

	if (r->main)
		return DECLINED;
	dc = ap_get_module_config(r->per_dir_config, &thresh_module);
	if (r->prev && (st = earlier_state(r)) != NULL) {
		/* An internal redirect of a request whose body was read and checked
		 * already: whatever the new location, replay the rest of the body
		 * and tell the application the same verdict. */
		ap_set_module_config(r->request_config, &thresh_module, st);
		if (st->verdict)
			publish(r, st);
		replay(r, st);
		return DECLINED;
	}
	if (!dc || dc->enabled != 1)
		return DECLINED;
	strip_spoofed(r);
	if (r->method_number != M_POST || !is_form(r))
		return DECLINED;
	if (r->handler && !strcmp(r->handler, "redirect-handler"))
		return DECLINED; /* mod_rewrite: the redirected request is checked */
	if (is_encoded(r)) {
		/* PHP would parse the bytes as they come, unchecked: refuse. */
		ap_log_error(APLOG_MARK, APLOG_INFO, 0, r->server,
		             "mod_thresh: %s %s: a form with a Content-Encoding -> 415", r->method,
		             r->uri);
		apr_table_setn(r->err_headers_out, "Accept-Encoding", "identity");
		return HTTP_UNSUPPORTED_MEDIA_TYPE;
	}

	apr_off_t max = dc->max_body > 0 ? dc->max_body : DEFAULT_MAX_BODY;
	const char *cl = apr_table_get(r->headers_in, "Content-Length");
	apr_off_t clen;
	if (cl && ap_parse_strict_length(&clen, cl) && clen > max) {
		ap_log_error(APLOG_MARK, APLOG_INFO, 0, r->server,
		             "mod_thresh: %s %s: body of %" APR_OFF_T_FMT " bytes is over ThreshMaxBody %"
		             APR_OFF_T_FMT, r->method, r->uri, clen, max);
		return HTTP_REQUEST_ENTITY_TOO_LARGE;
	}

	st = apr_pcalloc(r->pool, sizeof *st);
	if ((rc = read_body(r, max, st, &body, &len)) != OK) {
		if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
			ap_log_error(APLOG_MARK, APLOG_INFO, 0, r->server,
			             "mod_thresh: %s %s: body is over ThreshMaxBody %" APR_OFF_T_FMT " bytes",
			             r->method, r->uri, max);
		return rc;
	}
	ap_set_module_config(r->request_config, &thresh_module, st);

	for (int i = 0; i < F_COUNT; i++)
		names[i] = dc->field[i] ? dc->field[i] : field_default[i];
	if ((rc = parse_form(r->pool, body, len, names, vals, vlens)) < 0) {
		ap_log_error(APLOG_MARK, APLOG_INFO, 0, r->server,
		             "mod_thresh: %s %s: form field %s ('%s') given twice with different "
		             "values -> 400", r->method, r->uri, field_thresh[-1 - rc], names[-1 - rc]);
		st->body = NULL;
		return HTTP_BAD_REQUEST;
	}
	for (int i = 0; i < F_COUNT; i++) {
		if (vals[i] && vlens[i]) {
			fields[n] = field_thresh[i];
			values[n++] = utf8_clean(r->pool, vals[i], vlens[i],
			                         i == F_CONTENT ? THRESH_CONTENT_MAX : THRESH_FIELD_MAX);
		}
	}
	const char *meta[4][2] = {
		{"ip", r->useragent_ip},
		{"user_agent", apr_table_get(r->headers_in, "User-Agent")},
		{"referrer", apr_table_get(r->headers_in, "Referer")},
		{"permalink", r->uri},
	};
	for (int i = 0; i < 4; i++) {
		if (meta[i][1] && meta[i][1][0]) {
			fields[n] = meta[i][0];
			values[n++] = utf8_clean(r->pool, meta[i][1], strlen(meta[i][1]), THRESH_FIELD_MAX);
		}
	}

	if (!dc->db)
		return failed(r, dc, st, "no ThreshDatabase for this location");
	const char *why;
	thresh_db *db = db_get(r, dc->db, &rc, &why);
	if (!db)
		return failed(r, dc, st, apr_psprintf(r->pool, "database %s is not open: %s%s%s",
		                                      dc->db->dir, thresh->strerror(rc),
		                                      why[0] ? ": " : "", why));
	thresh_plugin_result res;
	memset(&res, 0, sizeof res);
	res.size = sizeof res;
	if ((rc = thresh->check(db, fields, values, n, &res)) != 0)
		return failed(r, dc, st, apr_psprintf(r->pool, "check in %s failed: %s", dc->db->dir,
		                                      thresh->strerror(rc)));

	int v = res.verdict;
	if (v < THRESH_ACCEPT || v > THRESH_REJECT)
		v = THRESH_REJECT;
	res.reasons[sizeof res.reasons - 1] = '\0';
	st->verdict = v == THRESH_ACCEPT ? "accept" : v == THRESH_HOLD ? "hold" : "reject";
	st->score = apr_psprintf(r->pool, "%.4f", res.score);
	st->reasons = apr_pstrdup(r->pool, res.reasons);
	st->blatant = res.blatant != 0;
	st->retry_after = retry_seconds(res.retry_after);
	publish(r, st);

	int action = dc->action[v];
	if (action == ACTION_UNSET)
		action = v == THRESH_REJECT ? HTTP_FORBIDDEN : ACTION_PASS;
	ap_log_error(APLOG_MARK, APLOG_INFO, 0, r->server,
	             "mod_thresh: %s %s: %s %s [%s] -> %s", r->method, r->uri, st->verdict, st->score,
	             st->reasons, action == ACTION_PASS ? "pass" : apr_itoa(r->pool, action));
	if (action != ACTION_PASS) {
		st->body = NULL; /* nobody gets this body, not even an ErrorDocument */
		if (st->retry_after > 0)
			apr_table_set(r->err_headers_out, "Retry-After", apr_ltoa(r->pool, st->retry_after));
		return action;
	}
	replay(r, st);
	return DECLINED;
}

static void thresh_register_hooks(apr_pool_t *p)
{
	(void)p;
	replay_handle = ap_register_input_filter(REPLAY_FILTER, replay_filter, NULL, AP_FTYPE_RESOURCE);
	ap_hook_post_config(thresh_post_config, NULL, NULL, APR_HOOK_MIDDLE);
	ap_hook_child_init(thresh_child_init, NULL, NULL, APR_HOOK_MIDDLE);
	ap_hook_fixups(thresh_fixups, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(thresh) = {
	STANDARD20_MODULE_STUFF,
	create_dir_conf,
	merge_dir_conf,
	create_server_conf,
	NULL,
	thresh_cmds,
	thresh_register_hooks,
#ifdef AP_MODULE_FLAG_NONE
	AP_MODULE_FLAG_NONE,
#endif
};
