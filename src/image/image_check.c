/* image_check.c - consistency checks shared by the writer (which refuses to
 * write an inconsistent state) and the reader (which refuses to return one). */
#include <string.h>

#include "devices.h"
#include "image_int.h"
#include "tap.h"
#include "memmap.h"

/* a + b without wrapping past 2^64; 0 (and *sum untouched) if it would. */
static int add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	if (a > UINT64_MAX - b)
		return 0;
	*sum = a + b;
	return 1;
}

static int check_regions(const struct vm_config *c, int code, struct image_error *err)
{
	uint64_t ipa_end = 1ULL << c->ipa_bits;

	if (c->nmem < 1 || c->nmem > VM_MAX_MEM_REGIONS)
		return img_fail(err, code, "vm config: %u memory regions (1..%u)",
				c->nmem, VM_MAX_MEM_REGIONS);
	for (uint32_t i = 0; i < c->nmem; i++) {
		const struct mem_region_cfg *m = &c->mem[i];
		uint64_t end;

		if (!m->size || m->size % MEM_PAGE_SIZE || m->guest_addr % MEM_PAGE_SIZE)
			return img_fail(err, code,
					"vm config: memory region %u: address 0x%llx size 0x%llx not page-aligned",
					i, (unsigned long long)m->guest_addr,
					(unsigned long long)m->size);
		if (!add_ok(m->guest_addr, m->size, &end) || end > ipa_end)
			return img_fail(err, code,
					"vm config: memory region %u: ends beyond the %u-bit IPA space",
					i, c->ipa_bits);
		if (i && m->guest_addr < c->mem[i - 1].guest_addr + c->mem[i - 1].size)
			return img_fail(err, code,
					"vm config: memory region %u: overlaps or precedes region %u",
					i, i - 1);
	}
	return 0;
}

/* Known bits only: a feature or capability format 1.0 does not define needs
 * state it does not carry. */
static int check_bits(const struct vm_config *c, int code, struct image_error *err)
{
	if (c->caps & ~IMAGE_CAPS_KNOWN)
		return img_fail(err, code, "vm config: caps 0x%x has unknown bits (known 0x%x)",
				c->caps, IMAGE_CAPS_KNOWN);
	for (unsigned w = 0; w < VCPU_FEATURE_WORDS; w++) {
		uint32_t known = w ? 0 : IMAGE_FEATURES0_KNOWN;

		if (c->vcpu_features[w] & ~known)
			return img_fail(err, code,
					"vm config: vcpu_features word %u is 0x%x, known bits 0x%x",
					w, c->vcpu_features[w], known);
	}
	return 0;
}

_Static_assert(IMAGE_NET_BLOB_MAX == TAP_NAME_MAX && IMAGE_MAX_NICS == VM_MAX_NICS &&
	       IMAGE_VMGENID_SIZE == VMGENID_SIZE && IMAGE_1_1_DEV_TYPE_MAX == DEV_VIRTIO_BLK &&
	       IMAGE_DEV_VIRTIO_NET == DEV_VIRTIO_NET && IMAGE_DEV_VMGENID == DEV_VMGENID &&
	       IMAGE_DEV_VIRTIO_INPUT == DEV_VIRTIO_INPUT && IMAGE_1_2_DEV_TYPE_MAX == DEV_VMGENID,
	       "the format's limits are what torpor builds");

int format_dev_max_blob(uint32_t type)
{
	if (type < 1 || type > IMAGE_DEV_TYPE_MAX)
		return -1;
	if (type == DEV_UART_16550)
		return (int)IMAGE_UART_BLOB_MAX;
	if (type == IMAGE_DEV_VIRTIO_INPUT)
		return (int)IMAGE_INPUT_BLOB_MAX;
	return type == IMAGE_DEV_VIRTIO_NET ? (int)IMAGE_NET_BLOB_MAX : 0;
}

