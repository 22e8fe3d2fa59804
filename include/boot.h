/* boot.h - starting a fresh VM from a kernel (arm64 only). */
#ifndef TORPOR_BOOT_H
#define TORPOR_BOOT_H

#include "boot_layout.h"
#include "run_options.h"

/* Files checked by cmd_run before any KVM work. */
struct boot_files {
	int kernel_fd, initrd_fd;       /* initrd_fd -1 when none */
	uint64_t kernel_size, initrd_size;
	struct payload_info payload;
	struct boot_layout layout;
};

/* Creates the VM, loads kernel, initrd and device tree, runs it to the end.
 * Returns an exit code (exitcodes.h); failures are recorded with fail(). */
int boot_run(const struct run_options *o, const struct boot_files *f);

#endif
