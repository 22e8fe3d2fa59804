/* test_image_corrupt.c - a valid image damaged every way the table below
 * lists (truncated at every boundary, every header field altered, bytes
 * flipped in every section, table entry and memory chunk, and fields changed
 * behind consistent checksums) must be refused with the expected IMG_E* code
 * and a message naming the place; a few alterations a reader must accept
 * (newer compatible version, optional sections) must still open. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../../src/image/image_int.h"
#include "checksum.h"
#include "image_fixture.h"
#include "le.h"

enum target { T_FILE, T_HEADER, T_SECTION, T_ENTRY, T_TRAILER, T_CHUNK };

enum op {
	OP_TRUNCATE,    /* cut the file at the position */
	OP_FLIP,        /* xor the byte at the position, checksums left stale */
	OP_SET,         /* write val (width bytes) at the position and fix every
			 * checksum that covers it, so only the value is wrong */
};

struct ccase {
	char name[72];
	int op, target;
	unsigned index;         /* section entry or chunk */
	int end;                /* position counts from the target's end */
	int64_t off;
	unsigned width;         /* OP_SET: 2, 4 or 8 */
	uint64_t val;
	int add;                /* OP_SET: val is added to the current value */
	int val_sec;            /* >= 0: val += that section's offset */
	int optional;           /* OP_SET on an entry: also flag it optional */
	int lazy;               /* chunk damage: open without chunk checks,
				 * then image_load_memory must catch it */
	int expect;             /* IMG_E*, or 0: must open and load */
	char msg[80];           /* expected in the error message */
};

/* Where the pristine fixture image has its parts. */
struct layout {
	uint64_t file_size, table_off;
	unsigned nsec, nchunks;
	struct image_section sec[64];
	struct mem_chunk chunk[FIX_PAGES];
};

static void layout_read(const char *path, struct layout *l)
{
	struct image_error err = { 0 };
	struct image *img;

	cr_assert_eq(image_open(&img, path, 1, &err), 0, "pristine image: %s", err.msg);
	cr_assert_leq(img->nsections, 64);
	l->file_size = img->file_size;
	l->nsec = img->nsections;
	l->table_off = l->file_size - IMAGE_TRAILER_SIZE - (uint64_t)l->nsec * IMAGE_ENTRY_SIZE;
	memcpy(l->sec, img->sections, l->nsec * sizeof(l->sec[0]));
	l->nchunks = img->mem[0].idx.nchunks;
	memcpy(l->chunk, img->mem[0].idx.chunks, l->nchunks * sizeof(l->chunk[0]));
	image_close(img);
}

/* The label the reader uses for a section in its messages. */
static void label(const struct image_section *s, char *buf, size_t len)
{
	if (s->type == SEC_VCPU)
		snprintf(buf, len, "vcpu %u section", s->instance);
	else if (s->type == SEC_MEM_INDEX)
		snprintf(buf, len, "memory region %u index", s->instance);
	else
		snprintf(buf, len, "%s section", section_name(s->type));
}

static struct ccase *cases;
static size_t ncases, cap;

