/* gpio.c - PL061 register model (ARM DDI 0190). */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_fields.h"
#include "devices.h"
#include "gpio.h"
#include "memmap.h"
#include "primecell.h"

enum {
	REG_DATA_END = 0x400, REG_DIR = 0x400, REG_IS = 0x404, REG_IBE = 0x408,
	REG_IEV = 0x40c, REG_IE = 0x410, REG_RIS = 0x414, REG_MIS = 0x418,
	REG_IC = 0x41c, REG_AFSEL = 0x420,
};

#define PL061_PERIPH_ID 0x00041061

static uint8_t levels(const struct gpio *g)
{
	return (uint8_t)((g->out & g->dir) | (g->in & ~g->dir));
}

/* Level-sensitive lines report their current match in RIS. */
static void update_levels(struct gpio *g)
{
	uint8_t lv = levels(g);
	uint8_t match = (uint8_t)((lv & g->iev) | (~lv & ~g->iev));

	g->ris = (uint8_t)((g->ris & ~g->is) | (match & g->is));
}

static void update_irq(struct gpio *g)
{
	update_levels(g);
	irq_line_set(&g->irq, (g->ris & g->ie) != 0);
}

void gpio_init(struct gpio *g, struct irq_line irq)
{
	memset(g, 0, sizeof(*g));
	g->irq = irq;
}

static void edges(struct gpio *g, uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after;
	uint8_t rising = changed & after, falling = changed & before;
	uint8_t hit = (uint8_t)((changed & g->ibe) |
				(rising & g->iev & ~g->ibe) |
				(falling & ~g->iev & ~g->ibe));

	g->ris |= hit & ~g->is;
}

void gpio_set_input(struct gpio *g, unsigned line, int level)
{
	uint8_t before = levels(g);

	if (line > 7)
		return;
	if (level)
		g->in |= (uint8_t)(1u << line);
	else
		g->in &= (uint8_t)~(1u << line);
	edges(g, before, levels(g));
	update_irq(g);
}

int gpio_irq_enabled(const struct gpio *g, unsigned line)
{
	return line < 8 && (g->ie >> line) & 1;
}

void gpio_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
	       int is_write)
{
	struct gpio *g = opaque;
	uint8_t v = (uint8_t)mmio_get(data, len), before = levels(g);
	uint32_t r = 0;

	if (offset < REG_DATA_END) {
		/* Address bits [9:2] mask which lines the access touches. */
		uint8_t mask = (uint8_t)(offset >> 2);

		if (is_write) {
			g->out = (uint8_t)((g->out & ~mask) | (v & mask));
			edges(g, before, levels(g));
			update_irq(g);
		} else {
			mmio_put(data, len, levels(g) & mask);
		}
		return;
	}
	if (is_write) {
		switch (offset) {
		case REG_DIR: g->dir = v; break;
		case REG_IS: g->is = v; break;
		case REG_IBE: g->ibe = v; break;
		case REG_IEV: g->iev = v; break;
		case REG_IE: g->ie = v; break;
		case REG_IC: g->ris &= (uint8_t)~v; break;
		case REG_AFSEL: g->afsel = v; break;
		default: break;
		}
		edges(g, before, levels(g));
		update_irq(g);
		return;
	}
	update_levels(g);
	switch (offset) {
	case REG_DIR: r = g->dir; break;
	case REG_IS: r = g->is; break;
	case REG_IBE: r = g->ibe; break;
	case REG_IEV: r = g->iev; break;
	case REG_IE: r = g->ie; break;
	case REG_RIS: r = g->ris; break;
	case REG_MIS: r = g->ris & g->ie; break;
	case REG_AFSEL: r = g->afsel; break;
	default: r = primecell_id(PL061_PERIPH_ID, offset); break;
	}
	mmio_put(data, len, r);
}

static const struct dev_field8 gpio_fields[] = {
	{ GPIO_F_OUT, 0xff, offsetof(struct gpio, out) },
	{ GPIO_F_IN, 0xff, offsetof(struct gpio, in) },
	{ GPIO_F_DIR, 0xff, offsetof(struct gpio, dir) },
	{ GPIO_F_IS, 0xff, offsetof(struct gpio, is) },
	{ GPIO_F_IBE, 0xff, offsetof(struct gpio, ibe) },
	{ GPIO_F_IEV, 0xff, offsetof(struct gpio, iev) },
	{ GPIO_F_IE, 0xff, offsetof(struct gpio, ie) },
	{ GPIO_F_RIS, 0xff, offsetof(struct gpio, ris) },
	{ GPIO_F_AFSEL, 0xff, offsetof(struct gpio, afsel) },
};
#define N_GPIO_FIELDS (sizeof(gpio_fields) / sizeof(gpio_fields[0]))

