/* restore.c - a fresh VM from an image, resumed through KVM's WAKEUP path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "arm64_regs.h"
#include "checkpoint.h"
#include "control.h"
#include "clock_policy.h"
#include "host.h"
#include "exitcodes.h"
#include "devices.h"
#include "gic.h"
#include "gic_regs.h"
#include "image.h"
#include "log.h"
#include "memmap.h"
#include "restore_check.h"
#include "vm.h"
#include "vcpu_regs.h"
#include "vm_int.h"

/* What this host must match before anything is created or decoded. */
static int check_host(const struct vm_state *st, const struct image *img)
{
	struct host_limits lim = { host_counter_freq(), 0, 0, IPA_BITS, NULL };
	struct host_info h;
	struct sysinfo si;
	char msg[256];

	host_info_read(&h);
	lim.midr = h.midr;
	lim.kernel_release = h.kernel_release;
	if (sysinfo(&si) == 0)
		lim.memory_bytes = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
	if (restore_check_host(st, image_data_pages(img, 0), &lim, msg, sizeof(msg)))
		return fail(EXIT_IMAGE, "%s", msg);
	if (st->host.page_size && st->host.page_size != h.page_size)
		log_info("note: image host page size %u, this host %u", st->host.page_size,
			 h.page_size);
	return 0;
}

/* The counters, VM-wide: written once, after every other register, through
 * vCPU 0. continue: advanced by the wall time since the checkpoint, as a
 * counter that kept running through the suspend; freeze: as saved
 * (machine/clock_policy.c). */
static int clock_restore(struct vm *vm, const struct vm_state *st, enum clock_mode mode)
{
	const struct clock_ref *c = &st->clock;
	int64_t now_ns = realtime_ns(), gap_ns;
	uint64_t cnt, pct, vct;
	int ret;

	ret = clock_policy_counter(c, now_ns, mode, &cnt, &gap_ns);
	if (ret)
		return fail(EXIT_IMAGE, "the counter (0x%llx at %llu Hz) cannot advance by "
			    "%.0f s of downtime without wrapping; restore with --clock freeze",
			    (unsigned long long)c->counter, (unsigned long long)c->counter_freq,
			    ((double)now_ns - (double)c->realtime_ns) / 1e9);
	ret = vcpu_set_reg(&vm->vcpus[0], KVM_REG_ARM_TIMER_CNT, cnt);
	if (ret)
		return fail(EXIT_IMAGE, "setting the virtual counter: %s", strerror(-ret));
	/* Hosts >= 6.4 list the physical counter too: it moves with the
	 * virtual one, written once (VM-wide, like CNTVCT), never verbatim. */
	if (!vcpu_reg(&st->vcpus[0], KVM_REG_ARM_PTIMER_CNT, &pct) &&
	    !vcpu_reg(&st->vcpus[0], KVM_REG_ARM_TIMER_CNT, &vct)) {
		ret = vcpu_set_reg(&vm->vcpus[0], KVM_REG_ARM_PTIMER_CNT,
				   clock_policy_physical(cnt, pct, vct));
		if (ret)
			return fail(EXIT_IMAGE, "setting the physical counter: %s",
				    strerror(-ret));
	}
	if (mode == CLOCK_CONTINUE)
		log_info("clock: counter advanced by %.1f s of downtime", gap_ns / 1e9);
	return 0;
}

/* Each saved device state goes to the device of that type at that base. */
static int restore_devices(struct vm *vm, const struct vm_state *st)
{
	int ret = 0;

	pthread_mutex_lock(&vm->dev_lock);
	for (uint32_t i = 0; i < st->ndevs && !ret; i++) {
		const struct dev_state *d = &st->devs[i];
		struct vm_dev *vd = NULL;

		for (unsigned j = 0; j < vm->ndevs && !vd; j++)
			if (vm->devs[j].ops->type == d->type && vm->devs[j].cfg.base == d->base)
				vd = &vm->devs[j];
		ret = vd ? vd->ops->restore(vd->obj, d) : -EINVAL;
		if (ret)
			fail(EXIT_IMAGE, "device %u (type %u) state is invalid", i, d->type);
	}
	pthread_mutex_unlock(&vm->dev_lock);
	return ret;
}

