/* test_image_corrupt.c - a valid image damaged every way the tables below
 * list (truncated at every boundary, every header field altered, named fields
 * flipped in every section, table entry and memory chunk record, and fields
 * changed behind consistent checksums) must be refused with the expected
 * IMG_E* code and a message naming the place; a few alterations a reader must
 * accept (newer compatible version, optional sections) must still open.
 * Every place is found by parsing the written image's own header and section
 * table (image_fixture.h), by section type and instance. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../../src/image/image_int.h"
#include "image_fixture.h"

enum op {
	OP_TRUNCATE,    /* cut the file at the place */
	OP_FLIP,        /* xor the byte at the place, checksums left stale */
	OP_SET,         /* apply the edits and fix every checksum that covers
			 * them, so only the values are wrong */
};

struct ccase {
	char name[80];
	int op;
	struct fix_edit e[2];   /* OP_TRUNCATE and OP_FLIP use e[0].at only */
	int lazy;               /* chunk damage: open without chunk checks,
				 * then image_load_memory must catch it */
	int shallow;            /* image_open without chunk checks refuses it */
	unsigned with;          /* on the fixture with these (FIX_*) */
	int expect;             /* IMG_E*, or 0: must open and load */
	char msg[112];          /* expected in the error message */
};

/* The pristine fixture image, parsed from its bytes: its sections in table
 * order and which chunks of region 0 have a record. */
static struct {
	unsigned nsec, nchunks;
	uint16_t type[64], instance[64];
	uint8_t record[64];
} pristine;

static void pristine_read(const char *path)
{
	struct fix_place mix = AT_SEC(SEC_MEM_INDEX, 0, 0);
	size_t size;
	uint8_t *f = fix_load(path, &size);
	int64_t at;

	cr_assert_not_null(f);
	pristine.nsec = le_get32(f + HDR_SECTION_COUNT);
	cr_assert_leq(pristine.nsec, 64);
	for (unsigned i = 0; i < pristine.nsec; i++) {
		const uint8_t *e = f + le_get64(f + HDR_TABLE_OFFSET) + i * IMAGE_ENTRY_SIZE;

		pristine.type[i] = le_get16(e + ENT_TYPE);
		pristine.instance[i] = le_get16(e + ENT_INSTANCE);
	}
	at = fix_locate(f, size, &mix, NULL);
	cr_assert_geq(at, 0);
	pristine.nchunks = le_get32(f + at + MIX_NCHUNKS);
	cr_assert_leq(pristine.nchunks, 64);
	for (unsigned k = 0; k < pristine.nchunks; k++)
		pristine.record[k] = le_get64(f + at + SEC_MEM_INDEX_FIXED +
					      k * SEC_MEM_INDEX_CHUNK + CHK_LENGTH) != 0;
	free(f);
}

/* Table entry number of (type, instance) in the pristine image. */
static int entry(unsigned type, unsigned instance)
{
	for (unsigned i = 0; i < pristine.nsec; i++)
		if (pristine.type[i] == type && pristine.instance[i] == instance)
			return (int)i;
	return -1;
}

/* The label the reader uses for a section in its messages. */
static void label(unsigned type, unsigned instance, char *buf, size_t len)
{
	if (type == SEC_VCPU)
		snprintf(buf, len, "vcpu %u section", instance);
	else if (type == SEC_MEM_INDEX)
		snprintf(buf, len, "memory region %u index", instance);
	else
		snprintf(buf, len, "%s section", section_name(type));
}

/* A message with computed parts; valid until the next call. */
static const char *msgf(const char *fmt, ...)
{
	static char buf[112];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

#define HDR(o)                  ((struct fix_place)AT_HDR(o))
#define FILEPOS(o)              ((struct fix_place)AT_FILE(o))
#define TABLE(o)                ((struct fix_place)AT_TABLE(o))
#define TRAILER(o)              ((struct fix_place)AT_TRAILER(o))
#define ENT(t, i, o)            ((struct fix_place)AT_ENT(t, i, o))
#define SEC(t, i, o)            ((struct fix_place)AT_SEC(t, i, o))
#define SUB(t, i, s, k, o)      ((struct fix_place)AT_SUB(t, i, s, k, o))
#define CHUNK(k, s, o)          ((struct fix_place)AT_CHUNK(0, k, s, o))

static struct ccase *cases;
static size_t ncases, cap;

static struct ccase *add(const char *name, int op, struct fix_place at, int expect,
			 const char *msg)
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
	c->e[0].at = at;
	c->expect = expect;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	return c;
}

static struct ccase *set(const char *name, struct fix_place at, unsigned width, uint64_t val,
			 int expect, const char *msg)
{
	struct ccase *c = add(name, OP_SET, at, expect, msg);

	c->e[0].width = (uint8_t)width;
	c->e[0].val = val;
	return c;
}

