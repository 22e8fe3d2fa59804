/* virtio_mmio.h - the virtio-mmio transport, version 2 (VIRTIO 1.2 section
 * 4.2.2), for modern devices only: its registers, feature negotiation,
 * the queues' configuration, the interrupt status and the device status,
 * reset, and its part of the saved state. A device model (virtio_blk.c)
 * supplies the device type, its features, its configuration space and what
 * a queue notification does.
 *
 * Locking: the transport is only touched with the bus lock held (the lock
 * vm/ holds around MMIO, save and restore): MMIO handlers, and a device's
 * own thread when it signals. Queue configuration is frozen from DRIVER_OK
 * until reset, so a device thread may use t->q[] under its own lock. */
#ifndef TORPOR_VIRTIO_MMIO_H
#define TORPOR_VIRTIO_MMIO_H

#include <stdint.h>

#include "fdt_build.h"
#include "guest_mem.h"
#include "mmio.h"
#include "virtqueue.h"
#include "vm_state.h"

#define VIRTIO_MMIO_SIZE        0x200   /* register window */
#define VIRTIO_MMIO_MAX_QUEUES  4
/* VendorID: "TRPR" as a little-endian word, torpor's own (not a PCI-SIG
 * or QEMU id). */
#define VIRTIO_MMIO_VENDOR_ID   0x52505254

/* Device status bits (VIRTIO 1.2 section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE       1
#define VIRTIO_STATUS_DRIVER            2
#define VIRTIO_STATUS_DRIVER_OK         4
#define VIRTIO_STATUS_FEATURES_OK       8
#define VIRTIO_STATUS_NEEDS_RESET       64
#define VIRTIO_STATUS_FAILED            128

/* InterruptStatus bits. */
#define VIRTIO_INT_USED         1       /* used buffer notification */
#define VIRTIO_INT_CONFIG       2       /* configuration change */

/* Transport feature bits the transport itself offers on every device. */
#define VIRTIO_F_INDIRECT_DESC  28
#define VIRTIO_F_EVENT_IDX      29
#define VIRTIO_F_VERSION_1      32

/* What a device model gives the transport. config_read and config_write
 * may be NULL (reads 0, writes ignored); the rest are required. */
struct virtio_dev_ops {
	uint32_t device_id;             /* VIRTIO_ID_*, e.g. 2 for block */
	unsigned nqueues;               /* 1..VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_max;             /* QueueNumMax, a power of 2 <= VQ_MAX_SIZE */
	uint32_t config_len;            /* bytes of device configuration space */
	uint64_t features;              /* device-specific feature bits offered */
	/* Configuration space access, off + len <= config_len (checked). */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data,
			     uint32_t len);
	/* The driver notified queue q (ready, and the device is DRIVER_OK). */
	void (*notify)(void *dev, unsigned q);
	/* Stop touching the queues and guest memory before returning: the
	 * transport is being reset. Must not wait for anything that needs the
	 * bus lock. */
	void (*reset)(void *dev);
	/* The driver set DRIVER_OK: the queues may be served. */
	void (*driver_ok)(void *dev);
};

/* The live transport of one device. */
struct virtio_mmio {
	const struct virtio_dev_ops *ops;
	void *dev;
	struct guest_mem mem;
	struct irq_line irq;
	uint32_t status;
	uint64_t driver_features;       /* what the driver accepted */
	uint32_t dev_features_sel, drv_features_sel;
	uint32_t queue_sel;             /* QueueSel; VIRTIO_MMIO_MAX_QUEUES
					 * stands for every larger index */
	uint32_t isr;                   /* InterruptStatus; the line is high while != 0 */
	uint32_t config_gen;            /* ConfigGeneration */
	struct vq q[VIRTIO_MMIO_MAX_QUEUES];
};

/* Saved-state field ids of the transport (formats/torpor-image.md,
 * Appendix A, "virtio-mmio transport"); queue i's fields are
 * VIRTIO_F_QUEUE(i) + VIRTIO_FQ_*. Device models number theirs from
 * VIRTIO_F_DEVICE. */
enum virtio_field {
	VIRTIO_F_STATUS = 1, VIRTIO_F_DRIVER_FEATURES, VIRTIO_F_DEV_FEATURES_SEL,
	VIRTIO_F_DRV_FEATURES_SEL, VIRTIO_F_QUEUE_SEL, VIRTIO_F_ISR,
	VIRTIO_F_CONFIG_GEN,
};
enum virtio_queue_field {
	VIRTIO_FQ_SIZE = 0, VIRTIO_FQ_READY, VIRTIO_FQ_DESC, VIRTIO_FQ_AVAIL,
	VIRTIO_FQ_USED, VIRTIO_FQ_LAST_AVAIL, VIRTIO_FQ_USED_IDX,
	VIRTIO_FQ_SIGNALLED_USED, VIRTIO_FQ_SIGNALLED_VALID,
	VIRTIO_FQ_COUNT,
};
#define VIRTIO_F_QUEUE(i)       (0x100u + 0x10u * (i))
#define VIRTIO_F_DEVICE         0x1000u

/* A transport at reset state for device dev with ops, over guest memory mem,
 * signalling on irq. */
void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops,
		      void *dev, struct guest_mem mem, struct irq_line irq);

/* The MMIO handler (mmio_fn; opaque is the struct virtio_mmio): 32-bit
 * registers (other widths read as 0 and are ignored on write), the
 * configuration space from 0x100 at any width. Status bits only accumulate
 * in the spec's order (other writes but 0 are ignored); a QueueNum the
 * device cannot take, or a QueueReady whose rings fail vq_check, sets
 * NEEDS_RESET; while it is set, notifications are not passed on. */
void virtio_mmio_access(struct virtio_mmio *t, uint64_t offset, uint8_t *data,
			uint32_t len, int is_write);

/* Back to reset state (status 0), after ops->reset; the wiring stays. */
void virtio_mmio_reset(struct virtio_mmio *t);

/* Sets InterruptStatus bits (VIRTIO_INT_*) and raises the line. */
void virtio_mmio_signal(struct virtio_mmio *t, uint32_t bits);

/* The device found the driver's queues malformed: DEVICE_NEEDS_RESET, and a
 * configuration change interrupt if the driver is running. */
void virtio_mmio_needs_reset(struct virtio_mmio *t);

/* Configuration space changed (a resize): ConfigGeneration moves on and the
 * driver is told. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

/* Whether the driver negotiated feature bit (0..63). */
int virtio_mmio_has(const struct virtio_mmio *t, unsigned bit);

/* Appends the transport's fields to d, queues 0..ops->nqueues-1 only (the
 * device's type and base are the caller's). -ENOSPC if d is full. */
int virtio_mmio_save(const struct virtio_mmio *t, struct dev_state *d);

/* Loads the transport's fields from d: every field present, status a state
 * the driver could have reached, features offered, queues consistent and
 * inside guest RAM, queues beyond ops->nqueues absent or all zero;
 * re-drives the line. -EINVAL (t unchanged, line untouched) otherwise. */
int virtio_mmio_restore(struct virtio_mmio *t, const struct dev_state *d);

/* The device-tree node of a virtio-mmio device at window d. */
int virtio_mmio_fdt(struct fdt_writer *w, const struct dev_cfg *d);

#endif
