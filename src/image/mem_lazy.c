/* mem_lazy.c - a guest RAM region served from the image on first touch
 * (include/mem_lazy.h): userfaultfd, a fault thread, fill workers. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mem_int.h"
#include "mem_lazy.h"

/* /dev/userfaultfd (Linux 6.1): the way in for a user who may not call
 * userfaultfd(2) for kernel faults (vm.unprivileged_userfaultfd = 0). */
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

#define FAULT_BATCH 16
#define FILL_NICE 10

enum chunk_state { CH_ABSENT, CH_BUSY, CH_DONE };

/* Per thread: a decoder and a chunk's worth of pages, laid out as in RAM. */
struct lazy_buf {
	ZSTD_DCtx *dctx;
	uint8_t *rec;
	uint8_t *scratch;
	uint8_t *pages;
};

struct mem_lazy {
	int uffd, fd, stop_fd;
	struct mem_index idx;           /* a copy: the caller's may go */
	uint8_t *host;
	size_t host_page;
	size_t chunk_bytes;
	struct mem_lazy_opts o;
	double t0;

	pthread_mutex_t lock;
	pthread_cond_t moved;           /* a chunk became DONE, or failed/stop */
	uint8_t *state;                 /* enum chunk_state per chunk */
	uint32_t *fill;                 /* stored chunks, prefetch order first */
	uint32_t nfill, fill_next;
	uint32_t remaining;             /* stored chunks not DONE */
	int failed, stop, complete;
	int registered;                 /* complete, and still registered */
	struct image_error err;
	uint64_t *seen;                 /* chunks recorded */
	uint32_t *recorded, nrecorded;
	uint32_t *given, ngiven;        /* the order we were handed */
	struct mem_lazy_stats st;

	pthread_t fault_thread;
	pthread_t workers[POOL_THREADS_MAX];
	unsigned nworkers;
	int fault_started;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

uint32_t mem_chunk_of(const struct mem_index *idx, uint64_t off)
{
	uint64_t c = off / MEM_PAGE_SIZE / idx->chunk_pages;

	return off < idx->size && c < idx->nchunks ? (uint32_t)c : UINT32_MAX;
}

void mem_order_map(uint32_t c, uint32_t from_pages, uint32_t to_pages,
		   uint32_t nchunks_to, uint64_t *seen, uint32_t *out, uint32_t *n,
		   uint32_t max)
{
	uint64_t first = (uint64_t)c * from_pages / to_pages;
	uint64_t last = ((uint64_t)c + 1) * from_pages - 1;

	last /= to_pages;
	for (uint64_t k = first; k <= last && k < nchunks_to && *n < max; k++) {
		if (bitmap_has(seen, (uint32_t)k))
			continue;
		bitmap_set(seen, (uint32_t)k);
		out[(*n)++] = (uint32_t)k;
	}
}

/* A userfaultfd for this process, kernel faults included: the system call,
 * else /dev/userfaultfd. -errno of the call that said no. */
static int uffd_open(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), dev, e;

	if (fd >= 0)
		return fd;
	e = errno;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -e;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	e = errno;
	close(dev);
	return fd >= 0 ? fd : -e;
}

static int uffd_setup(struct mem_lazy *l, struct image_error *err)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (uintptr_t)l->host, l->idx.size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	uint64_t need = 1ull << _UFFDIO_COPY | 1ull << _UFFDIO_ZEROPAGE | 1ull << _UFFDIO_WAKE;
	int fd = uffd_open();

	if (fd < 0)
		return img_fail(err, IMG_EUNSUPPORTED, "userfaultfd: %s%s", strerror(-fd),
				fd == -EPERM ? " (vm.unprivileged_userfaultfd is 0 and "
				"/dev/userfaultfd is not open to this user)" : "");
	l->uffd = fd;
	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return img_fail(err, IMG_EUNSUPPORTED, "UFFDIO_API: %s", strerror(errno));
	if (ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		return img_fail(err, IMG_EUNSUPPORTED, "UFFDIO_REGISTER: %s", strerror(errno));
	if ((reg.ioctls & need) != need)
		return img_fail(err, IMG_EUNSUPPORTED,
				"userfaultfd cannot copy or zero pages of this mapping");
	return 0;
}

