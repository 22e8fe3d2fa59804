/* checkpoint.c - gather a suspended VM's state and write the image. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arm64_regs.h"
#include "checkpoint.h"
#include "host.h"
#include "exitcodes.h"
#include "gic.h"
#include "image_mem.h"
#include "log.h"
#include "vcpu_regs.h"

/* Counter and wall clock read back to back, so restore can advance the
 * counter by exactly the wall time that passed. */
static int clock_read(struct vm *vm, struct clock_ref *c)
{
	int ret = vcpu_get_reg(&vm->vcpus[0], KVM_REG_ARM_TIMER_CNT, &c->counter);

	c->realtime_ns = realtime_ns();
	if (ret)
		return fail(EXIT_FAILURE_RT, "reading the virtual counter: %s",
			    strerror(-ret));
	c->counter_freq = host_counter_freq();
	return 0;
}

static void save_devices(struct vm *vm, struct vm_state *st)
{
	pthread_mutex_lock(&vm->dev_lock);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		const struct vm_dev *d = &vm->devs[i];

		d->ops->save(d->obj, d->cfg.base, &st->devs[st->ndevs++]);
	}
	pthread_mutex_unlock(&vm->dev_lock);
}

/* Snapshot mode's copy of disk k: next to the image, "IMAGE.diskK", by an
 * absolute path (the record must find it from anywhere). */
static int copy_path(const char *image, unsigned k, char *out, size_t len)
{
	char dir[DISK_PATH_MAX + 1], abs[DISK_PATH_MAX + 1];
	const char *slash = strrchr(image, '/'), *base = slash ? slash + 1 : image;

	if (!slash || slash == image)
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - image), image);
	if (!realpath(dir, abs))
		return fail(EXIT_CHECKPOINT, "the image's directory %s: %s", dir,
			    strerror(errno));
	if ((size_t)snprintf(out, len, "%s/%s.disk%u", strcmp(abs, "/") ? abs : "",
			     base, k) >= len)
		return fail(EXIT_CHECKPOINT, "the disk copy's path is too long");
	return 0;
}

/* Before anything is saved: every device with queues finishes what the
 * guest made available, with its used entry in guest memory, and then
 * leaves guest memory alone (a card would go on receiving) until thaw. */
static int quiesce_devices(struct vm *vm)
{
	int ret;

	for (unsigned i = 0; i < vm->ndevs; i++)
		if (vm->devs[i].ops->quiesce && (ret = vm->devs[i].ops->quiesce(vm->devs[i].obj)))
			return fail(EXIT_CHECKPOINT, "%s: %s", vm->devs[i].ops->name,
				    ret == -ETIMEDOUT ? "the guest's requests did not "
				    "finish in time" : strerror(-ret));
	return 0;
}

/* The checkpoint is over, whatever its outcome: devices go on (harmless
 * for one quiesce never reached, and after a hibernation, which ends the
 * VM). */
static void thaw_devices(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (vm->devs[i].ops->thaw)
			vm->devs[i].ops->thaw(vm->devs[i].obj);
}

/* The disks, before the rest is saved: each disk flushed and
 * stamped (disk_stamp). copy (snapshot mode): each writable disk is also
 * copied next to the image and its record names the copy; bit k of *copied
 * says disk k's was made, for commit_disks to put in place once the image
 * is. */
static int save_disks(struct vm *vm, const char *image, int copy, struct vm_state *st,
		      unsigned *copied)
{
	char err[600], path[DISK_PATH_MAX + 1];
	double t0 = now_seconds();
	unsigned k = 0, reflinks = 0;

	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct disk *d = &vm->be.disks[k];
		struct disk_record *rec = &st->disks[k];
		int reflinked = 0;

		if (vm->devs[i].ops->backend != DEV_BACKEND_DISK)
			continue;
		if (disk_stamp(d, rec, err, sizeof(err)))
			return fail(EXIT_CHECKPOINT, "%s", err);
		rec->dev = i;
		st->ndisks = ++k;
		if (!copy || d->readonly)
			continue;
		if (copy_path(image, k - 1, path, sizeof(path)) ||
		    (disk_copy(d, path, &reflinked, err, sizeof(err)) &&
		     fail(EXIT_CHECKPOINT, "%s", err)))
			return -1;
		snprintf(rec->path, sizeof(rec->path), "%s", path);
		*copied |= 1u << (k - 1);
		reflinks += (unsigned)reflinked;
	}
	if (k)
		log_info("%u disk%s finished and flushed%s in %.3f s", k, k > 1 ? "s" : "",
			 copy ? (reflinks ? ", copied (reflink)" : ", copied") : "",
			 now_seconds() - t0);
	return 0;
}

