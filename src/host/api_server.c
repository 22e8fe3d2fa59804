/* api_server.c - the control socket's thread and its clients.
 *
 * One thread polls the listening socket, every client and an eventfd by
 * which other threads say "output queued" or "stop". The clients and their
 * queues are under one lock, which the thread lets go only to poll and to
 * call the owner's callback, so api_server_reply and api_server_event never
 * wait for a client: they append to a queue the thread sends from with
 * non-blocking sends. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api_server.h"
#include "log.h"

#define EVENTS_REPLY    "{\"ok\": true, \"events\": true}\n"
#define ACCEPT_PAUSE_MS 100     /* after accept() fails for want of fds or memory */

struct client {
	int fd;                         /* -1: a free slot */
	uint64_t id;
	int waiting;                    /* a request went to fn, its reply is not queued */
	int events;                     /* asked for events */
	int discarding;                 /* inside an oversized line: drop up to its newline */
	int read_done;                  /* sent EOF: goes once answered and flushed */
	int doomed;                     /* its queue overflowed: closed at the next round */
	size_t in_len;
	char in[API_MAX_LINE];          /* the longest line, its newline included */
	char *out;                      /* out[out_off, out_len) is still to send */
	size_t out_off, out_len, out_cap;
};

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;                      /* the socket file bind made, so that stop */
	ino_t ino;                      /* removes it and nothing that replaced it */
	int wake_fd;
	api_request_fn fn;
	void *ctx;
	pthread_t thread;
	int listen_fd;                  /* the thread's alone from here on */
	uint64_t next_id;
	int accept_paused;

	pthread_mutex_t lock;           /* what follows */
	int stopping;
	struct timespec deadline;       /* of the last flush */
	struct client c[API_MAX_CLIENTS];
};

static void wake(struct api_server *s)
{
	/* Fails only with the counter at its maximum: a wake-up is pending. */
	(void)eventfd_write(s->wake_fd, 1);
}

static size_t pending(const struct client *c)
{
	return c->out_len - c->out_off;
}

/* Appends to c's queue; a client that would pass API_MAX_QUEUED (or that
 * cannot get the memory) is doomed instead: dropping part of a line would
 * corrupt the stream, and a client that does not read must not cost more. */
