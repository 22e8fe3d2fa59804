/* virtio_net.c - virtio network device: the header checks, the
 * configuration space, the thread that moves frames between the queues and
 * the tap, the control queue, and its device-table entry. */
#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "le.h"
#include "log.h"
#include "memmap.h"
#include "virtio_net.h"

#define STATUS_KNOWN    (VNET_S_LINK_UP | VNET_S_ANNOUNCE)
#define MAC_BITS        48
#define FEATURES        (1ull << VNET_FEAT_CSUM | 1ull << VNET_FEAT_GUEST_CSUM | \
			 1ull << VNET_FEAT_MAC | 1ull << VNET_FEAT_GUEST_TSO4 | \
			 1ull << VNET_FEAT_GUEST_TSO6 | 1ull << VNET_FEAT_HOST_TSO4 | \
			 1ull << VNET_FEAT_HOST_TSO6 | 1ull << VNET_FEAT_MRG_RXBUF | \
			 1ull << VNET_FEAT_STATUS | 1ull << VNET_FEAT_CTRL_VQ | \
			 1ull << VNET_FEAT_GUEST_ANNOUNCE | 1ull << VNET_FEAT_MTU)

/* --- frames and headers -------------------------------------------------------- */

static int has(uint64_t features, unsigned bit)
{
	return features >> bit & 1;
}

uint64_t vnet_features(void)
{
	return FEATURES;
}

uint32_t vnet_max_frame(uint8_t gso_type)
{
	return gso_type == VNET_HDR_GSO_NONE ? VNET_MAX_FRAME : VNET_MAX_GSO_FRAME;
}

/* The header's fields: flags u8, gso_type u8, then hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers, each le16. */
const char *vnet_tx_check(const uint8_t *hdr, uint32_t frame_len,
			  uint64_t features)
{
	uint8_t flags = hdr[0], gso = hdr[1];
	uint32_t hdr_len = le_get16(hdr + 2), gso_size = le_get16(hdr + 4);
	uint32_t csum_end = (uint32_t)le_get16(hdr + 6) + le_get16(hdr + 8) + 2;

	/* DATA_VALID and RSC_INFO are the device's to set, never the driver's. */
	if (flags & ~VNET_HDR_F_NEEDS_CSUM)
		return "header flags other than NEEDS_CSUM";
	if (gso == VNET_HDR_GSO_TCPV4 ? !has(features, VNET_FEAT_HOST_TSO4) :
	    gso == VNET_HDR_GSO_TCPV6 ? !has(features, VNET_FEAT_HOST_TSO6) :
	    gso != VNET_HDR_GSO_NONE)
		return "a segmentation offload not negotiated";
	if (frame_len < VNET_ETH_HLEN || frame_len > vnet_max_frame(gso))
		return "a frame length out of range";
	if (flags & VNET_HDR_F_NEEDS_CSUM) {
		if (!has(features, VNET_FEAT_CSUM))
			return "NEEDS_CSUM without checksum offload";
		if (csum_end > frame_len)
			return "a checksum field outside the frame";
	}
	/* Section 5.1.6.2: a segmented frame has a partial checksum and an MSS. */
	if (gso != VNET_HDR_GSO_NONE && (!(flags & VNET_HDR_F_NEEDS_CSUM) || !gso_size))
		return "segmentation without NEEDS_CSUM or gso_size";
	if (hdr_len > frame_len)
		return "hdr_len beyond the frame";
	return NULL;
}

int vnet_rx_fix(uint8_t *hdr, uint64_t features)
{
	uint8_t gso = hdr[1];

	if (hdr[0] & ~(VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID))
		return -EINVAL;
	if (!has(features, VNET_FEAT_GUEST_CSUM)) {
		/* A partial checksum would reach a driver that cannot finish it;
		 * DATA_VALID is only a hint it did not ask for. */
		if (hdr[0] & VNET_HDR_F_NEEDS_CSUM)
			return -EINVAL;
		hdr[0] = 0;
	}
	if (gso == VNET_HDR_GSO_TCPV4 ? !has(features, VNET_FEAT_GUEST_TSO4) :
	    gso == VNET_HDR_GSO_TCPV6 ? !has(features, VNET_FEAT_GUEST_TSO6) :
	    gso != VNET_HDR_GSO_NONE)
		return -EINVAL;
	return 0;
}

