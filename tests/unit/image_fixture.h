/* image_fixture.h - a small valid VM state and guest memory for the image
 * tests: 2 vCPUs (one with a 2048-bit SVE register), a handful of GIC
 * registers, three devices and one region of four memory chunks (the last
 * one short), mixing random, text, zero and never-touched pages, one of
 * them never touched at all; optionally (fix_disks) two virtio-blk devices
 * more, with their disk records, and (FIX_PREFETCH) a prefetch order; and
 * places in an image file found from the file's own bytes, to damage them.
 * Static functions: each test file uses a subset. */
#ifndef TORPOR_IMAGE_FIXTURE_H
#define TORPOR_IMAGE_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "checksum.h"
#include "image.h"
#include "image_format.h"
#include "image_mem.h"
#include "le.h"
#include "memmap.h"
#include "virtio_mmio.h"

/* The fixture's images have chunks of 1 MiB, whatever the writer's default:
 * the layout below counts on it (fix_opts). */
#define FIX_CHUNK_PAGES 256u
static const struct image_write_opts fix_opts = { .chunk_pages = FIX_CHUNK_PAGES };
#define FIX_MEM_SIZE    (3u * FIX_CHUNK_PAGES * MEM_PAGE_SIZE + 16 * MEM_PAGE_SIZE)
#define FIX_PAGES       (FIX_MEM_SIZE / MEM_PAGE_SIZE)
#define FIX_NREGS       5
#define FIX_GIC_REGS    6
#define FIX_UART_BLOB   7       /* bytes in the UART's receive FIFO */
#define FIX_PC          0xffff800008123456ULL
#define FIX_PSTATE      0x3c5ULL
#define FIX_MPIDR(i)    (0x80000000ULL | (i))

/* Register ids: PC and PSTATE (core, 64-bit), MPIDR_EL1 (sysreg, 64-bit), a
 * 128-bit V register and a 2048-bit SVE Z register. */
static const uint64_t fix_reg_ids[FIX_NREGS] = {
	0x6030000000100040ULL, 0x6030000000100042ULL, 0x603000000013c005ULL,
	0x6040000000100054ULL, 0x6080000000150000ULL,
};

static __attribute__((unused)) void fix_vcpu(struct vcpu_state *v, unsigned i)
{
	size_t len = 8 + 8 + 8 + 16 + 256;

	v->mpidr = FIX_MPIDR(i);
	v->mp_state = i ? 5 : 10;
	v->events.serror_pending = (uint8_t)(i & 1);
	v->events.serror_has_esr = (uint8_t)(i & 1);
	v->events.serror_esr = 0x96000000ULL + i;
	v->nregs = FIX_NREGS;
	v->reg_ids = malloc(sizeof(fix_reg_ids));
	memcpy(v->reg_ids, fix_reg_ids, sizeof(fix_reg_ids));
	v->reg_data = malloc(len);
	v->reg_data_len = len;
	for (size_t b = 0; b < len; b++)
		v->reg_data[b] = (uint8_t)(b * 7 + i);
	for (unsigned b = 0; b < 8; b++) {
		v->reg_data[b] = (uint8_t)((FIX_PC + i) >> (8 * b));
		v->reg_data[8 + b] = (uint8_t)(FIX_PSTATE >> (8 * b));
	}
}

/* vGIC registers of every group format 1.0 knows, addressing both vCPUs
 * (affinity i in attr bits 63..32): GICD_CTLR, GICD_ISENABLER1, GICR_WAKER
 * of vCPUs 0 and 1, ICC_PMR_EL1 of vCPU 1 and the line levels of SPIs 0-31. */
static const struct gic_reg fix_gic_regs[FIX_GIC_REGS] = {
	{ IMAGE_GIC_DIST_REGS, 0x0000, 0x12 },
	{ IMAGE_GIC_DIST_REGS, 0x0104, 0x6 },
	{ IMAGE_GIC_REDIST_REGS, 0x0014, 0x0 },
	{ IMAGE_GIC_REDIST_REGS, 1ULL << IMAGE_GIC_AFF_SHIFT | 0x0014, 0x6 },
	{ IMAGE_GIC_CPU_SYSREGS, 1ULL << IMAGE_GIC_AFF_SHIFT | 0xc230, 0xf0 },
	{ IMAGE_GIC_LEVEL_INFO, 0x0020, 0x1 },
};

/* Fills st (zeroed first) with the fixture state. */
static __attribute__((unused)) void fix_state(struct vm_state *st)
{
	static const struct { uint32_t type, spi; uint64_t base, size; } devs[] = {
		{ DEV_UART_16550, UART_SPI, UART_BASE, UART_SIZE },
		{ DEV_RTC_PL031, RTC_SPI, RTC_BASE, RTC_SIZE },
		{ DEV_GPIO_PL061, GPIO_SPI, GPIO_BASE, GPIO_SIZE },
	};
	struct vm_config *c = &st->config;

	memset(st, 0, sizeof(*st));
	c->ncpus = 2;
	c->ipa_bits = IPA_BITS;
	c->vcpu_target = 5;
	c->vcpu_features[0] = 1u << 2;
	c->caps = VM_CAP_SYSTEM_SUSPEND;
	c->gic_version = 3;
	c->gic_nr_irqs = GIC_NR_IRQS;
	c->gic_dist_base = GIC_DIST_BASE;
	c->gic_dist_size = GIC_DIST_SIZE;
	c->gic_redist_base = GIC_REDIST_BASE;
	c->gic_redist_size = GIC_REDIST_SIZE;
	c->nmem = 1;
	c->mem[0].guest_addr = RAM_BASE;
	c->mem[0].size = FIX_MEM_SIZE;
	c->ndevs = 3;
	for (unsigned i = 0; i < 3; i++) {
		c->devs[i].type = devs[i].type;
		c->devs[i].spi = devs[i].spi;
		c->devs[i].base = devs[i].base;
		c->devs[i].size = devs[i].size;
	}
	strcpy(c->cmdline, "console=ttyS0 \"quoted\"\tno_console_suspend");
	strcpy(st->host.kernel_release, "6.1.0-56-arm64");
	strcpy(st->host.machine, "aarch64");
	st->host.midr = 0x410fd083;
	st->host.page_size = 4096;
	st->clock.counter = 123456789;
	st->clock.counter_freq = 62500000;
	st->clock.realtime_ns = 1795000000123456789LL;
	st->resume.vcpu = 0;
	st->resume.smc64 = 1;
	st->resume.entry = RAM_BASE + 0x123000;
	st->resume.context_id = 0xc0ffee;
	for (unsigned i = 0; i < c->ncpus; i++)
		fix_vcpu(&st->vcpus[i], i);
	st->gic.version = 3;
	st->gic.nr_irqs = GIC_NR_IRQS;
	st->gic.nregs = FIX_GIC_REGS;
	st->gic.regs = calloc(FIX_GIC_REGS, sizeof(*st->gic.regs));
	memcpy(st->gic.regs, fix_gic_regs, sizeof(fix_gic_regs));
	st->ndevs = 3;
	for (unsigned i = 0; i < 3; i++) {
		struct dev_state *d = &st->devs[i];

		d->type = devs[i].type;
		d->base = devs[i].base;
		for (uint32_t f = 1; f <= 4 + i; f++)
			dev_state_put(d, f, 0x1000ULL * i + f);
		d->blob_len = d->type == DEV_UART_16550 ? FIX_UART_BLOB : 0;
		for (uint32_t b = 0; b < d->blob_len; b++)
			d->blob[b] = (uint8_t)('a' + b);
	}
}

