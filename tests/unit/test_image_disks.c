/* test_image_disks.c - the disks section (type 9): its codec round-trips
 * the records and refuses malformed payloads; an image with disks is
 * written compatible with 1.1, reads back the same and shows
 * its disks in inspect; an image without is still compatible with 1.0; the
 * writer refuses every record the reader would. The reader's refusals of
 * damaged files are in image_fixture.h's table (test_image_corrupt). */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/image/image_int.h"
#include "image_fixture.h"
#include "le.h"

static struct vm_state st;
static struct wbuf buf;
static char *dir, path[256];

static void setup(void)
{
	fix_state(&st);
	fix_disks(&st);
	memset(&buf, 0, sizeof(buf));
	dir = fix_dir();
	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
}

static void teardown(void)
{
	vm_state_free(&st);
	wbuf_free(&buf);
	unlink(path);
	rmdir(dir);
	free(dir);
}

TestSuite(disks, .init = setup, .fini = teardown);

static void expect_same_disk(const struct disk_record *a, const struct disk_record *b,
			     unsigned i)
{
	cr_expect_eq(a->dev, b->dev, "disk %u: dev", i);
	cr_expect_eq(a->flags, b->flags, "disk %u: flags", i);
	cr_expect_eq(a->size, b->size, "disk %u: size", i);
	cr_expect_eq(a->mtime_sec, b->mtime_sec, "disk %u: mtime_sec", i);
	cr_expect_eq(a->mtime_nsec, b->mtime_nsec, "disk %u: mtime_nsec", i);
	cr_expect_str_eq(a->serial, b->serial, "disk %u: serial", i);
	cr_expect_str_eq(a->path, b->path, "disk %u: path", i);
}

