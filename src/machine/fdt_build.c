/* fdt_build.c - device tree generation with libfdt's sequential writer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "fdt_build.h"
#include "memmap.h"

#define PHANDLE_GIC     1
#define PHANDLE_CLK     2
#define PHANDLE_GPIO    3

/* GIC binding: interrupt type cell and trigger flags. */
#define GIC_SPI         0
#define GIC_PPI         1
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH  4
#define KEY_WAKEUP      143
#define APB_CLOCK_HZ    24000000

/* libfdt calls return 0 or a negative FDT_ERR_*, the helpers here 0 or an
 * errno; CHECK keeps the sequence readable and turns the first failure into
 * -ENOSPC (out of room) or -EINVAL. */
#define CHECK(x) do {							\
	int e_ = (x);							\
	if (e_)								\
		return e_ == -FDT_ERR_NOSPACE || e_ == -ENOSPC ?	\
			-ENOSPC : -EINVAL;				\
} while (0)

#define MAX_CELLS       12      /* the timer's four interrupts */

static int prop_cells(void *fdt, const char *name, const uint32_t *v, unsigned n)
{
	fdt32_t be[MAX_CELLS];

	if (n > MAX_CELLS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(v[i]);
	return fdt_property(fdt, name, be, (int)(n * sizeof(fdt32_t)));
}

/* reg = <addr size> with 2 address and 2 size cells. */
static int prop_reg(void *fdt, const uint64_t *pairs, unsigned npairs)
{
	fdt64_t be[4];

	for (unsigned i = 0; i < 2 * npairs; i++)
		be[i] = cpu_to_fdt64(pairs[i]);
	return fdt_property(fdt, "reg", be, (int)(2 * npairs * sizeof(fdt64_t)));
}

static int begin_node_at(void *fdt, const char *name, uint64_t addr)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
	return fdt_begin_node(fdt, buf);
}

