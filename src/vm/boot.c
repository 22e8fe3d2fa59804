/* boot.c - a fresh VM: load the payload, build the device tree, enter the
 * kernel as Documentation/arm64/booting.rst asks (x0 = device tree). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arm64_regs.h"
#include "vm.h"
#include "exitcodes.h"
#include "fdt_build.h"
#include "file_io.h"
#include "log.h"
#include "machine_config.h"
#include "vm_int.h"

static int load(int fd, uint8_t *dst, uint64_t size, const char *what)
{
	int rc = pread_full(fd, dst, size, 0);

	if (rc)
		return fail(EXIT_GUEST_FILE, "reading the %s: %s", what,
			    rc < 0 ? strerror(-rc) : "file shrank");
	return 0;
}

static int load_guest(struct vm *vm, const struct boot_files *f)
{
	const struct boot_layout *bl = &f->layout;
	uint64_t base = vm->cfg.mem[0].guest_addr, mpidr[TORPOR_MAX_CPUS];
	struct fdt_params fp = { &vm->cfg, mpidr, bl->initrd_addr, bl->initrd_size };
	struct vcpu *boot = &vm->vcpus[0];
	int ret;

	if ((ret = load(f->kernel_fd, vm->ram + (bl->kernel_addr - base),
			f->kernel_size, "kernel")))
		return ret;
	if (f->initrd_fd >= 0 &&
	    (ret = load(f->initrd_fd, vm->ram + (bl->initrd_addr - base),
			f->initrd_size, "initrd")))
		return ret;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		mpidr[i] = vm->vcpus[i].mpidr;
	ret = fdt_build(vm->ram + (bl->fdt_addr - base), FDT_MAX_SIZE, &fp);
	if (ret)
		return fail(EXIT_FAILURE_RT, "device tree: %s", strerror(-ret));
	if ((ret = vcpu_set_reg(boot, REG_PC, bl->kernel_addr)) ||
	    (ret = vcpu_set_reg(boot, REG_X(0), bl->fdt_addr)))
		return fail(EXIT_FAILURE_RT, "setting boot registers: %s",
			    strerror(-ret));
	return 0;
}

/* Opens every --disk and --net, in order; on failure none stays open. */
static int open_backends(const struct run_options *o, struct vm_backends *be)
{
	char err[512];

	memset(be, 0, sizeof(*be));
	for (unsigned i = 0; i < o->ndisks; i++, be->ndisks++)
		if (disk_open(&be->disks[i], &o->disks[i], err, sizeof(err)))
			goto fail;
	for (unsigned i = 0; i < o->nnets; i++, be->ntaps++) {
		struct tap *t = &be->taps[i];

		if (tap_open(t, o->nets[i].tap, err, sizeof(err)))
			goto fail;
		tap_take_mac(t, &o->nets[i]);
	}
	return 0;
fail:
	vm_backends_close(be);
	return fail(EXIT_GUEST_FILE, "%s", err);
}

int boot_run(const struct run_options *o, const struct boot_files *f)
{
	struct vm_backends be;
	struct vm_config cfg;
	struct vm *vm;
	int code;

	/* struct vm is large (device FIFOs, vCPU table): keep it off the stack. */
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return fail(EXIT_FAILURE_RT, "out of memory");
	vm_config_default(&cfg, o);
	if (open_backends(o, &be) || vm_create(vm, &cfg, o, 1, NULL, &be)) {
		free(vm);
		return -1;
	}
	code = load_guest(vm, f) ? -1 : vm_loop(vm);
	vm_destroy(vm);
	free(vm);
	return code;
}
