/* test_virtio_mmio.c - the virtio-mmio transport as Linux's virtio_mmio
 * driver uses it: identification, feature negotiation, status, queue setup
 * and its freeze, notifications, the interrupt line, reset, configuration
 * space; save/restore and each refusal; the device-tree node. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "virtio_mmio.h"

enum {
	MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c,
	DEV_FEATURES = 0x010, DEV_FEATURES_SEL = 0x014, DRV_FEATURES = 0x020,
	DRV_FEATURES_SEL = 0x024, QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034,
	QUEUE_NUM = 0x038, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050,
	INT_STATUS = 0x060, INT_ACK = 0x064, STATUS = 0x070,
	DESC_LO = 0x080, DESC_HI = 0x084, DRIVER_LO = 0x090, DRIVER_HI = 0x094,
	DEVICE_LO = 0x0a0, DEVICE_HI = 0x0a4, CONFIG_GEN = 0x0fc, CONFIG = 0x100,
};

#define SPI     40

#include "dev_fixture.h"

#define BASE    0x80000000ull
#define RAM     0x100000ull
#define QMAX    256
#define NQ      2
#define CFG_LEN 12
/* Device-specific features the fake device offers: bits 1, 5 and 35. */
#define DEV_FEATS ((1ull << 1) | (1ull << 5) | (1ull << 35))

#define S_ACK   VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRV   VIRTIO_STATUS_DRIVER
#define S_FOK   VIRTIO_STATUS_FEATURES_OK
#define S_DOK   VIRTIO_STATUS_DRIVER_OK

struct fake {
	uint8_t config[CFG_LEN];
	int resets, driver_oks, notifies;
	unsigned last_notify;
	uint32_t last_write_off, last_write_len;
};

static uint8_t *ram;
static struct fake fd;
static struct virtio_mmio t;
static int irq;

static void cfg_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct fake *f = dev;

	cr_assert_leq(off + len, CFG_LEN);
	memcpy(data, f->config + off, len);
}

static void cfg_write(void *dev, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct fake *f = dev;

	cr_assert_leq(off + len, CFG_LEN);
	memcpy(f->config + off, data, len);
	f->last_write_off = off;
	f->last_write_len = len;
}

static void dev_notify(void *dev, unsigned q)
{
	struct fake *f = dev;

	f->notifies++;
	f->last_notify = q;
}

static void dev_reset(void *dev)
{
	((struct fake *)dev)->resets++;
}

static void dev_driver_ok(void *dev)
{
	((struct fake *)dev)->driver_oks++;
}

static const struct virtio_dev_ops ops = {
	.device_id = 2,
	.nqueues = NQ,
	.queue_max = QMAX,
	.config_len = CFG_LEN,
	.features = DEV_FEATS,
	.config_read = cfg_read,
	.config_write = cfg_write,
	.notify = dev_notify,
	.reset = dev_reset,
	.driver_ok = dev_driver_ok,
};

static struct guest_mem guest(void)
{
	return (struct guest_mem){ ram, BASE, RAM };
}

static void init_t(struct virtio_mmio *x, int *line)
{
	*line = -1;
	virtio_mmio_init(x, &ops, &fd, guest(), (struct irq_line){ line_set, line, SPI });
}

static void setup(void)
{
	ram = aligned_alloc(4096, RAM);
	cr_assert_not_null(ram);
	memset(ram, 0, RAM);
	memset(&fd, 0, sizeof(fd));
	for (unsigned i = 0; i < CFG_LEN; i++)
		fd.config[i] = (uint8_t)(0x10 + i);
	init_t(&t, &irq);
}

static void teardown(void)
{
	free(ram);
}

TestSuite(vmmio, .init = setup, .fini = teardown);

static void handler(void *opaque, uint64_t off, uint8_t *data, uint32_t len, int w)
{
	virtio_mmio_access(opaque, off, data, len, w);
}

static uint32_t rd(uint64_t off)
{
	return mmio_rd32(handler, &t, off);
}

static void wr(uint64_t off, uint32_t v)
{
	mmio_wr32(handler, &t, off, v);
}

static uint64_t rd_n(uint64_t off, uint32_t len)
{
	uint8_t d[8];

	memset(d, 0xee, sizeof(d));
	virtio_mmio_access(&t, off, d, len, 0);
	return mmio_get(d, len);
}

static void wr_n(uint64_t off, uint32_t len, uint64_t v)
{
	uint8_t d[8];

	mmio_put(d, len, v);
	virtio_mmio_access(&t, off, d, len, 1);
}

static uint64_t dev_features(void)
{
	uint64_t hi;

	wr(DEV_FEATURES_SEL, 1);
	hi = rd(DEV_FEATURES);
	wr(DEV_FEATURES_SEL, 0);
	return hi << 32 | rd(DEV_FEATURES);
}

