/* virtio_blk.c - virtio block device: request parsing and I/O, its
 * configuration space, the request thread, and its device-table entry. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "devices.h"
#include "le.h"
#include "log.h"
#include "memmap.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"

#define REQ_HDR_LEN     16      /* type u32, reserved u32, sector u64 */
#define RANGE_LEN       16      /* sector u64, num_sectors u32, flags u32 */
#define RANGE_F_UNMAP   1u

/* --- requests --------------------------------------------------------------- */

/* The iovecs covering bytes [from, from + len) of the chain's readable
 * (writable = 0) or writable buffers, in order; returns how many. */
static int chain_iov(const struct vq_chain *c, int writable, uint32_t from,
		     uint32_t len, struct iovec *iov)
{
	uint64_t pos = 0;
	int n = 0;

	for (uint32_t i = 0; i < c->n && len; i++) {
		const struct vq_buf *b = &c->buf[i];
		uint64_t skip;
		uint32_t take;

		if (b->writable != writable)
			continue;
		if (pos + b->len <= from) {
			pos += b->len;
			continue;
		}
		skip = from > pos ? from - pos : 0;
		take = (uint32_t)(b->len - skip) < len ? (uint32_t)(b->len - skip) : len;
		if (take) {
			iov[n].iov_base = b->p + skip;
			iov[n].iov_len = take;
			n++;
		}
		len -= take;
		pos += b->len;
	}
	return n;
}

/* Whether bytes from sector on lie on the disk, checked before sector is
 * turned into a byte offset that could wrap. */
static int on_disk(const struct disk *disk, uint64_t sector, uint64_t bytes)
{
	return sector <= disk->size / DISK_SECTOR &&
	       bytes <= disk->size - sector * DISK_SECTOR;
}

/* A read or write of the data buffers at sector: the whole transfer must lie
 * on the disk and be whole sectors (a read-only disk refuses the write). */
static int rw(struct disk *disk, const struct vq_chain *c, int write,
	      uint64_t sector, uint32_t data_len, struct vblk_stats *st)
{
	struct iovec iov[VQ_MAX_CHAIN];
	int n;

	if (data_len % DISK_SECTOR || !on_disk(disk, sector, data_len))
		return VBLK_S_IOERR;
	n = chain_iov(c, !write, write ? REQ_HDR_LEN : 0, data_len, iov);
	if (!n)
		return VBLK_S_OK;
	if (write ? disk_write(disk, sector * DISK_SECTOR, iov, n)
		  : disk_read(disk, sector * DISK_SECTOR, iov, n))
		return VBLK_S_IOERR;
	if (write)
		st->written_bytes += data_len;
	else
		st->read_bytes += data_len;
	return VBLK_S_OK;
}

/* Discard or write-zeroes: one range segment after the header. */
static int ranges(struct disk *disk, const struct vq_chain *c, uint32_t type,
		  uint32_t data_len)
{
	uint8_t r[RANGE_LEN];
	uint64_t sector;
	uint32_t num, flags;
	int ret;

	if (disk->readonly)
		return VBLK_S_IOERR;
	if (data_len != RANGE_LEN * VBLK_MAX_DISCARD_SEGS)
		return VBLK_S_UNSUPP;
	vq_chain_read(c, REQ_HDR_LEN, r, RANGE_LEN);
	sector = le_get64(r);
	num = le_get32(r + 8);
	flags = le_get32(r + 12);
	/* Discard has no flags; write-zeroes knows only unmap. */
	if (flags & ~(type == VBLK_T_WRITE_ZEROES ? RANGE_F_UNMAP : 0))
		return VBLK_S_UNSUPP;
	if (num > VBLK_MAX_RANGE_SECTORS ||
	    !on_disk(disk, sector, (uint64_t)num * DISK_SECTOR))
		return VBLK_S_IOERR;
	if (type == VBLK_T_DISCARD)
		ret = disk_discard(disk, sector * DISK_SECTOR, (uint64_t)num * DISK_SECTOR);
	else
		ret = disk_write_zeroes(disk, sector * DISK_SECTOR,
					(uint64_t)num * DISK_SECTOR, flags & RANGE_F_UNMAP);
	/* Discard is a hint: a host that cannot deallocate has done it. */
	if (ret == -EOPNOTSUPP && type == VBLK_T_DISCARD)
		return VBLK_S_OK;
	return ret ? VBLK_S_IOERR : VBLK_S_OK;
}

