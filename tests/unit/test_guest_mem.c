/* test_guest_mem.c - guest_mem_ptr: the ranges inside guest RAM, and every
 * way a guest-supplied range can miss it (below, above, straddling an end,
 * wrapping 2^64). */
#include <criterion/criterion.h>
#include <stdint.h>

#include "guest_mem.h"

#define BASE    0x80000000ull
#define SIZE    0x100000ull

static uint8_t ram[SIZE];
static const struct guest_mem m = { ram, BASE, SIZE };

Test(guest_mem, inside)
{
	cr_expect_eq(guest_mem_ptr(&m, BASE, 1), ram);
	cr_expect_eq(guest_mem_ptr(&m, BASE, SIZE), ram);
	cr_expect_eq(guest_mem_ptr(&m, BASE + 0x10, 0x20), ram + 0x10);
	cr_expect_eq(guest_mem_ptr(&m, BASE + SIZE - 1, 1), ram + SIZE - 1);
}

Test(guest_mem, empty_ranges)
{
	cr_expect_eq(guest_mem_ptr(&m, BASE, 0), ram);
	cr_expect_eq(guest_mem_ptr(&m, BASE + SIZE, 0), ram + SIZE);
	cr_expect_null(guest_mem_ptr(&m, BASE + SIZE + 1, 0));
	cr_expect_null(guest_mem_ptr(&m, BASE - 1, 0));
}

Test(guest_mem, outside)
{
	cr_expect_null(guest_mem_ptr(&m, 0, 16));
	cr_expect_null(guest_mem_ptr(&m, BASE - 1, 1));
	cr_expect_null(guest_mem_ptr(&m, BASE - 1, 2), "straddles the start");
	cr_expect_null(guest_mem_ptr(&m, BASE + SIZE, 1));
	cr_expect_null(guest_mem_ptr(&m, BASE + SIZE - 1, 2), "straddles the end");
	cr_expect_null(guest_mem_ptr(&m, BASE, SIZE + 1));
}

Test(guest_mem, no_wrap)
{
	cr_expect_null(guest_mem_ptr(&m, BASE + 0x10, UINT64_MAX));
	cr_expect_null(guest_mem_ptr(&m, BASE + 0x10, UINT64_MAX - 0x8));
	cr_expect_null(guest_mem_ptr(&m, UINT64_MAX, 2));
	cr_expect_null(guest_mem_ptr(&m, UINT64_MAX - 0xf, 0x20));
}

Test(guest_mem, no_ram)
{
	const struct guest_mem none = { NULL, BASE, SIZE };

	cr_expect_null(guest_mem_ptr(&none, BASE, 1));
}
