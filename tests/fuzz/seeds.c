/* seeds.c - writes the seed corpus of the image fuzzers: small valid
 * images covering every section kind (1 and 2 vCPUs, 1 and 2 memory regions,
 * data, zero and untouched pages, devices with blobs). Built and run by
 * scripts/fuzz.sh; usage: seeds DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_mem.h"
#include "memmap.h"

#define SEED_PAGES 8

static void seed_vcpu(struct vcpu_state *v, unsigned i)
{
	static const uint64_t ids[] = { 0x6030000000100040ULL, 0x6030000000100042ULL,
					0x6040000000100054ULL };

	v->mpidr = 0x80000000ULL | i;
	v->mp_state = i ? 5 : 10;
	v->nregs = 3;
	v->reg_ids = malloc(sizeof(ids));
	memcpy(v->reg_ids, ids, sizeof(ids));
	v->reg_data_len = 32;
	v->reg_data = calloc(1, 32);
	v->reg_data[0] = (uint8_t)(0x40 + i);
}

/* A small state with ncpus vCPUs and nmem regions of SEED_PAGES pages. */
static void seed_state(struct vm_state *st, unsigned ncpus, unsigned nmem)
{
	struct vm_config *c = &st->config;

	memset(st, 0, sizeof(*st));
	c->ncpus = ncpus;
	c->ipa_bits = IPA_BITS;
	c->vcpu_target = 5;
	c->gic_version = 3;
	c->gic_nr_irqs = GIC_NR_IRQS;
	c->gic_dist_base = GIC_DIST_BASE;
	c->gic_dist_size = GIC_DIST_SIZE;
	c->gic_redist_base = GIC_REDIST_BASE;
	c->gic_redist_size = GIC_REDIST_SIZE;
	c->nmem = nmem;
	for (unsigned r = 0; r < nmem; r++) {
		c->mem[r].guest_addr = RAM_BASE + r * 0x100000ULL;
		c->mem[r].size = SEED_PAGES * MEM_PAGE_SIZE;
	}
	c->ndevs = 1;
	c->devs[0] = (struct dev_cfg){ DEV_UART_16550, UART_SPI, UART_BASE, UART_SIZE };
	strcpy(c->cmdline, "console=ttyS0");
	strcpy(st->host.kernel_release, "6.1.0");
	strcpy(st->host.machine, "aarch64");
	st->host.page_size = 4096;
	st->clock.counter_freq = 62500000;
	st->resume.smc64 = 1;
	st->resume.entry = RAM_BASE;
	for (unsigned i = 0; i < ncpus; i++)
		seed_vcpu(&st->vcpus[i], i);
	st->gic.version = 3;
	st->gic.nr_irqs = GIC_NR_IRQS;
	st->gic.nregs = 2;
	st->gic.regs = calloc(2, sizeof(*st->gic.regs));
	st->gic.regs[1] = (struct gic_reg){ 1, 0x100, 1 };
	st->ndevs = 1;
	st->devs[0].type = DEV_UART_16550;
	st->devs[0].base = UART_BASE;
	dev_state_put(&st->devs[0], 1, 0x0f);
	st->devs[0].blob_len = 3;
	memcpy(st->devs[0].blob, "abc", 3);
}

static int seed_write(const char *dir, const char *name, unsigned ncpus, unsigned nmem,
		      int with_data)
{
	static uint8_t mem[VM_MAX_MEM_REGIONS][SEED_PAGES * MEM_PAGE_SIZE];
	struct image_mem_src src[VM_MAX_MEM_REGIONS];
	struct image_error err = { 0 };
	struct vm_state st;
	char path[512];
	int rc;

	memset(mem, 0, sizeof(mem));
	for (unsigned r = 0; r < nmem; r++) {
		if (with_data)
			for (unsigned b = 0; b < 2 * MEM_PAGE_SIZE; b++)
				mem[r][b] = (uint8_t)(b * 31 + r);
		src[r] = (struct image_mem_src){ RAM_BASE + r * 0x100000ULL, mem[r],
						 SEED_PAGES * MEM_PAGE_SIZE };
	}
	seed_state(&st, ncpus, nmem);
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
