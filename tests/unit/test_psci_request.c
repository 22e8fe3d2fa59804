/* test_psci_request.c - the SYSTEM_SUSPEND verdict: SMC32 and SMC64
 * arguments, the entry point against guest RAM (edges and the top of the
 * address space), and the other vCPUs' power states. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "psci_request.h"

/* DEN0022 function ids and return codes, and KVM_MP_STATE_* values,
 * written out so a wrong constant in the header shows. */
#define FN32            0x8400000eu
#define FN64            0xc400000eu
#define DENIED          (-3)
#define INVALID_ADDRESS (-9)
#define RUNNABLE        0u
#define STOPPED         5u
#define SUSPENDED       10u

#define RAM_AT          0x80000000ull
#define RAM_LEN         0x40000000ull

static const struct mem_region_cfg ram = { RAM_AT, RAM_LEN };
static const uint32_t alone[1] = { RUNNABLE };

Test(psci_request, constants_are_the_specs)
{
	cr_expect_eq(PSCI_1_0_FN_SYSTEM_SUSPEND, FN32);
	cr_expect_eq(PSCI_1_0_FN64_SYSTEM_SUSPEND, FN64);
	cr_expect_eq(PSCI_RET_DENIED, DENIED);
	cr_expect_eq(PSCI_RET_INVALID_ADDRESS, INVALID_ADDRESS);
	cr_expect_eq(PSCI_VCPU_STOPPED, STOPPED);
}

Test(psci_request, smc64_keeps_full_arguments)
{
	struct psci_resume res = { 0 };

	cr_expect_eq(psci_request_check(FN64, 0x80201000, 0xfedcba9876543210ull, 0, alone, 1,
					&ram, &res), 0);
	cr_expect_eq(res.vcpu, 0);
	cr_expect_eq(res.smc64, 1);
	cr_expect_eq(res.entry, 0x80201000);
	cr_expect_eq(res.context_id, 0xfedcba9876543210ull);
	/* A top half set puts an SMC64 entry outside RAM. */
	cr_expect_eq(psci_request_check(FN64, 0x100080201000ull, 0, 0, alone, 1, &ram, &res),
		     INVALID_ADDRESS);
	cr_expect_eq(res.entry, 0x100080201000ull);
}

Test(psci_request, smc32_masks_top_halves)
{
	struct psci_resume res = { 0 };

	cr_expect_eq(psci_request_check(FN32, 0xdeadbeef80201000ull, 0xfedcba9876543210ull, 0,
					alone, 1, &ram, &res), 0);
	cr_expect_eq(res.smc64, 0);
	cr_expect_eq(res.entry, 0x80201000);
	cr_expect_eq(res.context_id, 0x76543210);
}

struct entry_case {
	uint64_t base, size, entry;
	int64_t want;
};

ParameterizedTestParameters(psci_request, entry_in_ram)
{
	static struct entry_case cases[] = {
		{ RAM_AT, RAM_LEN, RAM_AT, 0 },                            /* first byte */
		{ RAM_AT, RAM_LEN, RAM_AT + RAM_LEN - 1, 0 },             /* last byte */
		{ RAM_AT, RAM_LEN, RAM_AT + RAM_LEN, INVALID_ADDRESS },   /* one past */
		{ RAM_AT, RAM_LEN, RAM_AT - 1, INVALID_ADDRESS },          /* below */
		{ RAM_AT, RAM_LEN, 0, INVALID_ADDRESS },
		{ RAM_AT, RAM_LEN, UINT64_MAX, INVALID_ADDRESS },
		/* RAM that ends at 2^64: base + size wraps to 0. */
		{ 0xffffffffc0000000ull, RAM_LEN, UINT64_MAX, 0 },
		{ 0xffffffffc0000000ull, RAM_LEN, 0xffffffffc0000000ull, 0 },
		{ 0xffffffffc0000000ull, RAM_LEN, 0xffffffffbfffffffull, INVALID_ADDRESS },
		{ 0xffffffffc0000000ull, RAM_LEN, 0, INVALID_ADDRESS },
		{ 0xffffffffc0000000ull, RAM_LEN, RAM_AT, INVALID_ADDRESS },
		{ RAM_AT, 0, RAM_AT, INVALID_ADDRESS },                     /* no RAM */
	};

	return cr_make_param_array(struct entry_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct entry_case *c, psci_request, entry_in_ram)
{
	const struct mem_region_cfg m = { c->base, c->size };
	struct psci_resume res = { 0 };

	cr_expect_eq(psci_request_check(FN64, c->entry, 7, 0, alone, 1, &m, &res), c->want,
		     "entry 0x%llx in [0x%llx, +0x%llx)", (unsigned long long)c->entry,
		     (unsigned long long)c->base, (unsigned long long)c->size);
	cr_expect_eq(res.entry, c->entry, "res filled either way");
	cr_expect_eq(res.context_id, 7);
}

struct others_case {
	uint32_t caller;
	uint32_t mp[4];
	int64_t want;
};

ParameterizedTestParameters(psci_request, other_vcpus)
{
	static struct others_case cases[] = {
		{ 0, { RUNNABLE, STOPPED, STOPPED, STOPPED }, 0 },
		/* The caller's own state does not count, wherever it sits. */
		{ 2, { STOPPED, STOPPED, SUSPENDED, STOPPED }, 0 },
		{ 3, { STOPPED, STOPPED, STOPPED, RUNNABLE }, 0 },
		{ 0, { RUNNABLE, RUNNABLE, STOPPED, STOPPED }, DENIED },
		{ 0, { RUNNABLE, STOPPED, STOPPED, SUSPENDED }, DENIED },
		{ 3, { RUNNABLE, STOPPED, STOPPED, RUNNABLE }, DENIED },
		{ 1, { STOPPED, RUNNABLE, STOPPED, 99 }, DENIED },    /* unknown state */
	};

	return cr_make_param_array(struct others_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct others_case *c, psci_request, other_vcpus)
{
	struct psci_resume res = { 0 };

	cr_expect_eq(psci_request_check(FN64, RAM_AT, 0, c->caller, c->mp, 4, &ram, &res),
		     c->want, "caller %u", c->caller);
	cr_expect_eq(res.vcpu, c->caller);
}

Test(psci_request, denied_before_invalid_address)
{
	const uint32_t mp[2] = { RUNNABLE, RUNNABLE };
	struct psci_resume res = { 0 };

	cr_expect_eq(psci_request_check(FN32, 0x1000, 5, 1, mp, 2, &ram, &res), DENIED);
	cr_expect_eq(res.vcpu, 1);
	cr_expect_eq(res.entry, 0x1000);
	cr_expect_eq(res.context_id, 5);
}

Test(psci_request, single_vcpu)
{
	const uint32_t states[] = { RUNNABLE, SUSPENDED, STOPPED };
	struct psci_resume res = { 0 };

	for (unsigned i = 0; i < 3; i++) {
		cr_expect_eq(psci_request_check(FN64, RAM_AT, 0, 0, &states[i], 1, &ram, &res),
			     0, "own state %u", states[i]);
		cr_expect_eq(res.vcpu, 0);
	}
}
