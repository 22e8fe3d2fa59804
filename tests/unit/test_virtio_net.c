/* test_virtio_net.c - virtio-net: the header checks, frame limits, offload
 * mapping and configuration space as plain functions; then the device with
 * its thread, as a driver sees it, over a tap that is one end of a datagram
 * socket pair (one datagram, one frame with its 12-byte header): transmit,
 * receive with and without merged buffers, drops, the control queue, the
 * announce after a restore, reset, quiesce and thaw, save and restore. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "le.h"
#include "virtio_net.h"

#define BIT(b)          (1ull << (b))

/* --- the pure parts --------------------------------------------------------- */

static void hdr(uint8_t h[VNET_HDR_LEN], uint8_t flags, uint8_t gso, uint16_t hdr_len,
		uint16_t gso_size, uint16_t csum_start, uint16_t csum_offset)
{
	memset(h, 0, VNET_HDR_LEN);
	h[0] = flags;
	h[1] = gso;
	le_put16(h + 2, hdr_len);
	le_put16(h + 4, gso_size);
	le_put16(h + 6, csum_start);
	le_put16(h + 8, csum_offset);
}

struct tx_case {
	uint8_t flags, gso;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
	uint32_t frame_len;
	uint64_t features;
	int ok;
	char what[48];
};

#define CSUM    VNET_HDR_F_NEEDS_CSUM
#define TSO4    VNET_HDR_GSO_TCPV4
#define TSO6    VNET_HDR_GSO_TCPV6
#define F_CSUM  BIT(VNET_FEAT_CSUM)
#define F_TSO   (F_CSUM | BIT(VNET_FEAT_HOST_TSO4) | BIT(VNET_FEAT_HOST_TSO6))

