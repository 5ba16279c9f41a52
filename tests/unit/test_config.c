/* src/lib/config.c: thresh.conf read, its errors naming FILE:LINE and what
 * was expected, the printed form read back, and reloads. */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

struct bad_conf {
	const char *text;
	const char *expect; /* in the message after "FILE:LINE: " */
	int line;
};

Test(config, errors_name_file_line_and_expectation)
{
	static const struct bad_conf bad[] = {
		{"nosuchkey = 1\n", "unknown key \"nosuchkey\"", 1},
		{"# fine\nrate_limit = lots\n", "rate_limit: expected a number", 2},
		{"rate_burst = 2.5\n", "rate_burst: expected a whole number", 1},
		{"rate_burst = 0\n", "rate_burst: expected a whole number from 1", 1},
		{"ip_rate_burst = 0\n", "ip_rate_burst: expected a whole number from 1", 1},
		{"ip_rate_limit = -2\n", "ip_rate_limit: expected a number from 0", 1},
		{"ip_rate_period = 0\n", "ip_rate_period: expected a number from 1", 1},
		{"honeypot = maybe\n", "honeypot: expected on or off", 1},
		{"rate_limit_action = drop\n", "expected hold or reject", 1},
		{"hold_cutoff = 2\n", "hold_cutoff: expected a number in its range", 1},
		{"\n\njust words\n", "expected \"key = value\"", 3},
		{"[threshd\n", "expected a section header", 1},
		{" = 3\n", "a value without a key", 1},
		{"moderation_words = \xff\xfe\n", "not valid UTF-8", 1},
		{"hold_cutoff = 0.9\nreject_cutoff = 0.8\n", "hold_cutoff is above reject_cutoff", 0},
		/* [cluster] is the library's own: checked like the main section */
		{"[cluster]\nredis = unix:/r.sock\nshards = 3\n", "unknown key \"shards\" in [cluster]", 3},
		{"[cluster]\nredis = localhost\n", "redis: expected unix:PATH or HOST:PORT", 2},
		{"[cluster]\nredis = unix:/r.sock\nnodes = 0\n", "nodes: expected a whole number from 1", 3},
		{"[cluster]\nredis = unix:/r.sock\ntimeout = 5s\n", "(milliseconds)", 3},
		{"[cluster]\nredis = unix:/r.sock\nnode = web 1\n", "node: expected 1 to 63 letters", 3},
		{"[cluster]\nnode = web1\n", "[cluster]: redis = unix:PATH or HOST:PORT is needed", 0},
	};
	char *dir = tu_tmpdir(), path[PATH_MAX], err[512];
	snprintf(path, sizeof path, "%s/thresh.conf", dir);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		FILE *f = fopen(path, "w");
		fputs(bad[i].text, f);
		fclose(f);
		conf *cf = NULL;
		err[0] = '\0';
		cr_expect_eq(conf_load(path, &cf, err, sizeof err), THRESH_ECONFIG, "%s", bad[i].text);
		char where[PATH_MAX + 32];
		snprintf(where, sizeof where, "%s:%d: ", path, bad[i].line);
		cr_expect(strncmp(err, where, strlen(where)) == 0, "[%s] should start with [%s]", err, where);
		cr_expect(strstr(err, bad[i].expect) != NULL, "[%s] should say [%s]", err, bad[i].expect);
	}
	/* through thresh_db_open: a bad file refuses to open, naming it */
	thresh_db *db;
	thresh_db_options o;
	char dbp[PATH_MAX];
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	o.config = path;
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	snprintf(dbp, sizeof dbp, "%s/db", dir);
	cr_expect_eq(thresh_db_open(dbp, &o, &db), THRESH_ECONFIG);
	cr_expect(strstr(err, "thresh.conf:") != NULL, "%s", err);
	tu_rmtree(dir);
	free(dir);
}

