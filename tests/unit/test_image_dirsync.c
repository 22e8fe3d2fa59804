/* test_image_dirsync.c - the directory's fsync fails after the rename (its
 * fsync is made to fail here, by --wrap=fsync at link time): the image is
 * complete and in place, so the write counts as done and says so in its
 * stats, rather than failing while the new image replaced the old one. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_fixture.h"

int __real_fsync(int fd);
int __wrap_fsync(int fd);

static int fail_dir_fsync;
static int dir_fsyncs;

int __wrap_fsync(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		dir_fsyncs++;
		if (fail_dir_fsync) {
			errno = EIO;
			return -1;
		}
	}
	return __real_fsync(fd);
}

static int write_image(const char *path, struct image_write_stats *stats,
		       struct image_error *err)
{
	struct vm_state st;
	uint8_t *mem = fix_memory();
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE };
	int rc;

	fix_state(&st);
	rc = image_write(path, &st, &src, 1, &fix_opts, stats, err);
	vm_state_free(&st);
	munmap(mem, FIX_MEM_SIZE);
	return rc;
}

Test(dirsync, failure_after_the_rename_is_a_warning)
{
	struct image_write_stats stats;
	struct image_error err = { 0 };
	struct image *img = NULL;
	char *dir = fix_dir(), path[256];

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	fail_dir_fsync = 1;
	memset(&stats, 0, sizeof(stats));
	cr_expect_eq(write_image(path, &stats, &err), 0, "%s", err.msg);
	cr_expect_eq(dir_fsyncs, 1, "the directory was synced %d times", dir_fsyncs);
	cr_expect_eq(stats.dir_sync_errno, EIO);
	cr_expect_gt(stats.file_bytes, 0);
	cr_assert_eq(image_open(&img, path, 1, &err), 0, "the image is whole: %s", err.msg);
	image_close(img);
	unlink(path);
	rmdir(dir);
	free(dir);
}

Test(dirsync, success_reports_durable)
{
	struct image_write_stats stats;
	struct image_error err = { 0 };
	char *dir = fix_dir(), path[256];

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
	memset(&stats, 0xff, sizeof(stats));
	cr_expect_eq(write_image(path, &stats, &err), 0, "%s", err.msg);
	cr_expect_eq(dir_fsyncs, 1);
	cr_expect_eq(stats.dir_sync_errno, 0);
	unlink(path);
	rmdir(dir);
	free(dir);
}
