/* virtio_input.c - torpor's buttons, a virtio input device: its
 * configuration space, the event and status queues, presses, and its
 * device-table entry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "le.h"
#include "log.h"
#include "memmap.h"
#include "virtio_input.h"
#include "virtio_mmio.h"

/* --- pure parts -------------------------------------------------------------- */

static const uint16_t keys[] = { KEY_POWER, KEY_SLEEP, KEY_WAKEUP };
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

int vinput_has_key(uint16_t key)
{
	for (unsigned i = 0; i < N_KEYS; i++)
		if (keys[i] == key)
			return 1;
	return 0;
}

static uint32_t put_string(uint8_t out[128], const char *s)
{
	size_t n = strlen(s);

	memcpy(out, s, n);
	return (uint32_t)n;
}

uint32_t vinput_config(uint8_t select, uint8_t subsel, uint8_t out[128])
{
	uint32_t size = 0;

	memset(out, 0, 128);
	switch (select) {
	case VINPUT_CFG_ID_NAME:
		return subsel ? 0 : put_string(out, VINPUT_NAME);
	case VINPUT_CFG_ID_SERIAL:
		return subsel ? 0 : put_string(out, VINPUT_SERIAL);
	case VINPUT_CFG_ID_DEVIDS:
		if (subsel)
			return 0;
		le_put16(out, VINPUT_BUSTYPE);
		le_put16(out + 2, VINPUT_VENDOR);
		le_put16(out + 4, VINPUT_PRODUCT);
		le_put16(out + 6, VINPUT_VERSION);
		return 8;
	case VINPUT_CFG_EV_BITS:
		if (subsel != EV_KEY)
			return 0;       /* EV_SYN is implied; no other type */
		for (unsigned i = 0; i < N_KEYS; i++) {
			out[keys[i] / 8] |= (uint8_t)(1u << (keys[i] % 8));
			if (keys[i] / 8 + 1u > size)
				size = keys[i] / 8 + 1u;
		}
		return size;
	default:                /* no properties, no absolute axes */
		return 0;
	}
}

void vinput_event_put(uint8_t out[VINPUT_EVENT_BYTES], const struct vinput_event *e)
{
	le_put16(out, e->type);
	le_put16(out + 2, e->code);
	le_put32(out + 4, e->value);
}

struct vinput_event vinput_event_get(const uint8_t in[VINPUT_EVENT_BYTES])
{
	return (struct vinput_event){ le_get16(in), le_get16(in + 2), le_get32(in + 4) };
}

/* --- the device ---------------------------------------------------------------
 *
 * Everything is guarded by the bus lock: the transport calls notify and
 * reset with it held, and dev_ops.press, save and restore are called so. */
struct vinput {
	struct virtio_mmio t;
	uint8_t select, subsel;
	/* Events the eventq had no buffer for, oldest at ring[first]. */
	struct vinput_event ring[VINPUT_PENDING];
	unsigned first, count;
	uint64_t faults;
	struct vq_chain chain;
};

enum { EVENTQ, STATUSQ };

_Static_assert(VINPUT_F_SELECT == VIRTIO_F_DEVICE, "device fields follow the transport's");

