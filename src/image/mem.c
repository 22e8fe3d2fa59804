/* mem.c - the guest memory engine of the image: chunk records
 * (formats/torpor-image-memory.md), encoded and decoded by a small pool of
 * threads, each with its own zstd context and buffers of about one chunk. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "checksum.h"
#include "image_mem.h"
#include "le.h"

/* Record header: magic, chunk number, pages, stored pages (all u32). */
#define REC_MAGIC       0x434d5054u     /* "TPMC" */
#define REC_HEADER      16u
#define THREADS_MAX     64u
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)

_Static_assert(MEM_PAGE_SIZE % sizeof(uint64_t) == 0, "zero scan works in words");
_Static_assert((uint64_t)MEM_CHUNK_PAGES_MAX * MEM_PAGE_SIZE <= UINT32_MAX,
	       "a chunk's bytes fit size_t on 32-bit readers");

static int mem_fail(struct image_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int mem_fail(struct image_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

static uint32_t bitmap_words(uint32_t pages)
{
	return (pages + 63) / 64;
}

static size_t rec_max(uint32_t chunk_pages)
{
	return REC_HEADER + bitmap_words(chunk_pages) * 8 +
	       ZSTD_compressBound((size_t)chunk_pages * MEM_PAGE_SIZE);
}

static unsigned threads_pick(unsigned want, uint32_t nchunks)
{
	long n = want ? (long)want : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > THREADS_MAX)
		n = THREADS_MAX;
	if ((uint32_t)n > nchunks)
		n = nchunks ? nchunks : 1;
	return (unsigned)n;
}

/* Runs fn(arg) on `threads` threads, the caller being one of them; fewer if
 * the system refuses threads, which only costs speed. */
static void pool_run(unsigned threads, void *(*fn)(void *), void *arg)
{
	pthread_t tid[THREADS_MAX];
	unsigned started = 0;

	while (started + 1 < threads &&
	       pthread_create(&tid[started], NULL, fn, arg) == 0)
		started++;
	fn(arg);
	while (started)
		pthread_join(tid[--started], NULL);
}

/* State shared by the threads of one encode or decode. The first failure wins
 * and stops the others at their next chunk. */
struct job {
	pthread_mutex_t lock;
	pthread_cond_t turn;
	uint32_t next;          /* next chunk to take */
	int code;               /* first failure, negative, or 0 */
	struct image_error err;
};

static void job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->turn, NULL);
}

static void job_destroy(struct job *j)
{
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->turn);
}

/* Takes the next chunk number, or returns false when all are taken or a
 * thread failed. */
static bool job_take(struct job *j, uint32_t nchunks, uint32_t *chunk)
{
	bool ok;

	pthread_mutex_lock(&j->lock);
	ok = j->code == 0 && j->next < nchunks;
	if (ok)
		*chunk = j->next++;
	pthread_mutex_unlock(&j->lock);
	return ok;
}

/* Records the failure `code` with message e, unless one is recorded already. */
static void job_failed(struct job *j, int code, const struct image_error *e)
{
	pthread_mutex_lock(&j->lock);
	if (j->code == 0) {
		j->code = code;
		j->err = *e;
	}
	pthread_cond_broadcast(&j->turn);
	pthread_mutex_unlock(&j->lock);
}

static int job_result(struct job *j, struct image_error *err)
{
	if (j->code && err)
		*err = j->err;
	return j->code;
}

/* ---- pages ------------------------------------------------------------- */

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

static unsigned popcount_words(const uint64_t *bm, uint32_t words)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < words; i++)
		n += (unsigned)__builtin_popcountll(bm[i]);
	return n;
}

/* If the set bits of bm (pages bits) form one run, stores its first page and
 * returns true: such a chunk moves between guest memory and zstd directly. */
static bool bitmap_run(const uint64_t *bm, uint32_t pages, uint32_t stored,
		       uint32_t *first)
{
	uint32_t p = 0;

	while (p < pages && !(bm[p / 64] >> (p % 64) & 1))
		p++;
	*first = p;
	for (uint32_t k = 0; k < stored; k++, p++) {
		if (p >= pages || !(bm[p / 64] >> (p % 64) & 1))
			return false;
	}
	return true;
}

