/* replicate.c - the cluster's public functions on a handle (thresh/cluster.h):
 * a round of replication and the [cluster] keys a program sets. The work is
 * cluster.c's (Redis) and replica.c's (the database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/cluster.h"
#include "thresh/error.h"
#include "cluster.h"
#include "db_int.h"
#include "redis.h"

int thresh_db_replicate(thresh_db *db, int timeout_ms, thresh_replicate_info *info)
{
	cluster_conf cc;
	cluster_round r;
	char fp[33];
	if (!db || timeout_ms < 0 || (info && info->size < sizeof(size_t)))
		return THRESH_EINVAL;
	if (!db_cluster_conf(db, &cc))
		return THRESH_ENOTFOUND;
	if (db->flags & THRESH_DB_RDONLY)
		return THRESH_EREADONLY;
	struct cluster *cl = db_cluster(db, fp);
	if (!cl)
		return THRESH_ENOMEM;
	int rc = cluster_replicate(cl, &cc, fp, db->st, timeout_ms, &r);
	if (info) {
		thresh_replicate_info full;
		memset(&full, 0, sizeof full);
		full.size = info->size;
		full.redis_up = r.redis_up;
		full.refused = r.refused;
		full.resynced = r.resynced;
		full.new_epoch = r.new_epoch;
		full.published = r.published;
		full.applied = r.applied;
		full.seq = r.seq;
		full.head = r.head;
		memcpy(full.message, r.message, sizeof full.message);
		memcpy(info, &full, info->size < sizeof full ? info->size : sizeof full);
	}
	return rc;
}

int thresh_db_cluster_set(thresh_db *db, const char *key, const char *value)
{
	char why[300];
	if (!db || !key || !value)
		return THRESH_EINVAL;
	if (!redis_available())
		return THRESH_ENOTSUP;
	pthread_mutex_lock(&db->lock);
	cluster_conf check = db->clc;
	int rc = cluster_conf_set(&check, key, value, why, sizeof why) ? THRESH_EINVAL : 0;
	if (!rc && db->nclover == DB_CLUSTER_OVERRIDES)
		rc = THRESH_ETOOBIG;
	if (!rc) {
		char *k = strdup(key), *v = strdup(value);
		if (!k || !v) {
			free(k);
			free(v);
			rc = THRESH_ENOMEM;
		} else {
			db->clover[db->nclover][0] = k;
			db->clover[db->nclover][1] = v;
			db->nclover++;
		}
	}
	pthread_mutex_unlock(&db->lock);
	if (!rc)
		db_cluster_refresh(db);
	return rc;
}
