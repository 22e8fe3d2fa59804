/* test_fdt_build.c - the generated device tree, read back with libfdt: every
 * node and property the guest kernel relies on, for 1 to 32 CPUs. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "fdt_build.h"
#include "machine_config.h"
#include "memmap.h"

#define FDT_BUF         0x10000
#define RAM_SIZE        (512ULL << 20)
#define INITRD_ADDR     0x9fc00000ULL
#define INITRD_SIZE     0x123456ULL
#define CMDLINE         "console=ttyS0 earlycon root=/dev/vda rw"

static struct vm_config cfg;
static uint64_t mpidr[TORPOR_MAX_CPUS];
static uint8_t fdt[FDT_BUF];

/* The machine `torpor run` builds (vm_config_default), and the MPIDRs KVM
 * gives vCPU i: Aff0 = i % 16, Aff1 = i / 16, bit 31 RES1. */
static void make_config(uint32_t ncpus)
{
	struct run_options o = { .cpus = ncpus, .memory = RAM_SIZE, .cmdline = CMDLINE };

	vm_config_default(&cfg, &o);
	for (uint32_t i = 0; i < TORPOR_MAX_CPUS; i++)
		mpidr[i] = 0x80000000ULL | ((i / 16) << 8) | (i % 16);
}

static int build(uint32_t ncpus, uint64_t initrd_size)
{
	struct fdt_params p = { &cfg, mpidr, INITRD_ADDR, initrd_size };

	make_config(ncpus);
	memset(fdt, 0xa5, sizeof(fdt));
	return fdt_build(fdt, sizeof(fdt), &p);
}

static void build_ok(uint32_t ncpus)
{
	cr_assert_eq(build(ncpus, INITRD_SIZE), 0);
	cr_assert_eq(fdt_check_header(fdt), 0);
	cr_assert_leq(fdt_totalsize(fdt), FDT_BUF);
}

/* --- reading helpers: each asserts the thing exists ------------------------- */

