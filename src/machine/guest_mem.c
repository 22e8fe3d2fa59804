/* guest_mem.c - checked access to guest RAM. */
#include <stddef.h>

#include "guest_mem.h"

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (!m->host || gpa < m->base)
		return NULL;
	off = gpa - m->base;
	/* Written so that nothing can overflow: off <= size, then len fits. */
	if (off > m->size || len > m->size - off)
		return NULL;
	return m->host + off;
}
