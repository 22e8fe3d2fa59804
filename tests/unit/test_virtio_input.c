/* test_virtio_input.c - torpor's buttons as Linux's virtio_input driver sees
 * them: the configuration space, presses in the eventq's layout, presses
 * that wait for buffers, the status queue, a malformed queue, the saved
 * state and reset. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "devices.h"
#include "le.h"
#include "memmap.h"
#include "virtio_input.h"
#include "virtio_mmio.h"

#define GUEST_BASE      0x80000000ull
#define QSIZE           16
enum {
	R_MAGIC = 0x00, R_DEVICE_ID = 0x08, R_DRV_FEATURES = 0x20,
	R_DRV_FEATURES_SEL = 0x24, R_QUEUE_SEL = 0x30, R_QUEUE_NUM = 0x38,
	R_QUEUE_READY = 0x44, R_QUEUE_NOTIFY = 0x50, R_ISR = 0x60, R_STATUS = 0x70,
	R_DESC = 0x80, R_DRIVER = 0x90, R_DEVICE = 0xa0, R_CONFIG = 0x100,
	/* guest RAM offsets: queue q's rings at q * O_QUEUE */
	O_DESC = 0x0, O_AVAIL = 0x1000, O_USED = 0x2000, O_QUEUE = 0x4000,
	O_DATA = 0x10000,
};
#define ops virtio_input_dev_ops

static uint8_t ram[1 << 20] __attribute__((aligned(4096)));
static int level;

static void set_level(void *ctx, uint32_t spi, int l)
{
	(void)ctx;
	cr_assert_eq(spi, ops.dflt.spi);
	level = l;
}

static void wr(void *dev, uint64_t off, uint32_t v)
{
	uint8_t d[4];

	le_put32(d, v);
	ops.mmio(dev, off, d, 4, 1);
}

static uint32_t rd(void *dev, uint64_t off)
{
	uint8_t d[4] = { 0 };

	ops.mmio(dev, off, d, 4, 0);
	return le_get32(d);
}

static void wr8(void *dev, uint64_t off, uint8_t v)
{
	ops.mmio(dev, off, &v, 1, 1);
}

static uint8_t rd8(void *dev, uint64_t off)
{
	uint8_t v = 0xee;

	ops.mmio(dev, off, &v, 1, 0);
	return v;
}

static void wr64(void *dev, uint64_t off, uint64_t v)
{
	wr(dev, off, (uint32_t)v);
	wr(dev, off + 4, (uint32_t)(v >> 32));
}

static void *create(void)
{
	struct dev_env env = { { set_level, NULL, ops.dflt.spi }, NULL, NULL, NULL,
			       { ram, GUEST_BASE, sizeof(ram) }, NULL, NULL, NULL };
	void *dev = ops.create(&env);

	cr_assert_not_null(dev);
	return dev;
}

/* Linux's bring-up up to (not including) DRIVER_OK: VERSION_1, two queues. */
static void configure(void *dev)
{
	cr_assert_eq(rd(dev, R_MAGIC), 0x74726976);
	cr_assert_eq(rd(dev, R_DEVICE_ID), VIRTIO_ID_INPUT);
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(dev, R_DRV_FEATURES_SEL, 1);
	wr(dev, R_DRV_FEATURES, 1);
	wr(dev, R_DRV_FEATURES_SEL, 0);
	wr(dev, R_DRV_FEATURES, 0);
	wr(dev, R_STATUS, 0xb);
	for (unsigned q = 0; q < 2; q++) {
		wr(dev, R_QUEUE_SEL, q);
		wr(dev, R_QUEUE_NUM, QSIZE);
		wr64(dev, R_DESC, GUEST_BASE + q * O_QUEUE + O_DESC);
		wr64(dev, R_DRIVER, GUEST_BASE + q * O_QUEUE + O_AVAIL);
		wr64(dev, R_DEVICE, GUEST_BASE + q * O_QUEUE + O_USED);
		wr(dev, R_QUEUE_READY, 1);
	}
}

static void *bring_up(void)
{
	void *dev = create();

	memset(ram, 0, sizeof(ram));
	level = 0;
	configure(dev);
	wr(dev, R_STATUS, 0xf);
	cr_assert_eq(rd(dev, R_STATUS), 0xf);
	return dev;
}

/* Buffer n of queue q: len device-writable bytes at O_DATA + 8n (n < QSIZE),
 * made available. */
