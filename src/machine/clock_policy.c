/* clock_policy.c - the restored counter: frozen, or advanced by the downtime. */
#include <errno.h>

#include "clock_policy.h"

int clock_policy_counter(const struct clock_ref *saved, int64_t now_ns,
			 enum clock_mode mode, uint64_t *counter, int64_t *gap_ns)
{
	/* 128 bits: neither the difference of two int64 nor ns * Hz fits 64. */
	__int128 gap = (__int128)now_ns - saved->realtime_ns;
	unsigned __int128 ticks;

	if (mode == CLOCK_FREEZE || gap <= 0) {
		*counter = saved->counter;
		*gap_ns = 0;
		return 0;
	}
	if (gap > INT64_MAX)
		return -ERANGE;
	ticks = (unsigned __int128)gap * saved->counter_freq / 1000000000;
	if (ticks > UINT64_MAX - saved->counter)
		return -ERANGE;
	*counter = saved->counter + (uint64_t)ticks;
	*gap_ns = (int64_t)gap;
	return 0;
}

uint64_t clock_policy_physical(uint64_t virt, uint64_t saved_pct, uint64_t saved_vct)
{
	return virt + (saved_pct - saved_vct);
}
