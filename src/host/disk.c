/* disk.c - a guest's disk on the host: opening and locking, vectored I/O
 * at byte offsets, discard and zeroing, the mtime stamp that identifies a
 * disk across a checkpoint, the copy-on-write overlay, and snapshot copies. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"
#include "log.h"
#include "file_io.h"

#define IOV_BATCH       128             /* iovecs per preadv/pwritev call */
#define RW_MAX          (1u << 30)      /* bytes per call, well below SSIZE_MAX */
#define CHUNK           (1u << 20)      /* bytes per plain write, zeroing or copying */

/* Never written: the source of every zero buffer write. In .bss, so it costs
 * neither file size nor memory until read. */
static uint8_t zeros[CHUNK];

struct disk_overlay {
	int fd;                         /* unlinked, sized like the disk, sparse */
	uint64_t *map;                  /* bit per cluster: 1 = in the overlay */
	uint8_t buf[DISK_OVERLAY_CLUSTER];      /* read-modify-write bounce */
};

static int in_range(const struct disk *d, uint64_t off, uint64_t len)
{
	return off <= d->size && len <= d->size - off;
}

/* Sum of the iovec lengths; -EINVAL if it does not fit 64 bits. */
static int iov_total(const struct iovec *iov, int iovcnt, uint64_t *total)
{
	uint64_t t = 0;

	if (iovcnt < 0)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > UINT64_MAX - t)
			return -EINVAL;
		t += iov[i].iov_len;
	}
	*total = t;
	return 0;
}

/* Transfers bytes [skip, skip + len) of the iovec array at file offset off,
 * resuming after short transfers and EINTR. The iovecs must hold them. */
