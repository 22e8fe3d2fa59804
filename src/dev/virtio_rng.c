/* virtio_rng.c - virtio entropy device: its token bucket, the request
 * thread, and its device-table entry. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "devices.h"
#include "log.h"
#include "memmap.h"
#include "virtio_mmio.h"
#include "virtio_rng.h"

/* --- the token bucket ----------------------------------------------------- */

struct vrng_bucket vrng_refill(struct vrng_bucket b, uint64_t now_ns)
{
	uint64_t elapsed, whole;

	if (now_ns <= b.last_ns)
		return b;
	elapsed = now_ns - b.last_ns;
	/* Time past a full bucket is not banked: idling never raises the
	 * burst. */
	if (b.tokens >= VRNG_BURST ||
	    elapsed >= (VRNG_BURST - b.tokens) * VRNG_NS_PER_BYTE)
		return (struct vrng_bucket){ VRNG_BURST, now_ns };
	whole = elapsed / VRNG_NS_PER_BYTE;
	b.tokens += whole;
	b.last_ns += whole * VRNG_NS_PER_BYTE;
	return b;
}

uint32_t vrng_take(struct vrng_bucket *b, uint32_t want)
{
	uint32_t got = want < b->tokens ? want : (uint32_t)b->tokens;
	uint64_t cost = got > VRNG_CHAIN_COST ? got : VRNG_CHAIN_COST;

	b->tokens -= cost < b->tokens ? cost : b->tokens;
	return got;
}

uint64_t vrng_ready_at(struct vrng_bucket b, uint64_t n)
{
	if (n > VRNG_BURST)
		n = VRNG_BURST;
	if (b.tokens >= n)
		return b.last_ns;
	return b.last_ns + (n - b.tokens) * VRNG_NS_PER_BYTE;
}

/* --- the device and its request thread -------------------------------------
 *
 * Everything below is guarded by the bus lock (env->lock), which the request
 * thread drops only while it fills one chain's buffers (busy) and while it
 * sleeps for tokens. A reset or a checkpoint waits on cond with the bus lock,
 * so the thread can finish the chain it is filling and return it, or drop it
 * if the device was reset meanwhile. */
struct vrng {
	struct virtio_mmio t;
	pthread_mutex_t *lock;
	pthread_cond_t cond;
	pthread_t thread;
	int running;                    /* DRIVER_OK and not reset or failed */
	int kicked;                     /* a notification to look at */
	int busy;                       /* a chain is being filled */
	int frozen;                     /* quiesced: no guest memory until thaw */
	int stop;                       /* destroy: the thread leaves */
	uint64_t resets;                /* counted: a chain taken before one is dropped */
	uint64_t faults;
	/* Kept across a reset, so that resetting the device does not refill it. */
	struct vrng_bucket bucket;
	int starved;                    /* emptied: nothing until VRNG_QUANTUM */
	struct vq_chain chain;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * VRNG_NSEC + (uint64_t)ts.tv_nsec;
}

/* Fills the first len bytes of c's writable buffers from getrandom();
 * returns how many it wrote (fewer only if getrandom fails). */
