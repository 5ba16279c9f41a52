/* mem.h - memory for large in-memory tables (the token cache, a batch's
 * token changes). */
#ifndef THRESH_MEM_H
#define THRESH_MEM_H

#include <stddef.h>

/* mem_table - n zeroed bytes, freed with free(); NULL when out of memory.
 * A large table is aligned to 2 MiB and offered to the kernel as huge pages:
 * filling one of tens of megabytes otherwise takes thousands of page faults,
 * which cost more than the filling itself (on a virtual machine most of
 * all). Advice only: without huge pages it is ordinary memory. */
void *mem_table(size_t n);

#endif