/* Registers, vGIC, MP states and devices, in the order KVM requires. The
 * registers are read back before anything else: a value KVM did not take
 * would otherwise surface as a guest misbehaving much later.
 *
 * What survives the PSCI reset that wakes the suspended vCPU (PSCI 5.19.1:
 * it resumes as from reset, at its entry point): guest RAM, which holds the
 * context Linux saved for cpu_resume; the vGIC, a device of the VM; the
 * counters, VM-wide offsets; the other vCPUs' MP states and registers; the
 * devices; and the ID and invariant registers (MIDR, MPIDR, ID_AA64*), which
 * KVM_ARM_VCPU_INIT does not reset. The caller's own core and system
 * registers are reset, so the guest never sees them, and they are still
 * written and read back: the write is where KVM refuses a value this host
 * cannot give (an ID register field, an unknown register), and the read-back
 * proves that a restored VM holds the image exactly before it runs. */
static int load_state(struct vm *vm, struct vm_state *st, enum clock_mode clock)
{
	int ret, checked = 0;

	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		if ((ret = vcpu_restore(&vm->vcpus[i], &st->vcpus[i])))
			return ret;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++) {
		if ((ret = vcpu_verify(&vm->vcpus[i], &st->vcpus[i])) < 0)
			return ret;
		checked += ret;
	}
	log_info("restore verified %d registers of %u vCPUs", checked, vm->cfg.ncpus);
	if ((ret = clock_restore(vm, st, clock)))
		return ret;
	if ((ret = gic_restore(vm, &st->gic)))
		return ret;
	/* The lines now stand where the image left them: the devices below
	 * drive them from there, so one restored high can be lowered. */
	pthread_mutex_lock(&vm->dev_lock);
	gic_regs_spi_levels(&st->gic, vm->spi_level,
			    sizeof(vm->spi_level) / sizeof(vm->spi_level[0]));
	pthread_mutex_unlock(&vm->dev_lock);
	/* After the (re)init that reset them: the caller stays SUSPENDED until
	 * its wakeup, the others as they were (STOPPED). */
	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		if ((ret = vcpu_set_mp_state(&vm->vcpus[i], st->vcpus[i].mp_state)))
			return ret;
	return restore_devices(vm, st);
}

/* Asks every device for its wake source: presses one the guest armed (the
 * gpio-keys button) when press is set, else names one that fires by itself
 * (an RTC alarm). what: the log line of the device that answered. */
static enum dev_wake ask_devices(struct vm *vm, int press, char *what, size_t len)
{
	char line[128];
	enum dev_wake best = DEV_WAKE_NONE;

	pthread_mutex_lock(&vm->dev_lock);
	for (unsigned i = 0; i < vm->ndevs && best != DEV_WAKE_PRESSED; i++) {
		const struct vm_dev *d = &vm->devs[i];
		enum dev_wake w = d->ops->wake ?
			d->ops->wake(d->obj, press, line, sizeof(line)) : DEV_WAKE_NONE;

		if (w == DEV_WAKE_PRESSED || (w == DEV_WAKE_ARMED && best == DEV_WAKE_NONE)) {
			best = w;
			snprintf(what, len, "%s", line);
		}
	}
	pthread_mutex_unlock(&vm->dev_lock);
	return best;
}

/* Completes the PSCI resume without an interrupt: PSCI lets the
 * implementation choose the wake event, and Linux resumes from it. */
static void resume_now(struct vm *vm)
{
	pthread_mutex_lock(&vm->ctl_lock);
	vm->wakeup_exits++;
	pthread_mutex_unlock(&vm->ctl_lock);
	vm_notify(vm);
}

/* Presses the wake button the guest armed (unless force), else completes
 * the PSCI resume at once; how: which, for the log. */
static void wake(struct vm *vm, int force, char *how, size_t len)
{
	if (!force && ask_devices(vm, 1, how, len) == DEV_WAKE_PRESSED)
		return;
	resume_now(vm);
	snprintf(how, len, "resuming the guest at its PSCI entry point without a wake "
		 "interrupt (%s)", force ? "--force-wake" : "it armed no wake button");
}

/* Restore is the power button: the wake button if the guest armed it, else
 * the PSCI resume at once, so that a restore never sleeps by default.
 * --no-wake waits for a source the guest armed (or a `wake` request on the
 * control socket); --force-wake skips the button. One log line says which. */
