/* src/lib/plugin.c: the plugin table, loaded the way a server module loads
 * thresh: dlopen() of the shared library and one dlsym() of the entry
 * point. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <dlfcn.h>

#include "testutil.h"
#include "thresh/plugin.h"

typedef int (*get_fn)(uint32_t, size_t, const thresh_plugin **);

static void *lib;
static get_fn get;

static void load(void)
{
	const char *path = getenv("THRESH_LIB");
	cr_assert(path && *path, "THRESH_LIB names the built libthresh.so");
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(lib, "dlopen: %s", dlerror());
	*(void **)&get = dlsym(lib, "thresh_plugin_get");
	cr_assert_not_null(get, "dlsym: %s", dlerror());
}

static void unload(void)
{
	if (lib)
		dlclose(lib);
}

TestSuite(plugin, .init = load, .fini = unload);

Test(plugin, wrong_abi_is_refused)
{
	const thresh_plugin *t = (const thresh_plugin *)1;
	cr_expect_eq(get(THRESH_PLUGIN_ABI + 1, sizeof(thresh_plugin), &t), THRESH_EABI);
	cr_expect_null(t, "no table on refusal");
	t = (const thresh_plugin *)1;
	cr_expect_eq(get(0, sizeof(thresh_plugin), &t), THRESH_EABI);
	cr_expect_null(t);
	cr_expect_eq(get(THRESH_PLUGIN_ABI, sizeof(thresh_plugin) + 8, &t), THRESH_EABI,
	             "a table larger than the library knows");
	cr_expect_eq(get(THRESH_PLUGIN_ABI, 8, &t), THRESH_EABI, "a table too small to hold ABI 1");
	cr_expect_eq(get(THRESH_PLUGIN_ABI, sizeof(thresh_plugin), NULL), THRESH_EINVAL);
}

Test(plugin, table_works_end_to_end)
{
	const thresh_plugin *t;
	cr_assert_eq(get(THRESH_PLUGIN_ABI, sizeof(thresh_plugin), &t), 0);
	cr_expect_eq(t->abi, THRESH_PLUGIN_ABI);
	cr_expect_eq(t->size, sizeof(thresh_plugin));
	for (int i = 0; i < THRESH_PLUGIN_SPARE; i++)
		cr_expect_null(t->spare[i]);
	cr_expect_str_eq(t->version(), THRESH_VERSION_STRING);

	char *dir = tu_tmpdir(), path[PATH_MAX], err[256];
	thresh_db *db;
	snprintf(path, sizeof path, "%s/db", dir);
	cr_expect_eq(t->open(path, NULL, 0, &db, err, sizeof err), THRESH_ENOENT);
	setenv("THRESH_MODEL", "/nonexistent", 1);
	cr_expect_eq(t->open(path, NULL, THRESH_PLUGIN_CREATE, &db, err, sizeof err), THRESH_ENOMODEL);
	cr_expect(strstr(err, "/nonexistent") != NULL, "%s", err);
	cr_expect_eq(t->open(path, NULL, 0x80, &db, err, sizeof err), THRESH_EINVAL, "unknown flag");
	cr_assert_eq(t->open(path, NULL, THRESH_PLUGIN_CREATE | THRESH_PLUGIN_EMPTY, &db, err, sizeof err), 0,
	             "%s", err);
	/* a toy model: plain scores and cutoffs (testutil.h's tu_plain), set the
	 * way a site may, in thresh.conf */
	t->close(db);
	char conf[PATH_MAX + 16];
	snprintf(conf, sizeof conf, "%s/thresh.conf", path);
	FILE *cf = fopen(conf, "w");
	cr_assert_not_null(cf);
	fputs("nb_scale = 4\nnb_shift = 0\nreject_min_tokens = 0\nhold_cutoff = 0.5\nreject_cutoff = 0.7\n", cf);
	fclose(cf);
	cr_assert_eq(t->open(path, NULL, 0, &db, err, sizeof err), 0, "%s", err);
	const char *f[] = {"comment_content", "comment_author_email"};
	for (int i = 0; i < 10; i++) {
		char buf[64];
		snprintf(buf, sizeof buf, "cheap pills casino %d", i);
		const char *sv[] = {buf, "spammer@example.org"};
		cr_assert_eq(t->learn(db, f, sv, 2, THRESH_SPAM), 0);
		snprintf(buf, sizeof buf, "lovely song thanks %d", i);
		const char *hv[] = {buf, "fan@example.org"};
		cr_assert_eq(t->learn(db, f, hv, 2, THRESH_HAM), 0);
	}
	const char *spam[] = {"cheap casino pills", "spammer@example.org"};
	thresh_plugin_result r = {.size = sizeof r};
	cr_assert_eq(t->check(db, f, spam, 2, &r), 0);
	cr_expect_eq(r.verdict, THRESH_REJECT, "score %f reasons %s", r.score, r.reasons);
	cr_expect(strstr(r.reasons, "bayes") != NULL, "%s", r.reasons);
	const char *bad[] = {"blog"};
	const char *bv[] = {"http://x.example"};
	cr_expect_eq(t->check(db, bad, bv, 1, &r), THRESH_EFIELD);
	cr_expect(!t->is_field("blog"));
	cr_expect(t->is_field("comment_author_url"));
	const char *hp[] = {"comment_content", "honeypot"};
	const char *hpv[] = {"lovely song", "i am a bot"};
	cr_assert_eq(t->check(db, hp, hpv, 2, &r), 0);
	cr_expect_eq(r.verdict, THRESH_REJECT);
	cr_expect_eq(r.blatant, 1);
	cr_expect_str_eq(r.reasons, "honeypot");
	cr_assert_eq(t->unlearn(db, f, spam, 2, THRESH_SPAM), 0);
	cr_expect_eq(t->reload(db, err, sizeof err), 0);
	cr_expect_str_eq(t->strerror(THRESH_EABI), "unsupported plugin ABI version");
	t->close(db);
	t->close(NULL);
	tu_rmtree(dir);
	free(dir);
}
