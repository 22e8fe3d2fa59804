/* image_read.c - the strict reader: header, section table, every section's
 * bounds and checksum, the decoded state and the memory index, all validated
 * at open before anything is handed out. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checksum.h"
#include "file_io.h"
#include "image_int.h"
#include "le.h"
#include "mem_lazy.h"

/* A byte range of the file and what owns it, for the overlap check. */
struct extent {
	uint64_t start, end;
	int kind;               /* EXT_* */
	unsigned a, b;          /* section entry; or region and chunk */
};

enum { EXT_HEADER, EXT_SECTION, EXT_TABLE, EXT_CHUNK };

/* Reads exactly len bytes at off; the caller checked off+len <= file size. */
static int read_at(int fd, void *p, size_t len, uint64_t off, const char *what,
		   struct image_error *err)
{
	int rc = pread_full(fd, p, len, off);

	if (rc < 0)
		return img_fail(err, IMG_EIO, "reading %s: %s", what, strerror(-rc));
	if (rc == FILE_IO_SHORT)
		return img_fail(err, IMG_ETRUNCATED, "reading %s: file ends early", what);
	return 0;
}

/* "vcpu 1 section", "memory region 0 index", "host section". */
static void section_label(const struct image_section *s, char *buf, size_t len)
{
	if (s->type == SEC_VCPU)
		snprintf(buf, len, "vcpu %u section", s->instance);
	else if (s->type == SEC_MEM_INDEX)
		snprintf(buf, len, "memory region %u index", s->instance);
	else if (s->type == SEC_PREFETCH)
		snprintf(buf, len, "prefetch order of region %u", s->instance);
	else if (s->type >= SEC_VM_CONFIG && s->type <= SEC_TYPE_LAST)
		snprintf(buf, len, "%s section", section_name(s->type));
	else
		snprintf(buf, len, "section type %u", s->type);
}

