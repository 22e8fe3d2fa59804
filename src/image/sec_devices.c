/* sec_devices.c - codec of the devices section (type 7): per device its type,
 * base, (field id, value) pairs and byte blob. */
#include <string.h>

#include "image_int.h"

_Static_assert(DEVS_NDEVS + 4 == SEC_DEVICES_FIXED, "devices fixed part");
_Static_assert(DST_BLOB_LEN + 4 == SEC_DEVICE_FIXED, "device state fixed part");
_Static_assert(DFLD_VALUE + 8 == SEC_DEVICE_FIELD, "device field layout");

void sec_devices_put(struct wbuf *b, const struct dev_state *d, uint32_t ndevs)
{
	wbuf_put32(b, ndevs);
	for (uint32_t i = 0; i < ndevs; i++) {
		wbuf_put32(b, d[i].type);
		wbuf_put64(b, d[i].base);
		wbuf_put32(b, d[i].nfields);
		wbuf_put32(b, d[i].blob_len);
		for (uint32_t f = 0; f < d[i].nfields; f++) {
			wbuf_put32(b, d[i].fields[f].id);
			wbuf_put64(b, d[i].fields[f].value);
		}
		wbuf_bytes(b, d[i].blob, d[i].blob_len);
	}
}

int sec_devices_get(const uint8_t *p, size_t len, struct dev_state *d,
		    uint32_t *ndevs, struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };
	uint32_t n = rbuf_get32(&r);

	*ndevs = 0;
	if (r.over)
		return rbuf_end(&r, "devices section", err);
	if (n > VM_MAX_DEVICES)
		return img_fail(err, IMG_ECORRUPT, "devices section: %u devices (max %u)",
				n, VM_MAX_DEVICES);
	for (uint32_t i = 0; i < n; i++) {
		struct dev_state *s = &d[i];

		memset(s, 0, sizeof(*s));
		s->type = rbuf_get32(&r);
		s->base = rbuf_get64(&r);
		s->nfields = rbuf_get32(&r);
		s->blob_len = rbuf_get32(&r);
		if (s->nfields > DEV_MAX_FIELDS || s->blob_len > DEV_MAX_BLOB) {
			uint32_t nf = s->nfields, bl = s->blob_len;

			s->nfields = s->blob_len = 0;
			return img_fail(err, IMG_ECORRUPT,
					"devices section, device %u: %u fields (max %u), blob %u bytes (max %u)",
					i, nf, DEV_MAX_FIELDS, bl, DEV_MAX_BLOB);
		}
		for (uint32_t f = 0; f < s->nfields; f++) {
			s->fields[f].id = rbuf_get32(&r);
			s->fields[f].value = rbuf_get64(&r);
		}
		rbuf_bytes(&r, s->blob, s->blob_len);
	}
	*ndevs = n;
	return rbuf_end(&r, "devices section", err);
}