/* Adds a second edit to c, applied after the first. */
static struct ccase *also(struct ccase *c, struct fix_place at, unsigned width, uint64_t val)
{
	c->e[1].at = at;
	c->e[1].width = (uint8_t)width;
	c->e[1].val = val;
	return c;
}

static struct ccase *added(struct ccase *c)
{
	c->e[0].add = 1;
	return c;
}

static void truncations(void)
{
	static const struct { int64_t at; int code; const char *msg; } fixed[] = {
		{ 0, IMG_EMAGIC, "header: file of 0 bytes" },
		{ IMAGE_MAGIC_LEN - 1, IMG_EMAGIC, "header: file of 7 bytes" },
		{ IMAGE_MAGIC_LEN, IMG_ETRUNCATED, "inside the header" },
		{ IMAGE_HDR_SIZE - 1, IMG_ETRUNCATED, "inside the header" },
	};
	char name[80], lab[48];

	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(name, sizeof(name), "truncate at %lld", (long long)fixed[i].at);
		add(name, OP_TRUNCATE, FILEPOS(fixed[i].at), fixed[i].code, fixed[i].msg);
	}
	for (unsigned i = 0; i < pristine.nsec; i++) {
		unsigned t = pristine.type[i], n = pristine.instance[i];

		label(t, n, lab, sizeof(lab));
		snprintf(name, sizeof(name), "truncate at start of %s", lab);
		add(name, OP_TRUNCATE, SEC(t, n, 0), IMG_ETRUNCATED, "header: file is");
		snprintf(name, sizeof(name), "truncate at end of %s", lab);
		add(name, OP_TRUNCATE, SUB(t, n, FS_END, 0, 0), IMG_ETRUNCATED, "header: file is");
	}
	for (unsigned k = 0; k < pristine.nchunks; k++) {
		if (!pristine.record[k])
			continue;
		snprintf(name, sizeof(name), "truncate at start of chunk %u", k);
		add(name, OP_TRUNCATE, CHUNK(k, FS_START, 0), IMG_ETRUNCATED, "header: file is");
		snprintf(name, sizeof(name), "truncate at end of chunk %u", k);
		add(name, OP_TRUNCATE, CHUNK(k, FS_END, 0), IMG_ETRUNCATED, "header: file is");
	}
	add("truncate at the section table", OP_TRUNCATE, TABLE(0), IMG_ETRUNCATED,
	    "header: file is");
	add("truncate at the trailer", OP_TRUNCATE, TRAILER(0), IMG_ETRUNCATED, "header: file is");
	add("truncate the last byte", OP_TRUNCATE, TRAILER(IMAGE_TRAILER_SIZE - 1), IMG_ETRUNCATED,
	    "header: file is");
}

static void header_fields(void)
{
	static const struct { const char *name; unsigned off, width; } fields[] = {
		{ "version major", HDR_VERSION_MAJOR, 2 }, { "version minor", HDR_VERSION_MINOR, 2 },
		{ "compat major", HDR_COMPAT_MAJOR, 2 }, { "compat minor", HDR_COMPAT_MINOR, 3 },
		{ "header size", HDR_HEADER_SIZE, 4 }, { "section count", HDR_SECTION_COUNT, 4 },
		{ "table offset", HDR_TABLE_OFFSET, 8 }, { "file size", HDR_FILE_SIZE, 8 },
		{ "checksum", HDR_CHECKSUM, 8 },
	};
	char name[80];

	for (unsigned i = 0; i < IMAGE_MAGIC_LEN; i++) {
		snprintf(name, sizeof(name), "flip magic byte %u", i);
		add(name, OP_FLIP, HDR(HDR_MAGIC + i), IMG_EMAGIC, i < 6 ? "bad magic" : "ELF machine");
	}
	for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (unsigned b = 0; b < fields[i].width; b++) {
			snprintf(name, sizeof(name), "flip header %s byte %u", fields[i].name, b);
			add(name, OP_FLIP, HDR(fields[i].off + b), IMG_ECHECKSUM,
			    "header: checksum mismatch");
		}
	}
	set("x86-64 arch tag", HDR(HDR_MAGIC + 6), 2, 62, IMG_EMAGIC, "ELF machine 62");
	also(set("newer major, compat 2.0", HDR(HDR_VERSION_MAJOR), 2, 2, IMG_EVERSION,
		 "needs a reader of 2.0"), HDR(HDR_COMPAT_MAJOR), 2, 2);
	set("newer minor, compatible", HDR(HDR_VERSION_MINOR), 2, 7, 0, "");
	set("compat needs 2.0", HDR(HDR_COMPAT_MAJOR), 2, 2, IMG_EVERSION,
	    "needs a reader of 2.0");
	set("compat needs 1.5", HDR(HDR_COMPAT_MINOR), 2, 5, IMG_EVERSION,
	    "needs a reader of 1.5");
	set("compat 1.4", HDR(HDR_COMPAT_MINOR), 2, 4, 0, "");
	set("a 1.0 image", HDR(HDR_VERSION_MINOR), 2, 0, 0, "");
	set("compat 0.0", HDR(HDR_COMPAT_MAJOR), 2, 0, IMG_ECORRUPT,
	    "header: compatible version 0.0");
	set("header size 64", HDR(HDR_HEADER_SIZE), 4, 64, IMG_ECORRUPT, "header: header size 64");
	set("no sections", HDR(HDR_SECTION_COUNT), 4, 0, IMG_ECORRUPT, "header: 0 sections");
	set("too many sections", HDR(HDR_SECTION_COUNT), 4, IMAGE_MAX_SECTIONS + 1, IMG_ECORRUPT,
	    msgf("sections (1..%u)", IMAGE_MAX_SECTIONS));
	added(set("one more section", HDR(HDR_SECTION_COUNT), 4, 1, IMG_ECORRUPT,
		  "does not end the file"));
	added(set("table offset early", HDR(HDR_TABLE_OFFSET), 8, (uint64_t)-IMAGE_ENTRY_SIZE,
		  IMG_ECORRUPT, "does not end the file"));
	set("table offset huge", HDR(HDR_TABLE_OFFSET), 8, UINT64_MAX, IMG_ECORRUPT,
	    "does not end the file");
	added(set("file size larger", HDR(HDR_FILE_SIZE), 8, 1, IMG_ETRUNCATED, "header says"));
	added(set("file size smaller", HDR(HDR_FILE_SIZE), 8, (uint64_t)-1, IMG_ECORRUPT,
		  "1 bytes after the end"));
}

