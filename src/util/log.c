/* log.c - stderr messages and the recorded failure. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "log.h"

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static struct failure recorded;
static int have_failure;
static volatile int raw_terminal;

void log_raw_terminal(int raw)
{
	raw_terminal = raw;
}

void log_info(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "torpor: %s%s", buf, raw_terminal ? "\r\n" : "\n");
}

int fail(int exit_code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!have_failure) {
		va_start(ap, fmt);
		vsnprintf(recorded.msg, sizeof(recorded.msg), fmt, ap);
		va_end(ap);
		recorded.exit_code = exit_code;
		have_failure = 1;
	}
	pthread_mutex_unlock(&fail_lock);
	return -1;
}

void fail_now(int exit_code, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "torpor: %s\n", buf);
	fflush(NULL);
	_exit(exit_code);
}

void fail_take(struct failure *f)
{
	pthread_mutex_lock(&fail_lock);
	if (have_failure) {
		*f = recorded;
	} else {
		f->exit_code = EXIT_FAILURE_RT;
		f->msg[0] = 0;
	}
	have_failure = 0;
	pthread_mutex_unlock(&fail_lock);
}

int fail_code(void)
{
	int code;

	pthread_mutex_lock(&fail_lock);
	code = have_failure ? recorded.exit_code : EXIT_FAILURE_RT;
	pthread_mutex_unlock(&fail_lock);
	return code;
}

void err_line(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}