/* The tap takes TSO flags only together with TUN_F_CSUM, as the spec makes
 * GUEST_TSO4/6 depend on GUEST_CSUM. */
unsigned vnet_tun_offloads(uint64_t features)
{
	unsigned f;

	if (!has(features, VNET_FEAT_GUEST_CSUM))
		return 0;
	f = TUN_F_CSUM;
	if (has(features, VNET_FEAT_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (has(features, VNET_FEAT_GUEST_TSO6))
		f |= TUN_F_TSO6;
	return f;
}

void vnet_config(const uint8_t mac[MAC_LEN], uint16_t status,
		 uint8_t cfg[VNET_CONFIG_LEN])
{
	memcpy(cfg, mac, MAC_LEN);
	le_put16(cfg + 6, status);
	le_put16(cfg + 8, 1);           /* max_virtqueue_pairs */
	le_put16(cfg + 10, VNET_MTU);   /* mtu: what VNET_MAX_FRAME carries */
}

/* --- the device and its thread --------------------------------------------------
 *
 * Everything below is guarded by the bus lock (env->lock), which the thread
 * drops only around the tap's syscalls: a read or write of one frame
 * (busy) and setting the offloads. A reset or a checkpoint waits on cond,
 * with the bus lock, until the thread is not busy; the thread then drops
 * what it holds if the device was reset meanwhile (resets moved on). The
 * thread sleeps in poll() on the eventfd, and on the tap while the driver
 * has receive buffers. */
struct vnet {
	struct virtio_mmio t;
	struct tap *tap;
	pthread_mutex_t *lock;
	pthread_cond_t cond;
	pthread_t thread;
	int efd;                        /* wakes the thread's poll */
	int running;                    /* DRIVER_OK and not reset or failed */
	int kicked;                     /* a notification to look at */
	int busy;                       /* a tap read or write is under way */
	int stop;                       /* destroy: the thread leaves */
	int frozen;                     /* quiesced: queues and memory untouched */
	int set_offloads;               /* DRIVER_OK: tell the tap the driver's offloads */
	int announce_due;               /* restored while the driver was not running */
	int tap_gone;                   /* the tap failed a read: not polled again */
	int offloads_refused;           /* logged once */
	uint64_t resets;                /* counted: a frame taken before one is dropped */
	uint16_t status;                /* the configuration space's status word */
	uint8_t mac[MAC_LEN];
	uint32_t rx_len;                /* a frame read but not delivered (frozen meanwhile) */
	struct vnet_stats stats;
	struct vq_chain chain;
	uint16_t rx_heads[VNET_QUEUE_MAX];
	uint32_t rx_used[VNET_QUEUE_MAX];
	/* One byte more than the longest frame, so that an overlong one shows. */
	uint8_t rx_buf[VNET_HDR_LEN + VNET_MAX_GSO_FRAME + 1];
	uint8_t tx_buf[VNET_HDR_LEN + VNET_MAX_GSO_FRAME];
};

/* The eventfd fails a write only when 2^64 - 2 wake-ups are pending, which
 * wake the thread all the same. */
static void kick(struct vnet *n)
{
	n->kicked = 1;
	eventfd_write(n->efd, 1);
}

static void fault(struct vnet *n, enum vq_fault f)
{
	if (!n->stats.faults++)
		log_info("virtio-net %s: the driver's queue is malformed (%s): the "
			 "device needs a reset", n->tap->name, vq_fault_name(f));
	n->running = 0;
	virtio_mmio_needs_reset(&n->t);
}

static void tx_drop(struct vnet *n, const char *why)
{
	if (!n->stats.tx_dropped++)
		log_info("virtio-net %s: dropped a frame the guest sent (%s); "
			 "later drops are only counted", n->tap->name, why);
}

static void rx_drop(struct vnet *n, const char *why)
{
	if (!n->stats.rx_dropped++)
		log_info("virtio-net %s: dropped a frame for the guest (%s); "
			 "later drops are only counted", n->tap->name, why);
}

/* Whether queue i may be served: the driver is running and set it up. */
static int queue_live(const struct vnet *n, unsigned i)
{
	return (n->t.status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK && n->t.q[i].ready;
}

/* Returns head to queue i with written bytes, interrupting as the driver
 * asks; -1 if the used ring is outside RAM (the device then needs a reset). */
static int give_back(struct vnet *n, unsigned i, uint16_t head, uint32_t written)
{
	struct vq *q = &n->t.q[i];

	if (vq_push(q, &n->t.mem, head, written) < 0) {
		fault(n, VQ_BAD_RING);
		return -1;
	}
	if (vq_need_interrupt(q, &n->t.mem))
		virtio_mmio_signal(&n->t, VIRTIO_INT_USED);
	return 0;
}

/* The next chain of queue i into n->chain: 1, 0 when none is left (asking
 * to be notified of the next), -1 if the queue is malformed. */
static int take(struct vnet *n, unsigned i)
{
	struct vq *q = &n->t.q[i];
	enum vq_fault f = VQ_OK;
	int r = vq_pop(q, &n->t.mem, &n->chain, &f);

	if (r < 0) {
		fault(n, f);
		return -1;
	}
	if (r == 0) {
		vq_enable_notify(q, &n->t.mem);
		r = vq_pending(q, &n->t.mem) > 0 ? vq_pop(q, &n->t.mem, &n->chain, &f) : 0;
		if (r < 0) {
			fault(n, f);
			return -1;
		}
	}
	return r;
}

/* --- transmit --- */

/* Checks the chain in n->chain and copies it into tx_buf, so that what is
 * sent is what was checked; the frame's length with its header, or 0 for
 * one to drop. */
static uint32_t tx_prepare(struct vnet *n)
{
	uint32_t len = n->chain.out_bytes;
	const char *why;

	if (len < VNET_HDR_LEN || len > sizeof(n->tx_buf)) {
		tx_drop(n, "a chain without a header, or longer than any frame");
		return 0;
	}
	vq_chain_read(&n->chain, 0, n->tx_buf, len);
	why = vnet_tx_check(n->tx_buf, len - VNET_HDR_LEN, n->t.driver_features);
	if (why) {
		tx_drop(n, why);
		return 0;
	}
	return len;
}

/* One write: the tap takes a frame whole or not at all. */
static ssize_t tx_write(struct vnet *n, uint32_t len)
{
	ssize_t w;

	do
		w = write(n->tap->fd, n->tx_buf, len);
	while (w < 0 && errno == EINTR);
	return w;
}

static void tx_account(struct vnet *n, ssize_t w, uint32_t len)
{
	if (w != (ssize_t)len) {
		tx_drop(n, "the tap refused it");
		return;
	}
	n->stats.tx_frames++;
	n->stats.tx_bytes += len - VNET_HDR_LEN;
}

/* The thread: sends chains until none is left, the device stops, or a
 * queue's worth was sent (then it comes back after a look at the tap). */
static void serve_tx(struct vnet *n)
{
	if (!queue_live(n, VNET_TXQ))
		return;
	for (unsigned done = 0; n->running && !n->frozen; done++) {
		uint64_t resets = n->resets;
		uint32_t len;
		uint16_t head;
		ssize_t w;

		if (done == n->t.q[VNET_TXQ].size) {
			kick(n);
			return;
		}
		if (take(n, VNET_TXQ) <= 0)
			return;
		head = n->chain.head;
		len = tx_prepare(n);
		if (len) {
			n->busy = 1;
			pthread_mutex_unlock(n->lock);
			w = tx_write(n, len);
			pthread_mutex_lock(n->lock);
			n->busy = 0;
			pthread_cond_broadcast(&n->cond);
			tx_account(n, w, len);
			/* Reset meanwhile: the driver has taken its buffers back. */
			if (!n->running || n->resets != resets)
				return;
		}
		if (give_back(n, VNET_TXQ, head, 0))
			return;
	}
}

/* A reset or a checkpoint, bus lock held and the thread not busy: sends
 * every chain the driver made available and returns it, so that no frame
 * the guest queued is lost. The tap never blocks; at most a queue's worth,
 * so a driver that keeps adding cannot hold the lock. */
static void tx_flush(struct vnet *n)
{
	if (!queue_live(n, VNET_TXQ))
		return;
	for (unsigned i = 0; i < n->t.q[VNET_TXQ].size; i++) {
		uint16_t head;
		uint32_t len;

		if (take(n, VNET_TXQ) <= 0)
			return;
		head = n->chain.head;
		len = tx_prepare(n);
		if (len)
			tx_account(n, tx_write(n, len), len);
		if (give_back(n, VNET_TXQ, head, 0))
			return;
	}
}

/* --- receive --- */

/* Puts back the chains taken since last_avail was saved. */
static void untake(struct vnet *n, uint16_t saved)
{
	n->t.q[VNET_RXQ].last_avail = saved;
}

/* Gives the frame in rx_buf to the driver over as many chains as it needs
 * (one without MRG_RXBUF), num_buffers set, all made used at once. A frame
 * that needs more buffers than the driver has posted stays in rx_buf, and
 * the chains go back, until it posts more (rx_wanted, on its kick); one that
 * cannot fit the whole ring, or one chain without MRG_RXBUF, is dropped. */
static void rx_deliver(struct vnet *n)
{
	struct vq *q = &n->t.q[VNET_RXQ];
	uint32_t total = n->rx_len, off = 0, used = 0;
	uint16_t saved = q->last_avail;
	int mrg = virtio_mmio_has(&n->t, VNET_FEAT_MRG_RXBUF), r;
	uint8_t *nb_lo = NULL, *nb_hi = NULL;

	while (off < total) {
		if (used == q->size || (used && !mrg)) {
			untake(n, saved);
			n->rx_len = 0;
			rx_drop(n, "larger than the receive buffers can hold");
			return;
		}
		if ((r = take(n, VNET_RXQ)) <= 0) {
			/* A fault has stopped the device; else wait for buffers. */
			if (r == 0) {
				untake(n, saved);
				vq_enable_notify(q, &n->t.mem);
			}
			return;
		}
		/* A first buffer without room for the header can take no frame:
		 * it goes back unused. */
		if (!used && n->chain.in_bytes < VNET_HDR_LEN) {
			n->rx_len = 0;
			rx_drop(n, "a receive buffer shorter than the header");
			give_back(n, VNET_RXQ, n->chain.head, 0);
			return;
		}
		if (!used) {
			nb_lo = vq_chain_wbyte(&n->chain, VNET_HDR_LEN - 2);
			nb_hi = vq_chain_wbyte(&n->chain, VNET_HDR_LEN - 1);
		}
		n->rx_heads[used] = n->chain.head;
		n->rx_used[used] = vq_chain_write(&n->chain, n->rx_buf + off, total - off);
		off += n->rx_used[used++];
	}
	n->rx_len = 0;
	*nb_lo = (uint8_t)used;
	*nb_hi = (uint8_t)(used >> 8);
	if (vq_push_n(q, &n->t.mem, n->rx_heads, n->rx_used, used) < 0) {
		fault(n, VQ_BAD_RING);
		return;
	}
	if (vq_need_interrupt(q, &n->t.mem))
		virtio_mmio_signal(&n->t, VIRTIO_INT_USED);
	n->stats.rx_frames++;
	n->stats.rx_bytes += total - VNET_HDR_LEN;
}

/* Whether the driver has a receive buffer (asking to be notified when it
 * adds one if not): only then is the tap read. */
static int rx_wanted(struct vnet *n)
{
	struct vq *q = &n->t.q[VNET_RXQ];
	int p;

	if (n->tap_gone || !q->ready || n->rx_len)
		return 0;
	p = vq_pending(q, &n->t.mem);
	if (p == 0) {
		vq_enable_notify(q, &n->t.mem);
		p = vq_pending(q, &n->t.mem);
	}
	if (p < 0) {
		fault(n, VQ_BAD_AVAIL_IDX);
		return 0;
	}
	return p > 0;
}

/* Reads one frame from the tap into rx_buf and delivers it, unless the
 * device was reset meanwhile; frozen meanwhile, it waits for thaw. */
static void rx_read(struct vnet *n)
{
	uint64_t resets = n->resets;
	ssize_t r;
	int e;

	if (!n->running || n->frozen || n->rx_len)
		return;
	n->busy = 1;
	pthread_mutex_unlock(n->lock);
	do
		r = read(n->tap->fd, n->rx_buf, sizeof(n->rx_buf));
	while (r < 0 && errno == EINTR);
	e = errno;
	pthread_mutex_lock(n->lock);
	n->busy = 0;
	pthread_cond_broadcast(&n->cond);
	if (r < 0 && e == EAGAIN)
		return;
	if (r <= 0) {
		/* The tap is gone (deleted, or never a tap): polling it again
		 * would only spin. */
		n->tap_gone = 1;
		log_info("virtio-net %s: the tap failed (%s): the guest receives "
			 "nothing more", n->tap->name, r ? strerror(e) : "end of file");
		return;
	}
	if (!n->running || n->resets != resets)
		return;
	if (r < VNET_HDR_LEN + VNET_ETH_HLEN || (size_t)r == sizeof(n->rx_buf)) {
		rx_drop(n, "a frame from the tap too short or too long");
		return;
	}
	if (vnet_rx_fix(n->rx_buf, n->t.driver_features)) {
		rx_drop(n, "an offload the driver did not take");
		return;
	}
	n->rx_len = (uint32_t)r;
	if (!n->frozen)
		rx_deliver(n);
}

/* --- control --- */

static void ctrl_error(struct vnet *n, const char *why)
{
	if (!n->stats.ctrl_errors++)
		log_info("virtio-net %s: a control command %s; later ones are only "
			 "counted", n->tap->name, why);
}

/* One control command: class, command, data, and a device-writable ack
 * (the last writable byte); returns the bytes written, 0 with no ack. */
static uint32_t ctrl_serve(struct vnet *n)
{
	const struct vq_chain *c = &n->chain;
	uint8_t cmd[2], *ack = c->in_bytes ? vq_chain_wbyte(c, c->in_bytes - 1) : NULL;

	if (!ack) {
		ctrl_error(n, "without room for its ack");
		return 0;
	}
	*ack = VNET_ERR;
	if (c->out_bytes < sizeof(cmd)) {
		ctrl_error(n, "without a class and command");
		return 1;
	}
	vq_chain_read(c, 0, cmd, sizeof(cmd));
	if (cmd[0] == VNET_CTRL_ANNOUNCE && cmd[1] == VNET_CTRL_ANNOUNCE_ACK &&
	    virtio_mmio_has(&n->t, VNET_FEAT_GUEST_ANNOUNCE)) {
		n->status &= (uint16_t)~VNET_S_ANNOUNCE;
		*ack = VNET_OK;
	} else {
		ctrl_error(n, "the device does not know");
	}
	return 1;
}

/* Serves the control queue, a queue's worth at most per call. */
static void serve_ctrl(struct vnet *n)
{
	if (!queue_live(n, VNET_CTRLQ))
		return;
	for (unsigned done = 0; n->running; done++) {
		if (done == n->t.q[VNET_CTRLQ].size) {
			kick(n);
			return;
		}
		if (take(n, VNET_CTRLQ) <= 0)
			return;
		if (give_back(n, VNET_CTRLQ, n->chain.head, ctrl_serve(n)))
			return;
	}
}

/* --- the thread --- */

static void set_offloads(struct vnet *n)
{
	unsigned want = vnet_tun_offloads(n->t.driver_features);
	int r;

	n->set_offloads = 0;
	pthread_mutex_unlock(n->lock);
	r = tap_set_offload(n->tap, want);
	pthread_mutex_lock(n->lock);
	/* Frames then come without the offloads, or with ones vnet_rx_fix
	 * refuses: slower or dropped, never wrong. */
	if (r && !n->offloads_refused++)
		log_info("virtio-net %s: the tap refused offloads 0x%x (%s)",
			 n->tap->name, want, strerror(-r));
}

/* What the thread does each time round, bus lock held; whether to poll the
 * tap for a frame. */
static int serve(struct vnet *n)
{
	if (n->running && !n->frozen && n->set_offloads)
		set_offloads(n);
	if (n->running && !n->frozen && n->kicked) {
		n->kicked = 0;
		serve_ctrl(n);
		serve_tx(n);
	}
	if (n->running && !n->frozen && n->rx_len)
		rx_deliver(n);
	return n->running && !n->frozen && rx_wanted(n);
}

static void *vnet_thread(void *arg)
{
	struct vnet *n = arg;
	eventfd_t count;

	pthread_mutex_lock(n->lock);
	while (!n->stop) {
		struct pollfd fds[2] = { { n->efd, POLLIN, 0 }, { n->tap->fd, POLLIN, 0 } };
		int rx = serve(n);

		pthread_mutex_unlock(n->lock);
		poll(fds, rx ? 2 : 1, -1);
		if (fds[0].revents & POLLIN)
			eventfd_read(n->efd, &count);
		pthread_mutex_lock(n->lock);
		/* An error without a frame (a tap being deleted) would wake the
		 * poll again at once: the tap is dropped as after a failed read. */
		if (rx && (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
		    !(fds[1].revents & POLLIN) && !n->tap_gone) {
			n->tap_gone = 1;
			log_info("virtio-net %s: the tap failed: the guest receives "
				 "nothing more", n->tap->name);
		}
		/* The driver may have been reset while the thread slept. */
		if (rx && (fds[1].revents & POLLIN) && n->running && !n->frozen &&
		    rx_wanted(n))
			rx_read(n);
	}
	pthread_mutex_unlock(n->lock);
	return NULL;
}

/* --- transport callbacks, bus lock held ---------------------------------------- */

static void vnet_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct vnet *n = dev;
	uint8_t cfg[VNET_CONFIG_LEN];

	vnet_config(n->mac, n->status, cfg);
	memcpy(data, cfg + off, len);
}

static void vnet_notify(void *dev, unsigned q)
{
	(void)q;
	kick(dev);
}

/* Waits, releasing the bus lock, until no tap read or write is under way:
 * the thread then holds no chain. */
static void wait_idle(struct vnet *n)
{
	while (n->busy)
		pthread_cond_wait(&n->cond, n->lock);
}

/* Stops the thread's work on the queues; a frame read and not delivered
 * goes. */
static void stop_io(struct vnet *n)
{
	n->running = 0;
	n->kicked = 0;
	n->set_offloads = 0;
	n->rx_len = 0;
	n->resets++;
	wait_idle(n);
}

/* The driver resets the card (Linux does it on suspend, then frees the
 * transmit buffers the device has not used): what it queued goes out
 * first. An announce it has not made waits for the driver's return. */
static void vnet_stop(void *dev)
{
	struct vnet *n = dev;

	stop_io(n);
	tx_flush(n);
	if (n->status & VNET_S_ANNOUNCE)
		n->announce_due = 1;
	n->status = VNET_S_LINK_UP;
}

static void announce(struct vnet *n)
{
	n->status |= VNET_S_ANNOUNCE;
	virtio_mmio_config_changed(&n->t);
}

static void vnet_driver_ok(void *dev)
{
	struct vnet *n = dev;

	n->running = 1;
	n->set_offloads = 1;
	if (n->announce_due && virtio_mmio_has(&n->t, VNET_FEAT_GUEST_ANNOUNCE))
		announce(n);
	n->announce_due = 0;
	kick(n);
}

static const struct virtio_dev_ops vnet_vops = {
	.device_id = VIRTIO_ID_NET, .nqueues = VNET_NQUEUES,
	.queue_max = VNET_QUEUE_MAX, .config_len = VNET_CONFIG_LEN,
	.features = FEATURES,
	/* No config_write: the space is read-only (no CTRL_MAC_ADDR). */
	.config_read = vnet_config_read,
	.notify = vnet_notify, .reset = vnet_stop, .driver_ok = vnet_driver_ok,
};

/* --- the device-table entry ------------------------------------------------------ */

static void *vnet_create(const struct dev_env *env)
{
	pthread_condattr_t attr;
	struct vnet *n;

	if (!env->backend || !env->lock)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->tap = env->backend;
	n->lock = env->lock;
	memcpy(n->mac, n->tap->mac, MAC_LEN);
	n->status = VNET_S_LINK_UP;
	virtio_mmio_init(&n->t, &vnet_vops, n, env->mem, env->irq);
	n->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->efd < 0)
		goto fail;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&n->thread, NULL, vnet_thread, n)) {
		pthread_cond_destroy(&n->cond);
		close(n->efd);
		goto fail;
	}
	return n;
fail:
	free(n);
	return NULL;
}

