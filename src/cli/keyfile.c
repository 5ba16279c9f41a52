/* keyfile.c - threshd's key file in --sites mode, as `thresh sites` reads
 * and rewrites it:
 *
 *   # comments and blank lines are kept as they are
 *   3f9c2a7be61d4b1d9e0a7c55e2f18d03  blog.example.org
 *   9d0e4f6a1b2c7d8e                  shop-example-com
 *
 * A line is read by threshd's rules (its keys.c, keyring_load): "KEY SITE" with
 * white space around and between, a key of KEY_MIN_LEN to KEY_MAX_LEN of
 * [A-Za-z0-9_-], a site as site_name_ok (src/common/site_key.c) says, one
 * key never given for two sites. A file threshd would refuse is refused
 * here too, before anything is changed, with threshd's "FILE:LINE: ...".
 *
 * A change is made in two steps so that the caller can change other things
 * in between and undo them: kf_prepare writes the new text beside the file
 * (FILE.new-XXXXXX, flushed to disk, with the file's mode and owner) and
 * kf_install renames it into place; kf_close removes a prepared file that
 * was not installed. The folder of the file is locked (flock) from kf_open
 * to kf_close, so two `thresh sites` never lose each other's lines. Every
 * buffer that held keys is wiped before it is freed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "site_key.h"

#define KF_MAX_BYTES (64u << 20) /* a larger key file is surely not one */

/* wipe - zero n bytes at p in a way the compiler keeps. */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

/* is_space - the white space threshd trims and splits on. */
static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* parse_line - one line text[a..b) (without its newline) into l, by
 * threshd's rules. Returns 0, or -1 with why. */
static int parse_line(const char *text, size_t a, size_t b, struct kf_line *l, char *why,
                      size_t whysize)
{
	l->is_key = 0;
	while (a < b && is_space(text[a]))
		a++;
	while (b > a && (text[b - 1] == '\r' || is_space(text[b - 1])))
		b--;
	if (a == b || text[a] == '#')
		return 0;
	size_t e = a;
	while (e < b && !is_space(text[e]))
		e++;
	size_t sa = e;
	while (sa < b && is_space(text[sa]))
		sa++;
	size_t sb = sa;
	while (sb < b && !is_space(text[sb]))
		sb++;
	if (sb < b) {
		snprintf(why, whysize, "expected \"KEY SITE\" and nothing after the site");
		return -1;
	}
	if (sa == b) {
		snprintf(why, whysize, "a key without a site: with --sites each line is \"KEY SITE\"");
		return -1;
	}
	if (!site_name_ok(text + sa, sb - sa)) {
		snprintf(why, whysize, "a site name is 1 to %d lower-case letters, digits, '.', '_' or "
		         "'-', and does not start with '.'", SITE_NAME_MAX);
		return -1;
	}
	for (size_t i = a; i < e; i++)
		if (!api_key_char((unsigned char)text[i])) {
			snprintf(why, whysize, "a key may hold only letters, digits, '-' and '_'");
			return -1;
		}
	if (e - a < KEY_MIN_LEN || e - a > KEY_MAX_LEN) {
		snprintf(why, whysize, "a key must be %d to %d characters long", KEY_MIN_LEN,
		         KEY_MAX_LEN);
		return -1;
	}
	l->is_key = 1;
	l->key = a;
	l->key_len = e - a;
	l->site = sa;
	l->site_len = sb - sa;
	return 0;
}

static int same_key(const struct keyfile *kf, const struct kf_line *x, const struct kf_line *y)
{
	return x->key_len == y->key_len && !memcmp(kf->text + x->key, kf->text + y->key, x->key_len);
}

static int site_is(const struct keyfile *kf, const struct kf_line *l, const char *site)
{
	size_t n = strlen(site);
	return l->is_key && l->site_len == n && !memcmp(kf->text + l->site, site, n);
}

/* parse - every line of kf->text into kf->line. Returns 0 or -1 (reported). */
static int parse(struct keyfile *kf)
{
	char why[256];
	size_t cap = 1;
	for (size_t i = 0; i < kf->len; i++)
		cap += kf->text[i] == '\n';
	if (!(kf->line = calloc(cap, sizeof *kf->line))) {
		cli_warn("%s: out of memory", kf->path);
		return -1;
	}
	for (size_t a = 0; a < kf->len;) {
		const char *nl = memchr(kf->text + a, '\n', kf->len - a);
		size_t b = nl ? (size_t)(nl - kf->text) : kf->len;
		struct kf_line *l = &kf->line[kf->nline];
		l->off = a;
		l->len = b - a;
		if (memchr(kf->text + a, '\0', b - a)) {
			cli_warn("%s:%zu: a NUL byte", kf->path, kf->nline + 1);
			return -1;
		}
		if (parse_line(kf->text, a, b, l, why, sizeof why)) {
			cli_warn("%s:%zu: %s", kf->path, kf->nline + 1, why);
			return -1;
		}
		kf->nline++;
		a = b + (nl != NULL);
		if (!l->is_key)
			continue;
		for (size_t j = 0; j + 1 < kf->nline; j++) {
			const struct kf_line *o = &kf->line[j];
			if (!o->is_key || !same_key(kf, o, l))
				continue;
			if (o->site_len != l->site_len ||
			    memcmp(kf->text + o->site, kf->text + l->site, l->site_len)) {
				cli_warn("%s:%zu: a key given before for site %.*s", kf->path, kf->nline,
				         (int)o->site_len, kf->text + o->site);
				return -1;
			}
		}
	}
	return 0;
}

