/* keys.c - the API keys: a key file, and comparison in constant time.
 *
 *   # /etc/thresh/keys: one key per line
 *   3f9c2a7be61d
 *   blog-example-org-4b1d9e
 *
 *   # with --sites DIR: each key names its site (several keys may share one)
 *   3f9c2a7be61d            blog.example.org
 *   9d0e4f6a1b2c7d8e        shop-example-com
 *
 * A candidate is looked up by its SipHash under a key made at load (below),
 * and compared with the key found there by ct_equal: libsodium
 * (sodium_memcmp) is the library's business, not the daemon's, so the
 * comparison is a short loop that reads every byte of the key whatever the
 * candidate, and only its final result decides anything. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "sip.h"
#include "threshd.h"

/* Keys are found through a table by a SipHash of the candidate under a key
 * made at load, then compared in constant time: a request costs the same
 * with 5,000 keys as with one (comparing with each key cost threshd 8x its
 * checks a second at 5,000), and what a lookup's time can tell is where a
 * hash under a key nobody knows falls. */
struct key_slot {
	uint64_t h;
	size_t which; /* the key's number from 1; 0: empty */
};

struct keyring {
	size_t n;
	char **key;
	size_t *len;
	char **site; /* each key's site, or NULL (not in sites mode) */
	sip_key hk;
	size_t mask;
	struct key_slot *exact, *folded; /* by the key, by the key lower-cased */
};

size_t keyring_count(const struct keyring *k)
{
	return k ? k->n : 0;
}

void keyring_free(struct keyring *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		/* Wipe before freeing; volatile so the stores are not dropped. */
		volatile char *p = k->key[i];
		for (size_t j = 0; j < k->len[i]; j++)
			p[j] = 0;
		free(k->key[i]);
		if (k->site)
			free(k->site[i]);
	}
	free(k->key);
	free(k->len);
	free(k->site);
	free(k->exact);
	free(k->folded);
	free(k);
}

/* lower_hash - the hash of s[0..n) with ASCII letters lower-cased (n at
 * most KEY_MAX_LEN). */
static uint64_t lower_hash(sip_key hk, const char *s, size_t n)
{
	char buf[KEY_MAX_LEN];
	for (size_t i = 0; i < n; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	uint64_t h = sip_hash(hk, buf, n);
	memset(buf, 0, n);
	return h;
}

static void slot_put(struct key_slot *t, size_t mask, uint64_t h, size_t which)
{
	size_t i = (size_t)h & mask;
	while (t[i].which)
		i = (i + 1) & mask;
	t[i].h = h;
	t[i].which = which;
}

/* build_index - the tables of k's keys, at most half full. */
static int build_index(struct keyring *k)
{
	unsigned char seed[SIP_KEY_BYTES];
	size_t size = 16;
	while (size < 2 * k->n)
		size *= 2;
	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		return -1;
	k->hk = sip_key_load(seed);
	memset(seed, 0, sizeof seed);
	k->mask = size - 1;
	if (!(k->exact = calloc(size, sizeof *k->exact)) ||
	    !(k->folded = calloc(size, sizeof *k->folded)))
		return -1;
	for (size_t i = 0; i < k->n; i++) {
		slot_put(k->exact, k->mask, sip_hash(k->hk, k->key[i], k->len[i]), i + 1);
		slot_put(k->folded, k->mask, lower_hash(k->hk, k->key[i], k->len[i]), i + 1);
	}
	return 0;
}

static int add_key(struct keyring *k, const char *s, size_t n, const char *site, size_t sn)
{
	char **nk = realloc(k->key, (k->n + 1) * sizeof *nk);
	if (!nk)
		return -1;
	k->key = nk;
	size_t *nl = realloc(k->len, (k->n + 1) * sizeof *nl);
	if (!nl)
		return -1;
	k->len = nl;
	if (site) {
		char **ns = realloc(k->site, (k->n + 1) * sizeof *ns);
		if (!ns)
			return -1;
		k->site = ns;
		if (!(k->site[k->n] = strndup(site, sn)))
			return -1;
	}
	if (!(k->key[k->n] = malloc(n + 1))) {
		if (site)
			free(k->site[k->n]);
		return -1;
	}
	memcpy(k->key[k->n], s, n);
	k->key[k->n][n] = '\0';
	k->len[k->n] = n;
	k->n++;
	return 0;
}

/* key_index - the index of key s[0..n) in k, or -1 (loading: not secret yet). */
static long key_index(const struct keyring *k, const char *s, size_t n)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->len[i] == n && !memcmp(k->key[i], s, n))
			return (long)i;
	return -1;
}