static void vnet_destroy(void *dev)
{
	struct vnet *n = dev;

	pthread_mutex_lock(n->lock);
	stop_io(n);
	n->stop = 1;
	kick(n);
	pthread_mutex_unlock(n->lock);
	pthread_join(n->thread, NULL);
	pthread_cond_destroy(&n->cond);
	close(n->efd);
	free(n);
}

/* Power-on state: as a driver's reset leaves it, with no announce due. */
static void vnet_reset(void *dev)
{
	struct vnet *n = dev;

	vnet_stop(n);
	n->announce_due = 0;
	virtio_mmio_reset(&n->t);
}

static void vnet_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		      int is_write)
{
	struct vnet *n = opaque;

	virtio_mmio_access(&n->t, offset, data, len, is_write);
}

static uint64_t mac_word(const uint8_t mac[MAC_LEN])
{
	uint64_t v = 0;

	for (unsigned i = 0; i < MAC_LEN; i++)
		v |= (uint64_t)mac[i] << (8 * i);
	return v;
}

static void vnet_save(const void *dev, uint64_t base, struct dev_state *d)
{
	const struct vnet *n = dev;
	size_t len = strlen(n->tap->name);

	memset(d, 0, sizeof(*d));
	d->type = DEV_VIRTIO_NET;
	d->base = base;
	/* The transport's fields and these three fit DEV_MAX_FIELDS. */
	virtio_mmio_save(&n->t, d);
	dev_state_put(d, VNET_F_MAC, mac_word(n->mac));
	dev_state_put(d, VNET_F_STATUS, n->status);
	dev_state_put(d, VNET_F_ANNOUNCE, (uint64_t)n->announce_due);
	memcpy(d->blob, n->tap->name, len);
	d->blob_len = (uint32_t)len;
}

