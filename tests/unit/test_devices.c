/* test_devices.c - the device table: every entry is complete and unique, its
 * default window fits the memory map, and every device round-trips its
 * state, resets to power-on state and writes its device-tree node. Each test
 * runs over the whole table, so a new device is covered by its table line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libfdt.h>

#include "../../src/image/image_int.h"
#include "devices.h"
#include "disk.h"
#include "memmap.h"
#include "tap.h"

static int line_level;
static unsigned out_bytes, notified;

static void set_line(void *ctx, uint32_t spi, int level)
{
	(void)ctx;
	(void)spi;
	line_level = level;
}

static void out(void *ctx, uint8_t byte)
{
	(void)ctx;
	(void)byte;
	out_bytes++;
}

static void notify(void *ctx)
{
	(void)ctx;
	notified++;
}

/* What a per-backend device is given: a scratch disk (virtio-blk) or a
 * tap that is one end of a datagram socket pair (virtio-net), a little
 * guest RAM, and the bus lock every call below holds, as vm/ does. */
static pthread_mutex_t bus = PTHREAD_MUTEX_INITIALIZER;
static uint8_t ram[64 << 10];
static struct disk disk;
/* What a memslot device (vmgenid) is given: the host side of its window. */
static uint8_t window[64 << 10];

static struct disk *scratch_disk(void)
{
	char path[] = "/tmp/torpor_devices.XXXXXX", err[256];
	struct disk_spec spec = { path, 0, "devtest" };
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	if (disk.size == 0)
		cr_assert_eq(disk_open(&disk, &spec, err, sizeof(err)), 0, "%s", err);
	unlink(path);
	return &disk;
}

static struct tap *scratch_tap(void)
{
	static struct tap tap = { .fd = -1 };
	int sv[2];

	if (tap.fd < 0) {
		cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
		tap.fd = sv[0];
		strcpy(tap.name, "devtest0");
		mac_default(tap.name, tap.mac);
	}
	return &tap;
}

static void *create(const struct dev_ops *ops)
{
	struct dev_env env = { { set_line, NULL, ops->dflt.spi }, out, notify, NULL,
			       { ram, RAM_BASE, sizeof(ram) }, &bus, NULL, NULL };
	void *dev;

	if (ops->backend == DEV_BACKEND_DISK)
		env.backend = scratch_disk();
	else if (ops->backend == DEV_BACKEND_TAP)
		env.backend = scratch_tap();
	if (ops->memslot) {
		cr_assert_leq(ops->dflt.size, sizeof(window), "%s: window", ops->name);
		memset(window, 0, sizeof(window));
		env.window = window;
	}
	dev = ops->create(&env);
	cr_assert_not_null(dev, "%s: create", ops->name);
	return dev;
}

static void save(const struct dev_ops *ops, const void *dev, struct dev_state *d)
{
	pthread_mutex_lock(&bus);
	ops->save(dev, ops->dflt.base, d);
	pthread_mutex_unlock(&bus);
}

static int restore(const struct dev_ops *ops, void *dev, const struct dev_state *d)
{
	int ret;

	pthread_mutex_lock(&bus);
	ret = ops->restore(dev, d);
	pthread_mutex_unlock(&bus);
	return ret;
}

static void reset(const struct dev_ops *ops, void *dev)
{
	pthread_mutex_lock(&bus);
	ops->reset(dev);
	pthread_mutex_unlock(&bus);
}

/* Writes a pattern to every 32-bit register of the window and reads each
 * back, as a guest probing the device would: state changes everywhere. A
 * window of guest memory is written over, as the guest can. */
static void poke(const struct dev_ops *ops, void *dev)
{
	if (!ops->mmio) {
		for (uint64_t off = 0; off < ops->dflt.size; off++)
			window[off] = (uint8_t)(off * 0x9e3779b9u ^ 0x5au);
		return;
	}
	pthread_mutex_lock(&bus);
	for (uint64_t off = 0; off < ops->dflt.size; off += 4) {
		uint8_t d[4];

		mmio_put(d, 4, (uint32_t)(off * 0x9e3779b9u) ^ 0x5au);
		ops->mmio(dev, off, d, 4, 1);
		ops->mmio(dev, off, d, 4, 0);
	}
	pthread_mutex_unlock(&bus);
}

