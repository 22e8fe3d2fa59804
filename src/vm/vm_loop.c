/* vm_loop.c - the main thread: starts vCPUs and the console, pauses and
 * resumes them, and reacts to guest events and signals. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "console.h"
#include "control.h"
#include "exitcodes.h"
#include "log.h"
#include "vm_int.h"

#define SIG_KICK        SIGUSR1

void vm_notify(struct vm *vm)
{
	ssize_t r = write(vm->wake_fd[1], "", 1);

	(void)r;        /* a full pipe already holds a wakeup */
}

void vm_request_exit(struct vm *vm, int code)
{
	pthread_mutex_lock(&vm->ctl_lock);
	if (vm->exit_code == VM_RUNNING)
		vm->exit_code = code;
	pthread_mutex_unlock(&vm->ctl_lock);
	vm_notify(vm);
}

void vm_set_spi(void *opaque, uint32_t spi, int level)
{
	struct vm *vm = opaque;
	uint32_t bit = 1u << (spi % 32), *word = &vm->spi_level[spi / 32];
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
		       (GIC_SPI_BASE + spi),
		.level = level ? 1 : 0,
	};

	if (spi >= GIC_NR_IRQS - GIC_SPI_BASE || !!(*word & bit) == !!level)
		return;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		log_info("KVM_IRQ_LINE for SPI %u: %s", spi, strerror(errno));
		return;
	}
	*word = level ? (*word | bit) : (*word & ~bit);
}

static void kick_handler(int sig)
{
	(void)sig;      /* only interrupts KVM_RUN */
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->ctl_lock);
	vm->pause_req = 1;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->thread_started)
			continue;
		/* immediate_exit covers a kick that lands just before KVM_RUN. */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIG_KICK);
	}
	while (vm->paused < vm->running_threads)
		pthread_cond_wait(&vm->ctl_cond, &vm->ctl_lock);
	pthread_mutex_unlock(&vm->ctl_lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->ctl_lock);
	vm->pause_req = 0;
	pthread_cond_broadcast(&vm->ctl_cond);
	pthread_mutex_unlock(&vm->ctl_lock);
}

static int start_threads(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		return fail(EXIT_FAILURE_RT, "sigaction: %s", strerror(errno));
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int ret;

		pthread_mutex_lock(&vm->ctl_lock);
		vm->running_threads++;
		pthread_mutex_unlock(&vm->ctl_lock);
		ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret) {
			pthread_mutex_lock(&vm->ctl_lock);
			vm->running_threads--;
			pthread_mutex_unlock(&vm->ctl_lock);
			return fail(EXIT_FAILURE_RT, "cannot start vCPU %u thread", i);
		}
		v->thread_started = 1;
	}
	return 0;
}

/* Milliseconds until the first device's timed event (an RTC alarm), or -1. */
static int devices_timeout(struct vm *vm)
{
	int t = -1;

	pthread_mutex_lock(&vm->dev_lock);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		int d = vm->devs[i].ops->poll_ms ? vm->devs[i].ops->poll_ms(vm->devs[i].obj) : -1;

		if (d >= 0 && (t < 0 || d < t))
			t = d;
	}
	pthread_mutex_unlock(&vm->dev_lock);
	return t;
}

/* The sooner of two poll() timeouts, -1 meaning none. */
static int earliest(int a, int b)
{
	return a < 0 ? b : b < 0 || a < b ? a : b;
}

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Lets the parked vCPU threads leave and waits for them, so that nothing
 * touches the VM once vm_destroy() runs. */
static void stop_threads(struct vm *vm)
{
	pthread_mutex_lock(&vm->ctl_lock);
	vm->quit = 1;
	pthread_cond_broadcast(&vm->ctl_cond);
	pthread_mutex_unlock(&vm->ctl_lock);
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->thread_started)
			pthread_join(v->thread, NULL);
		v->thread_started = 0;
	}
}

int vm_loop(struct vm *vm)
{
	sigset_t set;
	int sfd, code, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* Threads created below inherit the mask: signals reach only sfd. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A closed stdout must not kill torpor: the console drops the output. */
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return fail(EXIT_FAILURE_RT, "signalfd: %s", strerror(errno));
	if ((ret = console_start(vm->console)))
		fail(EXIT_FAILURE_RT, "cannot start the console: %s", strerror(-ret));
	if (ret || control_start(vm) || start_threads(vm))
		vm_request_exit(vm, VM_FAILED);
	else if (vm->on_started)
		vm->on_started(vm);
	for (;;) {
		struct pollfd pf[2] = { { vm->wake_fd[0], POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		int suspend, wakeup;

		if (poll(pf, 2, earliest(devices_timeout(vm), control_timeout_ms(vm))) < 0 &&
		    errno != EINTR)
			break;
		drain(vm->wake_fd[0]);
		if (pf[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			log_info("stopped by signal %u", si.ssi_signo);
			vm_request_exit(vm, 128 + (int)si.ssi_signo);
		}
		pthread_mutex_lock(&vm->ctl_lock);
		code = vm->exit_code;
		suspend = vm->suspend_requests > 0;
		wakeup = vm->wakeup_exits > 0;
		pthread_mutex_unlock(&vm->ctl_lock);
		if (code != VM_RUNNING)
			break;
		if (suspend && (ret = psci_handle_suspend(vm))) {
			/* What was written decides: a guest hibernated into its
			 * image ends with 7, even if Ctrl-A x came meanwhile. */
			if (ret == EXIT_HIBERNATED) {
				pthread_mutex_lock(&vm->ctl_lock);
				vm->exit_code = EXIT_HIBERNATED;
				pthread_mutex_unlock(&vm->ctl_lock);
			}
			vm_request_exit(vm, ret < 0 ? VM_FAILED : ret);
			continue;       /* a hibernated guest is not woken */
		}
		if (wakeup && psci_handle_wakeup(vm))
			vm_request_exit(vm, VM_FAILED);
		/* After the guest's own events: a suspend that came before a
		 * deadline is answered as the request asked, and nothing is
		 * started on a VM that has ended. */
		control_run(vm);
	}
	vm_pause(vm);
	stop_threads(vm);
	close(sfd);
	if (vm->bad_mmio > BAD_MMIO_LOGGED)
		log_info("the guest made %llu bad MMIO accesses in all (ignored)",
			 (unsigned long long)vm->bad_mmio);
	pthread_mutex_lock(&vm->ctl_lock);
	code = vm->exit_code;
	pthread_mutex_unlock(&vm->ctl_lock);
	control_stop(vm, code);
	return code;
}