/* The device's own fields of d, checked against each other and the
 * transport's: an announce in the status only while a driver that took
 * GUEST_ANNOUNCE runs, one due only while none does. */
static int check_fields(const struct dev_state *d, uint64_t *mac, uint64_t *status,
			uint64_t *due)
{
	uint64_t drv_status, features;

	if (dev_state_get(d, VNET_F_MAC, mac) || dev_state_get(d, VNET_F_STATUS, status) ||
	    dev_state_get(d, VNET_F_ANNOUNCE, due) ||
	    dev_state_get(d, VIRTIO_F_STATUS, &drv_status) ||
	    dev_state_get(d, VIRTIO_F_DRIVER_FEATURES, &features))
		return -EINVAL;
	if (*mac >> MAC_BITS || (*mac & 1) || !*mac)
		return -EINVAL;
	if ((*status & ~(uint64_t)STATUS_KNOWN) || !(*status & VNET_S_LINK_UP) || *due > 1)
		return -EINVAL;
	if ((*status & VNET_S_ANNOUNCE) &&
	    (!(drv_status & VIRTIO_STATUS_DRIVER_OK) ||
	     !has(features, VNET_FEAT_GUEST_ANNOUNCE)))
		return -EINVAL;
	if (*due && (drv_status & VIRTIO_STATUS_DRIVER_OK))
		return -EINVAL;
	return d->blob_len > TAP_NAME_MAX ? -EINVAL : 0;
}

