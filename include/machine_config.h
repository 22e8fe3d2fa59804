/* machine_config.h - the machine `torpor run` builds when nothing else is
 * asked for: the memory map of memmap.h, a vGICv3, every always-present
 * device of the device table at its default window (the generation ID
 * unless --no-vmgenid), and a virtio-blk device per --disk and a virtio-net
 * device per --net in the virtio-mmio slots. */
#ifndef TORPOR_MACHINE_CONFIG_H
#define TORPOR_MACHINE_CONFIG_H

#include "run_options.h"
#include "vm_state.h"

/* Fills cfg for a fresh VM from the run options (memory, vCPUs, command
 * line); vcpu_target and caps stay 0 until KVM names them. */
void vm_config_default(struct vm_config *cfg, const struct run_options *o);

#endif
