/* mem.c - see mem.h. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *mem_table(size_t n)
{
	if (n < 2 * HUGE_PAGE)
		return calloc(1, n ? n : 1);
	if (n > (size_t)-1 - HUGE_PAGE)
		return NULL;
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
