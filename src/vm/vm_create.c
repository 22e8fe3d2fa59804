/* vm_create.c - VM bring-up and teardown, in the order KVM requires. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "console.h"
#include "devices.h"
#include "exitcodes.h"
#include "gic.h"
#include "log.h"
#include "mem_lazy.h"
#include "memmap.h"
#include "vm_int.h"

int kvm_open(void)
{
	static const struct { long cap; const char *name; } needed[] = {
		{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
		{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
		{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
		{ KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },   /* vmgenid's window */
	};
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fail(EXIT_NO_KVM, "cannot open /dev/kvm: %s "
			    "(torpor needs an arm64 host with KVM)", strerror(errno));
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(fd);
		return fail(EXIT_NO_KVM, "/dev/kvm has an unknown API version");
	}
	for (unsigned i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
			close(fd);
			return fail(EXIT_NO_KVM, "this host's KVM lacks %s",
				    needed[i].name);
		}
	}
	return fd;
}

static void console_out(void *ctx, uint8_t byte)
{
	struct vm *vm = ctx;

	console_write(vm->console, byte);
}

/* Console input goes to the first device that takes it. */
static size_t console_deliver(void *ctx, const uint8_t *buf, size_t len)
{
	struct vm *vm = ctx;
	size_t n = 0;

	pthread_mutex_lock(&vm->dev_lock);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		if (vm->devs[i].ops->console_in) {
			n = vm->devs[i].ops->console_in(vm->devs[i].obj, buf, len);
			break;
		}
	}
	pthread_mutex_unlock(&vm->dev_lock);
	return n;
}

static void console_quit(void *ctx)
{
	vm_request_exit(ctx, EXIT_OK);
}

/* The SYSTEM_SUSPEND capability: enabled whenever the host has it, so the
 * guest sees PSCI SYSTEM_SUSPEND; required when the config says it was on. */
static int enable_caps(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_SYSTEM_SUSPEND };
	int have = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_SYSTEM_SUSPEND) > 0;

	if (!have) {
		if (vm->cfg.caps & VM_CAP_SYSTEM_SUSPEND)
			return fail(EXIT_NO_KVM, "this host's KVM lacks "
				    "KVM_CAP_ARM_SYSTEM_SUSPEND (Linux >= 5.19)");
		if (vm->opts->on_suspend != SUSPEND_DENY)
			return fail(EXIT_NO_KVM, "--image needs "
				    "KVM_CAP_ARM_SYSTEM_SUSPEND (Linux >= 5.19)");
		return 0;
	}
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return fail(EXIT_NO_KVM, "enabling KVM_CAP_ARM_SYSTEM_SUSPEND: %s",
			    strerror(errno));
	vm->cfg.caps |= VM_CAP_SYSTEM_SUSPEND;
	return 0;
}

uint8_t *vm_ram_map(const struct vm_config *cfg)
{
	/* NORESERVE: untouched guest pages cost nothing, and the image writer
	 * asks the kernel which pages were ever touched. */
	void *ram = mmap(NULL, cfg->mem[0].size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (ram == MAP_FAILED) {
		fail(EXIT_FAILURE_RT, "cannot map %llu MiB of guest RAM",
		     (unsigned long long)(cfg->mem[0].size >> 20));
		return NULL;
	}
	return ram;
}

static int map_ram(struct vm *vm)
{
	struct kvm_userspace_memory_region slot = { 0 };

	if (!vm->ram && !(vm->ram = vm_ram_map(&vm->cfg)))
		return -ENOMEM;
	slot.slot = 0;
	slot.guest_phys_addr = vm->cfg.mem[0].guest_addr;
	slot.memory_size = vm->ram_size;
	slot.userspace_addr = (uintptr_t)vm->ram;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return fail(EXIT_FAILURE_RT, "KVM_SET_USER_MEMORY_REGION: %s",
			    strerror(errno));
	return 0;
}

static int create_vcpus(struct vm *vm, int secondaries_off)
{
	struct kvm_vcpu_init pref;

	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &pref) < 0)
		return fail(EXIT_NO_KVM, "KVM_ARM_PREFERRED_TARGET: %s",
			    strerror(errno));
	/* A restored VM must get the target it was saved with. */
	if (vm->cfg.vcpu_target && vm->cfg.vcpu_target != pref.target)
		return fail(EXIT_IMAGE, "image vCPU target %u differs from "
			    "this host's %u", vm->cfg.vcpu_target, pref.target);
	vm->cfg.vcpu_target = pref.target;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int ret;

		v->vm = vm;
		v->index = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0)
			return fail(EXIT_FAILURE_RT, "KVM_CREATE_VCPU %u: %s",
				    i, strerror(errno));
		v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			return fail(EXIT_FAILURE_RT, "mmap of kvm_run: %s",
				    strerror(errno));
		}
		v->init_power_off = secondaries_off && i > 0;
		ret = vcpu_init(v);
		if (ret)
			return fail(EXIT_NO_KVM, "KVM_ARM_VCPU_INIT of vCPU %u: %s",
				    i, strerror(-ret));
	}
	return 0;
}

