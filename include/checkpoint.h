/* checkpoint.h - turning a paused, suspended VM into an image, and the
 * machine facts stored with it (arm64 only). */
#ifndef TORPOR_CHECKPOINT_H
#define TORPOR_CHECKPOINT_H

#include "image.h"
#include "vm.h"

/* Captures every vCPU, the vGIC, the devices, the clock and guest RAM of a
 * VM whose vCPUs are all paused (the caller already SUSPENDED) and writes it
 * atomically to path. SIGINT/SIGTERM during the write cancel it. On failure
 * nothing is written under path; *secs is the time taken. */
int checkpoint_write(struct vm *vm, const struct psci_resume *resume,
		     const char *path, struct image_write_stats *stats, double *secs);

/* This host's counter frequency (CNTFRQ_EL0). */
uint64_t host_counter_freq(void);

/* Fills the host fingerprint: kernel release, machine, MIDR of CPU 0. */
void host_info_read(struct host_info *h);

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double now_seconds(void);

#endif
