/* src/common/num.c: numbers as text: parse_u64 (bounds, overflow),
 * parse_double (finite, the whole string), parse_size (K and M, 1 to max),
 * parse_bool, fmt_double (the shortest text that reads back exactly) and
 * fmt_fixed (printf's fixed decimals). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

static void expect_u64(const char *s, uint64_t min, uint64_t max, int ok, uint64_t want)
{
	uint64_t v = 12345;
	int rc = parse_u64(s, min, max, &v);
	if (ok) {
		cr_expect_eq(rc, 0, "parse_u64(%s, %llu, %llu) refused", s ? s : "NULL",
		             (unsigned long long)min, (unsigned long long)max);
		cr_expect_eq(v, want, "parse_u64(%s) = %llu", s ? s : "NULL", (unsigned long long)v);
	} else {
		cr_expect_eq(rc, -1, "parse_u64(%s, %llu, %llu) took %llu", s ? s : "NULL",
		             (unsigned long long)min, (unsigned long long)max, (unsigned long long)v);
		cr_expect_eq(v, 12345, "*out untouched on failure");
	}
}

Test(num, parse_u64_digits_only)
{
	expect_u64("0", 0, UINT64_MAX, 1, 0);
	expect_u64("42", 0, UINT64_MAX, 1, 42);
	expect_u64("007", 0, UINT64_MAX, 1, 7);
	expect_u64("", 0, UINT64_MAX, 0, 0);
	expect_u64(NULL, 0, UINT64_MAX, 0, 0);
	expect_u64("-1", 0, UINT64_MAX, 0, 0);
	expect_u64("+1", 0, UINT64_MAX, 0, 0);
	expect_u64(" 1", 0, UINT64_MAX, 0, 0);
	expect_u64("1 ", 0, UINT64_MAX, 0, 0);
	expect_u64("1a", 0, UINT64_MAX, 0, 0);
	expect_u64("0x10", 0, UINT64_MAX, 0, 0);
	expect_u64("1.0", 0, UINT64_MAX, 0, 0);
}

Test(num, parse_u64_bounds_and_overflow)
{
	expect_u64("18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX);
	expect_u64("18446744073709551616", 0, UINT64_MAX, 0, 0);
	expect_u64("18446744073709551620", 0, UINT64_MAX, 0, 0);
	expect_u64("99999999999999999999", 0, UINT64_MAX, 0, 0);
	expect_u64("184467440737095516150", 0, UINT64_MAX, 0, 0);
	expect_u64("1", 1, 10, 1, 1);
	expect_u64("10", 1, 10, 1, 10);
	expect_u64("0", 1, 10, 0, 0);
	expect_u64("11", 1, 10, 0, 0);
	expect_u64("65535", 0, 65535, 1, 65535);
	expect_u64("65536", 0, 65535, 0, 0);
	expect_u64("4294967296", 0, UINT32_MAX, 0, 0);
	expect_u64("5", 5, 5, 1, 5);
	expect_u64("15", 0, 15, 1, 15);
	expect_u64("16", 0, 15, 0, 0);
	expect_u64("19", 0, 15, 0, 0);
}

static void expect_double(const char *s, int ok, double want)
{
	double v = 12345;
	int rc = parse_double(s, &v);
	if (ok) {
		cr_expect_eq(rc, 0, "parse_double(%s) refused", s ? s : "NULL");
		cr_expect_eq(v, want, "parse_double(%s) = %.17g", s ? s : "NULL", v);
	} else {
		cr_expect_eq(rc, -1, "parse_double(%s) took %.17g", s ? s : "NULL", v);
		cr_expect_eq(v, 12345, "*out untouched on failure");
	}
}

Test(num, parse_double)
{
	expect_double("0.5", 1, 0.5);
	expect_double("-2", 1, -2);
	expect_double("1e3", 1, 1000);
	expect_double(".25", 1, 0.25);
	expect_double("0.62", 1, 0.62);
	expect_double("1.7976931348623157e308", 1, DBL_MAX);
	expect_double("", 0, 0);
	expect_double(NULL, 0, 0);
	expect_double("abc", 0, 0);
	expect_double("1.5x", 0, 0);
	expect_double("1.5 ", 0, 0);
	expect_double("inf", 0, 0);
	expect_double("-infinity", 0, 0);
	expect_double("nan", 0, 0);
	expect_double("1e999", 0, 0);
	expect_double("-1e999", 0, 0);
}

static void expect_size(const char *s, uint64_t max, int ok, uint64_t want)
{
	uint64_t v = 12345;
	int rc = parse_size(s, max, &v);
	if (ok) {
		cr_expect_eq(rc, 0, "parse_size(%s, %llu) refused", s ? s : "NULL", (unsigned long long)max);
		cr_expect_eq(v, want, "parse_size(%s) = %llu", s ? s : "NULL", (unsigned long long)v);
	} else {
		cr_expect_eq(rc, -1, "parse_size(%s, %llu) took %llu", s ? s : "NULL",
		             (unsigned long long)max, (unsigned long long)v);
		cr_expect_eq(v, 12345);
	}
}

Test(num, parse_size_suffixes_and_max)
{
	expect_size("1", UINT64_MAX, 1, 1);
	expect_size("64K", UINT64_MAX, 1, 65536); /* num.h's example */
	expect_size("64k", UINT64_MAX, 1, 65536);
	expect_size("2M", UINT64_MAX, 1, 2u << 20);
	expect_size("2m", UINT64_MAX, 1, 2u << 20);
	expect_size("1024", UINT64_MAX, 1, 1024);
	expect_size("0", UINT64_MAX, 0, 0);
	expect_size("0K", UINT64_MAX, 0, 0);
	expect_size("K", UINT64_MAX, 0, 0);
	expect_size("", UINT64_MAX, 0, 0);
	expect_size(NULL, UINT64_MAX, 0, 0);
	expect_size("1G", UINT64_MAX, 0, 0);
	expect_size("64KB", UINT64_MAX, 0, 0);
	expect_size("-1K", UINT64_MAX, 0, 0);
	expect_size(" 1K", UINT64_MAX, 0, 0);
	expect_size("1.5M", UINT64_MAX, 0, 0);
	/* max bounds the bytes, the suffix applied */
	expect_size("64M", 64u << 20, 1, 64u << 20);
	expect_size("65M", 64u << 20, 0, 0);
	expect_size("65537K", 64u << 20, 0, 0);
	expect_size("67108864", 64u << 20, 1, 64u << 20);
	expect_size("67108865", 64u << 20, 0, 0);
	expect_size("1M", (1u << 20) - 1, 0, 0);
	expect_size("1025", 1024, 0, 0);
	/* overflow of the product */
	expect_size("18014398509481984K", UINT64_MAX, 0, 0);
	expect_size("17592186044416M", UINT64_MAX, 0, 0);
	expect_size("17592186044415M", UINT64_MAX, 1, 17592186044415ull << 20);
}

