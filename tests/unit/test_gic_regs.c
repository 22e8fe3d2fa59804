/* test_gic_regs.c - the vGICv3 register list: the restore order KVM needs,
 * each vCPU addressed by its own MPIDR, the active-priority registers per
 * PRIbits, counts per nr_irqs, the image limit and allocation failure. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "gic_regs.h"
#include "image_format.h"

/* Expected encodings, written out from the GICv3 spec rather than taken
 * from the module, so a wrong encoding there shows. */
#define IIDR            0x0008
#define IGROUPR         0x0080
#define ISENABLER       0x0100
#define ISPENDR         0x0200
#define ISACTIVER       0x0300
#define IPRIORITYR      0x0400
#define ICFGR           0x0c00
#define IROUTER         0x6000
#define SGI             0x10000
#define SRE             0xc665
#define CTLR            0xc664
#define AP0R(n)         (0xc644 + (n))
#define AP1R(n)         (0xc648 + (n))
#define IGRPEN0         0xc666
#define IGRPEN1         0xc667
#define PRIBITS(b)      ((uint64_t)((b) - 1) << 8)      /* ICC_CTLR_EL1[10:8] */

/* realloc that fails from call number fail_at on (0: never), counting from
 * when the test set it; forwards to the real one (libc's or ASan's). */
static int fail_at, calls;

void *realloc(void *p, size_t n)
{
	static void *(*next)(void *, size_t);

	if (!next)
		next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (fail_at && ++calls >= fail_at)
		return NULL;
	return next(p, n);
}

static struct gic_reg *regs;
static uint32_t nregs;

static void fini(void)
{
	free(regs);
}

TestSuite(gic_regs, .fini = fini);

/* The list for nr_irqs lines and n vCPUs, vCPU i with MPIDR 0x80000000 | i
 * (Aff0 = i) and 5 priority bits unless ctlr is given. */
static void build(uint32_t nr_irqs, uint32_t n, const uint64_t *ctlr)
{
	uint64_t mpidr[8], c[8];

	cr_assert_leq(n, 8);
	for (uint32_t i = 0; i < n; i++) {
		mpidr[i] = 0x80000000u | i;
		c[i] = ctlr ? ctlr[i] : PRIBITS(5);
	}
	cr_assert_eq(gic_regs_list(nr_irqs, n, mpidr, c, &regs, &nregs), 0);
}

/* Index of the first register of group whose attr (without the MPIDR
 * bits) is off and whose MPIDR bits are aff; -1 if absent. */
static int find(uint32_t group, uint64_t aff, uint64_t off)
{
	for (uint32_t i = 0; i < nregs; i++)
		if (regs[i].group == group && regs[i].attr == (aff << 32 | off))
			return (int)i;
	return -1;
}

enum { K_ROUTER, K_CFGR, K_PRIO, K_ACTIVE, K_PEND, K_ENABLE, K_GROUP, K_HEAD };

/* Which distributor register an offset belongs to (K_*). */
static unsigned dist_kind(uint64_t off)
{
	static const uint32_t bases[] = {
		IROUTER, ICFGR, IPRIORITYR, ISACTIVER, ISPENDR, ISENABLER, IGROUPR,
	};
	unsigned k = 0;

	while (k < K_HEAD && off < bases[k])
		k++;
	return k;       /* K_HEAD: CTLR, IIDR, STATUSR */
}

Test(gic_regs, iidr_then_ctlr_first)
{
	build(64, 1, NULL);
	cr_assert_geq(nregs, 3);
	cr_expect_eq(regs[0].group, GIC_GRP_DIST_REGS);
	cr_expect_eq(regs[0].attr, IIDR);
	cr_expect_eq(regs[1].group, GIC_GRP_DIST_REGS);
	cr_expect_eq(regs[1].attr, 0, "GICD_CTLR second");
	cr_expect_eq(regs[2].attr, 0x10, "then GICD_STATUSR");
}

