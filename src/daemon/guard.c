/* guard.c - who may hold threshd's connections and memory, and how long.
 *
 * libmicrohttpd limits connections in all, and restarts its idle timeout
 * with every byte it reads: a client sending a byte of its headers every
 * few seconds keeps its slot for good, and a thousand such clients keep
 * every slot. It knows nothing of an address's share, of a deadline for a
 * phase of a request, or of what the bodies being read weigh together. The
 * guard does, in one lock:
 *
 *   admission   open connections per address (an IPv4 address, an IPv6
 *               /64, which one host usually has whole) at most per_ip;
 *   deadlines   the headers of a request must be in header_timeout seconds
 *               after accept, or after the end of the request before on a
 *               kept-alive connection (so an idle connection closes then
 *               too); its body body_timeout seconds after its headers.
 *               guard_sweep, called a few times a second, shuts down the
 *               socket of a connection past its deadline, which
 *               libmicrohttpd then sees end and closes;
 *   the budget  body bytes held at once at most budget; of those, the
 *               bodies of requests not known to be keyed (no valid key in
 *               a header or the host name) at most 3/4, and one address's
 *               such bodies at most 1/8: clients without a key can fill
 *               neither the memory nor the share left for those with one;
 *   counts      of connections cut off, by reason, for /metrics, instead
 *               of a line on stderr each.
 *
 * Thread-safe: libmicrohttpd's threads open, close and phase connections
 * and reserve bytes; threshd's sweeper thread sweeps. A deadline is one
 * atomic word written by the connection's own thread, so the sweep and a
 * phase change race harmlessly: the sweep shuts a connection down only if
 * the deadline it read is still the connection's (compare-and-swap). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "threshd.h"

struct guard_addr {
	struct guard_addr *next; /* the hash chain */
	unsigned char key[16];
	unsigned conns;
	uint64_t unkeyed; /* body bytes of its requests not known to be keyed */
};

/* A deadline word: the time in milliseconds of the monotonic clock, shifted
 * left by 2, with the phase it ends in the low bits (0: no deadline). */
#define DUE_HEADERS 1
#define DUE_BODY 2

struct guard_conn {
	struct guard_conn *prev, *next; /* every open connection */
	struct guard_addr *addr;
	int fd;
	_Atomic int64_t due;
	atomic_int phase;   /* enum guard_phase */
	_Atomic double since; /* when it entered its phase (the monotonic clock, s) */
	int shut;           /* the guard shut its socket down (under the lock) */
	atomic_int reason;  /* enum guard_reason, the first one given */
	uint64_t keyed;     /* body bytes its request holds, known keyed */
	uint64_t unkeyed;   /* ... not known keyed */
};

struct guard {
	pthread_mutex_t lock;
	struct guard_settings set;
	uint64_t seed;
	struct guard_addr **bucket;
	size_t nbucket; /* a power of two */
	struct guard_conn *head;
	size_t conns;
	uint64_t bytes, unkeyed; /* body bytes held: all, not known keyed */
	uint64_t freed;              /* body bytes released since the last trim */
	_Atomic uint64_t aborted[GR_COUNT];
};

static const char *const reason_names[GR_COUNT] = {
	[GR_NONE] = "none",
	[GR_HEADER_TIMEOUT] = "header_timeout",
	[GR_BODY_TIMEOUT] = "body_timeout",
	[GR_IDLE_TIMEOUT] = "idle_timeout",
	[GR_PER_IP] = "per_ip",
	[GR_BUDGET] = "budget",
	[GR_TOO_LARGE] = "too_large",
	[GR_CLIENT_GONE] = "client_gone",
	[GR_ERROR] = "error",
};

const char *guard_reason_name(enum guard_reason r)
{
	return (unsigned)r < GR_COUNT ? reason_names[r] : "none";
}

/* ---------- addresses ---------- */

/* addr_key - an address as 16 bytes: IPv4 (and IPv4-mapped IPv6) as
 * ::ffff:a.b.c.d, IPv6 as its /64 with the rest zero; anything else (a
 * Unix socket) as zeros: one address for all. */
static void addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memcpy(key, &in6->sin6_addr, 16);
		else
			memcpy(key, &in6->sin6_addr, 8);
	}
}

/* addr_hash - the key's bucket: a multiply-xorshift mix seeded at random,
 * so that no client can choose addresses that share one chain. */
static size_t addr_hash(const struct guard *g, const unsigned char key[16])
{
	uint64_t a, b, h = g->seed;
	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	h ^= a;
	h *= 0x9e3779b97f4a7c15u;
	h ^= h >> 29;
	h ^= b;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return (size_t)h & (g->nbucket - 1);
}

static struct guard_addr *addr_find(struct guard *g, const unsigned char key[16])
{
	for (struct guard_addr *a = g->bucket[addr_hash(g, key)]; a; a = a->next)
		if (!memcmp(a->key, key, 16))
			return a;
	return NULL;
}