unsigned config_virtio_blks(const struct vm_config *c)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < c->ndevs && i < VM_MAX_DEVICES; i++)
		n += c->devs[i].type == DEV_VIRTIO_BLK;
	return n;
}

unsigned image_compat_minor(const struct vm_config *c)
{
	for (uint32_t i = 0; i < c->ndevs; i++)
		if (c->devs[i].type > IMAGE_1_2_DEV_TYPE_MAX)
			return IMAGE_COMPAT_MINOR_1_4;
	if (c->ndevs > IMAGE_1_1_MAX_DEVICES)
		return IMAGE_COMPAT_MINOR_1_2;
	for (uint32_t i = 0; i < c->ndevs; i++)
		if (c->devs[i].type > IMAGE_1_1_DEV_TYPE_MAX)
			return IMAGE_COMPAT_MINOR_1_2;
	if (c->ndevs > IMAGE_1_0_MAX_DEVICES || config_virtio_blks(c))
		return IMAGE_COMPAT_MINOR_1_1;
	return IMAGE_COMPAT_MINOR;
}

/* Device types the format defines, interrupt lines the GIC has, windows
 * that do not overlap (a generation ID's: VMGENID_SIZE at a multiple of
 * it, so that it is whole pages on any arm64 host), at most IMAGE_MAX_NICS
 * cards. */
static int check_config_devices(const struct vm_config *c, int code, struct image_error *err)
{
	uint32_t spis = c->gic_nr_irqs - IMAGE_GIC_SPI_BASE, cards = 0;

	for (uint32_t i = 0; i < c->ndevs; i++) {
		const struct dev_cfg *d = &c->devs[i];

		if (format_dev_max_blob(d->type) < 0)
			return img_fail(err, code, "vm config: device %u: type %u unknown (1..%u)",
					i, d->type, IMAGE_DEV_TYPE_MAX);
		if (d->spi >= spis)
			return img_fail(err, code, "vm config: device %u: SPI %u beyond the GIC's %u SPIs",
					i, d->spi, spis);
		if (d->type == IMAGE_DEV_VMGENID &&
		    (d->size != IMAGE_VMGENID_SIZE || d->base % IMAGE_VMGENID_SIZE))
			return img_fail(err, code, "vm config: device %u: a generation ID's window "
					"is 0x%x bytes at a multiple of that, not 0x%llx at 0x%llx",
					i, IMAGE_VMGENID_SIZE, (unsigned long long)d->size,
					(unsigned long long)d->base);
		if (d->type == IMAGE_DEV_VIRTIO_NET && ++cards > IMAGE_MAX_NICS)
			return img_fail(err, code, "vm config: more than %u network cards",
					IMAGE_MAX_NICS);
		if (d->size == 0 || d->base + d->size < d->base)
			return img_fail(err, code, "vm config: device %u: window 0x%llx+0x%llx",
					i, (unsigned long long)d->base, (unsigned long long)d->size);
		for (uint32_t j = 0; j < i; j++)
			if (d->base < c->devs[j].base + c->devs[j].size &&
			    c->devs[j].base < d->base + d->size)
				return img_fail(err, code, "vm config: devices %u and %u overlap "
						"(0x%llx and 0x%llx)", j, i,
						(unsigned long long)c->devs[j].base,
						(unsigned long long)d->base);
	}
	return 0;
}

