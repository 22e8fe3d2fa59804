/* image.h - the torpor image: one versioned, checksummed, compressed file per
 * VM (formats/torpor-image.md). Host-independent; linked by the monitor, the
 * CLI, the unit tests and the fuzzer.
 *
 * Functions return 0 or a negative IMG_E* code; image_strerror() names it and
 * struct image_error carries the detail ("memory region 0, chunk 17: checksum
 * mismatch"). */
#ifndef TORPOR_IMAGE_H
#define TORPOR_IMAGE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "vm_state.h"

enum image_err {
	IMG_OK = 0,
	IMG_EIO = 1,            /* read/write/fsync/rename failed (errno in detail) */
	IMG_ENOSPC = 2,         /* the filesystem is full */
	IMG_EINTR = 3,          /* cancelled by a signal; nothing written under the name */
	IMG_EMAGIC = 4,         /* not a torpor image, or for another architecture */
	IMG_EVERSION = 5,       /* needs a newer reader */
	IMG_ECORRUPT = 6,       /* a length, offset or value is out of range */
	IMG_ECHECKSUM = 7,      /* a checksum does not match */
	IMG_ETRUNCATED = 8,     /* the file ends early */
	IMG_EMISSING = 9,       /* a required section is absent */
	IMG_ENOMEM = 10,
	IMG_EINVAL = 11,        /* bad argument from the caller */
	IMG_ECOMPRESS = 12,     /* zstd failed */
	IMG_EUNSUPPORTED = 13,  /* this host cannot do it (userfaultfd for a lazy restore) */
};

struct image_error {
	int code;               /* enum image_err */
	char msg[256];          /* one line, no trailing newline */
};

/* Name of an IMG_E* code (positive or negative). Never NULL. */
const char *image_strerror(int code);

/* One guest RAM region to save: host mapping of guest_addr..guest_addr+size;
 * and the chunks a lazy restore of it should decode first, in order, if
 * known (chunk numbers at the chunk size the writer uses). */
struct image_mem_src {
	uint64_t guest_addr;
	const void *host;
	uint64_t size;
	const uint32_t *prefetch;       /* nprefetch chunk numbers, each below the
					 * region's chunk count, none twice */
	uint32_t nprefetch;             /* 0: no prefetch order */
};

struct image_write_stats {
	uint64_t file_bytes;            /* size of the finished image */
	uint64_t mem_bytes;             /* guest RAM covered */
	uint64_t mem_stored_bytes;      /* compressed bytes for memory chunks */
	uint64_t zero_pages;            /* populated but all-zero pages */
	uint64_t untouched_pages;       /* never populated, not read */
	uint64_t data_pages;            /* pages stored */
	int dir_sync_errno;             /* the directory's fsync after the rename
					 * failed with it (0: durable); the image
					 * is complete and in place either way */
};

/* The RAM s covers per byte of its image, the compression ratio; 0 for an
 * empty file. */
double image_write_ratio(const struct image_write_stats *s);

struct image_write_opts {
	unsigned threads;               /* 0: one per online CPU */
	int level;                      /* zstd level, 0: the default (1) */
	volatile sig_atomic_t *cancel;  /* nonzero: stop and clean up; may be NULL */
	uint32_t chunk_pages;           /* guest pages per memory chunk, 1 to
					 * MEM_CHUNK_PAGES_MAX; 0: MEM_CHUNK_PAGES */
};

/* Writes st and the guest memory in mem[0..nmem) to path atomically: a
 * temporary file in the same directory, fsync, rename, fsync of the directory.
 * On failure nothing exists under path that was not there before and an
 * existing file at path is untouched. Once renamed the image counts as
 * written, even if the directory's fsync then fails (stats->dir_sync_errno).
 * opts may be NULL; stats may be NULL. A chunk size out of range, or a
 * prefetch order that breaks its rules, is IMG_EINVAL before anything is
 * created. */
int image_write(const char *path, const struct vm_state *st,
		const struct image_mem_src *mem, unsigned nmem,
		const struct image_write_opts *opts,
		struct image_write_stats *stats, struct image_error *err);

struct image;   /* an open, validated image */

/* Opens path and validates the header, every section's bounds and checksum,
 * the memory index against the VM configuration, and (check_chunks != 0) the
 * checksum of every memory chunk. Nothing is used before it is validated. */
int image_open(struct image **out, const char *path, int check_chunks,
	       struct image_error *err);

/* Closes img; NULL is allowed. */
void image_close(struct image *img);

/* Decodes all non-memory state into st (caller frees with vm_state_free). */
int image_read_state(struct image *img, struct vm_state *st,
		     struct image_error *err);

/* Fills guest RAM region `region` (as in st->config.mem[region]) at host, a
 * zeroed mapping of exactly size bytes; untouched/zero pages are not written.
 * Decodes in parallel with `threads` threads (0: one per online CPU). */
int image_load_memory(struct image *img, unsigned region, void *host,
		      uint64_t size, unsigned threads, struct image_error *err);

struct mem_lazy;
struct mem_lazy_opts;

/* Reads and checks every record of memory region `region` (checksum, header,
 * bitmap, frame), on a thread per CPU; image_serve_memory needs it done. */
int image_check_memory(struct image *img, unsigned region, struct image_error *err);

/* Lazy image_load_memory (include/mem_lazy.h): serves host (an untouched
 * mapping of exactly size bytes) on demand from region `region`, which
 * image_check_memory passed, so no chunk reaches the guest unchecked.
 * -IMG_EUNSUPPORTED, with nothing done, where this host cannot; img may be
 * closed once this returns. */
int image_serve_memory(struct image *img, unsigned region, void *host, uint64_t size,
		       const struct mem_lazy_opts *o, struct mem_lazy **out,
		       struct image_error *err);

/* Pages per chunk of memory region `region`; 0 for a region the image does
 * not have. */
uint32_t image_chunk_pages(const struct image *img, unsigned region);

/* Pages memory region `region` of img stores (restore populates them); 0
 * for a region the image does not have. */
uint64_t image_data_pages(const struct image *img, unsigned region);

/* The prefetch order of memory region `region`: the chunks (numbered at the
 * image's chunk size) a lazy restore decodes first, in order. Returns their
 * count and points *order at the image's copy, valid until image_close;
 * 0 and NULL when the image has none for it. A hint, which may be ignored. */
uint32_t image_prefetch_order(const struct image *img, unsigned region,
			      const uint32_t **order);

/* Human summary (inspect) or JSON (inspect --json) of img to f. */
int image_print(struct image *img, FILE *f, int json, struct image_error *err);

#endif
