/* sec_gic.c - codec of the vGIC section (type 6): version, nr_irqs and the
 * (group, attr, value) register list in restore order. */
#include <stdlib.h>
#include <string.h>

#include "image_int.h"

_Static_assert(GICS_NREGS + 4 == SEC_GIC_FIXED, "gic fixed part");
_Static_assert(GREG_VALUE + 8 == SEC_GIC_REG, "gic register layout");

void sec_gic_put(struct wbuf *b, const struct gic_state *g)
{
	wbuf_put32(b, g->version);
	wbuf_put32(b, g->nr_irqs);
	wbuf_put32(b, g->nregs);
	for (uint32_t i = 0; i < g->nregs; i++) {
		wbuf_put32(b, g->regs[i].group);
		wbuf_put64(b, g->regs[i].attr);
		wbuf_put64(b, g->regs[i].value);
	}
}

int sec_gic_get(const uint8_t *p, size_t len, struct gic_state *g,
		struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	uint32_t n;

	memset(g, 0, sizeof(*g));
	g->version = rbuf_get32(&r);
	g->nr_irqs = rbuf_get32(&r);
	n = rbuf_get32(&r);
	if (r.over)
		return rbuf_end(&r, "gic section", err);
	if (n > IMAGE_MAX_GIC_REGS)
		return img_fail(err, IMG_ECORRUPT, "gic section: %u registers (max %u)",
				n, IMAGE_MAX_GIC_REGS);
	if (rbuf_left(&r) != (size_t)n * SEC_GIC_REG)
		return img_fail(err, IMG_ECORRUPT, "gic section: length %zu does not match %u registers",
				len, n);
	g->regs = calloc(n + !n, sizeof(*g->regs));
	if (!g->regs)
		return img_fail(err, IMG_ENOMEM, "gic section: out of memory for %u registers", n);
	g->nregs = n;
	for (uint32_t i = 0; i < n; i++) {
		g->regs[i].group = rbuf_get32(&r);
		g->regs[i].attr = rbuf_get64(&r);
		g->regs[i].value = rbuf_get64(&r);
	}
	return 0;
}