static struct ccase *add(const char *name, int op, int target, unsigned index,
			 int64_t off, int expect, const char *msg)
{
	struct ccase *c;

	if (ncases == cap) {
		struct ccase *n = cr_malloc(sizeof(*n) * (cap * 2 + 64));

		if (cases)
			memcpy(n, cases, sizeof(*n) * ncases);
		cr_free(cases);
		cases = n;
		cap = cap * 2 + 64;
	}
	c = &cases[ncases++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->op = op;
	c->target = target;
	c->index = index;
	c->off = off;
	c->expect = expect;
	c->val_sec = -1;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	return c;
}

static struct ccase *set(const char *name, int target, unsigned index, int64_t off,
			 unsigned width, uint64_t val, int expect, const char *msg)
{
	struct ccase *c = add(name, OP_SET, target, index, off, expect, msg);

	c->width = width;
	c->val = val;
	return c;
}

static void truncations(const struct layout *l)
{
	static const struct { uint64_t at; int code; const char *msg; } fixed[] = {
		{ 0, IMG_EMAGIC, "header: file of 0 bytes" },
		{ 7, IMG_EMAGIC, "header: file of 7 bytes" },
		{ 8, IMG_ETRUNCATED, "inside the header" },
		{ 47, IMG_ETRUNCATED, "inside the header" },
	};
	char name[72];

	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(name, sizeof(name), "truncate at %llu", (unsigned long long)fixed[i].at);
		add(name, OP_TRUNCATE, T_FILE, 0, (int64_t)fixed[i].at, fixed[i].code, fixed[i].msg);
	}
	for (unsigned i = 0; i < l->nsec; i++) {
		snprintf(name, sizeof(name), "truncate at start of section %u", i);
		add(name, OP_TRUNCATE, T_SECTION, i, 0, IMG_ETRUNCATED, "header: file is");
		snprintf(name, sizeof(name), "truncate at end of section %u", i);
		add(name, OP_TRUNCATE, T_SECTION, i, 0, IMG_ETRUNCATED, "header: file is")->end = 1;
	}
	for (unsigned i = 0; i < l->nchunks; i++) {
		if (!l->chunk[i].length)
			continue;
		snprintf(name, sizeof(name), "truncate at start of chunk %u", i);
		add(name, OP_TRUNCATE, T_CHUNK, i, 0, IMG_ETRUNCATED, "header: file is");
		snprintf(name, sizeof(name), "truncate at end of chunk %u", i);
		add(name, OP_TRUNCATE, T_CHUNK, i, 0, IMG_ETRUNCATED, "header: file is")->end = 1;
	}
	add("truncate at the section table", OP_TRUNCATE, T_ENTRY, 0, 0, IMG_ETRUNCATED,
	    "header: file is");
	add("truncate at the trailer", OP_TRUNCATE, T_TRAILER, 0, 0, IMG_ETRUNCATED,
	    "header: file is");
	add("truncate the last byte", OP_TRUNCATE, T_TRAILER, 0, -1, IMG_ETRUNCATED,
	    "header: file is")->end = 1;
}

