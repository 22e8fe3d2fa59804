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
#include "vm_int.h"

int vcpu_one_reg(struct vcpu *v, unsigned long req, uint64_t id, void *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)val };

	return ioctl(v->fd, req, &r) < 0 ? -errno : 0;
}

int vcpu_set_reg(struct vcpu *v, uint64_t id, uint64_t value)
{
	return vcpu_one_reg(v, KVM_SET_ONE_REG, id, &value);
}

int vcpu_get_reg(struct vcpu *v, uint64_t id, uint64_t *value)
{
	return vcpu_one_reg(v, KVM_GET_ONE_REG, id, value);
}

int vcpu_init(struct vcpu *v)
{
	struct kvm_vcpu_init init = { .target = v->vm->cfg.vcpu_target };
	int ret;

	memcpy(init.features, v->vm->cfg.vcpu_features, sizeof(init.features));
	if (v->init_power_off)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return -errno;
	ret = vcpu_get_reg(v, SYSREG_MPIDR_EL1, &v->mpidr);
	return ret;
}

void vm_mmio_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t bad = 0;
	int ret;

	pthread_mutex_lock(&v->vm->dev_lock);
	ret = mmio_dispatch(&v->vm->bus, run->mmio.phys_addr, run->mmio.data,
			    run->mmio.len, run->mmio.is_write);
	if (ret == -EINVAL)
		bad = ++v->vm->bad_mmio;
	pthread_mutex_unlock(&v->vm->dev_lock);
	/* The guest decides how often this happens: a few lines, then silence
	 * (vm_loop reports the total). */
	if (bad && bad <= BAD_MMIO_LOGGED)
		log_info("vCPU %u: bad %u-byte MMIO %s at 0x%llx ignored%s", v->index,
			 run->mmio.len, run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr,
			 bad == BAD_MMIO_LOGGED ? " (further ones are not logged)" : "");
}

/* Parks the calling vCPU thread while the main thread holds the VM paused
 * or this vCPU's suspend call is unanswered. Returns nonzero when the thread
 * is to leave (the VM is being torn down). */
static int park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	int quit;

	pthread_mutex_lock(&vm->ctl_lock);
	vm->paused++;
	pthread_cond_broadcast(&vm->ctl_cond);
	while ((vm->pause_req || v->suspend_pending) && !vm->quit)
		pthread_cond_wait(&vm->ctl_cond, &vm->ctl_lock);
	vm->paused--;
	quit = vm->quit;
	pthread_mutex_unlock(&vm->ctl_lock);
	return quit;
}

/* Hands a SYSTEM_SUSPEND call to the main thread; the vCPU then parks until
 * that call in particular has been answered (in its registers or MP state),
 * whatever else the main thread resumes meanwhile. */
static int suspend_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t x0 = 0, x1 = 0, x2 = 0;

	vcpu_get_reg(v, REG_X(0), &x0);
	vcpu_get_reg(v, REG_X(1), &x1);
	vcpu_get_reg(v, REG_X(2), &x2);
	pthread_mutex_lock(&vm->ctl_lock);
	v->suspend_fn = (uint32_t)x0;
	v->suspend_entry = x1;
	v->suspend_context = x2;
	v->suspend_pending = 1;
	vm->suspend_requests++;
	pthread_mutex_unlock(&vm->ctl_lock);
	vm_notify(vm);
	return park(v);
}

static int system_event(struct vcpu *v)
{
	struct vm *vm = v->vm;

	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		pthread_mutex_lock(&vm->ctl_lock);
		vm->powered_off = 1;
		pthread_mutex_unlock(&vm->ctl_lock);
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
		return suspend_exit(v);
	case KVM_SYSTEM_EVENT_WAKEUP:
		/* Restore's held vCPU woke: the main thread completes the PSCI
		 * resume (reset, entry point, context id) while we are parked. */
		pthread_mutex_lock(&vm->ctl_lock);
		vm->wakeup_exits++;
		vm->pause_req = 1;
		pthread_mutex_unlock(&vm->ctl_lock);
		vm_notify(vm);
		return park(v);
	default:
		fail(EXIT_FAILURE_RT, "vCPU %u: unknown system event %u",
		     v->index, v->run->system_event.type);
		vm_request_exit(vm, VM_FAILED);
		return 1;
	}
}

static void unhandled(struct vcpu *v, const char *what)
{
	uint64_t pc = 0;

	vcpu_get_reg(v, REG_PC, &pc);
	fail(EXIT_FAILURE_RT, "vCPU %u: %s at PC 0x%llx", v->index, what,
	     (unsigned long long)pc);
	vm_request_exit(v->vm, VM_FAILED);
}

static int should_park(struct vm *vm)
{
	int p;

	pthread_mutex_lock(&vm->ctl_lock);
	p = vm->pause_req || vm->quit;
	pthread_mutex_unlock(&vm->ctl_lock);
	return p;
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char what[64];

	for (;;) {
		if (should_park(vm) && park(v))
			break;
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