static void table_entries(void)
{
	int host = entry(SEC_HOST, 0), v0 = entry(SEC_VCPU, 0), v1 = entry(SEC_VCPU, 1);
	int clock = entry(SEC_CLOCK, 0);
	char name[80], lab[48];

	for (unsigned i = 0; i < pristine.nsec; i++) {
		label(pristine.type[i], pristine.instance[i], lab, sizeof(lab));
		snprintf(name, sizeof(name), "flip table entry of %s", lab);
		add(name, OP_FLIP, ENT(pristine.type[i], pristine.instance[i], ENT_OFFSET + 1),
		    IMG_ECHECKSUM, "section table: checksum mismatch");
	}
	add("flip trailer checksum", OP_FLIP, TRAILER(TRL_TABLE_CHECKSUM), IMG_ECHECKSUM,
	    "section table: checksum mismatch");
	add("flip end marker", OP_FLIP, TRAILER(TRL_MAGIC + 3), IMG_ECORRUPT,
	    "trailer: bad end marker");
	set("unknown required type", ENT(SEC_HOST, 0, ENT_TYPE), 2, 99, IMG_EVERSION,
	    "required section type 99");
	also(set("unknown optional type", ENT(SEC_HOST, 0, ENT_FLAGS), 2, SECTION_FLAG_OPTIONAL,
		 IMG_EMISSING, "host section missing"), ENT(SEC_HOST, 0, ENT_TYPE), 2, 99);
	set("known type marked optional", ENT(SEC_HOST, 0, ENT_FLAGS), 2, SECTION_FLAG_OPTIONAL,
	    0, "");
	set("newer required version", ENT(SEC_HOST, 0, ENT_VERSION), 2, 2, IMG_EVERSION,
	    msgf("type %u version 2 is unknown", SEC_HOST));
	also(set("newer optional version", ENT(SEC_HOST, 0, ENT_FLAGS), 2, SECTION_FLAG_OPTIONAL,
		 IMG_EMISSING, "host section missing"), ENT(SEC_HOST, 0, ENT_VERSION), 2, 2);
	set("version 0", ENT(SEC_HOST, 0, ENT_VERSION), 2, 0, IMG_ECORRUPT,
	    msgf("entry %d: version 0", host));
	set("unknown flag", ENT(SEC_HOST, 0, ENT_FLAGS), 2, 0x8000, IMG_ECORRUPT,
	    "unknown flags 0x8000");
	set("duplicate vcpu", ENT(SEC_VCPU, 1, ENT_INSTANCE), 2, 0, IMG_ECORRUPT,
	    msgf("entries %d and %d: both vcpu 0", v0 < v1 ? v0 : v1, v0 < v1 ? v1 : v0));
	set("vcpu instance beyond max", ENT(SEC_VCPU, 1, ENT_INSTANCE), 2, 40, IMG_ECORRUPT,
	    "vcpu instance 40");
	set("vcpu 1 renumbered", ENT(SEC_VCPU, 1, ENT_INSTANCE), 2, 2, IMG_EMISSING,
	    "vcpu 1 section missing");
	set("section beyond the table", ENT(SEC_CLOCK, 0, ENT_OFFSET), 8, 0, IMG_ECORRUPT,
	    msgf("entry %d (clock): bytes", clock))->e[0].rel = TABLE(0);
	set("section in the header", ENT(SEC_CLOCK, 0, ENT_OFFSET), 8, IMAGE_MAGIC_LEN,
	    IMG_ECORRUPT, "outside the data area");
	added(set("section longer", ENT(SEC_CLOCK, 0, ENT_LENGTH), 8, 1, IMG_ECHECKSUM,
		  "clock section: checksum mismatch"));
	set("section length huge", ENT(SEC_CLOCK, 0, ENT_LENGTH), 8, UINT64_MAX - 4, IMG_ECORRUPT,
	    "outside the data area");
	added(set("section checksum", ENT(SEC_GIC, 0, ENT_CHECKSUM), 8, 1, IMG_ECHECKSUM,
		  "gic section: checksum mismatch"));
}

