/* test_stage1.c - the start level of a guest's stage-1 walks from TCR_EL1
 * (granules, address sizes, FEAT_LPA2's DS bit, disabled halves), with the
 * values Debian 12's and Debian 13's kernels set as guests in the rig, and
 * the lowest level a host kernel release handles. */
#include <criterion/criterion.h>

#include "stage1.h"

/* TCR_EL1 fields, written out: T0SZ [5:0], EPD0 7, TG0 [15:14], T1SZ
 * [21:16], EPD1 23, TG1 [31:30], DS 59. */
#define T0SZ(n)         ((uint64_t)(n))
#define T1SZ(n)         ((uint64_t)(n) << 16)
#define EPD0            (1ULL << 7)
#define EPD1            (1ULL << 23)
#define TG0_4K          (0ULL << 14)
#define TG0_64K         (1ULL << 14)
#define TG0_16K         (2ULL << 14)
#define TG1_16K         (1ULL << 30)
#define TG1_4K          (2ULL << 30)
#define TG1_64K         (3ULL << 30)
#define DS              (1ULL << 59)

/* Saved in the rig's images of suspended guests: Debian 12's kernel (48-bit
 * VA, 4K) and Debian 13's (52-bit VA with LPA2, 4K). */
#define TCR_BOOKWORM    0x015001f5b5503510ULL
#define TCR_TRIXIE      0x095001f6b54c350cULL

Test(stage1, rig_guests)
{
	cr_expect_eq(stage1_start_level(TCR_BOOKWORM), 0);
	cr_expect_eq(stage1_start_level(TCR_TRIXIE), -1);
	/* Without DS the same sizes walk from level 0. */
	cr_expect_eq(stage1_start_level(TCR_TRIXIE & ~DS), 0);
}

Test(stage1, granules_and_sizes)
{
	/* 4K: 9 bits a level. */
	cr_expect_eq(stage1_start_level(EPD1 | TG0_4K | T0SZ(16)), 0);
	cr_expect_eq(stage1_start_level(EPD1 | TG0_4K | T0SZ(25)), 1);  /* 39 bits */
	cr_expect_eq(stage1_start_level(EPD1 | TG0_4K | T0SZ(12) | DS), -1);
	cr_expect_eq(stage1_start_level(EPD1 | TG0_4K | T0SZ(15) | DS), -1);
	cr_expect_eq(stage1_start_level(EPD0 | TG1_4K | T1SZ(12) | DS), -1);
	cr_expect_eq(stage1_start_level(EPD0 | TG1_4K | T1SZ(16) | DS), 0);
	/* 16K: 11 bits a level; 52 bits need no level -1. */
	cr_expect_eq(stage1_start_level(EPD0 | TG1_16K | T1SZ(12) | DS), 0);
	cr_expect_eq(stage1_start_level(EPD0 | TG1_16K | T1SZ(17)), 1);  /* 47 bits */
	cr_expect_eq(stage1_start_level(EPD1 | TG0_16K | T0SZ(16)), 0);
	/* 64K: 13 bits a level. */
	cr_expect_eq(stage1_start_level(EPD0 | TG1_64K | T1SZ(12)), 1);
	cr_expect_eq(stage1_start_level(EPD1 | TG0_64K | T0SZ(22)), 2);  /* 42 bits */
	/* The lower of the two halves counts. */
	cr_expect_eq(stage1_start_level(TG0_4K | T0SZ(25) | TG1_4K | T1SZ(12) | DS), -1);
	cr_expect_eq(stage1_start_level(TG0_4K | T0SZ(12) | TG1_64K | T1SZ(22) | DS), -1);
	cr_expect_eq(stage1_start_level(TG0_64K | T0SZ(22) | TG1_16K | T1SZ(17)), 1);
}

Test(stage1, disabled_halves)
{
	cr_expect_eq(stage1_start_level(EPD0 | EPD1 | T0SZ(12) | T1SZ(12) | DS), 4);
	cr_expect_eq(stage1_start_level(EPD0 | TG0_4K | T0SZ(12) | TG1_4K | T1SZ(16) | DS), 0);
}

Test(stage1, host_releases)
{
	cr_expect_eq(stage1_host_min_level("6.1.0-57-arm64"), 0);
	cr_expect_eq(stage1_host_min_level("6.8.12-arm64"), 0);
	cr_expect_eq(stage1_host_min_level("6.9.0"), -1);
	cr_expect_eq(stage1_host_min_level("6.12.118+deb13-arm64"), -1);
	cr_expect_eq(stage1_host_min_level("7.0"), -1);
	cr_expect_eq(stage1_host_min_level("5.19.17"), 0);
	cr_expect_eq(stage1_host_min_level(""), 0);
	cr_expect_eq(stage1_host_min_level("unknown"), 0);
}
