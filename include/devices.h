/* devices.h - the device table: everything torpor knows about a device model
 * in one struct dev_ops, defined next to the model in its own file
 * (src/dev/uart.c, rtc.c, gpio.c, vmgenid.c, virtio_blk.c, virtio_net.c,
 * virtio_rng.c, virtio_input.c) and listed once in src/dev/devices.c.
 * Configuration defaults, the VM's bus, the device tree, checkpoint,
 * restore and inspect all go through this table; nothing outside it looks
 * at a device's type. */
#ifndef TORPOR_DEVICES_H
#define TORPOR_DEVICES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "fdt_build.h"
#include "guest_mem.h"
#include "mmio.h"
#include "vm_state.h"

/* What the VM hands a device when it creates it. */
struct dev_env {
	struct irq_line irq;                            /* its SPI */
	void (*console_out)(void *ctx, uint8_t byte);   /* guest console output */
	void (*notify)(void *ctx);      /* a timed event moved: poll() again */
	void *ctx;
	/* For virtio devices and those with a thread of their own: */
	struct guest_mem mem;           /* guest RAM, reached only through it */
	pthread_mutex_t *lock;          /* the bus lock: held around mmio, save,
					 * restore, reset and irq changes */
	void *backend;                  /* dev_ops.backend's host resource:
					 * a struct disk or a struct tap */
	uint8_t *window;                /* dev_ops.memslot: the host mapping of
					 * its window (dflt.size bytes, zeroed) */
};

/* The host resource a device is made for (dev_ops.backend). */
enum dev_backend {
	DEV_BACKEND_NONE,       /* always present: the default machine has it */
	DEV_BACKEND_DISK,       /* one per --disk (struct disk, disk.h) */
	DEV_BACKEND_TAP,        /* one per --net (struct tap, tap.h) */
};

/* How a device can end a guest's sleep on restore (dev_ops.wake). */
enum dev_wake {
	DEV_WAKE_NONE,          /* the guest armed nothing here */
	DEV_WAKE_PRESSED,       /* torpor raised the wake event just now */
	DEV_WAKE_ARMED,         /* armed; it fires by itself or on user input */
};

struct dev_ops {
	uint32_t type;          /* enum dev_type: the image's device type */
	const char *name;       /* "uart-16550": inspect, logs, MMIO bus */
	const char *fdt_name;   /* its device-tree node is fdt_name@base */
	struct dev_cfg dflt;    /* default window and SPI (memmap.h) */
	uint32_t max_blob;      /* bytes of saved blob it may have (0: none) */
	/* enum dev_backend: for a device made once per host resource rather
	 * than always present; it needs dev_env.backend, mem and lock. */
	uint32_t backend;
	/* Set when the window is guest memory of its own, not MMIO (the VM
	 * maps dflt.size bytes there and hands them over as dev_env.window);
	 * mmio is then NULL. */
	uint32_t memslot;

	/* A device at power-on state, wired to env; NULL when out of memory.
	 * destroy() releases it. */
	void *(*create)(const struct dev_env *env);
	void (*destroy)(void *dev);
	/* Back to power-on state, keeping the wiring. */
	void (*reset)(void *dev);
	mmio_fn mmio;
	/* The device's node(s) under the root of the tree being written. */
	int (*fdt_node)(struct fdt_writer *w, const struct dev_cfg *cfg);
	/* Into d: type, base and every field (caller holds the device lock). */
	void (*save)(const void *dev, uint64_t base, struct dev_state *d);
	/* From d, re-driving the interrupt line; -EINVAL (device unchanged)
	 * if d is not a consistent state of this type. */
	int (*restore)(void *dev, const struct dev_state *d);

	/* Optional (NULL when the device has none): */
	/* The guest console's input; returns how many bytes fit. */
	size_t (*console_in)(void *dev, const uint8_t *buf, size_t len);
	/* Milliseconds until the device's next timed event, -1 for none. */
	int (*poll_ms)(void *dev);
	/* Restore's wake-up: press (if allowed and armed) or report; what says
	 * what happened, for the log. */
	enum dev_wake (*wake)(void *dev, int press, char *what, size_t len);
	/* Checkpoint, with the vCPUs paused and the bus lock not held: finish
	 * every request the guest made available, with its used entry in guest
	 * memory, before memory is saved, and touch neither the queues nor
	 * guest memory again until thaw; 0 or a negative errno. */
	int (*quiesce)(void *dev);
	/* The checkpoint is over and the guest goes on (snapshot mode, or a
	 * checkpoint that failed): undo quiesce; does nothing on a device not
	 * quiesced. Bus lock not held. */
	void (*thaw)(void *dev);
	/* Restore, bus lock held, every device restored, before any vCPU runs:
	 * tell the guest it was moved (virtio-net: announce yourself;
	 * vmgenid: a new generation ID and its interrupt, unless
	 * same_generation, which --no-vmgenid asks for). */
	void (*restored)(void *dev, int same_generation);
	/* A key the host presses for a control request (virtio-input:
	 * KEY_POWER, KEY_SLEEP, KEY_WAKEUP from linux/input-event-codes.h): a
	 * press and a release reach the guest. Bus lock held. 0; -EAGAIN when
	 * the guest's driver is not listening (not set up, reset, or asleep);
	 * -EINVAL for a key the device does not have. */
	int (*press)(void *dev, uint16_t key);
};

/* The device models, in their default order. */
extern const struct dev_ops uart_dev_ops, rtc_dev_ops, gpio_dev_ops,
	vmgenid_dev_ops, virtio_blk_dev_ops, virtio_net_dev_ops, virtio_rng_dev_ops,
	virtio_input_dev_ops;

/* The table entry for an image's device type; NULL for an unknown one. */
const struct dev_ops *dev_find(uint32_t type);

/* Entry i of the table (0..dev_count()-1), in default-configuration order. */
unsigned dev_count(void);
const struct dev_ops *dev_at(unsigned i);

/* A device type's name for inspect; "unknown" for an unknown type. */
const char *dev_type_name(uint32_t type);

#endif
