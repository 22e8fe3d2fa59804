/* sec_config.c - codec of the VM configuration section (type 1). */
#include <string.h>

#include "image_int.h"

_Static_assert(CFG_VCPU_FEATURES + 4 * VCPU_FEATURE_WORDS == CFG_CAPS, "feature words");
_Static_assert(CFG_CMDLINE_LEN + 4 == SEC_VM_CONFIG_FIXED, "vm config fixed part");
_Static_assert(RGN_SIZE + 8 == SEC_VM_CONFIG_REGION, "region layout");
_Static_assert(CDEV_SIZE + 8 == SEC_VM_CONFIG_DEV, "device layout");

void sec_config_put(struct wbuf *b, const struct vm_config *c)
{
	size_t cmdlen = strnlen(c->cmdline, VM_CMDLINE_MAX - 1);

	wbuf_put32(b, c->ncpus);
	wbuf_put32(b, c->ipa_bits);
	wbuf_put32(b, c->vcpu_target);
	for (unsigned i = 0; i < VCPU_FEATURE_WORDS; i++)
		wbuf_put32(b, c->vcpu_features[i]);
	wbuf_put32(b, c->caps);
	wbuf_put32(b, c->gic_version);
	wbuf_put32(b, c->gic_nr_irqs);
	wbuf_put32(b, c->nmem);
	wbuf_put64(b, c->gic_dist_base);
	wbuf_put64(b, c->gic_dist_size);
	wbuf_put64(b, c->gic_redist_base);
	wbuf_put64(b, c->gic_redist_size);
	wbuf_put32(b, c->ndevs);
	wbuf_put32(b, (uint32_t)cmdlen);
	for (uint32_t i = 0; i < c->nmem && i < VM_MAX_MEM_REGIONS; i++) {
		wbuf_put64(b, c->mem[i].guest_addr);
		wbuf_put64(b, c->mem[i].size);
	}
	for (uint32_t i = 0; i < c->ndevs && i < VM_MAX_DEVICES; i++) {
		wbuf_put32(b, c->devs[i].type);
		wbuf_put32(b, c->devs[i].spi);
		wbuf_put64(b, c->devs[i].base);
		wbuf_put64(b, c->devs[i].size);
	}
	wbuf_bytes(b, c->cmdline, cmdlen);
}

int sec_config_get(const uint8_t *p, size_t len, struct vm_config *c,
		   struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	uint32_t cmdlen;

	memset(c, 0, sizeof(*c));
	c->ncpus = rbuf_get32(&r);
	c->ipa_bits = rbuf_get32(&r);
	c->vcpu_target = rbuf_get32(&r);
	for (unsigned i = 0; i < VCPU_FEATURE_WORDS; i++)
		c->vcpu_features[i] = rbuf_get32(&r);
	c->caps = rbuf_get32(&r);
	c->gic_version = rbuf_get32(&r);
	c->gic_nr_irqs = rbuf_get32(&r);
	c->nmem = rbuf_get32(&r);
	c->gic_dist_base = rbuf_get64(&r);
	c->gic_dist_size = rbuf_get64(&r);
	c->gic_redist_base = rbuf_get64(&r);
	c->gic_redist_size = rbuf_get64(&r);
	c->ndevs = rbuf_get32(&r);
	cmdlen = rbuf_get32(&r);
	if (r.over)
		return rbuf_end(&r, "vm config section", err);
	if (c->nmem > VM_MAX_MEM_REGIONS)
		return img_fail(err, IMG_ECORRUPT, "vm config section: %u memory regions (max %u)",
				c->nmem, VM_MAX_MEM_REGIONS);
	if (c->ndevs > VM_MAX_DEVICES)
		return img_fail(err, IMG_ECORRUPT, "vm config section: %u devices (max %u)",
				c->ndevs, VM_MAX_DEVICES);
	if (cmdlen >= VM_CMDLINE_MAX)
		return img_fail(err, IMG_ECORRUPT, "vm config section: cmdline length %u (max %u)",
				cmdlen, VM_CMDLINE_MAX - 1);
	for (uint32_t i = 0; i < c->nmem; i++) {
		c->mem[i].guest_addr = rbuf_get64(&r);
		c->mem[i].size = rbuf_get64(&r);
	}
	for (uint32_t i = 0; i < c->ndevs; i++) {
		c->devs[i].type = rbuf_get32(&r);
		c->devs[i].spi = rbuf_get32(&r);
		c->devs[i].base = rbuf_get64(&r);
		c->devs[i].size = rbuf_get64(&r);
	}
	rbuf_bytes(&r, c->cmdline, cmdlen);
	if (r.over || r.pos != r.len)
		return rbuf_end(&r, "vm config section", err);
	if (memchr(c->cmdline, 0, cmdlen))
		return img_fail(err, IMG_ECORRUPT, "vm config section: NUL byte inside cmdline");
	return 0;
}