static void post(unsigned q, unsigned n, uint32_t len)
{
	uint8_t *d = ram + q * O_QUEUE + O_DESC + 16 * n, *avail = ram + q * O_QUEUE + O_AVAIL;
	uint16_t idx = le_get16(avail + 2);

	le_put64(d, GUEST_BASE + O_DATA + 8 * n + q * 0x1000);
	le_put32(d + 8, len);
	le_put16(d + 12, q ? 0 : VQ_DESC_F_WRITE);
	le_put16(d + 14, 0);
	le_put16(avail + 4 + 2 * (idx % QSIZE), (uint16_t)n);
	le_put16(avail + 2, (uint16_t)(idx + 1));
}

static uint16_t used_idx(unsigned q)
{
	return le_get16(ram + q * O_QUEUE + O_USED + 2);
}

static uint32_t used_len(unsigned q, unsigned i)
{
	return le_get32(ram + q * O_QUEUE + O_USED + 4 + 8 * (i % QSIZE) + 4);
}

static struct vinput_event event_at(unsigned n)
{
	return vinput_event_get(ram + O_DATA + 8 * n);
}

/* Events n.. of the eventq's buffers are a press and release of key. */
static void expect_press(unsigned n, uint16_t key)
{
	static const struct { uint16_t type; int key; uint32_t value; } want[] = {
		{ EV_KEY, 1, 1 }, { EV_SYN, 0, 0 },
		{ EV_KEY, 1, 0 }, { EV_SYN, 0, 0 },
	};

	for (unsigned i = 0; i < 4; i++) {
		struct vinput_event e = event_at(n + i);

		cr_expect_eq(e.type, want[i].type, "event %u: type %u", n + i, e.type);
		cr_expect_eq(e.code, want[i].key ? key : 0, "event %u: code %u", n + i, e.code);
		cr_expect_eq(e.value, want[i].value, "event %u: value %u", n + i, e.value);
	}
}

static uint8_t cfg_size(void *dev, uint8_t select, uint8_t subsel)
{
	wr8(dev, R_CONFIG, select);
	wr8(dev, R_CONFIG + 1, subsel);
	return rd8(dev, R_CONFIG + 2);
}

Test(vinput, configuration_space)
{
	void *dev = create();
	uint8_t u[128];

	cr_expect_eq(cfg_size(dev, VINPUT_CFG_ID_NAME, 0), strlen(VINPUT_NAME));
	for (unsigned i = 0; i < strlen(VINPUT_NAME); i++)
		cr_expect_eq(rd8(dev, R_CONFIG + 8 + i), (uint8_t)VINPUT_NAME[i]);
	cr_expect_eq(rd8(dev, R_CONFIG), VINPUT_CFG_ID_NAME, "select reads back");
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_ID_SERIAL, 0), strlen(VINPUT_SERIAL));
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_ID_DEVIDS, 0), 8);
	cr_expect_eq(rd(dev, R_CONFIG + 8), VINPUT_BUSTYPE | (uint32_t)VINPUT_VENDOR << 16);
	cr_expect_eq(rd(dev, R_CONFIG + 12), VINPUT_PRODUCT | (uint32_t)VINPUT_VERSION << 16);
	/* KEY_POWER 116 is bit 4 of byte 14; KEY_SLEEP 142 and KEY_WAKEUP 143
	 * bits 6 and 7 of byte 17; nothing else. */
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_EV_BITS, EV_KEY), 18);
	for (unsigned i = 0; i < 128; i++)
		cr_expect_eq(rd8(dev, R_CONFIG + 8 + i), i == 14 ? 0x10 : i == 17 ? 0xc0 : 0,
			     "key bitmap byte %u", i);
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_EV_BITS, EV_SYN), 0);
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_EV_BITS, 0x11), 0, "no LEDs");
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_PROP_BITS, 0), 0);
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_ABS_INFO, 0), 0);
	cr_expect_eq(cfg_size(dev, VINPUT_CFG_ID_NAME, 1), 0, "a name has no subsel");
	cr_expect_eq(cfg_size(dev, 0x7f, 0), 0);
	cr_expect_eq(vinput_config(0xff, 0xff, u), 0);
	/* The driver writes select and subsel only. */
	cfg_size(dev, VINPUT_CFG_ID_NAME, 0);
	wr8(dev, R_CONFIG + 2, 99);
	wr8(dev, R_CONFIG + 8, 'X');
	cr_expect_eq(rd8(dev, R_CONFIG + 2), strlen(VINPUT_NAME));
	cr_expect_eq(rd8(dev, R_CONFIG + 8), (uint8_t)VINPUT_NAME[0]);
	/* Past the configuration space: zeros, not the union. */
	cr_expect_eq(rd8(dev, R_CONFIG + VINPUT_CONFIG_LEN), 0);
	cr_expect_eq(rd(dev, R_CONFIG + VINPUT_CONFIG_LEN - 2), 0);
	ops.destroy(dev);
}

