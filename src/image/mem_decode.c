/* mem_decode.c - chunk records back into guest memory: the index and every
 * record are checked before use, then chunks decode in parallel straight into
 * guest pages where the stored pages form one run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "checksum.h"
#include "file_io.h"
#include "le.h"
#include "mem_int.h"

static unsigned bitmap_count(const uint64_t *bm, uint32_t words)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < words; i++)
		n += (unsigned)__builtin_popcountll(bm[i]);
	return n;
}

/* Checks the index alone: geometry, each chunk's page count and record size,
 * and that records lie in order without overlap inside file_size. */
static int idx_check(const struct mem_index *idx, uint64_t file_size,
		     struct image_error *err, unsigned region)
{
	uint64_t pages, end = 0;

	if (idx->page_size != MEM_PAGE_SIZE || idx->chunk_pages == 0 ||
	    idx->chunk_pages > MEM_CHUNK_PAGES_MAX || idx->size == 0 ||
	    idx->size % MEM_PAGE_SIZE)
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u: page size %u, chunk of %u pages, size 0x%llx",
				region, idx->page_size, idx->chunk_pages,
				(unsigned long long)idx->size);
	pages = idx->size / MEM_PAGE_SIZE;
	if (idx->nchunks != (pages + idx->chunk_pages - 1) / idx->chunk_pages ||
	    !idx->chunks)
		return img_fail(err, IMG_ECORRUPT, "memory region %u: %u chunks for %llu pages",
				region, idx->nchunks, (unsigned long long)pages);
	for (uint32_t c = 0; c < idx->nchunks; c++) {
		const struct mem_chunk *ch = &idx->chunks[c];
		uint64_t want = c + 1 < idx->nchunks ? idx->chunk_pages :
				pages - (uint64_t)c * idx->chunk_pages;

		if (ch->pages != want || ch->stored_pages > ch->pages)
			return img_fail(err, IMG_ECORRUPT,
					"memory region %u, chunk %u: %u pages (%u stored), expected %llu",
					region, c, ch->pages, ch->stored_pages,
					(unsigned long long)want);
		if (!ch->stored_pages != !ch->length ||
		    ch->length > rec_max(ch->pages, ch->stored_pages) ||
		    (ch->length && ch->length <= REC_HEADER + bitmap_words(ch->pages) * 8))
			return img_fail(err, IMG_ECORRUPT,
					"memory region %u, chunk %u: record of %llu bytes for %u stored pages",
					region, c, (unsigned long long)ch->length,
					ch->stored_pages);
		if (!ch->length && ch->checksum)
			return img_fail(err, IMG_ECORRUPT,
					"memory region %u, chunk %u: no record, yet checksum 0x%llx (must be 0)",
					region, c, (unsigned long long)ch->checksum);
		if (!ch->length)
			continue;
		if (ch->offset < end || ch->offset > file_size ||
		    ch->length > file_size - ch->offset)
			return img_fail(err, ch->offset < end ? IMG_ECORRUPT : IMG_ETRUNCATED,
					"memory region %u, chunk %u: record at %llu+%llu %s",
					region, c, (unsigned long long)ch->offset,
					(unsigned long long)ch->length,
					ch->offset < end ? "overlaps the previous one" :
							   "lies past the end of the file");
		end = ch->offset + ch->length;
	}
	return 0;
}

int mem_rec_check(const uint8_t *rec, const struct mem_chunk *ch, uint32_t c,
		  uint64_t *bm, const uint8_t **frame, size_t *frame_len,
		  struct image_error *err, unsigned region)
{
	uint32_t words = bitmap_words(ch->pages), tail = ch->pages % 64;
	unsigned long long content;
	size_t n;

