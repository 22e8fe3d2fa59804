/* test_image_mem.c - the guest memory engine: round trips, untouched pages
 * left unread, damaged records caught with region and chunk named, cancel and
 * a full disk. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_frameHeaderSize, to find a block */
#include <zstd.h>

#include "checksum.h"
#include "image_format.h"
#include "image_mem.h"
#include "le.h"
#include "mem_fixture.h"
#include "tmp_fd.h"

Test(image_mem, round_trip_of_a_mixed_region)
{
	const uint32_t pages = 1000;
	uint8_t *src = region_new(pages, kind_of);
	uint64_t counts[4] = { 0 };
	struct image_error err = { 0 };
	struct encoded e;
	uint8_t *dst;

	for (uint32_t i = 0; i < pages; i++)
		counts[kind_of(i)]++;
	encode(&e, src, pages, TEST_CHUNK_PAGES, 0);

	for (uint32_t i = 0; i < pages; i++) {
		cr_assert_eq(resident(src + (size_t)i * PAGE), kind_of(i) != UNTOUCHED,
			     "page %u residency changed by encode", i);
	}
	cr_assert_eq(e.idx.nchunks, 4);
	cr_assert_eq(e.idx.chunks[3].pages, 1000 - 768);
	cr_assert_eq(e.idx.chunks[2].length, 0);
	cr_assert_eq(e.idx.chunks[0].offset, BASE_OFFSET);
	cr_assert_eq(e.stats.untouched_pages, counts[UNTOUCHED]);
	cr_assert_eq(e.stats.zero_pages, counts[ZERO]);
	cr_assert_eq(e.stats.data_pages, counts[TEXT] + counts[RANDOM]);
	cr_assert_eq(e.stats.mem_bytes, (uint64_t)pages * PAGE);
	cr_assert_eq(e.stats.mem_stored_bytes, e.end - BASE_OFFSET);
	/* Zero and untouched pages cost nothing, text compresses well, random
	 * pages stay their size. */
	cr_assert(e.stats.mem_stored_bytes < (counts[RANDOM] + counts[TEXT] / 4) * PAGE);

	cr_assert_eq(mem_verify(e.fd, e.end, &e.idx, &err, 0), 0, "%s", err.msg);
	dst = map_guarded(pages);
	cr_assert_eq(mem_decode(e.fd, &e.idx, dst, 0, &err, 0), 0, "%s", err.msg);
	for (uint32_t i = 0; i < pages; i++) {
		bool data = kind_of(i) == TEXT || kind_of(i) == RANDOM;

		cr_assert_eq(resident(dst + (size_t)i * PAGE), data,
			     "page %u: decode wrote a zero page or skipped data", i);
	}
	expect_decoded(dst, pages, kind_of);
	mem_index_free(&e.idx);
	cr_assert_null(e.idx.chunks);
}

static enum kind kind_text(uint32_t page)
{
	return TEXT;
}

static enum kind kind_zero(uint32_t page)
{
	return ZERO;
}

Test(image_mem, single_page_regions)
{
	struct image_error err = { 0 };
	struct encoded e;
	uint8_t *dst;

	encode(&e, region_new(1, kind_text), 1, TEST_CHUNK_PAGES, 0);
	cr_assert_eq(e.idx.nchunks, 1);
	cr_assert_eq(e.idx.chunks[0].pages, 1);
	cr_assert_eq(e.idx.chunks[0].stored_pages, 1);
	dst = map_guarded(1);
	cr_assert_eq(mem_decode(e.fd, &e.idx, dst, 1, &err, 0), 0, "%s", err.msg);
	expect_decoded(dst, 1, kind_text);
	mem_index_free(&e.idx);

	encode(&e, region_new(1, kind_zero), 1, TEST_CHUNK_PAGES, 0);
	cr_assert_eq(e.idx.chunks[0].length, 0);
	cr_assert_eq(e.end, BASE_OFFSET, "a zero page cost bytes");
	cr_assert_eq(e.stats.zero_pages, 1);
	mem_index_free(&e.idx);
}