static void expect_same_state(const struct dev_state *a, const struct dev_state *b,
			      const char *what)
{
	cr_expect_eq(a->type, b->type, "%s: type", what);
	cr_expect_eq(a->base, b->base, "%s: base", what);
	cr_assert_eq(a->nfields, b->nfields, "%s: field count", what);
	for (uint32_t i = 0; i < a->nfields; i++) {
		cr_expect_eq(a->fields[i].id, b->fields[i].id, "%s: field %u id", what, i);
		cr_expect_eq(a->fields[i].value, b->fields[i].value, "%s: field %u (id %u)",
			     what, i, a->fields[i].id);
	}
	cr_assert_eq(a->blob_len, b->blob_len, "%s: blob length", what);
	cr_expect_eq(memcmp(a->blob, b->blob, a->blob_len), 0, "%s: blob", what);
}

Test(devices, table_is_complete_and_unique)
{
	cr_assert_gt(dev_count(), 0);
	cr_expect_null(dev_at(dev_count()));
	for (unsigned i = 0; i < dev_count(); i++) {
		const struct dev_ops *a = dev_at(i);

		cr_assert_not_null(a);
		cr_expect_neq(a->type, 0, "entry %u has no type", i);
		cr_expect_eq(a->dflt.type, a->type, "%s: default config of another type",
			     a->name);
		cr_expect(a->name && a->fdt_name, "entry %u lacks a name", i);
		cr_expect_leq(a->max_blob, DEV_MAX_BLOB, "%s: blob beyond the format's", a->name);
		/* The image reader judges states by the format's table. */
		cr_expect_eq((int)a->max_blob, format_dev_max_blob(a->type),
			     "%s: blob limit differs from the format's", a->name);
		cr_expect(a->create && a->destroy && a->reset && a->fdt_node &&
			  a->save && a->restore, "%s lacks a required op", a->name);
		/* A window is MMIO or guest memory, never both. */
		cr_expect(!a->mmio == !!a->memslot, "%s: mmio and memslot", a->name);
		cr_expect_eq(dev_find(a->type), a, "%s: dev_find", a->name);
		cr_expect_str_eq(dev_type_name(a->type), a->name);
		for (unsigned j = 0; j < i; j++) {
			cr_expect_neq(dev_at(j)->type, a->type, "%s: type twice", a->name);
			cr_expect_str_neq(dev_at(j)->name, a->name);
		}
	}
	cr_expect_null(dev_find(0));
	cr_expect_null(dev_find(999));
	cr_expect_str_eq(dev_type_name(999), "unknown");
}

/* Default windows lie between the GIC and RAM, apart, with distinct SPIs
 * the GIC has. */
Test(devices, default_windows_fit_the_memory_map)
{
	for (unsigned i = 0; i < dev_count(); i++) {
		const struct dev_cfg *a = &dev_at(i)->dflt;

		cr_expect_geq(a->base, (uint64_t)GIC_REDIST_BASE + GIC_REDIST_SIZE,
			      "%s overlaps the GIC", dev_at(i)->name);
		cr_expect_leq(a->base + a->size, (uint64_t)RAM_BASE);
		cr_expect_gt(a->size, 0);
		cr_expect_lt(a->spi, (uint32_t)(GIC_NR_IRQS - GIC_SPI_BASE));
		/* A memslot is whole host pages, whatever the host's (up to 64K). */
		if (dev_at(i)->memslot)
			cr_expect(a->base % 0x10000 == 0 && a->size % 0x10000 == 0,
				  "%s: window not in whole 64K pages", dev_at(i)->name);
		for (unsigned j = 0; j < i; j++) {
			const struct dev_cfg *b = &dev_at(j)->dflt;

			cr_expect(a->base >= b->base + b->size || b->base >= a->base + a->size,
				  "%s overlaps %s", dev_at(i)->name, dev_at(j)->name);
			cr_expect_neq(a->spi, b->spi, "%s shares an SPI", dev_at(i)->name);
		}
	}
}

