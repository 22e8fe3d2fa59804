/* test_mmio.c - the MMIO bus: registering regions, dispatching checked
 * accesses to the right device at the right offset, and the little-endian
 * access helpers. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "mmio.h"

/* A device that records its last access and answers reads with a pattern. */
struct dev {
	int calls;
	uint64_t offset;
	uint32_t len;
	int is_write;
	uint8_t data[8];
};

static void dev_fn(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, int is_write)
{
	struct dev *d = opaque;

	d->calls++;
	d->offset = offset;
	d->len = len;
	d->is_write = is_write;
	if (is_write) {
		memcpy(d->data, data, len);
	} else {
		for (uint32_t i = 0; i < len; i++)
			data[i] = (uint8_t)(0xd0 + i);
	}
}

static struct mmio_bus bus;
static struct dev a, b;

#define A_BASE  0x09000000ULL
#define A_SIZE  0x1000ULL
#define B_BASE  0x09010000ULL
#define B_SIZE  0x100ULL

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(mmio_register(&bus, A_BASE, A_SIZE, dev_fn, &a, "a"), 0);
	cr_assert_eq(mmio_register(&bus, B_BASE, B_SIZE, dev_fn, &b, "b"), 0);
}

TestSuite(mmio, .init = setup);

/* --- registering ------------------------------------------------------------ */

struct range {
	uint64_t base, size;
};

/* Overlaps of [A_BASE, A_BASE + 0x1000). */
ParameterizedTestParameters(mmio, overlap_refused)
{
	static struct range cases[] = {
		{ A_BASE, A_SIZE },                     /* the same */
		{ A_BASE - 0x10, 0x11 },                /* last byte on the first */
		{ A_BASE + A_SIZE - 1, 0x10 },          /* first byte on the last */
		{ A_BASE + 0x100, 0x10 },               /* inside */
		{ A_BASE - 0x1000, 0x3000 },            /* around */
		{ 0, UINT64_MAX },                      /* everything */
		{ B_BASE + B_SIZE - 1, 1 },             /* the second region */
	};

	return cr_make_param_array(struct range, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct range *r, mmio, overlap_refused)
{
	cr_expect_eq(mmio_register(&bus, r->base, r->size, dev_fn, &a, "x"), -EEXIST,
		     "%#llx+%#llx", (unsigned long long)r->base, (unsigned long long)r->size);
	cr_expect_eq(bus.n, 2);
}

Test(mmio, adjacent_regions_are_fine)
{
	cr_expect_eq(mmio_register(&bus, A_BASE + A_SIZE, 0x10, dev_fn, &b, "after"), 0);
	cr_expect_eq(mmio_register(&bus, A_BASE - 0x10, 0x10, dev_fn, &b, "before"), 0);
	cr_expect_eq(mmio_register(&bus, UINT64_MAX - 0x1f, 0x10, dev_fn, &b, "high"), 0);
	cr_expect_eq(bus.n, 5);
}

Test(mmio, zero_size_and_wrapping_refused)
{
	cr_expect_eq(mmio_register(&bus, 0x1000, 0, dev_fn, &a, "empty"), -EINVAL);
	cr_expect_eq(mmio_register(&bus, UINT64_MAX - 0xf, 0x11, dev_fn, &a, "wraps"), -EINVAL);
	cr_expect_eq(bus.n, 2);
}

Test(mmio, bus_full)
{
	for (unsigned i = bus.n; i < MMIO_MAX_DEVICES; i++)
		cr_assert_eq(mmio_register(&bus, 0x1000ULL * (i + 1), 0x1000, dev_fn, &a, "x"), 0);
	cr_expect_eq(mmio_register(&bus, 0x100000, 0x1000, dev_fn, &a, "one too many"), -ENOSPC);
	cr_expect_eq(bus.n, MMIO_MAX_DEVICES);
}

/* --- dispatch ------------------------------------------------------------------ */

Test(mmio, write_reaches_the_right_device_at_its_offset)
{
	uint8_t d[4] = { 1, 2, 3, 4 };

	cr_assert_eq(mmio_dispatch(&bus, B_BASE + 0x10, d, 4, 1), 0);
	cr_expect_eq(a.calls, 0);
	cr_expect_eq(b.calls, 1);
	cr_expect_eq(b.offset, 0x10);
	cr_expect_eq(b.len, 4);
	cr_expect_eq(b.is_write, 1);
	cr_expect_arr_eq(b.data, d, 4);
}

Test(mmio, read_returns_the_device_data)
{
	uint8_t d[8];

	memset(d, 0, sizeof(d));
	cr_assert_eq(mmio_dispatch(&bus, A_BASE + 0xff8, d, 8, 0), 0);
	cr_expect_eq(a.calls, 1);
	cr_expect_eq(b.calls, 0);
	cr_expect_eq(a.offset, 0xff8, "the last 8 bytes of a");
	cr_expect_eq(a.is_write, 0);
	cr_expect_arr_eq(d, ((uint8_t[]){ 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7 }), 8);
	cr_assert_eq(mmio_dispatch(&bus, A_BASE, d, 1, 0), 0);
	cr_expect_eq(a.offset, 0);
	cr_expect_eq(a.len, 1);
}

ParameterizedTestParameters(mmio, bad_lengths)
{
	static uint32_t lens[] = { 0, 3, 5, 6, 7, 9, 16, UINT32_MAX };

	return cr_make_param_array(uint32_t, lens, sizeof(lens) / sizeof(lens[0]));
}

ParameterizedTest(uint32_t *len, mmio, bad_lengths)
{
	uint8_t d[16] = { 0 };

	cr_expect_eq(mmio_dispatch(&bus, A_BASE, d, *len, 0), -EINVAL);
	cr_expect_eq(mmio_dispatch(&bus, A_BASE, d, *len, 1), -EINVAL);
	cr_expect_eq(mmio_dispatch(&bus, 0x1234, d, *len, 0), -EINVAL, "unclaimed too");
	cr_expect_eq(a.calls, 0);
}

Test(mmio, access_crossing_the_end_refused)
{
	uint8_t d[8] = { 0 };

	memset(d, 0xee, sizeof(d));
	cr_expect_eq(mmio_dispatch(&bus, B_BASE + B_SIZE - 4, d, 8, 0), -EINVAL);
	for (unsigned i = 0; i < 8; i++)
		cr_expect_eq(d[i], 0, "a refused read returned byte %u = 0x%x, not 0", i, d[i]);
	memset(d, 0xee, sizeof(d));
	cr_expect_eq(mmio_dispatch(&bus, A_BASE, d, 3, 0), -EINVAL);
	cr_expect_eq(d[0] | d[1] | d[2], 0, "a read of a bad length returns zeros");
	cr_expect_eq(mmio_dispatch(&bus, A_BASE + A_SIZE - 2, d, 4, 0), -EINVAL);
	cr_expect_eq(mmio_dispatch(&bus, A_BASE + A_SIZE - 1, d, 2, 1), -EINVAL);
	cr_expect_eq(mmio_dispatch(&bus, B_BASE + B_SIZE - 4, d, 8, 0), -EINVAL);
	cr_expect_eq(a.calls + b.calls, 0);
	cr_expect_eq(mmio_dispatch(&bus, A_BASE + A_SIZE - 1, d, 1, 0), 0, "last byte");
	cr_expect_eq(mmio_dispatch(&bus, B_BASE + B_SIZE - 8, d, 8, 0), 0, "last 8 bytes");
}

Test(mmio, unclaimed_reads_zero)
{
	static const uint64_t addrs[] = {
		0, A_BASE - 1, A_BASE + A_SIZE, B_BASE - 8, B_BASE + B_SIZE, UINT64_MAX - 7,
	};

	for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		uint8_t d[8];

		memset(d, 0xaa, sizeof(d));
		cr_expect_eq(mmio_dispatch(&bus, addrs[i], d, 8, 0), -ENOENT, "%#llx",
			     (unsigned long long)addrs[i]);
		cr_expect_arr_eq(d, ((uint8_t[8]){ 0 }), 8, "%#llx", (unsigned long long)addrs[i]);
		memset(d, 0xaa, sizeof(d));
		cr_expect_eq(mmio_dispatch(&bus, addrs[i], d, 4, 1), -ENOENT);
	}
	cr_expect_eq(a.calls + b.calls, 0);
}