int check_config(const struct vm_config *c, int code, struct image_error *err)
{
	int rc;

	if (c->ncpus < 1 || c->ncpus > TORPOR_MAX_CPUS)
		return img_fail(err, code, "vm config: %u vCPUs (1..%u)", c->ncpus, TORPOR_MAX_CPUS);
	if (c->ipa_bits < IMAGE_MIN_IPA_BITS || c->ipa_bits > IMAGE_MAX_IPA_BITS)
		return img_fail(err, code, "vm config: IPA size %u bits (%u..%u)",
				c->ipa_bits, IMAGE_MIN_IPA_BITS, IMAGE_MAX_IPA_BITS);
	if (c->gic_version != 3)
		return img_fail(err, code, "vm config: GIC version %u (only 3)", c->gic_version);
	if (c->gic_nr_irqs <= 32 || c->gic_nr_irqs > IMAGE_MAX_GIC_IRQS || c->gic_nr_irqs % 32)
		return img_fail(err, code, "vm config: GIC nr_irqs %u (a multiple of 32 in 64..%u)",
				c->gic_nr_irqs, IMAGE_MAX_GIC_IRQS);
	if (c->ndevs > VM_MAX_DEVICES)
		return img_fail(err, code, "vm config: %u devices (max %u)",
				c->ndevs, VM_MAX_DEVICES);
	if (strnlen(c->cmdline, VM_CMDLINE_MAX) >= VM_CMDLINE_MAX)
		return img_fail(err, code, "vm config: cmdline not NUL-terminated");
	if ((rc = check_bits(c, code, err)) || (rc = check_config_devices(c, code, err)))
		return rc;
	return check_regions(c, code, err);
}

static int check_vcpu(const struct vm_state *st, unsigned i, int code,
		      struct image_error *err)
{
	const struct vcpu_state *v = &st->vcpus[i];
	size_t total = 0;
	int rc;

	if (v->nregs > IMAGE_MAX_VCPU_REGS || (v->nregs && !v->reg_ids))
		return img_fail(err, code, "vcpu %u: %u registers (max %u)",
				i, v->nregs, IMAGE_MAX_VCPU_REGS);
	for (uint32_t r = 0; r < v->nregs; r++) {
		size_t n = reg_size(v->reg_ids[r]);

		if (!n)
			return img_fail(err, code, "vcpu %u: register %u (id 0x%016llx): size over %u bytes",
					i, r, (unsigned long long)v->reg_ids[r], REG_MAX_BYTES);
		total += n;
	}
	if (total != v->reg_data_len || (total && !v->reg_data))
		return img_fail(err, code, "vcpu %u: %zu register bytes, the ids need %zu",
				i, v->reg_data_len, total);
	rc = check_reg_ids(v, i, code, err);
	if (rc)
		return rc;
	if (v->events.serror_pending > 1 || v->events.serror_has_esr > 1 ||
	    v->events.ext_dabt_pending > 1)
		return img_fail(err, code, "vcpu %u: vcpu event flag not 0 or 1", i);
	if (v->mp_state != IMAGE_MP_RUNNABLE && v->mp_state != IMAGE_MP_STOPPED &&
	    v->mp_state != IMAGE_MP_SUSPENDED)
		return img_fail(err, code, "vcpu %u: MP state %u (0 runnable, 5 stopped or 10 suspended)",
				i, v->mp_state);
	/* The vGIC addresses a vCPU by affinity, not by the whole MPIDR. */
	for (unsigned j = 0; j < i; j++)
		if (mpidr_affinity(st->vcpus[j].mpidr) == mpidr_affinity(v->mpidr))
			return img_fail(err, code,
					"vcpu %u: MPIDR 0x%llx same as vcpu %u's in affinity (0x%x)",
					i, (unsigned long long)v->mpidr, j, mpidr_affinity(v->mpidr));
	return 0;
}

/* The suspend call the image holds: made by the one suspended vCPU, to an
 * entry point in RAM, with 32-bit arguments if it was an SMC32 call. */
