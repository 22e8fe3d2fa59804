/* image_fixture.h - a small valid VM state and guest memory for the image
 * tests: 2 vCPUs (one with a 2048-bit SVE register), a handful of GIC
 * registers, three devices and one region of four memory chunks (the last
 * one short), each mixing random, text, zero and never-touched pages. Static functions: each test file uses a subset. */
#ifndef TORPOR_IMAGE_FIXTURE_H
#define TORPOR_IMAGE_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "image_mem.h"
#include "memmap.h"

#define FIX_MEM_SIZE    (3u * MEM_CHUNK_PAGES * MEM_PAGE_SIZE + 16 * MEM_PAGE_SIZE)
#define FIX_PAGES       (FIX_MEM_SIZE / MEM_PAGE_SIZE)
#define FIX_NREGS       5
#define FIX_PC          0xffff800008123456ULL
#define FIX_PSTATE      0x3c5ULL

/* Register ids: PC and PSTATE (core, 64-bit), MPIDR_EL1 (sysreg, 64-bit), a
 * 128-bit V register and a 2048-bit SVE Z register. */
static const uint64_t fix_reg_ids[FIX_NREGS] = {
	0x6030000000100040ULL, 0x6030000000100042ULL, 0x603000000013c005ULL,
	0x6040000000100054ULL, 0x6080000000150000ULL,
};

static __attribute__((unused)) void fix_vcpu(struct vcpu_state *v, unsigned i)
{
	size_t len = 8 + 8 + 8 + 16 + 256;

	v->mpidr = 0x80000000ULL | i;
	v->mp_state = i ? 5 : 10;
	v->events.serror_pending = (uint8_t)(i & 1);
	v->events.serror_has_esr = (uint8_t)(i & 1);
	v->events.serror_esr = 0x96000000ULL + i;
	v->nregs = FIX_NREGS;
	v->reg_ids = malloc(sizeof(fix_reg_ids));
	memcpy(v->reg_ids, fix_reg_ids, sizeof(fix_reg_ids));
	v->reg_data = malloc(len);
	v->reg_data_len = len;
	for (size_t b = 0; b < len; b++)
		v->reg_data[b] = (uint8_t)(b * 7 + i);
	for (unsigned b = 0; b < 8; b++) {
		v->reg_data[b] = (uint8_t)((FIX_PC + i) >> (8 * b));
		v->reg_data[8 + b] = (uint8_t)(FIX_PSTATE >> (8 * b));
	}
}

/* Fills st (zeroed first) with the fixture state. */
static __attribute__((unused)) void fix_state(struct vm_state *st)
{
	static const struct { uint32_t type, spi; uint64_t base, size; } devs[] = {
		{ DEV_UART_16550, UART_SPI, UART_BASE, UART_SIZE },
		{ DEV_RTC_PL031, RTC_SPI, RTC_BASE, RTC_SIZE },
		{ DEV_GPIO_PL061, GPIO_SPI, GPIO_BASE, GPIO_SIZE },
	};
	struct vm_config *c = &st->config;

	memset(st, 0, sizeof(*st));
	c->ncpus = 2;
	c->ipa_bits = IPA_BITS;
	c->vcpu_target = 5;
	c->vcpu_features[0] = 1u << 2;
	c->caps = VM_CAP_SYSTEM_SUSPEND;
	c->gic_version = 3;
	c->gic_nr_irqs = GIC_NR_IRQS;
	c->gic_dist_base = GIC_DIST_BASE;
	c->gic_dist_size = GIC_DIST_SIZE;
	c->gic_redist_base = GIC_REDIST_BASE;
	c->gic_redist_size = GIC_REDIST_SIZE;
	c->nmem = 1;
	c->mem[0].guest_addr = RAM_BASE;
	c->mem[0].size = FIX_MEM_SIZE;
	c->ndevs = 3;
	for (unsigned i = 0; i < 3; i++) {
		c->devs[i].type = devs[i].type;
		c->devs[i].spi = devs[i].spi;
		c->devs[i].base = devs[i].base;
		c->devs[i].size = devs[i].size;
	}
	strcpy(c->cmdline, "console=ttyS0 \"quoted\"\tno_console_suspend");
	strcpy(st->host.kernel_release, "6.1.0-56-arm64");
	strcpy(st->host.machine, "aarch64");
	st->host.midr = 0x410fd083;
	st->host.page_size = 4096;
	st->clock.counter = 123456789;
	st->clock.counter_freq = 62500000;
	st->clock.realtime_ns = 1795000000123456789LL;
	st->resume.vcpu = 0;
	st->resume.smc64 = 1;
	st->resume.entry = RAM_BASE + 0x1234000;
	st->resume.context_id = 0xc0ffee;
	for (unsigned i = 0; i < c->ncpus; i++)
		fix_vcpu(&st->vcpus[i], i);
	st->gic.version = 3;
	st->gic.nr_irqs = GIC_NR_IRQS;
	st->gic.nregs = 4;
	st->gic.regs = calloc(4, sizeof(*st->gic.regs));
	for (unsigned i = 0; i < 4; i++) {
		st->gic.regs[i].group = i + 1;
		st->gic.regs[i].attr = 0x0000000100000000ULL * i + 0x100 + i;
		st->gic.regs[i].value = 0xdeadbeef00000000ULL + i;
	}
	st->ndevs = 3;
	for (unsigned i = 0; i < 3; i++) {
		struct dev_state *d = &st->devs[i];

		d->type = devs[i].type;
		d->base = devs[i].base;
		for (uint32_t f = 1; f <= 4 + i; f++)
			dev_state_put(d, f, 0x1000ULL * i + f);
		d->blob_len = i * 5;
		for (uint32_t b = 0; b < d->blob_len; b++)
			d->blob[b] = (uint8_t)('a' + b);
	}
}

