/* main.c - threshd: options, start-up, signals, a clean stop.
 *
 * The main thread opens the database, binds the listening socket itself (so
 * a bad address or a busy port gets a clear message, and --port 0 can tell
 * which port it got), hands the socket to libmicrohttpd's thread pool, and
 * then only waits for signals with sigwait(): SIGHUP reopens the request log
 * and reloads the keys and thresh.conf, SIGTERM and SIGINT stop it. Every other thread is
 * started with those signals blocked, so none of them ever runs a handler. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "model_path.h"
#include "threshd.h"

#define EXIT_USAGE 2

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8707
#define DEFAULT_DB "/var/lib/thresh"
#define DEFAULT_BODY_LIMIT 65536
/* WordPress keeps comments up to 65,525 bytes, and its Akismet plugin sends
 * the text twice (comment_content, POST_comment) with every header, each
 * byte possibly as %XX: 1 MiB holds that with room to spare. */
#define DEFAULT_AKISMET_BODY_LIMIT (1024 * 1024)
#define DEFAULT_TIMEOUT 30
#define DEFAULT_HEADER_TIMEOUT 10
#define DEFAULT_BODY_BUDGET (64u << 20)
#define PER_IP_DEFAULT UINT_MAX /* max_connections / 8 */
#define DEFAULT_SHUTDOWN_TIMEOUT 10
#define DEFAULT_MAX_CONNECTIONS 1024

static const char usage_text[] =
	"usage: threshd [OPTIONS]\n"
	"\n"
	"threshd is the scoring daemon of the thresh comment-spam filter. It answers\n"
	"Akismet's protocol (POST /1.1/verify-key, /1.1/comment-check, /1.1/submit-spam,\n"
	"/1.1/submit-ham; GET /1.2/usage-limit) and a JSON API (POST /v1/check, /v1/learn,\n"
	"/v1/unlearn; GET /v1/stats), with GET /healthz and GET /metrics (Prometheus).\n"
	"\n"
	"Options:\n"
	"  -d, --db DIR             the database folder (default: $THRESH_DB, else\n"
	"                           " DEFAULT_DB ")\n"
	"      --sites DIR          serve many sites instead, a database each: DIR/SITE,\n"
	"                           made from the default model on its first request.\n"
	"                           Needs --keys, whose lines are \"KEY SITE\"; thresh.conf\n"
	"                           is --config or DIR/thresh.conf ([sites] maps a key's\n"
	"                           site and a request's blog to another site)\n"
	"      --create             create a missing database from the default model\n"
	"                           (the dump named by $THRESH_MODEL, else the installed one;\n"
	"                           run from its build folder: the one that build made)\n"
	"  -c, --config FILE        the library's thresh.conf (default: DIR/thresh.conf\n"
	"                           when it exists; with --sites a site's own\n"
	"                           DIR/SITE/thresh.conf wins over it)\n"
	"      --read-only          open the database read-only: learning answers 403\n"
	"  -a, --address ADDR       the IPv4 or IPv6 address to listen on (default " DEFAULT_ADDRESS ")\n"
	"  -p, --port N             the TCP port (default 8707; 0: any free port)\n"
	"  -t, --threads N          worker threads (default: the number of CPUs)\n"
	"  -k, --keys FILE          API keys, one per line ('#' starts a comment). Without\n"
	"                           it threshd runs in development mode: loopback only,\n"
	"                           checks need no key, learning is refused\n"
	"      --body-limit BYTES   the largest request body of the JSON API; a longer one\n"
	"                           gets 413 (default 65536; K and M suffixes: 64K, 1M)\n"
	"      --akismet-body-limit BYTES\n"
	"                           the same for Akismet's endpoints (default 1M: a\n"
	"                           WordPress comment of 64 KB, sent twice, with headers)\n"
	"      --tls-port N         also serve HTTPS on port N of --address (443 for\n"
	"                           WordPress's check of https://rest.akismet.com; 0: any)\n"
	"      --tls-cert FILE      the certificate chain for HTTPS (PEM)\n"
	"      --tls-key FILE       its private key (PEM, unencrypted)\n"
	"      --timeout SECONDS    close a connection idle that long, or a body that takes\n"
	"                           longer to arrive (default 30; 0: never)\n"
	"      --header-timeout SECONDS\n"
	"                           close a connection whose request headers are not all in\n"
	"                           that long after it opened or its last request ended,\n"
	"                           however often bytes come (default 10; 0: never)\n"
	"      --shutdown-timeout SECONDS\n"
	"                           on SIGTERM, how long to let requests in flight finish\n"
	"                           (default 10)\n"
	"      --max-connections N  open connections at most (default 1024)\n"
	"      --max-connections-per-ip N\n"
	"                           open connections of one client address (IPv6: one /64)\n"
	"                           at most (default: --max-connections / 8; 0: no limit;\n"
	"                           behind a proxy every client has the proxy's address)\n"
	"      --body-budget BYTES  request bodies held in memory at once at most; bodies\n"
	"                           whose key is not known before they are read share 3/4\n"
	"                           of it, 1/8 per address; past it, 503 (default 64M)\n"
	"      --hold-as-spam       comment-check answers \"true\" for a held comment, so\n"
	"                           Akismet clients put it in their spam folder\n"
	"      --no-hold-as-spam    comment-check answers \"false\" for a held comment (the\n"
	"                           default): with X-akismet-error, which WordPress's plugin\n"
	"                           takes as \"pending\", unless only first_comment held it\n"
	"      --log FILE           one line per request to FILE ('-': standard error);\n"
	"                           no keys, addresses, e-mails or comments are logged\n"
	"      --redis ADDR         be a node of a cluster: its Redis, unix:PATH or\n"
	"                           HOST:PORT ([cluster] redis in thresh.conf)\n"
	"      --node NAME          this node's name in the cluster (default: the host name)\n"
	"      --nodes N            the cluster's number of nodes (each rate-limits alone at\n"
	"                           1/N of the rate while Redis is away)\n"
	"  -h, --help               this help\n"
	"      --version            the versions of threshd and of the loaded libthresh\n"
	"\n"
	"thresh.conf's [threshd] section may set what these flags set (threshd(8)).\n"
	"\n"
	"Socket activation: with LISTEN_PID and LISTEN_FDS set (systemd's threshd.socket),\n"
	"threshd serves the listening sockets it inherits instead of --address, --port\n"
	"and --tls-port: a socket named https (LISTEN_FDNAMES) serves HTTPS, the other\n"
	"plain HTTP.\n"
	"\n"
	"Signals: SIGTERM or SIGINT stops accepting, lets requests in flight finish and\n"
	"closes the database; SIGHUP reopens the log file and reloads the key file and\n"
	"thresh.conf.\n"
	"\n"
	"Exit status: 0 stopped by a signal, 1 could not start (database, address),\n"
	"2 usage or configuration error. See threshd(8).\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("threshd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(threshd --help lists the options)\n", stderr);
	return EXIT_USAGE;
}