static int check_resume(const struct vm_state *st, int code, struct image_error *err)
{
	const struct psci_resume *rs = &st->resume;
	const struct vm_config *c = &st->config;
	int suspended = -1;
	uint32_t m;

	for (unsigned i = 0; i < c->ncpus; i++) {
		if (st->vcpus[i].mp_state != IMAGE_MP_SUSPENDED)
			continue;
		if (suspended >= 0)
			return img_fail(err, code, "vcpu %u: suspended as well as vcpu %d",
					i, suspended);
		suspended = (int)i;
	}
	if (suspended < 0)
		return img_fail(err, code, "vcpus: none is suspended (MP state %u)",
				IMAGE_MP_SUSPENDED);
	if (rs->vcpu != (uint32_t)suspended)
		return img_fail(err, code, "psci resume: vcpu %u is not the suspended vcpu %d",
				rs->vcpu, suspended);
	for (m = 0; m < c->nmem; m++)
		if (rs->entry >= c->mem[m].guest_addr &&
		    rs->entry - c->mem[m].guest_addr < c->mem[m].size)
			break;
	if (m == c->nmem)
		return img_fail(err, code, "psci resume: entry 0x%llx is outside guest RAM",
				(unsigned long long)rs->entry);
	if (!rs->smc64 && (rs->entry >> 32 || rs->context_id >> 32))
		return img_fail(err, code,
				"psci resume: SMC32 call with entry 0x%llx context 0x%llx beyond 32 bits",
				(unsigned long long)rs->entry, (unsigned long long)rs->context_id);
	return 0;
}

/* Exactly one state per configured device, matched by (type, base), and a
 * blob only on the device types whose appendix has one (the UART's FIFOs,
 * a card's tap name, which is a valid name). */
static int check_devices(const struct vm_state *st, int code, struct image_error *err)
{
	const struct vm_config *c = &st->config;
	int owner[VM_MAX_DEVICES];

	if (st->ndevs > VM_MAX_DEVICES)
		return img_fail(err, code, "devices: %u device states (max %u)",
				st->ndevs, VM_MAX_DEVICES);
	for (uint32_t k = 0; k < VM_MAX_DEVICES; k++)
		owner[k] = -1;
	for (uint32_t i = 0; i < st->ndevs; i++) {
		const struct dev_state *d = &st->devs[i];
		uint32_t k;
		int max_blob;

		if (d->nfields > DEV_MAX_FIELDS || d->blob_len > DEV_MAX_BLOB)
			return img_fail(err, code, "device %u: %u fields, %u blob bytes (max %u, %u)",
					i, d->nfields, d->blob_len, DEV_MAX_FIELDS, DEV_MAX_BLOB);
		for (k = 0; k < c->ndevs; k++)
			if (c->devs[k].type == d->type && c->devs[k].base == d->base)
				break;
		if (k == c->ndevs)
			return img_fail(err, code,
					"device %u: type %u at 0x%llx is not in the vm config",
					i, d->type, (unsigned long long)d->base);
		if (owner[k] >= 0)
			return img_fail(err, code,
					"devices: states %d and %u are both for vm config device %u",
					owner[k], i, k);
		owner[k] = (int)i;
		max_blob = format_dev_max_blob(d->type);
		if (d->blob_len > (uint32_t)max_blob && !max_blob)
			return img_fail(err, code, "device %u: %u blob bytes, a %s has none",
					i, d->blob_len, dev_type_name(d->type));
		if (d->blob_len > (uint32_t)max_blob)
			return img_fail(err, code, "device %u: %u blob bytes, a %s holds %d",
					i, d->blob_len, dev_type_name(d->type), max_blob);
		if (d->type == IMAGE_DEV_VIRTIO_NET && !tap_name_ok(d->blob, d->blob_len))
			return img_fail(err, code, "device %u: the tap name is not 1 to %u of "
					"A-Z a-z 0-9 . _ -", i, IMAGE_NET_BLOB_MAX);
	}
	for (uint32_t k = 0; k < c->ndevs; k++)
		if (owner[k] < 0)
			return img_fail(err, code,
					"devices: vm config device %u (type %u at 0x%llx) has no state",
					k, c->devs[k].type, (unsigned long long)c->devs[k].base);
	return 0;
}

/* Disk i's own values: known flags, a size in whole sectors, an mtime with
 * a nanosecond part, an absolute path and a printable serial. */
