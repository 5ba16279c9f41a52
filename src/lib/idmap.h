/* idmap.h - token ids to counts, in memory: the memory cache of a snapshot
 * (cache.c) and the token changes of a batch being committed (learn.c).
 *
 * Open addressing with linear probing, at most half full. A slot is chosen
 * by the id's top bits: ids are keyed SipHash values, even in any bits, and
 * LMDB hands tokens over in id order, so a map filled from the store is
 * written front to back, and a map's ids are nearly sorted as they lie
 * (idmap_sort). Key 0 marks an empty slot, so id 0 (a 2^-64 chance) is kept
 * aside. Not thread-safe; a map that no longer changes may be read by any
 * number of threads. */
#ifndef THRESH_IDMAP_H
#define THRESH_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "counts.h"

typedef struct idmap {
	uint64_t *keys;   /* 0: an empty slot */
	tok_counts *vals;
	size_t mask;      /* slots - 1 */
	size_t used;      /* slots in use (id 0 not counted) */
	unsigned shift;   /* a slot is id >> shift */
	int has_zero;     /* id 0, kept here */
	tok_counts zero;
} idmap;

/* idmap_init - an empty map with room for expect ids before it grows.
 * Returns 0 or THRESH_ENOMEM (the map is then empty and safe to free). */
int idmap_init(idmap *m, size_t expect);

/* idmap_table - n zeroed bytes for a table beside a map's slots, freed with
 * free(); large ones on huge pages, as the map's own. NULL when out of
 * memory. */
void *idmap_table(size_t n);

/* idmap_free - release the map's memory. Accepts a zeroed map. */
void idmap_free(idmap *m);

/* idmap_count - how many ids the map holds. */
static inline size_t idmap_count(const idmap *m)
{
	return m->used + (size_t)m->has_zero;
}

/* idmap_find - the counts of id, or NULL when the map does not hold it. */
static inline const tok_counts *idmap_find(const idmap *m, uint64_t id)
{
	if (id == 0)
		return m->has_zero ? &m->zero : NULL;
	for (size_t i = (size_t)(id >> m->shift);; i = (i + 1) & m->mask) {
		uint64_t k = m->keys[i];
		if (k == id)
			return &m->vals[i];
		if (k == 0)
			return NULL;
	}
}

/* idmap_add - the counts of id, added as zeros (and *added set to 1) when
 * the map does not hold it yet; the map grows as needed. Returns NULL when
 * out of memory (the map is unchanged). A pointer returned stays valid
 * until the next idmap_add. */
tok_counts *idmap_add(idmap *m, uint64_t id, int *added);

/* idmap_sort - move the map's ids, ascending, with their counts, to
 * keys[0 .. n) and vals[0 .. n), and return n. Id 0 is included. The map is
 * then no longer a map: only read those arrays, then idmap_free it. */
size_t idmap_sort(idmap *m);

#endif
