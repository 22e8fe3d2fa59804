/* fdt_build.h - the guest's device tree, generated with libfdt's sequential
 * writer from the VM configuration: memory, cpus, psci, gic, timer, chosen,
 * and each device's node(s), which the device writes itself (its
 * dev_ops.fdt_node, with the helpers below). */
#ifndef TORPOR_FDT_BUILD_H
#define TORPOR_FDT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <libfdt.h>

#include "vm_state.h"

/* GIC binding: interrupt type cell and trigger flags. */
#define FDT_GIC_SPI             0
#define FDT_GIC_PPI             1
#define FDT_IRQ_EDGE_RISING     1
#define FDT_IRQ_LEVEL_HIGH      4

/* A tree being written, and the phandles handed out so far. */
struct fdt_writer {
	void *fdt;
	uint32_t next_phandle;
	uint32_t clk_phandle;   /* the APB clock PrimeCells name */
};

/* libfdt calls return 0 or a negative FDT_ERR_*, the helpers here 0 or an
 * errno; FDT_CHECK keeps a node's sequence readable and turns the first
 * failure into -ENOSPC (out of room) or -EINVAL. */
#define FDT_CHECK(x) do {						\
	int e_ = (x);							\
	if (e_)								\
		return e_ == -FDT_ERR_NOSPACE || e_ == -ENOSPC ?	\
			-ENOSPC : -EINVAL;				\
} while (0)

/* A phandle no other node has. */
uint32_t fdt_new_phandle(struct fdt_writer *w);

/* Begins node "name@addr" (addr in hex). */
int fdt_begin_node_at(struct fdt_writer *w, const char *name, uint64_t addr);

/* Property of n (at most 12) 32-bit cells. */
int fdt_prop_cells(struct fdt_writer *w, const char *name, const uint32_t *v,
		   unsigned n);

/* reg = <base size> and interrupts = <SPI spi level-high> of a device. */
int fdt_prop_reg_irq(struct fdt_writer *w, const struct dev_cfg *d);

/* Begins an AMBA PrimeCell node: "part", "arm,primecell", reg, interrupts
 * and the APB clock. The caller adds its own properties and ends it. */
int fdt_begin_primecell(struct fdt_writer *w, const struct dev_cfg *d,
			const char *name, const char *part);

struct fdt_params {
	const struct vm_config *cfg;
	const uint64_t *mpidr;          /* cfg->ncpus entries, MPIDR_EL1 values */
	uint64_t initrd_addr, initrd_size;
};

/* Writes the device tree blob into buf (size bytes). 0 on success,
 * -ENOSPC if it does not fit, -EINVAL on a bad configuration (an unknown
 * device type included). */
int fdt_build(void *buf, size_t size, const struct fdt_params *p);

#endif
