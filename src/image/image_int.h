/* image_int.h - internals shared by the image library's files: the open image,
 * the byte buffers the section codecs use, the codecs and the consistency
 * checks. Not installed; the unit tests include it to test codecs directly. */
#ifndef TORPOR_IMAGE_INT_H
#define TORPOR_IMAGE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image.h"
#include "image_format.h"
#include "image_mem.h"
#include "vm_state.h"

/* A growing output buffer; after an allocation failure every put is ignored
 * and oom stays set, so encoders need one check at the end. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

void wbuf_put8(struct wbuf *b, uint8_t v);
void wbuf_put16(struct wbuf *b, uint16_t v);
void wbuf_put32(struct wbuf *b, uint32_t v);
void wbuf_put64(struct wbuf *b, uint64_t v);
void wbuf_bytes(struct wbuf *b, const void *p, size_t n);
void wbuf_free(struct wbuf *b);

/* A bounded input cursor; reading past the end yields zeros and sets over, so
 * decoders check once (rbuf_end) instead of before every field. */
struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	int over;
};

uint8_t rbuf_get8(struct rbuf *r);
uint16_t rbuf_get16(struct rbuf *r);
uint32_t rbuf_get32(struct rbuf *r);
uint64_t rbuf_get64(struct rbuf *r);
/* Copies n bytes to dst (zeros on overrun). */
void rbuf_bytes(struct rbuf *r, void *dst, size_t n);
/* Steps over n bytes. */
void rbuf_skip(struct rbuf *r, size_t n);
/* Bytes left to read. */
size_t rbuf_left(const struct rbuf *r);
/* 0 when exactly all bytes were consumed; otherwise an IMG_ECORRUPT error
 * naming what (e.g. "vcpu 1 section") and whether it was short or long. */
int rbuf_end(const struct rbuf *r, const char *what, struct image_error *err);

