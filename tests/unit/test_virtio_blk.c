/* test_virtio_blk.c - virtio-blk requests against a scratch disk: reads,
 * writes, flush, GET_ID, discard and write-zeroes, every malformed request,
 * the configuration space and the features. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "le.h"
#include "virtio_blk.h"

#define DISK_BYTES      (64 * 1024)

static char path[64];
static struct disk disk;
static struct vblk_stats st;

static void make_disk(int readonly, const char *serial)
{
	struct disk_spec s = { path, readonly, serial };
	char err[256];
	int fd;

	snprintf(path, sizeof(path), "/tmp/torpor_vblk.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	for (int i = 0; i < DISK_BYTES; i++)
		cr_assert_eq(write(fd, &(uint8_t){ (uint8_t)(i * 7 + i / 512) }, 1), 1);
	close(fd);
	memset(&disk, 0, sizeof(disk));
	cr_assert_eq(disk_open(&disk, &s, err, sizeof(err)), 0, "%s", err);
	memset(&st, 0, sizeof(st));
}

static void setup(void)
{
	make_disk(0, "torpor-test-serial");
}

static void teardown(void)
{
	disk_close(&disk);
	unlink(path);
}

TestSuite(vblk, .init = setup, .fini = teardown);

static uint8_t disk_byte(uint64_t off)
{
	uint8_t b;
	int fd = open(path, O_RDONLY);

	cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
	close(fd);
	return b;
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 512);
}

/* A chain as Linux builds it: header, data buffers, then the status byte. */
struct req {
	uint8_t hdr[16];
	uint8_t data[4096];
	uint8_t status;
	struct vq_chain c;
};

static void add(struct vq_chain *c, void *p, uint32_t len, int writable)
{
	c->buf[c->n] = (struct vq_buf){ p, len, (uint8_t)writable };
	c->n++;
	if (writable)
		c->in_bytes += len;
	else
		c->out_bytes += len;
}

static void req(struct req *r, uint32_t type, uint64_t sector, uint32_t len,
		int data_writable)
{
	memset(r, 0, sizeof(*r));
	r->status = 0xee;
	le_put32(r->hdr, type);
	le_put64(r->hdr + 8, sector);
	add(&r->c, r->hdr, 16, 0);
	if (len)
		add(&r->c, r->data, len, data_writable);
	add(&r->c, &r->status, 1, 1);
}

Test(vblk, read_returns_the_disk)
{
	struct req r;

	req(&r, VBLK_T_IN, 3, 1024, 1);
	cr_assert_eq(vblk_serve(&disk, &r.c, &st), 1025);
	cr_assert_eq(r.status, VBLK_S_OK);
	for (int i = 0; i < 1024; i++)
		cr_assert_eq(r.data[i], pattern(3 * 512 + i), "byte %d", i);
	cr_expect_eq(st.read_bytes, 1024);
}

Test(vblk, write_reaches_the_disk)
{
	struct req r;

	req(&r, VBLK_T_OUT, 10, 512, 0);
	memset(r.data, 0xa5, 512);
	cr_assert_eq(vblk_serve(&disk, &r.c, &st), 1);
	cr_assert_eq(r.status, VBLK_S_OK);
	cr_expect_eq(disk_byte(10 * 512), 0xa5);
	cr_expect_eq(disk_byte(10 * 512 + 511), 0xa5);
	cr_expect_eq(disk_byte(11 * 512), pattern(11 * 512));
}

/* The spec lets a driver frame the request any way: a header split over two
 * buffers, data split over several. */
Test(vblk, header_and_data_may_span_buffers)
{
	uint8_t h1[5], h2[11], d1[100], d2[412], status = 0xee;
	struct vq_chain c = { 0 };
	uint8_t hdr[16] = { 0 };

	le_put32(hdr, VBLK_T_IN);
	le_put64(hdr + 8, 2);
	memcpy(h1, hdr, 5);
	memcpy(h2, hdr + 5, 11);
	add(&c, h1, 5, 0);
	add(&c, h2, 11, 0);
	add(&c, d1, 100, 1);
	add(&c, d2, 412, 1);
	add(&c, &status, 1, 1);
	cr_assert_eq(vblk_serve(&disk, &c, &st), 513);
	cr_assert_eq(status, VBLK_S_OK);
	cr_expect_eq(d1[0], pattern(1024));
	cr_expect_eq(d2[0], pattern(1024 + 100));
	cr_expect_eq(d2[411], pattern(1024 + 511));
}

