/* test_virtqueue.c - the device side of a split virtqueue against a driver
 * that lays out its descriptors and rings the way Linux's virtio_ring does,
 * in a fake guest RAM: chains direct and indirect, the free-running indices
 * across 2^16, every malformed chain a driver can write, used ring updates,
 * and interrupt suppression with and without event idx. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "le.h"
#include "virtqueue.h"

#define BASE    0x80000000ull
#define RAM     0x100000ull
#define QSIZE   8
#define DESC    (BASE + 0x1000)
#define AVAIL   (BASE + 0x2000)
#define USED    (BASE + 0x3000)
#define BUFS    (BASE + 0x10000)        /* data buffers, 0x1000 each */
#define ITABLE  (BASE + 0x8000)         /* indirect tables */

static uint8_t *ram;
static struct guest_mem mem;
static struct vq q;
static struct vq_chain c;       /* large: not on the stack */
static uint16_t drv_avail;      /* the driver's copy of avail->idx */

static uint8_t *at(uint64_t gpa)
{
	return mem.host + (gpa - mem.base);
}

static void setup(void)
{
	ram = aligned_alloc(4096, RAM);
	cr_assert_not_null(ram);
	memset(ram, 0, RAM);
	mem = (struct guest_mem){ ram, BASE, RAM };
	vq_reset(&q);
	q.size = QSIZE;
	q.desc = DESC;
	q.avail = AVAIL;
	q.used = USED;
	q.ready = 1;
	drv_avail = 0;
}

static void teardown(void)
{
	if (mem.host != ram)
		munmap(mem.host, mem.size);
	free(ram);
}

TestSuite(vq, .init = setup, .fini = teardown);

/* --- the driver's side ------------------------------------------------------ */

static void put_desc_in(uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next)
{
	uint8_t *d = at(table + 16ull * i);

	le_put64(d, addr);
	le_put32(d + 8, len);
	le_put16(d + 12, flags);
	le_put16(d + 14, next);
}

static void put_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	put_desc_in(DESC, i, addr, len, flags, next);
}

/* Publishes head in the next available slot, then the index. */
static void make_avail(uint16_t head)
{
	le_put16(at(AVAIL + 4 + 2 * (drv_avail % q.size)), head);
	le_put16(at(AVAIL + 2), ++drv_avail);
}

/* Both sides' indices start at idx, as after 2^16 - ... chains. */
static void start_at(uint16_t idx)
{
	drv_avail = idx;
	le_put16(at(AVAIL + 2), idx);
	q.last_avail = q.used_idx = idx;
	le_put16(at(USED + 2), idx);
}

static uint16_t used_idx(void)
{
	return le_get16(at(USED + 2));
}

static void used_elem(uint16_t slot, uint32_t *id, uint32_t *len)
{
	*id = le_get32(at(USED + 4 + 8 * slot));
	*len = le_get32(at(USED + 4 + 8 * slot + 4));
}

static void set_used_event(uint16_t v)
{
	le_put16(at(AVAIL + 4 + 2 * q.size), v);
}

static uint16_t avail_event(void)
{
	return le_get16(at(USED + 4 + 8 * q.size));
}

/* Pops expecting fault f, and checks that the queue did not move. */
static void expect_fault(enum vq_fault want)
{
	uint16_t before = q.last_avail;
	enum vq_fault f = VQ_OK;

	cr_assert_eq(vq_pop(&q, &mem, &c, &f), -EINVAL, "want %s", vq_fault_name(want));
	cr_expect_eq(f, want, "got %s, want %s", vq_fault_name(f), vq_fault_name(want));
	cr_expect_eq(q.last_avail, before, "a fault moved last_avail");
	/* Still there, still refused. */
	cr_expect_eq(vq_pop(&q, &mem, &c, &f), -EINVAL);
	cr_expect_eq(f, want);
}

static void expect_chain(void)
{
	enum vq_fault f = VQ_BAD_RING;

	cr_assert_eq(vq_pop(&q, &mem, &c, &f), 1, "fault %s", vq_fault_name(f));
	cr_expect_eq(f, VQ_OK);
}

/* --- vq_check ---------------------------------------------------------------- */

