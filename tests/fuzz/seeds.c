/* seeds.c - writes the seed corpus of the image fuzzers: small valid images
 * with every section kind (the unit tests' fixture state with 1 or 2 vCPUs,
 * 1 or 2 memory regions of a few pages, with and without data, with and
 * without disks, with and without prefetch orders, with a newer writer's
 * optional section), and one image per
 * rule in image_fixture.h's refusal table, broken behind consistent
 * checksums, so the fuzzers start next to every check. Built and run by scripts/fuzz.sh and tests/cli/cli.sh;
 * usage: seeds DIR */
#include <ctype.h>
#include <stdio.h>

#include "../unit/image_fixture.h"

#define SEED_PAGES      8
#define SEED_MAX_PAGES  (FIX_CHUNK_PAGES + FIX_LAST_PAGES)

/* The fixture state (with fix_disks' disks if with has FIX_DISKS) cut to
 * ncpus vCPUs and nmem regions of pages pages, resuming at the start of RAM. */
static void seed_state(struct vm_state *st, unsigned ncpus, unsigned nmem, unsigned pages,
		       unsigned with)
{
	uint32_t kept = 0;

	fix_state(st);
	if (with & FIX_DISKS)
		fix_disks(st);
	st->config.ncpus = ncpus;
	st->config.nmem = nmem;
	st->resume.entry = RAM_BASE;
	/* vGIC registers of vCPUs this seed does not have go. */
	for (uint32_t i = 0; i < st->gic.nregs; i++)
		if (st->gic.regs[i].attr >> IMAGE_GIC_AFF_SHIFT < ncpus)
			st->gic.regs[kept++] = st->gic.regs[i];
	st->gic.nregs = kept;
	for (unsigned r = 0; r < nmem; r++) {
		st->config.mem[r].guest_addr = RAM_BASE + r * 0x200000ULL;
		st->config.mem[r].size = (uint64_t)pages * MEM_PAGE_SIZE;
	}
}

/* Writes st with the memory in mem to DIR/name; with FIX_PREFETCH, each
 * region with a prefetch order of all its chunks, as fix_prefetch makes it. */
static int seed_image(const char *dir, const char *name, struct vm_state *st,
		      uint8_t (*mem)[SEED_MAX_PAGES * MEM_PAGE_SIZE], unsigned with)
{
	static uint32_t order[VM_MAX_MEM_REGIONS][SEED_MAX_PAGES / FIX_CHUNK_PAGES + 1];
	struct image_mem_src src[VM_MAX_MEM_REGIONS];
	struct image_error err = { 0 };
	char path[512];
	int rc;

	for (unsigned r = 0; r < st->config.nmem; r++) {
		uint32_t n = (uint32_t)((st->config.mem[r].size / MEM_PAGE_SIZE + FIX_CHUNK_PAGES - 1) /
					FIX_CHUNK_PAGES);

		src[r] = (struct image_mem_src){ .guest_addr = st->config.mem[r].guest_addr,
						 .host = mem[r], .size = st->config.mem[r].size };
		if (with & FIX_PREFETCH) {
			fix_prefetch(order[r], n);
			src[r].prefetch = order[r];
			src[r].nprefetch = n;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = image_write(path, st, src, st->config.nmem, &fix_opts, NULL, &err);
	if (rc)
		fprintf(stderr, "seeds: %s: %s\n", path, err.msg);
	vm_state_free(st);
	return rc;
}

static uint8_t mem[VM_MAX_MEM_REGIONS][SEED_MAX_PAGES * MEM_PAGE_SIZE];

/* DIR/name: ncpus vCPUs, nmem regions of SEED_PAGES pages, the first
 * data_pages of each holding a pattern; with as in seed_state and
 * seed_image. */
static int seed_write(const char *dir, const char *name, unsigned ncpus, unsigned nmem,
		      unsigned data_pages, unsigned with)
{
	struct vm_state st;

	seed_state(&st, ncpus, nmem, SEED_PAGES, with);
	memset(mem, 0, sizeof(mem));
	for (unsigned r = 0; r < nmem; r++)
		for (size_t b = 0; b < (size_t)data_pages * MEM_PAGE_SIZE; b++)
			mem[r][b] = (uint8_t)(b * 31 + r);
	return seed_image(dir, name, &st, mem, with);
}

/* DIR/name: the base of the refusal seeds. Two vCPUs and one region whose
 * first chunk is never touched and whose short last chunk holds the
 * fixture's last chunk, so the refusal table's places exist in it; with
 * FIX_DISKS or FIX_PREFETCH, the base of the refusals marked so. */
static int seed_base(const char *dir, const char *name, unsigned with)
{
	struct vm_state st;
	uint64_t x = 0x243f6a8885a308d3ULL;

	seed_state(&st, 2, 1, SEED_MAX_PAGES, with);
	memset(mem, 0, sizeof(mem));
	for (unsigned i = 0; i < FIX_LAST_PAGES; i++)
		fix_fill_page(mem[0] + (size_t)(FIX_CHUNK_PAGES + i) * MEM_PAGE_SIZE,
			      3 * FIX_CHUNK_PAGES + i, &x);
	return seed_image(dir, name, &st, mem, with);
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

/* From the valid image DIR/base (written with `with`): one seed per refusal
 * of the fixture's table made on such a base (refuse-NN-name.img), and the
 * base with a newer writer's optional section, once intact and once with a
 * wrong checksum (refuse-optional-checksum.img, optional-section.img; each
 * with -disks or -prefetch before .img on those bases). */
static int seed_refusals(const char *dir, const char *base, unsigned with)
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
		int n;

		if (r->with != with)
			continue;
		n = snprintf(name, sizeof(name), "refuse-%02u-", i);

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
		snprintf(name, sizeof(name), "%s%s.img", damage ? "refuse-optional-checksum" :
			 "optional-section", with & FIX_DISKS ? "-disks" :
			 with & FIX_PREFETCH ? "-prefetch" : "");
		g = fix_append(f, size, 42, SECTION_FLAG_OPTIONAL, damage, &grown);
		rc = g ? seed_store(dir, name, g, grown) : 1;
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
	if (seed_write(argv[1], "one-vcpu-data.img", 1, 1, 2, 0) ||
	    seed_write(argv[1], "two-vcpus-two-regions.img", 2, 2, 2, 0) ||
	    seed_write(argv[1], "two-regions-prefetch.img", 2, 2, 2, FIX_PREFETCH) ||
	    seed_write(argv[1], "zero-memory.img", 1, 1, 0, 0) ||
	    seed_write(argv[1], "one-vcpu-disks.img", 1, 1, 2, FIX_DISKS) ||
	    seed_base(argv[1], "two-vcpus-empty-chunk.img", 0) ||
	    seed_refusals(argv[1], "two-vcpus-empty-chunk.img", 0) ||
	    seed_base(argv[1], "two-vcpus-disks.img", FIX_DISKS) ||
	    seed_refusals(argv[1], "two-vcpus-disks.img", FIX_DISKS) ||
	    seed_base(argv[1], "two-vcpus-prefetch.img", FIX_PREFETCH) ||
	    seed_refusals(argv[1], "two-vcpus-prefetch.img", FIX_PREFETCH))
		return 1;
	return 0;
}
