/* mem_pool.c - the memory engine's worker pool (a shared chunk counter, the
 * first failure, the threads that drain the counter) and bitmap runs. */
#include <string.h>
#include <unistd.h>

#include "mem_int.h"

unsigned pool_threads(unsigned want, uint32_t nchunks)
{
	long n = want ? (long)want : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > POOL_THREADS_MAX)
		n = POOL_THREADS_MAX;
	if ((uint32_t)n > nchunks)
		n = nchunks ? nchunks : 1;
	return (unsigned)n;
}

void pool_run(unsigned threads, void *(*fn)(void *), void *arg)
{
	pthread_t tid[POOL_THREADS_MAX];
	unsigned started = 0;

	while (started + 1 < threads &&
	       pthread_create(&tid[started], NULL, fn, arg) == 0)
		started++;
	fn(arg);
	while (started)
		pthread_join(tid[--started], NULL);
}

void job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->turn, NULL);
}

void job_destroy(struct job *j)
{
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->turn);
}

bool job_take(struct job *j, uint32_t nchunks, uint32_t *chunk)
{
	bool ok;

	pthread_mutex_lock(&j->lock);
	ok = j->code == 0 && j->next < nchunks;
	if (ok)
		*chunk = j->next++;
	pthread_mutex_unlock(&j->lock);
	return ok;
}

void job_failed(struct job *j, int code, const struct image_error *e)
{
	pthread_mutex_lock(&j->lock);
	if (j->code == 0) {
		j->code = code;
		j->err = *e;
	}
	pthread_cond_broadcast(&j->turn);
	pthread_mutex_unlock(&j->lock);
}

int job_result(struct job *j, struct image_error *err)
{
	if (j->code && err)
		*err = j->err;
	return j->code;
}

bool bitmap_run(const uint64_t *bm, uint32_t pages, uint32_t stored, uint32_t *first)
{
	uint32_t p = 0;

	while (p < pages && !bitmap_has(bm, p))
		p++;
	*first = p;
	for (uint32_t k = 0; k < stored; k++, p++) {
		if (p >= pages || !bitmap_has(bm, p))
			return false;
	}
	return true;
}
