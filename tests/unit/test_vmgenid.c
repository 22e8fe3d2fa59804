/* test_vmgenid.c - the VM generation ID: the ID in its window and in the
 * saved fields, a new generation after a restore and its interrupt, what
 * restore refuses, reset, the device-tree node and the GUID string. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <libfdt.h>

#include "devices.h"
#include "le.h"
#include "memmap.h"
#include "vmgenid.h"

static uint8_t window[VMGENID_SIZE];
static int calls, levels[8];

/* Records every level the device drives, in order. */
static void set_line(void *ctx, uint32_t spi, int level)
{
	(void)ctx;
	cr_assert_eq(spi, VMGENID_SPI);
	if (calls < 8)
		levels[calls] = level;
	calls++;
}

static void *create(void)
{
	struct dev_env env = { { set_line, NULL, VMGENID_SPI }, NULL, NULL, NULL,
			       { NULL, 0, 0 }, NULL, NULL, window };
	void *dev;

	memset(window, 0, sizeof(window));
	dev = vmgenid_dev_ops.create(&env);
	cr_assert_not_null(dev);
	calls = 0;
	return dev;
}

static void save(void *dev, struct dev_state *d)
{
	vmgenid_dev_ops.save(dev, VMGENID_BASE, d);
}

static uint64_t field(const struct dev_state *d, uint32_t id)
{
	uint64_t v;

	cr_assert_eq(dev_state_get(d, id, &v), 0, "field %u", id);
	return v;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The ID is the window's first 16 bytes, nothing else is written; the
 * fields are those bytes as two little-endian u64. */
Test(vmgenid, the_id_in_the_window_and_the_fields)
{
	void *dev = create();
	static struct dev_state d;

	cr_expect_not(all_zero(window, VMGENID_ID_LEN));
	cr_expect(all_zero(window + VMGENID_ID_LEN, sizeof(window) - VMGENID_ID_LEN));
	save(dev, &d);
	cr_expect_eq(d.type, DEV_VMGENID);
	cr_expect_eq(d.base, VMGENID_BASE);
	cr_expect_eq(d.nfields, 2);
	cr_expect_eq(d.blob_len, 0);
	cr_expect_eq(field(&d, VMGENID_F_ID_LO), le_get64(window));
	cr_expect_eq(field(&d, VMGENID_F_ID_HI), le_get64(window + 8));
	cr_expect_eq(calls, 0, "no interrupt at creation");
	vmgenid_dev_ops.destroy(dev);
}

/* RFC 4122 version 4, variant 10x, in the GUID layout: byte 7's top
 * nibble, byte 8's top two bits; the rest is random. */
Test(vmgenid, a_valid_random_guid_each_time)
{
	uint8_t first[VMGENID_ID_LEN];

	for (int i = 0; i < 32; i++) {
		void *dev = create();

		cr_expect_eq(window[7] >> 4, 4, "version");
		cr_expect_eq(window[8] >> 6, 2, "variant");
		if (i == 0)
			memcpy(first, window, VMGENID_ID_LEN);
		else
			cr_expect_neq(memcmp(first, window, VMGENID_ID_LEN), 0, "the same ID twice");
		vmgenid_dev_ops.destroy(dev);
	}
}

/* A new generation: another ID in the window and the fields, then an edge
 * on the line, 1 then 0. */
Test(vmgenid, restored_makes_a_new_generation_and_an_edge)
{
	void *dev = create();
	uint8_t before[VMGENID_ID_LEN];
	static struct dev_state d;

	memcpy(before, window, VMGENID_ID_LEN);
	vmgenid_dev_ops.restored(dev, 0);
	cr_expect_neq(memcmp(before, window, VMGENID_ID_LEN), 0, "the ID did not change");
	cr_expect_eq(window[7] >> 4, 4);
	cr_expect_eq(window[8] >> 6, 2);
	save(dev, &d);
	cr_expect_eq(field(&d, VMGENID_F_ID_LO), le_get64(window));
	cr_expect_eq(field(&d, VMGENID_F_ID_HI), le_get64(window + 8));
	cr_assert_eq(calls, 2, "%d line changes", calls);
	cr_expect_eq(levels[0], 1);
	cr_expect_eq(levels[1], 0);
	vmgenid_dev_ops.destroy(dev);
}

Test(vmgenid, same_generation_changes_nothing)
{
	void *dev = create();
	uint8_t before[VMGENID_ID_LEN];
	static struct dev_state a, b;

	memcpy(before, window, VMGENID_ID_LEN);
	save(dev, &a);
	vmgenid_dev_ops.restored(dev, 1);
	save(dev, &b);
	cr_expect_eq(memcmp(before, window, VMGENID_ID_LEN), 0);
	cr_expect_eq(field(&a, VMGENID_F_ID_LO), field(&b, VMGENID_F_ID_LO));
	cr_expect_eq(field(&a, VMGENID_F_ID_HI), field(&b, VMGENID_F_ID_HI));
	cr_expect_eq(calls, 0, "the line moved");
	vmgenid_dev_ops.destroy(dev);
}

/* The saved ID, not the device's own, in the window; the line stays low. */
Test(vmgenid, restore_writes_the_saved_id)
{
	void *dev = create();
	static struct dev_state d;
	static const uint8_t want[VMGENID_ID_LEN] = {
		0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x08, 0x47,
		0x89, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	};

	memset(&d, 0, sizeof(d));
	d.type = DEV_VMGENID;
	d.base = VMGENID_BASE;
	dev_state_put(&d, VMGENID_F_ID_LO, 0x4708050601020304ull);
	dev_state_put(&d, VMGENID_F_ID_HI, 0x100f0e0d0c0b0a89ull);
	cr_assert_eq(vmgenid_dev_ops.restore(dev, &d), 0);
	cr_expect_eq(memcmp(window, want, VMGENID_ID_LEN), 0);
	for (int i = 0; i < calls && i < 8; i++)
		cr_expect_eq(levels[i], 0, "the line raised by restore");
	vmgenid_dev_ops.destroy(dev);
}

/* An all-zero ID, a missing field, another type: -EINVAL, nothing changed. */
Test(vmgenid, restore_refuses_a_zero_or_partial_id)
{
	void *dev = create();
	uint8_t before[VMGENID_ID_LEN];
	static struct dev_state d, s1, s2;

	memcpy(before, window, VMGENID_ID_LEN);
	save(dev, &s1);
	memset(&d, 0, sizeof(d));
	d.type = DEV_VMGENID;
	dev_state_put(&d, VMGENID_F_ID_LO, 0);
	dev_state_put(&d, VMGENID_F_ID_HI, 0);
	cr_expect_eq(vmgenid_dev_ops.restore(dev, &d), -EINVAL, "all zero");
	memset(&d, 0, sizeof(d));
	d.type = DEV_VMGENID;
	dev_state_put(&d, VMGENID_F_ID_LO, 1);
	cr_expect_eq(vmgenid_dev_ops.restore(dev, &d), -EINVAL, "no HI");
	memset(&d, 0, sizeof(d));
	d.type = DEV_VMGENID;
	dev_state_put(&d, VMGENID_F_ID_HI, 1);
	cr_expect_eq(vmgenid_dev_ops.restore(dev, &d), -EINVAL, "no LO");
	d = s1;
	d.type = DEV_GPIO_PL061;
	cr_expect_eq(vmgenid_dev_ops.restore(dev, &d), -EINVAL, "another type");
	/* Either half alone may be zero. */
	memset(&d, 0, sizeof(d));
	d.type = DEV_VMGENID;
	dev_state_put(&d, VMGENID_F_ID_LO, 0);
	dev_state_put(&d, VMGENID_F_ID_HI, 1);
	cr_assert_eq(memcmp(before, window, VMGENID_ID_LEN), 0, "window changed");
	save(dev, &s2);
	cr_expect_eq(field(&s2, VMGENID_F_ID_LO), field(&s1, VMGENID_F_ID_LO));
	cr_expect_eq(field(&s2, VMGENID_F_ID_HI), field(&s1, VMGENID_F_ID_HI));
	cr_expect_eq(vmgenid_dev_ops.restore(dev, &d), 0, "a zero low half");
	cr_expect(all_zero(window, 8));
	vmgenid_dev_ops.destroy(dev);
}

/* A guest reboot is not a new generation; what the guest wrote over the
 * window is undone and never saved. */
Test(vmgenid, reset_keeps_the_id)
{
	void *dev = create();
	uint8_t before[VMGENID_ID_LEN];
	static struct dev_state a, b;

	memcpy(before, window, VMGENID_ID_LEN);
	save(dev, &a);
	memset(window, 0xff, VMGENID_ID_LEN);
	save(dev, &b);
	cr_expect_eq(field(&b, VMGENID_F_ID_LO), field(&a, VMGENID_F_ID_LO),
		     "the window, which the guest wrote, was saved");
	vmgenid_dev_ops.reset(dev);
	cr_expect_eq(memcmp(before, window, VMGENID_ID_LEN), 0);
	cr_expect_eq(calls, 0);
	vmgenid_dev_ops.destroy(dev);
}

/* The node as Linux's driver and the binding want it, read back with
 * libfdt from a tree with two address and size cells. */
Test(vmgenid, fdt_node)
{
	static uint8_t buf[4096];
	struct fdt_writer w = { buf, 10, 2 };
	const fdt32_t *p;
	const char *compat;
	int off, len, prop;

	cr_assert_eq(fdt_create(buf, sizeof(buf)), 0);
	cr_assert_eq(fdt_finish_reservemap(buf), 0);
	cr_assert_eq(fdt_begin_node(buf, ""), 0);
	cr_assert_eq(fdt_property_u32(buf, "#address-cells", 2), 0);
	cr_assert_eq(fdt_property_u32(buf, "#size-cells", 2), 0);
	cr_assert_eq(vmgenid_dev_ops.fdt_node(&w, &vmgenid_dev_ops.dflt), 0);
	cr_assert_eq(fdt_end_node(buf), 0);
	cr_assert_eq(fdt_finish(buf), 0);
	off = fdt_path_offset(buf, "/vmgenid@9040000");
	cr_assert_geq(off, 0);
	compat = fdt_getprop(buf, off, "compatible", &len);
	cr_assert_not_null(compat);
	cr_expect_eq(len, (int)sizeof("microsoft,vmgenid"));
	cr_expect_str_eq(compat, "microsoft,vmgenid");
	cr_expect_eq(fdt_node_check_compatible(buf, off, "microsoft,vmgenid"), 0);
	p = fdt_getprop(buf, off, "reg", &len);
	cr_assert_not_null(p);
	cr_assert_eq(len, 16);
	cr_expect_eq(fdt32_to_cpu(p[0]), 0);
	cr_expect_eq(fdt32_to_cpu(p[1]), 0x09040000);
	cr_expect_eq(fdt32_to_cpu(p[2]), 0);
	cr_expect_eq(fdt32_to_cpu(p[3]), 0x10, "reg is the ID's 16 bytes");
	p = fdt_getprop(buf, off, "interrupts", &len);
	cr_assert_not_null(p);
	cr_assert_eq(len, 12);
	cr_expect_eq(fdt32_to_cpu(p[0]), FDT_GIC_SPI);
	cr_expect_eq(fdt32_to_cpu(p[1]), VMGENID_SPI);
	cr_expect_eq(fdt32_to_cpu(p[2]), FDT_IRQ_EDGE_RISING);
	len = 0;
	fdt_for_each_property_offset(prop, buf, off)
		len++;
	cr_expect_eq(len, 3, "other properties (the binding allows none)");
}

/* The GUID string QEMU's guid=01020304-0506-0708-090a-0b0c0d0e0f10 stands
 * for, from its bytes in memory. */
Test(vmgenid, format_is_the_guid_string)
{
	static const uint8_t id[VMGENID_ID_LEN] = {
		0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x08, 0x07,
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	};
	static const uint8_t ff[VMGENID_ID_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	char s[VMGENID_STR_LEN];

	vmgenid_format(id, s);
	cr_expect_str_eq(s, "01020304-0506-0708-090a-0b0c0d0e0f10");
	vmgenid_format(ff, s);
	cr_expect_str_eq(s, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	cr_expect_eq(strlen(s), VMGENID_STR_LEN - 1);
}

/* A random ID reads as a version-4 GUID. */
Test(vmgenid, format_of_a_random_id)
{
	void *dev = create();
	char s[VMGENID_STR_LEN];

	vmgenid_format(window, s);
	cr_expect_eq(s[14], '4', "%s", s);
	cr_expect(strchr("89ab", s[19]) != NULL, "%s", s);
	vmgenid_dev_ops.destroy(dev);
}
