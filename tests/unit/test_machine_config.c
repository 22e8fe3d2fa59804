/* test_machine_config.c - the machine `torpor run` builds by default. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices.h"
#include "machine_config.h"
#include "memmap.h"

static struct vm_config cfg;

static void build(unsigned cpus, uint64_t memory, const char *cmdline)
{
	struct run_options o = { .cpus = cpus, .memory = memory, .cmdline = cmdline };

	memset(&cfg, 0xa5, sizeof(cfg));
	vm_config_default(&cfg, &o);
}

Test(machine_config, defaults)
{
	build(1, RUN_DEFAULT_MEMORY, NULL);
	cr_expect_eq(cfg.ncpus, 1);
	cr_expect_eq(cfg.ipa_bits, IPA_BITS);
	cr_expect_eq(cfg.vcpu_target, 0, "KVM names the target later");
	cr_expect_eq(cfg.vcpu_features[0], 1u << VCPU_FEATURE_PSCI_0_2);
	for (unsigned i = 1; i < VCPU_FEATURE_WORDS; i++)
		cr_expect_eq(cfg.vcpu_features[i], 0);
	cr_expect_eq(cfg.caps, 0, "caps are set as KVM grants them");
	cr_expect_eq(cfg.gic_version, 3);
	cr_expect_eq(cfg.gic_nr_irqs, GIC_NR_IRQS);
	cr_expect_eq(cfg.gic_dist_base, GIC_DIST_BASE);
	cr_expect_eq(cfg.gic_dist_size, GIC_DIST_SIZE);
	cr_expect_eq(cfg.gic_redist_base, GIC_REDIST_BASE);
	cr_expect_eq(cfg.gic_redist_size, GIC_REDIST_STRIDE);
	cr_expect_eq(cfg.nmem, 1);
	cr_expect_eq(cfg.mem[0].guest_addr, RAM_BASE);
	cr_expect_eq(cfg.mem[0].size, RUN_DEFAULT_MEMORY);
	for (unsigned i = 1; i < VM_MAX_MEM_REGIONS; i++)
		cr_expect_eq(cfg.mem[i].size, 0);
	cr_expect_str_eq(cfg.cmdline, "");
}

/* Every always-present table device, in table order, at its default
 * window; no disk or network device without --disk or --net. */
Test(machine_config, every_device_of_the_table)
{
	unsigned n = 0;

	build(1, RUN_DEFAULT_MEMORY, NULL);
	for (unsigned i = 0; i < dev_count(); i++) {
		const struct dev_cfg *d = &cfg.devs[n], *t = &dev_at(i)->dflt;

		if (dev_at(i)->backend)
			continue;
		cr_assert_lt(n, cfg.ndevs);
		cr_expect_eq(d->type, dev_at(i)->type);
		cr_expect_eq(d->base, t->base);
		cr_expect_eq(d->size, t->size);
		cr_expect_eq(d->spi, t->spi);
		n++;
	}
	cr_expect_eq(cfg.ndevs, n);
}

/* --disk: a virtio-blk device each, in order, in consecutive virtio-mmio
 * slots and SPIs, after the always-present devices. */
Test(machine_config, one_virtio_blk_per_disk)
{
	struct run_options o = { .cpus = 1, .memory = RUN_DEFAULT_MEMORY,
				 .ndisks = VM_MAX_DISKS };
	unsigned fixed;

	build(1, RUN_DEFAULT_MEMORY, NULL);
	fixed = cfg.ndevs;
	vm_config_default(&cfg, &o);
	cr_assert_eq(cfg.ndevs, fixed + VM_MAX_DISKS);
	cr_assert_leq(cfg.ndevs, VM_MAX_DEVICES);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		const struct dev_cfg *d = &cfg.devs[fixed + i];

		cr_expect_eq(d->type, DEV_VIRTIO_BLK);
		cr_expect_eq(d->base, VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE);
		cr_expect_eq(d->size, VIRTIO_MMIO_STRIDE);
		cr_expect_eq(d->spi, VIRTIO_SPI_BASE + i);
		for (unsigned j = 0; j < fixed; j++)
			cr_expect_neq(cfg.devs[j].spi, d->spi, "disk %u shares an SPI", i);
	}
	cr_expect_leq(VIRTIO_MMIO_BASE + VIRTIO_MMIO_SLOTS * VIRTIO_MMIO_STRIDE,
		      (uint64_t)RAM_BASE);
}

