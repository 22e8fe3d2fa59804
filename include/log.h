/* log.h - messages on stderr, and the one channel failures travel on.
 *
 * A function below main() that fails calls fail() where it detects the
 * failure: one line saying what went wrong, and the exit code (exitcodes.h)
 * it maps to. fail() returns -1, which the function returns; its callers
 * return -1 in turn and record nothing. Whoever handles a failure (a
 * checkpoint that fails while the guest keeps running; the CLI before it
 * exits) takes it with fail_take(). */
#ifndef TORPOR_LOG_H
#define TORPOR_LOG_H

#include <stddef.h>

/* Prints "torpor: <message>" on stderr, ending the line as the terminal
 * needs it (log_raw_terminal). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records the failure and returns -1. Thread-safe; when one is already
 * recorded and not yet taken, the first stays: it is the cause, later ones
 * are its consequences while unwinding. */
int fail(int exit_code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct failure {
	int exit_code;          /* EXIT_FAILURE_RT when nothing was recorded */
	char msg[512];          /* "" when nothing was recorded */
};

/* The one failure that does not unwind: prints "torpor: <message>" and ends
 * the process with exit_code at once, from any thread. Only for a VM that
 * cannot be taken down in order: threads waiting for guest memory that will
 * never come (a lazy restore whose image stopped reading back). */
void fail_now(int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Hands over the recorded failure and forgets it. */
void fail_take(struct failure *f);

/* The exit code the recorded failure maps to (EXIT_FAILURE_RT when none),
 * leaving it recorded: what the process will exit with. */
int fail_code(void);

/* Writes a one-line message into err (errlen bytes; nothing when err is
 * NULL), control bytes blanked so that an argument holding a newline still
 * gives one line: how the host libraries report, and the caller decides. */
void err_line(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The console tells the log when stderr's terminal is in raw mode, where a
 * line must end in "\r\n". */
void log_raw_terminal(int raw);

#endif
