/* url.h - URLs, host names and registered domains.
 *
 * The scanning functions read the code points of normalized content
 * (NFKC, case-folded: hosts are lower case by then); url_host_span and
 * url_regdom read the bytes of a URL as the tokenizer spells it. None of
 * them allocates or fails. Worked examples:
 *
 *   url_host_run("www.example.co.uk/x")       end at '/', 3 dots, last "uk"
 *   url_known_tld("com") true, ("it") false   a word after a missing space
 *   url_trim("example.com/a).")               drops ")."  (no '(' inside)
 *   url_host_span("https://u@Host:80/p")      "Host"
 *   url_regdom("www.example.co.uk")           where "example.co.uk" starts
 *   url_regdom("203.0.113.7")                 0: an IP is its own domain */
#ifndef THRESH_URL_H
#define THRESH_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* url_label_char - a character of a DNS label: [a-z0-9-]. Inline: the
 * tokenizer asks it of every character of every word. */
static inline bool url_label_char(int32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}
/* url_local_char - a character of an e-mail address's local part. */
bool url_local_char(int32_t c);

/* url_host_run - the end of DNS labels from u[i]: labels joined by single
 * dots; a dot not followed by a label character ends the run. *dots counts
 * the dots, *last is where the last label starts. */
size_t url_host_run(const int32_t *u, size_t n, size_t i, size_t *dots, size_t *last);

/* url_alpha_label - u[i..j) is 2 to 24 letters a-z (a plausible TLD). */
bool url_alpha_label(const int32_t *u, size_t i, size_t j);

/* url_known_tld - u[i..j) is a top-level domain that makes a bare
 * "name.tld" a link. Two-letter country codes that are also common words
 * after a missing space ("end.It", "up.to") are not. */
bool url_known_tld(const int32_t *u, size_t i, size_t j);

/* url_lit - the ASCII literal lit stands at u[i] (within n). */
bool url_lit(const int32_t *u, size_t n, size_t i, const char *lit);

/* url_trim - the end of a URL u[s..e) without the punctuation that belongs
 * to the sentence around it, and without closing brackets that have no
 * opening one inside the URL. */
size_t url_trim(const int32_t *u, size_t s, size_t e);

/* url_host_span - the host inside URL text s[0..n), as [*a, *b): after an
 * optional "scheme://" or "//", before '/', '?' or '#', without user info,
 * port or a trailing dot. Returns false when there is none. */
bool url_host_span(const char *s, size_t n, size_t *a, size_t *b);

/* url_regdom - where the registered domain starts in host h[0..n): the
 * last two labels, or three under a generic second level of a country code
 * ("example.co.uk"); an IP address is its own domain (0). */
size_t url_regdom(const char *h, size_t n);

#endif
