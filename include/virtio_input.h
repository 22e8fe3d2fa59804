/* virtio_input.h - torpor's buttons: a virtio input device (VIRTIO 1.2
 * section 5.8) over the virtio-mmio transport with three keys, KEY_POWER,
 * KEY_SLEEP and KEY_WAKEUP, which the host presses for a control request
 * (`torpor ctl … hibernate` presses the sleep key). Linux's virtio_input
 * driver makes it an evdev device named "torpor buttons", which
 * systemd-logind (HandleSuspendKey, HandlePowerKey) or any reader of
 * /dev/input acts on. KEY_WAKEUP is in the device's key set, but a press
 * of it is no wake-up: Linux does not arm a virtio-input interrupt for
 * wakeup, so a suspended guest is woken by the gpio-keys button or the PSCI
 * resume (restore.c), never by this device.
 *
 * The device has no thread: a press and the driver's notifications both run
 * with the bus lock held. Events the eventq has no buffers for wait in a
 * ring of VINPUT_PENDING, saved with the device (formats/torpor-image.md,
 * Appendix "virtio-input"). */
#ifndef TORPOR_VIRTIO_INPUT_H
#define TORPOR_VIRTIO_INPUT_H

#include <stdint.h>

#include <linux/input-event-codes.h>      /* EV_KEY, KEY_POWER... */

#define VIRTIO_ID_INPUT         18
#define VINPUT_QUEUE_MAX        64      /* Linux posts 64 event buffers */
#define VINPUT_PENDING          32      /* events waiting for buffers: 8 presses */
#define VINPUT_EVENT_BYTES      8       /* struct virtio_input_event */
#define VINPUT_CONFIG_LEN       136     /* select, subsel, size, 5 reserved, u[128] */
#define VINPUT_NAME             "torpor buttons"
#define VINPUT_SERIAL           "torpor-0"
/* ID_DEVIDS: BUS_VIRTUAL; vendor "TR", product 1, version 1 (torpor's own). */
#define VINPUT_BUSTYPE          0x06
#define VINPUT_VENDOR           0x5254
#define VINPUT_PRODUCT          0x0001
#define VINPUT_VERSION          0x0001

/* Configuration selects (VIRTIO 1.2 section 5.8.2). */
enum vinput_cfg_select {
	VINPUT_CFG_UNSET = 0x00,
	VINPUT_CFG_ID_NAME = 0x01,
	VINPUT_CFG_ID_SERIAL = 0x02,
	VINPUT_CFG_ID_DEVIDS = 0x03,
	VINPUT_CFG_PROP_BITS = 0x10,
	VINPUT_CFG_EV_BITS = 0x11,
	VINPUT_CFG_ABS_INFO = 0x12,
};

/* Saved-state field ids, after the transport's (virtio_mmio.h). */
enum vinput_field {
	VINPUT_F_SELECT = 0x1000,       /* VIRTIO_F_DEVICE */
	VINPUT_F_SUBSEL,
	VINPUT_F_PENDING,               /* events in the blob, 8 bytes each */
};

struct vinput_event {
	uint16_t type, code;
	uint32_t value;
};

/* The union of the configuration space for select/subsel, in out (128
 * bytes, zeroed beyond what is answered); its size field. Pure. */
uint32_t vinput_config(uint8_t select, uint8_t subsel, uint8_t out[128]);

/* Whether key is one of the device's (KEY_POWER, KEY_SLEEP, KEY_WAKEUP). */
int vinput_has_key(uint16_t key);

/* e in the eventq's wire layout (le16 type, le16 code, le32 value); back. */
void vinput_event_put(uint8_t out[VINPUT_EVENT_BYTES], const struct vinput_event *e);
struct vinput_event vinput_event_get(const uint8_t in[VINPUT_EVENT_BYTES]);

#endif
