/* psci_request.c - may a SYSTEM_SUSPEND call be honoured (DEN0022 5.19.2). */
#include "psci_request.h"

int64_t psci_request_check(uint32_t fn, uint64_t x1, uint64_t x2, uint32_t caller,
			   const uint32_t *mp_state, uint32_t ncpus,
			   const struct mem_region_cfg *ram, struct psci_resume *res)
{
	res->vcpu = caller;
	res->smc64 = fn == PSCI_1_0_FN64_SYSTEM_SUSPEND;
	res->entry = x1;
	res->context_id = x2;
	/* SMC32 callers pass 32-bit arguments; the top halves are not theirs. */
	if (!res->smc64) {
		res->entry &= 0xffffffffu;
		res->context_id &= 0xffffffffu;
	}
	/* A second caller is not off either: two callers deny each other. */
	for (uint32_t i = 0; i < ncpus; i++)
		if (i != caller && mp_state[i] != PSCI_VCPU_STOPPED)
			return PSCI_RET_DENIED;
	/* Offset from the base, not base + size: RAM may end at 2^64. */
	if (res->entry < ram->guest_addr || res->entry - ram->guest_addr >= ram->size)
		return PSCI_RET_INVALID_ADDRESS;
	return 0;
}
