/* src/common/urlform.c: urlform_decode, the escapes of a URL-encoded form
 * ('+' a space, %XX a byte), strict for threshd's JSON-side forms and
 * lenient for Akismet's endpoints and mod_thresh. */
#include <criterion/criterion.h>
#include <string.h>

#include "urlform.h"

static char out[256];

static long dec(const char *s, int strict, size_t *bad)
{
	memset(out, '#', sizeof out);
	return urlform_decode(s, strlen(s), out, strict, bad);
}

Test(urlform, examples_of_urlform_h)
{
	size_t bad = 99;
	cr_expect_eq(dec("Ann+Lee", 1, NULL), 7);
	cr_expect_str_eq(out, "Ann Lee");
	cr_expect_eq(dec("caf%C3%A9", 1, NULL), 5);
	cr_expect_str_eq(out, "caf\xc3\xa9");
	cr_expect_eq(dec("100%", 1, &bad), -1);
	cr_expect_eq(bad, 3);
	cr_expect_eq(dec("100%", 0, NULL), 4);
	cr_expect_str_eq(out, "100%");
}

Test(urlform, hex_digits_in_either_case)
{
	cr_expect_eq(dec("%2f%2F%aB", 1, NULL), 3);
	cr_expect_str_eq(out, "//\xab");
}

Test(urlform, a_decoded_nul_is_kept_and_counted)
{
	cr_expect_eq(dec("a%00b", 1, NULL), 3);
	cr_expect_eq(memcmp(out, "a\0b", 4), 0);
}

Test(urlform, an_escape_cut_by_the_end_of_the_field)
{
	size_t bad = 0;
	cr_expect_eq(dec("x%4", 1, &bad), -1);
	cr_expect_eq(bad, 1);
	cr_expect_eq(dec("x%4", 0, NULL), 3);
	cr_expect_str_eq(out, "x%4");
	/* the last whole escape of a field is decoded */
	cr_expect_eq(dec("x%41", 0, NULL), 2);
	cr_expect_str_eq(out, "xA");
}

Test(urlform, lenient_keeps_a_bad_escape_and_decodes_what_follows)
{
	size_t bad = 0;
	cr_expect_eq(dec("50%+off%zz%21", 0, NULL), 11);
	cr_expect_str_eq(out, "50% off%zz!");
	cr_expect_eq(dec("50%+off", 1, &bad), -1);
	cr_expect_eq(bad, 2);
}

Test(urlform, an_encoded_plus_stays_a_plus)
{
	cr_expect_eq(dec("1%2B1+%3D+2", 1, NULL), 7);
	cr_expect_str_eq(out, "1+1 = 2");
}

Test(urlform, the_empty_field)
{
	cr_expect_eq(dec("", 1, NULL), 0);
	cr_expect_str_eq(out, "");
}
