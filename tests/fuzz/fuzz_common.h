/* fuzz_common.h - what the image fuzzers share: feeding an input through a
 * memfd and reading it the way `torpor restore` does. */
#ifndef TORPOR_FUZZ_COMMON_H
#define TORPOR_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"

/* Guest RAM the harness maps to load into; larger configs are only opened. */
#define FUZZ_MAX_MEM    (64ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Puts size bytes into the process's one memfd (no disk traffic) and returns
 * a path that opens it, in path. */
static void fuzz_input(const uint8_t *data, size_t size, char *path, size_t len)
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create("fuzz-image", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
}

/* Opens with every chunk checked, reads the state, every prefetch order
 * (each entry, as a lazy restore would) and loads every region when the
 * configured RAM is at most FUZZ_MAX_MEM. Errors are the expected outcome;
 * only crashes, leaks and sanitizer reports count. */
static void fuzz_read(const char *path)
{
	static volatile uint32_t sink;
	struct image_error err;
	struct vm_state st = { 0 };
	struct image *img;
	uint64_t total = 0;

	if (image_open(&img, path, 1, &err))
		return;
	if (image_read_state(img, &st, &err) == 0) {
		for (uint32_t r = 0; r < st.config.nmem; r++) {
			const uint32_t *order;
			uint32_t n = image_prefetch_order(img, r, &order);

			for (uint32_t i = 0; i < n; i++)
				sink = order[i];
			total += st.config.mem[r].size;
		}
		for (uint32_t r = 0; total <= FUZZ_MAX_MEM && r < st.config.nmem; r++) {
			void *m = mmap(NULL, st.config.mem[r].size, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

			if (m == MAP_FAILED)
				abort();
			image_load_memory(img, r, m, st.config.mem[r].size, 1, &err);
			munmap(m, st.config.mem[r].size);
		}
		vm_state_free(&st);
	}
	image_close(img);
}

#endif