static int read_header(struct image *img, struct image_error *err)
{
	uint8_t h[IMAGE_HDR_SIZE];
	uint64_t table_off, want;
	uint32_t count, hsize;
	int rc;

	if (img->file_size < IMAGE_MAGIC_LEN)
		return img_fail(err, IMG_EMAGIC, "header: file of %llu bytes is not a torpor image",
				(unsigned long long)img->file_size);
	rc = read_at(img->fd, h, img->file_size < sizeof(h) ? IMAGE_MAGIC_LEN : sizeof(h), 0,
		     "header", err);
	if (rc)
		return rc;
	if (memcmp(h, IMAGE_MAGIC, 6))
		return img_fail(err, IMG_EMAGIC, "header: bad magic, not a torpor image");
	if (memcmp(h + 6, &IMAGE_MAGIC[6], 2))
		return img_fail(err, IMG_EMAGIC,
				"header: image for ELF machine %u, this reader takes aarch64 (183)",
				le_get16(h + 6));
	if (img->file_size < sizeof(h))
		return img_fail(err, IMG_ETRUNCATED, "header: file ends at byte %llu, inside the header",
				(unsigned long long)img->file_size);
	if (le_get64(h + HDR_CHECKSUM) != checksum64(h, HDR_CHECKSUM))
		return img_fail(err, IMG_ECHECKSUM, "header: checksum mismatch");
	img->version_major = le_get16(h + HDR_VERSION_MAJOR);
	img->version_minor = le_get16(h + HDR_VERSION_MINOR);
	img->compat_major = le_get16(h + HDR_COMPAT_MAJOR);
	img->compat_minor = le_get16(h + HDR_COMPAT_MINOR);
	if (img->compat_major > IMAGE_VERSION_MAJOR ||
	    (img->compat_major == IMAGE_VERSION_MAJOR && img->compat_minor > IMAGE_VERSION_MINOR))
		return img_fail(err, IMG_EVERSION,
				"header: format %u.%u needs a reader of %u.%u or newer (this reads %u.%u)",
				img->version_major, img->version_minor, img->compat_major,
				img->compat_minor, IMAGE_VERSION_MAJOR, IMAGE_VERSION_MINOR);
	if (img->compat_major > img->version_major ||
	    (img->compat_major == img->version_major && img->compat_minor > img->version_minor) ||
	    img->compat_major < 1)
		return img_fail(err, IMG_ECORRUPT,
				"header: compatible version %u.%u not within 1.0..%u.%u (the format)",
				img->compat_major, img->compat_minor,
				img->version_major, img->version_minor);
	/* A major version changes the header or the table, which no reader of
	 * an older major can parse: it is compatible only with its own major. */
	if (img->compat_major != img->version_major)
		return img_fail(err, IMG_ECORRUPT,
				"header: format %u.%u but compatible version %u.%u (majors must match)",
				img->version_major, img->version_minor,
				img->compat_major, img->compat_minor);
	hsize = le_get32(h + HDR_HEADER_SIZE);
	if (hsize != IMAGE_HDR_SIZE)
		return img_fail(err, IMG_ECORRUPT, "header: header size %u (expected %u)",
				hsize, IMAGE_HDR_SIZE);
	want = le_get64(h + HDR_FILE_SIZE);
	if (img->file_size < want)
		return img_fail(err, IMG_ETRUNCATED, "header: file is %llu bytes, header says %llu",
				(unsigned long long)img->file_size, (unsigned long long)want);
	if (img->file_size > want)
		return img_fail(err, IMG_ECORRUPT, "header: %llu bytes after the end of the image",
				(unsigned long long)(img->file_size - want));
	count = le_get32(h + HDR_SECTION_COUNT);
	table_off = le_get64(h + HDR_TABLE_OFFSET);
	if (count < 1 || count > IMAGE_MAX_SECTIONS)
		return img_fail(err, IMG_ECORRUPT, "header: %u sections (1..%u)",
				count, IMAGE_MAX_SECTIONS);
	if (table_off < IMAGE_HDR_SIZE || table_off > img->file_size ||
	    img->file_size - table_off != (uint64_t)count * IMAGE_ENTRY_SIZE + IMAGE_TRAILER_SIZE)
		return img_fail(err, IMG_ECORRUPT,
				"header: section table at %llu with %u entries does not end the file",
				(unsigned long long)table_off, count);
	img->nsections = count;
	return 0;
}

/* Section types and versions this reader decodes; 0: skip (optional and
 * unknown or newer), 1: decode, negative: refuse. */
static int entry_use(const struct image_section *s, unsigned i, struct image_error *err)
{
	int known = s->type >= SEC_VM_CONFIG && s->type <= SEC_TYPE_LAST;
	unsigned max_instance = s->type == SEC_VCPU ? TORPOR_MAX_CPUS
				: s->type == SEC_MEM_INDEX || s->type == SEC_PREFETCH ?
				  VM_MAX_MEM_REGIONS : 1;

	if (s->flags & ~SECTION_FLAGS_KNOWN)
		return img_fail(err, IMG_ECORRUPT, "section table entry %u: unknown flags 0x%x",
				i, s->flags);
	if (s->version == 0)
		return img_fail(err, IMG_ECORRUPT, "section table entry %u: version 0", i);
	if (!known || s->version > 1) {
		if (s->flags & SECTION_FLAG_OPTIONAL)
			return 0;
		return img_fail(err, IMG_EVERSION,
				"section table entry %u: required section type %u version %u is unknown to this reader",
				i, s->type, s->version);
	}
	if (s->instance >= max_instance)
		return img_fail(err, IMG_ECORRUPT, "section table entry %u: %s instance %u (max %u)",
				i, section_name(s->type), s->instance, max_instance - 1);
	return 1;
}

