/* vcpu_regs.c - one vCPU's architectural state through ONE_REG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arm64_regs.h"
#include "exitcodes.h"
#include "id_regs.h"
#include "image_format.h"
#include "le.h"
#include "log.h"
#include "vcpu_regs.h"

/* The register list, grown until KVM stops answering E2BIG. */
static int reg_list(struct vcpu *v, struct kvm_reg_list **out)
{
	struct kvm_reg_list probe = { .n = 0 }, *l;

	if (ioctl(v->fd, KVM_GET_REG_LIST, &probe) == 0 || errno != E2BIG)
		return fail(EXIT_FAILURE_RT, "KVM_GET_REG_LIST of vCPU %u failed",
			    v->index);
	for (;;) {
		/* The format holds no more per vCPU: they could not be saved. */
		if (probe.n > IMAGE_MAX_VCPU_REGS)
			return fail(EXIT_FAILURE_RT, "vCPU %u has %llu registers",
				    v->index, (unsigned long long)probe.n);
		l = malloc(sizeof(*l) + probe.n * sizeof(l->reg[0]));
		if (!l)
			return fail(EXIT_FAILURE_RT, "out of memory");
		l->n = probe.n;
		if (ioctl(v->fd, KVM_GET_REG_LIST, l) == 0)
			break;
		probe.n = l->n;
		free(l);
		if (errno != E2BIG)
			return fail(EXIT_FAILURE_RT, "KVM_GET_REG_LIST: %s",
				    strerror(errno));
	}
	*out = l;
	return 0;
}

int vcpu_save(struct vcpu *v, struct vcpu_state *st)
{
	struct kvm_reg_list *l;
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp;
	size_t total = 0, off = 0;
	int ret;

	memset(st, 0, sizeof(*st));
	if ((ret = reg_list(v, &l)))
		return ret;
	for (uint64_t i = 0; i < l->n; i++) {
		size_t sz = reg_size(l->reg[i]);

		if (!sz) {
			unsigned long long id = l->reg[i];

			free(l);
			return fail(EXIT_FAILURE_RT, "vCPU %u: register 0x%llx "
				    "is wider than %u bytes", v->index, id, REG_MAX_BYTES);
		}
		total += sz;
	}
	st->reg_ids = malloc(l->n * sizeof(uint64_t));
	st->reg_data = malloc(total ? total : 1);
	if (!st->reg_ids || !st->reg_data) {
		free(l);
		return fail(EXIT_FAILURE_RT, "out of memory");
	}
	st->nregs = (uint32_t)l->n;
	st->reg_data_len = total;
	for (uint64_t i = 0; i < l->n; i++) {
		st->reg_ids[i] = l->reg[i];
		ret = vcpu_one_reg(v, KVM_GET_ONE_REG, l->reg[i], st->reg_data + off);
		if (ret) {
			free(l);
			return fail(EXIT_FAILURE_RT, "vCPU %u: reading register "
				    "0x%llx: %s", v->index,
				    (unsigned long long)st->reg_ids[i], strerror(-ret));
		}
		off += reg_size(l->reg[i]);
	}
	free(l);

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return fail(EXIT_FAILURE_RT, "KVM_GET_VCPU_EVENTS: %s",
			    strerror(errno));
	st->events.serror_pending = ev.exception.serror_pending;
	st->events.serror_has_esr = ev.exception.serror_has_esr;
	st->events.ext_dabt_pending = ev.exception.ext_dabt_pending;
	st->events.serror_esr = ev.exception.serror_esr;
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		return fail(EXIT_FAILURE_RT, "KVM_GET_MP_STATE: %s", strerror(errno));
	st->mp_state = mp.mp_state;
	st->mpidr = v->mpidr;
	return 0;
}

int vcpu_check_regs(struct vcpu *v, const struct vcpu_state *st)
{
	struct kvm_reg_list *l;
	int ret;

	if ((ret = reg_list(v, &l)))
		return ret;
	for (uint32_t i = 0; i < st->nregs; i++) {
		uint64_t j;

		for (j = 0; j < l->n && l->reg[j] != st->reg_ids[i]; j++)
			;
		if (j == l->n) {
			free(l);
			return fail(EXIT_IMAGE, "vCPU %u: register 0x%llx in the "
				    "image is unknown to this host's KVM", v->index,
				    (unsigned long long)st->reg_ids[i]);
		}
	}
	free(l);
	return 0;
}

/* The virtual and physical counters: VM-wide, written once by restore's
 * clock_restore, and always moving, so never written or compared per vCPU. */
static int is_counter(uint64_t id)
{
	return id == KVM_REG_ARM_TIMER_CNT || id == KVM_REG_ARM_PTIMER_CNT;
}

/* KVM refused the image's value of feature ID register id (at p): what
 * this host offers is read back and judged field by field (id_regs.h). If
 * the image asks for more than this host gives, restore is refused, naming
 * the field. Otherwise every field KVM lets the image lower is lowered, the
 * others keep this host's value (one the guest loses nothing by), and p is
 * updated to what the vCPU now holds. */