Test(config, read_printed_and_read_back)
{
	char *dir = tu_tmpdir(), path[PATH_MAX], dbp[PATH_MAX], buf[256];
	snprintf(path, sizeof path, "%s/thresh.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("# a site\nrate_limit = 2   # per minute\nrate_burst=1\nhold_links = 3\n"
	      "moderation_words = Rolex, cheap watches\nmoderation_words = viagra\n"
	      "hold_cutoff = 0.5\n\n[threshd]\nport = 9000\nport = 9001\n", f);
	fclose(f);
	thresh_db *db;
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE | THRESH_DB_EMPTY;
	o.config = path;
	snprintf(dbp, sizeof dbp, "%s/db", dir);
	cr_assert_eq(thresh_db_open(dbp, &o, &db), 0);
	cr_assert_eq(thresh_db_config_get(db, "rate_limit", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "2");
	/* the address's rate, by default (thresh.conf(5) says why) */
	static const char *const ip_keys[][2] = {
		{"ip_rate_limit", "20"}, {"ip_rate_period", "60"}, {"ip_rate_burst", "10"}};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(thresh_db_config_get(db, ip_keys[i][0], buf, sizeof buf), 0);
		cr_expect_str_eq(buf, ip_keys[i][1], "%s", ip_keys[i][0]);
	}
	cr_assert_eq(thresh_db_config_get(db, "moderation_words", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "rolex, cheap watches, viagra");
	cr_assert_eq(thresh_db_config_get(db, "threshd.port", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "9001", "the last of a repeated key wins");
	cr_expect_eq(thresh_db_config_get(db, "threshd.host", buf, sizeof buf), THRESH_ENOTFOUND);
	cr_expect_eq(thresh_db_config_get(db, "rate_limit", buf, 1), THRESH_ETOOBIG);
	double v;
	cr_assert_eq(thresh_db_param_get(db, "hold_cutoff", &v), 0);
	cr_expect_eq(v, 0.5, "the file overrides the stored cutoff");
	/* the printed configuration is itself a valid configuration */
	char *text;
	cr_assert_eq(thresh_db_config_text(db, &text), 0);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	cr_expect(strstr(text, "\nip_rate_limit = 20  # "), "thresh config shows the address's rate:\n%s",
	          text);
	cr_expect(strstr(text, "\nip_rate_burst = 10  # "), "%s", text);
	thresh_free(text);
	char err[256] = "";
	cr_assert_eq(thresh_db_config_reload(db, err, sizeof err), 0, "%s", err);
	cr_assert_eq(thresh_db_config_get(db, "hold_links", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "3");
	/* a thresh.conf that appears after open is read on reload */
	{
		char *d2;
		thresh_db *db2 = tu_empty_db(&d2);
		char p2[PATH_MAX + 16];
		cr_assert_eq(thresh_db_config_get(db2, "hold_links", buf, sizeof buf), 0);
		cr_expect_str_eq(buf, "2");
		snprintf(p2, sizeof p2, "%s/db/thresh.conf", d2);
		FILE *g = fopen(p2, "w");
		fputs("hold_links = 7\n", g);
		fclose(g);
		cr_assert_eq(thresh_db_config_reload(db2, err, sizeof err), 0, "%s", err);
		cr_assert_eq(thresh_db_config_get(db2, "hold_links", buf, sizeof buf), 0);
		cr_expect_str_eq(buf, "7");
		thresh_db_close(db2);
		tu_rmtree(d2);
		free(d2);
	}
	/* a broken reload keeps the configuration in force */
	f = fopen(path, "w");
	fputs("rate_limit = -1\n", f);
	fclose(f);
	cr_expect_eq(thresh_db_config_reload(db, err, sizeof err), THRESH_ECONFIG);
	cr_assert_eq(thresh_db_config_get(db, "rate_limit", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "2");
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}

Test(config, cluster_section)
{
	char *dir = tu_tmpdir(), path[PATH_MAX], err[512] = "", buf[64];
	snprintf(path, sizeof path, "%s/thresh.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("rate_limit = 4\n[cluster]\nredis = 10.0.0.5:6379\nnamespace = site-1\nnode = web2\n"
	      "nodes = 4\ntimeout = 30\nconnect_timeout = 60\nbatch = 100\nsnapshot_every = 500\n"
	      "stream_max = 5000\nretain = 0\nupload_timeout = 5000\n", f);
	fclose(f);
	conf *cf = NULL;
	cr_assert_eq(conf_load(path, &cf, err, sizeof err), 0, "%s", err);
	cr_expect_eq(cf->cl.on, 1);
	cr_expect_str_eq(cf->cl.redis, "10.0.0.5:6379");
	cr_expect_str_eq(cf->cl.ns, "site-1");
	cr_expect_str_eq(cf->cl.node, "web2");
	cr_expect_eq(cf->cl.nodes, 4);
	cr_expect_eq(cf->cl.timeout_ms, 30);
	cr_expect_eq(cf->cl.connect_timeout_ms, 60);
	cr_expect_eq(cf->cl.batch, 100);
	cr_expect_eq(cf->cl.snapshot_every, 500);
	cr_expect_eq(cf->cl.stream_max, 5000);
	cr_expect_eq(cf->cl.retain, 0);
	cr_expect_eq(cf->cl.upload_timeout_ms, 5000);
	model_meta m;
	memset(&m, 0, sizeof m);
	cr_expect_eq(conf_get(cf, &m, "cluster.node", buf, sizeof buf), 0);
	cr_expect_str_eq(buf, "web2");
	conf_unref(cf);
	/* without the section: off, and the defaults */
	f = fopen(path, "w");
	fputs("rate_limit = 4\n", f);
	fclose(f);
	cr_assert_eq(conf_load(path, &cf, err, sizeof err), 0, "%s", err);
	cr_expect_eq(cf->cl.on, 0);
	cr_expect_str_eq(cf->cl.ns, "thresh");
	cr_expect_eq(cf->cl.timeout_ms, 50);
	cr_expect_eq(cf->cl.upload_timeout_ms, 60000);
	cr_expect_eq(cf->cl.nodes, 1);
	cr_expect_neq(cf->cl.node[0], '\0', "the host name by default");
	conf_unref(cf);
	/* an upload_timeout shorter than a chunk can take is refused */
	cluster_conf cc;
	cluster_conf_defaults(&cc);
	cr_expect_eq(cluster_conf_set(&cc, "upload_timeout", "999", err, sizeof err), -1);
	cr_expect(strstr(err, "upload_timeout: expected a whole number from 1000 to 3600000 "
	                      "(milliseconds)"), "%s", err);
	cr_expect_eq(cc.upload_timeout_ms, 60000);
	tu_rmtree(dir);
	free(dir);
}
