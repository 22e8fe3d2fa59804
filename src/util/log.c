/* log.c - stderr messages and the recorded failure. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "exitcodes.h"
#include "log.h"

/* One failure per process is enough: the first one is the cause, the rest
 * are its consequences while unwinding. Guarded because vCPU threads fail
 * too. */
static char fail_msg[512];
static int fail_code = -1;

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

void log_info(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "torpor: %s\n", buf);
}

int fail(int exit_code, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (fail_code < 0) {
		va_start(ap, fmt);
		vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
		va_end(ap);
		fail_code = exit_code;
	}
	pthread_mutex_unlock(&fail_lock);
	return err;
}

const char *fail_message(void)
{
	return fail_code < 0 ? "" : fail_msg;
}

int fail_exit_code(void)
{
	return fail_code < 0 ? EXIT_FAILURE_RT : fail_code;
}

void fail_clear(void)
{
	pthread_mutex_lock(&fail_lock);
	fail_code = -1;
	fail_msg[0] = 0;
	pthread_mutex_unlock(&fail_lock);
}