/* Records code and a printf-style message in err (may be NULL); returns -code. */
int img_fail(struct image_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One memory region's index plus the page counts inspect reports. */
struct region_index {
	struct mem_index idx;
	uint64_t zero_pages;
	uint64_t untouched_pages;
	int checked;            /* every record read and checked (reader only) */
};

/* One region's prefetch order: the n chunk numbers (heap) a lazy restore
 * decodes first, in order; n is 0 when the image has none. */
struct prefetch_order {
	uint32_t n;
	uint32_t *chunks;
};

/* One section table entry, as read from the file. */
struct image_section {
	uint16_t type, version, flags, instance;
	uint64_t offset, length, checksum;
};

struct image {
	int fd;
	uint64_t file_size;
	uint16_t version_major, version_minor;
	uint16_t compat_major, compat_minor;
	uint32_t nsections;
	struct image_section *sections;
	struct vm_state st;             /* decoded and validated at open */
	struct region_index mem[VM_MAX_MEM_REGIONS];
	struct prefetch_order prefetch[VM_MAX_MEM_REGIONS];
};

/* Section codecs. put appends the payload; get decodes exactly len bytes,
 * checking structure (lengths, counts against the reader limits, flag
 * values) and failing with IMG_ECORRUPT naming the section. */
void sec_config_put(struct wbuf *b, const struct vm_config *c);
int sec_config_get(const uint8_t *p, size_t len, struct vm_config *c,
		   struct image_error *err);
void sec_host_put(struct wbuf *b, const struct host_info *h);
int sec_host_get(const uint8_t *p, size_t len, struct host_info *h,
		 struct image_error *err);
void sec_clock_put(struct wbuf *b, const struct clock_ref *c);
int sec_clock_get(const uint8_t *p, size_t len, struct clock_ref *c,
		  struct image_error *err);
void sec_resume_put(struct wbuf *b, const struct psci_resume *r);
int sec_resume_get(const uint8_t *p, size_t len, struct psci_resume *r,
		   struct image_error *err);
void sec_vcpu_put(struct wbuf *b, const struct vcpu_state *v);
/* v must be zeroed or freed; on failure nothing stays allocated. */
int sec_vcpu_get(const uint8_t *p, size_t len, unsigned index,
		 struct vcpu_state *v, struct image_error *err);
void sec_gic_put(struct wbuf *b, const struct gic_state *g);
/* g must be zeroed or freed; on failure nothing stays allocated. */
int sec_gic_get(const uint8_t *p, size_t len, struct gic_state *g,
		struct image_error *err);
void sec_devices_put(struct wbuf *b, const struct dev_state *d, uint32_t ndevs);
int sec_devices_get(const uint8_t *p, size_t len, struct dev_state *d,
		    uint32_t *ndevs, struct image_error *err);
void sec_disks_put(struct wbuf *b, const struct disk_record *d, uint32_t ndisks);
int sec_disks_get(const uint8_t *p, size_t len, struct disk_record *d,
		  uint32_t *ndisks, struct image_error *err);
void sec_memindex_put(struct wbuf *b, const struct region_index *ri);
/* ri->idx.chunks is heap on success (free with mem_index_free). */
int sec_memindex_get(const uint8_t *p, size_t len, unsigned region,
		     struct region_index *ri, struct image_error *err);
void sec_prefetch_put(struct wbuf *b, const uint32_t *order, uint32_t n);
/* po->chunks is heap on success (free it); at least one chunk, flags 0. */
int sec_prefetch_get(const uint8_t *p, size_t len, unsigned region,
		     struct prefetch_order *po, struct image_error *err);

/* Consistency of decoded or to-be-written state: every rule the format's
 * section tables state (value ranges, known bits and groups, the register
 * lists, the one suspended vCPU and its resume request, one device state per
 * configured device, one disk record per virtio-blk device, distinct MPIDR
 * affinities). Fails with -code
 * (IMG_ECORRUPT when reading, IMG_EINVAL when writing; IMG_ENOMEM when a
 * check cannot allocate) and a message naming the field. */
int check_config(const struct vm_config *c, int code, struct image_error *err);
int check_state(const struct vm_state *st, int code, struct image_error *err);
/* vCPU i's register ids: arm64 ones, each once, PC and PSTATE among them. */
int check_reg_ids(const struct vcpu_state *v, unsigned i, int code,
		  struct image_error *err);
/* st's vGIC registers: groups format 1.0 knows, 32-bit values in 32-bit
 * groups, affinity 0 on distributor attributes and a vCPU's on the others,
 * no (group, attr) twice. */
int check_gic_regs(const struct vm_state *st, int code, struct image_error *err);
/* The affinity a vGIC attribute names a vCPU by: Aff3 (MPIDR bits 39..32)
 * << 24 | Aff2..Aff0 (MPIDR bits 23..0). */
static inline uint32_t mpidr_affinity(uint64_t mpidr)
{
	return (uint32_t)((mpidr >> 32 & 0xff) << 24 | (mpidr & 0xffffff));
}
/* Blob bytes a state of device type `type` may hold (0: the type's appendix
 * says "Blob: none"); -1 for a type the format does not define. The format,
 * not the device table, decides: an image is judged the same whichever
 * device models this build has (test_devices checks the table agrees). */
int format_dev_max_blob(uint32_t type);
/* How many of c's devices are virtio-blk ones (each has a disk record). */
unsigned config_virtio_blks(const struct vm_config *c);
/* The compat minor version an image of configuration c needs:
 * IMAGE_COMPAT_MINOR_1_4 when it has a device type newer than 1.2's,
 * IMAGE_COMPAT_MINOR_1_2 when it has a device type newer than 1.1's or
 * more than IMAGE_1_1_MAX_DEVICES devices, IMAGE_COMPAT_MINOR_1_1 when it
 * has a virtio-blk device or more than IMAGE_1_0_MAX_DEVICES devices, else
 * IMAGE_COMPAT_MINOR. */
unsigned image_compat_minor(const struct vm_config *c);

/* A VM generation ID state's GUID into out (VMGENID_STR_LEN bytes); -1
 * for another device or one without its ID fields. */
int dev_state_genid(const struct dev_state *d, char *out);

/* A virtio-net state's tap name (TAP_NAME_MAX + 1 bytes) and MAC as text
 * (MAC_STR_LEN bytes); -1 for another device, one without a MAC field, or
 * one whose blob is not a tap name (tap_name_ok). */
int dev_state_card(const struct dev_state *d, char *tap, char *mac);
/* The index of region `region` against config.mem[region] and itself. */
int check_memindex(const struct vm_config *c, unsigned region,
		   const struct region_index *ri, int code,
		   struct image_error *err);

/* The n chunk numbers of region `region`'s prefetch order against its
 * nchunks chunks: at most nchunks of them, each below nchunks, none twice. */
int check_prefetch(uint32_t nchunks, unsigned region, const uint32_t *order,
		   uint32_t n, int code, struct image_error *err);

/* Deep copy of src into dst (zeroed or freed); -IMG_ENOMEM on failure, with
 * nothing left allocated. */
int vm_state_copy(struct vm_state *dst, const struct vm_state *src);

/* Summaries shared by the human and JSON printers. */
/* "runnable", "stopped", "suspended" or "unknown". */
const char *mp_state_name(uint32_t mp_state);
/* Compressed bytes and stored pages over all chunks of a region. */
void region_totals(const struct mem_index *x, uint64_t *stored_bytes,
		   uint64_t *data_pages);
/* JSON form of image_print. */
int image_print_json(const struct image *img, FILE *f, struct image_error *err);

/* Display name of a section type ("vcpu"), "unknown" for others. */
const char *section_name(unsigned type);

#endif