static void header_fields(void)
{
	static const struct { const char *name; unsigned off, width; } fields[] = {
		{ "version major", HDR_VERSION_MAJOR, 2 }, { "version minor", HDR_VERSION_MINOR, 2 },
		{ "compat major", HDR_COMPAT_MAJOR, 2 }, { "compat minor", HDR_COMPAT_MINOR, 2 },
		{ "header size", HDR_HEADER_SIZE, 4 }, { "section count", HDR_SECTION_COUNT, 4 },
		{ "table offset", HDR_TABLE_OFFSET, 8 }, { "file size", HDR_FILE_SIZE, 8 },
		{ "checksum", HDR_CHECKSUM, 8 },
	};
	char name[72];

	for (unsigned i = 0; i < IMAGE_MAGIC_LEN; i++) {
		snprintf(name, sizeof(name), "flip magic byte %u", i);
		add(name, OP_FLIP, T_HEADER, 0, i, IMG_EMAGIC, i < 6 ? "bad magic" : "ELF machine");
	}
	for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (unsigned b = 0; b < fields[i].width; b++) {
			snprintf(name, sizeof(name), "flip header %s byte %u", fields[i].name, b);
			add(name, OP_FLIP, T_HEADER, 0, fields[i].off + b, IMG_ECHECKSUM,
			    "header: checksum mismatch");
		}
	}
	set("x86-64 arch tag", T_HEADER, 0, 6, 2, 62, IMG_EMAGIC, "ELF machine 62");
	set("newer major, compatible", T_HEADER, 0, HDR_VERSION_MAJOR, 2, 2, 0, "");
	set("newer minor, compatible", T_HEADER, 0, HDR_VERSION_MINOR, 2, 7, 0, "");
	set("compat needs 2.0", T_HEADER, 0, HDR_COMPAT_MAJOR, 2, 2, IMG_EVERSION,
	    "needs a reader of 2.0");
	set("compat needs 1.1", T_HEADER, 0, HDR_COMPAT_MINOR, 2, 1, IMG_EVERSION,
	    "needs a reader of 1.1");
	set("compat 0.0", T_HEADER, 0, HDR_COMPAT_MAJOR, 2, 0, IMG_ECORRUPT,
	    "header: compatible version 0.0");
	set("header size 64", T_HEADER, 0, HDR_HEADER_SIZE, 4, 64, IMG_ECORRUPT,
	    "header: header size 64");
	set("no sections", T_HEADER, 0, HDR_SECTION_COUNT, 4, 0, IMG_ECORRUPT, "header: 0 sections");
	set("too many sections", T_HEADER, 0, HDR_SECTION_COUNT, 4, IMAGE_MAX_SECTIONS + 1,
	    IMG_ECORRUPT, "sections (1..256)");
	set("one more section", T_HEADER, 0, HDR_SECTION_COUNT, 4, 1, IMG_ECORRUPT,
	    "does not end the file")->add = 1;
	set("table offset early", T_HEADER, 0, HDR_TABLE_OFFSET, 8, (uint64_t)-32, IMG_ECORRUPT,
	    "does not end the file")->add = 1;
	set("table offset huge", T_HEADER, 0, HDR_TABLE_OFFSET, 8, UINT64_MAX, IMG_ECORRUPT,
	    "does not end the file");
	set("file size larger", T_HEADER, 0, HDR_FILE_SIZE, 8, 1, IMG_ETRUNCATED,
	    "header says")->add = 1;
	set("file size smaller", T_HEADER, 0, HDR_FILE_SIZE, 8, (uint64_t)-1, IMG_ECORRUPT,
	    "1 bytes after the end")->add = 1;
}

static void table_entries(const struct layout *l)
{
	char name[72];

	for (unsigned i = 0; i < l->nsec; i++) {
		snprintf(name, sizeof(name), "flip table entry %u", i);
		add(name, OP_FLIP, T_ENTRY, i, ENT_OFFSET + 1, IMG_ECHECKSUM,
		    "section table: checksum mismatch");
	}
	add("flip trailer checksum", OP_FLIP, T_TRAILER, 0, TRL_TABLE_CHECKSUM, IMG_ECHECKSUM,
	    "section table: checksum mismatch");
	add("flip end marker", OP_FLIP, T_TRAILER, 0, TRL_MAGIC + 3, IMG_ECORRUPT,
	    "trailer: bad end marker");
	/* Entry 1 is the host section, 4 and 5 the vCPUs, 2 the clock. */
	set("unknown required type", T_ENTRY, 1, ENT_TYPE, 2, 99, IMG_EVERSION,
	    "required section type 99");
	set("unknown optional type", T_ENTRY, 1, ENT_TYPE, 2, 99, IMG_EMISSING,
	    "host section missing")->optional = 1;
	set("known type marked optional", T_ENTRY, 1, ENT_FLAGS, 2, SECTION_FLAG_OPTIONAL, 0, "");
	set("newer required version", T_ENTRY, 1, ENT_VERSION, 2, 2, IMG_EVERSION,
	    "type 2 version 2 is unknown");
	set("newer optional version", T_ENTRY, 1, ENT_VERSION, 2, 2, IMG_EMISSING,
	    "host section missing")->optional = 1;
	set("version 0", T_ENTRY, 1, ENT_VERSION, 2, 0, IMG_ECORRUPT, "entry 1: version 0");
	set("unknown flag", T_ENTRY, 1, ENT_FLAGS, 2, 0x8000, IMG_ECORRUPT, "unknown flags 0x8000");
	set("duplicate vcpu", T_ENTRY, 5, ENT_INSTANCE, 2, 0, IMG_ECORRUPT,
	    "entries 4 and 5: both vcpu 0");
	set("vcpu instance beyond max", T_ENTRY, 5, ENT_INSTANCE, 2, 40, IMG_ECORRUPT,
	    "vcpu instance 40");
	set("vcpu 1 renumbered", T_ENTRY, 5, ENT_INSTANCE, 2, 2, IMG_EMISSING,
	    "vcpu 1 section missing");
	set("section beyond the table", T_ENTRY, 2, ENT_OFFSET, 8, l->table_off, IMG_ECORRUPT,
	    "entry 2 (clock): bytes");
	set("section in the header", T_ENTRY, 2, ENT_OFFSET, 8, 8, IMG_ECORRUPT,
	    "outside the data area");
	set("section longer", T_ENTRY, 2, ENT_LENGTH, 8, 1, IMG_ECHECKSUM,
	    "clock section: checksum mismatch")->add = 1;
	set("section length huge", T_ENTRY, 2, ENT_LENGTH, 8, UINT64_MAX - 4, IMG_ECORRUPT,
	    "outside the data area");
	set("section checksum", T_ENTRY, 6, ENT_CHECKSUM, 8, 1, IMG_ECHECKSUM,
	    "gic section: checksum mismatch")->add = 1;
}