/* save, restore into a new device, save again: the same state; and the
 * restored device answers every register as the original does. */
Test(devices, state_round_trips)
{
	for (unsigned i = 0; i < dev_count(); i++) {
		const struct dev_ops *ops = dev_at(i);
		void *a = create(ops), *b = create(ops);
		static struct dev_state sa, sb;

		poke(ops, a);
		save(ops, a, &sa);
		cr_expect_eq(sa.type, ops->type, "%s: saved type", ops->name);
		cr_expect_eq(sa.base, ops->dflt.base, "%s: saved base", ops->name);
		cr_assert_eq(restore(ops, b, &sa), 0, "%s: restore", ops->name);
		save(ops, b, &sb);
		expect_same_state(&sa, &sb, ops->name);
		ops->destroy(a);
		ops->destroy(b);
	}
}

/* A state of another device type is refused and changes nothing. */
Test(devices, restore_refuses_another_type)
{
	for (unsigned i = 0; i < dev_count(); i++) {
		const struct dev_ops *ops = dev_at(i);
		void *dev = create(ops);
		static struct dev_state before, after, other;

		poke(ops, dev);
		save(ops, dev, &before);
		other = before;
		other.type = ops->type + 100;
		cr_expect_eq(restore(ops, dev, &other), -EINVAL, "%s", ops->name);
		save(ops, dev, &after);
		expect_same_state(&before, &after, ops->name);
		ops->destroy(dev);
	}
}

/* reset: the state the device had when it was created, whatever the guest
 * did (the same device's: an identity such as vmgenid's ID survives a
 * reset, and differs between two devices). */
Test(devices, reset_is_power_on_state)
{
	for (unsigned i = 0; i < dev_count(); i++) {
		const struct dev_ops *ops = dev_at(i);
		void *dev = create(ops);
		static struct dev_state sf, su;

		save(ops, dev, &sf);
		poke(ops, dev);
		reset(ops, dev);
		save(ops, dev, &su);
		expect_same_state(&sf, &su, ops->name);
		ops->destroy(dev);
	}
}

/* Each device writes a node named fdt_name@base with its window and SPI. */
Test(devices, fdt_node_names_the_window_and_line)
{
	for (unsigned i = 0; i < dev_count(); i++) {
		const struct dev_ops *ops = dev_at(i);
		static uint8_t buf[8192];
		struct fdt_writer w = { buf, 10, 2 };
		char path[64];
		const fdt32_t *irq;
		int off, len;

		cr_assert_eq(fdt_create(buf, sizeof(buf)), 0);
		cr_assert_eq(fdt_finish_reservemap(buf), 0);
		cr_assert_eq(fdt_begin_node(buf, ""), 0);
		cr_assert_eq(ops->fdt_node(&w, &ops->dflt), 0, "%s", ops->name);
		cr_assert_eq(fdt_end_node(buf), 0);
		cr_assert_eq(fdt_finish(buf), 0);
		snprintf(path, sizeof(path), "/%s@%llx", ops->fdt_name,
			 (unsigned long long)ops->dflt.base);
		off = fdt_path_offset(buf, path);
		cr_assert_geq(off, 0, "no node %s", path);
		cr_expect_not_null(fdt_getprop(buf, off, "reg", &len));
		cr_expect_eq(len, 16, "%s: reg", ops->name);
		irq = fdt_getprop(buf, off, "interrupts", &len);
		cr_assert_not_null(irq, "%s: interrupts", ops->name);
		cr_expect_eq(fdt32_to_cpu(irq[1]), ops->dflt.spi, "%s: SPI", ops->name);
		/* Too little room is ENOSPC, never a crash. */
		cr_assert_eq(fdt_create(buf, 128), 0);
		cr_assert_eq(fdt_finish_reservemap(buf), 0);
		cr_assert_eq(fdt_begin_node(buf, ""), 0);
		cr_expect_eq(ops->fdt_node(&w, &ops->dflt), -ENOSPC, "%s", ops->name);
	}
}
