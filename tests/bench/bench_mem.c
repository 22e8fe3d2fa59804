/* bench_mem.c - throughput of the guest memory engine against the zstd CLI and
 * memcpy on one realistic sample of guest RAM, with the targets of the image
 * engine judged PASS or MISS.
 *
 * Usage: bench_mem [-s MiB] [-r raw] [-d dir] [-t threads] [-l level] [--sweep]
 *   -s  synthetic sample size (default 1024 MiB)
 *   -r  real guest memory dump to use instead (default build/bench/guest-mem.raw
 *       when it exists)
 *   -d  scratch directory for the raw sample and the outputs (default build/bench)
 *   --sweep  measure chunk sizes instead (ratio, speed, cost of one chunk) */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image_mem.h"

#define PAGE MEM_PAGE_SIZE
#define MiB (1024.0 * 1024.0)
#define GiB (1024.0 * MiB)
#define POOL_MAX (64u << 20)

extern char **environ;

/* The page mix, in percent, of a Linux guest that has run for a while: half
 * its pages zero (never used, or zeroed on free), the rest file cache and
 * program text, heap and slab data, and memory the guest freed without
 * zeroing, which is most of its "free" memory; some is incompressible
 * (compressed files, keys, media). */
enum kind { ZERO, TEXT, CODE, STALE, RANDOM, KINDS };
static const unsigned mix[KINDS] = { 50, 12, 13, 15, 10 };
static const char *const kind_name[KINDS] = { "zero", "text", "code", "stale", "random" };

static double clock_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_read(CLOCK_MONOTONIC);
}

static double cpu_now(void)
{
	return clock_read(CLOCK_PROCESS_CPUTIME_ID);
}

/* Writes back what earlier steps left dirty, so that its writeback does not
 * steal the CPU from the step about to be timed. */
