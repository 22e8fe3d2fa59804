/* file_io.c - the one EINTR / short-transfer loop behind pread_full,
 * pwrite_full and write_full. */
#include <errno.h>
#include <unistd.h>

#include "file_io.h"

enum op { OP_PREAD, OP_PWRITE, OP_WRITE };

/* p is written only by OP_PREAD; the write calls take it back as const. */
static int transfer(enum op op, int fd, void *p, size_t len, uint64_t off)
{
	uint8_t *b = p;

	while (len) {
		ssize_t n = op == OP_PREAD ? pread(fd, b, len, (off_t)off)
			  : op == OP_PWRITE ? pwrite(fd, b, len, (off_t)off)
			  : write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return FILE_IO_SHORT;
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int pread_full(int fd, void *p, size_t len, uint64_t off)
{
	return transfer(OP_PREAD, fd, p, len, off);
}

int pwrite_full(int fd, const void *p, size_t len, uint64_t off)
{
	return transfer(OP_PWRITE, fd, (void *)p, len, off);
}

int write_full(int fd, const void *p, size_t len)
{
	return transfer(OP_WRITE, fd, (void *)p, len, 0);
}
