/* virtio_rng.h - a virtio entropy device (VIRTIO 1.2 section 5.4) over the
 * virtio-mmio transport: one request queue whose device-writable buffers are
 * filled from the host's getrandom(), served by a thread of its own. Its
 * saved state is the transport's (virtio_mmio.h).
 *
 * A guest cannot make that thread spin a host core: it serves from a token
 * bucket of bytes, VRNG_RATE a second up to VRNG_BURST. A chain gets what
 * the bucket holds up to its writable length (a partial fill, which the spec
 * allows) and costs at least VRNG_CHAIN_COST, so a flood of tiny or empty
 * chains is throttled too. A chain that empties the bucket puts the thread
 * to sleep until it holds VRNG_QUANTUM again, notified or not: at most
 * RATE / QUANTUM wake-ups a second. */
#ifndef TORPOR_VIRTIO_RNG_H
#define TORPOR_VIRTIO_RNG_H

#include <stdint.h>

#define VIRTIO_ID_RNG           4
/* QueueNumMax; it also bounds a checkpoint's wait for tokens: every chain
 * in the queue is served within VRNG_QUEUE_MAX * VRNG_QUANTUM / VRNG_RATE
 * (0.26 s). Linux keeps one request in flight. */
#define VRNG_QUEUE_MAX          64

/* 1 MB/s: a whole number of ns per byte, so that refills lose no fraction
 * of a byte however often they come. */
#define VRNG_NS_PER_BYTE        1000u
#define VRNG_NSEC               1000000000ull
#define VRNG_RATE               (VRNG_NSEC / VRNG_NS_PER_BYTE)  /* bytes a second */
#define VRNG_BURST              (64u << 10)     /* the bucket's size */
#define VRNG_QUANTUM            (4u << 10)      /* what a sleep waits for */
#define VRNG_CHAIN_COST         64u             /* the least a chain costs */

/* The bucket: tokens (bytes) and the time, in ns of any monotonic clock,
 * up to which refills were counted. A fresh device's is full. */
struct vrng_bucket {
	uint64_t tokens;
	uint64_t last_ns;
};

/* b refilled at now_ns: a byte per VRNG_NS_PER_BYTE since b.last_ns, never
 * above VRNG_BURST; the time towards a byte not yet earned is kept for the
 * next refill. A now_ns before b.last_ns changes nothing. Pure. */
struct vrng_bucket vrng_refill(struct vrng_bucket b, uint64_t now_ns);

/* What a chain of want writable bytes gets from b: min(want, tokens).
 * Charges max(that, VRNG_CHAIN_COST), down to 0 at most. */
uint32_t vrng_take(struct vrng_bucket *b, uint32_t want);

/* The earliest time at which refilling b gives it n tokens (n at most
 * VRNG_BURST); b.last_ns or earlier if it has them already. Pure. */
uint64_t vrng_ready_at(struct vrng_bucket b, uint64_t n);

#endif
