/* sites.c - `thresh sites`: the sites of one threshd --sites folder.
 *
 *   thresh sites [--sites DIR] [--keys FILE] list [--json]
 *   thresh sites [--sites DIR] [--keys FILE] add NAME
 *   thresh sites [--sites DIR] [--keys FILE] remove NAME --yes
 *   thresh sites [--sites DIR] [--keys FILE] rename OLD NEW
 *
 * DIR/SITE is an ordinary database folder; DIR/.prior and every other dot
 * name is threshd's own, never a site (site_name_ok, src/common/site_key.c,
 * as threshd checks it). The key file is threshd's --keys FILE, lines
 * "KEY SITE" (keyfile.c). A change to the folders and to the key file is
 * made whole or not at all: the key file is written beside itself first,
 * the folder changed, then the file renamed into place, and the folder
 * change undone when that fails.
 *
 * It exits 3 on a usage error or a failure, as every command but check's
 * verdicts does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "model_path.h"
#include "site_key.h"
#include "text.h"

#define SITES_FAIL 3  /* thresh(1): a database error, a file that cannot be written */
#define SITES_USAGE 3 /* ... and a usage error, alike */

#define KEY_BYTES 16 /* a new key: 128 random bits, 32 hex digits */
/* WordPress's Akismet plugin keeps only 0-9a-f of a key typed on its
 * settings page and refuses one that is not 12 of them long */
#define AKISMET_KEY_BYTES 6

enum { O_SITES, O_KEYS, O_JSON, O_YES, O_AKISMET };

struct sites_cmd {
	const char *cmd;    /* "sites", for messages */
	char dir[PATH_MAX]; /* --sites or $THRESH_SITES, without trailing '/' */
	const char *keys;   /* --keys FILE, or NULL */
	int json, yes;
	int akismet;        /* add --akismet-key: 12 hex digits, as Akismet's form takes */
	const char *arg[2]; /* the action's arguments */
};

/* A site's figures, as list shows them. */
struct figures {
	char name[SITE_NAME_MAX + 1];
	thresh_stats st;
	uint64_t bytes;
	size_t keys;
};

/* ---------- files ---------- */

/* site_path - DIR/name into buf. Returns 0, or -1 (reported) when too long. */
static int site_path(const struct sites_cmd *s, const char *name, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", s->dir, name) >= size) {
		cli_warn("%s/%s: the name is too long", s->dir, name);
		return -1;
	}
	return 0;
}

/* walk_tree - visit name under the folder dfd and all it holds, depth
 * first, following no symbolic link: fn(dfd, name, st, 1, ctx) before a
 * folder's contents (and for anything else), fn(dfd, name, st, 0, ctx)
 * after them. Stops at the first error. Returns 0 or an errno. */
typedef int (*tree_fn)(int dfd, const char *name, const struct stat *st, int before, void *ctx);

static int walk_tree(int dfd, const char *name, tree_fn fn, void *ctx)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno;
	int rc = fn(dfd, name, &st, 1, ctx);
	if (rc || !S_ISDIR(st.st_mode))
		return rc;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return e;
	}
	struct dirent *e;
	while (!rc && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = walk_tree(dirfd(d), e->d_name, fn, ctx);
	closedir(d);
	return rc ? rc : fn(dfd, name, &st, 0, ctx);
}

static int add_bytes(int dfd, const char *name, const struct stat *st, int before, void *ctx)
{
	(void)dfd, (void)name;
	if (before && S_ISREG(st->st_mode))
		*(uint64_t *)ctx += (uint64_t)st->st_size;
	return 0;
}

/* tree_bytes - the bytes of the regular files under name (dfd), links not
 * followed, added to *sum. Returns 0 or an errno. */
static int tree_bytes(int dfd, const char *name, uint64_t *sum)
{
	return walk_tree(dfd, name, add_bytes, sum);
}

static int remove_one(int dfd, const char *name, const struct stat *st, int before, void *ctx)
{
	(void)ctx;
	int folder = S_ISDIR(st->st_mode) != 0;
	if (folder == before) /* a folder once emptied; the rest at once */
		return 0;
	return unlinkat(dfd, name, before ? 0 : AT_REMOVEDIR) == 0 ? 0 : errno;
}

