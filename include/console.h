/* console.h - the guest console on torpor's stdin/stdout. On a terminal:
 * raw mode and the escape Ctrl-A x (quit), Ctrl-A Ctrl-A (send Ctrl-A);
 * on pipes: bytes pass as they are. Input is handed to a deliver callback
 * that may accept fewer bytes than offered (the rest is retried). */
#ifndef TORPOR_CONSOLE_H
#define TORPOR_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct console;

struct console_ops {
	size_t (*deliver)(void *ctx, const uint8_t *buf, size_t len);
	void (*quit)(void *ctx);        /* the user typed the escape */
	void *ctx;
};

/* Prepares the console on fds 0 and 1 without touching the terminal yet. */
int console_open(struct console **out, const struct console_ops *ops);

/* Puts a terminal in raw mode (given back by console_close, and on a fatal
 * signal) and starts the output and input threads. 0 or a negative errno. */
int console_start(struct console *c);

/* Writes one guest output byte to stdout. */
void console_write(struct console *c, uint8_t byte);

/* Stops the input thread and restores the terminal; NULL allowed. */
void console_close(struct console *c);

/* Puts the terminal back as console_start found it, and nothing else: for a
 * process about to end whose threads cannot be stopped. NULL is allowed. */
void console_release_terminal(struct console *c);

#endif