static void section_bytes(const struct layout *l)
{
	char name[72], msg[80], lab[48];

	for (unsigned i = 0; i < l->nsec; i++) {
		label(&l->sec[i], lab, sizeof(lab));
		snprintf(msg, sizeof(msg), "%s: checksum mismatch", lab);
		snprintf(name, sizeof(name), "flip first byte of %s", lab);
		add(name, OP_FLIP, T_SECTION, i, 0, IMG_ECHECKSUM, msg);
		snprintf(name, sizeof(name), "flip middle byte of %s", lab);
		add(name, OP_FLIP, T_SECTION, i, (int64_t)(l->sec[i].length / 2), IMG_ECHECKSUM, msg);
		snprintf(name, sizeof(name), "flip last byte of %s", lab);
		add(name, OP_FLIP, T_SECTION, i, -1, IMG_ECHECKSUM, msg)->end = 1;
	}
}

static void chunk_bytes(const struct layout *l)
{
	char name[72], msg[80];

	for (unsigned i = 0; i < l->nchunks; i++) {
		if (!l->chunk[i].length)
			continue;
		snprintf(msg, sizeof(msg), "memory region 0, chunk %u: checksum mismatch", i);
		for (int lazy = 0; lazy <= 1; lazy++) {
			snprintf(name, sizeof(name), "flip first byte of chunk %u%s", i,
				 lazy ? ", lazy" : "");
			add(name, OP_FLIP, T_CHUNK, i, 0, IMG_ECHECKSUM, msg)->lazy = lazy;
			snprintf(name, sizeof(name), "flip middle byte of chunk %u%s", i,
				 lazy ? ", lazy" : "");
			add(name, OP_FLIP, T_CHUNK, i, (int64_t)(l->chunk[i].length / 2),
			    IMG_ECHECKSUM, msg)->lazy = lazy;
			snprintf(name, sizeof(name), "flip last byte of chunk %u%s", i,
				 lazy ? ", lazy" : "");
			add(name, OP_FLIP, T_CHUNK, i, -1, IMG_ECHECKSUM, msg)->lazy = lazy;
			cases[ncases - 1].end = 1;
		}
	}
}

/* Values changed behind consistent checksums: the semantic checks. Section
 * indexes: 0 config, 1 host, 2 clock, 3 resume, 4-5 vCPUs, 6 gic,
 * 7 devices, 8 memory index. */
