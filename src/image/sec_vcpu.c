/* sec_vcpu.c - codec of the per-vCPU section (type 5, instance = vCPU index):
 * MPIDR, MP state, vCPU events and the (id, value) register list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_int.h"

_Static_assert(VCPU_EXT_DABT_PENDING + 1 == SEC_VCPU_FIXED, "vcpu fixed part");

void sec_vcpu_put(struct wbuf *b, const struct vcpu_state *v)
{
	size_t off = 0;

	wbuf_put64(b, v->mpidr);
	wbuf_put64(b, v->events.serror_esr);
	wbuf_put32(b, v->mp_state);
	wbuf_put32(b, v->nregs);
	wbuf_put8(b, v->events.serror_pending);
	wbuf_put8(b, v->events.serror_has_esr);
	wbuf_put8(b, v->events.ext_dabt_pending);
	for (uint32_t i = 0; i < v->nregs; i++) {
		size_t n = reg_size(v->reg_ids[i]);

		wbuf_put64(b, v->reg_ids[i]);
		wbuf_bytes(b, v->reg_data + off, n);
		off += n;
	}
}

int sec_vcpu_get(const uint8_t *p, size_t len, unsigned index,
		 struct vcpu_state *v, struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	struct rbuf regs;
	char what[32];
	size_t data_len = 0;

	snprintf(what, sizeof(what), "vcpu %u section", index);
	memset(v, 0, sizeof(*v));
	v->mpidr = rbuf_get64(&r);
	v->events.serror_esr = rbuf_get64(&r);
	v->mp_state = rbuf_get32(&r);
	v->nregs = rbuf_get32(&r);
	v->events.serror_pending = rbuf_get8(&r);
	v->events.serror_has_esr = rbuf_get8(&r);
	v->events.ext_dabt_pending = rbuf_get8(&r);
	if (r.over)
		return rbuf_end(&r, what, err);
	if (v->nregs > IMAGE_MAX_VCPU_REGS || v->nregs > rbuf_left(&r) / 8) {
		uint32_t n = v->nregs;

		v->nregs = 0;
		return img_fail(err, IMG_ECORRUPT, "%s: %u registers (max %u, length %zu)",
				what, n, IMAGE_MAX_VCPU_REGS, len);
	}
	/* First pass: sizes, so the value buffer is allocated once. */
	regs = r;
	for (uint32_t i = 0; i < v->nregs; i++) {
		uint64_t id = rbuf_get64(&regs);
		size_t n = reg_size(id);

		if (!n && !regs.over) {
			v->nregs = 0;
			return img_fail(err, IMG_ECORRUPT, "%s: register %u (id 0x%016llx): size over %u bytes",
					what, i, (unsigned long long)id, REG_MAX_BYTES);
		}
		rbuf_skip(&regs, n);
		data_len += n;
	}
	if (regs.over || regs.pos != regs.len) {
		v->nregs = 0;
		return rbuf_end(&regs, what, err);
	}
	v->reg_ids = malloc(v->nregs * sizeof(*v->reg_ids) + !v->nregs);
	v->reg_data = malloc(data_len + !data_len);
	if (!v->reg_ids || !v->reg_data) {
		free(v->reg_ids);
		free(v->reg_data);
		memset(v, 0, sizeof(*v));
		return img_fail(err, IMG_ENOMEM, "%s: out of memory for %u registers", what, index);
	}
	v->reg_data_len = data_len;
	data_len = 0;
	for (uint32_t i = 0; i < v->nregs; i++) {
		v->reg_ids[i] = rbuf_get64(&r);
		rbuf_bytes(&r, v->reg_data + data_len, reg_size(v->reg_ids[i]));
		data_len += reg_size(v->reg_ids[i]);
	}
	return 0;
}
