/* fuzz_html - the tokenizer's HTML stripper (src/lib/html.c) against any
 * bytes, as comment content.
 *
 * Checked: html_strip writes within the room it is given, never more than
 * the input's length (every tag or reference is at least as long as what
 * replaces it); well-formed UTF-8 in gives well-formed UTF-8 out (tags end
 * at ASCII bytes and references decode to whole characters); text without
 * '<' or '&' passes unchanged; and the same input strips the same twice,
 * also into a room cut short, where the output stays within that room. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "utf8.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *out = malloc(size + 8), *again = malloc(size + 8);
	FUZZ_CHECK(out && again, "out of memory");
	size_t n = html_strip(data, size, out, size + 8);
	FUZZ_CHECK(n <= size, "%zu bytes became %zu", size, n);
	if (utf8_check(data, size, NULL)) {
		size_t bad = 0;
		FUZZ_CHECK(utf8_check(out, n, &bad), "UTF-8 in, bad byte out at %zu", bad);
	}
	if (!memchr(data, '<', size) && !memchr(data, '&', size))
		FUZZ_CHECK(n == size && !memcmp(out, data, size), "plain text changed");
	size_t m = html_strip(data, size, again, size + 8);
	FUZZ_CHECK(m == n && !memcmp(out, again, n), "not deterministic");
	size_t cap = size / 2;
	memset(again, 0xAA, size + 8);
	m = html_strip(data, size, again, cap);
	FUZZ_CHECK(m <= cap, "wrote %zu bytes into %zu", m, cap);
	for (size_t i = cap; i < size + 8; i++)
		FUZZ_CHECK(again[i] == 0xAA, "wrote past the room at %zu", i);
	free(out);
	free(again);
	return 0;
}
