/* comment_int.h - the layout of a comment, shared inside the library. */
#ifndef THRESH_COMMENT_INT_H
#define THRESH_COMMENT_INT_H

#include <stddef.h>
#include <stdint.h>
#include "thresh/comment.h"

/* Field slots, in the order of the table in thresh/comment.h. */
enum comment_field {
	F_CONTENT, F_AUTHOR, F_EMAIL, F_URL, F_IP, F_USER_AGENT, F_REFERRER,
	F_PERMALINK, F_TYPE, F_LANG, F_HONEYPOT, F_FORM_AGE,
	F_COUNT
};

struct thresh_comment {
	char *val[F_COUNT];   /* NUL-terminated copies, NULL when unset */
	size_t len[F_COUNT];  /* their lengths in bytes */
	size_t cap[F_COUNT];  /* allocated bytes, for reuse */
	int64_t time;         /* seconds since the epoch, 0 = now */
	double form_age;      /* parsed F_FORM_AGE, valid when val[F_FORM_AGE] */
	unsigned checked;     /* bit f: val[f] was set by thresh_comment_set, which
	                       * checked its UTF-8, and has not changed since */
};

/* comment_field_name - our name of slot f. Cannot fail. */
const char *comment_field_name(enum comment_field f);

#endif