/* Maps the zero page at the host page holding addr; already there (a stale
 * fault, or a page installed meanwhile): wakes whoever waits on it. */
static int zero_page(struct mem_lazy *l, uintptr_t addr)
{
	uintptr_t start = addr & ~(uintptr_t)(l->host_page - 1);
	struct uffdio_zeropage z = { .range = { start, l->host_page } };
	struct uffdio_range r = { start, l->host_page };

	if (ioctl(l->uffd, UFFDIO_ZEROPAGE, &z) == 0)
		return 0;
	if (errno == EEXIST || errno == EAGAIN)
		return ioctl(l->uffd, UFFDIO_WAKE, &r) < 0 ? -errno : 0;
	return -errno;
}

/* Installs len bytes of src at region offset off, waking the faults there. */
static int copy_in(struct mem_lazy *l, size_t off, const uint8_t *src, size_t len)
{
	while (len) {
		struct uffdio_copy cp = { .dst = (uintptr_t)l->host + off,
					  .src = (uintptr_t)src, .len = len };
		size_t done;

		if (ioctl(l->uffd, UFFDIO_COPY, &cp) == 0)
			return 0;
		if (errno != EAGAIN && errno != EEXIST)
			return -errno;
		/* EAGAIN: the mapping changed under the copy, which stopped
		 * after cp.copy bytes; EEXIST: a page is already there. */
		done = cp.copy > 0 ? (size_t)cp.copy : 0;
		if (errno == EEXIST && done == 0)
			done = l->host_page;
		done = done > len ? len : done;
		off += done;
		src += done;
		len -= done;
	}
	return 0;
}

/* Decodes chunk c into b->pages and installs the host pages holding stored
 * pages (a host page larger than a guest page gets its unstored parts zeroed
 * first). The record is checked again: the file may have changed since. */
static int install(struct mem_lazy *l, struct lazy_buf *b, uint32_t c,
		   struct image_error *err)
{
	const struct mem_chunk *ch = &l->idx.chunks[c];
	size_t bytes = (size_t)ch->stored_pages * MEM_PAGE_SIZE, frame_len, n;
	uint32_t per = (uint32_t)(l->host_page / MEM_PAGE_SIZE), first, i, k;
	uint64_t bm[MEM_CHUNK_PAGES_MAX / 64];
	const uint8_t *frame, *from;
	int rc;

	rc = mem_rec_read(l->fd, ch, c, b->rec, err, 0);
	if (rc == 0)
		rc = mem_rec_check(b->rec, ch, c, bm, &frame, &frame_len, err, 0);
	if (rc)
		return rc;
	if (bitmap_run(bm, ch->pages, ch->stored_pages, &first)) {
		n = ZSTD_decompressDCtx(b->dctx, b->pages + (size_t)first * MEM_PAGE_SIZE,
					bytes, frame, frame_len);
	} else {
		n = ZSTD_decompressDCtx(b->dctx, b->scratch, bytes, frame, frame_len);
		from = b->scratch;
		for (i = 0; !ZSTD_isError(n) && n == bytes && i < ch->pages; i++) {
			if (bitmap_has(bm, i)) {
				memcpy(b->pages + (size_t)i * MEM_PAGE_SIZE, from, MEM_PAGE_SIZE);
				from += MEM_PAGE_SIZE;
			}
		}
	}
	if (ZSTD_isError(n) || n != bytes)
		return img_fail(err, IMG_ECORRUPT, "memory region 0, chunk %u: frame does not "
				"decode to its %u pages", c, ch->stored_pages);
	/* Runs of host pages that hold a stored page, one copy each. */
	for (i = 0; i < ch->pages; ) {
		uint32_t start = i;

		for (; i < ch->pages; i += per) {
			int any = 0;

			for (k = i; k < i + per && k < ch->pages; k++)
				any |= bitmap_has(bm, k);
			if (!any)
				break;
			for (k = i; k < i + per && k < ch->pages; k++)
				if (!bitmap_has(bm, k))
					memset(b->pages + (size_t)k * MEM_PAGE_SIZE, 0, MEM_PAGE_SIZE);
		}
		if (i > start) {
			rc = copy_in(l, (size_t)c * l->chunk_bytes + (size_t)start * MEM_PAGE_SIZE,
				     b->pages + (size_t)start * MEM_PAGE_SIZE,
				     (size_t)(i - start) * MEM_PAGE_SIZE);
			if (rc)
				return img_fail(err, IMG_EIO, "memory region 0, chunk %u: "
						"UFFDIO_COPY: %s", c, strerror(-rc));
		} else {
			i += per;
		}
	}
	return 0;
}

