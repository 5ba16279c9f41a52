/* src/common/site_key.c: site_name_ok (the names threshd --sites and
 * `thresh sites` accept) and api_key_char (the characters of a key). */
#include <criterion/criterion.h>
#include <string.h>

#include "site_key.h"

static int ok(const char *s)
{
	return site_name_ok(s, strlen(s));
}

Test(site_key, examples_of_site_key_h)
{
	cr_expect(ok("blog.example.org"));
	cr_expect(!ok(".prior"));
	cr_expect(!ok("Blog"));
}

Test(site_key, lengths)
{
	char name[80];
	memset(name, 'a', sizeof name);
	cr_expect(site_name_ok(name, SITE_NAME_MAX));
	cr_expect(!site_name_ok(name, SITE_NAME_MAX + 1));
	cr_expect(!site_name_ok(name, 0));
	cr_expect(ok("a"));
}

Test(site_key, only_plain_folder_names)
{
	static const char *const good[] = {"a.b_c-9", "a..b", "blog.", "0", "-", "_x"};
	static const char *const bad[] = {".", "..", ".x", "a/b", "/a", "a b", "a\tb", "A",
	                                  "bl\xc3\xb6g", "a:b", "a\\b", "a+b"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_expect(ok(good[i]), "[%s]", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(!ok(bad[i]), "[%s]", bad[i]);
	cr_expect(!site_name_ok("a\0b", 3), "a NUL byte inside");
}

Test(site_key, key_characters)
{
	int n = 0;
	for (int c = 0; c < 256; c++)
		n += api_key_char((unsigned char)c);
	cr_expect_eq(n, 26 + 26 + 10 + 2, "letters, digits, '-' and '_'");
	cr_expect(api_key_char('-') && api_key_char('_') && api_key_char('Z') && api_key_char('0'));
	cr_expect(!api_key_char(' ') && !api_key_char('.') && !api_key_char('#'));
}
