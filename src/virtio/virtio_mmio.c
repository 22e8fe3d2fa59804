/* virtio_mmio.c - the virtio-mmio transport, version 2 (VIRTIO 1.2 section
 * 4.2.2). */
#include <errno.h>
#include <string.h>

#include "virtio_mmio.h"

enum {
	REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c, REG_DEV_FEATURES = 0x010,
	REG_DEV_FEATURES_SEL = 0x014, REG_DRV_FEATURES = 0x020,
	REG_DRV_FEATURES_SEL = 0x024, REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
	REG_INT_STATUS = 0x060, REG_INT_ACK = 0x064, REG_STATUS = 0x070,
	REG_QUEUE_DESC_LO = 0x080, REG_QUEUE_DESC_HI = 0x084,
	REG_QUEUE_DRIVER_LO = 0x090, REG_QUEUE_DRIVER_HI = 0x094,
	REG_QUEUE_DEVICE_LO = 0x0a0, REG_QUEUE_DEVICE_HI = 0x0a4,
	REG_CONFIG_GEN = 0x0fc, REG_CONFIG = 0x100,
};

#define MMIO_MAGIC      0x74726976      /* "virt" */
#define MMIO_VERSION    2

#define STATUS_DRIVER_BITS (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define STATUS_ERROR_BITS  (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)
#define INT_BITS           (VIRTIO_INT_USED | VIRTIO_INT_CONFIG)

static uint64_t offered(const struct virtio_mmio *t)
{
	return t->ops->features | 1ull << VIRTIO_F_INDIRECT_DESC |
	       1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_VERSION_1;
}

/* The driver sets the bits in order (section 3.1.1), each step adding one;
 * the error bits may come on top of any step. */
static int status_reachable(uint64_t s)
{
	static const uint32_t steps[] = {
		0,
		VIRTIO_STATUS_ACKNOWLEDGE,
		VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER,
		VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			VIRTIO_STATUS_FEATURES_OK,
		STATUS_DRIVER_BITS,
	};

	if (s & ~(uint64_t)(STATUS_DRIVER_BITS | STATUS_ERROR_BITS))
		return 0;
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if ((s & ~(uint64_t)STATUS_ERROR_BITS) == steps[i])
			return 1;
	return 0;
}

static void update_irq(struct virtio_mmio *t)
{
	irq_line_set(&t->irq, t->isr != 0);
}

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops,
		      void *dev, struct guest_mem mem, struct irq_line irq)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	t->irq = irq;
}

void virtio_mmio_reset(struct virtio_mmio *t)
{
	virtio_mmio_init(t, t->ops, t->dev, t->mem, t->irq);
	update_irq(t);
}