Test(vq, check_accepts_the_rings)
{
	cr_expect_eq(vq_check(&q, &mem), 0);
	q.size = 1;
	cr_expect_eq(vq_check(&q, &mem), 0);
	q.size = VQ_MAX_SIZE;
	cr_expect_eq(vq_check(&q, &mem), 0);
}

Test(vq, check_refuses_bad_sizes)
{
	uint16_t bad[] = { 0, 3, 6, 100, VQ_MAX_SIZE + 1, 2 * VQ_MAX_SIZE, 0x8000 };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q.size = bad[i];
		cr_expect_eq(vq_check(&q, &mem), -EINVAL, "size %u", bad[i]);
	}
}

Test(vq, check_refuses_misaligned_rings)
{
	q.desc = DESC + 8;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "desc 8-aligned");
	q.desc = DESC;
	q.avail = AVAIL + 1;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "avail odd");
	q.avail = AVAIL + 2;
	cr_expect_eq(vq_check(&q, &mem), 0, "avail 2-aligned");
	q.used = USED + 2;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "used 2-aligned");
}

Test(vq, check_refuses_rings_outside_ram)
{
	struct vq good = q;

	q.desc = BASE - 0x1000;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "desc below RAM");
	q = good;
	q.desc = BASE + RAM - 16 * QSIZE;
	cr_expect_eq(vq_check(&q, &mem), 0, "desc at the very end");
	q.desc += 16;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "desc past the end");
	q = good;
	/* 6 + 2 * size bytes: the used_event slot must fit too. */
	q.avail = BASE + RAM - (6 + 2 * QSIZE);
	cr_expect_eq(vq_check(&q, &mem), 0);
	q.avail += 2;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "used_event past the end");
	q = good;
	q.used = BASE + RAM - (6 + 8 * QSIZE) - 2;
	cr_expect_eq(vq_check(&q, &mem), 0);
	q.used += 4;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "avail_event past the end");
	q = good;
	q.used = UINT64_MAX - 3;
	cr_expect_eq(vq_check(&q, &mem), -EINVAL, "used wraps 2^64");
}

/* --- taking chains -------------------------------------------------------------- */

Test(vq, empty_queue)
{
	enum vq_fault f = VQ_LOOP;

	cr_expect_eq(vq_pending(&q, &mem), 0);
	cr_expect_eq(vq_pop(&q, &mem, &c, &f), 0);
	cr_expect_eq(f, VQ_OK);
	cr_expect_eq(q.last_avail, 0);
}

Test(vq, one_buffer)
{
	put_desc(3, BUFS, 512, 0, 0);
	make_avail(3);
	cr_expect_eq(vq_pending(&q, &mem), 1);
	expect_chain();
	cr_expect_eq(c.head, 3);
	cr_assert_eq(c.n, 1);
	cr_expect_eq(c.buf[0].p, at(BUFS));
	cr_expect_eq(c.buf[0].len, 512);
	cr_expect_eq(c.buf[0].writable, 0);
	cr_expect_eq(c.out_bytes, 512);
	cr_expect_eq(c.in_bytes, 0);
	cr_expect_eq(q.last_avail, 1);
	cr_expect_eq(vq_pending(&q, &mem), 0);
}

/* A block request's shape: header, data, status byte. */
Test(vq, chain_of_several)
{
	put_desc(0, BUFS, 16, VQ_DESC_F_NEXT, 5);
	put_desc(5, BUFS + 0x1000, 4096, VQ_DESC_F_NEXT, 2);
	put_desc(2, BUFS + 0x2000, 4096, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 7);
	put_desc(7, BUFS + 0x3000, 1, VQ_DESC_F_WRITE, 0);
	make_avail(0);
	expect_chain();
	cr_expect_eq(c.head, 0);
	cr_assert_eq(c.n, 4);
	cr_expect_eq(c.buf[0].p, at(BUFS));
	cr_expect_eq(c.buf[1].p, at(BUFS + 0x1000));
	cr_expect_eq(c.buf[2].p, at(BUFS + 0x2000));
	cr_expect_eq(c.buf[3].p, at(BUFS + 0x3000));
	cr_expect_eq(c.buf[1].writable, 0);
	cr_expect_eq(c.buf[2].writable, 1);
	cr_expect_eq(c.buf[3].len, 1);
	cr_expect_eq(c.out_bytes, 16 + 4096);
	cr_expect_eq(c.in_bytes, 4096 + 1);
}

