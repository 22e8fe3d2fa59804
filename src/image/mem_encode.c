/* mem_encode.c - guest memory to chunk records: asks the kernel which pages
 * were ever populated, drops zero pages, compresses the rest a chunk per zstd
 * frame on every CPU and writes the records in chunk order. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "file_io.h"
#include "le.h"
#include "mem_int.h"

/* /proc/self/pagemap entry bits: a page is behind the address, or its swap
 * entry is. */
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)

_Static_assert(MEM_PAGE_SIZE % 64 == 0, "the zero scan reads cache lines of words");

/* True when the page holds only zero bytes. Reads one word at each end first,
 * since a page with data almost always fails there, then ORs a cache line at a
 * time so a zero page costs one pass at memory bandwidth. */
static bool page_zero(const void *page)
{
	const uint64_t *w = page;
	const size_t n = MEM_PAGE_SIZE / sizeof(uint64_t);

	if (w[0] | w[n - 1])
		return false;
	for (size_t i = 0; i < n; i += 8) {
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] |
		    w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	}
	return true;
}

struct enc {
	struct job job;
	int fd;
	const struct image_mem_src *src;
	volatile sig_atomic_t *cancel;
	int level;
	int pagemap;            /* /proc/self/pagemap, or -1: read every page */
	size_t host_page;
	uint32_t chunk_pages;
	uint32_t nchunks;
	struct mem_chunk *chunks;
	uint8_t *done;          /* per chunk: its record is built */
	uint32_t next_place;    /* first chunk not yet given an offset */
	uint64_t offset;        /* where its record goes */
	uint64_t zero, untouched, data, stored_bytes;
};

/* A built record waiting for its offset, which needs every earlier chunk's
 * length. A thread holds a few, so it rarely waits for a slower thread. */
#define ENC_SLOTS 3

struct enc_slot {
	uint8_t *rec;
	size_t len;             /* 0: free */
	uint32_t chunk;
};

/* One encoding thread's buffers, each about a chunk. */
struct enc_worker {
	ZSTD_CCtx *cctx;
	uint64_t *pagemap;      /* pagemap entries covering one chunk */
	uint64_t *bitmap;
	uint8_t *gather;        /* stored pages of a chunk that are not one run */
	struct enc_slot slot[ENC_SLOTS];
	size_t rec_cap;
	uint64_t zero, untouched, data;
};

/* Fills populated[] (one byte a guest page) for pages at p: a page is
 * populated when the kernel has a page or a swap entry behind any host page it
 * overlaps. Pages never touched have neither and are then never read. */
static void enc_populated(const struct enc *e, struct enc_worker *w,
			  const uint8_t *p, uint32_t pages, uint8_t *populated)
{
	uintptr_t start = (uintptr_t)p, end = start + (uintptr_t)pages * MEM_PAGE_SIZE;
	uintptr_t first = start / e->host_page, last = (end - 1) / e->host_page;
	size_t want = (last - first + 1) * sizeof(uint64_t);

	if (e->pagemap < 0 ||
	    pread(e->pagemap, w->pagemap, want, (off_t)(first * sizeof(uint64_t))) !=
		    (ssize_t)want) {
		memset(populated, 1, pages);
		return;
	}
	for (uint32_t i = 0; i < pages; i++) {
		uintptr_t a = start + (uintptr_t)i * MEM_PAGE_SIZE;
		uintptr_t h = a / e->host_page, hl = (a + MEM_PAGE_SIZE - 1) / e->host_page;

		populated[i] = 0;
		for (; h <= hl; h++) {
			if (w->pagemap[h - first] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED))
				populated[i] = 1;
		}
	}
}

/* Builds the record of chunk c in rec (w->rec_cap bytes); returns its length
 * (0: nothing stored) or a negative IMG_E* code with err filled. */
