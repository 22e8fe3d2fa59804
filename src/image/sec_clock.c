/* sec_clock.c - codec of the clock reference section (type 3): the guest
 * counter, its frequency and the host's wall clock, read together. */
#include "image_int.h"

_Static_assert(CLK_REALTIME_NS + 8 == SEC_CLOCK_SIZE, "clock layout");

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
