/* test_virtio_rng.c - the token bucket driven with fake times, and the
 * device with its thread as a driver sees it: requests filled, the rate
 * limit, chains with no room, a malformed queue, quiesce and thaw, and a
 * restored driver that goes on. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "devices.h"
#include "le.h"
#include "memmap.h"
#include "virtio_mmio.h"
#include "virtio_rng.h"

/* --- the bucket ------------------------------------------------------------- */

#define T0      1000000000000ull        /* any monotonic time */
#define MS      1000000ull

Test(bucket, a_full_bucket_gives_its_burst_then_nothing)
{
	struct vrng_bucket b = { VRNG_BURST, T0 };

	cr_expect_eq(vrng_take(&b, 1 << 20), VRNG_BURST, "a partial fill of the burst");
	cr_expect_eq(b.tokens, 0);
	cr_expect_eq(vrng_take(&b, 512), 0);
	b = vrng_refill(b, T0);
	cr_expect_eq(b.tokens, 0, "no time, no tokens");
}

Test(bucket, refills_at_the_rate)
{
	struct vrng_bucket b = vrng_refill((struct vrng_bucket){ 0, T0 }, T0 + MS);

	cr_expect_eq(b.tokens, VRNG_RATE / 1000, "a millisecond's worth");
	cr_expect_eq(b.last_ns, T0 + MS);
	b = vrng_refill((struct vrng_bucket){ 0, T0 }, T0 + 10 * VRNG_NS_PER_BYTE - 1);
	cr_expect_eq(b.tokens, 9);
	cr_expect_eq(b.last_ns, T0 + 9 * VRNG_NS_PER_BYTE, "the unearned time is kept");
}

/* Refilled every 700 ns (under a byte's time each time), the bucket earns
 * what one refill over the whole time would: no fraction is lost. */
Test(bucket, frequent_refills_lose_nothing)
{
	struct vrng_bucket b = { 0, T0 };
	uint64_t t;

	for (t = T0; t <= T0 + 50 * MS; t += 700)
		b = vrng_refill(b, t);
	cr_expect_eq(b.tokens, (t - 700 - T0) / VRNG_NS_PER_BYTE);
}

Test(bucket, never_above_the_burst)
{
	struct vrng_bucket b = vrng_refill((struct vrng_bucket){ 60000, T0 }, T0 + 1000 * MS);

	cr_expect_eq(b.tokens, VRNG_BURST);
	cr_expect_eq(b.last_ns, T0 + 1000 * MS);
	b = vrng_refill(b, T0 + 2000 * MS);
	cr_expect_eq(b.tokens, VRNG_BURST);
	/* Time spent full is not banked: a burst, then the rate again. */
	cr_expect_eq(vrng_take(&b, VRNG_BURST), VRNG_BURST);
	b = vrng_refill(b, T0 + 2000 * MS + MS);
	cr_expect_eq(b.tokens, VRNG_RATE / 1000);
}

Test(bucket, long_idle_does_not_overflow)
{
	struct vrng_bucket b = vrng_refill((struct vrng_bucket){ 0, T0 },
					   T0 + 10ull * 3600 * 1000 * MS);

	cr_expect_eq(b.tokens, VRNG_BURST, "10 hours");
	b = vrng_refill((struct vrng_bucket){ 0, 0 }, UINT64_MAX);
	cr_expect_eq(b.tokens, VRNG_BURST, "the whole clock");
	b = vrng_refill((struct vrng_bucket){ 0, T0 },
			T0 + (uint64_t)VRNG_BURST * VRNG_NS_PER_BYTE - 1);
	cr_expect_eq(b.tokens, VRNG_BURST - 1, "just under the time to fill");
}

Test(bucket, a_clock_going_back_changes_nothing)
{
	struct vrng_bucket b = vrng_refill((struct vrng_bucket){ 100, T0 }, T0 - MS);

	cr_expect_eq(b.tokens, 100);
	cr_expect_eq(b.last_ns, T0);
}

/* A chain costs at least VRNG_CHAIN_COST, so tiny and empty chains are
 * throttled too; the bucket stops at 0. */
Test(bucket, a_chain_costs_at_least_its_minimum)
{
	struct vrng_bucket b = { 1000, T0 };

	cr_expect_eq(vrng_take(&b, 1), 1);
	cr_expect_eq(b.tokens, 1000 - VRNG_CHAIN_COST);
	cr_expect_eq(vrng_take(&b, 0), 0);
	cr_expect_eq(b.tokens, 1000 - 2 * VRNG_CHAIN_COST);
	cr_expect_eq(vrng_take(&b, 500), 500);
	cr_expect_eq(b.tokens, 1000 - 2 * VRNG_CHAIN_COST - 500);
	b.tokens = 10;
	cr_expect_eq(vrng_take(&b, 1), 1);
	cr_expect_eq(b.tokens, 0);
}