static int64_t enc_record(struct enc *e, struct enc_worker *w, uint32_t c,
			  uint8_t *rec, struct image_error *err)
{
	const uint8_t *base = (const uint8_t *)e->src->host +
			      (uint64_t)c * e->chunk_pages * MEM_PAGE_SIZE;
	struct mem_chunk *ch = &e->chunks[c];
	uint32_t words = bitmap_words(ch->pages), stored = 0, first;
	uint8_t populated[MEM_CHUNK_PAGES_MAX];
	uint8_t *frame = rec + REC_HEADER + words * 8;
	const void *in;
	size_t n;

	enc_populated(e, w, base, ch->pages, populated);
	memset(w->bitmap, 0, words * 8);
	for (uint32_t i = 0; i < ch->pages; i++) {
		if (!populated[i]) {
			w->untouched++;
		} else if (page_zero(base + (size_t)i * MEM_PAGE_SIZE)) {
			w->zero++;
		} else {
			w->bitmap[i / 64] |= 1ull << (i % 64);
			stored++;
		}
	}
	w->data += stored;
	ch->stored_pages = stored;
	if (!stored)
		return 0;

	if (bitmap_run(w->bitmap, ch->pages, stored, &first)) {
		in = base + (size_t)first * MEM_PAGE_SIZE;
	} else {
		uint8_t *to = w->gather;

		for (uint32_t i = 0; i < ch->pages; i++) {
			if (bitmap_has(w->bitmap, i)) {
				memcpy(to, base + (size_t)i * MEM_PAGE_SIZE, MEM_PAGE_SIZE);
				to += MEM_PAGE_SIZE;
			}
		}
		in = w->gather;
	}
	/* No more room than the format allows: a library whose frames could
	 * be longer fails here instead of writing a record no reader takes. */
	n = ZSTD_compress2(w->cctx, frame, rec_max(ch->pages, stored) - (size_t)(frame - rec),
			   in, (size_t)stored * MEM_PAGE_SIZE);
	if (ZSTD_isError(n))
		return img_fail(err, IMG_ECOMPRESS, "memory at 0x%llx, chunk %u: zstd: %s",
				(unsigned long long)e->src->guest_addr, c,
				ZSTD_getErrorName(n));

	le_put32(rec + RECH_MAGIC, REC_MAGIC);
	le_put32(rec + RECH_CHUNK, c);
	le_put32(rec + RECH_PAGES, ch->pages);
	le_put32(rec + RECH_STORED_PAGES, stored);
	for (uint32_t i = 0; i < words; i++)
		le_put64(rec + RECH_BITMAP + i * 8, w->bitmap[i]);
	n += (size_t)(frame - rec);
	ch->length = n;
	ch->checksum = checksum64(rec, n);
	return (int64_t)n;
}

/* Marks chunk c built and gives offsets to the chunks now built in a row from
 * next_place: records lie in chunk order, so the layout does not depend on
 * which thread finishes first. Called with the lock held. */
static void enc_placelocked(struct enc *e, uint32_t c)
{
	e->done[c] = 1;
	while (e->next_place < e->nchunks && e->done[e->next_place]) {
		struct mem_chunk *ch = &e->chunks[e->next_place++];

		ch->offset = e->offset;
		e->offset += ch->length;
		e->stored_bytes += ch->length;
	}
	pthread_cond_broadcast(&e->job.turn);
}

/* Writes w's records that have an offset and frees their slots. With wait,
 * first waits until at least one has (or a thread failed). */
static int enc_flush(struct enc *e, struct enc_worker *w, bool wait,
		     struct image_error *err)
{
	bool placed[ENC_SLOTS], any;
	int rc = 0;

	pthread_mutex_lock(&e->job.lock);
	for (;;) {
		any = false;
		for (int i = 0; i < ENC_SLOTS; i++) {
			placed[i] = w->slot[i].len && w->slot[i].chunk < e->next_place;
			any |= placed[i];
		}
		if (any || !wait || e->job.code)
			break;
		pthread_cond_wait(&e->job.turn, &e->job.lock);
	}
	rc = e->job.code;
	pthread_mutex_unlock(&e->job.lock);

