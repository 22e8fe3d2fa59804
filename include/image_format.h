/* image_format.h - the on-disk constants of formats/torpor-image.md: magic,
 * version, structure sizes and field offsets, section types and the reader's
 * limits. The library, the tests (which craft damaged images) and the fuzzer
 * share them; nothing here is a runtime struct. */
#ifndef TORPOR_IMAGE_FORMAT_H
#define TORPOR_IMAGE_FORMAT_H

/* "TORPOR" then the ELF machine number of AArch64 (EM_AARCH64 = 183 = 0xB7)
 * as a little-endian u16: an image for another architecture has another tag. */
#define IMAGE_MAGIC             "TORPOR\xb7\x00"
#define IMAGE_MAGIC_LEN         8
#define IMAGE_END_MAGIC         "ROPROT\xb7\x00"

/* This format version, and the oldest reader it is compatible with. */
#define IMAGE_VERSION_MAJOR     1
#define IMAGE_VERSION_MINOR     0
#define IMAGE_COMPAT_MAJOR      1
#define IMAGE_COMPAT_MINOR      0

/* File header, at offset 0. */
#define IMAGE_HDR_SIZE          48
#define HDR_MAGIC               0
#define HDR_VERSION_MAJOR       8
#define HDR_VERSION_MINOR       10
#define HDR_COMPAT_MAJOR        12
#define HDR_COMPAT_MINOR        14
#define HDR_HEADER_SIZE         16
#define HDR_SECTION_COUNT       20
#define HDR_TABLE_OFFSET        24
#define HDR_FILE_SIZE           32
#define HDR_CHECKSUM            40

/* Section table entry; section_count of them at table_offset. */
#define IMAGE_ENTRY_SIZE        32
#define ENT_TYPE                0
#define ENT_VERSION             2
#define ENT_FLAGS               4
#define ENT_INSTANCE            6
#define ENT_OFFSET              8
#define ENT_LENGTH              16
#define ENT_CHECKSUM            24

/* Trailer: the last bytes of the file, right after the section table. */
#define IMAGE_TRAILER_SIZE      16
#define TRL_TABLE_CHECKSUM      0
#define TRL_MAGIC               8

#define SECTION_FLAG_OPTIONAL   0x0001u
#define SECTION_FLAGS_KNOWN     SECTION_FLAG_OPTIONAL

enum image_section_type {
	SEC_VM_CONFIG = 1,
	SEC_HOST = 2,
	SEC_CLOCK = 3,
	SEC_PSCI_RESUME = 4,
	SEC_VCPU = 5,
	SEC_GIC = 6,
	SEC_DEVICES = 7,
	SEC_MEM_INDEX = 8,
};

/* Fixed part of each section payload (the rest is counted lists). */
#define SEC_VM_CONFIG_FIXED     96
#define SEC_VM_CONFIG_REGION    16
#define SEC_VM_CONFIG_DEV       24
#define SEC_HOST_FIXED          16
#define SEC_CLOCK_SIZE          24
#define SEC_PSCI_RESUME_SIZE    24
#define SEC_VCPU_FIXED          27
#define SEC_GIC_FIXED           12
#define SEC_GIC_REG             20
#define SEC_DEVICES_FIXED       4
#define SEC_DEVICE_FIXED        20
#define SEC_DEVICE_FIELD        12
#define SEC_MEM_INDEX_FIXED     44
#define SEC_MEM_INDEX_CHUNK     32

/* Reader limits: anything larger is refused as corrupt, so a hostile file
 * cannot make the reader allocate more than a bounded amount per item. */
#define IMAGE_MAX_SECTIONS      256
#define IMAGE_MAX_VCPU_REGS     4096
#define IMAGE_MAX_GIC_REGS      16384
#define IMAGE_MAX_CHUNKS        (1u << 22)
#define IMAGE_MAX_GIC_IRQS      1024u
#define IMAGE_MIN_IPA_BITS      32u
#define IMAGE_MAX_IPA_BITS      52u

#endif
