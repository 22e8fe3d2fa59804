/* host_info.c - clocks and the host fingerprint. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t host_counter_freq(void)
{
#if defined(__aarch64__)
	uint64_t f;

	asm volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
#else
	return 0;
#endif
}

void host_info_read(struct host_info *h)
{
	struct utsname u;
	FILE *f;
	unsigned long long midr = 0;

	memset(h, 0, sizeof(*h));
	if (uname(&u) == 0) {
		snprintf(h->kernel_release, sizeof(h->kernel_release), "%s", u.release);
		snprintf(h->machine, sizeof(h->machine), "%s", u.machine);
	}
	f = fopen("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "r");
	if (f) {
		if (fscanf(f, "%llx", &midr) == 1)
			h->midr = midr;
		fclose(f);
	}
	h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
}