Test(vinput, keys)
{
	cr_expect(vinput_has_key(KEY_POWER) && vinput_has_key(KEY_SLEEP) &&
		  vinput_has_key(KEY_WAKEUP));
	cr_expect_not(vinput_has_key(0) || vinput_has_key(28) || vinput_has_key(141) ||
		      vinput_has_key(144));
}

/* The wire layout is little-endian whatever the host. */
Test(vinput, event_layout)
{
	struct vinput_event e = { 0x0102, 0x0304, 0x05060708 }, back;
	uint8_t b[8];

	vinput_event_put(b, &e);
	cr_expect_eq(memcmp(b, "\x02\x01\x04\x03\x08\x07\x06\x05", 8), 0);
	back = vinput_event_get(b);
	cr_expect(back.type == e.type && back.code == e.code && back.value == e.value);
}

Test(vinput, presses_reach_the_driver)
{
	void *dev = bring_up();

	for (unsigned n = 0; n < 8; n++)
		post(0, n, 8);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_expect_eq(used_idx(0), 0, "nothing to tell yet");
	cr_assert_eq(ops.press(dev, KEY_SLEEP), 0);
	cr_assert_eq(used_idx(0), 4);
	expect_press(0, KEY_SLEEP);
	for (unsigned i = 0; i < 4; i++)
		cr_expect_eq(used_len(0, i), 8);
	cr_expect_eq(level, 1, "line raised");
	cr_expect_eq(rd(dev, R_ISR), VIRTIO_INT_USED);
	cr_assert_eq(ops.press(dev, KEY_POWER), 0);
	cr_assert_eq(used_idx(0), 8);
	expect_press(4, KEY_POWER);
	ops.destroy(dev);
}

Test(vinput, a_press_needs_a_listening_driver)
{
	void *dev = create();

	memset(ram, 0, sizeof(ram));
	cr_expect_eq(ops.press(dev, KEY_SLEEP), -EAGAIN, "not set up");
	configure(dev);
	cr_expect_eq(ops.press(dev, KEY_SLEEP), -EAGAIN, "not DRIVER_OK");
	wr(dev, R_STATUS, 0xf);
	cr_expect_eq(ops.press(dev, 30), -EINVAL, "KEY_A is not a button");
	cr_expect_eq(ops.press(dev, KEY_SLEEP), 0);
	ops.reset(dev);
	cr_expect_eq(ops.press(dev, KEY_SLEEP), -EAGAIN, "reset");
	ops.destroy(dev);
}

/* Without buffers a press waits, and goes out as buffers come; a buffer
 * too small for an event comes back empty. */
Test(vinput, presses_wait_for_buffers)
{
	void *dev = bring_up();

	cr_assert_eq(ops.press(dev, KEY_SLEEP), 0);
	cr_expect_eq(used_idx(0), 0);
	post(0, 0, 8);
	post(0, 1, 4);
	post(0, 2, 8);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert_eq(used_idx(0), 3);
	cr_expect_eq(used_len(0, 1), 0, "a 4-byte buffer holds no event");
	cr_expect_eq(event_at(0).code, KEY_SLEEP);
	cr_expect_eq(event_at(0).value, 1);
	cr_expect_eq(event_at(2).type, EV_SYN);
	post(0, 3, 8);
	post(0, 4, 8);
	post(0, 5, 8);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert_eq(used_idx(0), 5, "the last buffer is kept for the next event");
	cr_expect_eq(event_at(3).value, 0, "the release");
	cr_expect_eq(event_at(4).type, EV_SYN);
	ops.destroy(dev);
}

Test(vinput, a_full_ring_refuses_a_press)
{
	void *dev = bring_up();

	for (unsigned i = 0; i < VINPUT_PENDING / 4; i++)
		cr_assert_eq(ops.press(dev, KEY_POWER), 0, "press %u", i);
	cr_expect_eq(ops.press(dev, KEY_POWER), -ENOSPC);
	ops.destroy(dev);
}

Test(vinput, status_chains_come_back)
{
	void *dev = bring_up();

	post(1, 0, 8);
	post(1, 1, 8);
	wr(dev, R_QUEUE_NOTIFY, 1);
	cr_expect_eq(used_idx(1), 2);
	cr_expect_eq(used_len(1, 0), 0);
	cr_expect_eq(level, 1);
	ops.destroy(dev);
}

/* An avail index past the queue's size: the device stops and asks for a
 * reset, and presses are refused until then. */
