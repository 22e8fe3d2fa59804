/* test_image_compat.c - format 1.2's device types: an image with a
 * virtio-net card, virtio-rng or a VM generation ID, or with more than 16
 * devices, is written compatible with 1.2 only and reads back the same; a
 * compat lowered below what its devices need is corrupt; a card's blob (its
 * tap's name) is bounded. Format 1.3's prefetch order needs no newer
 * reader. */
#include <criterion/criterion.h>
#include <string.h>

#include "image_fixture.h"
#include "le.h"
#include "virtio_net.h"
#include "vmgenid.h"

static struct vm_state st;
static char *dir, path[256];

static void setup(void)
{
	fix_state(&st);
	dir = fix_dir();
	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
}

static void teardown(void)
{
	vm_state_free(&st);
	unlink(path);
	rmdir(dir);
	free(dir);
}

TestSuite(compat, .init = setup, .fini = teardown);

/* Adds a device of type at base (a window of size bytes) with field 1 and
 * the blob given (len bytes). */
static struct dev_state *add_sized(uint32_t type, uint64_t base, uint64_t size,
				   uint32_t spi, const char *blob, size_t len)
{
	uint32_t k = st.config.ndevs++;
	struct dev_state *d = &st.devs[st.ndevs++];

	st.config.devs[k] = (struct dev_cfg){ type, spi, base, size };
	memset(d, 0, sizeof(*d));
	d->type = type;
	d->base = base;
	dev_state_put(d, 1, 0x1234);
	d->blob_len = (uint32_t)len;
	memcpy(d->blob, blob, len);
	return d;
}

/* A device of type in a virtio-mmio window, its blob a string. */
static struct dev_state *add_device(uint32_t type, uint64_t base, uint32_t spi,
				    const char *blob)
{
	if (type == DEV_VMGENID)
		return add_sized(type, VMGENID_BASE, VMGENID_SIZE, VMGENID_SPI, "", 0);
	return add_sized(type, base, 0x200, spi, blob ? blob : "", blob ? strlen(blob) : 0);
}

/* Writes st with the fixture memory, region 0 with order[0..n) as its
 * prefetch order. */
static int write_ordered(const uint32_t *order, uint32_t n, struct image_error *err)
{
	uint8_t *mem = fix_memory();
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE,
				     .prefetch = order, .nprefetch = n };
	int rc = image_write(path, &st, &src, 1, &fix_opts, NULL, err);

	munmap(mem, FIX_MEM_SIZE);
	return rc;
}

static int write_image(struct image_error *err)
{
	return write_ordered(NULL, 0, err);
}

static unsigned compat_minor(void)
{
	size_t size;
	uint8_t *f = fix_load(path, &size);
	unsigned v;

	cr_assert_not_null(f);
	v = le_get16(f + HDR_COMPAT_MINOR);
	free(f);
	return v;
}

/* Each new type alone makes the image 1.2; the card's tap name survives. */
Test(compat, new_device_types_need_1_2)
{
	static const uint32_t types[] = { DEV_VIRTIO_NET, DEV_VIRTIO_RNG, DEV_VMGENID };

	for (unsigned i = 0; i < 3; i++) {
		struct image_error err = { 0 };
		struct vm_state back;
		struct image *img;

		vm_state_free(&st);
		fix_state(&st);
		add_device(types[i], 0x0A001000, 24, types[i] == DEV_VIRTIO_NET ? "tap0" : NULL);
		cr_assert_eq(write_image(&err), 0, "type %u: %s", types[i], err.msg);
		cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR_1_2, "type %u", types[i]);
		cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s", err.msg);
		cr_assert_eq(image_read_state(img, &back, &err), 0, "%s", err.msg);
		cr_expect_eq(back.devs[back.ndevs - 1].type, types[i]);
		if (types[i] == DEV_VIRTIO_NET) {
			cr_expect_eq(back.devs[back.ndevs - 1].blob_len, 4);
			cr_expect_eq(memcmp(back.devs[back.ndevs - 1].blob, "tap0", 4), 0);
		}
		vm_state_free(&back);
		image_close(img);
	}
}

/* The buttons (type 8) are more than a 1.2 or 1.3 reader knows: 1.4, their
 * waiting events kept; claiming 1.3 is corrupt. */