/* Chunk sizes that do not divide the region and bitmaps with partial words. */
ParameterizedTestParameters(image_mem, odd_chunk_sizes)
{
	static uint32_t sizes[] = { 1, 7, 64, 65, 999, 1000, MEM_CHUNK_PAGES_MAX };

	return cr_make_param_array(uint32_t, sizes, sizeof(sizes) / sizeof(sizes[0]));
}

ParameterizedTest(uint32_t *chunk_pages, image_mem, odd_chunk_sizes)
{
	struct image_error err = { 0 };
	struct encoded e;
	uint8_t *dst = map_guarded(1000);

	encode(&e, region_new(1000, kind_of), 1000, *chunk_pages, 2);
	cr_assert_eq(e.idx.nchunks, (1000 + *chunk_pages - 1) / *chunk_pages);
	cr_assert_eq(mem_verify(e.fd, e.end, &e.idx, &err, 0), 0, "%s", err.msg);
	cr_assert_eq(mem_decode(e.fd, &e.idx, dst, 3, &err, 0), 0, "%s", err.msg);
	expect_decoded(dst, 1000, kind_of);
	mem_index_free(&e.idx);
}

/* The file does not depend on the number of threads or their timing. */
Test(image_mem, layout_is_deterministic)
{
	uint8_t *src = region_new(1000, kind_of);
	uint8_t *a, *b;
	struct encoded e1, e4;

	encode(&e1, src, 1000, 16, 1);
	encode(&e4, src, 1000, 16, 4);
	cr_assert_eq(e1.end, e4.end);
	a = malloc(e1.end);
	b = malloc(e1.end);
	cr_assert_eq(pread(e1.fd, a, e1.end, 0), (ssize_t)e1.end);
	cr_assert_eq(pread(e4.fd, b, e1.end, 0), (ssize_t)e1.end);
	cr_assert(memcmp(a, b, e1.end) == 0);
	cr_assert(memcmp(e1.idx.chunks, e4.idx.chunks,
			 e1.idx.nchunks * sizeof(*e1.idx.chunks)) == 0);
	free(a);
	free(b);
	mem_index_free(&e1.idx);
	mem_index_free(&e4.idx);
}

/* ---- damage --------------------------------------------------------------- */

/* Rewrites the record of chunk c after edit() changed it, with a checksum
 * that matches again, so the checks behind the checksum are reached. */
static void record_rewrite(struct encoded *e, uint32_t c, void (*edit)(uint8_t *, size_t))
{
	struct mem_chunk *ch = &e->idx.chunks[c];
	uint8_t *rec = malloc(ch->length);

	cr_assert_eq(pread(e->fd, rec, ch->length, (off_t)ch->offset), (ssize_t)ch->length);
	edit(rec, ch->length);
	ch->checksum = checksum64(rec, ch->length);
	cr_assert_eq(pwrite(e->fd, rec, ch->length, (off_t)ch->offset), (ssize_t)ch->length);
	free(rec);
}

/* Chunk 3 of the default region: 232 pages, so its bitmap's last word has
 * 40 bits in use and 24 that must be clear. */
#define DAMAGED 3
#define BITMAP_AT 16
#define LAST_WORD (BITMAP_AT + 3 * 8)

static void damage_payload(struct encoded *e)
{
	uint8_t b;
	off_t at = (off_t)(e->idx.chunks[DAMAGED].offset + e->idx.chunks[DAMAGED].length / 2);

	cr_assert_eq(pread(e->fd, &b, 1, at), 1);
	b ^= 1;
	cr_assert_eq(pwrite(e->fd, &b, 1, at), 1);
}

static void bit_past_region(uint8_t *rec, size_t len)
{
	rec[LAST_WORD + 7] |= 0x80;
}

static void extra_bit(uint8_t *rec, size_t len)
{
	rec[BITMAP_AT] ^= 0x01; /* page 768 is untouched: now claimed present */
}

