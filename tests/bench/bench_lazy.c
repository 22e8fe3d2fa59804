/* bench_lazy.c - lazy restore on this host: per chunk size, the cost of the
 * checksum pass against a full decode, the latency of a guest's first touch
 * of a page (a fault that decodes its chunk), the time to touch a scattered
 * working set and to have all of memory resident; and what a zero page costs
 * installed (UFFDIO_ZEROPAGE) against copied (UFFDIO_COPY of zeros).
 *
 * Usage: bench_lazy [-s MiB] [-d dir]
 *   -s  sample size (default 512 MiB: a quarter random, a quarter text, half
 *       zero, in runs of 1 to 64 pages)
 *   -d  scratch directory for the images (default build/bench) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "image_mem.h"
#include "mem_lazy.h"

#define PAGE MEM_PAGE_SIZE
#define TOUCHES 4096u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_lazy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint8_t *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static void sample_make(uint8_t *m, size_t pages)
{
	static const char words[] = "the guest memory of a suspended machine, page by page ";
	uint64_t s = 0x2545f4914f6cdd1dull;

	for (size_t p = 0; p < pages; ) {
		size_t run = 1 + rng(&s) % 64, kind = rng(&s) % 4;

		for (; run && p < pages; run--, p++) {
			uint8_t *pg = m + p * PAGE;

			if (kind == 0)
				for (size_t i = 0; i < PAGE; i += 8) {
					uint64_t v = rng(&s);

					memcpy(pg + i, &v, 8);
				}
			else if (kind == 1)
				for (size_t i = 0; i < PAGE; i++)
					pg[i] = (uint8_t)words[(i + p * 7) % (sizeof(words) - 1)];
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench_chunks(const uint8_t *sample, size_t len, const char *dir, uint32_t cp)
{
	struct image_mem_src src = { .guest_addr = 0x40000000, .host = sample, .size = len };
	struct image_write_opts wo = { .threads = 0 };
	struct mem_lazy_opts lo = { .threads = 0 };
	struct image_write_stats ws = { 0 };
	struct image_error err = { 0 };
	struct mem_lazy_stats st;
	struct mem_index idx;
	static double lat[TOUCHES];
	char path[4096];
	uint64_t off = 0, s = 42;
	double t, t_verify, t_decode, t_touch, t_resident;
	struct mem_lazy *l;
	uint8_t *dst;
	int fd;

	snprintf(path, sizeof(path), "%s/lazy-%u.mem", dir, cp);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	if (mem_encodechunks(fd, &off, &src, &wo, cp, &idx, &ws, &err))
		fprintf(stderr, "encode: %s\n", err.msg), exit(1);
	t = now();
	if (mem_verify(fd, off, &idx, &err, 0))
		fprintf(stderr, "verify: %s\n", err.msg), exit(1);
	t_verify = now() - t;
	dst = map_anon(len);
	t = now();
	if (mem_decode(fd, &idx, dst, 0, &err, 0))
		fprintf(stderr, "decode: %s\n", err.msg), exit(1);
	t_decode = now() - t;
	munmap(dst, len);

	dst = map_anon(len);
	t = now();
	if (mem_lazy_start(&l, fd, &idx, dst, &lo, &err))
		fprintf(stderr, "lazy: %s\n", err.msg), exit(1);
	for (unsigned i = 0; i < TOUCHES; i++) {
		size_t page = rng(&s) % (len / PAGE);
		double t1 = now();

		(void)*(volatile uint8_t *)(dst + page * PAGE);
		lat[i] = now() - t1;
	}
	t_touch = now() - t;
	if (mem_lazy_wait(l, &err))
		fprintf(stderr, "lazy: %s\n", err.msg), exit(1);
	t_resident = now() - t;
	mem_lazy_get_stats(l, &st);
	mem_lazy_free(l);
	munmap(dst, len);
	qsort(lat, TOUCHES, sizeof(lat[0]), cmp_double);
	printf("chunk %5u KiB: check %.3f s = %.2f of a decode (%.3f s); %u touches: p50 %.1f us, "
	       "p99 %.1f us, max %.1f us, all %.3f s; resident %.3f s = %.2f of a decode; "
	       "%u of %u chunks on demand, longest fault %.2f ms\n",
	       cp * PAGE / 1024, t_verify, t_verify / t_decode, t_decode, TOUCHES,
	       lat[TOUCHES / 2] * 1e6, lat[TOUCHES * 99 / 100] * 1e6, lat[TOUCHES - 1] * 1e6,
	       t_touch, t_resident, t_resident / t_decode, st.faulted, st.chunks,
	       st.wait_max_s * 1e3);
	mem_index_free(&idx);
	close(fd);
	unlink(path);
}

/* Per page: the zero page mapped against a page of zeros copied in. */
static void bench_zero(void)
{
	const size_t pages = 16384;
	uint8_t *m = map_anon(pages * PAGE), *zeros = calloc(1, PAGE);
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .range = { (uintptr_t)m, pages * PAGE },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	double t, tz, tc;

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg))
		die("userfaultfd");
	t = now();
	for (size_t i = 0; i < pages / 2; i++) {
		struct uffdio_zeropage z = { .range = { (uintptr_t)m + i * PAGE, PAGE } };

		if (ioctl(fd, UFFDIO_ZEROPAGE, &z))
			die("UFFDIO_ZEROPAGE");
	}
	tz = (now() - t) / (double)(pages / 2);
	t = now();
	for (size_t i = pages / 2; i < pages; i++) {
		struct uffdio_copy c = { .dst = (uintptr_t)m + i * PAGE,
					 .src = (uintptr_t)zeros, .len = PAGE };

		if (ioctl(fd, UFFDIO_COPY, &c))
			die("UFFDIO_COPY");
	}
	tc = (now() - t) / (double)(pages / 2);
	printf("a zero page: UFFDIO_ZEROPAGE %.2f us, UFFDIO_COPY of zeros %.2f us "
	       "(and a page of memory)\n", tz * 1e6, tc * 1e6);
	close(fd);
	munmap(m, pages * PAGE);
	free(zeros);
}

int main(int argc, char **argv)
{
	const char *dir = "build/bench";
	size_t mib = 512;
	uint8_t *sample;
	int c;

	while ((c = getopt(argc, argv, "s:d:")) != -1) {
		if (c == 's')
			mib = strtoul(optarg, NULL, 10);
		else if (c == 'd')
			dir = optarg;
		else
			return fprintf(stderr, "usage: bench_lazy [-s MiB] [-d dir]\n"), 2;
	}
	mkdir(dir, 0755);
	sample = map_anon(mib << 20);
	sample_make(sample, (mib << 20) / PAGE);
	printf("lazy restore of a %zu MiB sample, %ld CPUs, load %s", mib,
	       sysconf(_SC_NPROCESSORS_ONLN), "");
	fflush(stdout);
	system("cut -d' ' -f1-3 /proc/loadavg");
	for (uint32_t cp = 16; cp <= 256; cp *= 4)
		bench_chunks(sample, mib << 20, dir, cp);
	bench_zero();
	return 0;
}
