/* vm_int.h - inside the live VM on KVM (arm64 only), for src/vm/ alone:
 * bring-up, the vCPU threads, the device lock, pausing, PSCI and the event
 * loop that owns them. The rest of torpor sees vm.h.
 *
 * Errors: a function here returns 0 (or its count, fd or pointer) on
 * success and -1 (NULL) after recording the failure with fail(), unless its
 * contract says "a negative errno (not recorded)": the thin KVM wrappers,
 * whose callers decide what the errno means.
 *
 * Threads: one per vCPU (KVM_RUN loop), one console reader, the control
 * socket's (control.h), and the main
 * thread, which runs vm_loop() and is the only one that pauses vCPUs,
 * checkpoints, or tears the VM down. */
#ifndef TORPOR_VM_INT_H
#define TORPOR_VM_INT_H

#include <pthread.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "devices.h"
#include "disk.h"
#include "mmio.h"
#include "run_options.h"
#include "tap.h"
#include "vm.h"
#include "vm_state.h"

struct console;
struct control;
struct image;
struct mem_lazy;
struct vm;

/* Hook run by vm_loop once the vCPU threads run (restore raises the guest's
 * wake source there). */
typedef void (*vm_started_fn)(struct vm *vm);

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int thread_started;
	uint64_t mpidr;
	int init_power_off;             /* created powered off (secondaries) */
	/* A SYSTEM_SUSPEND call of this vCPU the main thread has to answer;
	 * the vCPU stays parked until it is (ctl_lock). */
	int suspend_pending;
	uint32_t suspend_fn;
	uint64_t suspend_entry, suspend_context;
};

/* vm->exit_code besides an outcome (exitcodes.h, >= 0). */
#define VM_RUNNING      (-2)
#define VM_FAILED       (-1)    /* the failure is recorded with fail() */

/* Bad MMIO accesses logged one by one; the rest are counted. */
#define BAD_MMIO_LOGGED 3

/* A device of this VM: its table entry, its live object, its window (and,
 * for a dev_ops.memslot device, the guest memory behind it). */
struct vm_dev {
	const struct dev_ops *ops;
	void *obj;
	struct dev_cfg cfg;
	uint8_t *window;
	uint64_t window_size;
};

/* The host resources of a VM's devices, per kind in configuration order:
 * disks[k] is the k-th virtio-blk device's, taps[k] the k-th virtio-net's. */
struct vm_backends {
	unsigned ndisks, ntaps;
	struct disk disks[VM_MAX_DISKS];
	struct tap taps[VM_MAX_NICS];
};

struct vm {
	int kvm_fd, vm_fd, gic_fd;
	int run_size;
	struct vm_config cfg;
	uint8_t *ram;                   /* host mapping of cfg.mem[0] */
	uint64_t ram_size;
	struct vcpu vcpus[TORPOR_MAX_CPUS];
	const struct run_options *opts;

	pthread_mutex_t dev_lock;       /* the devices, the bus and spi_level */
	struct mmio_bus bus;
	unsigned ndevs;
	struct vm_dev devs[VM_MAX_DEVICES];     /* in cfg.devs order */
	uint64_t bad_mmio;              /* refused guest accesses (BAD_MMIO_LOGGED) */
	uint32_t spi_level[GIC_NR_IRQS / 32];
	struct console *console;
	struct vm_backends be;          /* the devices' disks and taps */

	pthread_mutex_t ctl_lock;       /* everything below */
	pthread_cond_t ctl_cond;
	int pause_req, paused, running_threads;
	int quit;                       /* parked vCPU threads leave */
	int exit_code;                  /* VM_RUNNING, VM_FAILED or an outcome */
	int powered_off;                /* the guest's PSCI SYSTEM_OFF ended it */
	int suspend_requests;           /* vCPUs with suspend_pending */
	int wake_fd[2];                 /* pipe: vCPU/console threads -> main loop */
	int64_t wakeup_exits;           /* WAKEUP exits not yet answered */
	vm_started_fn on_started;       /* may be NULL */
	double t_start;                 /* now_seconds() when torpor began the VM */
	struct psci_resume resume;      /* valid while resume_pending */
	int resume_pending;

	struct control *control;        /* --api-socket; NULL without */

	struct mem_lazy *lazy;          /* a lazy restore's memory; NULL: resident */
	uint32_t *prefetch;             /* an eager restore's image order, kept */
	uint32_t nprefetch, prefetch_pages;     /* ... and its chunk size */
};

/* Opens /dev/kvm and checks the API version and the capabilities torpor needs.
 * Returns the fd, or -1 with EXIT_NO_KVM recorded. */
int kvm_open(void);

/* Maps guest RAM for region 0 of cfg: anonymous, untouched pages free.
 * NULL on failure (recorded with fail()). */
uint8_t *vm_ram_map(const struct vm_config *cfg);

/* Closes every disk and tap in be and empties it. */
void vm_backends_close(struct vm_backends *be);

