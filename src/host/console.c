/* console.c - stdin/stdout console with a raw-terminal escape.
 *
 * Output goes through a ring drained by a writer thread, so a vCPU never
 * blocks on a stdout that stopped draining (a paused pager, a full pipe):
 * it would hold the device lock and nothing could stop torpor. When the ring
 * is full, output is dropped and counted. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "file_io.h"
#include "log.h"

#define ESCAPE_CHAR     0x01    /* Ctrl-A */
#define OUT_RING        (64 * 1024)

struct console {
	struct console_ops ops;
	int is_tty;
	int raw;
	struct termios saved;
	pthread_t reader, writer;
	int reader_started, writer_started;
	int stop_fd[2];                 /* pipe that ends the input thread */
	int escape;                     /* previous byte was the escape */

	pthread_mutex_t out_lock;       /* the ring and the flags below */
	pthread_cond_t out_cond;
	uint8_t out[OUT_RING];
	size_t out_head, out_len;
	uint64_t dropped;
	int out_stop, out_dead;
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
	pthread_mutex_init(&c->out_lock, NULL);
	pthread_cond_init(&c->out_cond, NULL);
	*out = c;
	return 0;
}

static void push(struct console *c, uint8_t byte)
{
	if (c->out_len == OUT_RING || c->out_dead) {
		c->dropped++;
		return;
	}
	c->out[(c->out_head + c->out_len) % OUT_RING] = byte;
	c->out_len++;
}

void console_write(struct console *c, uint8_t byte)
{
	pthread_mutex_lock(&c->out_lock);
	/* A raw terminal does not turn \n into \r\n by itself. */
	if (c->raw && byte == '\n')
		push(c, '\r');
	push(c, byte);
	pthread_cond_signal(&c->out_cond);
	pthread_mutex_unlock(&c->out_lock);
}

static void *writer_thread(void *arg)
{
	struct console *c = arg;

	pthread_mutex_lock(&c->out_lock);
	for (;;) {
		size_t n;
		int gone;

		while (!c->out_len && !c->out_stop)
			pthread_cond_wait(&c->out_cond, &c->out_lock);
		if (!c->out_len)
			break;
		/* The contiguous part; the lock is not held while writing. */
		n = c->out_len;
		if (c->out_head + n > OUT_RING)
			n = OUT_RING - c->out_head;
		pthread_mutex_unlock(&c->out_lock);
		/* Any failure (EPIPE, EIO...) means stdout is gone. */
		gone = write_full(STDOUT_FILENO, c->out + c->out_head, n) != 0;
		pthread_mutex_lock(&c->out_lock);
		c->out_head = (c->out_head + n) % OUT_RING;
		c->out_len -= n;
		if (gone) {
			c->out_dead = 1;
			c->dropped += c->out_len;
			c->out_len = 0;
		}
		pthread_cond_broadcast(&c->out_cond);
	}
	pthread_mutex_unlock(&c->out_lock);
	return NULL;
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

static void *reader_thread(void *arg)
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

/* The terminal as it was, for the fatal-signal handler: a crash must not
 * leave the user's shell in raw mode. */
static struct termios fatal_saved;
static volatile sig_atomic_t fatal_restore;

static void on_fatal(int sig)
{
	if (fatal_restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &fatal_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void restore_on_fatal(const struct termios *saved)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_fatal };

	fatal_saved = *saved;
	fatal_restore = 1;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int console_start(struct console *c)
{
	int ret;

	if (c->is_tty && tcgetattr(STDIN_FILENO, &c->saved) == 0) {
		struct termios t = c->saved;

		cfmakeraw(&t);
		restore_on_fatal(&c->saved);
		/* Output processing goes too; console_write adds the \r. */
		if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
			c->raw = 1;
			log_raw_terminal(isatty(STDERR_FILENO));
		}
	}
	if ((ret = pthread_create(&c->writer, NULL, writer_thread, c)))
		return -ret;
	c->writer_started = 1;
	if ((ret = pthread_create(&c->reader, NULL, reader_thread, c)))
		return -ret;
	c->reader_started = 1;
	return 0;
}

/* Lets the writer drain what the guest printed last, for at most a second:
 * a stdout that does not drain must not keep torpor from exiting. */
static void stop_writer(struct console *c)
{
	struct timespec until;
	int drained;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&c->out_lock);
	c->out_stop = 1;
	pthread_cond_broadcast(&c->out_cond);
	while (c->out_len && pthread_cond_timedwait(&c->out_cond, &c->out_lock, &until) == 0)
		;
	drained = c->out_len == 0;
	pthread_mutex_unlock(&c->out_lock);
	if (!drained)
		pthread_cancel(c->writer);      /* blocked in write(): a cancellation point */
	pthread_join(c->writer, NULL);
}

void console_release_terminal(struct console *c)
{
	if (!c || !c->raw)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	log_raw_terminal(0);
	c->raw = 0;
	fatal_restore = 0;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	if (c->reader_started && write(c->stop_fd[1], "x", 1) == 1)
		pthread_join(c->reader, NULL);
	if (c->writer_started)
		stop_writer(c);
	console_release_terminal(c);
	if (c->dropped)
		log_info("%llu bytes of guest console output were dropped (stdout did "
			 "not keep up)", (unsigned long long)c->dropped);
	close(c->stop_fd[0]);
	close(c->stop_fd[1]);
	pthread_mutex_destroy(&c->out_lock);
	pthread_cond_destroy(&c->out_cond);
	free(c);
}
