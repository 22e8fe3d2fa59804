/* gpio.c - PL061 register model (ARM DDI 0190). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dev_fields.h"
#include "gpio.h"
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
