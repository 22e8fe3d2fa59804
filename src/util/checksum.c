/* checksum.c - XXH3-64 through xxhash.h, inlined so the static arm64 link needs
 * no extra library. */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "checksum.h"

_Static_assert(sizeof(XXH3_state_t) <= sizeof(((struct checksum_ctx *)0)->opaque),
	       "checksum_ctx too small for XXH3_state_t");

uint64_t checksum64(const void *p, size_t len)
{
	return XXH3_64bits(p, len);
}

void checksum_init(struct checksum_ctx *c)
{
	XXH3_64bits_reset((XXH3_state_t *)c->opaque);
}

void checksum_update(struct checksum_ctx *c, const void *p, size_t len)
{
	XXH3_64bits_update((XXH3_state_t *)c->opaque, p, len);
}

uint64_t checksum_final(const struct checksum_ctx *c)
{
	return XXH3_64bits_digest((const XXH3_state_t *)c->opaque);
}