/* The MAC is the image's unless --net mac= named one; the tap's name in the
 * blob is not compared, so that a card may move to another tap. A driver
 * that was running goes on: the thread looks at the queues once. */
static int vnet_restore(void *dev, const struct dev_state *d)
{
	struct vnet *n = dev;
	uint64_t mac, status, due;

	if (d->type != DEV_VIRTIO_NET || check_fields(d, &mac, &status, &due))
		return -EINVAL;
	/* A refused state leaves a running device as it was. */
	wait_idle(n);
	if (virtio_mmio_restore(&n->t, d))
		return -EINVAL;
	n->rx_len = 0;
	for (unsigned i = 0; i < MAC_LEN; i++)
		n->mac[i] = n->tap->mac_given ? n->tap->mac[i] : (uint8_t)(mac >> (8 * i));
	n->status = (uint16_t)status;
	n->announce_due = (int)due;
	n->running = (n->t.status & VIRTIO_STATUS_DRIVER_OK) &&
		     !(n->t.status & VIRTIO_STATUS_NEEDS_RESET);
	n->set_offloads = n->running;
	if (n->running)
		kick(n);
	return 0;
}

/* The guest was moved: it announces itself (gratuitous ARP, neighbour
 * advertisements) as soon as its driver runs. */
static void vnet_restored(void *dev, int same_generation)
{
	struct vnet *n = dev;

	(void)same_generation;
	if (!(n->t.status & VIRTIO_STATUS_DRIVER_OK))
		n->announce_due = 1;
	else if (virtio_mmio_has(&n->t, VNET_FEAT_GUEST_ANNOUNCE))
		announce(n);
}

