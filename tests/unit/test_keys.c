/* src/daemon/keys.c (threshd's API keys): keyring_load (trimming, comments,
 * each error with FILE:LINE), keyring_match (every key, with and without
 * case folding), ct_equal. Compiled into this test from the daemon's
 * sources (tests/meson.build), only when threshd is built. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>

#include "threshd.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir();
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

TestSuite(keys, .init = setup, .fini = teardown);

/* key_file - dir/keys holding text; its path in a static buffer. */
static const char *key_file(const char *text)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/keys", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static int match(const struct keyring *k, const char *cand, int fold)
{
	return keyring_match(k, cand, strlen(cand), fold);
}

Test(keys, load_trims_and_skips_comments_and_blank_lines)
{
	struct keyring *k = NULL;
	char why[512] = "";
	const char *path = key_file("# /etc/thresh/keys: one key per line\n"
	                            "3f9c2a7be61d\n"
	                            "\n"
	                            "   \t\n"
	                            "  blog-example-org-4b1d9e \t\r\n"
	                            "# 0123456789 commented out\n"
	                            "UPPER_lower-09\r\n"
	                            "no-newline-at-end");
	cr_assert_eq(keyring_load(path, 0, &k, why, sizeof why), 0, "%s", why);
	cr_expect_eq(keyring_count(k), 4);
	cr_expect(match(k, "3f9c2a7be61d", 0));
	cr_expect(match(k, "blog-example-org-4b1d9e", 0), "surrounding white space trimmed");
	cr_expect(match(k, "UPPER_lower-09", 0), "CR LF line ends");
	cr_expect(match(k, "no-newline-at-end", 0));
	cr_expect(!match(k, "0123456789", 0), "a commented line is no key");
	cr_expect(!match(k, " 3f9c2a7be61d", 0), "a candidate is not trimmed");
	keyring_free(k);
}

Test(keys, length_limits)
{
	struct keyring *k = NULL;
	char why[512] = "", text[600];
	memset(text, 'k', KEY_MAX_LEN);
	strcpy(text + KEY_MAX_LEN, "\nabcdefgh\n");
	cr_assert_eq(keyring_load(key_file(text), 0, &k, why, sizeof why), 0, "%s", why);
	cr_expect_eq(keyring_count(k), 2, "%d and %d characters", KEY_MAX_LEN, KEY_MIN_LEN);
	cr_expect(match(k, "abcdefgh", 0));
	text[KEY_MAX_LEN] = '\0';
	cr_expect(match(k, text, 0));
	keyring_free(k);
}

