/* file_io.h - whole transfers through read/write system calls, which may
 * stop short or be interrupted by a signal: each loop lives here once. */
#ifndef TORPOR_FILE_IO_H
#define TORPOR_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

/* Not an errno: the file ended before len bytes were read, or a write moved
 * no bytes (returned 0). Lets callers say "truncated" rather than an error. */
#define FILE_IO_SHORT   1

/* Reads len bytes at offset off into p, retrying EINTR and short reads.
 * 0, FILE_IO_SHORT when the file ends first, or a negative errno. */
int pread_full(int fd, void *p, size_t len, uint64_t off);

/* Writes len bytes from p at offset off, retrying EINTR and short writes.
 * 0, FILE_IO_SHORT when a write makes no progress, or a negative errno. */
int pwrite_full(int fd, const void *p, size_t len, uint64_t off);

/* pwrite_full at the file position, for pipes and terminals. EAGAIN on a
 * non-blocking fd is an error like any other. */
int write_full(int fd, const void *p, size_t len);

#endif