static int node(const char *path)
{
	int off = fdt_path_offset(fdt, path);

	cr_assert_geq(off, 0, "no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(int off, const char *name, int want_len)
{
	int len = -1;
	const void *v = fdt_getprop(fdt, off, name, &len);

	cr_assert_not_null(v, "no property %s in %s", name, fdt_get_name(fdt, off, NULL));
	if (want_len >= 0)
		cr_assert_eq(len, want_len, "%s is %d bytes, want %d", name, len, want_len);
	return v;
}

static uint32_t prop_u32(int off, const char *name)
{
	return fdt32_ld(prop(off, name, 4));
}

static uint64_t prop_u64(int off, const char *name)
{
	return fdt64_ld(prop(off, name, 8));  /* only 4-byte aligned */
}

static void expect_string(int off, const char *name, const char *want)
{
	const char *s = prop(off, name, (int)strlen(want) + 1);

	cr_expect_str_eq(s, want, "%s", name);
}

static void expect_cells(int off, const char *name, const uint32_t *want, int n)
{
	const fdt32_t *v = prop(off, name, n * 4);

	for (int i = 0; i < n; i++)
		cr_expect_eq(fdt32_ld(&v[i]), want[i], "%s cell %d: %#x, want %#x", name, i,
			     fdt32_ld(&v[i]), want[i]);
}

/* reg with #address-cells = #size-cells = 2. */
static void expect_reg(int off, const uint64_t *want, int npairs)
{
	const fdt64_t *v = prop(off, "reg", npairs * 16);

	for (int i = 0; i < 2 * npairs; i++)
		cr_expect_eq(fdt64_ld(&v[i]), want[i], "reg[%d] %#llx, want %#llx", i,
			     (unsigned long long)fdt64_ld(&v[i]),
			     (unsigned long long)want[i]);
}

/* A compatible string list: exactly these entries, in order. */
static void expect_compatible(int off, const char *const *want, int n)
{
	cr_expect_eq(fdt_stringlist_count(fdt, off, "compatible"), n);
	for (int i = 0; i < n; i++) {
		const char *s = fdt_stringlist_get(fdt, off, "compatible", i, NULL);

		cr_expect(s && !strcmp(s, want[i]), "compatible[%d] '%s', want '%s'", i,
			  s ? s : "(none)", want[i]);
	}
}

static void expect_flag(int off, const char *name)
{
	prop(off, name, 0);
}

/* --- the tree ---------------------------------------------------------------- */

/* 17 CPUs and up need Aff1. */
static uint32_t cpu_counts[] = { 1, 4, 17, TORPOR_MAX_CPUS };

ParameterizedTestParameters(fdt_build, cpus)
{
	return cr_make_param_array(uint32_t, cpu_counts, sizeof(cpu_counts) / sizeof(cpu_counts[0]));
}

ParameterizedTest(uint32_t *ncpus, fdt_build, cpus)
{
	int cpus, off, n = 0;

	build_ok(*ncpus);
	cpus = node("/cpus");
	cr_expect_eq(prop_u32(cpus, "#address-cells"), 1);
	cr_expect_eq(prop_u32(cpus, "#size-cells"), 0);
	fdt_for_each_subnode(off, fdt, cpus) {
		uint32_t want = (uint32_t)(mpidr[n] & 0xffffff);
		char name[32];

		cr_assert_lt((uint32_t)n, *ncpus, "more cpu nodes than CPUs");
		snprintf(name, sizeof(name), "cpu@%x", want);
		cr_expect_str_eq(fdt_get_name(fdt, off, NULL), name);
		cr_expect_eq(prop_u32(off, "reg"), want, "cpu %d", n);
		expect_string(off, "device_type", "cpu");
		expect_string(off, "enable-method", "psci");
		expect_string(off, "compatible", "arm,armv8");
		n++;
	}
	cr_expect_eq((uint32_t)n, *ncpus);
}

ParameterizedTestParameters(fdt_build, gic_covers_one_redistributor_per_cpu)
{
	return cr_make_param_array(uint32_t, cpu_counts, sizeof(cpu_counts) / sizeof(cpu_counts[0]));
}

ParameterizedTest(uint32_t *ncpus, fdt_build, gic_covers_one_redistributor_per_cpu)
{
	uint64_t reg[4] = { GIC_DIST_BASE, GIC_DIST_SIZE, GIC_REDIST_BASE,
			    0x20000ULL * *ncpus };
	int gic;

	build_ok(*ncpus);
	gic = node("/intc@8000000");
	expect_reg(gic, reg, 2);
	expect_string(gic, "compatible", "arm,gic-v3");
	cr_expect_eq(prop_u32(gic, "#interrupt-cells"), 3);
	cr_expect_eq(prop_u32(gic, "#redistributor-regions"), 1);
	expect_flag(gic, "interrupt-controller");
	cr_expect_eq(prop_u32(node("/"), "interrupt-parent"), prop_u32(gic, "phandle"));
	cr_expect_eq(fdt_node_offset_by_phandle(fdt, prop_u32(gic, "phandle")), gic);
}

Test(fdt_build, root_and_memory)
{
	uint64_t reg[2] = { RAM_BASE, RAM_SIZE };
	int root;

	build_ok(1);
	root = node("/");
	cr_expect_eq(prop_u32(root, "#address-cells"), 2);
	cr_expect_eq(prop_u32(root, "#size-cells"), 2);
	expect_string(root, "compatible", "linux,dummy-virt");
	expect_reg(node("/memory@80000000"), reg, 1);
	expect_string(node("/memory@80000000"), "device_type", "memory");
}

Test(fdt_build, psci_and_timer)
{
	static const char *const psci[] = { "arm,psci-1.0", "arm,psci-0.2" };
	/* secure, non-secure physical, virtual, hypervisor: PPI numbers */
	static const uint32_t timer[12] = { 1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4 };
	int off;

	build_ok(4);
	off = node("/psci");
	expect_compatible(off, psci, 2);
	expect_string(off, "method", "hvc");
	off = node("/timer");
	expect_string(off, "compatible", "arm,armv8-timer");
	expect_cells(off, "interrupts", timer, 12);
}

Test(fdt_build, chosen)
{
	int chosen, serial;
	const char *path;

	build_ok(1);
	chosen = node("/chosen");
	expect_string(chosen, "bootargs", CMDLINE);
	path = prop(chosen, "stdout-path", -1);
	cr_expect_str_eq(path, "/serial@9000000");
	serial = node(path);
	expect_string(serial, "compatible", "ns16550a");
	cr_expect_eq(prop_u64(chosen, "linux,initrd-start"), INITRD_ADDR);
	cr_expect_eq(prop_u64(chosen, "linux,initrd-end"), INITRD_ADDR + INITRD_SIZE);
}

Test(fdt_build, no_initrd_no_initrd_properties)
{
	int chosen;

	cr_assert_eq(build(1, 0), 0);
	cr_assert_eq(fdt_check_header(fdt), 0);
	chosen = node("/chosen");
	cr_expect_null(fdt_getprop(fdt, chosen, "linux,initrd-start", NULL));
	cr_expect_null(fdt_getprop(fdt, chosen, "linux,initrd-end", NULL));
	expect_string(chosen, "bootargs", CMDLINE);
}

Test(fdt_build, serial)
{
	uint64_t reg[2] = { UART_BASE, UART_SIZE };
	uint32_t irq[3] = { 0, UART_SPI, 4 };
	int off;

	build_ok(1);
	off = node("/serial@9000000");
	expect_reg(off, reg, 1);
	expect_cells(off, "interrupts", irq, 3);
	cr_expect_eq(prop_u32(off, "clock-frequency"), 1843200);
	expect_flag(off, "wakeup-source");
}

/* PrimeCells: both compatibles, and the APB clock by phandle. */
static int primecell(const char *path, const char *part, const uint64_t *reg, uint32_t spi)
{
	const char *const compat[] = { part, "arm,primecell" };
	uint32_t irq[3] = { 0, spi, 4 };
	int off = node(path), clk;

	expect_compatible(off, compat, 2);
	expect_reg(off, reg, 1);
	expect_cells(off, "interrupts", irq, 3);
	clk = fdt_node_offset_by_phandle(fdt, prop_u32(off, "clocks"));
	cr_assert_geq(clk, 0, "%s: clocks names no node", path);
	expect_string(clk, "compatible", "fixed-clock");
	cr_expect_eq(prop_u32(clk, "#clock-cells"), 0);
	cr_expect_gt(prop_u32(clk, "clock-frequency"), 0);
	expect_string(off, "clock-names", "apb_pclk");
	return off;
}

Test(fdt_build, rtc)
{
	uint64_t reg[2] = { RTC_BASE, RTC_SIZE };
	int off;

	build_ok(1);
	off = primecell("/rtc@9010000", "arm,pl031", reg, RTC_SPI);
	expect_flag(off, "wakeup-source");
}

Test(fdt_build, gpio_and_wake_key)
{
	uint64_t reg[2] = { GPIO_BASE, GPIO_SIZE };
	int gpio, key;
	uint32_t gpios[3];

	build_ok(1);
	gpio = primecell("/gpio@9030000", "arm,pl061", reg, GPIO_SPI);
	expect_flag(gpio, "gpio-controller");
	expect_flag(gpio, "interrupt-controller");
	cr_expect_eq(prop_u32(gpio, "#gpio-cells"), 2);
	cr_expect_eq(prop_u32(gpio, "#interrupt-cells"), 2);

	expect_string(node("/gpio-keys"), "compatible", "gpio-keys");
	key = node("/gpio-keys/wake");
	cr_expect_eq(prop_u32(key, "linux,code"), 143);        /* KEY_WAKEUP */
	expect_flag(key, "wakeup-source");
	gpios[0] = prop_u32(gpio, "phandle");
	gpios[1] = GPIO_WAKE_LINE;
	gpios[2] = 0;                                           /* active high */
	expect_cells(key, "gpios", gpios, 3);
	cr_expect_eq(fdt_node_offset_by_phandle(fdt, gpios[0]), gpio);
}

Test(fdt_build, phandles_are_unique)
{
	static const char *const paths[] = { "/intc@8000000", "/gpio@9030000" };
	int clk;

	build_ok(1);
	clk = fdt_node_offset_by_phandle(fdt, prop_u32(node("/rtc@9010000"), "clocks"));
	cr_assert_geq(clk, 0);
	for (int i = 0; i < 2; i++) {
		uint32_t ph = prop_u32(node(paths[i]), "phandle");

		cr_expect_neq(ph, 0);
		cr_expect_neq(ph, fdt_get_phandle(fdt, clk), "%s shares the clock's phandle",
			      paths[i]);
	}
	cr_expect_neq(prop_u32(node(paths[0]), "phandle"), prop_u32(node(paths[1]), "phandle"));
}

Test(fdt_build, device_nodes_follow_the_config)
{
	struct fdt_params p = { &cfg, mpidr, 0, 0 };

	make_config(1);
	cfg.ndevs = 1;          /* the UART only */
	cr_assert_eq(fdt_build(fdt, sizeof(fdt), &p), 0);
	node("/serial@9000000");
	cr_expect_lt(fdt_path_offset(fdt, "/rtc@9010000"), 0);
	cr_expect_lt(fdt_path_offset(fdt, "/gpio@9030000"), 0);
	cr_expect_lt(fdt_path_offset(fdt, "/gpio-keys"), 0);
}

/* --- errors ------------------------------------------------------------------ */

Test(fdt_build, too_small_buffer)
{
	struct fdt_params p = { &cfg, mpidr, INITRD_ADDR, INITRD_SIZE };
	uint32_t need;
	uint8_t *small;

	build_ok(TORPOR_MAX_CPUS);
	need = fdt_totalsize(fdt);
	/* Exactly enough works; a byte less and nothing useful fits. */
	small = malloc(need);
	cr_assert_not_null(small);
	cr_expect_eq(fdt_build(small, need, &p), 0);
	cr_expect_eq(fdt_build(small, need - 1, &p), -ENOSPC);
	cr_expect_eq(fdt_build(small, 64, &p), -ENOSPC);
	cr_expect_eq(fdt_build(small, 0, &p), -ENOSPC);
	free(small);
}

Test(fdt_build, bad_config)
{
	struct fdt_params p = { &cfg, mpidr, 0, 0 };

	make_config(0);
	cr_expect_eq(fdt_build(fdt, sizeof(fdt), &p), -EINVAL, "no CPUs");
	make_config(TORPOR_MAX_CPUS + 1);
	cr_expect_eq(fdt_build(fdt, sizeof(fdt), &p), -EINVAL, "too many CPUs");
	make_config(1);
	cfg.nmem = 0;
	cr_expect_eq(fdt_build(fdt, sizeof(fdt), &p), -EINVAL, "no memory");
	make_config(1);
	cfg.nmem = VM_MAX_MEM_REGIONS + 1;
	cr_expect_eq(fdt_build(fdt, sizeof(fdt), &p), -EINVAL, "too many memory regions");
	make_config(1);
	cfg.ndevs = VM_MAX_DEVICES + 1;
	cr_expect_eq(fdt_build(fdt, sizeof(fdt), &p), -EINVAL, "too many devices");
	make_config(1);
	cfg.devs[1].type = 99;
	cr_expect_eq(fdt_build(fdt, sizeof(fdt), &p), -EINVAL, "unknown device type");
}
