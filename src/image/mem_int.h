/* mem_int.h - what the memory engine's files share: bitmap helpers, the
 * largest record a chunk may need (the record layout is in image_format.h)
 * and the thread pool that encodes and decodes chunks in parallel. Internal
 * to src/image. */
#ifndef TORPOR_MEM_INT_H
#define TORPOR_MEM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "image_int.h"

#define POOL_THREADS_MAX 64u

_Static_assert(RECH_STORED_PAGES + 4 == REC_HEADER && RECH_BITMAP == REC_HEADER,
	       "record header layout");

_Static_assert((uint64_t)MEM_CHUNK_PAGES_MAX * MEM_PAGE_SIZE <= UINT32_MAX,
	       "a chunk's bytes fit size_t on 32-bit readers");

static inline uint32_t bitmap_words(uint32_t pages)
{
	return (pages + 63) / 64;
}

static inline bool bitmap_has(const uint64_t *bm, uint32_t page)
{
	return bm[page / 64] >> (page % 64) & 1;
}

static inline void bitmap_set(uint64_t *bm, uint32_t page)
{
	bm[page / 64] |= 1ull << (page % 64);
}

/* The largest record a chunk of `pages` pages with `stored` of them present
 * may be (formats/torpor-image-memory.md); rec_max(pages, pages) bounds
 * every record of a region whose chunks have `pages` pages. */
static inline size_t rec_max(uint32_t pages, uint32_t stored)
{
	return REC_HEADER + bitmap_words(pages) * 8 +
	       (size_t)IMAGE_FRAME_BOUND((uint64_t)stored * MEM_PAGE_SIZE);
}

/* If the `stored` set bits of bm (pages bits) form one run, stores its first
 * page and returns true: such a chunk moves between guest memory and zstd
 * without a copy. */
bool bitmap_run(const uint64_t *bm, uint32_t pages, uint32_t stored, uint32_t *first);

/* Validates record rec of chunk c (ch->length bytes) before any of it is used:
 * checksum, header against the index, bitmap, the frame's extent and content
 * size. Fills bm (host words) and *frame, *frame_len. */
int mem_rec_check(const uint8_t *rec, const struct mem_chunk *ch, uint32_t c,
		  uint64_t *bm, const uint8_t **frame, size_t *frame_len,
		  struct image_error *err, unsigned region);

/* Reads record c (ch->length bytes at ch->offset) of fd into buf. */
int mem_rec_read(int fd, const struct mem_chunk *ch, uint32_t c, uint8_t *buf,
		 struct image_error *err, unsigned region);

/* Threads to use for nchunks chunks when the caller asks for want (0: one per
 * online CPU): at least 1, at most POOL_THREADS_MAX and nchunks. */
unsigned pool_threads(unsigned want, uint32_t nchunks);

/* Runs fn(arg) on `threads` threads, the caller being one of them; on fewer
 * if the system refuses threads, which only costs speed. */
void pool_run(unsigned threads, void *(*fn)(void *), void *arg);

/* State shared by the threads of one encode or decode. The first failure wins
 * and stops the others at their next chunk. */
struct job {
	pthread_mutex_t lock;
	pthread_cond_t turn;    /* broadcast when the shared state moves on */
	uint32_t next;          /* next chunk to take */
	int code;               /* first failure, negative, or 0 */
	struct image_error err;
};

void job_init(struct job *j);
void job_destroy(struct job *j);

/* Takes the next chunk number; false when all are taken or a thread failed. */
bool job_take(struct job *j, uint32_t nchunks, uint32_t *chunk);

/* Records failure code (negative) with message e unless one is recorded, and
 * wakes the threads waiting on turn. */
void job_failed(struct job *j, int code, const struct image_error *e);

/* The recorded failure (its message copied to err), or 0. */
int job_result(struct job *j, struct image_error *err);

#endif
