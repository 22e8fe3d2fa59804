/* checksum.h - the 64-bit checksum of the image format (XXH3-64, seed 0). */
#ifndef TORPOR_CHECKSUM_H
#define TORPOR_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Checksum of len bytes at p; any p when len is 0. */
uint64_t checksum64(const void *p, size_t len);

#endif