static void settle(void)
{
	sync();
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* ---- sample ----------------------------------------------------------------- */

/* File contents collected by pool_add() from directory walks. */
struct pool {
	uint8_t *buf;
	size_t len;
	const char *suffix;     /* only files ending so */
};

/* Where a pool's files come from, in order of preference, until it is full. */
struct source {
	const char *dir;
	const char *suffix;
};

static struct pool *walking;

static int pool_add(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t n = strlen(path), sl = strlen(walking->suffix);
	ssize_t got;
	int fd;

	if (type != FTW_F || sb->st_size < PAGE || walking->len >= POOL_MAX ||
	    n < sl || strcmp(path + n - sl, walking->suffix))
		return 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	got = read(fd, walking->buf + walking->len, POOL_MAX - walking->len);
	if (got > 0)
		walking->len += (size_t)got & ~(size_t)(PAGE - 1);
	close(fd);
	return 0;
}

/* Fills p with up to POOL_MAX bytes of the files srcs name; prints whence. */
static void pool_fill(struct pool *p, const char *what, const struct source *srcs)
{
	p->buf = malloc(POOL_MAX);
	p->len = 0;
	if (!p->buf)
		die("malloc");
	walking = p;
	printf("%s pages from", what);
	for (; srcs->dir && p->len < POOL_MAX; srcs++) {
		size_t before = p->len;

		p->suffix = srcs->suffix;
		nftw(srcs->dir, pool_add, 16, FTW_PHYS);
		if (p->len > before)
			printf(" %s/*%s (%.0f MiB)", srcs->dir, srcs->suffix,
			       (double)(p->len - before) / MiB);
	}
	printf("\n");
	if (p->len < PAGE) {
		fprintf(stderr, "bench_mem: no files for %s pages\n", what);
		exit(1);
	}
}

/* A page of freed heap or slab memory: objects of pointers, counters, flags
 * and string pieces, some cleared, as the allocator left them. */
static void page_stale_heap(uint8_t *p, uint64_t *s, const struct pool *text)
{
	for (size_t off = 0; off < PAGE; off += 64) {
		uint64_t *w = (uint64_t *)(p + off);
		uint64_t r = rng_next(s);

		switch (r % 5) {
		case 0:
			memset(w, 0, 64);
			break;
		case 1:
			memcpy(w, text->buf + (r >> 8) % (text->len - 64), 64);
			break;
		default:
			for (int i = 0; i < 8; i++) {
				uint64_t v = rng_next(s);

				w[i] = i % 3 == 0 ? 0xffff000000000000ull | (v & 0xfffffff8) :
				       i % 3 == 1 ? 0x0000aaaa00000000ull | (v & 0xffffff8) :
						    v & 0xff;
			}
		}
	}
}

static void page_from_pool(uint8_t *p, uint64_t *s, const struct pool *pool)
{
	memcpy(p, pool->buf + (rng_next(s) % (pool->len / PAGE)) * PAGE, PAGE);
}

/* Fills sample with runs of 1..32 pages of one kind drawn by mix[], every
 * page written (zero pages too: they are populated, the harder case). */
static void sample_make(uint8_t *sample, size_t pages, uint64_t counts[KINDS])
{
	static const struct source text_src[] = {
		{ "/usr/include", ".h" }, { "/usr/lib/python3", ".py" }, { NULL, NULL } };
	/* aarch64 code: the arm64 kernel's modules that scripts/deps.sh unpacks;
	 * this host's programs when they are absent. */
	static const struct source code_src[] = {
		{ "build/deps/arm64/lib/modules", ".ko" }, { "build/deps/arm64/bin", "" },
		{ "/usr/bin", "" }, { NULL, NULL } };
	struct pool text, code;
	uint64_t s = 0x2545f4914f6cdd1dull;
	size_t i = 0;

	pool_fill(&text, "text", text_src);
	pool_fill(&code, "code", code_src);
	while (i < pages) {
		unsigned pick = (unsigned)(rng_next(&s) % 100), k = 0;
		size_t run = 1 + rng_next(&s) % 32;

		while (pick >= mix[k])
			pick -= mix[k++];
		for (; run && i < pages; run--, i++) {
			uint8_t *p = sample + i * PAGE;

			counts[k]++;
			if (k == ZERO)
				memset(p, 0, PAGE);
			else if (k == TEXT)
				page_from_pool(p, &s, &text);
			else if (k == CODE)
				page_from_pool(p, &s, &code);
			else if (k == STALE && rng_next(&s) % 2)
				page_stale_heap(p, &s, &text);
			else if (k == STALE)
				page_from_pool(p, &s, rng_next(&s) % 2 ? &text : &code);
			else
				for (size_t j = 0; j < PAGE; j += 8)
					*(uint64_t *)(p + j) = rng_next(&s);
		}
	}
	free(text.buf);
	free(code.buf);
}

/* A real dump: read into anonymous memory, so every page is populated. */
static uint8_t *sample_load(const char *path, size_t *size)
{
	struct stat sb;
	uint8_t *m;
	size_t done = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &sb) < 0)
		die(path);
	*size = (size_t)sb.st_size & ~(size_t)(PAGE - 1);
	m = map_anon(*size);
	while (done < *size) {
		ssize_t n = read(fd, m + done, *size - done);

		if (n <= 0)
			die(path);
		done += (size_t)n;
	}
	close(fd);
	return m;
}

/* ---- measurements ---------------------------------------------------------- */

static void file_write(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path);
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			die(path);
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

static uint64_t file_size(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		die(path);
	return (uint64_t)sb.st_size;
}

/* Seconds taken by argv with stdin and stdout redirected to files; its CPU
 * seconds (user and system) in *cpu. */
static double run_timed(char *const argv[], const char *in, const char *out, double *cpu)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	double t0;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	settle();
	t0 = now();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ))
		die(argv[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die(argv[0]);
	t0 = now() - t0;
	posix_spawn_file_actions_destroy(&fa);
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return t0;
}

static double memcpy_speed(const uint8_t *src, size_t len)
{
	uint8_t *dst = map_anon(len);
	double t;

	memset(dst, 1, len);    /* fault it in: the bound is the copy alone */
	t = now();
	memcpy(dst, src, len);
	t = now() - t;
	munmap(dst, len);
	return (double)len / GiB / t;
}

struct run {
	double save_s, load_s;          /* wall clock */
	double save_cpu, load_cpu;      /* CPU time of all threads */
	uint64_t bytes;
	uint32_t stored_chunks;
};

/* Encodes region to path and decodes it into fresh memory, checking it. */
static void engine_run(const char *path, const uint8_t *region, size_t len,
		       const struct image_write_opts *opts, uint32_t chunk_pages,
		       unsigned load_threads, struct run *r)
{
	struct image_mem_src src = { .guest_addr = 0x80000000, .host = region, .size = len };
	struct image_error err = { 0 };
	struct mem_index idx;
	uint64_t off = 0;
	uint8_t *dst;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path);
	settle();
	r->save_s = now();
	r->save_cpu = cpu_now();
	if (mem_encodechunks(fd, &off, &src, opts, chunk_pages, &idx, NULL, &err)) {
		fprintf(stderr, "bench_mem: encode: %s\n", err.msg);
		exit(1);
	}
	r->save_s = now() - r->save_s;
	r->save_cpu = cpu_now() - r->save_cpu;
	r->bytes = off;
	r->stored_chunks = 0;
	for (uint32_t c = 0; c < idx.nchunks; c++)
		r->stored_chunks += idx.chunks[c].length != 0;

	dst = map_anon(len);
	settle();
	r->load_s = now();
	r->load_cpu = cpu_now();
	if (mem_decode(fd, &idx, dst, load_threads, &err, 0)) {
		fprintf(stderr, "bench_mem: decode: %s\n", err.msg);
		exit(1);
	}
	r->load_s = now() - r->load_s;
	r->load_cpu = cpu_now() - r->load_cpu;
	if (memcmp(dst, region, len)) {
		fprintf(stderr, "bench_mem: decoded memory differs\n");
		exit(1);
	}
	munmap(dst, len);
	mem_index_free(&idx);
	close(fd);
}