	if (checksum64(rec, ch->length) != ch->checksum)
		return img_fail(err, IMG_ECHECKSUM, "memory region %u, chunk %u: checksum mismatch",
				region, c);
	if (le_get32(rec + RECH_MAGIC) != REC_MAGIC || le_get32(rec + RECH_CHUNK) != c ||
	    le_get32(rec + RECH_PAGES) != ch->pages ||
	    le_get32(rec + RECH_STORED_PAGES) != ch->stored_pages)
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: record header does not match the index",
				region, c);
	for (uint32_t i = 0; i < words; i++)
		bm[i] = le_get64(rec + RECH_BITMAP + i * 8);
	if (tail && bm[words - 1] >> tail)
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: bitmap marks pages past the chunk's %u",
				region, c, ch->pages);
	if (bitmap_count(bm, words) != ch->stored_pages)
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: bitmap holds %u pages, index %u",
				region, c, bitmap_count(bm, words), ch->stored_pages);
	*frame = rec + REC_HEADER + words * 8;
	*frame_len = ch->length - REC_HEADER - words * 8;
	n = ZSTD_findFrameCompressedSize(*frame, *frame_len);
	content = ZSTD_getFrameContentSize(*frame, *frame_len);
	if (ZSTD_isError(n) || n != *frame_len || ZSTD_getDictID_fromFrame(*frame, n))
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: not one zstd frame of %zu bytes",
				region, c, *frame_len);
	if (content != (unsigned long long)ch->stored_pages * MEM_PAGE_SIZE)
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: frame holds %lld bytes, bitmap %u pages",
				region, c, (long long)content, ch->stored_pages);
	return 0;
}

int mem_rec_read(int fd, const struct mem_chunk *ch, uint32_t c, uint8_t *buf,
		 struct image_error *err, unsigned region)
{
	int rc = pread_full(fd, buf, ch->length, ch->offset);

	if (rc < 0)
		return img_fail(err, IMG_EIO, "memory region %u, chunk %u: read: %s",
				region, c, strerror(-rc));
	if (rc == FILE_IO_SHORT)
		return img_fail(err, IMG_ETRUNCATED,
				"memory region %u, chunk %u: file ends inside the record",
				region, c);
	return 0;
}

struct ver {
	struct job job;
	int fd;
	const struct mem_index *idx;
	unsigned region;
};

static void *ver_thread(void *arg)
{
	struct ver *v = arg;
	uint64_t bm[MEM_CHUNK_PAGES_MAX / 64];
	struct image_error err = { 0 };
	const uint8_t *frame;
	size_t frame_len;
	uint8_t *buf = malloc(rec_max(v->idx->chunk_pages, v->idx->chunk_pages));
	uint32_t c;
	int rc = 0;

	if (!buf)
		rc = img_fail(&err, IMG_ENOMEM, "memory region %u: no memory to verify",
			      v->region);
	while (rc == 0 && job_take(&v->job, v->idx->nchunks, &c)) {
		const struct mem_chunk *ch = &v->idx->chunks[c];

		if (!ch->length)
			continue;
		rc = mem_rec_read(v->fd, ch, c, buf, &err, v->region);
		if (rc == 0)
			rc = mem_rec_check(buf, ch, c, bm, &frame, &frame_len, &err, v->region);
	}
	if (rc)
		job_failed(&v->job, rc, &err);
	free(buf);
	return NULL;
}

/* Reads and checks every record on one thread per online CPU: a lazy restore
 * waits for this pass before its guest runs. */
int mem_verify(int fd, uint64_t file_size, const struct mem_index *idx,
	       struct image_error *err, unsigned region)
{
	struct ver v = { .fd = fd, .idx = idx, .region = region };
	int rc = idx_check(idx, file_size, err, region);

	if (rc)
		return rc;
	job_init(&v.job);
	pool_run(pool_threads(0, idx->nchunks), ver_thread, &v);
	rc = job_result(&v.job, err);
	job_destroy(&v.job);
	return rc;
}

struct dec {
	struct job job;
	int fd;
	const struct mem_index *idx;
	uint8_t *host;
	unsigned region;
};

/* Faults in the pages of base that bm marks, a run per call: one call costs
 * less than the page faults of a run. Kernels before 5.14 refuse, and then the
 * pages fault in one at a time as they are written. */
static void dec_populate(uint8_t *base, const uint64_t *bm, uint32_t pages)
{
	uint32_t p = 0, start;

	while (p < pages) {
		while (p < pages && !bitmap_has(bm, p))
			p++;
		start = p;
		while (p < pages && bitmap_has(bm, p))
			p++;
		if (p > start)
			madvise(base + (size_t)start * MEM_PAGE_SIZE,
				(size_t)(p - start) * MEM_PAGE_SIZE, MADV_POPULATE_WRITE);
	}
}

