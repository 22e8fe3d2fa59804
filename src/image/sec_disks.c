/* sec_disks.c - codec of the disks section (type 9): per virtio-blk device
 * the identity of its disk, each record a fixed part followed by the serial
 * and the path. */
#include <string.h>

#include "image_int.h"

_Static_assert(DSKS_NDISKS + 4 == SEC_DISKS_FIXED, "disks fixed part");
_Static_assert(DSK_PATH_LEN + 2 == SEC_DISK_FIXED, "disk record fixed part");
_Static_assert(DISK_PATH_MAX <= UINT16_MAX && DISK_SERIAL_MAX <= UINT16_MAX,
	       "string lengths fit their u16");

void sec_disks_put(struct wbuf *b, const struct disk_record *d, uint32_t ndisks)
{
	wbuf_put32(b, ndisks);
	for (uint32_t i = 0; i < ndisks; i++) {
		size_t serial = strnlen(d[i].serial, DISK_SERIAL_MAX);
		size_t path = strnlen(d[i].path, DISK_PATH_MAX);

		wbuf_put32(b, d[i].dev);
		wbuf_put32(b, d[i].flags);
		wbuf_put64(b, d[i].size);
		wbuf_put64(b, (uint64_t)d[i].mtime_sec);
		wbuf_put32(b, d[i].mtime_nsec);
		wbuf_put16(b, (uint16_t)serial);
		wbuf_put16(b, (uint16_t)path);
		wbuf_bytes(b, d[i].serial, serial);
		wbuf_bytes(b, d[i].path, path);
	}
}

/* Reads disk i's string of n bytes into dst, which holds max + 1. The limit
 * is checked before the bytes are read, so a huge length costs nothing. */
static int disk_string(struct rbuf *r, uint32_t i, uint16_t n, size_t max, char *dst,
		       const char *name, struct image_error *err)
{
	if (n > max)
		return img_fail(err, IMG_ECORRUPT, "disks section, disk %u: %s length %u (max %zu)",
				i, name, n, max);
	rbuf_bytes(r, dst, n);
	dst[n] = '\0';
	if (!r->over && strlen(dst) != n)
		return img_fail(err, IMG_ECORRUPT, "disks section, disk %u: NUL byte inside %s",
				i, name);
	return 0;
}

int sec_disks_get(const uint8_t *p, size_t len, struct disk_record *d,
		  uint32_t *ndisks, struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	uint32_t n = rbuf_get32(&r);
	int rc;

	*ndisks = 0;
	if (r.over)
		return rbuf_end(&r, "disks section", err);
	/* The section exists only for a VM with a disk. */
	if (n < 1 || n > VM_MAX_DISKS)
		return img_fail(err, IMG_ECORRUPT, "disks section: %u disks (1..%u)",
				n, VM_MAX_DISKS);
	for (uint32_t i = 0; i < n; i++) {
		struct disk_record *k = &d[i];
		uint16_t serial, path;

		memset(k, 0, sizeof(*k));
		k->dev = rbuf_get32(&r);
		k->flags = rbuf_get32(&r);
		k->size = rbuf_get64(&r);
		k->mtime_sec = (int64_t)rbuf_get64(&r);
		k->mtime_nsec = rbuf_get32(&r);
		serial = rbuf_get16(&r);
		path = rbuf_get16(&r);
		rc = disk_string(&r, i, serial, DISK_SERIAL_MAX, k->serial, "serial", err);
		if (!rc)
			rc = disk_string(&r, i, path, DISK_PATH_MAX, k->path, "path", err);
		if (rc)
			return rc;
	}
	rc = rbuf_end(&r, "disks section", err);
	if (!rc)
		*ndisks = n;
	return rc;
}
