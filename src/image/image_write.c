/* image_write.c - the atomic image writer: sections, memory chunks, memory
 * index, section table, trailer, and the header last, into a temporary file
 * that is renamed over the target only once it is complete and on disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "file_io.h"
#include "image_int.h"
#include "le.h"

_Static_assert(sizeof(IMAGE_MAGIC) - 1 == IMAGE_MAGIC_LEN, "magic is 8 bytes");
_Static_assert(sizeof(IMAGE_END_MAGIC) - 1 == IMAGE_MAGIC_LEN, "end magic is 8 bytes");
_Static_assert(HDR_CHECKSUM + 8 == IMAGE_HDR_SIZE, "header checksum is its last field");
_Static_assert(ENT_CHECKSUM + 8 == IMAGE_ENTRY_SIZE, "table entry layout");
_Static_assert(TRL_MAGIC + IMAGE_MAGIC_LEN == IMAGE_TRAILER_SIZE, "trailer layout");

/* Sections one image holds at most: configuration, host, clock, resume,
 * vGIC, devices and disks, then the vCPUs, and the regions' indexes and
 * prefetch orders. */
#define MAX_WRITE_SECTIONS (7 + TORPOR_MAX_CPUS + 2 * VM_MAX_MEM_REGIONS)
_Static_assert(MAX_WRITE_SECTIONS <= IMAGE_MAX_SECTIONS, "the reader takes what we write");

struct writer {
	int fd;
	uint64_t off;                   /* where the next byte goes */
	const struct image_write_opts *opts;
	uint32_t chunk_pages;           /* of every region's memory */
	unsigned nsec;
	struct image_section sec[MAX_WRITE_SECTIONS];
	struct wbuf buf;
};

/* IMG_ENOSPC for a full filesystem or quota, IMG_EIO for any other errno. */
static int io_code(int e)
{
	return e == ENOSPC || e == EDQUOT ? IMG_ENOSPC : IMG_EIO;
}

/* pwrite_full, a failure recorded in err as IMG_ENOSPC or IMG_EIO. */
static int write_at(int fd, const void *p, size_t len, uint64_t off,
		    const char *what, struct image_error *err)
{
	int rc = pwrite_full(fd, p, len, off);

	if (rc)
		return img_fail(err, rc < 0 ? io_code(-rc) : IMG_EIO, "writing %s: %s", what,
				rc < 0 ? strerror(-rc) : "no progress");
	return 0;
}

static int cancelled(const struct writer *w)
{
	return w->opts && w->opts->cancel && *w->opts->cancel;
}

/* Appends the payload in w->buf as a section and records its table entry. */
static int section_emit(struct writer *w, uint16_t type, uint16_t instance,
			struct image_error *err)
{
	struct image_section *s = &w->sec[w->nsec];
	int rc;

	if (cancelled(w))
		return img_fail(err, IMG_EINTR, "cancelled before the %s section",
				section_name(type));
	if (w->buf.oom)
		return img_fail(err, IMG_ENOMEM, "encoding the %s section", section_name(type));
	s->type = type;
	s->version = 1;
	/* A prefetch order is a hint: readers that do not know it skip it. */
	s->flags = type == SEC_PREFETCH ? SECTION_FLAG_OPTIONAL : 0;
	s->instance = instance;
	s->offset = w->off;
	s->length = w->buf.len;
	s->checksum = checksum64(w->buf.p, w->buf.len);
	rc = write_at(w->fd, w->buf.p, w->buf.len, w->off, section_name(type), err);
	if (rc)
		return rc;
	w->off += w->buf.len;
	w->nsec++;
	w->buf.len = 0;
	return 0;
}

static int write_state(struct writer *w, const struct vm_state *st,
		       struct image_error *err)
{
	int rc;

