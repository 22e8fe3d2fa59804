/* virtqueue.c - the device side of a split virtqueue (VIRTIO 1.2 section
 * 2.7). The driver owns the descriptor table and the available ring and may
 * rewrite them at any moment, so every value is read from guest memory once,
 * into a local, and checked there before it is used. */
#include <errno.h>
#include <string.h>

#include "le.h"
#include "virtqueue.h"

/* Guest-visible layout (section 2.7): a descriptor is addr u64, len u32,
 * flags u16, next u16; both rings start with flags u16, idx u16, then the
 * entries, then the event index of the other side. */
#define DESC_SIZE               16
#define RING_HDR                4
#define AVAIL_ENTRY             2
#define USED_ENTRY              8
#define VIRTQ_AVAIL_F_NO_INTERRUPT      1

static uint64_t desc_bytes(uint16_t size)
{
	return (uint64_t)DESC_SIZE * size;
}

static uint64_t avail_bytes(uint16_t size)
{
	return RING_HDR + (uint64_t)AVAIL_ENTRY * size + 2;
}

static uint64_t used_bytes(uint16_t size)
{
	return RING_HDR + (uint64_t)USED_ENTRY * size + 2;
}

/* The indices the two sides exchange are read and written whole, never
 * byte by byte, so neither side sees half of an update. vq_check keeps
 * them 2-aligned. */
static uint16_t load16(const uint8_t *p, int order)
{
	uint16_t raw = __atomic_load_n((const uint16_t *)p, order);

	return le_get16((const uint8_t *)&raw);
}

static void store16(uint8_t *p, uint16_t v, int order)
{
	uint16_t raw;

	le_put16((uint8_t *)&raw, v);
	__atomic_store_n((uint16_t *)p, raw, order);
}

void vq_reset(struct vq *q)
{
	memset(q, 0, sizeof(*q));
}

static int ring_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len,
		   uint64_t align)
{
	return !(gpa & (align - 1)) && guest_mem_ptr(m, gpa, len);
}

int vq_check(const struct vq *q, const struct guest_mem *m)
{
	if (!q->size || q->size > VQ_MAX_SIZE || (q->size & (q->size - 1)))
		return -EINVAL;
	if (!ring_ok(m, q->desc, desc_bytes(q->size), 16) ||
	    !ring_ok(m, q->avail, avail_bytes(q->size), 2) ||
	    !ring_ok(m, q->used, used_bytes(q->size), 4))
		return -EINVAL;
	return 0;
}

static uint8_t *avail_ring(const struct vq *q, const struct guest_mem *m)
{
	return guest_mem_ptr(m, q->avail, avail_bytes(q->size));
}

static uint8_t *used_ring(const struct vq *q, const struct guest_mem *m)
{
	return guest_mem_ptr(m, q->used, used_bytes(q->size));
}

/* Chains the driver has made available beyond last_avail, read with
 * acquire order so that the ring entries and descriptors it published
 * before the index are seen; -EINVAL for an impossible count. */
static int available(const struct vq *q, const uint8_t *avail)
{
	uint16_t n = (uint16_t)(load16(avail + 2, __ATOMIC_ACQUIRE) - q->last_avail);

	return n > q->size ? -EINVAL : n;
}