Test(bucket, ready_at_is_when_refill_has_them)
{
	struct vrng_bucket b = { 0, T0 };
	uint64_t at = vrng_ready_at(b, VRNG_QUANTUM);

	cr_expect_eq(at, T0 + (uint64_t)VRNG_QUANTUM * VRNG_NS_PER_BYTE);
	cr_expect_geq(vrng_refill(b, at).tokens, VRNG_QUANTUM);
	cr_expect_lt(vrng_refill(b, at - 1).tokens, VRNG_QUANTUM);
	b.tokens = 100;
	at = vrng_ready_at(b, 1000);
	cr_expect_geq(vrng_refill(b, at).tokens, 1000);
	cr_expect_lt(vrng_refill(b, at - 1).tokens, 1000);
	cr_expect_eq(vrng_ready_at(b, 50), T0, "already there");
	cr_expect_eq(vrng_ready_at(b, 1 << 30), vrng_ready_at(b, VRNG_BURST),
		     "never more than a burst");
}

/* --- the device, its thread and the transport ------------------------------- */

#define GUEST_BASE      0x80000000ull
#define QSIZE           16
enum {
	R_MAGIC = 0x00, R_DEVICE_ID = 0x08, R_DEV_FEATURES = 0x10,
	R_DRV_FEATURES = 0x20, R_DRV_FEATURES_SEL = 0x24, R_QUEUE_SEL = 0x30,
	R_QUEUE_NUM_MAX = 0x34, R_QUEUE_NUM = 0x38, R_QUEUE_READY = 0x44,
	R_QUEUE_NOTIFY = 0x50, R_ISR = 0x60, R_STATUS = 0x70, R_DESC = 0x80,
	R_DRIVER = 0x90, R_DEVICE = 0xa0,
	/* guest RAM offsets */
	O_DESC = 0x0, O_AVAIL = 0x1000, O_USED = 0x2000, O_DATA = 0x10000,
};

static uint8_t ram[1 << 20] __attribute__((aligned(4096)));
static pthread_mutex_t bus = PTHREAD_MUTEX_INITIALIZER;
static int level;

static void set_level(void *ctx, uint32_t spi, int l)
{
	(void)ctx;
	(void)spi;
	level = l;
}

static void wr(void *dev, uint64_t off, uint32_t v)
{
	uint8_t d[4];

	le_put32(d, v);
	pthread_mutex_lock(&bus);
	virtio_rng_dev_ops.mmio(dev, off, d, 4, 1);
	pthread_mutex_unlock(&bus);
}

static uint32_t rd(void *dev, uint64_t off)
{
	uint8_t d[4] = { 0 };

	pthread_mutex_lock(&bus);
	virtio_rng_dev_ops.mmio(dev, off, d, 4, 0);
	pthread_mutex_unlock(&bus);
	return le_get32(d);
}

static void wr64(void *dev, uint64_t off, uint64_t v)
{
	wr(dev, off, (uint32_t)v);
	wr(dev, off + 4, (uint32_t)(v >> 32));
}

static void *create(void)
{
	struct dev_env env = { { set_level, NULL, virtio_rng_dev_ops.dflt.spi },
			       NULL, NULL, NULL, { ram, GUEST_BASE, sizeof(ram) },
			       &bus, NULL, NULL };
	void *dev = virtio_rng_dev_ops.create(&env);

	cr_assert_not_null(dev);
	return dev;
}

/* Linux's bring-up: VERSION_1 only, one queue of QSIZE. */
static void *bring_up(void)
{
	void *dev = create();

	memset(ram, 0, sizeof(ram));
	cr_assert_eq(rd(dev, R_MAGIC), 0x74726976);
	cr_assert_eq(rd(dev, R_DEVICE_ID), VIRTIO_ID_RNG);
	cr_assert_eq(rd(dev, R_DEV_FEATURES) & 0xffffff, 0, "no device features");
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(dev, R_DRV_FEATURES_SEL, 1);
	wr(dev, R_DRV_FEATURES, 1);
	wr(dev, R_DRV_FEATURES_SEL, 0);
	wr(dev, R_DRV_FEATURES, 0);
	wr(dev, R_STATUS, 0xb);
	cr_assert_eq(rd(dev, R_STATUS), 0xb, "FEATURES_OK kept");
	wr(dev, R_QUEUE_SEL, 0);
	cr_assert_eq(rd(dev, R_QUEUE_NUM_MAX), VRNG_QUEUE_MAX);
	wr(dev, R_QUEUE_NUM, QSIZE);
	wr64(dev, R_DESC, GUEST_BASE + O_DESC);
	wr64(dev, R_DRIVER, GUEST_BASE + O_AVAIL);
	wr64(dev, R_DEVICE, GUEST_BASE + O_USED);
	wr(dev, R_QUEUE_READY, 1);
	wr(dev, R_STATUS, 0xf);
	cr_assert_eq(rd(dev, R_STATUS), 0xf);
	return dev;
}