/* Named fields to flip in each section's payload, besides its first and
 * last byte; a flip anywhere in a payload must fail its checksum. */
static const struct {
	uint16_t type;
	uint8_t sub;
	uint32_t index;
	int64_t off;
	const char *field;
} named_fields[] = {
	{ SEC_VM_CONFIG, FS_START, 0, CFG_NMEM, "nmem" },
	{ SEC_VM_CONFIG, FS_CFG_REGION, 0, RGN_SIZE, "region 0 size" },
	{ SEC_VM_CONFIG, FS_CFG_DEV, 2, CDEV_BASE, "device 2 base" },
	{ SEC_VM_CONFIG, FS_CFG_CMDLINE, 0, 0, "cmdline" },
	{ SEC_HOST, FS_START, 0, HST_PAGE_SIZE, "page size" },
	{ SEC_HOST, FS_HOST_MACHINE, 0, 0, "machine" },
	{ SEC_CLOCK, FS_START, 0, CLK_FREQ, "counter_freq" },
	{ SEC_PSCI_RESUME, FS_START, 0, RSM_ENTRY, "entry" },
	{ SEC_VCPU, FS_START, 0, VCPU_MP_STATE, "mp_state" },
	{ SEC_VCPU, FS_VCPU_REG, 4, VREG_VALUE, "register 4 value" },
	{ SEC_GIC, FS_START, 0, GICS_NREGS, "nregs" },
	{ SEC_GIC, FS_GIC_REG, 3, GREG_ATTR, "register 3 attr" },
	{ SEC_DEVICES, FS_DEV, 1, DST_BASE, "state 1 base" },
	{ SEC_DEVICES, FS_DEV_FIELDS, 2, 3 * SEC_DEVICE_FIELD + DFLD_VALUE, "state 2 field 3" },
	{ SEC_MEM_INDEX, FS_START, 0, MIX_CHUNK_PAGES, "chunk_pages" },
	{ SEC_MEM_INDEX, FS_MIX_CHUNK, 3, CHK_CHECKSUM, "chunk 3 checksum" },
};

static void section_bytes(void)
{
	char name[80], msg[80], lab[48];

	for (unsigned i = 0; i < pristine.nsec; i++) {
		unsigned t = pristine.type[i], n = pristine.instance[i];

		label(t, n, lab, sizeof(lab));
		snprintf(msg, sizeof(msg), "%s: checksum mismatch", lab);
		snprintf(name, sizeof(name), "flip first byte of %s", lab);
		add(name, OP_FLIP, SEC(t, n, 0), IMG_ECHECKSUM, msg);
		for (unsigned f = 0; f < sizeof(named_fields) / sizeof(named_fields[0]); f++) {
			if (named_fields[f].type != t)
				continue;
			snprintf(name, sizeof(name), "flip %s of %s", named_fields[f].field, lab);
			add(name, OP_FLIP, SUB(t, n, named_fields[f].sub, named_fields[f].index,
					       named_fields[f].off), IMG_ECHECKSUM, msg);
		}
		snprintf(name, sizeof(name), "flip last byte of %s", lab);
		add(name, OP_FLIP, SUB(t, n, FS_END, 0, -1), IMG_ECHECKSUM, msg);
	}
}

/* A flip anywhere in a chunk record must fail the record's checksum, at open
 * with chunk checks and when a lazy reader loads it. */
static void chunk_bytes(void)
{
	static const struct { uint8_t sub; int64_t off; const char *field; } fields[] = {
		{ FS_START, RECH_MAGIC, "magic" }, { FS_START, RECH_CHUNK, "chunk number" },
		{ FS_START, RECH_STORED_PAGES, "stored pages" }, { FS_START, RECH_BITMAP, "bitmap" },
		{ FS_REC_FRAME, 0, "frame magic" }, { FS_END, -1, "frame's last byte" },
	};
	char name[80], msg[80];

	for (unsigned k = 0; k < pristine.nchunks; k++) {
		if (!pristine.record[k])
			continue;
		snprintf(msg, sizeof(msg), "memory region 0, chunk %u: checksum mismatch", k);
		for (int lazy = 0; lazy <= 1; lazy++) {
			for (unsigned f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
				snprintf(name, sizeof(name), "flip %s of chunk %u%s", fields[f].field,
					 k, lazy ? ", lazy" : "");
				add(name, OP_FLIP, CHUNK(k, fields[f].sub, fields[f].off),
				    IMG_ECHECKSUM, msg)->lazy = lazy;
			}
		}
	}
}

