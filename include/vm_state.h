/* vm_state.h - everything a checkpoint holds apart from guest memory.
 *
 * Plain data, no live handles: each component fills its part in its own save
 * function (vcpu_save, gic_save, uart_save, ...) and takes it back in its
 * restore function; the image library (image.h) encodes it field by field as
 * formats/torpor-image.md describes. Nothing here is ever written to a file as
 * a struct. */
#ifndef TORPOR_VM_STATE_H
#define TORPOR_VM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

#define VM_MAX_MEM_REGIONS      4
#define VM_MAX_DEVICES          24
#define VM_MAX_DISKS            8
#define VM_MAX_NICS             4
#define DISK_PATH_MAX           4095    /* bytes of a disk's path */
#define DISK_SERIAL_MAX         20      /* VIRTIO_BLK_ID_BYTES */
#define VM_CMDLINE_MAX          2048
#define VCPU_FEATURE_WORDS      7       /* kvm_vcpu_init.features[] */
#define VCPU_FEATURE_PSCI_0_2   2       /* KVM_ARM_VCPU_PSCI_0_2 */
#define REG_MAX_BYTES           256     /* 2048-bit SVE Z registers */
#define DEV_MAX_FIELDS          48
#define DEV_MAX_BLOB            256

/* Device types; the per-type field ids are listed in the device's header and
 * in formats/torpor-image.md. */
enum dev_type {
	DEV_UART_16550 = 1,
	DEV_RTC_PL031 = 2,
	DEV_GPIO_PL061 = 3,
	DEV_VIRTIO_BLK = 4,
	DEV_VIRTIO_NET = 5,
	DEV_VIRTIO_RNG = 6,
	DEV_VMGENID = 7,
	DEV_VIRTIO_INPUT = 8,
};

/* VM-wide capabilities enabled at creation (bit numbers). */
#define VM_CAP_SYSTEM_SUSPEND   (1u << 0)

struct mem_region_cfg {
	uint64_t guest_addr;
	uint64_t size;
};

struct dev_cfg {
	uint32_t type;          /* enum dev_type */
	uint32_t spi;           /* interrupt line, SPI number (INTID - 32) */
	uint64_t base;
	uint64_t size;
};

/* How the VM was built: enough to rebuild it with no command line. */
struct vm_config {
	uint32_t ncpus;
	uint32_t ipa_bits;
	uint32_t vcpu_target;                           /* KVM_ARM_TARGET_* */
	uint32_t vcpu_features[VCPU_FEATURE_WORDS];     /* KVM_ARM_VCPU_* bits */
	uint32_t caps;                                  /* VM_CAP_* */
	uint32_t gic_version;                           /* 3 */
	uint32_t gic_nr_irqs;
	uint64_t gic_dist_base, gic_dist_size;
	uint64_t gic_redist_base, gic_redist_size;
	uint32_t nmem;
	struct mem_region_cfg mem[VM_MAX_MEM_REGIONS];
	uint32_t ndevs;
	struct dev_cfg devs[VM_MAX_DEVICES];
	char cmdline[VM_CMDLINE_MAX];                   /* informational, NUL-terminated */
};

/* The machine the image was taken on; restore compares, inspect prints. */
struct host_info {
	char kernel_release[65];        /* uname -r */
	char machine[65];               /* uname -m */
	uint64_t midr;                  /* MIDR_EL1 of CPU 0, 0 if unknown */
	uint32_t page_size;
};

/* Counter and wall clock, read together at checkpoint time. */
struct clock_ref {
	uint64_t counter;               /* guest CNTVCT_EL0 */
	uint64_t counter_freq;          /* CNTFRQ_EL0, Hz */
	int64_t realtime_ns;            /* host CLOCK_REALTIME, ns since the epoch */
};

/* The guest's pending PSCI SYSTEM_SUSPEND call, honoured on wakeup. */
struct psci_resume {
	uint32_t vcpu;                  /* index of the calling vCPU */
	uint32_t smc64;                 /* 1: SMC64 function id, 0: SMC32 */
	uint64_t entry;                 /* guest physical entry point */
	uint64_t context_id;            /* x0 at the entry point */
};