	sec_config_put(&w->buf, &st->config);
	rc = section_emit(w, SEC_VM_CONFIG, 0, err);
	if (!rc) {
		sec_host_put(&w->buf, &st->host);
		rc = section_emit(w, SEC_HOST, 0, err);
	}
	if (!rc) {
		sec_clock_put(&w->buf, &st->clock);
		rc = section_emit(w, SEC_CLOCK, 0, err);
	}
	if (!rc) {
		sec_resume_put(&w->buf, &st->resume);
		rc = section_emit(w, SEC_PSCI_RESUME, 0, err);
	}
	for (uint32_t i = 0; !rc && i < st->config.ncpus; i++) {
		sec_vcpu_put(&w->buf, &st->vcpus[i]);
		rc = section_emit(w, SEC_VCPU, (uint16_t)i, err);
	}
	if (!rc) {
		sec_gic_put(&w->buf, &st->gic);
		rc = section_emit(w, SEC_GIC, 0, err);
	}
	if (!rc) {
		sec_devices_put(&w->buf, st->devs, st->ndevs);
		rc = section_emit(w, SEC_DEVICES, 0, err);
	}
	/* Present exactly when a virtio-blk device is: check_state tied the
	 * records to the devices. */
	if (!rc && st->ndisks) {
		sec_disks_put(&w->buf, st->disks, st->ndisks);
		rc = section_emit(w, SEC_DISKS, 0, err);
	}
	return rc;
}

/* Memory chunks of every region, then one index section per region (the
 * index is known only once the chunks are written), each followed by the
 * region's prefetch order if it has one. */
static int write_memory(struct writer *w, const struct vm_state *st,
			const struct image_mem_src *mem,
			struct image_write_stats *stats, struct image_error *err)
{
	struct region_index ri[VM_MAX_MEM_REGIONS];
	int rc = 0;

	memset(ri, 0, sizeof(ri));
	for (uint32_t i = 0; !rc && i < st->config.nmem; i++) {
		struct image_write_stats rs = { 0 };

		if (cancelled(w)) {
			rc = img_fail(err, IMG_EINTR, "cancelled before memory region %u", i);
			break;
		}
		rc = mem_encodechunks(w->fd, &w->off, &mem[i], w->opts, w->chunk_pages,
				      &ri[i].idx, &rs, err);
		if (rc)
			break;
		ri[i].zero_pages = rs.zero_pages;
		ri[i].untouched_pages = rs.untouched_pages;
		stats->mem_bytes += rs.mem_bytes;
		stats->mem_stored_bytes += rs.mem_stored_bytes;
		stats->zero_pages += rs.zero_pages;
		stats->untouched_pages += rs.untouched_pages;
		stats->data_pages += rs.data_pages;
		/* A mismatch here is a memory engine bug: refuse to write an
		 * image the reader would reject. */
		rc = check_memindex(&st->config, i, &ri[i], IMG_EINVAL, err);
	}
	for (uint32_t i = 0; !rc && i < st->config.nmem; i++) {
		sec_memindex_put(&w->buf, &ri[i]);
		rc = section_emit(w, SEC_MEM_INDEX, (uint16_t)i, err);
		if (!rc && mem[i].nprefetch) {
			sec_prefetch_put(&w->buf, mem[i].prefetch, mem[i].nprefetch);
			rc = section_emit(w, SEC_PREFETCH, (uint16_t)i, err);
		}
	}
	for (uint32_t i = 0; i < st->config.nmem; i++)
		mem_index_free(&ri[i].idx);
	return rc;
}

/* Section table and trailer at the end, then the header that points at
 * them; compat_minor is what the configuration needs. */
