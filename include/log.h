/* log.h - messages on stderr, and the one-line error a failing operation
 * leaves for the CLI: the deepest failure records what went wrong and which
 * exit code (exitcodes.h) it maps to; the CLI prints it once and exits. */
#ifndef TORPOR_LOG_H
#define TORPOR_LOG_H

/* Prints "torpor: <message>" on stderr. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records the failure (unless one is already recorded) and returns err, a
 * negative errno, so callers can write `return fail(EXIT_..., -errno, ...)`. */
int fail(int exit_code, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The recorded message ("" if none) and exit code (EXIT_FAILURE_RT if none). */
const char *fail_message(void);
int fail_exit_code(void);

/* Forgets the recorded failure (after it was handled). */
void fail_clear(void);

#endif
