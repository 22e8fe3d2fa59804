/* gic_state.c - the vGICv3 as an ordered (group, attr, value) list.
 *
 * One enumeration serves save and restore, in the order KVM needs on
 * restore (Documentation/virt/kvm/devices/arm-vgic-v3.rst): distributor
 * identity and control, SPI configuration before enables and pending bits,
 * then each redistributor addressed by its own vCPU's MPIDR (PROPBASER and
 * PENDBASER before GICR_CTLR), line levels, and the CPU interface registers
 * last. 64-bit distributor/redistributor registers travel as 32-bit halves,
 * as the KVM interface accesses them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "gic.h"
#include "log.h"

/* Distributor and redistributor offsets (GICv3 architecture spec). */
#define GICD_CTLR       0x0000
#define GICD_IIDR       0x0008
#define GICD_STATUSR    0x0010
#define GICD_IGROUPR    0x0080
#define GICD_ISENABLER  0x0100
#define GICD_ISPENDR    0x0200
#define GICD_ISACTIVER  0x0300
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR      0x0c00
#define GICD_IROUTER    0x6000
#define GICR_CTLR       0x0000
#define GICR_STATUSR    0x0010
#define GICR_WAKER      0x0014
#define GICR_PROPBASER  0x0070
#define GICR_PENDBASER  0x0078
#define GICR_SGI        0x10000 /* SGI/PPI frame */

/* CPU interface registers: op0=3, op1=0, CRn, CRm, op2 as KVM encodes them. */
#define ICC(crn, crm, op2) ((3u << 14) | ((crn) << 7) | ((crm) << 3) | (op2))
#define ICC_PMR_EL1     ICC(4, 6, 0)
#define ICC_BPR0_EL1    ICC(12, 8, 3)
#define ICC_AP0R_EL1(n) ICC(12, 8, 4 + (n))
#define ICC_AP1R_EL1(n) ICC(12, 9, (n))
#define ICC_BPR1_EL1    ICC(12, 12, 3)
#define ICC_CTLR_EL1    ICC(12, 12, 4)
#define ICC_SRE_EL1     ICC(12, 12, 5)
#define ICC_IGRPEN0_EL1 ICC(12, 12, 6)
#define ICC_IGRPEN1_EL1 ICC(12, 12, 7)
#define ICC_CTLR_PRIBITS(v) ((((v) >> 8) & 7) + 1)

#define MAX_GIC_REGS    8192

struct reglist {
	struct gic_reg *r;
	uint32_t n, cap;
};

static int push(struct reglist *l, uint32_t group, uint64_t attr)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 256;
		struct gic_reg *r;

		if (cap > MAX_GIC_REGS || !(r = realloc(l->r, cap * sizeof(*r))))
			return -ENOMEM;
		l->r = r;
		l->cap = cap;
	}
	l->r[l->n++] = (struct gic_reg){ group, attr, 0 };
	return 0;
}

