/* psci.c - the answer to a guest's PSCI SYSTEM_SUSPEND (DEN0022 5.19):
 * deny it, or honour it with a checkpoint. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arm64_regs.h"
#include "exitcodes.h"
#include "log.h"
#include "vm.h"

/* Returns the call with a PSCI error in x0; the guest sees it fail. */
static void answer(struct vcpu *v, int64_t psci_ret)
{
	int ret = vcpu_set_reg(v, REG_X(0), (uint64_t)psci_ret);

	if (ret)
		log_info("vCPU %u: cannot answer SYSTEM_SUSPEND: %s", v->index,
			 strerror(-ret));
}

/* DENIED unless every other vCPU is off; INVALID_ADDRESS unless the entry
 * point lies in guest RAM. 0 when the call may be honoured. */
static int64_t check_request(struct vm *vm, const struct suspend_request *r)
{
	const struct mem_region_cfg *m = &vm->cfg.mem[0];
	uint64_t entry = r->entry;

	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		struct kvm_mp_state mp;

		if (i == r->vcpu)
			continue;
		if (ioctl(vm->vcpus[i].fd, KVM_GET_MP_STATE, &mp) < 0 ||
		    mp.mp_state != KVM_MP_STATE_STOPPED)
			return PSCI_RET_DENIED;
	}
	/* SMC32 callers pass 32-bit arguments; KVM leaves the top half as is. */
	if (r->function_id == PSCI_1_0_FN_SYSTEM_SUSPEND)
		entry &= 0xffffffffu;
	if (entry < m->guest_addr || entry - m->guest_addr >= m->size)
		return PSCI_RET_INVALID_ADDRESS;
	return 0;
}

int psci_handle_suspend(struct vm *vm)
{
	struct suspend_request r;
	struct vcpu *v;
	int64_t verdict;

	vm_pause(vm);
	pthread_mutex_lock(&vm->ctl_lock);
	r = vm->suspend;
	vm->suspend.pending = 0;
	pthread_mutex_unlock(&vm->ctl_lock);
	v = &vm->vcpus[r.vcpu];

	verdict = check_request(vm, &r);
	if (verdict)
		answer(v, verdict);
	else if (vm->opts->on_suspend == SUSPEND_DENY)
		answer(v, PSCI_RET_DENIED);
	vm_resume(vm);
	return 0;
}
