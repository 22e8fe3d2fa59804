/* gic_regs.c - the vGICv3 register list, in the order KVM needs on restore
 * (Documentation/virt/kvm/devices/arm-vgic-v3.rst). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gic_regs.h"
#include "image_format.h"

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

_Static_assert(ICC_CTLR_EL1 == GIC_ICC_CTLR_EL1, "ICC_CTLR_EL1 encoding");

struct reglist {
	struct gic_reg *r;
	uint32_t n, cap;
};

static int push(struct reglist *l, uint32_t group, uint64_t attr)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 256;
		struct gic_reg *r;

		/* The image reader refuses longer lists. */
		if (l->n == IMAGE_MAX_GIC_REGS)
			return -E2BIG;
		if (!(r = realloc(l->r, cap * sizeof(*r))))
			return -ENOMEM;
		l->r = r;
		l->cap = cap;
	}
	l->r[l->n++] = (struct gic_reg){ group, attr, 0 };
	return 0;
}

uint64_t gic_regs_mpidr_attr(uint64_t mpidr)
{
	uint64_t aff = ((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff);

	return aff << GIC_ATTR_MPIDR_SHIFT;
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
			ret = push(l, GIC_GRP_DIST_REGS, reg + i / per * bytes + half);
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
	int ret = push_all(l, GIC_GRP_DIST_REGS, 0, head, 3);

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
	return push_all(l, GIC_GRP_REDIST_REGS, m, offs, sizeof(offs) / sizeof(offs[0]));
}

static int list_levels(struct reglist *l, uint64_t m, uint32_t nr_irqs)
{
	int ret = 0;

	for (uint32_t i = 32; i < nr_irqs && !ret; i += 32)
		ret = push(l, GIC_GRP_LEVEL_INFO, m | (uint64_t)GIC_LEVEL_INFO_LINE_LEVEL <<
			   GIC_ATTR_LEVEL_INFO_SHIFT | i);
	return ret;
}

/* The CPU interface; the number of active-priority registers follows from
 * ICC_CTLR_EL1.PRIbits (5 bits: 1, 6: 2, 7: 4). */
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
	const uint32_t S = GIC_GRP_CPU_SYSREGS;
	unsigned bits = ICC_CTLR_PRIBITS(ctlr), naprs = bits >= 7 ? 4 : bits == 6 ? 2 : 1;
	int ret = push_all(l, S, m, head, 5);

	if (!ret)
		ret = push_all(l, S, m, aprs, 2 * naprs);
	return ret ? ret : push_all(l, S, m, tail, 2);
}

int gic_regs_list(uint32_t nr_irqs, uint32_t ncpus, const uint64_t *mpidr,
		  const uint64_t *icc_ctlr, struct gic_reg **regs, uint32_t *nregs)
{
	struct reglist l = { 0 };
	int ret = list_dist(&l, nr_irqs);

	for (uint32_t i = 0; i < ncpus && !ret; i++)
		ret = list_redist(&l, gic_regs_mpidr_attr(mpidr[i]));
	/* SPI levels are VM-wide; KVM wants some vCPU's MPIDR in the attr. */
	if (!ret && ncpus)
		ret = list_levels(&l, gic_regs_mpidr_attr(mpidr[0]), nr_irqs);
	for (uint32_t i = 0; i < ncpus && !ret; i++)
		ret = list_cpuif(&l, gic_regs_mpidr_attr(mpidr[i]), icc_ctlr[i]);
	if (ret) {
		free(l.r);
		return ret;
	}
	*regs = l.r;
	*nregs = l.n;
	return 0;
}

void gic_regs_spi_levels(const struct gic_state *st, uint32_t *levels, unsigned nwords)
{
	const uint64_t intid_mask = (1ULL << GIC_ATTR_LEVEL_INFO_SHIFT) - 1;

	memset(levels, 0, nwords * sizeof(*levels));
	for (uint32_t i = 0; i < st->nregs; i++) {
		const struct gic_reg *r = &st->regs[i];
		uint64_t intid = r->attr & intid_mask;
		uint64_t info = (r->attr >> GIC_ATTR_LEVEL_INFO_SHIFT) & 0x3fffff;

		/* One 32-line word per entry, from an INTID that is a multiple
		 * of 32; the first 32 are private, not SPIs. */
		if (r->group != GIC_GRP_LEVEL_INFO || info != GIC_LEVEL_INFO_LINE_LEVEL ||
		    intid < 32 || intid % 32 || (intid - 32) / 32 >= nwords)
			continue;
		levels[(intid - 32) / 32] = (uint32_t)r->value;
	}
}
