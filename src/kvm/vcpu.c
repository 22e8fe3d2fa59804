/* vcpu.c - vCPU initialisation, registers, and the KVM_RUN loop of each
 * vCPU thread. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arm64_regs.h"
#include "exitcodes.h"
#include "log.h"
#include "vm.h"

int vcpu_set_reg(struct vcpu *v, uint64_t id, uint64_t value)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)&value };

	return ioctl(v->fd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

int vcpu_get_reg(struct vcpu *v, uint64_t id, uint64_t *value)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)value };

	return ioctl(v->fd, KVM_GET_ONE_REG, &r) < 0 ? -errno : 0;
}

int vcpu_init(struct vcpu *v, int power_off)
{
	struct kvm_vcpu_init init = { .target = v->vm->cfg.vcpu_target };
	int ret;

	memcpy(init.features, v->vm->cfg.vcpu_features, sizeof(init.features));
	if (power_off)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return fail(EXIT_NO_KVM, -errno, "KVM_ARM_VCPU_INIT of vCPU %u: %s",
			    v->index, strerror(errno));
	ret = vcpu_get_reg(v, SYSREG_MPIDR_EL1, &v->mpidr);
	if (ret)
		return fail(EXIT_FAILURE_RT, ret, "reading MPIDR_EL1 of vCPU %u: %s",
			    v->index, strerror(-ret));
	return 0;
}

void vm_mmio_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	int ret;

	pthread_mutex_lock(&v->vm->dev_lock);
	ret = mmio_dispatch(&v->vm->bus, run->mmio.phys_addr, run->mmio.data,
			    run->mmio.len, run->mmio.is_write);
	pthread_mutex_unlock(&v->vm->dev_lock);
	if (ret == -EINVAL)
		log_info("vCPU %u: bad %u-byte MMIO %s at 0x%llx ignored", v->index,
			 run->mmio.len, run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr);
}

/* Parks the calling vCPU thread while the main thread holds the VM paused. */
static void park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->ctl_lock);
	vm->paused++;
	pthread_cond_broadcast(&vm->ctl_cond);
	while (vm->pause_req)
		pthread_cond_wait(&vm->ctl_cond, &vm->ctl_lock);
	vm->paused--;
	pthread_mutex_unlock(&vm->ctl_lock);
}

/* Hands a SYSTEM_SUSPEND call to the main thread and parks until it has been
 * answered (the answer is in the vCPU's registers or MP state by then). */
static void suspend_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t x0 = 0, x1 = 0, x2 = 0;

	vcpu_get_reg(v, REG_X(0), &x0);
	vcpu_get_reg(v, REG_X(1), &x1);
	vcpu_get_reg(v, REG_X(2), &x2);
	pthread_mutex_lock(&vm->ctl_lock);
	vm->suspend = (struct suspend_request){ 1, v->index, (uint32_t)x0, x1, x2 };
	/* Park before the main thread pauses the others, so this vCPU cannot
	 * re-enter KVM_RUN with the call unanswered. */
	vm->pause_req = 1;
	pthread_mutex_unlock(&vm->ctl_lock);
	vm_notify(vm);
	park(v);
}

static int system_event(struct vcpu *v)
{
	struct vm *vm = v->vm;

	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vm, EXIT_OK);
		return 1;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vm, EXIT_RESET);
		return 1;
	case KVM_SYSTEM_EVENT_CRASH:
		log_info("the guest reported a crash");
		vm_request_exit(vm, EXIT_CRASHED);
		return 1;
	case KVM_SYSTEM_EVENT_SUSPEND:
		suspend_exit(v);
		return 0;
	case KVM_SYSTEM_EVENT_WAKEUP:
		/* Restore's held vCPU woke: the main thread completes the PSCI
		 * resume (reset, entry point, context id) while we are parked. */
		pthread_mutex_lock(&vm->ctl_lock);
		vm->wakeup_exits++;
		vm->pause_req = 1;
		pthread_mutex_unlock(&vm->ctl_lock);
		vm_notify(vm);
		park(v);
		return 0;
	default:
		fail(EXIT_FAILURE_RT, -EINVAL, "vCPU %u: unknown system event %u",
		     v->index, v->run->system_event.type);
		vm_request_exit(vm, EXIT_FAILURE_RT);
		return 1;
	}
}

static void unhandled(struct vcpu *v, const char *what)
{
	uint64_t pc = 0;

	vcpu_get_reg(v, REG_PC, &pc);
	fail(EXIT_FAILURE_RT, -EINVAL, "vCPU %u: %s at PC 0x%llx", v->index, what,
	     (unsigned long long)pc);
	vm_request_exit(v->vm, EXIT_FAILURE_RT);
}

static int should_park(struct vm *vm)
{
	int p;

	pthread_mutex_lock(&vm->ctl_lock);
	p = vm->pause_req;
	pthread_mutex_unlock(&vm->ctl_lock);
	return p;
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char what[64];

	for (;;) {
		if (should_park(vm))
			park(v);
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			snprintf(what, sizeof(what), "KVM_RUN failed (%s)", strerror(errno));
			unhandled(v, what);
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_MMIO:
			vm_mmio_exit(v);
			continue;
		case KVM_EXIT_SYSTEM_EVENT:
			if (system_event(v))
				break;
			continue;
		case KVM_EXIT_INTR:
			continue;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "entry failed (reason 0x%llx)",
				 (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
			unhandled(v, what);
			break;
		default:
			snprintf(what, sizeof(what), "unhandled exit reason %u",
				 v->run->exit_reason);
			unhandled(v, what);
			break;
		}
		break;
	}
	pthread_mutex_lock(&vm->ctl_lock);
	vm->running_threads--;
	pthread_cond_broadcast(&vm->ctl_cond);
	pthread_mutex_unlock(&vm->ctl_lock);
	return NULL;
}
