/* src/lib/idmap.c: token ids to counts in memory (open addressing, at
 * most half full): add, find, id 0 kept aside, growth, and the sort. */
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

Test(idmap, empty_map)
{
	idmap m;
	cr_assert_eq(idmap_init(&m, 0), 0);
	cr_expect_eq(idmap_count(&m), 0);
	cr_expect_null(idmap_find(&m, 0));
	cr_expect_null(idmap_find(&m, 1));
	cr_expect_null(idmap_find(&m, UINT64_MAX));
	cr_expect_eq(idmap_sort(&m), 0);
	idmap_free(&m);
}

/* Id 0 marks an empty slot, so it is kept aside: added once, found,
 * counted, and sorted first. */
Test(idmap, id_zero_is_kept_aside)
{
	idmap m;
	int added;
	cr_assert_eq(idmap_init(&m, 4), 0);
	cr_expect_null(idmap_find(&m, 0));
	tok_counts *z = idmap_add(&m, 0, &added);
	cr_assert_not_null(z);
	cr_expect_eq(added, 1);
	cr_expect_eq(z->spam + z->ham + z->day, 0, "a new id starts at zeros");
	z->spam = 11;
	cr_expect_eq(idmap_count(&m), 1);
	z = idmap_add(&m, 0, &added);
	cr_expect_eq(added, 0, "id 0 is not added twice");
	cr_expect_eq(z->spam, 11);
	cr_expect_eq(idmap_count(&m), 1);
	cr_assert_not_null(idmap_find(&m, 0));
	cr_expect_eq(idmap_find(&m, 0)->spam, 11);
	cr_expect_null(idmap_find(&m, 1), "no other id came with it");
	tok_counts *five = idmap_add(&m, 5, &added);
	five->spam = 55;
	cr_expect_eq(idmap_count(&m), 2);
	cr_assert_eq(idmap_sort(&m), 2);
	cr_expect_eq(m.keys[0], 0);
	cr_expect_eq(m.vals[0].spam, 11);
	cr_expect_eq(m.keys[1], 5);
	cr_expect_eq(m.vals[1].spam, 55);
	idmap_free(&m);
}

#define GOLDEN 0x9E3779B97F4A7C15ULL /* k * GOLDEN: ids spread over the range */

/* At most half full: room for expect ids without growing, and the slot
 * table doubles when one more would pass half; counts survive the move. */
Test(idmap, grows_at_half_full_and_keeps_the_counts)
{
	idmap m;
	int added;
	cr_assert_eq(idmap_init(&m, 1000), 0);
	size_t slots = m.mask + 1;
	cr_expect_geq(slots, 2000, "%zu slots for 1000 ids", slots);
	for (uint64_t i = 1; i <= 1000; i++)
		idmap_add(&m, i * GOLDEN, &added)->ham = (uint32_t)i;
	cr_expect_eq(m.mask + 1, slots, "1000 ids fit without growing");
	uint64_t i = 1000;
	while (idmap_count(&m) < slots / 2) { /* up to half full */
		i++;
		idmap_add(&m, i * GOLDEN, &added)->ham = (uint32_t)i;
	}
	cr_expect_eq(m.mask + 1, slots, "half full: %zu ids", idmap_count(&m));
	i++;
	idmap_add(&m, i * GOLDEN, &added)->ham = (uint32_t)i;
	cr_expect_eq(m.mask + 1, 2 * slots, "one past half full doubles the table");
	cr_expect_eq(idmap_count(&m), i);
	for (uint64_t k = 1; k <= i; k++) {
		const tok_counts *c = idmap_find(&m, k * GOLDEN);
		cr_assert_not_null(c, "id %llu lost in the move", (unsigned long long)k);
		cr_assert_eq(c->ham, (uint32_t)k);
	}
	idmap_free(&m);
}

/* Ids whose top bits choose the same slot probe onward, and those of the
 * last slot wrap around to the first, where small ids live: all are found,
 * and the sort puts them in order across the wrap. */
Test(idmap, colliding_and_wrapping_ids_are_found_and_sorted)
{
	idmap m;
	int added;
	const uint64_t ids[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2, 1, 2, 3,
	                        (uint64_t)1 << 63, ((uint64_t)1 << 63) + 1, 0};
	const size_t n = sizeof ids / sizeof ids[0];
	cr_assert_eq(idmap_init(&m, 1), 0);
	for (size_t i = 0; i < n; i++) {
		tok_counts *c = idmap_add(&m, ids[i], &added);
		cr_assert_not_null(c);
		cr_expect_eq(added, 1);
		c->day = (uint32_t)(ids[i] % 1000003);
	}
	cr_expect_eq(idmap_count(&m), n);
	for (size_t i = 0; i < n; i++) {
		const tok_counts *c = idmap_find(&m, ids[i]);
		cr_assert_not_null(c, "id %016llx", (unsigned long long)ids[i]);
		cr_expect_eq(c->day, (uint32_t)(ids[i] % 1000003));
	}
	cr_expect_null(idmap_find(&m, 4));
	cr_expect_null(idmap_find(&m, UINT64_MAX - 3));
	cr_assert_eq(idmap_sort(&m), n);
	for (size_t i = 0; i < n; i++) {
		if (i)
			cr_expect_lt(m.keys[i - 1], m.keys[i], "sorted at %zu", i);
		cr_expect_eq(m.vals[i].day, (uint32_t)(m.keys[i] % 1000003), "counts moved with their id");
	}
	cr_expect_eq(m.keys[0], 0);
	cr_expect_eq(m.keys[n - 1], UINT64_MAX);
	idmap_free(&m);
}
