/* src/lib/errors.c: the name and text of every THRESH_E* code, the version
 * string, and the helpers set_err and errno_code. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "errors.h"
#include "testutil.h"

Test(errors, every_code_has_a_name_and_text)
{
	for (int c = 0; c >= THRESH_ERROR_LAST; c--) {
		cr_expect_str_neq(thresh_strerror(c), "unknown error", "code %d", c);
		cr_expect_str_neq(thresh_errname(c), "THRESH_UNKNOWN", "code %d", c);
	}
	cr_expect_str_eq(thresh_strerror(THRESH_ERROR_LAST - 1), "unknown error");
	cr_expect_str_eq(thresh_strerror(5), "unknown error");
	cr_expect_str_eq(thresh_errname(THRESH_EUTF8), "THRESH_EUTF8");
	cr_expect_str_eq(thresh_version(), THRESH_VERSION_STRING);
}

/* The names follow thresh/error.h (the table is indexed by -code), and no
 * two codes share a name or a text. */
Test(errors, names_follow_the_header_and_are_distinct)
{
#define NAMED(c) {c, #c}
	static const struct {
		int code;
		const char *name;
	} named[] = {
		NAMED(THRESH_OK), NAMED(THRESH_EINVAL), NAMED(THRESH_ENOMEM), NAMED(THRESH_EIO),
		NAMED(THRESH_EUTF8), NAMED(THRESH_ETOOBIG), NAMED(THRESH_ENUL), NAMED(THRESH_EFIELD),
		NAMED(THRESH_ENOENT), NAMED(THRESH_EVERSION), NAMED(THRESH_ECORRUPT), NAMED(THRESH_EFULL),
		NAMED(THRESH_EACCES), NAMED(THRESH_ECONFIG), NAMED(THRESH_EFORMAT), NAMED(THRESH_EEXIST),
		NAMED(THRESH_EREADONLY), NAMED(THRESH_EABI), NAMED(THRESH_EBUSY), NAMED(THRESH_ENOMODEL),
		NAMED(THRESH_ENOTFOUND), NAMED(THRESH_EPARAM),
		NAMED(THRESH_EUNAVAIL), NAMED(THRESH_ENOTSUP), NAMED(THRESH_EREFUSED),
	};
#undef NAMED
	cr_assert_eq(sizeof named / sizeof named[0], (size_t)(1 - THRESH_ERROR_LAST), "every code listed");
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		cr_expect_str_eq(thresh_errname(named[i].code), named[i].name, "code %d", named[i].code);
	for (int a = 0; a >= THRESH_ERROR_LAST; a--)
		for (int b = a - 1; b >= THRESH_ERROR_LAST; b--) {
			cr_expect_str_neq(thresh_errname(a), thresh_errname(b));
			cr_expect_str_neq(thresh_strerror(a), thresh_strerror(b), "codes %d and %d", a, b);
		}
	cr_expect_str_eq(thresh_errname(1), "THRESH_UNKNOWN");
	cr_expect_str_eq(thresh_errname(-1000), "THRESH_UNKNOWN");
	cr_expect_str_eq(thresh_strerror(-1000), "unknown error");
}

Test(errors, set_err_writes_one_bounded_message)
{
	char buf[16];
	set_err(buf, sizeof buf, "%s:%d: %s", "f.conf", 7, "bad");
	cr_expect_str_eq(buf, "f.conf:7: bad");
	set_err(buf, sizeof buf, "%s", "a message longer than the buffer");
	cr_expect_str_eq(buf, "a message longe", "cut, NUL-terminated");
	memset(buf, '#', sizeof buf);
	set_err(buf, 0, "%s", "nothing");
	cr_expect_eq(buf[0], '#', "size 0: nothing written");
	set_err(NULL, 99, "%s", "nothing");
	set_err(buf, 1, "%s", "x");
	cr_expect_eq(buf[0], '\0');
}

Test(errors, errno_code_maps_file_errors)
{
	static const struct {
		int e, code;
	} map[] = {
		{ENOENT, THRESH_ENOENT}, {ENOTDIR, THRESH_ENOENT}, {EACCES, THRESH_EACCES},
		{EPERM, THRESH_EACCES},  {ENOSPC, THRESH_EFULL},   {EDQUOT, THRESH_EFULL},
		{ENOMEM, THRESH_ENOMEM}, {EROFS, THRESH_EREADONLY}, {EEXIST, THRESH_EEXIST},
		{ENOTEMPTY, THRESH_EEXIST}, {EIO, THRESH_EIO},     {EINVAL, THRESH_EIO},
		{ELOOP, THRESH_EIO},     {0, THRESH_EIO},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		cr_expect_eq(errno_code(map[i].e), map[i].code, "errno %d: %s", map[i].e,
		             thresh_errname(errno_code(map[i].e)));
}