int vq_pending(const struct vq *q, const struct guest_mem *m)
{
	const uint8_t *avail;

	if (!q->size || !(avail = avail_ring(q, m)))
		return -EINVAL;
	return available(q, avail);
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static void read_desc(const uint8_t *table, uint16_t i, struct desc *d)
{
	uint8_t raw[DESC_SIZE];

	memcpy(raw, table + (size_t)DESC_SIZE * i, DESC_SIZE);
	d->addr = le_get64(raw);
	d->len = le_get32(raw + 8);
	d->flags = le_get16(raw + 12);
	d->next = le_get16(raw + 14);
}

/* Replaces the walk's table by the indirect one d names (VIRTIO 1.2
 * section 2.7.5.3); VQ_OK or the fault. */
static enum vq_fault enter_indirect(const struct vq *q, const struct guest_mem *m,
				    const struct desc *d, int nested,
				    const uint8_t **table, uint32_t *tsize)
{
	if (!q->indirect || nested || (d->flags & VQ_DESC_F_NEXT))
		return VQ_BAD_INDIRECT;
	if (!d->len)
		return VQ_BAD_BUFFER;
	if (d->len % DESC_SIZE || d->len / DESC_SIZE > VQ_MAX_CHAIN)
		return VQ_BAD_INDIRECT;
	if (!(*table = guest_mem_ptr(m, d->addr, d->len)))
		return VQ_BAD_BUFFER;
	*tsize = d->len / DESC_SIZE;
	return VQ_OK;
}

static enum vq_fault add_buf(const struct guest_mem *m, const struct desc *d,
			     struct vq_chain *c)
{
	int writable = !!(d->flags & VQ_DESC_F_WRITE);
	uint32_t *total = writable ? &c->in_bytes : &c->out_bytes;
	uint8_t *p;

	if (!writable && c->n && c->buf[c->n - 1].writable)
		return VQ_BAD_ORDER;
	if (!(p = guest_mem_ptr(m, d->addr, d->len)))
		return VQ_BAD_BUFFER;
	if (c->n == VQ_MAX_CHAIN || d->len > UINT32_MAX - *total)
		return VQ_TOO_BIG;
	*total += d->len;
	c->buf[c->n++] = (struct vq_buf){ p, d->len, (uint8_t)writable };
	return VQ_OK;
}

/* Follows the chain at head through the direct table and at most one
 * indirect table. Each table is walked at most its size in steps: a chain
 * that goes on longer revisits a descriptor, so it loops. */
static enum vq_fault walk(const struct vq *q, const struct guest_mem *m,
			  uint16_t head, struct vq_chain *c)
{
	const uint8_t *table = guest_mem_ptr(m, q->desc, desc_bytes(q->size));
	uint32_t tsize = q->size, steps = 0, i = head;
	int indirect = 0;
	enum vq_fault f;
	struct desc d;

	if (!table)
		return VQ_BAD_RING;
	c->head = head;
	c->n = c->out_bytes = c->in_bytes = 0;
	for (;;) {
		if (i >= tsize)
			return VQ_BAD_HEAD;
		if (++steps > tsize)
			return VQ_LOOP;
		read_desc(table, (uint16_t)i, &d);
		if (d.flags & VQ_DESC_F_INDIRECT) {
			if ((f = enter_indirect(q, m, &d, indirect, &table, &tsize)))
				return f;
			indirect = 1;
			i = 0;
			steps = 0;
			continue;
		}
		if ((f = add_buf(m, &d, c)))
			return f;
		if (!(d.flags & VQ_DESC_F_NEXT))
			return VQ_OK;
		i = d.next;
	}
}

int vq_pop(struct vq *q, const struct guest_mem *m, struct vq_chain *c,
	   enum vq_fault *fault)
{
	const uint8_t *avail;
	uint16_t head;
	int n;

	*fault = VQ_OK;
	if (!q->size || !(avail = avail_ring(q, m))) {
		*fault = VQ_BAD_RING;
		return -EINVAL;
	}
	if ((n = available(q, avail)) < 0) {
		*fault = VQ_BAD_AVAIL_IDX;
		return -EINVAL;
	}
	if (!n)
		return 0;
	head = le_get16(avail + RING_HDR + AVAIL_ENTRY * (q->last_avail % q->size));
	if ((*fault = walk(q, m, head, c)))
		return -EINVAL;
	q->last_avail++;
	return 1;
}

int vq_push_n(struct vq *q, const struct guest_mem *m, const uint16_t *heads,
	      const uint32_t *written, unsigned n)
{
	uint8_t *used;

	if (!q->size || !(used = used_ring(q, m)))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = used + RING_HDR + USED_ENTRY * ((uint16_t)(q->used_idx + i) % q->size);

		le_put32(e, heads[i]);
		le_put32(e + 4, written[i]);
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	/* The release store makes the entries visible no later than the index. */
	store16(used + 2, q->used_idx, __ATOMIC_RELEASE);
	return 0;
}

int vq_push(struct vq *q, const struct guest_mem *m, uint16_t head,
	    uint32_t written)
{
	return vq_push_n(q, m, &head, &written, 1);
}

/* Whether new_idx passing event (the driver's used_event) happened in this
 * batch: event lies in [old, new_idx), modulo 2^16 (section 2.7.10). */
static int crossed(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

int vq_need_interrupt(struct vq *q, const struct guest_mem *m)
{
	const uint8_t *avail;
	uint16_t old = q->signalled_used;
	uint8_t valid = q->signalled_valid;

	/* Our used index must be visible before we read what the driver asked
	 * for, or both sides may each think the other will act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* A ring outside RAM cannot say "no": interrupt, the driver will find
	 * out. */
	if (!q->size || !(avail = avail_ring(q, m)))
		return 1;
	if (!q->event_idx)
		return !(load16(avail, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	q->signalled_used = q->used_idx;
	q->signalled_valid = 1;
	/* Without a last signalled index there is no batch to compare with. */
	if (!valid)
		return 1;
	return crossed(load16(avail + RING_HDR + AVAIL_ENTRY * q->size, __ATOMIC_RELAXED),
		       q->used_idx, old);
}

void vq_enable_notify(struct vq *q, const struct guest_mem *m)
{
	uint8_t *used;

	if (!q->event_idx || !q->size || !(used = used_ring(q, m)))
		return;
	store16(used + RING_HDR + USED_ENTRY * q->size, q->last_avail, __ATOMIC_RELAXED);
	/* Published before the caller looks at the available index again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

const char *vq_fault_name(enum vq_fault f)
{
	static const char *const names[] = {
		[VQ_OK] = "ok",
		[VQ_BAD_RING] = "ring outside guest RAM",
		[VQ_BAD_AVAIL_IDX] = "available index beyond the queue size",
		[VQ_BAD_HEAD] = "descriptor index out of range",
		[VQ_BAD_BUFFER] = "buffer outside guest RAM",
		[VQ_LOOP] = "descriptor chain loops",
		[VQ_BAD_ORDER] = "readable buffer after a writable one",
		[VQ_BAD_INDIRECT] = "malformed indirect descriptor",
		[VQ_TOO_BIG] = "chain too long or too large",
	};

	if ((unsigned)f >= sizeof(names) / sizeof(names[0]) || !names[f])
		return "unknown";
	return names[f];
}

void vq_chain_read(const struct vq_chain *c, uint32_t from, uint8_t *out, uint32_t len)
{
	for (uint32_t i = 0; i < c->n && len; i++) {
		const struct vq_buf *b = &c->buf[i];
		uint32_t take;

		if (b->writable)
			continue;
		if (from >= b->len) {
			from -= b->len;
			continue;
		}
		take = b->len - from < len ? b->len - from : len;
		memcpy(out, b->p + from, take);
		out += take;
		len -= take;
		from = 0;
	}
}

uint32_t vq_chain_write(const struct vq_chain *c, const uint8_t *in, uint32_t len)
{
	uint32_t done = 0;

	for (uint32_t i = 0; i < c->n && done < len; i++) {
		const struct vq_buf *b = &c->buf[i];
		uint32_t take = b->len < len - done ? b->len : len - done;

		if (!b->writable)
			continue;
		memcpy(b->p, in + done, take);
		done += take;
	}
	return done;
}

uint8_t *vq_chain_wbyte(const struct vq_chain *c, uint32_t off)
{
	for (uint32_t i = 0; i < c->n; i++) {
		if (!c->buf[i].writable)
			continue;
		if (off < c->buf[i].len)
			return c->buf[i].p + off;
		off -= c->buf[i].len;
	}
	return NULL;
}
