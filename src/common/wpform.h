/* wpform.h - a WordPress comment's fields in one form, whichever way they
 * arrive. Part of src/common (the programs' part); not public API.
 *
 * WordPress hands out a comment's text twice: as the visitor typed it
 * (Akismet's comment-check, and submit-spam / submit-ham with
 * akismet_as_submitted) and as WordPress stored it (the wp_comments row:
 * "Check for Spam", a submit without akismet_as_submitted, the REST API's
 * content.raw, a `mariadb --batch` query): kses-filtered ("&" as "&amp;",
 * "<" as "&lt;"), the author's white space collapsed, a web site without a
 * scheme given "http://". A learned comment is remembered by a digest of
 * content, author, e-mail and URL, so these four fields are brought to one
 * form before the library sees them, and a decision learned one way counts
 * once when it comes again the other way: the character references
 * WordPress writes decoded, white space trimmed (the author's collapsed),
 * "http://" before a web site that has no scheme. The tokenizer decodes
 * references itself, so the score does not change.
 *
 *   "  Tom &amp; Jerry &#8217;s\n"   (content)  "Tom & Jerry ’s"
 *   " Ann \t  Smith "                (author)   "Ann Smith"
 *   "example.com/me"                 (URL)      "http://example.com/me"
 *
 * threshd's Akismet endpoints and `thresh train --wp-json / --wp-mariadb`
 * use it. */
#ifndef THRESH_COMMON_WPFORM_H
#define THRESH_COMMON_WPFORM_H

#include <stddef.h>

enum wp_canon {
	WP_CANON_TEXT,   /* content, e-mail: references decoded, trimmed */
	WP_CANON_AUTHOR, /* and inner white space collapsed to one space */
	WP_CANON_URL,    /* and "http://" before a site without a scheme */
};

/* wp_canonical - bring s[0..n) (UTF-8, room for cap bytes) to that form,
 * in place. The text never grows but for the 7 bytes of "http://", which
 * are added only when they fit in cap. Returns the new length. Cannot fail. */
size_t wp_canonical(unsigned char *s, size_t n, size_t cap, enum wp_canon kind);

#endif