/* Every frame the guest queued goes out, and every control command is
 * answered, before memory is saved; nothing is received until thaw. A tap
 * syscall that does not return within VNET_QUIESCE_SECS fails the
 * checkpoint (-ETIMEDOUT) and the device goes on. */
static int vnet_quiesce(void *dev)
{
	struct vnet *n = dev;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VNET_QUIESCE_SECS;
	pthread_mutex_lock(n->lock);
	n->frozen = 1;
	while (n->busy) {
		if (pthread_cond_timedwait(&n->cond, n->lock, &deadline) == ETIMEDOUT) {
			n->frozen = 0;
			kick(n);
			pthread_mutex_unlock(n->lock);
			return -ETIMEDOUT;
		}
	}
	serve_ctrl(n);
	tx_flush(n);
	pthread_mutex_unlock(n->lock);
	return 0;
}

static void vnet_thaw(void *dev)
{
	struct vnet *n = dev;

	pthread_mutex_lock(n->lock);
	if (n->frozen) {
		n->frozen = 0;
		kick(n);
	}
	pthread_mutex_unlock(n->lock);
}

struct vnet_stats vnet_stats(const void *dev)
{
	const struct vnet *n = dev;

	return n->stats;
}

const struct dev_ops virtio_net_dev_ops = {
	.type = DEV_VIRTIO_NET,
	.name = "virtio-net",
	.fdt_name = "virtio_mmio",
	.dflt = { DEV_VIRTIO_NET, VIRTIO_SPI_BASE + VIRTIO_NET_SLOT,
		  VIRTIO_MMIO_BASE + VIRTIO_NET_SLOT * VIRTIO_MMIO_STRIDE,
		  VIRTIO_MMIO_STRIDE },
	.max_blob = TAP_NAME_MAX,
	.backend = DEV_BACKEND_TAP,
	.create = vnet_create,
	.destroy = vnet_destroy,
	.reset = vnet_reset,
	.mmio = vnet_mmio,
	.fdt_node = virtio_mmio_fdt,
	.save = vnet_save,
	.restore = vnet_restore,
	.quiesce = vnet_quiesce,
	.thaw = vnet_thaw,
	.restored = vnet_restored,
};