void virtio_mmio_signal(struct virtio_mmio *t, uint32_t bits)
{
	t->isr |= bits & INT_BITS;
	update_irq(t);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
	if (t->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio_signal(t, VIRTIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_gen++;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio_signal(t, VIRTIO_INT_CONFIG);
}

int virtio_mmio_has(const struct virtio_mmio *t, unsigned bit)
{
	return bit < 64 && (t->driver_features >> bit & 1);
}

/* The selected queue, while the driver may still configure it: a queue the
 * device has, not ready, and the device not yet running. */
static struct vq *setup_queue(struct virtio_mmio *t)
{
	if (t->queue_sel >= t->ops->nqueues || (t->status & VIRTIO_STATUS_DRIVER_OK) ||
	    t->q[t->queue_sel].ready)
		return NULL;
	return &t->q[t->queue_sel];
}

static void set_lo(uint64_t *a, uint32_t v)
{
	*a = (*a & ~0xffffffffull) | v;
}

static void set_hi(uint64_t *a, uint32_t v)
{
	*a = (*a & 0xffffffffull) | (uint64_t)v << 32;
}

static void queue_num(struct virtio_mmio *t, struct vq *q, uint32_t v)
{
	/* A size the device cannot use is the driver's error, not a state. */
	if (v && (v > t->ops->queue_max || (v & (v - 1)))) {
		virtio_mmio_needs_reset(t);
		return;
	}
	q->size = (uint16_t)v;
}

static void queue_ready(struct virtio_mmio *t, uint32_t v)
{
	struct vq *q;

	if (t->queue_sel >= t->ops->nqueues || (t->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	q = &t->q[t->queue_sel];
	if (!v)
		q->ready = 0;
	else if (vq_check(q, &t->mem))
		virtio_mmio_needs_reset(t);
	else
		q->ready = 1;
}

static void set_features_for_queues(struct virtio_mmio *t)
{
	for (unsigned i = 0; i < t->ops->nqueues; i++) {
		t->q[i].event_idx = (uint8_t)virtio_mmio_has(t, VIRTIO_F_EVENT_IDX);
		t->q[i].indirect = (uint8_t)virtio_mmio_has(t, VIRTIO_F_INDIRECT_DESC);
	}
}

/* A status write: 0 resets; otherwise bits only accumulate, in the order
 * of section 3.1.1, and a write that does not is ignored. */
static void write_status(struct virtio_mmio *t, uint32_t v)
{
	uint32_t want = v & (STATUS_DRIVER_BITS | VIRTIO_STATUS_FAILED);
	uint32_t was = t->status;

	if (!v) {
		t->ops->reset(t->dev);
		virtio_mmio_reset(t);
		return;
	}
	/* The driver reads FEATURES_OK back to learn that the device took
	 * its features (section 3.1.1 step 6): a modern device needs
	 * VERSION_1. */
	if ((want & ~was & VIRTIO_STATUS_FEATURES_OK) &&
	    !virtio_mmio_has(t, VIRTIO_F_VERSION_1))
		want &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	want |= was & VIRTIO_STATUS_NEEDS_RESET;
	if ((was & ~want) || !status_reachable(want))
		return;
	t->status = want;
	if (want & ~was & VIRTIO_STATUS_DRIVER_OK) {
		set_features_for_queues(t);
		t->ops->driver_ok(t->dev);
	}
}

static void write_reg(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct vq *q = setup_queue(t);

	switch (off) {
	case REG_DEV_FEATURES_SEL:
		t->dev_features_sel = v;
		break;
	case REG_DRV_FEATURES:
		if ((t->status & (VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)) !=
		    VIRTIO_STATUS_DRIVER || t->drv_features_sel > 1)
			break;
		if (t->drv_features_sel)
			set_hi(&t->driver_features, v);
		else
			set_lo(&t->driver_features, v);
		t->driver_features &= offered(t);
		break;
	case REG_DRV_FEATURES_SEL:
		t->drv_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		/* Every index from VIRTIO_MMIO_MAX_QUEUES on selects no queue. */
		t->queue_sel = v < VIRTIO_MMIO_MAX_QUEUES ? v : VIRTIO_MMIO_MAX_QUEUES;
		break;
	case REG_QUEUE_NUM:
		if (q)
			queue_num(t, q, v);
		break;
	case REG_QUEUE_READY:
		queue_ready(t, v);
		break;
	case REG_QUEUE_NOTIFY:
		if ((t->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
		    VIRTIO_STATUS_DRIVER_OK && v < t->ops->nqueues && t->q[v].ready)
			t->ops->notify(t->dev, v);
		break;
	case REG_INT_ACK:
		t->isr &= ~v;
		update_irq(t);
		break;
	case REG_STATUS:
		write_status(t, v);
		break;
	case REG_QUEUE_DESC_LO: if (q) set_lo(&q->desc, v); break;
	case REG_QUEUE_DESC_HI: if (q) set_hi(&q->desc, v); break;
	case REG_QUEUE_DRIVER_LO: if (q) set_lo(&q->avail, v); break;
	case REG_QUEUE_DRIVER_HI: if (q) set_hi(&q->avail, v); break;
	case REG_QUEUE_DEVICE_LO: if (q) set_lo(&q->used, v); break;
	case REG_QUEUE_DEVICE_HI: if (q) set_hi(&q->used, v); break;
	default:
		break;
	}
}

/* Write-only and unknown registers read as 0. */
static uint32_t read_reg(const struct virtio_mmio *t, uint64_t off)
{
	int valid_q = t->queue_sel < t->ops->nqueues;

	switch (off) {
	case REG_MAGIC: return MMIO_MAGIC;
	case REG_VERSION: return MMIO_VERSION;
	case REG_DEVICE_ID: return t->ops->device_id;
	case REG_VENDOR_ID: return VIRTIO_MMIO_VENDOR_ID;
	case REG_DEV_FEATURES:
		if (t->dev_features_sel > 1)
			return 0;
		return (uint32_t)(offered(t) >> (32 * t->dev_features_sel));
	case REG_QUEUE_NUM_MAX: return valid_q ? t->ops->queue_max : 0;
	case REG_QUEUE_READY: return valid_q ? t->q[t->queue_sel].ready : 0;
	case REG_INT_STATUS: return t->isr;
	case REG_STATUS: return t->status;
	case REG_CONFIG_GEN: return t->config_gen;
	default: return 0;
	}
}

/* The device's configuration space, at any width, inside config_len. */
static void config_access(struct virtio_mmio *t, uint64_t off, uint8_t *data,
			  uint32_t len, int is_write)
{
	int inside = off <= t->ops->config_len && len <= t->ops->config_len - off;

	if (is_write) {
		if (inside && t->ops->config_write)
			t->ops->config_write(t->dev, (uint32_t)off, data, len);
		return;
	}
	memset(data, 0, len);
	if (inside && t->ops->config_read)
		t->ops->config_read(t->dev, (uint32_t)off, data, len);
}

void virtio_mmio_access(struct virtio_mmio *t, uint64_t offset, uint8_t *data,
			uint32_t len, int is_write)
{
	if (offset >= REG_CONFIG) {
		config_access(t, offset - REG_CONFIG, data, len, is_write);
		return;
	}
	if (len != 4) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write)
		write_reg(t, offset, (uint32_t)mmio_get(data, 4));
	else
		mmio_put(data, 4, read_reg(t, offset));
}

/* --- saved state --------------------------------------------------------- */

static uint64_t queue_field(const struct vq *q, unsigned f)
{
	switch (f) {
	case VIRTIO_FQ_SIZE: return q->size;
	case VIRTIO_FQ_READY: return q->ready;
	case VIRTIO_FQ_DESC: return q->desc;
	case VIRTIO_FQ_AVAIL: return q->avail;
	case VIRTIO_FQ_USED: return q->used;
	case VIRTIO_FQ_LAST_AVAIL: return q->last_avail;
	case VIRTIO_FQ_USED_IDX: return q->used_idx;
	case VIRTIO_FQ_SIGNALLED_USED: return q->signalled_used;
	case VIRTIO_FQ_SIGNALLED_VALID: return q->signalled_valid;
	}
	return 0;
}

int virtio_mmio_save(const struct virtio_mmio *t, struct dev_state *d)
{
	const uint64_t regs[] = {
		[VIRTIO_F_STATUS] = t->status,
		[VIRTIO_F_DRIVER_FEATURES] = t->driver_features,
		[VIRTIO_F_DEV_FEATURES_SEL] = t->dev_features_sel,
		[VIRTIO_F_DRV_FEATURES_SEL] = t->drv_features_sel,
		[VIRTIO_F_QUEUE_SEL] = t->queue_sel,
		[VIRTIO_F_ISR] = t->isr,
		[VIRTIO_F_CONFIG_GEN] = t->config_gen,
	};

	for (unsigned id = VIRTIO_F_STATUS; id <= VIRTIO_F_CONFIG_GEN; id++)
		if (dev_state_put(d, id, regs[id]))
			return -ENOSPC;
	for (unsigned i = 0; i < t->ops->nqueues; i++)
		for (unsigned f = 0; f < VIRTIO_FQ_COUNT; f++)
			if (dev_state_put(d, VIRTIO_F_QUEUE(i) + f, queue_field(&t->q[i], f)))
				return -ENOSPC;
	return 0;
}

/* Field id of d into *v, at most max; -EINVAL if absent or larger. */
static int get_max(const struct dev_state *d, uint32_t id, uint64_t max,
		   uint64_t *v)
{
	if (dev_state_get(d, id, v) || *v > max)
		return -EINVAL;
	return 0;
}

/* Queue i of a device that has it. A queue only moves on once the driver
 * made it ready and the device is running; until then it is as reset left
 * it. */
static int restore_queue(const struct virtio_mmio *t, const struct dev_state *d,
			 unsigned i, uint32_t status, struct vq *q)
{
	uint32_t id = VIRTIO_F_QUEUE(i);
	uint64_t v[VIRTIO_FQ_COUNT];
	int running;

	if (get_max(d, id + VIRTIO_FQ_SIZE, t->ops->queue_max, &v[VIRTIO_FQ_SIZE]) ||
	    get_max(d, id + VIRTIO_FQ_READY, 1, &v[VIRTIO_FQ_READY]) ||
	    get_max(d, id + VIRTIO_FQ_DESC, UINT64_MAX, &v[VIRTIO_FQ_DESC]) ||
	    get_max(d, id + VIRTIO_FQ_AVAIL, UINT64_MAX, &v[VIRTIO_FQ_AVAIL]) ||
	    get_max(d, id + VIRTIO_FQ_USED, UINT64_MAX, &v[VIRTIO_FQ_USED]) ||
	    get_max(d, id + VIRTIO_FQ_LAST_AVAIL, UINT16_MAX, &v[VIRTIO_FQ_LAST_AVAIL]) ||
	    get_max(d, id + VIRTIO_FQ_USED_IDX, UINT16_MAX, &v[VIRTIO_FQ_USED_IDX]) ||
	    get_max(d, id + VIRTIO_FQ_SIGNALLED_USED, UINT16_MAX,
		    &v[VIRTIO_FQ_SIGNALLED_USED]) ||
	    get_max(d, id + VIRTIO_FQ_SIGNALLED_VALID, 1, &v[VIRTIO_FQ_SIGNALLED_VALID]))
		return -EINVAL;
	vq_reset(q);
	q->size = (uint16_t)v[VIRTIO_FQ_SIZE];
	q->ready = (uint8_t)v[VIRTIO_FQ_READY];
	q->desc = v[VIRTIO_FQ_DESC];
	q->avail = v[VIRTIO_FQ_AVAIL];
	q->used = v[VIRTIO_FQ_USED];
	q->last_avail = (uint16_t)v[VIRTIO_FQ_LAST_AVAIL];
	q->used_idx = (uint16_t)v[VIRTIO_FQ_USED_IDX];
	q->signalled_used = (uint16_t)v[VIRTIO_FQ_SIGNALLED_USED];
	q->signalled_valid = (uint8_t)v[VIRTIO_FQ_SIGNALLED_VALID];
	if (q->size & (q->size - 1))
		return -EINVAL;
	if (q->ready && vq_check(q, &t->mem))
		return -EINVAL;
	/* The device cannot have used more chains than it took. */
	if ((uint16_t)(q->last_avail - q->used_idx) > q->size)
		return -EINVAL;
	running = q->ready && (status & VIRTIO_STATUS_DRIVER_OK);
	if (!running && (q->last_avail || q->used_idx || q->signalled_used ||
			 q->signalled_valid))
		return -EINVAL;
	return 0;
}

/* A queue the device does not have: absent, or saved as all zero. */
static int restore_absent_queue(const struct dev_state *d, unsigned i)
{
	uint64_t v;

	for (unsigned f = 0; f < VIRTIO_FQ_COUNT; f++)
		if (!dev_state_get(d, VIRTIO_F_QUEUE(i) + f, &v) && v)
			return -EINVAL;
	return 0;
}

int virtio_mmio_restore(struct virtio_mmio *t, const struct dev_state *d)
{
	struct virtio_mmio n = *t;
	uint64_t status, features, dsel, fsel, qsel, isr, gen;

	if (get_max(d, VIRTIO_F_STATUS, UINT32_MAX, &status) ||
	    get_max(d, VIRTIO_F_DRIVER_FEATURES, UINT64_MAX, &features) ||
	    get_max(d, VIRTIO_F_DEV_FEATURES_SEL, UINT32_MAX, &dsel) ||
	    get_max(d, VIRTIO_F_DRV_FEATURES_SEL, UINT32_MAX, &fsel) ||
	    get_max(d, VIRTIO_F_QUEUE_SEL, VIRTIO_MMIO_MAX_QUEUES, &qsel) ||
	    get_max(d, VIRTIO_F_ISR, INT_BITS, &isr) ||
	    get_max(d, VIRTIO_F_CONFIG_GEN, UINT32_MAX, &gen))
		return -EINVAL;
	if (!status_reachable(status) || (isr & ~(uint64_t)INT_BITS) ||
	    (features & ~offered(t)))
		return -EINVAL;
	/* Features are written with DRIVER set, and FEATURES_OK sticks only
	 * with VERSION_1. */
	if ((!(status & VIRTIO_STATUS_DRIVER) && features) ||
	    ((status & VIRTIO_STATUS_FEATURES_OK) &&
	     !(features >> VIRTIO_F_VERSION_1 & 1)))
		return -EINVAL;
	n.status = (uint32_t)status;
	n.driver_features = features;
	n.dev_features_sel = (uint32_t)dsel;
	n.drv_features_sel = (uint32_t)fsel;
	n.queue_sel = (uint32_t)qsel;
	n.isr = (uint32_t)isr;
	n.config_gen = (uint32_t)gen;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		if (i >= t->ops->nqueues) {
			if (restore_absent_queue(d, i))
				return -EINVAL;
			vq_reset(&n.q[i]);
		} else if (restore_queue(t, d, i, n.status, &n.q[i])) {
			return -EINVAL;
		}
	}
	if (n.status & VIRTIO_STATUS_DRIVER_OK)
		set_features_for_queues(&n);
	*t = n;
	update_irq(t);
	return 0;
}

int virtio_mmio_fdt(struct fdt_writer *w, const struct dev_cfg *d)
{
	FDT_CHECK(fdt_begin_node_at(w, "virtio_mmio", d->base));
	FDT_CHECK(fdt_property_string(w->fdt, "compatible", "virtio,mmio"));
	FDT_CHECK(fdt_prop_reg_irq(w, d));
	/* Guest RAM is ordinary cacheable memory to both sides. */
	FDT_CHECK(fdt_property(w->fdt, "dma-coherent", NULL, 0));
	FDT_CHECK(fdt_end_node(w->fdt));
	return 0;
}
