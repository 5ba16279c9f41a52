/* redis.c - see redis.h. The only file in thresh that includes hiredis. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "thresh/error.h"
#include "errors.h"
#include "redis.h"

struct rconn {
	redisContext *ctx;
	int broken;
	char sha[RCONN_SCRIPTS][41]; /* learnt with SCRIPT LOAD; "" unknown */
};

struct rreply {
	redisReply *raw;
	rval root;
};

int redis_available(void)
{
	return 1;
}

static struct timeval tv_ms(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	return tv;
}

int rconn_open(const char *addr, int connect_ms, int cmd_ms, rconn **out, char *err, size_t errsize)
{
	redisContext *ctx;
	char host[256];
	if (!addr || !*addr || connect_ms <= 0 || cmd_ms <= 0)
		return THRESH_EINVAL;
	if (!strncmp(addr, "unix:", 5)) {
		if (!addr[5])
			return THRESH_EINVAL;
		ctx = redisConnectUnixWithTimeout(addr + 5, tv_ms(connect_ms));
	} else {
		const char *colon = strrchr(addr, ':');
		char *end;
		if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host)
			return THRESH_EINVAL;
		long port = strtol(colon + 1, &end, 10);
		if (*end || port <= 0 || port > 65535 || end == colon + 1)
			return THRESH_EINVAL;
		size_t n = (size_t)(colon - addr);
		if (addr[0] == '[' && addr[n - 1] == ']') { /* [::1]:6379 */
			memcpy(host, addr + 1, n - 2);
			host[n - 2] = '\0';
		} else {
			memcpy(host, addr, n);
			host[n] = '\0';
		}
		ctx = redisConnectWithTimeout(host, (int)port, tv_ms(connect_ms));
	}
	if (!ctx)
		return THRESH_ENOMEM;
	/* The command timeout, set on this very connection: a reconnect in
	 * place would forget it in hiredis 0.14, so there is none. */
	if (ctx->err || redisSetTimeout(ctx, tv_ms(cmd_ms)) != REDIS_OK) {
		set_err(err, errsize, "%s: %s", addr, ctx->err ? ctx->errstr : "cannot set a timeout");
		redisFree(ctx);
		return THRESH_EUNAVAIL;
	}
	rconn *c = calloc(1, sizeof *c);
	if (!c) {
		redisFree(ctx);
		return THRESH_ENOMEM;
	}
	c->ctx = ctx;
	*out = c;
	return 0;
}

void rconn_close(rconn *c)
{
	if (!c)
		return;
	redisFree(c->ctx);
	free(c);
}

int rconn_timeout(rconn *c, int cmd_ms)
{
	if (c->broken || redisSetTimeout(c->ctx, tv_ms(cmd_ms)) != REDIS_OK) {
		c->broken = 1;
		return THRESH_EUNAVAIL;
	}
	return 0;
}

int rconn_broken(const rconn *c)
{
	return !c || c->broken || c->ctx->err;
}

/* count - the nodes of a reply tree. */
static size_t count(const redisReply *r)
{
	size_t n = 1;
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < r->elements; i++)
			n += count(r->element[i]);
	return n;
}

/* convert - r into v, its array elements from pool. */
static void convert(const redisReply *r, rval *v, rval **pool)
{
	memset(v, 0, sizeof *v);
	switch (r->type) {
	case REDIS_REPLY_STRING:
		v->type = RV_STR;
		break;
	case REDIS_REPLY_STATUS:
		v->type = RV_STATUS;
		break;
	case REDIS_REPLY_ERROR:
		v->type = RV_ERR;
		break;
	case REDIS_REPLY_INTEGER:
		v->type = RV_INT;
		v->i = r->integer;
		return;
	case REDIS_REPLY_ARRAY:
		v->type = RV_ARR;
		v->n = r->elements;
		v->el = *pool;
		*pool += r->elements;
		for (size_t i = 0; i < r->elements; i++)
			convert(r->element[i], &v->el[i], pool);
		return;
	default:
		v->type = RV_NIL;
		return;
	}
	v->s = r->str ? r->str : "";
	v->len = r->str ? r->len : 0;
}

/* wrap - our tree over hiredis's reply (taken over). */
static int wrap(redisReply *raw, rreply **out)
{
	size_t n = count(raw);
	rreply *r = malloc(sizeof *r + n * sizeof(rval));
	if (!r) {
		freeReplyObject(raw);
		return THRESH_ENOMEM;
	}
	r->raw = raw;
	rval *pool = (rval *)(r + 1);
	convert(raw, &r->root, &pool);
	*out = r;
	return 0;
}

int rconn_cmd(rconn *c, rreply **out, int argc, const char **argv, const size_t *lens)
{
	if (rconn_broken(c))
		return THRESH_EUNAVAIL;
	redisReply *raw = redisCommandArgv(c->ctx, argc, argv, lens);
	if (!raw) {
		c->broken = 1; /* a timeout, a reset, a protocol error: never reused */
		return c->ctx->err == REDIS_ERR_OOM ? THRESH_ENOMEM : THRESH_EUNAVAIL;
	}
	return wrap(raw, out);
}