Test(vq, zero_length_buffers)
{
	put_desc(0, BUFS, 0, VQ_DESC_F_NEXT, 1);
	put_desc(1, BASE + RAM, 0, VQ_DESC_F_WRITE, 0);
	make_avail(0);
	expect_chain();
	cr_expect_eq(c.n, 2);
	cr_expect_eq(c.out_bytes + c.in_bytes, 0);
}

Test(vq, several_chains_in_order)
{
	for (uint16_t i = 0; i < QSIZE; i++) {
		put_desc(i, BUFS + 0x1000ull * i, 100 + i, 0, 0);
		make_avail((uint16_t)(QSIZE - 1 - i));
	}
	cr_expect_eq(vq_pending(&q, &mem), QSIZE);
	for (uint16_t i = 0; i < QSIZE; i++) {
		expect_chain();
		cr_expect_eq(c.head, QSIZE - 1 - i);
		cr_expect_eq(c.buf[0].len, 100 + QSIZE - 1 - i);
	}
	cr_expect_eq(vq_pending(&q, &mem), 0);
}

/* The indices run free through 2^16 while the slots go round the ring. */
Test(vq, indices_wrap)
{
	uint32_t id, len;

	start_at(65533);
	for (uint16_t i = 0; i < 6; i++) {
		put_desc(i, BUFS, 10 + i, VQ_DESC_F_WRITE, 0);
		make_avail(i);
	}
	cr_expect_eq(le_get16(at(AVAIL + 2)), 3);
	cr_expect_eq(vq_pending(&q, &mem), 6);
	for (uint16_t i = 0; i < 6; i++) {
		expect_chain();
		cr_expect_eq(c.head, i);
		cr_expect_eq(vq_push(&q, &mem, c.head, c.in_bytes), 0);
	}
	cr_expect_eq(q.last_avail, 3);
	cr_expect_eq(q.used_idx, 3);
	cr_expect_eq(used_idx(), 3);
	/* 65533 % 8 is slot 5; the sixth entry lands in slot 2. */
	used_elem(5, &id, &len);
	cr_expect_eq(id, 0);
	cr_expect_eq(len, 10);
	used_elem(2, &id, &len);
	cr_expect_eq(id, 5);
	cr_expect_eq(len, 15);
}

Test(vq, avail_idx_beyond_size)
{
	for (uint16_t i = 0; i < QSIZE; i++)
		put_desc(i, BUFS, 1, 0, 0);
	le_put16(at(AVAIL + 2), QSIZE);
	cr_expect_eq(vq_pending(&q, &mem), QSIZE, "a full ring is fine");
	le_put16(at(AVAIL + 2), QSIZE + 1);
	cr_expect_eq(vq_pending(&q, &mem), -EINVAL);
	expect_fault(VQ_BAD_AVAIL_IDX);
	/* Going backwards is as impossible. */
	le_put16(at(AVAIL + 2), 0xffff);
	expect_fault(VQ_BAD_AVAIL_IDX);
}

Test(vq, avail_idx_beyond_size_across_wrap)
{
	start_at(65530);
	le_put16(at(AVAIL + 2), (uint16_t)(65530 + QSIZE));
	cr_expect_eq(vq_pending(&q, &mem), QSIZE);
	le_put16(at(AVAIL + 2), (uint16_t)(65530 + QSIZE + 1));
	expect_fault(VQ_BAD_AVAIL_IDX);
}

/* --- malformed direct chains ------------------------------------------------------- */

Test(vq, head_out_of_range)
{
	make_avail(QSIZE);
	expect_fault(VQ_BAD_HEAD);
}

Test(vq, head_far_out_of_range)
{
	make_avail(0xffff);
	expect_fault(VQ_BAD_HEAD);
}

Test(vq, next_out_of_range)
{
	put_desc(0, BUFS, 1, VQ_DESC_F_NEXT, QSIZE);
	make_avail(0);
	expect_fault(VQ_BAD_HEAD);
}

Test(vq, loop_of_two)
{
	put_desc(1, BUFS, 1, VQ_DESC_F_NEXT, 2);
	put_desc(2, BUFS, 1, VQ_DESC_F_NEXT, 1);
	make_avail(1);
	expect_fault(VQ_LOOP);
}

