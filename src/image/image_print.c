/* image_print.c - inspect's human summary of an open image, and the helpers
 * it shares with the JSON form (image_json.c). */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "devices.h"
#include "image_int.h"
#include "le.h"
#include "tap.h"
#include "virtio_net.h"
#include "vmgenid.h"

/* KVM_MP_STATE_* values arm64 uses (the others are x86/s390 only). */
#define MP_STATE_RUNNABLE       0
#define MP_STATE_STOPPED        5
#define MP_STATE_SUSPENDED      10

const char *mp_state_name(uint32_t mp_state)
{
	switch (mp_state) {
	case MP_STATE_RUNNABLE:
		return "runnable";
	case MP_STATE_STOPPED:
		return "stopped";
	case MP_STATE_SUSPENDED:
		return "suspended";
	default:
		return "unknown";
	}
}

void region_totals(const struct mem_index *x, uint64_t *stored_bytes,
		   uint64_t *data_pages)
{
	*stored_bytes = 0;
	*data_pages = 0;
	for (uint32_t i = 0; i < x->nchunks; i++) {
		*stored_bytes += x->chunks[i].length;
		*data_pages += x->chunks[i].stored_pages;
	}
}

static void print_config(const struct vm_config *c, FILE *f)
{
	fprintf(f, "vm: %u vCPUs, target %u, features", c->ncpus, c->vcpu_target);
	for (unsigned i = 0; i < VCPU_FEATURE_WORDS; i++)
		fprintf(f, " %08" PRIx32, c->vcpu_features[i]);
	fprintf(f, ", IPA %u bits, caps 0x%" PRIx32 "%s\n", c->ipa_bits, c->caps,
		c->caps & VM_CAP_SYSTEM_SUSPEND ? " (system-suspend)" : "");
	fprintf(f, "  gic: v%u, %u irqs, distributor 0x%" PRIx64 "+0x%" PRIx64
		", redistributors 0x%" PRIx64 "+0x%" PRIx64 "\n", c->gic_version, c->gic_nr_irqs,
		c->gic_dist_base, c->gic_dist_size, c->gic_redist_base, c->gic_redist_size);
	for (uint32_t i = 0; i < c->nmem; i++)
		fprintf(f, "  memory region %u: 0x%" PRIx64 "+0x%" PRIx64 " (%" PRIu64 " %s)\n",
			i, c->mem[i].guest_addr, c->mem[i].size,
			c->mem[i].size >> (c->mem[i].size < (1u << 20) ? 10 : 20),
			c->mem[i].size < (1u << 20) ? "KiB" : "MiB");
	for (uint32_t i = 0; i < c->ndevs; i++)
		fprintf(f, "  device %u: %s (type %u) at 0x%" PRIx64 "+0x%" PRIx64 ", SPI %u\n",
			i, dev_type_name(c->devs[i].type), c->devs[i].type, c->devs[i].base,
			c->devs[i].size, c->devs[i].spi);
	fprintf(f, "  cmdline: %s\n", c->cmdline);
}

static void print_vcpus(const struct vm_state *st, FILE *f)
{
	for (uint32_t i = 0; i < st->config.ncpus; i++) {
		const struct vcpu_state *v = &st->vcpus[i];
		uint64_t pc, pstate;

		fprintf(f, "vcpu %u: MPIDR 0x%" PRIx64, i, v->mpidr);
		if (!vcpu_reg(v, REG_ID_PC, &pc))
			fprintf(f, ", PC 0x%" PRIx64, pc);
		if (!vcpu_reg(v, REG_ID_PSTATE, &pstate))
			fprintf(f, ", PSTATE 0x%" PRIx64, pstate);
		fprintf(f, ", MP state %s (%u), %u registers%s\n", mp_state_name(v->mp_state),
			v->mp_state, v->nregs, v->events.serror_pending ? ", SError pending" : "");
	}
}

static void print_memory(const struct image *img, FILE *f)
{
	uint64_t size = 0, stored = 0, data = 0, zero = 0, untouched = 0;

	for (uint32_t r = 0; r < img->st.config.nmem; r++) {
		const struct region_index *ri = &img->mem[r];
		uint64_t rs, rd;

		region_totals(&ri->idx, &rs, &rd);
		size += ri->idx.size;
		stored += rs;
		data += rd;
		zero += ri->zero_pages;
		untouched += ri->untouched_pages;
	}
	fprintf(f, "memory: %" PRIu64 " bytes, %" PRIu64 " stored", size, stored);
	if (stored)
		fprintf(f, " (ratio %.1f:1)", (double)size / (double)stored);
	fprintf(f, "; pages: %" PRIu64 " data, %" PRIu64 " zero, %" PRIu64 " untouched\n",
		data, zero, untouched);
	for (uint32_t r = 0; r < img->st.config.nmem; r++) {
		const struct mem_index *x = &img->mem[r].idx;
		const struct prefetch_order *po = &img->prefetch[r];
		uint64_t rs, rd, first = 0;

		region_totals(x, &rs, &rd);
		fprintf(f, "  region %u: 0x%" PRIx64 "+0x%" PRIx64 ", %u chunks of %u pages of %u bytes, %"
			PRIu64 " bytes stored\n", r, x->guest_addr, x->size, x->nchunks,
			x->chunk_pages, x->page_size, rs);
		if (!po->n)
			continue;
		for (uint32_t i = 0; i < po->n; i++)
			first += (uint64_t)x->chunks[po->chunks[i]].pages * x->page_size;
		fprintf(f, "    prefetch order: %u chunks (%.1f MiB) first\n", po->n,
			(double)first / (1 << 20));
	}
}

