/* seeds.c - writes the seed corpus of the image fuzzers: small valid images
 * with every section kind (the unit tests' fixture state with 1 or 2 vCPUs,
 * 1 or 2 memory regions of a few pages, with and without data). Built and
 * run by scripts/fuzz.sh; usage: seeds DIR */
#include <stdio.h>

#include "../unit/image_fixture.h"

#define SEED_PAGES 8

static int seed_write(const char *dir, const char *name, unsigned ncpus, unsigned nmem,
		      int with_data)
{
	static uint8_t mem[VM_MAX_MEM_REGIONS][SEED_PAGES * MEM_PAGE_SIZE];
	struct image_mem_src src[VM_MAX_MEM_REGIONS];
	struct image_error err = { 0 };
	struct vm_state st;
	char path[512];
	int rc;

	fix_state(&st);
	st.config.ncpus = ncpus;
	st.config.nmem = nmem;
	memset(mem, 0, sizeof(mem));
	for (unsigned r = 0; r < nmem; r++) {
		if (with_data)
			for (unsigned b = 0; b < 2 * MEM_PAGE_SIZE; b++)
				mem[r][b] = (uint8_t)(b * 31 + r);
		st.config.mem[r].guest_addr = RAM_BASE + r * 0x100000ULL;
		st.config.mem[r].size = sizeof(mem[r]);
		src[r] = (struct image_mem_src){ st.config.mem[r].guest_addr, mem[r], sizeof(mem[r]) };
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = image_write(path, &st, src, nmem, NULL, NULL, &err);
	if (rc)
		fprintf(stderr, "seeds: %s: %s\n", path, err.msg);
	vm_state_free(&st);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR\n");
		return 2;
	}
	if (seed_write(argv[1], "one-vcpu-data.img", 1, 1, 1) ||
	    seed_write(argv[1], "two-vcpus-two-regions.img", 2, 2, 1) ||
	    seed_write(argv[1], "zero-memory.img", 1, 1, 0))
		return 1;
	return 0;
}
