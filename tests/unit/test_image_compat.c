/* test_image_compat.c - format 1.2's device types: an image with a
 * virtio-net card, virtio-rng or a VM generation ID, or with more than 16
 * devices, is written compatible with 1.2 only and reads back the same; a
 * compat lowered below what its devices need is corrupt; a card's blob (its
 * tap's name) is bounded. */
#include <criterion/criterion.h>
#include <string.h>

#include "image_fixture.h"
#include "le.h"

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

/* Adds a device of type at base with one field and the blob given. */
static void add_device(uint32_t type, uint64_t base, uint32_t spi, const char *blob)
{
	uint32_t k = st.config.ndevs++;
	struct dev_state *d = &st.devs[st.ndevs++];

	st.config.devs[k] = (struct dev_cfg){ type, spi, base, 0x200 };
	memset(d, 0, sizeof(*d));
	d->type = type;
	d->base = base;
	dev_state_put(d, 1, 0x1234);
	if (blob) {
		d->blob_len = (uint32_t)strlen(blob);
		memcpy(d->blob, blob, d->blob_len);
	}
}

static int write_image(struct image_error *err)
{
	uint8_t *mem = fix_memory();
	struct image_mem_src src = { RAM_BASE, mem, FIX_MEM_SIZE };
	int rc = image_write(path, &st, &src, 1, NULL, NULL, err);

	munmap(mem, FIX_MEM_SIZE);
	return rc;
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
