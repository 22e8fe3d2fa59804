/* test_mem_lazy.c - lazy restore on this host's userfaultfd: pages served on
 * first touch equal an eager decode, each chunk decoded once however many
 * threads fault in it, untouched pages stay untouched, a record that went bad
 * after the check never reaches memory; the fault-to-chunk mapping and the
 * prefetch order handed to the next image. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_format.h"
#include "mem_fixture.h"
#include "mem_lazy.h"

Test(mem_lazy, chunk_of_maps_offsets)
{
	struct mem_index idx = { .size = 1000 * PAGE, .page_size = PAGE,
				 .chunk_pages = 256, .nchunks = 4 };

	cr_expect_eq(mem_chunk_of(&idx, 0), 0);
	cr_expect_eq(mem_chunk_of(&idx, 256 * PAGE - 1), 0);
	cr_expect_eq(mem_chunk_of(&idx, 256 * PAGE), 1);
	cr_expect_eq(mem_chunk_of(&idx, 999 * PAGE + 17), 3, "the short last chunk");
	cr_expect_eq(mem_chunk_of(&idx, 1000 * PAGE), UINT32_MAX, "past the end");
	cr_expect_eq(mem_chunk_of(&idx, UINT64_MAX), UINT32_MAX);
}

Test(mem_lazy, order_maps_between_chunk_sizes)
{
	uint64_t seen[4] = { 0 };
	uint32_t out[64], n = 0;

	/* 1 MiB chunk 2 is 64 KiB chunks 32..47; asked twice, listed once. */
	mem_order_map(2, 256, 16, 200, seen, out, &n, 64);
	mem_order_map(2, 256, 16, 200, seen, out, &n, 64);
	cr_assert_eq(n, 16);
	for (uint32_t i = 0; i < 16; i++)
		cr_expect_eq(out[i], 32 + i);
	/* 64 KiB chunks 17 and 18 both lie in 1 MiB chunk 1. */
	memset(seen, 0, sizeof(seen));
	n = 0;
	mem_order_map(17, 16, 256, 10, seen, out, &n, 64);
	mem_order_map(18, 16, 256, 10, seen, out, &n, 64);
	mem_order_map(0, 16, 256, 10, seen, out, &n, 64);
	cr_assert_eq(n, 2);
	cr_expect_eq(out[0], 1);
	cr_expect_eq(out[1], 0);
	/* Chunks past the region and past max are left out. */
	memset(seen, 0, sizeof(seen));
	n = 0;
	mem_order_map(9, 256, 64, 38, seen, out, &n, 64);
	cr_expect_eq(n, 2, "chunk 9 of 1 MiB is 36..39 of 256 KiB, only 36, 37 exist");
	mem_order_map(0, 256, 64, 38, seen, out, &n, 3);
	cr_expect_eq(n, 3);
}

struct toucher {
	const uint8_t *host;
	uint32_t pages, first, step;
	uint64_t sum;
};

/* Reads every step-th page from first on, backwards from the end: the
 * fill starts at the front, so these faults find their chunks absent. */
static void *touch(void *arg)
{
	struct toucher *t = arg;

	for (uint32_t i = t->pages; i-- > 0; )
		if (i % t->step == t->first)
			t->sum += t->host[(size_t)i * PAGE + 123];
	return NULL;
}

static void on_event(void *arg, const struct image_error *err,
		     const struct mem_lazy_stats *st)
{
	int *events = arg;

	cr_expect_eq(st->done, err ? -1 : 1);
	__atomic_add_fetch(events, err ? 100 : 1, __ATOMIC_SEQ_CST);
}

static struct mem_lazy *start(struct encoded *e, uint8_t *dst, const uint32_t *order,
			      uint32_t norder, double record_s, int *events)
{
	struct mem_lazy_opts o = { .threads = 1, .order = order, .norder = norder,
				   .record_s = record_s, .event = on_event, .arg = events };
	struct image_error err = { 0 };
	struct mem_lazy *l;
	int rc = mem_lazy_start(&l, e->fd, &e->idx, dst, &o, &err);

	cr_assert_eq(rc, 0, "%s", err.msg);
	return l;
}

/* A region of kind's pages encoded in chunks of chunk_pages and served
 * lazily into a fresh mapping: what each test below starts from. */
struct served {
	uint8_t *dst;
	struct encoded e;
	struct mem_lazy *l;
	int events;
};