/* The disks fix_disks adds: a read-only file with a serial on vm config
 * device 3, a writable block device without one on device 4 (the last
 * record, FIX_DISK1_RECORD bytes). */
#define FIX_DISK0_PATH          "/var/lib/torpor/root.raw"
#define FIX_DISK0_SERIAL        "TORPOR-ROOT-01"
#define FIX_DISK0_SIZE          (1ULL << 30)
#define FIX_DISK0_MTIME         1794999000LL
#define FIX_DISK0_NSEC          999999999u      /* the largest valid */
#define FIX_DISK1_PATH          "/dev/mapper/vg-data"
#define FIX_DISK1_SIZE          (8ULL << 30)
#define FIX_DISK1_RECORD        (SEC_DISK_FIXED + sizeof(FIX_DISK1_PATH) - 1)
#define FIX_BLK_BASE(k)         (0x0a000000ULL + 0x200ULL * (k))
#define FIX_BLK_SPI(k)          (16u + (k))
#define FIX_BLK_FIELDS          (VIRTIO_F_CONFIG_GEN + VIRTIO_FQ_COUNT)

/* Adds to the fixture state st two virtio-blk devices (vm config devices 3
 * and 4, each state holding the transport's fields with one queue) and
 * their disk records. */
static __attribute__((unused)) void fix_disks(struct vm_state *st)
{
	struct vm_config *c = &st->config;

	for (unsigned k = 0; k < 2; k++) {
		struct dev_state *d = &st->devs[st->ndevs++];

		c->devs[c->ndevs++] = (struct dev_cfg){ DEV_VIRTIO_BLK, FIX_BLK_SPI(k),
							FIX_BLK_BASE(k), VIRTIO_MMIO_SIZE };
		memset(d, 0, sizeof(*d));
		d->type = DEV_VIRTIO_BLK;
		d->base = FIX_BLK_BASE(k);
		for (uint32_t f = VIRTIO_F_STATUS; f <= VIRTIO_F_CONFIG_GEN; f++)
			dev_state_put(d, f, f == VIRTIO_F_STATUS ? 0xf : k);
		for (uint32_t q = 0; q < VIRTIO_FQ_COUNT; q++)
			dev_state_put(d, VIRTIO_F_QUEUE(0) + q, q == VIRTIO_FQ_SIZE ? 256 : q);
	}
	st->ndisks = 2;
	st->disks[0] = (struct disk_record){ .dev = 3, .flags = DISK_REC_READONLY,
		.size = FIX_DISK0_SIZE, .mtime_sec = FIX_DISK0_MTIME, .mtime_nsec = FIX_DISK0_NSEC };
	strcpy(st->disks[0].serial, FIX_DISK0_SERIAL);
	strcpy(st->disks[0].path, FIX_DISK0_PATH);
	st->disks[1] = (struct disk_record){ .dev = 4, .flags = DISK_REC_BLOCKDEV,
		.size = FIX_DISK1_SIZE };
	strcpy(st->disks[1].path, FIX_DISK1_PATH);
}

/* Contents of page p of the fixture memory: 0 untouched, 1 zero-written,
 * 2 text, 3 pseudo-random; the same mix in every chunk but chunk 2, which is
 * never touched and so has no record. */
static __attribute__((unused)) int fix_page_kind(unsigned p)
{
	if (p / FIX_CHUNK_PAGES == 2)
		return 0;
	p %= FIX_CHUNK_PAGES;
	return p < 64 ? 3 - (int)(p % 2) : p < 128 ? (int)(p % 4) : p < 160 ? 1 : 0;
}

/* Pages holding data: 96 in chunks 0 and 1, all 16 of the short last one. */
#define FIX_CHUNK_DATA_PAGES    96
#define FIX_LAST_PAGES  (FIX_PAGES - 3 * FIX_CHUNK_PAGES)
#define FIX_DATA_PAGES  (2 * FIX_CHUNK_DATA_PAGES + FIX_LAST_PAGES)

/* Fills page pg, page p of the fixture memory, as fix_page_kind says; x is
 * the state of the pseudo-random bytes. Untouched pages are not touched. */
static __attribute__((unused)) void fix_fill_page(uint8_t *pg, unsigned p, uint64_t *x)
{
	switch (fix_page_kind(p)) {
	case 1:
		memset(pg, 0, MEM_PAGE_SIZE);
		break;
	case 2:
		for (unsigned b = 0; b < MEM_PAGE_SIZE; b++)
			pg[b] = (uint8_t)"snapshot-on-suspend "[(b + p) % 20];
		break;
	case 3:
		for (unsigned b = 0; b < MEM_PAGE_SIZE; b++) {
			*x ^= *x << 13;
			*x ^= *x >> 7;
			*x ^= *x << 17;
			pg[b] = (uint8_t)*x;
		}
		break;
	}
}

/* A fresh mapping of FIX_MEM_SIZE bytes holding the fixture page mix. */
static __attribute__((unused)) uint8_t *fix_memory(void)
{
	uint8_t *m = mmap(NULL, FIX_MEM_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t x = 0x243f6a8885a308d3ULL;

	if (m == MAP_FAILED)
		return NULL;
	for (unsigned p = 0; p < FIX_PAGES; p++)
		fix_fill_page(m + (size_t)p * MEM_PAGE_SIZE, p, &x);
	return m;
}

/* What a fixture image holds besides the fixture state and memory. */
#define FIX_DISKS       1u      /* fix_disks' devices and disks */
#define FIX_PREFETCH    2u      /* a prefetch order of every chunk of region 0,
				 * the last first (fix_prefetch) */
#define FIX_NCHUNKS     4u      /* chunks of the fixture memory */
_Static_assert((FIX_PAGES + FIX_CHUNK_PAGES - 1) / FIX_CHUNK_PAGES == FIX_NCHUNKS,
	       "the fixture memory is four chunks");

/* Fills order[0..nchunks) with the chunks nchunks - 1 down to 0: a
 * prefetch order the refusals can break in place. */
static __attribute__((unused)) void fix_prefetch(uint32_t *order, uint32_t nchunks)
{
	for (uint32_t i = 0; i < nchunks; i++)
		order[i] = nchunks - 1 - i;
}

/* Writes the fixture image, with what `with` adds (FIX_*), to path;
 * returns image_write's result. */
static __attribute__((unused)) int fix_write_vm(const char *path, volatile sig_atomic_t *cancel,
					       unsigned with, struct image_error *err)
{
	struct vm_state st;
	struct image_write_opts opts = { .threads = 2, .cancel = cancel,
					 .chunk_pages = FIX_CHUNK_PAGES };
	uint8_t *mem = fix_memory();
	uint32_t order[FIX_NCHUNKS];
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE };
	int rc;

	fix_state(&st);
	if (with & FIX_DISKS)
		fix_disks(&st);
	if (with & FIX_PREFETCH) {
		fix_prefetch(order, FIX_NCHUNKS);
		src.prefetch = order;
		src.nprefetch = FIX_NCHUNKS;
	}
	rc = image_write(path, &st, &src, 1, &opts, NULL, err);
	vm_state_free(&st);
	munmap(mem, FIX_MEM_SIZE);
	return rc;
}