static int iov_rw(int fd, int wr, uint64_t off, const struct iovec *iov, int iovcnt,
		  uint64_t skip, uint64_t len)
{
	struct iovec v[IOV_BATCH];

	while (len) {
		size_t want = 0;
		int n = 0;
		ssize_t r;

		while (iovcnt && skip >= iov->iov_len) {
			skip -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		for (int i = 0; i < iovcnt && n < IOV_BATCH && want < len && want < RW_MAX; i++) {
			size_t at = i ? 0 : (size_t)skip;
			uint64_t l = iov[i].iov_len - at;

			if (l > len - want)
				l = len - want;
			if (l > RW_MAX - want)
				l = RW_MAX - want;
			if (!l)
				continue;
			v[n].iov_base = (uint8_t *)iov[i].iov_base + at;
			v[n].iov_len = (size_t)l;
			want += (size_t)l;
			n++;
		}
		if (!n)
			return -EINVAL;
		r = wr ? pwritev(fd, v, n, (off_t)off) : preadv(fd, v, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;    /* the file shrank beneath us */
		skip += (uint64_t)r;
		len -= (uint64_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Copies bytes [skip, skip + len) of the iovec array into p. */
static void iov_gather(const struct iovec *iov, int iovcnt, uint64_t skip, uint8_t *p, size_t len)
{
	for (int i = 0; i < iovcnt && len; i++) {
		size_t l;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		l = iov[i].iov_len - (size_t)skip;
		if (l > len)
			l = len;
		memcpy(p, (uint8_t *)iov[i].iov_base + skip, l);
		p += l;
		len -= l;
		skip = 0;
	}
}

/* Writes zeros over [off, off + len) with plain writes. */
static int zero_fill(int fd, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		int r = pwrite_full(fd, zeros, n, off);

		if (r)
			return r < 0 ? r : -EIO;
		off += n;
		len -= n;
	}
	return 0;
}

/* --- the --disk argument ---------------------------------------------------- */

int disk_spec_parse(char *arg, struct disk_spec *s, char *err, size_t errlen)
{
	char *comma = strchr(arg, ',');
	char *serial = NULL;
	int readonly = 0;

	if (comma == arg || !*arg) {
		err_line(err, errlen, "--disk %s: empty path", arg);
		return -EINVAL;
	}
	/* Checked whole before any ',' becomes a NUL, so messages quote arg. */
	for (char *o = comma; o; o = strchr(o, ',')) {
		char *end;
		size_t len;

		o++;
		end = strchr(o, ',');
		len = end ? (size_t)(end - o) : strlen(o);
		if (len == 8 && !memcmp(o, "readonly", 8)) {
			readonly = 1;
		} else if (len >= 7 && !memcmp(o, "serial=", 7)) {
			size_t slen = len - 7;

			if (serial) {
				err_line(err, errlen, "--disk %s: serial given twice", arg);
				return -EINVAL;
			}
			serial = o + 7;
			if (!slen || slen > DISK_SERIAL_MAX) {
				err_line(err, errlen, "--disk %s: the serial must be 1 to %d bytes",
				    arg, DISK_SERIAL_MAX);
				return -EINVAL;
			}
			for (size_t i = 0; i < slen; i++) {
				if (serial[i] < 0x20 || serial[i] > 0x7e) {
					err_line(err, errlen,
					    "--disk %s: the serial must be printable ASCII", arg);
					return -EINVAL;
				}
			}
		} else if (!len) {
			err_line(err, errlen, "--disk %s: empty option", arg);
			return -EINVAL;
		} else {
			err_line(err, errlen, "--disk %s: unknown option '%.*s'", arg, (int)len, o);
			return -EINVAL;
		}
	}
	for (char *p = comma; p; p = strchr(p + 1, ','))
		*p = '\0';
	s->path = arg;
	s->readonly = readonly;
	s->serial = serial;
	return 0;
}

/* --- opening ---------------------------------------------------------------- */

/* Opens path into d: resolved, checked and locked. writable: O_RDWR and an
 * exclusive lock, else O_RDONLY and a shared one. d->readonly is set to
 * !writable; the caller fills serial and may change readonly. */
static int open_path(struct disk *d, const char *path, int writable, char *err, size_t errlen)
{
	char *abs;
	struct stat st;
	int fd, fl, r;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	abs = realpath(path, NULL);
	if (!abs) {
		r = -errno;
		err_line(err, errlen, "disk %s: %s", path, strerror(-r));
		return r;
	}
	if (strlen(abs) > DISK_PATH_MAX) {
		err_line(err, errlen, "disk %s: the absolute path is longer than %d bytes",
		    path, DISK_PATH_MAX);
		free(abs);
		return -ENAMETOOLONG;
	}
	strcpy(d->path, abs);
	free(abs);

	/* O_NONBLOCK: a fifo given by mistake must not hang the open. */
	fd = open(d->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		err_line(err, errlen, "disk %s: %s", d->path, strerror(-r));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		err_line(err, errlen, "disk %s: %s", d->path, strerror(-r));
		goto out_fd;
	}
	if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
		d->blk_size = DISK_SECTOR;
	} else if (S_ISBLK(st.st_mode)) {
		int ssz;

		if (ioctl(fd, BLKGETSIZE64, &d->size) < 0 || ioctl(fd, BLKSSZGET, &ssz) < 0) {
			r = -errno;
			err_line(err, errlen, "disk %s: %s", d->path, strerror(-r));
			goto out_fd;
		}
		d->blk_size = (uint32_t)ssz;
		d->blockdev = 1;
	} else {
		err_line(err, errlen, "disk %s is not a regular file or a block device", d->path);
		r = -EINVAL;
		goto out_fd;
	}
	if (!d->size || d->size % DISK_SECTOR) {
		err_line(err, errlen, "disk %s: size %llu is not a non-zero multiple of %d",
		    d->path, (unsigned long long)d->size, DISK_SECTOR);
		r = -EINVAL;
		goto out_fd;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		r = -errno;
		err_line(err, errlen, "disk %s: %s", d->path, strerror(-r));
		goto out_fd;
	}
	if (flock(fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK) {
			err_line(err, errlen, "disk %s is in use by another process", d->path);
			r = -EBUSY;
		} else {
			err_line(err, errlen, "disk %s: lock: %s", d->path, strerror(-r));
		}
		goto out_fd;
	}
	d->fd = fd;
	d->readonly = !writable;
	return 0;
out_fd:
	close(fd);
out:
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	return r;
}

int disk_open(struct disk *d, const struct disk_spec *s, char *err, size_t errlen)
{
	int r = open_path(d, s->path, !s->readonly, err, errlen);

	if (!r && s->serial)
		snprintf(d->serial, sizeof(d->serial), "%s", s->serial);
	return r;
}

void disk_close(struct disk *d)
{
	if (!d->path[0])
		return;
	if (d->overlay) {
		close(d->overlay->fd);
		free(d->overlay->map);
		free(d->overlay);
	}
	if (d->fd >= 0)
		close(d->fd);   /* drops the lock */
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

/* --- the overlay ------------------------------------------------------------ */

static int ov_has(const struct disk_overlay *o, uint64_t c)
{
	return o->map[c / 64] >> (c % 64) & 1;
}

static void ov_mark(struct disk_overlay *o, uint64_t c0, uint64_t c1)
{
	for (uint64_t c = c0; c < c1; c++)
		o->map[c / 64] |= 1ull << (c % 64);
}

/* Reads each run of clusters from where it lives: the overlay or the base. */
static int ov_read(struct disk *d, uint64_t off, const struct iovec *iov, int iovcnt, uint64_t len)
{
	struct disk_overlay *o = d->overlay;
	uint64_t end = off + len, skip = 0;

	while (off < end) {
		uint64_t c = off / DISK_OVERLAY_CLUSTER, run_end;
		int has = ov_has(o, c);
		int r;

		do
			c++;
		while (c * DISK_OVERLAY_CLUSTER < end && ov_has(o, c) == has);
		run_end = c * DISK_OVERLAY_CLUSTER < end ? c * DISK_OVERLAY_CLUSTER : end;
		r = iov_rw(has ? o->fd : d->fd, 0, off, iov, iovcnt, skip, run_end - off);
		if (r)
			return r;
		skip += run_end - off;
		off = run_end;
	}
	return 0;
}

/* Puts [off, off + len) into the overlay: the bytes of iov, or zeros when
 * iov is NULL. Whole clusters are written (or punched) as they are; a
 * partial cluster not yet in the overlay is first filled from the base. A
 * cluster is marked only once its bytes are in the overlay. */
static int ov_write(struct disk *d, uint64_t off, const struct iovec *iov, int iovcnt, uint64_t len)
{
	struct disk_overlay *o = d->overlay;
	uint64_t end = off + len, skip = 0;

	while (off < end) {
		uint64_t c = off / DISK_OVERLAY_CLUSTER;
		uint64_t cstart = c * DISK_OVERLAY_CLUSTER;
		uint64_t cend = cstart + DISK_OVERLAY_CLUSTER < d->size
			      ? cstart + DISK_OVERLAY_CLUSTER : d->size;
		/* The disk's last cluster may be short: covered to the disk's end
		 * it is whole. */
		uint64_t full_end = end == d->size ? end : end / DISK_OVERLAY_CLUSTER * DISK_OVERLAY_CLUSTER;
		uint64_t n;
		int r;

		if (off == cstart && full_end > off) {
			n = full_end - off;
			if (iov) {
				r = iov_rw(o->fd, 1, off, iov, iovcnt, skip, n);
			} else {
				r = fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					      (off_t)off, (off_t)n) ? -errno : 0;
				if (r == -EOPNOTSUPP)
					r = zero_fill(o->fd, off, n);
			}
			if (r)
				return r;
			ov_mark(o, c, (full_end + DISK_OVERLAY_CLUSTER - 1) / DISK_OVERLAY_CLUSTER);
		} else {
			n = (end < cend ? end : cend) - off;
			if (ov_has(o, c)) {
				r = iov ? iov_rw(o->fd, 1, off, iov, iovcnt, skip, n)
					: pwrite_full(o->fd, zeros, (size_t)n, off);
			} else {
				size_t at = (size_t)(off - cstart), clen = (size_t)(cend - cstart);

				r = pread_full(d->fd, o->buf, clen, cstart);
				if (!r) {
					if (iov)
						iov_gather(iov, iovcnt, skip, o->buf + at, (size_t)n);
					else
						memset(o->buf + at, 0, (size_t)n);
					r = pwrite_full(o->fd, o->buf, clen, cstart);
				}
			}
			if (r)
				return r < 0 ? r : -EIO;
			ov_mark(o, c, c + 1);
		}
		skip += n;
		off += n;
	}
	return 0;
}

static int ov_create(struct disk *d, const char *tmpdir, char *err, size_t errlen)
{
	uint64_t nclusters = (d->size + DISK_OVERLAY_CLUSTER - 1) / DISK_OVERLAY_CLUSTER;
	struct disk_overlay *o;
	int fd, r;

	if (!tmpdir)
		tmpdir = "/tmp";
	fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	/* Kernels or file systems without O_TMPFILE: a named file, unlinked
	 * at once. Old kernels see O_DIRECTORY | O_RDWR and say EISDIR. */
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		char name[PATH_MAX];

		if (snprintf(name, sizeof(name), "%s/torpor-overlay.XXXXXX", tmpdir)
		    >= (int)sizeof(name)) {
			errno = ENAMETOOLONG;
		} else {
			fd = mkostemp(name, O_CLOEXEC);
			if (fd >= 0)
				unlink(name);
		}
	}
	if (fd < 0) {
		r = -errno;
		err_line(err, errlen, "disk %s: overlay in %s: %s", d->path, tmpdir, strerror(-r));
		return r;
	}
	if (ftruncate(fd, (off_t)d->size) < 0) {
		r = -errno;
		err_line(err, errlen, "disk %s: overlay in %s: %s", d->path, tmpdir, strerror(-r));
		close(fd);
		return r;
	}
	o = malloc(sizeof(*o));
	if (o)
		o->map = calloc((size_t)((nclusters + 63) / 64), sizeof(uint64_t));
	if (!o || !o->map) {
		free(o);
		close(fd);
		err_line(err, errlen, "disk %s: overlay: out of memory", d->path);
		return -ENOMEM;
	}
	o->fd = fd;
	d->overlay = o;
	return 0;
}

/* --- I/O -------------------------------------------------------------------- */

int disk_read(struct disk *d, uint64_t off, const struct iovec *iov, int iovcnt)
{
	uint64_t len;

	if (iov_total(iov, iovcnt, &len) || !in_range(d, off, len))
		return -EINVAL;
	if (d->overlay)
		return ov_read(d, off, iov, iovcnt, len);
	return iov_rw(d->fd, 0, off, iov, iovcnt, 0, len);
}

int disk_write(struct disk *d, uint64_t off, const struct iovec *iov, int iovcnt)
{
	uint64_t len;

	if (iov_total(iov, iovcnt, &len) || !in_range(d, off, len))
		return -EINVAL;
	if (d->readonly)
		return -EROFS;
	if (!len)
		return 0;
	if (d->overlay)
		return ov_write(d, off, iov, iovcnt, len);
	return iov_rw(d->fd, 1, off, iov, iovcnt, 0, len);
}

int disk_flush(struct disk *d)
{
	/* An overlay is gone after a crash whatever we sync: nothing to make
	 * durable, and the base was never written. */
	if (d->overlay)
		return 0;
	return fdatasync(d->fd) < 0 ? -errno : 0;
}

/* Discard and write-zeroes change [off, off + len): inside, and writable. */
static int can_change(const struct disk *d, uint64_t off, uint64_t len)
{
	if (!in_range(d, off, len))
		return -EINVAL;
	return d->readonly ? -EROFS : 0;
}

int disk_discard(struct disk *d, uint64_t off, uint64_t len)
{
	int r = can_change(d, off, len);

	if (r || !len)
		return r;
	/* The base stays untouched; zeros are what a file's discard leaves too. */
	if (d->overlay)
		return ov_write(d, off, NULL, 0, len);
	if (d->blockdev) {
		uint64_t range[2] = { off, len };

		return ioctl(d->fd, BLKDISCARD, range) < 0 ? -errno : 0;
	}
	return fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 (off_t)off, (off_t)len) < 0 ? -errno : 0;
}

int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len, int unmap)
{
	int r = can_change(d, off, len);

	if (r || !len)
		return r;
	if (d->overlay)
		return ov_write(d, off, NULL, 0, len);
	if (d->blockdev) {
		uint64_t range[2] = { off, len };

		r = ioctl(d->fd, BLKZEROOUT, range) < 0 ? -errno : 0;
		/* EINVAL: a range not aligned to a larger logical block. */
		if (r != -EOPNOTSUPP && r != -ENOTTY && r != -EINVAL)
			return r;
	} else {
		r = fallocate(d->fd, unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
				       : FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) < 0 ? -errno : 0;
		if (r != -EOPNOTSUPP)
			return r;
	}
	return zero_fill(d->fd, off, len);
}

