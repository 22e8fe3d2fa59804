/* vmgenid.c - the VM generation ID: its random ID, the window it is
 * published in, the interrupt after a restore, and its device-table entry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "devices.h"
#include "le.h"
#include "log.h"
#include "memmap.h"
#include "vmgenid.h"

struct vmgenid {
	uint8_t id[VMGENID_ID_LEN];
	uint8_t *window;                /* VMGENID_SIZE bytes of guest memory */
	struct irq_line irq;
};

void vmgenid_format(const uint8_t id[VMGENID_ID_LEN], char out[VMGENID_STR_LEN])
{
	snprintf(out, VMGENID_STR_LEN,
		 "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 le_get32(id), le_get16(id + 4), le_get16(id + 6), id[8], id[9],
		 id[10], id[11], id[12], id[13], id[14], id[15]);
}

/* A random GUID (RFC 4122 version 4, in the GUID layout above: the version
 * is the top nibble of the u16 in bytes 6..7); 0 or a negative errno. */
static int new_id(uint8_t id[VMGENID_ID_LEN])
{
	ssize_t r;

	do
		r = getrandom(id, VMGENID_ID_LEN, 0);
	while (r < 0 && errno == EINTR);
	if (r != VMGENID_ID_LEN)
		return r < 0 ? -errno : -EIO;
	id[7] = (uint8_t)((id[7] & 0x0f) | 0x40);
	id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
	return 0;
}

/* Writes the ID into the window where a guest that maps it uncached (Linux
 * ioremaps it) reads it: on arm64 the lines are cleaned to the point of
 * coherency, as the host wrote them through its cacheable mapping. */
static void publish(const struct vmgenid *g)
{
	memcpy(g->window, g->id, VMGENID_ID_LEN);
#ifdef __aarch64__
	{
		uint64_t ctr;
		uintptr_t line, a, end = (uintptr_t)g->window + VMGENID_ID_LEN;

		__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
		line = (uintptr_t)4 << ((ctr >> 16) & 0xf);     /* DminLine, words */
		for (a = (uintptr_t)g->window & ~(line - 1); a < end; a += line)
			__asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
		__asm__ volatile("dsb sy" : : : "memory");
	}
#endif
}

static void *vmgenid_create(const struct dev_env *env)
{
	struct vmgenid *g;

	if (!env->window)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	if (new_id(g->id)) {
		free(g);
		return NULL;
	}
	g->window = env->window;
	g->irq = env->irq;
	publish(g);
	return g;
}

/* A guest reboot is not a new generation: the ID stays (written again: the
 * window is read-only to the guest in a VM, but not to every caller). */
static void vmgenid_reset(void *dev)
{
	publish(dev);
}

/* The window is not MMIO; this writes the node Linux's driver binds. reg is
 * the ID's 16 bytes, not the whole window. */
static int vmgenid_fdt(struct fdt_writer *w, const struct dev_cfg *d)
{
	fdt64_t reg[2] = { cpu_to_fdt64(d->base), cpu_to_fdt64(VMGENID_ID_LEN) };
	uint32_t irq[3] = { FDT_GIC_SPI, d->spi, FDT_IRQ_EDGE_RISING };

	FDT_CHECK(fdt_begin_node_at(w, "vmgenid", d->base));
	FDT_CHECK(fdt_property_string(w->fdt, "compatible", "microsoft,vmgenid"));
	FDT_CHECK(fdt_property(w->fdt, "reg", reg, sizeof(reg)));
	FDT_CHECK(fdt_prop_cells(w, "interrupts", irq, 3));
	return fdt_end_node(w->fdt);
}

static void vmgenid_save(const void *dev, uint64_t base, struct dev_state *d)
{
	const struct vmgenid *g = dev;

	memset(d, 0, sizeof(*d));
	d->type = DEV_VMGENID;
	d->base = base;
	dev_state_put(d, VMGENID_F_ID_LO, le_get64(g->id));
	dev_state_put(d, VMGENID_F_ID_HI, le_get64(g->id + 8));
}

/* An all-zero ID is no ID a device could have had. The line is low between
 * pulses. */
static int vmgenid_restore(void *dev, const struct dev_state *d)
{
	struct vmgenid *g = dev;
	uint64_t lo, hi;

	if (d->type != DEV_VMGENID || dev_state_get(d, VMGENID_F_ID_LO, &lo) ||
	    dev_state_get(d, VMGENID_F_ID_HI, &hi) || (lo == 0 && hi == 0))
		return -EINVAL;
	le_put64(g->id, lo);
	le_put64(g->id + 8, hi);
	publish(g);
	irq_line_set(&g->irq, 0);
	return 0;
}

/* A new generation: a new ID, visible before the edge that makes the guest
 * read it (KVM_IRQ_LINE 1 then 0 leaves an edge-triggered SPI pending). */
static void vmgenid_restored(void *dev, int same_generation)
{
	struct vmgenid *g = dev;
	uint8_t id[VMGENID_ID_LEN];
	int err;

	if (same_generation)
		return;
	err = new_id(id);
	if (err) {
		log_info("vmgenid: no new generation ID (%s): the guest is not "
			 "told it was restored", strerror(-err));
		return;
	}
	memcpy(g->id, id, VMGENID_ID_LEN);
	publish(g);
	irq_line_set(&g->irq, 1);
	irq_line_set(&g->irq, 0);
}

const struct dev_ops vmgenid_dev_ops = {
	.type = DEV_VMGENID,
	.name = "vmgenid",
	.fdt_name = "vmgenid",
	.dflt = { DEV_VMGENID, VMGENID_SPI, VMGENID_BASE, VMGENID_SIZE },
	.memslot = 1,
	.create = vmgenid_create,
	.destroy = free,
	.reset = vmgenid_reset,
	.mmio = NULL,
	.fdt_node = vmgenid_fdt,
	.save = vmgenid_save,
	.restore = vmgenid_restore,
	.restored = vmgenid_restored,
};
