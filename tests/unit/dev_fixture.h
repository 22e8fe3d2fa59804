/* dev_fixture.h - what the device-model tests share: an interrupt line that
 * records its level (the including file defines SPI, the line it expects)
 * and 32-bit MMIO accesses through a device's handler, as Linux makes them. */
#ifndef TORPOR_DEV_FIXTURE_H
#define TORPOR_DEV_FIXTURE_H

#include <criterion/criterion.h>

#include "mmio.h"

static inline void line_set(void *ctx, uint32_t spi, int level)
{
	cr_assert_eq(spi, SPI, "drove SPI %u", spi);
	*(int *)ctx = level;
}

/* Bytes the handler leaves alone read back as 0xee. */
static inline uint32_t mmio_rd32(mmio_fn fn, void *dev, uint64_t off)
{
	uint8_t d[4] = { 0xee, 0xee, 0xee, 0xee };

	fn(dev, off, d, 4, 0);
	return (uint32_t)mmio_get(d, 4);
}

static inline void mmio_wr32(mmio_fn fn, void *dev, uint64_t off, uint32_t v)
{
	uint8_t d[4];

	mmio_put(d, 4, v);
	fn(dev, off, d, 4, 1);
}

#endif