Test(gic_regs, spi_configuration_before_enable_pending_active)
{
	int last_config = -1, first_state = -1;

	build(128, 2, NULL);
	for (uint32_t i = 0; i < nregs; i++) {
		unsigned k = dist_kind(regs[i].attr);

		if (regs[i].group != GIC_GRP_DIST_REGS)
			continue;
		cr_expect_eq(regs[i].value, 0);
		if (k == K_GROUP || k == K_CFGR || k == K_PRIO || k == K_ROUTER)
			last_config = (int)i;
		else if (k != K_HEAD && first_state < 0)
			first_state = (int)i;
	}
	cr_assert_geq(first_state, 0);
	cr_expect_lt(last_config, first_state);
	/* Enables before pending and active bits. */
	cr_expect_lt(find(GIC_GRP_DIST_REGS, 0, ISENABLER + 4),
		     find(GIC_GRP_DIST_REGS, 0, ISPENDR + 4));
	cr_expect_lt(find(GIC_GRP_DIST_REGS, 0, ISPENDR + 4),
		     find(GIC_GRP_DIST_REGS, 0, ISACTIVER + 4));
}

Test(gic_regs, distributor_covers_spis_only)
{
	build(64, 1, NULL);
	/* SGIs and PPIs (INTID 0-31) live in the redistributors. */
	cr_expect_eq(find(GIC_GRP_DIST_REGS, 0, IGROUPR), -1);
	cr_expect_eq(find(GIC_GRP_DIST_REGS, 0, IPRIORITYR), -1);
	cr_expect_eq(find(GIC_GRP_DIST_REGS, 0, IROUTER), -1);
	cr_expect_geq(find(GIC_GRP_DIST_REGS, 0, IGROUPR + 4), 0);
	cr_expect_geq(find(GIC_GRP_DIST_REGS, 0, ICFGR + 8), 0);
	cr_expect_geq(find(GIC_GRP_DIST_REGS, 0, IPRIORITYR + 0x20), 0);
	cr_expect_geq(find(GIC_GRP_DIST_REGS, 0, IPRIORITYR + 0x3c), 0);
	cr_expect_eq(find(GIC_GRP_DIST_REGS, 0, IPRIORITYR + 0x40), -1);
	/* IROUTER is 64 bits: two halves per SPI, low half first. */
	cr_expect_eq(find(GIC_GRP_DIST_REGS, 0, IROUTER + 32 * 8) + 1,
		     find(GIC_GRP_DIST_REGS, 0, IROUTER + 32 * 8 + 4));
	cr_expect_geq(find(GIC_GRP_DIST_REGS, 0, IROUTER + 63 * 8 + 4), 0);
	cr_expect_eq(find(GIC_GRP_DIST_REGS, 0, IROUTER + 64 * 8), -1);
}

struct count_case {
	uint32_t nr_irqs;
	uint32_t n[K_HEAD + 1];         /* distributor registers per K_* */
	uint32_t levels, total;
};