Test(compat, buttons_need_1_4)
{
	struct fix_edit e = { .at = AT_HDR(HDR_COMPAT_MINOR), .width = 2,
			      .val = IMAGE_COMPAT_MINOR_1_2 + 1 };
	struct image_error err = { 0 };
	struct vm_state back;
	struct image *img;
	size_t size;
	uint8_t *f;

	static const char press[8] = { 1, 0, 0x8e, 0, 1, 0, 0, 0 };     /* KEY_SLEEP down */

	add_sized(DEV_VIRTIO_INPUT, 0x0A001A00, 0x200, 29, press, sizeof(press));
	cr_assert_eq(write_image(&err), 0, "%s", err.msg);
	cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR_1_4);
	cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(image_read_state(img, &back, &err), 0, "%s", err.msg);
	cr_expect_eq(back.devs[back.ndevs - 1].type, DEV_VIRTIO_INPUT);
	cr_expect_eq(back.devs[back.ndevs - 1].blob_len, sizeof(press));
	cr_expect_eq(memcmp(back.devs[back.ndevs - 1].blob, press, sizeof(press)), 0);
	vm_state_free(&back);
	image_close(img);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	cr_assert_eq(fix_apply(f, size, &e), 0);
	fix_seal(f, size, &e, 1);
	cr_assert_eq(fix_store(path, f, size), 0);
	free(f);
	cr_expect_eq(image_open(&img, path, 0, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "need 1.4"), "%s", err.msg);
}

/* Seventeen devices are more than a 1.1 reader takes. */
Test(compat, seventeen_devices_need_1_2)
{
	struct image_error err = { 0 };

	while (st.config.ndevs < IMAGE_1_1_MAX_DEVICES + 1) {
		uint32_t k = st.config.ndevs;

		add_device(DEV_GPIO_PL061, GPIO_BASE + 0x1000ULL * k, 20 + k, NULL);
	}
	cr_assert_eq(write_image(&err), 0, "%s", err.msg);
	cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR_1_2);
}

/* A writer claiming that a 1.1 reader manages a card is wrong. */
Test(compat, lowered_compat_is_corrupt)
{
	struct fix_edit e = { .at = AT_HDR(HDR_COMPAT_MINOR), .width = 2,
			      .val = IMAGE_COMPAT_MINOR_1_1 };
	struct image_error err = { 0 };
	struct image *img;
	size_t size;
	uint8_t *f;

	add_device(DEV_VIRTIO_NET, 0x0A001000, 24, "tap0");
	cr_assert_eq(write_image(&err), 0, "%s", err.msg);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	cr_assert_eq(fix_apply(f, size, &e), 0);
	fix_seal(f, size, &e, 1);
	cr_assert_eq(fix_store(path, f, size), 0);
	free(f);
	cr_expect_eq(image_open(&img, path, 0, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "need 1.2"), "%s", err.msg);
}

/* A tap name is at most 15 bytes: a longer blob is refused by the writer. */
Test(compat, card_blob_is_bounded)
{
	struct image_error err = { 0 };

	add_device(DEV_VIRTIO_NET, 0x0A001000, 24, "sixteen-bytes-xx");
	cr_expect_neq(write_image(&err), 0);
	cr_expect(strstr(err.msg, "blob"), "%s", err.msg);
}

/* A tap name is a name: no NUL inside, no control or shell bytes, not
 * empty — what restore would open and inspect show. */
Test(compat, card_blob_is_a_tap_name)
{
	static const struct { const char *blob; size_t len; } bad[] = {
		{ "tap0\0zz", 7 }, { "tap\n0", 5 }, { "", 0 }, { "tap 0", 5 }, { "t/0", 3 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image_error err = { 0 };

		vm_state_free(&st);
		fix_state(&st);
		add_sized(DEV_VIRTIO_NET, 0x0A001000, 0x200, 24, bad[i].blob, bad[i].len);
		cr_expect_neq(write_image(&err), 0, "case %u written", i);
		cr_expect(strstr(err.msg, "tap name"), "case %u: %s", i, err.msg);
	}
}

/* At most four cards: restore has room for four taps. */
Test(compat, five_cards_are_refused)
{
	struct image_error err = { 0 };
	char name[8];

	for (unsigned i = 0; i < VM_MAX_NICS + 1; i++) {
		snprintf(name, sizeof(name), "tap%u", i);
		add_device(DEV_VIRTIO_NET, 0x0A001000 + 0x200ULL * i, 24 + i, name);
	}
	cr_expect_neq(write_image(&err), 0);
	cr_expect(strstr(err.msg, "more than 4 network cards"), "%s", err.msg);
}

/* A generation ID's window is 64K at a multiple of 64K; no window overlaps
 * another. */
Test(compat, windows)
{
	struct image_error err = { 0 };

	add_sized(DEV_VMGENID, VMGENID_BASE + 0x1000, VMGENID_SIZE, VMGENID_SPI, "", 0);
	cr_expect_neq(write_image(&err), 0);
	cr_expect(strstr(err.msg, "generation ID's window"), "%s", err.msg);
	vm_state_free(&st);
	fix_state(&st);
	add_sized(DEV_VMGENID, VMGENID_BASE, 0x1000, VMGENID_SPI, "", 0);
	cr_expect_neq(write_image(&err), 0);
	cr_expect(strstr(err.msg, "generation ID's window"), "%s", err.msg);
	vm_state_free(&st);
	fix_state(&st);
	add_sized(DEV_VIRTIO_RNG, UART_BASE + 0x800, 0x200, 30, "", 0);
	cr_expect_neq(write_image(&err), 0);
	cr_expect(strstr(err.msg, "overlap"), "%s", err.msg);
}

/* Sixteen devices of 1.1's types stay readable by 1.1; a disk and a card
 * together need 1.2. */
Test(compat, boundaries)
{
	struct image_error err = { 0 };

	while (st.config.ndevs < IMAGE_1_1_MAX_DEVICES) {
		uint32_t k = st.config.ndevs;

		add_device(DEV_GPIO_PL061, GPIO_BASE + 0x1000ULL * k, 20 + k, NULL);
	}
	cr_assert_eq(write_image(&err), 0, "%s", err.msg);
	cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR_1_1);
	vm_state_free(&st);
	fix_state(&st);
	fix_disks(&st);
	cr_assert_eq(write_image(&err), 0, "%s", err.msg);
	cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR_1_1);
	add_device(DEV_VIRTIO_NET, 0x0A001000, 24, "tap0");
	cr_assert_eq(write_image(&err), 0, "%s", err.msg);
	cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR_1_2);
}

