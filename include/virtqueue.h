/* virtqueue.h - a split virtqueue (VIRTIO 1.2 section 2.7) seen from the
 * device: taking descriptor chains the driver made available, and returning
 * them through the used ring, with VIRTIO_F_EVENT_IDX and indirect
 * descriptors. Every address and length the guest wrote is checked against
 * guest RAM before it is used; a malformed queue is reported, never followed.
 * Not thread-safe: one thread at a time per queue (the device's lock). */
#ifndef TORPOR_VIRTQUEUE_H
#define TORPOR_VIRTQUEUE_H

#include <stdint.h>

#include "guest_mem.h"

#define VQ_MAX_SIZE     1024    /* largest queue a device offers (QueueNumMax) */
#define VQ_MAX_CHAIN    VQ_MAX_SIZE     /* buffers in one chain, indirect ones included */

/* Descriptor flags (VIRTQ_DESC_F_*). */
#define VQ_DESC_F_NEXT          1
#define VQ_DESC_F_WRITE         2
#define VQ_DESC_F_INDIRECT      4

/* A queue as the transport configured it, and the device's progress.
 * size, ready and the three addresses are the driver's (the transport
 * writes them); the rest is the device's and goes into the image. */
struct vq {
	uint16_t size;          /* QueueNum: a power of 2, 1..VQ_MAX_SIZE */
	uint8_t ready;          /* QueueReady */
	uint8_t event_idx;      /* VIRTIO_F_EVENT_IDX negotiated */
	uint8_t indirect;       /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc, avail, used;     /* guest physical addresses */
	uint16_t last_avail;    /* free-running index of the next chain to take */
	uint16_t used_idx;      /* free-running index of the next used entry */
	uint16_t signalled_used;        /* used_idx when the driver was last
					 * interrupted (event idx) */
	uint8_t signalled_valid;        /* signalled_used means something */
};

/* One buffer of a chain: a host pointer into guest RAM, already checked. */
struct vq_buf {
	uint8_t *p;
	uint32_t len;
	uint8_t writable;       /* device-writable (VQ_DESC_F_WRITE) */
};

/* A chain taken from the queue: its head (returned in the used ring) and its
 * buffers in order, device-readable ones first as the spec requires. */
struct vq_chain {
	uint16_t head;
	uint32_t n;                     /* buffers in buf[] */
	uint32_t out_bytes, in_bytes;   /* readable, writable totals */
	struct vq_buf buf[VQ_MAX_CHAIN];
};

/* What a malformed queue did (vq_pop's -EINVAL), for the device's log. */
enum vq_fault {
	VQ_OK,
	VQ_BAD_RING,            /* descriptor table or a ring outside RAM */
	VQ_BAD_AVAIL_IDX,       /* more chains available than the queue holds */
	VQ_BAD_HEAD,            /* a descriptor index >= the table size */
	VQ_BAD_BUFFER,          /* a buffer outside RAM, or 0-length indirect table */
	VQ_LOOP,                /* a chain longer than its table: it loops */
	VQ_BAD_ORDER,           /* a readable buffer after a writable one */
	VQ_BAD_INDIRECT,        /* nested indirect, indirect+next, not negotiated,
				 * or a table that is not whole descriptors or
				 * has more than VQ_MAX_CHAIN of them */
	VQ_TOO_BIG,             /* more than VQ_MAX_CHAIN buffers, or a total
				 * length that overflows 32 bits */
};

/* Resets q to the state after a device reset: not ready, all zero. */
void vq_reset(struct vq *q);

/* Checks that a ready queue's size is valid and its rings are aligned
 * (16, 2, 4) and inside guest RAM (at QueueReady, and on restore); 0 or
 * -EINVAL. */
int vq_check(const struct vq *q, const struct guest_mem *m);

/* Chains available and not yet taken; -EINVAL if the driver's index says
 * more than the queue can hold. */
int vq_pending(const struct vq *q, const struct guest_mem *m);

/* Takes the next available chain into c. 1: a chain, 0: none available,
 * -EINVAL: the queue is malformed (*fault says how; the queue is unchanged
 * and the device must not use it until reset). Each descriptor is read
 * from guest memory once, so a driver rewriting it cannot pass a check. */
int vq_pop(struct vq *q, const struct guest_mem *m, struct vq_chain *c,
	   enum vq_fault *fault);

/* Returns chain head to the driver with written bytes in the used ring,
 * the entry visible before the index (release order). 0 or -EINVAL (used
 * ring outside RAM). */
int vq_push(struct vq *q, const struct guest_mem *m, uint16_t head,
	    uint32_t written);

/* vq_push of n chains at once (n <= the queue's size): every entry is
 * written before the index moves, so the driver sees all or none — one
 * frame over several buffers (VIRTIO 1.2 section 5.1.6.4). */
int vq_push_n(struct vq *q, const struct guest_mem *m, const uint16_t *heads,
	      const uint32_t *written, unsigned n);

/* Whether the driver wants an interrupt for what was pushed since the last
 * call: used_event with event idx (always 1 the first time, with nothing to
 * compare against), else the VIRTQ_AVAIL_F_NO_INTERRUPT flag. Call after
 * vq_push, before signalling. */
int vq_need_interrupt(struct vq *q, const struct guest_mem *m);

/* With event idx: asks to be notified at the next available chain (writes
 * avail_event = last_avail); a no-op otherwise. The caller checks
 * vq_pending again afterwards, so no notification is missed. */
void vq_enable_notify(struct vq *q, const struct guest_mem *m);

/* A short name of a fault, for logs. */
const char *vq_fault_name(enum vq_fault f);

/* Copies bytes [from, from + len) of chain c's readable buffers, in order,
 * into out; from + len <= c->out_bytes. */
void vq_chain_read(const struct vq_chain *c, uint32_t from, uint8_t *out, uint32_t len);

/* Copies up to len bytes from in into c's writable buffers from their
 * start; returns how many fit (at most c->in_bytes). */
uint32_t vq_chain_write(const struct vq_chain *c, const uint8_t *in, uint32_t len);

/* Byte off of c's writable buffers, counted across them; NULL when off >=
 * c->in_bytes. */
uint8_t *vq_chain_wbyte(const struct vq_chain *c, uint32_t off);

#endif