static double least(double a, double b)
{
	return a < b ? a : b;
}

static double gibps(size_t len, double s)
{
	return (double)len / GiB / s;
}

static void verdict(const char *what, double got, double want, bool at_least, const char *unit)
{
	bool pass = at_least ? got >= want : got <= want;

	printf("target %-34s %s %5.2f%s: %6.2f%s  %s\n", what, at_least ? ">=" : "<=", want,
	       unit, got, unit, pass ? "PASS" : "MISS");
}

static void bench_main(const uint8_t *sample, size_t len, const char *dir,
		       const struct image_write_opts *opts)
{
	char raw[4096], zst[4096], img[4096], null[] = "/dev/null";
	char *zc[] = { "zstd", "-q", "-1", "-T0", "-c", NULL };
	char *zd[] = { "zstd", "-q", "-d", "-T0", "-c", NULL };
	double cp, zc_s, zd_s, zc_cpu, zd_cpu, zero_s, untouched_s;
	struct run r, z;
	uint8_t *zero;

	snprintf(raw, sizeof(raw), "%s/mem-sample.raw", dir);
	snprintf(zst, sizeof(zst), "%s/mem-sample.raw.zst", dir);
	snprintf(img, sizeof(img), "%s/mem-sample.chunks", dir);
	file_write(raw, sample, len);

	cp = memcpy_speed(sample, len);
	engine_run(img, sample, len, opts, MEM_CHUNK_PAGES, opts->threads, &r);
	zc_s = run_timed(zc, raw, zst, &zc_cpu);
	zd_s = run_timed(zd, zst, null, &zd_cpu);

	zero = map_anon(len);
	memset(zero, 0, len);   /* populated zero pages: every byte is scanned */
	engine_run(img, zero, len, opts, MEM_CHUNK_PAGES, opts->threads, &z);
	zero_s = z.save_s;
	munmap(zero, len);
	zero = map_anon(len);   /* never touched: only the page tables are asked */
	engine_run(img, zero, len, opts, MEM_CHUNK_PAGES, opts->threads, &z);
	untouched_s = z.save_s;
	munmap(zero, len);

	printf("memcpy (1 thread)       %6.2f GiB/s\n", cp);
	printf("torpor save             %6.2f GiB/s of guest RAM, %6.1f MiB (%.3f of raw), "
	       "cpu %.2f s\n", gibps(len, r.save_s), (double)r.bytes / MiB,
	       (double)r.bytes / (double)len, r.save_cpu);
	printf("torpor load             %6.2f GiB/s of guest RAM, into fresh memory, "
	       "cpu %.2f s\n", gibps(len, r.load_s), r.load_cpu);
	printf("zstd -1 -T0             %6.2f GiB/s, %6.1f MiB (%.3f of raw), cpu %.2f s\n",
	       gibps(len, zc_s), (double)file_size(zst) / MiB,
	       (double)file_size(zst) / (double)len, zc_cpu);
	printf("zstd -d -T0 >/dev/null  %6.2f GiB/s, cpu %.2f s\n", gibps(len, zd_s), zd_cpu);
	printf("all-zero region, save   %6.2f GiB/s populated, %.2f GiB/s never touched\n",
	       gibps(len, zero_s), gibps(len, untouched_s));
	verdict("save speed vs zstd -1 -T0", zc_s / r.save_s, 1.5, true, "x");
	verdict("save size vs zstd -1 -T0", (double)r.bytes / (double)file_size(zst), 1.02,
		false, "x");
	verdict("load speed", gibps(len, r.load_s), 2.0, true, " GiB/s");
	verdict("all-zero save vs memcpy", gibps(len, zero_s) / cp, 1.0, true, "x");
	unlink(raw);
	unlink(zst);
	unlink(img);
}

