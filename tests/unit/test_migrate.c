/* src/lib/migrate.c: a database of format 2, made by thresh at 20a21ac
 * (tests/unit/fixtures/format2, whose README says how), brought to format 3
 * on a read-write open: its /24s moved from the model key to the identity
 * key (no /24 is found under the model key any more), its names kept as
 * they were (they cannot be enumerated), its learned digests kept as legacy
 * ones that a check and a learn still find, and its outbox, three pending
 * learns of a cluster node, rewritten so that taking them back and applying
 * them again leaves the model as it was. */
#include <criterion/criterion.h>
#include <inttypes.h>

#include "../robust/scan.h"
#include "clusterutil.h"
#include "comment_int.h"
#include "db_int.h"
#include "event.h"
#include "migrate.h"
#include "replica.h"
#include "secret.h"
#include "store.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR names tests/unit/fixtures"
#endif

static char *dir;
static char path[PATH_MAX];

/* a copy of the fixture folder in a temporary dir/db */
static void setup(void)
{
	char src[PATH_MAX];
	cr_assert_eq(hash_init(), 0);
	dir = tu_tmpdir();
	snprintf(path, sizeof path, "%s/db", dir);
	snprintf(src, sizeof src, "%s/format2", FIXTURE_DIR);
	tu_copy_db(src, path);
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

TestSuite(migrate, .init = setup, .fini = teardown);

/* The comments of the fixture (confirmed.jsonl, pending.jsonl). */
static thresh_comment *rolf(void)
{
	thresh_comment *c;
	cr_assert_eq(thresh_comment_new(&c), 0);
	thresh_comment_set(c, "content", "Cheap pills, write me at pills.seller@mailbox.example", (size_t)-1);
	thresh_comment_set(c, "author", "Rolf Ostrander", (size_t)-1);
	thresh_comment_set(c, "email", "rolf@ostrander.example", (size_t)-1);
	thresh_comment_set(c, "url", "http://www.ostrander.example/", (size_t)-1);
	thresh_comment_set(c, "ip", "198.51.100.23", (size_t)-1);
	return c;
}

static thresh_comment *jane(void)
{
	thresh_comment *c;
	cr_assert_eq(thresh_comment_new(&c), 0);
	thresh_comment_set(c, "content", "Lovely recipe, thanks for sharing it", (size_t)-1);
	thresh_comment_set(c, "author", "Jane Q. Doe", (size_t)-1);
	thresh_comment_set(c, "email", "Jane.Doe@Example.org", (size_t)-1);
	thresh_comment_set(c, "url", "https://jane.example.net/blog", (size_t)-1);
	thresh_comment_set(c, "ip", "192.0.2.44", (size_t)-1);
	return c;
}

/* counts - the stored counts of the token text under key. */
static tok_counts counts(store *st, const unsigned char key[16], const char *text)
{
	store_txn *t;
	tok_counts c;
	uint64_t id = hash_token(key, text, strlen(text));
	cr_assert_eq(store_read_begin(st, &t), 0);
	cr_assert_eq(store_tokens_get(t, &id, 1, &c), 0);
	store_read_end(t);
	return c;
}

static int ids_of(uint64_t id, const tok_counts *c, void *ctx)
{
	struct {
		uint64_t *ids;
		size_t n;
	} *v = ctx;
	(void)c;
	v->ids[v->n++] = id;
	return 0;
}

/* the model key and the site's keys of the folder */
static void keys_of(store *st, unsigned char key[16], site_keys *k)
{
	store_txn *t;
	cr_assert_eq(store_read_begin(st, &t), 0);
	cr_assert_eq(store_meta_get(t, "key", key, 16), 0);
	store_read_end(t);
	cr_assert_eq(secret_read(path, k, NULL, 0), 0);
}

Test(migrate, the_fixture_is_what_format_2_stored)
{
	store *st;
	store_txn *t;
	uint32_t fmt;
	unsigned char key[16];
	site_keys k;
	cr_assert_eq(store_open(path, STORE_RDONLY, 0, &st), 0);
	keys_of(st, key, &k);
	cr_assert_eq(store_read_begin(st, &t), 0);
	cr_assert_eq(meta_format(t, &fmt), 0);
	store_read_end(t);
	cr_expect_eq(fmt, 2);
	/* identity tokens under the model key: what the migration must move */
	tok_counts c = counts(st, key, "ip24:198.51.100");
	cr_expect(c.spam == 2 && c.ham == 0, "%u %u", c.spam, c.ham);
	cr_expect_eq(counts(st, key, "ip24:203.0.113").spam, 1, "a pending learn's");
	cr_expect_eq(counts(st, key, "author:rolf ostrander").spam, 2);
	cr_expect_eq(counts(st, k.ident, "ip24:198.51.100").spam, 0);
	store_close(st);
}

Test(migrate, a_read_only_open_is_refused_with_how_to_upgrade)
{
	thresh_db_options o;
	thresh_db *db;
	char err[512] = "";
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_RDONLY;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	cr_expect_eq(thresh_db_open(path, &o, &db), THRESH_EVERSION);
	cr_expect(strstr(err, "format 2 needs an upgrade to 3") && strstr(err, "read-write"), "%s", err);
}

Test(migrate, the_24s_move_to_the_identity_key, .timeout = 120)
{
	thresh_db *db = cu_open(path, NULL);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.format_version, 3);
	cr_expect_eq(st.upgraded_from, 2);
	cr_expect(st.spam_messages == 4 && st.ham_messages == 1, "%" PRIu64 " %" PRIu64,
	          st.spam_messages, st.ham_messages);
	cr_expect_eq(st.learned, 5);
	cr_expect_eq(st.legacy_learned, 5, "every digest of format 2 kept as a legacy one");
	unsigned char key[16];
	site_keys k;
	keys_of(db->st, key, &k);

	/* under the identity key, flagged, their counts and days kept */
	tok_counts c = counts(db->st, k.ident, "ip24:198.51.100");
	cr_expect(c.spam == 2 && c.ham == 0 && (c.flags & COUNTS_IDENTITY), "%u %u %u", c.spam, c.ham,
	          c.flags);
	cr_expect_eq(c.day, model_day(1700000000));
	c = counts(db->st, k.ident, "ip24:203.0.113");
	cr_expect(c.spam == 1 && c.day == model_day(1700086400));
	cr_expect_eq(counts(db->st, k.ident, "ip24:192.0.2").ham, 1);
	/* no /24 under the model key, of all 2^24 */
	store_txn *t;
	store_info info;
	cr_assert_eq(store_read_begin(db->st, &t), 0);
	cr_assert_eq(store_info_get(t, &info), 0);
	struct {
		uint64_t *ids;
		size_t n;
	} v = {malloc(info.tokens * sizeof(uint64_t)), 0};
	cr_assert_eq(store_tokens_foreach(t, ids_of, &v), 0);
	store_read_end(t);
	scan_sort(v.ids, v.n);
	cr_expect_eq(scan_ip24(key, v.ids, v.n, NULL, NULL), 0, "a /24 testable with the model key");
	cr_expect_eq(scan_ip24(k.ident, v.ids, v.n, NULL, NULL), 3, "the three /24s, re-keyed");
	free(v.ids);
	/* names, sites and addresses cannot be enumerated: they stay (README,
	 * SECURITY.md), and a new learn counts them under the identity key */
	cr_expect_eq(counts(db->st, key, "author:rolf ostrander").spam, 2);
	cr_expect_eq(counts(db->st, k.ident, "author:rolf ostrander").spam, 0);
	thresh_comment *r = rolf();
	thresh_comment_set(r, "content", "Cheap pills again", (size_t)-1);
	cr_assert_eq(thresh_learn(db, r, THRESH_SPAM, NULL), 0);
	c = counts(db->st, k.ident, "author:rolf ostrander");
	cr_expect(c.spam == 1 && (c.flags & COUNTS_IDENTITY));
	cr_expect_eq(counts(db->st, k.ident, "ip24:198.51.100").spam, 3);
	thresh_comment_free(r);
	thresh_db_close(db);

	/* opened again: nothing more to do */
	db = cu_open(path, NULL);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect_eq(st.upgraded_from, 0);
	cr_expect_eq(counts(db->st, k.ident, "ip24:198.51.100").spam, 3);
	thresh_db_close(db);
}