/* --net: a virtio-net device each, in order, in the virtio-mmio slots from
 * VIRTIO_NET_SLOT, after the disks; none of them shares a window or an SPI
 * with another device. */
Test(machine_config, one_virtio_net_per_card)
{
	struct run_options o = { .cpus = 1, .memory = RUN_DEFAULT_MEMORY,
				 .ndisks = VM_MAX_DISKS, .nnets = VM_MAX_NICS };
	unsigned first;

	build(1, RUN_DEFAULT_MEMORY, NULL);
	first = cfg.ndevs + VM_MAX_DISKS;
	vm_config_default(&cfg, &o);
	cr_assert_eq(cfg.ndevs, first + VM_MAX_NICS);
	cr_assert_leq(cfg.ndevs, VM_MAX_DEVICES);
	for (unsigned i = 0; i < VM_MAX_NICS; i++) {
		const struct dev_cfg *d = &cfg.devs[first + i];

		cr_expect_eq(d->type, DEV_VIRTIO_NET);
		cr_expect_eq(d->base, VIRTIO_MMIO_BASE + (VIRTIO_NET_SLOT + i) * VIRTIO_MMIO_STRIDE);
		cr_expect_eq(d->spi, VIRTIO_SPI_BASE + VIRTIO_NET_SLOT + i);
	}
	for (unsigned i = 0; i < cfg.ndevs; i++)
		for (unsigned j = 0; j < i; j++) {
			cr_expect_neq(cfg.devs[i].spi, cfg.devs[j].spi, "devices %u and %u", j, i);
			cr_expect(cfg.devs[i].base + cfg.devs[i].size <= cfg.devs[j].base ||
				  cfg.devs[j].base + cfg.devs[j].size <= cfg.devs[i].base,
				  "devices %u and %u overlap", j, i);
		}
}

/* The generation ID is there unless --no-vmgenid; virtio-rng always. */
Test(machine_config, vmgenid_and_rng)
{
	struct run_options o = { .cpus = 1, .memory = RUN_DEFAULT_MEMORY };
	unsigned vmgenid = 0, rng = 0;

	vm_config_default(&cfg, &o);
	for (unsigned i = 0; i < cfg.ndevs; i++) {
		vmgenid += cfg.devs[i].type == DEV_VMGENID;
		rng += cfg.devs[i].type == DEV_VIRTIO_RNG;
	}
	cr_expect_eq(vmgenid, 1);
	cr_expect_eq(rng, 1);
	o.no_vmgenid = 1;
	vm_config_default(&cfg, &o);
	for (unsigned i = 0; i < cfg.ndevs; i++) {
		cr_expect_neq(cfg.devs[i].type, DEV_VMGENID);
		rng -= cfg.devs[i].type == DEV_VIRTIO_RNG;
	}
	cr_expect_eq(rng, 0);
}

/* One redistributor frame pair per vCPU, and the region still fits below
 * the devices for the largest VM. */
Test(machine_config, redistributors_follow_the_vcpus)
{
	for (unsigned n = 1; n <= TORPOR_MAX_CPUS; n++) {
		build(n, 1ULL << 30, NULL);
		cr_expect_eq(cfg.ncpus, n);
		cr_expect_eq(cfg.gic_redist_size, (uint64_t)GIC_REDIST_STRIDE * n);
		cr_expect_leq(cfg.gic_redist_base + cfg.gic_redist_size,
			      (uint64_t)GIC_REDIST_BASE + GIC_REDIST_SIZE);
		cr_expect_eq(cfg.mem[0].size, 1ULL << 30);
	}
}

Test(machine_config, cmdline_is_copied_and_bounded)
{
	static char long_line[VM_CMDLINE_MAX + 100];

	build(1, RUN_DEFAULT_MEMORY, "console=ttyS0 quiet");
	cr_expect_str_eq(cfg.cmdline, "console=ttyS0 quiet");
	memset(long_line, 'x', sizeof(long_line) - 1);
	build(1, RUN_DEFAULT_MEMORY, long_line);
	cr_expect_eq(strlen(cfg.cmdline), VM_CMDLINE_MAX - 1);
}
