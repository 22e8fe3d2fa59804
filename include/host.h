/* host.h - facts about the machine torpor runs on: clocks and the
 * fingerprint an image records of its host. */
#ifndef TORPOR_HOST_H
#define TORPOR_HOST_H

#include <stdint.h>

#include "vm_state.h"

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double now_seconds(void);

/* Host CLOCK_REALTIME in nanoseconds since the epoch. */
int64_t realtime_ns(void);

/* This host's counter frequency (CNTFRQ_EL0) in Hz; 0 on a host that is not
 * arm64 (it has no generic timer). */
uint64_t host_counter_freq(void);

/* Fills the host fingerprint: kernel release, machine, MIDR of CPU 0 (0 if
 * the kernel does not expose it), page size. */
void host_info_read(struct host_info *h);

#endif