static void on_started(struct vm *vm)
{
	char what[128] = "";

	if (vm->opts->wake) {
		wake(vm, vm->opts->force_wake, what, sizeof(what));
		log_info("%s", what);
		control_woken(vm, what);
	} else if (ask_devices(vm, 0, what, sizeof(what)) == DEV_WAKE_ARMED) {
		log_info("--no-wake: %s", what);
	} else {
		log_info("--no-wake: the guest armed no wake source torpor can see "
			 "(RTC alarm); it sleeps until console input wakes it, if "
			 "it enabled wakeup on its serial port%s", vm->control ?
			 ", or a wake request on the control socket" : "");
	}
}

int vm_wake_guest(struct vm *vm, char *how, size_t len)
{
	int asleep;

	pthread_mutex_lock(&vm->ctl_lock);
	asleep = vm->resume_pending && !vm->wakeup_exits;
	pthread_mutex_unlock(&vm->ctl_lock);
	if (!asleep)
		return -1;
	wake(vm, 0, how, len);
	log_info("%s (a wake request)", how);
	control_woken(vm, how);
	return 0;
}

/* Where --disk-overlay keeps its private files: $TMPDIR, else /var/tmp
 * (a disk's worth of writes may not fit a RAM-backed /tmp). */
static const char *overlay_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/var/tmp";
}

/* Device i's disk record; NULL if the image has none. */
static const struct disk_record *disk_record_of(const struct vm_state *st, uint32_t i)
{
	for (uint32_t r = 0; r < st->ndisks; r++)
		if (st->disks[r].dev == i)
			return &st->disks[r];
	return NULL;
}

/* The tap name a card's saved state records (its blob), into name: 0, or
 * -1 when the image has no state for the card or no name in it. */