static int read_table(struct image *img, uint64_t table_off, struct image_error *err)
{
	size_t tlen = (size_t)img->nsections * IMAGE_ENTRY_SIZE;
	uint8_t *t = malloc(tlen + IMAGE_TRAILER_SIZE);
	int rc;

	img->sections = calloc(img->nsections, sizeof(*img->sections));
	if (!t || !img->sections) {
		free(t);
		return img_fail(err, IMG_ENOMEM, "section table");
	}
	rc = read_at(img->fd, t, tlen + IMAGE_TRAILER_SIZE, table_off, "section table", err);
	if (!rc && memcmp(t + tlen + TRL_MAGIC, IMAGE_END_MAGIC, IMAGE_MAGIC_LEN))
		rc = img_fail(err, IMG_ECORRUPT, "trailer: bad end marker");
	if (!rc && le_get64(t + tlen + TRL_TABLE_CHECKSUM) != checksum64(t, tlen))
		rc = img_fail(err, IMG_ECHECKSUM, "section table: checksum mismatch");
	for (unsigned i = 0; !rc && i < img->nsections; i++) {
		const uint8_t *e = t + (size_t)i * IMAGE_ENTRY_SIZE;
		struct image_section *s = &img->sections[i];

		s->type = le_get16(e + ENT_TYPE);
		s->version = le_get16(e + ENT_VERSION);
		s->flags = le_get16(e + ENT_FLAGS);
		s->instance = le_get16(e + ENT_INSTANCE);
		s->offset = le_get64(e + ENT_OFFSET);
		s->length = le_get64(e + ENT_LENGTH);
		s->checksum = le_get64(e + ENT_CHECKSUM);
		if (s->offset < IMAGE_HDR_SIZE || s->offset > table_off ||
		    s->length > table_off - s->offset)
			rc = img_fail(err, IMG_ECORRUPT,
				      "section table entry %u (%s): bytes %llu+%llu outside the data area",
				      i, section_name(s->type), (unsigned long long)s->offset,
				      (unsigned long long)s->length);
	}
	free(t);
	return rc;
}

/* Index of the table entry for (type, instance) this reader decodes, -1 if
 * there is none; a second one is corrupt (-2, err set). */
static int find_section(const struct image *img, unsigned type, unsigned instance,
			struct image_error *err)
{
	int found = -1;

	for (unsigned i = 0; i < img->nsections; i++) {
		const struct image_section *s = &img->sections[i];

		if (s->type != type || s->instance != instance || entry_use(s, i, NULL) != 1)
			continue;
		if (found >= 0) {
			img_fail(err, IMG_ECORRUPT, "section table entries %d and %u: both %s %u",
				 found, i, section_name(type), instance);
			return -2;
		}
		found = (int)i;
	}
	return found;
}

/* Reads and checksums the required section (type, instance) into *buf. */
static int load_section(struct image *img, unsigned type, unsigned instance,
			uint8_t **buf, size_t *len, struct image_error *err)
{
	int i = find_section(img, type, instance, err);
	const struct image_section *s;
	char what[48];
	int rc;

	*buf = NULL;
	if (i == -2)
		return -IMG_ECORRUPT;
	if (i < 0) {
		struct image_section want = { .type = (uint16_t)type, .instance = (uint16_t)instance };

		section_label(&want, what, sizeof(what));
		return img_fail(err, IMG_EMISSING, "%s missing", what);
	}
	s = &img->sections[i];
	section_label(s, what, sizeof(what));
	*buf = malloc(s->length + !s->length);
	if (!*buf)
		return img_fail(err, IMG_ENOMEM, "%s: %llu bytes", what, (unsigned long long)s->length);
	*len = (size_t)s->length;
	rc = read_at(img->fd, *buf, *len, s->offset, what, err);
	if (!rc && checksum64(*buf, *len) != s->checksum)
		rc = img_fail(err, IMG_ECHECKSUM, "%s: checksum mismatch", what);
	return rc;
}

/* Region r's prefetch order, if the image has one (at most one): decoded
 * and checked against the region's index, which is read by now. */
static int read_prefetch(struct image *img, unsigned r, struct image_error *err)
{
	struct prefetch_order *po = &img->prefetch[r];
	int i = find_section(img, SEC_PREFETCH, r, err);
	uint8_t *p;
	size_t len = 0;
	int rc;

	if (i < 0)
		return i == -2 ? -IMG_ECORRUPT : 0;
	rc = load_section(img, SEC_PREFETCH, r, &p, &len, err);
	if (!rc)
		rc = sec_prefetch_get(p, len, r, po, err);
	free(p);
	return rc ? rc : check_prefetch(img->mem[r].idx.nchunks, r, po->chunks, po->n,
					IMG_ECORRUPT, err);
}