Test(vinput, a_malformed_queue_needs_a_reset)
{
	void *dev = bring_up();

	le_put16(ram + O_AVAIL + 2, QSIZE + 1);
	cr_expect_eq(ops.press(dev, KEY_SLEEP), -EAGAIN, "the press found it");
	cr_expect(rd(dev, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_expect_eq(used_idx(0), 0);
	cr_expect_eq(ops.press(dev, KEY_SLEEP), -EAGAIN);
	ops.destroy(dev);
}

Test(vinput, reset_drops_waiting_events)
{
	void *dev = bring_up();

	cr_assert_eq(ops.press(dev, KEY_SLEEP), 0);
	ops.reset(dev);
	memset(ram, 0, sizeof(ram));
	configure(dev);
	wr(dev, R_STATUS, 0xf);
	post(0, 0, 8);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_expect_eq(used_idx(0), 0, "a press from before the reset");
	cr_expect_eq(cfg_size(dev, 0, 0), 0, "select back to 0");
	ops.destroy(dev);
}

static void expect_same(const struct dev_state *a, const struct dev_state *b)
{
	cr_assert_eq(a->nfields, b->nfields);
	for (uint32_t i = 0; i < a->nfields; i++) {
		cr_expect_eq(a->fields[i].id, b->fields[i].id);
		cr_expect_eq(a->fields[i].value, b->fields[i].value, "field 0x%x",
			     a->fields[i].id);
	}
	cr_assert_eq(a->blob_len, b->blob_len);
	cr_expect_eq(memcmp(a->blob, b->blob, a->blob_len), 0);
}

/* Waiting events and the select survive a checkpoint, and are delivered
 * once the restored driver gives buffers. */
Test(vinput, state_round_trip)
{
	void *dev = bring_up(), *back = create();
	struct dev_state *s = calloc(2, sizeof(*s));
	uint64_t n;

	cr_assert_not_null(s);
	cr_assert_eq(ops.press(dev, KEY_SLEEP), 0);
	cfg_size(dev, VINPUT_CFG_EV_BITS, EV_KEY);
	ops.save(dev, ops.dflt.base, &s[0]);
	cr_expect_eq(s[0].type, DEV_VIRTIO_INPUT);
	cr_expect_eq(dev_state_get(&s[0], VINPUT_F_PENDING, &n), 0);
	cr_expect_eq(n, 4);
	cr_expect_eq(s[0].blob_len, 32);
	cr_expect_leq(s[0].blob_len, ops.max_blob);
	cr_assert_eq(ops.restore(back, &s[0]), 0);
	ops.save(back, ops.dflt.base, &s[1]);
	expect_same(&s[0], &s[1]);
	cr_expect_eq(rd8(back, R_CONFIG + 2), 18, "the select came back");
	post(0, 0, 8);
	post(0, 1, 8);
	post(0, 2, 8);
	post(0, 3, 8);
	wr(back, R_QUEUE_NOTIFY, 0);
	cr_assert_eq(used_idx(0), 4);
	expect_press(0, KEY_SLEEP);
	ops.destroy(back);
	ops.destroy(dev);
	free(s);
}

Test(vinput, restore_refuses_inconsistent_state)
{
	void *dev = bring_up(), *back = create();
	struct dev_state *s = calloc(1, sizeof(*s)), *t = calloc(1, sizeof(*t));

	cr_assert(s && t);
	cr_assert_eq(ops.press(dev, KEY_SLEEP), 0);
	ops.save(dev, ops.dflt.base, s);
	*t = *s;
	t->blob_len = 24;
	cr_expect_eq(ops.restore(back, t), -EINVAL, "blob shorter than its count");
	*t = *s;
	for (uint32_t i = 0; i < t->nfields; i++)
		if (t->fields[i].id == VINPUT_F_PENDING)
			t->fields[i].value = VINPUT_PENDING + 1;
	cr_expect_eq(ops.restore(back, t), -EINVAL, "a count its blob does not hold");
	*t = *s;
	for (uint32_t i = 0; i < t->nfields; i++)
		if (t->fields[i].id == VINPUT_F_SELECT)
			t->fields[i].value = 0x100;
	cr_expect_eq(ops.restore(back, t), -EINVAL, "a select wider than a byte");
	*t = *s;
	t->type = DEV_VIRTIO_RNG;
	cr_expect_eq(ops.restore(back, t), -EINVAL, "another type");
	cr_expect_eq(ops.restore(back, s), 0);
	ops.destroy(back);
	ops.destroy(dev);
	free(s);
	free(t);
}
