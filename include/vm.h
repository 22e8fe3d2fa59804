/* vm.h - torpor's virtual machine seen from the command line (arm64 KVM
 * only): boot a fresh VM from a kernel, or bring one back from an image, and
 * run it until it ends. Everything inside (vCPU threads, the loop, PSCI,
 * checkpoints) is private to src/vm/ (vm_int.h).
 *
 * Both return the run's outcome (exitcodes.h: 0 powered off, 6 reset, 7
 * hibernated, 8 crashed, 128+N signal), or -1 when it failed, with the
 * failure recorded by fail() (log.h). The VM is destroyed before they
 * return. */
#ifndef TORPOR_VM_H
#define TORPOR_VM_H

#include "boot_layout.h"
#include "run_options.h"

/* Files checked by cmd_run before any KVM work. */
struct boot_files {
	int kernel_fd, initrd_fd;       /* initrd_fd -1 when none */
	uint64_t kernel_size, initrd_size;
	struct payload_info payload;
	struct boot_layout layout;
};

/* Creates the VM, loads kernel, initrd and device tree, runs it to the end. */
int boot_run(const struct run_options *o, const struct boot_files *f);

/* Validates o->restore_from, checks this host can run it, rebuilds the VM in
 * the order KVM requires, resumes the suspended vCPU and runs it to the end. */
int restore_run(const struct run_options *o);

#endif