	for (int i = 0; i < ENC_SLOTS && rc == 0; i++) {
		struct enc_slot *sl = &w->slot[i];

		if (!placed[i])
			continue;
		rc = pwrite_full(e->fd, sl->rec, sl->len, e->chunks[sl->chunk].offset);
		if (rc == FILE_IO_SHORT)
			rc = -EIO;
		if (rc == -ENOSPC || rc == -EDQUOT)
			return img_fail(err, IMG_ENOSPC, "memory at 0x%llx, chunk %u: %s",
					(unsigned long long)e->src->guest_addr, sl->chunk,
					strerror(-rc));
		if (rc)
			return img_fail(err, IMG_EIO, "memory at 0x%llx, chunk %u: write: %s",
					(unsigned long long)e->src->guest_addr, sl->chunk,
					strerror(-rc));
		sl->len = 0;
	}
	return rc;
}

static struct enc_slot *enc_freeslot(struct enc_worker *w)
{
	for (int i = 0; i < ENC_SLOTS; i++) {
		if (!w->slot[i].len)
			return &w->slot[i];
	}
	return NULL;
}

static bool enc_holding(const struct enc_worker *w)
{
	for (int i = 0; i < ENC_SLOTS; i++) {
		if (w->slot[i].len)
			return true;
	}
	return false;
}

static int enc_worker_init(struct enc *e, struct enc_worker *w,
			   struct image_error *err)
{
	size_t chunk_bytes = (size_t)e->chunk_pages * MEM_PAGE_SIZE;
	bool ok;

	memset(w, 0, sizeof(*w));
	w->rec_cap = rec_max(e->chunk_pages, e->chunk_pages);
	w->cctx = ZSTD_createCCtx();
	w->pagemap = malloc((e->chunk_pages + 2) * sizeof(uint64_t));
	w->bitmap = malloc(bitmap_words(e->chunk_pages) * 8);
	w->gather = malloc(chunk_bytes);
	ok = w->cctx && w->pagemap && w->bitmap && w->gather;
	for (int i = 0; i < ENC_SLOTS; i++) {
		w->slot[i].rec = malloc(w->rec_cap);
		ok = ok && w->slot[i].rec;
	}
	if (!ok)
		return img_fail(err, IMG_ENOMEM, "memory at 0x%llx: no memory for an encoder",
				(unsigned long long)e->src->guest_addr);
	/* The format requires the content size in every frame and leaves
	 * integrity to the record checksum, so zstd's own checksum is off. */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, e->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0)))
		return img_fail(err, IMG_ECOMPRESS, "memory at 0x%llx: zstd refused level %d",
				(unsigned long long)e->src->guest_addr, e->level);
	return 0;
}

static void enc_worker_free(struct enc_worker *w)
{
	ZSTD_freeCCtx(w->cctx);
	free(w->pagemap);
	free(w->bitmap);
	free(w->gather);
	for (int i = 0; i < ENC_SLOTS; i++)
		free(w->slot[i].rec);
}

static void *enc_thread(void *arg)
{
	struct enc *e = arg;
	struct enc_worker w;
	struct image_error err = { 0 };
	struct enc_slot *sl;
	uint32_t c;
	int rc = enc_worker_init(e, &w, &err);

	while (rc == 0) {
		int64_t len;

		sl = enc_freeslot(&w);
		if (!sl) {
			rc = enc_flush(e, &w, true, &err);
			continue;
		}
		if (!job_take(&e->job, e->nchunks, &c))
			break;
		if (e->cancel && *e->cancel) {
			rc = img_fail(&err, IMG_EINTR, "memory at 0x%llx: cancelled",
				      (unsigned long long)e->src->guest_addr);
			break;
		}
		len = enc_record(e, &w, c, sl->rec, &err);
		if (len < 0) {
			rc = (int)len;
			break;
		}
		sl->len = (size_t)len;
		sl->chunk = c;
		pthread_mutex_lock(&e->job.lock);
		enc_placelocked(e, c);
		pthread_mutex_unlock(&e->job.lock);
		rc = enc_flush(e, &w, false, &err);
	}
	while (rc == 0 && enc_holding(&w))
		rc = enc_flush(e, &w, true, &err);
	if (rc)
		job_failed(&e->job, rc, &err);

	pthread_mutex_lock(&e->job.lock);
	e->zero += w.zero;
	e->untouched += w.untouched;
	e->data += w.data;
	pthread_mutex_unlock(&e->job.lock);
	enc_worker_free(&w);
	return NULL;
}