/* Values changed behind consistent checksums: the semantic checks. */
static void section_fields(void)
{
	const uint32_t C = SEC_VM_CONFIG;

	set("config 0 vcpus", SEC(C, 0, CFG_NCPUS), 4, 0, IMG_ECORRUPT, "vm config: 0 vCPUs");
	set("config 33 vcpus", SEC(C, 0, CFG_NCPUS), 4, TORPOR_MAX_CPUS + 1, IMG_ECORRUPT,
	    msgf("vm config: %u vCPUs", TORPOR_MAX_CPUS + 1));
	set("config 3 vcpus", SEC(C, 0, CFG_NCPUS), 4, 3, IMG_EMISSING, "vcpu 2 section missing");
	set("config IPA 64 bits", SEC(C, 0, CFG_IPA_BITS), 4, 64, IMG_ECORRUPT, "IPA size 64 bits");
	set("config gic v2", SEC(C, 0, CFG_GIC_VERSION), 4, 2, IMG_ECORRUPT, "GIC version 2");
	set("config 100 irqs", SEC(C, 0, CFG_GIC_NR_IRQS), 4, 100, IMG_ECORRUPT, "GIC nr_irqs 100");
	set("config 5 regions", SEC(C, 0, CFG_NMEM), 4, VM_MAX_MEM_REGIONS + 1, IMG_ECORRUPT,
	    msgf("%u memory regions", VM_MAX_MEM_REGIONS + 1));
	set("config 0 regions", SEC(C, 0, CFG_NMEM), 4, 0, IMG_ECORRUPT, "vm config section");
	set("config 17 devices", SEC(C, 0, CFG_NDEVS), 4, VM_MAX_DEVICES + 1, IMG_ECORRUPT,
	    msgf("%u devices", VM_MAX_DEVICES + 1));
	added(set("config cmdline longer", SEC(C, 0, CFG_CMDLINE_LEN), 4, 1, IMG_ECORRUPT,
		  "vm config section: length"));
	set("config cmdline 2048", SEC(C, 0, CFG_CMDLINE_LEN), 4, VM_CMDLINE_MAX, IMG_ECORRUPT,
	    msgf("cmdline length %u", VM_CMDLINE_MAX));
	set("config NUL in cmdline", SUB(C, 0, FS_CFG_CMDLINE, 0, 0), 1, 0, IMG_ECORRUPT,
	    "NUL byte inside cmdline");
	added(set("config region unaligned", SUB(C, 0, FS_CFG_REGION, 0, RGN_GUEST_ADDR), 8, 1,
		  IMG_ECORRUPT, "memory region 0: address"));
	added(set("config region beyond IPA", SUB(C, 0, FS_CFG_REGION, 0, RGN_GUEST_ADDR), 8,
		  1ULL << IPA_BITS, IMG_ECORRUPT, msgf("beyond the %u-bit IPA", IPA_BITS)));
	added(set("config region bigger than index", SUB(C, 0, FS_CFG_REGION, 0, RGN_SIZE), 8,
		  MEM_PAGE_SIZE, IMG_ECORRUPT,
		  msgf("memory region 0 index: 0x%llx+0x%llx, vm config says",
		       (unsigned long long)RAM_BASE, (unsigned long long)FIX_MEM_SIZE)));
	set("host kernel release too long", SEC(SEC_HOST, 0, HST_KREL_LEN), 2, 65, IMG_ECORRUPT,
	    "kernel release length 65");
	set("host NUL in machine", SUB(SEC_HOST, 0, FS_HOST_MACHINE, 0, 0), 1, 0, IMG_ECORRUPT,
	    "NUL byte inside machine");
	set("clock frequency 0", SEC(SEC_CLOCK, 0, CLK_FREQ), 8, 0, IMG_ECORRUPT,
	    "counter frequency 0");
	set("resume on vcpu 2", SEC(SEC_PSCI_RESUME, 0, RSM_VCPU), 4, 2, IMG_ECORRUPT,
	    "psci resume: vcpu 2 of 2");
	set("resume smc64 2", SEC(SEC_PSCI_RESUME, 0, RSM_SMC64), 4, 2, IMG_ECORRUPT, "smc64 2");
	set("vcpu 1 mpidr of vcpu 0", SEC(SEC_VCPU, 1, VCPU_MPIDR), 8, FIX_MPIDR(0), IMG_ECORRUPT,
	    msgf("vcpu 1: MPIDR 0x%llx same as vcpu 0", (unsigned long long)FIX_MPIDR(0)));
	added(set("vcpu 0 one more register", SEC(SEC_VCPU, 0, VCPU_NREGS), 4, 1, IMG_ECORRUPT,
		  "vcpu 0 section"));
	set("vcpu 0 register 513 bytes", SUB(SEC_VCPU, 0, FS_VCPU_REG, 0, VREG_ID), 8,
	    0x6090000000000000ULL, IMG_ECORRUPT, "vcpu 0 section: register 0");
	set("vcpu 0 serror flag 2", SEC(SEC_VCPU, 0, VCPU_SERROR_PENDING), 1, 2, IMG_ECORRUPT,
	    "vcpu 0: vcpu event flag");
	set("vcpu 1 runnable", SEC(SEC_VCPU, 1, VCPU_MP_STATE), 4, IMAGE_MP_RUNNABLE, 0, "");
	set("resume entry at RAM's last word", SEC(SEC_PSCI_RESUME, 0, RSM_ENTRY), 8,
	    RAM_BASE + FIX_MEM_SIZE - 4, 0, "");
	set("resume entry just past RAM", SEC(SEC_PSCI_RESUME, 0, RSM_ENTRY), 8,
	    RAM_BASE + FIX_MEM_SIZE, IMG_ECORRUPT,
	    msgf("psci resume: entry 0x%llx is outside guest RAM",
		 (unsigned long long)RAM_BASE + FIX_MEM_SIZE));
	set("SMC32 resume", SEC(SEC_PSCI_RESUME, 0, RSM_SMC64), 4, 0, 0, "");
	set("gic version 4", SEC(SEC_GIC, 0, GICS_VERSION), 4, 4, IMG_ECORRUPT, "gic: version 4");
	set("gic nr_irqs 256", SEC(SEC_GIC, 0, GICS_NR_IRQS), 4, 256, IMG_ECORRUPT,
	    msgf("vm config says 3 and %u", GIC_NR_IRQS));
	set("gic 64-bit CPU interface value", SUB(SEC_GIC, 0, FS_GIC_REG, 4, GREG_VALUE + 4), 4, 1,
	    0, "");
	added(set("gic one more register", SEC(SEC_GIC, 0, GICS_NREGS), 4, 1, IMG_ECORRUPT,
		  "gic section: length"));
	set("device SPI the GIC's last", SUB(C, 0, FS_CFG_DEV, 2, CDEV_SPI), 4,
	    GIC_NR_IRQS - IMAGE_GIC_SPI_BASE - 1, 0, "");
	set("device 0 elsewhere", SUB(SEC_DEVICES, 0, FS_DEV, 0, DST_BASE), 8, 0x1234,
	    IMG_ECORRUPT, "device 0: type 1 at 0x1234 is not in the vm config");
	set("device 1 unknown type", SUB(SEC_DEVICES, 0, FS_DEV, 1, DST_TYPE), 4, 9, IMG_ECORRUPT,
	    "device 1: type 9");
	set("17 device states", SEC(SEC_DEVICES, 0, DEVS_NDEVS), 4, VM_MAX_DEVICES + 1,
	    IMG_ECORRUPT, msgf("devices section: %u devices", VM_MAX_DEVICES + 1));
	set("device 0 49 fields", SUB(SEC_DEVICES, 0, FS_DEV, 0, DST_NFIELDS), 4,
	    DEV_MAX_FIELDS + 1, IMG_ECORRUPT, msgf("device 0: %u fields", DEV_MAX_FIELDS + 1));
	set("memory page size 8192", SEC(SEC_MEM_INDEX, 0, MIX_PAGE_SIZE), 4, 8192, IMG_ECORRUPT,
	    "page size 8192");
	set("memory 0 chunk pages", SEC(SEC_MEM_INDEX, 0, MIX_CHUNK_PAGES), 4, 0, IMG_ECORRUPT,
	    "0 pages per chunk");
	added(set("memory chunk count", SEC(SEC_MEM_INDEX, 0, MIX_NCHUNKS), 4, 1, IMG_ECORRUPT,
		  "memory region 0 index: length"));
	added(set("memory chunk 0 short", SUB(SEC_MEM_INDEX, 0, FS_MIX_CHUNK, 0, CHK_PAGES), 4,
		  (uint64_t)-1, IMG_ECORRUPT,
		  msgf("memory region 0, chunk 0: %u pages", FIX_CHUNK_PAGES - 1)));
	added(set("memory zero pages", SEC(SEC_MEM_INDEX, 0, MIX_ZERO_PAGES), 8, 1, IMG_ECORRUPT,
		  msgf("memory region 0 index: %u stored", FIX_DATA_PAGES)));
	set("memory chunk 0 over vcpu 0", SUB(SEC_MEM_INDEX, 0, FS_MIX_CHUNK, 0, CHK_OFFSET), 8, 0,
	    IMG_ECORRUPT, "overlaps")->e[0].rel = SEC(SEC_VCPU, 0, 0);
	set("memory chunk 0 into the table", SUB(SEC_MEM_INDEX, 0, FS_MIX_CHUNK, 0, CHK_OFFSET), 8,
	    (uint64_t)-1, IMG_ECORRUPT, "outside the data area")->e[0].rel = TABLE(0);
	added(set("memory chunk 0 checksum", SUB(SEC_MEM_INDEX, 0, FS_MIX_CHUNK, 0, CHK_CHECKSUM),
		  8, 1, IMG_ECHECKSUM, "memory region 0, chunk 0: checksum mismatch"));
}

