/* sec_memindex.c - codec of the memory index section (type 8, instance =
 * region): where each compressed chunk of one guest RAM region lies in the
 * file. The chunk contents are formats/torpor-image-memory.md's business. */
#include <stdlib.h>
#include <string.h>

#include "image_int.h"

_Static_assert(MIX_NCHUNKS + 4 == SEC_MEM_INDEX_FIXED, "memory index fixed part");
_Static_assert(CHK_STORED_PAGES + 4 == SEC_MEM_INDEX_CHUNK, "chunk entry layout");

void sec_memindex_put(struct wbuf *b, const struct region_index *ri)
{
	const struct mem_index *x = &ri->idx;

	wbuf_put64(b, x->guest_addr);
	wbuf_put64(b, x->size);
	wbuf_put64(b, ri->zero_pages);
	wbuf_put64(b, ri->untouched_pages);
	wbuf_put32(b, x->page_size);
	wbuf_put32(b, x->chunk_pages);
	wbuf_put32(b, x->nchunks);
	for (uint32_t i = 0; i < x->nchunks; i++) {
		wbuf_put64(b, x->chunks[i].offset);
		wbuf_put64(b, x->chunks[i].length);
		wbuf_put64(b, x->chunks[i].checksum);
		wbuf_put32(b, x->chunks[i].pages);
		wbuf_put32(b, x->chunks[i].stored_pages);
	}
}

int sec_memindex_get(const uint8_t *p, size_t len, unsigned region,
		     struct region_index *ri, struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	struct mem_index *x = &ri->idx;
	uint32_t n;

	memset(ri, 0, sizeof(*ri));
	x->guest_addr = rbuf_get64(&r);
	x->size = rbuf_get64(&r);
	ri->zero_pages = rbuf_get64(&r);
	ri->untouched_pages = rbuf_get64(&r);
	x->page_size = rbuf_get32(&r);
	x->chunk_pages = rbuf_get32(&r);
	n = rbuf_get32(&r);
	if (r.over)
		return img_fail(err, IMG_ECORRUPT, "memory region %u index: length %zu too short",
				region, len);
	if (n > IMAGE_MAX_CHUNKS)
		return img_fail(err, IMG_ECORRUPT, "memory region %u index: %u chunks (max %u)",
				region, n, IMAGE_MAX_CHUNKS);
	if (rbuf_left(&r) != (size_t)n * SEC_MEM_INDEX_CHUNK)
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u index: length %zu does not match %u chunks",
				region, len, n);
	x->chunks = calloc(n + !n, sizeof(*x->chunks));
	if (!x->chunks)
		return img_fail(err, IMG_ENOMEM, "memory region %u index: out of memory for %u chunks",
				region, n);
	x->nchunks = n;
	for (uint32_t i = 0; i < n; i++) {
		x->chunks[i].offset = rbuf_get64(&r);
		x->chunks[i].length = rbuf_get64(&r);
		x->chunks[i].checksum = rbuf_get64(&r);
		x->chunks[i].pages = rbuf_get32(&r);
		x->chunks[i].stored_pages = rbuf_get32(&r);
	}
	return 0;
}