/* A device's timed event moved: the main loop recomputes its timeout. */
static void dev_notify(void *ctx)
{
	vm_notify(ctx);
}

/* Guest memory of a device's own (dev_ops.memslot), in memslot
 * VM_MAX_MEM_REGIONS + i (after every RAM region's): a
 * window that is a whole number of host pages, zeroed, and read-only to the
 * guest (its writes exit as MMIO no device claims). */
static int map_window(struct vm *vm, struct vm_dev *vd, unsigned i)
{
	struct kvm_userspace_memory_region slot = { 0 };
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	void *p;

	if (vd->cfg.size % page || vd->cfg.base % page)
		return fail(EXIT_IMAGE, "device %u: window 0x%llx+0x%llx is not whole "
			    "host pages", i, (unsigned long long)vd->cfg.base,
			    (unsigned long long)vd->cfg.size);
	p = mmap(NULL, vd->cfg.size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(EXIT_FAILURE_RT, "cannot map device %u's window", i);
	vd->window = p;
	vd->window_size = vd->cfg.size;
	slot.slot = VM_MAX_MEM_REGIONS + i;
	slot.flags = KVM_MEM_READONLY;
	slot.guest_phys_addr = vd->cfg.base;
	slot.memory_size = vd->cfg.size;
	slot.userspace_addr = (uintptr_t)p;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return fail(EXIT_FAILURE_RT, "device %u: KVM_SET_USER_MEMORY_REGION: %s",
			    i, strerror(errno));
	return 0;
}

/* The host resource the next device of kind backend gets, in order. */
static void *next_backend(struct vm *vm, uint32_t backend, unsigned *disks,
			  unsigned *taps)
{
	if (backend == DEV_BACKEND_DISK)
		return *disks < vm->be.ndisks ? &vm->be.disks[(*disks)++] : NULL;
	return *taps < vm->be.ntaps ? &vm->be.taps[(*taps)++] : NULL;
}

/* Creates every configured device from the device table and maps it on the
 * bus (or as guest memory); an image naming an unknown type or a bad window
 * is refused, and every disk and tap must find its device. */
static int add_devices(struct vm *vm)
{
	const struct vm_config *c = &vm->cfg;
	unsigned disks = 0, taps = 0;

	for (uint32_t i = 0; i < c->ndevs; i++) {
		const struct dev_cfg *d = &c->devs[i];
		const struct dev_ops *ops = dev_find(d->type);
		struct dev_env env = {
			{ vm_set_spi, vm, d->spi }, console_out, dev_notify, vm,
			{ vm->ram, c->mem[0].guest_addr, vm->ram_size }, &vm->dev_lock,
			NULL, NULL,
		};
		struct vm_dev *vd = &vm->devs[vm->ndevs];

		if (!ops)
			return fail(EXIT_IMAGE, "device %u: unknown type %u",
				    i, d->type);
		if (d->spi >= GIC_NR_IRQS - GIC_SPI_BASE)
			return fail(EXIT_IMAGE, "device %u: SPI %u out of range",
				    i, d->spi);
		if (ops->backend &&
		    !(env.backend = next_backend(vm, ops->backend, &disks, &taps)))
			return fail(EXIT_IMAGE, "device %u: %s without a %s", i, ops->name,
				    ops->backend == DEV_BACKEND_DISK ? "disk" : "tap");
		vd->ops = ops;
		vd->cfg = *d;
		if (ops->memslot) {
			if (map_window(vm, vd, i))
				return -1;
			env.window = vd->window;
		}
		if (!(vd->obj = ops->create(&env)))
			return fail(EXIT_FAILURE_RT, "device %u (%s) could not be created: out "
				    "of memory, threads or file descriptors", i, ops->name);
		vm->ndevs++;
		if (!ops->memslot &&
		    mmio_register(&vm->bus, d->base, d->size, ops->mmio, vd->obj, ops->name))
			return fail(EXIT_IMAGE, "device layout overlaps or is too large");
	}
	if (disks != vm->be.ndisks || taps != vm->be.ntaps)
		return fail(EXIT_IMAGE, "%u disks and %u taps for %u virtio-blk and %u "
			    "virtio-net devices", vm->be.ndisks, vm->be.ntaps, disks, taps);
	return 0;
}

void vm_backends_close(struct vm_backends *be)
{
	while (be->ndisks)
		disk_close(&be->disks[--be->ndisks]);
	while (be->ntaps)
		tap_close(&be->taps[--be->ntaps]);
}

int vm_create(struct vm *vm, const struct vm_config *cfg,
	      const struct run_options *opts, int secondaries_off, uint8_t *ram,
	      struct vm_backends *be)
{
	struct console_ops console_ops = { console_deliver, console_quit, vm };
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->gic_fd = -1;
	vm->wake_fd[0] = vm->wake_fd[1] = -1;
	vm->exit_code = VM_RUNNING;
	vm->cfg = *cfg;
	vm->opts = opts;
	vm->ram = ram;
	vm->ram_size = cfg->mem[0].size;
	vm->be = *be;
	be->ndisks = be->ntaps = 0;
	for (unsigned i = 0; i < TORPOR_MAX_CPUS; i++)
		vm->vcpus[i].fd = -1;
	pthread_mutex_init(&vm->dev_lock, NULL);
	pthread_mutex_init(&vm->ctl_lock, NULL);
	pthread_cond_init(&vm->ctl_cond, NULL);
	if (pipe2(vm->wake_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = fail(EXIT_FAILURE_RT, "pipe: %s", strerror(errno));
		goto err;
	}

	if ((ret = vm->kvm_fd = kvm_open()) < 0)
		goto err;
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0) {
		ret = fail(EXIT_NO_KVM, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto err;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = fail(EXIT_NO_KVM, "KVM_CREATE_VM: %s", strerror(errno));
		goto err;
	}
	if ((ret = enable_caps(vm)))
		goto err;
	if ((ret = map_ram(vm)))
		goto err;
	if ((ret = create_vcpus(vm, secondaries_off)))
		goto err;
	if ((ret = gic_create(vm)))
		goto err;
	if ((ret = console_open(&vm->console, &console_ops))) {
		ret = fail(EXIT_FAILURE_RT, "console: %s", strerror(-ret));
		goto err;
	}
	if ((ret = add_devices(vm)))
		goto err;
	return 0;
err:
	vm_destroy(vm);
	return ret;
}

void vm_destroy(struct vm *vm)
{
	console_close(vm->console);
	vm->console = NULL;
	for (unsigned i = 0; i < vm->ndevs; i++)
		vm->devs[i].ops->destroy(vm->devs[i].obj);
	vm->ndevs = 0;
	vm_backends_close(&vm->be);
	if (vm->gic_fd >= 0)
		close(vm->gic_fd);
	for (unsigned i = 0; i < TORPOR_MAX_CPUS; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, (size_t)vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
		v->run = NULL;
		v->fd = -1;
	}
	/* Nothing touches RAM any more: pages never filled may read as zero. */
	mem_lazy_free(vm->lazy);
	vm->lazy = NULL;
	free(vm->prefetch);
	vm->prefetch = NULL;
	vm->nprefetch = 0;
	/* The VM goes before its memory: unmapping RAM that is still a
	 * memslot makes KVM tear its stage-2 mappings down range by range
	 * (seconds for a large guest under an emulated host), while a VM
	 * destroyed first drops them at once. Its last vCPU and device fds
	 * are closed above, so this close destroys it. */
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	for (unsigned i = 0; i < VM_MAX_DEVICES; i++) {
		if (vm->devs[i].window)
			munmap(vm->devs[i].window, vm->devs[i].window_size);
		vm->devs[i].window = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (vm->wake_fd[i] >= 0)
			close(vm->wake_fd[i]);
	vm->ram = NULL;
	vm->gic_fd = vm->vm_fd = vm->kvm_fd = vm->wake_fd[0] = vm->wake_fd[1] = -1;
}
