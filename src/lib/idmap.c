/* idmap.c - see idmap.h. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "thresh/error.h"
#include "idmap.h"

#define HUGE_PAGE ((size_t)2 << 20)

/* A table of a megabyte or more is rounded up to whole 2 MiB pages,
 * aligned, and offered to the kernel as huge pages: filling it otherwise
 * takes a page fault every 4 KiB, which costs more than the filling itself
 * (on a virtual machine most of all: the cache of a 48,000-token model
 * filled in 12 ms with small pages, 5 ms with huge ones). Advice only:
 * without huge pages it is ordinary memory. */
void *idmap_table(size_t n)
{
	if (n < HUGE_PAGE / 2)
		return calloc(1, n);
	size_t len = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	void *p;
	if (posix_memalign(&p, HUGE_PAGE, len) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE); /* refused or unsupported: small pages */
#endif
	memset(p, 0, n);
	return p;
}

/* alloc - an empty table of 2^bits slots into m's fields. */
static int alloc(idmap *m, unsigned bits)
{
	size_t slots = (size_t)1 << bits;
	uint64_t *keys = idmap_table(slots * sizeof *keys);
	tok_counts *vals = keys ? idmap_table(slots * sizeof *vals) : NULL;
	if (!vals) {
		free(keys);
		return THRESH_ENOMEM;
	}
	m->keys = keys;
	m->vals = vals;
	m->mask = slots - 1;
	m->shift = 64 - bits;
	m->used = 0;
	return 0;
}

static unsigned bits_for(size_t expect)
{
	unsigned bits = 10;
	while (bits < 8 * sizeof(size_t) - 2 && ((size_t)1 << bits) < expect * 2)
		bits++;
	return bits;
}

int idmap_init(idmap *m, size_t expect)
{
	memset(m, 0, sizeof *m);
	if (expect > ((size_t)-1 / 2) / (sizeof(uint64_t) + sizeof(tok_counts)))
		return THRESH_ENOMEM;
	return alloc(m, bits_for(expect));
}

void idmap_free(idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

/* slot - where id is, or the empty slot where it would go. */
static size_t slot(const idmap *m, uint64_t id)
{
	size_t i = (size_t)(id >> m->shift);
	while (m->keys[i] != 0 && m->keys[i] != id)
		i = (i + 1) & m->mask;
	return i;
}

/* grow - twice the slots, every id moved over. */
static int grow(idmap *m)
{
	idmap old = *m;
	unsigned bits = 64 - m->shift + 1;
	if (bits >= 8 * sizeof(size_t) - 1 || alloc(m, bits)) {
		*m = old;
		return THRESH_ENOMEM;
	}
	for (size_t i = 0; i <= old.mask; i++)
		if (old.keys[i]) {
			size_t j = slot(m, old.keys[i]);
			m->keys[j] = old.keys[i];
			m->vals[j] = old.vals[i];
			m->used++;
		}
	free(old.keys);
	free(old.vals);
	return 0;
}

tok_counts *idmap_add(idmap *m, uint64_t id, int *added)
{
	*added = 0;
	if (id == 0) {
		if (!m->has_zero) {
			memset(&m->zero, 0, sizeof m->zero);
			m->has_zero = 1;
			*added = 1;
		}
		return &m->zero;
	}
	size_t i = slot(m, id);
	if (m->keys[i] == id)
		return &m->vals[i];
	if ((m->used + 1) * 2 > m->mask + 1) {
		if (grow(m))
			return NULL;
		i = slot(m, id);
	}
	m->keys[i] = id;
	memset(&m->vals[i], 0, sizeof m->vals[i]);
	m->used++;
	*added = 1;
	return &m->vals[i];
}

size_t idmap_sort(idmap *m)
{
	/* The ids lie nearly in order already (slots by top bits): out of order
	 * only within a run of probes, or in a run that wrapped around the end,
	 * so an insertion sort finishes in about linear time. */
	size_t n = 0;
	for (size_t i = 0; i <= m->mask; i++)
		if (m->keys[i]) {
			m->keys[n] = m->keys[i];
			m->vals[n] = m->vals[i];
			n++;
		}
	if (m->has_zero) { /* first: 0 is the smallest id (at most half full, so there is room) */
		memmove(m->keys + 1, m->keys, n * sizeof *m->keys);
		memmove(m->vals + 1, m->vals, n * sizeof *m->vals);
		m->keys[0] = 0;
		m->vals[0] = m->zero;
		n++;
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t k = m->keys[i];
		tok_counts v = m->vals[i];
		size_t j = i;
		for (; j > 0 && m->keys[j - 1] > k; j--) {
			m->keys[j] = m->keys[j - 1];
			m->vals[j] = m->vals[j - 1];
		}
		m->keys[j] = k;
		m->vals[j] = v;
	}
	return n;
}
