/* gpio.h - an ARM PL061 GPIO controller. torpor drives its input lines (a
 * wake button for gpio-keys); the guest programs direction, interrupts and
 * outputs. The caller holds the device lock. */
#ifndef TORPOR_GPIO_H
#define TORPOR_GPIO_H

#include <stdint.h>

#include "mmio.h"
#include "vm_state.h"

struct gpio {
	uint8_t out, in, dir, is, ibe, iev, ie, ris, afsel;
	struct irq_line irq;
};

/* Saved-state field ids (formats/torpor-image.md, device type 3). */
enum gpio_field {
	GPIO_F_OUT = 1, GPIO_F_IN, GPIO_F_DIR, GPIO_F_IS, GPIO_F_IBE,
	GPIO_F_IEV, GPIO_F_IE, GPIO_F_RIS, GPIO_F_AFSEL,
};

/* Resets g: all lines inputs at level 0, interrupts masked. */
void gpio_init(struct gpio *g, struct irq_line irq);

/* MMIO handler (mmio_fn). */
void gpio_mmio(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
	       int is_write);

/* Drives input line (0..7) to level, latching edge/level interrupts. */
void gpio_set_input(struct gpio *g, unsigned line, int level);

/* Whether the guest unmasked the interrupt of input line. */
int gpio_irq_enabled(const struct gpio *g, unsigned line);

void gpio_save(const struct gpio *g, uint64_t base, struct dev_state *d);

/* -EINVAL if d is not a consistent PL061 state. */
int gpio_restore(struct gpio *g, const struct dev_state *d);

#endif