static int write_table(struct writer *w, unsigned compat_minor, struct image_error *err)
{
	uint8_t hdr[IMAGE_HDR_SIZE];
	uint8_t trl[IMAGE_TRAILER_SIZE];
	size_t tlen = (size_t)w->nsec * IMAGE_ENTRY_SIZE;
	uint8_t *table = calloc(w->nsec, IMAGE_ENTRY_SIZE);
	uint8_t *t = table;
	uint64_t table_off = w->off;
	int rc;

	if (!table)
		return img_fail(err, IMG_ENOMEM, "encoding the section table");
	for (unsigned i = 0; i < w->nsec; i++, t += IMAGE_ENTRY_SIZE) {
		le_put16(t + ENT_TYPE, w->sec[i].type);
		le_put16(t + ENT_VERSION, w->sec[i].version);
		le_put16(t + ENT_FLAGS, w->sec[i].flags);
		le_put16(t + ENT_INSTANCE, w->sec[i].instance);
		le_put64(t + ENT_OFFSET, w->sec[i].offset);
		le_put64(t + ENT_LENGTH, w->sec[i].length);
		le_put64(t + ENT_CHECKSUM, w->sec[i].checksum);
	}
	le_put64(trl + TRL_TABLE_CHECKSUM, checksum64(table, tlen));
	memcpy(trl + TRL_MAGIC, IMAGE_END_MAGIC, IMAGE_MAGIC_LEN);
	rc = write_at(w->fd, table, tlen, table_off, "section table", err);
	free(table);
	if (!rc)
		rc = write_at(w->fd, trl, sizeof(trl), table_off + tlen, "trailer", err);
	if (rc)
		return rc;
	w->off = table_off + tlen + sizeof(trl);

	memcpy(hdr + HDR_MAGIC, IMAGE_MAGIC, IMAGE_MAGIC_LEN);
	le_put16(hdr + HDR_VERSION_MAJOR, IMAGE_VERSION_MAJOR);
	le_put16(hdr + HDR_VERSION_MINOR, IMAGE_VERSION_MINOR);
	le_put16(hdr + HDR_COMPAT_MAJOR, IMAGE_COMPAT_MAJOR);
	le_put16(hdr + HDR_COMPAT_MINOR, (uint16_t)compat_minor);
	le_put32(hdr + HDR_HEADER_SIZE, IMAGE_HDR_SIZE);
	le_put32(hdr + HDR_SECTION_COUNT, w->nsec);
	le_put64(hdr + HDR_TABLE_OFFSET, table_off);
	le_put64(hdr + HDR_FILE_SIZE, w->off);
	le_put64(hdr + HDR_CHECKSUM, checksum64(hdr, HDR_CHECKSUM));
	return write_at(w->fd, hdr, sizeof(hdr), 0, "header", err);
}

/* The memory sources must be exactly the configured regions, each cut into
 * no more chunks of chunk_pages pages than a reader takes, with a prefetch
 * order of those chunks that keeps its rules. */