/* Builds a VM from cfg in the order KVM requires: VM (+ SYSTEM_SUSPEND cap),
 * RAM, vCPUs (secondaries powered off when secondaries_off), vGIC, devices.
 * ram: NULL for fresh RAM, or a vm_ram_map() mapping already holding the
 * guest's memory; be: the open disks and taps of cfg's devices (one each).
 * The VM takes over ram and be's contents (be is left empty), also on
 * failure. On failure everything created is released. */
int vm_create(struct vm *vm, const struct vm_config *cfg,
	      const struct run_options *opts, int secondaries_off, uint8_t *ram,
	      struct vm_backends *be);

/* Releases everything vm_create made; vCPU threads must not be running. */
void vm_destroy(struct vm *vm);

/* KVM_GET_ONE_REG or KVM_SET_ONE_REG (req) of register id, its value at val
 * (as many bytes as the id's size field says). 0 or a negative errno (not
 * recorded). */
int vcpu_one_reg(struct vcpu *v, unsigned long req, uint64_t id, void *val);

/* vcpu_one_reg for a 64-bit register (PC, X0, system registers...). */
int vcpu_set_reg(struct vcpu *v, uint64_t id, uint64_t value);
int vcpu_get_reg(struct vcpu *v, uint64_t id, uint64_t *value);

/* KVM_ARM_VCPU_INIT with the VM's target and features, plus POWER_OFF if
 * v->init_power_off; the same call at creation and as the PSCI-mandated reset
 * on wakeup. Returns a negative errno (not recorded: its meaning differs at
 * boot and at resume). */
int vcpu_init(struct vcpu *v);

/* restore_memory.c: guest memory of a restored VM. */

/* Before the VM exists: eager decodes region 0 of img into ram; lazy checks
 * every record, so a damaged image is refused before any VM exists. *secs:
 * how long it took. Exit 5 recorded on failure. */
int restore_memory_prepare(struct image *img, const struct run_options *o,
			   uint8_t *ram, uint64_t size, const char *path, double *secs);

/* Right after vm_create, before any device or vCPU may touch vm->ram
 * (restoring a device's state sets its thread going): lazy starts serving
 * vm->ram from img (an eager decode, with a note, where userfaultfd is not
 * permitted, its time added to *secs); both keep the image's prefetch order
 * for the next image. If the image stops reading back later, the process
 * ends with exit 5. */
int restore_memory_start(struct vm *vm, struct image *img, const char *path, double *secs);

/* The prefetch order for an image written now with chunks of chunk_pages
 * pages, in a malloc'ed array (*out, NULL when none); the count. */
uint32_t vm_prefetch_order(struct vm *vm, uint32_t chunk_pages, uint32_t **out);

/* Before reading all of guest memory: waits until a lazy restore's memory is
 * resident. -1 (recorded already) if it never will be. */
int vm_memory_resident(struct vm *vm);

/* Starts the vCPU threads and the console, runs until the guest powers off,
 * resets, crashes, hibernates, a signal or a failure; returns the outcome
 * (exitcodes.h) or VM_FAILED. */
int vm_loop(struct vm *vm);

/* Stops every vCPU thread outside KVM_RUN and waits until all are parked.
 * Only the main thread calls this. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* Ends vm_loop with code, an outcome or VM_FAILED (first caller wins); any
 * thread. */
void vm_request_exit(struct vm *vm, int code);

/* Wakes the main loop (any thread). */
void vm_notify(struct vm *vm);

/* Drives SPI line spi to level through KVM_IRQ_LINE; dev_lock held. */
void vm_set_spi(void *vm, uint32_t spi, int level);

/* The SYSTEM_SUSPEND policy: answers every pending request (main thread).
 * Returns 0 to keep running, an outcome to stop with (EXIT_HIBERNATED,
 * 128 + signal), or -1 (recorded). */
int psci_handle_suspend(struct vm *vm);

/* Body of a vCPU thread (arg: struct vcpu *): KVM_RUN until the VM ends. */
void *vcpu_thread(void *arg);

/* Completes a PSCI SYSTEM_SUSPEND: resets the caller as the spec asks and
 * makes it runnable at the entry point with x0 = context id. */
int psci_resume_vcpu(struct vm *vm, const struct psci_resume *res);

/* Answers a WAKEUP exit of the held vCPU (main thread): resumes it if a
 * resume is pending. 0, or -1 (recorded). */
int psci_handle_wakeup(struct vm *vm);

/* A restored guest held asleep (resume_pending): presses the wake button it
 * armed, else completes the PSCI resume at once; how: what was done, for
 * the log. Main thread. 0, or -1 (nothing recorded) if it is not asleep. */
int vm_wake_guest(struct vm *vm, char *how, size_t len);

/* MMIO exit: dispatches to the device bus under dev_lock. */
void vm_mmio_exit(struct vcpu *v);

#endif