/* A prefetch order is all an image of 1.3 may add for a 1.0 reader: its
 * compat stays what the devices need, its section is optional, and a reader
 * that does not know its type (a 1.2 one, made here by giving the section a
 * type this one does not know) skips it and reads the rest. */
Test(compat, prefetch_order_needs_no_newer_reader)
{
	struct fix_edit unknown = { .at = AT_ENT(SEC_PREFETCH, 0, ENT_TYPE), .width = 2,
				    .val = SEC_TYPE_LAST + 1 };
	struct image_error err = { 0 };
	uint32_t order[FIX_NCHUNKS];
	const uint32_t *got;
	struct image *img;
	size_t size;
	uint8_t *f;
	int e;

	fix_prefetch(order, FIX_NCHUNKS);
	cr_assert_eq(write_ordered(order, FIX_NCHUNKS, &err), 0, "%s", err.msg);
	cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	cr_expect_eq(le_get16(f + HDR_VERSION_MINOR), IMAGE_VERSION_MINOR);
	e = fix_entry(f, size, SEC_PREFETCH, 0);
	cr_assert_geq(e, 0);
	cr_expect_eq(le_get16(f + le_get64(f + HDR_TABLE_OFFSET) + (size_t)e * IMAGE_ENTRY_SIZE +
			      ENT_FLAGS), SECTION_FLAG_OPTIONAL);
	cr_assert_eq(fix_apply(f, size, &unknown), 0);
	fix_seal(f, size, &unknown, 1);
	cr_assert_eq(fix_store(path, f, size), 0);
	free(f);
	cr_assert_eq(image_open(&img, path, 1, &err), 0, "%s", err.msg);
	cr_expect_eq(image_prefetch_order(img, 0, &got), 0);
	image_close(img);
	fix_disks(&st);
	cr_assert_eq(write_ordered(order, FIX_NCHUNKS, &err), 0, "%s", err.msg);
	cr_expect_eq(compat_minor(), IMAGE_COMPAT_MINOR_1_1);
}

/* inspect names a generation ID by its GUID (bytes 0-7 from field 1, 8-15
 * from field 2) and a card by its tap and MAC (field 0x1000, first byte
 * lowest), in the summary and the JSON. */
Test(compat, inspect_shows_ids_and_cards)
{
	struct image_error err = { 0 };
	struct dev_state *g, *n;
	struct image *img;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	g = add_device(DEV_VMGENID, 0, 0, NULL);
	g->nfields = 0;
	dev_state_put(g, VMGENID_F_ID_LO, 0x0706050403020100ULL);
	dev_state_put(g, VMGENID_F_ID_HI, 0x0f0e0d0c0b0a0908ULL);
	n = add_device(DEV_VIRTIO_NET, 0x0A001000, 24, "tap-7");
	dev_state_put(n, VNET_F_MAC, 0x420000000002ULL);
	cr_assert_eq(write_image(&err), 0, "%s", err.msg);
	for (int json = 0; json < 2; json++) {
		cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s", err.msg);
		f = open_memstream(&out, &len);
		cr_assert_eq(image_print(img, f, json, &err), 0, "%s", err.msg);
		fclose(f);
		image_close(img);
		cr_expect(strstr(out, json ? "\"generation_id\":\"03020100-0504-0706-0809-0a0b0c0d0e0f\""
				      : "generation id 03020100-0504-0706-0809-0a0b0c0d0e0f"), "%s", out);
		cr_expect(strstr(out, json ? "\"tap\":\"tap-7\",\"mac\":\"02:00:00:00:00:42\""
				      : "tap tap-7, mac 02:00:00:00:00:42"), "%s", out);
		free(out);
		out = NULL;
	}
}
