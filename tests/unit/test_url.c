/* src/lib/url.c: the pure URL functions, on code points of folded text
 * (url_host_run, url_alpha_label, url_known_tld, url_lit, url_trim, the
 * character classes) and on the bytes of a URL token (url_host_span,
 * url_regdom). The worked examples of url.h first. (Which tokens the
 * tokenizer makes of URLs: test_tokenize.c.) */
#include <criterion/criterion.h>
#include <string.h>

#include "url.h"

/* U - s (ASCII or UTF-8 of one code point per byte here) as code points in
 * u; returns the count. */
static size_t U(const char *s, int32_t *u)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		u[i] = (unsigned char)s[i];
	return n;
}

static void expect_run(const char *s, size_t from, size_t end, size_t dots, size_t last)
{
	int32_t u[128];
	size_t n = U(s, u), d = 99, l = 99;
	size_t e = url_host_run(u, n, from, &d, &l);
	cr_expect_eq(e, end, "%s from %zu: end %zu", s, from, e);
	cr_expect_eq(d, dots, "%s: dots %zu", s, d);
	cr_expect_eq(l, last, "%s: last %zu", s, l);
}

Test(url, host_run)
{
	expect_run("www.example.co.uk/x", 0, 17, 3, 15); /* url.h's example */
	expect_run("example.com", 0, 11, 1, 8);
	expect_run("a.b.", 0, 3, 1, 2);  /* a trailing dot is not part of it */
	expect_run("a..b", 0, 1, 0, 0);  /* nor a doubled one */
	expect_run("see x-y.example", 4, 15, 1, 8);
	expect_run("my-host_x", 0, 7, 0, 0); /* '_' is no label character */
	expect_run(".com", 0, 0, 0, 0);  /* no label before the dot */
	expect_run("", 0, 0, 0, 0);
	expect_run("UPPER.case", 0, 0, 0, 0); /* folded text only: upper case is none */
}

Test(url, character_classes)
{
	for (int c = 0; c < 128; c++) {
		int label = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
		cr_expect_eq(url_label_char(c), label, "label char %d", c);
		cr_expect_eq(url_local_char(c), label || c == '.' || c == '_' || c == '+' || c == '%',
		             "local char %d", c);
	}
	cr_expect(!url_label_char(0xE9));
	cr_expect(!url_local_char(0xE9));
}

static bool known(const char *s)
{
	int32_t u[64];
	size_t n = U(s, u);
	return url_known_tld(u, 0, n);
}

static bool alpha(const char *s)
{
	int32_t u[64];
	size_t n = U(s, u);
	return url_alpha_label(u, 0, n);
}

Test(url, top_level_domains)
{
	cr_expect(known("com"));
	cr_expect(known("uk"));
	cr_expect(known("xyz"));
	cr_expect(known("ae"), "the first of the table");
	cr_expect(known("za"), "the last of the table");
	/* country codes that are words after a missing space: "end.It", "up.to" */
	cr_expect(!known("it"));
	cr_expect(!known("to"));
	cr_expect(!known("zz"));
	cr_expect(!known("c"));
	cr_expect(!known("COM"), "folded text only");
	cr_expect(!known("abcdefghijklmnopq"), "longer than any");
	/* slices of a longer text */
	int32_t u[16];
	U("end.it x.com", u);
	cr_expect(!url_known_tld(u, 4, 6), "it");
	cr_expect(url_known_tld(u, 9, 12), "com");
}

Test(url, alpha_labels)
{
	cr_expect(alpha("ab"));
	cr_expect(alpha("abcdefghijklmnopqrstuvwx"), "24 letters");
	cr_expect(!alpha("abcdefghijklmnopqrstuvwxy"), "25 letters");
	cr_expect(!alpha("a"));
	cr_expect(!alpha("c0m"));
	cr_expect(!alpha("Ab"));
}

Test(url, literals)
{
	int32_t u[32];
	size_t n = U("go http://x", u);
	cr_expect(url_lit(u, n, 3, "http://"));
	cr_expect(!url_lit(u, n, 0, "http://"));
	cr_expect(!url_lit(u, n, 10, "x.com"), "past the end");
	cr_expect(url_lit(u, n, 5, ""));
}

static void expect_trim(const char *s, const char *want)
{
	int32_t u[128];
	size_t n = U(s, u);
	size_t e = url_trim(u, 0, n);
	cr_expect_eq(e, strlen(want), "url_trim(%s) = %.*s, want %s", s, (int)e, s, want);
}

Test(url, trim)
{
	expect_trim("example.com/a).", "example.com/a"); /* url.h's example */
	expect_trim("example.com/a_(b)).", "example.com/a_(b)");
	expect_trim("example.com/a_(b)", "example.com/a_(b)");
	expect_trim("x.com/[a]]", "x.com/[a]");
	expect_trim("x.com/a?!.,;:*", "x.com/a");
	expect_trim("x.com", "x.com");
	expect_trim("...", "");
	/* from an offset, counting brackets inside [s, e) only */
	int32_t u[32];
	size_t n = U("(x.com/a)", u);
	cr_expect_eq(url_trim(u, 1, n), n - 1, "the '(' before the URL is outside it");
}

static void expect_host(const char *s, const char *want)
{
	size_t a = 99, b = 99;
	bool ok = url_host_span(s, strlen(s), &a, &b);
	if (!want) {
		cr_expect(!ok, "url_host_span(%s): [%zu, %zu)", s, a, b);
		return;
	}
	cr_assert(ok, "url_host_span(%s) found none", s);
	cr_expect(b - a == strlen(want) && memcmp(s + a, want, b - a) == 0,
	          "url_host_span(%s) = %.*s, want %s", s, (int)(b - a), s + a, want);
}

Test(url, host_span)
{
	expect_host("https://u@Host:80/p", "Host"); /* url.h's example */
	expect_host("example.com", "example.com");
	expect_host("example.com./x", "example.com");
	expect_host("//cdn.example/x.js", "cdn.example");
	expect_host("http://a.example?q=1", "a.example");
	expect_host("http://a.example#frag", "a.example");
	expect_host("u:pw@h.example:8080/", "h.example");
	expect_host("http://[2001:db8::1]:8080/x", "[2001:db8::1]");
	expect_host("http://a.example\\evil", "a.example");
	expect_host("svn+ssh://repo.example/x", "repo.example");
	expect_host("http://", NULL);
	expect_host("", NULL);
	expect_host("/path/only", NULL);
}

static void expect_regdom(const char *h, const char *want)
{
	size_t at = url_regdom(h, strlen(h));
	cr_expect_str_eq(h + at, want, "url_regdom(%s)", h);
}

Test(url, registered_domain)
{
	expect_regdom("www.example.co.uk", "example.co.uk"); /* url.h's examples */
	expect_regdom("203.0.113.7", "203.0.113.7");
	expect_regdom("a.b.example.com", "example.com");
	expect_regdom("example.com", "example.com");
	expect_regdom("example.co.uk", "example.co.uk");
	expect_regdom("co.uk", "co.uk");
	expect_regdom("shop.x.com.au", "x.com.au");
	expect_regdom("foo.co", "foo.co");
	expect_regdom("www.example.de", "example.de");
	expect_regdom("localhost", "localhost");
	expect_regdom("[2001:db8::1]", "[2001:db8::1]");
	expect_regdom("", "");
}