static void section_fields(void)
{
	set("config 0 vcpus", T_SECTION, 0, 0, 4, 0, IMG_ECORRUPT, "vm config: 0 vCPUs");
	set("config 33 vcpus", T_SECTION, 0, 0, 4, 33, IMG_ECORRUPT, "vm config: 33 vCPUs");
	set("config 3 vcpus", T_SECTION, 0, 0, 4, 3, IMG_EMISSING, "vcpu 2 section missing");
	set("config IPA 64 bits", T_SECTION, 0, 4, 4, 64, IMG_ECORRUPT, "IPA size 64 bits");
	set("config gic v2", T_SECTION, 0, 44, 4, 2, IMG_ECORRUPT, "GIC version 2");
	set("config 100 irqs", T_SECTION, 0, 48, 4, 100, IMG_ECORRUPT, "GIC nr_irqs 100");
	set("config 5 regions", T_SECTION, 0, 52, 4, 5, IMG_ECORRUPT, "5 memory regions");
	set("config 0 regions", T_SECTION, 0, 52, 4, 0, IMG_ECORRUPT, "vm config section");
	set("config 9 devices", T_SECTION, 0, 88, 4, 9, IMG_ECORRUPT, "9 devices");
	set("config cmdline longer", T_SECTION, 0, 92, 4, 1, IMG_ECORRUPT,
	    "vm config section: length")->add = 1;
	set("config cmdline 2048", T_SECTION, 0, 92, 4, 2048, IMG_ECORRUPT, "cmdline length 2048");
	set("config NUL in cmdline", T_SECTION, 0, -1, 1, 0, IMG_ECORRUPT,
	    "NUL byte inside cmdline")->end = 1;
	set("config region unaligned", T_SECTION, 0, 96, 8, 1, IMG_ECORRUPT,
	    "memory region 0: address")->add = 1;
	set("config region beyond IPA", T_SECTION, 0, 96, 8, 1ULL << 40, IMG_ECORRUPT,
	    "beyond the 40-bit IPA")->add = 1;
	set("config region bigger than index", T_SECTION, 0, 104, 8, 4096, IMG_ECORRUPT,
	    "memory region 0 index: 0x80000000+0x310000, vm config says")->add = 1;
	set("host kernel release too long", T_SECTION, 1, 12, 2, 65, IMG_ECORRUPT,
	    "kernel release length 65");
	set("host NUL in machine", T_SECTION, 1, -1, 1, 0, IMG_ECORRUPT,
	    "NUL byte inside machine")->end = 1;
	set("clock frequency 0", T_SECTION, 2, 8, 8, 0, IMG_ECORRUPT, "counter frequency 0");
	set("resume on vcpu 2", T_SECTION, 3, 0, 4, 2, IMG_ECORRUPT, "psci resume: vcpu 2 of 2");
	set("resume smc64 2", T_SECTION, 3, 4, 4, 2, IMG_ECORRUPT, "smc64 2");
	set("vcpu 1 mpidr of vcpu 0", T_SECTION, 5, 0, 8, 0x80000000ULL, IMG_ECORRUPT,
	    "vcpu 1: MPIDR 0x80000000 same as vcpu 0");
	set("vcpu 0 one more register", T_SECTION, 4, 20, 4, 1, IMG_ECORRUPT,
	    "vcpu 0 section")->add = 1;
	set("vcpu 0 register 513 bytes", T_SECTION, 4, SEC_VCPU_FIXED, 8, 0x6090000000000000ULL,
	    IMG_ECORRUPT, "vcpu 0 section: register 0");
	set("vcpu 0 serror flag 2", T_SECTION, 4, 24, 1, 2, IMG_ECORRUPT,
	    "vcpu 0: vcpu event flag");
	set("gic version 4", T_SECTION, 6, 0, 4, 4, IMG_ECORRUPT, "gic: version 4");
	set("gic nr_irqs 256", T_SECTION, 6, 4, 4, 256, IMG_ECORRUPT, "vm config says 3 and 128");
	set("gic one more register", T_SECTION, 6, 8, 4, 1, IMG_ECORRUPT,
	    "gic section: length")->add = 1;
	set("device 0 elsewhere", T_SECTION, 7, 8, 8, 0x1234, IMG_ECORRUPT,
	    "device 0: type 1 at 0x1234 is not in the vm config");
	set("device 1 unknown type", T_SECTION, 7, SEC_DEVICES_FIXED + SEC_DEVICE_FIXED +
	    4 * SEC_DEVICE_FIELD, 4, 9, IMG_ECORRUPT, "device 1: type 9");
	set("9 device states", T_SECTION, 7, 0, 4, 9, IMG_ECORRUPT, "devices section: 9 devices");
	set("device 0 49 fields", T_SECTION, 7, 16, 4, 49, IMG_ECORRUPT,
	    "device 0: 49 fields");
	set("memory page size 8192", T_SECTION, 8, 32, 4, 8192, IMG_ECORRUPT, "page size 8192");
	set("memory 0 chunk pages", T_SECTION, 8, 36, 4, 0, IMG_ECORRUPT, "0 pages per chunk");
	set("memory chunk count", T_SECTION, 8, 40, 4, 1, IMG_ECORRUPT,
	    "memory region 0 index: length")->add = 1;
	set("memory chunk 0 short", T_SECTION, 8, SEC_MEM_INDEX_FIXED + 24, 4, (uint64_t)-1,
	    IMG_ECORRUPT, "memory region 0, chunk 0: 255 pages")->add = 1;
	set("memory zero pages", T_SECTION, 8, 16, 8, 1, IMG_ECORRUPT,
	    "memory region 0 index: 304 stored")->add = 1;
	set("memory chunk 0 over vcpu 0", T_SECTION, 8, SEC_MEM_INDEX_FIXED, 8, 0, IMG_ECORRUPT,
	    "overlaps")->val_sec = 4;
	set("memory chunk 0 over the table", T_SECTION, 8, SEC_MEM_INDEX_FIXED, 8, (uint64_t)-40,
	    IMG_ECORRUPT, "outside the data area")->val_sec = 8;
	set("memory chunk 0 checksum", T_SECTION, 8, SEC_MEM_INDEX_FIXED + 16, 8, 1, IMG_ECHECKSUM,
	    "memory region 0, chunk 0: checksum mismatch")->add = 1;
}

