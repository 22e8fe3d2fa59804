/* arm64_regs.h - KVM ONE_REG ids torpor uses by name (arm64 only). */
#ifndef TORPOR_ARM64_REGS_H
#define TORPOR_ARM64_REGS_H

#include <stddef.h>

#include <asm/kvm.h>
#include <linux/kvm.h>

#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		     (offsetof(struct kvm_regs, x) / sizeof(__u32)))
#define REG_PC          CORE_REG(regs.pc)
#define REG_PSTATE      CORE_REG(regs.pstate)
#define REG_X(n)        CORE_REG(regs.regs[n])

#define SYSREG_MPIDR_EL1        ARM64_SYS_REG(3, 0, 0, 0, 5)
#define SYSREG_CNTFRQ_EL0       ARM64_SYS_REG(3, 3, 14, 0, 0)

/* PSCI function ids and return codes (DEN0022) come from here. */
#include <linux/psci.h>

#endif
