/* site_key.h - the words of a key file: a site's name and an API key, as
 * threshd (its --keys and --sites) and `thresh sites` both read them. Part
 * of src/common; not public API.
 *
 *   # KEY                             SITE
 *   3f9c2a7be61d4b1d9e0a7c55e2f18d03  blog.example.org */
#ifndef THRESH_COMMON_SITE_KEY_H
#define THRESH_COMMON_SITE_KEY_H

#include <stddef.h>

/* An API key: KEY_MIN_LEN to KEY_MAX_LEN of [A-Za-z0-9_-] (api_key_char). */
#define KEY_MIN_LEN 8
#define KEY_MAX_LEN 256

/* A site's name: 1 to SITE_NAME_MAX of [a-z0-9._-], not starting with '.',
 * so that it is a plain folder name of threshd's --sites DIR, never "." or
 * "..", never one of the names threshd keeps there for itself (DIR/.prior). */
#define SITE_NAME_MAX 64

/* api_key_char - 1 when c may appear in an API key, else 0. Cannot fail. */
int api_key_char(unsigned char c);

/* site_name_ok - 1 when s[0..n) is a site's name, else 0. Cannot fail.
 *   site_name_ok("blog.example.org", 16)  1
 *   site_name_ok(".prior", 6)             0  (starts with '.')
 *   site_name_ok("Blog", 4)               0  (upper case) */
int site_name_ok(const char *s, size_t n);

#endif