/* Each error names the file and line and what is wrong; nothing is kept. */
Test(keys, load_errors_name_file_and_line)
{
	static const struct {
		const char *text, *where, *what;
	} bad[] = {
		{"goodkey-1\nbad key here\n", ":2: ", "a key may hold only letters, digits, '-' and '_'"},
		{"goodkey-1\n\n# c\nkey/with/slash\n", ":4: ", "only letters, digits"},
		{"abcdefgh # note\n", ":1: ", "only letters, digits"},
		{"caf\xc3\xa9-key-long\n", ":1: ", "only letters, digits"},
		{"goodkey-1\nshort\n", ":2: ", "a key must be 8 to 256 characters long"},
		{"abcdefg\n", ":1: ", "must be 8 to 256"},
		{"", ": ", "no key in the file"},
		{"# only a comment\n\n  \n", ": ", "no key in the file"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct keyring *k = (struct keyring *)1;
		char why[512] = "", want[PATH_MAX + 16];
		const char *path = key_file(bad[i].text);
		cr_expect_eq(keyring_load(path, 0, &k, why, sizeof why), -1, "case %zu", i);
		snprintf(want, sizeof want, "%s%s", path, bad[i].where);
		cr_expect(strncmp(why, want, strlen(want)) == 0, "[%s] should start with [%s]", why, want);
		cr_expect(strstr(why, bad[i].what) != NULL, "[%s] should say [%s]", why, bad[i].what);
		cr_expect_eq(k, (struct keyring *)1, "*out untouched on failure");
	}
	char text[600], why[512] = "";
	struct keyring *k;
	memset(text, 'k', KEY_MAX_LEN + 1);
	strcpy(text + KEY_MAX_LEN + 1, "\n");
	cr_expect_eq(keyring_load(key_file(text), 0, &k, why, sizeof why), -1);
	cr_expect(strstr(why, ":1: a key must be 8 to 256") != NULL, "%s", why);
}

Test(keys, files_that_cannot_be_read)
{
	struct keyring *k;
	char why[512] = "", path[PATH_MAX];
	snprintf(path, sizeof path, "%s/none", dir);
	cr_expect_eq(keyring_load(path, 0, &k, why, sizeof why), -1);
	cr_expect(strstr(why, path) == why, "%s", why);
	cr_expect(strstr(why, "No such file") != NULL, "%s", why);
	cr_expect_eq(keyring_load(dir, 0, &k, why, sizeof why), -1, "a folder");
	cr_expect(strstr(why, dir) == why, "%s", why);
}

Test(keys, match_compares_every_key)
{
	struct keyring *k;
	char why[512] = "";
	cr_assert_eq(keyring_load(key_file("first-key-aaaa\nSecond-Key-BBBB\nthird_key_cccc\n"), 0, &k, why,
	                          sizeof why), 0, "%s", why);
	cr_expect(match(k, "first-key-aaaa", 0));
	cr_expect(match(k, "Second-Key-BBBB", 0));
	cr_expect(match(k, "third_key_cccc", 0), "the last key too");
	cr_expect(!match(k, "first-key-aaab", 0), "last byte differs");
	cr_expect(!match(k, "xirst-key-aaaa", 0), "first byte differs");
	cr_expect(!match(k, "first-key-aaa", 0), "a prefix");
	cr_expect(!match(k, "first-key-aaaaa", 0), "a key and more");
	cr_expect(!match(k, "first-key-aaaafirst-key-aaaa", 0), "the key twice");
	cr_expect(!match(k, "second-key-bbbb", 0), "case counts without fold");
	cr_expect(match(k, "second-key-bbbb", 1), "fold: ASCII case does not");
	cr_expect(match(k, "FIRST-KEY-AAAA", 1));
	cr_expect(!match(k, "first_key_aaaa", 1), "fold leaves '-' and '_' apart");
	cr_expect_eq(keyring_match(k, "first-key-aaaa", 0, 0), 0, "an empty candidate");
	cr_expect_eq(keyring_match(k, NULL, 14, 0), 0);
	cr_expect_eq(keyring_match(NULL, "first-key-aaaa", 14, 0), 0);
	cr_expect_eq(keyring_count(NULL), 0);
	keyring_free(k);
	keyring_free(NULL);
}

static int eq(const char *a, const char *b, int fold)
{
	return ct_equal((const unsigned char *)a, strlen(a), (const unsigned char *)b, strlen(b), fold);
}

Test(keys, ct_equal)
{
	cr_expect(eq("abcdefgh", "abcdefgh", 0));
	cr_expect(!eq("abcdefgh", "abcdefgx", 0));
	cr_expect(!eq("abcdefgh", "xbcdefgh", 0));
	cr_expect(!eq("abcdabcd", "abcd", 0), "b repeats over a's length: still unequal");
	cr_expect(!eq("abcd", "abcdabcd", 0));
	cr_expect(!eq("abc", "", 0), "nothing equals an empty candidate");
	cr_expect(eq("", "", 0), "two empty strings are equal, as keys.h says");
	cr_expect(eq("AbC-9_z", "aBc-9_Z", 1));
	cr_expect(!eq("AbC-9_z", "aBc-9_Z", 0));
	/* fold lowers letters only: '@' (0x40) is not '`' (0x60), '[' not '{' */
	cr_expect(!eq("@", "`", 1));
	cr_expect(!eq("[", "{", 1));
	cr_expect(!eq("^", "~", 1));
	cr_expect(eq("\xc4", "\xc4", 1));
	cr_expect(!eq("\xc4", "\xe4", 1), "bytes past ASCII are not folded");
}

/* threshd --sites: "KEY SITE" lines; the key picks its site. */
Test(keys, sites_mode_maps_each_key_to_its_site)
{
	struct keyring *k;
	char why[512] = "";
	cr_assert_eq(keyring_load(key_file("# sites\n"
	                                   "first-key-aaaa   blog.example.org\n"
	                                   "\tSecond-Key-BBBB\tshop_2 \n"
	                                   "third-key-cccc blog.example.org\n"
	                                   "first-key-aaaa blog.example.org\n"),
	                          1, &k, why, sizeof why),
	             0, "%s", why);
	cr_expect_eq(keyring_count(k), 3, "the same line twice is one key");
	size_t a = keyring_find(k, "first-key-aaaa", 14, 0);
	size_t b = keyring_find(k, "second-key-bbbb", 15, 1);
	size_t c = keyring_find(k, "third-key-cccc", 14, 0);
	cr_assert(a && b && c);
	cr_expect(a != b && b != c && a != c);
	cr_expect_str_eq(keyring_site(k, a), "blog.example.org");
	cr_expect_str_eq(keyring_site(k, b), "shop_2");
	cr_expect_str_eq(keyring_site(k, c), "blog.example.org", "two keys, one site");
	cr_expect_eq(keyring_find(k, "second-key-bbbb", 15, 0), 0, "case counts without fold");
	cr_expect_eq(keyring_find(k, "blog.example.org", 16, 0), 0, "a site is not a key");
	cr_expect_null(keyring_site(k, 0));
	cr_expect_null(keyring_site(k, 4));
	keyring_free(k);

	/* without --sites a site after the key is not taken */
	cr_expect_eq(keyring_load(key_file("first-key-aaaa blog\n"), 0, &k, why, sizeof why), -1);
	cr_expect(strstr(why, ":1: a key may hold only") != NULL, "%s", why);
	cr_assert_eq(keyring_load(key_file("first-key-aaaa\n"), 0, &k, why, sizeof why), 0);
	cr_expect_null(keyring_site(k, keyring_find(k, "first-key-aaaa", 14, 0)),
	               "no sites: no site");
	keyring_free(k);
}

Test(keys, sites_mode_errors_name_the_line)
{
	static const struct {
		const char *text, *where, *what;
	} bad[] = {
		{"first-key-aaaa site1\nsecond-key-bbbb\n", ":2: ", "a key without a site"},
		{"first-key-aaaa Site1\n", ":1: ", "a site name is 1 to 64 lower-case"},
		{"first-key-aaaa ..\n", ":1: ", "does not start with '.'"},
		{"first-key-aaaa .hidden\n", ":1: ", "does not start with '.'"},
		{"first-key-aaaa a/b\n", ":1: ", "a site name"},
		{"first-key-aaaa caf\xc3\xa9\n", ":1: ", "a site name"},
		{"first-key-aaaa a b\n", ":1: ", "nothing after the site"},
		{"x\n# c\nfirst-key-aaaa s\n", ":1: ", "a key without a site"},
		{"first-key-aaaa one\nfirst-key-aaaa two\n", ":2: ", "given before for site one"},
		{"short s\n", ":1: ", "a key must be 8 to 256"},
		{"bad/key/x s\n", ":1: ", "only letters, digits"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct keyring *k = (struct keyring *)1;
		char why[512] = "", want[PATH_MAX + 16];
		const char *path = key_file(bad[i].text);
		cr_expect_eq(keyring_load(path, 1, &k, why, sizeof why), -1, "case %zu", i);
		snprintf(want, sizeof want, "%s%s", path, bad[i].where);
		cr_expect(strncmp(why, want, strlen(want)) == 0, "[%s] should start with [%s]", why, want);
		cr_expect(strstr(why, bad[i].what) != NULL, "[%s] should say [%s]", why, bad[i].what);
		cr_expect_eq(k, (struct keyring *)1, "*out untouched on failure");
	}
}

/* A host's many keys: each found by its table, none of the near misses, at
 * any number of keys (the lookup hashes; it no longer walks the file). */
Test(keys, many_keys_are_each_found_and_near_misses_are_not)
{
	enum { N = 3000 };
	char path[PATH_MAX], why[512] = "", key[64], site[32];
	snprintf(path, sizeof path, "%s/many", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < N; i++)
		fprintf(f, "Key-%05d-abcdefgh site%d\n", i, i % 7);
	fclose(f);
	chmod(path, 0600);
	struct keyring *k;
	cr_assert_eq(keyring_load(path, 1, &k, why, sizeof why), 0, "%s", why);
	cr_assert_eq(keyring_count(k), N);
	size_t seen = 0;
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "Key-%05d-abcdefgh", i);
		snprintf(site, sizeof site, "site%d", i % 7);
		size_t w = keyring_find(k, key, strlen(key), 0);
		cr_assert(w, "%s", key);
		cr_expect_str_eq(keyring_site(k, w), site);
		seen += keyring_find(k, key, strlen(key), 1) == w; /* and folded */
		for (char *p = key; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		cr_expect_eq(keyring_find(k, key, strlen(key), 0), 0, "case counts: %s", key);
		cr_expect_eq(keyring_find(k, key, strlen(key), 1), w, "fold: %s", key);
		key[strlen(key) - 1] = 'x';
		cr_expect_eq(keyring_find(k, key, strlen(key), 1), 0, "%s", key);
	}
	cr_expect_eq(seen, N);
	cr_expect_eq(keyring_find(k, "Key-00001-abcdefg", 17, 0), 0, "a prefix");
	cr_expect_eq(keyring_find(k, "Key-00001-abcdefghh", 19, 0), 0, "a key and more");
	keyring_free(k);
}
