/* num.h - numbers as text: strict parsers and the shortest exact format.
 *
 * Part of src/common: the library (thresh.conf, dumps), the command and
 * threshd (flags, [threshd]) read and print numbers with these. Not public
 * API. Every parser takes the whole string: no sign where none is asked
 * for, no spaces, nothing after the number. */
#ifndef THRESH_COMMON_NUM_H
#define THRESH_COMMON_NUM_H

#include <stddef.h>
#include <stdint.h>

/* parse_u64 - a decimal number of digits only, in [min, max]; 0, or -1
 * (s empty or NULL, another character, out of range, overflow). */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* parse_double - a finite number as strtod reads it; 0 or -1. */
int parse_double(const char *s, double *out);

/* parse_size - bytes: digits with an optional K or M suffix (powers of
 * 1024), from 1 to max; 0 or -1. "64K" = 65536. */
int parse_size(const char *s, uint64_t max, uint64_t *out);

/* parse_bool - yes/no, on/off, true/false, 1/0; 0 or -1. */
int parse_bool(const char *s, int *out);

/* fmt_double - the shortest "%.Ng" text (N from 6 to 17) that reads back as
 * v, into buf (32 bytes are enough). Returns buf. "0.1" for 0.1, not
 * "0.10000000000000001". */
const char *fmt_double(char *buf, size_t size, double v);

/* fmt_fixed - v as snprintf's "%.*f" writes it with prec decimals (0 to
 * 9), into buf: the same text, for any v. A value that is not negative,
 * below 1e15 / 10^prec and whose v * 10^prec is not a whole and a half is
 * written from that product's digits; any other goes through snprintf,
 * whose exact arithmetic costs a few hundred nanoseconds. 32 bytes of buf
 * are enough below 1e20. Returns buf. */
const char *fmt_fixed(char *buf, size_t size, double v, int prec);

#endif
