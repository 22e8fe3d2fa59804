/* test_image_print.c - inspect's output: the human summary names what an
 * operator needs (version, host, config, per-vCPU PC/PSTATE/MP state, GIC,
 * memory totals, a region's prefetch order) and the JSON form is well
 * formed and places every chunk. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "../../src/image/image_int.h"
#include "image_fixture.h"

static char *dir, path[256];
static struct image *img;

static void setup(void)
{
	struct image_error err = { 0 };

	dir = fix_dir();
	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	image_close(img);
	unlink(path);
	rmdir(dir);
	free(dir);
}

TestSuite(print, .init = setup, .fini = teardown);

/* image_print's output as a heap string. */
static char *print(int json)
{
	struct image_error err = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(f);
	cr_assert_eq(image_print(img, f, json, &err), 0, "%s", err.msg);
	fclose(f);
	return out;
}

Test(print, human_summary)
{
	static const char *const want[] = {
		"format 1.4 (readable by 1.0 and newer)",
		"host: Linux 6.1.0-56-arm64 aarch64, MIDR 0x410fd083, page size 4096",
		"clock: counter 123456789 at 62500000 Hz, taken 2026-11-18T",
		"vm: 2 vCPUs, target 5",
		"caps 0x1 (system-suspend)",
		"gic: v3, 128 irqs, distributor 0x8000000+0x10000",
		"memory region 0: 0x80000000+0x310000 (3 MiB)",
		"device 0: uart-16550 (type 1) at 0x9000000+0x1000, SPI 1",
		"device 2: gpio-pl061 (type 3) at 0x9030000+0x1000, SPI 7",
		"cmdline: console=ttyS0 \"quoted\"\tno_console_suspend",
		"psci resume: vcpu 0, SMC64, entry 0x80123000, context 0xc0ffee",
		"vcpu 0: MPIDR 0x80000000, PC 0xffff800008123456, PSTATE 0x3c5, MP state suspended (10), 5 registers",
		"vcpu 1: MPIDR 0x80000001, PC 0xffff800008123457, PSTATE 0x3c5, MP state stopped (5), 5 registers, SError pending",
		"gic: v3, 128 irqs, 6 registers",
		"device state 0: uart-16550 at 0x9000000, 4 fields, 7 blob bytes",
		"device state 1: rtc-pl031 at 0x9010000, 5 fields, 0 blob bytes",
		"memory: 3211264 bytes, ",
		"pages: 208 data, ",
		"region 0: 0x80000000+0x310000, 4 chunks of 256 pages of 4096 bytes",
	};
	char *out = print(0);

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(out, want[i]), "missing \"%s\" in:\n%s", want[i], out);
	free(out);
}

/* Brackets balance outside strings, strings close, no raw control bytes. */
static void expect_well_formed(const char *s)
{
	int depth = 0, in_str = 0;

	for (const char *p = s; *p; p++) {
		if (in_str) {
			cr_assert((unsigned char)*p >= 0x20, "control byte inside a string");
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = 0;
		} else if (*p == '"') {
			in_str = 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			cr_assert_gt(depth, 0, "unbalanced at %.20s", p);
			depth--;
		}
	}
	cr_expect_eq(depth, 0);
	cr_expect_eq(in_str, 0);
}

Test(print, json_is_complete)
{
	const struct mem_index *x = &img->mem[0].idx;
	char *out = print(1);
	char want[128];

	expect_well_formed(out);
	cr_expect(strstr(out, "\"cmdline\":\"console=ttyS0 \\\"quoted\\\"\\u0009no_console_suspend\""),
		  "%s", out);
	cr_expect(strstr(out, "\"pc\":18446603336356607062"), "%s", out);
	cr_expect(strstr(out, "\"mp_state_name\":\"suspended\""), "%s", out);
	cr_expect(strstr(out, "{\"id\":\"0x6030000000100040\",\"value\":\"0xffff800008123456\"}"),
		  "%s", out);
	cr_expect(strstr(out, "\"untouched_pages\":"), "%s", out);
	for (uint32_t c = 0; c < x->nchunks; c++) {
		snprintf(want, sizeof(want), "{\"offset\":%llu,\"length\":%llu,",
			 (unsigned long long)x->chunks[c].offset,
			 (unsigned long long)x->chunks[c].length);
		cr_expect(strstr(out, want), "chunk %u not placed: %s", c, want);
	}
	free(out);
}

/* A region's prefetch order: a line of its own, the memory it covers (the
 * fixture's four chunks, the last one short: 3.06 MiB), and a count in the
 * JSON; none without one. */
Test(print, prefetch_order)
{
	struct image_error err = { 0 };
	char *out = print(0);

	cr_expect_null(strstr(out, "prefetch order"), "%s", out);
	free(out);
	out = print(1);
	cr_expect(strstr(out, "\"untouched_pages\":480,\"prefetch_chunks\":0,\"chunks\":["),
		  "%s", out);
	free(out);
	image_close(img);
	img = NULL;
	cr_assert_eq(fix_write_vm(path, NULL, FIX_PREFETCH, &err), 0, "%s", err.msg);
	cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s", err.msg);
	out = print(0);
	cr_expect(strstr(out, "bytes stored\n    prefetch order: 4 chunks (3.1 MiB) first\n"),
		  "%s", out);
	free(out);
	out = print(1);
	expect_well_formed(out);
	cr_expect(strstr(out, "\"prefetch_chunks\":4,\"chunks\":["), "%s", out);
	free(out);
}

Test(print, write_error_is_reported)
{
	struct image_error err = { 0 };
	FILE *f = fopen("/dev/full", "w");

	cr_assert_not_null(f);
	cr_expect_eq(image_print(img, f, 0, &err), -IMG_EIO);
	fclose(f);
}