/* KVM_GET_VCPU_EVENTS, the fields that carry state. */
struct vcpu_events_state {
	uint8_t serror_pending;
	uint8_t serror_has_esr;
	uint8_t ext_dabt_pending;
	uint64_t serror_esr;
};

/* One vCPU: its registers as a self-describing list from KVM_GET_REG_LIST.
 * reg_data holds the values back to back in reg_ids order, each
 * reg_size(id) bytes, in the byte order KVM gives them (little-endian). */
struct vcpu_state {
	uint64_t mpidr;
	uint32_t mp_state;              /* KVM_MP_STATE_* */
	struct vcpu_events_state events;
	uint32_t nregs;
	uint64_t *reg_ids;              /* heap, nregs entries */
	uint8_t *reg_data;              /* heap, reg_data_len bytes */
	size_t reg_data_len;
};

/* One vGIC register: KVM device attribute group and attribute exactly as
 * passed to KVM_{GET,SET}_DEVICE_ATTR (redistributor and CPU-interface attrs
 * carry the owning vCPU's MPIDR affinity), and its value (32-bit registers
 * use the low half). Self-describing, so nothing depends on nr_irqs. */
struct gic_reg {
	uint32_t group;
	uint64_t attr;
	uint64_t value;
};

struct gic_state {
	uint32_t version;               /* 3 */
	uint32_t nr_irqs;
	uint32_t nregs;
	struct gic_reg *regs;           /* heap, in restore order */
};

/* One device: registers as (field id, value) pairs, plus one byte blob
 * (FIFO contents); ids are per device type. */
struct dev_field {
	uint32_t id;
	uint64_t value;
};

struct dev_state {
	uint32_t type;                  /* enum dev_type */
	uint64_t base;
	uint32_t nfields;
	struct dev_field fields[DEV_MAX_FIELDS];
	uint32_t blob_len;
	uint8_t blob[DEV_MAX_BLOB];
};

/* What a checkpoint knows of a disk (virtio-blk device dev) so that restore
 * can find it again and tell whether it changed since (disk.h). */
struct disk_record {
	uint32_t dev;                   /* index into vm_config.devs */
	uint32_t flags;                 /* DISK_REC_* */
	uint64_t size;                  /* bytes */
	int64_t mtime_sec;              /* the identity: modification time */
	uint32_t mtime_nsec;            /* set by the checkpoint (disk_stamp) */
	char serial[DISK_SERIAL_MAX + 1];       /* NUL-terminated, may be empty */
	char path[DISK_PATH_MAX + 1];           /* NUL-terminated, absolute */
};
#define DISK_REC_READONLY       (1u << 0)
#define DISK_REC_BLOCKDEV       (1u << 1)       /* a block device: size only */

struct vm_state {
	struct vm_config config;
	struct host_info host;
	struct clock_ref clock;
	struct psci_resume resume;
	struct vcpu_state vcpus[TORPOR_MAX_CPUS];      /* config.ncpus used */
	struct gic_state gic;
	uint32_t ndevs;
	struct dev_state devs[VM_MAX_DEVICES];
	uint32_t ndisks;
	struct disk_record disks[VM_MAX_DISKS];
};

/* Size in bytes of a KVM register from its id (KVM_REG_SIZE_MASK bits);
 * 0 if the encoded size exceeds REG_MAX_BYTES. */
size_t reg_size(uint64_t id);

/* Value of register id in v (its low 8 bytes, little-endian); 0 if found,
 * -1 if not. */
int vcpu_reg(const struct vcpu_state *v, uint64_t id, uint64_t *value);

/* Writes the little-endian register value p (sz bytes) into out as "0x"
 * and hex digits, most significant first; out holds 2 * sz + 3 bytes. */
void reg_hex(const uint8_t *p, size_t sz, char *out);

/* Frees the heap parts of st (register lists, GIC registers) and zeroes them;
 * safe on a zeroed or partly filled state. */
void vm_state_free(struct vm_state *st);

/* Appends a field to a device state; -ENOSPC when DEV_MAX_FIELDS are used. */
int dev_state_put(struct dev_state *d, uint32_t id, uint64_t value);

/* Looks up field id; 0 and *value set if present, -ENOENT otherwise. */
int dev_state_get(const struct dev_state *d, uint32_t id, uint64_t *value);

#endif