static int decode_sections(struct image *img, struct image_error *err)
{
	struct vm_state *st = &img->st;
	const struct vm_config *c = &st->config;
	uint8_t *p = NULL;
	size_t len = 0;
	int rc;

#define LOAD(type, inst, decode)                                        \
	do {                                                            \
		rc = load_section(img, type, inst, &p, &len, err);      \
		if (!rc)                                                \
			rc = (decode);                                  \
		free(p);                                                \
		if (rc)                                                 \
			return rc;                                      \
	} while (0)

	LOAD(SEC_VM_CONFIG, 0, sec_config_get(p, len, &st->config, err));
	rc = check_config(c, IMG_ECORRUPT, err);
	if (rc)
		return rc;
	/* A writer that says a 1.0 reader manages a file that one would call
	 * corrupt has given a wrong compat. */
	if (img->compat_minor < image_compat_minor(c))
		return img_fail(err, IMG_ECORRUPT,
				"header: compatible version %u.%u, but its %u devices need %u.%u",
				img->compat_major, img->compat_minor, c->ndevs,
				IMAGE_COMPAT_MAJOR, image_compat_minor(c));
	LOAD(SEC_HOST, 0, sec_host_get(p, len, &st->host, err));
	LOAD(SEC_CLOCK, 0, sec_clock_get(p, len, &st->clock, err));
	LOAD(SEC_PSCI_RESUME, 0, sec_resume_get(p, len, &st->resume, err));
	for (unsigned i = 0; i < c->ncpus; i++)
		LOAD(SEC_VCPU, i, sec_vcpu_get(p, len, i, &st->vcpus[i], err));
	LOAD(SEC_GIC, 0, sec_gic_get(p, len, &st->gic, err));
	LOAD(SEC_DEVICES, 0, sec_devices_get(p, len, st->devs, &st->ndevs, err));
	if (config_virtio_blks(c)) {
		LOAD(SEC_DISKS, 0, sec_disks_get(p, len, st->disks, &st->ndisks, err));
	} else {
		int i = find_section(img, SEC_DISKS, 0, err);

		if (i == -2)
			return -IMG_ECORRUPT;
		if (i >= 0)
			return img_fail(err, IMG_ECORRUPT,
					"disks section: the vm config has no virtio-blk device");
	}
	for (unsigned i = 0; i < c->nmem; i++)
		LOAD(SEC_MEM_INDEX, i, sec_memindex_get(p, len, i, &img->mem[i], err));
#undef LOAD
	rc = check_state(st, IMG_ECORRUPT, err);
	for (unsigned i = 0; !rc && i < c->nmem; i++)
		rc = check_memindex(c, i, &img->mem[i], IMG_ECORRUPT, err);
	for (unsigned i = 0; !rc && i < c->nmem; i++)
		rc = read_prefetch(img, i, err);
	/* Sections for vCPUs or regions the config does not have. */
	for (unsigned i = 0; !rc && i < img->nsections; i++) {
		const struct image_section *s = &img->sections[i];

		if (entry_use(s, i, NULL) != 1)
			continue;
		if ((s->type == SEC_VCPU && s->instance >= c->ncpus) ||
		    (s->type == SEC_MEM_INDEX && s->instance >= c->nmem))
			rc = img_fail(err, IMG_ECORRUPT, "section table entry %u: %s %u not in the vm config",
				      i, section_name(s->type), s->instance);
		else if (s->type == SEC_PREFETCH && s->instance >= c->nmem)
			rc = img_fail(err, IMG_ECORRUPT,
				      "section table entry %u: prefetch order of region %u, which has no memory index",
				      i, s->instance);
	}
	return rc;
}

