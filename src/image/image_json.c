/* image_json.c - inspect --json: the human summary's facts as one JSON
 * object, plus every section and every memory chunk's place in the file. */
#include <inttypes.h>

#include "devices.h"
#include "image_int.h"
#include "tap.h"
#include "vmgenid.h"

/* Writes s as a JSON string literal. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* One device state: its counts, and a generation ID or a card's tap and
 * MAC where it has them. */
static void json_dev_state(const struct dev_state *d, uint32_t i, FILE *f)
{
	char id[VMGENID_STR_LEN], tap[TAP_NAME_MAX + 1], mac[MAC_STR_LEN];

	fprintf(f, "%s{\"type\":%u,\"base\":%" PRIu64 ",\"nfields\":%u,\"blob_len\":%u",
		i ? "," : "", d->type, d->base, d->nfields, d->blob_len);
	if (!dev_state_genid(d, id))
		fprintf(f, ",\"generation_id\":\"%s\"", id);
	if (!dev_state_card(d, tap, mac)) {
		fprintf(f, ",\"tap\":");
		json_str(f, tap);
		fprintf(f, ",\"mac\":\"%s\"", mac);
	}
	fputc('}', f);
}

static void json_config(const struct vm_config *c, FILE *f)
{
	fprintf(f, "\"config\":{\"ncpus\":%u,\"ipa_bits\":%u,\"vcpu_target\":%u,\"vcpu_features\":[",
		c->ncpus, c->ipa_bits, c->vcpu_target);
	for (unsigned i = 0; i < VCPU_FEATURE_WORDS; i++)
		fprintf(f, "%s%u", i ? "," : "", c->vcpu_features[i]);
	fprintf(f, "],\"caps\":%u,\"gic_version\":%u,\"gic_nr_irqs\":%u,"
		"\"gic_dist_base\":%" PRIu64 ",\"gic_dist_size\":%" PRIu64
		",\"gic_redist_base\":%" PRIu64 ",\"gic_redist_size\":%" PRIu64 ",\"memory\":[",
		c->caps, c->gic_version, c->gic_nr_irqs, c->gic_dist_base, c->gic_dist_size,
		c->gic_redist_base, c->gic_redist_size);
	for (uint32_t i = 0; i < c->nmem; i++)
		fprintf(f, "%s{\"guest_addr\":%" PRIu64 ",\"size\":%" PRIu64 "}", i ? "," : "",
			c->mem[i].guest_addr, c->mem[i].size);
	fprintf(f, "],\"devices\":[");
	for (uint32_t i = 0; i < c->ndevs; i++) {
		fprintf(f, "%s{\"type\":%u,\"name\":", i ? "," : "", c->devs[i].type);
		json_str(f, dev_type_name(c->devs[i].type));
		fprintf(f, ",\"base\":%" PRIu64 ",\"size\":%" PRIu64 ",\"spi\":%u}",
			c->devs[i].base, c->devs[i].size, c->devs[i].spi);
	}
	fprintf(f, "],\"cmdline\":");
	json_str(f, c->cmdline);
	fputc('}', f);
}

/* Every register as {"id","value"}: value is the little-endian register as
 * one hex number, most significant digit first, whatever its width. */
static void json_regs(const struct vcpu_state *v, FILE *f)
{
	size_t off = 0;

	char hex[2 * REG_MAX_BYTES + 3];

	fprintf(f, ",\"regs\":[");
	for (uint32_t i = 0; i < v->nregs; i++) {
		size_t sz = reg_size(v->reg_ids[i]);

		reg_hex(v->reg_data + off, sz, hex);
		fprintf(f, "%s{\"id\":\"0x%016" PRIx64 "\",\"value\":\"%s\"}", i ? "," : "",
			v->reg_ids[i], hex);
		off += sz;
	}
	fputc(']', f);
}