/* The rules image_fixture.h lists, which the fuzz seeds also hold. */
static void refusals(void)
{
	for (unsigned i = 0; i < FIX_NREFUSALS; i++) {
		const struct fix_refusal *r = &fix_refusals[i];
		struct ccase *c = add(r->name, OP_SET, r->e[0].at, r->expect, r->msg);

		memcpy(c->e, r->e, sizeof(c->e));
		c->shallow = r->shallow;
		c->with = r->with;
	}
}

static void free_cases(struct criterion_test_params *p)
{
	cr_free(p->params);
}

ParameterizedTestParameters(corrupt, cases)
{
	char *dir = fix_dir(), path[256];
	struct image_error err = { 0 };

	/* Without a pristine image the cases still run, and each fails at its
	 * own fix_write. */
	if (dir) {
		snprintf(path, sizeof(path), "%s/pristine.img", dir);
		if (fix_write(path, NULL, &err) == 0)
			pristine_read(path);
		unlink(path);
		rmdir(dir);
		free(dir);
	}
	truncations();
	header_fields();
	table_entries();
	section_bytes();
	chunk_bytes();
	section_fields();
	refusals();
	return cr_make_param_array(struct ccase, cases, ncases, free_cases);
}

/* Damages the image at path as c says. */
static void apply(const char *path, const struct ccase *c)
{
	size_t size;
	uint8_t *f = fix_load(path, &size);
	int64_t pos;

	cr_assert_not_null(f);
	pos = fix_locate(f, size, &c->e[0].at, NULL);
	cr_assert(pos >= 0 && (uint64_t)pos <= size, "%s: place not in the image", c->name);
	if (c->op == OP_TRUNCATE) {
		cr_assert_eq(truncate(path, (off_t)pos), 0);
	} else {
		if (c->op == OP_FLIP) {
			cr_assert_lt((uint64_t)pos, size, "%s: place outside the file", c->name);
			f[pos] ^= 0x5a;
		} else {
			for (unsigned k = 0; k < 2 && c->e[k].width; k++)
				cr_assert_eq(fix_apply(f, size, &c->e[k]), 0,
					     "%s: edit %u outside the image", c->name, k);
			fix_seal(f, size, c->e, 2);
		}
		cr_assert_eq(fix_store(path, f, size), 0);
	}
	free(f);
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
	int rc;

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	cr_assert_eq(fix_write_vm(path, NULL, c->with, &err), 0, "%s", err.msg);
	apply(path, c);
	if (c->lazy) {
		struct image *img;

		cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s: open without chunk checks: %s",
			     c->name, err.msg);
		image_close(img);
	}
	if (c->shallow) {
		struct image *img;

		rc = image_open(&img, path, 0, &err);
		image_close(rc ? NULL : img);
	} else {
		rc = read_all(path, !c->lazy, &err);
	}
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
}

