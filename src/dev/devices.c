/* devices.c - the device table: one line per device model. A new device is
 * a new file with its struct dev_ops and one line here. */
#include <stddef.h>

#include "devices.h"
#include "memmap.h"

static const struct dev_ops *const table[] = {
	&uart_dev_ops,
	&rtc_dev_ops,
	&gpio_dev_ops,
	&vmgenid_dev_ops,
	&virtio_blk_dev_ops,
	&virtio_net_dev_ops,
	&virtio_rng_dev_ops,
	&virtio_input_dev_ops,
};

#define N_DEVS (sizeof(table) / sizeof(table[0]))
_Static_assert(N_DEVS + VM_MAX_DISKS + VM_MAX_NICS <= VM_MAX_DEVICES,
	       "a VM holds every device, its disks and its cards");

unsigned dev_count(void)
{
	return N_DEVS;
}

const struct dev_ops *dev_at(unsigned i)
{
	return i < N_DEVS ? table[i] : NULL;
}

const struct dev_ops *dev_find(uint32_t type)
{
	for (unsigned i = 0; i < N_DEVS; i++)
		if (table[i]->type == type)
			return table[i];
	return NULL;
}

const char *dev_type_name(uint32_t type)
{
	const struct dev_ops *ops = dev_find(type);

	return ops ? ops->name : "unknown";
}
