/* errors.c - names and descriptions of the THRESH_E* codes, and the
 * helpers that turn failures into them and into messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "thresh/error.h"
#include "errors.h"

struct code_desc {
	const char *name;
	const char *text;
};

/* Indexed by -code; keep in the order of thresh/error.h. */
static const struct code_desc codes[] = {
	{"THRESH_OK", "success"},
	{"THRESH_EINVAL", "invalid argument"},
	{"THRESH_ENOMEM", "out of memory"},
	{"THRESH_EIO", "input/output error"},
	{"THRESH_EUTF8", "invalid UTF-8 in a field"},
	{"THRESH_ETOOBIG", "a field or record is too large"},
	{"THRESH_ENUL", "a field contains a NUL byte"},
	{"THRESH_EFIELD", "unknown comment field"},
	{"THRESH_ENOENT", "no such database folder or file"},
	{"THRESH_EVERSION", "unsupported format version"},
	{"THRESH_ECORRUPT", "database is damaged or not a thresh database"},
	{"THRESH_EFULL", "no space left on the device"},
	{"THRESH_EACCES", "permission denied"},
	{"THRESH_ECONFIG", "error in the configuration file"},
	{"THRESH_EFORMAT", "malformed dump file"},
	{"THRESH_EEXIST", "database already exists"},
	{"THRESH_EREADONLY", "database is open read-only"},
	{"THRESH_EABI", "unsupported plugin ABI version"},
	{"THRESH_EBUSY", "database is busy (locked or too many readers)"},
	{"THRESH_ENOMODEL", "default model file not found"},
	{"THRESH_ENOTFOUND", "not found"},
	{"THRESH_EPARAM", "unknown parameter or value out of range"},
	{"THRESH_EUNAVAIL", "the cluster's Redis is unavailable (down or too slow)"},
	{"THRESH_ENOTSUP", "not supported by this build of libthresh"},
	{"THRESH_EREFUSED", "refused by the cluster (another model key or secret)"},
};

const char *thresh_strerror(int code)
{
	if (code > 0 || -code >= (int)(sizeof codes / sizeof codes[0]))
		return "unknown error";
	return codes[-code].text;
}

const char *thresh_errname(int code)
{
	if (code > 0 || -code >= (int)(sizeof codes / sizeof codes[0]))
		return "THRESH_UNKNOWN";
	return codes[-code].name;
}

const char *thresh_version(void)
{
	return THRESH_VERSION_STRING;
}

void set_err(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	if (!buf || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

int errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return THRESH_ENOENT;
	case EACCES:
	case EPERM:
		return THRESH_EACCES;
	case ENOSPC:
	case EDQUOT:
		return THRESH_EFULL;
	case ENOMEM:
		return THRESH_ENOMEM;
	case EROFS:
		return THRESH_EREADONLY;
	case EEXIST:
	case ENOTEMPTY:
		return THRESH_EEXIST;
	default:
		return THRESH_EIO;
	}
}