static void free_cases(struct criterion_test_params *p)
{
	cr_free(p->params);
}

ParameterizedTestParameters(corrupt, cases)
{
	char *dir = fix_dir(), path[256];
	struct image_error err = { 0 };
	static struct layout l;

	/* Without a pristine layout the cases still run, and each fails at its
	 * own fix_write or layout_read. */
	if (dir) {
		snprintf(path, sizeof(path), "%s/pristine.img", dir);
		if (fix_write(path, NULL, &err) == 0)
			layout_read(path, &l);
		unlink(path);
		rmdir(dir);
		free(dir);
	}
	truncations(&l);
	header_fields();
	table_entries(&l);
	section_bytes(&l);
	chunk_bytes(&l);
	section_fields();
	return cr_make_param_array(struct ccase, cases, ncases, free_cases);
}

/* File position of the case's target byte, and the target's length. */
static uint64_t position(const struct ccase *c, const struct layout *l)
{
	uint64_t base = 0, len = 0;

	switch (c->target) {
	case T_FILE:
		len = l->file_size;
		break;
	case T_HEADER:
		len = IMAGE_HDR_SIZE;
		break;
	case T_SECTION:
		base = l->sec[c->index].offset;
		len = l->sec[c->index].length;
		break;
	case T_ENTRY:
		base = l->table_off + (uint64_t)c->index * IMAGE_ENTRY_SIZE;
		len = IMAGE_ENTRY_SIZE;
		break;
	case T_TRAILER:
		base = l->file_size - IMAGE_TRAILER_SIZE;
		len = IMAGE_TRAILER_SIZE;
		break;
	case T_CHUNK:
		base = l->chunk[c->index].offset;
		len = l->chunk[c->index].length;
		break;
	}
	return base + (c->end ? len : 0) + (uint64_t)c->off;
}