static int live(const struct vinput *v)
{
	return (v->t.status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(v->t.status & VIRTIO_STATUS_NEEDS_RESET);
}

static void malformed(struct vinput *v, const char *queue, enum vq_fault f)
{
	if (!v->faults++)
		log_info("virtio-input: the driver's %s is malformed (%s): the device "
			 "needs a reset", queue, vq_fault_name(f));
	virtio_mmio_needs_reset(&v->t);
}

/* The next chain of q into v->chain: 1, 0 when there is none (the driver
 * asked to notify the next), -1 when q is malformed (the device then needs
 * a reset). */
static int next_chain(struct vinput *v, struct vq *q, const char *name)
{
	for (;;) {
		enum vq_fault fault = VQ_OK;
		int ret = vq_pop(q, &v->t.mem, &v->chain, &fault);

		if (ret < 0) {
			malformed(v, name, fault);
			return -1;
		}
		if (ret > 0)
			return 1;
		vq_enable_notify(q, &v->t.mem);
		if (vq_pending(q, &v->t.mem) <= 0)
			return 0;
	}
}

/* Moves waiting events into the eventq's buffers, one event each. A buffer
 * too small for an event is given back empty. */
static void deliver(struct vinput *v)
{
	struct vq *q = &v->t.q[EVENTQ];
	int pushed = 0;

	while (live(v) && q->ready && v->count) {
		uint8_t wire[VINPUT_EVENT_BYTES];
		int ret = next_chain(v, q, "event queue");
		uint32_t n = 0;

		if (ret < 0)
			return;
		if (ret == 0)
			break;
		if (v->chain.in_bytes >= VINPUT_EVENT_BYTES) {
			vinput_event_put(wire, &v->ring[v->first]);
			n = vq_chain_write(&v->chain, wire, sizeof(wire));
			v->first = (v->first + 1) % VINPUT_PENDING;
			v->count--;
		}
		if (vq_push(q, &v->t.mem, v->chain.head, n) < 0) {
			malformed(v, "event queue", VQ_BAD_RING);
			return;
		}
		pushed = 1;
	}
	if (pushed && vq_need_interrupt(q, &v->t.mem))
		virtio_mmio_signal(&v->t, VIRTIO_INT_USED);
}

/* The driver's LED and repeat settings: nothing to show them on. Every
 * chain is returned at once. */
static void drain_status(struct vinput *v)
{
	struct vq *q = &v->t.q[STATUSQ];
	int pushed = 0;

	/* At most a queue's worth a call: a driver that keeps adding chains
	 * from another vCPU must not hold the bus lock for ever. */
	for (unsigned budget = q->size; budget && live(v) && q->ready; budget--) {
		int ret = next_chain(v, q, "status queue");

		if (ret < 0)
			return;
		if (ret == 0)
			break;
		if (vq_push(q, &v->t.mem, v->chain.head, 0) < 0) {
			malformed(v, "status queue", VQ_BAD_RING);
			return;
		}
		pushed = 1;
	}
	if (pushed && vq_need_interrupt(q, &v->t.mem))
		virtio_mmio_signal(&v->t, VIRTIO_INT_USED);
}

static void vinput_notify(void *dev, unsigned q)
{
	if (q == EVENTQ)
		deliver(dev);
	else
		drain_status(dev);
}

/* A reset takes the driver's buffers back: waiting events go with them. */
static void vinput_stop(void *dev)
{
	struct vinput *v = dev;

	v->first = v->count = 0;
}

static void vinput_driver_ok(void *dev)
{
	deliver(dev);
	drain_status(dev);
}

static void config_bytes(const struct vinput *v, uint8_t out[VINPUT_CONFIG_LEN])
{
	memset(out, 0, VINPUT_CONFIG_LEN);
	out[0] = v->select;
	out[1] = v->subsel;
	out[2] = (uint8_t)vinput_config(v->select, v->subsel, out + 8);
}

/* The transport checked off + len <= VINPUT_CONFIG_LEN. */
static void vinput_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	uint8_t cfg[VINPUT_CONFIG_LEN];

	config_bytes(dev, cfg);
	memcpy(data, cfg + off, len);
}

/* Only select and subsel are the driver's to write. */
static void vinput_config_write(void *dev, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct vinput *v = dev;

	for (uint32_t i = 0; i < len; i++) {
		if (off + i == 0)
			v->select = data[i];
		else if (off + i == 1)
			v->subsel = data[i];
	}
}

static const struct virtio_dev_ops vinput_vops = {
	.device_id = VIRTIO_ID_INPUT, .nqueues = 2, .queue_max = VINPUT_QUEUE_MAX,
	.config_len = VINPUT_CONFIG_LEN,
	.config_read = vinput_config_read, .config_write = vinput_config_write,
	.notify = vinput_notify, .reset = vinput_stop, .driver_ok = vinput_driver_ok,
};

/* Queues one event; -ENOSPC when the ring is full. */
static int enqueue(struct vinput *v, uint16_t type, uint16_t code, uint32_t value)
{
	if (v->count == VINPUT_PENDING)
		return -ENOSPC;
	v->ring[(v->first + v->count++) % VINPUT_PENDING] =
		(struct vinput_event){ type, code, value };
	return 0;
}

