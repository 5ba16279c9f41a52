/* src/lib/html.c: html_strip, comment HTML made plain text: character
 * references decoded, tags, comments and declarations dropped, link targets
 * kept between spaces, and a '<' that starts no complete tag kept as text.
 * (What the tokenizer makes of the result: test_tokenize.c.) */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

/* strip - html_strip of s with room for its length, as a string. */
static char *strip(const char *s)
{
	size_t n = strlen(s);
	unsigned char *out = malloc(n + 1);
	cr_assert_not_null(out);
	size_t k = html_strip((const unsigned char *)s, n, out, n);
	cr_assert_leq(k, n, "longer than its input: %zu > %zu", k, n);
	out[k] = '\0';
	return (char *)out;
}

static void expect_strip(const char *in, const char *want)
{
	char *got = strip(in);
	cr_expect_str_eq(got, want, "html_strip(\"%s\")", in);
	free(got);
}

Test(html, plain_text_is_unchanged)
{
	expect_strip("", "");
	expect_strip("just words, 3 < 4 and 5 > 2", "just words, 3 < 4 and 5 > 2");
	expect_strip("caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87", "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87");
}

/* The worked example of html.c. */
Test(html, worked_example)
{
	expect_strip("<p>Cheap <b>pills</b> &amp; more at <a href=\"http://x.example/buy\">here</a></p>",
	             " Cheap pills & more at  http://x.example/buy here ");
}

Test(html, named_references)
{
	expect_strip("AT&amp;T &lt;b&gt; &quot;q&quot; it&apos;s", "AT&T <b> \"q\" it's");
	expect_strip("fish&nbsp;chips", "fish\xc2\xa0" "chips");
	expect_strip("&copy; &trade; &hellip; &euro;", "\xc2\xa9 \xe2\x84\xa2 \xe2\x80\xa6 \xe2\x82\xac");
	expect_strip("&AMP; &LT;", "& <");
	/* the common five also without ';', as browsers read them */
	expect_strip("a &amp b &lt c", "a & b < c");
	/* the others need their ';' */
	expect_strip("it&apos s", "it&apos s");
	/* a longer name is not a shorter one, unknown names stay text */
	expect_strip("&ampx; &bogus; & alone", "&ampx; &bogus; & alone");
}

Test(html, numeric_references)
{
	expect_strip("&#70;&#x52;&#X45;&#x45 !", "FREE !");
	expect_strip("&#233;t&#xe9;", "\xc3\xa9t\xc3\xa9");
	expect_strip("&#x1F600;", "\xf0\x9f\x98\x80");
	/* NUL, surrogates and values past U+10FFFF become U+FFFD */
	expect_strip("a&#0;b", "a\xef\xbf\xbd" "b");
	expect_strip("&#xD800;", "\xef\xbf\xbd");
	expect_strip("&#x110000;", "\xef\xbf\xbd");
	expect_strip("&#99999999999999999999;", "\xef\xbf\xbd");
	/* no digits: not a reference */
	expect_strip("&#; &#x; &#xg;", "&#; &#x; &#xg;");
}

Test(html, tags_dropped_inline_ones_without_a_space)
{
	expect_strip("<p>one</p><div class=\"x\">two</div>", " one  two ");
	expect_strip("v<b></b>iagra fr<span style=\"x\">ee</span> c<I>a</I>sino", "viagra free casino");
	expect_strip("line<br>break", "line break");
	expect_strip("<P>Upper</P>", " Upper ");
}

Test(html, comments_and_declarations)
{
	expect_strip("fr<!-- hidden -->ee", "free");
	expect_strip("<!DOCTYPE html>a<?xml version=\"1.0\"?>b", " a b");
	/* an unterminated comment is text */
	expect_strip("a <!-- b", "a <!-- b");
	expect_strip("a <!-- b > c", "a <!-- b > c");
}

Test(html, link_targets_kept_between_spaces)
{
	expect_strip("<a href=\"http://a.example/x?p=1&amp;q=2\">t</a>", " http://a.example/x?p=1&q=2 t");
	expect_strip("<img src='http://img.example/p.png' alt=photo>", "  http://img.example/p.png ");
	expect_strip("<A HREF=http://b.example/>t</A>", " http://b.example/ t");
	expect_strip("<a title='x>y' href=\"u\">t</a>", " u t");
	/* data: URIs are left out, and a closing tag's attributes are not links */
	expect_strip("<img src=\"data:image/png;base64,iVBOR\">pic", " pic");
	expect_strip("a</a href=\"http://c.example\">b", "ab");
}

Test(html, a_lt_that_starts_no_tag_is_text)
{
	expect_strip("<3 love", "<3 love");
	expect_strip("a <b and no close", "a <b and no close");
	expect_strip("<a href=\"x.com", "<a href=\"x.com");
	expect_strip("x </ y>", "x </ y>");
	/* a tag longer than TAG_MAX (4096 bytes) is taken as text */
	size_t n = 5000;
	char *s = malloc(n + 1);
	memcpy(s, "<a ", 3);
	memset(s + 3, 'x', n - 4);
	s[n - 1] = '>';
	s[n] = '\0';
	char *got = strip(s);
	cr_expect_str_eq(got, s);
	free(got);
	free(s);
}

/* Output is bounded by cap: cut, never overrun, and a character that would
 * not fit whole is left out. */
Test(html, output_stays_within_its_room)
{
	unsigned char out[16];
	memset(out, '#', sizeof out);
	cr_expect_eq(html_strip((const unsigned char *)"hello world", 11, out, 5), 5);
	cr_expect_eq(memcmp(out, "hello", 5), 0);
	cr_expect_eq(out[5], '#', "nothing written past cap");
	memset(out, '#', sizeof out);
	cr_expect_eq(html_strip((const unsigned char *)"ab&#233;", 8, out, 3), 2,
	             "the two bytes of U+00E9 do not fit in one");
	cr_expect_eq(out[2], '#');
	cr_expect_eq(html_strip((const unsigned char *)"abc", 3, out, 0), 0);
}