/* Contents of page p of the fixture memory: 0 untouched, 1 zero-written,
 * 2 text, 3 pseudo-random; the same mix in every chunk. */
static __attribute__((unused)) int fix_page_kind(unsigned p)
{
	p %= MEM_CHUNK_PAGES;
	return p < 64 ? 3 - (int)(p % 2) : p < 128 ? (int)(p % 4) : p < 160 ? 1 : 0;
}

/* Pages holding data: 96 in each full chunk, 16 in the short last one. */
#define FIX_DATA_PAGES  (3 * 96 + 16)

/* A fresh mapping of FIX_MEM_SIZE bytes holding the fixture page mix. */
static __attribute__((unused)) uint8_t *fix_memory(void)
{
	uint8_t *m = mmap(NULL, FIX_MEM_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t x = 0x243f6a8885a308d3ULL;

	if (m == MAP_FAILED)
		return NULL;
	for (unsigned p = 0; p < FIX_PAGES; p++) {
		uint8_t *pg = m + (size_t)p * MEM_PAGE_SIZE;

		switch (fix_page_kind(p)) {
		case 1:
			memset(pg, 0, MEM_PAGE_SIZE);
			break;
		case 2:
			for (unsigned b = 0; b < MEM_PAGE_SIZE; b++)
				pg[b] = (uint8_t)"snapshot-on-suspend "[(b + p) % 20];
			break;
		case 3:
			for (unsigned b = 0; b < MEM_PAGE_SIZE; b++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				pg[b] = (uint8_t)x;
			}
			break;
		}
	}
	return m;
}

/* Writes the fixture image to path; returns image_write's result. */
static __attribute__((unused)) int fix_write(const char *path, volatile sig_atomic_t *cancel,
					    struct image_error *err)
{
	struct vm_state st;
	struct image_write_opts opts = { .threads = 2, .cancel = cancel };
	uint8_t *mem = fix_memory();
	struct image_mem_src src = { RAM_BASE, mem, FIX_MEM_SIZE };
	int rc;

	fix_state(&st);
	rc = image_write(path, &st, &src, 1, &opts, NULL, err);
	vm_state_free(&st);
	munmap(mem, FIX_MEM_SIZE);
	return rc;
}

/* A new empty directory under /tmp for one test; heap path. */
static __attribute__((unused)) char *fix_dir(void)
{
	char *d = strdup("/tmp/torpor-test.XXXXXX");

	return mkdtemp(d) ? d : NULL;
}

#endif
