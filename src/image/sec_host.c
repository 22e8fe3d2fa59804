/* sec_host.c - codec of the host fingerprint section (type 2). */
#include <string.h>

#include "image_int.h"

_Static_assert(HST_MACHINE_LEN + 2 == SEC_HOST_FIXED, "host fixed part");

#define HOST_STR_MAX    (sizeof(((struct host_info *)0)->machine) - 1)

void sec_host_put(struct wbuf *b, const struct host_info *h)
{
	size_t krel = strnlen(h->kernel_release, HOST_STR_MAX);
	size_t mach = strnlen(h->machine, HOST_STR_MAX);

	wbuf_put64(b, h->midr);
	wbuf_put32(b, h->page_size);
	wbuf_put16(b, (uint16_t)krel);
	wbuf_put16(b, (uint16_t)mach);
	wbuf_bytes(b, h->kernel_release, krel);
	wbuf_bytes(b, h->machine, mach);
}

/* Reads a length-prefixed host string into dst (HOST_STR_MAX + 1 bytes). */
static int host_string(struct rbuf *r, uint16_t n, char *dst, const char *name,
		       struct image_error *err)
{
	if (n > HOST_STR_MAX)
		return img_fail(err, IMG_ECORRUPT, "host section: %s length %u (max %zu)",
				name, n, HOST_STR_MAX);
	rbuf_bytes(r, dst, n);
	dst[n] = '\0';
	if (!r->over && strlen(dst) != n)
		return img_fail(err, IMG_ECORRUPT, "host section: NUL byte inside %s", name);
	return 0;
}

int sec_host_get(const uint8_t *p, size_t len, struct host_info *h,
		 struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	uint16_t krel, mach;
	int rc;

	memset(h, 0, sizeof(*h));
	h->midr = rbuf_get64(&r);
	h->page_size = rbuf_get32(&r);
	krel = rbuf_get16(&r);
	mach = rbuf_get16(&r);
	rc = host_string(&r, krel, h->kernel_release, "kernel release", err);
	if (!rc)
		rc = host_string(&r, mach, h->machine, "machine", err);
	return rc ? rc : rbuf_end(&r, "host section", err);
}