Test(vq, self_loop)
{
	put_desc(4, BUFS, 1, VQ_DESC_F_NEXT, 4);
	make_avail(4);
	expect_fault(VQ_LOOP);
}

Test(vq, self_loop_in_a_queue_of_one)
{
	q.size = 1;
	put_desc(0, BUFS, 1, VQ_DESC_F_NEXT, 0);
	make_avail(0);
	expect_fault(VQ_LOOP);
}

/* Every descriptor once, then back to the first: one step too many. */
Test(vq, chain_longer_than_the_table)
{
	for (uint16_t i = 0; i < QSIZE; i++)
		put_desc(i, BUFS, 1, VQ_DESC_F_NEXT, (uint16_t)((i + 1) % QSIZE));
	make_avail(0);
	expect_fault(VQ_LOOP);
}

Test(vq, whole_table_is_one_chain)
{
	for (uint16_t i = 0; i < QSIZE; i++)
		put_desc(i, BUFS, 1, i + 1 < QSIZE ? VQ_DESC_F_NEXT : 0, i + 1);
	make_avail(0);
	expect_chain();
	cr_expect_eq(c.n, QSIZE);
}

Test(vq, readable_after_writable)
{
	put_desc(0, BUFS, 16, VQ_DESC_F_NEXT, 1);
	put_desc(1, BUFS, 16, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	put_desc(2, BUFS, 16, 0, 0);
	make_avail(0);
	expect_fault(VQ_BAD_ORDER);
}

/* Damage to one buffer of a two-buffer chain. */
struct bad_buf {
	char what[32];
	uint64_t addr;
	uint32_t len;
};

ParameterizedTestParameters(vq, buffer_outside_ram)
{
	static struct bad_buf cases[] = {
		{ "below RAM", BASE - 0x1000, 16 },
		{ "straddles the start", BASE - 1, 2 },
		{ "past the end", BASE + RAM, 1 },
		{ "straddles the end", BASE + RAM - 8, 9 },
		{ "empty past the end", BASE + RAM + 1, 0 },
		{ "at address 0", 0, 512 },
		{ "wraps 2^64", 0xfffffffffffff000ull, 0x2000 },
		{ "ends at 2^64", 0xffffffffffffff00ull, 0x100 },
		{ "longer than RAM", BASE, UINT32_MAX },
	};

	return cr_make_param_array(struct bad_buf, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_buf *b, vq, buffer_outside_ram)
{
	put_desc(0, BUFS, 16, VQ_DESC_F_NEXT, 1);
	put_desc(1, b->addr, b->len, VQ_DESC_F_WRITE, 0);
	make_avail(0);
	expect_fault(VQ_BAD_BUFFER);
}

/* 2 GiB of guest RAM that is never touched beyond its first pages. */
Test(vq, total_length_over_32_bits)
{
	const uint64_t big = 0x80000000ull;
	uint8_t *huge = mmap(NULL, big, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	cr_assert_neq(huge, MAP_FAILED);
	mem = (struct guest_mem){ huge, BASE, big };
	/* 1 + 2 + 1 GiB: a byte too many. */
	put_desc(0, BASE, (uint32_t)(big / 2), VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 1);
	put_desc(1, BASE, (uint32_t)big, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	put_desc(2, BASE, (uint32_t)(big / 2), VQ_DESC_F_WRITE, 0);
	/* 4 GiB - 1 exactly still counts. */
	put_desc(3, BASE, (uint32_t)(big - 1), VQ_DESC_F_NEXT, 4);
	put_desc(4, BASE, (uint32_t)big, VQ_DESC_F_NEXT, 5);
	put_desc(5, BASE, 0, 0, 0);
	make_avail(3);
	make_avail(0);
	expect_chain();
	cr_expect_eq(c.out_bytes, UINT32_MAX);
	expect_fault(VQ_TOO_BIG);
}

/* --- indirect descriptors ------------------------------------------------------------ */

static void indirect_request(void)
{
	put_desc_in(ITABLE, 0, BUFS, 16, VQ_DESC_F_NEXT, 1);
	put_desc_in(ITABLE, 1, BUFS + 0x1000, 4096, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	put_desc_in(ITABLE, 2, BUFS + 0x2000, 1, VQ_DESC_F_WRITE, 0);
}

Test(vq, indirect)
{
	q.indirect = 1;
	indirect_request();
	put_desc(6, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(6);
	expect_chain();
	cr_expect_eq(c.head, 6);
	cr_assert_eq(c.n, 3);
	cr_expect_eq(c.buf[0].p, at(BUFS));
	cr_expect_eq(c.buf[1].p, at(BUFS + 0x1000));
	cr_expect_eq(c.buf[2].p, at(BUFS + 0x2000));
	cr_expect_eq(c.out_bytes, 16);
	cr_expect_eq(c.in_bytes, 4097);
}

/* The spec lets the table's own WRITE flag be set; it means nothing. */
Test(vq, indirect_ignores_its_own_write_flag)
{
	q.indirect = 1;
	indirect_request();
	put_desc(0, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT | VQ_DESC_F_WRITE, 0);
	make_avail(0);
	expect_chain();
	cr_expect_eq(c.n, 3);
}

Test(vq, indirect_at_the_end_of_a_direct_chain)
{
	q.indirect = 1;
	indirect_request();
	put_desc(0, BUFS + 0x5000, 8, VQ_DESC_F_NEXT, 1);
	put_desc(1, ITABLE + 16, 2 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	/* The table's next fields count from its own start: entry 1 -> 2 is
	 * out of a 2-entry table read from entry 1 on. */
	expect_fault(VQ_BAD_HEAD);
	put_desc(1, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	expect_chain();
	cr_expect_eq(c.n, 4);
	cr_expect_eq(c.out_bytes, 8 + 16);
}

Test(vq, indirect_not_negotiated)
{
	indirect_request();
	put_desc(0, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_INDIRECT);
}

Test(vq, indirect_nested)
{
	q.indirect = 1;
	indirect_request();
	put_desc_in(ITABLE + 0x100, 0, BUFS, 1, VQ_DESC_F_NEXT, 1);
	put_desc_in(ITABLE + 0x100, 1, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	put_desc(0, ITABLE + 0x100, 2 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_INDIRECT);
}

Test(vq, indirect_with_next)
{
	q.indirect = 1;
	indirect_request();
	put_desc(0, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT | VQ_DESC_F_NEXT, 1);
	put_desc(1, BUFS, 1, VQ_DESC_F_WRITE, 0);
	make_avail(0);
	expect_fault(VQ_BAD_INDIRECT);
}

Test(vq, indirect_not_whole_descriptors)
{
	q.indirect = 1;
	indirect_request();
	put_desc(0, ITABLE, 3 * 16 - 1, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_INDIRECT);
	put_desc(0, ITABLE, 8, VQ_DESC_F_INDIRECT, 0);
	expect_fault(VQ_BAD_INDIRECT);
}

Test(vq, indirect_zero_length)
{
	q.indirect = 1;
	put_desc(0, ITABLE, 0, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_BUFFER);
}

Test(vq, indirect_table_outside_ram)
{
	q.indirect = 1;
	put_desc(0, BASE + RAM - 32, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_BUFFER);
	put_desc(0, 0xfffffffffffffff0ull, 32, VQ_DESC_F_INDIRECT, 0);
	expect_fault(VQ_BAD_BUFFER);
}

Test(vq, indirect_table_too_large)
{
	q.indirect = 1;
	put_desc(0, BASE, 16 * (VQ_MAX_CHAIN + 1), VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_INDIRECT);
}

Test(vq, indirect_loop)
{
	q.indirect = 1;
	put_desc_in(ITABLE, 0, BUFS, 1, VQ_DESC_F_NEXT, 1);
	put_desc_in(ITABLE, 1, BUFS, 1, VQ_DESC_F_NEXT, 0);
	put_desc(0, ITABLE, 2 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_LOOP);
}

Test(vq, indirect_buffer_outside_ram)
{
	q.indirect = 1;
	indirect_request();
	put_desc_in(ITABLE, 1, BASE + RAM, 4096, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	put_desc(0, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_BUFFER);
}

Test(vq, indirect_readable_after_writable)
{
	q.indirect = 1;
	indirect_request();
	put_desc_in(ITABLE, 2, BUFS, 1, 0, 0);
	put_desc(0, ITABLE, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_fault(VQ_BAD_ORDER);
}

/* A full indirect table after a direct buffer: more buffers than a chain
 * may have. */
Test(vq, chain_more_than_max_buffers)
{
	q.indirect = 1;
	for (uint16_t i = 0; i < VQ_MAX_CHAIN; i++)
		put_desc_in(ITABLE, i, BUFS, 1,
			    i + 1 < VQ_MAX_CHAIN ? VQ_DESC_F_NEXT : 0, i + 1);
	put_desc(0, ITABLE, 16 * VQ_MAX_CHAIN, VQ_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_chain();
	cr_expect_eq(c.n, VQ_MAX_CHAIN);
	put_desc(1, BUFS, 1, VQ_DESC_F_NEXT, 2);
	put_desc(2, ITABLE, 16 * VQ_MAX_CHAIN, VQ_DESC_F_INDIRECT, 0);
	make_avail(1);
	expect_fault(VQ_TOO_BIG);
}

/* --- the used ring ----------------------------------------------------------------------- */

Test(vq, push_writes_id_len_then_idx)
{
	uint32_t id, len;

	cr_expect_eq(vq_push(&q, &mem, 5, 4097), 0);
	used_elem(0, &id, &len);
	cr_expect_eq(id, 5);
	cr_expect_eq(len, 4097);
	cr_expect_eq(used_idx(), 1);
	cr_expect_eq(q.used_idx, 1);
	cr_expect_eq(vq_push(&q, &mem, 2, 0), 0);
	used_elem(1, &id, &len);
	cr_expect_eq(id, 2);
	cr_expect_eq(len, 0);
	cr_expect_eq(used_idx(), 2);
}

Test(vq, push_refuses_a_used_ring_outside_ram)
{
	q.used = BASE + RAM - 8;
	cr_expect_eq(vq_push(&q, &mem, 0, 1), -EINVAL);
	cr_expect_eq(q.used_idx, 0);
}

Test(vq, rings_moved_outside_ram_after_check)
{
	enum vq_fault f;

	q.avail = BASE + RAM;
	cr_expect_eq(vq_pending(&q, &mem), -EINVAL);
	cr_expect_eq(vq_pop(&q, &mem, &c, &f), -EINVAL);
	cr_expect_eq(f, VQ_BAD_RING);
	q.avail = AVAIL;
	q.desc = BASE + RAM - 16;
	make_avail(0);
	cr_expect_eq(vq_pop(&q, &mem, &c, &f), -EINVAL);
	cr_expect_eq(f, VQ_BAD_RING);
}

/* --- interrupts and notifications ----------------------------------------------------------- */

Test(vq, interrupt_without_event_idx)
{
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
	le_put16(at(AVAIL), 1);         /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 0);
	le_put16(at(AVAIL), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
}

Test(vq, event_idx_ignores_the_flag)
{
	q.event_idx = 1;
	le_put16(at(AVAIL), 1);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1, "the first one always goes");
}

/* The driver asks to hear when entry used_event has been used. */
Test(vq, event_idx_used_event)
{
	q.event_idx = 1;
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
	cr_expect_eq(q.signalled_valid, 1);
	cr_expect_eq(q.signalled_used, 1);
	set_used_event(3);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);       /* idx 2 */
	cr_expect_eq(vq_need_interrupt(&q, &mem), 0);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);       /* idx 3 */
	cr_expect_eq(vq_need_interrupt(&q, &mem), 0);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);       /* idx 4: entry 3 used */
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 0, "already past used_event");
	cr_expect_eq(vq_need_interrupt(&q, &mem), 0, "nothing new");
}

Test(vq, event_idx_batch_crossing)
{
	q.event_idx = 1;
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
	set_used_event(1);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1, "1 in [0, 4)");
	set_used_event(2);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 0, "2 not in [4, 6)");
}

Test(vq, event_idx_across_wrap)
{
	q.event_idx = 1;
	start_at(65534);
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
	set_used_event(65535);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);       /* 65535 */
	cr_expect_eq(vq_need_interrupt(&q, &mem), 0);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);       /* 0 */
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
	set_used_event(1);
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);       /* 1 */
	cr_expect_eq(vq_push(&q, &mem, 0, 0), 0);       /* 2 */
	cr_expect_eq(vq_need_interrupt(&q, &mem), 1);
}

Test(vq, enable_notify_writes_avail_event)
{
	q.event_idx = 1;
	put_desc(0, BUFS, 1, 0, 0);
	make_avail(0);
	make_avail(0);
	expect_chain();
	vq_enable_notify(&q, &mem);
	cr_expect_eq(avail_event(), 1);
	expect_chain();
	vq_enable_notify(&q, &mem);
	cr_expect_eq(avail_event(), 2);
	cr_expect_eq(vq_pending(&q, &mem), 0);
}

Test(vq, enable_notify_without_event_idx_writes_nothing)
{
	uint8_t before[4096];

	memcpy(before, at(USED), sizeof(before));
	q.last_avail = 77;
	vq_enable_notify(&q, &mem);
	cr_expect_eq(memcmp(before, at(USED), sizeof(before)), 0);
}

/* --- the rest ----------------------------------------------------------------------------------- */

Test(vq, reset_clears_everything)
{
	struct vq zero;

	memset(&zero, 0, sizeof(zero));
	q.last_avail = 4;
	q.signalled_valid = 1;
	q.event_idx = 1;
	vq_reset(&q);
	cr_expect_eq(memcmp(&q, &zero, sizeof(q)), 0);
}

Test(vq, fault_names)
{
	for (int f = VQ_OK; f <= VQ_TOO_BIG; f++) {
		cr_expect_str_neq(vq_fault_name((enum vq_fault)f), "unknown", "fault %d", f);
		for (int g = VQ_OK; g < f; g++)
			cr_expect_str_neq(vq_fault_name((enum vq_fault)f),
					  vq_fault_name((enum vq_fault)g));
	}
	cr_expect_str_eq(vq_fault_name((enum vq_fault)(VQ_TOO_BIG + 1)), "unknown");
}

/* A chain of two readable buffers (3 and 5 bytes) and two writable ones (2
 * and 4), as the devices see them. */
static void split_chain(struct vq_chain *sc, uint8_t *r0, uint8_t *r1, uint8_t *w0,
			uint8_t *w1)
{
	memset(sc, 0, sizeof(*sc));
	sc->buf[0] = (struct vq_buf){ r0, 3, 0 };
	sc->buf[1] = (struct vq_buf){ r1, 5, 0 };
	sc->buf[2] = (struct vq_buf){ w0, 2, 1 };
	sc->buf[3] = (struct vq_buf){ w1, 4, 1 };
	sc->n = 4;
	sc->out_bytes = 8;
	sc->in_bytes = 6;
}

/* Reads start anywhere and cross buffers; writes fill the writable buffers
 * in order and stop where they end; a writable byte is found across them. */
Test(chain_copy, read_write_and_byte_across_buffers)
{
	uint8_t r0[3] = { 1, 2, 3 }, r1[5] = { 4, 5, 6, 7, 8 }, w0[2] = { 0 }, w1[4] = { 0 };
	static const uint8_t in[7] = { 9, 10, 11, 12, 13, 14, 15 };
	uint8_t out[8] = { 0 };
	struct vq_chain sc;

	split_chain(&sc, r0, r1, w0, w1);
	vq_chain_read(&sc, 2, out, 4);
	cr_expect_arr_eq(out, ((uint8_t[]){ 3, 4, 5, 6 }), 4);
	vq_chain_read(&sc, 0, out, 8);
	cr_expect_arr_eq(out, ((uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }), 8);
	cr_expect_eq(vq_chain_write(&sc, in, 7), 6, "only what fits");
	cr_expect_arr_eq(w0, ((uint8_t[]){ 9, 10 }), 2);
	cr_expect_arr_eq(w1, ((uint8_t[]){ 11, 12, 13, 14 }), 4);
	cr_expect_eq(r1[0], 4, "readable buffers untouched");
	cr_expect_eq(vq_chain_wbyte(&sc, 0), &w0[0]);
	cr_expect_eq(vq_chain_wbyte(&sc, 2), &w1[0]);
	cr_expect_eq(vq_chain_wbyte(&sc, 5), &w1[3]);
	cr_expect_null(vq_chain_wbyte(&sc, 6));
}