static uint32_t fill(const struct vq_chain *c, uint32_t len)
{
	uint32_t done = 0;

	for (uint32_t i = 0; i < c->n && done < len; i++) {
		const struct vq_buf *b = &c->buf[i];
		uint32_t want = b->len < len - done ? b->len : len - done, got = 0;

		if (!b->writable)
			continue;
		while (got < want) {
			ssize_t r = getrandom(b->p + got, want - got, 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return done + got;
			got += (uint32_t)r;
		}
		done += got;
	}
	return done;
}

/* Waits, releasing the bus lock, until the bucket holds VRNG_QUANTUM. A
 * notification does not cut the sleep short (the guest would get a trickle
 * of wake-ups); a reset, destroy or checkpoint's freeze does. */
static void sleep_for_tokens(struct vrng *r)
{
	uint64_t at = vrng_ready_at(r->bucket, VRNG_QUANTUM);
	struct timespec ts = { (time_t)(at / VRNG_NSEC), (long)(at % VRNG_NSEC) };

	while (r->running && !r->frozen &&
	       pthread_cond_timedwait(&r->cond, r->lock, &ts) != ETIMEDOUT)
		;
}

/* Takes and serves chains until the queue is empty or the device stops. */
static void serve_queue(struct vrng *r)
{
	struct vq *q = &r->t.q[0];

	while (r->running && !r->frozen) {
		enum vq_fault fault = VQ_OK;
		uint64_t resets = r->resets;
		uint32_t grant, written;
		int ret;

		r->bucket = vrng_refill(r->bucket, now_ns());
		if (r->starved && r->bucket.tokens < VRNG_QUANTUM) {
			/* Then look again: a reset, a checkpoint or destroy may
			 * have come meanwhile. */
			sleep_for_tokens(r);
			continue;
		}
		r->starved = 0;
		ret = vq_pop(q, &r->t.mem, &r->chain, &fault);
		if (ret < 0) {
			if (!r->faults++)
				log_info("virtio-rng: the driver's queue is malformed "
					 "(%s): the device needs a reset", vq_fault_name(fault));
			r->running = 0;
			virtio_mmio_needs_reset(&r->t);
			return;
		}
		if (ret == 0) {
			vq_enable_notify(q, &r->t.mem);
			if (vq_pending(q, &r->t.mem) > 0)
				continue;
			return;
		}
		grant = vrng_take(&r->bucket, r->chain.in_bytes);
		r->starved = r->bucket.tokens == 0;
		r->busy = 1;
		pthread_mutex_unlock(r->lock);
		written = fill(&r->chain, grant);
		pthread_mutex_lock(r->lock);
		r->busy = 0;
		pthread_cond_broadcast(&r->cond);
		/* Reset meanwhile (even if another vCPU set DRIVER_OK again): the
		 * driver has taken its buffers back. */
		if (!r->running || r->resets != resets)
			return;
		/* An empty answer would end Linux's reads for good (it takes
		 * one as the device going away): a failing getrandom() stops
		 * the device visibly instead. */
		if (!written && r->chain.in_bytes) {
			log_info("virtio-rng: getrandom() failed: the device needs a reset");
			r->running = 0;
			virtio_mmio_needs_reset(&r->t);
			return;
		}
		if (vq_push(q, &r->t.mem, r->chain.head, written) < 0) {
			r->running = 0;
			virtio_mmio_needs_reset(&r->t);
			return;
		}
		if (vq_need_interrupt(q, &r->t.mem))
			virtio_mmio_signal(&r->t, VIRTIO_INT_USED);
	}
}

static void *vrng_thread(void *arg)
{
	struct vrng *r = arg;

	pthread_mutex_lock(r->lock);
	while (!r->stop) {
		if (!r->kicked || !r->running || r->frozen) {
			pthread_cond_wait(&r->cond, r->lock);
			continue;
		}
		r->kicked = 0;
		serve_queue(r);
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(r->lock);
	return NULL;
}

/* Bus lock held from here to vrng_restore. */
static void vrng_notify(void *dev, unsigned q)
{
	struct vrng *r = dev;

	(void)q;
	r->kicked = 1;
	pthread_cond_broadcast(&r->cond);
}

/* Waits, releasing the bus lock, until no chain is being filled. */
static void vrng_stop_io(void *dev)
{
	struct vrng *r = dev;

	r->running = 0;
	r->kicked = 0;
	r->resets++;
	pthread_cond_broadcast(&r->cond);
	while (r->busy)
		pthread_cond_wait(&r->cond, r->lock);
}

static void vrng_driver_ok(void *dev)
{
	struct vrng *r = dev;

	r->running = 1;
	r->kicked = 1;
	pthread_cond_broadcast(&r->cond);
}

/* No features, no configuration space. */
static const struct virtio_dev_ops vrng_vops = {
	.device_id = VIRTIO_ID_RNG, .nqueues = 1, .queue_max = VRNG_QUEUE_MAX,
	.notify = vrng_notify, .reset = vrng_stop_io, .driver_ok = vrng_driver_ok,
};

static void *vrng_create(const struct dev_env *env)
{
	pthread_condattr_t attr;
	struct vrng *r;

	if (!env->lock)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->lock = env->lock;
	r->bucket = (struct vrng_bucket){ VRNG_BURST, now_ns() };
	virtio_mmio_init(&r->t, &vrng_vops, r, env->mem, env->irq);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&r->thread, NULL, vrng_thread, r)) {
		pthread_cond_destroy(&r->cond);
		free(r);
		return NULL;
	}
	return r;
}