static void json_vcpus(const struct vm_state *st, FILE *f)
{
	fprintf(f, ",\"vcpus\":[");
	for (uint32_t i = 0; i < st->config.ncpus; i++) {
		const struct vcpu_state *v = &st->vcpus[i];
		uint64_t val;

		fprintf(f, "%s{\"mpidr\":%" PRIu64, i ? "," : "", v->mpidr);
		if (!vcpu_reg(v, REG_ID_PC, &val))
			fprintf(f, ",\"pc\":%" PRIu64, val);
		if (!vcpu_reg(v, REG_ID_PSTATE, &val))
			fprintf(f, ",\"pstate\":%" PRIu64, val);
		fprintf(f, ",\"mp_state\":%u,\"mp_state_name\":\"%s\",\"nregs\":%u,"
			"\"serror_pending\":%u,\"serror_has_esr\":%u,\"serror_esr\":%" PRIu64
			",\"ext_dabt_pending\":%u", v->mp_state, mp_state_name(v->mp_state),
			v->nregs, v->events.serror_pending, v->events.serror_has_esr,
			v->events.serror_esr, v->events.ext_dabt_pending);
		json_regs(v, f);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_disks(const struct vm_state *st, FILE *f)
{
	fprintf(f, ",\"disks\":[");
	for (uint32_t i = 0; i < st->ndisks; i++) {
		const struct disk_record *d = &st->disks[i];

		fprintf(f, "%s{\"dev\":%u,\"path\":", i ? "," : "", d->dev);
		json_str(f, d->path);
		fprintf(f, ",\"size\":%" PRIu64 ",\"flags\":%u,\"readonly\":%u,\"blockdev\":%u,"
			"\"serial\":", d->size, d->flags, !!(d->flags & DISK_REC_READONLY),
			!!(d->flags & DISK_REC_BLOCKDEV));
		json_str(f, d->serial);
		fprintf(f, ",\"mtime_sec\":%" PRId64 ",\"mtime_nsec\":%u}", d->mtime_sec,
			d->mtime_nsec);
	}
	fputc(']', f);
}

static void json_memory(const struct image *img, FILE *f)
{
	fprintf(f, ",\"memory\":[");
	for (uint32_t r = 0; r < img->st.config.nmem; r++) {
		const struct region_index *ri = &img->mem[r];
		const struct mem_index *x = &ri->idx;
		uint64_t stored, data;

		region_totals(x, &stored, &data);
		fprintf(f, "%s{\"guest_addr\":%" PRIu64 ",\"size\":%" PRIu64 ",\"page_size\":%u,"
			"\"chunk_pages\":%u,\"stored_bytes\":%" PRIu64 ",\"data_pages\":%" PRIu64
			",\"zero_pages\":%" PRIu64 ",\"untouched_pages\":%" PRIu64
			",\"prefetch_chunks\":%u,\"chunks\":[",
			r ? "," : "", x->guest_addr, x->size, x->page_size, x->chunk_pages, stored,
			data, ri->zero_pages, ri->untouched_pages, img->prefetch[r].n);
		for (uint32_t c = 0; c < x->nchunks; c++)
			fprintf(f, "%s{\"offset\":%" PRIu64 ",\"length\":%" PRIu64 ",\"pages\":%u,"
				"\"stored_pages\":%u}", c ? "," : "", x->chunks[c].offset,
				x->chunks[c].length, x->chunks[c].pages, x->chunks[c].stored_pages);
		fprintf(f, "]}");
	}
	fputc(']', f);
}

int image_print_json(const struct image *img, FILE *f, struct image_error *err)
{
	const struct vm_state *st = &img->st;

	fprintf(f, "{\"format\":{\"version\":\"%u.%u\",\"compatible\":\"%u.%u\","
		"\"file_size\":%" PRIu64 "},\"sections\":[", img->version_major,
		img->version_minor, img->compat_major, img->compat_minor, img->file_size);
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct image_section *s = &img->sections[i];

		fprintf(f, "%s{\"type\":%u,\"name\":\"%s\",\"version\":%u,\"flags\":%u,"
			"\"instance\":%u,\"offset\":%" PRIu64 ",\"length\":%" PRIu64 "}",
			i ? "," : "", s->type, section_name(s->type), s->version, s->flags,
			s->instance, s->offset, s->length);
	}
	fprintf(f, "],\"host\":{\"kernel_release\":");
	json_str(f, st->host.kernel_release);
	fprintf(f, ",\"machine\":");
	json_str(f, st->host.machine);
	fprintf(f, ",\"midr\":%" PRIu64 ",\"page_size\":%u},", st->host.midr, st->host.page_size);
	fprintf(f, "\"clock\":{\"counter\":%" PRIu64 ",\"counter_freq\":%" PRIu64
		",\"realtime_ns\":%" PRId64 "},", st->clock.counter, st->clock.counter_freq,
		st->clock.realtime_ns);
	json_config(&st->config, f);
	fprintf(f, ",\"psci_resume\":{\"vcpu\":%u,\"smc64\":%u,\"entry\":%" PRIu64
		",\"context_id\":%" PRIu64 "}", st->resume.vcpu, st->resume.smc64,
		st->resume.entry, st->resume.context_id);
	json_vcpus(st, f);
	fprintf(f, ",\"gic\":{\"version\":%u,\"nr_irqs\":%u,\"nregs\":%u},\"device_states\":[",
		st->gic.version, st->gic.nr_irqs, st->gic.nregs);
	for (uint32_t i = 0; i < st->ndevs; i++)
		json_dev_state(&st->devs[i], i, f);
	fputc(']', f);
	json_disks(st, f);
	json_memory(img, f);
	fprintf(f, "}\n");
	if (fflush(f) || ferror(f))
		return img_fail(err, IMG_EIO, "writing the JSON summary failed");
	return 0;
}