/* --- identity ----------------------------------------------------------------- */

static int same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Sets the mtime of a writable file to a value no later write can produce:
 * 1 ns before the coarse clock's current second. A write stores the coarse
 * clock, whose second is later; and a copying tool that keeps only whole
 * seconds or microseconds (busybox cp -a, utime(2)) keeps that second, so
 * disk_mtime_matches can accept its copy. A file system that keeps coarser
 * timestamps rounds ours: then a whole 2 s earlier, below FAT's 2 s. */
static int stamp_mtime(int fd)
{
	struct timespec t[2] = { { .tv_nsec = UTIME_OMIT } }, now;
	struct stat st;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	t[1].tv_sec = now.tv_sec - 1;
	t[1].tv_nsec = 999999999;
	if (futimens(fd, t) < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!same_time(&st.st_mtim, &t[1])) {
		t[1].tv_sec = now.tv_sec - 2;
		t[1].tv_nsec = 0;
		if (futimens(fd, t) < 0)
			return -errno;
	}
	return 0;
}

int disk_mtime_matches(int64_t rec_sec, uint32_t rec_nsec, int64_t sec, long nsec)
{
	if (sec != rec_sec)
		return 0;
	for (uint32_t unit = 1; unit <= 1000000000u; unit *= 1000)
		if (nsec == (long)(rec_nsec - rec_nsec % unit))
			return 1;
	return 0;
}

