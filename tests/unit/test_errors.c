/* src/lib/errors.c: the name and text of every THRESH_E* code, the version
 * string, and the helpers set_err and errno_code. */
#include <criterion/criterion.h>

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