/* After the image's fate is known: the disk copies save_disks made (bit k
 * of copied: the one st's record k names) are put in place (ok) or thrown
 * away. */
static int commit_disks(const struct vm_state *st, unsigned copied, int ok)
{
	char err[600];

	for (unsigned k = 0; k < st->ndisks; k++) {
		if (!(copied & 1u << k))
			continue;
		if (!ok)
			disk_copy_abort(st->disks[k].path);
		else if (disk_copy_commit(st->disks[k].path, err, sizeof(err)))
			return fail(EXIT_CHECKPOINT, "%s", err);
	}
	return 0;
}

static int gather(struct vm *vm, const struct psci_resume *resume, struct vm_state *st)
{
	int ret;

	st->config = vm->cfg;
	host_info_read(&st->host);
	st->resume = *resume;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		if ((ret = vcpu_save(&vm->vcpus[i], &st->vcpus[i])))
			return ret;
	if ((ret = gic_save(vm, &st->gic)))
		return ret;
	save_devices(vm, st);
	/* Last before memory: the counter keeps running while we gather. */
	return clock_read(vm, &st->clock);
}

static volatile sig_atomic_t cancel_write;

static void on_cancel(int sig)
{
	cancel_write = sig;
}

static int write_cancellable(const char *path, const struct vm_state *st,
			     const struct image_mem_src *mem, uint32_t chunk_pages,
			     struct image_write_stats *stats, struct image_error *err)
{
	struct image_write_opts opts = { .cancel = &cancel_write, .chunk_pages = chunk_pages };
	struct sigaction sa = { .sa_handler = on_cancel }, old_int, old_term;
	sigset_t set, old;
	int ret;

	cancel_write = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, &old);
	ret = image_write(path, st, mem, 1, &opts, stats, err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	/* A signal that came too late to cancel the write still stops torpor:
	 * queued again, the main loop's signalfd sees it. */
	if (!ret && cancel_write)
		kill(getpid(), cancel_write);
	return ret;
}

int checkpoint_write(struct vm *vm, const struct psci_resume *resume,
		     const char *path, int copy, struct image_write_stats *stats,
		     double *secs, int *cancel_sig)
{
	struct image_mem_src mem = { .guest_addr = vm->cfg.mem[0].guest_addr, .host = vm->ram,
				     .size = vm->ram_size };
	struct image_error err = { 0 };
	struct vm_state *st = calloc(1, sizeof(*st));
	double t0 = now_seconds();
	uint32_t *order = NULL;
	unsigned copied = 0;
	int ret;

	if (!st)
		return fail(EXIT_CHECKPOINT, "out of memory");
	/* A page a lazy restore has not filled yet reads as untouched: the
	 * image would hold zeros for it. */
	if (vm_memory_resident(vm)) {
		free(st);
		return -1;
	}
	ret = quiesce_devices(vm);
	if (!ret)
		ret = save_disks(vm, path, copy, st, &copied);
	if (!ret)
		ret = gather(vm, resume, st);
	if (!ret) {
		/* The chunks a restore of this image should fetch first. */
		mem.nprefetch = vm_prefetch_order(vm, vm->opts->chunk_pages ?
						  vm->opts->chunk_pages :
						  mem_chunk_pages_for(vm->ram_size), &order);
		mem.prefetch = order;
		ret = write_cancellable(path, st, &mem, vm->opts->chunk_pages, stats, &err);
		free(order);
		if (ret == -IMG_EINTR)
			*cancel_sig = cancel_write;
		if (ret)
			ret = fail(EXIT_CHECKPOINT, "writing image '%s': %s", path,
				   err.msg[0] ? err.msg : image_strerror(ret));
	}
	if (commit_disks(st, copied, !ret))
		ret = -1;
	thaw_devices(vm);
	vm_state_free(st);
	free(st);
	*secs = now_seconds() - t0;
	return ret;
}
