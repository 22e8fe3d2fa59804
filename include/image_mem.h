/* image_mem.h - guest memory in the torpor image: chunked, zero-page-free,
 * zstd-compressed and checksummed (formats/torpor-image-memory.md).
 *
 * A region is cut into chunks of chunk_pages guest pages. Each chunk that holds
 * a non-zero page becomes one self-contained record in the file (header, page
 * bitmap, one zstd frame); the index locates every record, so chunks encode and
 * decode in parallel and can later be restored lazily one at a time. The
 * container (image_write.c, image_read.c) stores struct mem_index in the
 * region's memory index section. */
#ifndef TORPOR_IMAGE_MEM_H
#define TORPOR_IMAGE_MEM_H

#include <stdint.h>

#include "image.h"

#define MEM_PAGE_SIZE           4096u   /* guest page: the unit of the bitmap */
#define MEM_CHUNK_PAGES         16u     /* 64 KiB, the writer's default (larger
					 * for huge regions, mem_chunk_pages_for):
					 * measured, see the format doc */
#define MEM_CHUNK_PAGES_MAX     4096u   /* 16 MiB: bounds a reader's buffers */

/* Where one chunk record lies in the file. length 0 (and stored_pages 0):
 * every page of the chunk is zero or untouched and nothing is stored. */
struct mem_chunk {
	uint64_t offset;
	uint64_t length;
	uint64_t checksum;      /* checksum64 of the record's length bytes */
	uint32_t pages;         /* guest pages covered; only the last is short */
	uint32_t stored_pages;  /* pages present in the record */
};

struct mem_index {
	uint64_t guest_addr;
	uint64_t size;          /* bytes, a multiple of page_size */
	uint32_t page_size;     /* MEM_PAGE_SIZE */
	uint32_t chunk_pages;
	uint32_t nchunks;
	struct mem_chunk *chunks;
};

/* Appends region src as chunks of chunk_pages pages (1..MEM_CHUNK_PAGES_MAX)
 * to fd starting at file offset *offset (advanced past them); fills idx (heap
 * chunks) and adds to stats. Honours opts->cancel (-IMG_EINTR); the chunk size
 * is chunk_pages, not opts->chunk_pages (image_write resolves that default).
 * ENOSPC -> -IMG_ENOSPC. opts and stats may be NULL. */
int mem_encodechunks(int fd, uint64_t *offset, const struct image_mem_src *src,
		     const struct image_write_opts *opts, uint32_t chunk_pages,
		     struct mem_index *idx, struct image_write_stats *stats,
		     struct image_error *err);

/* The writer's default chunk for a region of size bytes: MEM_CHUNK_PAGES,
 * doubled until the region fits the reader's IMAGE_MAX_CHUNKS (a guest over
 * 256 GiB), at most MEM_CHUNK_PAGES_MAX. */
uint32_t mem_chunk_pages_for(uint64_t size);

/* Checks idx itself, every chunk's bounds against file_size and every record's
 * checksum (reads the file). Messages name region and chunk:
 * "memory region 0, chunk 17: checksum mismatch". */
int mem_verify(int fd, uint64_t file_size, const struct mem_index *idx,
	       struct image_error *err, unsigned region);

/* Decodes all chunks into host (a zeroed mapping of idx->size bytes) with
 * `threads` threads (0: one per online CPU). Every chunk is validated
 * (checksum, bitmap, sizes) before anything of it is written into host. */
int mem_decode(int fd, const struct mem_index *idx, void *host,
	       unsigned threads, struct image_error *err, unsigned region);

/* Frees idx->chunks and clears idx; idx may be zeroed or NULL. */
void mem_index_free(struct mem_index *idx);

#endif