static void write_features(uint64_t f)
{
	wr(DRV_FEATURES_SEL, 1);
	wr(DRV_FEATURES, (uint32_t)(f >> 32));
	wr(DRV_FEATURES_SEL, 0);
	wr(DRV_FEATURES, (uint32_t)f);
}

/* Queue i's rings, as Linux's vring_create_virtqueue lays them out in
 * separate pages. */
static uint64_t desc_of(unsigned i) { return BASE + 0x10000 + 0x10000ull * i; }
static uint64_t avail_of(unsigned i) { return desc_of(i) + 0x4000; }
static uint64_t used_of(unsigned i) { return desc_of(i) + 0x8000; }

static void setup_queue(unsigned i, uint32_t num)
{
	wr(QUEUE_SEL, i);
	cr_assert_eq(rd(QUEUE_READY), 0);
	cr_assert_eq(rd(QUEUE_NUM_MAX), QMAX);
	wr(QUEUE_NUM, num);
	wr(DESC_LO, (uint32_t)desc_of(i));
	wr(DESC_HI, (uint32_t)(desc_of(i) >> 32));
	wr(DRIVER_LO, (uint32_t)avail_of(i));
	wr(DRIVER_HI, (uint32_t)(avail_of(i) >> 32));
	wr(DEVICE_LO, (uint32_t)used_of(i));
	wr(DEVICE_HI, (uint32_t)(used_of(i) >> 32));
	wr(QUEUE_READY, 1);
}

/* What virtio_mmio's probe and virtio_dev_probe do, up to FEATURES_OK. */
static void negotiate(uint64_t f)
{
	wr(STATUS, 0);
	wr(STATUS, S_ACK);
	wr(STATUS, S_ACK | S_DRV);
	write_features(f);
	wr(STATUS, S_ACK | S_DRV | S_FOK);
}

static const uint64_t ALL = DEV_FEATS | 1ull << VIRTIO_F_INDIRECT_DESC |
			    1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_VERSION_1;

static void bring_up(void)
{
	negotiate(ALL);
	cr_assert_eq(rd(STATUS), S_ACK | S_DRV | S_FOK);
	for (unsigned i = 0; i < NQ; i++)
		setup_queue(i, QMAX);
	wr(STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	cr_assert_eq(rd(STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
}

/* Field by field: struct copies need not keep padding. */
static void expect_same(const struct virtio_mmio *a, const struct virtio_mmio *b)
{
	cr_expect_eq(a->ops, b->ops);
	cr_expect_eq(a->dev, b->dev);
	cr_expect_eq(a->mem.host, b->mem.host);
	cr_expect_eq(a->irq.ctx, b->irq.ctx);
	cr_expect_eq(a->status, b->status);
	cr_expect_eq(a->driver_features, b->driver_features);
	cr_expect_eq(a->dev_features_sel, b->dev_features_sel);
	cr_expect_eq(a->drv_features_sel, b->drv_features_sel);
	cr_expect_eq(a->queue_sel, b->queue_sel);
	cr_expect_eq(a->isr, b->isr);
	cr_expect_eq(a->config_gen, b->config_gen);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		const struct vq *p = &a->q[i], *q = &b->q[i];

		cr_expect_eq(p->size, q->size, "queue %u", i);
		cr_expect_eq(p->ready, q->ready, "queue %u", i);
		cr_expect_eq(p->event_idx, q->event_idx, "queue %u", i);
		cr_expect_eq(p->indirect, q->indirect, "queue %u", i);
		cr_expect_eq(p->desc, q->desc, "queue %u", i);
		cr_expect_eq(p->avail, q->avail, "queue %u", i);
		cr_expect_eq(p->used, q->used, "queue %u", i);
		cr_expect_eq(p->last_avail, q->last_avail, "queue %u", i);
		cr_expect_eq(p->used_idx, q->used_idx, "queue %u", i);
		cr_expect_eq(p->signalled_used, q->signalled_used, "queue %u", i);
		cr_expect_eq(p->signalled_valid, q->signalled_valid, "queue %u", i);
	}
}

/* --- identification and features ------------------------------------------------- */

Test(vmmio, identification)
{
	cr_expect_eq(rd(MAGIC), 0x74726976);
	cr_expect_eq(rd(VERSION), 2);
	cr_expect_eq(rd(DEVICE_ID), 2);
	cr_expect_eq(rd(VENDOR_ID), 0x52505254, "\"TRPR\"");
	cr_expect_eq(rd(STATUS), 0);
	cr_expect_eq(rd(INT_STATUS), 0);
	cr_expect_eq(rd(CONFIG_GEN), 0);
}

Test(vmmio, device_features_by_word)
{
	cr_expect_eq(dev_features(), ALL);
	wr(DEV_FEATURES_SEL, 0);
	cr_expect_eq(rd(DEV_FEATURES), (1u << 1) | (1u << 5) | (1u << 28) | (1u << 29));
	wr(DEV_FEATURES_SEL, 1);
	cr_expect_eq(rd(DEV_FEATURES), 1u | (1u << 3));
	wr(DEV_FEATURES_SEL, 2);
	cr_expect_eq(rd(DEV_FEATURES), 0);
	wr(DEV_FEATURES_SEL, 0xffffffff);
	cr_expect_eq(rd(DEV_FEATURES), 0);
}

Test(vmmio, driver_features_both_words)
{
	wr(STATUS, S_ACK);
	wr(STATUS, S_ACK | S_DRV);
	write_features(ALL);
	cr_expect_eq(t.driver_features, ALL);
	for (unsigned b = 0; b < 64; b++)
		cr_expect_eq(virtio_mmio_has(&t, b), (int)(ALL >> b & 1), "bit %u", b);
	cr_expect_eq(virtio_mmio_has(&t, 64), 0);
	/* Each word replaces only its half. */
	wr(DRV_FEATURES_SEL, 1);
	wr(DRV_FEATURES, 0);
	cr_expect_eq(t.driver_features, ALL & 0xffffffff);
}

Test(vmmio, driver_features_drop_what_is_not_offered)
{
	wr(STATUS, S_ACK);
	wr(STATUS, S_ACK | S_DRV);
	write_features(~0ull);
	cr_expect_eq(t.driver_features, ALL);
	wr(DRV_FEATURES_SEL, 2);
	wr(DRV_FEATURES, 0);
	cr_expect_eq(t.driver_features, ALL, "no third word");
}

Test(vmmio, driver_features_only_between_driver_and_features_ok)
{
	write_features(ALL);
	cr_expect_eq(t.driver_features, 0, "before DRIVER");
	wr(STATUS, S_ACK);
	write_features(ALL);
	cr_expect_eq(t.driver_features, 0, "before DRIVER");
	negotiate(1ull << VIRTIO_F_VERSION_1);
	write_features(ALL);
	cr_expect_eq(t.driver_features, 1ull << VIRTIO_F_VERSION_1, "after FEATURES_OK");
}

Test(vmmio, features_ok_needs_version_1)
{
	negotiate(ALL & ~(1ull << VIRTIO_F_VERSION_1));
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV, "FEATURES_OK stuck");
	/* The driver may still fix its features and try again. */
	write_features(ALL);
	wr(STATUS, S_ACK | S_DRV | S_FOK);
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV | S_FOK);
}