static unsigned cpu_count(void)
{
#ifdef CPU_COUNT
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
#endif
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ---------- the listening socket ---------- */

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* parse_address - a literal IPv4 or IPv6 address ("[::1]" too). */
static int parse_address(const char *s, unsigned port, union addr *a, socklen_t *len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);
	memset(a, 0, sizeof *a);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof buf) {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET, s, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons((uint16_t)port);
		*len = sizeof a->in;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons((uint16_t)port);
		*len = sizeof a->in6;
		return 0;
	}
	return -1;
}

static int is_loopback(const union addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;
	if (IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr))
		return 1;
	/* ::ffff:127.x.x.x */
	return IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr) && a->in6.sin6_addr.s6_addr[12] == 127;
}

/* describe_socket - "HOST:PORT" of a bound socket into shown; its address
 * into *a when a is not NULL. Returns 0, or -1 when it is no IP socket. */
static int describe_socket(int fd, char *shown, size_t shownsize, union addr *a)
{
	char host[INET6_ADDRSTRLEN];
	union addr got;
	socklen_t glen = sizeof got;
	if (getsockname(fd, &got.sa, &glen) != 0)
		return -1;
	if (got.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &got.in.sin_addr, host, sizeof host);
		snprintf(shown, shownsize, "%s:%u", host, ntohs(got.in.sin_port));
	} else if (got.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &got.in6.sin6_addr, host, sizeof host);
		snprintf(shown, shownsize, "[%s]:%u", host, ntohs(got.in6.sin6_port));
	} else {
		return -1;
	}
	if (a)
		*a = got;
	return 0;
}

