/* redis.h - a connection to Redis: the only part of thresh that knows
 * hiredis (redis.c), as store.c is the only one that knows LMDB. Built
 * without hiredis (meson -Dredis=disabled), redis_none.c stands in with
 * the same functions, each answering THRESH_ENOTSUP.
 *
 * Every call is blocking, with a timeout: a connection is made within the
 * connect timeout and each command must be answered within the command
 * timeout (hiredis 0.14 forgets its timeout on redisReconnect, so a broken
 * connection is never reconnected in place: it is closed and a new one is
 * made, and the timeout set again on it). A connection that failed once
 * (I/O error, timeout, protocol error) is broken for good: the caller
 * closes it. Written against the blocking RESP2 API that hiredis 0.14 and
 * 1.x share. */
#ifndef THRESH_REDIS_H
#define THRESH_REDIS_H

#include <stddef.h>

/* A reply, as a tree that points into hiredis's own reply (no copies). */
enum rv_type { RV_STR = 1, RV_ARR, RV_INT, RV_NIL, RV_STATUS, RV_ERR };

typedef struct rval {
	int type;           /* RV_* */
	long long i;        /* RV_INT */
	const char *s;      /* RV_STR, RV_STATUS, RV_ERR: len bytes (NUL-terminated too) */
	size_t len;
	struct rval *el;    /* RV_ARR: n elements */
	size_t n;
} rval;

typedef struct rreply rreply;
typedef struct rconn rconn;

/* redis_available - 1 when this build talks to Redis. Cannot fail. */
int redis_available(void);

/* rconn_open - connect to addr, "unix:PATH" or "HOST:PORT" ("[V6]:PORT"),
 * within connect_ms, and set the command timeout cmd_ms. Returns 0,
 * THRESH_EINVAL (a malformed address), THRESH_EUNAVAIL (could not connect;
 * why in err) or THRESH_ENOMEM. */
int rconn_open(const char *addr, int connect_ms, int cmd_ms, rconn **out, char *err, size_t errsize);

/* rconn_close - close it. Accepts NULL. */
void rconn_close(rconn *c);

/* rconn_timeout - change the command timeout (a blocking read waits
 * longer). Returns 0 or THRESH_EUNAVAIL (the connection is broken). */
int rconn_timeout(rconn *c, int cmd_ms);

/* rconn_cmd - send one command of argc arguments (binary-safe: lens[i]
 * bytes of argv[i]; lens NULL: strlen) and wait for its reply. An error
 * reply of Redis is a reply (RV_ERR), not a failure. Returns 0 with *out
 * (free it with rreply_free), THRESH_EUNAVAIL (no answer in time, or the
 * connection broke: close it) or THRESH_ENOMEM. */
int rconn_cmd(rconn *c, rreply **out, int argc, const char **argv, const size_t *lens);

/* rconn_send / rconn_recv - rconn_cmd in two halves, so that a caller can
 * work while Redis answers: rconn_send writes the command out, rconn_recv
 * waits for its reply (at most the command timeout). One command at a time
 * may be outstanding. Return as rconn_cmd. */
int rconn_send(rconn *c, int argc, const char **argv, const size_t *lens);
int rconn_recv(rconn *c, rreply **out);

/* rconn_broken - 1 when the connection failed and must be closed. */
int rconn_broken(const rconn *c);

/* rreply_root - the reply's tree. */
const rval *rreply_root(const rreply *r);
/* rreply_free - release a reply. Accepts NULL. */
void rreply_free(rreply *r);

/* A Lua script run with EVALSHA, falling back to EVAL when Redis does
 * not know it (NOSCRIPT: a restarted or flushed Redis). The SHA-1 that
 * EVALSHA names is learnt per connection with SCRIPT LOAD. */
typedef struct rscript {
	const char *name; /* for messages */
	const char *src;
	int slot;         /* 0 .. RCONN_SCRIPTS-1, distinct per script (cluster.c
	                   * uses 0 to 7); a slot out of range is THRESH_EINVAL */
} rscript;
#define RCONN_SCRIPTS 16

/* rconn_eval - run script s with nkeys keys followed by the other
 * arguments in argv (binary-safe as rconn_cmd). Returns as rconn_cmd. */
int rconn_eval(rconn *c, const rscript *s, rreply **out, int nkeys, int argc, const char **argv,
               const size_t *lens);

/* rconn_eval_send / rconn_eval_recv - rconn_eval in two halves (the
 * script's SHA-1 learnt first when it must be; a NOSCRIPT answer sends the
 * script itself with EVAL and waits for that). */
int rconn_eval_send(rconn *c, const rscript *s, int nkeys, int argc, const char **argv,
                    const size_t *lens);
int rconn_eval_recv(rconn *c, const rscript *s, rreply **out, int nkeys, int argc,
                    const char **argv, const size_t *lens);

#endif
