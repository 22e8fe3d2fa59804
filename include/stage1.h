/* stage1.h - what a suspended guest's own (stage-1) translation asks of the
 * host's KVM. With FEAT_LPA2 (TCR_EL1.DS = 1) and 4K pages, a guest with
 * more than 48 bits of virtual address space walks from level -1. When a
 * walk's read of such a table faults at stage 2 (after a restore every page
 * does, until KVM maps it), the fault can be reported as "translation
 * fault, level -1" (FSC 0x2b: QEMU's TCG reports the stage-1 level there),
 * which older KVMs reject ("Unsupported FSC"): KVM_RUN fails with EFAULT.
 * 6.1.192 rejects it, 6.12.118 takes it as a translation fault; the change
 * came with the arm64 LPA2 work, in 6.9 as far as we can tell. Pure
 * computation: restore.c asks before creating the VM. */
#ifndef TORPOR_STAGE1_H
#define TORPOR_STAGE1_H

#include <stdint.h>

/* The lowest lookup level (-1..3) at which the translation regime TCR_EL1
 * configures starts, over the halves whose walks are enabled (EPD0/EPD1
 * clear); 4 if neither is. */
int stage1_start_level(uint64_t tcr_el1);

/* The lowest level whose translation faults the KVM of a Linux with this
 * kernel release ("6.1.0-57-arm64") handles: -1 from 6.9 on, 0 before, 0 if
 * the release does not parse. */
int stage1_host_min_level(const char *release);

#endif