/* UTC time of secs as text in buf (32 bytes); "?" if gmtime cannot. */
static void utc_time(int64_t secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;

	snprintf(buf, len, "?");
	if (gmtime_r(&t, &tm))
		strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

int dev_state_genid(const struct dev_state *d, char *out)
{
	uint8_t id[VMGENID_ID_LEN];
	uint64_t lo, hi;

	if (d->type != DEV_VMGENID || dev_state_get(d, VMGENID_F_ID_LO, &lo) ||
	    dev_state_get(d, VMGENID_F_ID_HI, &hi))
		return -1;
	le_put64(id, lo);
	le_put64(id + 8, hi);
	vmgenid_format(id, out);
	return 0;
}

int dev_state_card(const struct dev_state *d, char *tap, char *mac)
{
	uint8_t m[MAC_LEN];
	uint64_t v;

	/* Shown on a terminal: a hostile name gets no control bytes there. */
	if (d->type != DEV_VIRTIO_NET || !tap_name_ok(d->blob, d->blob_len) ||
	    dev_state_get(d, VNET_F_MAC, &v))
		return -1;
	memcpy(tap, d->blob, d->blob_len);
	tap[d->blob_len] = '\0';
	for (unsigned i = 0; i < MAC_LEN; i++)
		m[i] = (uint8_t)(v >> (8 * i));
	mac_format(m, mac);
	return 0;
}

/* A device state's counts, and what identifies it: a generation ID, or a
 * card's tap and MAC. */
static void print_dev_state(const struct dev_state *d, uint32_t i, FILE *f)
{
	char id[VMGENID_STR_LEN], tap[TAP_NAME_MAX + 1], mac[MAC_STR_LEN];

	fprintf(f, "device state %u: %s at 0x%" PRIx64 ", %u fields, %u blob bytes", i,
		dev_type_name(d->type), d->base, d->nfields, d->blob_len);
	if (!dev_state_genid(d, id))
		fprintf(f, ", generation id %s", id);
	if (!dev_state_card(d, tap, mac))
		fprintf(f, ", tap %s, mac %s", tap, mac);
	fputc('\n', f);
}

/* Each disk: what restore opens, and the identity it compares (a block
 * device's mtime is not compared, so it is not shown). */
static void print_disks(const struct vm_state *st, FILE *f)
{
	for (uint32_t i = 0; i < st->ndisks; i++) {
		const struct disk_record *d = &st->disks[i];
		char when[32];

		fprintf(f, "disk %u: %s, %" PRIu64 " bytes, %s, %s, device %u", i, d->path,
			d->size, d->flags & DISK_REC_READONLY ? "read-only" : "read-write",
			d->flags & DISK_REC_BLOCKDEV ? "block device" : "file", d->dev);
		if (d->serial[0])
			fprintf(f, ", serial \"%s\"", d->serial);
		if (!(d->flags & DISK_REC_BLOCKDEV)) {
			utc_time(d->mtime_sec, when, sizeof(when));
			fprintf(f, ", mtime %s.%09uZ", when, d->mtime_nsec);
		}
		fputc('\n', f);
	}
}

static void print_human(const struct image *img, FILE *f)
{
	const struct vm_state *st = &img->st;
	char when[32];

	utc_time(st->clock.realtime_ns / 1000000000, when, sizeof(when));
	fprintf(f, "torpor image: format %u.%u (readable by %u.%u and newer), %" PRIu64
		" bytes, %u sections\n", img->version_major, img->version_minor,
		img->compat_major, img->compat_minor, img->file_size, img->nsections);
	fprintf(f, "host: Linux %s %s, MIDR 0x%" PRIx64 ", page size %u\n",
		st->host.kernel_release, st->host.machine, st->host.midr, st->host.page_size);
	fprintf(f, "clock: counter %" PRIu64 " at %" PRIu64 " Hz, taken %sZ\n",
		st->clock.counter, st->clock.counter_freq, when);
	print_config(&st->config, f);
	fprintf(f, "psci resume: vcpu %u, %s, entry 0x%" PRIx64 ", context 0x%" PRIx64 "\n",
		st->resume.vcpu, st->resume.smc64 ? "SMC64" : "SMC32", st->resume.entry,
		st->resume.context_id);
	print_vcpus(st, f);
	fprintf(f, "gic: v%u, %u irqs, %u registers\n", st->gic.version, st->gic.nr_irqs,
		st->gic.nregs);
	for (uint32_t i = 0; i < st->ndevs; i++)
		print_dev_state(&st->devs[i], i, f);
	print_disks(st, f);
	print_memory(img, f);
}

int image_print(struct image *img, FILE *f, int json, struct image_error *err)
{
	if (!img || !f)
		return img_fail(err, IMG_EINVAL, "image_print: no image or stream");
	if (json)
		return image_print_json(img, f, err);
	print_human(img, f);
	if (fflush(f) || ferror(f))
		return img_fail(err, IMG_EIO, "writing the summary failed");
	return 0;
}