static int saved_tap(const struct vm_state *st, const struct dev_cfg *c,
		     char name[TAP_NAME_MAX + 1])
{
	for (uint32_t j = 0; j < st->ndevs; j++) {
		const struct dev_state *d = &st->devs[j];

		if (d->type == c->type && d->base == c->base &&
		    d->blob_len && d->blob_len <= TAP_NAME_MAX) {
			memcpy(name, d->blob, d->blob_len);
			name[d->blob_len] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Opens the k-th card's tap: the one --net names (or, for "mac=" alone
 * and without --net, the image's), with the MAC --net gives, if any. */
static int reopen_tap(const struct vm_state *st, const struct run_options *o,
		      const struct dev_cfg *c, unsigned k, struct tap *t, char *err,
		      size_t errlen)
{
	const struct net_spec *n = o->nnets ? &o->nets[k] : NULL;
	char name[TAP_NAME_MAX + 1];

	if (n && n->tap[0])
		snprintf(name, sizeof(name), "%s", n->tap);
	else if (saved_tap(st, c, name)) {
		snprintf(err, errlen, "network card %u has no tap name in the image", k);
		return -EINVAL;
	}
	if (tap_open(t, name, err, errlen))
		return -1;
	if (n)
		tap_take_mac(t, n);
	return 0;
}

/* How many devices of the configuration have host resources of kind. */
static unsigned count_backends(const struct vm_config *c, uint32_t kind)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < c->ndevs; i++) {
		const struct dev_ops *ops = dev_find(c->devs[i].type);

		n += ops && ops->backend == kind;
	}
	return n;
}

/* Reopens the image's disks and taps in device order: each disk at its
 * recorded path or the next --disk, refused if it changed; each tap by its
 * recorded name or the next --net. On failure none stays open. */
static int reopen_backends(const struct vm_state *st, const struct run_options *o,
			   struct vm_backends *be)
{
	unsigned ntaps = count_backends(&st->config, DEV_BACKEND_TAP);
	char err[600];

	memset(be, 0, sizeof(*be));
	if (o->ndisks && o->ndisks != st->ndisks)
		return fail(EXIT_USAGE, "the image has %u disk%s, --disk names %u",
			    st->ndisks, st->ndisks == 1 ? "" : "s", o->ndisks);
	if (o->nnets && o->nnets != ntaps)
		return fail(EXIT_USAGE, "the image has %u network card%s, --net names %u",
			    ntaps, ntaps == 1 ? "" : "s", o->nnets);
	for (uint32_t i = 0; i < st->config.ndevs; i++) {
		const struct dev_cfg *c = &st->config.devs[i];
		const struct dev_ops *ops = dev_find(c->type);
		const struct disk_record *rec;
		unsigned k;

		if (ops && ops->backend == DEV_BACKEND_DISK) {
			k = be->ndisks;
			if (!(rec = disk_record_of(st, i))) {
				vm_backends_close(be);
				return fail(EXIT_IMAGE, "device %u has no disk record", i);
			}
			if (disk_reopen(&be->disks[k], rec, o->ndisks ? o->disks[k].path :
					rec->path, o->disk_overlay, overlay_dir(), err, sizeof(err)))
				goto fail;
			be->ndisks++;
		} else if (ops && ops->backend == DEV_BACKEND_TAP) {
			k = be->ntaps;
			/* The reader refuses more; this keeps be's bounds here. */
			if (k == VM_MAX_NICS) {
				vm_backends_close(be);
				return fail(EXIT_IMAGE, "more than %u network cards", VM_MAX_NICS);
			}
			if (reopen_tap(st, o, c, k, &be->taps[k], err, sizeof(err)))
				goto fail;
			be->ntaps++;
		}
	}
	return 0;
fail:
	vm_backends_close(be);
	return fail(EXIT_IMAGE, "%s", err);
}

/* Every device learns it was moved before any vCPU runs: the cards
 * announce themselves, the generation ID changes (unless --no-vmgenid). */
static void tell_restored(struct vm *vm, int same_generation)
{
	pthread_mutex_lock(&vm->dev_lock);
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (vm->devs[i].ops->restored)
			vm->devs[i].ops->restored(vm->devs[i].obj, same_generation);
	pthread_mutex_unlock(&vm->dev_lock);
}

int restore_run(const struct run_options *o)
{
	struct vm_backends *be = calloc(1, sizeof(*be));
	struct image_error err = { 0 };
	struct image *img = NULL;
	struct vm_state *st = calloc(1, sizeof(*st));
	struct vm *vm = calloc(1, sizeof(*vm));
	double t0 = now_seconds(), t_mem = 0;
	uint8_t *ram = NULL;
	int ret, code = -1, created = 0;

	if (!st || !vm || !be) {
		fail(EXIT_FAILURE_RT, "out of memory");
		goto out;
	}
	/* Every checksum is checked before a VM exists: the sections' here, each
	 * memory chunk's in restore_memory_prepare (as it is decoded, when
	 * eager, so the file is read once). */
	if ((ret = image_open(&img, o->restore_from, 0, &err)) ||
	    (ret = image_read_state(img, st, &err))) {
		fail(EXIT_IMAGE, "image '%s': %s", o->restore_from,
		     err.msg[0] ? err.msg : image_strerror(ret));
		goto out;
	}
	/* No KVM, and an image this host cannot run, are found out before
	 * seconds go into decoding memory. */
	if ((ret = kvm_open()) < 0)
		goto out;
	close(ret);
	if (check_host(st, img))
		goto out;
	/* A disk that moved or changed, or a tap that cannot be had, is found
	 * before memory is decoded. */
	if (reopen_backends(st, o, be))
		goto out;
	if (!(ram = vm_ram_map(&st->config)) ||
	    restore_memory_prepare(img, o, ram, st->config.mem[0].size, o->restore_from,
				   &t_mem))
		goto out;
	ret = vm_create(vm, &st->config, o, 0, ram, be);
	ram = NULL;     /* the VM owns them now, even when creation failed */
	if (ret)
		goto out;
	created = 1;
	vm->t_start = t0;
	if (restore_memory_start(vm, img, o->restore_from, &t_mem))
		goto out;
	image_close(img);
	img = NULL;
	for (unsigned i = 0; i < vm->cfg.ncpus; i++)
		if (vcpu_check_regs(&vm->vcpus[i], &st->vcpus[i]))
			goto out;
	if (load_state(vm, st, o->clock))
		goto out;
	tell_restored(vm, o->no_vmgenid);
	vm->resume = st->resume;
	vm->resume_pending = 1;
	vm->on_started = on_started;
	/* Only now, when nothing can be refused any more: a refusal is one line. */
	log_info("restored %s in %.2f s; memory %s in %.2f s%s", o->restore_from,
		 now_seconds() - t0, vm->lazy ? "checked" : "decoded", t_mem,
		 vm->lazy ? ", filled lazily" : "");
	code = vm_loop(vm);
out:
	image_close(img);
	if (ram)
		munmap(ram, st->config.mem[0].size);
	if (be)
		vm_backends_close(be);
	free(be);
	if (created)
		vm_destroy(vm);
	if (st)
		vm_state_free(st);
	free(st);
	free(vm);
	return code;
}