static int check_disk(const struct disk_record *d, uint32_t i, int code,
		      struct image_error *err)
{
	size_t plen = strnlen(d->path, sizeof(d->path));
	size_t slen = strnlen(d->serial, sizeof(d->serial));

	if (d->flags & ~IMAGE_DISK_FLAGS_KNOWN)
		return img_fail(err, code, "disk %u: flags 0x%x has unknown bits (known 0x%x)",
				i, d->flags, IMAGE_DISK_FLAGS_KNOWN);
	if (!d->size || d->size % IMAGE_DISK_SECTOR)
		return img_fail(err, code, "disk %u: size %llu (a non-zero multiple of %u)",
				i, (unsigned long long)d->size, IMAGE_DISK_SECTOR);
	if (d->mtime_nsec >= IMAGE_NSEC_PER_SEC)
		return img_fail(err, code, "disk %u: mtime_nsec %u (below %u)",
				i, d->mtime_nsec, IMAGE_NSEC_PER_SEC);
	if (plen > DISK_PATH_MAX || slen > DISK_SERIAL_MAX)
		return img_fail(err, code, "disk %u: path or serial not NUL-terminated", i);
	if (!plen)
		return img_fail(err, code, "disk %u: empty path", i);
	/* Restore opens it from wherever it runs. */
	if (d->path[0] != '/')
		return img_fail(err, code, "disk %u: path is relative (must start with '/')", i);
	for (size_t b = 0; b < slen; b++)
		if ((unsigned char)d->serial[b] < 0x20 || (unsigned char)d->serial[b] > 0x7e)
			return img_fail(err, code,
					"disk %u: serial byte %zu is 0x%02x, not printable ASCII",
					i, b, (unsigned char)d->serial[b]);
	return 0;
}

/* Exactly one disk record per virtio-blk device of the configuration, and
 * none for another device. */
static int check_disks(const struct vm_state *st, int code, struct image_error *err)
{
	const struct vm_config *c = &st->config;
	int owner[VM_MAX_DEVICES];
	int rc;

	if (st->ndisks > VM_MAX_DISKS)
		return img_fail(err, code, "disks: %u disk records (max %u)",
				st->ndisks, VM_MAX_DISKS);
	for (uint32_t k = 0; k < VM_MAX_DEVICES; k++)
		owner[k] = -1;
	for (uint32_t i = 0; i < st->ndisks; i++) {
		const struct disk_record *d = &st->disks[i];

		rc = check_disk(d, i, code, err);
		if (rc)
			return rc;
		if (d->dev >= c->ndevs)
			return img_fail(err, code, "disk %u: device %u beyond the vm config's %u devices",
					i, d->dev, c->ndevs);
		if (c->devs[d->dev].type != DEV_VIRTIO_BLK)
			return img_fail(err, code,
					"disk %u: vm config device %u has type %u, not %u (virtio-blk)",
					i, d->dev, c->devs[d->dev].type, DEV_VIRTIO_BLK);
		if (owner[d->dev] >= 0)
			return img_fail(err, code,
					"disks: records %d and %u are both for vm config device %u",
					owner[d->dev], i, d->dev);
		owner[d->dev] = (int)i;
	}
	for (uint32_t k = 0; k < c->ndevs; k++)
		if (c->devs[k].type == DEV_VIRTIO_BLK && owner[k] < 0)
			return img_fail(err, code,
					"disks: vm config device %u (virtio-blk at 0x%llx) has no disk record",
					k, (unsigned long long)c->devs[k].base);
	return 0;
}