int disk_stamp(struct disk *d, struct disk_record *rec, char *err, size_t errlen)
{
	struct stat st;
	int r = 0;

	if (d->overlay) {
		err_line(err, errlen, "disk %s has a private overlay: its writes are thrown away "
		    "at exit, so a checkpoint cannot keep it", d->path);
		return -EOPNOTSUPP;
	}
	if (!d->readonly && !d->blockdev) {
		r = stamp_mtime(d->fd);
		/* fsync, not fdatasync: the stamp is metadata. */
		if (!r && fsync(d->fd) < 0)
			r = -errno;
	} else if (!d->readonly && fdatasync(d->fd) < 0) {
		r = -errno;
	}
	if (!r && fstat(d->fd, &st) < 0)
		r = -errno;
	if (r) {
		err_line(err, errlen, "disk %s: %s", d->path, strerror(-r));
		return r;
	}
	rec->flags = (d->readonly ? DISK_REC_READONLY : 0) | (d->blockdev ? DISK_REC_BLOCKDEV : 0);
	rec->size = d->size;
	rec->mtime_sec = st.st_mtim.tv_sec;
	rec->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	memcpy(rec->serial, d->serial, sizeof(rec->serial));
	memcpy(rec->path, d->path, sizeof(rec->path));
	return 0;
}