/* The last stored chunk is in: the mapping becomes ordinary memory (the
 * unregistration wakes every fault still waiting); the fault thread lets the
 * file go as it leaves, since it may still be decoding a chunk it raced for. */
static void complete_locked(struct mem_lazy *l)
{
	struct uffdio_range r = { (uintptr_t)l->host, l->idx.size };

	/* Should it fail, the range stays registered: the fault thread then
	 * stays to answer the pages no record stores. The unregistration's own
	 * wake-up comes before it waits out faults holding only the VMA's lock
	 * (Linux >= 6.5 handles userfaults under it), so a fault that queued
	 * itself in that window would sleep on: wake the range once more. */
	l->registered = ioctl(l->uffd, UFFDIO_UNREGISTER, &r) < 0;
	if (!l->registered)
		(void)ioctl(l->uffd, UFFDIO_WAKE, &r);
	l->complete = 1;
	l->st.done = 1;
	l->st.resident_s = now_s() - l->t0;
	pthread_cond_broadcast(&l->moved);
	if (l->o.event)
		l->o.event(l->o.arg, NULL, &l->st);
}

/* Records the region's failure (the first one counts), reports it and ends
 * the fault thread. */
static void fail_region(struct mem_lazy *l, int rc, const struct image_error *e)
{
	pthread_mutex_lock(&l->lock);
	if (!l->failed && !l->complete) {
		l->failed = rc;
		l->err = *e;
		l->st.done = -1;
		pthread_cond_broadcast(&l->moved);
		if (l->o.event)
			l->o.event(l->o.arg, e, &l->st);
	}
	pthread_mutex_unlock(&l->lock);
	eventfd_write(l->stop_fd, 1);
}

/* Decodes chunk c (marked BUSY by the caller) and marks it DONE; the last
 * one ends the region. */
static void serve_chunk(struct mem_lazy *l, struct lazy_buf *b, uint32_t c, int fault)
{
	struct image_error e = { 0 };
	int rc = install(l, b, c, &e), last = 0;

	if (rc) {
		fail_region(l, rc, &e);
		return;
	}
	pthread_mutex_lock(&l->lock);
	l->state[c] = CH_DONE;
	if (fault)
		l->st.faulted++;
	else
		l->st.filled++;
	if (--l->remaining == 0) {
		complete_locked(l);
		last = 1;
	}
	pthread_cond_broadcast(&l->moved);
	pthread_mutex_unlock(&l->lock);
	if (last)
		eventfd_write(l->stop_fd, 1);
}

static int buf_init(struct lazy_buf *b, const struct mem_lazy *l)
{
	b->dctx = ZSTD_createDCtx();
	b->rec = malloc(rec_max(l->idx.chunk_pages, l->idx.chunk_pages));
	b->scratch = malloc(l->chunk_bytes);
	b->pages = malloc(l->chunk_bytes);
	return b->dctx && b->rec && b->scratch && b->pages ? 0 : -1;
}