void gpio_save(const struct gpio *g, uint64_t base, struct dev_state *d)
{
	memset(d, 0, sizeof(*d));
	d->type = DEV_GPIO_PL061;
	d->base = base;
	dev_fields8_save(d, g, gpio_fields, N_GPIO_FIELDS);
}

int gpio_restore(struct gpio *g, const struct dev_state *d)
{
	if (d->type != DEV_GPIO_PL061 || dev_fields8_load(d, g, gpio_fields, N_GPIO_FIELDS))
		return -EINVAL;
	update_irq(g);
	return 0;
}

/* --- the device table entry ------------------------------------------------ */

static void *gpio_create(const struct dev_env *env)
{
	struct gpio *g = calloc(1, sizeof(*g));

	if (g)
		gpio_init(g, env->irq);
	return g;
}

static void gpio_reset(void *dev)
{
	struct gpio *g = dev;

	gpio_init(g, g->irq);
}

/* The controller, and the wake button torpor presses on restore: gpio-keys
 * arms it for wakeup by itself. */
static int gpio_fdt(struct fdt_writer *w, const struct dev_cfg *d)
{
	uint32_t phandle = fdt_new_phandle(w);
	uint32_t gpios[3] = { phandle, GPIO_WAKE_LINE, 0 };

	FDT_CHECK(fdt_begin_primecell(w, d, "gpio", "arm,pl061"));
	FDT_CHECK(fdt_property(w->fdt, "gpio-controller", NULL, 0));
	FDT_CHECK(fdt_property_u32(w->fdt, "#gpio-cells", 2));
	FDT_CHECK(fdt_property(w->fdt, "interrupt-controller", NULL, 0));
	FDT_CHECK(fdt_property_u32(w->fdt, "#interrupt-cells", 2));
	FDT_CHECK(fdt_property_u32(w->fdt, "phandle", phandle));
	FDT_CHECK(fdt_end_node(w->fdt));
	FDT_CHECK(fdt_begin_node(w->fdt, "gpio-keys"));
	FDT_CHECK(fdt_property_string(w->fdt, "compatible", "gpio-keys"));
	FDT_CHECK(fdt_begin_node(w->fdt, "wake"));
	FDT_CHECK(fdt_property_string(w->fdt, "label", "torpor-wake"));
	FDT_CHECK(fdt_property_u32(w->fdt, "linux,code", KEY_WAKEUP));
	FDT_CHECK(fdt_prop_cells(w, "gpios", gpios, 3));
	FDT_CHECK(fdt_property(w->fdt, "wakeup-source", NULL, 0));
	FDT_CHECK(fdt_end_node(w->fdt));
	return fdt_end_node(w->fdt);
}

static void gpio_save_op(const void *dev, uint64_t base, struct dev_state *d)
{
	gpio_save(dev, base, d);
}

static int gpio_restore_op(void *dev, const struct dev_state *d)
{
	return gpio_restore(dev, d);
}

/* A press and a release: edges, whatever level an older image left the
 * line at; gpio-keys latches the edge in the PL061 and wakes. */
static enum dev_wake gpio_wake(void *dev, int press, char *what, size_t len)
{
	struct gpio *g = dev;

	if (!press || !gpio_irq_enabled(g, GPIO_WAKE_LINE))
		return DEV_WAKE_NONE;
	gpio_set_input(g, GPIO_WAKE_LINE, 0);
	gpio_set_input(g, GPIO_WAKE_LINE, 1);
	gpio_set_input(g, GPIO_WAKE_LINE, 0);
	snprintf(what, len, "pressed the wake button");
	return DEV_WAKE_PRESSED;
}

const struct dev_ops gpio_dev_ops = {
	.type = DEV_GPIO_PL061,
	.name = "gpio-pl061",
	.fdt_name = "gpio",
	.dflt = { DEV_GPIO_PL061, GPIO_SPI, GPIO_BASE, GPIO_SIZE },
	.create = gpio_create,
	.destroy = free,
	.reset = gpio_reset,
	.mmio = gpio_mmio,
	.fdt_node = gpio_fdt,
	.save = gpio_save_op,
	.restore = gpio_restore_op,
	.wake = gpio_wake,
};