int disk_reopen(struct disk *d, const struct disk_record *rec, const char *path,
		int overlay, const char *tmpdir, char *err, size_t errlen)
{
	int readonly = !!(rec->flags & DISK_REC_READONLY);
	int blockdev = !!(rec->flags & DISK_REC_BLOCKDEV);
	struct stat st;
	int r;

	if (readonly)
		overlay = 0;    /* nothing would ever reach it */
	r = open_path(d, path ? path : rec->path, !readonly && !overlay, err, errlen);
	if (r)
		return r;
	if (d->blockdev != blockdev) {
		err_line(err, errlen, "disk %s is a %s, the image expects a %s", d->path,
		    d->blockdev ? "block device" : "file", blockdev ? "block device" : "file");
		r = -EINVAL;
		goto fail;
	}
	if (d->size != rec->size) {
		err_line(err, errlen, "disk %s: size %llu, the image expects %llu", d->path,
		    (unsigned long long)d->size, (unsigned long long)rec->size);
		r = -EINVAL;
		goto fail;
	}
	if (!blockdev) {
		if (fstat(d->fd, &st) < 0) {
			r = -errno;
			err_line(err, errlen, "disk %s: %s", d->path, strerror(-r));
			goto fail;
		}
		if (!disk_mtime_matches(rec->mtime_sec, rec->mtime_nsec,
					st.st_mtim.tv_sec, st.st_mtim.tv_nsec)) {
			err_line(err, errlen, "disk %s was written after the checkpoint "
			    "(mtime %lld.%09ld, the image expects %lld.%09u)", d->path,
			    (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
			    (long long)rec->mtime_sec, rec->mtime_nsec);
			r = -ESTALE;
			goto fail;
		}
	}
	if (overlay) {
		r = ov_create(d, tmpdir, err, errlen);
		if (r)
			goto fail;
	}
	d->readonly = readonly;
	memcpy(d->serial, rec->serial, sizeof(d->serial));
	d->serial[DISK_SERIAL_MAX] = '\0';
	return 0;
fail:
	disk_close(d);
	return r;
}

/* --- snapshot copies ------------------------------------------------------------ */

static int tmp_name(char *out, const char *dst)
{
	return snprintf(out, PATH_MAX, "%s.tmp", dst) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Copies [off, off + len) from sfd to dfd at the same offset: copy_file_range
 * (which may share blocks itself), or read and write where it cannot. */
static int copy_extent(int sfd, int dfd, uint64_t off, uint64_t len)
{
	uint8_t *buf;
	int r = 0;

	while (len) {
		loff_t in = (loff_t)off, out = (loff_t)off;
		size_t n = len < RW_MAX ? (size_t)len : RW_MAX;
		ssize_t c = copy_file_range(sfd, &in, dfd, &out, n, 0);

		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS
			      || errno == EOPNOTSUPP))
			break;
		if (c < 0)
			return -errno;
		if (c == 0)
			return -EIO;
		off += (uint64_t)c;
		len -= (uint64_t)c;
	}
	if (!len)
		return 0;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	while (len && !r) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;

		r = pread_full(sfd, buf, n, off);
		if (!r)
			r = pwrite_full(dfd, buf, n, off);
		off += n;
		len -= n;
	}
	free(buf);
	return r > 0 ? -EIO : r;
}

