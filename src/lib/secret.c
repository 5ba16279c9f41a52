/* secret.c - the installation secret that identities are hashed with:
 * DIR/secret, 32 random bytes (64 when a rotation kept the digests' root),
 * mode 0600, never in the database and never in an export (see secret.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "thresh/error.h"
#include "errors.h"
#include "secret.h"

#define SECRET_FILE "secret"

/* secret_write - a new random secret, written beside its final name and
 * renamed into place, so a crash leaves the old one or the new one. */
/* write_secret - secret (NULL: a random one) and root (NULL: none kept)
 * into dir, as secret_write says. */
static int write_secret(const char *dir, const unsigned char *secret, const unsigned char *root,
                        site_keys *k)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	unsigned char s[2 * HASH_SECRET_BYTES];
	size_t n = root ? 2 * HASH_SECRET_BYTES : HASH_SECRET_BYTES;
	int fd, rc = 0;
	if (snprintf(path, sizeof path, "%s/" SECRET_FILE, dir) >= (int)sizeof path ||
	    snprintf(tmp, sizeof tmp, "%s/" SECRET_FILE ".tmp-%ld", dir, (long)getpid()) >= (int)sizeof tmp)
		return THRESH_EINVAL;
	if (secret)
		memcpy(s, secret, HASH_SECRET_BYTES);
	else
		hash_random(s, HASH_SECRET_BYTES);
	if (root)
		memcpy(s + HASH_SECRET_BYTES, root, HASH_SECRET_BYTES);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		hash_wipe(s, sizeof s);
		return errno_code(errno);
	}
	if (write(fd, s, n) != (ssize_t)n || fsync(fd) != 0)
		rc = errno_code(errno ? errno : EIO);
	if (close(fd) != 0 && !rc)
		rc = errno_code(errno);
	if (!rc && rename(tmp, path) != 0)
		rc = errno_code(errno);
	if (rc) {
		unlink(tmp);
	} else {
		memcpy(k->secret, s, HASH_SECRET_BYTES);
		k->own_root = root != NULL;
		if (root) /* from the copy: root may be k->root itself */
			memcpy(k->root, s + HASH_SECRET_BYTES, HASH_SECRET_BYTES);
		hash_site_keys(k);
	}
	hash_wipe(s, sizeof s);
	return rc;
}

int secret_write(const char *dir, const unsigned char *root, site_keys *k)
{
	return write_secret(dir, NULL, root, k);
}

int secret_write_as(const char *dir, const unsigned char secret[HASH_SECRET_BYTES], site_keys *k)
{
	return write_secret(dir, secret, NULL, k);
}

/* secret_read - load DIR/secret; THRESH_ENOENT when missing, THRESH_EACCES
 * when others may read it (it must stay the installation's own). */
int secret_read(const char *dir, site_keys *k, char *errbuf, size_t errsize)
{
	char path[PATH_MAX];
	unsigned char s[2 * HASH_SECRET_BYTES];
	struct stat st;
	int fd, rc = 0;
	if (snprintf(path, sizeof path, "%s/" SECRET_FILE, dir) >= (int)sizeof path)
		return THRESH_EINVAL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno_code(errno);
	if (fstat(fd, &st) != 0)
		rc = errno_code(errno);
	else if (st.st_mode & 077) {
		set_err(errbuf, errsize, "%s is readable by others (mode %03o): chmod 600 it", path,
		        (unsigned)(st.st_mode & 0777));
		rc = THRESH_EACCES;
	} else if ((st.st_size != HASH_SECRET_BYTES && st.st_size != 2 * HASH_SECRET_BYTES) ||
	           read(fd, s, (size_t)st.st_size) != (ssize_t)st.st_size) {
		set_err(errbuf, errsize, "%s is not a thresh secret (%d or %d bytes)", path,
		        HASH_SECRET_BYTES, 2 * HASH_SECRET_BYTES);
		rc = THRESH_ECORRUPT;
	} else {
		memcpy(k->secret, s, HASH_SECRET_BYTES);
		k->own_root = st.st_size == 2 * HASH_SECRET_BYTES;
		if (k->own_root)
			memcpy(k->root, s + HASH_SECRET_BYTES, HASH_SECRET_BYTES);
		hash_site_keys(k);
	}
	hash_wipe(s, sizeof s);
	close(fd);
	return rc;
}

