/* test_boot_layout.c - recognising arm64 Images and raw binaries, and placing
 * kernel, initrd and device tree in guest RAM. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "boot_layout.h"
#include "memmap.h"

#define SZ_2M   (2ULL << 20)
#define MiB     (1ULL << 20)

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* An arm64 Image header (Documentation/arm64/booting.rst) in buf. */
static void make_image(uint8_t *buf, size_t len, uint64_t text_offset, uint64_t image_size)
{
	memset(buf, 0, len);
	buf[0] = 0x4d;          /* "MZ", as EFI-stub kernels have */
	buf[1] = 0x5a;
	put_le64(buf + 8, text_offset);
	put_le64(buf + 16, image_size);
	memcpy(buf + 56, "ARM\x64", 4);
}

/* --- payload_probe ---------------------------------------------------------- */

struct image_case {
	char name[16];
	size_t len;
	uint64_t text_offset, image_size;       /* in the header */
	uint64_t want_text_offset, want_image_size;
};

ParameterizedTestParameters(payload_probe, linux_image)
{
	static struct image_case cases[] = {
		{ "Image", 4096, 0x80000, 0x1234000, 0x80000, 0x1234000 },
		/* the magic wins over the name */
		{ "kernel.bin", 256, 0, 0x10000, 0, 0x10000 },
		/* Kernels before 3.17 leave image_size 0 and expect text_offset
		 * 0x80000 whatever the field says. */
		{ "Image", 8192, 0, 0, 0x80000, 8192 },
		{ "Image", 8192, 0x1000, 0, 0x80000, 8192 },
	};

	return cr_make_param_array(struct image_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct image_case *c, payload_probe, linux_image)
{
	uint8_t buf[8192];
	struct payload_info pi;

	make_image(buf, c->len, c->text_offset, c->image_size);
	cr_assert_eq(payload_probe(buf, c->len, c->name, &pi), 0);
	cr_expect_eq(pi.kind, PAYLOAD_LINUX);
	cr_expect_eq(pi.text_offset, c->want_text_offset);
	cr_expect_eq(pi.image_size, c->want_image_size);
}

struct hdr_case {
	uint64_t text_offset, image_size;
	int want;
};

ParameterizedTestParameters(payload_probe, header_fields)
{
	static struct hdr_case cases[] = {
		{ 0, 4096, 0 },                         /* image_size == file length */
		{ 0x1ff000, 1ULL << 20, 0 },            /* last page-aligned offset */
		{ 0x80000, 1ULL << 34, 0 },             /* 16 GiB: the limit */
		{ 0x80000, 4095, -EINVAL },             /* smaller than the file */
		{ 0x80000, 1, -EINVAL },
		{ 2ULL << 20, 1ULL << 20, -EINVAL },    /* offset past the 2 MiB block */
		{ UINT64_MAX & ~0xfffULL, 1ULL << 20, -EINVAL },
		{ 0x80001, 1ULL << 20, -EINVAL },       /* not page aligned */
		{ 0x800, 1ULL << 20, -EINVAL },
		{ 0x80000, (1ULL << 34) + 1, -EINVAL },
		{ 0x80000, UINT64_MAX, -EINVAL },
	};

	return cr_make_param_array(struct hdr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct hdr_case *c, payload_probe, header_fields)
{
	uint8_t buf[4096];
	struct payload_info pi;

	make_image(buf, sizeof(buf), c->text_offset, c->image_size);
	cr_expect_eq(payload_probe(buf, sizeof(buf), "Image", &pi), c->want,
		     "text_offset %#llx image_size %#llx",
		     (unsigned long long)c->text_offset, (unsigned long long)c->image_size);
}

/* A big-endian kernel (flags bit 0) is refused, not booted into silence;
 * the other flag bits (page size, placement) do not matter here. */
Test(payload_probe, big_endian_image)
{
	uint8_t buf[4096];
	struct payload_info pi;

	make_image(buf, sizeof(buf), 0x80000, 1ULL << 20);
	put_le64(buf + 24, 0x0a);
	cr_expect_eq(payload_probe(buf, sizeof(buf), "Image", &pi), 0);
	put_le64(buf + 24, 0x0b);
	cr_expect_eq(payload_probe(buf, sizeof(buf), "Image", &pi), -ENOEXEC);
	put_le64(buf + 24, 1);
	cr_expect_eq(payload_probe(buf, sizeof(buf), "Image.bin", &pi), -ENOEXEC,
		     "a .bin name does not make a BE Image raw");
}

Test(payload_probe, raw_binary_by_name)
{
	uint8_t buf[100] = { 0x14, 0, 0, 0x14 };
	struct payload_info pi;

	cr_assert_eq(payload_probe(buf, sizeof(buf), "tests/hello.bin", &pi), 0);
	cr_expect_eq(pi.kind, PAYLOAD_RAW);
	cr_expect_eq(pi.text_offset, 0);
	cr_expect_eq(pi.image_size, sizeof(buf));
	cr_expect_eq(payload_probe(buf, 1, ".bin", &pi), 0);
	cr_expect_eq(pi.image_size, 1);
}

ParameterizedTestParameters(payload_probe, not_a_bin_name)
{
	static char names[][16] = { "hello", "hello.bin.gz", "hellobin", "bin", "hello.BIN",
				    "hello.bi", "" };

	return cr_make_param_array(char[16], names, sizeof(names) / sizeof(names[0]));
}

ParameterizedTest(char (*name)[16], payload_probe, not_a_bin_name)
{
	uint8_t buf[100] = { 1, 2, 3 };
	struct payload_info pi;

	cr_expect_eq(payload_probe(buf, sizeof(buf), *name, &pi), -EINVAL, "'%s'", *name);
}

Test(payload_probe, no_name_and_no_magic)
{
	uint8_t buf[64] = { 0 };
	struct payload_info pi;

	cr_expect_eq(payload_probe(buf, sizeof(buf), NULL, &pi), -EINVAL);
}

Test(payload_probe, damaged_magic_is_not_an_image)
{
	uint8_t buf[4096];
	struct payload_info pi;

	for (int i = 56; i < 60; i++) {
		make_image(buf, sizeof(buf), 0x80000, 1ULL << 20);
		buf[i] ^= 0x20;
		cr_expect_eq(payload_probe(buf, sizeof(buf), "Image", &pi), -EINVAL,
			     "byte %d", i);
		cr_assert_eq(payload_probe(buf, sizeof(buf), "Image.bin", &pi), 0);
		cr_expect_eq(pi.kind, PAYLOAD_RAW, "byte %d", i);
	}
}

/* The magic needs the whole 64-byte header to count. */
Test(payload_probe, short_file_with_magic_is_raw_at_most)
{
	uint8_t buf[64];
	struct payload_info pi;

	make_image(buf, sizeof(buf), 0, 0x10000);
	cr_expect_eq(payload_probe(buf, 63, "Image", &pi), -EINVAL);
	cr_assert_eq(payload_probe(buf, 63, "x.bin", &pi), 0);
	cr_expect_eq(pi.kind, PAYLOAD_RAW);
	cr_expect_eq(pi.image_size, 63);
}

Test(payload_probe, empty_file)
{
	uint8_t buf[1] = { 0 };
	struct payload_info pi;

	cr_expect_eq(payload_probe(buf, 0, "hello.bin", &pi), -ENODATA);
	cr_expect_eq(payload_probe(buf, 0, "Image", &pi), -ENODATA);
}

/* --- boot_layout_plan -------------------------------------------------------- */

static const struct payload_info linux_pi = { PAYLOAD_LINUX, 0x80000, 32 * MiB };

/* What every successful plan guarantees: the kernel at the 2 MiB-aligned base
 * plus text_offset and inside RAM; the device tree in RAM, in the first
 * 512 MiB, in its own 2 MiB block when one is free above the kernel (else
 * page-aligned at the top); the initrd page-aligned
 * between the kernel and the device tree. */
static void expect_sane(const struct boot_layout *bl, const struct payload_info *pi,
			uint64_t file_size, uint64_t initrd_size, uint64_t base, uint64_t size)
{
	uint64_t kernel_end = bl->kernel_addr +
			      (pi->image_size > file_size ? pi->image_size : file_size);
	uint64_t top = base + (size < 512 * MiB ? size : 512 * MiB);

	cr_expect_eq(bl->kernel_addr, ((base + SZ_2M - 1) & ~(SZ_2M - 1)) + pi->text_offset);
	cr_expect_leq(kernel_end, base + size);
	cr_expect_geq(bl->fdt_addr, kernel_end);
	cr_expect_leq(bl->fdt_addr + FDT_MAX_SIZE, top);
	cr_expect_eq(bl->fdt_addr % 8, 0);
	if (size >= SZ_2M && ((top - FDT_MAX_SIZE) & ~(SZ_2M - 1)) >= kernel_end) {
		cr_expect_eq(bl->fdt_addr % SZ_2M, 0, "fdt %#llx", (unsigned long long)bl->fdt_addr);
		cr_expect_lt(top - bl->fdt_addr, 2 * SZ_2M, "fdt not as high as it can go");
	}
	cr_expect_eq(bl->initrd_size, initrd_size);
	if (initrd_size) {
		cr_expect_eq(bl->initrd_addr % 4096, 0);
		cr_expect_geq(bl->initrd_addr, kernel_end);
		cr_expect_leq(bl->initrd_addr + initrd_size, bl->fdt_addr);
		cr_expect_lt(bl->fdt_addr - (bl->initrd_addr + initrd_size), 4096,
			     "initrd not just below the device tree");
	} else {
		cr_expect_eq(bl->initrd_addr, 0);
	}
}

Test(boot_layout, linux_with_initrd_exact_addresses)
{
	struct boot_layout bl;

	cr_assert_eq(boot_layout_plan(&bl, &linux_pi, 20 * MiB, 0x123456, RAM_BASE, 256 * MiB), 0);
	cr_expect_eq(bl.kernel_addr, 0x80080000);
	cr_expect_eq(bl.fdt_addr, 0x8fe00000);
	cr_expect_eq(bl.initrd_addr, 0x8fcdc000);
	cr_expect_eq(bl.initrd_size, 0x123456);
	expect_sane(&bl, &linux_pi, 20 * MiB, 0x123456, RAM_BASE, 256 * MiB);
}

Test(boot_layout, device_tree_stays_in_the_first_512m)
{
	struct boot_layout bl;

	cr_assert_eq(boot_layout_plan(&bl, &linux_pi, 20 * MiB, 4 * MiB, RAM_BASE, 4ULL << 30), 0);
	cr_expect_eq(bl.fdt_addr, RAM_BASE + 510 * MiB);
	cr_expect_eq(bl.initrd_addr, RAM_BASE + 506 * MiB);
	expect_sane(&bl, &linux_pi, 20 * MiB, 4 * MiB, RAM_BASE, 4ULL << 30);
}

struct plan_case {
	char what[40];
	struct payload_info pi;
	uint64_t file_size, initrd_size, base, size;
};

ParameterizedTestParameters(boot_layout, fits)
{
	static struct plan_case cases[] = {
		{ "linux, no initrd", { PAYLOAD_LINUX, 0x80000, 32 * MiB }, 20 * MiB, 0,
		  RAM_BASE, 256 * MiB },
		{ "raw at the RAM base", { PAYLOAD_RAW, 0, 4096 }, 4096, 0, RAM_BASE, 64 * MiB },
		{ "raw, 1 MiB RAM", { PAYLOAD_RAW, 0, 4096 }, 4096, 0, RAM_BASE, MiB },
		{ "raw, 1 MiB RAM, initrd", { PAYLOAD_RAW, 0, 4096 }, 4096, 256 * 1024,
		  RAM_BASE, MiB },
		{ "3 MiB RAM", { PAYLOAD_RAW, 0, 4096 }, 4096, 4096, RAM_BASE, 3 * MiB },
		{ "unaligned RAM base", { PAYLOAD_LINUX, 0x80000, 8 * MiB }, 8 * MiB, MiB,
		  RAM_BASE + MiB, 128 * MiB },
		{ "file longer than image_size", { PAYLOAD_LINUX, 0, 4 * MiB }, 10 * MiB, MiB,
		  RAM_BASE, 64 * MiB },
		{ "1022 GiB", { PAYLOAD_LINUX, 0x80000, 64 * MiB }, 40 * MiB, 100 * MiB,
		  RAM_BASE, 1022ULL << 30 },
		/* kernel ends exactly where the device tree's block starts */
		{ "kernel up to the fdt", { PAYLOAD_LINUX, 0, 14 * MiB }, MiB, 0,
		  RAM_BASE, 16 * MiB },
		/* initrd fills the whole gap */
		{ "initrd fills the gap", { PAYLOAD_LINUX, 0, 8 * MiB }, MiB, 6 * MiB,
		  RAM_BASE, 16 * MiB },
		/* the 2 MiB block is taken: the device tree goes to the top 64 KiB */
		{ "kernel into the fdt block", { PAYLOAD_LINUX, 0, 14 * MiB + 1 }, MiB, 0,
		  RAM_BASE, 16 * MiB },
		{ "kernel up to 512 MiB - 64 KiB",
		  { PAYLOAD_LINUX, 0x80000, 512 * MiB - 0x80000 - 0x10000 }, MiB, 0,
		  RAM_BASE, 2ULL << 30 },
		{ "raw, 2 MiB RAM", { PAYLOAD_RAW, 0, 4096 }, 4096, 0, RAM_BASE, 2 * MiB },
	};

	return cr_make_param_array(struct plan_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct plan_case *c, boot_layout, fits)
{
	struct boot_layout bl;

	cr_assert_eq(boot_layout_plan(&bl, &c->pi, c->file_size, c->initrd_size, c->base,
				      c->size), 0, "%s", c->what);
	expect_sane(&bl, &c->pi, c->file_size, c->initrd_size, c->base, c->size);
}

ParameterizedTestParameters(boot_layout, too_big)
{
	static struct plan_case cases[] = {
		{ "kernel larger than RAM", { PAYLOAD_LINUX, 0, 17 * MiB }, MiB, 0,
		  RAM_BASE, 16 * MiB },
		{ "file larger than RAM", { PAYLOAD_RAW, 0, 17 * MiB }, 17 * MiB, 0,
		  RAM_BASE, 16 * MiB },
		{ "kernel into the fdt's 64 KiB", { PAYLOAD_LINUX, 0, 16 * MiB - 0x10000 + 1 },
		  MiB, 0, RAM_BASE, 16 * MiB },
		{ "kernel past 512 MiB", { PAYLOAD_LINUX, 0x80000, 512 * MiB - 0x80000 - 0x10000 + 1 },
		  MiB, 0, RAM_BASE, 2ULL << 30 },
		{ "raw filling 1 MiB RAM", { PAYLOAD_RAW, 0, MiB }, MiB, 0, RAM_BASE, MiB },
		{ "initrd one byte too many", { PAYLOAD_LINUX, 0, 8 * MiB }, MiB, 6 * MiB + 1,
		  RAM_BASE, 16 * MiB },
		/* the memory the kernel needs counts, not just the file */
		{ "initrd over the kernel's bss", { PAYLOAD_LINUX, 0, 8 * MiB }, MiB, 7 * MiB,
		  RAM_BASE, 16 * MiB },
		/* fits by size, but page alignment would move it onto the kernel */
		{ "initrd aligned onto the kernel", { PAYLOAD_LINUX, 0, 8 * MiB + 1 }, MiB,
		  6 * MiB - 1, RAM_BASE, 16 * MiB },
		{ "initrd larger than RAM", { PAYLOAD_RAW, 0, 4096 }, 4096, 1ULL << 40,
		  RAM_BASE, 256 * MiB },
		{ "initrd size wraps", { PAYLOAD_RAW, 0, 4096 }, 4096, UINT64_MAX,
		  RAM_BASE, 256 * MiB },
		{ "image_size wraps", { PAYLOAD_LINUX, 0x80000, UINT64_MAX - 0x100000 }, MiB, 0,
		  RAM_BASE, 256 * MiB },
		{ "RAM smaller than the fdt", { PAYLOAD_RAW, 0, 16 }, 16, 0, RAM_BASE, 0x8000 },
	};

	return cr_make_param_array(struct plan_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct plan_case *c, boot_layout, too_big)
{
	struct boot_layout bl;

	cr_expect_eq(boot_layout_plan(&bl, &c->pi, c->file_size, c->initrd_size, c->base,
				      c->size), -E2BIG, "%s", c->what);
}
