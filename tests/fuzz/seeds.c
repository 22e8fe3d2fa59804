/* seeds.c - writes the seed corpus of the image fuzzers: small valid images
 * with every section kind (the unit tests' fixture state with 1 or 2 vCPUs,
 * 1 or 2 memory regions of a few pages, with and without data, with a newer
 * writer's optional section), and one image per rule in image_fixture.h's
 * refusal table, broken behind consistent checksums, so the fuzzers start
 * next to every check. Built and run by scripts/fuzz.sh and tests/cli/cli.sh;
 * usage: seeds DIR */
#include <ctype.h>
#include <stdio.h>

#include "../unit/image_fixture.h"

#define SEED_PAGES      8
#define SEED_MAX_PAGES  (MEM_CHUNK_PAGES + SEED_PAGES)

/* Writes DIR/name: the fixture state with ncpus vCPUs and nmem regions of
 * pages pages each, the first data_pages of which hold data. */
static int seed_write(const char *dir, const char *name, unsigned ncpus, unsigned nmem,
		      unsigned pages, unsigned data_pages)
{
	static uint8_t mem[VM_MAX_MEM_REGIONS][SEED_MAX_PAGES * MEM_PAGE_SIZE];
	struct image_mem_src src[VM_MAX_MEM_REGIONS];
	struct image_error err = { 0 };
	struct vm_state st;
	char path[512];
	uint32_t kept = 0;
	int rc;

	fix_state(&st);
	st.config.ncpus = ncpus;
	st.config.nmem = nmem;
	st.resume.entry = RAM_BASE;
	/* vGIC registers of vCPUs this seed does not have go. */
	for (uint32_t i = 0; i < st.gic.nregs; i++)
		if (st.gic.regs[i].attr >> IMAGE_GIC_AFF_SHIFT < ncpus)
			st.gic.regs[kept++] = st.gic.regs[i];
	st.gic.nregs = kept;
	memset(mem, 0, sizeof(mem));
	for (unsigned r = 0; r < nmem; r++) {
		for (size_t b = 0; b < (size_t)data_pages * MEM_PAGE_SIZE; b++)
			mem[r][b] = (uint8_t)(b * 31 + r);
		st.config.mem[r].guest_addr = RAM_BASE + r * 0x200000ULL;
		st.config.mem[r].size = (uint64_t)pages * MEM_PAGE_SIZE;
		src[r] = (struct image_mem_src){ st.config.mem[r].guest_addr, mem[r],
						 st.config.mem[r].size };
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = image_write(path, &st, src, nmem, NULL, NULL, &err);
	if (rc)
		fprintf(stderr, "seeds: %s: %s\n", path, err.msg);
	vm_state_free(&st);
	return rc;
}

/* Stores f (size bytes) as DIR/name. */
static int seed_store(const char *dir, const char *name, const uint8_t *f, size_t size)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fix_store(path, f, size) == 0)
		return 0;
	fprintf(stderr, "seeds: cannot write %s\n", path);
	return 1;
}

/* From the valid image DIR/base: one seed per refusal of the fixture's table
 * (refuse-NN-name.img), and the base with a newer writer's optional section,
 * once intact and once with a wrong checksum. */
static int seed_refusals(const char *dir, const char *base)
{
	char path[512], name[96];
	size_t size, grown;
	uint8_t *f, *g;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, base);
	f = fix_load(path, &size);
	g = malloc(size + 1);
	if (!f || !g) {
		fprintf(stderr, "seeds: cannot read %s\n", path);
		return 1;
	}
	for (unsigned i = 0; i < FIX_NREFUSALS && !rc; i++) {
		const struct fix_refusal *r = &fix_refusals[i];
		int n = snprintf(name, sizeof(name), "refuse-%02u-", i);

		for (const char *p = r->name; *p && n < (int)sizeof(name) - 5; p++)
			name[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
		snprintf(name + n, sizeof(name) - (size_t)n, ".img");
		memcpy(g, f, size);
		for (unsigned k = 0; k < 2 && r->e[k].width && !rc; k++)
			rc = fix_apply(g, size, &r->e[k]);
		if (rc) {
			fprintf(stderr, "seeds: %s: no place for refusal '%s'\n", base, r->name);
			break;
		}
		fix_seal(g, size, r->e, 2);
		rc = seed_store(dir, name, g, size);
	}
	free(g);
	for (uint64_t damage = 0; damage <= 1 && !rc; damage++) {
		g = fix_append(f, size, 42, SECTION_FLAG_OPTIONAL, damage, &grown);
		rc = g ? seed_store(dir, damage ? "refuse-optional-checksum.img" :
				    "optional-section.img", g, grown) : 1;
		free(g);
	}
	free(f);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR\n");
		return 2;
	}
	if (seed_write(argv[1], "one-vcpu-data.img", 1, 1, SEED_PAGES, 2) ||
	    seed_write(argv[1], "two-vcpus-two-regions.img", 2, 2, SEED_PAGES, 2) ||
	    seed_write(argv[1], "zero-memory.img", 1, 1, SEED_PAGES, 0) ||
	    seed_write(argv[1], "two-vcpus-empty-chunk.img", 2, 1, SEED_MAX_PAGES, 2) ||
	    seed_refusals(argv[1], "two-vcpus-empty-chunk.img"))
		return 1;
	return 0;
}
