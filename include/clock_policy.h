/* clock_policy.h - the virtual counter a restored VM starts from. Pure
 * computation: src/vm/restore.c reads the host clock and writes the result. */
#ifndef TORPOR_CLOCK_POLICY_H
#define TORPOR_CLOCK_POLICY_H

#include <stdint.h>

#include "run_options.h"
#include "vm_state.h"

/* The counter for a VM checkpointed at saved, restored when the host's
 * CLOCK_REALTIME reads now_ns. CLOCK_FREEZE: saved->counter. CLOCK_CONTINUE:
 * saved->counter plus the downtime in ticks of saved->counter_freq (rounded
 * down), as if it had kept counting; no advance if the host clock is not
 * past the checkpoint. Sets *counter and *gap_ns (the downtime added, 0 if
 * none) and returns 0; -ERANGE, nothing set, if the downtime exceeds
 * INT64_MAX ns or the counter would pass 2^64 - 1 (a saturated counter
 * would wrap moments later, so it is refused). */
int clock_policy_counter(const struct clock_ref *saved, int64_t now_ns,
			 enum clock_mode mode, uint64_t *counter, int64_t *gap_ns);

/* The physical counter to write beside the virtual counter virt: the
 * distance the guest saw between them (saved_pct - saved_vct, both from one
 * vCPU's register list) is kept, so the physical counter follows the same
 * policy and is written once. Arithmetic modulo 2^64, as the counters. */
uint64_t clock_policy_physical(uint64_t virt, uint64_t saved_pct, uint64_t saved_vct);

#endif