/* Writes the fixture image without disks to path. */
static __attribute__((unused)) int fix_write(const char *path, volatile sig_atomic_t *cancel,
					    struct image_error *err)
{
	return fix_write_vm(path, cancel, 0, err);
}

/* A new empty directory under /tmp for one test; heap path. */
static __attribute__((unused)) char *fix_dir(void)
{
	char *d = strdup("/tmp/torpor-test.XXXXXX");

	return mkdtemp(d) ? d : NULL;
}

/* ---- Places in an image file ------------------------------------------
 * The corruption tests and the fuzz seeds name what they damage (a header
 * field, a field of a section or of a chunk record) and find it by parsing
 * the header and the section table, never from the writer's order. */

enum fix_part {
	FP_NONE,        /* no place */
	FP_FILE,        /* the whole file */
	FP_HEADER,
	FP_TABLE,       /* the section table */
	FP_ENTRY,       /* the table entry of section (type, instance) */
	FP_TRAILER,
	FP_SECTION,     /* the payload of section (type, instance) */
	FP_CHUNK,       /* the record of chunk `index` of memory region `instance` */
};

/* Where inside a payload or record; list elements are numbered by `index`. */
enum fix_sub {
	FS_START,       /* the payload's or record's first byte */
	FS_END,         /* one past its last byte */
	FS_CFG_REGION,  /* vm config: RAM region `index` */
	FS_CFG_DEV,     /* vm config: device `index` */
	FS_CFG_CMDLINE, /* vm config: the command line */
	FS_HOST_MACHINE, /* host: the machine string */
	FS_VCPU_REG,    /* vcpu: register `index` (its id; its value at VREG_VALUE) */
	FS_GIC_REG,     /* gic: register `index` */
	FS_DEV,         /* devices: state `index` */
	FS_DEV_FIELDS,  /* devices: the field list of state `index` */
	FS_DEV_BLOB,    /* devices: the blob of state `index` */
	FS_MIX_CHUNK,   /* memory index: chunk entry `index` */
	FS_MIX_EMPTY,   /* memory index: entry of the `index`th chunk without a record */
	FS_MIX_LAST,    /* memory index: entry of the last chunk */
	FS_DISK,        /* disks: record `index` */
	FS_DISK_SERIAL, /* disks: the serial of record `index` */
	FS_DISK_PATH,   /* disks: the path of record `index` */
	FS_REC_FRAME,   /* chunk record: the zstd frame */
	FS_PFO_CHUNK,   /* prefetch order: chunk number `index` */
};

struct fix_place {
	uint8_t part, sub;              /* FP_*, FS_* */
	uint16_t type, instance;
	uint32_t index;
	int64_t off;                    /* added last: a field's offset */
};

/* Initialisers of struct fix_place. */
#define AT_FILE(o)              { FP_FILE, FS_START, 0, 0, 0, (o) }
#define AT_HDR(o)               { FP_HEADER, FS_START, 0, 0, 0, (o) }
#define AT_TABLE(o)             { FP_TABLE, FS_START, 0, 0, 0, (o) }
#define AT_TRAILER(o)           { FP_TRAILER, FS_START, 0, 0, 0, (o) }
#define AT_ENT(t, i, o)         { FP_ENTRY, FS_START, (t), (i), 0, (o) }
#define AT_SEC(t, i, o)         { FP_SECTION, FS_START, (t), (i), 0, (o) }
#define AT_SUB(t, i, s, k, o)   { FP_SECTION, (s), (t), (i), (k), (o) }
#define AT_CHUNK(r, k, s, o)    { FP_CHUNK, (s), SEC_MEM_INDEX, (r), (k), (o) }

/* A value written at a place: val, plus the position of rel when rel names a
 * place, plus the current value when add is set; width bytes, little-endian. */
struct fix_edit {
	struct fix_place at, rel;
	uint8_t width;                  /* 1, 2, 4 or 8; 0: no edit */
	uint8_t add;
	uint64_t val;
};

/* Table entry number of section (type, instance) in image f, or -1. */
static __attribute__((unused)) int fix_entry(const uint8_t *f, size_t size, unsigned type,
					    unsigned instance)
{
	uint64_t table, count;

	if (size < IMAGE_HDR_SIZE)
		return -1;
	table = le_get64(f + HDR_TABLE_OFFSET);
	count = le_get32(f + HDR_SECTION_COUNT);
	if (table > size || count > (size - table) / IMAGE_ENTRY_SIZE)
		return -1;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *e = f + table + i * IMAGE_ENTRY_SIZE;

		if (le_get16(e + ENT_TYPE) == type && le_get16(e + ENT_INSTANCE) == instance)
			return (int)i;
	}
	return -1;
}

/* Offset of sub/index inside payload p of len bytes, walking the counted
 * lists before it; -1 when the payload is too short for it. */