Test(disks, codec_round_trip)
{
	struct disk_record d[VM_MAX_DISKS];
	struct image_error err = { 0 };
	uint32_t n = 0;

	st.disks[1].mtime_sec = -1;     /* before the epoch survives the u64 */
	strcpy(st.disks[1].serial, " ~ printable ASCII ~");
	sec_disks_put(&buf, st.disks, st.ndisks);
	cr_assert_eq(buf.len, SEC_DISKS_FIXED + 2 * SEC_DISK_FIXED + strlen(FIX_DISK0_SERIAL) +
		     strlen(FIX_DISK0_PATH) + DISK_SERIAL_MAX + strlen(FIX_DISK1_PATH));
	cr_expect_eq(le_get32(buf.p + SEC_DISKS_FIXED + DSK_SIZE + 4), FIX_DISK0_SIZE >> 32);
	cr_assert_eq(sec_disks_get(buf.p, buf.len, d, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	for (unsigned i = 0; i < n; i++)
		expect_same_disk(&d[i], &st.disks[i], i);
	cr_expect_eq(check_state(&st, IMG_ECORRUPT, &err), 0, "%s", err.msg);
}

Test(disks, codec_takes_the_longest_strings)
{
	struct disk_record d[VM_MAX_DISKS];
	struct image_error err = { 0 };
	uint32_t n = 0;

	memset(st.disks[0].path, 'p', DISK_PATH_MAX);
	st.disks[0].path[0] = '/';
	memset(st.disks[0].serial, 's', DISK_SERIAL_MAX);
	sec_disks_put(&buf, st.disks, 1);
	cr_assert_eq(sec_disks_get(buf.p, buf.len, d, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(strlen(d[0].path), DISK_PATH_MAX);
	cr_expect_eq(strlen(d[0].serial), DISK_SERIAL_MAX);
}

/* The codec's own refusals: lengths against the payload and the limits. */
Test(disks, codec_refuses_malformed_payloads)
{
	static const struct { const char *name; size_t off; unsigned width; uint64_t val;
			      int delta; const char *msg; } cases[] = {
		{ "one byte short", 0, 0, 0, -1, "disks section: length" },
		{ "one byte long", 0, 0, 0, 1, "disks section: 1 bytes after the last field" },
		{ "count 0", DSKS_NDISKS, 4, 0, 0, "disks section: 0 disks (1..8)" },
		{ "count 9", DSKS_NDISKS, 4, VM_MAX_DISKS + 1, 0, "disks section: 9 disks (1..8)" },
		{ "count beyond the payload", DSKS_NDISKS, 4, 3, 0, "disks section: length" },
		{ "serial 21 bytes", SEC_DISKS_FIXED + DSK_SERIAL_LEN, 2, DISK_SERIAL_MAX + 1, 0,
		  "disks section, disk 0: serial length 21 (max 20)" },
		{ "path 4096 bytes", SEC_DISKS_FIXED + DSK_PATH_LEN, 2, DISK_PATH_MAX + 1, 0,
		  "disks section, disk 0: path length 4096 (max 4095)" },
		{ "path 65535 bytes", SEC_DISKS_FIXED + DSK_PATH_LEN, 2, UINT16_MAX, 0,
		  "disks section, disk 0: path length 65535" },
		{ "NUL in the serial", SEC_DISKS_FIXED + SEC_DISK_FIXED, 1, 0, 0,
		  "disks section, disk 0: NUL byte inside serial" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct disk_record d[VM_MAX_DISKS];
		struct image_error err = { 0 };
		uint32_t n = 7;
		uint8_t *p;

		buf.len = 0;
		sec_disks_put(&buf, st.disks, st.ndisks);
		p = calloc(1, buf.len + 1);
		memcpy(p, buf.p, buf.len);
		if (cases[i].width)
			fix_put(p + cases[i].off, cases[i].width, cases[i].val);
		cr_expect_eq(sec_disks_get(p, buf.len + (size_t)cases[i].delta, d, &n, &err),
			     -IMG_ECORRUPT, "%s", cases[i].name);
		cr_expect_eq(n, 0, "%s: count left set", cases[i].name);
		cr_expect(strstr(err.msg, cases[i].msg), "%s: \"%s\" lacks \"%s\"", cases[i].name,
			  err.msg, cases[i].msg);
		free(p);
	}
}

/* Every record the reader refuses, the writer refuses first (IMG_EINVAL,
 * nothing created). */
Test(disks, writer_refuses_bad_records)
{
	static const struct { const char *name; const char *msg; } cases[] = {
		{ "unknown flag", "disk 0: flags 0x4 has unknown bits (known 0x3)" },
		{ "size 0", "disk 1: size 0 (a non-zero multiple of 512)" },
		{ "size 513", "disk 0: size 513 (a non-zero multiple of 512)" },
		{ "nsec 1e9", "disk 1: mtime_nsec 1000000000 (below 1000000000)" },
		{ "relative path", "disk 0: path is relative (must start with '/')" },
		{ "empty path", "disk 1: empty path" },
		{ "path too long", "disk 0: path or serial not NUL-terminated" },
		{ "serial too long", "disk 1: path or serial not NUL-terminated" },
		{ "serial with a newline", "disk 0: serial byte 3 is 0x0a, not printable ASCII" },
		{ "serial with a high byte", "disk 0: serial byte 0 is 0xc3, not printable ASCII" },
		{ "record on the RTC", "disk 0: vm config device 1 has type 2, not 4 (virtio-blk)" },
		{ "record on no device", "disk 1: device 24 beyond the vm config's 5 devices" },
		{ "two records for device 4", "disks: records 0 and 1 are both for vm config device 4" },
		{ "device 4 without a record",
		  "disks: vm config device 4 (virtio-blk at 0xa000200) has no disk record" },
		{ "nine records", "disks: 9 disk records (max 8)" },
	};
	uint8_t *mem = fix_memory();
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE };

	cr_assert_not_null(mem);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct disk_record keep[VM_MAX_DISKS];
		struct image_error err = { 0 };
		struct disk_record *d = st.disks;

		memcpy(keep, st.disks, sizeof(keep));
		switch (i) {
		case 0: d[0].flags = 0x4; break;
		case 1: d[1].size = 0; break;
		case 2: d[0].size = 513; break;
		case 3: d[1].mtime_nsec = 1000000000u; break;
		case 4: memmove(d[0].path, d[0].path + 1, strlen(d[0].path)); break;
		case 5: d[1].path[0] = '\0'; break;
		case 6: memset(d[0].path, 'a', sizeof(d[0].path)); d[0].path[0] = '/'; break;
		case 7: memset(d[1].serial, 'a', sizeof(d[1].serial)); break;
		case 8: d[0].serial[3] = '\n'; break;
		case 9: d[0].serial[0] = (char)0xc3; break;
		case 10: d[0].dev = 1; break;
		case 11: d[1].dev = VM_MAX_DEVICES; break;
		case 12: d[0].dev = 4; break;
		case 13: st.ndisks = 1; break;
		case 14: st.ndisks = VM_MAX_DISKS + 1; break;
		}
		cr_expect_eq(image_write(path, &st, &src, 1, &fix_opts, NULL, &err), -IMG_EINVAL,
			     "%s", cases[i].name);
		cr_expect(strstr(err.msg, cases[i].msg), "%s: \"%s\" lacks \"%s\"", cases[i].name,
			  err.msg, cases[i].msg);
		cr_expect_neq(access(path, F_OK), 0, "%s: an image was written", cases[i].name);
		unlink(path);
		memcpy(st.disks, keep, sizeof(keep));
		st.ndisks = 2;
	}
	munmap(mem, FIX_MEM_SIZE);
}

/* This format version with compat 1.compat_minor, and a disks section if
 * disks. */
static void expect_versions(const char *p, unsigned compat_minor, int disks)
{
	size_t size;
	uint8_t *f = fix_load(p, &size);

	cr_assert_not_null(f);
	cr_expect_eq(le_get16(f + HDR_VERSION_MAJOR), 1);
	cr_expect_eq(le_get16(f + HDR_VERSION_MINOR), IMAGE_VERSION_MINOR);
	cr_expect_eq(le_get16(f + HDR_COMPAT_MAJOR), 1);
	cr_expect_eq(le_get16(f + HDR_COMPAT_MINOR), compat_minor);
	cr_expect_eq(fix_entry(f, size, SEC_DISKS, 0) >= 0, disks, "disks section");
	free(f);
}

Test(disks, image_round_trip)
{
	struct image_error err = { 0 };
	struct vm_state back;
	struct image *img;

	cr_assert_eq(fix_write_vm(path, NULL, FIX_DISKS, &err), 0, "%s", err.msg);
	expect_versions(path, 1, 1);
	cr_assert_eq(image_open(&img, path, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(image_read_state(img, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.ndisks, 2);
	for (unsigned i = 0; i < 2; i++)
		expect_same_disk(&back.disks[i], &st.disks[i], i);
	cr_assert_eq(back.ndevs, 5);
	cr_expect_eq(back.devs[4].type, DEV_VIRTIO_BLK);
	cr_expect_eq(back.devs[4].nfields, FIX_BLK_FIELDS);
	vm_state_free(&back);
	image_close(img);
}

Test(disks, image_without_disks_is_compatible_with_1_0)
{
	struct image_error err = { 0 };
	struct vm_state back;
	struct image *img;

	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	expect_versions(path, 0, 0);
	cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(image_read_state(img, &back, &err), 0, "%s", err.msg);
	cr_expect_eq(back.ndisks, 0);
	vm_state_free(&back);
	image_close(img);
}

/* More devices than a 1.0 reader takes need 1.1 as well, without a disk. */
Test(disks, nine_devices_need_1_1)
{
	struct vm_state s;
	struct image_error err = { 0 };
	uint8_t *mem = fix_memory();
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE };

	fix_state(&s);
	while (s.config.ndevs < IMAGE_1_0_MAX_DEVICES + 1) {
		uint32_t k = s.config.ndevs;

		s.config.devs[k] = (struct dev_cfg){ DEV_GPIO_PL061, 20 + k,
						     GPIO_BASE + 0x1000ULL * k, GPIO_SIZE };
		s.devs[s.ndevs++] = (struct dev_state){ .type = DEV_GPIO_PL061,
							.base = GPIO_BASE + 0x1000ULL * k };
		s.config.ndevs++;
	}
	cr_assert_eq(image_write(path, &s, &src, 1, &fix_opts, NULL, &err), 0, "%s", err.msg);
	expect_versions(path, 1, 0);
	vm_state_free(&s);
	munmap(mem, FIX_MEM_SIZE);
}

/* A disks section in a VM without a virtio-blk device names no device. */
Test(disks, section_without_virtio_blk_is_refused)
{
	struct image_error err = { 0 };
	size_t size, grown;
	uint8_t *f, *g;
	struct image *img;

	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	f = fix_load(path, &size);
	cr_assert_not_null(f);
	g = fix_append(f, size, SEC_DISKS, 0, 0, &grown);
	cr_assert(g && fix_store(path, g, grown) == 0);
	cr_expect_eq(image_open(&img, path, 0, &err), -IMG_ECORRUPT);
	cr_expect(strstr(err.msg, "disks section: the vm config has no virtio-blk device"),
		  "%s", err.msg);
	free(f);
	free(g);
}

/* inspect's output as a heap string. */
static char *inspect(int json)
{
	struct image_error err = { 0 };
	struct image *img;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(f);
	cr_assert_eq(fix_write_vm(path, NULL, FIX_DISKS, &err), 0, "%s", err.msg);
	cr_assert_eq(image_open(&img, path, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(image_print(img, f, json, &err), 0, "%s", err.msg);
	fclose(f);
	image_close(img);
	return out;
}

Test(disks, inspect_shows_disks)
{
	static const char *const want[] = {
		"format 1.4 (readable by 1.1 and newer)",
		"device 3: ", "(type 4) at 0xa000000+0x200, SPI 16",
		"disk 0: /var/lib/torpor/root.raw, 1073741824 bytes, read-only, file, device 3, "
		"serial \"TORPOR-ROOT-01\", mtime 2026-11-18T",
		".999999999Z\n",
		"disk 1: /dev/mapper/vg-data, 8589934592 bytes, read-write, block device, device 4\n",
	};
	char *out = inspect(0);

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(out, want[i]), "missing \"%s\" in:\n%s", want[i], out);
	free(out);
}

Test(disks, inspect_json_shows_disks)
{
	char *out = inspect(1);

	cr_expect(strstr(out, "\"disks\":[{\"dev\":3,\"path\":\"/var/lib/torpor/root.raw\","
			 "\"size\":1073741824,\"flags\":1,\"readonly\":1,\"blockdev\":0,"
			 "\"serial\":\"TORPOR-ROOT-01\",\"mtime_sec\":1794999000,"
			 "\"mtime_nsec\":999999999},{\"dev\":4,\"path\":\"/dev/mapper/vg-data\","
			 "\"size\":8589934592,\"flags\":2,\"readonly\":0,\"blockdev\":1,"
			 "\"serial\":\"\",\"mtime_sec\":0,\"mtime_nsec\":0}]"), "%s", out);
	free(out);
}