static void desc(unsigned i, uint64_t off, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + O_DESC + 16 * i;

	le_put64(d, GUEST_BASE + off);
	le_put32(d + 8, len);
	le_put16(d + 12, flags);
	le_put16(d + 14, next);
}

static void make_available(uint16_t head)
{
	uint16_t idx = le_get16(ram + O_AVAIL + 2);

	le_put16(ram + O_AVAIL + 4 + 2 * (idx % QSIZE), head);
	__atomic_store_n((uint16_t *)(ram + O_AVAIL + 2), (uint16_t)(idx + 1),
			 __ATOMIC_RELEASE);
}

/* Request n: one writable buffer of len bytes at off, made available (not
 * notified). */
static void post(unsigned n, uint64_t off, uint32_t len)
{
	desc(n, off, len, VQ_DESC_F_WRITE, 0);
	make_available((uint16_t)n);
}

static uint16_t used_idx(void)
{
	return __atomic_load_n((uint16_t *)(ram + O_USED + 2), __ATOMIC_ACQUIRE);
}

static uint32_t used_len(unsigned i)
{
	return le_get32(ram + O_USED + 4 + 8 * (i % QSIZE) + 4);
}

static int wait_used(uint16_t want)
{
	for (int i = 0; i < 2000 && used_idx() != want; i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return used_idx() == want;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(vrng, requests_are_filled_and_interrupt)
{
	void *dev = bring_up();

	post(0, O_DATA, 64);
	post(1, O_DATA + 64, 64);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(2), "no completion");
	cr_expect_eq(used_len(0), 64);
	cr_expect_eq(used_len(1), 64);
	cr_expect_not(all_zero(ram + O_DATA, 64), "request 0 filled");
	cr_expect_not(all_zero(ram + O_DATA + 64, 64), "request 1 filled");
	cr_expect_neq(memcmp(ram + O_DATA, ram + O_DATA + 64, 64), 0, "two requests differ");
	cr_expect(all_zero(ram + O_DATA + 128, 64), "nothing beyond the buffers");
	pthread_mutex_lock(&bus);
	cr_expect_eq(level, 1, "line raised");
	pthread_mutex_unlock(&bus);
	cr_expect_eq(rd(dev, R_ISR), VIRTIO_INT_USED);
	virtio_rng_dev_ops.destroy(dev);
}

/* A readable buffer first (allowed, if useless): only the writable ones are
 * filled and counted; a chain with none is returned with length 0. */
Test(vrng, only_writable_buffers_are_filled)
{
	void *dev = bring_up();

	memset(ram + O_DATA, 0x5a, 32);
	desc(0, O_DATA, 32, VQ_DESC_F_NEXT, 1);
	desc(1, O_DATA + 32, 100, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(2, O_DATA + 132, 28, VQ_DESC_F_WRITE, 0);
	make_available(0);
	desc(3, O_DATA + 256, 16, 0, 0);
	make_available(3);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(2));
	cr_expect_eq(used_len(0), 128);
	for (int i = 0; i < 32; i++)
		cr_assert_eq(ram[O_DATA + i], 0x5a, "readable byte %d written", i);
	cr_expect_not(all_zero(ram + O_DATA + 132, 28), "the second writable buffer");
	cr_expect_eq(used_len(1), 0, "no writable buffer");
	cr_expect(all_zero(ram + O_DATA + 256, 16));
	virtio_rng_dev_ops.destroy(dev);
}

/* A burst, served whole from the bucket a new device starts with; then the
 * next chain waits for the rate, and gets only what the bucket earned. */
Test(vrng, the_rate_limit_holds)
{
	void *dev = bring_up();
	double t0 = now_s(), t;
	uint32_t second;

	post(0, O_DATA, 128 << 10);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(1));
	cr_expect_eq(used_len(0), VRNG_BURST, "a partial fill: the burst");
	post(1, O_DATA + (128 << 10), VRNG_BURST);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(2));
	t = now_s() - t0;
	second = used_len(1);
	cr_expect_geq(t, (double)VRNG_QUANTUM / VRNG_RATE,
		      "served after %.4f s, before the bucket held a quantum", t);
	cr_expect_geq(second, VRNG_QUANTUM);
	cr_expect_lt(second, VRNG_BURST, "the second chain is a partial fill");
	cr_expect_leq(VRNG_BURST + second, VRNG_BURST + VRNG_RATE * t + 1,
		      "%u bytes in %.4f s", VRNG_BURST + second, t);
	virtio_rng_dev_ops.destroy(dev);
}

