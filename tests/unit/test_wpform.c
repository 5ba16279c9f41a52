/* src/common/wpform.c: wp_canonical, a WordPress comment's content, author,
 * e-mail and URL in one form, whether they come as the visitor typed them or
 * as WordPress stored them (kses-filtered, the author collapsed, a web site
 * given "http://"). */
#include <criterion/criterion.h>
#include <string.h>

#include "wpform.h"

static const char *canon(const char *s, enum wp_canon kind)
{
	static unsigned char buf[256];
	size_t n = strlen(s);
	cr_assert(n + 8 <= sizeof buf);
	memcpy(buf, s, n);
	n = wp_canonical(buf, n, sizeof buf - 1, kind);
	buf[n] = '\0';
	return (const char *)buf;
}

Test(wpform, examples_of_wpform_h)
{
	cr_expect_str_eq(canon("  Tom &amp; Jerry &#8217;s\n", WP_CANON_TEXT), "Tom & Jerry \xe2\x80\x99s");
	cr_expect_str_eq(canon(" Ann \t  Smith ", WP_CANON_AUTHOR), "Ann Smith");
	cr_expect_str_eq(canon("example.com/me", WP_CANON_URL), "http://example.com/me");
}

Test(wpform, what_kses_stores_reads_as_typed)
{
	/* as typed, and as WordPress stores it for a visitor */
	cr_expect_str_eq(canon("a < b && c > \"d\" 'e'", WP_CANON_TEXT),
	                 canon("a &lt; b &amp;&amp; c &gt; &quot;d&quot; &#039;e&#039;", WP_CANON_TEXT));
	cr_expect_str_eq(canon("&#x263A; &#X263a;", WP_CANON_TEXT), "\xe2\x98\xba \xe2\x98\xba");
	cr_expect_str_eq(canon("&apos;", WP_CANON_TEXT), "'");
}

Test(wpform, what_is_no_reference_stays)
{
	cr_expect_str_eq(canon("&nbsp; &#0; &#xD800; &#1114112; &#; &#x; &amp", WP_CANON_TEXT),
	                 "&nbsp; &#0; &#xD800; &#1114112; &#; &#x; &amp");
	cr_expect_str_eq(canon("&#65", WP_CANON_TEXT), "&#65", "no ';'");
}

Test(wpform, white_space)
{
	cr_expect_str_eq(canon("\r\n line 1\r\n\r\nline 2 \t", WP_CANON_TEXT), "line 1\r\n\r\nline 2",
	                 "content keeps its inner lines");
	cr_expect_str_eq(canon("   ", WP_CANON_AUTHOR), "");
	cr_expect_str_eq(canon("", WP_CANON_TEXT), "");
}

Test(wpform, url_scheme)
{
	cr_expect_str_eq(canon("https://x.example", WP_CANON_URL), "https://x.example");
	cr_expect_str_eq(canon("/path", WP_CANON_URL), "/path");
	cr_expect_str_eq(canon("#frag", WP_CANON_URL), "#frag");
	cr_expect_str_eq(canon("x.example", WP_CANON_TEXT), "x.example", "only a URL gets a scheme");
	/* no room: left as it is */
	unsigned char buf[16] = "x.example";
	cr_expect_eq(wp_canonical(buf, 9, 12, WP_CANON_URL), 9);
	cr_expect_eq(wp_canonical(buf, 9, 16, WP_CANON_URL), 16);
	cr_expect(!memcmp(buf, "http://x.example", 16));
}
