/* mmio.c - address decoding for device MMIO. */
#include <errno.h>
#include <string.h>

#include "mmio.h"

int mmio_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		  mmio_fn fn, void *opaque, const char *name)
{
	if (bus->n == MMIO_MAX_DEVICES)
		return -ENOSPC;
	if (!size || base + size < base)
		return -EINVAL;
	for (unsigned i = 0; i < bus->n; i++) {
		const struct mmio_region *r = &bus->r[i];

		if (base < r->base + r->size && r->base < base + size)
			return -EEXIST;
	}
	bus->r[bus->n++] = (struct mmio_region){ base, size, fn, opaque, name };
	return 0;
}

/* A refused read returns zeros, never what the buffer held before (the last
 * access's data, in a vCPU's kvm_run). */
static int refuse(uint8_t *data, uint32_t len, int is_write)
{
	if (!is_write)
		memset(data, 0, len < 8 ? len : 8);
	return -EINVAL;
}

int mmio_dispatch(struct mmio_bus *bus, uint64_t addr, uint8_t *data,
		  uint32_t len, int is_write)
{
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return refuse(data, len, is_write);
	for (unsigned i = 0; i < bus->n; i++) {
		const struct mmio_region *r = &bus->r[i];

		if (addr < r->base || addr - r->base >= r->size)
			continue;
		if (addr - r->base + len > r->size)
			return refuse(data, len, is_write);
		r->fn(r->opaque, addr - r->base, data, len, is_write);
		return 0;
	}
	if (!is_write)
		memset(data, 0, len);
	return -ENOENT;
}

uint64_t mmio_get(const uint8_t *data, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = len; i-- > 0;)
		v = (v << 8) | data[i];
	return v;
}

void mmio_put(uint8_t *data, uint32_t len, uint64_t v)
{
	for (uint32_t i = 0; i < len; i++, v >>= 8)
		data[i] = (uint8_t)v;
}