static void buf_free(struct lazy_buf *b)
{
	ZSTD_freeDCtx(b->dctx);
	free(b->rec);
	free(b->scratch);
	free(b->pages);
}

/* One fault: decode its chunk unless it is in; then the faulting page is
 * there, or no record stores it (the zero page). */
static int answer(struct mem_lazy *l, struct lazy_buf *b, uintptr_t addr)
{
	uint32_t c = mem_chunk_of(&l->idx, addr - (uintptr_t)l->host);
	int state;

	if (c == UINT32_MAX)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (l->idx.chunks[c].length && !bitmap_has(l->seen, c) &&
	    now_s() - l->t0 < l->o.record_s) {
		bitmap_set(l->seen, c);
		l->recorded[l->nrecorded++] = c;
	}
	state = l->state[c];
	if (state == CH_ABSENT && l->idx.chunks[c].length)
		l->state[c] = CH_BUSY;
	pthread_mutex_unlock(&l->lock);
	if (state == CH_ABSENT && l->idx.chunks[c].length)
		serve_chunk(l, b, c, 1);
	/* A chunk a fill worker is at is decoded here too rather than waited
	 * for: the worker runs at a lower priority and may not get a CPU soon.
	 * Whoever installs a page first wins; the other finds it there. */
	if (state == CH_BUSY) {
		struct image_error e = { 0 };
		int rc = install(l, b, c, &e);

		if (rc) {
			fail_region(l, rc, &e);
			return -1;
		}
	}
	pthread_mutex_lock(&l->lock);
	l->st.raced += state == CH_BUSY;
	l->st.zero_faults += l->idx.chunks[c].length == 0;
	pthread_mutex_unlock(&l->lock);
	return zero_page(l, addr);
}

/* A thread that cannot get its buffers fails the region: without it a fault
 * or a chunk would never be served. */
static int thread_buffers(struct mem_lazy *l, struct lazy_buf *b)
{
	struct image_error e = { 0 };

	if (buf_init(b, l) == 0)
		return 0;
	img_fail(&e, IMG_ENOMEM, "memory region 0: no memory for a lazy restore thread");
	fail_region(l, -IMG_ENOMEM, &e);
	return -1;
}