static void bad_magic(uint8_t *rec, size_t len)
{
	rec[0] ^= 0xff;
}

/* Drops the last stored page from bitmap and header; the frame still holds
 * it, so its content size no longer matches. */
static void one_page_less(uint8_t *rec, size_t len)
{
	const unsigned last = 899 - 768;

	le_put32(rec + 12, le_get32(rec + 12) - 1);
	rec[BITMAP_AT + last / 8] &= (uint8_t)~(1u << (last % 8));
}

/* Turns the first block from compressed into raw: the frame still parses,
 * but decodes to fewer bytes than its content size, which zstd reports. */
static void raw_block(uint8_t *rec, size_t len)
{
	uint8_t *frame = rec + LAST_WORD + 8;
	uint8_t *block = frame + ZSTD_frameHeaderSize(frame, len - LAST_WORD - 8);

	cr_assert_eq(*block >> 1 & 3, 2, "first block is not compressed");
	*block ^= 0x04;
}

struct damage {
	const char *name;
	void (*edit)(uint8_t *, size_t);        /* on the record, checksum fixed */
	void (*raw)(struct encoded *);          /* on the file, checksum left */
	int field;                              /* index field to change */
	int code;
	const char *msg;
	bool verify_sees;                       /* mem_verify catches it too */
};

enum {
	F_NONE, F_STORED, F_STORED_DOWN, F_LENGTH_PAST_END, F_OFFSET_OVERLAP, F_NCHUNKS,
	F_PAGE_SIZE, F_EMPTY_SUM,
};

static void damage_index(struct encoded *e, int field)
{
	struct mem_chunk *ch = &e->idx.chunks[DAMAGED];

	switch (field) {
	case F_STORED:
		ch->stored_pages++;
		break;
	case F_STORED_DOWN:
		ch->stored_pages--;
		break;
	case F_LENGTH_PAST_END:
		ch->offset = e->end - ch->length + PAGE;
		break;
	case F_OFFSET_OVERLAP:
		ch->offset = e->idx.chunks[1].offset;
		break;
	case F_NCHUNKS:
		e->idx.nchunks--;
		break;
	case F_PAGE_SIZE:
		e->idx.page_size = 512;
		break;
	case F_EMPTY_SUM:       /* chunk 2 has no record */
		e->idx.chunks[2].checksum = checksum64("", 0);
		break;
	}
}

/* Criterion runs each case in a new process image, where pointers from this
 * one mean nothing: the parameter is an index into this table. */
static const struct damage damages[] = {
	{ "payload on disk", NULL, damage_payload, F_NONE, IMG_ECHECKSUM,
	  "memory region 3, chunk 3: checksum mismatch", true },
	{ "bit past region", bit_past_region, NULL, F_NONE, IMG_ECORRUPT,
	  "memory region 3, chunk 3: bitmap marks pages past", true },
	{ "bitmap count", extra_bit, NULL, F_NONE, IMG_ECORRUPT,
	  "memory region 3, chunk 3: bitmap holds 101 pages, index 100", true },
	{ "magic", bad_magic, NULL, F_NONE, IMG_ECORRUPT,
	  "memory region 3, chunk 3: record header", true },
	{ "content size", one_page_less, NULL, F_STORED_DOWN, IMG_ECORRUPT,
	  "memory region 3, chunk 3: frame holds 409600 bytes, bitmap 99 pages", true },
	{ "zstd block", raw_block, NULL, F_NONE, IMG_ECORRUPT,
	  "memory region 3, chunk 3: zstd:", false },
	{ "index stored", NULL, NULL, F_STORED, IMG_ECORRUPT,
	  "memory region 3, chunk 3: record header", true },
	{ "length past end", NULL, NULL, F_LENGTH_PAST_END, IMG_ETRUNCATED,
	  "memory region 3, chunk 3: record at", true },
	{ "overlap", NULL, NULL, F_OFFSET_OVERLAP, IMG_ECORRUPT,
	  "memory region 3, chunk 3: record at", true },
	{ "nchunks", NULL, NULL, F_NCHUNKS, IMG_ECORRUPT,
	  "memory region 3: 3 chunks for 1000 pages", true },
	{ "page size", NULL, NULL, F_PAGE_SIZE, IMG_ECORRUPT,
	  "memory region 3: page size 512", true },
	{ "checksum of no record", NULL, NULL, F_EMPTY_SUM, IMG_ECORRUPT,
	  "memory region 3, chunk 2: no record, yet checksum 0x2d06800538d394c2", true },
};

