/* test_image_prefetch.c - the prefetch order section (type 10): a writer's
 * list reads back identical, at the chunk size it wrote; an image without
 * one has none; the writer refuses a list that breaks the rules (IMG_EINVAL,
 * nothing created); a reader refuses a crafted one the refusal table cannot
 * make in place: more chunks than the region has, two for one region, a
 * damaged payload. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <string.h>

#include "../../src/image/image_int.h"
#include "image_fixture.h"

static char *dir, path[256];
static uint8_t *mem;

static void setup(void)
{
	dir = fix_dir();
	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	mem = fix_memory();
	cr_assert_not_null(mem);
}

static void teardown(void)
{
	munmap(mem, FIX_MEM_SIZE);
	unlink(path);
	rmdir(dir);
	free(dir);
}

TestSuite(prefetch, .init = setup, .fini = teardown);

/* Writes the fixture with order[0..n) as region 0's prefetch order and
 * chunks of chunk_pages pages (0: the fixture's). */
static int write_order(const uint32_t *order, uint32_t n, uint32_t chunk_pages,
		       struct image_error *err)
{
	struct image_write_opts opts = { .threads = 2,
					 .chunk_pages = chunk_pages ? chunk_pages : FIX_CHUNK_PAGES };
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE,
				     .prefetch = order, .nprefetch = n };
	struct vm_state st;
	int rc;

	fix_state(&st);
	rc = image_write(path, &st, &src, 1, &opts, NULL, err);
	vm_state_free(&st);
	return rc;
}

/* Opens path (every chunk checked) and expects region 0's prefetch order to
 * be want[0..n). */
static void expect_order(const uint32_t *want, uint32_t n)
{
	struct image_error err = { 0 };
	const uint32_t *got;
	struct image *img;

	cr_assert_eq(image_open(&img, path, 1, &err), 0, "%s", err.msg);
	cr_expect_eq(image_prefetch_order(img, 0, &got), n);
	if (n)
		cr_expect_arr_eq(got, want, n * sizeof(*want));
	else
		cr_expect_null(got);
	cr_expect_eq(image_prefetch_order(img, 1, &got), 0, "no region 1");
	cr_expect_null(got);
	image_close(img);
}

/* One chunk, a few, every chunk; and none. */
Test(prefetch, round_trip)
{
	static const struct { uint32_t order[FIX_NCHUNKS], n; } cases[] = {
		{ { 2 }, 1 }, { { 3, 0 }, 2 }, { { 1, 3, 0, 2 }, FIX_NCHUNKS },
	};
	struct image_error err = { 0 };

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(write_order(cases[i].order, cases[i].n, 0, &err), 0, "%s", err.msg);
		expect_order(cases[i].order, cases[i].n);
	}
	cr_assert_eq(write_order(NULL, 0, 0, &err), 0, "%s", err.msg);
	expect_order(NULL, 0);
}

/* Chunk numbers are the writer's chunks: 16-page chunks make 49 of them. */
Test(prefetch, at_the_chunk_size_written)
{
	static const uint32_t order[] = { 48, 0, 17 };
	uint32_t beyond = 49;
	struct image_error err = { 0 };

	cr_assert_eq(write_order(order, 3, 16, &err), 0, "%s", err.msg);
	expect_order(order, 3);
	cr_expect_eq(write_order(&beyond, 1, 16, &err), -IMG_EINVAL);
	cr_expect(strstr(err.msg, "prefetch order of region 0: chunk 49 of 49"), "%s", err.msg);
}

/* Each list that breaks a rule is refused before anything is created. */
Test(prefetch, writer_refuses_a_bad_list)
{
	static const struct { uint32_t order[5], n; const char *msg; } bad[] = {
		{ { 0, 4 }, 2, "prefetch order of region 0: chunk 4 of 4" },
		{ { 99 }, 1, "prefetch order of region 0: chunk 99 of 4" },
		{ { 2, 1, 2 }, 3, "prefetch order of region 0 lists chunk 2 twice" },
		{ { 0, 1, 2, 3, 0 }, 5, "prefetch order of region 0: 5 chunks, the region has 4" },
	};
	struct image_error err = { 0 };
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE,
				     .nprefetch = 2 };
	struct vm_state st;
	DIR *d;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(write_order(bad[i].order, bad[i].n, 0, &err), -IMG_EINVAL, "case %u", i);
		cr_expect(strstr(err.msg, bad[i].msg), "case %u: %s", i, err.msg);
	}
	fix_state(&st);
	cr_expect_eq(image_write(path, &st, &src, 1, &fix_opts, NULL, &err), -IMG_EINVAL);
	cr_expect(strstr(err.msg, "memory source 0: a prefetch order of 2 chunks without a list"),
		  "%s", err.msg);
	vm_state_free(&st);
	d = opendir(dir);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));)
		cr_expect(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."), "%s left behind",
			  e->d_name);
	closedir(d);
}