static int open_listener(const union addr *a, socklen_t len, char *shown, size_t shownsize)
{
	int one = 1, fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (a->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, &a->sa, len) != 0 || listen(fd, SOMAXCONN) != 0 ||
	    describe_socket(fd, shown, shownsize, NULL) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---------- socket activation (sd_listen_fds without libsystemd) ----------
 *
 * systemd passes the sockets of threshd.socket as descriptors 3, 4, ...
 * with LISTEN_PID (ours), LISTEN_FDS (how many) and LISTEN_FDNAMES (their
 * FileDescriptorName=, ':'-separated). threshd takes one plain socket and
 * one named "https" (or "tls"). */

#define LISTEN_FDS_START 3

/* inherited_sockets - the listening sockets passed to us into *plain and
 * *tls (-1: none). Returns how many (0: not socket-activated), or -1
 * (reported). */
static int inherited_sockets(int *plain, int *tls)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	uint64_t p, n;
	*plain = *tls = -1;
	if (!pid || !fds)
		return 0;
	if (parse_u64(pid, 1, INT_MAX, &p) || (pid_t)p != getpid())
		return 0; /* meant for another process */
	if (parse_u64(fds, 0, 64, &n)) {
		say("LISTEN_FDS=%s: expected a number of sockets", fds);
		return -1;
	}
	for (uint64_t i = 0; i < n; i++) {
		int fd = LISTEN_FDS_START + (int)i, type = 0, acc = 0;
		socklen_t l1 = sizeof type, l2 = sizeof acc;
		char name[64] = "";
		if (names) {
			const char *q = names;
			for (uint64_t k = 0; k < i && q; k++)
				q = (q = strchr(q, ':')) ? q + 1 : NULL;
			if (q)
				snprintf(name, sizeof name, "%.*s", (int)strcspn(q, ":"), q);
		}
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) != 0 || type != SOCK_STREAM ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) != 0 || !acc) {
			say("inherited descriptor %d%s%s%s is not a listening TCP socket", fd,
			    name[0] ? " (" : "", name, name[0] ? ")" : "");
			return -1;
		}
		int https = !strcmp(name, "https") || !strcmp(name, "tls");
		int *slot = https ? tls : plain;
		if (*slot >= 0) {
			say("more than one inherited %s socket: threshd serves one for HTTP and one "
			    "named https (FileDescriptorName=https)", https ? "https" : "plain");
			return -1;
		}
		*slot = fd;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