ParameterizedTestParameters(gic_regs, counts)
{
	/* n: IROUTER halves, ICFGR, IPRIORITYR, ISACTIVER, ISPENDR, ISENABLER,
	 * IGROUPR, head; total adds 21 redistributor and 9 CPU interface. */
	static struct count_case cases[] = {
		{ 64, { 64, 2, 8, 1, 1, 1, 1, 3 }, 1, 3 + 78 + 1 + 30 },
		{ 128, { 192, 6, 24, 3, 3, 3, 3, 3 }, 3, 3 + 234 + 3 + 30 },
		{ 1024, { 1984, 62, 248, 31, 31, 31, 31, 3 }, 31, 3 + 2418 + 31 + 30 },
	};

	return cr_make_param_array(struct count_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct count_case *c, gic_regs, counts)
{
	uint32_t n[K_HEAD + 1] = { 0 }, levels = 0, redist = 0, cpuif = 0;

	build(c->nr_irqs, 1, NULL);
	for (uint32_t i = 0; i < nregs; i++) {
		if (regs[i].group == GIC_GRP_LEVEL_INFO)
			levels++;
		else if (regs[i].group == GIC_GRP_REDIST_REGS)
			redist++;
		else if (regs[i].group == GIC_GRP_CPU_SYSREGS)
			cpuif++;
		else
			n[dist_kind(regs[i].attr)]++;
	}
	for (unsigned k = 0; k <= K_HEAD; k++)
		cr_expect_eq(n[k], c->n[k], "kind %u: %u registers", k, n[k]);
	cr_expect_eq(levels, c->levels);
	cr_expect_eq(redist, 21);
	cr_expect_eq(cpuif, 9, "5 PRIbits: SRE CTLR PMR BPR0 BPR1 AP0R0 AP1R0 IGRPEN0/1");
	cr_expect_eq(nregs, c->total);
}

Test(gic_regs, mpidr_attr_is_the_affinity)
{
	/* Aff3 (bits 39:32) moves down to 31:24; RES1, U and MT are dropped. */
	cr_expect_eq(gic_regs_mpidr_attr(0x80000000u), 0);
	cr_expect_eq(gic_regs_mpidr_attr(0xc1000000u), 0);
	cr_expect_eq(gic_regs_mpidr_attr(0x8000030201ull), 0x80030201ull << 32);
	cr_expect_eq(gic_regs_mpidr_attr(0xab81030201ull), 0xab030201ull << 32);
}

/* Cloud Hypervisor #8638: every vCPU's redistributor and CPU interface must
 * be named by that vCPU's MPIDR, not vCPU 0's. */
Test(gic_regs, each_vcpu_addressed_by_its_own_mpidr)
{
	const uint64_t mpidr[4] = { 0x80000000u, 0x80000001u, 0x80000100u, 0x0180000000ull };
	const uint64_t aff[4] = { 0, 1, 0x100, 0x01000000 };
	const uint64_t ctlr[4] = { PRIBITS(5), PRIBITS(5), PRIBITS(5), PRIBITS(5) };
	uint32_t redist[4] = { 0 }, cpuif[4] = { 0 };

	cr_assert_eq(gic_regs_list(64, 4, mpidr, ctlr, &regs, &nregs), 0);
	for (uint32_t i = 0; i < nregs; i++) {
		unsigned v;

		if (regs[i].group != GIC_GRP_REDIST_REGS && regs[i].group != GIC_GRP_CPU_SYSREGS)
			continue;
		for (v = 0; v < 4 && regs[i].attr >> 32 != aff[v]; v++)
			;
		cr_assert_lt(v, 4, "attr 0x%llx names no vCPU", (unsigned long long)regs[i].attr);
		if (regs[i].group == GIC_GRP_REDIST_REGS)
			redist[v]++;
		else
			cpuif[v]++;
	}
	for (unsigned v = 0; v < 4; v++) {
		cr_expect_eq(redist[v], 21, "vCPU %u redistributor", v);
		cr_expect_eq(cpuif[v], 9, "vCPU %u CPU interface", v);
	}
}

Test(gic_regs, redistributor_bases_before_ctlr)
{
	build(64, 3, NULL);
	for (uint64_t v = 0; v < 3; v++) {
		int ctlr = find(GIC_GRP_REDIST_REGS, v, 0);

		cr_assert_geq(ctlr, 0);
		cr_expect_lt(find(GIC_GRP_REDIST_REGS, v, 0x70), ctlr, "PROPBASER");
		cr_expect_lt(find(GIC_GRP_REDIST_REGS, v, 0x74), ctlr);
		cr_expect_lt(find(GIC_GRP_REDIST_REGS, v, 0x78), ctlr, "PENDBASER");
		cr_expect_lt(find(GIC_GRP_REDIST_REGS, v, 0x7c), ctlr);
		/* Then the SGI frame: configuration before enable and pending. */
		cr_expect_lt(find(GIC_GRP_REDIST_REGS, v, SGI + ICFGR + 4),
			     find(GIC_GRP_REDIST_REGS, v, SGI + ISENABLER));
		cr_expect_lt(find(GIC_GRP_REDIST_REGS, v, SGI + IPRIORITYR + 28),
			     find(GIC_GRP_REDIST_REGS, v, SGI + ISPENDR));
	}
}

Test(gic_regs, line_levels_after_redistributors_before_cpu_interfaces)
{
	int last_redist = -1, first_cpuif = -1;

	build(96, 2, NULL);
	for (uint32_t i = 0; i < nregs; i++) {
		if (regs[i].group == GIC_GRP_REDIST_REGS)
			last_redist = (int)i;
		if (regs[i].group == GIC_GRP_CPU_SYSREGS && first_cpuif < 0)
			first_cpuif = (int)i;
	}
	/* One per 32 SPIs, line-level info, INTID in the low bits. */
	cr_expect_eq(find(GIC_GRP_LEVEL_INFO, 0, 32), last_redist + 1);
	cr_expect_eq(find(GIC_GRP_LEVEL_INFO, 0, 64), last_redist + 2);
	cr_expect_eq(first_cpuif, last_redist + 3);
}

Test(gic_regs, cpu_interface_sre_ctlr_first_igrpen_last)
{
	build(64, 2, NULL);
	for (uint64_t v = 0; v < 2; v++) {
		int sre = find(GIC_GRP_CPU_SYSREGS, v, SRE);

		cr_assert_geq(sre, 0);
		cr_expect_eq(find(GIC_GRP_CPU_SYSREGS, v, CTLR), sre + 1);
		cr_expect_eq(find(GIC_GRP_CPU_SYSREGS, v, IGRPEN0), sre + 7);
		cr_expect_eq(find(GIC_GRP_CPU_SYSREGS, v, IGRPEN1), sre + 8);
		for (int i = sre; i < sre + 9; i++)
			cr_expect_eq(regs[i].attr >> 32, v);
	}
	cr_expect_eq(find(GIC_GRP_CPU_SYSREGS, 1, IGRPEN1), (int)nregs - 1);
}

struct apr_case {
	unsigned pribits, naprs;
};

ParameterizedTestParameters(gic_regs, active_priority_registers)
{
	static struct apr_case cases[] = { { 5, 1 }, { 6, 2 }, { 7, 4 } };

	return cr_make_param_array(struct apr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct apr_case *c, gic_regs, active_priority_registers)
{
	/* vCPU 1 keeps 5 bits: each CPU interface gets its own count. */
	const uint64_t ctlr[2] = { PRIBITS(c->pribits) | 0x3, PRIBITS(5) };
	unsigned ap0 = 0, ap1 = 0;

	build(64, 2, ctlr);
	for (unsigned n = 0; n < 4; n++) {
		int has0 = find(GIC_GRP_CPU_SYSREGS, 0, AP0R(n)) >= 0;
		int has1 = find(GIC_GRP_CPU_SYSREGS, 0, AP1R(n)) >= 0;

		cr_expect_eq(has0, n < c->naprs, "AP0R%u", n);
		cr_expect_eq(has1, n < c->naprs, "AP1R%u", n);
		ap0 += has0;
		ap1 += has1;
	}
	cr_expect_eq(ap0, c->naprs);
	cr_expect_eq(ap1, c->naprs);
	cr_expect_geq(find(GIC_GRP_CPU_SYSREGS, 1, AP0R(0)), 0);
	cr_expect_eq(find(GIC_GRP_CPU_SYSREGS, 1, AP0R(1)), -1);
	cr_expect_eq(find(GIC_GRP_CPU_SYSREGS, 1, AP1R(1)), -1);
}

Test(gic_regs, no_vcpus_only_the_distributor)
{
	cr_assert_eq(gic_regs_list(64, 0, NULL, NULL, &regs, &nregs), 0);
	cr_expect_eq(nregs, 3 + 1 + 2 + 8 + 64 + 3);
	for (uint32_t i = 0; i < nregs; i++)
		cr_expect_eq(regs[i].group, GIC_GRP_DIST_REGS);
}

/* nr_irqs 1024 makes 2452 registers before the vCPUs; 464 vCPUs at 30
 * (5 PRIbits) or 32 (6 PRIbits) each, six of them at 32, fill the image
 * limit of 16384 exactly. */
static int build_many(uint32_t ncpus, uint32_t six_bit_cpus)
{
	uint64_t *mpidr = calloc(ncpus, sizeof(*mpidr)), *ctlr = calloc(ncpus, sizeof(*ctlr));
	int ret;

	cr_assert(mpidr && ctlr);
	for (uint32_t i = 0; i < ncpus; i++) {
		mpidr[i] = 0x80000000u | (i / 16) << 8 | (i % 16);
		ctlr[i] = PRIBITS(i < six_bit_cpus ? 6 : 5);
	}
	ret = gic_regs_list(1024, ncpus, mpidr, ctlr, &regs, &nregs);
	free(mpidr);
	free(ctlr);
	return ret;
}

Test(gic_regs, limit_is_the_image_readers)
{
	cr_assert_eq(build_many(464, 6), 0);
	cr_expect_eq(nregs, IMAGE_MAX_GIC_REGS);
	free(regs);
	regs = NULL;
	nregs = 7;
	cr_expect_eq(build_many(464, 7), -E2BIG, "two over");
	cr_expect_null(regs, "nothing handed out on failure");
	cr_expect_eq(nregs, 7);
}

Test(gic_regs, out_of_memory_first_and_while_growing)
{
	uint64_t mpidr = 0x80000000u, ctlr = PRIBITS(7);

	/* 2488 registers: 5 allocations (256, 512, 1024, 2048, 4096 entries);
	 * each failing in turn is reported and frees what came before (the
	 * ASan build checks for leaks). */
	for (int at = 1; at <= 5; at++) {
		calls = 0;
		fail_at = at;
		cr_expect_eq(gic_regs_list(1024, 1, &mpidr, &ctlr, &regs, &nregs), -ENOMEM,
			     "realloc %d fails", at);
		fail_at = 0;
		cr_expect_null(regs);
		cr_expect_eq(calls, at, "stops at the first failure");
	}
#ifdef __SANITIZE_ADDRESS__
	cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "the partial lists are freed");
#endif
	calls = 0;
	fail_at = 6;
	cr_expect_eq(gic_regs_list(1024, 1, &mpidr, &ctlr, &regs, &nregs), 0);
	fail_at = 0;
	cr_expect_eq(calls, 5);
	cr_expect_eq(nregs, 2488);
}

/* The line levels of a state come back as an SPI bitmap; other groups,
 * other level-info kinds, private INTIDs and words past the end are left
 * out. */
Test(gic_regs, spi_levels_from_a_state)
{
	struct gic_reg r[] = {
		{ GIC_GRP_LEVEL_INFO, 32, 0x80000001u },
		{ GIC_GRP_LEVEL_INFO, 96, 0x4u },
		{ GIC_GRP_LEVEL_INFO, 0, 0xffffffffu },                 /* private */
		{ GIC_GRP_LEVEL_INFO, 128, 0xffffffffu },               /* past nwords */
		{ GIC_GRP_LEVEL_INFO, 48, 0xffffffffu },                /* not aligned */
		{ GIC_GRP_LEVEL_INFO, (1ULL << GIC_ATTR_LEVEL_INFO_SHIFT) | 64, 0xffu },
		{ GIC_GRP_DIST_REGS, 64, 0xffffffffu },
		{ GIC_GRP_LEVEL_INFO, gic_regs_mpidr_attr(0x80000001) | 64, 0x10u },
	};
	struct gic_state st = { 3, 128, sizeof(r) / sizeof(r[0]), r };
	uint32_t lv[3] = { 0xdead, 0xbeef, 0xf00d };

	gic_regs_spi_levels(&st, lv, 3);
	cr_expect_eq(lv[0], 0x80000001u, "SPIs 0-31: 0x%x", lv[0]);
	cr_expect_eq(lv[1], 0x10u, "SPIs 32-63 (any vCPU's attr): 0x%x", lv[1]);
	cr_expect_eq(lv[2], 0x4u, "SPIs 64-95: 0x%x", lv[2]);
	st.nregs = 0;
	gic_regs_spi_levels(&st, lv, 3);
	cr_expect(lv[0] == 0 && lv[1] == 0 && lv[2] == 0, "zeroed when the state has none");
}