/* The fixture image written with `with` (FIX_*), grown by a crafted
 * prefetch order section (flags, instance, payload) as its last section;
 * returns image_open's result (chunk checks on). */
static int open_with_section(unsigned with, uint16_t flags, uint16_t instance,
			     const uint8_t *payload, size_t len, struct image_error *err)
{
	struct image *img;
	size_t size, grown;
	uint8_t *f, *g;
	int rc;

	cr_assert_eq(fix_write_vm(path, NULL, with, err), 0, "%s", err->msg);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	g = fix_append_section(f, size, SEC_PREFETCH, flags, instance, payload, len, 0, &grown);
	cr_assert(g && fix_store(path, g, grown) == 0);
	free(f);
	free(g);
	rc = image_open(&img, path, 1, err);
	if (!rc)
		image_close(img);
	return rc;
}

/* A payload: count, flags 0, then n chunk numbers; returns its length. */
static size_t payload(uint8_t *p, uint32_t count, const uint32_t *chunks, uint32_t n)
{
	le_put32(p + PFO_COUNT, count);
	le_put32(p + PFO_FLAGS, 0);
	for (uint32_t i = 0; i < n; i++)
		le_put32(p + SEC_PREFETCH_FIXED + i * SEC_PREFETCH_CHUNK, chunks[i]);
	return SEC_PREFETCH_FIXED + (size_t)n * SEC_PREFETCH_CHUNK;
}

/* Crafted as it is, the control: the reader takes it. */
Test(prefetch, crafted_section_is_read)
{
	static const uint32_t two[] = { 1, 3 };
	struct image_error err = { 0 };
	uint8_t p[16];

	cr_expect_eq(open_with_section(0, SECTION_FLAG_OPTIONAL, 0, p, payload(p, 2, two, 2),
				       &err), 0, "%s", err.msg);
	expect_order(two, 2);
}

/* Well formed, its length right, but more chunks than the region has. */
Test(prefetch, more_chunks_than_the_region_refused)
{
	static const uint32_t five[] = { 3, 2, 1, 0, 3 };
	struct image_error err = { 0 };
	uint8_t p[32];

	cr_expect_eq(open_with_section(0, SECTION_FLAG_OPTIONAL, 0, p, payload(p, 5, five, 5),
				       &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "prefetch order of region 0: 5 chunks, the region has 4"), "%s",
		  err.msg);
}

/* A second order for region 0, valid in itself, marked optional or not: a
 * region has at most one. */
Test(prefetch, two_for_one_region_refused)
{
	static const uint32_t one[] = { 2 };
	struct image_error err = { 0 };
	uint8_t p[16];
	size_t len = payload(p, 1, one, 1);

	for (uint16_t flags = 0; flags <= SECTION_FLAG_OPTIONAL; flags++) {
		cr_expect_eq(open_with_section(FIX_PREFETCH, flags, 0, p, len, &err), -IMG_ECORRUPT,
			     "flags %u", flags);
		cr_expect(strstr(err.msg, ": both prefetch order 0"), "flags %u: %s", flags, err.msg);
	}
}

/* A flipped byte of the payload fails its checksum, named. */
Test(prefetch, damaged_payload_refused)
{
	struct fix_place at = AT_SUB(SEC_PREFETCH, 0, FS_PFO_CHUNK, 2, 0);
	struct image_error err = { 0 };
	struct image *img;
	size_t size;
	uint8_t *f;
	int64_t pos;

	cr_assert_eq(fix_write_vm(path, NULL, FIX_PREFETCH, &err), 0, "%s", err.msg);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	pos = fix_locate(f, size, &at, NULL);
	cr_assert_geq(pos, 0);
	cr_expect_eq(le_get32(f + pos), 1, "fix_prefetch lists chunk 1 third");
	f[pos] ^= 0x5a;
	cr_assert_eq(fix_store(path, f, size), 0);
	free(f);
	cr_expect_eq(image_open(&img, path, 0, &err), -IMG_ECHECKSUM);
	cr_expect(strstr(err.msg, "prefetch order of region 0: checksum mismatch"), "%s", err.msg);
}