int check_state(const struct vm_state *st, int code, struct image_error *err)
{
	const struct vm_config *c = &st->config;
	int rc = check_config(c, code, err);

	if (rc)
		return rc;
	if (st->clock.counter_freq == 0)
		return img_fail(err, code, "clock: counter frequency 0");
	if (st->resume.vcpu >= c->ncpus || st->resume.smc64 > 1)
		return img_fail(err, code, "psci resume: vcpu %u of %u, smc64 %u",
				st->resume.vcpu, c->ncpus, st->resume.smc64);
	for (unsigned i = 0; i < c->ncpus; i++) {
		rc = check_vcpu(st, i, code, err);
		if (rc)
			return rc;
	}
	rc = check_resume(st, code, err);
	if (rc)
		return rc;
	if (st->gic.version != c->gic_version || st->gic.nr_irqs != c->gic_nr_irqs)
		return img_fail(err, code, "gic: version %u nr_irqs %u, vm config says %u and %u",
				st->gic.version, st->gic.nr_irqs, c->gic_version, c->gic_nr_irqs);
	if (st->gic.nregs > IMAGE_MAX_GIC_REGS || (st->gic.nregs && !st->gic.regs))
		return img_fail(err, code, "gic: %u registers (max %u)",
				st->gic.nregs, IMAGE_MAX_GIC_REGS);
	rc = check_gic_regs(st, code, err);
	if (!rc)
		rc = check_devices(st, code, err);
	return rc ? rc : check_disks(st, code, err);
}

int check_memindex(const struct vm_config *c, unsigned region,
		   const struct region_index *ri, int code, struct image_error *err)
{
	const struct mem_index *x = &ri->idx;
	uint64_t pages, stored = 0;
	uint64_t want_chunks;

	if (x->guest_addr != c->mem[region].guest_addr || x->size != c->mem[region].size)
		return img_fail(err, code,
				"memory region %u index: 0x%llx+0x%llx, vm config says 0x%llx+0x%llx",
				region, (unsigned long long)x->guest_addr,
				(unsigned long long)x->size,
				(unsigned long long)c->mem[region].guest_addr,
				(unsigned long long)c->mem[region].size);
	if (x->page_size != MEM_PAGE_SIZE || x->chunk_pages < 1 ||
	    x->chunk_pages > MEM_CHUNK_PAGES_MAX)
		return img_fail(err, code, "memory region %u index: page size %u, %u pages per chunk",
				region, x->page_size, x->chunk_pages);
	pages = x->size / x->page_size;
	want_chunks = (pages + x->chunk_pages - 1) / x->chunk_pages;
	if (x->nchunks != want_chunks)
		return img_fail(err, code, "memory region %u index: %u chunks, the size needs %llu",
				region, x->nchunks, (unsigned long long)want_chunks);
	for (uint32_t i = 0; i < x->nchunks; i++) {
		const struct mem_chunk *k = &x->chunks[i];
		uint64_t want = i + 1 < x->nchunks ? x->chunk_pages
				: pages - (uint64_t)i * x->chunk_pages;

		if (k->pages != want || k->stored_pages > k->pages ||
		    (k->length == 0) != (k->stored_pages == 0))
			return img_fail(err, code,
					"memory region %u, chunk %u: %u pages (%u stored, %llu bytes), expected %llu pages",
					region, i, k->pages, k->stored_pages,
					(unsigned long long)k->length, (unsigned long long)want);
		/* No bytes to prove: the format fixes the value, not XXH3 of nothing. */
		if (!k->length && k->checksum)
			return img_fail(err, code,
					"memory region %u, chunk %u: no record, yet checksum 0x%llx (must be 0)",
					region, i, (unsigned long long)k->checksum);
		stored += k->stored_pages;
	}
	if (ri->zero_pages > pages || ri->untouched_pages > pages - ri->zero_pages ||
	    stored + ri->zero_pages + ri->untouched_pages != pages)
		return img_fail(err, code,
				"memory region %u index: %llu stored + %llu zero + %llu untouched pages != %llu",
				region, (unsigned long long)stored,
				(unsigned long long)ri->zero_pages,
				(unsigned long long)ri->untouched_pages,
				(unsigned long long)pages);
	return 0;
}
