/* checksum.h - the 64-bit checksum of the image format (XXH3-64, seed 0). */
#ifndef TORPOR_CHECKSUM_H
#define TORPOR_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Checksum of len bytes at p; any p when len is 0. */
uint64_t checksum64(const void *p, size_t len);

/* Incremental form, same result as checksum64 over the concatenation. */
struct checksum_ctx {
	unsigned char opaque[640] __attribute__((aligned(64)));
};
void checksum_init(struct checksum_ctx *c);
void checksum_update(struct checksum_ctx *c, const void *p, size_t len);
uint64_t checksum_final(const struct checksum_ctx *c);

#endif
