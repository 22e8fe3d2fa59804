/* gic.h - the in-kernel vGICv3 (arm64 only): creation, and its state saved
 * and restored as a self-describing register list (vm_state.h gic_state). */
#ifndef TORPOR_GIC_H
#define TORPOR_GIC_H

#include "vm_int.h"

/* Creates the vGICv3 at the configured addresses with nr_irqs lines and
 * initialises it; needs all vCPUs created. */
int gic_create(struct vm *vm);

/* KVM_GET_DEVICE_ATTR or KVM_SET_DEVICE_ATTR (req) of (group, attr) on the
 * vGIC device fd, value at val. 0 or a negative errno (not recorded). */
int gic_attr(int fd, unsigned long req, uint32_t group, uint64_t attr, void *val);

/* Reads the whole vGIC state (distributor, every redistributor addressed by
 * its own vCPU's MPIDR, CPU interfaces, line levels) into st after flushing
 * LPI pending tables to guest RAM. All vCPUs must be out of KVM_RUN. */
int gic_save(struct vm *vm, struct gic_state *st);

/* Writes st back in the order KVM requires; all vCPUs out of KVM_RUN. */
int gic_restore(struct vm *vm, const struct gic_state *st);

#endif
