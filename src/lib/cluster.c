/* cluster.c - see cluster.h. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "thresh/error.h"
#include "cluster.h"
#include "redis.h"
#include "replica.h"

#define POOL_MAX 8                /* idle rate-limit connections kept */
#define BACKOFF_MIN 0.05          /* seconds without trying Redis after a failure, doubling */
#define BACKOFF_MAX 5.0
#define REFUSED_RETRY 30.0        /* a refused node asks again this much later */
#define REPL_TIMEOUT_MS 5000      /* the replicator's command timeout */
#define SNAP_CHUNK (1u << 20)     /* bytes per APPEND or GETRANGE of a snapshot */
#define PUBLISH_BYTES (1u << 20)  /* event bytes per publishing script call */
#define TRIM_EVERY 50             /* rounds between two trims of retained learns */

/* ---------- the scripts ---------- */

/* GCRA, the same rule and arithmetic as ratelimit.c, in doubles, for every
 * bucket of a comment at once (KEYS: the buckets; ARGV: now, then T and tau
 * of each bucket in turn): the comment conforms only when it conforms to
 * each, and only then does every TAT advance; otherwise it answers the
 * longest wait and which buckets refused (bit i for KEYS[i + 1]). The TAT is
 * stored in whole microseconds (formatted as an integer: Lua would print a
 * number with 14 digits), now is Redis's clock unless given. A key expires
 * a second after its TAT, when the author or address counts as never seen. */
static const rscript s_rate = {"rate",
	"local now\n"
	"if ARGV[1] == '' then\n"
	"  local t = redis.call('TIME')\n"
	"  now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"
	"else\n"
	"  now = tonumber(ARGV[1])\n"
	"end\n"
	"local tats, wait, refused, bit = {}, 0, 0, 1\n"
	"for i = 1, #KEYS do\n"
	"  local tau = tonumber(ARGV[2 * i + 1])\n"
	"  local v = redis.call('GET', KEYS[i])\n"
	"  local tat = now\n"
	"  if v then tat = math.max(tonumber(v) / 1e6, now) end\n"
	"  tats[i] = tat\n"
	"  if tat - now > tau + 1e-9 then\n"
	"    refused = refused + bit\n"
	"    wait = math.max(wait, tat - tau - now)\n"
	"  end\n"
	"  bit = bit * 2\n"
	"end\n"
	"if refused > 0 then return {0, string.format('%.17g', wait), refused} end\n"
	"for i = 1, #KEYS do\n"
	"  local nt = math.floor((tats[i] + tonumber(ARGV[2 * i])) * 1e6 + 0.5)\n"
	"  local px = math.ceil((nt / 1e6 - now) * 1000) + 1000\n"
	"  redis.call('SET', KEYS[i], string.format('%.0f', nt), 'PX', string.format('%.0f', px))\n"
	"end\n"
	"return {1, '0', 0}\n",
	0};

/* Publish: KEYS epoch seq log pub; ARGV epoch node maxlen, then pairs of a
 * local sequence and an event. Refused when the epoch changed; an event at
 * or below the origin's last published local sequence is skipped. */
static const rscript s_publish = {"publish",
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('EPOCH changed') end\n"
	"local last = tonumber(redis.call('HGET', KEYS[4], ARGV[2]) or '0')\n"
	"local t = redis.call('TIME')\n"
	"local ms = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))\n"
	"local n = 0\n"
	"for i = 4, #ARGV, 2 do\n"
	"  local l = tonumber(ARGV[i])\n"
	"  if l > last then\n"
	"    local s = redis.call('INCR', KEYS[2])\n"
	"    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], string.format('%.0f', s) .. '-0',\n"
	"               'n', ARGV[2], 'l', ARGV[i], 't', ms, 'p', ARGV[1], 'e', ARGV[i + 1])\n"
	"    last = l\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"if n > 0 then redis.call('HSET', KEYS[4], ARGV[2], string.format('%.0f', last)) end\n"
	"return {n, string.format('%.0f', last)}\n",
	1};

/* A new epoch: KEYS epoch lock tmp snap snapseq seq log pub progress;
 * ARGV node epoch length. Only the holder of the lock, only while there is
 * no epoch, only with the whole upload there (length bytes); otherwise the
 * upload goes, and the lock when it is this node's. The snapshot keeps no
 * expiry of its upload. */
static const rscript s_epoch = {"epoch",
	"local mine = redis.call('GET', KEYS[2]) == ARGV[1]\n"
	"if redis.call('EXISTS', KEYS[1]) == 1 or not mine or\n"
	"   redis.call('STRLEN', KEYS[3]) ~= tonumber(ARGV[3]) then\n"
	"  redis.call('DEL', KEYS[3])\n"
	"  if mine then redis.call('DEL', KEYS[2]) end\n"
	"  return 0\n"
	"end\n"
	"redis.call('DEL', KEYS[6], KEYS[7], KEYS[8], KEYS[9])\n"
	"redis.call('RENAME', KEYS[3], KEYS[4])\n"
	"redis.call('PERSIST', KEYS[4])\n"
	"redis.call('SET', KEYS[5], '0')\n"
	"redis.call('SET', KEYS[6], '0')\n"
	"redis.call('SET', KEYS[1], ARGV[2])\n"
	"redis.call('DEL', KEYS[2])\n"
	"return 1\n",
	2};

/* Install a snapshot: KEYS epoch tmp snap snapseq; ARGV epoch seq length.
 * Only a newer one, only in the same epoch, only the whole upload (length
 * bytes); otherwise the upload goes. It keeps no expiry of its upload. */
static const rscript s_snap = {"snapshot",
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] or\n"
	"   redis.call('STRLEN', KEYS[2]) ~= tonumber(ARGV[3]) then\n"
	"  redis.call('DEL', KEYS[2])\n"
	"  return 0\n"
	"end\n"
	"local cur = tonumber(redis.call('GET', KEYS[4]) or '-1')\n"
	"if tonumber(ARGV[2]) <= cur then redis.call('DEL', KEYS[2]) return 0 end\n"
	"redis.call('RENAME', KEYS[2], KEYS[3])\n"
	"redis.call('PERSIST', KEYS[3])\n"
	"redis.call('SET', KEYS[4], ARGV[2])\n"
	"return 1\n",
	3};

