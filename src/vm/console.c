/* console.c - stdin/stdout console with a raw-terminal escape. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

#define ESCAPE_CHAR     0x01    /* Ctrl-A */

struct console {
	struct console_ops ops;
	int is_tty;
	int raw;
	struct termios saved;
	pthread_t thread;
	int started;
	int stop_fd[2];                 /* pipe that ends the input thread */
	int escape;                     /* previous byte was the escape */
};

int console_open(struct console **out, const struct console_ops *ops)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->ops = *ops;
	c->is_tty = isatty(STDIN_FILENO);
	if (pipe(c->stop_fd) < 0) {
		free(c);
		return -errno;
	}
	*out = c;
	return 0;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;         /* stdout gone: the guest's output is dropped */
		p += w;
		n -= (size_t)w;
	}
}

void console_write(struct console *c, uint8_t byte)
{
	/* A raw terminal does not turn \n into \r\n by itself. */
	if (c && c->raw && byte == '\n')
		write_all(STDOUT_FILENO, (const uint8_t *)"\r", 1);
	write_all(STDOUT_FILENO, &byte, 1);
}

/* Hands bytes to the guest, waiting while its receive FIFO is full. */
static int deliver_all(struct console *c, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k = c->ops.deliver(c->ops.ctx, p, n);
		struct pollfd pf = { c->stop_fd[0], POLLIN, 0 };

		p += k;
		n -= k;
		if (n && poll(&pf, 1, 5) > 0)
			return -1;
	}
	return 0;
}

/* Filters the escape sequence on a terminal; returns -1 on quit. */
static int handle_input(struct console *c, uint8_t *buf, size_t n)
{
	size_t out = 0;

	if (!c->is_tty)
		return deliver_all(c, buf, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = buf[i];

		if (c->escape) {
			c->escape = 0;
			if (b == 'x' || b == 'X') {
				c->ops.quit(c->ops.ctx);
				return -1;
			}
			if (b != ESCAPE_CHAR)
				continue;
		} else if (b == ESCAPE_CHAR) {
			c->escape = 1;
			continue;
		}
		buf[out++] = b;
	}
	return deliver_all(c, buf, out);
}

static void *input_thread(void *arg)
{
	struct console *c = arg;
	uint8_t buf[256];

	for (;;) {
		struct pollfd pf[2] = {
			{ STDIN_FILENO, POLLIN, 0 },
			{ c->stop_fd[0], POLLIN, 0 },
		};
		ssize_t n;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* End of input: the guest keeps running without a keyboard. */
		if (n <= 0)
			break;
		if (handle_input(c, buf, (size_t)n) < 0)
			break;
	}
	return NULL;
}

int console_start(struct console *c)
{
	if (c->is_tty && tcgetattr(STDIN_FILENO, &c->saved) == 0) {
		struct termios t = c->saved;

		cfmakeraw(&t);
		/* Keep output processing off too; console_write adds the \r. */
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
			c->raw = 1;
	}
	if (pthread_create(&c->thread, NULL, input_thread, c))
		return -EAGAIN;
	c->started = 1;
	return 0;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	if (c->started) {
		if (write(c->stop_fd[1], "x", 1) == 1)
			pthread_join(c->thread, NULL);
	}
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	close(c->stop_fd[0]);
	close(c->stop_fd[1]);
	free(c);
}
