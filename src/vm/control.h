/* control.h - the VM's side of the control socket (--api-socket, arm64
 * only): requests from the socket's thread (api_server.h) become work for
 * the main loop, and what the main loop does becomes replies and events.
 *
 * Threads: the socket's thread only queues requests and answers `status`
 * from a copy of the state; everything that touches the VM runs on the main
 * thread, in vm_loop. Every function here does nothing when the VM has no
 * control socket (vm->control NULL). */
#ifndef TORPOR_CONTROL_H
#define TORPOR_CONTROL_H

#include "image.h"
#include "run_options.h"

struct vm;

/* What a guest's SYSTEM_SUSPEND is answered with: a hibernate or snapshot
 * request waiting for it, else the command line's --on-suspend and --image. */
struct suspend_policy {
	enum suspend_mode mode;
	const char *image;              /* NULL: deny (no image to write) */
};

/* Creates the socket at vm->opts->api_socket and starts serving it; nothing
 * without the option. 0, or -1 with EXIT_USAGE recorded (a path that is in
 * use or not a stale socket). */
int control_start(struct vm *vm);

/* Main thread: takes the queued requests and acts on them (presses a key,
 * wakes the guest, ends torpor), and fails those whose guest missed their
 * deadline. */
void control_run(struct vm *vm);

/* Milliseconds until the next request deadline, or -1. */
int control_timeout_ms(struct vm *vm);

/* Main thread, a SYSTEM_SUSPEND to answer: the policy for it (a request
 * waiting for the suspend wins), and the moment it came, for the reply. */
void control_policy(struct vm *vm, struct suspend_policy *pol);

/* The checkpoint the policy asked for begins, ended (stats, secs) or failed
 * (why); the guest resumed at its PSCI entry point; the guest was woken
 * (how). Events for every client that asked, and the waiting request's
 * reply. */
void control_checkpoint_started(struct vm *vm, const char *image);
void control_checkpoint_done(struct vm *vm, const struct suspend_policy *pol,
			     const struct image_write_stats *s, double secs);
void control_checkpoint_failed(struct vm *vm, const char *why);
/* A signal cancelled the checkpoint and torpor ends: only the event; the
 * waiting request is answered by control_stop. */
void control_checkpoint_cancelled(struct vm *vm, int sig);
void control_suspend_refused(struct vm *vm, const char *why);
void control_resumed(struct vm *vm);
void control_woken(struct vm *vm, const char *how);

/* vm_loop ended with code (an outcome or VM_FAILED): answers what is still
 * waiting, sends the `poweroff` and `exit` events, flushes them to the
 * clients (a second at most) and removes the socket. */
void control_stop(struct vm *vm, int code);

#endif