/* Forget an epoch whose log went back (Redis restarted from an older
 * append-only file than some node applied): KEYS epoch; ARGV epoch. */
static const rscript s_drop_epoch = {"drop-epoch",
	"if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end\n"
	"return 0\n",
	4};

/* Take the lock of a new epoch: KEYS epoch lock; ARGV node ms. Only while
 * there is no epoch, in the same step: a node that found Redis empty and
 * then lost the race must not take the lock the winner's commit has just
 * released, and upload a snapshot of an epoch it can never begin. */
static const rscript s_lock = {"lock",
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end\n"
	"return 0\n",
	5};

/* One chunk of a snapshot into this node's temporary key: KEYS tmp [lock];
 * ARGV offset chunk ttl [node]. The first chunk makes the key afresh, and
 * each one gives it ttl ms more: a node that dies or hangs mid-upload
 * leaves nothing behind for longer. A chunk that does not follow what the
 * key holds (it expired, or was removed) fails. With the lock (a new
 * epoch's upload): only while it is this node's, each chunk renewing it
 * for ttl too. The chunk is written first: under maxmemory, a script's
 * first write decides whether it may write at all. */
static const rscript s_upload = {"upload",
	"if #KEYS > 1 and redis.call('GET', KEYS[2]) ~= ARGV[4] then\n"
	"  redis.call('DEL', KEYS[1])\n"
	"  return redis.error_reply('LOCK lost: another node makes the epoch')\n"
	"end\n"
	"local off = tonumber(ARGV[1])\n"
	"if off == 0 then\n"
	"  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n"
	"elseif redis.call('STRLEN', KEYS[1]) ~= off then\n"
	"  return redis.error_reply('UPLOAD lost its temporary key (expired: see upload_timeout)')\n"
	"else\n"
	"  redis.call('APPEND', KEYS[1], ARGV[2])\n"
	"  redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
	"end\n"
	"if #KEYS > 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end\n"
	"return 1\n",
	6};

/* Give an upload up: KEYS tmp [lock]; ARGV node. The temporary key goes,
 * and the lock when it is this node's. */
static const rscript s_abandon = {"abandon",
	"redis.call('DEL', KEYS[1])\n"
	"if #KEYS > 1 and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end\n"
	"return 1\n",
	7};

/* ---------- state ---------- */

struct cluster {
	pthread_mutex_t lock;        /* the pool and the backoff */
	pid_t pid;                   /* the process the connections belong to */
	char addr[256];              /* the Redis they are connected to */
	rconn *idle[POOL_MAX];
	size_t nidle;
	double retry_at;             /* monotonic: no Redis before then */
	double backoff;
	int refused;
	atomic_int up;
	_Atomic uint64_t fallbacks;