/* A loop in the driver's chain: DEVICE_NEEDS_RESET and a configuration
 * interrupt; a reset brings the device back. */
Test(vrng, malformed_queue_needs_reset)
{
	void *dev = bring_up();

	desc(0, O_DATA, 16, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 0);
	make_available(0);
	wr(dev, R_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 2000 && !(rd(dev, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	cr_assert(rd(dev, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_expect(rd(dev, R_ISR) & VIRTIO_INT_CONFIG);
	cr_expect_eq(used_idx(), 0, "nothing used");
	cr_expect(all_zero(ram + O_DATA, 16), "nothing written");
	wr(dev, R_STATUS, 0);
	cr_expect_eq(rd(dev, R_STATUS), 0);
	virtio_rng_dev_ops.destroy(dev);
	dev = bring_up();
	post(1, O_DATA, 16);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_expect(wait_used(1), "the device works again after the reset");
	virtio_rng_dev_ops.destroy(dev);
}

/* quiesce serves what was made available but never notified, waiting for
 * tokens if it must, then nothing more until thaw, notified or not, even
 * once the bucket has refilled. */
Test(vrng, quiesce_serves_then_freezes_until_thaw)
{
	void *dev = bring_up();

	post(0, O_DATA, VRNG_BURST);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(1), "the burst");
	/* The thread's sleep for tokens is over: it waits for a kick. */
	nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	post(1, O_DATA + VRNG_BURST, 64);
	post(2, O_DATA + VRNG_BURST + 64, 64);
	/* The last one empties the bucket again: the thread sleeps for it. */
	post(3, O_DATA + VRNG_BURST + 128, VRNG_BURST);
	cr_assert_eq(virtio_rng_dev_ops.quiesce(dev), 0);
	cr_expect_eq(used_idx(), 4, "every available chain used");
	cr_expect_eq(used_len(1), 64);
	cr_expect_eq(used_len(2), 64);
	cr_expect_gt(used_len(3), 0);
	post(4, O_DATA + 3 * VRNG_BURST, 64);
	wr(dev, R_QUEUE_NOTIFY, 0);
	nanosleep(&(struct timespec){ 0, 30000000 }, NULL);
	cr_expect_eq(used_idx(), 4, "served while frozen");
	cr_expect(all_zero(ram + O_DATA + 3 * VRNG_BURST, 64),
		  "guest memory written while frozen");
	virtio_rng_dev_ops.thaw(dev);
	cr_expect(wait_used(5), "not served after thaw");
	virtio_rng_dev_ops.destroy(dev);
}

/* A checkpoint's state restored into a new device: the driver goes on,
 * and a chain made available after the checkpoint, never notified, is
 * served. */
Test(vrng, a_restored_driver_goes_on)
{
	void *a = bring_up(), *b;
	static struct dev_state sa, sb;
	uint64_t v;

	post(0, O_DATA, 64);
	wr(a, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(1));
	cr_assert_eq(virtio_rng_dev_ops.quiesce(a), 0);
	post(1, O_DATA + 64, 64);
	pthread_mutex_lock(&bus);
	virtio_rng_dev_ops.save(a, virtio_rng_dev_ops.dflt.base, &sa);
	pthread_mutex_unlock(&bus);
	virtio_rng_dev_ops.destroy(a);
	cr_expect_eq(used_idx(), 1, "nothing served by the checkpoint");
	cr_expect_eq(sa.type, DEV_VIRTIO_RNG);
	cr_expect_eq(sa.blob_len, 0);
	cr_assert_eq(dev_state_get(&sa, VIRTIO_F_QUEUE(0) + VIRTIO_FQ_LAST_AVAIL, &v), 0);
	cr_expect_eq(v, 1);

	b = create();
	pthread_mutex_lock(&bus);
	cr_assert_eq(virtio_rng_dev_ops.restore(b, &sa), 0);
	pthread_mutex_unlock(&bus);
	cr_assert(wait_used(2), "the restored device does not go on");
	cr_expect_eq(used_len(1), 64);
	cr_expect_not(all_zero(ram + O_DATA + 64, 64));
	pthread_mutex_lock(&bus);
	virtio_rng_dev_ops.save(b, virtio_rng_dev_ops.dflt.base, &sb);
	pthread_mutex_unlock(&bus);
	cr_assert_eq(dev_state_get(&sb, VIRTIO_F_STATUS, &v), 0);
	cr_expect_eq(v, 0xf);
	cr_assert_eq(dev_state_get(&sb, VIRTIO_F_QUEUE(0) + VIRTIO_FQ_LAST_AVAIL, &v), 0);
	cr_expect_eq(v, 2);
	post(2, O_DATA + 128, 64);
	wr(b, R_QUEUE_NOTIFY, 0);
	cr_expect(wait_used(3), "notifications after the restore");
	virtio_rng_dev_ops.destroy(b);
}