/* remove_tree - remove name under the folder dfd and all it holds, following
 * no symbolic link (a link is removed, never what it points to). Returns 0
 * or an errno. */
static int remove_tree(int dfd, const char *name)
{
	return walk_tree(dfd, name, remove_one, NULL);
}

struct owner {
	uid_t uid;
	gid_t gid;
};

static int chown_one(int dfd, const char *name, const struct stat *st, int before, void *ctx)
{
	const struct owner *o = ctx;
	(void)st;
	if (!before)
		return 0;
	return fchownat(dfd, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

/* chown_tree - give name under dfd and all it holds to uid:gid, following
 * no symbolic link. Returns 0 or an errno. */
static int chown_tree(int dfd, const char *name, uid_t uid, gid_t gid)
{
	struct owner o = {uid, gid};
	return walk_tree(dfd, name, chown_one, &o);
}

/* sync_dir - flush DIR's entries (a rename in it) to disk; a failure only
 * costs durability, so it is a note. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
		cli_warn("note: %s: flushing the folder: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* ---------- sites ---------- */

/* name_ok - 0 when name is a site's name, else a usage error. */
static int name_ok(const struct sites_cmd *s, const char *name)
{
	char shown[96];
	if (site_name_ok(name, strlen(name)))
		return 0;
	usage_error(s->cmd, "'%s' is not a site name: 1 to %d lower-case letters, digits, '.', "
	            "'_' or '-', not starting with '.'",
	            printable(name, strlen(name), shown, sizeof shown, 0), SITE_NAME_MAX);
	return SITES_USAGE;
}

/* open_site - the database at path, read-only, without thresh.conf.
 * Returns 0 or a THRESH_E* code, with the library's reason in err. */
static int open_site(const char *path, thresh_db **db, char *err, size_t errsize)
{
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY | THRESH_DB_NOCONFIG;
	o.errbuf = err;
	o.errbuf_size = errsize;
	return thresh_db_open(path, &o, db);
}

/* not_a_database - the codes with which a folder is no database at all:
 * empty (THRESH_ENOENT), or holding something else (THRESH_ECORRUPT). */
static int not_a_database(int rc)
{
	return rc == THRESH_ENOENT || rc == THRESH_ECORRUPT;
}

/* figures_get - f's counts and bytes from the database at path. Returns 0
 * or a THRESH_E* code with the library's reason in err. */
static int figures_get(const char *path, struct figures *f, char *err, size_t errsize)
{
	thresh_db *db;
	int rc = open_site(path, &db, err, errsize);
	if (rc)
		return rc;
	memset(&f->st, 0, sizeof f->st);
	f->st.size = sizeof f->st;
	rc = thresh_db_stats(db, &f->st);
	thresh_db_close(db);
	if (rc) {
		snprintf(err, errsize, "%s: %s", path, thresh_strerror(rc));
		return rc;
	}
	f->bytes = 0;
	if ((rc = tree_bytes(AT_FDCWD, path, &f->bytes))) {
		snprintf(err, errsize, "%s: %s", path, strerror(rc));
		return THRESH_EIO;
	}
	return 0;
}

/* conf_note - a note when DIR/thresh.conf's [sites] section names site
 * (as a key's site or as the site a blog goes to): it is left as it is. */
static void conf_note(const struct sites_cmd *s, const char *site, const char *what)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, lineno = 0, n = strlen(site), found = 0, first = 0;
	int in = 0;
	if ((size_t)snprintf(path, sizeof path, "%s/thresh.conf", s->dir) >= sizeof path)
		return;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (getline(&line, &cap, f) >= 0) {
		char *p = line;
		lineno++;
		p += strspn(p, " \t");
		if (*p == '[') {
			in = !strncmp(p, "[sites]", 7);
			continue;
		}
		if (!in || *p == '#')
			continue;
		/* "SITE BLOG = TO": the first word, and the word after '=' */
		char *eq = strchr(p, '=');
		size_t w = strcspn(p, " \t=\r\n");
		char *to = eq ? eq + 1 + strspn(eq + 1, " \t") : NULL;
		size_t tw = to ? strcspn(to, " \t\r\n") : 0;
		if ((w == n && !strncmp(p, site, n)) || (to && tw == n && !strncmp(to, site, n))) {
			if (!found++)
				first = lineno;
		}
	}
	free(line);
	fclose(f);
	if (found)
		cli_warn("note: %s:%zu: [sites] names %s (%zu line%s), which %s; edit it and send "
		         "threshd SIGHUP", path, first, site, found, found == 1 ? "" : "s", what);
}

/* sites_dir_ok - DIR exists and is a folder. Returns 0 or SITES_FAIL (reported). */
static int sites_dir_ok(const struct sites_cmd *s, struct stat *st)
{
	if (stat(s->dir, st) != 0) {
		cli_warn("%s: %s", s->dir, strerror(errno));
		return SITES_FAIL;
	}
	if (!S_ISDIR(st->st_mode)) {
		cli_warn("%s: not a folder", s->dir);
		return SITES_FAIL;
	}
	return 0;
}

/* site_folder - lstat DIR/name: 1 when it is a folder, 0 when missing, or
 * -1 (reported) when it is something else, a symbolic link among them. */
static int site_folder(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		cli_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		cli_warn("%s: a symbolic link, not a site's folder: left alone", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_warn("%s: not a folder, so not a site: left alone", path);
		return -1;
	}
	return 1;
}

/* ---------- list ---------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct figures *)a)->name, ((const struct figures *)b)->name);
}

/* print_table - the rows under a header, each column as wide as it needs. */
static void print_table(const struct figures *f, size_t n, int keys)
{
	static const char *const head[] = {"SITE", "SPAM", "HAM", "TOKENS", "LEARNED", "BYTES", "KEYS"};
	int ncol = keys ? 7 : 6;
	int width[7];
	char num[24];
	for (int c = 0; c < ncol; c++)
		width[c] = (int)strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		uint64_t v[7] = {0, f[i].st.spam_messages, f[i].st.ham_messages, f[i].st.tokens,
		                 f[i].st.learned, f[i].bytes, f[i].keys};
		if ((int)strlen(f[i].name) > width[0])
			width[0] = (int)strlen(f[i].name);
		for (int c = 1; c < ncol; c++) {
			int w = snprintf(num, sizeof num, "%" PRIu64, v[c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	printf("%-*s", width[0], head[0]);
	for (int c = 1; c < ncol; c++)
		printf("  %*s", width[c], head[c]);
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		uint64_t v[7] = {0, f[i].st.spam_messages, f[i].st.ham_messages, f[i].st.tokens,
		                 f[i].st.learned, f[i].bytes, f[i].keys};
		printf("%-*s", width[0], f[i].name);
		for (int c = 1; c < ncol; c++)
			printf("  %*" PRIu64, width[c], v[c]);
		putchar('\n');
	}
}

static void print_json(const struct figures *f, size_t n, int keys)
{
	fputc('[', stdout);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n " : "\n ", stdout);
		fputs("{\"site\":", stdout);
		print_json_string(stdout, f[i].name, strlen(f[i].name));
		printf(",\"spam_messages\":%" PRIu64 ",\"ham_messages\":%" PRIu64 ",\"tokens\":%" PRIu64
		       ",\"learned\":%" PRIu64 ",\"bytes\":%" PRIu64,
		       f[i].st.spam_messages, f[i].st.ham_messages, f[i].st.tokens, f[i].st.learned,
		       f[i].bytes);
		if (keys)
			printf(",\"keys\":%zu", f[i].keys);
		fputc('}', stdout);
	}
	fputs(n ? "\n]\n" : "]\n", stdout);
}

/* keys_without_folder - a note for each site the key file names that has
 * no folder (threshd makes it on the site's first request). */
static void keys_without_folder(const struct keyfile *kf, const struct figures *f, size_t n)
{
	for (size_t i = 0; i < kf->nline; i++) {
		const struct kf_line *l = &kf->line[i];
		char name[SITE_NAME_MAX + 1];
		size_t j;
		if (!l->is_key)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)l->site_len, kf->text + l->site);
		for (j = 0; j < i; j++) /* said once per site */
			if (kf->line[j].is_key && kf->line[j].site_len == l->site_len &&
			    !memcmp(kf->text + kf->line[j].site, name, l->site_len))
				break;
		if (j < i)
			continue;
		for (j = 0; j < n && strcmp(f[j].name, name); j++)
			;
		if (j == n)
			cli_warn("note: %s: %zu key%s of site %s, which has no folder yet (threshd makes it "
			         "on its first request)", kf->path, kf_count(kf, name),
			         kf_count(kf, name) == 1 ? "" : "s", name);
	}
}