/* Decodes chunk c with the buffers given. A chunk whose pages form one run is
 * decompressed straight into guest memory; otherwise into scratch, then each
 * page is copied to its place. */
static int dec_chunk(struct dec *d, uint32_t c, ZSTD_DCtx *dctx, uint8_t *rec,
		     uint8_t *scratch, struct image_error *err)
{
	const struct mem_chunk *ch = &d->idx->chunks[c];
	uint8_t *base = d->host + (uint64_t)c * d->idx->chunk_pages * MEM_PAGE_SIZE;
	size_t bytes = (size_t)ch->stored_pages * MEM_PAGE_SIZE, frame_len, n;
	uint64_t bm[MEM_CHUNK_PAGES_MAX / 64];
	const uint8_t *frame, *from;
	uint32_t first;
	int rc;

	rc = mem_rec_read(d->fd, ch, c, rec, err, d->region);
	if (rc == 0)
		rc = mem_rec_check(rec, ch, c, bm, &frame, &frame_len, err, d->region);
	if (rc)
		return rc;
	dec_populate(base, bm, ch->pages);
	if (bitmap_run(bm, ch->pages, ch->stored_pages, &first)) {
		n = ZSTD_decompressDCtx(dctx, base + (size_t)first * MEM_PAGE_SIZE, bytes,
					frame, frame_len);
	} else {
		n = ZSTD_decompressDCtx(dctx, scratch, bytes, frame, frame_len);
		from = scratch;
		for (uint32_t i = 0; !ZSTD_isError(n) && n == bytes && i < ch->pages; i++) {
			if (bitmap_has(bm, i)) {
				memcpy(base + (size_t)i * MEM_PAGE_SIZE, from, MEM_PAGE_SIZE);
				from += MEM_PAGE_SIZE;
			}
		}
	}
	if (ZSTD_isError(n))
		return img_fail(err, IMG_ECORRUPT, "memory region %u, chunk %u: zstd: %s",
				d->region, c, ZSTD_getErrorName(n));
	if (n != bytes)
		return img_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: frame decoded to %zu bytes, not %zu",
				d->region, c, n, bytes);
	return 0;
}

static void *dec_thread(void *arg)
{
	struct dec *d = arg;
	struct image_error err = { 0 };
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	uint8_t *rec = malloc(rec_max(d->idx->chunk_pages, d->idx->chunk_pages));
	uint8_t *scratch = malloc((size_t)d->idx->chunk_pages * MEM_PAGE_SIZE);
	uint32_t c;
	int rc = 0;

	if (!dctx || !rec || !scratch)
		rc = img_fail(&err, IMG_ENOMEM, "memory region %u: no memory for a decoder",
			      d->region);
	while (rc == 0 && job_take(&d->job, d->idx->nchunks, &c)) {
		if (d->idx->chunks[c].length)
			rc = dec_chunk(d, c, dctx, rec, scratch, &err);
	}
	if (rc)
		job_failed(&d->job, rc, &err);
	ZSTD_freeDCtx(dctx);
	free(rec);
	free(scratch);
	return NULL;
}

int mem_decode(int fd, const struct mem_index *idx, void *host,
	       unsigned threads, struct image_error *err, unsigned region)
{
	struct stat sb;
	struct dec d;
	int rc;

	if (!idx || !host)
		return img_fail(err, IMG_EINVAL, "memory region %u: nothing to decode into",
				region);
	if (fstat(fd, &sb) < 0)
		return img_fail(err, IMG_EIO, "memory region %u: stat: %s", region,
				strerror(errno));
	rc = idx_check(idx, (uint64_t)sb.st_size, err, region);
	if (rc)
		return rc;
	memset(&d, 0, sizeof(d));
	d.fd = fd;
	d.idx = idx;
	d.host = host;
	d.region = region;
	job_init(&d.job);
	pool_run(pool_threads(threads, idx->nchunks), dec_thread, &d);
	rc = job_result(&d.job, err);
	job_destroy(&d.job);
	return rc;
}