int keyring_load(const char *path, int sites, struct keyring **out, char *why, size_t whysize)
{
	struct keyring *k = calloc(1, sizeof *k);
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t got;
	struct stat st;

	if (!k) {
		snprintf(why, whysize, "%s: out of memory", path);
		return -1;
	}
	if (!(f = fopen(path, "re"))) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fileno(f), &st) != 0) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysize, "%s: not a regular file", path);
		goto fail;
	}
	/* Whoever may write the file may add a key of their own. */
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whysize, "%s: writable by %s (mode %04o): anyone who can write it can "
		         "add a key; chmod go-w it", path,
		         (st.st_mode & S_IWGRP) && (st.st_mode & S_IWOTH) ? "its group and every user"
		         : st.st_mode & S_IWGRP                         ? "its group"
		                                                         : "every user",
		         (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	while ((got = getline(&line, &cap, f)) >= 0) {
		size_t a = 0, b = (size_t)got;
		lineno++;
		while (a < b && (line[a] == ' ' || line[a] == '\t'))
			a++;
		while (b > a && (line[b - 1] == '\n' || line[b - 1] == '\r' || line[b - 1] == ' ' ||
		                 line[b - 1] == '\t'))
			b--;
		if (a == b || line[a] == '#')
			continue;
		/* KEY, then with --sites white space and SITE */
		size_t e = a, sa = b, sb = b;
		while (sites && e < b && line[e] != ' ' && line[e] != '\t')
			e++;
		if (!sites)
			e = b; /* the whole line is the key */
		if (e < b) {
			for (sa = e; sa < b && (line[sa] == ' ' || line[sa] == '\t'); sa++)
				;
			for (sb = sa; sb < b && line[sb] != ' ' && line[sb] != '\t'; sb++)
				;
			if (sb < b) {
				snprintf(why, whysize, "%s:%zu: expected \"KEY SITE\" and nothing after the "
				         "site", path, lineno);
				goto fail;
			}
		}
		if (sites && sa == b) {
			snprintf(why, whysize, "%s:%zu: a key without a site: with --sites each line is "
			         "\"KEY SITE\"", path, lineno);
			goto fail;
		}
		if (sites && !site_name_ok(line + sa, sb - sa)) {
			snprintf(why, whysize, "%s:%zu: a site name is 1 to %d lower-case letters, digits, "
			         "'.', '_' or '-', and does not start with '.'", path, lineno,
			         SITE_NAME_MAX);
			goto fail;
		}
		b = e;
		size_t n = b - a;
		for (size_t i = a; i < b; i++)
			if (!api_key_char((unsigned char)line[i])) {
				snprintf(why, whysize,
				         "%s:%zu: a key may hold only letters, digits, '-' and '_'", path,
				         lineno);
				goto fail;
			}
		if (n < KEY_MIN_LEN || n > KEY_MAX_LEN) {
			snprintf(why, whysize, "%s:%zu: a key must be %d to %d characters long", path,
			         lineno, KEY_MIN_LEN, KEY_MAX_LEN);
			goto fail;
		}
		long dup = key_index(k, line + a, n);
		if (dup >= 0) {
			if (!sites || (strncmp(k->site[dup], line + sa, sb - sa) == 0 &&
			               !k->site[dup][sb - sa]))
				continue; /* the same line twice */
			snprintf(why, whysize, "%s:%zu: a key given before for site %s", path, lineno,
			         k->site[dup]);
			goto fail;
		}
		if (add_key(k, line + a, n, sites ? line + sa : NULL, sb - sa)) {
			snprintf(why, whysize, "%s: out of memory", path);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno ? errno : EIO));
		goto fail;
	}
	if (!k->n) {
		snprintf(why, whysize, "%s: no key in the file", path);
		goto fail;
	}
	if (build_index(k)) {
		snprintf(why, whysize, "%s: %s", path, errno == ENOMEM ? "out of memory"
		         : "no random bytes for the key table");
		goto fail;
	}
	if (line) {
		memset(line, 0, cap);
		free(line);
	}
	fclose(f);
	*out = k;
	return 0;
fail:
	if (line) {
		memset(line, 0, cap);
		free(line);
	}
	if (f)
		fclose(f);
	keyring_free(k);
	return -1;
}

/* lower - ASCII lower case without a branch on the byte. */
static unsigned char lower(unsigned char c)
{
	unsigned upper = (unsigned)(c - 'A') < 26u;
	return (unsigned char)(c | (upper << 5));
}

int ct_equal(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen, int fold)
{
	volatile unsigned char diff = (unsigned char)(alen != blen);
	unsigned char mask = fold ? 0xff : 0;
	if (!blen)
		return alen == 0; /* two empty strings are equal; b is not read */
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = a[i], y = b[i % blen];
		/* fold: compare lower(x) with lower(y); otherwise x with y. */
		unsigned char lx = lower(x), ly = lower(y);
		x = (unsigned char)((lx & mask) | (x & (unsigned char)~mask));
		y = (unsigned char)((ly & mask) | (y & (unsigned char)~mask));
		diff |= (unsigned char)(x ^ y);
	}
	return diff == 0;
}

size_t keyring_find(const struct keyring *k, const char *cand, size_t len, int fold)
{
	if (!k || !cand || !len || len > KEY_MAX_LEN || !k->exact)
		return 0; /* no key is longer */
	const struct key_slot *t = fold ? k->folded : k->exact;
	uint64_t h = fold ? lower_hash(k->hk, cand, len) : sip_hash(k->hk, cand, len);
	for (size_t i = (size_t)h & k->mask; t[i].which; i = (i + 1) & k->mask) {
		size_t j = t[i].which - 1;
		if (t[i].h == h && ct_equal((const unsigned char *)k->key[j], k->len[j],
		                            (const unsigned char *)cand, len, fold))
			return t[i].which;
	}
	return 0;
}

int keyring_match(const struct keyring *k, const char *cand, size_t len, int fold)
{
	return keyring_find(k, cand, len, fold) != 0;
}

const char *keyring_site(const struct keyring *k, size_t which)
{
	return k && k->site && which >= 1 && which <= k->n ? k->site[which - 1] : NULL;
}
