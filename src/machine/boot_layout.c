/* boot_layout.c - arm64 Image header check and guest RAM placement. */
#include <errno.h>
#include <string.h>

#include "boot_layout.h"
#include "le.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int payload_probe(const void *buf, size_t len, const char *name,
		  struct payload_info *pi)
{
	const uint8_t *h = buf;

	memset(pi, 0, sizeof(*pi));
	if (len == 0)
		return -ENODATA;
	if (len >= ARM64_IMAGE_HDR_SIZE && le_get32(h + 56) == ARM64_IMAGE_MAGIC) {
		/* flags bit 0: the kernel is big-endian; KVM guests here run
		 * little-endian and such a kernel would die silently. */
		if (le_get64(h + 24) & ARM64_IMAGE_FLAG_BE)
			return -ENOEXEC;
		pi->kind = PAYLOAD_LINUX;
		pi->image_size = le_get64(h + 16);
		pi->text_offset = le_get64(h + 8);
		/* image_size 0: a pre-3.17 kernel, whose text_offset is 0x80000. */
		if (pi->image_size == 0) {
			pi->text_offset = 0x80000;
			pi->image_size = len;
		}
		if (pi->image_size < len || pi->text_offset >= (2u << 20) ||
		    pi->text_offset % 4096 || pi->image_size > (1ULL << 34))
			return -EINVAL;
		return 0;
	}
	if (name && ends_with(name, ".bin")) {
		pi->kind = PAYLOAD_RAW;
		pi->image_size = len;
		return 0;
	}
	return -EINVAL;
}

#define SZ_2M   (2ULL << 20)
#define ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

int boot_layout_plan(struct boot_layout *bl, const struct payload_info *pi,
		     uint64_t file_size, uint64_t initrd_size,
		     uint64_t ram_base, uint64_t ram_size)
{
	uint64_t kernel_end, top, fdt, initrd;

	memset(bl, 0, sizeof(*bl));
	bl->kernel_addr = ALIGN_UP(ram_base, SZ_2M) + pi->text_offset;
	kernel_end = bl->kernel_addr +
		     (pi->image_size > file_size ? pi->image_size : file_size);
	if (kernel_end < bl->kernel_addr || kernel_end > ram_base + ram_size)
		return -E2BIG;
	/* Device tree and initrd go high but within the first 512 MiB, where
	 * early boot code of every arm64 kernel can reach them. The device tree
	 * gets its own 2 MiB block when one is free above the kernel (the kernel
	 * maps it with blocks that size); in smaller RAM, the top page-aligned
	 * 64 KiB, which is normal memory all the same. */
	top = ram_base + (ram_size < (512ULL << 20) ? ram_size : (512ULL << 20));
	fdt = ALIGN_DOWN(top - FDT_MAX_SIZE, SZ_2M);
	if (top - ram_base < SZ_2M || fdt < kernel_end)
		fdt = ALIGN_DOWN(top - FDT_MAX_SIZE, 4096);
	if (fdt < kernel_end)
		return -E2BIG;
	bl->fdt_addr = fdt;
	if (initrd_size) {
		if (initrd_size > fdt - kernel_end)
			return -E2BIG;
		initrd = ALIGN_DOWN(fdt - initrd_size, 4096);
		if (initrd < kernel_end)
			return -E2BIG;
		bl->initrd_addr = initrd;
		bl->initrd_size = initrd_size;
	}
	return 0;
}