/* GET_ID: the serial, NUL-padded to 20 bytes (no NUL when it is 20 long). */
static uint32_t get_id(const struct disk *disk, const struct vq_chain *c,
		       uint32_t room)
{
	uint8_t id[DISK_SERIAL_MAX] = { 0 };
	struct iovec iov[VQ_MAX_CHAIN];
	uint32_t len = room < DISK_SERIAL_MAX ? room : DISK_SERIAL_MAX, done = 0;
	int n = chain_iov(c, 1, 0, len, iov);

	memcpy(id, disk->serial, strnlen(disk->serial, DISK_SERIAL_MAX));
	for (int i = 0; i < n; i++) {
		memcpy(iov[i].iov_base, id + done, iov[i].iov_len);
		done += (uint32_t)iov[i].iov_len;
	}
	return done;
}

uint32_t vblk_serve(struct disk *disk, const struct vq_chain *c,
		    struct vblk_stats *st)
{
	/* The status byte is the last of the device-writable buffers. */
	uint8_t hdr[REQ_HDR_LEN], *status = c->in_bytes ? vq_chain_wbyte(c, c->in_bytes - 1) : NULL;
	uint32_t type, room, written = 0;
	uint64_t sector;
	int s;

	st->requests++;
	if (!status) {
		st->errors++;
		return 0;
	}
	room = c->in_bytes - 1;
	if (c->out_bytes < REQ_HDR_LEN) {
		*status = VBLK_S_IOERR;
		st->errors++;
		return 1;
	}
	vq_chain_read(c, 0, hdr, REQ_HDR_LEN);
	type = le_get32(hdr);
	sector = le_get64(hdr + 8);
	switch (type) {
	case VBLK_T_IN:
		s = rw(disk, c, 0, sector, room, st);
		if (s == VBLK_S_OK)
			written = room;
		break;
	case VBLK_T_OUT:
		s = rw(disk, c, 1, sector, c->out_bytes - REQ_HDR_LEN, st);
		break;
	case VBLK_T_FLUSH:
		s = disk_flush(disk) ? VBLK_S_IOERR : VBLK_S_OK;
		st->flushes++;
		break;
	case VBLK_T_GET_ID:
		written = get_id(disk, c, room);
		s = VBLK_S_OK;
		break;
	case VBLK_T_DISCARD:
	case VBLK_T_WRITE_ZEROES:
		s = ranges(disk, c, type, c->out_bytes - REQ_HDR_LEN);
		break;
	default:
		s = VBLK_S_UNSUPP;
		break;
	}
	if (s == VBLK_S_IOERR)
		st->errors++;
	else if (s == VBLK_S_UNSUPP)
		st->unsupported++;
	*status = (uint8_t)s;
	return written + 1;
}

/* --- configuration ------------------------------------------------------------ */

uint64_t vblk_features(const struct disk *disk)
{
	uint64_t f = 1ull << VBLK_F_SEG_MAX | 1ull << VBLK_F_BLK_SIZE |
		     1ull << VBLK_F_FLUSH;

	if (disk->readonly)
		return f | 1ull << VBLK_F_RO;
	return f | 1ull << VBLK_F_DISCARD | 1ull << VBLK_F_WRITE_ZEROES;
}

void vblk_config(const struct disk *disk, uint8_t cfg[VBLK_CONFIG_LEN])
{
	memset(cfg, 0, VBLK_CONFIG_LEN);
	le_put64(cfg + 0, disk->size / DISK_SECTOR);    /* capacity */
	le_put32(cfg + 12, VBLK_SEG_MAX);               /* seg_max */
	le_put32(cfg + 20, disk->blk_size);             /* blk_size */
	le_put16(cfg + 34, 1);                          /* num_queues */
	le_put32(cfg + 36, VBLK_MAX_RANGE_SECTORS);     /* max_discard_sectors */
	le_put32(cfg + 40, VBLK_MAX_DISCARD_SEGS);      /* max_discard_seg */
	le_put32(cfg + 44, DISK_OVERLAY_CLUSTER / DISK_SECTOR);  /* alignment */
	le_put32(cfg + 48, VBLK_MAX_RANGE_SECTORS);     /* max_write_zeroes_sectors */
	le_put32(cfg + 52, VBLK_MAX_DISCARD_SEGS);      /* max_write_zeroes_seg */
	cfg[56] = 1;                                    /* write_zeroes_may_unmap */
}