static __attribute__((unused)) int64_t fix_sub_off(const uint8_t *p, uint64_t len,
						  unsigned sub, uint32_t index)
{
	uint64_t o = 0;

	if (sub == FS_END)
		return (int64_t)len;
	if (sub >= FS_CFG_DEV && sub <= FS_CFG_CMDLINE) {
		if (len < SEC_VM_CONFIG_FIXED)
			return -1;
		o = SEC_VM_CONFIG_FIXED + (uint64_t)le_get32(p + CFG_NMEM) * SEC_VM_CONFIG_REGION;
		o += sub == FS_CFG_DEV ? (uint64_t)index * SEC_VM_CONFIG_DEV :
		     (uint64_t)le_get32(p + CFG_NDEVS) * SEC_VM_CONFIG_DEV;
	} else if (sub == FS_CFG_REGION) {
		o = SEC_VM_CONFIG_FIXED + (uint64_t)index * SEC_VM_CONFIG_REGION;
	} else if (sub == FS_HOST_MACHINE) {
		if (len < SEC_HOST_FIXED)
			return -1;
		o = SEC_HOST_FIXED + le_get16(p + HST_KREL_LEN);
	} else if (sub == FS_VCPU_REG) {
		o = SEC_VCPU_FIXED;
		for (uint32_t k = 0; k < index; k++) {
			size_t n = o + 8 <= len ? reg_size(le_get64(p + o + VREG_ID)) : 0;

			if (!n)
				return -1;
			o += 8 + n;
		}
	} else if (sub == FS_GIC_REG) {
		o = SEC_GIC_FIXED + (uint64_t)index * SEC_GIC_REG;
	} else if (sub >= FS_DEV && sub <= FS_DEV_BLOB) {
		o = SEC_DEVICES_FIXED;
		for (uint32_t k = 0; k <= index; k++) {
			uint64_t fields;

			if (o + SEC_DEVICE_FIXED > len)
				return -1;
			fields = (uint64_t)le_get32(p + o + DST_NFIELDS) * SEC_DEVICE_FIELD;
			if (k == index)
				o += sub == FS_DEV ? 0 : sub == FS_DEV_FIELDS ? SEC_DEVICE_FIXED :
				     SEC_DEVICE_FIXED + fields;
			else
				o += SEC_DEVICE_FIXED + fields + le_get32(p + o + DST_BLOB_LEN);
		}
	} else if (sub >= FS_DISK && sub <= FS_DISK_PATH) {
		o = SEC_DISKS_FIXED;
		for (uint32_t k = 0; k <= index; k++) {
			uint64_t serial;

			if (o + SEC_DISK_FIXED > len)
				return -1;
			serial = le_get16(p + o + DSK_SERIAL_LEN);
			if (k == index)
				o += sub == FS_DISK ? 0 : sub == FS_DISK_SERIAL ? SEC_DISK_FIXED :
				     SEC_DISK_FIXED + serial;
			else
				o += SEC_DISK_FIXED + serial + le_get16(p + o + DSK_PATH_LEN);
		}
	} else if (sub == FS_MIX_CHUNK) {
		o = SEC_MEM_INDEX_FIXED + (uint64_t)index * SEC_MEM_INDEX_CHUNK;
	} else if (sub == FS_PFO_CHUNK) {
		o = SEC_PREFETCH_FIXED + (uint64_t)index * SEC_PREFETCH_CHUNK;
	} else if (sub == FS_MIX_LAST) {
		if (len < SEC_MEM_INDEX_FIXED || !le_get32(p + MIX_NCHUNKS))
			return -1;
		o = SEC_MEM_INDEX_FIXED + (uint64_t)(le_get32(p + MIX_NCHUNKS) - 1) * SEC_MEM_INDEX_CHUNK;
	} else if (sub == FS_MIX_EMPTY) {
		uint32_t seen = 0;

		for (o = SEC_MEM_INDEX_FIXED; o + SEC_MEM_INDEX_CHUNK <= len; o += SEC_MEM_INDEX_CHUNK)
			if (!le_get64(p + o + CHK_LENGTH) && seen++ == index)
				return (int64_t)o;
		return -1;
	}
	return o <= len ? (int64_t)o : -1;
}

/* File position of place p in image f (size bytes), or -1 when f has no such
 * place; *len (may be NULL) gets the length of the part p lies in. */
static __attribute__((unused)) int64_t fix_locate(const uint8_t *f, size_t size,
						 const struct fix_place *p, uint64_t *len)
{
	uint64_t table, base = 0, plen = size;
	int64_t o = 0;
	int e;

	if (size < IMAGE_HDR_SIZE + IMAGE_TRAILER_SIZE)
		return p->part == FP_FILE ? p->off : -1;
	table = le_get64(f + HDR_TABLE_OFFSET);
	if (table > size - IMAGE_TRAILER_SIZE)
		return -1;
	switch (p->part) {
	case FP_FILE:
		break;
	case FP_HEADER:
		plen = IMAGE_HDR_SIZE;
		break;
	case FP_TABLE:
		base = table;
		plen = size - IMAGE_TRAILER_SIZE - table;
		break;
	case FP_TRAILER:
		base = size - IMAGE_TRAILER_SIZE;
		plen = IMAGE_TRAILER_SIZE;
		break;
	case FP_ENTRY:
	case FP_SECTION:
	case FP_CHUNK:
		e = fix_entry(f, size, p->part == FP_CHUNK ? SEC_MEM_INDEX : p->type, p->instance);
		if (e < 0)
			return -1;
		base = table + (uint64_t)e * IMAGE_ENTRY_SIZE;
		plen = IMAGE_ENTRY_SIZE;
		if (p->part == FP_ENTRY)
			break;
		plen = le_get64(f + base + ENT_LENGTH);
		base = le_get64(f + base + ENT_OFFSET);
		if (base > size || plen > size - base)
			return -1;
		if (p->part == FP_SECTION) {
			o = fix_sub_off(f + base, plen, p->sub, p->index);
			break;
		}
		o = fix_sub_off(f + base, plen, FS_MIX_CHUNK, p->index);
		if (o < 0 || (uint64_t)o + SEC_MEM_INDEX_CHUNK > plen)
			return -1;
		plen = le_get64(f + base + o + CHK_LENGTH);
		base = le_get64(f + base + o + CHK_OFFSET);
		if (base > size || plen > size - base || plen < REC_HEADER)
			return -1;
		o = p->sub == FS_END ? (int64_t)plen : p->sub != FS_REC_FRAME ? 0 :
		    REC_HEADER + 8 * (int64_t)((le_get32(f + base + RECH_PAGES) + 63) / 64);
		break;
	default:
		return -1;
	}
	if (o < 0)
		return -1;
	if (len)
		*len = plen;
	return (int64_t)(base + (uint64_t)o) + p->off;
}

static __attribute__((unused)) uint64_t fix_get(const uint8_t *p, unsigned width)
{
	return width == 1 ? p[0] : width == 2 ? le_get16(p) : width == 4 ? le_get32(p) :
	       le_get64(p);
}

static __attribute__((unused)) void fix_put(uint8_t *p, unsigned width, uint64_t v)
{
	if (width == 1)
		p[0] = (uint8_t)v;
	else if (width == 2)
		le_put16(p, (uint16_t)v);
	else if (width == 4)
		le_put32(p, (uint32_t)v);
	else
		le_put64(p, v);
}

/* Applies edit e to image f; -1 when its places are not in f. */
static __attribute__((unused)) int fix_apply(uint8_t *f, size_t size, const struct fix_edit *e)
{
	int64_t at = fix_locate(f, size, &e->at, NULL), rel = 0;
	uint64_t v = e->val;

	if (e->rel.part != FP_NONE && (rel = fix_locate(f, size, &e->rel, NULL)) < 0)
		return -1;
	if (at < 0 || (uint64_t)at + e->width > size)
		return -1;
	v += (uint64_t)rel + (e->add ? fix_get(f + at, e->width) : 0);
	fix_put(f + at, e->width, v);
	return 0;
}