static void vrng_destroy(void *dev)
{
	struct vrng *r = dev;

	pthread_mutex_lock(r->lock);
	vrng_stop_io(r);
	r->stop = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	free(r);
}

static void vrng_reset(void *dev)
{
	struct vrng *r = dev;

	vrng_stop_io(r);
	virtio_mmio_reset(&r->t);
}

static void vrng_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		      int is_write)
{
	struct vrng *r = opaque;

	virtio_mmio_access(&r->t, offset, data, len, is_write);
}

static void vrng_save(const void *dev, uint64_t base, struct dev_state *d)
{
	const struct vrng *r = dev;

	memset(d, 0, sizeof(*d));
	d->type = DEV_VIRTIO_RNG;
	d->base = base;
	/* The transport's fields fit DEV_MAX_FIELDS by construction. */
	virtio_mmio_save(&r->t, d);
}

/* A restored driver that was running goes on: the thread looks at the queue
 * once, in case chains were made available but not notified. */
static int vrng_restore(void *dev, const struct dev_state *d)
{
	struct vrng *r = dev;

	if (d->type != DEV_VIRTIO_RNG || virtio_mmio_restore(&r->t, d))
		return -EINVAL;
	r->running = (r->t.status & VIRTIO_STATUS_DRIVER_OK) &&
		     !(r->t.status & VIRTIO_STATUS_NEEDS_RESET);
	r->kicked = r->running;
	pthread_cond_broadcast(&r->cond);
	return 0;
}

/* Every chain made available is served and returned, notified or not, then
 * the thread is frozen. The wait is bounded by the bucket (VRNG_QUEUE_MAX),
 * and getrandom() does not block once the host's pool is initialised. */
static int vrng_quiesce(void *dev)
{
	struct vrng *r = dev;

	pthread_mutex_lock(r->lock);
	if (r->running) {
		r->kicked = 1;
		pthread_cond_broadcast(&r->cond);
	}
	/* The thread serves until the queue is empty before it waits for a
	 * kick again, so this is done once it is idle and not kicked. */
	while (r->busy || (r->running && (r->kicked ||
					  vq_pending(&r->t.q[0], &r->t.mem) > 0)))
		pthread_cond_wait(&r->cond, r->lock);
	r->frozen = 1;
	pthread_mutex_unlock(r->lock);
	return 0;
}

/* The guest goes on; chains it made available since are looked at. */
static void vrng_thaw(void *dev)
{
	struct vrng *r = dev;

	pthread_mutex_lock(r->lock);
	if (r->frozen) {
		r->frozen = 0;
		r->kicked = r->running;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(r->lock);
}

const struct dev_ops virtio_rng_dev_ops = {
	.type = DEV_VIRTIO_RNG,
	.name = "virtio-rng",
	.fdt_name = "virtio_mmio",
	.dflt = { DEV_VIRTIO_RNG, VIRTIO_SPI_BASE + VIRTIO_RNG_SLOT,
		  VIRTIO_MMIO_BASE + VIRTIO_RNG_SLOT * VIRTIO_MMIO_STRIDE,
		  VIRTIO_MMIO_STRIDE },
	.backend = DEV_BACKEND_NONE,
	.create = vrng_create,
	.destroy = vrng_destroy,
	.reset = vrng_reset,
	.mmio = vrng_mmio,
	.fdt_node = virtio_mmio_fdt,
	.save = vrng_save,
	.restore = vrng_restore,
	.quiesce = vrng_quiesce,
	.thaw = vrng_thaw,
};