ParameterizedTestParameters(image_mem, damage_is_caught)
{
	static unsigned cases[sizeof(damages) / sizeof(damages[0])];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cases[i] = i;
	return cr_make_param_array(unsigned, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(unsigned *n, image_mem, damage_is_caught)
{
	const struct damage *d = &damages[*n];
	struct image_error err = { 0 };
	struct encoded e;
	uint8_t *dst = map_guarded(1000);
	int rc;

	encode(&e, region_new(1000, kind_of), 1000, TEST_CHUNK_PAGES, 0);
	if (d->edit)
		record_rewrite(&e, DAMAGED, d->edit);
	if (d->raw)
		d->raw(&e);
	damage_index(&e, d->field);

	rc = mem_verify(e.fd, e.end, &e.idx, &err, 3);
	if (d->verify_sees) {
		cr_assert_eq(rc, -d->code, "%s: verify gave %d (%s)", d->name, rc, err.msg);
		cr_assert_eq(err.code, d->code);
		cr_assert(strstr(err.msg, d->msg), "%s: verify said \"%s\"", d->name, err.msg);
	} else {
		cr_assert_eq(rc, 0, "%s: %s", d->name, err.msg);
	}

	memset(&err, 0, sizeof(err));
	rc = mem_decode(e.fd, &e.idx, dst, 2, &err, 3);
	cr_assert_eq(rc, -d->code, "%s: decode gave %d (%s)", d->name, rc, err.msg);
	cr_assert(strstr(err.msg, d->msg), "%s: decode said \"%s\"", d->name, err.msg);
	/* Only a frame that passes every check and still fails inside zstd,
	 * which no correct writer makes, may have written its own pages. */
	if (d->verify_sees) {
		for (uint32_t i = 768; i < 1000; i++)
			cr_assert(!resident(dst + (size_t)i * PAGE),
				  "%s: page %u of the damaged chunk was written", d->name, i);
	}
	mem_index_free(&e.idx);
}

/* A file cut short inside the last record. */
Test(image_mem, truncated_file)
{
	struct image_error err = { 0 };
	struct encoded e;

	encode(&e, region_new(1000, kind_of), 1000, TEST_CHUNK_PAGES, 0);
	cr_assert_eq(ftruncate(e.fd, (off_t)(e.end - 1)), 0);
	cr_assert_eq(mem_decode(e.fd, &e.idx, map_guarded(1000), 0, &err, 1), -IMG_ETRUNCATED);
	cr_assert(strstr(err.msg, "memory region 1, chunk 3:"), "%s", err.msg);
	mem_index_free(&e.idx);
}

/* ---- encoder failures ----------------------------------------------------- */

static int encode_into(int fd, volatile sig_atomic_t *cancel, struct mem_index *idx,
		       struct image_error *err)
{
	static uint8_t *src;
	struct image_mem_src r;
	struct image_write_opts opts = { .threads = 2, .cancel = cancel };
	uint64_t off = 0;
	int rc;

	if (!src)
		src = region_new(1000, kind_of);
	r = (struct image_mem_src){ .host = src, .size = 1000 * PAGE };
	rc = mem_encodechunks(fd, &off, &r, &opts, TEST_CHUNK_PAGES, idx, NULL, err);
	if (rc)
		cr_assert_eq(off, 0, "offset advanced on failure");
	return rc;
}

Test(image_mem, cancel_stops_with_eintr)
{
	volatile sig_atomic_t cancel = 1;
	struct image_error err = { 0 };
	struct mem_index idx;

	cr_assert_eq(encode_into(tmp_fd(), &cancel, &idx, &err), -IMG_EINTR);
	cr_assert_eq(err.code, IMG_EINTR);
	cr_assert_null(idx.chunks);
	cancel = 0;
	cr_assert_eq(encode_into(tmp_fd(), &cancel, &idx, &err), 0, "%s", err.msg);
	mem_index_free(&idx);
}

Test(image_mem, full_disk_is_enospc)
{
	struct image_error err = { 0 };
	struct mem_index idx;
	int fd = open("/dev/full", O_WRONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(encode_into(fd, NULL, &idx, &err), -IMG_ENOSPC);
	cr_assert_eq(err.code, IMG_ENOSPC);
	cr_assert(strstr(err.msg, "chunk"), "%s", err.msg);
}

Test(image_mem, unwritable_fd_is_eio)
{
	struct image_error err = { 0 };
	struct mem_index idx;
	int fd = open("/dev/null", O_RDONLY);

	cr_assert_eq(encode_into(fd, NULL, &idx, &err), -IMG_EIO);
}

Test(image_mem, bad_arguments)
{
	struct image_mem_src r = { .host = region_new(2, kind_text), .size = PAGE + 1 };
	struct image_write_opts opts = { .threads = 1, .level = 99 };
	struct image_error err = { 0 };
	struct mem_index idx;
	uint64_t off = 0;
	int fd = tmp_fd();

	cr_assert_eq(mem_encodechunks(fd, &off, &r, NULL, TEST_CHUNK_PAGES, &idx, NULL, &err),
		     -IMG_EINVAL);
	r.size = 2 * PAGE;
	cr_assert_eq(mem_encodechunks(fd, &off, &r, &opts, TEST_CHUNK_PAGES, &idx, NULL, &err),
		     -IMG_EINVAL);
	cr_assert_eq(mem_encodechunks(fd, &off, &r, NULL, 0, &idx, NULL, &err), -IMG_EINVAL);
	cr_assert_eq(mem_encodechunks(fd, &off, &r, NULL, MEM_CHUNK_PAGES_MAX + 1, &idx,
				      NULL, &err), -IMG_EINVAL);
	cr_assert_eq(off, 0);
}

/* The format's frame bound holds whatever libzstd frames a writer makes:
 * at every chunk size, the library's own bound is no larger. */
Test(image_mem, frame_bound_covers_libzstd)
{
	for (uint64_t n = 0; n <= (uint64_t)MEM_CHUNK_PAGES_MAX * PAGE; n += PAGE)
		cr_assert_geq(IMAGE_FRAME_BOUND(n), ZSTD_compressBound((size_t)n), "%llu bytes",
			      (unsigned long long)n);
	cr_expect_eq(IMAGE_FRAME_BOUND(PAGE), 4096 + 16 + 62);
	cr_expect_eq(IMAGE_FRAME_BOUND(256 * PAGE), 1048576 + 4096);
}

Test(image_mem, default_chunk_grows_only_past_the_reader_limit)
{
	const uint64_t g = 1ull << 30;

	cr_expect_eq(mem_chunk_pages_for(MEM_PAGE_SIZE), MEM_CHUNK_PAGES);
	cr_expect_eq(mem_chunk_pages_for(4 * g), MEM_CHUNK_PAGES);
	cr_expect_eq(mem_chunk_pages_for(256 * g), MEM_CHUNK_PAGES, "2^22 chunks of 64 KiB");
	cr_expect_eq(mem_chunk_pages_for(256 * g + MEM_PAGE_SIZE), 2 * MEM_CHUNK_PAGES);
	cr_expect_eq(mem_chunk_pages_for(1024 * g), 4 * MEM_CHUNK_PAGES);
	cr_expect_eq(mem_chunk_pages_for(UINT64_MAX), MEM_CHUNK_PAGES_MAX);
}
