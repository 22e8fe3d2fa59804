/* gic_state.c - the vGICv3 as an ordered (group, attr, value) list: the
 * registers gic_regs.h lists, read from KVM on save and written back in
 * that same order on restore. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "gic.h"
#include "gic_regs.h"
#include "log.h"

_Static_assert(GIC_GRP_DIST_REGS == KVM_DEV_ARM_VGIC_GRP_DIST_REGS &&
	       GIC_GRP_REDIST_REGS == KVM_DEV_ARM_VGIC_GRP_REDIST_REGS &&
	       GIC_GRP_CPU_SYSREGS == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS &&
	       GIC_GRP_LEVEL_INFO == KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO &&
	       GIC_ATTR_MPIDR_SHIFT == KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT &&
	       GIC_ATTR_LEVEL_INFO_SHIFT == KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT &&
	       GIC_LEVEL_INFO_LINE_LEVEL == VGIC_LEVEL_INFO_LINE_LEVEL,
	       "gic_regs.h constants match <asm/kvm.h>");

static int get_value(int fd, struct gic_reg *r)
{
	uint32_t v32 = 0;
	int ret;

	if (r->group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS)
		return gic_attr(fd, KVM_GET_DEVICE_ATTR, r->group, r->attr, &r->value);
	ret = gic_attr(fd, KVM_GET_DEVICE_ATTR, r->group, r->attr, &v32);
	r->value = v32;
	return ret;
}

/* Keeps the registers this kernel lets us read; one it does not implement
 * (-ENXIO) is left out of the image, so restore writes only what exists. */
static int read_all(int fd, struct gic_reg *r, uint32_t *n)
{
	uint32_t out = 0;

	for (uint32_t i = 0; i < *n; i++) {
		int ret = get_value(fd, &r[i]);

		if (ret == -ENXIO)
			continue;
		if (ret)
			return fail(EXIT_FAILURE_RT, "reading vGIC register group %u "
				    "attr 0x%llx: %s", r[i].group,
				    (unsigned long long)r[i].attr, strerror(-ret));
		r[out++] = r[i];
	}
	*n = out;
	return 0;
}

int gic_save(struct vm *vm, struct gic_state *st)
{
	uint64_t mpidr[TORPOR_MAX_CPUS], ctlr[TORPOR_MAX_CPUS];
	struct gic_reg *regs;
	uint32_t n;
	int ret;

	memset(st, 0, sizeof(*st));
	/* LPI pending bits go to guest RAM, which is saved after this. */
	ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL,
		       KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, NULL);
	if (ret && ret != -ENXIO)
		return fail(EXIT_FAILURE_RT, "flushing vGIC pending tables: %s",
			    strerror(-ret));
	/* Each CPU interface's PRIbits decide its part of the list. */
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		mpidr[i] = vm->vcpus[i].mpidr;
		ret = gic_attr(vm->gic_fd, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
			       gic_regs_mpidr_attr(mpidr[i]) | GIC_ICC_CTLR_EL1, &ctlr[i]);
		if (ret)
			return fail(EXIT_FAILURE_RT, "reading ICC_CTLR_EL1 of vCPU %u: %s",
				    i, strerror(-ret));
	}
	ret = gic_regs_list(vm->cfg.gic_nr_irqs, vm->cfg.ncpus, mpidr, ctlr, &regs, &n);
	if (ret)
		return fail(EXIT_FAILURE_RT, "vGIC register list: %s",
			    ret == -E2BIG ? "longer than an image holds" : "out of memory");
	if ((ret = read_all(vm->gic_fd, regs, &n))) {
		free(regs);
		return ret;
	}
	st->version = vm->cfg.gic_version;
	st->nr_irqs = vm->cfg.gic_nr_irqs;
	st->regs = regs;
	st->nregs = n;
	return 0;
}

int gic_restore(struct vm *vm, const struct gic_state *st)
{
	if (st->version != vm->cfg.gic_version || st->nr_irqs != vm->cfg.gic_nr_irqs)
		return fail(EXIT_IMAGE, "vGIC state (v%u, %u lines) does not "
			    "match the configuration", st->version, st->nr_irqs);
	for (uint32_t i = 0; i < st->nregs; i++) {
		const struct gic_reg *r = &st->regs[i];
		uint32_t v32 = (uint32_t)r->value;
		uint64_t v64 = r->value;
		int ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, r->group, r->attr,
				   r->group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS ?
				   (void *)&v64 : (void *)&v32);

		if (ret)
			return fail(EXIT_IMAGE, "writing vGIC register group %u attr "
				    "0x%llx: %s", r->group, (unsigned long long)r->attr,
				    strerror(-ret));
	}
	return 0;
}