/* Chunk size trade-off: output size and speed against how much one must read
 * and decompress to reach a single page (the unit of a lazy restore). Best of
 * three runs, and CPU seconds too, as other work on the machine adds noise. */
static void bench_sweep(const uint8_t *sample, size_t len, const char *dir,
			const struct image_write_opts *opts)
{
	static const uint32_t sizes[] = { 16, 64, 256, 1024 };
	char img[4096];

	snprintf(img, sizeof(img), "%s/mem-sweep.chunks", dir);
	printf("%-8s %8s %7s %10s %8s %10s %8s %10s\n", "chunk", "MiB", "of raw",
	       "save GiB/s", "cpu s", "load GiB/s", "cpu s", "us/chunk");
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct run best = { 1e9, 1e9, 1e9, 1e9, 0, 0 }, r;
		double one = 1e9;

		for (int rep = 0; rep < 3; rep++) {
			engine_run(img, sample, len, opts, sizes[i], opts->threads, &r);
			best.save_s = least(best.save_s, r.save_s);
			best.save_cpu = least(best.save_cpu, r.save_cpu);
			best.load_s = least(best.load_s, r.load_s);
			best.load_cpu = least(best.load_cpu, r.load_cpu);
			best.bytes = r.bytes;
			engine_run(img, sample, len, opts, sizes[i], 1, &r);
			one = least(one, r.load_s / r.stored_chunks);
		}
		printf("%5u KiB %8.1f %7.4f %10.2f %8.2f %10.2f %8.2f %10.0f\n",
		       sizes[i] * PAGE / 1024, (double)best.bytes / MiB,
		       (double)best.bytes / (double)len, gibps(len, best.save_s),
		       best.save_cpu, gibps(len, best.load_s), best.load_cpu, one * 1e6);
	}
	printf("us/chunk: one thread's decode time per stored chunk, the cost of the "
	       "first touch of a page in a lazy restore\n");
	unlink(img);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "sweep", no_argument, NULL, 'w' },
						  { NULL, 0, NULL, 0 } };
	const char *raw = "build/bench/guest-mem.raw", *dir = "build/bench";
	struct image_write_opts opts = { 0 };
	uint64_t counts[KINDS] = { 0 };
	size_t len = 1024ul << 20;
	bool sweep = false, synthetic;
	uint8_t *sample;
	int c;

	while ((c = getopt_long(argc, argv, "s:r:d:t:l:", longopts, NULL)) != -1) {
		switch (c) {
		case 's': len = strtoul(optarg, NULL, 0) << 20; break;
		case 'r': raw = optarg; break;
		case 'd': dir = optarg; break;
		case 't': opts.threads = (unsigned)atoi(optarg); break;
		case 'l': opts.level = atoi(optarg); break;
		case 'w': sweep = true; break;
		default:
			fprintf(stderr, "usage: bench_mem [-s MiB] [-r raw] [-d dir] "
					"[-t threads] [-l level] [--sweep]\n");
			return 2;
		}
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(dir);
	synthetic = access(raw, R_OK) != 0;
	if (synthetic) {
		len &= ~(size_t)(PAGE - 1);
		sample = map_anon(len);
		sample_make(sample, len / PAGE, counts);
		printf("sample: synthetic, %.0f MiB:", (double)len / MiB);
		for (int k = 0; k < KINDS; k++)
			printf(" %s %.1f%%", kind_name[k], 100.0 * (double)counts[k] /
							    (double)(len / PAGE));
		printf("\n");
	} else {
		sample = sample_load(raw, &len);
		printf("sample: %s, %.0f MiB\n", raw, (double)len / MiB);
	}
	printf("engine: %u KiB chunks, zstd level %d, %ld threads\n",
	       MEM_CHUNK_PAGES * PAGE / 1024, opts.level ? opts.level : 1,
	       opts.threads ? (long)opts.threads : sysconf(_SC_NPROCESSORS_ONLN));
	if (sweep)
		bench_sweep(sample, len, dir, &opts);
	else
		bench_main(sample, len, dir, &opts);
	return 0;
}
