/* sec_prefetch.c - codec and rules of the prefetch order section (type 10,
 * instance = region, optional): the chunks of one region that a lazy restore
 * decodes first, in the order the guest first touched them when it last ran.
 * A hint: a reader may ignore it, and readers of format 1.2 skip it. */
#include <stdlib.h>
#include <string.h>

#include "image_int.h"

_Static_assert(PFO_FLAGS + 4 == SEC_PREFETCH_FIXED, "prefetch order fixed part");
_Static_assert(SEC_PREFETCH_CHUNK == sizeof(uint32_t), "a chunk number is a u32");

void sec_prefetch_put(struct wbuf *b, const uint32_t *order, uint32_t n)
{
	wbuf_put32(b, n);
	wbuf_put32(b, 0);
	for (uint32_t i = 0; i < n; i++)
		wbuf_put32(b, order[i]);
}

int sec_prefetch_get(const uint8_t *p, size_t len, unsigned region,
		     struct prefetch_order *po, struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	uint32_t n, flags;

	memset(po, 0, sizeof(*po));
	n = rbuf_get32(&r);
	flags = rbuf_get32(&r);
	if (r.over)
		return img_fail(err, IMG_ECORRUPT, "prefetch order of region %u: length %zu too short",
				region, len);
	/* No flag is defined: one that changed the meaning of the list would
	 * need a new section version. */
	if (flags)
		return img_fail(err, IMG_ECORRUPT, "prefetch order of region %u: flags 0x%x (must be 0)",
				region, flags);
	if (!n)
		return img_fail(err, IMG_ECORRUPT, "prefetch order of region %u: 0 chunks (at least 1)",
				region);
	if ((uint64_t)rbuf_left(&r) != (uint64_t)n * SEC_PREFETCH_CHUNK)
		return img_fail(err, IMG_ECORRUPT,
				"prefetch order of region %u: length %zu does not match %u chunks",
				region, len, n);
	po->chunks = malloc((size_t)n * sizeof(*po->chunks));
	if (!po->chunks)
		return img_fail(err, IMG_ENOMEM, "prefetch order of region %u: out of memory for %u chunks",
				region, n);
	po->n = n;
	for (uint32_t i = 0; i < n; i++)
		po->chunks[i] = rbuf_get32(&r);
	return 0;
}

int check_prefetch(uint32_t nchunks, unsigned region, const uint32_t *order,
		   uint32_t n, int code, struct image_error *err)
{
	uint8_t *seen;
	int rc = 0;

	if (n > nchunks)
		return img_fail(err, code, "prefetch order of region %u: %u chunks, the region has %u",
				region, n, nchunks);
	seen = calloc(nchunks / 8 + 1, 1);
	if (!seen)
		return img_fail(err, IMG_ENOMEM, "prefetch order of region %u: out of memory", region);
	for (uint32_t i = 0; !rc && i < n; i++) {
		uint32_t c = order[i];

		if (c >= nchunks)
			rc = img_fail(err, code, "prefetch order of region %u: chunk %u of %u",
				      region, c, nchunks);
		else if (seen[c / 8] >> (c % 8) & 1)
			rc = img_fail(err, code, "prefetch order of region %u lists chunk %u twice",
				      region, c);
		else
			seen[c / 8] |= (uint8_t)(1u << (c % 8));
	}
	free(seen);
	return rc;
}
