/* blkbench - test tool: the disk figures of the rig's I/O comparison, run
 * alike inside a guest (on its virtio-blk disk) and on the rig's host (on
 * the file behind it), so the two can be set side by side as ratios.
 *
 * usage: blkbench [-b] FILE MIB
 *
 * On the first MIB MiB of FILE, with O_DIRECT (the page cache would measure
 * memory, not the disk path): a sequential write in 1 MiB blocks with an
 * fdatasync at the end, a sequential read in 1 MiB blocks, then 4 KiB reads
 * at pseudo-random aligned offsets, RAND_READS of them (a guest path far
 * slower than the host's must not make the run long).
 * -b: buffered, without O_DIRECT, for the host side of the comparison: the
 * same calls torpor makes for a guest's requests (it does page-cache I/O on
 * the disk's file), and the only kind tmpfs takes before Linux 6.6.
 * Prints "blkbench mode direct|buffered", then one line per test:
 * "blkbench NAME MB/s IOPS". Exit 1 on any failure, with the reason on
 * stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BIG     (1u << 20)
#define SMALL   4096u
#define RAND_READS 2048u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, uint64_t bytes, uint64_t ops, double secs)
{
	printf("blkbench %s %.1f %.0f\n", name, (double)bytes / 1e6 / secs,
	       (double)ops / secs);
}

/* Transfers n bytes at off, whole or fails. */
static int io(int fd, int write, void *buf, size_t n, off_t off)
{
	ssize_t r = write ? pwrite(fd, buf, n, off) : pread(fd, buf, n, off);

	if (r != (ssize_t)n) {
		fprintf(stderr, "blkbench: %s at %lld: %s\n", write ? "write" : "read",
			(long long)off, r < 0 ? strerror(errno) : "short transfer");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, bytes, blocks;
	int buffered = argc == 4 && !strcmp(argv[1], "-b");
	unsigned long mib;
	uint8_t *buf;
	double t;
	int fd;

	argv += buffered;
	argc -= buffered;
	if (argc != 3 || !(mib = strtoul(argv[2], NULL, 10))) {
		fprintf(stderr, "usage: blkbench [-b] FILE MIB\n");
		return 2;
	}
	bytes = (uint64_t)mib * BIG;
	fd = open(argv[1], O_RDWR | (buffered ? 0 : O_DIRECT));
	if (fd < 0 || posix_memalign((void **)&buf, SMALL, BIG)) {
		fprintf(stderr, "blkbench: %s: %s%s\n", argv[1], strerror(errno),
			errno == EINVAL && !buffered ? " (no O_DIRECT here? -b is buffered)" : "");
		return 1;
	}
	printf("blkbench mode %s\n", buffered ? "buffered" : "direct");
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (uint8_t)(i * 131 + 7);

	t = now();
	for (uint64_t off = 0; off < bytes; off += BIG)
		if (io(fd, 1, buf, BIG, (off_t)off))
			return 1;
	if (fdatasync(fd)) {
		perror("blkbench: fdatasync");
		return 1;
	}
	report("seq-write-1M", bytes, mib, now() - t);

	t = now();
	for (uint64_t off = 0; off < bytes; off += BIG)
		if (io(fd, 0, buf, BIG, (off_t)off))
			return 1;
	report("seq-read-1M", bytes, mib, now() - t);

	blocks = bytes / SMALL;
	t = now();
	for (uint64_t i = 0; i < RAND_READS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (io(fd, 0, buf, SMALL, (off_t)((x % blocks) * SMALL)))
			return 1;
	}
	report("rand-read-4K", (uint64_t)RAND_READS * SMALL, RAND_READS, now() - t);
	close(fd);
	return 0;
}
