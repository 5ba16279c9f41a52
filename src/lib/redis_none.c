/* redis_none.c - redis.h in a build without hiredis (meson -Dredis=disabled,
 * or hiredis not found): every function answers THRESH_ENOTSUP, so a
 * configured [cluster] is refused with a message that says why. The unit
 * test test_cluster_off links this file in place of redis.c. */
#include <stddef.h>

#include "thresh/error.h"
#include "errors.h"
#include "redis.h"

int redis_available(void)
{
	return 0;
}

int rconn_open(const char *addr, int connect_ms, int cmd_ms, rconn **out, char *err, size_t errsize)
{
	(void)connect_ms, (void)cmd_ms, (void)out;
	set_err(err, errsize, "%s: this libthresh was built without Redis support (hiredis)",
	        addr ? addr : "");
	return THRESH_ENOTSUP;
}

void rconn_close(rconn *c)
{
	(void)c;
}

int rconn_timeout(rconn *c, int cmd_ms)
{
	(void)c, (void)cmd_ms;
	return THRESH_ENOTSUP;
}

int rconn_cmd(rconn *c, rreply **out, int argc, const char **argv, const size_t *lens)
{
	(void)c, (void)out, (void)argc, (void)argv, (void)lens;
	return THRESH_ENOTSUP;
}

int rconn_broken(const rconn *c)
{
	(void)c;
	return 1;
}

const rval *rreply_root(const rreply *r)
{
	(void)r;
	return NULL;
}

void rreply_free(rreply *r)
{
	(void)r;
}

int rconn_eval(rconn *c, const rscript *s, rreply **out, int nkeys, int argc, const char **argv,
               const size_t *lens)
{
	(void)c, (void)s, (void)out, (void)nkeys, (void)argc, (void)argv, (void)lens;
	return THRESH_ENOTSUP;
}

int rconn_send(rconn *c, int argc, const char **argv, const size_t *lens)
{
	(void)c, (void)argc, (void)argv, (void)lens;
	return THRESH_ENOTSUP;
}

int rconn_recv(rconn *c, rreply **out)
{
	(void)c, (void)out;
	return THRESH_ENOTSUP;
}

int rconn_eval_send(rconn *c, const rscript *s, int nkeys, int argc, const char **argv,
                    const size_t *lens)
{
	(void)c, (void)s, (void)nkeys, (void)argc, (void)argv, (void)lens;
	return THRESH_ENOTSUP;
}

int rconn_eval_recv(rconn *c, const rscript *s, rreply **out, int nkeys, int argc,
                    const char **argv, const size_t *lens)
{
	(void)c, (void)s, (void)out, (void)nkeys, (void)argc, (void)argv, (void)lens;
	return THRESH_ENOTSUP;
}