/* Recomputes every checksum that covers what the n edits changed, innermost
 * first: a chunk's (in its memory index entry), a section's (in its table
 * entry, over the entry's current extent), the table's, the header's. A
 * checksum field that an edit wrote itself is left as written. */
static __attribute__((unused)) void fix_seal(uint8_t *f, size_t size, const struct fix_edit *e,
					    unsigned n)
{
	uint64_t table = le_get64(f + HDR_TABLE_OFFSET), count = le_get32(f + HDR_SECTION_COUNT);
	int tab = 0, hdr = 0;

	for (unsigned k = 0; k < n; k++) {
		const struct fix_place *p = &e[k].at;
		struct fix_place rec = AT_CHUNK(p->instance, p->index, FS_START, 0);
		struct fix_place sum = AT_SUB(SEC_MEM_INDEX, p->instance, FS_MIX_CHUNK, p->index,
					      CHK_CHECKSUM);
		int64_t at, where;
		uint64_t len;

		if (p->part != FP_CHUNK)
			continue;
		at = fix_locate(f, size, &rec, &len);
		where = fix_locate(f, size, &sum, NULL);
		if (at >= 0 && where >= 0)
			le_put64(f + where, checksum64(f + at, len));
	}
	for (unsigned k = 0; k < n; k++) {
		const struct fix_place *p = &e[k].at;
		int i = fix_entry(f, size, p->part == FP_CHUNK ? SEC_MEM_INDEX : p->type,
				  p->instance);
		uint64_t off, len;
		uint8_t *ent;

		tab |= p->part == FP_TABLE || p->part == FP_ENTRY || p->part == FP_SECTION ||
		       p->part == FP_CHUNK;
		hdr |= p->part == FP_HEADER;
		if ((p->part != FP_SECTION && p->part != FP_CHUNK) || i < 0)
			continue;
		ent = f + table + (uint64_t)i * IMAGE_ENTRY_SIZE;
		off = le_get64(ent + ENT_OFFSET);
		len = le_get64(ent + ENT_LENGTH);
		if (off <= size && len <= size - off)
			le_put64(ent + ENT_CHECKSUM, checksum64(f + off, len));
	}
	if (tab && table <= size - IMAGE_TRAILER_SIZE &&
	    count <= (size - IMAGE_TRAILER_SIZE - table) / IMAGE_ENTRY_SIZE)
		le_put64(f + table + count * IMAGE_ENTRY_SIZE + TRL_TABLE_CHECKSUM,
			 checksum64(f + table, count * IMAGE_ENTRY_SIZE));
	if (hdr)
		le_put64(f + HDR_CHECKSUM, checksum64(f, HDR_CHECKSUM));
}

/* f with one more section (type, version 1, flags, instance) before the
 * table, whose payload is the len bytes at payload and whose stored checksum
 * is xored with damage; every other checksum consistent, as a newer writer
 * would make it. Heap; NULL when f's table is not inside it or on
 * allocation failure. */
static __attribute__((unused)) uint8_t *fix_append_section(const uint8_t *f, size_t size,
							  uint16_t type, uint16_t flags,
							  uint16_t instance, const void *payload,
							  size_t len, uint64_t damage, size_t *out)
{
	uint64_t table = le_get64(f + HDR_TABLE_OFFSET);
	uint32_t count = le_get32(f + HDR_SECTION_COUNT);
	size_t tlen = (size_t)(count + 1) * IMAGE_ENTRY_SIZE;
	uint8_t *g, *t, *e;

	if (table > size || tlen - IMAGE_ENTRY_SIZE > size - table)
		return NULL;
	*out = table + len + tlen + IMAGE_TRAILER_SIZE;
	g = calloc(1, *out);
	if (!g)
		return NULL;
	memcpy(g, f, table);
	memcpy(g + table, payload, len);
	t = g + table + len;
	memcpy(t, f + table, tlen - IMAGE_ENTRY_SIZE);
	e = t + tlen - IMAGE_ENTRY_SIZE;
	le_put16(e + ENT_TYPE, type);
	le_put16(e + ENT_VERSION, 1);
	le_put16(e + ENT_FLAGS, flags);
	le_put16(e + ENT_INSTANCE, instance);
	le_put64(e + ENT_OFFSET, table);
	le_put64(e + ENT_LENGTH, len);
	le_put64(e + ENT_CHECKSUM, checksum64(payload, len) ^ damage);
	le_put64(t + tlen + TRL_TABLE_CHECKSUM, checksum64(t, tlen));
	memcpy(t + tlen + TRL_MAGIC, IMAGE_END_MAGIC, IMAGE_MAGIC_LEN);
	le_put32(g + HDR_SECTION_COUNT, count + 1);
	le_put64(g + HDR_TABLE_OFFSET, table + len);
	le_put64(g + HDR_FILE_SIZE, *out);
	le_put64(g + HDR_CHECKSUM, checksum64(g, HDR_CHECKSUM));
	return g;
}

/* fix_append_section of a short text, instance 0: what a newer writer's
 * section of a type this reader does not know looks like. */
static __attribute__((unused)) uint8_t *fix_append(const uint8_t *f, size_t size, uint16_t type,
						  uint16_t flags, uint64_t damage, size_t *out)
{
	static const char payload[] = "from a newer torpor";

	return fix_append_section(f, size, type, flags, 0, payload, sizeof(payload), damage, out);
}

/* A rule of formats/ the reader enforces: up to two edits of a valid image
 * (every checksum resealed with fix_seal), and the code and the message the
 * reader must refuse it with. test_image_corrupt runs each on the fixture;
 * the fuzz seeds hold each as an image, so the fuzzers start next to every
 * check. */
struct fix_refusal {
	const char *name;
	struct fix_edit e[2];
	int expect;
	const char *msg;
	int shallow;            /* refused by image_open even without chunk checks */
	unsigned with;          /* damages the fixture with these (FIX_*) */
};

#define EDIT(place, w, v)       { .at = place, .width = (w), .val = (v) }
#define EDIT_ADD(place, w, v)   { .at = place, .width = (w), .val = (v), .add = 1 }