static int check_sources(const struct vm_config *c, const struct image_mem_src *mem,
			 unsigned nmem, uint32_t chunk_pages, struct image_error *err)
{
	int rc;

	if (nmem != c->nmem || (nmem && !mem))
		return img_fail(err, IMG_EINVAL, "%u memory sources for %u configured regions",
				nmem, c->nmem);
	for (unsigned i = 0; i < nmem; i++) {
		uint64_t pages = mem[i].size / MEM_PAGE_SIZE;
		uint64_t nchunks = (pages + chunk_pages - 1) / chunk_pages;

		if (mem[i].guest_addr != c->mem[i].guest_addr || mem[i].size != c->mem[i].size ||
		    !mem[i].host)
			return img_fail(err, IMG_EINVAL,
					"memory source %u: 0x%llx+0x%llx does not match the vm config",
					i, (unsigned long long)mem[i].guest_addr,
					(unsigned long long)mem[i].size);
		if (nchunks > IMAGE_MAX_CHUNKS)
			return img_fail(err, IMG_EINVAL,
					"memory source %u: %llu chunks of %u pages (max %u)",
					i, (unsigned long long)nchunks, chunk_pages, IMAGE_MAX_CHUNKS);
		if (mem[i].nprefetch && !mem[i].prefetch)
			return img_fail(err, IMG_EINVAL,
					"memory source %u: a prefetch order of %u chunks without a list",
					i, mem[i].nprefetch);
		rc = mem[i].nprefetch ? check_prefetch((uint32_t)nchunks, i, mem[i].prefetch,
						       mem[i].nprefetch, IMG_EINVAL, err) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* Fsyncs the directory that holds path, so the rename is durable. */
/* fsync of path's directory, so the rename survives a crash; 0 or the
 * errno of what failed. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
	int fd, e = 0;

	if (!dir)
		return ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		e = errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return e;
}

/* Creates the temporary ".NAME.XXXXXX.tmp" next to path (mode 0600: an image
 * holds guest memory); *tmp is heap. */
static int create_temp(const char *path, char **tmp, struct image_error *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path) + 1 : 0;
	int fd;

	if (!*base)
		return img_fail(err, IMG_EINVAL, "image path %s names a directory", path);
	if (asprintf(tmp, "%.*s.%s.XXXXXX.tmp", dirlen, path, base) < 0) {
		*tmp = NULL;
		return img_fail(err, IMG_ENOMEM, "temporary name for %s", path);
	}
	fd = mkostemps(*tmp, 4, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		free(*tmp);
		*tmp = NULL;
		return img_fail(err, io_code(e), "creating a temporary file next to %s: %s",
				path, strerror(e));
	}
	return fd;
}

int image_write(const char *path, const struct vm_state *st,
		const struct image_mem_src *mem, unsigned nmem,
		const struct image_write_opts *opts,
		struct image_write_stats *stats, struct image_error *err)
{
	struct image_write_stats local = { 0 };
	uint32_t chunk_pages = opts && opts->chunk_pages ? opts->chunk_pages : 0;
	struct writer *w;
	char *tmp = NULL;
	int rc;

	if (!path || !st)
		return img_fail(err, IMG_EINVAL, "image_write: no path or state");
	for (unsigned i = 0; !(opts && opts->chunk_pages) && mem && i < nmem; i++)
		if (mem_chunk_pages_for(mem[i].size) > chunk_pages)
			chunk_pages = mem_chunk_pages_for(mem[i].size);
	if (!chunk_pages)
		chunk_pages = MEM_CHUNK_PAGES;
	if (chunk_pages > MEM_CHUNK_PAGES_MAX)
		return img_fail(err, IMG_EINVAL, "image_write: chunks of %u pages (1..%u)",
				chunk_pages, MEM_CHUNK_PAGES_MAX);
	rc = check_state(st, IMG_EINVAL, err);
	if (!rc)
		rc = check_sources(&st->config, mem, nmem, chunk_pages, err);
	if (rc)
		return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return img_fail(err, IMG_ENOMEM, "image writer");
	w->opts = opts;
	w->chunk_pages = chunk_pages;
	w->off = IMAGE_HDR_SIZE;
	w->fd = create_temp(path, &tmp, err);
	if (w->fd < 0) {
		rc = w->fd;
		goto out;
	}
	rc = write_state(w, st, err);
	if (!rc)
		rc = write_memory(w, st, mem, &local, err);
	if (!rc)
		rc = cancelled(w) ? img_fail(err, IMG_EINTR, "cancelled before the section table")
				  : write_table(w, image_compat_minor(&st->config), err);
	/* Filesystems that allocate late report a full disk here. */
	if (!rc && fsync(w->fd) < 0)
		rc = img_fail(err, io_code(errno), "fsync %s: %s", tmp, strerror(errno));
	if (close(w->fd) < 0 && !rc)
		rc = img_fail(err, io_code(errno), "close %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) < 0)
		rc = img_fail(err, IMG_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
	if (rc) {
		unlink(tmp);
		goto out;
	}
	/* The complete image is in place now, replacing any older one: failing
	 * here would leave the guest running beside an image that forks it
	 * later. It counts as written; the caller warns that the rename may not
	 * survive a crash. */
	local.dir_sync_errno = sync_dir(path);
	local.file_bytes = w->off;
	if (stats)
		*stats = local;
out:
	free(tmp);
	wbuf_free(&w->buf);
	free(w);
	return rc;
}