Test(mmio, empty_bus)
{
	struct mmio_bus empty = { 0 };
	uint8_t d[2] = { 0x55, 0x55 };

	cr_expect_eq(mmio_dispatch(&empty, A_BASE, d, 2, 0), -ENOENT);
	cr_expect_eq(d[0] | d[1], 0);
}

/* --- little-endian helpers ------------------------------------------------------ */

Test(mmio, get_is_little_endian)
{
	static const uint8_t d[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };

	cr_expect_eq(mmio_get(d, 1), 0x88);
	cr_expect_eq(mmio_get(d, 2), 0x7788);
	cr_expect_eq(mmio_get(d, 4), 0x55667788);
	cr_expect_eq(mmio_get(d, 8), 0x1122334455667788ULL);
}

Test(mmio, put_is_little_endian_and_stays_in_len)
{
	uint8_t d[8];

	memset(d, 0xee, sizeof(d));
	mmio_put(d, 2, 0x1122334455667788ULL);
	cr_expect_arr_eq(d, ((uint8_t[]){ 0x88, 0x77, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee }), 8);
	mmio_put(d, 8, 0x0102030405060708ULL);
	cr_expect_arr_eq(d, ((uint8_t[]){ 8, 7, 6, 5, 4, 3, 2, 1 }), 8);
	mmio_put(d, 4, 0xcafef00d);
	cr_expect_eq(mmio_get(d, 4), 0xcafef00d);
	cr_expect_eq(mmio_get(d, 8), 0x01020304cafef00dULL);
}
