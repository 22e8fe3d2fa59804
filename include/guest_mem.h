/* guest_mem.h - the one way torpor's devices reach guest memory: a guest
 * physical range is turned into a host pointer only once it is checked to lie
 * wholly inside guest RAM. */
#ifndef TORPOR_GUEST_MEM_H
#define TORPOR_GUEST_MEM_H

#include <stdint.h>

/* Guest RAM: guest physical [base, base + size) is mapped at host, which is
 * page-aligned (an mmap), so an aligned guest address is an aligned host
 * pointer. */
struct guest_mem {
	uint8_t *host;
	uint64_t base;
	uint64_t size;
};

/* Host pointer to guest physical [gpa, gpa + len), or NULL when any byte of
 * it is outside guest RAM or the range wraps. len 0 is a valid empty range
 * at an address inside RAM (or at its end). */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

#endif
