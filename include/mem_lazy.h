/* mem_lazy.h - lazy restore: a guest RAM region served from the image on
 * first touch, while workers fill the rest (formats/torpor-image-memory.md).
 *
 * The region's mapping is registered with userfaultfd (missing pages). A
 * fault thread answers each fault: the chunk holding the page is decoded and
 * its stored pages installed (UFFDIO_COPY), once however many threads fault
 * in it; a page no record stores gets the zero page (UFFDIO_ZEROPAGE). Fill
 * workers decode the other chunks, those of a prefetch order first. When every
 * stored page is in place the mapping is unregistered and the image's file
 * closed: from then on it is ordinary anonymous memory. Linux-only, host-
 * independent; faults raised inside KVM_RUN or by device threads are served
 * alike, since the registration covers kernel accesses too. */
#ifndef TORPOR_MEM_LAZY_H
#define TORPOR_MEM_LAZY_H

#include <stdint.h>

#include "image_mem.h"

struct mem_lazy;

struct mem_lazy_stats {
	uint32_t chunks;        /* chunks with a record */
	uint32_t faulted;       /* of them, decoded because the guest touched them */
	uint32_t filled;        /* decoded by the fill */
	uint32_t raced;         /* decoded for a fault as well, while the fill was at them */
	uint64_t faults;        /* fault messages answered */
	uint64_t zero_faults;   /* of them, on pages no record stores */
	double wait_total_s;    /* sum, over faults, of reading one to waking it */
	double wait_max_s;
	double resident_s;      /* start to every stored page in place; 0 before */
	int done;               /* 1 resident, -1 failed, 0 still filling */
};

struct mem_lazy_opts {
	unsigned threads;       /* fill workers; 0: one per online CPU */
	const uint32_t *order;  /* chunks to fill first, in this order; may be NULL */
	uint32_t norder;        /* entries that are not stored chunks are ignored */
	double record_s;        /* chunks first faulted within this many seconds of
				 * the start are recorded (mem_lazy_order) */
	/* Called once, with l's lock held (it must not call back into l),
	 * from a worker thread (or mem_lazy_start's caller, for a region with
	 * nothing stored): when the region is resident (err NULL), or when it
	 * can never be (a read error, a chunk that no longer matches its
	 * checksum; err says which), before mem_lazy_wait returns; st: the
	 * figures at that moment. May be NULL. */
	void (*event)(void *arg, const struct image_error *err,
		      const struct mem_lazy_stats *st);
	void *arg;
};


/* Starts serving idx's region at host (a fresh anonymous mapping of
 * idx->size bytes, untouched) from fd, which is dup'ed: the caller may close
 * it, and the file may be unlinked or replaced meanwhile. The caller has
 * checked every record (mem_verify). -IMG_EUNSUPPORTED, with the reason in
 * err, where userfaultfd cannot be had (not permitted, not built); nothing is
 * registered then. */
int mem_lazy_start(struct mem_lazy **out, int fd, const struct mem_index *idx,
		   void *host, const struct mem_lazy_opts *o, struct image_error *err);

/* Blocks until the region is resident (0) or failed (the failure, err
 * filled); a caller about to read all of guest memory calls it first. */
int mem_lazy_wait(struct mem_lazy *l, struct image_error *err);

/* A snapshot of l's figures. */
void mem_lazy_get_stats(struct mem_lazy *l, struct mem_lazy_stats *s);

/* The prefetch order for the next image: the order l was given, then the
 * chunks first faulted in the recording window, in chunks of chunk_pages
 * pages (an image written with another chunk size maps each entry to the
 * chunks covering the same bytes), each once, at most max. Returns the count. */
uint32_t mem_lazy_order(struct mem_lazy *l, uint32_t chunk_pages, uint32_t *out,
			uint32_t max);

/* Stops the threads and releases everything; pages never installed read as
 * zero afterwards, so only call it once nothing touches the region (vCPUs
 * and device threads stopped), or after mem_lazy_wait returned 0. NULL is
 * allowed. */
void mem_lazy_free(struct mem_lazy *l);

/* The chunk of idx that holds byte offset off of the region; UINT32_MAX past
 * its end. */
uint32_t mem_chunk_of(const struct mem_index *idx, uint64_t off);

/* Appends to out[*n..max) the chunks of to_pages pages that cover chunk c of
 * from_pages pages, skipping those already flagged in seen (a bitmap of
 * nchunks_to bits, updated) and those at or past nchunks_to. */
void mem_order_map(uint32_t c, uint32_t from_pages, uint32_t to_pages,
		   uint32_t nchunks_to, uint64_t *seen, uint32_t *out, uint32_t *n,
		   uint32_t max);

#endif
