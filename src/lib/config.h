/* config.h - thresh.conf: the site's moderation rules and overrides.
 *
 * Plain "key = value" lines; '#' starts a comment; list keys take
 * comma-separated values and may be repeated to append. Lines after a
 * "[name]" header belong to another program (threshd reads [threshd]) and
 * are kept as "name.key" for thresh_db_config_get(); the library checks only
 * its own keys, and an unknown one is an error naming the file and line.
 * A configuration is immutable once loaded and shared by reference count,
 * so a reload never disturbs a check in progress. */
#ifndef THRESH_CONFIG_H
#define THRESH_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>

#include "model.h"

enum conf_action { ACT_HOLD = 1, ACT_REJECT = 2 };

/* [cluster]: several nodes serving one site through Redis (cluster.h). */
#define CLUSTER_NAME_MAX 64
typedef struct cluster_conf {
	int on;                         /* the section is there (or a program set a key) */
	char redis[256];                /* "unix:PATH" or "HOST:PORT" */
	char ns[CLUSTER_NAME_MAX];      /* the prefix of every key ("thresh") */
	char node[CLUSTER_NAME_MAX];    /* this node's name (default: the host name) */
	unsigned nodes;                 /* nodes sharing the rate (the local fallback's share) */
	unsigned timeout_ms;            /* a check's wait for Redis at most */
	unsigned connect_timeout_ms;
	unsigned upload_timeout_ms;     /* a snapshot's temporary key outlives its last chunk so long */
	unsigned batch;                 /* events read or published at once */
	unsigned snapshot_every;        /* events between two snapshots */
	unsigned stream_max;            /* events the stream keeps (about) */
	unsigned retain;                /* own events kept after confirmation, at most */
} cluster_conf;

/* cluster_conf_defaults - the defaults of [cluster], off. Cannot fail. */
void cluster_conf_defaults(cluster_conf *cc);

/* cluster_conf_set - one key of [cluster] into cc (and cc->on set).
 * Returns 0, or -1 with what was expected in why. */
int cluster_conf_set(cluster_conf *cc, const char *key, const char *val, char *why, size_t whysize);

typedef struct conf {
	atomic_int refs;
	/* classifier parameters that override the stored ones */
	double param[P_COUNT];
	unsigned char has_param[P_COUNT];
	/* rate limiting (GCRA): rate_limit comments per rate_period seconds,
	 * rate_burst at once, per author; ip_rate_* the same per IP address
	 * (IPv6: per /64), whatever the author. rate_limit 0 turns both off,
	 * ip_rate_limit 0 the address's */
	double rate_limit, rate_period;
	unsigned rate_burst;
	double ip_rate_limit, ip_rate_period;
	unsigned ip_rate_burst;
	int rate_action;
	/* site rules */
	unsigned hold_links;            /* hold at this many links or more; 0: off */
	char **mod_words;               /* case-folded; hold */
	size_t n_mod;
	char **bad_words;               /* case-folded; reject */
	size_t n_bad;
	int first_comment;              /* hold an author's first comment ... */
	double first_comment_max_score; /* ... unless it scores below this */
	unsigned trust_approved;        /* approved comments that make an author trusted; 0: off */
	double trust_max_score;         /* trusted authors are not held below this score */
	int honeypot;                   /* a filled honeypot rejects */
	double min_form_seconds;        /* a faster form submission holds; 0: off */
	int memory_cache;               /* keep the token counts of a snapshot in memory */
	cluster_conf cl;                /* [cluster] */
	/* keys of other sections: ext[2i] "section.key", ext[2i+1] its raw value */
	char **ext;
	size_t n_ext; /* strings in ext, twice the keys */
	char *path;                     /* where it was read from, or NULL for defaults */
} conf;

/* conf_defaults - a configuration with every default. NULL when out of memory. */
conf *conf_defaults(void);

/* conf_load - read path over the defaults.
 * Returns 0, THRESH_ENOENT, THRESH_EACCES, THRESH_EIO, THRESH_ENOMEM or
 * THRESH_ECONFIG ("FILE:LINE: what was expected" in errbuf). */
int conf_load(const char *path, conf **out, char *errbuf, size_t errsize);

/* conf_ref / conf_unref - take and drop a reference; unref of the last frees.
 * Both accept NULL. */
conf *conf_ref(conf *c);
void conf_unref(conf *c);

/* conf_format - the configuration in force as thresh.conf text, with the
 * stored parameters m (NULL: only overrides) filled in. Returns a malloc'd
 * string or NULL when out of memory. */
char *conf_format(const conf *c, const model_meta *m);

/* conf_get - the value of one key as text, into buf.
 * Returns 0, THRESH_ENOTFOUND, THRESH_ETOOBIG (buf too small) or THRESH_ENOMEM. */
int conf_get(const conf *c, const model_meta *m, const char *key, char *buf, size_t size);

#endif