static void queue(struct client *c, const char *line, size_t len)
{
	if (c->doomed)
		return;
	if (pending(c) + len > API_MAX_QUEUED) {
		c->doomed = 1;
		return;
	}
	if (c->out_len + len > c->out_cap && c->out_off) {
		memmove(c->out, c->out + c->out_off, pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		if (cap > API_MAX_QUEUED)
			cap = API_MAX_QUEUED;
		p = realloc(c->out, cap);
		if (!p) {
			c->doomed = 1;
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
}

static struct client *find(struct api_server *s, uint64_t id)
{
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
		if (s->c[i].fd >= 0 && !s->c[i].doomed && s->c[i].id == id)
			return &s->c[i];
	return NULL;
}

void api_server_reply(struct api_server *s, uint64_t client, const char *line, size_t len)
{
	struct client *c;

	pthread_mutex_lock(&s->lock);
	c = find(s, client);
	if (c) {
		queue(c, line, len);
		c->waiting = 0;
	}
	pthread_mutex_unlock(&s->lock);
	wake(s);
}

void api_server_event(struct api_server *s, const char *line, size_t len)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
		if (s->c[i].fd >= 0 && s->c[i].events)
			queue(&s->c[i], line, len);
	pthread_mutex_unlock(&s->lock);
	wake(s);
}

static void queue_error(struct client *c, const char *msg)
{
	struct api_writer w;
	const char *line;
	size_t len;

	line = api_error_reply(&w, &len, "%s", msg);
	queue(c, line, len);
}

static void drop(struct client *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

/* Serves the complete lines in c's buffer until one goes to fn. Leaves the
 * buffer with room to read into unless a request is outstanding. Called and
 * returns with the lock held; drops it around fn, which may reply at once
 * (c stays valid: only this thread frees a slot). */
static void serve_lines(struct api_server *s, struct client *c)
{
	while (c->fd >= 0 && !c->waiting && !c->doomed && !s->stopping) {
		char *nl = memchr(c->in, '\n', c->in_len);
		struct api_request req;
		char err[256];
		size_t used, len;
		int skip, ret = 0;

		if (!nl) {
			if (c->discarding) {
				c->in_len = 0;
			} else if (c->in_len == sizeof(c->in)) {
				snprintf(err, sizeof(err), "request longer than %d bytes",
					 API_MAX_LINE);
				queue_error(c, err);
				c->discarding = 1;
				c->in_len = 0;
			}
			return;
		}
		used = (size_t)(nl - c->in) + 1;
		len = used - 1;
		if (len && c->in[len - 1] == '\r')
			len--;
		skip = c->discarding || !len;
		c->discarding = 0;
		if (!skip)
			ret = api_request_parse(c->in, len, &req, err, sizeof(err));
		c->in_len -= used;
		memmove(c->in, c->in + used, c->in_len);
		if (skip)
			continue;
		if (ret) {
			queue_error(c, err);
		} else if (req.kind == API_REQ_EVENTS) {
			c->events = 1;
			queue(c, EVENTS_REPLY, sizeof(EVENTS_REPLY) - 1);
		} else {
			uint64_t id = c->id;

			c->waiting = 1;
			pthread_mutex_unlock(&s->lock);
			s->fn(s->ctx, id, &req);
			pthread_mutex_lock(&s->lock);
		}
	}
}

static void read_client(struct api_server *s, struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			drop(c);
		return;
	}
	/* A client may shut down its side and still wait for its reply. */
	if (n == 0) {
		c->read_done = 1;
		return;
	}
	c->in_len += (size_t)n;
	serve_lines(s, c);
}

static void flush(struct client *c)
{
	while (pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				drop(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
}

static void accept_clients(struct api_server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *c = NULL;

		if (fd < 0) {
			/* The connection stays queued and the socket readable:
			 * polling it again at once would spin. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				s->accept_paused = 1;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		for (unsigned i = 0; i < API_MAX_CLIENTS && !c; i++)
			if (s->c[i].fd < 0)
				c = &s->c[i];
		if (!c) {
			struct api_writer w;
			const char *line;
			size_t len;

			/* A fresh socket's buffer holds one short line. */
			line = api_error_reply(&w, &len, "too many clients (at most %d)",
					       API_MAX_CLIENTS);
			(void)send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->id = s->next_id++;
	}
}

/* Milliseconds from now to the deadline, rounded up; 0 once it passed. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	     (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
	return ms > 0 ? (int)(ms < 1 << 30 ? ms : 1 << 30) : 0;
}

/* Serves buffered lines, closes what is done with, and says whether the
 * thread may end: stopping and nothing left to send. */
static int tidy(struct api_server *s)
{
	int busy = 0;

	for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
		struct client *c = &s->c[i];

		serve_lines(s, c);
		if (c->fd < 0)
			continue;
		/* An events client that shut down its side still reads. */
		if (c->doomed || (c->read_done && !c->waiting && !c->events && !pending(c)))
			drop(c);
		else if (pending(c))
			busy = 1;
	}
	if (s->stopping && s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
	}
	return s->stopping && !busy;
}

static void *serve(void *arg)
{
	struct api_server *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!tidy(s)) {
		struct pollfd pf[2 + API_MAX_CLIENTS];
		struct client *at[API_MAX_CLIENTS];
		int n = 1, nc = 0, listen_at = -1, timeout = -1, last = 0;

		pf[0] = (struct pollfd){ s->wake_fd, POLLIN, 0 };
		if (s->listen_fd >= 0 && !s->accept_paused) {
			listen_at = n;
			pf[n++] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
		} else if (s->listen_fd >= 0) {
			timeout = ACCEPT_PAUSE_MS;
		}
		s->accept_paused = 0;
		if (s->stopping) {
			timeout = ms_left(&s->deadline);
			last = !timeout;        /* one last try at sending */
		}
		for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
			struct client *c = &s->c[i];
			short ev = 0;

			if (c->fd < 0)
				continue;
			/* Not read while a request is outstanding: one at a time. */
			if (!c->waiting && !c->read_done && !s->stopping)
				ev |= POLLIN;
			if (pending(c))
				ev |= POLLOUT;
			at[nc++] = c;
			pf[n++] = (struct pollfd){ c->fd, ev, 0 };
		}
		pthread_mutex_unlock(&s->lock);
		n = poll(pf, (nfds_t)n, timeout);
		pthread_mutex_lock(&s->lock);
		if (n < 0)
			continue;
		if (pf[0].revents) {
			eventfd_t v;

			(void)eventfd_read(s->wake_fd, &v);
		}
		if (listen_at > 0 && pf[listen_at].revents)
			accept_clients(s);
		for (int i = 0; i < nc; i++) {
			struct client *c = at[i];
			short rev = pf[1 + (listen_at > 0) + i].revents;

			if (rev & POLLOUT && !c->doomed)
				flush(c);
			/* Read before a hang-up: the request it sent is served. */
			if (rev & POLLIN && c->fd >= 0)
				read_client(s, c);
			if (rev & (POLLHUP | POLLERR | POLLNVAL) && c->fd >= 0)
				drop(c);
		}
		if (last)
			break;
	}
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
		if (s->c[i].fd >= 0)
			drop(&s->c[i]);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* An existing path: a socket nobody accepts on is an earlier torpor's and
 * goes; anything else is someone's and stays. */
static int clear_path(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	struct stat st;
	int fd, ret, e;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		err_line(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		err_line(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	/* Non-blocking: a live server with a full backlog must not hold us. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err_line(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(fd);
	if (!ret || e == EAGAIN || e == EINPROGRESS) {
		err_line(err, errlen, "%s is in use by a running torpor (or another program)",
			 path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		err_line(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) && errno != ENOENT) {
		err_line(err, errlen, "cannot remove the stale socket %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Binds and listens on s->listen_fd at sa; records the file it made. */
static int open_socket(struct api_server *s, const struct sockaddr_un *sa, char *err,
		       size_t errlen)
{
	struct stat st;

	/* Linux makes the file with the socket inode's mode less the umask:
	 * set before bind, it is never wider than 0600, not for a moment.
	 * Changing the umask instead would change it for every thread. */
	if (fchmod(s->listen_fd, 0600) ||
	    bind(s->listen_fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		err_line(err, errlen, "%s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	if (lstat(sa->sun_path, &st) || (st.st_mode & 077)) {
		err_line(err, errlen, "%s: cannot make the socket private", sa->sun_path);
		unlink(sa->sun_path);
		return -1;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (listen(s->listen_fd, API_MAX_CLIENTS)) {
		err_line(err, errlen, "%s: listen: %s", sa->sun_path, strerror(errno));
		unlink(sa->sun_path);
		return -1;
	}
	return 0;
}

struct api_server *api_server_start(const char *path, api_request_fn fn, void *ctx,
				    char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct api_server *s;
	sigset_t all, old;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		err_line(err, errlen, "%s: a socket path has at most %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	s = calloc(1, sizeof(*s));
	if (!s) {
		err_line(err, errlen, "out of memory");
		return NULL;
	}
	strcpy(s->path, path);
	s->fn = fn;
	s->ctx = ctx;
	s->next_id = 1;
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
		s->c[i].fd = -1;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->wake_fd < 0 || s->listen_fd < 0) {
		err_line(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	if (clear_path(&sa, err, errlen) || open_socket(s, &sa, err, errlen))
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	/* The owner's signals (SIGINT, SIGTERM...) are for its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&s->thread, NULL, serve, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		err_line(err, errlen, "cannot start the API thread: %s", strerror(ret));
		pthread_mutex_destroy(&s->lock);
		unlink(path);
		goto fail;
	}
	return s;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s);
	return NULL;
}

void api_server_stop(struct api_server *s, int timeout_ms)
{
	struct stat st;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->deadline);
	if (timeout_ms > 0) {
		s->deadline.tv_sec += timeout_ms / 1000;
		s->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (s->deadline.tv_nsec >= 1000000000) {
			s->deadline.tv_sec++;
			s->deadline.tv_nsec -= 1000000000;
		}
	}
	pthread_mutex_unlock(&s->lock);
	wake(s);
	pthread_join(s->thread, NULL);
	if (!lstat(s->path, &st) && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