/* has_reason - the check of c (read-only) gave reason. */
static int has_reason(thresh_db *db, const thresh_comment *c, const char *reason)
{
	thresh_result *r;
	cr_assert_eq(thresh_check(db, c, THRESH_CHECK_READONLY, &r), 0);
	int has = tu_has_reason(r, reason);
	thresh_result_free(r);
	return has;
}

Test(migrate, comments_learned_before_are_still_found)
{
	thresh_db *db = cu_open(path, NULL);
	thresh_comment *j = jane(), *r = rolf();
	thresh_stats st = {.size = sizeof st};
	thresh_learn_summary s = {.size = sizeof s};
	/* by their legacy digests */
	cr_expect(has_reason(db, j, "learned_ham"));
	cr_expect(has_reason(db, r, "learned_spam"));
	/* learned again: a duplicate, and from then on known by its new digest */
	cr_assert_eq(thresh_learn(db, j, THRESH_HAM, &s), 0);
	cr_expect_eq(s.duplicates, 1);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.learned == 5 && st.legacy_learned == 4, "%" PRIu64 " %" PRIu64, st.learned,
	          st.legacy_learned);
	cr_expect(has_reason(db, j, "learned_ham"));
	/* unlearned: found, taken back, gone from the legacy table */
	cr_assert_eq(thresh_unlearn(db, r, THRESH_SPAM, &s), 0);
	cr_expect_eq(s.unlearned, 1);
	cr_assert_eq(thresh_db_stats(db, &st), 0);
	cr_expect(st.learned == 4 && st.legacy_learned == 3);
	cr_expect(st.spam_messages == 3);
	cr_expect(!has_reason(db, r, "learned_spam"));
	/* an export keeps them apart: l for the new, g for the legacy */
	size_t len;
	char *e = cu_export(db, dir, "migrated", &len);
	cr_expect(strstr(e, "thresh-dump 4\n") == e);
	int l = 0, g = 0;
	for (char *p = e; (p = strchr(p, '\n')); p++)
		l += !strncmp(p + 1, "l ", 2), g += !strncmp(p + 1, "g ", 2);
	cr_expect(l == 1 && g == 3, "%d l, %d g lines", l, g);
	free(e);
	thresh_comment_free(j);
	thresh_comment_free(r);
	thresh_db_close(db);
}