/* read_pem - a whole PEM file as a string (malloc'd), or NULL (reported). */
static char *read_pem(const char *path, const char *what)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	if (!f) {
		say("%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 4097) {
			if (cap > (1u << 20)) {
				say("%s %s: larger than 1 MiB", what, path);
				goto fail;
			}
			char *p = realloc(buf, cap = cap ? 2 * cap : 8192);
			if (!p) {
				say("out of memory");
				goto fail;
			}
			buf = p;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		say("%s %s: %s", what, path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	if (!strstr(buf, "-----BEGIN ")) {
		say("%s %s: not a PEM file", what, path);
		free(buf);
		return NULL;
	}
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* ---------- systemd readiness (sd_notify without libsystemd) ---------- */

static void notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	size_t n;
	if (!path || (path[0] != '/' && path[0] != '@') || (n = strlen(path)) >= sizeof sun.sun_path)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0'; /* an abstract socket */
	ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	(void)w;
	close(fd);
}

/* ---------- keys and the log ---------- */

static int load_keys(struct server *s, int at_start)
{
	struct keyring *k = NULL, *old;
	char why[512];
	struct stat st;
	if (!s->cfg.keys_path)
		return 0;
	if (keyring_load(s->cfg.keys_path, s->sites != NULL, &k, why, sizeof why)) {
		say("%s%s", why, at_start ? "" : " (keeping the keys loaded before)");
		return -1;
	}
	if (stat(s->cfg.keys_path, &st) == 0 && (st.st_mode & S_IROTH))
		say("warning: %s is readable by every user; chmod o-r it", s->cfg.keys_path);
	pthread_rwlock_wrlock(&s->keys_lock);
	old = s->keys;
	s->keys = k;
	pthread_rwlock_unlock(&s->keys_lock);
	keyring_free(old);
	if (!at_start)
		say("reloaded %zu API key%s from %s", keyring_count(k), keyring_count(k) == 1 ? "" : "s",
		    s->cfg.keys_path);
	return 0;
}

/* open_log - open (or, on SIGHUP, reopen in place with dup2 so that worker
 * threads never see a closed descriptor) the request log. */
static int open_log(struct server *s)
{
	const char *p = s->cfg.log_path;
	if (!p)
		return 0;
	if (!strcmp(p, "-")) {
		s->log_fd = STDERR_FILENO;
		return 0;
	}
	int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		say("%s: %s", p, strerror(errno));
		return -1;
	}
	if (s->log_fd < 0) {
		s->log_fd = fd;
		return 0;
	}
	if (dup2(fd, s->log_fd) < 0) {
		say("%s: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---------- options ---------- */

enum {
	O_CREATE = 256,
	O_READ_ONLY,
	O_BODY_LIMIT,
	O_TIMEOUT,
	O_SHUTDOWN_TIMEOUT,
	O_MAX_CONNECTIONS,
	O_HOLD_AS_SPAM,
	O_NO_HOLD_AS_SPAM,
	O_LOG,
	O_VERSION,
	O_AKISMET_BODY_LIMIT,
	O_TLS_PORT,
	O_TLS_CERT,
	O_TLS_KEY,
	O_REDIS,
	O_NODE,
	O_NODES,
	O_HEADER_TIMEOUT,
	O_PER_IP,
	O_BODY_BUDGET,
	O_SITES,
};

static const struct option long_opts[] = {
	{"db", required_argument, NULL, 'd'},
	{"create", no_argument, NULL, O_CREATE},
	{"config", required_argument, NULL, 'c'},
	{"read-only", no_argument, NULL, O_READ_ONLY},
	{"address", required_argument, NULL, 'a'},
	{"port", required_argument, NULL, 'p'},
	{"threads", required_argument, NULL, 't'},
	{"keys", required_argument, NULL, 'k'},
	{"body-limit", required_argument, NULL, O_BODY_LIMIT},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"shutdown-timeout", required_argument, NULL, O_SHUTDOWN_TIMEOUT},
	{"max-connections", required_argument, NULL, O_MAX_CONNECTIONS},
	{"hold-as-spam", no_argument, NULL, O_HOLD_AS_SPAM},
	{"no-hold-as-spam", no_argument, NULL, O_NO_HOLD_AS_SPAM},
	{"log", required_argument, NULL, O_LOG},
	{"akismet-body-limit", required_argument, NULL, O_AKISMET_BODY_LIMIT},
	{"tls-port", required_argument, NULL, O_TLS_PORT},
	{"tls-cert", required_argument, NULL, O_TLS_CERT},
	{"tls-key", required_argument, NULL, O_TLS_KEY},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
	{"redis", required_argument, NULL, O_REDIS},
	{"node", required_argument, NULL, O_NODE},
	{"nodes", required_argument, NULL, O_NODES},
	{"header-timeout", required_argument, NULL, O_HEADER_TIMEOUT},
	{"max-connections-per-ip", required_argument, NULL, O_PER_IP},
	{"body-budget", required_argument, NULL, O_BODY_BUDGET},
	{"sites", required_argument, NULL, O_SITES},
	{NULL, 0, NULL, 0},
};

/* parse_options - fill cfg; returns -1 to go on, else an exit status.
 * *given receives the G_* bits of the settings given as flags. */
static int parse_options(int argc, char **argv, struct config *cfg, unsigned *given)
{
	uint64_t v;
	int o, db_given = 0;
	const char *e = getenv("THRESH_DB");

	memset(cfg, 0, sizeof *cfg);
	*given = 0;
	cfg->db_dir = e && *e ? e : DEFAULT_DB;
	cfg->address = DEFAULT_ADDRESS;
	cfg->port = DEFAULT_PORT;
	cfg->threads = cpu_count();
	cfg->body_limit = DEFAULT_BODY_LIMIT;
	cfg->akismet_body_limit = DEFAULT_AKISMET_BODY_LIMIT;
	cfg->timeout = DEFAULT_TIMEOUT;
	cfg->shutdown_timeout = DEFAULT_SHUTDOWN_TIMEOUT;
	cfg->max_connections = DEFAULT_MAX_CONNECTIONS;
	cfg->header_timeout = DEFAULT_HEADER_TIMEOUT;
	cfg->max_connections_per_ip = PER_IP_DEFAULT;
	cfg->body_budget = DEFAULT_BODY_BUDGET;
	cfg->hold_as_spam = 0; /* a held first comment is not spam: see threshd(8) */
	cfg->open_sites = DEFAULT_OPEN_SITES;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":d:c:a:p:t:k:h", long_opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			if (!*optarg)
				return usage_error("--db: an empty folder name");
			cfg->db_dir = optarg;
			db_given = 1;
			break;
		case O_SITES:
			if (!*optarg)
				return usage_error("--sites: an empty folder name");
			cfg->sites_dir = optarg;
			break;
		case O_CREATE:
			cfg->create = 1;
			break;
		case 'c':
			cfg->config = optarg;
			break;
		case O_READ_ONLY:
			cfg->read_only = 1;
			break;
		case 'a':
			cfg->address = optarg;
			*given |= G_ADDRESS;
			break;
		case 'p':
			if (parse_u64(optarg, 0, 65535, &v))
				return usage_error("--port %s: expected a port number, 0 to 65535", optarg);
			cfg->port = (unsigned)v;
			*given |= G_PORT;
			break;
		case 't':
			if (parse_u64(optarg, 1, MAX_THREADS, &v))
				return usage_error("--threads %s: expected 1 to %d", optarg, MAX_THREADS);
			cfg->threads = (unsigned)v;
			*given |= G_THREADS;
			break;
		case 'k':
			cfg->keys_path = optarg;
			*given |= G_KEYS;
			break;
		case O_BODY_LIMIT:
			if (parse_size(optarg, MAX_BODY_LIMIT, &v))
				return usage_error("--body-limit %s: expected bytes, 1 to %u (K and M "
				                   "suffixes allowed)", optarg, MAX_BODY_LIMIT);
			cfg->body_limit = (size_t)v;
			*given |= G_BODY_LIMIT;
			break;
		case O_AKISMET_BODY_LIMIT:
			if (parse_size(optarg, MAX_BODY_LIMIT, &v))
				return usage_error("--akismet-body-limit %s: expected bytes, 1 to %u (K and "
				                   "M suffixes allowed)", optarg, MAX_BODY_LIMIT);
			cfg->akismet_body_limit = (size_t)v;
			*given |= G_AKISMET_BODY_LIMIT;
			break;
		case O_TLS_PORT:
			if (parse_u64(optarg, 0, 65535, &v))
				return usage_error("--tls-port %s: expected a port number, 0 to 65535", optarg);
			cfg->tls_port = (unsigned)v;
			cfg->tls = 1;
			*given |= G_TLS_PORT;
			break;
		case O_TLS_CERT:
		case O_TLS_KEY:
			if (!*optarg)
				return usage_error("--tls-%s: an empty file name", o == O_TLS_CERT ? "cert" : "key");
			if (o == O_TLS_CERT) {
				cfg->tls_cert = optarg;
				*given |= G_TLS_CERT;
			} else {
				cfg->tls_key = optarg;
				*given |= G_TLS_KEY;
			}
			break;
		case O_TIMEOUT:
			if (parse_u64(optarg, 0, 86400, &v))
				return usage_error("--timeout %s: expected seconds, 0 to 86400", optarg);
			cfg->timeout = (unsigned)v;
			*given |= G_TIMEOUT;
			break;
		case O_SHUTDOWN_TIMEOUT:
			if (parse_u64(optarg, 0, 86400, &v))
				return usage_error("--shutdown-timeout %s: expected seconds, 0 to 86400",
				                   optarg);
			cfg->shutdown_timeout = (unsigned)v;
			*given |= G_SHUTDOWN_TIMEOUT;
			break;
		case O_MAX_CONNECTIONS:
			if (parse_u64(optarg, 1, 1000000, &v))
				return usage_error("--max-connections %s: expected 1 to 1000000", optarg);
			cfg->max_connections = (unsigned)v;
			*given |= G_MAX_CONNECTIONS;
			break;
		case O_HEADER_TIMEOUT:
			if (parse_u64(optarg, 0, 86400, &v))
				return usage_error("--header-timeout %s: expected seconds, 0 to 86400", optarg);
			cfg->header_timeout = (unsigned)v;
			*given |= G_HEADER_TIMEOUT;
			break;
		case O_PER_IP:
			if (parse_u64(optarg, 0, 1000000, &v))
				return usage_error("--max-connections-per-ip %s: expected 0 to 1000000", optarg);
			cfg->max_connections_per_ip = (unsigned)v;
			*given |= G_PER_IP;
			break;
		case O_BODY_BUDGET:
			if (parse_size(optarg, MAX_BODY_BUDGET, &v))
				return usage_error("--body-budget %s: expected bytes, 1 to 4096M (K and M "
				                   "suffixes allowed)", optarg);
			cfg->body_budget = v;
			*given |= G_BODY_BUDGET;
			break;
		case O_HOLD_AS_SPAM:
			cfg->hold_as_spam = 1;
			*given |= G_HOLD;
			break;
		case O_NO_HOLD_AS_SPAM:
			cfg->hold_as_spam = 0;
			*given |= G_HOLD;
			break;
		case O_LOG:
			if (!*optarg)
				return usage_error("--log: an empty file name");
			cfg->log_path = optarg;
			*given |= G_LOG;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case O_VERSION:
			printf("threshd %s (libthresh %s, libmicrohttpd %s)\n", THRESH_VERSION_STRING,
			       thresh_version(), MHD_get_version());
			return 0;
		case O_REDIS:
			cfg->redis = optarg;
			break;
		case O_NODE:
			cfg->node = optarg;
			break;
		case O_NODES:
			cfg->nodes = optarg;
			break;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (cfg->sites_dir) {
		if (db_given)
			return usage_error("--db and --sites: one database, or a folder of sites");
		if (cfg->read_only || cfg->create)
			return usage_error("--sites: sites are made on their first request and learn; "
			                   "--%s is for --db", cfg->read_only ? "read-only" : "create");
		cfg->db_dir = cfg->sites_dir;
	}
	return -1;
}

/* ---------- main ---------- */

/* check_limits - settings that depend on others, once flags and
 * thresh.conf are both read. Returns 0, or -1 (reported). */
static int check_limits(struct config *c)
{
	if (c->max_connections_per_ip == PER_IP_DEFAULT) {
		/* an eighth of the connections, but no fewer than 8 (or all) */
		unsigned floor = c->max_connections < 8 ? c->max_connections : 8;
		c->max_connections_per_ip = c->max_connections / 8;
		if (c->max_connections_per_ip < floor)
			c->max_connections_per_ip = floor;
	}
	int akismet = c->akismet_body_limit > c->body_limit;
	size_t largest = akismet ? c->akismet_body_limit : c->body_limit;
	const char *which = akismet ? "--akismet-body-limit" : "--body-limit";
	/* a body of n bytes takes n + 1 (a NUL ends it) */
	if (c->body_budget <= largest) {
		say("--body-budget %llu is not more than the largest body allowed (%s %zu): no such "
		    "body could be read; raise the budget or lower the limit",
		    (unsigned long long)c->body_budget, which, largest);
		return -1;
	}
	if (c->body_budget / 8 <= largest)
		say("warning: --body-budget %llu: one address's bodies whose key is not in a header "
		    "may hold %llu bytes at once, less than %s %zu: longer ones get 503",
		    (unsigned long long)c->body_budget, (unsigned long long)(c->body_budget / 8),
		    which, largest);
	/* /v1/learn/bulk's bodies are keyed in a header: the whole budget is theirs */
	if (c->body_budget <= bulk_body_limit(c))
		say("warning: --body-budget %llu is not more than the body POST /v1/learn/bulk takes "
		    "(%d times --body-limit: %zu): longer batches get 503",
		    (unsigned long long)c->body_budget, BULK_FACTOR, bulk_body_limit(c));
	return 0;
}

/* open_sites - --sites DIR: the folder (made 0700 when missing), the
 * configuration of all sites, DIR/.prior (the default model, which keeps
 * the prior every site shares loaded and reads that configuration), and
 * the registry. Returns 0 or -1 (reported). */
static int open_sites(struct server *s)
{
	static char conf[PATH_MAX];
	thresh_db_options o;
	char err[1024] = "", model[4096], prior[PATH_MAX];
	struct stat st;
	int rc;
	const char *dir = s->cfg.sites_dir;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		say("--sites %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		say("--sites %s: not a folder", dir);
		return -1;
	}
	if (!s->cfg.config && snprintf(conf, sizeof conf, "%s/thresh.conf", dir) < (int)sizeof conf &&
	    access(conf, F_OK) == 0)
		s->cfg.config = conf;
	if (snprintf(prior, sizeof prior, "%s/.prior", dir) >= (int)sizeof prior) {
		say("--sites %s: the folder name is too long", dir);
		return -1;
	}
	thresh_db_options_init(&o);
	o.config = s->cfg.config;
	o.model = build_tree_model(model, sizeof model);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	o.flags = THRESH_DB_CREATE | (s->cfg.config ? 0 : THRESH_DB_NOCONFIG);
	o.flags |= THRESH_DB_SHARE_PRIOR; /* the table every site's copy shares, kept loaded */
	if ((rc = thresh_db_open(prior, &o, &s->db))) {
		say("%s: %s%s%s", prior, thresh_strerror(rc), err[0] ? ": " : "", err);
		return -1;
	}
	if ((rc = thresh_db_warm(s->db)))
		say("%s: the in-memory copy of the model was not made: %s", prior, thresh_strerror(rc));
	if (sites_new(dir, s->cfg.config, s->db, s->cfg.open_sites, &s->sites)) {
		say("out of memory");
		return -1;
	}
	/* A cluster ([cluster] in thresh.conf, or --redis): every site a node
	 * in a namespace of its own. DIR/.prior itself never learns, so it is
	 * never a node (its stats are read without the cluster's part). */
	char ns[64] = "thresh";
	int cl = s->cfg.redis != NULL;
	if (thresh_db_config_get(s->db, "cluster.redis", err, sizeof err) == 0)
		cl = 1;
	if (cl) {
		const char *const over[3][2] = {{"redis", s->cfg.redis}, {"node", s->cfg.node},
		                                {"nodes", s->cfg.nodes}};
		if (thresh_db_config_get(s->db, "cluster.namespace", ns, sizeof ns) != 0)
			snprintf(ns, sizeof ns, "thresh");
		sites_set_cluster(s->sites, ns, over);
		s->sites_cluster = 1;
	}
	return 0;
}

static int open_db(struct server *s)
{
	thresh_db_options o;
	char err[1024] = "", model[4096];
	int rc;
	thresh_db_options_init(&o);
	o.config = s->cfg.config;
	o.model = build_tree_model(model, sizeof model);
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	o.flags = s->cfg.read_only ? THRESH_DB_RDONLY : 0;
	rc = thresh_db_open(s->cfg.db_dir, &o, &s->db);
	if (rc == THRESH_ENOENT && s->cfg.create && !s->cfg.read_only) {
		o.flags |= THRESH_DB_CREATE;
		err[0] = '\0';
		if ((rc = thresh_db_open(s->cfg.db_dir, &o, &s->db)) == 0)
			say("created %s from the default model", s->cfg.db_dir);
	}
	if (rc) {
		say("%s: %s%s%s%s", s->cfg.db_dir, thresh_strerror(rc), err[0] ? ": " : "", err,
		    rc == THRESH_ENOENT ? " (create it with `thresh init`, or give --create)" : "");
		return -1;
	}
	/* --redis, --node, --nodes over thresh.conf's [cluster] */
	const char *const keys[3] = {"redis", "node", "nodes"};
	const char *vals[3] = {s->cfg.redis, s->cfg.node, s->cfg.nodes};
	for (int i = 0; i < 3; i++)
		if (vals[i] && (rc = thresh_db_cluster_set(s->db, keys[i], vals[i]))) {
			say("--%s %s: %s", keys[i], vals[i],
			    rc == THRESH_EINVAL ? "not a valid value (see thresh.conf(5), [cluster])"
			                        : thresh_strerror(rc));
			return -1;
		}
	/* The first requests read memory, not LMDB, and no request waits for
	 * the copy: it is made before the socket opens. Only speed: on failure
	 * the checks read LMDB and the copy is made later in the background. */
	if ((rc = thresh_db_warm(s->db)))
		say("%s: the in-memory copy of the model was not made: %s", s->cfg.db_dir,
		    thresh_strerror(rc));
	return 0;
}

int main(int argc, char **argv)
{
	static struct server s;
	static struct conf_state cs;
	union addr addr;
	socklen_t alen;
	char shown[INET6_ADDRSTRLEN + 16], tls_shown[INET6_ADDRSTRLEN + 16];
	sigset_t set;
	int rc, sig = SIGTERM, status = 1;

	s.listen_fd = -1;
	s.tls_fd = -1;
	s.log_fd = -1;
#ifdef __GLIBC__
	/* Bodies of 128 KiB and more (Akismet's routes take up to 1 MiB) are
	 * mapped on their own and unmapped when freed, instead of growing the
	 * heap; glibc's default threshold climbs to the size of the largest
	 * block freed, after which a burst of large bodies stays resident. The
	 * sweeper gives back what smaller ones leave free (malloc_trim). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	if ((rc = parse_options(argc, argv, &s.cfg, &cs.given)) >= 0)
		return rc;
	pthread_rwlock_init(&s.keys_lock, NULL);

	if (s.cfg.sites_dir ? open_sites(&s) : open_db(&s))
		goto out;
	if (conf_apply(&s, &cs)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (s.sites) {
		sites_set_max_open(s.sites, s.cfg.open_sites);
		if (!s.cfg.keys_path) {
			say("--sites needs --keys FILE: each key names its site (\"KEY SITE\" lines)");
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (check_limits(&s.cfg)) {
		status = EXIT_USAGE;
		goto out;
	}
	atomic_store(&s.hold_as_spam, s.cfg.hold_as_spam);
	int inherited = inherited_sockets(&s.listen_fd, &s.tls_fd);
	if (inherited < 0) {
		status = EXIT_USAGE;
		goto out;
	}
	if (!inherited) {
		if (parse_address(s.cfg.address, s.cfg.port, &addr, &alen)) {
			say("address %s: expected a literal IPv4 or IPv6 address", s.cfg.address);
			status = EXIT_USAGE;
			goto out;
		}
		if (!s.cfg.keys_path && !is_loopback(&addr)) {
			say("refusing to listen on %s without API keys: give --keys FILE, or listen on a "
			    "loopback address (127.0.0.1 or ::1) for development",
			    s.cfg.address);
			status = EXIT_USAGE;
			goto out;
		}
	} else {
		for (int k = 0; k < 2; k++) {
			int fd = k ? s.tls_fd : s.listen_fd;
			if (fd >= 0 && !s.cfg.keys_path &&
			    (describe_socket(fd, shown, sizeof shown, &addr) || !is_loopback(&addr))) {
				say("refusing to serve the inherited socket %s without API keys: give --keys "
				    "FILE", shown);
				status = EXIT_USAGE;
				goto out;
			}
		}
	}
	int want_tls = inherited ? s.tls_fd >= 0 : s.cfg.tls;
	if (want_tls && (!s.cfg.tls_cert || !s.cfg.tls_key)) {
		say("HTTPS needs --tls-cert FILE and --tls-key FILE");
		status = EXIT_USAGE;
		goto out;
	}
	if (!want_tls && (s.cfg.tls_cert || s.cfg.tls_key))
		say("warning: --tls-cert and --tls-key are unused without --tls-port (or an "
		    "inherited socket named https)");
	if (want_tls && (!(s.tls_cert_pem = read_pem(s.cfg.tls_cert, "TLS certificate")) ||
	                 !(s.tls_key_pem = read_pem(s.cfg.tls_key, "TLS key")))) {
		status = EXIT_USAGE;
		goto out;
	}
	if (want_tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		say("this libmicrohttpd (%s) was built without TLS: HTTPS is not available",
		    MHD_get_version());
		status = EXIT_USAGE;
		goto out;
	}
	if (load_keys(&s, 1)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (open_log(&s))
		goto out;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	shown[0] = tls_shown[0] = '\0';
	if (inherited) {
		if (s.listen_fd >= 0)
			describe_socket(s.listen_fd, shown, sizeof shown, NULL);
		if (s.tls_fd >= 0)
			describe_socket(s.tls_fd, tls_shown, sizeof tls_shown, NULL);
	} else {
		if ((s.listen_fd = open_listener(&addr, alen, shown, sizeof shown)) < 0) {
			say("cannot listen on %s port %u: %s", s.cfg.address, s.cfg.port, strerror(errno));
			goto out;
		}
		if (want_tls) {
			parse_address(s.cfg.address, s.cfg.tls_port, &addr, &alen);
			if ((s.tls_fd = open_listener(&addr, alen, tls_shown, sizeof tls_shown)) < 0) {
				say("cannot listen on %s port %u (HTTPS): %s", s.cfg.address, s.cfg.tls_port,
				    strerror(errno));
				goto out;
			}
		}
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	s.started = (double)now.tv_sec + now.tv_nsec / 1e9;
	if (http_start(&s) || cluster_start(&s))
		goto out;
	say("listening on %s%s%s%s%s (%u thread%s, %s %s, %s)", shown[0] ? shown : "",
	    shown[0] && tls_shown[0] ? ", " : "", tls_shown[0] ? "HTTPS on " : "", tls_shown,
	    inherited ? ", inherited from systemd" : "", s.cfg.threads,
	    s.cfg.threads == 1 ? "" : "s", s.sites ? "sites under" : "database", s.cfg.db_dir,
	    s.cfg.keys_path ? "API keys required" : "development mode: no keys, learning off");
	notify("READY=1");

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			notify("RELOADING=1");
			if (s.cfg.log_path && strcmp(s.cfg.log_path, "-"))
				open_log(&s);
			load_keys(&s, 0);
			conf_reload(&s, &cs);
			notify("READY=1");
			continue;
		}
		break;
	}
	notify("STOPPING=1");
	say("%s: finishing the requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_stop(&s);
	cluster_stop(&s);
	status = 0;
out:
	cluster_stop(&s);
	http_stop(&s);
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	if (s.tls_fd >= 0)
		close(s.tls_fd);
	free(s.tls_cert_pem);
	free(s.tls_key_pem);
	sites_free(s.sites);
	thresh_db_close(s.db);
	keyring_free(s.keys);
	site_map_free(s.site_map);
	pthread_rwlock_destroy(&s.keys_lock);
	if (s.log_fd > STDERR_FILENO)
		close(s.log_fd);
	conf_free(&cs);
	if (status == 0)
		say("stopped");
	return status;
}