/* addr_drop - free a once it holds nothing. */
static void addr_drop(struct guard *g, struct guard_addr *a)
{
	if (a->conns || a->unkeyed)
		return;
	struct guard_addr **pp = &g->bucket[addr_hash(g, a->key)];
	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	free(a);
}

/* ---------- the guard ---------- */

int guard_new(const struct guard_settings *set, struct guard **out)
{
	struct guard *g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	g->set = *set;
	g->nbucket = 64;
	while (g->nbucket < set->max_connections && g->nbucket < (1u << 20))
		g->nbucket *= 2;
	if (!(g->bucket = calloc(g->nbucket, sizeof *g->bucket))) {
		free(g);
		return -1;
	}
	if (getrandom(&g->seed, sizeof g->seed, GRND_NONBLOCK) != (ssize_t)sizeof g->seed)
		g->seed = (uint64_t)(uintptr_t)g * 0x9e3779b97f4a7c15u ^ (uint64_t)(now_mono() * 1e9);
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return 0;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	while (g->head) {
		struct guard_conn *c = g->head;
		g->head = c->next;
		free(c);
	}
	for (size_t i = 0; i < g->nbucket; i++)
		while (g->bucket[i]) {
			struct guard_addr *a = g->bucket[i];
			g->bucket[i] = a->next;
			free(a);
		}
	free(g->bucket);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int guard_admit(struct guard *g, const struct sockaddr *sa)
{
	unsigned char key[16];
	int ok = 1;
	if (!g->set.per_ip)
		return 1;
	addr_key(sa, key);
	pthread_mutex_lock(&g->lock);
	struct guard_addr *a = addr_find(g, key);
	if (a && a->conns >= g->set.per_ip)
		ok = 0;
	pthread_mutex_unlock(&g->lock);
	if (!ok)
		atomic_fetch_add_explicit(&g->aborted[GR_PER_IP], 1, memory_order_relaxed);
	return ok;
}

static int64_t now_ms(double now)
{
	return (int64_t)(now * 1000.0);
}

static int64_t due_word(double now, double seconds, int kind)
{
	if (seconds <= 0)
		return 0;
	return ((now_ms(now) + (int64_t)(seconds * 1000.0)) << 2) | kind;
}

int guard_open(struct guard *g, int fd, const struct sockaddr *sa, double now,
               struct guard_conn **out)
{
	unsigned char key[16];
	struct guard_conn *c = calloc(1, sizeof *c);
	int rc = 0;
	*out = NULL;
	addr_key(sa, key);
	pthread_mutex_lock(&g->lock);
	struct guard_addr *a = c ? addr_find(g, key) : NULL;
	if (c && !a && (a = calloc(1, sizeof *a)) != NULL) {
		memcpy(a->key, key, 16);
		size_t h = addr_hash(g, key);
		a->next = g->bucket[h];
		g->bucket[h] = a;
	}
	if (!c || !a) {
		pthread_mutex_unlock(&g->lock);
		free(c);
		shutdown(fd, SHUT_RDWR);
		return -1;
	}
	a->conns++;
	c->addr = a;
	c->fd = fd;
	atomic_init(&c->due, due_word(now, g->set.header_timeout, DUE_HEADERS));
	atomic_init(&c->phase, GP_HEADERS);
	atomic_init(&c->since, now);
	atomic_init(&c->reason, GR_NONE);
	c->next = g->head;
	if (g->head)
		g->head->prev = c;
	g->head = c;
	g->conns++;
	if (g->set.per_ip && a->conns > g->set.per_ip) {
		/* Past the address's share (admitted by guard_admit while another
		 * thread took the last place): libmicrohttpd closes it at once. */
		atomic_store(&c->reason, GR_PER_IP);
		atomic_store(&c->due, 0);
		c->shut = 1;
		shutdown(fd, SHUT_RDWR);
		rc = 1;
	}
	pthread_mutex_unlock(&g->lock);
	*out = c;
	return rc;
}

/* release - give back what c's request holds; under the lock. */
static void release(struct guard *g, struct guard_conn *c)
{
	uint64_t n = c->keyed + c->unkeyed;
	g->bytes -= n;
	g->unkeyed -= c->unkeyed;
	c->addr->unkeyed -= c->unkeyed;
	g->freed += n;
	c->keyed = c->unkeyed = 0;
}

/* gone - has the client of a connection waiting for its request closed
 * or reset it? A peek that reads an end without data says so. */
static int gone(const struct guard_conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* mhd_timed_out - c closes with no reason given while it waited for
 * headers: libmicrohttpd's own idle timeout (--timeout) closed it before
 * the sweeper came to its deadline (they race when the two timeouts are
 * alike), unless its client left or a reply with "Connection: close" ended
 * it, which closes within moments of the phase's start, not after half a
 * timeout or more. */
static int mhd_timed_out(const struct guard *g, const struct guard_conn *c, double now)
{
	double t = g->set.body_timeout; /* libmicrohttpd's is the same */
	if (!(t > 0) || (g->set.header_timeout > 0 && g->set.header_timeout < t))
		t = g->set.header_timeout;
	return t > 0 && atomic_load(&c->phase) == GP_HEADERS && now - atomic_load(&c->since) >= t / 2 &&
	       !gone(c);
}

void guard_close(struct guard *g, struct guard_conn *c, double now)
{
	if (!c)
		return;
	int r = atomic_load(&c->reason);
	if (r == GR_NONE && mhd_timed_out(g, c, now))
		r = GR_HEADER_TIMEOUT;
	if (r > GR_NONE && r < GR_COUNT)
		atomic_fetch_add_explicit(&g->aborted[r], 1, memory_order_relaxed);
	pthread_mutex_lock(&g->lock);
	release(g, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->conns--;
	c->addr->conns--;
	addr_drop(g, c->addr);
	pthread_mutex_unlock(&g->lock);
	free(c);
}

void guard_phase(struct guard *g, struct guard_conn *c, enum guard_phase p, double now)
{
	int64_t due = 0;
	if (!c)
		return;
	if (p == GP_HEADERS)
		due = due_word(now, g->set.header_timeout, DUE_HEADERS);
	else if (p == GP_BODY)
		due = due_word(now, g->set.body_timeout, DUE_BODY);
	atomic_store(&c->since, now);
	atomic_store(&c->phase, (int)p);
	atomic_store(&c->due, due);
}

void guard_abort(struct guard_conn *c, enum guard_reason r)
{
	int none = GR_NONE;
	if (c)
		atomic_compare_exchange_strong(&c->reason, &none, (int)r);
}

int guard_reserve(struct guard *g, struct guard_conn *c, uint64_t n, int keyed)
{
	const struct guard_settings *s = &g->set;
	int ok = 1;
	if (!c || !n)
		return 0;
	pthread_mutex_lock(&g->lock);
	if (n > s->budget - g->bytes)
		ok = 0;
	else if (!keyed &&
	         (n > s->budget / 4 * 3 - g->unkeyed || n > s->budget / 8 - c->addr->unkeyed))
		ok = 0;
	if (ok) {
		g->bytes += n;
		if (keyed) {
			c->keyed += n;
		} else {
			c->unkeyed += n;
			g->unkeyed += n;
			c->addr->unkeyed += n;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return ok ? 0 : -1;
}

void guard_release(struct guard *g, struct guard_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->lock);
	release(g, c);
	pthread_mutex_unlock(&g->lock);
}

size_t guard_sweep(struct guard *g, double now, int probe)
{
	int64_t t = now_ms(now);
	size_t n = 0;
	pthread_mutex_lock(&g->lock);
	for (struct guard_conn *c = g->head; c; c = c->next) {
		int64_t due = atomic_load(&c->due);
		if (c->shut)
			continue;
		if (probe && atomic_load(&c->phase) != GP_BUSY && gone(c)) {
			/* libmicrohttpd 0.9.75's edge-triggered epoll can miss the
			 * end of a connection whose client closed inside a request
			 * (its last read came up short, the end was already queued,
			 * no further event comes): it then waits for the deadline
			 * in the state CLOSE-WAIT, holding the body read so far.
			 * Shutting the socket down is an event it sees. */
			guard_abort(c, GR_CLIENT_GONE);
			atomic_store(&c->due, 0);
			c->shut = 1;
			shutdown(c->fd, SHUT_RDWR);
			n++;
			continue;
		}
		if (!due || (due >> 2) > t)
			continue;
		/* Only if the deadline is still the one read: a connection that
		 * has just moved on to its next phase keeps its new one. */
		if (!atomic_compare_exchange_strong(&c->due, &due, 0))
			continue;
		/* A client that left before its deadline was not slow: it is
		 * counted as gone, whether or not the probe came round first. */
		if (gone(c))
			guard_abort(c, GR_CLIENT_GONE);
		else
			guard_abort(c, (due & 3) == DUE_BODY ? GR_BODY_TIMEOUT : GR_HEADER_TIMEOUT);
		c->shut = 1;
		/* The socket stays open until the connection's close is notified
		 * (guard_close, which needs this lock), so fd is still c's. */
		shutdown(c->fd, SHUT_RDWR);
		n++;
	}
	pthread_mutex_unlock(&g->lock);
	return n;
}

int guard_trim_due(struct guard *g)
{
	int due;
	pthread_mutex_lock(&g->lock);
	due = g->freed >= GUARD_TRIM_BYTES;
	if (due)
		g->freed = 0;
	pthread_mutex_unlock(&g->lock);
	return due;
}

void guard_stats(struct guard *g, struct guard_stats *st)
{
	memset(st, 0, sizeof *st);
	for (int r = 0; r < GR_COUNT; r++)
		st->aborted[r] = atomic_load_explicit(&g->aborted[r], memory_order_relaxed);
	st->budget = g->set.budget;
	pthread_mutex_lock(&g->lock);
	st->body_bytes = g->bytes;
	st->unkeyed_bytes = g->unkeyed;
	st->connections = g->conns;
	pthread_mutex_unlock(&g->lock);
}