	pthread_mutex_t rlock;       /* the replicator: one round at a time */
	rconn *repl;
	char repl_addr[256];         /* the Redis repl is connected to */
	int group_ready;             /* the consumer group is at our sequence */
	uint64_t pub_last;           /* the last local sequence Redis has of ours */
	int pub_known;
	unsigned rounds;
	uint64_t snap_seen;          /* NS:snapseq as last read: none asked before seq passes it */
	int snap_known;
	_Atomic uint64_t published, applied;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cluster_new(cluster **out)
{
	cluster *cl = calloc(1, sizeof *cl);
	if (!cl)
		return THRESH_ENOMEM;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_mutex_init(&cl->rlock, NULL);
	cl->pid = getpid();
	atomic_init(&cl->up, 0);
	*out = cl;
	return 0;
}

void cluster_free(cluster *cl)
{
	if (!cl)
		return;
	if (cl->pid == getpid()) {
		for (size_t i = 0; i < cl->nidle; i++)
			rconn_close(cl->idle[i]);
		rconn_close(cl->repl);
	}
	pthread_mutex_destroy(&cl->lock);
	pthread_mutex_destroy(&cl->rlock);
	free(cl);
}

/* key - "NS:name" into buf. */
static const char *key(char *buf, size_t size, const cluster_conf *cc, const char *name)
{
	snprintf(buf, size, "%s:%s", cc->ns, name);
	return buf;
}

/* cmd - a command of NUL-terminated arguments (NULL-terminated list). */
static int cmd(rconn *c, rreply **out, ...)
{
	const char *argv[16];
	int argc = 0;
	va_list ap;
	va_start(ap, out);
	for (const char *a; argc < 16 && (a = va_arg(ap, const char *));)
		argv[argc++] = a;
	va_end(ap);
	return rconn_cmd(c, out, argc, argv, NULL);
}

/* fp_check - the cluster's fingerprint against ours (the first node to ask
 * sets it). Returns 0, THRESH_EREFUSED or THRESH_EUNAVAIL. */
static int fp_check(rconn *c, const cluster_conf *cc, const char *fp)
{
	char k[160];
	rreply *r;
	key(k, sizeof k, cc, "fp");
	int rc = cmd(c, &r, "SET", k, fp, "NX", NULL);
	if (rc)
		return rc;
	rreply_free(r);
	if ((rc = cmd(c, &r, "GET", k, NULL)))
		return rc;
	const rval *v = rreply_root(r);
	if (v->type == RV_ERR)
		rc = THRESH_EUNAVAIL;
	else if (v->type != RV_STR || strcmp(v->s, fp))
		rc = THRESH_EREFUSED;
	rreply_free(r);
	return rc;
}

/* fail_backoff - after a failure: no Redis for a while, doubling. */
static void fail_backoff(cluster *cl, int refused)
{
	pthread_mutex_lock(&cl->lock);
	cl->backoff = cl->backoff ? fmin(cl->backoff * 2, BACKOFF_MAX) : BACKOFF_MIN;
	cl->retry_at = mono() + (refused ? REFUSED_RETRY : cl->backoff);
	cl->refused = refused;
	pthread_mutex_unlock(&cl->lock);
	atomic_store(&cl->up, 0);
}

static void ok_backoff(cluster *cl)
{
	if (atomic_load(&cl->up))
		return;
	pthread_mutex_lock(&cl->lock);
	cl->backoff = 0;
	cl->refused = 0;
	pthread_mutex_unlock(&cl->lock);
	atomic_store(&cl->up, 1);
}

/* pool_take - an idle connection, or a new one made before deadline
 * (fingerprint checked); NULL when Redis is to be left alone for now. */
static rconn *pool_take(cluster *cl, const cluster_conf *cc, const char *fp, double deadline, int *rc)
{
	rconn *c = NULL;
	*rc = THRESH_EUNAVAIL;
	pthread_mutex_lock(&cl->lock);
	if (cl->pid != getpid()) {
		/* a forked child: the parent's sockets are not ours to use */
		cl->nidle = 0;
		cl->pid = getpid();
		cl->repl = NULL;
		cl->group_ready = cl->pub_known = 0;
	}
	if (strcmp(cl->addr, cc->redis)) {
		/* another Redis since (thresh.conf reloaded): the old connections go */
		for (size_t i = 0; i < cl->nidle; i++)
			rconn_close(cl->idle[i]);
		cl->nidle = 0;
		snprintf(cl->addr, sizeof cl->addr, "%s", cc->redis);
		cl->retry_at = 0;
	}
	if (mono() < cl->retry_at) {
		*rc = cl->refused ? THRESH_EREFUSED : THRESH_EUNAVAIL;
		pthread_mutex_unlock(&cl->lock);
		return NULL;
	}
	if (cl->nidle)
		c = cl->idle[--cl->nidle];
	pthread_mutex_unlock(&cl->lock);
	if (c) {
		*rc = 0;
		return c;
	}
	int left = (int)ceil((deadline - mono()) * 1000);
	if (left <= 0)
		return NULL;
	int cms = (int)cc->connect_timeout_ms < left ? (int)cc->connect_timeout_ms : left;
	if ((*rc = rconn_open(cc->redis, cms, left, &c, NULL, 0)))
		return NULL;
	/* what is left of the deadline for the fingerprint, then the full
	 * timeout for the commands that follow */
	left = (int)ceil((deadline - mono()) * 1000);
	if (left <= 0 || rconn_timeout(c, left) || (*rc = fp_check(c, cc, fp)) ||
	    (*rc = rconn_timeout(c, (int)cc->timeout_ms))) {
		if (!*rc)
			*rc = THRESH_EUNAVAIL;
		rconn_close(c);
		return NULL;
	}
	return c;
}

static void pool_give(cluster *cl, rconn *c)
{
	pthread_mutex_lock(&cl->lock);
	if (cl->pid == getpid() && !rconn_broken(c) && cl->nidle < POOL_MAX) {
		cl->idle[cl->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&cl->lock);
	rconn_close(c);
}

/* ---------- the rate limit ---------- */

/* rate_argv - the script's keys and arguments for q into argv; returns how
 * many (its keys first, then now, then T and tau of each bucket). */
static int rate_argv(const cluster_rate *q, const char **argv)
{
	int argc = 0;
	for (int k = 0; k < q->n; k++)
		argv[argc++] = q->key[k];
	argv[argc++] = q->now;
	for (int k = 0; k < q->n; k++) {
		argv[argc++] = q->t[k];
		argv[argc++] = q->tau[k];
	}
	return argc;
}

void cluster_rate_send(cluster *cl, const cluster_conf *cc, const char *fp, const rate_bucket *b,
                       size_t n, double now, cluster_rate *q)
{
	int rc;
	q->n = 0;
	for (size_t i = 0; i < n && i < RATE_BUCKETS_MAX; i++) {
		const rate_rule *rule = &b[i].rule;
		if (!(rule->rate > 0) || rule->burst < 1)
			continue; /* off: it always conforms, Redis need not know */
		int k = q->n++, w = snprintf(q->key[k], sizeof q->key[k], "%s:rl:", cc->ns);
		for (int j = 0; j < HASH_ID_BYTES && w + 2 < (int)sizeof q->key[k]; j++)
			w += snprintf(q->key[k] + w, sizeof q->key[k] - (size_t)w, "%02x", b[i].id[j]);
		double T = rule->period / rule->rate;
		snprintf(q->t[k], sizeof q->t[k], "%.17g", T);
		snprintf(q->tau[k], sizeof q->tau[k], "%.17g", T * (rule->burst - 1));
		q->which[k] = (unsigned char)i;
	}
	q->now[0] = '\0';
	if (now > 0)
		snprintf(q->now, sizeof q->now, "%.17g", now);
	q->c = NULL;
	if (!q->n)
		return; /* nothing to ask: cluster_rate_recv answers "allowed" */
	q->deadline = mono() + cc->timeout_ms / 1000.0;
	q->c = pool_take(cl, cc, fp, q->deadline, &rc);
	if (!q->c) {
		/* a failure that just happened backs off; one inside the backoff
		 * was never sent */
		pthread_mutex_lock(&cl->lock);
		int waiting = mono() < cl->retry_at;
		pthread_mutex_unlock(&cl->lock);
		if (!waiting && (rc == THRESH_EUNAVAIL || rc == THRESH_EREFUSED))
			fail_backoff(cl, rc == THRESH_EREFUSED);
		return;
	}
	const char *argv[1 + 3 * RATE_BUCKETS_MAX];
	int argc = rate_argv(q, argv);
	if (rconn_eval_send(q->c, &s_rate, q->n, argc, argv, NULL)) {
		rconn_close(q->c);
		q->c = NULL;
		fail_backoff(cl, 0);
	}
}

void cluster_rate_drop(cluster *cl, cluster_rate *q)
{
	(void)cl;
	rconn_close(q->c);
	q->c = NULL;
}

/* rate_answer - the answer of q from Redis; 0 or THRESH_EUNAVAIL. */
static int rate_answer(const cluster_conf *cc, cluster_rate *q, int *allowed, double *retry_after,
                       unsigned *refused)
{
	rreply *r;
	int rc;
	/* what is left of the check's wait (the scoring took some): the
	 * socket's timeout is cut to it only when it matters */
	double left = q->deadline - mono();
	int cut = left < cc->timeout_ms / 1000.0 - 0.001;
	if (left <= 0 || (cut && rconn_timeout(q->c, (int)ceil(left * 1000))))
		return THRESH_EUNAVAIL;
	const char *argv[1 + 3 * RATE_BUCKETS_MAX];
	int argc = rate_argv(q, argv);
	if ((rc = rconn_eval_recv(q->c, &s_rate, &r, q->n, argc, argv, NULL)))
		return rc;
	const rval *v = rreply_root(r);
	if (v->type == RV_ARR && v->n == 3 && v->el[0].type == RV_INT && v->el[1].type == RV_STR &&
	    v->el[2].type == RV_INT && v->el[2].i >= 0 && v->el[2].i < (1 << q->n)) {
		*allowed = v->el[0].i == 1;
		*retry_after = strtod(v->el[1].s, NULL);
		*refused = 0;
		for (int k = 0; k < q->n; k++)
			if (v->el[2].i & (1 << k))
				*refused |= 1u << q->which[k];
	} else {
		rc = THRESH_EUNAVAIL; /* an error reply: OOM, a busy script, ... */
	}
	rreply_free(r);
	if (!rc && cut && rconn_timeout(q->c, (int)cc->timeout_ms))
		rc = THRESH_EUNAVAIL;
	return rc;
}

int cluster_rate_recv(cluster *cl, const cluster_conf *cc, cluster_rate *q, store *rate,
                      const rate_bucket *b, size_t n, double now, int *allowed,
                      double *retry_after, unsigned *refused, int *local)
{
	struct timespec ts;
	if (!q->n) {
		*allowed = 1;
		*retry_after = 0;
		*refused = 0;
		*local = 0;
		return 0;
	}
	if (q->c) {
		int rc = rate_answer(cc, q, allowed, retry_after, refused);
		if (!rc) {
			pool_give(cl, q->c);
			q->c = NULL;
			ok_backoff(cl);
			*local = 0;
			return 0;
		}
		cluster_rate_drop(cl, q);
		fail_backoff(cl, 0);
	}
	/* this node's share of each rate, on its own */
	atomic_fetch_add(&cl->fallbacks, 1);
	rate_bucket share[RATE_BUCKETS_MAX];
	unsigned nodes = cc->nodes ? cc->nodes : 1;
	if (n > RATE_BUCKETS_MAX)
		n = RATE_BUCKETS_MAX;
	for (size_t i = 0; i < n; i++) {
		share[i] = b[i];
		share[i].rule.rate = b[i].rule.rate / nodes;
		share[i].rule.burst = b[i].rule.burst / nodes ? b[i].rule.burst / nodes : 1;
	}
	if (now <= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	}
	*local = 1;
	return ratelimit_check_all(rate, share, n, now, allowed, retry_after, refused);
}

int cluster_ratelimit(cluster *cl, const cluster_conf *cc, const char *fp, store *rate,
                      const rate_bucket *b, size_t n, double now, int *allowed,
                      double *retry_after, unsigned *refused, int *local)
{
	cluster_rate q;
	cluster_rate_send(cl, cc, fp, b, n, now, &q);
	return cluster_rate_recv(cl, cc, &q, rate, b, n, now, allowed, retry_after, refused, local);
}

/* ---------- replication ---------- */

/* tmp_key - this node's temporary key of an upload, NS:snap:tmp:NODE. */
static const char *tmp_key(char *buf, size_t size, const cluster_conf *cc)
{
	char name[CLUSTER_NAME_MAX + 16];
	snprintf(name, sizeof name, "snap:tmp:%s", cc->node);
	return key(buf, size, cc, name);
}

/* abandon - remove this node's temporary key, and the lock when locked and
 * it is this node's. Returns 0, or the connection's failure. */
static int abandon(rconn *c, const cluster_conf *cc, int locked)
{
	char tmp[200], kl[160];
	rreply *r;
	const char *argv[3] = {tmp_key(tmp, sizeof tmp, cc), key(kl, sizeof kl, cc, "lock"), cc->node};
	int rc = locked ? rconn_eval(c, &s_abandon, &r, 2, 3, argv, NULL) : cmd(c, &r, "DEL", tmp, NULL);
	if (!rc)
		rreply_free(r);
	return rc;
}

/* upload - blob to NS:snap:tmp:NODE (its name into tmp) in chunks, the key
 * expiring upload_timeout after the last one; when locked, only while this
 * node holds the lock of a new epoch, each chunk renewing it. Refused by
 * Redis (out of memory, the key expired), the key goes (and the lock) and
 * why is said in msg. Returns 0, THRESH_EBUSY (another node holds the
 * lock), THRESH_EUNAVAIL or THRESH_ENOMEM. A connection that failed leaves
 * the key to its expiry, and to the next connection (repl_conn). */
static int upload(rconn *c, const cluster_conf *cc, const unsigned char *blob, size_t len,
                  int locked, char *tmp, size_t tmpsize, char *msg, size_t msgsize)
{
	char kl[160], off[24], ttl[24];
	rreply *r;
	tmp_key(tmp, tmpsize, cc);
	key(kl, sizeof kl, cc, "lock");
	snprintf(ttl, sizeof ttl, "%u", cc->upload_timeout_ms);
	for (size_t at = 0; at < len || at == 0; at += SNAP_CHUNK) {
		size_t n = len - at < SNAP_CHUNK ? len - at : SNAP_CHUNK;
		snprintf(off, sizeof off, "%zu", at);
		/* KEYS tmp lock, ARGV offset chunk ttl node; without the lock,
		 * KEYS tmp, ARGV offset chunk ttl */
		const char *argv[6] = {tmp, kl, off, (const char *)blob + at, ttl, cc->node};
		size_t lens[6] = {strlen(tmp), strlen(kl), strlen(off), n, strlen(ttl), strlen(cc->node)};
		if (!locked) {
			memmove(argv + 1, argv + 2, 3 * sizeof *argv);
			memmove(lens + 1, lens + 2, 3 * sizeof *lens);
		}
		int rc = rconn_eval(c, &s_upload, &r, locked ? 2 : 1, locked ? 6 : 4, argv, lens);
		if (rc)
			return rc;
		const rval *v = rreply_root(r);
		if (v->type == RV_ERR) {
			int lost = !strncmp(v->s, "LOCK", 4);
			if (!lost)
				snprintf(msg, msgsize, "uploading a snapshot: %.200s", v->s);
			rreply_free(r);
			if ((rc = abandon(c, cc, locked)))
				return rc;
			return lost ? THRESH_EBUSY : THRESH_EUNAVAIL;
		}
		rreply_free(r);
		if (!len)
			break;
	}
	return 0;
}

static int repl_conn(cluster *cl, const cluster_conf *cc, const char *fp, cluster_round *out)
{
	if (cl->pid != getpid()) {
		cl->repl = NULL;
		cl->pid = getpid();
	}
	if (cl->repl && !rconn_broken(cl->repl) && !strcmp(cl->repl_addr, cc->redis))
		return 0;
	rconn_close(cl->repl);
	cl->repl = NULL;
	cl->group_ready = cl->pub_known = cl->snap_known = 0;
	int rc = rconn_open(cc->redis, (int)cc->connect_timeout_ms, REPL_TIMEOUT_MS, &cl->repl,
	                    out->message, sizeof out->message);
	if (rc)
		return rc;
	snprintf(cl->repl_addr, sizeof cl->repl_addr, "%s", cc->redis);
	if ((rc = fp_check(cl->repl, cc, fp))) {
		if (rc == THRESH_EREFUSED)
			snprintf(out->message, sizeof out->message,
			         "refusing to join the cluster at %.60s: this node's model key or identity "
			         "secret differs from the cluster's (%.20s:fp); copy one database to every "
			         "node. Running alone.", cc->redis, cc->ns);
		rconn_close(cl->repl);
		cl->repl = NULL;
		return rc;
	}
	/* what this node left of an upload when its last connection died (a
	 * crash, a kill, Redis gone mid-upload): the temporary key, and the
	 * lock of an epoch it was making. They would expire; they go now. */
	return abandon(cl->repl, cc, 1);
}

/* val_u64 - a reply string or integer as a number; 0 for nil. */
static uint64_t val_u64(const rval *v)
{
	if (v->type == RV_INT)
		return (uint64_t)v->i;
	if (v->type == RV_STR)
		return strtoull(v->s, NULL, 10);
	return 0;
}

/* download - NS:snap into a new buffer. */
static int download(rconn *c, const cluster_conf *cc, unsigned char **blob, size_t *len)
{
	char k[160], a[32], b[32];
	rreply *r;
	key(k, sizeof k, cc, "snap");
	int rc = cmd(c, &r, "STRLEN", k, NULL);
	if (rc)
		return rc;
	size_t total = (size_t)val_u64(rreply_root(r));
	rreply_free(r);
	if (!total)
		return THRESH_ENOTFOUND;
	unsigned char *buf = malloc(total);
	if (!buf)
		return THRESH_ENOMEM;
	for (size_t off = 0; off < total; off += SNAP_CHUNK) {
		snprintf(a, sizeof a, "%zu", off);
		snprintf(b, sizeof b, "%zu", off + SNAP_CHUNK - 1);
		if ((rc = cmd(c, &r, "GETRANGE", k, a, b, NULL))) {
			free(buf);
			return rc;
		}
		const rval *v = rreply_root(r);
		size_t n = v->type == RV_STR ? v->len : 0;
		if (!n || off + n > total) {
			rreply_free(r);
			free(buf);
			return THRESH_EFORMAT; /* replaced while read: try again */
		}
		memcpy(buf + off, v->s, n);
		rreply_free(r);
	}
	*blob = buf;
	*len = total;
	return 0;
}

/* resync - the confirmed state from the latest snapshot of epoch. */
static int resync(cluster *cl, const cluster_conf *cc, store *st, const char *epoch, uint64_t need,
                  cluster_round *out)
{
	unsigned char *blob;
	size_t len;
	char sepoch[REPLICA_EPOCH_MAX];
	uint64_t sseq;
	int rc = download(cl->repl, cc, &blob, &len);
	if (rc == THRESH_ENOTFOUND || rc == THRESH_EFORMAT) {
		snprintf(out->message, sizeof out->message, "waiting for a snapshot of the cluster");
		return 0;
	}
	if (rc)
		return rc;
	if ((rc = replica_snapshot_info(blob, len, sepoch, &sseq)) || strcmp(sepoch, epoch) ||
	    sseq < need) {
		free(blob);
		snprintf(out->message, sizeof out->message,
		         "waiting for a newer snapshot of the cluster (this node needs sequence %" PRIu64
		         " or later)", need);
		return 0;
	}
	rc = replica_snapshot_load(st, cc->node, blob, len);
	free(blob);
	if (rc == THRESH_EFORMAT) {
		snprintf(out->message, sizeof out->message, "a snapshot changed while read: again later");
		return 0;
	}
	if (rc == THRESH_EREFUSED)
		snprintf(out->message, sizeof out->message,
		         "the cluster's snapshot is of another model key or tokenizer: running alone");
	if (rc)
		return rc;
	out->resynced = 1;
	out->seq = sseq;
	/* another epoch's log, perhaps: read from the snapshot's sequence, and
	 * ask Redis again what it has of ours (an emptied one has nothing) */
	cl->group_ready = cl->pub_known = 0;
	snprintf(out->message, sizeof out->message, "resynced from the snapshot at sequence %" PRIu64,
	         sseq);
	return 0;
}

/* nap - sleep ms milliseconds. */
static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	if (ms > 0)
		nanosleep(&ts, NULL);
}

/* new_epoch - Redis is empty: this node's confirmed state becomes the base
 * of a new epoch, if it wins the lock. The lock is taken only while there is
 * still no epoch (s_lock): a node that found Redis empty and lost the race
 * then waits wait_ms and follows the winner's epoch. */
static int new_epoch(cluster *cl, const cluster_conf *cc, store *st, int wait_ms, cluster_round *out)
{
	char k[9][160], tmp[200], epoch[33], ttl[24], num[24];
	unsigned char rnd[16], *blob = NULL;
	size_t len;
	uint64_t seq;
	rreply *r;
	static const char *const names[9] = {"epoch", "lock", "", "snap", "snapseq", "seq", "log",
	                                     "pub", "progress"};
	for (int i = 0; i < 9; i++)
		key(k[i], sizeof k[i], cc, names[i]);
	snprintf(ttl, sizeof ttl, "%u", cc->upload_timeout_ms);
	const char *largv[4] = {k[0], k[1], cc->node, ttl};
	int rc = rconn_eval(cl->repl, &s_lock, &r, 2, 4, largv, NULL);
	if (rc)
		return rc;
	const rval *v = rreply_root(r);
	int won = v->type == RV_INT && v->i == 1;
	if (v->type == RV_ERR) {
		snprintf(out->message, sizeof out->message, "taking the lock of a new epoch: %.200s", v->s);
		rc = THRESH_EUNAVAIL;
	}
	rreply_free(r);
	if (rc || !won) {
		if (!rc)
			nap(wait_ms); /* another node is at it, or is done: see next round */
		return rc;
	}
	hash_random(rnd, sizeof rnd);
	for (int i = 0; i < 16; i++)
		snprintf(epoch + 2 * i, 3, "%02x", rnd[i]);
	if ((rc = replica_snapshot_build(st, 1, epoch, &blob, &len, &seq))) {
		abandon(cl->repl, cc, 1); /* the lock, for another node to try */
		free(blob);
		return rc;
	}
	rc = upload(cl->repl, cc, blob, len, 1, tmp, sizeof tmp, out->message, sizeof out->message);
	free(blob);
	if (rc == THRESH_EBUSY)
		return 0; /* the lock ran out (upload_timeout) and another node took it */
	if (rc)
		return rc;
	snprintf(num, sizeof num, "%zu", len);
	const char *argv[12];
	for (int i = 0; i < 9; i++)
		argv[i] = i == 2 ? tmp : k[i];
	argv[9] = cc->node;
	argv[10] = epoch;
	argv[11] = num;
	if ((rc = rconn_eval(cl->repl, &s_epoch, &r, 9, 12, argv, NULL)))
		return rc;
	won = rreply_root(r)->type == RV_INT && rreply_root(r)->i == 1;
	rreply_free(r);
	if (!won)
		return 0;
	if ((rc = replica_epoch_begin(st, epoch)))
		return rc;
	out->new_epoch = 1;
	cl->group_ready = cl->pub_known = 0;
	snprintf(out->message, sizeof out->message,
	         "Redis had no epoch: began epoch %s from this node's confirmed state", epoch);
	return 0;
}

/* publish - the outbox's entries Redis does not have yet. */
static int publish(cluster *cl, const cluster_conf *cc, store *st, const char *epoch,
                   cluster_round *out)
{
	char k[4][160], maxlen[24];
	rreply *r;
	int rc;
	key(k[0], sizeof k[0], cc, "epoch");
	key(k[1], sizeof k[1], cc, "seq");
	key(k[2], sizeof k[2], cc, "log");
	key(k[3], sizeof k[3], cc, "pub");
	if (!cl->pub_known) {
		if ((rc = cmd(cl->repl, &r, "HGET", k[3], cc->node, NULL)))
			return rc;
		cl->pub_last = val_u64(rreply_root(r));
		rreply_free(r);
		cl->pub_known = 1;
	}
	snprintf(maxlen, sizeof maxlen, "%u", cc->stream_max);
	for (int rounds = 0; rounds < 64; rounds++) {
		replica_out *o;
		size_t n;
		if ((rc = replica_outbox_read(st, cl->pub_last, cc->batch, PUBLISH_BYTES, &o, &n)))
			return rc;
		if (!n) {
			replica_out_free(o, n);
			return 0;
		}
		size_t argc = 3 + 2 * n;
		const char **argv = malloc((argc + 4) * sizeof *argv);
		size_t *lens = malloc((argc + 4) * sizeof *lens);
		char (*num)[24] = malloc(n * sizeof *num);
		if (!argv || !lens || !num) {
			free(argv);
			free(lens);
			free(num);
			replica_out_free(o, n);
			return THRESH_ENOMEM;
		}
		for (int i = 0; i < 4; i++) {
			argv[i] = k[i];
			lens[i] = strlen(k[i]);
		}
		argv[4] = epoch;
		argv[5] = cc->node;
		argv[6] = maxlen;
		for (int i = 4; i < 7; i++)
			lens[i] = strlen(argv[i]);
		for (size_t i = 0; i < n; i++) {
			snprintf(num[i], sizeof num[i], "%" PRIu64, o[i].lseq);
			argv[7 + 2 * i] = num[i];
			lens[7 + 2 * i] = strlen(num[i]);
			argv[8 + 2 * i] = (const char *)o[i].ev;
			lens[8 + 2 * i] = o[i].len;
		}
		rc = rconn_eval(cl->repl, &s_publish, &r, 4, (int)(argc + 4), argv, lens);
		free(argv);
		free(lens);
		free(num);
		replica_out_free(o, n);
		if (rc)
			return rc;
		const rval *v = rreply_root(r);
		if (v->type == RV_ARR && v->n == 2) {
			out->published += val_u64(&v->el[0]);
			cl->pub_last = val_u64(&v->el[1]);
			rreply_free(r);
			continue;
		}
		int epoch_changed = v->type == RV_ERR && !strncmp(v->s, "EPOCH", 5);
		if (!epoch_changed)
			snprintf(out->message, sizeof out->message, "publishing: %.200s",
			         v->type == RV_ERR ? v->s : "an unexpected reply");
		rreply_free(r);
		cl->pub_known = 0;
		return epoch_changed ? 0 : THRESH_EUNAVAIL;
	}
	return 0;
}

/* group_at - this node's consumer group, set to read after seq. */
static int group_at(cluster *cl, const cluster_conf *cc, uint64_t seq)
{
	char k[160], id[32];
	rreply *r;
	key(k, sizeof k, cc, "log");
	snprintf(id, sizeof id, "%" PRIu64 "-0", seq);
	int rc = cmd(cl->repl, &r, "XGROUP", "CREATE", k, cc->node, id, "MKSTREAM", NULL);
	if (rc)
		return rc;
	int busy = rreply_root(r)->type == RV_ERR;
	rreply_free(r);
	if (busy) {
		if ((rc = cmd(cl->repl, &r, "XGROUP", "SETID", k, cc->node, id, NULL)))
			return rc;
		busy = rreply_root(r)->type == RV_ERR;
		rreply_free(r);
		if (busy)
			return THRESH_EUNAVAIL;
	}
	cl->group_ready = 1;
	return 0;
}

/* field - the value of name in a stream entry's field list. */
static const rval *field(const rval *fields, const char *name)
{
	for (size_t i = 0; i + 1 < fields->n; i += 2)
		if (fields->el[i].type == RV_STR && !strcmp(fields->el[i].s, name))
			return &fields->el[i + 1];
	return NULL;
}

/* consume - read one batch in this node's group and apply it. It does
 * not block in Redis: an idle Redis serves a blocked read's timeout only at
 * its next cron tick (hz 10: up to 100 ms late), and a node blocked there
 * could not publish a learn made meanwhile. The round waits on its side
 * instead (idle_wait). */
static int consume(cluster *cl, const cluster_conf *cc, store *st, const char *epoch,
                   uint64_t *seq, cluster_round *out)
{
	char k[160], count[16];
	rreply *r;
	int rc;
	if (!cl->group_ready && (rc = group_at(cl, cc, *seq)))
		return rc;
	key(k, sizeof k, cc, "log");
	snprintf(count, sizeof count, "%u", cc->batch);
	const char *argv[9] = {"XREADGROUP", "GROUP", cc->node, cc->node, "COUNT", count,
	                       "STREAMS", k, ">"};
	if ((rc = rconn_cmd(cl->repl, &r, 9, argv, NULL)))
		return rc;
	const rval *v = rreply_root(r);
	if (v->type == RV_ERR) {
		/* NOGROUP: the group went away (the log was deleted) */
		cl->group_ready = 0;
		rreply_free(r);
		return 0;
	}
	if (v->type != RV_ARR || v->n != 1 || v->el[0].type != RV_ARR || v->el[0].n != 2 ||
	    v->el[0].el[1].type != RV_ARR) {
		rreply_free(r);
		return 0; /* nothing new */
	}
	const rval *entries = &v->el[0].el[1];
	size_t n = entries->n;
	replica_in *in = calloc(n ? n : 1, sizeof *in);
	const char **ids = calloc(n + 3, sizeof *ids);
	if (!in || !ids) {
		free(in);
		free(ids);
		rreply_free(r);
		return THRESH_ENOMEM;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const rval *e = &entries->el[i];
		if (e->type != RV_ARR || e->n != 2 || e->el[0].type != RV_STR || e->el[1].type != RV_ARR)
			continue;
		const rval *nf = field(&e->el[1], "n"), *lf = field(&e->el[1], "l"),
		           *tf = field(&e->el[1], "t"), *ef = field(&e->el[1], "e"),
		           *pf = field(&e->el[1], "p");
		if (!pf || pf->type != RV_STR || strcmp(pf->s, epoch)) {
			/* another epoch's log (Redis was emptied since this round
			 * began): nothing of it is applied here before a resync */
			cl->group_ready = 0;
			n = i;
			break;
		}
		ids[3 + i] = e->el[0].s;
		if (!nf || !lf || !ef || nf->type != RV_STR || ef->type != RV_STR)
			continue;
		in[m].seq = strtoull(e->el[0].s, NULL, 10);
		in[m].node = nf->s;
		in[m].node_len = nf->len;
		in[m].lseq = val_u64(lf);
		in[m].t_ms = tf ? val_u64(tf) : 0;
		in[m].ev = ef->s;
		in[m].ev_len = ef->len;
		m++;
	}
	replica_result res;
	rc = m ? replica_apply(st, cc->node, in, m, &res) : 0;
	if (rc == REPLICA_GAP) {
		/* the log was trimmed past this node: a snapshot, then on */
		uint64_t first = in[0].seq;
		cl->group_ready = 0;
		rc = resync(cl, cc, st, epoch, first - 1, out);
		if (!rc && out->resynced)
			*seq = out->seq;
	} else if (!rc && m) {
		out->applied += res.applied;
		*seq = res.seq;
		atomic_fetch_add(&cl->applied, res.applied);
	} else if (rc) {
		cl->group_ready = 0; /* read but not applied: read again from our sequence */
	}
	if (!rc && n && cl->group_ready) {
		ids[0] = "XACK";
		ids[1] = k;
		ids[2] = cc->node;
		size_t na = 3;
		for (size_t i = 0; i < n; i++)
			if (ids[3 + i])
				ids[na++] = ids[3 + i];
		rreply *a;
		if (!rconn_cmd(cl->repl, &a, (int)na, ids, NULL))
			rreply_free(a);
	}
	free(in);
	free(ids);
	rreply_free(r);
	return rc;
}

/* snapshot_maybe - a snapshot every snapshot_every events, by a node with
 * no learn pending (its state is exactly the log's). */
static int snapshot_maybe(cluster *cl, const cluster_conf *cc, store *st, const char *epoch,
                          uint64_t seq, char *msg, size_t msgsize)
{
	char k[4][160], tmp[200], num[24], total[24];
	rreply *r;
	if (cl->snap_known && seq < cl->snap_seen + cc->snapshot_every)
		return 0; /* not due yet, as far as this node knows: no need to ask */
	key(k[0], sizeof k[0], cc, "epoch");
	key(k[3], sizeof k[3], cc, "snapseq");
	int rc = cmd(cl->repl, &r, "GET", k[3], NULL);
	if (rc)
		return rc;
	uint64_t have = val_u64(rreply_root(r));
	int none = rreply_root(r)->type == RV_NIL;
	rreply_free(r);
	cl->snap_seen = have;
	cl->snap_known = !none;
	if (!none && seq < have + cc->snapshot_every)
		return 0;
	unsigned char *blob;
	size_t len;
	uint64_t sseq;
	rc = replica_snapshot_build(st, 0, NULL, &blob, &len, &sseq);
	if (rc == THRESH_EBUSY)
		return 0; /* learns pending: another time */
	if (rc)
		return rc;
	if (sseq <= have && !none) {
		free(blob);
		return 0;
	}
	rc = upload(cl->repl, cc, blob, len, 0, tmp, sizeof tmp, msg, msgsize);
	free(blob);
	if (rc)
		return rc;
	snprintf(num, sizeof num, "%" PRIu64, sseq);
	snprintf(total, sizeof total, "%zu", len);
	key(k[2], sizeof k[2], cc, "snap");
	const char *argv[7] = {k[0], tmp, k[2], k[3], epoch, num, total};
	if ((rc = rconn_eval(cl->repl, &s_snap, &r, 4, 7, argv, NULL)))
		return rc;
	rreply_free(r);
	cl->snap_known = 0; /* ours or a newer one is in place: read it next time */
	/* the log need not keep what the snapshot holds, beyond stream_max */
	return 0;
}

/* trim_retained - drop own learns every node has applied. */
static int trim_retained(cluster *cl, const cluster_conf *cc, store *st)
{
	char k[160];
	rreply *r;
	key(k, sizeof k, cc, "progress");
	int rc = cmd(cl->repl, &r, "HVALS", k, NULL);
	if (rc)
		return rc;
	const rval *v = rreply_root(r);
	uint64_t min = 0;
	for (size_t i = 0; v->type == RV_ARR && i < v->n; i++) {
		uint64_t s = val_u64(&v->el[i]);
		if (i == 0 || s < min)
			min = s;
	}
	rreply_free(r);
	return replica_trim(st, min, cc->retain, NULL);
}

/* idle_wait - nothing to do this round: wait up to wait_ms, and end as soon
 * as a learn made here (in this process or another) is there to publish. */
static void idle_wait(cluster *cl, store *st, int wait_ms)
{
	double end = mono() + wait_ms / 1000.0;
	while (mono() < end) {
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		uint64_t next;
		if (replica_next(st, &next) == 0 && next > cl->pub_last + 1)
			return;
	}
}

static int round_fn(cluster *cl, const cluster_conf *cc, const char *fp, store *st, int wait_ms,
                    cluster_round *out)
{
	char k[3][160], num[24];
	replica_state s;
	rreply *r;
	int rc;
	if ((rc = repl_conn(cl, cc, fp, out)))
		return rc;
	out->redis_up = 1;
	key(k[0], sizeof k[0], cc, "epoch");
	key(k[1], sizeof k[1], cc, "seq");
	if ((rc = cmd(cl->repl, &r, "MGET", k[0], k[1], NULL)))
		return rc;
	const rval *v = rreply_root(r);
	char epoch[REPLICA_EPOCH_MAX] = "";
	int have_epoch = v->type == RV_ARR && v->n == 2 && v->el[0].type == RV_STR &&
	                 v->el[0].len < sizeof epoch;
	if (have_epoch)
		memcpy(epoch, v->el[0].s, v->el[0].len + 1);
	out->head = v->type == RV_ARR && v->n == 2 ? val_u64(&v->el[1]) : 0;
	rreply_free(r);
	if (!have_epoch)
		return new_epoch(cl, cc, st, wait_ms, out);
	if ((rc = replica_state_read(st, &s, NULL, NULL)))
		return rc;
	out->seq = s.seq;
	if (strcmp(s.epoch, epoch)) {
		/* a node new to this epoch: the epoch's state first */
		rc = resync(cl, cc, st, epoch, 0, out);
		if (!rc && out->resynced) {
			key(k[2], sizeof k[2], cc, "progress");
			snprintf(num, sizeof num, "%" PRIu64, out->seq);
			if (!cmd(cl->repl, &r, "HSET", k[2], cc->node, num, NULL))
				rreply_free(r);
		}
		return rc;
	}
	if (out->head < s.seq) {
		/* Redis came back with less of the log than this node applied (an
		 * older append-only file): the events after it would get sequences
		 * this node took as applied. A new epoch sorts it out. */
		const char *argv[2] = {k[0], epoch};
		if ((rc = rconn_eval(cl->repl, &s_drop_epoch, &r, 1, 2, argv, NULL)))
			return rc;
		rreply_free(r);
		snprintf(out->message, sizeof out->message,
		         "Redis's log ends at %" PRIu64 " but this node applied %" PRIu64
		         ": Redis lost data; starting a new epoch", out->head, s.seq);
		return 0;
	}
	if ((rc = publish(cl, cc, st, epoch, out)))
		return rc;
	uint64_t seq = s.seq;
	if ((rc = consume(cl, cc, st, epoch, &seq, out)))
		return rc;
	out->seq = seq;
	if (out->applied) {
		key(k[2], sizeof k[2], cc, "progress");
		snprintf(num, sizeof num, "%" PRIu64, seq);
		if ((rc = cmd(cl->repl, &r, "HSET", k[2], cc->node, num, NULL)))
			return rc;
		rreply_free(r);
	}
	if ((rc = snapshot_maybe(cl, cc, st, epoch, seq, out->message, sizeof out->message)))
		return rc;
	if (++cl->rounds % TRIM_EVERY == 0 && (rc = trim_retained(cl, cc, st)))
		return rc;
	if (!out->published && !out->applied && wait_ms > 0)
		idle_wait(cl, st, wait_ms);
	return 0;
}

int cluster_replicate(cluster *cl, const cluster_conf *cc, const char *fp, store *st, int wait_ms,
                      cluster_round *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&cl->rlock);
	int rc = round_fn(cl, cc, fp, st, wait_ms, out);
	if (rc == THRESH_EUNAVAIL || rc == THRESH_EREFUSED) {
		out->redis_up = 0;
		out->refused = rc == THRESH_EREFUSED;
		if (cl->repl && rconn_broken(cl->repl)) {
			rconn_close(cl->repl);
			cl->repl = NULL;
		}
		if (!out->message[0])
			snprintf(out->message, sizeof out->message, "Redis at %.200s did not answer", cc->redis);
	}
	atomic_fetch_add(&cl->published, out->published);
	pthread_mutex_unlock(&cl->rlock);
	return rc;
}

