/* primecell.h - the peripheral/PrimeCell id registers at 0xFE0..0xFFC that
 * Linux's AMBA bus reads to match ARM PrimeCell devices. */
#ifndef TORPOR_PRIMECELL_H
#define TORPOR_PRIMECELL_H

#include <stdint.h>

#define PRIMECELL_ID_BASE       0xfe0

/* Value of id register at offset (0xFE0..0xFFC) for a part with periph_id
 * (e.g. 0x00041031 for the PL031); 0 for other offsets. */
static inline uint32_t primecell_id(uint32_t periph_id, uint64_t offset)
{
	static const uint8_t cell[4] = { 0x0d, 0xf0, 0x05, 0xb1 };
	unsigned i = (unsigned)((offset - PRIMECELL_ID_BASE) >> 2);

	if (offset < PRIMECELL_ID_BASE || offset > 0xffc || offset & 3)
		return 0;
	return i < 4 ? (periph_id >> (8 * i)) & 0xff : cell[i - 4];
}

#endif