static uint64_t get_le(const uint8_t *p, unsigned width)
{
	return width == 1 ? p[0] : width == 2 ? le_get16(p) : width == 4 ? le_get32(p) : le_get64(p);
}

static void put_le(uint8_t *p, unsigned width, uint64_t v)
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

/* Recomputes the checksums that cover a changed byte: the section's own (in
 * its table entry), the table's (in the trailer), the header's. */
static void fix_checksums(uint8_t *f, const struct layout *l, const struct ccase *c)
{
	uint8_t *table = f + l->table_off;
	size_t tlen = (size_t)l->nsec * IMAGE_ENTRY_SIZE;

	if (c->target == T_SECTION) {
		const struct image_section *s = &l->sec[c->index];

		le_put64(table + (size_t)c->index * IMAGE_ENTRY_SIZE + ENT_CHECKSUM,
			 checksum64(f + s->offset, s->length));
	}
	if (c->target == T_SECTION || c->target == T_ENTRY)
		le_put64(table + tlen + TRL_TABLE_CHECKSUM, checksum64(table, tlen));
	if (c->target == T_HEADER)
		le_put64(f + HDR_CHECKSUM, checksum64(f, HDR_CHECKSUM));
}

static void apply(const char *path, const struct ccase *c, const struct layout *l)
{
	int fd = open(path, O_RDWR);
	uint8_t *f = malloc(l->file_size);
	uint64_t pos = position(c, l);

	cr_assert(fd >= 0 && f);
	cr_assert_eq(pread(fd, f, l->file_size, 0), (ssize_t)l->file_size);
	if (c->op == OP_TRUNCATE) {
		cr_assert_leq(pos, l->file_size);
		cr_assert_eq(ftruncate(fd, (off_t)pos), 0);
	} else {
		cr_assert_lt(pos + (c->op == OP_SET ? c->width : 1), l->file_size + 1,
			     "case outside the file");
		if (c->op == OP_FLIP) {
			f[pos] ^= 0x5a;
		} else {
			uint64_t v = c->val;

			if (c->val_sec >= 0)
				v += l->sec[c->val_sec].offset;
			if (c->add)
				v += get_le(f + pos, c->width);
			put_le(f + pos, c->width, v);
			if (c->optional)
				le_put16(f + l->table_off + (size_t)c->index * IMAGE_ENTRY_SIZE +
					 ENT_FLAGS, SECTION_FLAG_OPTIONAL);
			fix_checksums(f, l, c);
		}
		cr_assert_eq(pwrite(fd, f, l->file_size, 0), (ssize_t)l->file_size);
	}
	free(f);
	close(fd);
}

/* Opens, reads the state and loads memory; the first failure's code, or 0. */
static int read_all(const char *path, int check_chunks, struct image_error *err)
{
	struct image *img;
	struct vm_state st;
	uint8_t *mem;
	int rc = image_open(&img, path, check_chunks, err);

	if (rc)
		return rc;
	rc = image_read_state(img, &st, err);
	if (!rc) {
		mem = mmap(NULL, FIX_MEM_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		rc = image_load_memory(img, 0, mem, FIX_MEM_SIZE, 2, err);
		munmap(mem, FIX_MEM_SIZE);
		vm_state_free(&st);
	}
	image_close(img);
	return rc;
}

ParameterizedTest(struct ccase *c, corrupt, cases)
{
	char *dir = fix_dir(), path[256];
	struct image_error err = { 0 };
	struct layout *l = calloc(1, sizeof(*l));
	int rc;

	cr_assert(dir && l);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	layout_read(path, l);
	apply(path, c, l);
	if (c->lazy) {
		struct image *img;

		cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s: open without chunk checks: %s",
			     c->name, err.msg);
		image_close(img);
	}
	rc = read_all(path, !c->lazy, &err);
	cr_expect_eq(rc, -c->expect, "%s: expected %s, got %d (%s: %s)", c->name,
		     image_strerror(c->expect), rc, image_strerror(rc), rc ? err.msg : "");
	if (c->expect) {
		cr_expect_eq(err.code, c->expect, "%s", c->name);
		cr_expect(strstr(err.msg, c->msg), "%s: message \"%s\" lacks \"%s\"",
			  c->name, err.msg, c->msg);
	}
	unlink(path);
	rmdir(dir);
	free(dir);
	free(l);
}