/* --- the device and its request thread ----------------------------------------
 *
 * Everything below is guarded by the bus lock (env->lock), which the request
 * thread drops only around the disk I/O of one request (busy). A reset or a
 * checkpoint waits on cond with the bus lock, so the thread can finish the
 * request it is in and return the chain, or drop it if the device was reset
 * meanwhile (running cleared). */
struct vblk {
	struct virtio_mmio t;
	struct virtio_dev_ops vops;     /* per disk: its features differ */
	struct disk *disk;
	pthread_mutex_t *lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running;                    /* DRIVER_OK and not reset or failed */
	int kicked;                     /* a notification to look at */
	int busy;                       /* a request's I/O is under way */
	int stop;                       /* destroy: the thread leaves */
	uint64_t resets;                /* counted: a request taken before one is dropped */
	struct vblk_stats stats;
	uint8_t cfg[VBLK_CONFIG_LEN];
	struct vq_chain chain;
};

/* Takes and serves chains until the queue is empty or the device stops. */
static void serve_queue(struct vblk *b)
{
	struct vq *q = &b->t.q[0];

	while (b->running) {
		enum vq_fault fault = VQ_OK;
		uint64_t resets = b->resets;
		uint32_t written;
		int r = vq_pop(q, &b->t.mem, &b->chain, &fault);

		if (r < 0) {
			if (!b->stats.faults++)
				log_info("virtio-blk %s: the driver's queue is malformed "
					 "(%s): the device needs a reset", b->disk->path,
					 vq_fault_name(fault));
			b->running = 0;
			virtio_mmio_needs_reset(&b->t);
			return;
		}
		if (r == 0) {
			vq_enable_notify(q, &b->t.mem);
			if (vq_pending(q, &b->t.mem) > 0)
				continue;
			return;
		}
		b->busy = 1;
		pthread_mutex_unlock(b->lock);
		written = vblk_serve(b->disk, &b->chain, &b->stats);
		pthread_mutex_lock(b->lock);
		b->busy = 0;
		pthread_cond_broadcast(&b->cond);
		/* Reset meanwhile (even if another vCPU set DRIVER_OK again): the
		 * driver has taken its buffers back. */
		if (!b->running || b->resets != resets)
			return;
		if (vq_push(q, &b->t.mem, b->chain.head, written) < 0) {
			b->running = 0;
			virtio_mmio_needs_reset(&b->t);
			return;
		}
		if (vq_need_interrupt(q, &b->t.mem))
			virtio_mmio_signal(&b->t, VIRTIO_INT_USED);
	}
}

static void *vblk_thread(void *arg)
{
	struct vblk *b = arg;

	pthread_mutex_lock(b->lock);
	while (!b->stop) {
		if (!b->kicked || !b->running) {
			pthread_cond_wait(&b->cond, b->lock);
			continue;
		}
		b->kicked = 0;
		serve_queue(b);
		pthread_cond_broadcast(&b->cond);
	}
	pthread_mutex_unlock(b->lock);
	return NULL;
}

/* Bus lock held from here to vblk_restore. */
static void vblk_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct vblk *b = dev;

	memcpy(data, b->cfg + off, len);
}

static void vblk_notify(void *dev, unsigned q)
{
	struct vblk *b = dev;

	(void)q;
	b->kicked = 1;
	pthread_cond_broadcast(&b->cond);
}

/* Waits, releasing the bus lock, until no request is in its I/O. */
static void vblk_stop_io(void *dev)
{
	struct vblk *b = dev;

	b->running = 0;
	b->kicked = 0;
	b->resets++;
	while (b->busy)
		pthread_cond_wait(&b->cond, b->lock);
}

static void vblk_driver_ok(void *dev)
{
	struct vblk *b = dev;

	b->running = 1;
	b->kicked = 1;
	pthread_cond_broadcast(&b->cond);
}

