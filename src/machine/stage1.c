/* stage1.c - the start level of a guest's stage-1 walks (Arm ARM D8.2,
 * VMSAv8-64 translation), and the lowest one a host KVM handles. */
#include <stdio.h>

#include "stage1.h"

/* Start level of a walk over va_bits of address with 2^granule-byte pages:
 * each level resolves granule - 3 bits, the last ends at bit granule. */
static int start_level(unsigned va_bits, unsigned granule)
{
	unsigned per = granule - 3, levels;

	if (va_bits <= granule)
		return 3;
	levels = (va_bits - granule + per - 1) / per;
	return 4 - (int)levels;
}

/* Address bits of a half whose TnSZ is tsz: 64 - TnSZ, but with 4K and 16K
 * pages more than 48 only with DS = 1 (FEAT_LPA2); a smaller TnSZ then
 * behaves as 16. */
static unsigned va_bits(uint64_t tsz, unsigned granule, int ds)
{
	unsigned bits = 64 - (unsigned)tsz;

	return granule != 16 && !ds && bits > 48 ? 48 : bits;
}

int stage1_start_level(uint64_t tcr)
{
	/* TG0 [15:14]: 0 4K, 1 64K, 2 16K. TG1 [31:30]: 1 16K, 2 4K, 3 64K. */
	static const unsigned tg0[4] = { 12, 16, 14, 12 }, tg1[4] = { 12, 14, 12, 16 };
	int ds = (int)((tcr >> 59) & 1), lvl = 4, l;

	if (!(tcr & (1ULL << 7))) {             /* EPD0 */
		l = start_level(va_bits(tcr & 0x3f, tg0[(tcr >> 14) & 3], ds),
				tg0[(tcr >> 14) & 3]);
		lvl = l < lvl ? l : lvl;
	}
	if (!(tcr & (1ULL << 23))) {            /* EPD1 */
		l = start_level(va_bits((tcr >> 16) & 0x3f, tg1[(tcr >> 30) & 3], ds),
				tg1[(tcr >> 30) & 3]);
		lvl = l < lvl ? l : lvl;
	}
	return lvl;
}

int stage1_host_min_level(const char *release)
{
	unsigned major, minor;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return 0;
	return major > 6 || (major == 6 && minor >= 9) ? -1 : 0;
}
