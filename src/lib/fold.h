/* fold.h - text made comparable: NFKC, case-folded, default-ignorable code
 * points dropped (see fold.c). */
#ifndef THRESH_FOLD_H
#define THRESH_FOLD_H

#include <stddef.h>
#include <stdint.h>

/* ALL-CAPS words seen while folding: runs of 3 or more upper-case letters
 * with no lower-case one, counted before case folding. upper and lower are
 * the letters of the word in progress. */
struct fold_caps {
	unsigned words, upper, lower;
};

#define FOLD_MORE 1 /* fold_text needs more room: *need code points */

/* fold_text - s[0..n) (UTF-8) NFKC-normalized and case-folded, ignorables
 * dropped, as code points into u[0..cap). ASCII runs take a fast path; the
 * rest goes through utf8proc a stretch at a time. A stretch starts one
 * ASCII character early, because a combining mark can compose with the base
 * before it; it ends at an ASCII character followed by another, because
 * nothing composes onto an ASCII character and canonical reordering never
 * crosses one. A stretch is also cut where a run of combining marks would
 * pass 30 (Unicode's Stream-Safe Text Format, see fold.c), so the work is
 * linear in n whatever the marks.
 * [in,out] caps  NULL, or counts ALL-CAPS words (reset first).
 * Returns 0 with *out code points, FOLD_MORE with *need (call again with
 * that much room), THRESH_EUTF8 or THRESH_ENOMEM. */
int fold_text(const unsigned char *s, size_t n, struct fold_caps *caps, int32_t *u, size_t cap,
              size_t *out, size_t *need);

/* fold_dup - s[0..n) folded the same way, as a new NUL-terminated UTF-8
 * string (free() it), for matching the site's word lists and normalizing
 * identities: fold_text's code points, so also linear in n. NULL when out
 * of memory or s is not valid UTF-8. */
char *fold_dup(const char *s, size_t n);

#endif