int rconn_send(rconn *c, int argc, const char **argv, const size_t *lens)
{
	int done = 0;
	if (rconn_broken(c))
		return THRESH_EUNAVAIL;
	if (redisAppendCommandArgv(c->ctx, argc, argv, lens) != REDIS_OK) {
		c->broken = 1;
		return c->ctx->err == REDIS_ERR_OOM ? THRESH_ENOMEM : THRESH_EUNAVAIL;
	}
	while (!done)
		if (redisBufferWrite(c->ctx, &done) != REDIS_OK) {
			c->broken = 1;
			return THRESH_EUNAVAIL;
		}
	return 0;
}

int rconn_recv(rconn *c, rreply **out)
{
	void *raw = NULL;
	if (rconn_broken(c))
		return THRESH_EUNAVAIL;
	if (redisGetReply(c->ctx, &raw) != REDIS_OK || !raw) {
		c->broken = 1;
		return c->ctx->err == REDIS_ERR_OOM ? THRESH_ENOMEM : THRESH_EUNAVAIL;
	}
	return wrap(raw, out);
}

const rval *rreply_root(const rreply *r)
{
	return &r->root;
}

void rreply_free(rreply *r)
{
	if (!r)
		return;
	freeReplyObject(r->raw);
	free(r);
}

/* script_load - the SHA-1 of s on this connection. */
static int script_load(rconn *c, const rscript *s)
{
	const char *argv[3] = {"SCRIPT", "LOAD", s->src};
	rreply *r;
	int rc = rconn_cmd(c, &r, 3, argv, NULL);
	if (rc)
		return rc;
	const rval *v = rreply_root(r);
	if (v->type == RV_STR && v->len == 40) {
		memcpy(c->sha[s->slot], v->s, 41);
		rc = 0;
	} else {
		rc = THRESH_EUNAVAIL; /* a Redis that cannot load it (OOM, read-only replica...) */
	}
	rreply_free(r);
	return rc;
}

/* eval_args - the arguments of EVALSHA (or EVAL with the source) of s. */
static int eval_args(rconn *c, const rscript *s, int with_src, int nkeys, int argc,
                     const char **argv, const size_t *lens, const char ***av_out, size_t **lv_out,
                     char nk[16])
{
	const char **av = malloc((size_t)(argc + 3) * sizeof *av);
	size_t *lv = malloc((size_t)(argc + 3) * sizeof *lv);
	if (!av || !lv) {
		free(av);
		free(lv);
		return THRESH_ENOMEM;
	}
	snprintf(nk, 16, "%d", nkeys);
	for (int i = 0; i < argc; i++) {
		av[i + 3] = argv[i];
		lv[i + 3] = lens ? lens[i] : strlen(argv[i]);
	}
	av[0] = with_src ? "EVAL" : "EVALSHA";
	av[1] = with_src ? s->src : c->sha[s->slot];
	av[2] = nk;
	lv[0] = strlen(av[0]);
	lv[1] = strlen(av[1]);
	lv[2] = strlen(nk);
	*av_out = av;
	*lv_out = lv;
	return 0;
}

int rconn_eval_send(rconn *c, const rscript *s, int nkeys, int argc, const char **argv,
                    const size_t *lens)
{
	const char **av;
	size_t *lv;
	char nk[16];
	int rc;
	if (s->slot < 0 || s->slot >= RCONN_SCRIPTS || argc < 0 || argc > 100000)
		return THRESH_EINVAL;
	if (!c->sha[s->slot][0] && (rc = script_load(c, s)))
		return rc;
	if ((rc = eval_args(c, s, 0, nkeys, argc, argv, lens, &av, &lv, nk)))
		return rc;
	rc = rconn_send(c, argc + 3, av, lv);
	free(av);
	free(lv);
	return rc;
}

int rconn_eval_recv(rconn *c, const rscript *s, rreply **out, int nkeys, int argc,
                    const char **argv, const size_t *lens)
{
	const char **av;
	size_t *lv;
	char nk[16];
	int rc = rconn_recv(c, out);
	if (rc || rreply_root(*out)->type != RV_ERR || strncmp(rreply_root(*out)->s, "NOSCRIPT", 8))
		return rc;
	/* Redis restarted or was flushed since SCRIPT LOAD: EVAL loads it again. */
	rreply_free(*out);
	*out = NULL;
	if ((rc = eval_args(c, s, 1, nkeys, argc, argv, lens, &av, &lv, nk)))
		return rc;
	rc = rconn_cmd(c, out, argc + 3, av, lv);
	free(av);
	free(lv);
	return rc;
}

int rconn_eval(rconn *c, const rscript *s, rreply **out, int nkeys, int argc, const char **argv,
               const size_t *lens)
{
	int rc = rconn_eval_send(c, s, nkeys, argc, argv, lens);
	return rc ? rc : rconn_eval_recv(c, s, out, nkeys, argc, argv, lens);
}