static int add_cpus(void *fdt, const struct fdt_params *p)
{
	CHECK(fdt_begin_node(fdt, "cpus"));
	CHECK(fdt_property_u32(fdt, "#address-cells", 1));
	CHECK(fdt_property_u32(fdt, "#size-cells", 0));
	for (uint32_t i = 0; i < p->cfg->ncpus; i++) {
		/* reg holds the affinity fields Aff2..Aff0 of MPIDR_EL1. */
		uint32_t reg = (uint32_t)(p->mpidr[i] & 0xffffff);

		CHECK(begin_node_at(fdt, "cpu", reg));
		CHECK(fdt_property_string(fdt, "device_type", "cpu"));
		CHECK(fdt_property_string(fdt, "compatible", "arm,armv8"));
		CHECK(fdt_property_string(fdt, "enable-method", "psci"));
		CHECK(fdt_property_u32(fdt, "reg", reg));
		CHECK(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_gic_timer_psci(void *fdt, const struct vm_config *c)
{
	uint64_t reg[4] = { c->gic_dist_base, c->gic_dist_size, c->gic_redist_base,
			    (uint64_t)GIC_REDIST_STRIDE * c->ncpus };
	uint32_t timer[12] = {
		GIC_PPI, TIMER_PPI_SEC_PHYS - 16, IRQ_LEVEL_HIGH,
		GIC_PPI, TIMER_PPI_PHYS - 16, IRQ_LEVEL_HIGH,
		GIC_PPI, TIMER_PPI_VIRT - 16, IRQ_LEVEL_HIGH,
		GIC_PPI, TIMER_PPI_HYP - 16, IRQ_LEVEL_HIGH,
	};
	const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";

	CHECK(begin_node_at(fdt, "intc", c->gic_dist_base));
	CHECK(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	CHECK(fdt_property_u32(fdt, "#interrupt-cells", 3));
	CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
	CHECK(fdt_property_u32(fdt, "#redistributor-regions", 1));
	CHECK(prop_reg(fdt, reg, 2));
	CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_GIC));
	CHECK(fdt_end_node(fdt));

	CHECK(fdt_begin_node(fdt, "timer"));
	CHECK(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	CHECK(prop_cells(fdt, "interrupts", timer, 12));
	CHECK(fdt_end_node(fdt));

	CHECK(fdt_begin_node(fdt, "psci"));
	CHECK(fdt_property(fdt, "compatible", psci_compat, sizeof(psci_compat)));
	CHECK(fdt_property_string(fdt, "method", "hvc"));
	CHECK(fdt_end_node(fdt));

	/* AMBA PrimeCells need their bus clock described. */
	CHECK(fdt_begin_node(fdt, "apb-pclk"));
	CHECK(fdt_property_string(fdt, "compatible", "fixed-clock"));
	CHECK(fdt_property_u32(fdt, "#clock-cells", 0));
	CHECK(fdt_property_u32(fdt, "clock-frequency", APB_CLOCK_HZ));
	CHECK(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_CLK));
	return fdt_end_node(fdt);
}

static int add_irq_reg(void *fdt, const struct dev_cfg *d)
{
	uint64_t reg[2] = { d->base, d->size };
	uint32_t irq[3] = { GIC_SPI, d->spi, IRQ_LEVEL_HIGH };

	CHECK(prop_reg(fdt, reg, 1));
	return prop_cells(fdt, "interrupts", irq, 3);
}

static int add_primecell(void *fdt, const struct dev_cfg *d, const char *name,
			 const char *part)
{
	char compat[32];
	int n = snprintf(compat, sizeof(compat), "%s%carm,primecell", part, 0);

	CHECK(begin_node_at(fdt, name, d->base));
	CHECK(fdt_property(fdt, "compatible", compat, n + 1));
	CHECK(add_irq_reg(fdt, d));
	CHECK(fdt_property_u32(fdt, "clocks", PHANDLE_CLK));
	CHECK(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	return 0;
}

static int add_device(void *fdt, const struct dev_cfg *d)
{
	switch (d->type) {
	case DEV_UART_16550:
		CHECK(begin_node_at(fdt, "serial", d->base));
		CHECK(fdt_property_string(fdt, "compatible", "ns16550a"));
		CHECK(add_irq_reg(fdt, d));
		CHECK(fdt_property_u32(fdt, "clock-frequency", 1843200));
		/* Lets the guest enable the console as a wake source. */
		CHECK(fdt_property(fdt, "wakeup-source", NULL, 0));
		return fdt_end_node(fdt);
	case DEV_RTC_PL031:
		CHECK(add_primecell(fdt, d, "rtc", "arm,pl031"));
		CHECK(fdt_property(fdt, "wakeup-source", NULL, 0));
		return fdt_end_node(fdt);
	case DEV_GPIO_PL061:
		CHECK(add_primecell(fdt, d, "gpio", "arm,pl061"));
		CHECK(fdt_property(fdt, "gpio-controller", NULL, 0));
		CHECK(fdt_property_u32(fdt, "#gpio-cells", 2));
		CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
		CHECK(fdt_property_u32(fdt, "#interrupt-cells", 2));
		CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_GPIO));
		CHECK(fdt_end_node(fdt));
		/* The wake button torpor presses on restore: gpio-keys arms it
		 * for wakeup by itself. */
		{
			uint32_t gpios[3] = { PHANDLE_GPIO, GPIO_WAKE_LINE, 0 };

			CHECK(fdt_begin_node(fdt, "gpio-keys"));
			CHECK(fdt_property_string(fdt, "compatible", "gpio-keys"));
			CHECK(fdt_begin_node(fdt, "wake"));
			CHECK(fdt_property_string(fdt, "label", "torpor-wake"));
			CHECK(fdt_property_u32(fdt, "linux,code", KEY_WAKEUP));
			CHECK(prop_cells(fdt, "gpios", gpios, 3));
			CHECK(fdt_property(fdt, "wakeup-source", NULL, 0));
			CHECK(fdt_end_node(fdt));
			return fdt_end_node(fdt);
		}
	default:
		return -EINVAL;
	}
}

static const struct dev_cfg *find_dev(const struct vm_config *c, uint32_t type)
{
	for (uint32_t i = 0; i < c->ndevs; i++)
		if (c->devs[i].type == type)
			return &c->devs[i];
	return NULL;
}

int fdt_build(void *buf, size_t size, const struct fdt_params *p)
{
	const struct vm_config *c = p->cfg;
	const struct dev_cfg *uart = find_dev(c, DEV_UART_16550);
	char path[64];
	void *fdt = buf;

	if (!c->ncpus || c->ncpus > TORPOR_MAX_CPUS || !c->nmem ||
	    c->nmem > VM_MAX_MEM_REGIONS || c->ndevs > VM_MAX_DEVICES)
		return -EINVAL;
	CHECK(fdt_create(fdt, (int)size));
	CHECK(fdt_finish_reservemap(fdt));
	CHECK(fdt_begin_node(fdt, ""));
	CHECK(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	CHECK(fdt_property_string(fdt, "model", "torpor"));
	CHECK(fdt_property_u32(fdt, "#address-cells", 2));
	CHECK(fdt_property_u32(fdt, "#size-cells", 2));
	CHECK(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC));

	CHECK(fdt_begin_node(fdt, "chosen"));
	CHECK(fdt_property_string(fdt, "bootargs", c->cmdline));
	if (uart) {
		snprintf(path, sizeof(path), "/serial@%llx", (unsigned long long)uart->base);
		CHECK(fdt_property_string(fdt, "stdout-path", path));
	}
	if (p->initrd_size) {
		CHECK(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_addr));
		CHECK(fdt_property_u64(fdt, "linux,initrd-end",
				       p->initrd_addr + p->initrd_size));
	}
	CHECK(fdt_end_node(fdt));

	for (uint32_t i = 0; i < c->nmem; i++) {
		uint64_t reg[2] = { c->mem[i].guest_addr, c->mem[i].size };

		CHECK(begin_node_at(fdt, "memory", reg[0]));
		CHECK(fdt_property_string(fdt, "device_type", "memory"));
		CHECK(prop_reg(fdt, reg, 1));
		CHECK(fdt_end_node(fdt));
	}
	CHECK(add_cpus(fdt, p));
	CHECK(add_gic_timer_psci(fdt, c));
	for (uint32_t i = 0; i < c->ndevs; i++)
		CHECK(add_device(fdt, &c->devs[i]));
	CHECK(fdt_end_node(fdt));
	CHECK(fdt_finish(fdt));
	return 0;
}
