/* fdt_build.c - the machine's device tree (memory, cpus, GIC, timer, PSCI,
 * chosen) and the helpers device models write their nodes with. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "devices.h"
#include "fdt_build.h"
#include "memmap.h"

#define PHANDLE_GIC     1
#define PHANDLE_CLK     2
#define PHANDLE_FIRST_FREE 3

#define APB_CLOCK_HZ    24000000
#define MAX_CELLS       12      /* the timer's four interrupts */

uint32_t fdt_new_phandle(struct fdt_writer *w)
{
	return w->next_phandle++;
}

int fdt_prop_cells(struct fdt_writer *w, const char *name, const uint32_t *v,
		   unsigned n)
{
	fdt32_t be[MAX_CELLS];

	if (n > MAX_CELLS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(v[i]);
	return fdt_property(w->fdt, name, be, (int)(n * sizeof(fdt32_t)));
}

/* reg = <addr size> with 2 address and 2 size cells. */
static int prop_reg(void *fdt, const uint64_t *pairs, unsigned npairs)
{
	fdt64_t be[4];

	for (unsigned i = 0; i < 2 * npairs; i++)
		be[i] = cpu_to_fdt64(pairs[i]);
	return fdt_property(fdt, "reg", be, (int)(2 * npairs * sizeof(fdt64_t)));
}

int fdt_begin_node_at(struct fdt_writer *w, const char *name, uint64_t addr)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
	return fdt_begin_node(w->fdt, buf);
}

int fdt_prop_reg_irq(struct fdt_writer *w, const struct dev_cfg *d)
{
	uint64_t reg[2] = { d->base, d->size };
	uint32_t irq[3] = { FDT_GIC_SPI, d->spi, FDT_IRQ_LEVEL_HIGH };

	FDT_CHECK(prop_reg(w->fdt, reg, 1));
	return fdt_prop_cells(w, "interrupts", irq, 3);
}

int fdt_begin_primecell(struct fdt_writer *w, const struct dev_cfg *d,
			const char *name, const char *part)
{
	char compat[32];
	int n = snprintf(compat, sizeof(compat), "%s%carm,primecell", part, 0);

	FDT_CHECK(fdt_begin_node_at(w, name, d->base));
	FDT_CHECK(fdt_property(w->fdt, "compatible", compat, n + 1));
	FDT_CHECK(fdt_prop_reg_irq(w, d));
	FDT_CHECK(fdt_property_u32(w->fdt, "clocks", w->clk_phandle));
	FDT_CHECK(fdt_property_string(w->fdt, "clock-names", "apb_pclk"));
	return 0;
}

