/* fdt_build.h - the guest's device tree, generated with libfdt from the VM
 * configuration: memory, cpus, psci, gic, timer, chosen, and a node for each
 * device (16550 UART, PL031 RTC, PL061 GPIO with a gpio-keys wake button). */
#ifndef TORPOR_FDT_BUILD_H
#define TORPOR_FDT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "vm_state.h"

struct fdt_params {
	const struct vm_config *cfg;
	const uint64_t *mpidr;          /* cfg->ncpus entries, MPIDR_EL1 values */
	uint64_t initrd_addr, initrd_size;
};

/* Writes the device tree blob into buf (size bytes). 0 on success,
 * -ENOSPC if it does not fit, -EINVAL on a bad configuration. */
int fdt_build(void *buf, size_t size, const struct fdt_params *p);

#endif
