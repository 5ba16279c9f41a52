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
	cr_expect_not_null(t->learn_batch);
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

/* stats - the database's learned counts, read back through the C API. */
static void stats(const char *path, uint64_t *spam, uint64_t *ham)
{
	thresh_db *db;
	thresh_stats st = {.size = sizeof st};
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY;
	cr_assert_eq(thresh_db_open(path, &o, &db), 0);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	*spam = st.spam_messages;
	*ham = st.ham_messages;
	thresh_db_close(db);
}

Test(plugin, learn_batch_learns_many_in_one_call)
{
	const thresh_plugin *t;
	cr_assert_eq(get(THRESH_PLUGIN_ABI, sizeof(thresh_plugin), &t), 0);
	cr_assert_not_null(t->learn_batch, "the table has learn_batch (added in 0.3)");
	char *dir = tu_tmpdir(), path[PATH_MAX], err[256];
	thresh_db *db;
	uint64_t spam, ham;
	snprintf(path, sizeof path, "%s/db", dir);
	cr_assert_eq(t->open(path, NULL, THRESH_PLUGIN_CREATE | THRESH_PLUGIN_EMPTY, &db, err, sizeof err), 0,
	             "%s", err);

	/* three comments: two fields, one, two */
	const size_t nf[] = {2, 1, 2};
	const char *f[] = {"comment_content", "comment_author_email", "content", "comment_content", "user_ip"};
	const char *v[] = {"cheap pills here", "spammer@example.org", "what a lovely song", "thanks for the recipe",
	                   "192.0.2.7"};
	const int labels[] = {THRESH_SPAM, THRESH_HAM, THRESH_HAM};
	thresh_plugin_learn_result r = {.size = sizeof r};
	cr_assert_eq(t->learn_batch(db, 3, nf, f, v, labels, NULL, &r), 0);
	cr_expect_eq(r.size, sizeof r);
	cr_expect_eq(r.learned, 3);
	cr_expect_eq(r.duplicates + r.moved + r.refused, 0);
	t->close(db);
	stats(path, &spam, &ham);
	cr_expect_eq(spam, 1);
	cr_expect_eq(ham, 2);

	/* the same again: counted once; the second comment as spam moves */
	cr_assert_eq(t->open(path, NULL, 0, &db, err, sizeof err), 0, "%s", err);
	const int relabel[] = {THRESH_SPAM, THRESH_SPAM, THRESH_HAM};
	memset(&r, 0xff, sizeof r);
	r.size = sizeof r;
	cr_assert_eq(t->learn_batch(db, 3, nf, f, v, relabel, NULL, &r), 0);
	cr_expect_eq(r.learned, 0);
	cr_expect_eq(r.duplicates, 2);
	cr_expect_eq(r.moved, 1);
	cr_expect_eq(r.refused, 0);
	t->close(db);
	stats(path, &spam, &ham);
	cr_expect_eq(spam, 2);
	cr_expect_eq(ham, 1);

	/* a refused comment without rcs: nothing stored, its code returned */
	cr_assert_eq(t->open(path, NULL, 0, &db, err, sizeof err), 0, "%s", err);
	const size_t nf2[] = {1, 1, 1};
	const char *f2[] = {"content", "blog", "content"};
	const char *v2[] = {"brand new words here", "http://x.example", "more new words"};
	const int l2[] = {THRESH_HAM, THRESH_HAM, THRESH_SPAM};
	r.learned = 99;
	cr_expect_eq(t->learn_batch(db, 3, nf2, f2, v2, l2, NULL, &r), THRESH_EFIELD);
	cr_expect_eq(r.learned, 99, "out untouched on error");
	const char *bad_utf8[] = {"brand new words here", "\xff\xfe", "more new words"};
	const char *f3[] = {"content", "content", "content"};
	cr_expect_eq(t->learn_batch(db, 3, nf2, f3, bad_utf8, l2, NULL, &r), THRESH_EUTF8);
	const int badlabel[] = {THRESH_HAM, 7, THRESH_SPAM};
	cr_expect_eq(t->learn_batch(db, 3, nf2, f3, v2, badlabel, NULL, &r), THRESH_EINVAL);
	t->close(db);
	stats(path, &spam, &ham);
	cr_expect_eq(spam, 2, "nothing stored");
	cr_expect_eq(ham, 1, "nothing stored");

	/* with rcs: the refused comments are left out, the others stored */
	cr_assert_eq(t->open(path, NULL, 0, &db, err, sizeof err), 0, "%s", err);
	int rcs[3] = {1, 1, 1};
	cr_assert_eq(t->learn_batch(db, 3, nf2, f2, v2, l2, rcs, &r), 0);
	cr_expect_eq(rcs[0], 0);
	cr_expect_eq(rcs[1], THRESH_EFIELD);
	cr_expect_eq(rcs[2], 0);
	cr_expect_eq(r.learned, 2);
	cr_expect_eq(r.refused, 1);
	int rcs2[3];
	cr_assert_eq(t->learn_batch(db, 3, nf2, f3, v2, badlabel, rcs2, &r), 0);
	cr_expect_eq(rcs2[1], THRESH_EINVAL);
	cr_expect_eq(r.learned, 0, "the two others were learned just before");
	cr_expect_eq(r.duplicates, 2);
	cr_expect_eq(r.refused, 1);

	/* bad arguments; an empty batch; a smaller (older) result record */
	cr_expect_eq(t->learn_batch(NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL), THRESH_EINVAL);
	cr_expect_eq(t->learn_batch(db, 1, NULL, f, v, labels, NULL, NULL), THRESH_EINVAL);
	cr_expect_eq(t->learn_batch(db, 1, nf, f, v, NULL, NULL, NULL), THRESH_EINVAL);
	cr_expect_eq(t->learn_batch(db, 1, nf, NULL, NULL, labels, NULL, NULL), THRESH_EINVAL, "2 fields, none given");
	cr_expect_eq(t->learn_batch(db, 0, NULL, NULL, NULL, NULL, NULL, &r), 0);
	cr_expect_eq(r.learned + r.duplicates + r.moved + r.refused, 0);
	struct { uint32_t size; uint64_t learned; uint64_t canary; } small = {
		.size = offsetof(thresh_plugin_learn_result, duplicates), .canary = 42};
	const size_t nf4[] = {1};
	const char *v4[] = {"one more comment, new"};
	cr_assert_eq(t->learn_batch(db, 1, nf4, f3, v4, labels, NULL, (thresh_plugin_learn_result *)&small), 0);
	cr_expect_eq(small.size, offsetof(thresh_plugin_learn_result, duplicates));
	cr_expect_eq(small.learned, 1);
	cr_expect_eq(small.canary, 42, "nothing written past out->size");
	t->close(db);

	/* a read-only database */
	cr_assert_eq(t->open(path, NULL, THRESH_PLUGIN_RDONLY, &db, err, sizeof err), 0, "%s", err);
	cr_expect_eq(t->learn_batch(db, 1, nf4, f3, v4, labels, NULL, &r), THRESH_EREADONLY);
	t->close(db);
	tu_rmtree(dir);
	free(dir);
}