Test(vmmio, status_only_moves_forward_in_order)
{
	wr(STATUS, S_DRV);
	cr_expect_eq(rd(STATUS), 0, "DRIVER before ACKNOWLEDGE");
	wr(STATUS, S_ACK);
	wr(STATUS, S_ACK | S_DRV | S_DOK);
	cr_expect_eq(rd(STATUS), S_ACK, "DRIVER_OK before FEATURES_OK");
	wr(STATUS, S_ACK | S_DRV);
	wr(STATUS, S_ACK);
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV, "a bit cleared");
	wr(STATUS, S_ACK | S_DRV | VIRTIO_STATUS_FAILED);
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV | VIRTIO_STATUS_FAILED);
	wr(STATUS, S_ACK | S_DRV | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED);
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV | VIRTIO_STATUS_FAILED,
		     "the driver set NEEDS_RESET");
	cr_expect_eq(fd.driver_oks, 0);
}

Test(vmmio, driver_ok_configures_the_queues)
{
	bring_up();
	cr_expect_eq(fd.driver_oks, 1);
	for (unsigned i = 0; i < NQ; i++) {
		cr_expect_eq(t.q[i].event_idx, 1);
		cr_expect_eq(t.q[i].indirect, 1);
		cr_expect_eq(t.q[i].ready, 1);
		cr_expect_eq(t.q[i].size, QMAX);
		cr_expect_eq(t.q[i].desc, desc_of(i));
		cr_expect_eq(t.q[i].avail, avail_of(i));
		cr_expect_eq(t.q[i].used, used_of(i));
	}
	wr(STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	cr_expect_eq(fd.driver_oks, 1, "DRIVER_OK again is not news");
}

Test(vmmio, driver_ok_without_ring_features)
{
	negotiate(1ull << VIRTIO_F_VERSION_1);
	setup_queue(0, 16);
	wr(STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	cr_expect_eq(t.q[0].event_idx, 0);
	cr_expect_eq(t.q[0].indirect, 0);
}

/* --- queues ------------------------------------------------------------------------------- */

Test(vmmio, queue_setup)
{
	negotiate(ALL);
	setup_queue(1, 64);
	cr_expect_eq(rd(QUEUE_READY), 1);
	cr_expect_eq(t.q[1].size, 64);
	cr_expect_eq(t.q[1].desc, desc_of(1));
	cr_expect_eq(t.q[0].ready, 0);
	cr_expect_eq(rd(STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

Test(vmmio, high_address_halves)
{
	wr(QUEUE_SEL, 0);
	wr(DESC_LO, 0x1000);
	wr(DESC_HI, 0x12);
	cr_expect_eq(t.q[0].desc, 0x1200001000ull);
	wr(DESC_LO, 0x2000);
	cr_expect_eq(t.q[0].desc, 0x1200002000ull);
}

Test(vmmio, queues_beyond_the_device)
{
	for (uint32_t i = NQ; i < 8; i++) {
		wr(QUEUE_SEL, i);
		cr_expect_eq(rd(QUEUE_NUM_MAX), 0, "queue %u", i);
		cr_expect_eq(rd(QUEUE_READY), 0);
		wr(QUEUE_NUM, 16);
		wr(DESC_LO, 0x1000);
		wr(QUEUE_READY, 1);
		cr_expect_eq(rd(QUEUE_READY), 0);
	}
	wr(QUEUE_SEL, 0xffffffff);
	cr_expect_eq(rd(QUEUE_NUM_MAX), 0);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		cr_expect_eq(t.q[i].size, 0);
		cr_expect_eq(t.q[i].desc, 0);
	}
	cr_expect_eq(rd(STATUS), 0);
}

Test(vmmio, queue_ready_with_rings_outside_ram_needs_reset)
{
	negotiate(ALL);
	wr(QUEUE_SEL, 0);
	wr(QUEUE_NUM, 16);
	wr(DESC_LO, (uint32_t)(BASE + RAM - 0x80));     /* 256 bytes needed */
	wr(DESC_HI, (uint32_t)((BASE + RAM) >> 32));
	wr(DRIVER_LO, (uint32_t)avail_of(0));
	wr(DEVICE_LO, (uint32_t)used_of(0));
	wr(QUEUE_READY, 1);
	cr_expect_eq(rd(QUEUE_READY), 0);
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV | S_FOK | VIRTIO_STATUS_NEEDS_RESET);
	cr_expect_eq(irq, 0, "no interrupt before DRIVER_OK");
	/* The device stays refused until reset. */
	wr(STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV | S_FOK | S_DOK | VIRTIO_STATUS_NEEDS_RESET);
	wr(QUEUE_NOTIFY, 0);
	cr_expect_eq(fd.notifies, 0);
}

Test(vmmio, queue_ready_without_a_size_needs_reset)
{
	negotiate(ALL);
	wr(QUEUE_SEL, 0);
	wr(DESC_LO, (uint32_t)desc_of(0));
	wr(QUEUE_READY, 1);
	cr_expect_eq(rd(QUEUE_READY), 0);
	cr_expect(rd(STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

Test(vmmio, bad_queue_num_needs_reset)
{
	uint32_t bad[] = { 3, QMAX + 1, 2 * QMAX, 0x10000 };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		negotiate(ALL);
		wr(QUEUE_SEL, 0);
		wr(QUEUE_NUM, bad[i]);
		cr_expect_eq(t.q[0].size, 0, "num %u", bad[i]);
		cr_expect(rd(STATUS) & VIRTIO_STATUS_NEEDS_RESET, "num %u", bad[i]);
	}
}

Test(vmmio, ready_queue_is_frozen_until_unready)
{
	negotiate(ALL);
	setup_queue(0, 64);
	wr(QUEUE_NUM, 32);
	wr(DESC_LO, 0);
	cr_expect_eq(t.q[0].size, 64);
	cr_expect_eq(t.q[0].desc, desc_of(0));
	wr(QUEUE_READY, 0);
	cr_expect_eq(rd(QUEUE_READY), 0);
	wr(QUEUE_NUM, 32);
	cr_expect_eq(t.q[0].size, 32);
}

Test(vmmio, queues_frozen_after_driver_ok)
{
	bring_up();
	for (unsigned i = 0; i < NQ; i++) {
		wr(QUEUE_SEL, i);
		wr(QUEUE_READY, 0);
		wr(QUEUE_NUM, 16);
		wr(DESC_LO, 0);
		wr(DESC_HI, 1);
		wr(DRIVER_LO, 0);
		wr(DEVICE_HI, 1);
		cr_expect_eq(rd(QUEUE_READY), 1);
		cr_expect_eq(t.q[i].size, QMAX);
		cr_expect_eq(t.q[i].desc, desc_of(i));
		cr_expect_eq(t.q[i].avail, avail_of(i));
		cr_expect_eq(t.q[i].used, used_of(i));
	}
	/* Features too. */
	write_features(0);
	cr_expect_eq(t.driver_features, ALL);
}

Test(vmmio, unready_queue_cannot_become_ready_after_driver_ok)
{
	negotiate(ALL);
	setup_queue(0, 64);
	wr(STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	wr(QUEUE_SEL, 1);
	wr(QUEUE_NUM, 64);
	wr(QUEUE_READY, 1);
	cr_expect_eq(rd(QUEUE_READY), 0);
	cr_expect_eq(t.q[1].size, 0);
}

/* --- notifications and interrupts -------------------------------------------------------- */

Test(vmmio, notify_only_when_running_and_ready)
{
	negotiate(ALL);
	setup_queue(1, 64);
	wr(QUEUE_NOTIFY, 1);
	cr_expect_eq(fd.notifies, 0, "before DRIVER_OK");
	wr(STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	wr(QUEUE_NOTIFY, 0);
	cr_expect_eq(fd.notifies, 0, "queue 0 is not ready");
	wr(QUEUE_NOTIFY, NQ);
	wr(QUEUE_NOTIFY, 0xffffffff);
	cr_expect_eq(fd.notifies, 0, "no such queue");
	wr(QUEUE_NOTIFY, 1);
	cr_expect_eq(fd.notifies, 1);
	cr_expect_eq(fd.last_notify, 1);
	virtio_mmio_needs_reset(&t);
	wr(QUEUE_NOTIFY, 1);
	cr_expect_eq(fd.notifies, 1, "after NEEDS_RESET");
}

Test(vmmio, interrupt_status_ack_and_line)
{
	bring_up();
	cr_expect_eq(irq, 0, "reset lowers the line");
	virtio_mmio_signal(&t, VIRTIO_INT_USED);
	cr_expect_eq(irq, 1);
	cr_expect_eq(rd(INT_STATUS), VIRTIO_INT_USED);
	virtio_mmio_signal(&t, VIRTIO_INT_CONFIG | 0x80);
	cr_expect_eq(rd(INT_STATUS), VIRTIO_INT_USED | VIRTIO_INT_CONFIG);
	wr(INT_ACK, VIRTIO_INT_USED);
	cr_expect_eq(rd(INT_STATUS), VIRTIO_INT_CONFIG);
	cr_expect_eq(irq, 1, "config still pending");
	wr(INT_ACK, VIRTIO_INT_CONFIG);
	cr_expect_eq(rd(INT_STATUS), 0);
	cr_expect_eq(irq, 0);
}

Test(vmmio, needs_reset_interrupts_a_running_driver)
{
	bring_up();
	virtio_mmio_needs_reset(&t);
	cr_expect(rd(STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_expect_eq(rd(INT_STATUS), VIRTIO_INT_CONFIG);
	cr_expect_eq(irq, 1);
	wr(INT_ACK, VIRTIO_INT_CONFIG);
	virtio_mmio_needs_reset(&t);
	cr_expect_eq(rd(INT_STATUS), 0, "told once");
}

Test(vmmio, needs_reset_before_driver_ok_is_silent)
{
	negotiate(ALL);
	virtio_mmio_needs_reset(&t);
	cr_expect_eq(rd(STATUS), S_ACK | S_DRV | S_FOK | VIRTIO_STATUS_NEEDS_RESET);
	cr_expect_eq(rd(INT_STATUS), 0);
	cr_expect_eq(irq, 0);
}

Test(vmmio, reset_clears_everything)
{
	struct virtio_mmio fresh;
	int fl;

	bring_up();
	t.q[0].last_avail = 3;
	t.q[0].used_idx = 2;
	wr(QUEUE_SEL, 1);
	wr(DEV_FEATURES_SEL, 1);
	virtio_mmio_config_changed(&t);
	virtio_mmio_needs_reset(&t);
	cr_expect_eq(irq, 1);
	fd.resets = 0;
	wr(STATUS, 0);
	cr_expect_eq(fd.resets, 1);
	cr_expect_eq(irq, 0);
	cr_expect_eq(rd(STATUS), 0);
	cr_expect_eq(rd(INT_STATUS), 0);
	cr_expect_eq(rd(QUEUE_READY), 0);
	init_t(&fresh, &fl);
	fresh.irq.ctx = &irq;
	expect_same(&fresh, &t);
}

/* --- register widths and configuration space ---------------------------------------------- */

Test(vmmio, registers_are_32_bit_only)
{
	cr_expect_eq(rd_n(MAGIC, 1), 0);
	cr_expect_eq(rd_n(MAGIC, 2), 0);
	cr_expect_eq(rd_n(MAGIC, 8), 0);
	wr_n(STATUS, 1, S_ACK);
	wr_n(STATUS, 8, S_ACK);
	cr_expect_eq(rd(STATUS), 0);
	cr_expect_eq(rd(0x0f8), 0, "unknown register");
	cr_expect_eq(rd(QUEUE_NUM), 0, "write-only register");
	cr_expect_eq(rd(MAGIC + 2), 0, "unaligned");
}

Test(vmmio, config_space_reads)
{
	cr_expect_eq(rd_n(CONFIG, 1), 0x10);
	cr_expect_eq(rd_n(CONFIG + 1, 2), 0x1211);
	cr_expect_eq(rd_n(CONFIG + 4, 4), 0x17161514);
	cr_expect_eq(rd_n(CONFIG + 4, 8), 0x1b1a191817161514ull);
	cr_expect_eq(rd_n(CONFIG + CFG_LEN - 1, 1), 0x10 + CFG_LEN - 1);
}

Test(vmmio, config_space_bounds)
{
	cr_expect_eq(rd_n(CONFIG + CFG_LEN, 1), 0);
	cr_expect_eq(rd_n(CONFIG + CFG_LEN - 2, 4), 0, "straddles the end");
	cr_expect_eq(rd_n(CONFIG + 8, 8), 0, "straddles the end");
	cr_expect_eq(rd_n(VIRTIO_MMIO_SIZE - 4, 4), 0);
	wr_n(CONFIG + CFG_LEN - 2, 4, 0);
	wr_n(CONFIG + CFG_LEN, 1, 0);
	for (unsigned i = 0; i < CFG_LEN; i++)
		cr_expect_eq(fd.config[i], 0x10 + i);
	wr_n(CONFIG + 2, 2, 0xabcd);
	cr_expect_eq(fd.last_write_off, 2);
	cr_expect_eq(fd.last_write_len, 2);
	cr_expect_eq(rd_n(CONFIG + 2, 2), 0xabcd);
}

Test(vmmio, config_generation)
{
	virtio_mmio_config_changed(&t);
	cr_expect_eq(rd(CONFIG_GEN), 1);
	cr_expect_eq(irq, -1, "no interrupt before DRIVER_OK");
	bring_up();
	virtio_mmio_config_changed(&t);
	cr_expect_eq(rd(CONFIG_GEN), 1, "reset starts again at 0");
	cr_expect_eq(rd(INT_STATUS), VIRTIO_INT_CONFIG);
	cr_expect_eq(irq, 1);
}

/* --- saved state -------------------------------------------------------------------------------- */

/* A running device part-way through its queues, an interrupt pending. */
static void make_busy(void)
{
	bring_up();
	t.q[0].last_avail = 70;
	t.q[0].used_idx = 65;
	t.q[0].signalled_used = 60;
	t.q[0].signalled_valid = 1;
	t.q[1].last_avail = 5;
	t.q[1].used_idx = 5;
	wr(QUEUE_SEL, 1);
	wr(DEV_FEATURES_SEL, 1);
	wr(DRV_FEATURES_SEL, 1);
	virtio_mmio_config_changed(&t);
	virtio_mmio_signal(&t, VIRTIO_INT_USED);
}

static void save(const struct virtio_mmio *x, struct dev_state *d)
{
	memset(d, 0, sizeof(*d));
	cr_assert_eq(virtio_mmio_save(x, d), 0);
}

Test(vmmio, save_restore_round_trip)
{
	struct virtio_mmio v;
	struct dev_state d, e;
	int vl;

	make_busy();
	save(&t, &d);
	cr_expect_eq(d.nfields, 7 + NQ * VIRTIO_FQ_COUNT);
	init_t(&v, &vl);
	cr_assert_eq(virtio_mmio_restore(&v, &d), 0);
	cr_expect_eq(vl, 1, "line not re-driven");
	v.irq.ctx = &irq;
	expect_same(&v, &t);
	save(&v, &e);
	cr_assert_eq(e.nfields, d.nfields);
	for (unsigned i = 0; i < d.nfields; i++) {
		cr_expect_eq(e.fields[i].id, d.fields[i].id);
		cr_expect_eq(e.fields[i].value, d.fields[i].value, "field %#x", d.fields[i].id);
	}
}

Test(vmmio, restore_of_a_fresh_device)
{
	struct virtio_mmio v;
	struct dev_state d;
	int vl;

	save(&t, &d);
	init_t(&v, &vl);
	v.status = S_ACK;
	cr_assert_eq(virtio_mmio_restore(&v, &d), 0);
	cr_expect_eq(vl, 0);
	v.irq.ctx = &irq;
	expect_same(&v, &t);
}

Test(vmmio, restore_accepts_zero_queues_beyond_the_device)
{
	struct dev_state d;

	make_busy();
	save(&t, &d);
	for (unsigned f = 0; f < VIRTIO_FQ_COUNT; f++)
		cr_assert_eq(dev_state_put(&d, VIRTIO_F_QUEUE(NQ) + f, 0), 0);
	cr_expect_eq(virtio_mmio_restore(&t, &d), 0);
}

Test(vmmio, save_runs_out_of_room)
{
	struct dev_state d;

	memset(&d, 0, sizeof(d));
	d.nfields = DEV_MAX_FIELDS - 3;
	cr_expect_eq(virtio_mmio_save(&t, &d), -ENOSPC);
	d.nfields = DEV_MAX_FIELDS - 7 - 1;
	cr_expect_eq(virtio_mmio_save(&t, &d), -ENOSPC);
}

struct bad_state {
	char what[48];
	uint32_t field;
	int remove;             /* drop the field instead of setting it */
	uint64_t value;
	int add;                /* append the field */
};

#define Q0(f)   (VIRTIO_F_QUEUE(0) + VIRTIO_FQ_##f)
#define Q1(f)   (VIRTIO_F_QUEUE(1) + VIRTIO_FQ_##f)

ParameterizedTestParameters(vmmio, restore_rejects)
{
	static struct bad_state cases[] = {
		{ "status DRIVER without ACK", .field = VIRTIO_F_STATUS,
		  .value = S_DRV | S_FOK | S_DOK },
		{ "status DRIVER_OK without FEATURES_OK", .field = VIRTIO_F_STATUS,
		  .value = S_ACK | S_DRV | S_DOK },
		{ "status unknown bit", .field = VIRTIO_F_STATUS,
		  .value = S_ACK | S_DRV | S_FOK | S_DOK | 0x10 },
		{ "status > 32 bits", .field = VIRTIO_F_STATUS, .value = 1ull << 32 | S_ACK },
		{ "features not offered", .field = VIRTIO_F_DRIVER_FEATURES,
		  .value = ALL | 1ull << 2 },
		{ "FEATURES_OK without VERSION_1", .field = VIRTIO_F_DRIVER_FEATURES,
		  .value = ALL & ~(1ull << VIRTIO_F_VERSION_1) },
		{ "dev features sel > 32 bits", .field = VIRTIO_F_DEV_FEATURES_SEL,
		  .value = 1ull << 32 },
		{ "drv features sel > 32 bits", .field = VIRTIO_F_DRV_FEATURES_SEL,
		  .value = 1ull << 32 },
		{ "queue sel beyond no-queue", .field = VIRTIO_F_QUEUE_SEL,
		  .value = VIRTIO_MMIO_MAX_QUEUES + 1 },
		{ "isr bit 2", .field = VIRTIO_F_ISR, .value = 4 },
		{ "config generation > 32 bits", .field = VIRTIO_F_CONFIG_GEN,
		  .value = 1ull << 32 },
		{ "size not a power of 2", .field = Q0(SIZE), .value = 96 },
		{ "size above QueueNumMax", .field = Q0(SIZE), .value = 2 * QMAX },
		{ "ready with size 0", .field = Q0(SIZE), .value = 0 },
		{ "ready 2", .field = Q0(READY), .value = 2 },
		{ "desc outside RAM", .field = Q0(DESC), .value = BASE + RAM - 0x100 },
		{ "avail misaligned", .field = Q0(AVAIL), .value = BASE + 0x24001 },
		{ "used outside RAM", .field = Q0(USED), .value = 0x1000 },
		{ "last_avail > 16 bits", .field = Q0(LAST_AVAIL), .value = 0x10000 },
		{ "used_idx ahead of last_avail", .field = Q0(USED_IDX), .value = 71 },
		{ "more in flight than the queue holds", .field = Q0(USED_IDX),
		  .value = 70 - QMAX - 1 + 0x10000 },
		{ "signalled_used > 16 bits", .field = Q0(SIGNALLED_USED), .value = 0x10000 },
		{ "signalled_valid 2", .field = Q0(SIGNALLED_VALID), .value = 2 },
		{ "not ready but moved on", .field = Q1(READY), .value = 0 },
		{ "queue beyond the device", .add = 1,
		  .field = VIRTIO_F_QUEUE(NQ) + VIRTIO_FQ_SIZE, .value = 16 },
		{ "last queue, nonzero", .add = 1,
		  .field = VIRTIO_F_QUEUE(VIRTIO_MMIO_MAX_QUEUES - 1) + VIRTIO_FQ_DESC,
		  .value = 1 },
		{ "status missing", .field = VIRTIO_F_STATUS, .remove = 1 },
		{ "features missing", .field = VIRTIO_F_DRIVER_FEATURES, .remove = 1 },
		{ "dev features sel missing", .field = VIRTIO_F_DEV_FEATURES_SEL, .remove = 1 },
		{ "drv features sel missing", .field = VIRTIO_F_DRV_FEATURES_SEL, .remove = 1 },
		{ "queue sel missing", .field = VIRTIO_F_QUEUE_SEL, .remove = 1 },
		{ "isr missing", .field = VIRTIO_F_ISR, .remove = 1 },
		{ "config generation missing", .field = VIRTIO_F_CONFIG_GEN, .remove = 1 },
		{ "queue 1 used missing", .field = Q1(USED), .remove = 1 },
		{ "queue 0 ready missing", .field = Q0(READY), .remove = 1 },
		{ "queue 0 signalled_valid missing", .field = Q0(SIGNALLED_VALID),
		  .remove = 1 },
	};


	return cr_make_param_array(struct bad_state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void damage(struct dev_state *d, const struct bad_state *c)
{
	if (c->add) {
		cr_assert_eq(dev_state_put(d, c->field, c->value), 0);
		return;
	}
	for (uint32_t i = 0; i < d->nfields; i++) {
		if (d->fields[i].id != c->field)
			continue;
		if (c->remove)
			d->fields[i].id = 999;
		else
			d->fields[i].value = c->value;
	}
}

ParameterizedTest(struct bad_state *c, vmmio, restore_rejects)
{
	struct virtio_mmio before;
	struct dev_state d;

	make_busy();
	save(&t, &d);
	damage(&d, c);
	wr(INT_ACK, 3);
	memcpy(&before, &t, sizeof(t));
	irq = 7;        /* not a level: shows whether the line was driven */
	cr_assert_eq(virtio_mmio_restore(&t, &d), -EINVAL, "%s accepted", c->what);
	expect_same(&before, &t);
	cr_expect_eq(irq, 7, "%s: drove the line", c->what);
}

/* The restore refusals that need a state make_busy does not reach. */
Test(vmmio, restore_rejects_features_before_driver)
{
	struct dev_state d;

	wr(STATUS, S_ACK);
	save(&t, &d);
	damage(&d, &(struct bad_state){ .field = VIRTIO_F_DRIVER_FEATURES,
					.value = 1ull << VIRTIO_F_VERSION_1 });
	cr_expect_eq(virtio_mmio_restore(&t, &d), -EINVAL);
}

Test(vmmio, restore_rejects_indices_before_driver_ok)
{
	struct dev_state d;

	negotiate(ALL);
	setup_queue(0, 64);
	save(&t, &d);
	cr_assert_eq(virtio_mmio_restore(&t, &d), 0);
	damage(&d, &(struct bad_state){ .field = Q0(LAST_AVAIL), .value = 1 });
	cr_expect_eq(virtio_mmio_restore(&t, &d), -EINVAL);
}

/* --- device tree --------------------------------------------------------------------------------- */

Test(vmmio, fdt_node)
{
	static uint8_t buf[4096];
	struct fdt_writer w = { buf, 10, 2 };
	const struct dev_cfg cfg = { DEV_VIRTIO_BLK, SPI, 0x0a003000, VIRTIO_MMIO_SIZE };
	const fdt32_t *irqs;
	const char *compat;
	int off, len;

	cr_assert_eq(fdt_create(buf, sizeof(buf)), 0);
	cr_assert_eq(fdt_finish_reservemap(buf), 0);
	cr_assert_eq(fdt_begin_node(buf, ""), 0);
	cr_assert_eq(fdt_property_u32(buf, "#address-cells", 2), 0);
	cr_assert_eq(fdt_property_u32(buf, "#size-cells", 2), 0);
	cr_assert_eq(virtio_mmio_fdt(&w, &cfg), 0);
	cr_assert_eq(fdt_end_node(buf), 0);
	cr_assert_eq(fdt_finish(buf), 0);
	off = fdt_path_offset(buf, "/virtio_mmio@a003000");
	cr_assert_geq(off, 0);
	compat = fdt_getprop(buf, off, "compatible", &len);
	cr_assert_not_null(compat);
	cr_expect_str_eq(compat, "virtio,mmio");
	cr_expect_eq(len, (int)sizeof("virtio,mmio"));
	cr_expect_not_null(fdt_getprop(buf, off, "dma-coherent", &len));
	cr_expect_eq(len, 0);
	cr_expect_not_null(fdt_getprop(buf, off, "reg", &len));
	cr_expect_eq(len, 16);
	irqs = fdt_getprop(buf, off, "interrupts", &len);
	cr_assert_not_null(irqs);
	cr_expect_eq(len, 12);
	cr_expect_eq(fdt32_to_cpu(irqs[0]), FDT_GIC_SPI);
	cr_expect_eq(fdt32_to_cpu(irqs[1]), SPI);
	cr_expect_eq(fdt32_to_cpu(irqs[2]), FDT_IRQ_LEVEL_HIGH);

	cr_assert_eq(fdt_create(buf, 128), 0);
	cr_assert_eq(fdt_finish_reservemap(buf), 0);
	cr_assert_eq(fdt_begin_node(buf, ""), 0);
	cr_expect_eq(virtio_mmio_fdt(&w, &cfg), -ENOSPC);
}