ParameterizedTestParameters(vnet, tx_check)
{
	static struct tx_case cases[] = {
		{ 0, 0, 0, 0, 0, 0, 60, 0, 1, "a plain frame" },
		{ 0, 0, 0, 0, 0, 0, 14, 0, 1, "just an Ethernet header" },
		{ 0, 0, 0, 0, 0, 0, 13, 0, 0, "shorter than an Ethernet header" },
		{ 0, 0, 0, 0, 0, 0, 1518, 0, 1, "MTU 1500 with a VLAN tag" },
		{ 0, 0, 0, 0, 0, 0, 1519, F_TSO, 0, "too long without segmentation" },
		{ VNET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 60, F_CSUM, 0, "DATA_VALID" },
		{ 4, 0, 0, 0, 0, 0, 60, F_CSUM, 0, "RSC_INFO" },
		{ CSUM, 0, 0, 0, 34, 16, 60, F_CSUM, 1, "a partial checksum" },
		{ CSUM, 0, 0, 0, 34, 16, 60, 0, 0, "a partial checksum not negotiated" },
		{ CSUM, 0, 0, 0, 42, 16, 60, F_CSUM, 1, "checksum field at the end" },
		{ CSUM, 0, 0, 0, 43, 16, 60, F_CSUM, 0, "checksum field past the end" },
		{ CSUM, 0, 0, 0, 65535, 65535, 60, F_CSUM, 0, "offsets adding up past 16 bits" },
		{ 0, 0, 61, 0, 0, 0, 60, 0, 0, "hdr_len beyond the frame" },
		{ CSUM, TSO4, 54, 1448, 34, 16, 9000, F_TSO, 1, "TSO4" },
		{ CSUM, TSO6, 74, 1428, 54, 16, 9000, F_TSO, 1, "TSO6" },
		{ CSUM, TSO4, 54, 1448, 34, 16, 9000, F_CSUM | BIT(VNET_FEAT_HOST_TSO6), 0,
		  "TSO4 not negotiated" },
		{ CSUM, TSO6, 74, 1428, 54, 16, 9000, F_CSUM | BIT(VNET_FEAT_HOST_TSO4), 0,
		  "TSO6 not negotiated" },
		{ CSUM, TSO4 | VNET_HDR_GSO_ECN, 54, 1448, 34, 16, 9000, F_TSO, 0, "ECN" },
		{ CSUM, 3, 42, 1472, 34, 6, 9000, F_TSO, 0, "UFO" },
		{ CSUM, 5, 42, 1472, 34, 6, 9000, F_TSO, 0, "UDP L4 segmentation" },
		{ 0, TSO4, 54, 1448, 0, 0, 9000, F_TSO, 0, "TSO without NEEDS_CSUM" },
		{ CSUM, TSO4, 54, 0, 34, 16, 9000, F_TSO, 0, "TSO with gso_size 0" },
		{ CSUM, TSO4, 54, 1448, 34, 16, 65535 + 18, F_TSO, 1, "the longest TSO frame" },
		{ CSUM, TSO4, 54, 1448, 34, 16, 65535 + 19, F_TSO, 0, "longer than any TSO frame" },
		{ CSUM, TSO4, 9001, 1448, 34, 16, 9000, F_TSO, 0, "TSO hdr_len beyond the frame" },
	};

	return cr_make_param_array(struct tx_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct tx_case *c, vnet, tx_check)
{
	uint8_t h[VNET_HDR_LEN];
	const char *why;

	hdr(h, c->flags, c->gso, c->hdr_len, c->gso_size, c->csum_start, c->csum_offset);
	why = vnet_tx_check(h, c->frame_len, c->features);
	if (c->ok)
		cr_expect_null(why, "%s: refused (%s)", c->what, why);
	else
		cr_expect_not_null(why, "%s: let through", c->what);
}

Test(vnet, frame_limits)
{
	cr_expect_eq(vnet_max_frame(VNET_HDR_GSO_NONE), 1518);
	cr_expect_eq(vnet_max_frame(VNET_HDR_GSO_TCPV4), 65535 + 14 + 4);
	cr_expect_eq(vnet_max_frame(VNET_HDR_GSO_TCPV6), 65535 + 14 + 4);
}

Test(vnet, rx_fix)
{
	uint64_t csum = BIT(VNET_FEAT_GUEST_CSUM);
	uint8_t h[VNET_HDR_LEN];

	hdr(h, 0, 0, 0, 0, 0, 0);
	cr_expect_eq(vnet_rx_fix(h, 0), 0, "a plain frame");
	hdr(h, VNET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
	cr_expect_eq(vnet_rx_fix(h, 0), 0);
	cr_expect_eq(h[0], 0, "DATA_VALID is dropped for a driver without GUEST_CSUM");
	hdr(h, VNET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
	cr_expect_eq(vnet_rx_fix(h, csum), 0);
	cr_expect_eq(h[0], VNET_HDR_F_DATA_VALID, "and kept for one with it");
	hdr(h, CSUM, 0, 0, 0, 34, 16);
	cr_expect_eq(vnet_rx_fix(h, 0), -EINVAL, "a partial checksum it cannot finish");
	cr_expect_eq(vnet_rx_fix(h, csum), 0);
	hdr(h, CSUM, TSO4, 54, 1448, 34, 16);
	cr_expect_eq(vnet_rx_fix(h, csum), -EINVAL, "TSO4 not taken");
	cr_expect_eq(vnet_rx_fix(h, csum | BIT(VNET_FEAT_GUEST_TSO4)), 0);
	hdr(h, CSUM, TSO6, 74, 1428, 54, 16);
	cr_expect_eq(vnet_rx_fix(h, csum | BIT(VNET_FEAT_GUEST_TSO4)), -EINVAL);
	cr_expect_eq(vnet_rx_fix(h, csum | BIT(VNET_FEAT_GUEST_TSO6)), 0);
	hdr(h, CSUM, TSO4 | VNET_HDR_GSO_ECN, 54, 1448, 34, 16);
	cr_expect_eq(vnet_rx_fix(h, ~0ull), -EINVAL, "ECN is never offered");
	hdr(h, 4, 0, 0, 0, 0, 0);
	cr_expect_eq(vnet_rx_fix(h, ~0ull), -EINVAL, "unknown flags");
}

Test(vnet, offload_mapping)
{
	uint64_t csum = BIT(VNET_FEAT_GUEST_CSUM), t4 = BIT(VNET_FEAT_GUEST_TSO4),
		 t6 = BIT(VNET_FEAT_GUEST_TSO6);

	cr_expect_eq(vnet_tun_offloads(0), 0);
	cr_expect_eq(vnet_tun_offloads(BIT(VNET_FEAT_CSUM) | BIT(VNET_FEAT_HOST_TSO4)), 0,
		     "the host's offloads are not the guest's");
	cr_expect_eq(vnet_tun_offloads(csum), TUN_F_CSUM);
	cr_expect_eq(vnet_tun_offloads(csum | t4), TUN_F_CSUM | TUN_F_TSO4);
	cr_expect_eq(vnet_tun_offloads(csum | t6), TUN_F_CSUM | TUN_F_TSO6);
	cr_expect_eq(vnet_tun_offloads(csum | t4 | t6), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	cr_expect_eq(vnet_tun_offloads(t4 | t6), 0, "TSO needs the checksum offload");
}

Test(vnet, config_layout_and_features)
{
	uint8_t mac[MAC_LEN] = { 0x52, 0x54, 0, 1, 2, 3 }, cfg[VNET_CONFIG_LEN];
	uint64_t f = vnet_features();

	vnet_config(mac, VNET_S_LINK_UP | VNET_S_ANNOUNCE, cfg);
	cr_expect_arr_eq(cfg, mac, MAC_LEN);
	cr_expect_eq(le_get16(cfg + 6), 3, "status");
	cr_expect_eq(le_get16(cfg + 8), 1, "max_virtqueue_pairs");
	cr_expect_eq(le_get16(cfg + 10), VNET_MTU, "mtu");
	for (unsigned b = 0; b < 64; b++) {
		int want = b == 0 || b == 1 || b == 3 || b == 5 || b == 7 || b == 8 || b == 11 ||
			   b == 12 || b == 15 || b == 16 || b == 17 || b == 21;

		cr_expect_eq((f >> b) & 1, (uint64_t)want, "feature bit %u", b);
	}
}

/* --- the device, its thread and the transport, as a driver sees them ------ */

#define GUEST_BASE      0x80000000ull
#define QSIZE           16
enum {
	R_DEV_FEATURES = 0x10, R_DEV_FEATURES_SEL = 0x14, R_DRV_FEATURES = 0x20,
	R_DRV_FEATURES_SEL = 0x24, R_QUEUE_SEL = 0x30, R_QUEUE_NUM = 0x38,
	R_QUEUE_READY = 0x44, R_QUEUE_NOTIFY = 0x50, R_ISR = 0x60, R_ACK = 0x64,
	R_STATUS = 0x70, R_DESC = 0x80, R_DRIVER = 0x90, R_DEVICE = 0xa0,
	R_CONFIG_GEN = 0xfc, R_CONFIG = 0x100,
	/* guest RAM: queue q's rings at 0x4000 * q, buffers from O_BUF */
	O_DESC = 0x0, O_AVAIL = 0x1000, O_USED = 0x2000, O_BUF = 0x10000,
	BUF_STRIDE = 0x1000,
};
#define RXQ     VNET_RXQ
#define TXQ     VNET_TXQ
#define CTRLQ   VNET_CTRLQ
/* What Linux negotiates of what the device offers, bar EVENT_IDX and
 * INDIRECT (an interrupt for every used buffer keeps the tests simple). */
#define LINUX   (BIT(VIRTIO_F_VERSION_1) | (vnet_features() & ~BIT(VNET_FEAT_GUEST_TSO6)))

static uint8_t ram[1 << 20] __attribute__((aligned(4096)));
static pthread_mutex_t bus = PTHREAD_MUTEX_INITIALIZER;
static int level;
static struct tap tap;
static int peer = -1;

static void set_level(void *ctx, uint32_t spi, int l)
{
	(void)ctx;
	(void)spi;
	level = l;
}

static void setup(void)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	memset(&tap, 0, sizeof(tap));
	tap.fd = sv[0];
	peer = sv[1];
	strcpy(tap.name, "vnettest");
	mac_default(tap.name, tap.mac);
	/* Room for a few long frames in flight. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
}

static void teardown(void)
{
	close(tap.fd);
	close(peer);
}

TestSuite(vnet_dev, .init = setup, .fini = teardown);

static void wr(void *dev, uint64_t off, uint32_t v)
{
	uint8_t d[4];

	le_put32(d, v);
	pthread_mutex_lock(&bus);
	virtio_net_dev_ops.mmio(dev, off, d, 4, 1);
	pthread_mutex_unlock(&bus);
}

static uint32_t rd(void *dev, uint64_t off)
{
	uint8_t d[4] = { 0 };

	pthread_mutex_lock(&bus);
	virtio_net_dev_ops.mmio(dev, off, d, 4, 0);
	pthread_mutex_unlock(&bus);
	return le_get32(d);
}

static uint32_t rd_cfg(void *dev, uint32_t off, uint32_t len)
{
	uint8_t d[4] = { 0 };

	pthread_mutex_lock(&bus);
	virtio_net_dev_ops.mmio(dev, R_CONFIG + off, d, len, 0);
	pthread_mutex_unlock(&bus);
	return le_get32(d);
}

static void wr64(void *dev, uint64_t off, uint64_t v)
{
	wr(dev, off, (uint32_t)v);
	wr(dev, off + 4, (uint32_t)(v >> 32));
}

static uint8_t *qp(unsigned q, unsigned off)
{
	return ram + 0x4000 * q + off;
}

static void *create(void)
{
	struct dev_env env = { { set_level, NULL, 24 }, NULL, NULL, NULL,
			       { ram, GUEST_BASE, sizeof(ram) }, &bus, &tap, NULL };
	void *dev = virtio_net_dev_ops.create(&env);

	cr_assert_not_null(dev);
	return dev;
}

/* Linux's bring-up of a device: features, FEATURES_OK, the three queues,
 * DRIVER_OK. */
static void drive(void *dev, uint64_t features)
{
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(dev, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(dev, R_DRV_FEATURES_SEL, 1);
	wr(dev, R_DRV_FEATURES, (uint32_t)(features >> 32));
	wr(dev, R_DRV_FEATURES_SEL, 0);
	wr(dev, R_DRV_FEATURES, (uint32_t)features);
	wr(dev, R_STATUS, 0xb);
	cr_assert_eq(rd(dev, R_STATUS), 0xb, "FEATURES_OK kept");
	for (unsigned q = 0; q < VNET_NQUEUES; q++) {
		wr(dev, R_QUEUE_SEL, q);
		cr_assert_eq(rd(dev, 0x34), VNET_QUEUE_MAX, "QueueNumMax");
		wr(dev, R_QUEUE_NUM, QSIZE);
		wr64(dev, R_DESC, GUEST_BASE + 0x4000 * q + O_DESC);
		wr64(dev, R_DRIVER, GUEST_BASE + 0x4000 * q + O_AVAIL);
		wr64(dev, R_DEVICE, GUEST_BASE + 0x4000 * q + O_USED);
		wr(dev, R_QUEUE_READY, 1);
	}
	wr(dev, R_STATUS, 0xf);
	cr_assert_eq(rd(dev, R_STATUS), 0xf);
}

static void *bring_up(uint64_t features)
{
	void *dev;

	memset(ram, 0, sizeof(ram));
	dev = create();
	drive(dev, features);
	return dev;
}

static void desc(unsigned q, unsigned i, uint64_t off, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t *d = qp(q, O_DESC) + 16 * i;

	le_put64(d, GUEST_BASE + off);
	le_put32(d + 8, len);
	le_put16(d + 12, flags);
	le_put16(d + 14, next);
}

static void publish(unsigned q, uint16_t head)
{
	uint16_t idx = le_get16(qp(q, O_AVAIL) + 2);

	le_put16(qp(q, O_AVAIL) + 4 + 2 * (idx % QSIZE), head);
	__atomic_store_n((uint16_t *)qp(q, O_AVAIL + 2), (uint16_t)(idx + 1),
			 __ATOMIC_RELEASE);
}

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n((uint16_t *)qp(q, O_USED + 2), __ATOMIC_ACQUIRE);
}

static uint32_t used_id(unsigned q, unsigned k)
{
	return le_get32(qp(q, O_USED) + 4 + 8 * (k % QSIZE));
}

static uint32_t used_len(unsigned q, unsigned k)
{
	return le_get32(qp(q, O_USED) + 8 + 8 * (k % QSIZE));
}

static void nap(void)
{
	nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}

static int wait_used(unsigned q, uint16_t want)
{
	for (int i = 0; i < 2000 && used_idx(q) != want; i++)
		nap();
	return used_idx(q) == want;
}

static struct vnet_stats stats(void *dev)
{
	struct vnet_stats s;

	pthread_mutex_lock(&bus);
	s = vnet_stats(dev);
	pthread_mutex_unlock(&bus);
	return s;
}

/* Buffer slot s of queue q's descriptors: RAM offset. */
static uint64_t buf(unsigned q, unsigned s)
{
	return O_BUF + (uint64_t)(q * QSIZE + s) * BUF_STRIDE;
}

/* A test frame of len bytes, its bytes a pattern of seed. */
static void frame(uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13 + i / 256);
}

/* TX chain in slot s (descriptors 2s, 2s + 1): the header in one buffer,
 * the frame in the next, as Linux does without any_header_sg. */
static void post_tx(unsigned s, const uint8_t *h, uint32_t len, uint8_t seed)
{
	memcpy(ram + buf(TXQ, s), h, VNET_HDR_LEN);
	frame(ram + buf(TXQ, s) + 64, len, seed);
	desc(TXQ, 2 * s, buf(TXQ, s), VNET_HDR_LEN, VQ_DESC_F_NEXT, (uint16_t)(2 * s + 1));
	desc(TXQ, 2 * s + 1, buf(TXQ, s) + 64, len, 0, 0);
	publish(TXQ, (uint16_t)(2 * s));
}

/* RX buffer in slot s: one writable descriptor s of len bytes. */
static void post_rx(unsigned s, uint32_t len)
{
	memset(ram + buf(RXQ, s), 0xee, len);
	desc(RXQ, s, buf(RXQ, s), len, VQ_DESC_F_WRITE, 0);
	publish(RXQ, (uint16_t)s);
}

/* A datagram on the peer: *len bytes into p, or 0 after a timeout. */
static int peer_recv(uint8_t *p, size_t cap, size_t *len, int timeout_ms)
{
	struct pollfd pfd = { peer, POLLIN, 0 };
	ssize_t r;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return 0;
	r = recv(peer, p, cap, 0);
	if (r < 0)
		return 0;
	*len = (size_t)r;
	return 1;
}

static void peer_send(const uint8_t *h, uint32_t len, uint8_t seed)
{
	static uint8_t d[VNET_HDR_LEN + VNET_MAX_GSO_FRAME + 16];

	memcpy(d, h, VNET_HDR_LEN);
	frame(d + VNET_HDR_LEN, len, seed);
	cr_assert_eq(send(peer, d, VNET_HDR_LEN + len, 0), (ssize_t)(VNET_HDR_LEN + len));
}

/* The frame the guest sent reaches the tap byte for byte, header
 * included; the chain comes back with nothing written, and an interrupt. */
Test(vnet_dev, transmit_reaches_the_tap)
{
	void *dev = bring_up(LINUX);
	static uint8_t got[4096], want[4096];
	uint8_t h[VNET_HDR_LEN];
	size_t len;

	hdr(h, CSUM, 0, 0, 0, 34, 16);
	post_tx(0, h, 100, 7);
	wr(dev, R_QUEUE_NOTIFY, TXQ);
	cr_assert(peer_recv(got, sizeof(got), &len, 2000), "nothing on the tap");
	cr_assert_eq(len, VNET_HDR_LEN + 100);
	memcpy(want, h, VNET_HDR_LEN);
	frame(want + VNET_HDR_LEN, 100, 7);
	cr_expect_arr_eq(got, want, len);
	cr_assert(wait_used(TXQ, 1));
	cr_expect_eq(used_id(TXQ, 0), 0);
	cr_expect_eq(used_len(TXQ, 0), 0);
	cr_expect_eq(rd(dev, R_ISR) & VIRTIO_INT_USED, VIRTIO_INT_USED);
	cr_expect_eq(stats(dev).tx_frames, 1);
	cr_expect_eq(stats(dev).tx_bytes, 100);
	virtio_net_dev_ops.destroy(dev);
}

static int wait_stat(void *dev, const uint64_t *(*field)(const struct vnet_stats *),
		     uint64_t want)
{
	for (int i = 0; i < 2000; i++) {
		struct vnet_stats s = stats(dev);

		if (*field(&s) == want)
			return 1;
		nap();
	}
	return 0;
}

static const uint64_t *tx_dropped(const struct vnet_stats *s) { return &s->tx_dropped; }
static const uint64_t *rx_dropped(const struct vnet_stats *s) { return &s->rx_dropped; }

/* An overlong frame and a header the driver may not send are dropped and
 * counted, their chains returned; a good frame after them goes through. */
Test(vnet_dev, bad_transmits_are_dropped_and_counted)
{
	void *dev = bring_up(LINUX & ~BIT(VNET_FEAT_CSUM) & ~BIT(VNET_FEAT_HOST_TSO4) &
			     ~BIT(VNET_FEAT_HOST_TSO6));
	static uint8_t got[4096];
	uint8_t h[VNET_HDR_LEN];
	size_t len;

	hdr(h, 0, 0, 0, 0, 0, 0);
	post_tx(0, h, 1519, 1);
	hdr(h, CSUM, 0, 0, 0, 34, 16);
	post_tx(1, h, 100, 2);
	hdr(h, 0, TSO4, 54, 1448, 0, 0);
	post_tx(2, h, 1000, 3);
	hdr(h, 0, 0, 0, 0, 0, 0);
	post_tx(3, h, 13, 4);
	post_tx(4, h, 60, 5);
	wr(dev, R_QUEUE_NOTIFY, TXQ);
	cr_assert(wait_used(TXQ, 5));
	cr_expect(wait_stat(dev, tx_dropped, 4));
	for (unsigned k = 0; k < 5; k++)
		cr_expect_eq(used_len(TXQ, k), 0);
	cr_assert(peer_recv(got, sizeof(got), &len, 2000));
	cr_expect_eq(len, VNET_HDR_LEN + 60, "only the good frame");
	cr_expect_eq(got[VNET_HDR_LEN], 5);
	cr_expect(!peer_recv(got, sizeof(got), &len, 50), "nothing else");
	cr_expect_eq(stats(dev).tx_dropped, 4);
	cr_expect_eq(stats(dev).tx_frames, 1);
	virtio_net_dev_ops.destroy(dev);
}

/* A frame from the tap lands in the guest's receive buffers: with
 * MRG_RXBUF over three small ones, num_buffers 3. */
Test(vnet_dev, receive_merges_buffers)
{
	void *dev = bring_up(LINUX);
	uint8_t h[VNET_HDR_LEN], want[VNET_HDR_LEN + 150], got[VNET_HDR_LEN + 150];

	for (unsigned s = 0; s < 4; s++)
		post_rx(s, 64);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	hdr(h, VNET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
	peer_send(h, 150, 9);
	cr_assert(wait_used(RXQ, 3), "used %u", used_idx(RXQ));
	cr_expect_eq(used_len(RXQ, 0), 64);
	cr_expect_eq(used_len(RXQ, 1), 64);
	cr_expect_eq(used_len(RXQ, 2), VNET_HDR_LEN + 150 - 128);
	for (unsigned k = 0; k < 3; k++)
		cr_expect_eq(used_id(RXQ, k), k);
	memcpy(got, ram + buf(RXQ, 0), 64);
	memcpy(got + 64, ram + buf(RXQ, 1), 64);
	memcpy(got + 128, ram + buf(RXQ, 2), sizeof(got) - 128);
	memcpy(want, h, VNET_HDR_LEN);
	le_put16(want + 10, 3);
	frame(want + VNET_HDR_LEN, 150, 9);
	cr_expect_arr_eq(got, want, sizeof(want));
	cr_expect_eq(le_get16(got + 10), 3, "num_buffers");
	cr_expect_eq(ram[buf(RXQ, 3)], 0xee, "the fourth buffer untouched");
	cr_expect_eq(rd(dev, R_ISR) & VIRTIO_INT_USED, VIRTIO_INT_USED);
	cr_expect_eq(stats(dev).rx_frames, 1);
	cr_expect_eq(stats(dev).rx_bytes, 150);
	virtio_net_dev_ops.destroy(dev);
}

/* Without MRG_RXBUF one buffer holds the frame, and num_buffers is 1. */
Test(vnet_dev, receive_into_one_buffer)
{
	void *dev = bring_up(LINUX & ~BIT(VNET_FEAT_MRG_RXBUF));
	uint8_t h[VNET_HDR_LEN];

	post_rx(0, 2048);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	hdr(h, 0, 0, 0, 0, 0, 0);
	le_put16(h + 10, 0x5555);
	peer_send(h, 1514, 3);
	cr_assert(wait_used(RXQ, 1));
	cr_expect_eq(used_len(RXQ, 0), VNET_HDR_LEN + 1514);
	cr_expect_eq(le_get16(ram + buf(RXQ, 0) + 10), 1, "num_buffers");
	cr_expect_eq(ram[buf(RXQ, 0) + VNET_HDR_LEN + 1513],
		     (uint8_t)(3 + 1513 * 13 + 1513 / 256), "the last byte");
	virtio_net_dev_ops.destroy(dev);
}

/* A frame larger than the buffers the guest has posted waits (never a
 * partial frame, and nothing used) until it posts more; then all of its
 * buffers become used at once. */
Test(vnet_dev, frame_waits_for_enough_buffers)
{
	void *dev = bring_up(LINUX);
	uint8_t h[VNET_HDR_LEN];

	post_rx(0, 64);
	post_rx(1, 64);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	hdr(h, 0, 0, 0, 0, 0, 0);
	peer_send(h, 200, 1);
	cr_expect_not(wait_used(RXQ, 1), "delivered into too few buffers");
	cr_expect_eq(stats(dev).rx_dropped, 0, "dropped although it can fit");
	post_rx(2, 64);
	post_rx(3, 64);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	cr_assert(wait_used(RXQ, 4));
	cr_expect_eq(used_idx(RXQ), 4, "every buffer of the frame at once");
	cr_expect_eq(le_get16(ram + buf(RXQ, 0) + 10), 4, "num_buffers");
	cr_expect_eq(ram[buf(RXQ, 0) + VNET_HDR_LEN], 1, "the frame");
	cr_expect_eq(stats(dev).rx_frames, 1);
	virtio_net_dev_ops.destroy(dev);
}

/* A frame the whole ring could not hold is dropped, and the buffers then
 * take the next frame that fits. */
Test(vnet_dev, frame_larger_than_the_ring_is_dropped)
{
	void *dev = bring_up(LINUX);
	uint8_t h[VNET_HDR_LEN];

	for (unsigned i = 0; i < QSIZE; i++)
		post_rx(i, 64);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	hdr(h, 0, 0, 0, 0, 0, 0);
	peer_send(h, QSIZE * 64, 1);
	cr_assert(wait_stat(dev, rx_dropped, 1), "not dropped");
	cr_expect_eq(used_idx(RXQ), 0, "nothing used");
	peer_send(h, 100, 2);
	cr_assert(wait_used(RXQ, 2));
	cr_expect_eq(le_get16(ram + buf(RXQ, 0) + 10), 2);
	cr_expect_eq(ram[buf(RXQ, 0) + VNET_HDR_LEN], 2, "the second frame");
	cr_expect_eq(stats(dev).rx_frames, 1);
	virtio_net_dev_ops.destroy(dev);
}

Test(vnet_dev, frame_larger_than_one_buffer_is_dropped_without_mrg)
{
	void *dev = bring_up(LINUX & ~BIT(VNET_FEAT_MRG_RXBUF));
	uint8_t h[VNET_HDR_LEN];

	post_rx(0, 100);
	post_rx(1, 100);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	hdr(h, 0, 0, 0, 0, 0, 0);
	peer_send(h, 150, 1);
	cr_assert(wait_stat(dev, rx_dropped, 1), "not dropped");
	cr_expect_eq(used_idx(RXQ), 0, "nothing used");
	peer_send(h, 60, 2);
	cr_assert(wait_used(RXQ, 1));
	cr_expect_eq(used_id(RXQ, 0), 0, "the first buffer, kept");
	cr_expect_eq(used_len(RXQ, 0), VNET_HDR_LEN + 60);
	virtio_net_dev_ops.destroy(dev);
}

/* A first buffer too short for the header can take no frame: it comes
 * back unused, the frame is dropped, and the next frame takes the next
 * buffer. */
Test(vnet_dev, buffer_shorter_than_the_header_comes_back_unused)
{
	void *dev = bring_up(LINUX);
	uint8_t h[VNET_HDR_LEN];

	post_rx(0, VNET_HDR_LEN - 1);
	post_rx(1, 2048);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	hdr(h, 0, 0, 0, 0, 0, 0);
	peer_send(h, 60, 1);
	cr_assert(wait_used(RXQ, 1));
	cr_expect_eq(used_id(RXQ, 0), 0);
	cr_expect_eq(used_len(RXQ, 0), 0);
	cr_expect(wait_stat(dev, rx_dropped, 1));
	peer_send(h, 60, 2);
	cr_assert(wait_used(RXQ, 2));
	cr_expect_eq(used_id(RXQ, 1), 1);
	cr_expect_eq(ram[buf(RXQ, 1) + VNET_HDR_LEN], 2);
	virtio_net_dev_ops.destroy(dev);
}

/* An offload the driver did not take never reaches it. */
Test(vnet_dev, receive_refuses_offloads_not_taken)
{
	void *dev = bring_up(LINUX & ~BIT(VNET_FEAT_GUEST_TSO4));
	uint8_t h[VNET_HDR_LEN];

	post_rx(0, 2048);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	hdr(h, CSUM, TSO4, 54, 1448, 34, 16);
	peer_send(h, 1000, 1);
	cr_assert(wait_stat(dev, rx_dropped, 1));
	cr_expect_eq(used_idx(RXQ), 0);
	virtio_net_dev_ops.destroy(dev);
}

/* The tap is read only while the guest has a buffer: a frame waits in the
 * tap until one comes. */
Test(vnet_dev, frame_waits_for_a_buffer)
{
	void *dev = bring_up(LINUX);
	uint8_t h[VNET_HDR_LEN];

	hdr(h, 0, 0, 0, 0, 0, 0);
	peer_send(h, 60, 4);
	for (int i = 0; i < 50; i++)
		nap();
	cr_expect_eq(stats(dev).rx_dropped, 0, "not read without a buffer");
	post_rx(0, 2048);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	cr_assert(wait_used(RXQ, 1));
	cr_expect_eq(ram[buf(RXQ, 0) + VNET_HDR_LEN], 4);
	virtio_net_dev_ops.destroy(dev);
}

/* Control command in slot s: class and command readable (len bytes of
 * them), ack writable. */
static void post_ctrl(unsigned s, uint8_t class, uint8_t cmd, uint32_t len, int with_ack)
{
	uint8_t *b = ram + buf(CTRLQ, s);

	b[0] = class;
	b[1] = cmd;
	b[16] = 0xee;
	desc(CTRLQ, 2 * s, buf(CTRLQ, s), len, with_ack ? VQ_DESC_F_NEXT : 0,
	     (uint16_t)(2 * s + 1));
	desc(CTRLQ, 2 * s + 1, buf(CTRLQ, s) + 16, 1, VQ_DESC_F_WRITE, 0);
	publish(CTRLQ, (uint16_t)(2 * s));
}

static void restored(void *dev)
{
	pthread_mutex_lock(&bus);
	virtio_net_dev_ops.restored(dev, 0);
	pthread_mutex_unlock(&bus);
}

/* A restore with the driver running: ANNOUNCE in the status and a
 * configuration interrupt; the driver's ack clears it. */
Test(vnet_dev, restored_announces_and_the_ack_clears_it)
{
	void *dev = bring_up(LINUX);
	uint32_t gen = rd(dev, R_CONFIG_GEN);

	cr_expect_eq(rd_cfg(dev, 6, 2), VNET_S_LINK_UP);
	restored(dev);
	cr_expect_eq(rd_cfg(dev, 6, 2), VNET_S_LINK_UP | VNET_S_ANNOUNCE);
	cr_expect_eq(rd(dev, R_ISR) & VIRTIO_INT_CONFIG, VIRTIO_INT_CONFIG);
	cr_expect_eq(level, 1);
	cr_expect_neq(rd(dev, R_CONFIG_GEN), gen);
	wr(dev, R_ACK, VIRTIO_INT_CONFIG);
	post_ctrl(0, VNET_CTRL_ANNOUNCE, VNET_CTRL_ANNOUNCE_ACK, 2, 1);
	post_ctrl(1, 9, 0, 2, 1);
	post_ctrl(2, VNET_CTRL_ANNOUNCE, 1, 2, 1);
	post_ctrl(3, VNET_CTRL_ANNOUNCE, VNET_CTRL_ANNOUNCE_ACK, 2, 0);
	post_ctrl(4, VNET_CTRL_ANNOUNCE, VNET_CTRL_ANNOUNCE_ACK, 1, 1);
	wr(dev, R_QUEUE_NOTIFY, CTRLQ);
	cr_assert(wait_used(CTRLQ, 5));
	cr_expect_eq(ram[buf(CTRLQ, 0) + 16], VNET_OK);
	cr_expect_eq(used_len(CTRLQ, 0), 1);
	cr_expect_eq(ram[buf(CTRLQ, 1) + 16], VNET_ERR, "unknown class");
	cr_expect_eq(ram[buf(CTRLQ, 2) + 16], VNET_ERR, "unknown command");
	cr_expect_eq(used_len(CTRLQ, 3), 0, "no room for an ack");
	cr_expect_eq(ram[buf(CTRLQ, 4) + 16], VNET_ERR, "no command byte");
	cr_expect_eq(used_len(CTRLQ, 4), 1);
	cr_expect_eq(stats(dev).ctrl_errors, 4);
	cr_expect_eq(rd_cfg(dev, 6, 2), VNET_S_LINK_UP, "announce acknowledged");
	virtio_net_dev_ops.destroy(dev);
}

/* A driver that negotiated no GUEST_ANNOUNCE is not asked to announce. */
Test(vnet_dev, no_announce_without_the_feature)
{
	void *dev = bring_up(LINUX & ~BIT(VNET_FEAT_GUEST_ANNOUNCE));

	restored(dev);
	cr_expect_eq(rd_cfg(dev, 6, 2), VNET_S_LINK_UP);
	cr_expect_eq(rd(dev, R_ISR) & VIRTIO_INT_CONFIG, 0);
	virtio_net_dev_ops.destroy(dev);
}

/* Restored while the driver is down (the guest's suspend reset the card):
 * the announce comes once the resumed driver sets DRIVER_OK. */
Test(vnet_dev, restored_before_driver_ok_announces_at_driver_ok)
{
	void *dev = bring_up(LINUX);

	wr(dev, R_STATUS, 0);
	restored(dev);
	cr_expect_eq(rd_cfg(dev, 6, 2), VNET_S_LINK_UP);
	cr_expect_eq(rd(dev, R_ISR), 0);
	drive(dev, LINUX);
	cr_expect_eq(rd_cfg(dev, 6, 2), VNET_S_LINK_UP | VNET_S_ANNOUNCE);
	cr_expect_eq(rd(dev, R_ISR) & VIRTIO_INT_CONFIG, VIRTIO_INT_CONFIG);
	virtio_net_dev_ops.destroy(dev);
	/* A fresh device, never driven. */
	memset(ram, 0, sizeof(ram));
	dev = create();
	restored(dev);
	drive(dev, LINUX);
	cr_expect_eq(rd_cfg(dev, 6, 2), VNET_S_LINK_UP | VNET_S_ANNOUNCE);
	virtio_net_dev_ops.destroy(dev);
}

/* The driver resets the card (Linux's suspend): every frame it queued
 * goes out first. */
Test(vnet_dev, reset_sends_pending_frames)
{
	void *dev = bring_up(LINUX);
	uint8_t h[VNET_HDR_LEN], got[4096];
	size_t len;

	hdr(h, 0, 0, 0, 0, 0, 0);
	for (unsigned s = 0; s < 3; s++)
		post_tx(s, h, 60 + s, (uint8_t)(10 + s));
	wr(dev, R_STATUS, 0);
	cr_expect_eq(rd(dev, R_STATUS), 0);
	for (unsigned s = 0; s < 3; s++) {
		cr_assert(peer_recv(got, sizeof(got), &len, 0), "frame %u lost", s);
		cr_expect_eq(len, VNET_HDR_LEN + 60 + s);
		cr_expect_eq(got[VNET_HDR_LEN], 10 + s);
	}
	cr_expect_eq(stats(dev).tx_frames, 3);
	virtio_net_dev_ops.destroy(dev);
}

/* quiesce sends what was queued and returns it in the used ring; nothing
 * is received until thaw. */
Test(vnet_dev, quiesce_and_thaw)
{
	void *dev = bring_up(LINUX);
	uint8_t h[VNET_HDR_LEN], got[4096];
	size_t len;

	hdr(h, 0, 0, 0, 0, 0, 0);
	post_tx(0, h, 60, 1);
	post_tx(1, h, 61, 2);
	cr_assert_eq(virtio_net_dev_ops.quiesce(dev), 0);
	cr_expect_eq(used_idx(TXQ), 2, "every queued frame used");
	cr_expect(peer_recv(got, sizeof(got), &len, 0));
	cr_expect(peer_recv(got, sizeof(got), &len, 0));
	post_rx(0, 2048);
	wr(dev, R_QUEUE_NOTIFY, RXQ);
	peer_send(h, 60, 3);
	post_tx(2, h, 62, 4);
	wr(dev, R_QUEUE_NOTIFY, TXQ);
	for (int i = 0; i < 100; i++)
		nap();
	cr_expect_eq(used_idx(RXQ), 0, "received while frozen");
	cr_expect_eq(used_idx(TXQ), 2, "sent while frozen");
	virtio_net_dev_ops.thaw(dev);
	cr_assert(wait_used(RXQ, 1), "nothing received after thaw");
	cr_expect_eq(ram[buf(RXQ, 0) + VNET_HDR_LEN], 3);
	cr_assert(wait_used(TXQ, 3), "nothing sent after thaw");
	virtio_net_dev_ops.thaw(dev);
	virtio_net_dev_ops.destroy(dev);
}

/* A looping chain: DEVICE_NEEDS_RESET and a configuration interrupt. */
Test(vnet_dev, malformed_queue_needs_reset)
{
	void *dev = bring_up(LINUX);

	desc(TXQ, 0, buf(TXQ, 0), 12, VQ_DESC_F_NEXT, 0);
	publish(TXQ, 0);
	wr(dev, R_QUEUE_NOTIFY, TXQ);
	for (int i = 0; i < 2000 && !(rd(dev, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET); i++)
		nap();
	cr_assert(rd(dev, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_expect(rd(dev, R_ISR) & VIRTIO_INT_CONFIG);
	cr_expect_eq(stats(dev).faults, 1);
	cr_expect_eq(used_idx(TXQ), 0);
	virtio_net_dev_ops.destroy(dev);
}

/* --- save and restore --- */

static void save(void *dev, struct dev_state *d)
{
	pthread_mutex_lock(&bus);
	virtio_net_dev_ops.save(dev, virtio_net_dev_ops.dflt.base, d);
	pthread_mutex_unlock(&bus);
}

static int restore(void *dev, const struct dev_state *d)
{
	int r;

	pthread_mutex_lock(&bus);
	r = virtio_net_dev_ops.restore(dev, d);
	pthread_mutex_unlock(&bus);
	return r;
}

static uint64_t field(const struct dev_state *d, uint32_t id)
{
	uint64_t v = ~0ull;

	cr_assert_eq(dev_state_get(d, id, &v), 0, "field %#x", id);
	return v;
}

static void set_field(struct dev_state *d, uint32_t id, uint64_t v)
{
	for (uint32_t i = 0; i < d->nfields; i++)
		if (d->fields[i].id == id) {
			d->fields[i].value = v;
			return;
		}
	cr_assert_fail("no field %#x", id);
}

static void expect_same(const struct dev_state *a, const struct dev_state *b)
{
	cr_assert_eq(a->nfields, b->nfields);
	for (uint32_t i = 0; i < a->nfields; i++) {
		cr_expect_eq(a->fields[i].id, b->fields[i].id);
		cr_expect_eq(a->fields[i].value, b->fields[i].value, "field %#x",
			     a->fields[i].id);
	}
	cr_assert_eq(a->blob_len, b->blob_len);
	cr_expect_arr_eq(a->blob, b->blob, a->blob_len);
}

/* The saved fields: the MAC as 48 bits, the status word, the announce due,
 * and the tap's name as the blob; a fresh device restored from them saves
 * the same, and carries on where the first left off. */
Test(vnet_dev, save_restore_round_trip)
{
	void *a = bring_up(LINUX), *b;
	static struct dev_state sa, sb;
	uint8_t h[VNET_HDR_LEN], got[4096];
	size_t len;

	hdr(h, 0, 0, 0, 0, 0, 0);
	post_tx(0, h, 60, 1);
	wr(a, R_QUEUE_NOTIFY, TXQ);
	cr_assert(wait_used(TXQ, 1));
	cr_assert(peer_recv(got, sizeof(got), &len, 2000));
	restored(a);
	cr_assert_eq(virtio_net_dev_ops.quiesce(a), 0);
	save(a, &sa);
	cr_expect_eq(sa.type, DEV_VIRTIO_NET);
	cr_expect_eq(field(&sa, VNET_F_MAC),
		     (uint64_t)tap.mac[0] | (uint64_t)tap.mac[1] << 8 |
		     (uint64_t)tap.mac[2] << 16 | (uint64_t)tap.mac[3] << 24 |
		     (uint64_t)tap.mac[4] << 32 | (uint64_t)tap.mac[5] << 40);
	cr_expect_eq(field(&sa, VNET_F_STATUS), VNET_S_LINK_UP | VNET_S_ANNOUNCE);
	cr_expect_eq(field(&sa, VNET_F_ANNOUNCE), 0);
	cr_expect_eq(sa.blob_len, strlen("vnettest"));
	cr_expect_arr_eq(sa.blob, "vnettest", sa.blob_len);
	virtio_net_dev_ops.destroy(a);
	/* Made available after the checkpoint's quiesce, never notified: the
	 * restored device finds it by itself. */
	post_tx(1, h, 61, 2);

	b = create();
	/* One hold of the bus lock, so the thread cannot move on between. */
	pthread_mutex_lock(&bus);
	cr_assert_eq(virtio_net_dev_ops.restore(b, &sa), 0);
	virtio_net_dev_ops.save(b, virtio_net_dev_ops.dflt.base, &sb);
	pthread_mutex_unlock(&bus);
	expect_same(&sa, &sb);
	cr_assert(wait_used(TXQ, 2), "the restored driver goes on");
	cr_expect_eq(rd_cfg(b, 6, 2), VNET_S_LINK_UP | VNET_S_ANNOUNCE);
	cr_assert(peer_recv(got, sizeof(got), &len, 2000));
	cr_expect_eq(len, VNET_HDR_LEN + 61);
	virtio_net_dev_ops.destroy(b);
}

/* A state saved with the driver down and an announce due keeps it. */
Test(vnet_dev, save_restore_keeps_an_announce_due)
{
	void *a = bring_up(LINUX), *b;
	static struct dev_state sa, sb;

	wr(a, R_STATUS, 0);
	restored(a);
	save(a, &sa);
	cr_expect_eq(field(&sa, VNET_F_ANNOUNCE), 1);
	virtio_net_dev_ops.destroy(a);
	b = create();
	cr_assert_eq(restore(b, &sa), 0);
	save(b, &sb);
	expect_same(&sa, &sb);
	drive(b, LINUX);
	cr_expect_eq(rd_cfg(b, 6, 2), VNET_S_LINK_UP | VNET_S_ANNOUNCE);
	virtio_net_dev_ops.destroy(b);
}

/* --net mac= on restore: the tap's MAC wins over the image's; without it
 * the image's MAC stays, whatever the tap's default. */
Test(vnet_dev, restore_mac_given_overrides)
{
	void *a = bring_up(LINUX), *b;
	static struct dev_state sa;
	uint8_t image_mac[MAC_LEN];

	memcpy(image_mac, tap.mac, MAC_LEN);
	save(a, &sa);
	virtio_net_dev_ops.destroy(a);

	mac_default("another", tap.mac);
	b = create();
	cr_assert_eq(restore(b, &sa), 0);
	for (unsigned i = 0; i < MAC_LEN; i++)
		cr_expect_eq(rd_cfg(b, i, 1), image_mac[i], "image MAC byte %u", i);
	virtio_net_dev_ops.destroy(b);

	cr_assert_eq(mac_parse("52:54:00:aa:bb:cc", tap.mac), 0);
	tap.mac_given = 1;
	b = create();
	cr_assert_eq(restore(b, &sa), 0);
	for (unsigned i = 0; i < MAC_LEN; i++)
		cr_expect_eq(rd_cfg(b, i, 1), tap.mac[i], "given MAC byte %u", i);
	virtio_net_dev_ops.destroy(b);
}

struct bad_state {
	uint32_t id;            /* 0: blob_len */
	uint64_t value;
	char what[48];
};

ParameterizedTestParameters(vnet_dev, restore_refuses)
{
	static struct bad_state bad[] = {
		{ VNET_F_MAC, 0, "zero MAC" },
		{ VNET_F_MAC, 0x563412005401ull, "multicast MAC" },
		{ VNET_F_MAC, 1ull << 48 | 0x563412005452ull, "MAC beyond 48 bits" },
		{ VNET_F_STATUS, 0, "link down" },
		{ VNET_F_STATUS, VNET_S_LINK_UP | 4, "an unknown status bit" },
		{ VNET_F_STATUS, VNET_S_LINK_UP | 1u << 16, "status beyond 16 bits" },
		{ VNET_F_ANNOUNCE, 2, "announce not 0 or 1" },
		{ VNET_F_ANNOUNCE, 1, "announce due with the driver running" },
		{ VIRTIO_F_STATUS, 0x3, "announcing with the driver down" },
		{ VIRTIO_F_DRIVER_FEATURES, BIT(VIRTIO_F_VERSION_1),
		  "announcing without GUEST_ANNOUNCE" },
		{ VIRTIO_F_QUEUE(1) + VIRTIO_FQ_SIZE, 3, "a transport field" },
		{ 0, TAP_NAME_MAX + 1, "a blob longer than a tap name" },
	};

	return cr_make_param_array(struct bad_state, bad, sizeof(bad) / sizeof(bad[0]));
}

ParameterizedTest(struct bad_state *c, vnet_dev, restore_refuses)
{
	void *a = bring_up(LINUX), *b;
	static struct dev_state good, bad, before, after;
	uint8_t h[VNET_HDR_LEN];

	restored(a);
	save(a, &good);
	virtio_net_dev_ops.destroy(a);
	b = create();
	cr_assert_eq(restore(b, &good), 0, "the good state");
	save(b, &before);
	bad = good;
	if (c->id)
		set_field(&bad, c->id, c->value);
	else
		bad.blob_len = (uint32_t)c->value;
	cr_expect_eq(restore(b, &bad), -EINVAL, "%s", c->what);
	save(b, &after);
	expect_same(&before, &after);
	hdr(h, 0, 0, 0, 0, 0, 0);
	post_tx(0, h, 60, 1);
	wr(b, R_QUEUE_NOTIFY, TXQ);
	cr_expect(wait_used(TXQ, 1), "%s: the device stopped", c->what);
	virtio_net_dev_ops.destroy(b);
}

/* Each of the device's own fields is required. */
Test(vnet_dev, restore_refuses_a_missing_field)
{
	void *a = bring_up(LINUX);
	static struct dev_state good, bad;
	const uint32_t ids[] = { VNET_F_MAC, VNET_F_STATUS, VNET_F_ANNOUNCE };

	save(a, &good);
	for (unsigned k = 0; k < 3; k++) {
		bad = good;
		for (uint32_t i = 0; i < bad.nfields; i++)
			if (bad.fields[i].id == ids[k])
				bad.fields[i] = bad.fields[--bad.nfields];
		cr_expect_eq(restore(a, &bad), -EINVAL, "field %#x missing", ids[k]);
	}
	virtio_net_dev_ops.destroy(a);
}

/* The configuration space through the transport, read-only. */
Test(vnet_dev, config_space_is_read_only)
{
	void *dev = bring_up(LINUX);
	uint8_t d[4] = { 1, 2, 3, 4 };

	for (unsigned i = 0; i < MAC_LEN; i++)
		cr_expect_eq(rd_cfg(dev, i, 1), tap.mac[i]);
	cr_expect_eq(rd_cfg(dev, 8, 2), 1, "max_virtqueue_pairs");
	pthread_mutex_lock(&bus);
	virtio_net_dev_ops.mmio(dev, R_CONFIG, d, 4, 1);
	pthread_mutex_unlock(&bus);
	cr_expect_eq(rd_cfg(dev, 0, 1), tap.mac[0], "write ignored");
	wr(dev, R_DEV_FEATURES_SEL, 1);
	cr_expect_eq(rd(dev, R_DEV_FEATURES) & 1, 1, "VERSION_1");
	wr(dev, R_DEV_FEATURES_SEL, 0);
	cr_expect_eq(rd(dev, R_DEV_FEATURES), (uint32_t)vnet_features() |
		     1u << VIRTIO_F_INDIRECT_DESC | 1u << VIRTIO_F_EVENT_IDX);
	virtio_net_dev_ops.destroy(dev);
}

/* With a real tap (root and /dev/net/tun), DRIVER_OK tells it the
 * offloads the driver took. */
Test(vnet_dev, driver_ok_sets_the_tap_offloads)
{
	struct tap real;
	char name[TAP_NAME_MAX + 1], err[256];
	struct tap saved = tap;
	void *dev;
	int fd = geteuid() == 0 ? open("/dev/net/tun", O_RDWR | O_CLOEXEC) : -1;

	if (fd < 0)
		cr_skip_test("needs root and /dev/net/tun");
	close(fd);
	snprintf(name, sizeof(name), "trpn%d", (int)getpid() % 100000);
	if (tap_open(&real, name, err, sizeof(err)))
		cr_skip_test("%s", err);
	tap = real;
	dev = bring_up(LINUX);
	for (int i = 0; i < 2000 && tap.offloads != (TUN_F_CSUM | TUN_F_TSO4); i++)
		nap();
	cr_expect_eq(tap.offloads, TUN_F_CSUM | TUN_F_TSO4);
	wr(dev, R_STATUS, 0);
	drive(dev, LINUX & ~BIT(VNET_FEAT_GUEST_CSUM) & ~BIT(VNET_FEAT_GUEST_TSO4));
	for (int i = 0; i < 2000 && tap.offloads; i++)
		nap();
	cr_expect_eq(tap.offloads, 0, "a new driver without offloads");
	virtio_net_dev_ops.destroy(dev);
	tap_close(&tap);
	tap = saved;
}
