/* sec_host.c - codecs of the host fingerprint (type 2), clock reference
 * (type 3) and PSCI resume request (type 4) sections: the small fixed ones. */
#include <string.h>

#include "image_int.h"

_Static_assert(HST_MACHINE_LEN + 2 == SEC_HOST_FIXED, "host fixed part");
_Static_assert(CLK_REALTIME_NS + 8 == SEC_CLOCK_SIZE, "clock layout");
_Static_assert(RSM_CONTEXT_ID + 8 == SEC_PSCI_RESUME_SIZE, "resume layout");

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

void sec_clock_put(struct wbuf *b, const struct clock_ref *c)
{
	wbuf_put64(b, c->counter);
	wbuf_put64(b, c->counter_freq);
	wbuf_put64(b, (uint64_t)c->realtime_ns);
}

int sec_clock_get(const uint8_t *p, size_t len, struct clock_ref *c,
		  struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };

	c->counter = rbuf_get64(&r);
	c->counter_freq = rbuf_get64(&r);
	c->realtime_ns = (int64_t)rbuf_get64(&r);
	return rbuf_end(&r, "clock section", err);
}

void sec_resume_put(struct wbuf *b, const struct psci_resume *rs)
{
	wbuf_put32(b, rs->vcpu);
	wbuf_put32(b, rs->smc64);
	wbuf_put64(b, rs->entry);
	wbuf_put64(b, rs->context_id);
}

int sec_resume_get(const uint8_t *p, size_t len, struct psci_resume *rs,
		   struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };

	rs->vcpu = rbuf_get32(&r);
	rs->smc64 = rbuf_get32(&r);
	rs->entry = rbuf_get64(&r);
	rs->context_id = rbuf_get64(&r);
	return rbuf_end(&r, "psci resume section", err);
}
