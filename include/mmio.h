/* mmio.h - the MMIO bus: devices register an address range and a handler;
 * vCPU exits are dispatched here after their guest-controlled address and
 * length are checked. Also the interrupt line a device drives. */
#ifndef TORPOR_MMIO_H
#define TORPOR_MMIO_H

#include <stdint.h>

#include "vm_state.h"

/* One region per device of the VM configuration. */
#define MMIO_MAX_DEVICES        VM_MAX_DEVICES

/* Handles an access of len (1, 2, 4 or 8) bytes at offset within the device;
 * data is little-endian, written by the handler on reads. */
typedef void (*mmio_fn)(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, int is_write);

struct mmio_region {
	uint64_t base, size;
	mmio_fn fn;
	void *opaque;
	const char *name;
};

struct mmio_bus {
	unsigned n;
	struct mmio_region r[MMIO_MAX_DEVICES];
};

/* Adds a region; -EEXIST if it overlaps one, -ENOSPC when the bus is full. */
int mmio_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		  mmio_fn fn, void *opaque, const char *name);

/* Dispatches an access; data holds at least 8 bytes. Returns 0 if a device
 * took it, -ENOENT for an address no device claims, -EINVAL for a bad length
 * or an access crossing the end of a device; a read that no device takes
 * returns zeros. */
int mmio_dispatch(struct mmio_bus *bus, uint64_t addr, uint8_t *data,
		  uint32_t len, int is_write);

/* An interrupt line into the GIC: set(ctx, spi, level). */
struct irq_line {
	void (*set)(void *ctx, uint32_t spi, int level);
	void *ctx;
	uint32_t spi;
};

/* Drives line to level; a line with no set function is ignored. */
static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l->set)
		l->set(l->ctx, l->spi, level);
}

/* Little-endian value of an access of len bytes, and the reverse. */
uint64_t mmio_get(const uint8_t *data, uint32_t len);
void mmio_put(uint8_t *data, uint32_t len, uint64_t v);

#endif
