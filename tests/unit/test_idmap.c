/* src/lib/idmap.c: token ids to counts in memory (open addressing). */
#include <criterion/criterion.h>

#include "idmap.h"
#include "thresh/error.h"
#include "testutil.h"

/* An idmap that starts small and grows past the huge-page size holds every
 * id it was given (the edges of the range too), finds none it was not, and
 * sorts them all, with their counts, id 0 first. */
Test(idmap, add_find_grow_and_sort)
{
	idmap m;
	const uint64_t n = 200000; /* from 1024 slots to 2^19: 4 MiB of keys */
	cr_assert_eq(idmap_init(&m, 1), 0);
	for (uint64_t i = 0; i < n; i++) {
		int added;
		tok_counts *c = idmap_add(&m, tu_spread_id(i), &added);
		cr_assert_not_null(c);
		cr_assert_eq(added, 1, "id %llu", (unsigned long long)i);
		cr_assert_eq(c->spam + c->ham + c->day, 0, "a new id starts at zeros");
		c->spam = (uint32_t)i;
		c->day = (uint32_t)(i * 3);
	}
	cr_expect_eq(idmap_count(&m), n);
	int added;
	cr_assert_not_null(idmap_add(&m, tu_spread_id(5), &added));
	cr_expect_eq(added, 0, "an id held is not added again");
	cr_expect_eq(idmap_count(&m), n);
	for (uint64_t i = 0; i < n; i++) {
		const tok_counts *c = idmap_find(&m, tu_spread_id(i));
		cr_assert_not_null(c, "id %llu", (unsigned long long)i);
		cr_assert_eq(c->spam, (uint32_t)i);
		cr_assert_null(idmap_find(&m, tu_spread_id(i) ^ 0x5555));
	}
	size_t k = idmap_sort(&m);
	cr_assert_eq(k, n);
	cr_expect_eq(m.keys[0], 0);
	cr_expect_eq(m.keys[k - 1], UINT64_MAX);
	for (size_t i = 0; i < k; i++) {
		if (i)
			cr_assert_lt(m.keys[i - 1], m.keys[i], "sorted at %zu", i);
		cr_assert_eq(m.vals[i].day, m.vals[i].spam * 3, "counts moved with their id at %zu", i);
	}
	idmap_free(&m);
	idmap_free(&m); /* a freed map is a zeroed map */
	cr_expect_eq(idmap_init(&m, (size_t)-1), THRESH_ENOMEM);
	idmap_free(&m);
}