/* The status byte may share the last writable buffer with data. */
Test(vblk, status_is_the_last_writable_byte)
{
	uint8_t hdr[16] = { 0 }, in[513];
	struct vq_chain c = { 0 };

	le_put32(hdr, VBLK_T_IN);
	add(&c, hdr, 16, 0);
	add(&c, in, 513, 1);
	in[512] = 0xee;
	cr_assert_eq(vblk_serve(&disk, &c, &st), 513);
	cr_expect_eq(in[512], VBLK_S_OK);
	cr_expect_eq(in[0], pattern(0));
}

Test(vblk, last_sector_ok_one_past_refused)
{
	struct req r;

	req(&r, VBLK_T_IN, DISK_BYTES / 512 - 1, 512, 1);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_OK);
	req(&r, VBLK_T_IN, DISK_BYTES / 512 - 1, 1024, 1);
	cr_expect_eq(vblk_serve(&disk, &r.c, &st), 1, "nothing read on error");
	cr_expect_eq(r.status, VBLK_S_IOERR);
	req(&r, VBLK_T_OUT, DISK_BYTES / 512, 512, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	cr_expect_eq(disk.size, DISK_BYTES, "nothing written past the end");
}

/* A sector that overflows 64 bits once multiplied must not wrap around to
 * the start of the disk. */