/* A press and a release, each with its EV_SYN: the whole of it or nothing. */
static int vinput_press(void *dev, uint16_t key)
{
	struct vinput *v = dev;

	if (!vinput_has_key(key))
		return -EINVAL;
	if (!live(v) || !v->t.q[EVENTQ].ready)
		return -EAGAIN;
	if (v->count + 4 > VINPUT_PENDING)
		return -ENOSPC;
	enqueue(v, EV_KEY, key, 1);
	enqueue(v, EV_SYN, 0, 0);
	enqueue(v, EV_KEY, key, 0);
	enqueue(v, EV_SYN, 0, 0);
	deliver(v);
	return live(v) ? 0 : -EAGAIN;  /* a queue found malformed: no press */
}

static void *vinput_create(const struct dev_env *env)
{
	struct vinput *v = calloc(1, sizeof(*v));

	if (v)
		virtio_mmio_init(&v->t, &vinput_vops, v, env->mem, env->irq);
	return v;
}

static void vinput_reset(void *dev)
{
	struct vinput *v = dev;

	vinput_stop(v);
	v->select = v->subsel = 0;
	virtio_mmio_reset(&v->t);
}

static void vinput_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
			int is_write)
{
	struct vinput *v = opaque;

	virtio_mmio_access(&v->t, offset, data, len, is_write);
}

static void vinput_save(const void *dev, uint64_t base, struct dev_state *d)
{
	const struct vinput *v = dev;

	memset(d, 0, sizeof(*d));
	d->type = DEV_VIRTIO_INPUT;
	d->base = base;
	/* The transport's 25 fields and these 3 fit DEV_MAX_FIELDS. */
	virtio_mmio_save(&v->t, d);
	dev_state_put(d, VINPUT_F_SELECT, v->select);
	dev_state_put(d, VINPUT_F_SUBSEL, v->subsel);
	dev_state_put(d, VINPUT_F_PENDING, v->count);
	for (unsigned i = 0; i < v->count; i++)
		vinput_event_put(d->blob + VINPUT_EVENT_BYTES * i,
				 &v->ring[(v->first + i) % VINPUT_PENDING]);
	d->blob_len = VINPUT_EVENT_BYTES * v->count;
}

_Static_assert(VINPUT_PENDING * VINPUT_EVENT_BYTES == DEV_MAX_BLOB,
	       "waiting events fill a device's blob, no more");

static int vinput_restore(void *dev, const struct dev_state *d)
{
	struct vinput *v = dev;
	uint64_t sel, sub, n;

	/* blob_len <= DEV_MAX_BLOB bounds the count to the ring's size. */
	if (d->type != DEV_VIRTIO_INPUT ||
	    dev_state_get(d, VINPUT_F_SELECT, &sel) || sel > 0xff ||
	    dev_state_get(d, VINPUT_F_SUBSEL, &sub) || sub > 0xff ||
	    dev_state_get(d, VINPUT_F_PENDING, &n) || d->blob_len > DEV_MAX_BLOB ||
	    d->blob_len != n * VINPUT_EVENT_BYTES || virtio_mmio_restore(&v->t, d))
		return -EINVAL;
	v->select = (uint8_t)sel;
	v->subsel = (uint8_t)sub;
	v->first = 0;
	v->count = (unsigned)n;
	for (unsigned i = 0; i < v->count; i++)
		v->ring[i] = vinput_event_get(d->blob + VINPUT_EVENT_BYTES * i);
	/* Events wait only while the eventq has no buffer: the driver's next
	 * notification delivers them. */
	return 0;
}

const struct dev_ops virtio_input_dev_ops = {
	.type = DEV_VIRTIO_INPUT,
	.name = "virtio-input",
	.fdt_name = "virtio_mmio",
	.dflt = { DEV_VIRTIO_INPUT, VIRTIO_SPI_BASE + VIRTIO_INPUT_SLOT,
		  VIRTIO_MMIO_BASE + VIRTIO_INPUT_SLOT * VIRTIO_MMIO_STRIDE,
		  VIRTIO_MMIO_STRIDE },
	.max_blob = VINPUT_PENDING * VINPUT_EVENT_BYTES,
	.backend = DEV_BACKEND_NONE,
	.create = vinput_create,
	.destroy = free,
	.reset = vinput_reset,
	.mmio = vinput_mmio,
	.fdt_node = virtio_mmio_fdt,
	.save = vinput_save,
	.restore = vinput_restore,
	.press = vinput_press,
};
