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

/* This format version: what the writer writes and the newest compat the
 * reader takes. */
#define IMAGE_VERSION_MAJOR     1
#define IMAGE_VERSION_MINOR     4
/* The oldest reader an image is compatible with: 1.0 for one a 1.0 reader
 * reads correctly (no virtio-blk device, at most IMAGE_1_0_MAX_DEVICES
 * devices), 1.1 for one a 1.1 reader does (device types up to
 * IMAGE_1_1_DEV_TYPE_MAX, at most IMAGE_1_1_MAX_DEVICES), 1.2 for any
 * other with device types up to IMAGE_1_2_DEV_TYPE_MAX, 1.4 for one with
 * a newer type (virtio-input): each older reader would call it corrupt.
 * 1.3's prefetch order needs no newer compat: it is optional, and a 1.2
 * reader skips it. */
#define IMAGE_COMPAT_MAJOR      1
#define IMAGE_COMPAT_MINOR      0
#define IMAGE_COMPAT_MINOR_1_1  1
#define IMAGE_COMPAT_MINOR_1_2  2
#define IMAGE_COMPAT_MINOR_1_4  4
#define IMAGE_1_0_MAX_DEVICES   8
#define IMAGE_1_1_MAX_DEVICES   16
#define IMAGE_1_1_DEV_TYPE_MAX  4
#define IMAGE_1_2_DEV_TYPE_MAX  7

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
	SEC_DISKS = 9,
	SEC_PREFETCH = 10,              /* optional: the chunks to decode first */
	SEC_TYPE_LAST = SEC_PREFETCH,   /* the highest type this reader knows */
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
#define SEC_DISKS_FIXED         4
#define SEC_DISK_FIXED          32
#define SEC_PREFETCH_FIXED      8
#define SEC_PREFETCH_CHUNK      4

/* Field offsets inside each section payload, one group per structure of
 * formats/torpor-image.md (the codecs _Static_assert that each group ends at
 * its structure's size). Lists follow the fixed part: the offset of element i
 * is the list's start plus the sizes of the elements before it. */
#define CFG_NCPUS               0       /* VM configuration */
#define CFG_IPA_BITS            4
#define CFG_VCPU_TARGET         8
#define CFG_VCPU_FEATURES       12      /* VCPU_FEATURE_WORDS u32 words */
#define CFG_CAPS                40
#define CFG_GIC_VERSION         44
#define CFG_GIC_NR_IRQS         48
#define CFG_NMEM                52
#define CFG_GIC_DIST_BASE       56
#define CFG_GIC_DIST_SIZE       64
#define CFG_GIC_REDIST_BASE     72
#define CFG_GIC_REDIST_SIZE     80
#define CFG_NDEVS               88
#define CFG_CMDLINE_LEN         92
#define RGN_GUEST_ADDR          0       /* RAM region, SEC_VM_CONFIG_REGION bytes */
#define RGN_SIZE                8
#define CDEV_TYPE               0       /* configured device, SEC_VM_CONFIG_DEV bytes */
#define CDEV_SPI                4
#define CDEV_BASE               8
#define CDEV_SIZE               16
#define HST_MIDR                0       /* host fingerprint */
#define HST_PAGE_SIZE           8
#define HST_KREL_LEN            12
#define HST_MACHINE_LEN         14
#define CLK_COUNTER             0       /* clock reference */
#define CLK_FREQ                8
#define CLK_REALTIME_NS         16
#define RSM_VCPU                0       /* PSCI resume request */
#define RSM_SMC64               4
#define RSM_ENTRY               8
#define RSM_CONTEXT_ID          16
#define VCPU_MPIDR              0       /* vCPU */
#define VCPU_SERROR_ESR         8
#define VCPU_MP_STATE           16
#define VCPU_NREGS              20
#define VCPU_SERROR_PENDING     24
#define VCPU_SERROR_HAS_ESR     25
#define VCPU_EXT_DABT_PENDING   26
#define VREG_ID                 0       /* vCPU register: id, then its value */
#define VREG_VALUE              8
#define GICS_VERSION            0       /* vGIC */
#define GICS_NR_IRQS            4
#define GICS_NREGS              8
#define GREG_GROUP              0       /* vGIC register, SEC_GIC_REG bytes */
#define GREG_ATTR               4
#define GREG_VALUE              12
#define DEVS_NDEVS              0       /* devices */
#define DST_TYPE                0       /* device state */
#define DST_BASE                4
#define DST_NFIELDS             12
#define DST_BLOB_LEN            16
#define DFLD_ID                 0       /* device field, SEC_DEVICE_FIELD bytes */
#define DFLD_VALUE              4
#define MIX_GUEST_ADDR          0       /* memory index */
#define MIX_SIZE                8
#define MIX_ZERO_PAGES          16
#define MIX_UNTOUCHED_PAGES     24
#define MIX_PAGE_SIZE           32
#define MIX_CHUNK_PAGES         36
#define MIX_NCHUNKS             40
#define CHK_OFFSET              0       /* memory index chunk, SEC_MEM_INDEX_CHUNK bytes */
#define CHK_LENGTH              8
#define CHK_CHECKSUM            16
#define CHK_PAGES               24
#define CHK_STORED_PAGES        28
#define DSKS_NDISKS             0       /* disks */
#define DSK_DEV                 0       /* disk record: fixed part, then serial and path */
#define DSK_FLAGS               4
#define DSK_SIZE                8
#define DSK_MTIME_SEC           16
#define DSK_MTIME_NSEC          24
#define DSK_SERIAL_LEN          28
#define DSK_PATH_LEN            30
#define PFO_COUNT               0       /* prefetch order: then count u32 chunk numbers */
#define PFO_FLAGS               4