/* lock_folder - open and flock the folder of kf->path. Returns 0 or -1
 * (reported). */
static int lock_folder(struct keyfile *kf)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(kf->path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == kf->path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - kf->path), kf->path);
	if ((kf->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cli_warn("%s: the folder %s: %s", kf->path, dir, strerror(errno));
		return -1;
	}
	while (flock(kf->dir_fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			cli_warn("%s: locking its folder: %s", kf->path, strerror(errno));
			return -1;
		}
	return 0;
}

/* read_text - the whole file into kf->text (one allocation, so no copy of
 * the keys is left behind in freed memory). Returns 0 or -1 (reported). */
static int read_text(struct keyfile *kf)
{
	int fd = open(kf->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT && kf->create_ok) {
			kf->exists = 0;
			return (kf->text = calloc(1, 1)) ? 0 : (cli_warn("out of memory"), -1);
		}
		cli_warn("%s: %s", kf->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &kf->st) != 0) {
		cli_warn("%s: %s", kf->path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(kf->st.st_mode)) {
		cli_warn("%s: not a regular file", kf->path);
		close(fd);
		return -1;
	}
	if ((uint64_t)kf->st.st_size > KF_MAX_BYTES) {
		cli_warn("%s: larger than %u MiB: not a key file", kf->path, KF_MAX_BYTES >> 20);
		close(fd);
		return -1;
	}
	size_t cap = (size_t)kf->st.st_size + 1;
	if (!(kf->text = malloc(cap + 1))) {
		cli_warn("out of memory");
		close(fd);
		return -1;
	}
	kf->cap = cap + 1;
	for (;;) {
		ssize_t got = read(fd, kf->text + kf->len, cap - kf->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cli_warn("%s: %s", kf->path, strerror(errno));
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		kf->len += (size_t)got;
		if (kf->len == cap) {
			cli_warn("%s: it grew while it was read (not locked by its writer?)", kf->path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	kf->text[kf->len] = '\0';
	kf->exists = 1;
	return 0;
}

int kf_open(struct keyfile *kf, const char *path, int create_ok)
{
	struct stat st;
	memset(kf, 0, sizeof *kf);
	kf->dir_fd = -1;
	kf->create_ok = create_ok;
	/* A symbolic link is followed once, here: the new file replaces its
	 * target, and the link stays a link. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!(kf->path = realpath(path, NULL))) {
			cli_warn("%s: a symbolic link: %s", path, strerror(errno));
			return -1;
		}
	} else if (!(kf->path = strdup(path))) {
		cli_warn("out of memory");
		return -1;
	}
	if (lock_folder(kf) || read_text(kf) || parse(kf)) {
		kf_close(kf);
		return -1;
	}
	return 0;
}

size_t kf_count(const struct keyfile *kf, const char *site)
{
	size_t n = 0;
	for (size_t i = 0; i < kf->nline; i++) {
		const struct kf_line *l = &kf->line[i];
		if (!site_is(kf, l, site))
			continue;
		size_t j = 0;
		while (j < i && !(kf->line[j].is_key && same_key(kf, &kf->line[j], l)))
			j++;
		n += j == i; /* the same line twice is one key */
	}
	return n;
}

int kf_has_key(const struct keyfile *kf, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < kf->nline; i++) {
		const struct kf_line *l = &kf->line[i];
		if (l->is_key && l->key_len == n && !memcmp(kf->text + l->key, key, n))
			return 1;
	}
	return 0;
}

/* edit - the new text into out (size: enough for it), lines of site dropped
 * (to NULL) or given to site `to`, then the line "add_key add_site".
 * Returns its length. */
static size_t edit(const struct keyfile *kf, const char *site, const char *to,
                   const char *add_key, const char *add_site, char *out)
{
	size_t o = 0, tn = to ? strlen(to) : 0;
	for (size_t i = 0; i < kf->nline; i++) {
		const struct kf_line *l = &kf->line[i];
		const char *p = kf->text + l->off;
		int nl = l->off + l->len < kf->len; /* it had a newline */
		if (site && site_is(kf, l, site)) {
			if (!to)
				continue;
			size_t before = l->site - l->off, after = l->off + l->len - (l->site + l->site_len);
			memcpy(out + o, p, before);
			o += before;
			memcpy(out + o, to, tn);
			o += tn;
			memcpy(out + o, p + before + l->site_len, after);
			o += after;
		} else {
			memcpy(out + o, p, l->len);
			o += l->len;
		}
		if (nl || (add_key && l->len))
			out[o++] = '\n';
	}
	if (add_key)
		o += (size_t)sprintf(out + o, "%s %s\n", add_key, add_site);
	return o;
}

int kf_prepare(struct keyfile *kf, const char *site, const char *to, const char *add_key,
               const char *add_site, uid_t new_uid, gid_t new_gid)
{
	size_t size = kf->len + 4 + kf->nline * (SITE_NAME_MAX + 1) +
	              (add_key ? strlen(add_key) + strlen(add_site) + 2 : 0);
	char *out = malloc(size);
	struct stat st;
	int fd = -1;
	if (!out) {
		cli_warn("out of memory");
		return -1;
	}
	size_t n = edit(kf, site, to, add_key, add_site, out);
	size_t tlen = strlen(kf->path) + sizeof ".new-XXXXXX";
	if (!(kf->tmp = malloc(tlen))) {
		cli_warn("out of memory");
		goto fail;
	}
	snprintf(kf->tmp, tlen, "%s.new-XXXXXX", kf->path);
	if ((fd = mkstemp(kf->tmp)) < 0) {
		cli_warn("%s: %s", kf->tmp, strerror(errno));
		free(kf->tmp);
		kf->tmp = NULL;
		goto fail;
	}
	/* The file's own mode and owner, so threshd can read it as before; a
	 * new one is 0600, given to new_uid:new_gid when those are not -1. */
	mode_t mode = kf->exists ? kf->st.st_mode & 07777 : 0600;
	uid_t uid = kf->exists ? kf->st.st_uid : new_uid;
	gid_t gid = kf->exists ? kf->st.st_gid : new_gid;
	if (fstat(fd, &st) != 0) {
		cli_warn("%s: %s", kf->tmp, strerror(errno));
		goto fail;
	}
	if ((uid != (uid_t)-1 && uid != st.st_uid) || (gid != (gid_t)-1 && gid != st.st_gid)) {
		if (fchown(fd, uid, gid) != 0) {
			cli_warn("%s: cannot give the new file the owner %ld:%ld the old one has: %s "
			         "(run this as that user, or as root)", kf->path, (long)uid, (long)gid,
			         strerror(errno));
			goto fail;
		}
	}
	if (fchmod(fd, mode) != 0) {
		cli_warn("%s: %s", kf->tmp, strerror(errno));
		goto fail;
	}
	for (size_t w = 0; w < n;) {
		ssize_t k = write(fd, out + w, n - w);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			cli_warn("%s: %s", kf->tmp, strerror(errno));
			goto fail;
		}
		w += (size_t)k;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		cli_warn("%s: %s", kf->tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	kf->new_keys = 0;
	for (size_t a = 0; a < n;) {
		const char *nl = memchr(out + a, '\n', n - a);
		size_t b = nl ? (size_t)(nl - out) : n;
		struct kf_line l;
		char why[256];
		if (parse_line(out, a, b, &l, why, sizeof why) == 0)
			kf->new_keys += l.is_key;
		a = b + 1;
	}
	wipe(out, size);
	free(out);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (kf->tmp) {
		unlink(kf->tmp);
		free(kf->tmp);
		kf->tmp = NULL;
	}
	wipe(out, size);
	free(out);
	return -1;
}

int kf_install(struct keyfile *kf)
{
	if (rename(kf->tmp, kf->path) != 0) {
		cli_warn("%s: %s", kf->path, strerror(errno));
		return -1;
	}
	free(kf->tmp);
	kf->tmp = NULL;
	/* The rename itself, on disk. */
	if (fsync(kf->dir_fd) != 0 && errno != EINVAL)
		cli_warn("%s: flushing its folder: %s", kf->path, strerror(errno));
	return 0;
}

void kf_close(struct keyfile *kf)
{
	if (kf->tmp) {
		unlink(kf->tmp);
		free(kf->tmp);
	}
	if (kf->dir_fd >= 0)
		close(kf->dir_fd); /* and the lock with it */
	if (kf->text) {
		wipe(kf->text, kf->cap ? kf->cap : 1);
		free(kf->text);
	}
	free(kf->line);
	free(kf->path);
	memset(kf, 0, sizeof *kf);
	kf->dir_fd = -1;
}
