/* fuzz_virtqueue.c - libFuzzer harness for the device side of a split
 * virtqueue: the input is a queue's configuration and the guest RAM it lives
 * in, as a hostile driver could write them. Every chain vq_pop hands out
 * must lie in guest RAM (ASan sees a stray pointer when its buffers are
 * touched); malformed queues must be refused, never followed past their
 * table or into a loop. Run with scripts/fuzz.sh (the image seeds are only
 * a starting corpus of bytes here). */
#include <stdint.h>
#include <string.h>

#include "le.h"
#include "virtqueue.h"

#define RAM_BYTES       (64u << 10)
#define GUEST_BASE      0x80000000ull
#define PARAMS          16      /* bytes of the input that configure the queue */
#define MAX_POPS        64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[RAM_BYTES] __attribute__((aligned(4096)));
static struct vq_chain chain;

/* Reads (and writes, where the device may) the first and last byte of each
 * buffer: a buffer is one range, so its ends being in RAM is all of it. */
static void touch(const struct vq_chain *c)
{
	for (uint32_t i = 0; i < c->n; i++) {
		volatile uint8_t *p = c->buf[i].p;
		uint32_t last = c->buf[i].len ? c->buf[i].len - 1 : 0;

		if (!c->buf[i].len)
			continue;
		if (c->buf[i].writable) {
			p[0] = (uint8_t)(p[last] + 1);
			p[last] = p[0];
		} else {
			(void)(p[0] + p[last]);
		}
	}
}

/* Parameters: size (log2, 0..10), flags (event idx, indirect), the three
 * ring offsets into RAM (multiplied out of 16-bit values, some past the end
 * on purpose), and the device's indices. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = { ram, GUEST_BASE, RAM_BYTES };
	struct vq q;

	if (size < PARAMS)
		return 0;
	vq_reset(&q);
	q.size = (uint16_t)(1u << (data[0] % 11));
	q.event_idx = data[1] & 1;
	q.indirect = (data[1] >> 1) & 1;
	q.desc = GUEST_BASE + (uint64_t)le_get16(data + 2) * 2;
	q.avail = GUEST_BASE + (uint64_t)le_get16(data + 4) * 2;
	q.used = GUEST_BASE + (uint64_t)le_get16(data + 6) * 2;
	q.last_avail = le_get16(data + 8);
	q.used_idx = le_get16(data + 10);
	q.ready = 1;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + PARAMS, size - PARAMS < RAM_BYTES ? size - PARAMS : RAM_BYTES);
	if (vq_check(&q, &mem))
		return 0;
	for (int i = 0; i < MAX_POPS; i++) {
		enum vq_fault fault = VQ_OK;
		int r = vq_pop(&q, &mem, &chain, &fault);

		if (r <= 0) {
			if (r == 0)
				vq_enable_notify(&q, &mem);
			break;
		}
		if (chain.n > VQ_MAX_CHAIN || chain.head >= q.size)
			__builtin_trap();
		touch(&chain);
		vq_push(&q, &mem, chain.head, chain.in_bytes);
		vq_need_interrupt(&q, &mem);
	}
	return 0;
}
