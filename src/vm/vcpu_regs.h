/* vcpu_regs.h - saving and restoring one vCPU (arm64 only): every register
 * KVM_GET_REG_LIST names, vCPU events and the MP state. */
#ifndef TORPOR_VCPU_REGS_H
#define TORPOR_VCPU_REGS_H

#include "vm_int.h"

/* Reads all of v's registers, events and MP state into st (heap parts freed
 * by vm_state_free). v must be out of KVM_RUN. */
int vcpu_save(struct vcpu *v, struct vcpu_state *st);

/* Checks that every register id in st is one this host's KVM knows for v;
 * names the first unknown one through fail(). */
int vcpu_check_regs(struct vcpu *v, const struct vcpu_state *st);

/* Writes st back into a freshly initialised v, except the counters (virtual
 * and physical: VM-wide, set once by restore's clock_restore) and the MP
 * state. A feature ID register value KVM refuses is judged against what
 * this host offers (id_regs.h): refused, naming the field, if the image
 * asks for more; else this host's value stays in the fields KVM cannot
 * lower, and st is updated to what v holds, for vcpu_verify. */
int vcpu_restore(struct vcpu *v, struct vcpu_state *st);

/* Reads every register back from KVM and compares it with st (counters,
 * which move, and timer ISTATUS bits excepted). Returns the number of
 * registers compared, or -1 with the first mismatch recorded. */
int vcpu_verify(struct vcpu *v, const struct vcpu_state *st);

/* KVM_SET_MP_STATE. */
int vcpu_set_mp_state(struct vcpu *v, uint32_t state);

#endif