void cluster_figures_get(cluster *cl, const cluster_conf *cc, const char *fp, uint64_t applied,
                         cluster_figures *out)
{
	char k[160], from[32];
	rreply *r;
	int rc;
	memset(out, 0, sizeof *out);
	out->fallbacks = atomic_load(&cl->fallbacks);
	out->published = atomic_load(&cl->published);
	out->applied = atomic_load(&cl->applied);
	rconn *c = pool_take(cl, cc, fp, mono() + cc->timeout_ms / 1000.0, &rc);
	if (!c)
		return;
	key(k, sizeof k, cc, "seq");
	if ((rc = cmd(c, &r, "GET", k, NULL))) {
		rconn_close(c);
		return;
	}
	out->head = val_u64(rreply_root(r));
	out->redis_up = 1;
	rreply_free(r);
	if (out->head > applied) {
		key(k, sizeof k, cc, "log");
		snprintf(from, sizeof from, "%" PRIu64 "-0", applied + 1);
		if ((rc = cmd(c, &r, "XRANGE", k, from, "+", "COUNT", "1", NULL))) {
			rconn_close(c);
			return;
		}
		const rval *v = rreply_root(r);
		if (v->type == RV_ARR && v->n == 1 && v->el[0].type == RV_ARR && v->el[0].n == 2) {
			const rval *t = field(&v->el[0].el[1], "t");
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			double now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
			if (t)
				out->head_age = fmax(0, now - (double)val_u64(t) / 1000);
		}
		rreply_free(r);
	}
	pool_give(cl, c);
}