Test(num, parse_bool)
{
	static const char *const yes[] = {"yes", "on", "true", "1"};
	static const char *const no[] = {"no", "off", "false", "0"};
	static const char *const bad[] = {"", "Yes", "ON", "y", "2", "truee", " on", "enabled"};
	int b;
	for (size_t i = 0; i < 4; i++) {
		b = 7;
		cr_expect_eq(parse_bool(yes[i], &b), 0, "%s", yes[i]);
		cr_expect_eq(b, 1, "%s", yes[i]);
		b = 7;
		cr_expect_eq(parse_bool(no[i], &b), 0, "%s", no[i]);
		cr_expect_eq(b, 0, "%s", no[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b = 7;
		cr_expect_eq(parse_bool(bad[i], &b), -1, "[%s]", bad[i]);
		cr_expect_eq(b, 7);
	}
	b = 7;
	cr_expect_eq(parse_bool(NULL, &b), -1);
	cr_expect_eq(b, 7);
}

static void expect_fmt(double v, const char *want)
{
	char buf[32];
	cr_expect_str_eq(fmt_double(buf, sizeof buf, v), want, "%.17g", v);
}

Test(num, fmt_double_is_the_shortest_exact_text)
{
	expect_fmt(0.1, "0.1"); /* num.h's example */
	expect_fmt(0, "0");
	expect_fmt(-0.0, "-0");
	expect_fmt(1, "1");
	expect_fmt(0.62, "0.62");
	expect_fmt(-2.5, "-2.5");
	expect_fmt(100000, "100000");
	expect_fmt(1234567, "1234567");
	expect_fmt(0.1 + 0.2, "0.30000000000000004");
	expect_fmt(1.0 / 3, "0.3333333333333333");
	expect_fmt(1e21, "1e+21");
	expect_fmt(1e-7, "1e-07");
	expect_fmt(DBL_MAX, "1.7976931348623157e+308");
	expect_fmt(5e-324, "4.94066e-324"); /* six digits read back as the least denormal */
	char buf[32];
	cr_expect_eq(fmt_double(buf, sizeof buf, 3), buf, "returns buf");
}

/* Whatever the value, the text reads back as it. */
Test(num, fmt_double_round_trips)
{
	unsigned long long r = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		double v;
		uint64_t bits = r;
		memcpy(&v, &bits, sizeof v);
		if (!isfinite(v))
			continue;
		char buf[32];
		fmt_double(buf, sizeof buf, v);
		cr_assert_eq(strtod(buf, NULL), v, "%s for %.17g", buf, v);
	}
}

/* A number written with few digits prints as written: k/1000 for k below
 * a million is its decimal text, trailing zeros dropped. */
Test(num, fmt_double_short_decimals_print_as_written)
{
	unsigned long long r = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		unsigned long long k = r % 1000000;
		char want[32], buf[32];
		snprintf(want, sizeof want, "%llu.%03llu", k / 1000, k % 1000);
		size_t n = strlen(want);
		while (want[n - 1] == '0')
			want[--n] = '\0';
		if (want[n - 1] == '.')
			want[--n] = '\0';
		cr_assert_str_eq(fmt_double(buf, sizeof buf, (double)k / 1000), want);
	}
}

