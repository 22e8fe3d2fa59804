/* restore.h - bringing a VM back from an image (arm64 only). */
#ifndef TORPOR_RESTORE_H
#define TORPOR_RESTORE_H

#include "run_options.h"

/* Validates o->restore_from, checks this host can run it, rebuilds the VM in
 * the order KVM requires, holds the caller vCPU suspended until its wake
 * source fires, resumes it at its PSCI entry point and runs it to the end.
 * Returns an exit code; failures are recorded with fail(). */
int restore_run(const struct run_options *o);

#endif