/* Writes the fixture, appends a section of type 42 (what a newer writer
 * would add) and reads it all; *entry_no gets the new entry's number. */
static int read_with_new_section(uint16_t flags, uint64_t damage, unsigned *entry_no,
				 struct image_error *err)
{
	char *dir = fix_dir(), path[256];
	size_t size, grown;
	uint8_t *f, *g;
	int rc;

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	cr_assert_eq(fix_write(path, NULL, err), 0, "%s", err->msg);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	*entry_no = le_get32(f + HDR_SECTION_COUNT);
	g = fix_append(f, size, 42, flags, damage, &grown);
	cr_assert(g && fix_store(path, g, grown) == 0);
	rc = read_all(path, 1, err);
	free(f);
	free(g);
	unlink(path);
	rmdir(dir);
	free(dir);
	return rc;
}

Test(corrupt, new_optional_section_is_skipped)
{
	struct image_error err = { 0 };
	unsigned n;

	cr_expect_eq(read_with_new_section(SECTION_FLAG_OPTIONAL, 0, &n, &err), 0, "%s", err.msg);
}

Test(corrupt, skipped_section_checksum_is_checked)
{
	struct image_error err = { 0 };
	unsigned n;

	cr_expect_eq(read_with_new_section(SECTION_FLAG_OPTIONAL, 1, &n, &err), -IMG_ECHECKSUM);
	cr_expect(strstr(err.msg, msgf("entry %u (type 42 version 1, skipped): checksum mismatch",
				       n)), "%s", err.msg);
}