/* Regression: with max below 9, "max - d" wraps around and a
 * digit above max is taken. No caller today passes such a max. */
Test(num, parse_u64_max_below_nine)
{
	expect_u64("3", 0, 3, 1, 3);
	expect_u64("5", 0, 3, 0, 0);
	expect_u64("9", 0, 8, 0, 0);
	expect_u64("4", 1, 3, 0, 0);
	expect_u64("2", 0, 1, 0, 0);
	expect_u64("05", 0, 3, 0, 0);
}

/* Regression: num.h says every parser takes "no spaces", but
 * parse_double lets strtod skip leading white space. */
Test(num, parse_double_refuses_leading_space)
{
	expect_double(" 1", 0, 0);
	expect_double("\t0.5", 0, 0);
	expect_double("\n2", 0, 0);
}

/* fmt_fixed writes what snprintf's "%.*f" writes, whatever the value:
 * random values over many scales, those a hair either side of halfway
 * between two outputs (where rounding the product would go wrong), the
 * halfway values themselves, and those it leaves to snprintf. */
static void expect_fixed(double v, int prec)
{
	char got[40], want[40];
	snprintf(want, sizeof want, "%.*f", prec, v);
	fmt_fixed(got, 32, v, prec);
	cr_assert_str_eq(got, want, "%.17g with %d decimals", v, prec);
}

Test(num, fmt_fixed_writes_what_printf_writes)
{
	unsigned long long seed = 42;
	for (int round = 0; round < 300000; round++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int prec = (int)(seed >> 60) % 10;
		double unit = (double)(seed >> 11) / 9007199254740992.0; /* [0, 1) */
		double v = ldexp(unit, (int)((seed >> 4) % 60) - 20);   /* 2^-20 .. 2^40 */
		expect_fixed(v, prec);
		/* halfway between two outputs, and its neighbours */
		double half = (floor(v * pow(10, prec)) + 0.5) / pow(10, prec);
		expect_fixed(half, prec);
		expect_fixed(nextafter(half, 0), prec);
		expect_fixed(nextafter(half, INFINITY), prec);
	}
	static const double edge[] = {0, 1, 0.5, 1.5, 2.5, 0.125, 0.0000005, 0.0000015, 0.9999995,
	                              0.99999949999999994, 1e15, 1e20, 123456789012345.6};
	for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
		for (int prec = 0; prec <= 9; prec++)
			expect_fixed(edge[i], prec);
	/* left to snprintf: negative, -0, not finite, more decimals */
	expect_fixed(-0.0, 6);
	expect_fixed(-1.25, 3);
	expect_fixed(INFINITY, 3);
	expect_fixed(NAN, 3);
	expect_fixed(0.1234567890123, 12);
}