static void *fault_thread(void *arg)
{
	struct mem_lazy *l = arg;
	struct uffd_msg msg[FAULT_BATCH];
	struct lazy_buf b;
	struct image_error e = { 0 };
	int over = thread_buffers(l, &b);

	while (!over) {
		struct pollfd pf[2] = { { l->uffd, POLLIN, 0 }, { l->stop_fd, POLLIN, 0 } };
		ssize_t got;

		if (poll(pf, 2, -1) < 0 && errno != EINTR) {
			img_fail(&e, IMG_EIO, "memory region 0: poll: %s", strerror(errno));
			fail_region(l, -IMG_EIO, &e);
			break;
		}
		pthread_mutex_lock(&l->lock);
		over = l->stop || l->failed || (l->complete && !l->registered);
		pthread_mutex_unlock(&l->lock);
		got = over ? 0 : read(l->uffd, msg, sizeof(msg));
		for (ssize_t i = 0; i < got / (ssize_t)sizeof(msg[0]) && !over; i++) {
			double t = now_s();
			int r;

			if (msg[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			r = answer(l, &b, (uintptr_t)msg[i].arg.pagefault.address);
			t = now_s() - t;
			pthread_mutex_lock(&l->lock);
			l->st.faults++;
			l->st.wait_total_s += t;
			if (t > l->st.wait_max_s)
				l->st.wait_max_s = t;
			/* After the end (unregistered) a stale message fails
			 * harmlessly; before it, a fault left unanswered would
			 * hang its thread. */
			over = r < 0 && !l->failed && !l->stop &&
			       (!l->complete || l->registered);
			pthread_mutex_unlock(&l->lock);
			if (over) {
				img_fail(&e, IMG_EIO, "memory region 0: UFFDIO_ZEROPAGE: %s",
					 strerror(-r));
				fail_region(l, -IMG_EIO, &e);
			}
		}
	}
	pthread_mutex_lock(&l->lock);
	if (l->complete && l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	pthread_mutex_unlock(&l->lock);
	buf_free(&b);
	return NULL;
}

/* Decodes the fill's chunks in order until none is left. A worker (worker
 * set) runs the prefetch order at the guest's priority, since the guest is
 * about to want those chunks, and the rest at FILL_NICE, so that what the
 * guest waits for comes first and the rest takes the idle CPU time. */
static void fill(struct mem_lazy *l, int worker)
{
	struct lazy_buf b;
	int ok = thread_buffers(l, &b) == 0, niced = 0;

	while (ok) {
		uint32_t c = UINT32_MAX, at = 0;

		pthread_mutex_lock(&l->lock);
		while (!l->stop && !l->failed && l->fill_next < l->nfill && c == UINT32_MAX) {
			uint32_t k = l->fill[l->fill_next++];

			if (l->state[k] == CH_ABSENT) {
				l->state[k] = CH_BUSY;
				c = k;
				at = l->fill_next;
			}
		}
		pthread_mutex_unlock(&l->lock);
		if (c == UINT32_MAX)
			break;
		if (worker && !niced && at > l->ngiven) {
			setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), FILL_NICE);
			niced = 1;
		}
		serve_chunk(l, &b, c, 0);
	}
	buf_free(&b);
}

static void *fill_thread(void *arg)
{
	fill(arg, 1);
	return NULL;
}

/* The fill order: the given order's stored chunks, then every other stored
 * chunk in address order. */
static int plan(struct mem_lazy *l, const struct mem_lazy_opts *o)
{
	uint32_t n = l->idx.nchunks;
	size_t words = (n + 63) / 64;
	uint64_t *in = calloc(words, 8);

	l->state = calloc(n, 1);
	l->fill = malloc((size_t)n * 4);
	l->recorded = malloc((size_t)n * 4);
	l->given = malloc((size_t)(o->norder ? o->norder : 1) * 4);
	l->seen = calloc(words, 8);
	if (!in || !l->state || !l->fill || !l->recorded || !l->given || !l->seen) {
		free(in);
		return -1;
	}
	for (uint32_t i = 0; i < o->norder; i++) {
		uint32_t c = o->order[i];

		if (c < n && l->idx.chunks[c].length && !bitmap_has(in, c)) {
			bitmap_set(in, c);
			l->fill[l->nfill++] = c;
			l->given[l->ngiven++] = c;
		}
	}
	for (uint32_t c = 0; c < n; c++)
		if (l->idx.chunks[c].length && !bitmap_has(in, c))
			l->fill[l->nfill++] = c;
	l->remaining = l->nfill;
	l->st.chunks = l->nfill;
	free(in);
	return 0;
}

int mem_lazy_start(struct mem_lazy **out, int fd, const struct mem_index *idx,
		   void *host, const struct mem_lazy_opts *o, struct image_error *err)
{
	struct mem_lazy *l = calloc(1, sizeof(*l));
	long hp = sysconf(_SC_PAGESIZE);
	int rc;

	*out = NULL;
	if (!l)
		return img_fail(err, IMG_ENOMEM, "no memory for a lazy restore");
	l->uffd = l->fd = l->stop_fd = -1;
	l->idx = *idx;
	l->idx.chunks = NULL;
	l->host = host;
	l->host_page = hp > 0 ? (size_t)hp : MEM_PAGE_SIZE;
	l->chunk_bytes = (size_t)idx->chunk_pages * MEM_PAGE_SIZE;
	l->o = *o;
	l->o.order = NULL;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->moved, NULL);
	if (l->chunk_bytes % l->host_page || (uintptr_t)host % l->host_page) {
		rc = img_fail(err, IMG_EUNSUPPORTED, "chunks of %zu KiB, or guest RAM, "
			      "not aligned to this host's %zu KiB pages", l->chunk_bytes >> 10,
			      l->host_page >> 10);
		goto fail;
	}
	l->idx.chunks = malloc((size_t)idx->nchunks * sizeof(*idx->chunks));
	if (l->idx.chunks)
		memcpy(l->idx.chunks, idx->chunks, (size_t)idx->nchunks * sizeof(*idx->chunks));
	if (!l->idx.chunks || plan(l, o)) {
		rc = img_fail(err, IMG_ENOMEM, "no memory for a lazy restore");
		goto fail;
	}
	l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->fd < 0 || l->stop_fd < 0) {
		rc = img_fail(err, IMG_EIO, "lazy restore: %s", strerror(errno));
		goto fail;
	}
	if ((rc = uffd_setup(l, err)))
		goto fail;
	l->t0 = now_s();
	if (l->remaining == 0) {
		pthread_mutex_lock(&l->lock);
		complete_locked(l);
		pthread_mutex_unlock(&l->lock);
		*out = l;
		return 0;
	}
	if (pthread_create(&l->fault_thread, NULL, fault_thread, l)) {
		rc = img_fail(err, IMG_ENOMEM, "lazy restore: cannot start the fault thread");
		goto fail;
	}
	l->fault_started = 1;
	for (unsigned want = pool_threads(o->threads, l->nfill); l->nworkers < want; ) {
		if (pthread_create(&l->workers[l->nworkers], NULL, fill_thread, l))
			break;
		l->nworkers++;
	}
	*out = l;
	return 0;