/* The attr field KVM uses to name a redistributor / CPU interface. */
static uint64_t mpidr_attr(uint64_t mpidr)
{
	uint64_t aff = ((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff);

	return aff << KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT;
}

/* Appends n attrs (base | offs[i]) of one group, in order. */
static int push_all(struct reglist *l, uint32_t group, uint64_t base,
		    const uint32_t *offs, unsigned n)
{
	int ret = 0;

	for (unsigned i = 0; i < n && !ret; i++)
		ret = push(l, group, base | offs[i]);
	return ret;
}

/* One register per `per` interrupts from INTID 32 (SPIs only: SGIs and PPIs
 * live in the redistributors), `bytes` wide, at reg. */
static int push_spis(struct reglist *l, uint32_t reg, uint32_t per,
		     uint32_t bytes, uint32_t nr_irqs)
{
	int ret = 0;

	for (uint32_t i = 32; i < nr_irqs && !ret; i += per)
		for (uint32_t half = 0; half < bytes && !ret; half += 4)
			ret = push(l, KVM_DEV_ARM_VGIC_GRP_DIST_REGS,
				   reg + i / per * bytes + half);
	return ret;
}

static int list_dist(struct reglist *l, uint32_t nr_irqs)
{
	static const uint32_t head[] = { GICD_IIDR, GICD_CTLR, GICD_STATUSR };
	/* Per-SPI registers (offset, interrupts per register, register width):
	 * configuration first, then enables, pending and active bits. */
	static const struct { uint32_t reg, per, bytes; } spis[] = {
		{ GICD_IGROUPR, 32, 4 }, { GICD_ICFGR, 16, 4 }, { GICD_IPRIORITYR, 4, 4 },
		{ GICD_IROUTER, 1, 8 }, { GICD_ISENABLER, 32, 4 }, { GICD_ISPENDR, 32, 4 },
		{ GICD_ISACTIVER, 32, 4 },
	};
	int ret = push_all(l, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, head, 3);

	for (unsigned i = 0; i < sizeof(spis) / sizeof(spis[0]) && !ret; i++)
		ret = push_spis(l, spis[i].reg, spis[i].per, spis[i].bytes, nr_irqs);
	return ret;
}

static int list_redist(struct reglist *l, uint64_t m)
{
	static const uint32_t offs[] = {
		GICR_PROPBASER, GICR_PROPBASER + 4, GICR_PENDBASER, GICR_PENDBASER + 4,
		GICR_CTLR, GICR_STATUSR, GICR_WAKER,
		GICR_SGI + GICD_IGROUPR, GICR_SGI + GICD_ICFGR, GICR_SGI + GICD_ICFGR + 4,
		GICR_SGI + GICD_IPRIORITYR, GICR_SGI + GICD_IPRIORITYR + 4,
		GICR_SGI + GICD_IPRIORITYR + 8, GICR_SGI + GICD_IPRIORITYR + 12,
		GICR_SGI + GICD_IPRIORITYR + 16, GICR_SGI + GICD_IPRIORITYR + 20,
		GICR_SGI + GICD_IPRIORITYR + 24, GICR_SGI + GICD_IPRIORITYR + 28,
		GICR_SGI + GICD_ISENABLER, GICR_SGI + GICD_ISPENDR, GICR_SGI + GICD_ISACTIVER,
	};
	return push_all(l, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, m, offs,
			sizeof(offs) / sizeof(offs[0]));
}

static int list_levels(struct reglist *l, uint64_t m, uint32_t nr_irqs)
{
	int ret = 0;

	for (uint32_t i = 32; i < nr_irqs && !ret; i += 32)
		ret = push(l, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
			   m | (uint64_t)VGIC_LEVEL_INFO_LINE_LEVEL <<
			   KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT | i);
	return ret;
}

/* The CPU interface; the number of active-priority registers follows from
 * ICC_CTLR_EL1.PRIbits (5 bits: 1, 6: 2, 7: 4), so it is read first. */
static int list_cpuif(struct reglist *l, uint64_t m, uint64_t ctlr)
{
	static const uint32_t head[] = {
		ICC_SRE_EL1, ICC_CTLR_EL1, ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1,
	};
	static const uint32_t aprs[] = {
		ICC_AP0R_EL1(0), ICC_AP1R_EL1(0), ICC_AP0R_EL1(1), ICC_AP1R_EL1(1),
		ICC_AP0R_EL1(2), ICC_AP1R_EL1(2), ICC_AP0R_EL1(3), ICC_AP1R_EL1(3),
	};
	static const uint32_t tail[] = { ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1 };
	const uint32_t S = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
	unsigned bits = ICC_CTLR_PRIBITS(ctlr), naprs = bits >= 7 ? 4 : bits == 6 ? 2 : 1;
	int ret = push_all(l, S, m, head, 5);

	if (!ret)
		ret = push_all(l, S, m, aprs, 2 * naprs);
	return ret ? ret : push_all(l, S, m, tail, 2);
}

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
static int read_all(int fd, struct reglist *l, uint32_t from)
{
	uint32_t out = from;

	for (uint32_t i = from; i < l->n; i++) {
		int ret = get_value(fd, &l->r[i]);

		if (ret == -ENXIO)
			continue;
		if (ret)
			return fail(EXIT_FAILURE_RT, ret, "reading vGIC register group %u "
				    "attr 0x%llx: %s", l->r[i].group,
				    (unsigned long long)l->r[i].attr, strerror(-ret));
		l->r[out++] = l->r[i];
	}
	l->n = out;
	return 0;
}

int gic_save(struct vm *vm, struct gic_state *st)
{
	struct reglist l = { 0 };
	uint32_t nr = vm->cfg.gic_nr_irqs;
	int ret;

	memset(st, 0, sizeof(*st));
	/* LPI pending bits go to guest RAM, which is saved after this. */
	ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL,
		       KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, NULL);
	if (ret && ret != -ENXIO)
		return fail(EXIT_FAILURE_RT, ret, "flushing vGIC pending tables: %s",
			    strerror(-ret));
	ret = list_dist(&l, nr);
	for (unsigned i = 0; i < vm->cfg.ncpus && !ret; i++)
		ret = list_redist(&l, mpidr_attr(vm->vcpus[i].mpidr));
	if (!ret)
		ret = list_levels(&l, mpidr_attr(vm->vcpus[0].mpidr), nr);
	if (ret) {
		free(l.r);
		return fail(EXIT_FAILURE_RT, ret, "vGIC register list: out of memory");
	}
	if ((ret = read_all(vm->gic_fd, &l, 0)))
		goto err;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		uint64_t m = mpidr_attr(vm->vcpus[i].mpidr), ctlr = 0;
		uint32_t from = l.n;

		ret = gic_attr(vm->gic_fd, KVM_GET_DEVICE_ATTR,
			       KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, m | ICC_CTLR_EL1, &ctlr);
		if (ret) {
			fail(EXIT_FAILURE_RT, ret, "reading ICC_CTLR_EL1 of vCPU %u: %s",
			     i, strerror(-ret));
			goto err;
		}
		if ((ret = list_cpuif(&l, m, ctlr))) {
			fail(EXIT_FAILURE_RT, ret, "vGIC register list: out of memory");
			goto err;
		}
		if ((ret = read_all(vm->gic_fd, &l, from)))
			goto err;
	}
	st->version = vm->cfg.gic_version;
	st->nr_irqs = nr;
	st->regs = l.r;
	st->nregs = l.n;
	return 0;
err:
	free(l.r);
	return ret;
}

int gic_restore(struct vm *vm, const struct gic_state *st)
{
	if (st->version != vm->cfg.gic_version || st->nr_irqs != vm->cfg.gic_nr_irqs)
		return fail(EXIT_IMAGE, -EINVAL, "vGIC state (v%u, %u lines) does not "
			    "match the configuration", st->version, st->nr_irqs);
	for (uint32_t i = 0; i < st->nregs; i++) {
		const struct gic_reg *r = &st->regs[i];
		uint32_t v32 = (uint32_t)r->value;
		uint64_t v64 = r->value;
		int ret = gic_attr(vm->gic_fd, KVM_SET_DEVICE_ATTR, r->group, r->attr,
				   r->group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS ?
				   (void *)&v64 : (void *)&v32);

		if (ret)
			return fail(EXIT_IMAGE, ret, "writing vGIC register group %u attr "
				    "0x%llx: %s", r->group, (unsigned long long)r->attr,
				    strerror(-ret));
	}
	return 0;
}
