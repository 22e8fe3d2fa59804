/* psci_request.h - the verdict on a guest's PSCI SYSTEM_SUSPEND call
 * (DEN0022 5.19) from plain values, and the resume it asks for. Pure
 * computation: src/vm/psci.c gathers the values and answers the guest. */
#ifndef TORPOR_PSCI_REQUEST_H
#define TORPOR_PSCI_REQUEST_H

#include <stdint.h>

/* PSCI_1_0_FN{,64}_SYSTEM_SUSPEND and PSCI_RET_*: a uapi header every
 * Linux host has. */
#include <linux/psci.h>

#include "vm_state.h"

/* KVM_MP_STATE_STOPPED of <linux/kvm.h>, a powered-off vCPU; src/vm/psci.c
 * asserts it equals the kernel's. */
#define PSCI_VCPU_STOPPED       5u

/* Decides vCPU caller's SYSTEM_SUSPEND (x0 = fn, x1 = entry point, x2 =
 * context id) among ncpus vCPUs whose MP states (KVM_MP_STATE_*) are
 * mp_state[], the caller's own ignored. PSCI_RET_DENIED unless every other
 * vCPU is stopped, else PSCI_RET_INVALID_ADDRESS unless the entry lies in
 * ram, else 0: the call may be honoured. res is filled either way; for any
 * fn but the SMC64 id, entry and context id keep only their low 32 bits. */
int64_t psci_request_check(uint32_t fn, uint64_t x1, uint64_t x2, uint32_t caller,
			   const uint32_t *mp_state, uint32_t ncpus,
			   const struct mem_region_cfg *ram, struct psci_resume *res);

#endif