static void serve(struct served *s, uint32_t pages, enum kind (*kind)(uint32_t),
		  uint32_t chunk_pages, const uint32_t *order, uint32_t norder, double record_s)
{
	uint8_t *src = region_new(pages, kind);

	s->dst = map_guarded(pages);
	s->events = 0;
	encode(&s->e, src, pages, chunk_pages, 0);
	munmap(src - PAGE, ((size_t)pages + 2) * PAGE);
	s->l = start(&s->e, s->dst, order, norder, record_s, &s->events);
}

static void served_end(struct served *s)
{
	mem_lazy_free(s->l);
	mem_index_free(&s->e.idx);
	close(s->e.fd);
}

static enum kind kind_big(uint32_t page)
{
	return page % 4096 < 3000 ? (page % 3 ? RANDOM : TEXT) : kind_of(page % 256);
}

Test(mem_lazy, concurrent_faults_equal_an_eager_decode)
{
	const uint32_t pages = 16384;   /* 64 MiB, 64 chunks */
	uint8_t *src = region_new(pages, kind_big), *dst = map_guarded(pages);
	struct toucher t[4];
	pthread_t tid[4];
	struct mem_lazy_stats st;
	struct image_error err = { 0 };
	struct encoded e;
	struct mem_lazy *l;
	int events = 0, fd;
	uint8_t src_last;

	encode(&e, src, pages, TEST_CHUNK_PAGES, 0);
	src_last = src[(size_t)(pages - 1) * PAGE];
	munmap(src - PAGE, ((size_t)pages + 2) * PAGE);
	fd = e.fd;
	l = start(&e, dst, NULL, 0, 60, &events);
	/* The last chunk at once: the fill, one thread going from the first,
	 * has 63 to decode before it, so this is a fault however loaded the
	 * machine (the touchers alone may come after the fill). */
	cr_expect_eq(dst[(size_t)(pages - 1) * PAGE], src_last);
	/* The engine holds its own descriptor: the caller's may go. */
	close(fd);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct toucher){ dst, pages, (uint32_t)i, 4, 0 };
		cr_assert_eq(pthread_create(&tid[i], NULL, touch, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	cr_assert_eq(mem_lazy_wait(l, &err), 0, "%s", err.msg);
	mem_lazy_get_stats(l, &st);
	cr_expect_eq(st.done, 1);
	cr_expect_eq(events, 1, "one event, the end");
	cr_expect_eq(st.chunks, e.idx.nchunks, "every chunk of this region has a record");
	cr_expect_eq(st.faulted + st.filled, st.chunks, "each chunk marked in once: %u + %u",
		     st.faulted, st.filled);
	cr_expect_leq(st.raced, st.filled, "only a chunk the fill was at is decoded twice");
	cr_expect_gt(st.faulted, 0, "the last chunk was touched before the fill got there");
	cr_expect_gt(st.resident_s, 0);
	expect_decoded(dst, pages, kind_big);
	mem_lazy_free(l);
	/* After the end the mapping is ordinary memory. */
	dst[5] = 0x5a;
	cr_expect_eq(dst[5], 0x5a);
	mem_index_free(&e.idx);
}

Test(mem_lazy, a_zero_page_in_a_stored_chunk_is_answered_at_once)
{
	const uint32_t pages = 16384, zero = pages - 256 + 1;   /* kind_of(1) */
	struct image_error err = { 0 };
	struct mem_lazy_stats st;
	struct served s;

	cr_assert_eq(kind_big(zero), ZERO);
	serve(&s, pages, kind_big, TEST_CHUNK_PAGES, NULL, 0, 0);
	cr_assert_eq(s.dst[(size_t)zero * PAGE], 0);
	mem_lazy_get_stats(s.l, &st);
	cr_expect_eq(st.done, 0, "the fault waited for the whole region to be filled");
	cr_assert_eq(mem_lazy_wait(s.l, &err), 0, "%s", err.msg);
	served_end(&s);
}

Test(mem_lazy, untouched_pages_stay_untouched)
{
	const uint32_t pages = 1000;
	struct image_error err = { 0 };
	struct served s;

	serve(&s, pages, kind_of, 64, NULL, 0, 0);
	cr_assert_eq(mem_lazy_wait(s.l, &err), 0, "%s", err.msg);
	/* As after an eager decode: the data pages are in, no other page is. */
	for (uint32_t i = 0; i < pages; i++) {
		bool data = kind_of(i) == TEXT || kind_of(i) == RANDOM;

		cr_assert_eq(resident(s.dst + (size_t)i * PAGE), data, "page %u", i);
	}
	expect_decoded(s.dst, pages, kind_of);
	served_end(&s);
}

Test(mem_lazy, zero_and_untouched_pages_read_as_zero_while_filling)
{
	const uint32_t pages = 1000;
	struct image_error err = { 0 };
	struct served s;

	serve(&s, pages, kind_of, TEST_CHUNK_PAGES, NULL, 0, 0);
	/* Chunk 2 has no record; chunk 3's pages 900.. are zero. */
	for (uint32_t i = 512; i < pages; i += 7)
		if (kind_of(i) == ZERO || kind_of(i) == UNTOUCHED)
			cr_assert_eq(s.dst[(size_t)i * PAGE + 9], 0, "page %u", i);
	cr_assert_eq(mem_lazy_wait(s.l, &err), 0, "%s", err.msg);
	expect_decoded(s.dst, pages, kind_of);
	served_end(&s);
}

Test(mem_lazy, a_record_damaged_after_the_check_never_reaches_memory)
{
	const uint32_t pages = 1000;
	uint8_t *src = region_new(pages, kind_of);
	struct image_error err = { 0 };
	struct mem_lazy_stats st;
	struct served s = { .dst = map_guarded(pages) };
	off_t at;
	uint8_t byte;

	encode(&s.e, src, pages, TEST_CHUNK_PAGES, 0);
	/* Chunk 1: its frame's last byte flipped in the file. */
	at = (off_t)(s.e.idx.chunks[1].offset + s.e.idx.chunks[1].length - 1);
	cr_assert_eq(pread(s.e.fd, &byte, 1, at), 1);
	byte ^= 0x40;
	cr_assert_eq(pwrite(s.e.fd, &byte, 1, at), 1);
	s.l = start(&s.e, s.dst, NULL, 0, 0, &s.events);
	cr_assert_eq(mem_lazy_wait(s.l, &err), -IMG_ECHECKSUM);
	cr_expect(strstr(err.msg, "chunk 1: checksum mismatch"), "%s", err.msg);
	mem_lazy_get_stats(s.l, &st);
	cr_expect_eq(st.done, -1);
	cr_expect_eq(s.events, 100, "one event, the failure");
	for (uint32_t i = 256; i < 512; i++)
		cr_assert(!resident(s.dst + (size_t)i * PAGE), "page %u of the bad chunk", i);
	served_end(&s);
}

Test(mem_lazy, order_is_the_given_one_then_the_faulted_chunks)
{
	const uint32_t order[] = { 3, 40, 99, 3, 0 };  /* 40: no record, 99: none */
	struct image_error err = { 0 };
	uint32_t out[64], n;
	struct served s;

	serve(&s, 1000, kind_of, 16, order, 5, 0);
	cr_assert_eq(s.e.idx.nchunks, 63);
	cr_assert_eq(mem_lazy_wait(s.l, &err), 0, "%s", err.msg);
	n = mem_lazy_order(s.l, 16, out, 64);
	cr_assert_eq(n, 2, "only the stored chunks of the order, once, nothing recorded");
	cr_expect_eq(out[0], 3);
	cr_expect_eq(out[1], 0);
	/* Written with 64 KiB chunks of 1 MiB: chunks 3 and 0 are both chunk 0. */
	cr_expect_eq(mem_lazy_order(s.l, 256, out, 64), 1);
	cr_expect_eq(out[0], 0);
	served_end(&s);
}

Test(mem_lazy, faults_in_the_window_are_recorded_once)
{
	const uint32_t pages = 16384;
	struct image_error err = { 0 };
	struct mem_lazy_stats st;
	uint32_t out[64], n;
	uint64_t seen = 0;
	struct served s;

	serve(&s, pages, kind_big, TEST_CHUNK_PAGES, NULL, 0, 60);
	for (uint32_t i = pages; i-- > 0; )
		(void)*(volatile uint8_t *)(s.dst + (size_t)i * PAGE);
	cr_assert_eq(mem_lazy_wait(s.l, &err), 0, "%s", err.msg);
	mem_lazy_get_stats(s.l, &st);
	n = mem_lazy_order(s.l, TEST_CHUNK_PAGES, out, 64);
	cr_expect_geq(n, st.faulted, "every chunk decoded for a fault is recorded");
	cr_expect_gt(n, 0);
	cr_expect_eq(out[0], 63, "the first touch came first");
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_lt(out[i], 64);
		cr_assert(!(seen >> out[i] & 1), "chunk %u twice", out[i]);
		seen |= 1ull << out[i];
	}
	served_end(&s);
}
