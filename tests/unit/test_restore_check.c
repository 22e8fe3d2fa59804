/* test_restore_check.c - an image against the host that is to run it: every
 * refusal names both sides, and an image that fits passes. */
#include <criterion/criterion.h>
#include <string.h>

#include "image_mem.h"
#include "le.h"
#include "memmap.h"
#include "restore_check.h"

static struct vm_state st;
static struct host_limits host;
static char msg[256];

#define GIB (1ULL << 30)

static void setup(void)
{
	memset(&st, 0, sizeof(st));
	st.config.ncpus = 2;
	st.config.nmem = 1;
	st.config.mem[0].guest_addr = RAM_BASE;
	st.config.mem[0].size = GIB;
	st.clock.counter_freq = 62500000;
	st.host.midr = 0x410fd490;
	st.resume.vcpu = 1;
	host = (struct host_limits){ 62500000, 0x410fd490, 4 * GIB, IPA_BITS, NULL };
	msg[0] = 0;
}

static int check(uint64_t pages)
{
	return restore_check_host(&st, pages, &host, msg, sizeof(msg));
}

static void refused(uint64_t pages, const char *a, const char *b)
{
	cr_assert_eq(check(pages), -1, "accepted");
	cr_expect_not_null(strstr(msg, a), "'%s' lacks '%s'", msg, a);
	cr_expect_not_null(strstr(msg, b), "'%s' lacks '%s'", msg, b);
}

TestSuite(restore_check, .init = setup);

Test(restore_check, an_image_that_fits)
{
	cr_expect_eq(check(GIB / MEM_PAGE_SIZE), 0, "%s", msg);
	cr_expect_eq(check(0), 0, "%s", msg);
	st.host.midr = 0;       /* unknown on either side: not compared */
	cr_expect_eq(check(1), 0, "%s", msg);
}

Test(restore_check, vcpus_and_regions)
{
	st.config.ncpus = 0;
	refused(0, "0 vCPUs", "1..32");
	setup();
	st.config.ncpus = TORPOR_MAX_CPUS + 1;
	refused(0, "33 vCPUs", "1..32");
	setup();
	st.config.nmem = 2;
	refused(0, "2 memory regions", "one region");
	setup();
	st.resume.vcpu = 2;
	refused(0, "resumes vCPU 2 of 2", "");
}

Test(restore_check, counter_and_cpu)
{
	host.counter_freq = 25000000;
	refused(0, "62500000 Hz", "25000000 Hz");
	setup();
	host.midr = 0x410fd0c0;
	refused(0, "0x410fd490", "0x410fd0c0");
}

/* A 136 KB image may declare 1 GiB of stored pages, or a TiB: refused when
 * the host cannot hold them, and when they exceed the guest's own RAM. */
Test(restore_check, stored_pages_the_host_cannot_hold)
{
	host.memory_bytes = GIB / 2;
	refused(GIB / MEM_PAGE_SIZE, "1024 MiB of guest memory", "512 MiB of RAM and swap");
	cr_expect_eq(check(GIB / 2 / MEM_PAGE_SIZE), 0, "exactly what it holds: %s", msg);
	setup();
	st.config.mem[0].size = (1ULL << IPA_BITS) - RAM_BASE;      /* 1022 GiB */
	host.memory_bytes = 16 * GIB;
	refused(st.config.mem[0].size / MEM_PAGE_SIZE, "1046528 MiB of guest memory",
		"16384 MiB of RAM and swap");
	setup();
	refused(GIB / MEM_PAGE_SIZE + 1, "262145 pages, more than its RAM of 262144", "");
}

Test(restore_check, ram_beyond_the_address_space)
{
	st.config.mem[0].size = (1ULL << IPA_BITS) - RAM_BASE;
	cr_expect_eq(check(0), 0, "RAM up to the last address: %s", msg);
	st.config.mem[0].size += MEM_PAGE_SIZE;
	refused(0, "40-bit guest address space", "0x80000000..");
	setup();
	st.config.mem[0].guest_addr = ~0ULL - 4095;
	st.config.mem[0].size = 1ULL << 20;
	refused(0, "address space", "");
}

/* A guest whose stage-1 walks start at level -1: this TCR_EL1 is what
 * Debian 13's kernel (52-bit VA with LPA2) saved in the rig; on a host
 * before 6.9 the restored guest would die at its first walk. */
Test(restore_check, lpa2_walks_on_an_old_host)
{
	static uint64_t ids[1] = { 0x603000000013c102ULL };     /* TCR_EL1 */
	static uint8_t data[8];

	le_put64(data, 0x095001f6b54c350cULL);
	st.vcpus[1].nregs = 1;
	st.vcpus[1].reg_ids = ids;
	st.vcpus[1].reg_data = data;
	st.vcpus[1].reg_data_len = sizeof(data);
	host.kernel_release = "6.12.118+deb13-arm64";
	cr_expect_eq(check(0), 0, "%s", msg);
	host.kernel_release = NULL;     /* unknown: not judged */
	cr_expect_eq(check(0), 0, "%s", msg);
	host.kernel_release = "6.1.0-57-arm64";
	refused(0, "vCPU 1 ", "from level -1");
	cr_expect_not_null(strstr(msg, "Linux 6.1.0-57-arm64"), "%s", msg);
	/* Debian 12's kernel (48-bit VA) walks from level 0. */
	le_put64(data, 0x015001f5b5503510ULL);
	cr_expect_eq(check(0), 0, "%s", msg);
}
