/* ascii.h - ASCII character classes for the tokenizer and the HTML and URL
 * scanners: exact, locale-free, and defined for any code point (anything
 * past ASCII is in none of them). */
#ifndef THRESH_ASCII_H
#define THRESH_ASCII_H

#include <stdbool.h>
#include <stdint.h>

static inline bool a_digit(int32_t c) { return c >= '0' && c <= '9'; }
static inline bool a_alpha(int32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline bool a_alnum(int32_t c) { return a_digit(c) || a_alpha(c); }
static inline bool a_space(int32_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static inline char a_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

#endif