static void extent_label(const struct image *img, const struct extent *x, char *buf,
			 size_t len)
{
	switch (x->kind) {
	case EXT_HEADER:
		snprintf(buf, len, "header");
		break;
	case EXT_SECTION:
		section_label(&img->sections[x->a], buf, len);
		break;
	case EXT_TABLE:
		snprintf(buf, len, "section table");
		break;
	default:
		snprintf(buf, len, "memory region %u, chunk %u", x->a, x->b);
		break;
	}
}

static int extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* No two parts of the file (header, sections, memory chunks, table) share a
 * byte: a crafted index cannot alias section data as memory. */
static int check_overlaps(const struct image *img, uint64_t table_off,
			  struct image_error *err)
{
	size_t n = 2 + img->nsections, k = 0;
	struct extent *x;
	int rc = 0;

	for (unsigned r = 0; r < img->st.config.nmem; r++)
		n += img->mem[r].idx.nchunks;
	x = calloc(n, sizeof(*x));
	if (!x)
		return img_fail(err, IMG_ENOMEM, "overlap check of %zu extents", n);
	x[k++] = (struct extent){ 0, IMAGE_HDR_SIZE, EXT_HEADER, 0, 0 };
	x[k++] = (struct extent){ table_off, img->file_size, EXT_TABLE, 0, 0 };
	for (unsigned i = 0; i < img->nsections; i++)
		if (img->sections[i].length)
			x[k++] = (struct extent){ img->sections[i].offset,
				img->sections[i].offset + img->sections[i].length, EXT_SECTION, i, 0 };
	for (unsigned r = 0; !rc && r < img->st.config.nmem; r++) {
		const struct mem_index *m = &img->mem[r].idx;

		for (unsigned c = 0; c < m->nchunks; c++) {
			const struct mem_chunk *ch = &m->chunks[c];

			if (!ch->length)
				continue;
			if (ch->offset < IMAGE_HDR_SIZE || ch->offset > table_off ||
			    ch->length > table_off - ch->offset) {
				rc = img_fail(err, IMG_ECORRUPT,
					      "memory region %u, chunk %u: bytes %llu+%llu outside the data area",
					      r, c, (unsigned long long)ch->offset,
					      (unsigned long long)ch->length);
				break;
			}
			x[k++] = (struct extent){ ch->offset, ch->offset + ch->length, EXT_CHUNK, r, c };
		}
	}
	if (!rc)
		qsort(x, k, sizeof(*x), extent_cmp);
	for (size_t i = 1; !rc && i < k; i++) {
		char a[64], b[64];

		if (x[i].start >= x[i - 1].end)
			continue;
		extent_label(img, &x[i - 1], a, sizeof(a));
		extent_label(img, &x[i], b, sizeof(b));
		rc = img_fail(err, IMG_ECORRUPT, "%s overlaps %s at byte %llu", b, a,
			      (unsigned long long)x[i].start);
	}
	free(x);
	return rc;
}

/* The checksum of entry i, which this reader skips: a damaged optional
 * section is still a damaged file. Read in pieces, so a long payload needs no
 * buffer of its size; after the overlap check, so all skipped sections
 * together cost at most one read of the file. */
static int check_skipped(const struct image *img, unsigned i, struct image_error *err)
{
	const struct image_section *s = &img->sections[i];
	struct checksum_ctx sum;
	uint8_t buf[16384];
	uint64_t done = 0;
	int rc = 0;

	checksum_init(&sum);
	while (!rc && done < s->length) {
		size_t n = s->length - done < sizeof(buf) ? (size_t)(s->length - done) : sizeof(buf);

		rc = read_at(img->fd, buf, n, s->offset + done, "a skipped section", err);
		checksum_update(&sum, buf, n);
		done += n;
	}
	if (!rc && checksum_final(&sum) != s->checksum)
		rc = img_fail(err, IMG_ECHECKSUM,
			      "section table entry %u (type %u version %u, skipped): checksum mismatch",
			      i, s->type, s->version);
	return rc;
}

int image_open(struct image **out, const char *path, int check_chunks,
	       struct image_error *err)
{
	struct image *img;
	struct stat sb;
	uint64_t table_off;
	int rc;