static const struct fix_refusal fix_refusals[] = {
	{ .name = "major 2 compatible with 1.0", .e = { EDIT(AT_HDR(HDR_VERSION_MAJOR), 2, 2) },
	  .expect = IMG_ECORRUPT, .msg = "but compatible version 1.0 (majors must match)" },
	{ .name = "empty chunk with a checksum",
	  .e = { EDIT(AT_SUB(SEC_MEM_INDEX, 0, FS_MIX_EMPTY, 0, CHK_CHECKSUM), 8,
		      0x2d06800538d394c2ULL) },
	  .expect = IMG_ECORRUPT, .shallow = 1,
	  .msg = "no record, yet checksum 0x2d06800538d394c2 (must be 0)" },
	{ .name = "unknown cap", .e = { EDIT(AT_SEC(SEC_VM_CONFIG, 0, CFG_CAPS), 4, 0x3) },
	  .expect = IMG_ECORRUPT, .msg = "vm config: caps 0x3 has unknown bits (known 0x1)" },
	{ .name = "vcpu power-off feature",
	  .e = { EDIT(AT_SEC(SEC_VM_CONFIG, 0, CFG_VCPU_FEATURES), 4, 0x5) },
	  .expect = IMG_ECORRUPT, .msg = "vm config: vcpu_features word 0 is 0x5, known bits 0x4" },
	{ .name = "feature in the last word",
	  .e = { EDIT(AT_SEC(SEC_VM_CONFIG, 0, CFG_VCPU_FEATURES + 4 * (VCPU_FEATURE_WORDS - 1)),
		      4, 0x1) },
	  .expect = IMG_ECORRUPT, .msg = "vm config: vcpu_features word 6 is 0x1, known bits 0x0" },
	{ .name = "configured device of unknown type",
	  .e = { EDIT(AT_SUB(SEC_VM_CONFIG, 0, FS_CFG_DEV, 1, CDEV_TYPE), 4, 9) },
	  .expect = IMG_ECORRUPT, .msg = "vm config: device 1: type 9 unknown" },
	{ .name = "device SPI beyond the GIC",
	  .e = { EDIT(AT_SUB(SEC_VM_CONFIG, 0, FS_CFG_DEV, 2, CDEV_SPI), 4,
		      GIC_NR_IRQS - IMAGE_GIC_SPI_BASE) },
	  .expect = IMG_ECORRUPT, .msg = "vm config: device 2: SPI 96 beyond the GIC's 96 SPIs" },
	{ .name = "two devices at one base",
	  .e = { EDIT(AT_SUB(SEC_VM_CONFIG, 0, FS_CFG_DEV, 1, CDEV_BASE), 8, UART_BASE) },
	  .expect = IMG_ECORRUPT, .msg = "vm config: devices 0 and 1 overlap (0x9000000 and 0x9000000)" },
	{ .name = "two states for the UART",
	  .e = { EDIT(AT_SUB(SEC_DEVICES, 0, FS_DEV, 1, DST_TYPE), 4, DEV_UART_16550),
		 EDIT(AT_SUB(SEC_DEVICES, 0, FS_DEV, 1, DST_BASE), 8, UART_BASE) },
	  .expect = IMG_ECORRUPT, .msg = "devices: states 0 and 1 are both for vm config device 0" },
	{ .name = "no state for the GPIO",      /* the section loses its last state */
	  .e = { EDIT(AT_SEC(SEC_DEVICES, 0, DEVS_NDEVS), 4, 2),
		 EDIT_ADD(AT_ENT(SEC_DEVICES, 0, ENT_LENGTH), 8,
			  -(uint64_t)(SEC_DEVICE_FIXED + 6 * SEC_DEVICE_FIELD)) },
	  .expect = IMG_ECORRUPT,
	  .msg = "devices: vm config device 2 (type 3 at 0x9030000) has no state" },
	{ .name = "an RTC with a blob",         /* the UART's state, made an RTC */
	  .e = { EDIT(AT_SUB(SEC_VM_CONFIG, 0, FS_CFG_DEV, 0, CDEV_TYPE), 4, DEV_RTC_PL031),
		 EDIT(AT_SUB(SEC_DEVICES, 0, FS_DEV, 0, DST_TYPE), 4, DEV_RTC_PL031) },
	  .expect = IMG_ECORRUPT, .msg = "device 0: 7 blob bytes, a rtc-pl031 has none" },
	{ .name = "a GPIO with a blob",
	  .e = { EDIT(AT_SUB(SEC_VM_CONFIG, 0, FS_CFG_DEV, 0, CDEV_TYPE), 4, DEV_GPIO_PL061),
		 EDIT(AT_SUB(SEC_DEVICES, 0, FS_DEV, 0, DST_TYPE), 4, DEV_GPIO_PL061) },
	  .expect = IMG_ECORRUPT, .msg = "device 0: 7 blob bytes, a gpio-pl061 has none" },
	{ .name = "register of 32-bit arm",    /* MPIDR_EL1's id, KVM_REG_ARM's arch */
	  .e = { EDIT(AT_SUB(SEC_VCPU, 0, FS_VCPU_REG, 2, VREG_ID + 7), 1, 0x40) },
	  .expect = IMG_ECORRUPT,
	  .msg = "vcpu 0: register 2 (id 0x403000000013c005) is not an arm64 register id" },
	{ .name = "register listed twice",     /* MPIDR_EL1 becomes a second PSTATE */
	  .e = { EDIT(AT_SUB(SEC_VCPU, 1, FS_VCPU_REG, 2, VREG_ID), 8, REG_ID_PSTATE) },
	  .expect = IMG_ECORRUPT,
	  .msg = "vcpu 1: registers 1 and 2 have the same id 0x6030000000100042" },
	{ .name = "no PC",                      /* PC becomes x0 */
	  .e = { EDIT(AT_SUB(SEC_VCPU, 0, FS_VCPU_REG, 0, VREG_ID), 8, 0x6030000000100000ULL) },
	  .expect = IMG_ECORRUPT, .msg = "vcpu 0: no PC register (id 0x6030000000100040)" },
	{ .name = "no PSTATE",                  /* PSTATE becomes x1 */
	  .e = { EDIT(AT_SUB(SEC_VCPU, 1, FS_VCPU_REG, 1, VREG_ID), 8, 0x6030000000100002ULL) },
	  .expect = IMG_ECORRUPT, .msg = "vcpu 1: no PSTATE register (id 0x6030000000100042)" },
	{ .name = "MP state halted",
	  .e = { EDIT(AT_SEC(SEC_VCPU, 1, VCPU_MP_STATE), 4, 3) },
	  .expect = IMG_ECORRUPT,
	  .msg = "vcpu 1: MP state 3 (0 runnable, 5 stopped or 10 suspended)" },
	{ .name = "MPIDR differs only outside the affinity", /* the U bit */
	  .e = { EDIT(AT_SEC(SEC_VCPU, 1, VCPU_MPIDR), 8, FIX_MPIDR(0) | 1u << 30) },
	  .expect = IMG_ECORRUPT,
	  .msg = "vcpu 1: MPIDR 0xc0000000 same as vcpu 0's in affinity (0x0)" },
	{ .name = "no vcpu suspended",
	  .e = { EDIT(AT_SEC(SEC_VCPU, 0, VCPU_MP_STATE), 4, IMAGE_MP_STOPPED) },
	  .expect = IMG_ECORRUPT, .msg = "vcpus: none is suspended (MP state 10)" },
	{ .name = "two vcpus suspended",
	  .e = { EDIT(AT_SEC(SEC_VCPU, 1, VCPU_MP_STATE), 4, IMAGE_MP_SUSPENDED) },
	  .expect = IMG_ECORRUPT, .msg = "vcpu 1: suspended as well as vcpu 0" },
	{ .name = "resume on the stopped vcpu",
	  .e = { EDIT(AT_SEC(SEC_PSCI_RESUME, 0, RSM_VCPU), 4, 1) },
	  .expect = IMG_ECORRUPT, .msg = "psci resume: vcpu 1 is not the suspended vcpu 0" },
	{ .name = "resume entry below RAM",
	  .e = { EDIT(AT_SEC(SEC_PSCI_RESUME, 0, RSM_ENTRY), 8, RAM_BASE - MEM_PAGE_SIZE) },
	  .expect = IMG_ECORRUPT, .msg = "psci resume: entry 0x7ffff000 is outside guest RAM" },
	{ .name = "SMC32 resume with a 64-bit context",
	  .e = { EDIT(AT_SEC(SEC_PSCI_RESUME, 0, RSM_SMC64), 4, 0),
		 EDIT(AT_SEC(SEC_PSCI_RESUME, 0, RSM_CONTEXT_ID + 4), 4, 1) },
	  .expect = IMG_ECORRUPT, .msg = "psci resume: SMC32 call with entry 0x" },
	{ .name = "gic group of a GICv2",       /* KVM_DEV_ARM_VGIC_GRP_CPU_REGS */
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 1, GREG_GROUP), 4, 2) },
	  .expect = IMG_ECORRUPT, .msg = "gic register 1: group 2 unknown (1, 5, 6 or 7)" },
	{ .name = "gic ITS group",              /* KVM_DEV_ARM_VGIC_GRP_ITS_REGS */
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 5, GREG_GROUP), 4, 8) },
	  .expect = IMG_ECORRUPT, .msg = "gic register 5: group 8 unknown (1, 5, 6 or 7)" },
	{ .name = "gic 32-bit register with a high half",
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 0, GREG_VALUE + 4), 4, 1) },
	  .expect = IMG_ECORRUPT,
	  .msg = "gic register 0 (group 1 attr 0x0): value 0x100000012 wider than 32 bits" },
	{ .name = "gic distributor attribute with an affinity",
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 1, GREG_ATTR + 4), 4, 1) },
	  .expect = IMG_ECORRUPT,
	  .msg = "gic register 1 (group 1 attr 0x100000104): distributor attribute with affinity 0x1" },
	{ .name = "gic redistributor of no vcpu",
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 3, GREG_ATTR + 4), 4, 5) },
	  .expect = IMG_ECORRUPT,
	  .msg = "gic register 3 (group 5 attr 0x500000014): affinity 0x5 names no vcpu" },
	{ .name = "gic CPU interface of no vcpu",
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 4, GREG_ATTR + 4), 4, 0x01000000) },
	  .expect = IMG_ECORRUPT,
	  .msg = "gic register 4 (group 6 attr 0x10000000000c230): affinity 0x1000000 names no vcpu" },
	{ .name = "gic line levels of no vcpu",
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 5, GREG_ATTR + 4), 4, 2) },
	  .expect = IMG_ECORRUPT,
	  .msg = "gic register 5 (group 7 attr 0x200000020): affinity 0x2 names no vcpu" },
	{ .name = "gic register twice",         /* vCPU 1's GICR_WAKER becomes vCPU 0's */
	  .e = { EDIT(AT_SUB(SEC_GIC, 0, FS_GIC_REG, 3, GREG_ATTR + 4), 4, 0) },
	  .expect = IMG_ECORRUPT, .msg = "gic registers 2 and 3: both group 5 attr 0x14" },
	{ .name = "record longer than its stored pages allow", /* 16 stored, 15 said zero */
	  .e = { EDIT(AT_SUB(SEC_MEM_INDEX, 0, FS_MIX_LAST, 0, CHK_STORED_PAGES), 4, 1),
		 EDIT_ADD(AT_SEC(SEC_MEM_INDEX, 0, MIX_ZERO_PAGES), 8, FIX_LAST_PAGES - 1) },
	  .expect = IMG_ECORRUPT, .msg = " bytes for 1 stored pages" },
	/* The disks section, on the fixture with fix_disks' disks. */
	{ .name = "disk with an unknown flag", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 0, DSK_FLAGS), 4, 0x5) },
	  .expect = IMG_ECORRUPT, .msg = "disk 0: flags 0x5 has unknown bits (known 0x3)" },
	{ .name = "disk of size 0", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 1, DSK_SIZE), 8, 0) },
	  .expect = IMG_ECORRUPT, .msg = "disk 1: size 0 (a non-zero multiple of 512)" },
	{ .name = "disk size not whole sectors", .with = FIX_DISKS,
	  .e = { EDIT_ADD(AT_SUB(SEC_DISKS, 0, FS_DISK, 0, DSK_SIZE), 8, 256) },
	  .expect = IMG_ECORRUPT, .msg = "disk 0: size 1073742080 (a non-zero multiple of 512)" },
	{ .name = "disk mtime_nsec a whole second", .with = FIX_DISKS,
	  .e = { EDIT_ADD(AT_SUB(SEC_DISKS, 0, FS_DISK, 0, DSK_MTIME_NSEC), 4, 1) },
	  .expect = IMG_ECORRUPT, .msg = "disk 0: mtime_nsec 1000000000 (below 1000000000)" },
	{ .name = "disk path relative", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK_PATH, 0, 0), 1, 'v') },
	  .expect = IMG_ECORRUPT, .msg = "disk 0: path is relative (must start with '/')" },
	{ .name = "disk path empty", .with = FIX_DISKS, /* the last record loses its path */
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 1, DSK_PATH_LEN), 2, 0),
		 EDIT_ADD(AT_ENT(SEC_DISKS, 0, ENT_LENGTH), 8,
			  -(uint64_t)(sizeof(FIX_DISK1_PATH) - 1)) },
	  .expect = IMG_ECORRUPT, .msg = "disk 1: empty path" },
	{ .name = "disk path too long", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 1, DSK_PATH_LEN), 2, DISK_PATH_MAX + 1) },
	  .expect = IMG_ECORRUPT, .msg = "disks section, disk 1: path length 4096 (max 4095)" },
	{ .name = "disk path with a NUL", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK_PATH, 1, 4), 1, 0) },
	  .expect = IMG_ECORRUPT, .msg = "disks section, disk 1: NUL byte inside path" },
	{ .name = "disk serial too long", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 0, DSK_SERIAL_LEN), 2, DISK_SERIAL_MAX + 1) },
	  .expect = IMG_ECORRUPT, .msg = "disks section, disk 0: serial length 21 (max 20)" },
	{ .name = "disk serial unprintable", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK_SERIAL, 0, 6), 1, 0x7f) },
	  .expect = IMG_ECORRUPT, .msg = "disk 0: serial byte 6 is 0x7f, not printable ASCII" },
	{ .name = "disk on the UART", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 1, DSK_DEV), 4, 0) },
	  .expect = IMG_ECORRUPT, .msg = "disk 1: vm config device 0 has type 1, not 4 (virtio-blk)" },
	{ .name = "disk on no device", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 0, DSK_DEV), 4, 5) },
	  .expect = IMG_ECORRUPT, .msg = "disk 0: device 5 beyond the vm config's 5 devices" },
	{ .name = "two disks on one device", .with = FIX_DISKS,
	  .e = { EDIT(AT_SUB(SEC_DISKS, 0, FS_DISK, 1, DSK_DEV), 4, 3) },
	  .expect = IMG_ECORRUPT, .msg = "disks: records 0 and 1 are both for vm config device 3" },
	{ .name = "virtio-blk device without a disk", .with = FIX_DISKS, /* the last record goes */
	  .e = { EDIT(AT_SEC(SEC_DISKS, 0, DSKS_NDISKS), 4, 1),
		 EDIT_ADD(AT_ENT(SEC_DISKS, 0, ENT_LENGTH), 8, -(uint64_t)FIX_DISK1_RECORD) },
	  .expect = IMG_ECORRUPT,
	  .msg = "disks: vm config device 4 (virtio-blk at 0xa000200) has no disk record" },
	{ .name = "nine disks", .with = FIX_DISKS,
	  .e = { EDIT(AT_SEC(SEC_DISKS, 0, DSKS_NDISKS), 4, VM_MAX_DISKS + 1) },
	  .expect = IMG_ECORRUPT, .msg = "disks section: 9 disks (1..8)" },
	{ .name = "no disks", .with = FIX_DISKS,
	  .e = { EDIT(AT_SEC(SEC_DISKS, 0, DSKS_NDISKS), 4, 0) },
	  .expect = IMG_ECORRUPT, .msg = "disks section: 0 disks (1..8)" },
	{ .name = "disks section skipped", .with = FIX_DISKS, /* a type a reader skips */
	  .e = { EDIT(AT_ENT(SEC_DISKS, 0, ENT_FLAGS), 2, SECTION_FLAG_OPTIONAL),
		 EDIT(AT_ENT(SEC_DISKS, 0, ENT_TYPE), 2, 99) },
	  .expect = IMG_EMISSING, .msg = "disks section missing" },
	{ .name = "virtio-blk with a blob", .with = FIX_DISKS, /* the UART's state, made one */
	  .e = { EDIT(AT_SUB(SEC_VM_CONFIG, 0, FS_CFG_DEV, 0, CDEV_TYPE), 4, DEV_VIRTIO_BLK),
		 EDIT(AT_SUB(SEC_DEVICES, 0, FS_DEV, 0, DST_TYPE), 4, DEV_VIRTIO_BLK) },
	  .expect = IMG_ECORRUPT, .msg = "device 0: 7 blob bytes, a " },
	{ .name = "disks compatible with 1.0", .with = FIX_DISKS,
	  .e = { EDIT(AT_HDR(HDR_COMPAT_MINOR), 2, 0) },
	  .expect = IMG_ECORRUPT,
	  .msg = "header: compatible version 1.0, but its 5 devices need 1.1" },
	/* The prefetch order, on the fixture with FIX_PREFETCH's: chunks 3, 2,
	 * 1, 0 of region 0. */
	{ .name = "prefetch of a chunk beyond the region", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT(AT_SUB(SEC_PREFETCH, 0, FS_PFO_CHUNK, 0, 0), 4, 99) },
	  .expect = IMG_ECORRUPT, .msg = "prefetch order of region 0: chunk 99 of 4" },
	{ .name = "prefetch of a chunk twice", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT(AT_SUB(SEC_PREFETCH, 0, FS_PFO_CHUNK, 0, 0), 4, 0),
		 EDIT(AT_SUB(SEC_PREFETCH, 0, FS_PFO_CHUNK, 1, 0), 4, 0) },
	  .expect = IMG_ECORRUPT, .msg = "prefetch order of region 0 lists chunk 0 twice" },
	{ .name = "prefetch of no chunk", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT(AT_SEC(SEC_PREFETCH, 0, PFO_COUNT), 4, 0) },
	  .expect = IMG_ECORRUPT, .msg = "prefetch order of region 0: 0 chunks (at least 1)" },
	{ .name = "prefetch count beyond its length", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT_ADD(AT_SEC(SEC_PREFETCH, 0, PFO_COUNT), 4, 1) },
	  .expect = IMG_ECORRUPT,
	  .msg = "prefetch order of region 0: length 24 does not match 5 chunks" },
	{ .name = "prefetch length beyond its count", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT_ADD(AT_SEC(SEC_PREFETCH, 0, PFO_COUNT), 4, (uint32_t)-1) },
	  .expect = IMG_ECORRUPT,
	  .msg = "prefetch order of region 0: length 24 does not match 3 chunks" },
	{ .name = "prefetch with a flag", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT(AT_SEC(SEC_PREFETCH, 0, PFO_FLAGS), 4, 1) },
	  .expect = IMG_ECORRUPT, .msg = "prefetch order of region 0: flags 0x1 (must be 0)" },
	{ .name = "prefetch of a region without an index", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT(AT_ENT(SEC_PREFETCH, 0, ENT_INSTANCE), 2, 1) },
	  .expect = IMG_ECORRUPT, .msg = "prefetch order of region 1, which has no memory index" },
	{ .name = "prefetch of a region beyond the limit", .with = FIX_PREFETCH, .shallow = 1,
	  .e = { EDIT(AT_ENT(SEC_PREFETCH, 0, ENT_INSTANCE), 2, VM_MAX_MEM_REGIONS) },
	  .expect = IMG_ECORRUPT, .msg = "prefetch order instance 4 (max 3)" },
};

#define FIX_NREFUSALS   (sizeof(fix_refusals) / sizeof(fix_refusals[0]))

/* The whole file at path (heap, *size bytes), or NULL. */
static __attribute__((unused)) uint8_t *fix_load(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *f = NULL;
	long n;

	if (fp && fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		*size = (size_t)n;
		f = malloc(*size + 1);
		if (f && fread(f, 1, *size, fp) != *size) {
			free(f);
			f = NULL;
		}
	}
	if (fp)
		fclose(fp);
	return f;
}

/* Replaces the file at path by size bytes of f; 0 or -1. */
static __attribute__((unused)) int fix_store(const char *path, const uint8_t *f, size_t size)
{
	FILE *fp = fopen(path, "wb");
	int rc = fp && fwrite(f, 1, size, fp) == size ? 0 : -1;

	if (fp && fclose(fp))
		rc = -1;
	return rc;
}

#endif