/* Memory chunk record (formats/torpor-image-memory.md): a 16-byte header,
 * the page bitmap, then one zstd frame. */
#define REC_MAGIC               0x434d5054u     /* "TPMC" */
#define REC_HEADER              16u
#define RECH_MAGIC              0
#define RECH_CHUNK              4
#define RECH_PAGES              8
#define RECH_STORED_PAGES       12
#define RECH_BITMAP             16

/* The largest zstd frame a record may hold for n content bytes (n at most
 * 16 MiB): libzstd 1.5's ZSTD_COMPRESSBOUND, written out so that the format
 * does not move with the library. */
#define IMAGE_FRAME_BOUND(n)    ((uint64_t)(n) + ((uint64_t)(n) >> 8) + \
				 ((uint64_t)(n) < (128u << 10) ? ((128u << 10) - (uint64_t)(n)) >> 11 : 0))

/* Values format 1.3 defines (formats/torpor-image.md); a reader refuses any
 * other value of these fields. */
#define IMAGE_CAPS_KNOWN        0x1u            /* bit 0: KVM_CAP_ARM_SYSTEM_SUSPEND */
#define IMAGE_FEATURES0_KNOWN   (1u << 2)       /* word 0: KVM_ARM_VCPU_PSCI_0_2 */
#define IMAGE_MP_RUNNABLE       0u              /* KVM_MP_STATE_* of a vCPU */
#define IMAGE_MP_STOPPED        5u
#define IMAGE_MP_SUSPENDED      10u
#define IMAGE_GIC_DIST_REGS     1u              /* KVM_DEV_ARM_VGIC_GRP_*, 32-bit */
#define IMAGE_GIC_REDIST_REGS   5u              /* 32-bit */
#define IMAGE_GIC_CPU_SYSREGS   6u              /* 64-bit */
#define IMAGE_GIC_LEVEL_INFO    7u              /* 32-bit */
#define IMAGE_GIC_AFF_SHIFT     32              /* attr bits 63..32: a vCPU's affinity */
#define IMAGE_GIC_SPI_BASE      32u             /* INTID of SPI 0 */
#define IMAGE_REG_ARCH_MASK     0xff00000000000000ULL   /* KVM_REG_ARCH_MASK */
#define IMAGE_REG_ARM64         0x6000000000000000ULL   /* KVM_REG_ARM64 */
#define IMAGE_DEV_TYPE_MAX      8u              /* device types are 1 .. this */
#define IMAGE_DEV_VIRTIO_NET    5u              /* its blob: the tap's name */
#define IMAGE_DEV_VMGENID       7u              /* fields 1, 2: the generation ID */
#define IMAGE_DEV_VIRTIO_INPUT  8u              /* its blob: events waiting */
#define IMAGE_INPUT_BLOB_MAX    256u            /* 32 events of 8 bytes */
#define IMAGE_NET_BLOB_MAX      15u             /* a tap name, IFNAMSIZ - 1 bytes */
#define IMAGE_MAX_NICS          4u              /* virtio-net devices per VM */
#define IMAGE_VMGENID_SIZE      0x10000u        /* a generation ID's window */
#define IMAGE_DISK_FLAGS_KNOWN  0x3u            /* bit 0 read-only, bit 1 block device */
#define IMAGE_DISK_SECTOR       512u            /* a disk's size is a multiple of it */
#define IMAGE_NSEC_PER_SEC      1000000000u     /* mtime_nsec is below it */
#define IMAGE_UART_BLOB_MAX     256u            /* the UART's blob: its FIFOs */
#define REG_ID_PC       0x6030000000100040ULL   /* KVM_REG_ARM_CORE regs.pc */
#define REG_ID_PSTATE   0x6030000000100042ULL   /* KVM_REG_ARM_CORE regs.pstate */

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