fail:
	mem_lazy_free(l);
	return rc;
}

int mem_lazy_wait(struct mem_lazy *l, struct image_error *err)
{
	int rc;

	pthread_mutex_lock(&l->lock);
	while (!l->complete && !l->failed) {
		/* No worker could be started, or all have gone: fill here. */
		if (l->nworkers == 0 && l->fill_next < l->nfill) {
			pthread_mutex_unlock(&l->lock);
			fill(l, 0);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		pthread_cond_wait(&l->moved, &l->lock);
	}
	rc = l->failed;
	if (rc && err)
		*err = l->err;
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void mem_lazy_get_stats(struct mem_lazy *l, struct mem_lazy_stats *s)
{
	pthread_mutex_lock(&l->lock);
	*s = l->st;
	pthread_mutex_unlock(&l->lock);
}

uint32_t mem_lazy_order(struct mem_lazy *l, uint32_t chunk_pages, uint32_t *out,
			uint32_t max)
{
	uint64_t pages = l->idx.size / MEM_PAGE_SIZE;
	uint32_t nto = (uint32_t)((pages + chunk_pages - 1) / chunk_pages), n = 0;
	uint64_t *seen = calloc((nto + 63) / 64, 8);

	if (!seen)
		return 0;
	pthread_mutex_lock(&l->lock);
	for (uint32_t i = 0; i < l->ngiven; i++)
		mem_order_map(l->given[i], l->idx.chunk_pages, chunk_pages, nto, seen, out,
			      &n, max);
	for (uint32_t i = 0; i < l->nrecorded; i++)
		mem_order_map(l->recorded[i], l->idx.chunk_pages, chunk_pages, nto, seen, out,
			      &n, max);
	pthread_mutex_unlock(&l->lock);
	free(seen);
	return n;
}

void mem_lazy_free(struct mem_lazy *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = 1;
	pthread_cond_broadcast(&l->moved);
	pthread_mutex_unlock(&l->lock);
	if (l->stop_fd >= 0)
		eventfd_write(l->stop_fd, 1);
	if (l->fault_started)
		pthread_join(l->fault_thread, NULL);
	while (l->nworkers)
		pthread_join(l->workers[--l->nworkers], NULL);
	if (l->uffd >= 0)
		close(l->uffd);
	if (l->fd >= 0)
		close(l->fd);
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->moved);
	free(l->idx.chunks);
	free(l->state);
	free(l->fill);
	free(l->recorded);
	free(l->given);
	free(l->seen);
	free(l);
}