/* Rewrites the image at path with one more section (type, flags, payload)
 * between the data and the table, every checksum consistent: what a newer
 * writer would produce. */
static void append_section(const char *path, uint16_t type, uint16_t flags)
{
	static const char payload[] = "from a newer torpor";
	struct layout *l = calloc(1, sizeof(*l));
	size_t plen = sizeof(payload), tlen, size;
	uint8_t *f, *t, *e;
	int fd;

	layout_read(path, l);
	tlen = (size_t)(l->nsec + 1) * IMAGE_ENTRY_SIZE;
	size = l->table_off + plen + tlen + IMAGE_TRAILER_SIZE;
	f = calloc(1, size);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0 && f);
	cr_assert_eq(pread(fd, f, l->table_off, 0), (ssize_t)l->table_off);
	memcpy(f + l->table_off, payload, plen);
	t = f + l->table_off + plen;
	cr_assert_eq(pread(fd, t, tlen - IMAGE_ENTRY_SIZE, l->table_off),
		     (ssize_t)(tlen - IMAGE_ENTRY_SIZE));
	e = t + tlen - IMAGE_ENTRY_SIZE;
	le_put16(e + ENT_TYPE, type);
	le_put16(e + ENT_VERSION, 1);
	le_put16(e + ENT_FLAGS, flags);
	le_put64(e + ENT_OFFSET, l->table_off);
	le_put64(e + ENT_LENGTH, plen);
	le_put64(e + ENT_CHECKSUM, checksum64(payload, plen));
	le_put64(t + tlen + TRL_TABLE_CHECKSUM, checksum64(t, tlen));
	memcpy(t + tlen + TRL_MAGIC, IMAGE_END_MAGIC, IMAGE_MAGIC_LEN);
	le_put32(f + HDR_SECTION_COUNT, l->nsec + 1);
	le_put64(f + HDR_TABLE_OFFSET, l->table_off + plen);
	le_put64(f + HDR_FILE_SIZE, size);
	le_put64(f + HDR_CHECKSUM, checksum64(f, HDR_CHECKSUM));
	cr_assert_eq(pwrite(fd, f, size, 0), (ssize_t)size);
	close(fd);
	free(f);
	free(l);
}

/* Writes the fixture, appends a section of type 42 and reads it all. */
static int read_with_new_section(uint16_t flags, struct image_error *err)
{
	char *dir = fix_dir(), path[256];
	int rc;

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	cr_assert_eq(fix_write(path, NULL, err), 0, "%s", err->msg);
	append_section(path, 42, flags);
	rc = read_all(path, 1, err);
	unlink(path);
	rmdir(dir);
	free(dir);
	return rc;
}

Test(corrupt, new_optional_section_is_skipped)
{
	struct image_error err = { 0 };

	cr_expect_eq(read_with_new_section(SECTION_FLAG_OPTIONAL, &err), 0, "%s", err.msg);
}

Test(corrupt, new_required_section_is_refused)
{
	struct image_error err = { 0 };

	cr_expect_eq(read_with_new_section(0, &err), -IMG_EVERSION);
	cr_expect(strstr(err.msg, "entry 9: required section type 42"), "%s", err.msg);
}
