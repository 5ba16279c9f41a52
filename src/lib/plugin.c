/* plugin.c - the versioned function table for server integrations. */
#include <stdint.h>
#include <string.h>

#include "thresh/thresh.h"
#include "thresh/plugin.h"

static int p_open(const char *dir, const char *config, unsigned flags, thresh_db **out,
                  char *errbuf, size_t errbuf_size)
{
	thresh_db_options o;
	thresh_db_options_init(&o);
	if (flags & ~(THRESH_PLUGIN_CREATE | THRESH_PLUGIN_RDONLY | THRESH_PLUGIN_EMPTY))
		return THRESH_EINVAL;
	o.flags = ((flags & THRESH_PLUGIN_CREATE) ? THRESH_DB_CREATE : 0) |
	          ((flags & THRESH_PLUGIN_RDONLY) ? THRESH_DB_RDONLY : 0) |
	          ((flags & THRESH_PLUGIN_EMPTY) ? THRESH_DB_EMPTY : 0);
	o.config = config;
	o.errbuf = errbuf;
	o.errbuf_size = errbuf_size;
	return thresh_db_open(dir, &o, out);
}

/* fill - a comment from field/value pairs. */
static int fill(const char *const *fields, const char *const *values, size_t n, thresh_comment **out)
{
	thresh_comment *c;
	int rc;
	if ((n && (!fields || !values)) || !out)
		return THRESH_EINVAL;
	if ((rc = thresh_comment_new(&c)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!fields[i] || (rc = thresh_comment_set(c, fields[i], values[i], (size_t)-1))) {
			thresh_comment_free(c);
			return rc ? rc : THRESH_EINVAL;
		}
	}
	*out = c;
	return 0;
}

static int p_check(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
                   thresh_plugin_result *out)
{
	thresh_comment *c;
	thresh_result *r;
	thresh_plugin_result res;
	int rc;
	if (!db || !out || out->size < offsetof(thresh_plugin_result, reasons))
		return THRESH_EINVAL;
	if ((rc = fill(fields, values, n, &c)))
		return rc;
	rc = thresh_check(db, c, 0, &r);
	thresh_comment_free(c);
	if (rc)
		return rc;
	memset(&res, 0, sizeof res);
	res.size = out->size;
	res.verdict = (int)thresh_result_verdict(r);
	res.score = thresh_result_score(r);
	res.blatant = thresh_result_blatant(r);
	res.retry_after = thresh_result_retry_after(r);
	size_t pos = 0;
	for (size_t i = 0; i < thresh_result_reason_count(r); i++) {
		const char *name = thresh_result_reason(r, i);
		size_t len = strlen(name);
		if (pos + len + 2 > sizeof res.reasons)
			break;
		if (pos)
			res.reasons[pos++] = ' ';
		memcpy(res.reasons + pos, name, len);
		pos += len;
	}
	thresh_result_free(r);
	memcpy(out, &res, out->size < sizeof res ? out->size : sizeof res);
	return 0;
}

static int p_learn_op(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
                      int label, int unlearn)
{
	thresh_comment *c;
	int rc;
	if (!db)
		return THRESH_EINVAL;
	if ((rc = fill(fields, values, n, &c)))
		return rc;
	rc = unlearn ? thresh_unlearn(db, c, label, NULL) : thresh_learn(db, c, label, NULL);
	thresh_comment_free(c);
	return rc;
}

static int p_learn(thresh_db *db, const char *const *f, const char *const *v, size_t n, int label)
{
	return p_learn_op(db, f, v, n, label, 0);
}

static int p_unlearn(thresh_db *db, const char *const *f, const char *const *v, size_t n, int label)
{
	return p_learn_op(db, f, v, n, label, 1);
}

/* p_learn_batch - the comments into one thresh_batch, committed at once. */
static int p_learn_batch(thresh_db *db, size_t count, const size_t *nfields, const char *const *fields,
                         const char *const *values, const int *labels, int *rcs,
                         thresh_plugin_learn_result *out)
{
	thresh_plugin_learn_result res;
	thresh_learn_summary sum = {.size = sizeof sum};
	thresh_batch *b;
	size_t at = 0;
	int rc;
	if (!db || (count && (!nfields || !labels)) || (out && out->size < sizeof out->size))
		return THRESH_EINVAL;
	memset(&res, 0, sizeof res);
	if ((rc = thresh_batch_begin(db, &b)))
		return rc;
	for (size_t i = 0; i < count; i++) {
		thresh_comment *c = NULL;
		size_t n = nfields[i];
		if (n > SIZE_MAX - at) {
			rc = THRESH_EINVAL;
			break;
		}
		rc = fill(fields ? fields + at : NULL, values ? values + at : NULL, n, &c);
		at += n;
		if (!rc)
			rc = thresh_batch_learn(b, c, labels[i]);
		thresh_comment_free(c);
		if (rcs)
			rcs[i] = rc;
		if (rc == THRESH_ENOMEM || (rc && !rcs))
			break;
		if (rc) {
			res.refused++;
			rc = 0;
		}
	}
	if (rc) {
		thresh_batch_abort(b);
		return rc;
	}
	if ((rc = thresh_batch_commit(b, &sum)))
		return rc;
	if (out) {
		res.size = out->size;
		res.learned = sum.learned;
		res.duplicates = sum.duplicates;
		res.moved = sum.moved;
		memcpy(out, &res, out->size < sizeof res ? out->size : sizeof res);
	}
	return 0;
}

static const thresh_plugin table = {
	.abi = THRESH_PLUGIN_ABI,
	.size = sizeof(thresh_plugin),
	.version = thresh_version,
	.strerror = thresh_strerror,
	.open = p_open,
	.close = thresh_db_close,
	.is_field = thresh_comment_is_field,
	.check = p_check,
	.learn = p_learn,
	.unlearn = p_unlearn,
	.reload = thresh_db_config_reload,
	.learn_batch = p_learn_batch,
};

int thresh_plugin_get(uint32_t abi, size_t size, const thresh_plugin **out)
{
	if (!out)
		return THRESH_EINVAL;
	*out = NULL;
	/* An older integration's smaller table is a prefix of ours; a larger one
	 * expects functions this library does not have. */
	if (abi != THRESH_PLUGIN_ABI || size < offsetof(thresh_plugin, reload) + sizeof table.reload ||
	    size > sizeof table)
		return THRESH_EABI;
	*out = &table;
	return 0;
}
