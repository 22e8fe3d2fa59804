/* dev_fields.c - table-driven save/restore of byte registers. */
#include <errno.h>

#include "dev_fields.h"

void dev_fields8_save(struct dev_state *d, const void *obj,
		      const struct dev_field8 *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		dev_state_put(d, t[i].id, ((const uint8_t *)obj)[t[i].offset]);
}

int dev_fields8_load(const struct dev_state *d, void *obj,
		     const struct dev_field8 *t, unsigned n)
{
	uint64_t v;

	for (unsigned i = 0; i < n; i++)
		if (dev_state_get(d, t[i].id, &v) || (v & ~(uint64_t)t[i].mask))
			return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		dev_state_get(d, t[i].id, &v);
		((uint8_t *)obj)[t[i].offset] = (uint8_t)v;
	}
	return 0;
}