static int enc_check(const struct image_mem_src *src, int level, uint32_t chunk_pages,
		     struct image_error *err)
{
	if (!src || (!src->host && src->size))
		return img_fail(err, IMG_EINVAL, "memory: no region");
	if (src->size == 0 || src->size % MEM_PAGE_SIZE)
		return img_fail(err, IMG_EINVAL,
				"memory at 0x%llx: size 0x%llx is not a positive multiple of %u",
				(unsigned long long)src->guest_addr,
				(unsigned long long)src->size, MEM_PAGE_SIZE);
	if (chunk_pages == 0 || chunk_pages > MEM_CHUNK_PAGES_MAX)
		return img_fail(err, IMG_EINVAL, "memory: chunk of %u pages", chunk_pages);
	if (src->size / MEM_PAGE_SIZE / chunk_pages >= UINT32_MAX)
		return img_fail(err, IMG_EINVAL, "memory at 0x%llx: region too large",
				(unsigned long long)src->guest_addr);
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return img_fail(err, IMG_EINVAL, "memory: zstd level %d out of range", level);
	return 0;
}

int mem_encodechunks(int fd, uint64_t *offset, const struct image_mem_src *src,
		     const struct image_write_opts *opts, uint32_t chunk_pages,
		     struct mem_index *idx, struct image_write_stats *stats,
		     struct image_error *err)
{
	int level = opts && opts->level ? opts->level : 1;
	uint64_t pages;
	struct enc e;
	int rc;

	memset(idx, 0, sizeof(*idx));
	rc = enc_check(src, level, chunk_pages, err);
	if (rc)
		return rc;
	pages = src->size / MEM_PAGE_SIZE;

	memset(&e, 0, sizeof(e));
	e.fd = fd;
	e.src = src;
	e.cancel = opts ? opts->cancel : NULL;
	e.level = level;
	e.chunk_pages = chunk_pages;
	e.nchunks = (uint32_t)((pages + chunk_pages - 1) / chunk_pages);
	e.offset = *offset;
	e.host_page = (size_t)sysconf(_SC_PAGESIZE);
	e.chunks = calloc(e.nchunks, sizeof(*e.chunks));
	e.done = calloc(e.nchunks, 1);
	if (!e.chunks || !e.done) {
		free(e.chunks);
		free(e.done);
		return img_fail(err, IMG_ENOMEM, "memory at 0x%llx: no memory for the index",
				(unsigned long long)src->guest_addr);
	}
	for (uint32_t c = 0; c < e.nchunks; c++)
		e.chunks[c].pages = c + 1 < e.nchunks ? chunk_pages :
				    (uint32_t)(pages - (uint64_t)c * chunk_pages);
	/* Without pagemap (no procfs) every page is read: slower, same image. */
	e.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	job_init(&e.job);

	pool_run(pool_threads(opts ? opts->threads : 0, e.nchunks), enc_thread, &e);

	rc = job_result(&e.job, err);
	job_destroy(&e.job);
	free(e.done);
	if (e.pagemap >= 0)
		close(e.pagemap);
	if (rc) {
		free(e.chunks);
		return rc;
	}
	idx->guest_addr = src->guest_addr;
	idx->size = src->size;
	idx->page_size = MEM_PAGE_SIZE;
	idx->chunk_pages = chunk_pages;
	idx->nchunks = e.nchunks;
	idx->chunks = e.chunks;
	*offset = e.offset;
	if (stats) {
		stats->mem_bytes += src->size;
		stats->mem_stored_bytes += e.stored_bytes;
		stats->zero_pages += e.zero;
		stats->untouched_pages += e.untouched;
		stats->data_pages += e.data;
	}
	return 0;
}

void mem_index_free(struct mem_index *idx)
{
	if (!idx)
		return;
	free(idx->chunks);
	memset(idx, 0, sizeof(*idx));
}

uint32_t mem_chunk_pages_for(uint64_t size)
{
	uint64_t pages = size / MEM_PAGE_SIZE + (size % MEM_PAGE_SIZE != 0);
	uint32_t cp = MEM_CHUNK_PAGES;

	while (cp < MEM_CHUNK_PAGES_MAX && (pages + cp - 1) / cp > IMAGE_MAX_CHUNKS)
		cp *= 2;
	return cp;
}