/* ---- encode ------------------------------------------------------------ */

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
			if (w->bitmap[i / 64] >> (i % 64) & 1) {
				memcpy(to, base + (size_t)i * MEM_PAGE_SIZE, MEM_PAGE_SIZE);
				to += MEM_PAGE_SIZE;
			}
		}
		in = w->gather;
	}
	n = ZSTD_compress2(w->cctx, frame, w->rec_cap - (size_t)(frame - rec), in,
			   (size_t)stored * MEM_PAGE_SIZE);
	if (ZSTD_isError(n))
		return mem_fail(err, IMG_ECOMPRESS, "memory at 0x%llx, chunk %u: zstd: %s",
				(unsigned long long)e->src->guest_addr, c,
				ZSTD_getErrorName(n));

	le_put32(rec, REC_MAGIC);
	le_put32(rec + 4, c);
	le_put32(rec + 8, ch->pages);
	le_put32(rec + 12, stored);
	for (uint32_t i = 0; i < words; i++)
		le_put64(rec + REC_HEADER + i * 8, w->bitmap[i]);
	n += (size_t)(frame - rec);
	ch->length = n;
	ch->checksum = checksum64(rec, n);
	return (int64_t)n;
}

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
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
		rc = write_all(e->fd, sl->rec, sl->len, e->chunks[sl->chunk].offset);
		if (rc == ENOSPC || rc == EDQUOT)
			return mem_fail(err, IMG_ENOSPC, "memory at 0x%llx, chunk %u: %s",
					(unsigned long long)e->src->guest_addr, sl->chunk,
					strerror(rc));
		if (rc)
			return mem_fail(err, IMG_EIO, "memory at 0x%llx, chunk %u: write: %s",
					(unsigned long long)e->src->guest_addr, sl->chunk,
					strerror(rc));
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
	w->rec_cap = rec_max(e->chunk_pages);
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
		return mem_fail(err, IMG_ENOMEM, "memory at 0x%llx: no memory for an encoder",
				(unsigned long long)e->src->guest_addr);
	/* The format requires the content size in every frame and leaves
	 * integrity to the record checksum, so zstd's own checksum is off. */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, e->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0)))
		return mem_fail(err, IMG_ECOMPRESS, "memory at 0x%llx: zstd refused level %d",
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
			rc = mem_fail(&err, IMG_EINTR, "memory at 0x%llx: cancelled",
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
		return mem_fail(err, IMG_EINVAL, "memory: no region");
	if (src->size == 0 || src->size % MEM_PAGE_SIZE)
		return mem_fail(err, IMG_EINVAL,
				"memory at 0x%llx: size 0x%llx is not a positive multiple of %u",
				(unsigned long long)src->guest_addr,
				(unsigned long long)src->size, MEM_PAGE_SIZE);
	if (chunk_pages == 0 || chunk_pages > MEM_CHUNK_PAGES_MAX)
		return mem_fail(err, IMG_EINVAL, "memory: chunk of %u pages", chunk_pages);
	if (src->size / MEM_PAGE_SIZE / chunk_pages >= UINT32_MAX)
		return mem_fail(err, IMG_EINVAL, "memory at 0x%llx: region too large",
				(unsigned long long)src->guest_addr);
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return mem_fail(err, IMG_EINVAL, "memory: zstd level %d out of range", level);
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
		return mem_fail(err, IMG_ENOMEM, "memory at 0x%llx: no memory for the index",
				(unsigned long long)src->guest_addr);
	}
	for (uint32_t c = 0; c < e.nchunks; c++)
		e.chunks[c].pages = c + 1 < e.nchunks ? chunk_pages :
				    (uint32_t)(pages - (uint64_t)c * chunk_pages);
	/* Without pagemap (no procfs) every page is read: slower, same image. */
	e.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	job_init(&e.job);

	pool_run(threads_pick(opts ? opts->threads : 0, e.nchunks), enc_thread, &e);

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

int mem_encode(int fd, uint64_t *offset, const struct image_mem_src *src,
	       const struct image_write_opts *opts, struct mem_index *idx,
	       struct image_write_stats *stats, struct image_error *err)
{
	return mem_encodechunks(fd, offset, src, opts, MEM_CHUNK_PAGES, idx, stats, err);
}

void mem_index_free(struct mem_index *idx)
{
	if (!idx)
		return;
	free(idx->chunks);
	memset(idx, 0, sizeof(*idx));
}

/* ---- verify and decode ------------------------------------------------- */

/* Checks the index alone: geometry, each chunk's page count and record size,
 * and that records lie in order without overlap inside file_size. */
static int idx_check(const struct mem_index *idx, uint64_t file_size,
		     struct image_error *err, unsigned region)
{
	uint64_t pages, end = 0;
	size_t max;

	if (idx->page_size != MEM_PAGE_SIZE || idx->chunk_pages == 0 ||
	    idx->chunk_pages > MEM_CHUNK_PAGES_MAX || idx->size == 0 ||
	    idx->size % MEM_PAGE_SIZE)
		return mem_fail(err, IMG_ECORRUPT,
				"memory region %u: page size %u, chunk of %u pages, size 0x%llx",
				region, idx->page_size, idx->chunk_pages,
				(unsigned long long)idx->size);
	pages = idx->size / MEM_PAGE_SIZE;
	if (idx->nchunks != (pages + idx->chunk_pages - 1) / idx->chunk_pages ||
	    !idx->chunks)
		return mem_fail(err, IMG_ECORRUPT, "memory region %u: %u chunks for %llu pages",
				region, idx->nchunks, (unsigned long long)pages);
	max = rec_max(idx->chunk_pages);
	for (uint32_t c = 0; c < idx->nchunks; c++) {
		const struct mem_chunk *ch = &idx->chunks[c];
		uint64_t want = c + 1 < idx->nchunks ? idx->chunk_pages :
				pages - (uint64_t)c * idx->chunk_pages;

		if (ch->pages != want || ch->stored_pages > ch->pages)
			return mem_fail(err, IMG_ECORRUPT,
					"memory region %u, chunk %u: %u pages (%u stored), expected %llu",
					region, c, ch->pages, ch->stored_pages,
					(unsigned long long)want);
		if (!ch->stored_pages != !ch->length || ch->length > max ||
		    (ch->length && ch->length <= REC_HEADER + bitmap_words(ch->pages) * 8))
			return mem_fail(err, IMG_ECORRUPT,
					"memory region %u, chunk %u: record of %llu bytes for %u pages",
					region, c, (unsigned long long)ch->length,
					ch->stored_pages);
		if (!ch->length)
			continue;
		if (ch->offset < end || ch->offset > file_size ||
		    ch->length > file_size - ch->offset)
			return mem_fail(err, ch->offset < end ? IMG_ECORRUPT : IMG_ETRUNCATED,
					"memory region %u, chunk %u: record at %llu+%llu %s",
					region, c, (unsigned long long)ch->offset,
					(unsigned long long)ch->length,
					ch->offset < end ? "overlaps the previous one" :
							   "lies past the end of the file");
		end = ch->offset + ch->length;
	}
	return 0;
}

/* Validates record rec of chunk c (ch->length bytes) before any of it is used:
 * checksum, header against the index, bitmap, the frame's extent and content
 * size. Fills bm (host words) and *frame, *frame_len. */
static int rec_check(const uint8_t *rec, const struct mem_chunk *ch, uint32_t c,
		     uint64_t *bm, const uint8_t **frame, size_t *frame_len,
		     struct image_error *err, unsigned region)
{
	uint32_t words = bitmap_words(ch->pages), tail = ch->pages % 64;
	unsigned long long content;
	size_t n;

	if (checksum64(rec, ch->length) != ch->checksum)
		return mem_fail(err, IMG_ECHECKSUM, "memory region %u, chunk %u: checksum mismatch",
				region, c);
	if (le_get32(rec) != REC_MAGIC || le_get32(rec + 4) != c ||
	    le_get32(rec + 8) != ch->pages || le_get32(rec + 12) != ch->stored_pages)
		return mem_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: record header does not match the index",
				region, c);
	for (uint32_t i = 0; i < words; i++)
		bm[i] = le_get64(rec + REC_HEADER + i * 8);
	if (tail && bm[words - 1] >> tail)
		return mem_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: bitmap marks pages past the chunk's %u",
				region, c, ch->pages);
	if (popcount_words(bm, words) != ch->stored_pages)
		return mem_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: bitmap holds %u pages, index %u",
				region, c, popcount_words(bm, words), ch->stored_pages);
	*frame = rec + REC_HEADER + words * 8;
	*frame_len = ch->length - REC_HEADER - words * 8;
	n = ZSTD_findFrameCompressedSize(*frame, *frame_len);
	content = ZSTD_getFrameContentSize(*frame, *frame_len);
	if (ZSTD_isError(n) || n != *frame_len || ZSTD_getDictID_fromFrame(*frame, n))
		return mem_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: not one zstd frame of %zu bytes",
				region, c, *frame_len);
	if (content != (unsigned long long)ch->stored_pages * MEM_PAGE_SIZE)
		return mem_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: frame holds %lld bytes, bitmap %u pages",
				region, c, (long long)content, ch->stored_pages);
	return 0;
}

