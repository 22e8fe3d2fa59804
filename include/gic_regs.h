/* gic_regs.h - which vGICv3 registers a checkpoint holds, as the KVM device
 * attributes (group, attr) that name them, in the order KVM needs them
 * written back. Pure computation: src/vm/gic_state.c reads and writes the
 * values. */
#ifndef TORPOR_GIC_REGS_H
#define TORPOR_GIC_REGS_H

#include <stdint.h>

#include "vm_state.h"

/* KVM_DEV_ARM_VGIC_* values of arm64 <asm/kvm.h>, which other hosts do not
 * have; src/vm/gic_state.c asserts they equal the kernel's. */
#define GIC_GRP_DIST_REGS               1
#define GIC_GRP_REDIST_REGS             5
#define GIC_GRP_CPU_SYSREGS             6       /* 64-bit values; the rest 32 */
#define GIC_GRP_LEVEL_INFO              7
#define GIC_ATTR_MPIDR_SHIFT            32      /* ..._V3_MPIDR_SHIFT */
#define GIC_ATTR_LEVEL_INFO_SHIFT       10      /* ..._LINE_LEVEL_INFO_SHIFT */
#define GIC_LEVEL_INFO_LINE_LEVEL       0       /* VGIC_LEVEL_INFO_LINE_LEVEL */

/* ICC_CTLR_EL1 as a GIC_GRP_CPU_SYSREGS attr (op0 3, op1 0, c12, c12, 4);
 * its PRIbits decide how many active-priority registers there are. */
#define GIC_ICC_CTLR_EL1                0xc664u

/* The attr bits that name the redistributor and CPU interface of the vCPU
 * whose MPIDR_EL1 is mpidr: its affinity Aff3.Aff2.Aff1.Aff0. */
uint64_t gic_regs_mpidr_attr(uint64_t mpidr);

/* The registers of a vGICv3 with nr_irqs lines and ncpus vCPUs whose
 * MPIDR_EL1 and ICC_CTLR_EL1 are mpidr[i] and icc_ctlr[i], in restore order:
 * distributor (IIDR, CTLR, STATUSR, SPI configuration, then SPI enable,
 * pending, active), each vCPU's redistributor (PROPBASER and PENDBASER
 * before GICR_CTLR), SPI line levels, each vCPU's CPU interface (ICC_SRE and
 * ICC_CTLR first, IGRPEN last). 64-bit distributor and redistributor
 * registers appear as two 32-bit halves. On success *regs (heap, values 0)
 * holds *nregs entries; -E2BIG beyond IMAGE_MAX_GIC_REGS, -ENOMEM, and then
 * nothing is allocated. */
int gic_regs_list(uint32_t nr_irqs, uint32_t ncpus, const uint64_t *mpidr,
		  const uint64_t *icc_ctlr, struct gic_reg **regs, uint32_t *nregs);

/* The SPI line levels a vGIC state holds (its GIC_GRP_LEVEL_INFO entries):
 * bit s of levels[s / 32] for SPI s (INTID 32 + s), nwords words, zeroed
 * first; lines the state does not name stay 0. */
void gic_regs_spi_levels(const struct gic_state *st, uint32_t *levels, unsigned nwords);

#endif