/* Copies the data extents of the disk, leaving holes as holes; a source
 * that cannot tell (SEEK_DATA unsupported) is copied whole. */
static int copy_data(const struct disk *d, int dfd)
{
	uint64_t pos = 0;

	while (pos < d->size) {
		off_t data = lseek(d->fd, (off_t)pos, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			return 0;       /* only a hole is left */
		if (data < 0 && errno == EINVAL)
			return copy_extent(d->fd, dfd, pos, d->size - pos);
		if (data < 0)
			return -errno;
		hole = lseek(d->fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole > d->size)
			hole = (off_t)d->size;
		if (data < hole) {
			int r = copy_extent(d->fd, dfd, (uint64_t)data, (uint64_t)(hole - data));

			if (r)
				return r;
		}
		pos = (uint64_t)hole;
	}
	return 0;
}

int disk_copy(struct disk *d, const char *dst, int *reflinked, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct timespec t[2] = { { .tv_nsec = UTIME_OMIT } };
	struct stat st, cst;
	int dfd, r;

	*reflinked = 0;
	if (d->overlay) {
		err_line(err, errlen, "disk %s has a private overlay: its writes are thrown away "
		    "at exit, so a checkpoint cannot keep it", d->path);
		return -EOPNOTSUPP;
	}
	r = tmp_name(tmp, dst);
	if (r) {
		err_line(err, errlen, "copy of disk %s to %s: %s", d->path, dst, strerror(-r));
		return r;
	}
	if (fstat(d->fd, &st) < 0) {
		r = -errno;
		err_line(err, errlen, "disk %s: %s", d->path, strerror(-r));
		return r;
	}
	/* O_TRUNC: a .tmp left by a crashed checkpoint is ours to reuse. */
	dfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0666);
	if (dfd < 0) {
		r = -errno;
		err_line(err, errlen, "copy of disk %s: %s: %s", d->path, tmp, strerror(-r));
		return r;
	}
	r = ioctl(dfd, FICLONE, d->fd) < 0 ? -errno : 0;
	if (!r) {
		*reflinked = 1;
	} else if (r == -EOPNOTSUPP || r == -EXDEV || r == -EINVAL || r == -ENOTTY) {
		r = copy_data(d, dfd);
		if (!r && ftruncate(dfd, (off_t)d->size) < 0)
			r = -errno;
	}
	/* The same mtime, so that the disk's record identifies the copy too. */
	t[1] = st.st_mtim;
	if (!r && futimens(dfd, t) < 0)
		r = -errno;
	if (!r && fsync(dfd) < 0)
		r = -errno;
	if (!r && fstat(dfd, &cst) < 0)
		r = -errno;
	if (r) {
		err_line(err, errlen, "copy of disk %s to %s: %s", d->path, tmp, strerror(-r));
		goto fail;
	}
	if (!same_time(&cst.st_mtim, &st.st_mtim)) {
		err_line(err, errlen, "copy of disk %s to %s: its file system cannot keep the "
		    "disk's mtime to the nanosecond", d->path, tmp);
		r = -EOPNOTSUPP;
		goto fail;
	}
	if (close(dfd) < 0) {
		r = -errno;
		err_line(err, errlen, "copy of disk %s to %s: %s", d->path, tmp, strerror(-r));
		unlink(tmp);
		return r;
	}
	return 0;
fail:
	close(dfd);
	unlink(tmp);
	return r;
}

int disk_copy_commit(const char *dst, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	char *slash;
	int r, dfd;

	r = tmp_name(tmp, dst);
	if (!r && rename(tmp, dst) < 0)
		r = -errno;
	if (r) {
		err_line(err, errlen, "copy of a disk to %s: %s", dst, strerror(-r));
		return r;
	}
	/* The rename is durable once the directory is. */
	snprintf(dir, sizeof(dir), "%s", dst);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		r = -errno;
	if (dfd >= 0)
		close(dfd);
	if (r)
		err_line(err, errlen, "copy of a disk to %s: sync of %s: %s", dst, dir, strerror(-r));
	return r;
}

void disk_copy_abort(const char *dst)
{
	char tmp[PATH_MAX];

	if (!tmp_name(tmp, dst))
		unlink(tmp);
}