/* Reads record c into buf. */
static int rec_read(int fd, const struct mem_chunk *ch, uint32_t c, uint8_t *buf,
		    struct image_error *err, unsigned region)
{
	size_t done = 0;

	while (done < ch->length) {
		ssize_t n = pread(fd, buf + done, ch->length - done,
				  (off_t)(ch->offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mem_fail(err, IMG_EIO, "memory region %u, chunk %u: read: %s",
					region, c, strerror(errno));
		if (n == 0)
			return mem_fail(err, IMG_ETRUNCATED,
					"memory region %u, chunk %u: file ends inside the record",
					region, c);
		done += (size_t)n;
	}
	return 0;
}

int mem_verify(int fd, uint64_t file_size, const struct mem_index *idx,
	       struct image_error *err, unsigned region)
{
	uint64_t bm[MEM_CHUNK_PAGES_MAX / 64];
	const uint8_t *frame;
	size_t frame_len;
	uint8_t *buf;
	int rc = idx_check(idx, file_size, err, region);

	if (rc)
		return rc;
	buf = malloc(rec_max(idx->chunk_pages));
	if (!buf)
		return mem_fail(err, IMG_ENOMEM, "memory region %u: no memory to verify", region);
	for (uint32_t c = 0; c < idx->nchunks && rc == 0; c++) {
		if (idx->chunks[c].length == 0)
			continue;
		rc = rec_read(fd, &idx->chunks[c], c, buf, err, region);
		if (rc == 0)
			rc = rec_check(buf, &idx->chunks[c], c, bm, &frame, &frame_len,
				       err, region);
	}
	free(buf);
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
static void populate(uint8_t *base, const uint64_t *bm, uint32_t pages)
{
	uint32_t p = 0, start;

	while (p < pages) {
		while (p < pages && !(bm[p / 64] >> (p % 64) & 1))
			p++;
		start = p;
		while (p < pages && bm[p / 64] >> (p % 64) & 1)
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

	rc = rec_read(d->fd, ch, c, rec, err, d->region);
	if (rc == 0)
		rc = rec_check(rec, ch, c, bm, &frame, &frame_len, err, d->region);
	if (rc)
		return rc;
	populate(base, bm, ch->pages);
	if (bitmap_run(bm, ch->pages, ch->stored_pages, &first)) {
		n = ZSTD_decompressDCtx(dctx, base + (size_t)first * MEM_PAGE_SIZE, bytes,
					frame, frame_len);
	} else {
		n = ZSTD_decompressDCtx(dctx, scratch, bytes, frame, frame_len);
		from = scratch;
		for (uint32_t i = 0; !ZSTD_isError(n) && n == bytes && i < ch->pages; i++) {
			if (bm[i / 64] >> (i % 64) & 1) {
				memcpy(base + (size_t)i * MEM_PAGE_SIZE, from, MEM_PAGE_SIZE);
				from += MEM_PAGE_SIZE;
			}
		}
	}
	if (ZSTD_isError(n))
		return mem_fail(err, IMG_ECORRUPT, "memory region %u, chunk %u: zstd: %s",
				d->region, c, ZSTD_getErrorName(n));
	if (n != bytes)
		return mem_fail(err, IMG_ECORRUPT,
				"memory region %u, chunk %u: frame decoded to %zu bytes, not %zu",
				d->region, c, n, bytes);
	return 0;
}

static void *dec_thread(void *arg)
{
	struct dec *d = arg;
	struct image_error err = { 0 };
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	uint8_t *rec = malloc(rec_max(d->idx->chunk_pages));
	uint8_t *scratch = malloc((size_t)d->idx->chunk_pages * MEM_PAGE_SIZE);
	uint32_t c;
	int rc = 0;

	if (!dctx || !rec || !scratch)
		rc = mem_fail(&err, IMG_ENOMEM, "memory region %u: no memory for a decoder",
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
		return mem_fail(err, IMG_EINVAL, "memory region %u: nothing to decode into",
				region);
	if (fstat(fd, &sb) < 0)
		return mem_fail(err, IMG_EIO, "memory region %u: stat: %s", region,
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
	pool_run(threads_pick(threads, idx->nchunks), dec_thread, &d);
	rc = job_result(&d.job, err);
	job_destroy(&d.job);
	return rc;
}
