/* A libthresh built without hiredis (meson -Dredis=disabled): this test
 * links src/lib/redis_none.c ahead of the library, so the library's Redis
 * functions are the stand-ins. A [cluster] section is refused when the
 * database is opened, with a message that says why; the rest works as
 * without one. */
#include <criterion/criterion.h>

#include "clusterutil.h"

Test(cluster_off, a_cluster_section_is_refused_clearly)
{
	char *dir;
	thresh_db *db = tu_empty_db(&dir);
	thresh_db_close(db);
	char path[PATH_MAX], conf[PATH_MAX + 16], err[512] = "";
	snprintf(path, sizeof path, "%s/db", dir);
	snprintf(conf, sizeof conf, "%s/thresh.conf", path);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs("[cluster]\nredis = unix:/run/redis.sock\n", f);
	fclose(f);
	thresh_db_options o;
	thresh_db_options_init(&o);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	cr_expect_eq(thresh_db_open(path, &o, &db), THRESH_ECONFIG);
	cr_expect(strstr(err, "built without Redis support"), "%s", err);
	/* without the section: as always, and no key can make it a node */
	unlink(conf);
	cr_assert_eq(thresh_db_open(path, NULL, &db), 0);
	cr_expect_eq(thresh_db_cluster_set(db, "redis", "unix:/run/redis.sock"), THRESH_ENOTSUP);
	cr_expect_eq(thresh_db_replicate(db, 0, NULL), THRESH_ENOTFOUND);
	tu_learn(db, "still learns", THRESH_SPAM);
	thresh_db_close(db);
	tu_rmtree(dir);
	free(dir);
}
