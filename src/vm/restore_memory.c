/* restore_memory.c - guest memory of a restored VM: decoded before it runs
 * (eager) or served from the image as it touches it (lazy, mem_lazy.h), and
 * the prefetch order handed from one image to the next. */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "exitcodes.h"
#include "host.h"
#include "image.h"
#include "log.h"
#include "mem_lazy.h"
#include "vm_int.h"

/* Chunks first faulted within this long of the start go into the next
 * image's prefetch order: a resumed guest's working set, not what it does
 * much later (once resident nothing faults anyway). */
#define RECORD_S 10.0

static int image_failed(const char *path, int rc, const struct image_error *err)
{
	return fail(EXIT_IMAGE, "image '%s': %s", path,
		    err->msg[0] ? err->msg : image_strerror(rc));
}

int restore_memory_prepare(struct image *img, const struct run_options *o,
			   uint8_t *ram, uint64_t size, const char *path, double *secs)
{
	struct image_error err = { 0 };
	double t0 = now_seconds();
	int rc;

	if (o->memory_mode == MEMORY_EAGER)
		rc = image_load_memory(img, 0, ram, size, 0, &err);
	else
		rc = image_check_memory(img, 0, &err);
	*secs = now_seconds() - t0;
	return rc ? image_failed(path, rc, &err) : 0;
}

/* From the fill's thread, with the engine's lock held. A region that can
 * never be complete ends the process where it stands: its vCPUs and device
 * threads may be waiting for the very pages that failed, so nothing can be
 * stopped or joined, and none of them may see those pages. */
static void lazy_event(void *arg, const struct image_error *err,
		       const struct mem_lazy_stats *st)
{
	struct vm *vm = arg;

	if (err) {
		console_release_terminal(vm->console);
		fail_now(EXIT_IMAGE, "image '%s' changed or cannot be read while the guest "
			 "ran: %s; the VM is stopped before it could see that memory",
			 vm->opts->restore_from, err->msg);
	}
	log_info("memory resident %.2f s after the restore began: %u chunks, %u "
		 "decoded on demand (%llu faults, %.2f ms the longest), %u by "
		 "the fill (%u of them for a fault too)", now_seconds() - vm->t_start,
		 st->chunks, st->faulted, (unsigned long long)st->faults,
		 st->wait_max_s * 1e3, st->filled, st->raced);
}

/* The image's own order, kept for the next image when nothing records one. */
static int keep_order(struct vm *vm, struct image *img)
{
	const uint32_t *order;
	uint32_t n = image_prefetch_order(img, 0, &order);

	if (!n)
		return 0;
	vm->prefetch = malloc((size_t)n * sizeof(*order));
	if (!vm->prefetch)
		return fail(EXIT_FAILURE_RT, "out of memory");
	memcpy(vm->prefetch, order, (size_t)n * sizeof(*order));
	vm->nprefetch = n;
	vm->prefetch_pages = image_chunk_pages(img, 0);
	return 0;
}

int restore_memory_start(struct vm *vm, struct image *img, const char *path, double *secs)
{
	double t0 = now_seconds();
	struct mem_lazy_opts lo = { .record_s = RECORD_S, .event = lazy_event, .arg = vm };
	struct image_error err = { 0 };
	int rc;

	if (keep_order(vm, img))
		return -1;
	if (vm->opts->memory_mode == MEMORY_EAGER)
		return 0;
	lo.order = vm->prefetch;
	lo.norder = vm->nprefetch;
	rc = image_serve_memory(img, 0, vm->ram, vm->ram_size, &lo, &vm->lazy, &err);
	if (rc == -IMG_EUNSUPPORTED) {
		log_info("note: lazy restore is not possible here (%s): decoding all of "
			 "memory first", err.msg);
		memset(&err, 0, sizeof(err));
		rc = image_load_memory(img, 0, vm->ram, vm->ram_size, 0, &err);
		*secs += now_seconds() - t0;
	}
	return rc ? image_failed(path, rc, &err) : 0;
}

uint32_t vm_prefetch_order(struct vm *vm, uint32_t chunk_pages, uint32_t **out)
{
	uint64_t pages = vm->ram_size / MEM_PAGE_SIZE;
	uint32_t nchunks = (uint32_t)((pages + chunk_pages - 1) / chunk_pages), n = 0;
	uint64_t *seen;

	*out = NULL;
	if (!vm->lazy && !vm->nprefetch)
		return 0;
	*out = malloc((size_t)nchunks * sizeof(**out));
	seen = calloc((nchunks + 63) / 64, sizeof(*seen));
	if (*out && seen && vm->lazy)
		n = mem_lazy_order(vm->lazy, chunk_pages, *out, nchunks);
	else if (*out && seen)
		for (uint32_t i = 0; i < vm->nprefetch; i++)
			mem_order_map(vm->prefetch[i], vm->prefetch_pages, chunk_pages,
				      nchunks, seen, *out, &n, nchunks);
	free(seen);
	if (!n) {
		free(*out);
		*out = NULL;
	}
	return n;
}

int vm_memory_resident(struct vm *vm)
{
	struct image_error err = { 0 };

	return vm->lazy && mem_lazy_wait(vm->lazy, &err) ? -1 : 0;
}