static void *vblk_create(const struct dev_env *env)
{
	pthread_condattr_t attr;
	struct vblk *b;

	if (!env->backend || !env->lock)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->disk = env->backend;
	b->lock = env->lock;
	vblk_config(b->disk, b->cfg);
	b->vops = (struct virtio_dev_ops){
		.device_id = VIRTIO_ID_BLOCK, .nqueues = 1,
		.queue_max = VBLK_QUEUE_MAX, .config_len = VBLK_CONFIG_LEN,
		.features = vblk_features(b->disk),
		/* No config_write: the space is read-only (no CONFIG_WCE). */
		.config_read = vblk_config_read,
		.notify = vblk_notify, .reset = vblk_stop_io,
		.driver_ok = vblk_driver_ok,
	};
	virtio_mmio_init(&b->t, &b->vops, b, env->mem, env->irq);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&b->thread, NULL, vblk_thread, b)) {
		pthread_cond_destroy(&b->cond);
		free(b);
		return NULL;
	}
	return b;
}

static void vblk_destroy(void *dev)
{
	struct vblk *b = dev;

	pthread_mutex_lock(b->lock);
	vblk_stop_io(b);
	b->stop = 1;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(b->lock);
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->cond);
	free(b);
}

static void vblk_reset(void *dev)
{
	struct vblk *b = dev;

	vblk_stop_io(b);
	virtio_mmio_reset(&b->t);
}

static void vblk_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		      int is_write)
{
	struct vblk *b = opaque;

	virtio_mmio_access(&b->t, offset, data, len, is_write);
}

static void vblk_save(const void *dev, uint64_t base, struct dev_state *d)
{
	const struct vblk *b = dev;

	memset(d, 0, sizeof(*d));
	d->type = DEV_VIRTIO_BLK;
	d->base = base;
	/* The transport's fields fit DEV_MAX_FIELDS by construction. */
	virtio_mmio_save(&b->t, d);
}

/* A restored driver that was running goes on: the thread looks at the queue
 * once, in case chains were made available but not notified. */
static int vblk_restore(void *dev, const struct dev_state *d)
{
	struct vblk *b = dev;

	if (d->type != DEV_VIRTIO_BLK || virtio_mmio_restore(&b->t, d))
		return -EINVAL;
	b->running = (b->t.status & VIRTIO_STATUS_DRIVER_OK) &&
		     !(b->t.status & VIRTIO_STATUS_NEEDS_RESET);
	b->kicked = b->running;
	pthread_cond_broadcast(&b->cond);
	return 0;
}

/* Every chain made available is served and returned, notified or not; a
 * disk that does not answer within VBLK_QUIESCE_SECS fails the checkpoint
 * (-ETIMEDOUT) rather than hanging it, and the guest keeps running. */
static int vblk_quiesce(void *dev)
{
	struct vblk *b = dev;
	struct timespec deadline;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VBLK_QUIESCE_SECS;
	pthread_mutex_lock(b->lock);
	if (b->running) {
		b->kicked = 1;
		pthread_cond_broadcast(&b->cond);
	}
	/* The thread serves until the queue is empty before it clears busy
	 * and waits again, so this is done once it is idle and not kicked. */
	while (b->busy || (b->running && (b->kicked ||
					  vq_pending(&b->t.q[0], &b->t.mem) > 0))) {
		if (pthread_cond_timedwait(&b->cond, b->lock, &deadline) == ETIMEDOUT) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(b->lock);
	return ret;
}

const struct dev_ops virtio_blk_dev_ops = {
	.type = DEV_VIRTIO_BLK,
	.name = "virtio-blk",
	.fdt_name = "virtio_mmio",
	.dflt = { DEV_VIRTIO_BLK, VIRTIO_SPI_BASE, VIRTIO_MMIO_BASE, VIRTIO_MMIO_STRIDE },
	.backend = DEV_BACKEND_DISK,
	.create = vblk_create,
	.destroy = vblk_destroy,
	.reset = vblk_reset,
	.mmio = vblk_mmio,
	.fdt_node = virtio_mmio_fdt,
	.save = vblk_save,
	.restore = vblk_restore,
	.quiesce = vblk_quiesce,
};
