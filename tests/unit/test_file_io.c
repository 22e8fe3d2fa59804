/* test_file_io.c - pread_full, pwrite_full and write_full on real files and
 * pipes: offsets, end of file, errno results, a write cut short by a file
 * size limit, and a pipe write interrupted by signals (EINTR and short). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "file_io.h"
#include "tmp_fd.h"

/* A temporary file holding "0123456789". */
static int ten_byte_file(void)
{
	int fd = tmp_fd();

	cr_assert_eq(write(fd, "0123456789", 10), 10);
	return fd;
}

Test(file_io, pread_full_reads_at_offset)
{
	int fd = ten_byte_file();
	char b[5] = { 0 };

	cr_assert_eq(pread_full(fd, b, 4, 3), 0);
	cr_assert_str_eq(b, "3456");
	cr_assert_eq(pread_full(fd, b, 0, 10), 0, "nothing to read is not end of file");
	close(fd);
}

Test(file_io, pread_full_reports_end_of_file)
{
	int fd = ten_byte_file();
	char b[20];

	cr_assert_eq(pread_full(fd, b, sizeof(b), 0), FILE_IO_SHORT);
	cr_assert_eq(memcmp(b, "0123456789", 10), 0, "the bytes before the end are read");
	cr_assert_eq(pread_full(fd, b, 1, 10), FILE_IO_SHORT);
	cr_assert_eq(pread_full(fd, b, 10, 0), 0);
	close(fd);
}

Test(file_io, pread_full_returns_negative_errno)
{
	int p[2];
	char b[4];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pread_full(p[0], b, sizeof(b), 0), -ESPIPE);
	close(p[0]);
	close(p[1]);
	cr_assert_eq(pread_full(p[0], b, sizeof(b), 0), -EBADF);
}

Test(file_io, pwrite_full_writes_at_offset)
{
	int fd = tmp_fd();
	char b[6] = { 0 };

	cr_assert_eq(pwrite_full(fd, "hello", 5, 4096), 0);
	cr_assert_eq(lseek(fd, 0, SEEK_END), 4096 + 5);
	cr_assert_eq(pread(fd, b, 5, 4096), 5);
	cr_assert_str_eq(b, "hello");
	close(fd);
}

/* Past RLIMIT_FSIZE the first pwrite stops short at the limit and the next
 * fails with EFBIG: the loop must go on after the short write, then report. */
Test(file_io, pwrite_full_goes_on_after_a_short_write)
{
	struct rlimit lim = { 100, 100 };
	uint8_t out[200], in[200];
	int fd = tmp_fd();

	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)i;
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_assert_eq(pwrite_full(fd, out, sizeof(out), 0), -EFBIG);
	cr_assert_eq(lseek(fd, 0, SEEK_END), 100);
	cr_assert_eq(pread(fd, in, 100, 0), 100);
	cr_assert_eq(memcmp(in, out, 100), 0);
	close(fd);
}

Test(file_io, pwrite_full_returns_negative_errno)
{
	int ro = open("/dev/null", O_RDONLY);

	cr_assert(ro >= 0);
	cr_assert_eq(pwrite_full(ro, "x", 1, 0), -EBADF);
	close(ro);
}

Test(file_io, write_full_returns_negative_errno)
{
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	cr_assert_eq(write_full(p[1], "x", 1), -EPIPE);
	close(p[1]);
}

/* --- a pipe write interrupted by signals ---------------------------------- */

#define PAYLOAD (256 * 1024)

static volatile sig_atomic_t signals;

static void count_signal(int sig)
{
	signals++;
}

struct drain {
	int fd;
	pthread_t writer;
	uint8_t *got;
	size_t len;
};

/* Interrupts the writer blocked on the full pipe (EINTR, nothing written),
 * then reads a page at a time, interrupting it after each read once it has
 * written part of its buffer (a short write). Reads until end of file. */
static void *drain_thread(void *arg)
{
	struct drain *d = arg;
	ssize_t n;

	for (int i = 0; i < 5; i++) {
		usleep(10000);
		pthread_kill(d->writer, SIGUSR1);
	}
	do {
		n = read(d->fd, d->got + d->len, 4096);
		if (n > 0)
			d->len += (size_t)n;
		usleep(200);
		pthread_kill(d->writer, SIGUSR1);
	} while (n > 0);
	return NULL;
}

Test(file_io, write_full_retries_interrupted_and_short_writes, .timeout = 20)
{
	struct sigaction sa = { .sa_handler = count_signal };   /* no SA_RESTART */
	uint8_t *out = malloc(PAYLOAD);
	struct drain d = { .writer = pthread_self() };
	pthread_t t;
	size_t filled = 0;
	int p[2];

	cr_assert(out);
	for (size_t i = 0; i < PAYLOAD; i++)
		out[i] = (uint8_t)(i * 7 + i / 4096);
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	cr_assert_eq(pipe(p), 0);

	/* Fill the pipe so that the first write blocks at once. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (write(p[1], "f", 1) == 1)
		filled++;
	fcntl(p[1], F_SETFL, 0);
	d.fd = p[0];
	d.got = malloc(filled + PAYLOAD + 4096);
	cr_assert(d.got);

	cr_assert_eq(pthread_create(&t, NULL, drain_thread, &d), 0);
	cr_assert_eq(write_full(p[1], out, PAYLOAD), 0);
	close(p[1]);
	pthread_join(t, NULL);

	cr_assert_gt(signals, 5, "the writer was interrupted");
	cr_assert_eq(d.len, filled + PAYLOAD);
	cr_assert_eq(memcmp(d.got + filled, out, PAYLOAD), 0, "every byte once, in order");
	close(p[0]);
	free(d.got);
	free(out);
}