/* strip_ring - an export without its "preq", "ring" and "r" lines. */
static void strip_ring(char *e)
{
	char *o = e;
	for (char *p = e; *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (strncmp(p, "preq ", 5) && strncmp(p, "ring ", 5) && strncmp(p, "r ", 2)) {
			memmove(o, p, len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
}

/* The outbox's three learns, events of version 1 with undo records of
 * version 1, are rewritten: a legacy digest, the /24 re-keyed and flagged,
 * the undo records naming the legacy table. Then a log whose first event is
 * another node's makes the node take them back and apply them again: if an
 * undo record still named an old id or table, the model would differ. */
Test(migrate, the_outbox_is_rewritten_and_replays_exactly, .timeout = 120)
{
	thresh_db *db = cu_open(path, NULL);
	unsigned char key[16];
	site_keys k;
	keys_of(db->st, key, &k);
	replica_out *o;
	size_t n;
	cr_assert_eq(replica_outbox_read(db->st, 0, 16, 0, &o, &n), 0);
	cr_assert_eq(n, 3);
	uint64_t ip24 = hash_token(k.ident, "ip24:203.0.113", 14);
	uint64_t old24 = hash_token(key, "ip24:203.0.113", 14);
	event_buf b;
	cr_assert_eq(event_decode(o[0].ev, o[0].len, &b), 0);
	cr_expect(!b.ev.has_digest && b.ev.has_legacy);
	cr_expect_eq(o[0].ev[2], EVENT_VERSION, "written as version %d", o[0].ev[2]);
	int found = 0;
	for (size_t i = 0; i < b.ev.n; i++) {
		cr_expect_neq(b.ids[i], old24, "the /24 under the model key");
		if (b.ids[i] == ip24) {
			found = 1;
			cr_expect(b.ident[i], "re-keyed, and flagged");
		}
	}
	cr_expect(found, "Mo Spammer's /24, under the identity key");
	event_buf_free(&b);
	/* the second is Jane's duplicate: its legacy digest is Jane's */
	thresh_comment *j = jane();
	unsigned char g[16];
	hash_comment_digest_b2(key, j, g);
	cr_assert_eq(event_decode(o[1].ev, o[1].len, &b), 0);
	cr_expect(b.ev.has_legacy && !memcmp(b.ev.legacy, g, 16));
	event_buf_free(&b);
	thresh_comment_free(j);

	/* another node's event first: an unlearn of a comment never learned,
	 * which changes nothing but makes the node take its three back */
	size_t l0, l1;
	char *before = cu_export(db, dir, "before", &l0);
	uint64_t one = 0x0123456789abcdefULL;
	unsigned char zero = 0;
	event z = {.op = EV_UNLEARN, .label = 1, .has_digest = 1, .day = 20000, .tokenizer = 63,
	           .keyfp = event_keyfp(key), .n = 1, .ids = &one, .gram = &zero, .ident = &zero};
	memset(z.digest, 0x77, 16);
	unsigned char *zb;
	size_t zlen;
	cr_assert_eq(event_encode(&z, &zb, &zlen), 0);
	replica_in in[4] = {{1, "z", 1, 1, 1000, zb, zlen}};
	for (int i = 0; i < 3; i++)
		in[i + 1] = (replica_in){(uint64_t)i + 2, "a", 1, o[i].lseq, 1001 + (uint64_t)i, o[i].ev,
		                         o[i].len};
	replica_result res;
	cr_assert_eq(replica_apply(db->st, "a", in, 4, &res), 0);
	cr_expect(res.rebased && res.applied == 4 && res.foreign == 0, "rebased %d applied %" PRIu64,
	          res.rebased, res.applied);
	char *after = cu_export(db, dir, "after", &l1);
	/* Applied again, the three learns are scored by this version's rules:
	 * they take slots of the ring of decisions, and the losses are
	 * charged as this version charges them (thresh 0.2 kept no ring).
	 * Everything else (tokens, digests, totals, parameters) is as before. */
	strip_ring(before);
	strip_ring(after);
	cr_expect_str_eq(before, after, "taken back and applied again, the model differs");
	replica_state s;
	uint64_t pending;
	cr_assert_eq(replica_state_read(db->st, &s, &pending, NULL), 0);
	cr_expect_eq(pending, 0);
	free(before);
	free(after);
	free(zb);
	replica_out_free(o, n);
	thresh_db_close(db);
}

/* A dump of format 2 (the fixture's, as 20a21ac exported it would be) is
 * re-keyed on import too: its /24s under the importing site's identity
 * key, its digests legacy ones. */
Test(migrate, a_dump_of_format_2_is_rekeyed_on_import, .timeout = 120)
{
	thresh_db *db = cu_open(path, NULL), *copy;
	unsigned char key[16];
	site_keys k, k2;
	keys_of(db->st, key, &k);
	char dump[PATH_MAX], err[256], p2[PATH_MAX];
	snprintf(dump, sizeof dump, "%s/v3.dump", dir);
	cr_assert_eq(thresh_db_export(db, dump), 0);
	thresh_db_close(db);
	/* a version-2 dump of the same model: t lines with the /24 under the
	 * model key, l lines of format-2 digests */
	size_t len;
	char *v3 = tu_slurp(dump, &len), *line, *save = NULL;
	snprintf(dump, sizeof dump, "%s/v2.dump", dir);
	FILE *f = fopen(dump, "w");
	cr_assert_not_null(f);
	uint64_t id24 = hash_token(k.ident, "ip24:198.51.100", 15);
	for (line = strtok_r(v3, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long id;
		unsigned sp, hm, dy;
		if (!strcmp(line, "thresh-dump 4"))
			fputs("thresh-dump 2\n", f);
		else if (!strncmp(line, "ring ", 5) || !strncmp(line, "r ", 2))
			continue; /* (version 2 had no ring ... */
		else if (!strncmp(line, "preq ", 5))
			fprintf(f, "%.*s\n", (int)(strrchr(line, ' ') - line), line); /* ... and 7 losses) */
		else if (sscanf(line, "i %llx %u %u %u", &id, &sp, &hm, &dy) == 4 && id == id24)
			fprintf(f, "t %016llx %u %u %u 0 0\n",
			        (unsigned long long)hash_token(key, "ip24:198.51.100", 15), sp, hm, dy);
		else if (line[0] == 'i')
			continue; /* (a version 2 dump's other names: under the model key) */
		else if (line[0] == 'g')
			fprintf(f, "l%s\n", line + 1);
		else if (!strncmp(line, "tokens ", 7) || !strncmp(line, "learned ", 8))
			fprintf(f, "%s\n", line); /* fixed below */
		else
			fprintf(f, "%s\n", line);
	}
	fclose(f);
	free(v3);
	/* the counts of t/i and l/g lines: recount the file */
	char *v2 = tu_slurp(dump, &len);
	size_t nt = 0, nl = 0;
	for (char *p = v2; *p; p = strchr(p, '\n') + 1) {
		nt += p[0] == 't' && p[1] == ' ';
		nl += p[0] == 'l' && p[1] == ' ';
	}
	f = fopen(dump, "w");
	for (line = strtok_r(v2, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "tokens ", 7))
			fprintf(f, "tokens %zu\n", nt);
		else if (!strncmp(line, "learned ", 8))
			fprintf(f, "learned %zu\n", nl);
		else
			fprintf(f, "%s\n", line);
	}
	fclose(f);
	free(v2);

	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	snprintf(p2, sizeof p2, "%s/copy", dir);
	cr_assert_eq(thresh_db_open(p2, &o, &copy), 0);
	cr_assert_eq(thresh_db_import(copy, dump, 0, err, sizeof err), 0, "%s", err);
	cr_assert_eq(secret_read(p2, &k2, NULL, 0), 0);
	tok_counts c = counts(copy->st, k2.ident, "ip24:198.51.100");
	cr_expect(c.spam == 2 && (c.flags & COUNTS_IDENTITY), "%u", c.spam);
	cr_expect_eq(counts(copy->st, key, "ip24:198.51.100").spam, 0);
	thresh_stats st = {.size = sizeof st};
	cr_assert_eq(thresh_db_stats(copy, &st), 0);
	cr_expect(st.learned == 5 && st.legacy_learned == 5);
	/* the digests of format 2 are the model key's: they travel with it */
	thresh_comment *j = jane();
	cr_expect(has_reason(copy, j, "learned_ham"));
	thresh_comment_free(j);
	thresh_db_close(copy);
}
