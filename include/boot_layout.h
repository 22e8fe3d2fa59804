/* boot_layout.h - recognising the guest payload (an arm64 Linux Image or a
 * raw bare-metal binary) and placing it, the initrd and the device tree in
 * guest RAM. Pure computation; the caller copies the bytes. */
#ifndef TORPOR_BOOT_LAYOUT_H
#define TORPOR_BOOT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_MAGIC       0x644d5241u     /* "ARM\x64" at offset 56 */
#define ARM64_IMAGE_HDR_SIZE    64
#define ARM64_IMAGE_FLAG_BE     1u              /* header flags, bit 0 */
#define FDT_MAX_SIZE            0x10000

enum payload_kind {
	PAYLOAD_LINUX,          /* arm64 Image, Documentation/arm64/booting.rst */
	PAYLOAD_RAW,            /* bare-metal binary, entered at RAM_BASE */
};

struct payload_info {
	enum payload_kind kind;
	uint64_t text_offset;   /* load offset from the 2 MiB-aligned RAM base */
	uint64_t image_size;    /* bytes the kernel needs from its load address */
};

/* Classifies a payload from its first len bytes and its name: an arm64 Image
 * by header magic, else a raw binary if name ends in ".bin". -EINVAL when it
 * is neither or the header is inconsistent; -ENOEXEC for a big-endian Image;
 * -ENODATA for an empty file. */
int payload_probe(const void *buf, size_t len, const char *name,
		  struct payload_info *pi);

struct boot_layout {
	uint64_t kernel_addr;           /* entry point and load address */
	uint64_t initrd_addr, initrd_size;
	uint64_t fdt_addr;
};

/* Places a payload of file_size bytes, an initrd and the device tree in RAM
 * [ram_base, ram_base + ram_size). -E2BIG when they do not fit. */
int boot_layout_plan(struct boot_layout *bl, const struct payload_info *pi,
		     uint64_t file_size, uint64_t initrd_size,
		     uint64_t ram_base, uint64_t ram_size);

#endif
