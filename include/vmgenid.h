/* vmgenid.h - the VM generation ID (Microsoft's "Virtual Machine Generation
 * ID", bound from the device tree by Linux >= 6.10 as "microsoft,vmgenid"):
 * a random 16-byte ID at the start of a window of guest memory of its own
 * (dev_ops.memslot; the guest maps and reads it with plain loads), and an
 * edge-triggered interrupt that tells the guest to read it again. A new ID
 * after a restore makes Linux reseed its RNG as after a VM fork.
 *
 * The device keeps the ID itself and writes it into the window; it never
 * reads the window, which the guest could write to. */
#ifndef TORPOR_VMGENID_H
#define TORPOR_VMGENID_H

#include <stdint.h>

#define VMGENID_ID_LEN          16
#define VMGENID_STR_LEN         37      /* 8-4-4-4-12 hex digits and a NUL */

/* Saved-state field ids (formats/torpor-image.md, Appendix A, type 7). */
enum vmgenid_field {
	VMGENID_F_ID_LO = 1,    /* ID bytes 0..7, a little-endian u64 */
	VMGENID_F_ID_HI,        /* ID bytes 8..15, a little-endian u64 */
};

/* The ID as a GUID string, as Windows and QEMU's guid= option write it
 * (Linux's %pUl): its first three groups are the little-endian u32, u16 and
 * u16 in bytes 0..3, 4..5 and 6..7, the last two bytes 8..15 in memory
 * order. A valid random ID reads "xxxxxxxx-xxxx-4xxx-[89ab]xxx-...". */
void vmgenid_format(const uint8_t id[VMGENID_ID_LEN], char out[VMGENID_STR_LEN]);

#endif
