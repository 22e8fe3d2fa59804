/* vm_state.c - helpers for the saved-state structs of vm_state.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image_int.h"
#include "le.h"
#include "vm_state.h"

/* KVM_REG_SIZE_SHIFT/MASK of <linux/kvm.h>, which x86 hosts also build
 * against, spelled out so this file needs no kernel header. */
#define REG_SIZE_SHIFT  52
#define REG_SIZE_MASK   0x00f0000000000000ULL

size_t reg_size(uint64_t id)
{
	unsigned shift = (unsigned)((id & REG_SIZE_MASK) >> REG_SIZE_SHIFT);

	if (shift > 8)  /* 1 << 8 = REG_MAX_BYTES; larger would overflow it */
		return 0;
	return (size_t)1 << shift;
}

int vcpu_reg(const struct vcpu_state *v, uint64_t id, uint64_t *value)
{
	size_t off = 0;

	for (uint32_t i = 0; i < v->nregs; i++) {
		size_t n = reg_size(v->reg_ids[i]);

		if (v->reg_ids[i] == id && n >= 8) {
			*value = le_get64(v->reg_data + off);
			return 0;
		}
		off += n;
	}
	return -1;
}

void vm_state_free(struct vm_state *st)
{
	for (unsigned i = 0; i < TORPOR_MAX_CPUS; i++) {
		free(st->vcpus[i].reg_ids);
		free(st->vcpus[i].reg_data);
		st->vcpus[i].reg_ids = NULL;
		st->vcpus[i].reg_data = NULL;
		st->vcpus[i].nregs = 0;
		st->vcpus[i].reg_data_len = 0;
	}
	free(st->gic.regs);
	st->gic.regs = NULL;
	st->gic.nregs = 0;
}

int dev_state_put(struct dev_state *d, uint32_t id, uint64_t value)
{
	if (d->nfields >= DEV_MAX_FIELDS)
		return -ENOSPC;
	d->fields[d->nfields].id = id;
	d->fields[d->nfields].value = value;
	d->nfields++;
	return 0;
}

int dev_state_get(const struct dev_state *d, uint32_t id, uint64_t *value)
{
	for (uint32_t i = 0; i < d->nfields && i < DEV_MAX_FIELDS; i++) {
		if (d->fields[i].id == id) {
			*value = d->fields[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

/* Heap copy of n bytes; NULL for n == 0 as for allocation failure, so the
 * caller tells them apart by n. */
static void *dup_bytes(const void *p, size_t n)
{
	void *q;

	if (!n)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

int vm_state_copy(struct vm_state *dst, const struct vm_state *src)
{
	*dst = *src;
	for (unsigned i = 0; i < TORPOR_MAX_CPUS; i++) {
		const struct vcpu_state *s = &src->vcpus[i];
		struct vcpu_state *d = &dst->vcpus[i];

		d->reg_ids = dup_bytes(s->reg_ids, s->nregs * sizeof(*s->reg_ids));
		d->reg_data = dup_bytes(s->reg_data, s->reg_data_len);
	}
	dst->gic.regs = dup_bytes(src->gic.regs, src->gic.nregs * sizeof(*src->gic.regs));
	for (unsigned i = 0; i < TORPOR_MAX_CPUS; i++) {
		const struct vcpu_state *d = &dst->vcpus[i];

		if ((d->nregs && !d->reg_ids) || (d->reg_data_len && !d->reg_data))
			goto oom;
	}
	if (dst->gic.nregs && !dst->gic.regs)
		goto oom;
	return 0;
oom:
	vm_state_free(dst);
	return -IMG_ENOMEM;
}

void reg_hex(const uint8_t *p, size_t sz, char *out)
{
	static const char digits[] = "0123456789abcdef";

	*out++ = '0';
	*out++ = 'x';
	for (size_t b = sz; b-- > 0;) {
		*out++ = digits[p[b] >> 4];
		*out++ = digits[p[b] & 15];
	}
	*out = '\0';
}