static int sites_list(struct sites_cmd *s)
{
	struct keyfile kf;
	struct figures *f = NULL;
	size_t n = 0, cap = 0;
	struct stat st;
	int status = CLI_OK;
	char path[PATH_MAX], err[1024];
	if (sites_dir_ok(s, &st))
		return SITES_FAIL;
	if (s->keys && kf_open(&kf, s->keys, 0))
		return SITES_FAIL;
	DIR *d = opendir(s->dir);
	if (!d) {
		cli_warn("%s: %s", s->dir, strerror(errno));
		if (s->keys)
			kf_close(&kf);
		return SITES_FAIL;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		char shown[96];
		if (name[0] == '.')
			continue; /* ".", "..", ".prior": threshd's own */
		if (site_path(s, name, path, sizeof path)) {
			status = SITES_FAIL;
			continue;
		}
		if (lstat(path, &st) != 0) {
			cli_warn("%s: %s", path, strerror(errno));
			status = SITES_FAIL;
			continue;
		}
		if (!strcmp(name, "thresh.conf") && S_ISREG(st.st_mode))
			continue; /* the configuration of all sites */
		if (!S_ISDIR(st.st_mode)) {
			cli_warn("note: %s: not a folder, so not a site: skipped", path);
			continue;
		}
		if (!site_name_ok(name, strlen(name))) {
			cli_warn("note: %s/%s: not a site name (threshd never opens it): skipped", s->dir,
			         printable(name, strlen(name), shown, sizeof shown, 0));
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct figures *g = realloc(f, nc * sizeof *g);
			if (!g) {
				cli_warn("out of memory");
				status = SITES_FAIL;
				break;
			}
			f = g;
			cap = nc;
		}
		memset(&f[n], 0, sizeof f[n]);
		snprintf(f[n].name, sizeof f[n].name, "%s", name);
		err[0] = '\0';
		int rc = figures_get(path, &f[n], err, sizeof err);
		if (rc && not_a_database(rc)) {
			cli_warn("note: %s: not a thresh database (%s): skipped", path, err);
			continue;
		}
		if (rc) {
			cli_warn("%s", err);
			status = SITES_FAIL;
			continue;
		}
		if (s->keys)
			f[n].keys = kf_count(&kf, name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(f, n, sizeof *f, by_name);
	if (s->keys) {
		keys_without_folder(&kf, f, n);
		kf_close(&kf);
	}
	if (s->json)
		print_json(f, n, s->keys != NULL);
	else
		print_table(f, n, s->keys != NULL);
	free(f);
	return status;
}

/* ---------- add ---------- */

/* forget - zero a key in a way the compiler keeps. */
static void forget(char *key, size_t n)
{
	volatile char *v = key;
	while (n--)
		*v++ = 0;
}

/* new_key - KEY_BYTES random bytes as hex into buf (2 * KEY_BYTES + 1),
 * or with akismet AKISMET_KEY_BYTES. Returns 0 or -1 (reported). */
static int new_key(char *buf, int akismet)
{
	unsigned char raw[KEY_BYTES];
	size_t want = akismet ? AKISMET_KEY_BYTES : KEY_BYTES;
	size_t got = 0;
	while (got < want) {
		ssize_t k = getrandom(raw + got, want - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			cli_warn("getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)k;
	}
	for (size_t i = 0; i < want; i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	forget((char *)raw, sizeof raw);
	return 0;
}

static int sites_add(struct sites_cmd *s)
{
	const char *name = s->arg[0];
	char path[PATH_MAX], err[1024] = "", model[4096], key[2 * KEY_BYTES + 1] = "";
	struct keyfile kf;
	struct stat dst;
	thresh_db_options o;
	thresh_db *db;
	int made_dir = 0, rc;
	if ((rc = name_ok(s, name)))
		return rc;
	if (site_path(s, name, path, sizeof path))
		return SITES_FAIL;
	/* threshd makes a missing DIR 0700 on its start; so does this. */
	if (stat(s->dir, &dst) != 0 && errno == ENOENT) {
		if (mkdir(s->dir, 0700) != 0) {
			cli_warn("%s: %s", s->dir, strerror(errno));
			return SITES_FAIL;
		}
		made_dir = 1;
	}
	if (sites_dir_ok(s, &dst))
		return SITES_FAIL;
	if ((rc = site_folder(path)) != 0) {
		if (rc > 0)
			cli_warn("%s: the site exists already (nothing was changed)", path);
		goto undo_dir;
	}
	/* Run as root for a DIR that threshd's user owns, the new files go to
	 * that user: threshd must be able to write them. */
	int give = geteuid() == 0 && dst.st_uid != 0;
	if (s->keys) {
		if (kf_open(&kf, s->keys, 1))
			goto undo_dir;
		do {
			if (new_key(key, s->akismet)) {
				kf_close(&kf);
				goto undo_dir;
			}
		} while (kf_has_key(&kf, key));
	}
	/* As threshd makes a site: a copy of DIR/.prior (made from the default
	 * model when missing) with a secret derived from .prior's and the
	 * name, so that the nodes of a cluster, holding copies of one .prior,
	 * make the site alike. */
	char prior_path[PATH_MAX];
	thresh_db *prior = NULL;
	int made_prior = 0;
	if (site_path(s, ".prior", prior_path, sizeof prior_path))
		goto undo_keys;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY | THRESH_DB_NOCONFIG;
	o.model = build_tree_model(model, sizeof model);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	rc = thresh_db_open(prior_path, &o, &prior);
	if (rc == THRESH_ENOENT) {
		o.flags = THRESH_DB_CREATE | THRESH_DB_NOCONFIG;
		err[0] = '\0';
		made_prior = (rc = thresh_db_open(prior_path, &o, &prior)) == 0;
	}
	if (rc) {
		cli_warn("%s: %s%s%s (nothing was changed)", prior_path, thresh_strerror(rc),
		         err[0] ? ": " : "", err);
		goto undo_keys;
	}
	if (made_prior && give && (rc = chown_tree(AT_FDCWD, prior_path, dst.st_uid, dst.st_gid)))
		cli_warn("%s: giving it to %ld:%ld, the owner of %s: %s", prior_path,
		         (long)dst.st_uid, (long)dst.st_gid, s->dir, strerror(rc));
	o.flags = THRESH_DB_NOCONFIG;
	err[0] = '\0';
	rc = thresh_db_clone(prior, path, name, &o, &db);
	thresh_db_close(prior);
	if (rc) {
		if (rc == THRESH_EEXIST)
			cli_warn("%s: the site exists already (nothing was changed)", path);
		else
			cli_warn("%s: %s%s%s (nothing was changed)", path, thresh_strerror(rc),
			         err[0] ? ": " : "", err);
		goto undo_keys;
	}
	thresh_db_close(db);
	if (give && (rc = chown_tree(AT_FDCWD, path, dst.st_uid, dst.st_gid))) {
		cli_warn("%s: giving it to %ld:%ld, the owner of %s: %s (nothing was changed)", path,
		         (long)dst.st_uid, (long)dst.st_gid, s->dir, strerror(rc));
		goto undo_site;
	}
	if (s->keys) {
		if (kf_prepare(&kf, NULL, NULL, key, name, give ? dst.st_uid : (uid_t)-1,
		               give ? dst.st_gid : (gid_t)-1) ||
		    kf_install(&kf)) {
			cli_warn("%s: not created, as the key could not be added", path);
			goto undo_site;
		}
	}
	sync_dir(s->dir);
	printf("created %s from the default model\n", path);
	if (s->keys) {
		printf("key %s: %s (added to %s; shown only now)\n", name, key, kf.path);
		printf("next: send threshd SIGHUP (systemctl reload threshd) so that it reads %s; "
		       "the site's first request with the key opens it\n", kf.path);
		if (kf.st.st_mode & (S_IWGRP | S_IWOTH))
			cli_warn("note: %s is writable by its group or every user: threshd refuses it; "
			         "chmod go-w it", kf.path);
		kf_close(&kf);
	} else {
		printf("next: give the site a key: add a line \"KEY %s\" to threshd's --keys file "
		       "and send threshd SIGHUP\n", name);
	}
	forget(key, sizeof key);
	return CLI_OK;
undo_site:
	if ((rc = remove_tree(AT_FDCWD, path)))
		cli_warn("%s: removing it again: %s; remove it by hand", path, strerror(rc));
undo_keys:
	if (s->keys)
		kf_close(&kf);
undo_dir:
	if (made_dir)
		rmdir(s->dir);
	forget(key, sizeof key);
	return SITES_FAIL;
}

/* ---------- remove ---------- */

static int sites_remove(struct sites_cmd *s)
{
	const char *name = s->arg[0];
	char path[PATH_MAX], trash[PATH_MAX], inner[PATH_MAX], err[1024] = "", what[256] = "";
	struct keyfile kf;
	struct figures f;
	struct stat st;
	size_t nkeys = 0;
	int folder, rc, status = CLI_OK;
	if ((rc = name_ok(s, name)))
		return rc;
	if (sites_dir_ok(s, &st) || site_path(s, name, path, sizeof path))
		return SITES_FAIL;
	if ((folder = site_folder(path)) < 0)
		return SITES_FAIL;
	if (folder) {
		rc = figures_get(path, &f, err, sizeof err);
		if (rc && not_a_database(rc)) {
			cli_warn("%s: not a thresh database (%s): left alone", path, err);
			return SITES_FAIL;
		}
		if (rc)
			snprintf(what, sizeof what, "its figures unknown: %s", err);
		else
			snprintf(what, sizeof what, "%" PRIu64 " spam and %" PRIu64 " ham comments learned, "
			         "%" PRIu64 " bytes", f.st.spam_messages, f.st.ham_messages, f.bytes);
	}
	if (s->keys) {
		if (kf_open(&kf, s->keys, 0))
			return SITES_FAIL;
		nkeys = kf_count(&kf, name);
	}
	if (!folder && !nkeys) {
		cli_warn("%s: no such site%s%s (nothing was changed)", path, s->keys ? ", and no key in " : "",
		         s->keys ? kf.path : "");
		if (s->keys)
			kf_close(&kf);
		return SITES_FAIL;
	}
	if (!s->yes) {
		char keys[PATH_MAX + 64] = "";
		if (s->keys)
			snprintf(keys, sizeof keys, "%s%zu key%s of %s", folder ? " and its " : "its ",
			         nkeys, nkeys == 1 ? "" : "s", kf.path);
		fflush(stdout);
		fprintf(stderr, "thresh: sites: remove %s would delete %s%s%s%s%s; give --yes to do it "
		        "(nothing was changed)\n", name, folder ? path : "", folder ? " (" : "", what,
		        folder ? ")" : "", keys);
		if (s->keys)
			kf_close(&kf);
		return SITES_USAGE;
	}
	int rewrite = s->keys && nkeys; /* a file without NAME's keys stays as it is */
	if (rewrite && kf_prepare(&kf, name, NULL, NULL, NULL, (uid_t)-1, (gid_t)-1)) {
		kf_close(&kf);
		return SITES_FAIL;
	}
	/* Out of threshd's sight at once: into a dot folder of DIR (never a
	 * site), so a failure in the middle of deleting leaves no half site. */
	if (folder) {
		if ((size_t)snprintf(trash, sizeof trash, "%s/.removed-XXXXXX", s->dir) >= sizeof trash ||
		    !mkdtemp(trash)) {
			cli_warn("%s: making a folder to remove it from: %s (nothing was changed)", s->dir,
			         strerror(errno));
			goto fail;
		}
		if ((size_t)snprintf(inner, sizeof inner, "%s/%s", trash, name) >= sizeof inner ||
		    rename(path, inner) != 0) {
			cli_warn("%s: %s (nothing was changed)", path, strerror(errno));
			rmdir(trash);
			goto fail;
		}
	}
	if (rewrite && kf_install(&kf)) {
		if (folder && rename(inner, path) != 0)
			cli_warn("%s: moving it back from %s: %s", path, inner, strerror(errno));
		else if (folder)
			rmdir(trash);
		goto fail;
	}
	if (folder) {
		sync_dir(s->dir);
		if ((rc = remove_tree(AT_FDCWD, trash))) {
			cli_warn("%s: deleting it: %s; the site is gone, but delete %s by hand", path,
			         strerror(rc), trash);
			status = SITES_FAIL;
		}
		printf("removed %s (%s)\n", path, what);
	}
	if (s->keys && !rewrite)
		printf("no key of %s in %s\n", name, kf.path);
	if (rewrite) {
		printf("removed %zu key%s of %s from %s\n", nkeys, nkeys == 1 ? "" : "s", name, kf.path);
		if (!kf.new_keys)
			cli_warn("note: %s holds no key now: threshd refuses a key file without keys (and "
			         "keeps the keys it has on SIGHUP); stop threshd instead", kf.path);
	}
	if (s->keys)
		kf_close(&kf);
	printf("next: send threshd SIGHUP (systemctl reload threshd) so that it refuses %s's keys "
	       "at once; a threshd that has the site open keeps it (and its disk space) until it "
	       "closes it among the least recently used past open_sites, or restarts\n", name);
	conf_note(s, name, "is gone");
	return status;
fail:
	if (s->keys)
		kf_close(&kf);
	return SITES_FAIL;
}

/* ---------- rename ---------- */

static int sites_rename(struct sites_cmd *s)
{
	const char *from = s->arg[0], *to = s->arg[1];
	char old[PATH_MAX], new[PATH_MAX], err[1024] = "";
	struct keyfile kf;
	struct figures f;
	struct stat st;
	size_t nkeys = 0;
	int rc;
	if ((rc = name_ok(s, from)) || (rc = name_ok(s, to)))
		return rc;
	if (!strcmp(from, to))
		return usage_error(s->cmd, "rename: the old and the new name are the same"), SITES_USAGE;
	if (sites_dir_ok(s, &st) || site_path(s, from, old, sizeof old) ||
	    site_path(s, to, new, sizeof new))
		return SITES_FAIL;
	if ((rc = site_folder(old)) <= 0) {
		if (rc == 0)
			cli_warn("%s: no such site (nothing was changed)", old);
		return SITES_FAIL;
	}
	if ((rc = figures_get(old, &f, err, sizeof err)) && not_a_database(rc)) {
		cli_warn("%s: not a thresh database (%s): left alone", old, err);
		return SITES_FAIL;
	}
	if (lstat(new, &st) == 0) {
		cli_warn("%s: exists already (nothing was changed)", new);
		return SITES_FAIL;
	}
	if (errno != ENOENT) {
		cli_warn("%s: %s (nothing was changed)", new, strerror(errno));
		return SITES_FAIL;
	}
	if (s->keys) {
		if (kf_open(&kf, s->keys, 0))
			return SITES_FAIL;
		if (kf_count(&kf, to)) {
			cli_warn("%s: has keys of %s already, whose requests would share %s's database: "
			         "remove them first (nothing was changed)", kf.path, to, from);
			kf_close(&kf);
			return SITES_FAIL;
		}
		nkeys = kf_count(&kf, from);
		if (nkeys && kf_prepare(&kf, from, to, NULL, NULL, (uid_t)-1, (gid_t)-1)) {
			kf_close(&kf);
			return SITES_FAIL;
		}
	}
	/* rename() replaces an empty folder made at new since the lstat above
	 * (losing nothing); a folder with anything in it makes it fail. */
	if (rename(old, new) != 0) {
		cli_warn("%s: renaming it to %s: %s (nothing was changed)", old, new,
		         errno == ENOTEMPTY || errno == EEXIST ? "that exists already" : strerror(errno));
		goto fail;
	}
	if (nkeys && kf_install(&kf)) {
		if (rename(new, old) != 0)
			cli_warn("%s: moving it back to %s: %s", new, old, strerror(errno));
		goto fail;
	}
	sync_dir(s->dir);
	printf("renamed %s to %s\n", old, new);
	if (nkeys)
		printf("gave %zu key%s of %s to %s in %s\n", nkeys, nkeys == 1 ? "" : "s", from, to,
		       kf.path);
	else if (s->keys)
		printf("no key of %s in %s\n", from, kf.path);
	if (s->keys)
		kf_close(&kf);
	printf("next: restart threshd (systemctl restart threshd): one that has %s open keeps "
	       "using it, and must not open the same database a second time as %s\n", from, to);
	conf_note(s, from, "is now called something else");
	return CLI_OK;
fail:
	if (s->keys)
		kf_close(&kf);
	return SITES_FAIL;
}

/* ---------- the command ---------- */

static const struct {
	const char *name;
	int nargs;
	int (*fn)(struct sites_cmd *s);
} actions[] = {
	{"list", 0, sites_list},
	{"add", 1, sites_add},
	{"remove", 1, sites_remove},
	{"rename", 2, sites_rename},
};

int cmd_sites(struct cli *cli, int argc, char **argv)
{
	static const struct opt_def defs[] = {{"sites", OPT_ARG, O_SITES},
	                                      {"keys", OPT_ARG, O_KEYS},
	                                      {"json", OPT_NOARG, O_JSON},
	                                      {"yes", OPT_NOARG, O_YES},
	                                      {"akismet-key", OPT_NOARG, O_AKISMET},
	                                      {NULL, 0, 0}};
	struct sites_cmd s;
	const char *arg, *dir = NULL, *pos[4] = {NULL, NULL, NULL, NULL};
	struct opt_iter it;
	int o, n = 0;
	memset(&s, 0, sizeof s);
	s.cmd = argv[0];
	opt_start(&it, s.cmd, argc, argv);
	while ((o = opt_next(&it, defs, &arg)) != OPT_DONE) {
		switch (o) {
		case OPT_HELP:
			help_print(stdout, s.cmd);
			return CLI_OK;
		case OPT_ERROR:
			return SITES_USAGE;
		case O_SITES:
			dir = arg;
			break;
		case O_KEYS:
			if (!*arg)
				return usage_error(s.cmd, "--keys: an empty file name"), SITES_USAGE;
			s.keys = arg;
			break;
		case O_JSON:
			s.json = 1;
			break;
		case O_YES:
			s.yes = 1;
			break;
		case O_AKISMET:
			s.akismet = 1;
			break;
		case OPT_POSITIONAL:
			if (n == 4)
				return usage_error(s.cmd, "unexpected argument '%s'", arg), SITES_USAGE;
			pos[n++] = arg;
			break;
		}
	}
	if (cli->db_opt)
		return usage_error(s.cmd, "--db names one database; give the sites' folder with "
		                   "--sites DIR"), SITES_USAGE;
	if (!n)
		return usage_error(s.cmd, "missing the action: list, add, remove or rename"),
		       SITES_USAGE;
	size_t a;
	for (a = 0; a < sizeof actions / sizeof actions[0] && strcmp(actions[a].name, pos[0]); a++)
		;
	if (a == sizeof actions / sizeof actions[0])
		return usage_error(s.cmd, "unknown action '%s' (list, add, remove or rename)", pos[0]),
		       SITES_USAGE;
	if (s.akismet && (actions[a].fn != sites_add || !s.keys))
		return usage_error(s.cmd, "--akismet-key is for add with --keys FILE"), SITES_USAGE;
	if (n - 1 != actions[a].nargs)
		return usage_error(s.cmd, "%s takes %s", pos[0],
		                   actions[a].nargs == 0   ? "no argument"
		                   : actions[a].nargs == 1 ? "one site name"
		                                           : "two site names, OLD and NEW"),
		       SITES_USAGE;
	if (s.json && strcmp(pos[0], "list"))
		return usage_error(s.cmd, "--json goes with list"), SITES_USAGE;
	if (s.yes && strcmp(pos[0], "remove"))
		return usage_error(s.cmd, "--yes goes with remove"), SITES_USAGE;
	if (!dir) {
		const char *e = getenv("THRESH_SITES");
		dir = e && *e ? e : NULL;
	}
	if (!dir)
		return usage_error(s.cmd, "no sites folder: give --sites DIR or set THRESH_SITES"),
		       SITES_USAGE;
	if (!*dir)
		return usage_error(s.cmd, "--sites: an empty folder name"), SITES_USAGE;
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len >= sizeof s.dir - SITE_NAME_MAX - 32) {
		cli_warn("%s: the folder name is too long", dir);
		return SITES_FAIL;
	}
	memcpy(s.dir, dir, len);
	s.dir[len] = '\0';
	s.arg[0] = pos[1];
	s.arg[1] = pos[2];
	return actions[a].fn(&s);
}