Test(vblk, huge_sector_does_not_wrap)
{
	struct req r;

	req(&r, VBLK_T_OUT, (UINT64_MAX / 512) + 2, 512, 0);
	memset(r.data, 0x11, 512);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	req(&r, VBLK_T_OUT, UINT64_MAX, 512, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	cr_expect_eq(disk_byte(512), pattern(512));
	cr_expect_eq(disk_byte(0), pattern(0));
}

Test(vblk, partial_sector_is_an_error)
{
	struct req r;

	req(&r, VBLK_T_IN, 0, 100, 1);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	req(&r, VBLK_T_OUT, 0, 100, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	cr_expect_eq(st.errors, 2);
}

Test(vblk, short_header_is_an_error)
{
	uint8_t hdr[8] = { 0 }, status = 0xee;
	struct vq_chain c = { 0 };

	add(&c, hdr, 8, 0);
	add(&c, &status, 1, 1);
	cr_assert_eq(vblk_serve(&disk, &c, &st), 1);
	cr_expect_eq(status, VBLK_S_IOERR);
}

Test(vblk, no_status_byte_returns_nothing)
{
	uint8_t hdr[16] = { 0 };
	struct vq_chain c = { 0 };

	add(&c, hdr, 16, 0);
	cr_expect_eq(vblk_serve(&disk, &c, &st), 0);
	cr_expect_eq(st.errors, 1);
}

Test(vblk, unknown_type_is_unsupported)
{
	struct req r;

	req(&r, 99, 0, 0, 0);
	cr_assert_eq(vblk_serve(&disk, &r.c, &st), 1);
	cr_expect_eq(r.status, VBLK_S_UNSUPP);
	cr_expect_eq(st.unsupported, 1);
}

Test(vblk, flush)
{
	struct req r;

	req(&r, VBLK_T_FLUSH, 0, 0, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_OK);
	cr_expect_eq(st.flushes, 1);
}

Test(vblk, get_id_pads_the_serial)
{
	struct req r;

	req(&r, VBLK_T_GET_ID, 0, 20, 1);
	memset(r.data, 0xee, 20);
	cr_assert_eq(vblk_serve(&disk, &r.c, &st), 21);
	cr_expect_eq(r.status, VBLK_S_OK);
	cr_expect_eq(memcmp(r.data, "torpor-test-serial\0\0", 20), 0);
}

static void range(struct req *r, uint32_t type, uint64_t sector, uint32_t num,
		  uint32_t flags)
{
	req(r, type, 0, 16, 0);
	le_put64(r->data, sector);
	le_put32(r->data + 8, num);
	le_put32(r->data + 12, flags);
}

Test(vblk, write_zeroes_and_discard_read_back_zero)
{
	struct req r;

	range(&r, VBLK_T_WRITE_ZEROES, 8, 8, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_assert_eq(r.status, VBLK_S_OK);
	range(&r, VBLK_T_WRITE_ZEROES, 16, 8, 1);
	vblk_serve(&disk, &r.c, &st);
	cr_assert_eq(r.status, VBLK_S_OK);
	range(&r, VBLK_T_DISCARD, 24, 8, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_assert_eq(r.status, VBLK_S_OK);
	for (uint64_t off = 8 * 512; off < 32 * 512; off += 511)
		cr_expect_eq(disk_byte(off), 0, "offset %llu", (unsigned long long)off);
	cr_expect_eq(disk_byte(8 * 512 - 1), pattern(8 * 512 - 1));
	cr_expect_eq(disk_byte(32 * 512), pattern(32 * 512));
}

Test(vblk, range_refusals)
{
	struct req r;

	range(&r, VBLK_T_DISCARD, 0, 8, 1);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_UNSUPP, "discard takes no flags");
	range(&r, VBLK_T_WRITE_ZEROES, 0, 8, 2);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_UNSUPP, "unknown write-zeroes flag");
	range(&r, VBLK_T_WRITE_ZEROES, DISK_BYTES / 512 - 4, 8, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR, "past the end");
	range(&r, VBLK_T_DISCARD, UINT64_MAX - 2, 8, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR, "wrapping sector");
	req(&r, VBLK_T_DISCARD, 0, 32, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_UNSUPP, "two segments");
	cr_expect_eq(disk_byte(DISK_BYTES - 1), pattern(DISK_BYTES - 1));
}

Test(vblk, read_only_disk_refuses_writes)
{
	struct req r;

	teardown();
	make_disk(1, NULL);
	req(&r, VBLK_T_OUT, 0, 512, 0);
	memset(r.data, 0x42, 512);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	range(&r, VBLK_T_WRITE_ZEROES, 0, 8, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	range(&r, VBLK_T_DISCARD, 0, 8, 0);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_IOERR);
	cr_expect_eq(disk_byte(0), pattern(0));
	req(&r, VBLK_T_IN, 0, 512, 1);
	vblk_serve(&disk, &r.c, &st);
	cr_expect_eq(r.status, VBLK_S_OK);
}

Test(vblk, config_space_and_features)
{
	uint8_t cfg[VBLK_CONFIG_LEN];
	uint64_t f = vblk_features(&disk);

	vblk_config(&disk, cfg);
	cr_expect_eq(le_get64(cfg), DISK_BYTES / 512, "capacity");
	cr_expect_eq(le_get32(cfg + 12), VBLK_SEG_MAX);
	cr_expect_eq(le_get32(cfg + 20), 512, "blk_size");
	cr_expect_eq(le_get32(cfg + 40), 1, "max_discard_seg");
	cr_expect(f & 1ull << VBLK_F_FLUSH);
	cr_expect(f & 1ull << VBLK_F_DISCARD);
	cr_expect(f & 1ull << VBLK_F_WRITE_ZEROES);
	cr_expect(!(f & 1ull << VBLK_F_RO));
	teardown();
	make_disk(1, NULL);
	f = vblk_features(&disk);
	cr_expect(f & 1ull << VBLK_F_RO);
	cr_expect(!(f & 1ull << VBLK_F_DISCARD));
}

/* --- the device, its thread and the transport, as a driver sees them ------ */

#include <pthread.h>
#include <time.h>

#include "devices.h"
#include "virtio_mmio.h"

#define GUEST_BASE      0x80000000ull
#define QSIZE           16
enum {
	R_DRV_FEATURES = 0x20, R_DRV_FEATURES_SEL = 0x24, R_QUEUE_SEL = 0x30,
	R_QUEUE_NUM = 0x38, R_QUEUE_READY = 0x44, R_QUEUE_NOTIFY = 0x50,
	R_ISR = 0x60, R_ACK = 0x64, R_STATUS = 0x70, R_DESC = 0x80,
	R_DRIVER = 0x90, R_DEVICE = 0xa0,
	/* guest RAM offsets */
	O_DESC = 0x0, O_AVAIL = 0x1000, O_USED = 0x2000, O_HDR = 0x3000,
	O_DATA = 0x4000, O_STATUS = 0x6000,
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
	virtio_blk_dev_ops.mmio(dev, off, d, 4, 1);
	pthread_mutex_unlock(&bus);
}

static uint32_t rd(void *dev, uint64_t off)
{
	uint8_t d[4] = { 0 };

	pthread_mutex_lock(&bus);
	virtio_blk_dev_ops.mmio(dev, off, d, 4, 0);
	pthread_mutex_unlock(&bus);
	return le_get32(d);
}

static void wr64(void *dev, uint64_t off, uint64_t v)
{
	wr(dev, off, (uint32_t)v);
	wr(dev, off + 4, (uint32_t)(v >> 32));
}

/* Linux's bring-up: VERSION_1 only, one queue of QSIZE. */
static void *bring_up(void)
{
	struct dev_env env = { { set_level, NULL, 16 }, NULL, NULL, NULL,
			       { ram, GUEST_BASE, sizeof(ram) }, &bus, &disk, NULL };
	void *dev = virtio_blk_dev_ops.create(&env);

	cr_assert_not_null(dev);
	memset(ram, 0, sizeof(ram));
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(dev, R_DRV_FEATURES_SEL, 1);
	wr(dev, R_DRV_FEATURES, 1);
	wr(dev, R_DRV_FEATURES_SEL, 0);
	wr(dev, R_DRV_FEATURES, 0);
	wr(dev, R_STATUS, 0xb);
	cr_assert_eq(rd(dev, R_STATUS), 0xb, "FEATURES_OK kept");
	wr(dev, R_QUEUE_SEL, 0);
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

/* Request n: a read of sector n, made available (not notified). */
static void post_read(unsigned n)
{
	uint16_t idx = le_get16(ram + O_AVAIL + 2);

	le_put32(ram + O_HDR + 16 * n, VBLK_T_IN);
	le_put64(ram + O_HDR + 16 * n + 8, n);
	ram[O_STATUS + n] = 0xee;
	desc(3 * n, O_HDR + 16 * n, 16, VQ_DESC_F_NEXT, (uint16_t)(3 * n + 1));
	desc(3 * n + 1, O_DATA + 512 * n, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE,
	     (uint16_t)(3 * n + 2));
	desc(3 * n + 2, O_STATUS + n, 1, VQ_DESC_F_WRITE, 0);
	le_put16(ram + O_AVAIL + 4 + 2 * (idx % QSIZE), (uint16_t)(3 * n));
	__atomic_store_n((uint16_t *)(ram + O_AVAIL + 2), (uint16_t)(idx + 1),
			 __ATOMIC_RELEASE);
}

static uint16_t used_idx(void)
{
	return __atomic_load_n((uint16_t *)(ram + O_USED + 2), __ATOMIC_ACQUIRE);
}

static int wait_used(uint16_t want)
{
	for (int i = 0; i < 2000 && used_idx() != want; i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return used_idx() == want;
}

Test(vblk, device_serves_a_notified_request_and_interrupts)
{
	void *dev = bring_up();

	post_read(1);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(1), "no completion");
	cr_expect_eq(ram[O_STATUS + 1], VBLK_S_OK);
	cr_expect_eq(ram[O_DATA + 512], pattern(512));
	cr_expect_eq(le_get32(ram + O_USED + 4), 3, "used id: the head");
	cr_expect_eq(le_get32(ram + O_USED + 8), 513, "used len");
	pthread_mutex_lock(&bus);
	cr_expect_eq(level, 1, "line raised");
	pthread_mutex_unlock(&bus);
	cr_expect_eq(rd(dev, R_ISR), VIRTIO_INT_USED);
	wr(dev, R_ACK, VIRTIO_INT_USED);
	cr_expect_eq(level, 0, "line lowered by the ACK");
	virtio_blk_dev_ops.destroy(dev);
}

/* A checkpoint's quiesce serves what was made available but never
 * notified, and returns only once its used entries are in guest memory. */
Test(vblk, quiesce_serves_unnotified_requests)
{
	void *dev = bring_up();

	post_read(1);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_assert(wait_used(1));
	for (unsigned n = 2; n < 5; n++)
		post_read(n);
	cr_assert_eq(virtio_blk_dev_ops.quiesce(dev), 0);
	cr_expect_eq(used_idx(), 4, "every available chain used");
	for (unsigned n = 2; n < 5; n++) {
		cr_expect_eq(ram[O_STATUS + n], VBLK_S_OK, "request %u", n);
		cr_expect_eq(ram[O_DATA + 512 * n], pattern(512 * n));
	}
	virtio_blk_dev_ops.destroy(dev);
}

/* A loop in the driver's chain: DEVICE_NEEDS_RESET and a configuration
 * interrupt; a reset brings the device back. */
Test(vblk, malformed_chain_needs_reset)
{
	void *dev = bring_up();

	post_read(1);
	desc(3, O_HDR + 16, 16, VQ_DESC_F_NEXT, 3);
	wr(dev, R_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 2000 && !(rd(dev, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	cr_assert(rd(dev, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_expect(rd(dev, R_ISR) & VIRTIO_INT_CONFIG);
	cr_expect_eq(used_idx(), 0, "nothing used");
	wr(dev, R_STATUS, 0);
	cr_expect_eq(rd(dev, R_STATUS), 0);
	virtio_blk_dev_ops.destroy(dev);
	dev = bring_up();
	post_read(2);
	wr(dev, R_QUEUE_NOTIFY, 0);
	cr_expect(wait_used(1), "the device works again after the reset");
	virtio_blk_dev_ops.destroy(dev);
}
