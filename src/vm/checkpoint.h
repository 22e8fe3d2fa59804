/* checkpoint.h - turning a paused, suspended VM into an image (arm64 only). */
#ifndef TORPOR_CHECKPOINT_H
#define TORPOR_CHECKPOINT_H

#include "image.h"
#include "vm_int.h"

/* Captures every vCPU, the vGIC, the devices, the disks' identities, the
 * clock and guest RAM of a VM whose vCPUs are all paused (the caller already
 * SUSPENDED) and writes it atomically to path; copy: the writable disks are
 * copied next to it (snapshot mode). SIGINT/SIGTERM during the write cancel it and name
 * themselves in *cancel_sig (left alone otherwise). On failure (-1,
 * recorded) nothing is written under path; *secs is the time taken. */
int checkpoint_write(struct vm *vm, const struct psci_resume *resume,
		     const char *path, int copy, struct image_write_stats *stats,
		     double *secs, int *cancel_sig);

#endif
