/* test_clock_policy.c - the restored counter: freeze, continue across gaps
 * of zero, negative and ten years, high counter frequencies without
 * overflow, and the refusal to wrap past 2^64. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>

#include "clock_policy.h"

#define NS              1000000000ll
#define T0              (1700000000ll * NS)     /* the checkpoint's wall clock */
#define TEN_YEARS_S     (10ll * 36525 * 86400 / 100)
#define HZ_25M          25000000ull
#define HZ_1G           1000000000ull
#define HZ_2_32         (1ull << 32)

struct gap_case {
	uint64_t counter, freq;
	int64_t saved_ns, now_ns;
	uint64_t want_counter;
	int64_t want_gap;
};

ParameterizedTestParameters(clock_policy, continue_mode)
{
	static struct gap_case cases[] = {
		/* No time passed, or the host clock went back: no advance. */
		{ 1000, HZ_25M, T0, T0, 1000, 0 },
		{ 1000, HZ_25M, T0, T0 - 3600 * NS, 1000, 0 },
		{ 1000, HZ_25M, T0, INT64_MIN, 1000, 0 },
		{ 1000, HZ_25M, INT64_MAX, INT64_MIN, 1000, 0 },
		/* One second; ticks round down (39 ns at 25 MHz is 0.975). */
		{ 1000, HZ_25M, T0, T0 + NS, 1000 + HZ_25M, NS },
		{ 1000, HZ_25M, T0, T0 + 39, 1000, 39 },
		{ 1000, HZ_25M, T0, T0 + 40, 1001, 40 },
		{ 0, HZ_1G, T0, T0 + 1, 1, 1 },
		/* Ten years: ns * Hz needs more than 64 bits from 25 MHz on. */
		{ 5, HZ_25M, T0, T0 + TEN_YEARS_S * NS, 5 + TEN_YEARS_S * HZ_25M, TEN_YEARS_S * NS },
		{ 5, HZ_1G, T0, T0 + TEN_YEARS_S * NS, 5 + TEN_YEARS_S * HZ_1G, TEN_YEARS_S * NS },
		{ 5, HZ_2_32, T0, T0 + TEN_YEARS_S * NS, 5 + TEN_YEARS_S * HZ_2_32,
		  TEN_YEARS_S * NS },
		/* The largest downtime, and a checkpoint before the epoch. */
		{ 0, HZ_1G, 0, INT64_MAX, INT64_MAX, INT64_MAX },
		{ 0, HZ_1G, -NS, NS, 2 * HZ_1G, 2 * NS },
		/* Right up to the last tick. */
		{ UINT64_MAX - HZ_25M, HZ_25M, T0, T0 + NS, UINT64_MAX, NS },
		{ UINT64_MAX, HZ_25M, T0, T0 + 39, UINT64_MAX, 39 },
	};

	return cr_make_param_array(struct gap_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct gap_case *c, clock_policy, continue_mode)
{
	const struct clock_ref saved = { c->counter, c->freq, c->saved_ns };
	uint64_t cnt = 0;
	int64_t gap = -1;

	cr_assert_eq(clock_policy_counter(&saved, c->now_ns, CLOCK_CONTINUE, &cnt, &gap), 0);
	cr_expect_eq(cnt, c->want_counter, "counter %llu, want %llu", (unsigned long long)cnt,
		     (unsigned long long)c->want_counter);
	cr_expect_eq(gap, c->want_gap);
}

struct wrap_case {
	uint64_t counter, freq;
	int64_t saved_ns, now_ns;
};

ParameterizedTestParameters(clock_policy, refuses_to_wrap)
{
	static struct wrap_case cases[] = {
		{ UINT64_MAX - HZ_25M + 1, HZ_25M, T0, T0 + NS },       /* one tick over */
		{ UINT64_MAX, HZ_1G, T0, T0 + 1 },
		{ 1, HZ_2_32, 0, INT64_MAX },   /* 3.96e19 ticks from the advance alone */
		{ 0, HZ_1G, INT64_MIN, 1 },     /* downtime over INT64_MAX ns */
		{ 0, 1, INT64_MIN, INT64_MAX }, /* even where the ticks would fit */
	};

	return cr_make_param_array(struct wrap_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct wrap_case *c, clock_policy, refuses_to_wrap)
{
	const struct clock_ref saved = { c->counter, c->freq, c->saved_ns };
	uint64_t cnt = 42;
	int64_t gap = 43;

	cr_expect_eq(clock_policy_counter(&saved, c->now_ns, CLOCK_CONTINUE, &cnt, &gap),
		     -ERANGE);
	cr_expect_eq(cnt, 42, "nothing set on refusal");
	cr_expect_eq(gap, 43);
}

Test(clock_policy, freeze_keeps_the_saved_counter)
{
	const int64_t nows[] = { T0, T0 + NS, T0 - NS, T0 + TEN_YEARS_S * NS, INT64_MIN,
				 INT64_MAX };
	const struct clock_ref saved = { UINT64_MAX - 3, HZ_2_32, T0 };

	for (unsigned i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		uint64_t cnt = 0;
		int64_t gap = -1;

		cr_expect_eq(clock_policy_counter(&saved, nows[i], CLOCK_FREEZE, &cnt, &gap), 0);
		cr_expect_eq(cnt, UINT64_MAX - 3);
		cr_expect_eq(gap, 0);
	}
}

/* The physical counter keeps the distance the guest saw to the virtual one,
 * across wrap-around of either. */
Test(clock_policy, physical_keeps_its_distance)
{
	cr_expect_eq(clock_policy_physical(1000, 5000, 900), 5100);
	cr_expect_eq(clock_policy_physical(1000, 900, 900), 1000);
	cr_expect_eq(clock_policy_physical(1000, 100, 900), 200, "physical behind virtual");
	cr_expect_eq(clock_policy_physical(UINT64_MAX, 10, 5), 4, "wraps as the counters do");
	cr_expect_eq(clock_policy_physical(7, 3, UINT64_MAX - 1), 12);
}