static int add_cpus(struct fdt_writer *w, const struct fdt_params *p)
{
	void *fdt = w->fdt;

	FDT_CHECK(fdt_begin_node(fdt, "cpus"));
	FDT_CHECK(fdt_property_u32(fdt, "#address-cells", 1));
	FDT_CHECK(fdt_property_u32(fdt, "#size-cells", 0));
	for (uint32_t i = 0; i < p->cfg->ncpus; i++) {
		/* reg holds the affinity fields Aff2..Aff0 of MPIDR_EL1. */
		uint32_t reg = (uint32_t)(p->mpidr[i] & 0xffffff);

		FDT_CHECK(fdt_begin_node_at(w, "cpu", reg));
		FDT_CHECK(fdt_property_string(fdt, "device_type", "cpu"));
		FDT_CHECK(fdt_property_string(fdt, "compatible", "arm,armv8"));
		FDT_CHECK(fdt_property_string(fdt, "enable-method", "psci"));
		FDT_CHECK(fdt_property_u32(fdt, "reg", reg));
		FDT_CHECK(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_gic_timer_psci(struct fdt_writer *w, const struct vm_config *c)
{
	void *fdt = w->fdt;
	uint64_t reg[4] = { c->gic_dist_base, c->gic_dist_size, c->gic_redist_base,
			    (uint64_t)GIC_REDIST_STRIDE * c->ncpus };
	uint32_t timer[12] = {
		FDT_GIC_PPI, TIMER_PPI_SEC_PHYS - 16, FDT_IRQ_LEVEL_HIGH,
		FDT_GIC_PPI, TIMER_PPI_PHYS - 16, FDT_IRQ_LEVEL_HIGH,
		FDT_GIC_PPI, TIMER_PPI_VIRT - 16, FDT_IRQ_LEVEL_HIGH,
		FDT_GIC_PPI, TIMER_PPI_HYP - 16, FDT_IRQ_LEVEL_HIGH,
	};
	const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";

	FDT_CHECK(fdt_begin_node_at(w, "intc", c->gic_dist_base));
	FDT_CHECK(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	FDT_CHECK(fdt_property_u32(fdt, "#interrupt-cells", 3));
	FDT_CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
	FDT_CHECK(fdt_property_u32(fdt, "#redistributor-regions", 1));
	FDT_CHECK(prop_reg(fdt, reg, 2));
	FDT_CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_GIC));
	FDT_CHECK(fdt_end_node(fdt));

	FDT_CHECK(fdt_begin_node(fdt, "timer"));
	FDT_CHECK(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	FDT_CHECK(fdt_prop_cells(w, "interrupts", timer, 12));
	FDT_CHECK(fdt_end_node(fdt));

	FDT_CHECK(fdt_begin_node(fdt, "psci"));
	FDT_CHECK(fdt_property(fdt, "compatible", psci_compat, sizeof(psci_compat)));
	FDT_CHECK(fdt_property_string(fdt, "method", "hvc"));
	FDT_CHECK(fdt_end_node(fdt));

	/* AMBA PrimeCells need their bus clock described. */
	FDT_CHECK(fdt_begin_node(fdt, "apb-pclk"));
	FDT_CHECK(fdt_property_string(fdt, "compatible", "fixed-clock"));
	FDT_CHECK(fdt_property_u32(fdt, "#clock-cells", 0));
	FDT_CHECK(fdt_property_u32(fdt, "clock-frequency", APB_CLOCK_HZ));
	FDT_CHECK(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	FDT_CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_CLK));
	return fdt_end_node(fdt);
}

/* The first device with a console input is the guest's stdout. */
static const struct dev_cfg *console_dev(const struct vm_config *c)
{
	for (uint32_t i = 0; i < c->ndevs; i++) {
		const struct dev_ops *ops = dev_find(c->devs[i].type);

		if (ops && ops->console_in)
			return &c->devs[i];
	}
	return NULL;
}

int fdt_build(void *buf, size_t size, const struct fdt_params *p)
{
	const struct vm_config *c = p->cfg;
	const struct dev_cfg *console = console_dev(c);
	struct fdt_writer w = { buf, PHANDLE_FIRST_FREE, PHANDLE_CLK };
	char path[64];
	void *fdt = buf;

	if (!c->ncpus || c->ncpus > TORPOR_MAX_CPUS || !c->nmem ||
	    c->nmem > VM_MAX_MEM_REGIONS || c->ndevs > VM_MAX_DEVICES)
		return -EINVAL;
	FDT_CHECK(fdt_create(fdt, (int)size));
	FDT_CHECK(fdt_finish_reservemap(fdt));
	FDT_CHECK(fdt_begin_node(fdt, ""));
	FDT_CHECK(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	FDT_CHECK(fdt_property_string(fdt, "model", "torpor"));
	FDT_CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	FDT_CHECK(fdt_property_u32(fdt, "#size-cells", 2));
	FDT_CHECK(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC));

	FDT_CHECK(fdt_begin_node(fdt, "chosen"));
	FDT_CHECK(fdt_property_string(fdt, "bootargs", c->cmdline));
	if (console) {
		snprintf(path, sizeof(path), "/%s@%llx", dev_find(console->type)->fdt_name,
			 (unsigned long long)console->base);
		FDT_CHECK(fdt_property_string(fdt, "stdout-path", path));
	}
	if (p->initrd_size) {
		FDT_CHECK(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_addr));
		FDT_CHECK(fdt_property_u64(fdt, "linux,initrd-end",
				       p->initrd_addr + p->initrd_size));
	}
	FDT_CHECK(fdt_end_node(fdt));

	for (uint32_t i = 0; i < c->nmem; i++) {
		uint64_t reg[2] = { c->mem[i].guest_addr, c->mem[i].size };

		FDT_CHECK(fdt_begin_node_at(&w, "memory", reg[0]));
		FDT_CHECK(fdt_property_string(fdt, "device_type", "memory"));
		FDT_CHECK(prop_reg(fdt, reg, 1));
		FDT_CHECK(fdt_end_node(fdt));
	}
	FDT_CHECK(add_cpus(&w, p));
	FDT_CHECK(add_gic_timer_psci(&w, c));
	for (uint32_t i = 0; i < c->ndevs; i++) {
		const struct dev_ops *ops = dev_find(c->devs[i].type);

		if (!ops)
			return -EINVAL;
		FDT_CHECK(ops->fdt_node(&w, &c->devs[i]));
	}
	FDT_CHECK(fdt_end_node(fdt));
	FDT_CHECK(fdt_finish(fdt));
	return 0;
}
