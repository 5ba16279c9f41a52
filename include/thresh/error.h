/* thresh/error.h - result codes of every fallible thresh function.
 *
 * Every fallible public function returns int: 0 (THRESH_OK) on success or one
 * of the negative codes below. The codes are append-only: a new code takes the
 * next number, a retired code keeps its slot, no code is ever renumbered.
 * errno values never leak out: the library translates them where they occur.
 */
#ifndef THRESH_ERROR_H
#define THRESH_ERROR_H

#include "thresh/version.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	THRESH_OK = 0,
	THRESH_EINVAL = -1,    /* a bad argument (NULL handle, unknown label, ...) */
	THRESH_ENOMEM = -2,    /* out of memory */
	THRESH_EIO = -3,       /* an operating-system I/O error */
	THRESH_EUTF8 = -4,     /* a field is not valid UTF-8 */
	THRESH_ETOOBIG = -5,   /* a field or a record exceeds its size limit */
	THRESH_ENUL = -6,      /* a field holds a NUL byte */
	THRESH_EFIELD = -7,    /* an unknown comment field name */
	THRESH_ENOENT = -8,    /* the database folder (or a file named) does not exist */
	THRESH_EVERSION = -9,  /* the database or dump has a format version this build cannot read */
	THRESH_ECORRUPT = -10, /* the database is damaged or is not a thresh database */
	THRESH_EFULL = -11,    /* no space left on the device holding the database */
	THRESH_EACCES = -12,   /* permission denied on the database folder or a file */
	THRESH_ECONFIG = -13,  /* the configuration file has an error (the errbuf of the call says where) */
	THRESH_EFORMAT = -14,  /* a malformed dump file or record (the errbuf of the call says where) */
	THRESH_EEXIST = -15,   /* the database already exists */
	THRESH_EREADONLY = -16,/* a write on a database opened read-only */
	THRESH_EABI = -17,     /* a plugin asked for an ABI this library does not provide */
	THRESH_EBUSY = -18,    /* the database is locked or too many readers */
	THRESH_ENOMODEL = -19, /* the default model file was not found */
	THRESH_ENOTFOUND = -20,/* the thing asked for (a learned comment, a key) is not there */
	THRESH_EPARAM = -21,   /* an unknown classifier parameter or a value out of range */
	/* added in 0.3: the cluster (several nodes, one site, through Redis) */
	THRESH_EUNAVAIL = -22, /* the cluster's Redis did not answer in time, or is down */
	THRESH_ENOTSUP = -23,  /* this libthresh was built without the feature asked for */
	THRESH_EREFUSED = -24, /* this node may not join the cluster (its model key or secret differ) */
};

/* The number of the last code defined, for tests and bindings that list them. */
#define THRESH_ERROR_LAST (-24)

/* thresh_strerror - a short English description of a result code.
 *
 * [in] code  any value returned by a thresh function.
 * Returns a static string, never NULL; unknown codes give "unknown error".
 * Cannot fail. Added in 0.1. */
THRESH_API const char *thresh_strerror(int code);

/* thresh_errname - the symbolic name of a result code ("THRESH_EUTF8"), or
 * "THRESH_UNKNOWN". Static string, cannot fail. Added in 0.1. */
THRESH_API const char *thresh_errname(int code);

#ifdef __cplusplus
}
#endif
#endif