static int restore_id_reg(struct vcpu *v, uint64_t id, uint8_t *p)
{
	struct id_field_diff d[ID_REGS_MAX_FIELDS];
	const char *name = id_regs_name(id);
	char reg[24], kept[160] = "";
	uint64_t saved = le_get64(p), host, val;
	size_t len = 0;
	int n, ret;

	if (!name)
		snprintf(reg, sizeof(reg), "0x%llx", (unsigned long long)id);
	if ((ret = vcpu_get_reg(v, id, &host)))
		return fail(EXIT_FAILURE_RT, "vCPU %u: reading register %s: %s", v->index,
			    name ? name : reg, strerror(-ret));
	if (id_regs_decide(id, saved, host, d) == ID_REFUSE)
		return fail(EXIT_IMAGE, "vCPU %u: %s.%s is 0x%llx in the image, this host "
			    "offers 0x%llx: it cannot give the guest what it was told at boot",
			    v->index, name ? name : reg, d[0].field,
			    (unsigned long long)d[0].saved, (unsigned long long)d[0].host);
	n = id_regs_diff(id, saved, host, d, ID_REGS_MAX_FIELDS);
	val = host;
	for (int i = 0; i < n; i++) {
		if (!vcpu_set_reg(v, id, id_regs_field_from(host, &d[i], saved))) {
			val = id_regs_field_from(val, &d[i], saved);
			continue;
		}
		/* Field by field, as many as the line holds. */
		ret = snprintf(kept + len, sizeof(kept) - len, "%s%s 0x%llx (image 0x%llx)",
			       len ? ", " : "", d[i].field, (unsigned long long)d[i].host,
			       (unsigned long long)d[i].saved);
		if (ret > 0 && (size_t)ret < sizeof(kept) - len)
			len += (size_t)ret;
	}
	if ((ret = vcpu_set_reg(v, id, val)))
		return fail(EXIT_IMAGE, "vCPU %u: writing register %s: %s", v->index,
			    name ? name : reg, strerror(-ret));
	if (len)
		log_info("vCPU %u: %s keeps this host's %s, which its KVM cannot set lower; "
			 "the guest loses nothing", v->index, name ? name : reg, kept);
	le_put64(p, val);
	return 0;
}

int vcpu_restore(struct vcpu *v, struct vcpu_state *st)
{
	struct kvm_vcpu_events ev;
	size_t off = 0;
	int ret;

	for (uint32_t i = 0; i < st->nregs; i++) {
		uint64_t id = st->reg_ids[i];
		size_t sz = reg_size(id);

		if (!sz || off + sz > st->reg_data_len)
			return fail(EXIT_IMAGE, "vCPU %u: register list is "
				    "inconsistent", v->index);
		if (!is_counter(id)) {
			ret = vcpu_one_reg(v, KVM_SET_ONE_REG, id, st->reg_data + off);
			if (ret == -EINVAL && sz == 8 && id_regs_is_feature(id)) {
				if (restore_id_reg(v, id, st->reg_data + off))
					return -1;
				ret = 0;
			}
			if (ret)
				return fail(EXIT_IMAGE, "vCPU %u: writing register "
					    "0x%llx: %s", v->index,
					    (unsigned long long)id, strerror(-ret));
		}
		off += sz;
	}
	memset(&ev, 0, sizeof(ev));
	ev.exception.serror_pending = st->events.serror_pending;
	ev.exception.serror_has_esr = st->events.serror_has_esr;
	ev.exception.ext_dabt_pending = st->events.ext_dabt_pending;
	ev.exception.serror_esr = st->events.serror_esr;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return fail(EXIT_IMAGE, "KVM_SET_VCPU_EVENTS: %s", strerror(errno));
	return 0;
}

/* Counters run on; timer control registers have the ISTATUS bit (2), which
 * follows the counter. */
static int moving(uint64_t id, uint64_t *mask)
{
	*mask = ~0ULL;
	if (is_counter(id))
		return 1;
	if (id == KVM_REG_ARM_TIMER_CTL || id == KVM_REG_ARM_PTIMER_CTL)
		*mask = ~(1ULL << 2);
	return 0;
}

int vcpu_verify(struct vcpu *v, const struct vcpu_state *st)
{
	uint8_t now[REG_MAX_BYTES];
	char got[2 * REG_MAX_BYTES + 3], want[2 * REG_MAX_BYTES + 3];
	size_t off = 0;
	int n = 0;

	for (uint32_t i = 0; i < st->nregs; i++) {
		uint64_t id = st->reg_ids[i], mask, a = 0, b = 0;
		size_t sz = reg_size(id);
		int ret;

		if (!sz || off + sz > st->reg_data_len)
			return fail(EXIT_IMAGE, "vCPU %u: register list is "
				    "inconsistent", v->index);
		if (!moving(id, &mask)) {
			if ((ret = vcpu_one_reg(v, KVM_GET_ONE_REG, id, now)))
				return fail(EXIT_FAILURE_RT, "vCPU %u: reading back "
					    "register 0x%llx: %s", v->index,
					    (unsigned long long)id, strerror(-ret));
			if (sz == 8) {
				memcpy(&a, now, 8);
				memcpy(&b, st->reg_data + off, 8);
			}
			if (sz == 8 ? (a & mask) != (b & mask) :
			    memcmp(now, st->reg_data + off, sz)) {
				reg_hex(now, sz, got);
				reg_hex(st->reg_data + off, sz, want);
				return fail(EXIT_IMAGE, "vCPU %u: register 0x%llx "
					    "reads back %s after restore, image has %s",
					    v->index, (unsigned long long)id, got, want);
			}
			n++;
		}
		off += sz;
	}
	return n;
}

int vcpu_set_mp_state(struct vcpu *v, uint32_t state)
{
	struct kvm_mp_state mp = { .mp_state = state };

	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return fail(EXIT_FAILURE_RT, "vCPU %u: KVM_SET_MP_STATE %u: %s",
			    v->index, state, strerror(errno));
	return 0;
}
