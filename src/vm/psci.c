/* psci.c - the answer to a guest's PSCI SYSTEM_SUSPEND (DEN0022 5.19):
 * deny it, or honour it with a checkpoint; and the wakeup that completes it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arm64_regs.h"
#include "checkpoint.h"
#include "control.h"
#include "host.h"
#include "exitcodes.h"
#include "log.h"
#include "psci_request.h"
#include "vcpu_regs.h"
#include "vm_int.h"

/* Returns the call with a PSCI error in x0; the guest sees it fail. */
static void answer(struct vcpu *v, int64_t psci_ret)
{
	int ret = vcpu_set_reg(v, REG_X(0), (uint64_t)psci_ret);

	if (ret)
		log_info("vCPU %u: cannot answer SYSTEM_SUSPEND: %s", v->index,
			 strerror(-ret));
}

_Static_assert(PSCI_VCPU_STOPPED == KVM_MP_STATE_STOPPED, "psci_request.h MP state");

/* psci_request_check on v's call, with the other vCPUs' MP states as KVM
 * has them now (one that cannot be read counts as running). */
static int64_t check_request(struct vm *vm, struct vcpu *v, struct psci_resume *res)
{
	uint32_t mp[TORPOR_MAX_CPUS];

	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		struct kvm_mp_state s;

		mp[i] = i == v->index || ioctl(vm->vcpus[i].fd, KVM_GET_MP_STATE, &s) < 0 ?
			KVM_MP_STATE_RUNNABLE : s.mp_state;
	}
	return psci_request_check(v->suspend_fn, v->suspend_entry, v->suspend_context,
				  v->index, mp, vm->cfg.ncpus, &vm->cfg.mem[0], res);
}

int psci_resume_vcpu(struct vm *vm, const struct psci_resume *res)
{
	struct vcpu *v = &vm->vcpus[res->vcpu];
	int ret;

	/* PSCI 5.19.1: the caller wakes as if reset, at entry with x0 = context.
	 * The reset repeats the vCPU's first KVM_ARM_VCPU_INIT exactly: before
	 * Linux 6.5 other feature bits (POWER_OFF included) are EINVAL. */
	if ((ret = vcpu_init(v)) ||
	    (ret = vcpu_set_reg(v, REG_PC, res->entry)) ||
	    (ret = vcpu_set_reg(v, REG_X(0), res->context_id)))
		return fail(EXIT_FAILURE_RT, "resuming vCPU %u at 0x%llx: %s",
			    res->vcpu, (unsigned long long)res->entry, strerror(-ret));
	return vcpu_set_mp_state(v, KVM_MP_STATE_RUNNABLE);
}

static void report(const char *what, const char *path,
		   const struct image_write_stats *s, double secs)
{
	double ratio = image_write_ratio(s);

	log_info("%s to %s: %.1f MiB for %.0f MiB of RAM (%.1f:1), %llu pages stored, "
		 "checkpoint %.2f s", what, path, s->file_bytes / 1048576.0,
		 s->mem_bytes / 1048576.0, ratio, (unsigned long long)s->data_pages, secs);
	if (s->dir_sync_errno)
		log_info("warning: the image is complete, but syncing its directory "
			 "failed (%s): after a power loss %s may be the older file",
			 strerror(s->dir_sync_errno), path);
}

/* Checkpoints the VM as pol says. A checkpoint that fails is handled here:
 * the caller's suspend call returns DENIED and the guest carries on, unless
 * a signal cancelled it, which stops torpor (the image untouched). Returns 0
 * (keep running), EXIT_HIBERNATED, 128 + signal, or -1 (failure recorded). */
static int honour(struct vm *vm, const struct psci_resume *res,
		  const struct suspend_policy *pol)
{
	struct vcpu *v = &vm->vcpus[res->vcpu];
	struct image_write_stats stats = { 0 };
	struct failure f;
	double secs;
	int sig = 0;

	if (vcpu_set_mp_state(v, KVM_MP_STATE_SUSPENDED)) {
		fail_take(&f);
		log_info("cannot suspend vCPU %u: %s", res->vcpu, f.msg);
		control_suspend_refused(vm, f.msg);
		answer(v, PSCI_RET_DENIED);
		return 0;
	}
	control_checkpoint_started(vm, pol->image);
	if (checkpoint_write(vm, res, pol->image, pol->mode == SUSPEND_SNAPSHOT,
			     &stats, &secs, &sig)) {
		fail_take(&f);
		if (sig) {
			log_info("stopped by signal %d during the checkpoint; %s is as it "
				 "was", sig, pol->image);
			control_checkpoint_cancelled(vm, sig);
			return 128 + sig;
		}
		log_info("checkpoint failed, the guest keeps running: %s", f.msg);
		control_checkpoint_failed(vm, f.msg);
		vcpu_set_mp_state(v, KVM_MP_STATE_RUNNABLE);
		answer(v, PSCI_RET_DENIED);
		return 0;
	}
	report(pol->mode == SUSPEND_HIBERNATE ? "hibernated" : "snapshot", pol->image,
	       &stats, secs);
	control_checkpoint_done(vm, pol, &stats, secs);
	if (pol->mode == SUSPEND_HIBERNATE)
		return EXIT_HIBERNATED;
	/* The image holds the suspended VM; the live one wakes at once. */
	if (psci_resume_vcpu(vm, res))
		return -1;
	control_resumed(vm);
	return 0;
}

int psci_handle_suspend(struct vm *vm)
{
	int code = 0;

	vm_pause(vm);
	/* Every pending call is answered, one at a time: with two callers
	 * neither sees the other off, so both are denied. */
	for (unsigned i = 0; i < vm->cfg.ncpus && !code; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct psci_resume res = { 0 };
		struct suspend_policy pol;
		char why[64];
		int64_t verdict;
		int pending;

		pthread_mutex_lock(&vm->ctl_lock);
		pending = v->suspend_pending;
		pthread_mutex_unlock(&vm->ctl_lock);
		if (!pending)
			continue;
		verdict = check_request(vm, v, &res);
		control_policy(vm, &pol);
		if (verdict) {
			snprintf(why, sizeof(why), "PSCI error %lld for its call",
				 (long long)verdict);
			control_suspend_refused(vm, why);
			answer(v, verdict);
		} else if (pol.mode == SUSPEND_DENY || !pol.image) {
			answer(v, PSCI_RET_DENIED);
		} else {
			code = honour(vm, &res, &pol);
		}
		if (code)
			break;  /* hibernated, stopped or failed: the VM stays paused */
		pthread_mutex_lock(&vm->ctl_lock);
		v->suspend_pending = 0;
		vm->suspend_requests--;
		pthread_mutex_unlock(&vm->ctl_lock);
	}
	if (!code)
		vm_resume(vm);
	return code;
}

int psci_handle_wakeup(struct vm *vm)
{
	struct psci_resume res;
	int pending;

	vm_pause(vm);
	pthread_mutex_lock(&vm->ctl_lock);
	pending = vm->resume_pending;
	res = vm->resume;
	vm->resume_pending = 0;
	vm->wakeup_exits = 0;
	pthread_mutex_unlock(&vm->ctl_lock);
	if (pending && psci_resume_vcpu(vm, &res))
		return -1;
	if (pending && vm->t_start > 0)
		log_info("guest resumed at its entry point %.2f s after restore began",
			 now_seconds() - vm->t_start);
	if (pending)
		control_resumed(vm);
	vm_resume(vm);
	return 0;
}
