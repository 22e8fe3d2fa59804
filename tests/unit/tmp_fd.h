/* tmp_fd.h - for the unit tests that need a scratch file: one already
 * unlinked, so nothing is left behind whatever the test does. */
#ifndef TORPOR_TMP_FD_H
#define TORPOR_TMP_FD_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

static inline int tmp_fd(void)
{
	char path[] = "/tmp/torpor_test.XXXXXX";
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	unlink(path);
	return fd;
}

#endif
