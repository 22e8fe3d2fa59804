/* machine_config.c - the default machine. */
#include <stdio.h>
#include <string.h>

#include "devices.h"
#include "machine_config.h"
#include "memmap.h"

_Static_assert(VM_MAX_DISKS <= VIRTIO_NET_SLOT &&
	       VIRTIO_NET_SLOT + VM_MAX_NICS <= VIRTIO_RNG_SLOT &&
	       VIRTIO_RNG_SLOT < VIRTIO_MMIO_SLOTS,
	       "a virtio-mmio slot per disk and per card, and one for virtio-rng");

/* Device ops's n-th instance, in the virtio-mmio slot after the previous. */
static void add_nth(struct vm_config *cfg, const struct dev_ops *ops, unsigned n)
{
	struct dev_cfg *d = &cfg->devs[cfg->ndevs++];

	*d = ops->dflt;
	d->base += (uint64_t)n * VIRTIO_MMIO_STRIDE;
	d->spi += n;
}

void vm_config_default(struct vm_config *cfg, const struct run_options *o)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = o->cpus;
	cfg->ipa_bits = IPA_BITS;
	cfg->vcpu_features[0] = 1u << VCPU_FEATURE_PSCI_0_2;
	cfg->gic_version = 3;
	cfg->gic_nr_irqs = GIC_NR_IRQS;
	cfg->gic_dist_base = GIC_DIST_BASE;
	cfg->gic_dist_size = GIC_DIST_SIZE;
	cfg->gic_redist_base = GIC_REDIST_BASE;
	cfg->gic_redist_size = (uint64_t)GIC_REDIST_STRIDE * o->cpus;
	cfg->nmem = 1;
	cfg->mem[0].guest_addr = RAM_BASE;
	cfg->mem[0].size = o->memory;
	/* Each always-present device in table order, then one virtio-blk per
	 * --disk (the guest's vda, vdb, ...), then one virtio-net per --net
	 * (eth0, ...). */
	for (uint32_t kind = DEV_BACKEND_NONE; kind <= DEV_BACKEND_TAP; kind++) {
		for (unsigned i = 0; i < dev_count(); i++) {
			const struct dev_ops *ops = dev_at(i);
			unsigned n = kind == DEV_BACKEND_DISK ? o->ndisks :
				     kind == DEV_BACKEND_TAP ? o->nnets :
				     !(ops->type == DEV_VMGENID && o->no_vmgenid);

			for (unsigned k = 0; ops->backend == kind && k < n; k++)
				add_nth(cfg, ops, k);
		}
	}
	if (o->cmdline)
		snprintf(cfg->cmdline, sizeof(cfg->cmdline), "%s", o->cmdline);
}