Test(corrupt, new_required_section_is_refused)
{
	struct image_error err = { 0 };
	unsigned n;

	cr_expect_eq(read_with_new_section(0, 0, &n, &err), -IMG_EVERSION);
	cr_expect(strstr(err.msg, msgf("entry %u: required section type 42", n)), "%s", err.msg);
}

/* The bytes at place p of image f, which must have it. */
static const uint8_t *field(const uint8_t *f, size_t size, struct fix_place p)
{
	int64_t at = fix_locate(f, size, &p, NULL);

	cr_assert(at >= 0 && (uint64_t)at < size, "place %u/%u of section %u not found",
		  p.part, p.sub, p.type);
	return f + at;
}

/* The places the cases damage are the fields they name: each is read back
 * from a pristine image and compared with the fixture's value. */
Test(corrupt, places_name_their_fields)
{
	static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	char *dir = fix_dir(), path[256];
	struct image_error err = { 0 };
	struct vm_state st;
	size_t size;
	uint8_t *f;

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	fix_state(&st);
#define AT(place) field(f, size, place)
	cr_expect_eq(le_get32(AT(SEC(SEC_VM_CONFIG, 0, CFG_NCPUS))), st.config.ncpus);
	cr_expect_eq(le_get64(AT(SUB(SEC_VM_CONFIG, 0, FS_CFG_REGION, 0, RGN_SIZE))), FIX_MEM_SIZE);
	cr_expect_eq(le_get64(AT(SUB(SEC_VM_CONFIG, 0, FS_CFG_DEV, 2, CDEV_BASE))), GPIO_BASE);
	cr_expect_eq(memcmp(AT(SUB(SEC_VM_CONFIG, 0, FS_CFG_CMDLINE, 0, 0)), st.config.cmdline,
			    strlen(st.config.cmdline)), 0);
	cr_expect_eq(memcmp(AT(SUB(SEC_HOST, 0, FS_HOST_MACHINE, 0, 0)), "aarch64", 7), 0);
	cr_expect_eq(le_get64(AT(SEC(SEC_CLOCK, 0, CLK_FREQ))), st.clock.counter_freq);
	cr_expect_eq(le_get64(AT(SEC(SEC_PSCI_RESUME, 0, RSM_ENTRY))), st.resume.entry);
	cr_expect_eq(le_get64(AT(SEC(SEC_VCPU, 1, VCPU_MPIDR))), FIX_MPIDR(1));
	cr_expect_eq(le_get32(AT(SEC(SEC_VCPU, 1, VCPU_MP_STATE))), st.vcpus[1].mp_state);
	cr_expect_eq(le_get64(AT(SUB(SEC_VCPU, 0, FS_VCPU_REG, 4, VREG_ID))), fix_reg_ids[4]);
	cr_expect_eq(le_get64(AT(SUB(SEC_VCPU, 1, FS_VCPU_REG, 0, VREG_VALUE))), FIX_PC + 1);
	cr_expect_eq(le_get32(AT(SEC(SEC_GIC, 0, GICS_NREGS))), st.gic.nregs);
	cr_expect_eq(le_get64(AT(SUB(SEC_GIC, 0, FS_GIC_REG, 3, GREG_ATTR))), st.gic.regs[3].attr);
	cr_expect_eq(le_get32(AT(SUB(SEC_DEVICES, 0, FS_DEV, 2, DST_TYPE))), DEV_GPIO_PL061);
	cr_expect_eq(le_get32(AT(SUB(SEC_DEVICES, 0, FS_DEV_FIELDS, 2,
				     3 * SEC_DEVICE_FIELD + DFLD_ID))), st.devs[2].fields[3].id);
	cr_expect_eq(le_get32(AT(SUB(SEC_DEVICES, 0, FS_DEV, 1, DST_BLOB_LEN))),
		     st.devs[1].blob_len);
	cr_expect_eq(le_get32(AT(SUB(SEC_MEM_INDEX, 0, FS_MIX_CHUNK, 3, CHK_PAGES))),
		     FIX_LAST_PAGES);
	cr_expect_eq(le_get32(AT(CHUNK(1, FS_START, RECH_MAGIC))), REC_MAGIC);
	cr_expect_eq(le_get32(AT(CHUNK(1, FS_START, RECH_CHUNK))), 1);
	cr_expect_eq(memcmp(AT(CHUNK(3, FS_REC_FRAME, 0)), zstd_magic, 4), 0);
	cr_expect_eq(AT(TRAILER(TRL_MAGIC)) - f, (int64_t)size - IMAGE_MAGIC_LEN);
#undef AT
	vm_state_free(&st);
	free(f);
	unlink(path);
	rmdir(dir);
	free(dir);
}
