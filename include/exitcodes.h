/* exitcodes.h - the exit status of every torpor command, documented in README.md.
 * A failure names its code where it is detected, in fail() (log.h); a run's
 * outcome (0, 6, 7, 8, 128+N) is returned by boot_run/restore_run. Only
 * src/cli/ turns either into the process's exit status. */
#ifndef TORPOR_EXITCODES_H
#define TORPOR_EXITCODES_H

enum torpor_exit {
	EXIT_OK = 0,          /* success; for run/restore: the guest powered off */
	EXIT_FAILURE_RT = 1,  /* runtime failure: KVM error, I/O error, unhandled guest exit */
	EXIT_USAGE = 2,       /* bad command line */
	EXIT_GUEST_FILE = 3,  /* kernel/initrd missing, unreadable, malformed or too big */
	EXIT_NO_KVM = 4,      /* no usable /dev/kvm or a required KVM capability missing */
	EXIT_IMAGE = 5,       /* image unreadable, damaged, or not restorable on this host */
	EXIT_RESET = 6,       /* guest asked for SYSTEM_RESET (torpor does not reboot it) */
	EXIT_HIBERNATED = 7,  /* guest suspended and was checkpointed (--on-suspend hibernate) */
	EXIT_CRASHED = 8,     /* guest reported a crash (KVM_SYSTEM_EVENT_CRASH) */
	EXIT_CHECKPOINT = 9,  /* writing the image failed (the guest was kept running) */
	EXIT_NO_VM = 10,      /* ctl: nothing answers at the socket, or the connection broke */
};

#endif
