/* test_disk.c - host disks on scratch files: the --disk argument, what
 * opening refuses, I/O bounds, discard and zeroing, the checkpoint stamp and
 * restore's identity check, the copy-on-write overlay against a model, and
 * snapshot copies (holes kept, mtime kept, commit and abort). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"

static char dir[256];
static char err[512];

/* In $TMPDIR when set, to try another file system (TMPDIR=/dev/shm: tmpfs). */
static void scratch_dir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/torpor_disk.XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
}

static void scratch_rm(void)
{
	char cmd[320];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(disk, .init = scratch_dir, .fini = scratch_rm);

/* A path in the scratch directory; each call's result lives until the next
 * sixteen calls. */
static const char *at(const char *name)
{
	static char paths[16][320];
	static int i;
	char *p = paths[i++ % 16];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

/* A file of size bytes; byte k holds pattern(k) when fill is set. */
static uint8_t pattern(uint64_t k)
{
	return (uint8_t)(k * 7 + (k >> 9) + 1);
}

static const char *make_file(const char *name, uint64_t size, int fill)
{
	const char *p = at(name);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	if (fill) {
		uint8_t *b = malloc(size);

		for (uint64_t k = 0; k < size; k++)
			b[k] = pattern(k);
		cr_assert_eq(pwrite(fd, b, size, 0), (ssize_t)size);
		free(b);
	}
	close(fd);
	return p;
}

static void open_ok(struct disk *d, const char *path, int readonly)
{
	struct disk_spec s = { .path = path, .readonly = readonly };

	cr_assert_eq(disk_open(d, &s, err, sizeof(err)), 0, "%s", err);
}

static int open_rc(struct disk *d, const char *path, int readonly)
{
	struct disk_spec s = { .path = path, .readonly = readonly };

	err[0] = '\0';
	return disk_open(d, &s, err, sizeof(err));
}

static int rd(struct disk *d, uint64_t off, void *p, size_t len)
{
	struct iovec v = { p, len };

	return disk_read(d, off, &v, 1);
}

static int wr(struct disk *d, uint64_t off, const void *p, size_t len)
{
	struct iovec v = { (void *)p, len };

	return disk_write(d, off, &v, 1);
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static void file_bytes(const char *path, uint8_t *b, size_t len)
{
	int fd = open(path, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, b, len, 0), (ssize_t)len);
	close(fd);
}

/* --- the --disk argument ---------------------------------------------------- */

static int parse(const char *arg, struct disk_spec *s)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s", arg);
	err[0] = '\0';
	return disk_spec_parse(buf, s, err, sizeof(err));
}

Test(disk, spec_path_alone)
{
	struct disk_spec s;

	cr_assert_eq(parse("/a/b.img", &s), 0);
	cr_assert_str_eq(s.path, "/a/b.img");
	cr_assert_eq(s.readonly, 0);
	cr_assert_null(s.serial);
}

Test(disk, spec_options_in_any_order)
{
	struct disk_spec s;

	cr_assert_eq(parse("x.img,readonly,serial=ABC 12", &s), 0, "%s", err);
	cr_assert_str_eq(s.path, "x.img");
	cr_assert_eq(s.readonly, 1);
	cr_assert_str_eq(s.serial, "ABC 12");
	cr_assert_eq(parse("x.img,serial=12345678901234567890,readonly", &s), 0, "%s", err);
	cr_assert_str_eq(s.serial, "12345678901234567890");
	cr_assert_eq(s.readonly, 1);
	cr_assert_str_eq(s.path, "x.img");
}

Test(disk, spec_refusals)
{
	struct disk_spec s;

	cr_assert_eq(parse("/x,foo", &s), -EINVAL);
	cr_assert_str_eq(err, "--disk /x,foo: unknown option 'foo'");
	cr_assert_eq(parse("/x,ro", &s), -EINVAL);
	cr_assert(strstr(err, "unknown option 'ro'"), "%s", err);
	cr_assert_eq(parse("", &s), -EINVAL);
	cr_assert(strstr(err, "empty path"), "%s", err);
	cr_assert_eq(parse(",readonly", &s), -EINVAL);
	cr_assert_str_eq(err, "--disk ,readonly: empty path");
	cr_assert_eq(parse("/x,", &s), -EINVAL);
	cr_assert(strstr(err, "empty option"), "%s", err);
	cr_assert_eq(parse("/x,,readonly", &s), -EINVAL);
	cr_assert_eq(parse("/x,serial=123456789012345678901", &s), -EINVAL);
	cr_assert(strstr(err, "1 to 20 bytes"), "%s", err);
	cr_assert_eq(parse("/x,serial=", &s), -EINVAL);
	cr_assert_eq(parse("/x,serial=a\tb", &s), -EINVAL);
	cr_assert(strstr(err, "printable ASCII"), "%s", err);
	cr_assert(!strchr(err, '\t'), "the message stays one plain line");
	cr_assert_eq(parse("/x,serial=\xc3\xa9", &s), -EINVAL);
	cr_assert_eq(parse("/x,serial=a,serial=b", &s), -EINVAL);
	cr_assert(strstr(err, "twice"), "%s", err);
	cr_assert_eq(parse("/x,readonlyx", &s), -EINVAL);
}

Test(disk, spec_refusal_leaves_arg_whole)
{
	char buf[] = "/x,readonly,bad";
	struct disk_spec s;

	cr_assert_eq(disk_spec_parse(buf, &s, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(buf, "/x,readonly,bad");
}

/* --- opening ---------------------------------------------------------------- */

Test(disk, open_reports_the_disk)
{
	const char *p = make_file("a.img", 1 << 20, 0);
	char link[320];
	struct disk d;

	snprintf(link, sizeof(link), "%s/l.img", dir);
	cr_assert_eq(symlink("a.img", link), 0);
	open_ok(&d, link, 0);
	cr_assert_str_eq(d.path, p, "realpath: %s", d.path);
	cr_assert_eq(d.size, 1 << 20);
	cr_assert_eq(d.blk_size, 512);
	cr_assert_eq(d.blockdev, 0);
	cr_assert_eq(d.readonly, 0);
	cr_assert_null(d.overlay);
	disk_close(&d);
	disk_close(&d);
	cr_assert_eq(d.fd, -1);
}

Test(disk, close_of_a_zeroed_disk_leaves_fd_0)
{
	struct disk d;

	memset(&d, 0, sizeof(d));
	disk_close(&d);
	cr_assert_neq(fcntl(0, F_GETFD), -1, "stdin still open");
}

Test(disk, open_refusals)
{
	struct disk d;

	make_file("odd.img", 1000, 0);
	cr_assert_eq(open_rc(&d, at("odd.img"), 0), -EINVAL);
	cr_assert(strstr(err, "size 1000"), "%s", err);
	cr_assert(strstr(err, at("odd.img")), "%s", err);

	make_file("zero.img", 0, 0);
	cr_assert_eq(open_rc(&d, at("zero.img"), 1), -EINVAL);
	cr_assert(strstr(err, "size 0"), "%s", err);

	cr_assert_lt(open_rc(&d, dir, 0), 0, "a directory, writable");
	cr_assert(strstr(err, dir), "%s", err);
	cr_assert_eq(open_rc(&d, dir, 1), -EINVAL, "a directory, read-only");
	cr_assert(strstr(err, "not a regular file or a block device"), "%s", err);

	cr_assert_eq(mkfifo(at("fifo"), 0600), 0);
	cr_assert_eq(open_rc(&d, at("fifo"), 1), -EINVAL, "a fifo, without hanging");

	cr_assert_eq(open_rc(&d, at("missing.img"), 0), -ENOENT);
	cr_assert_eq(strcmp(strstr(err, "missing.img"), "missing.img: No such file or directory"), 0,
		     "%s", err);
	cr_assert_eq(d.fd, -1);
	disk_close(&d);
}

Test(disk, readonly_refuses_writes)
{
	const char *p = make_file("a.img", 8192, 1);
	uint8_t b[512] = { 0 };
	struct disk d;

	open_ok(&d, p, 1);
	cr_assert_eq(d.readonly, 1);
	cr_assert_eq(wr(&d, 0, b, sizeof(b)), -EROFS);
	cr_assert_eq(disk_discard(&d, 0, 512), -EROFS);
	cr_assert_eq(disk_write_zeroes(&d, 0, 512, 0), -EROFS);
	cr_assert_eq(rd(&d, 0, b, sizeof(b)), 0);
	cr_assert_eq(b[1], pattern(1));
	disk_close(&d);
}

Test(disk, lock_conflicts)
{
	const char *p = make_file("a.img", 4096, 0);
	struct disk a, b, c;

	open_ok(&a, p, 0);
	cr_assert_eq(open_rc(&b, p, 0), -EBUSY);
	cr_assert(strstr(err, "is in use by another process"), "%s", err);
	cr_assert(strstr(err, p), "%s", err);
	cr_assert_eq(open_rc(&b, p, 1), -EBUSY, "read-only next to a writer");
	disk_close(&a);

	open_ok(&a, p, 1);
	open_ok(&b, p, 1);
	cr_assert_eq(open_rc(&c, p, 0), -EBUSY, "a writer next to readers");
	disk_close(&a);
	disk_close(&b);
	open_ok(&c, p, 0);
	disk_close(&c);
}

/* --- I/O -------------------------------------------------------------------- */

Test(disk, multi_iovec_round_trip)
{
	const char *p = make_file("a.img", 64 * 1024, 0);
	uint8_t out[3000], in[3000];
	struct iovec wv[4] = {
		{ out, 100 }, { out + 100, 0 }, { out + 100, 2000 }, { out + 2100, 900 },
	};
	struct iovec rv[3] = { { in, 1 }, { in + 1, 2998 }, { in + 2999, 1 } };
	struct disk d;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 5);
	open_ok(&d, p, 0);
	cr_assert_eq(disk_write(&d, 12345, wv, 4), 0);
	cr_assert_eq(disk_read(&d, 12345, rv, 3), 0);
	cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
	cr_assert_eq(disk_flush(&d), 0);
	disk_close(&d);
	{
		uint8_t whole[64 * 1024];

		file_bytes(p, whole, sizeof(whole));
		cr_assert_eq(memcmp(whole + 12345, out, sizeof(out)), 0);
		cr_assert(all_zero(whole, 12345));
	}
}

/* More iovecs than one preadv call takes, each a single byte. */
Test(disk, many_iovecs)
{
	const char *p = make_file("a.img", 4096, 1);
	uint8_t in[1000];
	struct iovec v[1000];
	struct disk d;

	for (int i = 0; i < 1000; i++)
		v[i] = (struct iovec){ in + i, 1 };
	open_ok(&d, p, 0);
	cr_assert_eq(disk_read(&d, 7, v, 1000), 0);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(in[i], pattern(7 + i));
	disk_close(&d);
}

Test(disk, range_checks)
{
	const char *p = make_file("a.img", 1 << 20, 0);
	uint8_t b[1024];
	struct iovec big[2] = { { b, SIZE_MAX }, { b, 2 } };
	struct disk d;

	memset(b, 0xab, sizeof(b));
	open_ok(&d, p, 0);
	cr_assert_eq(wr(&d, (1 << 20) - 512, b, 512), 0, "the last sector");
	cr_assert_eq(rd(&d, (1 << 20) - 512, b, 512), 0);
	cr_assert_eq(wr(&d, (1 << 20) - 511, b, 512), -EINVAL, "one byte past");
	cr_assert_eq(rd(&d, (1 << 20) - 511, b, 512), -EINVAL);
	cr_assert_eq(rd(&d, 1 << 20, b, 1), -EINVAL);
	cr_assert_eq(rd(&d, 1 << 20, b, 0), 0, "empty at the end");
	cr_assert_eq(wr(&d, UINT64_MAX - 100, b, 512), -EINVAL, "offset + length wraps");
	cr_assert_eq(rd(&d, UINT64_MAX, b, 1), -EINVAL);
	cr_assert_eq(disk_read(&d, 0, big, 2), -EINVAL, "the iovec lengths wrap");
	cr_assert_eq(disk_discard(&d, 512, UINT64_MAX - 100), -EINVAL);
	cr_assert_eq(disk_write_zeroes(&d, (1 << 20) - 512, 1024, 0), -EINVAL);
	cr_assert_eq(disk_write_zeroes(&d, UINT64_MAX - 511, 512, 1), -EINVAL);
	disk_close(&d);
}

/* Under an overlay an unchecked wrapping range would do nothing and succeed
 * rather than reach a system call that refuses it. */
Test(disk, range_checks_under_an_overlay)
{
	const char *p = make_file("a.img", 65536, 0);
	struct disk_record rec;
	uint8_t b[512];
	struct disk d;

	open_ok(&d, p, 0);
	memset(&rec, 0, sizeof(rec));
	cr_assert_eq(disk_stamp(&d, &rec, err, sizeof(err)), 0, "%s", err);
	disk_close(&d);
	cr_assert_eq(disk_reopen(&d, &rec, NULL, 1, dir, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(wr(&d, 65536 - 512, b, 512), 0);
	cr_assert_eq(wr(&d, 65536 - 511, b, 512), -EINVAL);
	cr_assert_eq(wr(&d, UINT64_MAX - 100, b, 512), -EINVAL);
	cr_assert_eq(rd(&d, UINT64_MAX - 100, b, 512), -EINVAL);
	cr_assert_eq(disk_write_zeroes(&d, UINT64_MAX - 100, 512, 0), -EINVAL);
	cr_assert_eq(disk_discard(&d, 512, UINT64_MAX - 100), -EINVAL);
	disk_close(&d);
}

/* Discard and both kinds of zeroing on the scratch file system, and that
 * punching frees blocks. */
Test(disk, discard_and_zeroes_read_back_zeros)
{
	const uint64_t size = 1 << 20;
	const char *p = make_file("a.img", size, 1);
	uint8_t *b = malloc(size);
	struct stat st0, st1;
	struct disk d;

	open_ok(&d, p, 0);
	cr_assert_eq(fstat(d.fd, &st0), 0);
	cr_assert_eq(disk_discard(&d, 65536, 131072), 0);
	cr_assert_eq(disk_write_zeroes(&d, 300000, 1000, 0), 0, "unaligned");
	cr_assert_eq(disk_write_zeroes(&d, 524288, 65536, 1), 0);
	cr_assert_eq(rd(&d, 0, b, size), 0);
	for (uint64_t k = 0; k < size; k++) {
		int zero = (k >= 65536 && k < 196608) || (k >= 300000 && k < 301000)
			|| (k >= 524288 && k < 589824);

		cr_assert_eq(b[k], zero ? 0 : pattern(k), "byte %llu", (unsigned long long)k);
	}
	cr_assert_eq(fstat(d.fd, &st1), 0);
	cr_assert_eq(st1.st_size, (off_t)size, "the size stays");
	cr_assert_lt(st1.st_blocks, st0.st_blocks, "punching freed blocks");
	disk_close(&d);
	free(b);
}

/* --- identity ----------------------------------------------------------------- */

static void stamp_ok(struct disk *d, struct disk_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	cr_assert_eq(disk_stamp(d, rec, err, sizeof(err)), 0, "%s", err);
}

static int reopen_rc(struct disk *d, const struct disk_record *rec, const char *path)
{
	err[0] = '\0';
	return disk_reopen(d, rec, path, 0, NULL, err, sizeof(err));
}

Test(disk, stamp_records_the_disk)
{
	const char *p = make_file("a.img", 1 << 20, 0);
	struct disk_spec s = { .path = p, .serial = "SER1" };
	struct disk_record rec;
	struct timespec now;
	struct stat st;
	struct disk d;

	cr_assert_eq(disk_open(&d, &s, err, sizeof(err)), 0, "%s", err);
	stamp_ok(&d, &rec);
	clock_gettime(CLOCK_REALTIME, &now);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(rec.mtime_sec, st.st_mtim.tv_sec);
	cr_assert_eq(rec.mtime_nsec, (uint32_t)st.st_mtim.tv_nsec);
	cr_assert(rec.mtime_sec < now.tv_sec
		  || (rec.mtime_sec == now.tv_sec && (long)rec.mtime_nsec < now.tv_nsec),
		  "the stamp is before now");
	cr_assert_eq(rec.size, 1 << 20);
	cr_assert_eq(rec.flags, 0);
	cr_assert_str_eq(rec.serial, "SER1");
	cr_assert_str_eq(rec.path, p);
	disk_close(&d);
}

Test(disk, write_right_after_the_stamp_is_seen)
{
	const char *p = make_file("a.img", 65536, 0);
	struct disk_record rec;
	struct disk d;

	open_ok(&d, p, 0);
	stamp_ok(&d, &rec);
	cr_assert_eq(wr(&d, 0, "x", 1), 0);
	disk_close(&d);
	cr_assert_eq(reopen_rc(&d, &rec, NULL), -ESTALE);
	cr_assert(strstr(err, "was written after the checkpoint"), "%s", err);
	cr_assert(strstr(err, p), "%s", err);
	cr_assert_eq(d.fd, -1);
}

/* Stamp and write back to back, many times, so that some pairs fall within
 * one tick of the coarse clock. (Kernels with multigrain timestamps give the
 * write a fine-grained time anyway, once fstat has seen the stamp.) */
Test(disk, every_write_after_a_stamp_moves_the_mtime)
{
	const char *p = make_file("a.img", 65536, 0);
	struct disk_record rec;
	struct stat st;
	struct disk d;

	open_ok(&d, p, 0);
	for (int i = 0; i < 200; i++) {
		stamp_ok(&d, &rec);
		cr_assert_eq(wr(&d, 512 * (i % 128), "y", 1), 0);
		cr_assert_eq(fstat(d.fd, &st), 0);
		cr_assert(st.st_mtim.tv_sec != rec.mtime_sec
			  || st.st_mtim.tv_nsec != (long)rec.mtime_nsec, "round %d", i);
	}
	disk_close(&d);
}

Test(disk, reopen_unchanged)
{
	const char *p = make_file("a.img", 65536, 1);
	struct disk_spec s = { .path = p, .serial = "S" };
	struct disk_record rec;
	uint8_t b[16];
	struct disk d;

	cr_assert_eq(disk_open(&d, &s, err, sizeof(err)), 0);
	stamp_ok(&d, &rec);
	disk_close(&d);
	cr_assert_eq(reopen_rc(&d, &rec, NULL), 0, "%s", err);
	cr_assert_str_eq(d.serial, "S");
	cr_assert_eq(d.readonly, 0);
	cr_assert_eq(d.size, 65536);
	cr_assert_eq(rd(&d, 100, b, 16), 0);
	cr_assert_eq(b[0], pattern(100));
	disk_close(&d);

	/* The same record again after reading only: reads leave the mtime. */
	cr_assert_eq(reopen_rc(&d, &rec, p), 0, "%s", err);
	disk_close(&d);
}

Test(disk, reopen_refusals)
{
	const char *p = make_file("a.img", 65536, 0);
	struct disk_record rec, other;
	struct disk d;

	open_ok(&d, p, 0);
	stamp_ok(&d, &rec);
	disk_close(&d);

	other = rec;
	other.flags |= DISK_REC_BLOCKDEV;
	cr_assert_eq(reopen_rc(&d, &other, NULL), -EINVAL);
	cr_assert(strstr(err, "is a file, the image expects a block device"), "%s", err);

	cr_assert_eq(truncate(p, 131072), 0);
	cr_assert_eq(reopen_rc(&d, &rec, NULL), -EINVAL);
	cr_assert(strstr(err, ": size 131072, the image expects 65536"), "%s", err);

	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(reopen_rc(&d, &rec, NULL), -ENOENT);
	cr_assert(strstr(err, "a.img: No such file or directory"), "%s", err);
}

Test(disk, readonly_disk_is_recorded_not_stamped)
{
	const char *p = make_file("a.img", 65536, 0);
	struct disk_record rec;
	struct stat st0;
	struct disk d;

	cr_assert_eq(stat(p, &st0), 0);
	open_ok(&d, p, 1);
	stamp_ok(&d, &rec);
	disk_close(&d);
	cr_assert_eq(rec.flags, DISK_REC_READONLY);
	cr_assert_eq(rec.mtime_sec, st0.st_mtim.tv_sec);
	cr_assert_eq(rec.mtime_nsec, (uint32_t)st0.st_mtim.tv_nsec);
	cr_assert_eq(reopen_rc(&d, &rec, NULL), 0, "%s", err);
	cr_assert_eq(d.readonly, 1);
	cr_assert_eq(wr(&d, 0, "x", 1), -EROFS);
	disk_close(&d);
}

Test(disk, cp_a_copy_is_the_same_disk)
{
	const char *p = make_file("a.img", 1 << 20, 1);
	struct disk_record rec;
	char cmd[1024];
	struct disk d;

	open_ok(&d, p, 0);
	stamp_ok(&d, &rec);
	disk_close(&d);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", p, at("copy.img"));
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(reopen_rc(&d, &rec, at("copy.img")), 0, "%s", err);
	cr_assert_str_eq(d.path, at("copy.img"));
	disk_close(&d);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", p, at("plain.img"));
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(reopen_rc(&d, &rec, at("plain.img")), -ESTALE, "a copy with a new mtime");
}

/* --- the overlay ------------------------------------------------------------ */

static void overlay_ok(struct disk *d, const struct disk_record *rec)
{
	cr_assert_eq(disk_reopen(d, rec, NULL, 1, dir, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(d->overlay);
}

/* A stamped disk of size bytes holding the pattern, and its record. */
static const char *stamped_base(uint64_t size, struct disk_record *rec)
{
	const char *p = make_file("base.img", size, 1);
	struct disk d;

	open_ok(&d, p, 0);
	stamp_ok(&d, rec);
	disk_close(&d);
	return p;
}

Test(disk, overlay_keeps_the_base)
{
	const uint64_t size = 65536;
	struct disk_record rec;
	const char *p = stamped_base(size, &rec);
	uint8_t before[65536], after[65536], b[65536], w[9000];
	struct stat st0, st1;
	struct disk d;

	file_bytes(p, before, size);
	cr_assert_eq(stat(p, &st0), 0);
	overlay_ok(&d, &rec);
	cr_assert_eq(d.readonly, 0);
	memset(w, 0x5a, sizeof(w));
	cr_assert_eq(wr(&d, 4000, w, 9000), 0, "head, whole and tail clusters");
	cr_assert_eq(wr(&d, 20480, w, 4096), 0, "one aligned cluster");
	cr_assert_eq(rd(&d, 0, b, size), 0);
	for (uint64_t k = 0; k < size; k++) {
		int written = (k >= 4000 && k < 13000) || (k >= 20480 && k < 24576);

		cr_assert_eq(b[k], written ? 0x5a : pattern(k), "byte %llu", (unsigned long long)k);
	}
	cr_assert_eq(disk_flush(&d), 0);
	cr_assert_eq(disk_stamp(&d, &rec, err, sizeof(err)), -EOPNOTSUPP);
	cr_assert(strstr(err, "has a private overlay"), "%s", err);
	disk_close(&d);
	file_bytes(p, after, size);
	cr_assert_eq(memcmp(before, after, size), 0, "the base is unchanged");
	cr_assert_eq(stat(p, &st1), 0);
	cr_assert_eq(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
	cr_assert_eq(reopen_rc(&d, &rec, NULL), 0, "still the checkpoint's disk: %s", err);
	disk_close(&d);
}

Test(disk, overlays_of_one_base_are_independent)
{
	struct disk_record rec;
	const char *p = stamped_base(16384, &rec);
	struct disk a, b, w;
	uint8_t x[4];

	overlay_ok(&a, &rec);
	overlay_ok(&b, &rec);
	cr_assert_eq(open_rc(&w, p, 0), -EBUSY, "no writer beside an overlay");
	cr_assert_eq(wr(&a, 10, "AAAA", 4), 0);
	cr_assert_eq(wr(&b, 12, "BBBB", 4), 0);
	cr_assert_eq(rd(&a, 10, x, 4), 0);
	cr_assert_eq(memcmp(x, "AAAA", 4), 0);
	cr_assert_eq(rd(&b, 10, x, 4), 0);
	cr_assert_eq(x[0], pattern(10));
	cr_assert_eq(x[1], pattern(11));
	cr_assert_eq(memcmp(x + 2, "BB", 2), 0);
	disk_close(&a);
	disk_close(&b);
}

/* Random writes, zeroes, discards and reads through an overlay against a
 * model, on a disk whose last cluster is short. */
Test(disk, overlay_matches_a_model)
{
	const uint64_t size = 65536 + 1536;
	struct disk_record rec;
	const char *p = stamped_base(size, &rec);
	uint8_t *model = malloc(size), *b = malloc(size), *base = malloc(size);
	struct disk d;

	for (uint64_t k = 0; k < size; k++)
		model[k] = pattern(k);
	srand(1);
	overlay_ok(&d, &rec);
	for (int i = 0; i < 400; i++) {
		uint64_t off = (uint64_t)rand() % size;
		uint64_t len = (uint64_t)rand() % (rand() % 4 ? 700 : 20000);
		int op = rand() % 6;
		struct iovec v[3];

		if (len > size - off)
			len = size - off;
		if (i % 50 == 0) {
			off = size - 1000;      /* the short last cluster */
			len = 1000;
		}
		if (op <= 2) {
			size_t a = (size_t)(len / 3), c = (size_t)(len / 2);

			for (uint64_t k = 0; k < len; k++)
				b[k] = model[off + k] = (uint8_t)rand();
			v[0] = (struct iovec){ b, a };
			v[1] = (struct iovec){ b + a, c - a };
			v[2] = (struct iovec){ b + c, len - c };
			cr_assert_eq(disk_write(&d, off, v, 3), 0);
		} else if (op == 3) {
			memset(model + off, 0, len);
			cr_assert_eq(disk_write_zeroes(&d, off, len, rand() % 2), 0);
		} else if (op == 4) {
			memset(model + off, 0, len);
			cr_assert_eq(disk_discard(&d, off, len), 0);
		} else {
			cr_assert_eq(rd(&d, off, b, len), 0);
			cr_assert_eq(memcmp(b, model + off, len), 0, "step %d", i);
		}
	}
	cr_assert_eq(rd(&d, 0, b, size), 0);
	cr_assert_eq(memcmp(b, model, size), 0);
	disk_close(&d);
	file_bytes(p, base, size);
	for (uint64_t k = 0; k < size; k++)
		cr_assert_eq(base[k], pattern(k));
	free(model);
	free(b);
	free(base);
}

/* --- snapshot copies ------------------------------------------------------------ */

Test(disk, copy_keeps_content_holes_and_mtime)
{
	const uint64_t size = 64ull << 20;
	const char *p = make_file("big.img", size, 0);
	const char *dst = at("big.copy");
	char tmp[320];
	uint8_t *a = malloc(1 << 20), *b = malloc(1 << 20);
	struct disk_record rec;
	struct stat ss, cs;
	struct disk d, c;
	int reflinked = -1;

	open_ok(&d, p, 0);
	memset(a, 0x11, 4096);
	cr_assert_eq(wr(&d, 0, a, 4096), 0);
	cr_assert_eq(wr(&d, 33 << 20, a, 4096), 0);
	cr_assert_eq(wr(&d, size - 4096, a, 4096), 0);
	stamp_ok(&d, &rec);
	cr_assert_eq(disk_copy(&d, dst, &reflinked, err, sizeof(err)), 0, "%s", err);
	cr_assert_neq(reflinked, -1);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	cr_assert_eq(access(dst, F_OK), -1, "not there before the commit");
	cr_assert_eq(stat(tmp, &cs), 0);
	cr_assert_eq(disk_copy_commit(dst, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(access(tmp, F_OK), -1);
	cr_assert_eq(stat(dst, &cs), 0);
	cr_assert_eq(fstat(d.fd, &ss), 0);
	cr_assert_eq(cs.st_size, (off_t)size);
	cr_assert_lt(cs.st_blocks, 2048, "holes kept: %lld blocks", (long long)cs.st_blocks);
	cr_assert_eq(cs.st_mtim.tv_sec, ss.st_mtim.tv_sec);
	cr_assert_eq(cs.st_mtim.tv_nsec, ss.st_mtim.tv_nsec);
	cr_log_info("64 MiB sparse copy: %s, %lld blocks", reflinked ? "reflink" : "extents",
		    (long long)cs.st_blocks);

	cr_assert_eq(reopen_rc(&c, &rec, dst), 0, "the record names the copy: %s", err);
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		cr_assert_eq(rd(&d, off, a, 1 << 20), 0);
		cr_assert_eq(rd(&c, off, b, 1 << 20), 0);
		cr_assert_eq(memcmp(a, b, 1 << 20), 0, "at %llu", (unsigned long long)off);
	}
	disk_close(&c);
	disk_close(&d);
	free(a);
	free(b);
}

Test(disk, copy_abort_and_stale_tmp)
{
	const char *p = make_file("a.img", 65536, 1);
	const char *dst = at("a.copy");
	char tmp[320];
	struct disk_record rec;
	struct stat st;
	struct disk d;
	int fd, reflinked;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	fd = open(tmp, O_WRONLY | O_CREAT, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "stale leftovers, longer than nothing", 36), 36);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);

	open_ok(&d, p, 0);
	stamp_ok(&d, &rec);
	cr_assert_eq(disk_copy(&d, dst, &reflinked, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(tmp, &st), 0);
	cr_assert_eq(st.st_size, 65536, "the stale tmp was replaced");
	disk_copy_abort(dst);
	cr_assert_eq(access(tmp, F_OK), -1);
	cr_assert_eq(access(dst, F_OK), -1);
	disk_copy_abort(dst);
	cr_assert_eq(disk_copy_commit(dst, err, sizeof(err)), -ENOENT);
	disk_close(&d);
}