	if (!out || !path)
		return img_fail(err, IMG_EINVAL, "image_open: no path");
	*out = NULL;
	img = calloc(1, sizeof(*img));
	if (!img)
		return img_fail(err, IMG_ENOMEM, "opening %s", path);
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0 || fstat(img->fd, &sb) < 0) {
		rc = img_fail(err, IMG_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = img_fail(err, IMG_EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	img->file_size = (uint64_t)sb.st_size;
	rc = read_header(img, err);
	if (rc)
		goto fail;
	table_off = img->file_size - IMAGE_TRAILER_SIZE - (uint64_t)img->nsections * IMAGE_ENTRY_SIZE;
	rc = read_table(img, table_off, err);
	for (unsigned i = 0; !rc && i < img->nsections; i++) {
		int use = entry_use(&img->sections[i], i, err);

		rc = use < 0 ? use : 0;
	}
	if (!rc)
		rc = decode_sections(img, err);
	if (!rc)
		rc = check_overlaps(img, table_off, err);
	for (unsigned i = 0; !rc && i < img->nsections; i++)
		if (entry_use(&img->sections[i], i, NULL) == 0)
			rc = check_skipped(img, i, err);
	for (unsigned r = 0; !rc && check_chunks && r < img->st.config.nmem; r++)
		rc = image_check_memory(img, r, err);
	if (rc)
		goto fail;
	*out = img;
	return 0;
fail:
	image_close(img);
	return rc;
}

void image_close(struct image *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	vm_state_free(&img->st);
	for (unsigned r = 0; r < VM_MAX_MEM_REGIONS; r++) {
		mem_index_free(&img->mem[r].idx);
		free(img->prefetch[r].chunks);
	}
	free(img->sections);
	free(img);
}

int image_read_state(struct image *img, struct vm_state *st, struct image_error *err)
{
	if (!img || !st)
		return img_fail(err, IMG_EINVAL, "image_read_state: no image or state");
	if (vm_state_copy(st, &img->st))
		return img_fail(err, IMG_ENOMEM, "copying the vm state");
	return 0;
}

int image_load_memory(struct image *img, unsigned region, void *host,
		      uint64_t size, unsigned threads, struct image_error *err)
{
	if (!img || !host || region >= img->st.config.nmem)
		return img_fail(err, IMG_EINVAL, "image_load_memory: no image or memory region %u",
				region);
	if (size != img->mem[region].idx.size)
		return img_fail(err, IMG_EINVAL,
				"image_load_memory: region %u is %llu bytes, mapping is %llu",
				region, (unsigned long long)img->mem[region].idx.size,
				(unsigned long long)size);
	return mem_decode(img->fd, &img->mem[region].idx, host, threads, err, region);
}

int image_check_memory(struct image *img, unsigned region, struct image_error *err)
{
	int rc;

	if (!img || region >= img->st.config.nmem)
		return img_fail(err, IMG_EINVAL, "image_check_memory: no image or memory region %u",
				region);
	rc = mem_verify(img->fd, img->file_size, &img->mem[region].idx, err, region);
	img->mem[region].checked = rc == 0;
	return rc;
}

int image_serve_memory(struct image *img, unsigned region, void *host, uint64_t size,
		       const struct mem_lazy_opts *o, struct mem_lazy **out,
		       struct image_error *err)
{
	*out = NULL;
	if (!img || !host || region >= img->st.config.nmem || !img->mem[region].checked)
		return img_fail(err, IMG_EINVAL, "image_serve_memory: memory region %u "
				"not checked first", region);
	if (size != img->mem[region].idx.size)
		return img_fail(err, IMG_EINVAL,
				"image_serve_memory: region %u is %llu bytes, mapping is %llu",
				region, (unsigned long long)img->mem[region].idx.size,
				(unsigned long long)size);
	return mem_lazy_start(out, img->fd, &img->mem[region].idx, host, o, err);
}

uint32_t image_chunk_pages(const struct image *img, unsigned region)
{
	return img && region < img->st.config.nmem ? img->mem[region].idx.chunk_pages : 0;
}
