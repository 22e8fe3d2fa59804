/* dev_fields.h - a device model's byte registers as saved-state fields: one
 * table (field id, bits the register can hold, where it lives in the live
 * struct) serves both save and restore. */
#ifndef TORPOR_DEV_FIELDS_H
#define TORPOR_DEV_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "vm_state.h"

struct dev_field8 {
	uint32_t id;
	uint8_t mask;           /* bits a restored value may have */
	size_t offset;          /* of a uint8_t in the live struct */
};

/* Appends every field of table t (n entries) read from obj to d. */
void dev_fields8_save(struct dev_state *d, const void *obj,
		      const struct dev_field8 *t, unsigned n);

/* Checks every field of t is in d and within its mask, then writes them all
 * into obj; -EINVAL (obj untouched) otherwise. */
int dev_fields8_load(const struct dev_state *d, void *obj,
		     const struct dev_field8 *t, unsigned n);

#endif
