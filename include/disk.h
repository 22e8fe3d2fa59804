/* disk.h - a guest's disk on the host: a raw image file or a block device,
 * opened once, read and written at byte offsets, flushed, and identified so
 * that a checkpoint and a later restore can agree it is the same disk with
 * the same contents. Optionally seen through a private copy-on-write overlay
 * (restore --disk-overlay), or copied next to an image (snapshot mode).
 *
 * Functions return 0 (or a count) on success and a negative errno on
 * failure; those taking err write a one-line reason naming the disk there.
 * Thread safety: disk_read, disk_write, disk_flush, disk_discard and
 * disk_write_zeroes may run on one thread while another only reads d->size. */
#ifndef TORPOR_DISK_H
#define TORPOR_DISK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vm_state.h"

#define DISK_SECTOR             512     /* virtio-blk's unit */
#define DISK_OVERLAY_CLUSTER    4096    /* copy-on-write granularity */

/* One --disk argument. */
struct disk_spec {
	const char *path;
	int readonly;
	const char *serial;             /* NULL: none */
};

struct disk_overlay;

struct disk {
	int fd;                         /* the disk (read-only under an overlay) */
	char path[DISK_PATH_MAX + 1];   /* absolute; "" when not open */
	uint64_t size;                  /* bytes, a multiple of DISK_SECTOR */
	int readonly;                   /* the guest may not write */
	int blockdev;                   /* a block device, not a file */
	char serial[DISK_SERIAL_MAX + 1];
	uint32_t blk_size;              /* the host's logical block size */
	struct disk_overlay *overlay;   /* NULL: writes go to the disk */
};

/* Parses "PATH[,readonly][,serial=ID]", options in any order (PATH may not
 * contain ','; "readonly" has no other spelling; ID, given once, is 1 to
 * DISK_SERIAL_MAX printable ASCII bytes). s keeps pointers into arg, which
 * it modifies only on success. -EINVAL with a message in err. */
int disk_spec_parse(char *arg, struct disk_spec *s, char *err, size_t errlen);

/* Opens the disk s names: O_RDWR (O_RDONLY if readonly), a regular file or a
 * block device whose size is a non-zero multiple of DISK_SECTOR, locked
 * against a second torpor (flock, shared when read-only). */
int disk_open(struct disk *d, const struct disk_spec *s, char *err, size_t errlen);

/* Closes d (and drops its overlay); safe on a zeroed or closed disk. */
void disk_close(struct disk *d);

/* Reads or writes iov at byte offset off; the whole range must lie inside
 * the disk (-EINVAL otherwise, nothing done); short transfers are retried;
 * -EROFS for a write to a read-only disk. Returns 0 or -errno. */
int disk_read(struct disk *d, uint64_t off, const struct iovec *iov, int iovcnt);
int disk_write(struct disk *d, uint64_t off, const struct iovec *iov, int iovcnt);

/* fdatasync of the disk. Under an overlay nothing: the overlay does not
 * outlive the process, so there is nothing to make durable. */
int disk_flush(struct disk *d);

/* Deallocates [off, off + len) (punch a hole / BLKDISCARD); -EOPNOTSUPP
 * where the host cannot, -EINVAL outside the disk, -EROFS when read-only.
 * Under an overlay the range reads as zeros afterwards, as on a file. */
int disk_discard(struct disk *d, uint64_t off, uint64_t len);

/* Makes [off, off + len) read as zeros: FALLOC_FL_ZERO_RANGE (punch when
 * unmap is set) or BLKZEROOUT where the host can, else writes zeros. Errors
 * as disk_discard. */
int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len, int unmap);

/* At a checkpoint, with no request in flight: flushes the disk and fixes its
 * identity into rec (path, size, flags, serial, mtime; rec->dev untouched).
 * A writable file's mtime is set to the coarse clock minus 1 ns, a value no
 * later write can leave behind (a write sets the mtime to the coarse clock,
 * which is later), and which cp -a and rsync -a copy; on a file system with
 * coarser timestamps, to 2 s before the clock. A read-only file keeps its
 * mtime, which is recorded; a block device is known by its size alone.
 * Under an overlay -EOPNOTSUPP: the guest's view is not on any disk. */
int disk_stamp(struct disk *d, struct disk_record *rec, char *err, size_t errlen);

/* Restore: opens the disk at path (NULL: rec->path), with the record's
 * read-only flag and serial, and refuses it when it is not the disk rec
 * describes: missing, another kind or size (-EINVAL), or (a file) another
 * mtime, i.e. written after the checkpoint (-ESTALE). overlay: open it
 * read-only and give the guest a private copy-on-write overlay in tmpdir
 * (NULL: /tmp; an unlinked file, gone at exit); ignored for a read-only
 * record. */
int disk_reopen(struct disk *d, const struct disk_record *rec, const char *path,
		int overlay, const char *tmpdir, char *err, size_t errlen);

/* Copies the disk's current contents to dst (snapshot mode's copy kept with
 * an image), after disk_stamp: a reflink (FICLONE) where the file system
 * shares blocks, else a copy that skips holes; with the disk's mtime, so its
 * record names the copy too (-EOPNOTSUPP where dst's file system cannot keep
 * it, or under an overlay). Written to dst.tmp, fsynced, then renamed over
 * dst only by disk_copy_commit (which syncs the directory). *reflinked tells
 * which was used. */
int disk_copy(struct disk *d, const char *dst, int *reflinked, char *err, size_t errlen);
int disk_copy_commit(const char *dst, char *err, size_t errlen);
/* Removes dst.tmp after a failed checkpoint. */
void disk_copy_abort(const char *dst);

#endif
