/* mem_fixture.h - guest memory for the memory engine's tests: regions of
 * known page kinds (untouched, zero, text, random) behind guard pages, their
 * encoding into a scratch file, and the check of a decoded copy. */
#ifndef TORPOR_MEM_FIXTURE_H
#define TORPOR_MEM_FIXTURE_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "image_mem.h"
#include "tmp_fd.h"

#define PAGE MEM_PAGE_SIZE
/* The page layouts below count on chunks of 1 MiB, whatever the writer's
 * default. */
#define TEST_CHUNK_PAGES 256u
#define BASE_OFFSET 100 /* records start after some container bytes */

enum kind { UNTOUCHED, ZERO, TEXT, RANDOM };

/* The page mix of the default test region (1000 pages, chunks of 256):
 * chunk 0 alternates all four kinds (gathered), chunk 1 is all data (one run,
 * compressed in place), chunk 2 has no data (no record), chunk 3 is short and
 * holds one run that does not start at the chunk's first page. */
static inline enum kind kind_of(uint32_t page)
{
	if (page < 256)
		return (enum kind)(page % 4);
	if (page < 512)
		return page % 2 ? TEXT : RANDOM;
	if (page < 768)
		return page % 3 ? UNTOUCHED : ZERO;
	if (page < 800)
		return UNTOUCHED;
	return page < 900 ? (page % 2 ? TEXT : RANDOM) : ZERO;
}

static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Deterministic content of a page of kind k at index page. */
static inline void page_fill(uint8_t *p, enum kind k, uint32_t page)
{
	static const char *const words[] = { "guest ", "memory ", "chunk ", "page ",
					     "torpor ", "suspend ", "the ", "of " };
	uint64_t s = 0x9e3779b97f4a7c15ull ^ page;
	size_t i = 0;

	if (k == RANDOM) {
		for (; i < PAGE; i += 8) {
			uint64_t v = rng_next(&s);

			memcpy(p + i, &v, 8);
		}
	} else if (k == TEXT) {
		while (i < PAGE) {
			const char *w = words[rng_next(&s) % 8];
			size_t n = strlen(w);

			n = n < PAGE - i ? n : PAGE - i;
			memcpy(p + i, w, n);
			i += n;
		}
	} else {
		memset(p, 0, PAGE);
	}
}

/* Anonymous private mapping of pages pages between two inaccessible guard
 * pages, so a write outside it crashes the test. No huge pages: touching one
 * page must not populate its neighbours. */
static inline uint8_t *map_guarded(uint32_t pages)
{
	size_t len = ((size_t)pages + 2) * PAGE;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	cr_assert(m != MAP_FAILED);
	cr_assert(madvise(m, len, MADV_NOHUGEPAGE) == 0);
	cr_assert(mprotect(m, PAGE, PROT_NONE) == 0);
	cr_assert(mprotect(m + len - PAGE, PAGE, PROT_NONE) == 0);
	return m + PAGE;
}

/* A region filled by kind(page); untouched pages are never accessed. */
static inline uint8_t *region_new(uint32_t pages, enum kind (*kind)(uint32_t))
{
	uint8_t *m = map_guarded(pages);

	for (uint32_t i = 0; i < pages; i++) {
		if (kind(i) != UNTOUCHED)
			page_fill(m + (size_t)i * PAGE, kind(i), i);
	}
	return m;
}

static inline bool resident(const uint8_t *page)
{
	unsigned char v;

	cr_assert(mincore((void *)page, PAGE, &v) == 0);
	return v & 1;
}

struct encoded {
	int fd;
	uint64_t end;
	struct mem_index idx;
	struct image_write_stats stats;
};

static inline void encode(struct encoded *e, const uint8_t *host, uint32_t pages,
			  uint32_t chunk_pages, unsigned threads)
{
	struct image_mem_src src = { .guest_addr = 0x80000000, .host = host,
				     .size = (uint64_t)pages * PAGE };
	struct image_write_opts opts = { .threads = threads };
	struct image_error err = { 0 };
	int rc;

	memset(e, 0, sizeof(*e));
	e->fd = tmp_fd();
	e->end = BASE_OFFSET;
	rc = mem_encodechunks(e->fd, &e->end, &src, &opts, chunk_pages, &e->idx,
			      &e->stats, &err);
	cr_assert_eq(rc, 0, "encode: %s", err.msg);
}

static inline void expect_decoded(const uint8_t *got, uint32_t pages,
				  enum kind (*kind)(uint32_t))
{
	uint8_t want[PAGE];

	for (uint32_t i = 0; i < pages; i++) {
		page_fill(want, kind(i), i);
		cr_assert(memcmp(got + (size_t)i * PAGE, want, PAGE) == 0, "page %u differs", i);
	}
}

#endif
