/* test_api_server.c - the control socket over real UNIX sockets in a
 * temporary directory: replies, events, the line framing and its limits,
 * the client limit, slow readers, the socket file's mode, what an existing
 * path gets, and stop. The owner is a callback that answers status at once
 * and holds every other request until a test answers it from a thread of
 * its own. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api_server.h"

#define WAIT_MS         10000   /* for anything the server should do soon */
#define EVENTS_OK       "{\"ok\": true, \"events\": true}"

static char dir[64], sock[128];
static struct api_server *srv;

/* What the callback saw, and the requests it holds. */
struct seen {
	uint64_t client;
	enum api_req_kind kind;
	int answered;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct api_server *s;
	unsigned n;
	struct seen log[512];
} t = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, { { 0 } } };

static void on_request(void *ctx, uint64_t client, const struct api_request *req)
{
	struct api_server *s;
	char line[128];
	int n;

	(void)ctx;
	pthread_mutex_lock(&t.lock);
	s = t.s;
	if (t.n < 512)
		t.log[t.n++] = (struct seen){ client, req->kind, req->kind == API_REQ_STATUS };
	pthread_cond_broadcast(&t.cond);
	pthread_mutex_unlock(&t.lock);
	if (req->kind != API_REQ_STATUS)
		return;
	n = snprintf(line, sizeof(line), "{\"ok\": true, \"client\": %llu}\n",
		     (unsigned long long)client);
	api_server_reply(s, client, line, (size_t)n);
}

/* Answers every held request, on a thread that is not the server's. */
static void *answer_held_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&t.lock);
	for (unsigned i = 0; i < t.n; i++) {
		char line[128];
		int n;

		if (t.log[i].answered)
			continue;
		t.log[i].answered = 1;
		n = snprintf(line, sizeof(line),
			     "{\"ok\": true, \"request\": \"%s\", \"client\": %llu}\n",
			     t.log[i].kind == API_REQ_HIBERNATE ? "hibernate" : "other",
			     (unsigned long long)t.log[i].client);
		api_server_reply(t.s, t.log[i].client, line, (size_t)n);
	}
	pthread_mutex_unlock(&t.lock);
	return NULL;
}

static void answer_held(void)
{
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, answer_held_thread, NULL), 0);
	pthread_join(th, NULL);
}

static unsigned seen_count(void)
{
	unsigned n;

	pthread_mutex_lock(&t.lock);
	n = t.n;
	pthread_mutex_unlock(&t.lock);
	return n;
}

static void wait_seen(unsigned n)
{
	struct timespec until;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&t.lock);
	while (t.n < n && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&t.cond, &t.lock, &until);
	pthread_mutex_unlock(&t.lock);
	cr_assert_geq(seen_count(), n, "the callback saw %u requests, not %u", seen_count(), n);
}

static void setup(void)
{
	strcpy(dir, "/tmp/torpor-api-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
}

static void teardown(void)
{
	api_server_stop(srv, 1000);
	unlink(sock);
	rmdir(dir);
}

static struct api_server *start(void)
{
	char err[256] = "";
	struct api_server *s = api_server_start(sock, on_request, NULL, err, sizeof(err));

	cr_assert_not_null(s, "api_server_start: %s", err);
	pthread_mutex_lock(&t.lock);
	t.s = s;
	pthread_mutex_unlock(&t.lock);
	return s;
}

/* --- the client side ------------------------------------------------------ */

struct conn {
	int fd;
	size_t len;
	char buf[1 << 16];
};

static struct conn *conn_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct conn *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	strcpy(sa.sun_path, sock);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c->fd, 0);
	cr_assert_eq(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	return c;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c);
}

static void conn_send(struct conn *c, const void *p, size_t n)
{
	while (n) {
		ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);

		cr_assert_gt(k, 0, "send: %s", strerror(errno));
		p = (const char *)p + k;
		n -= (size_t)k;
	}
}

static void send_line(struct conn *c, const char *s)
{
	conn_send(c, s, strlen(s));
	conn_send(c, "\n", 1);
}

/* The next line without its newline, NUL-terminated in out; -1 at EOF, -2
 * at EOF after part of a line. */
static int conn_line(struct conn *c, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd pf = { c->fd, POLLIN, 0 };
		ssize_t k;

		if (nl) {
			size_t n = (size_t)(nl - c->buf);

			cr_assert_lt(n, cap, "a line of %zu bytes", n);
			memcpy(out, c->buf, n);
			out[n] = 0;
			c->len -= n + 1;
			memmove(c->buf, nl + 1, c->len);
			return (int)n;
		}
		cr_assert_lt(c->len, sizeof(c->buf), "no newline in %zu bytes", c->len);
		cr_assert_eq(poll(&pf, 1, WAIT_MS), 1, "nothing from the server for %d ms",
			     WAIT_MS);
		k = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (k <= 0)
			return c->len ? -2 : -1;
		c->len += (size_t)k;
	}
}

static void expect_line(struct conn *c, const char *want, const char *what)
{
	char line[1024];

	cr_assert_geq(conn_line(c, line, sizeof(line)), 0, "%s: EOF", what);
	cr_expect_str_eq(line, want, "%s", what);
}

static void expect_error(struct conn *c, const char *has, const char *what)
{
	char line[1024];

	cr_assert_geq(conn_line(c, line, sizeof(line)), 0, "%s: EOF", what);
	cr_expect(strstr(line, "\"ok\": false"), "%s: not an error: %s", what, line);
	cr_expect(strstr(line, has), "%s: no '%s' in %s", what, has, line);
}

static void expect_status(struct conn *c, uint64_t id, const char *what)
{
	char want[64];

	snprintf(want, sizeof(want), "{\"ok\": true, \"client\": %llu}", (unsigned long long)id);
	expect_line(c, want, what);
}

static void expect_eof(struct conn *c, const char *what)
{
	char line[API_MAX_REPLY];

	cr_expect_eq(conn_line(c, line, sizeof(line)), -1, "%s: a line, not EOF: %s", what,
		     line);
}

/* An event of about size bytes, numbered n. */
static size_t event_line(char *buf, size_t size, unsigned n)
{
	int k = snprintf(buf, size, "{\"event\": \"tick\", \"n\": %u, \"pad\": \"", n);

	while ((size_t)k < size - 3)
		buf[k++] = 'x';
	buf[k++] = '"';
	buf[k++] = '}';
	buf[k++] = '\n';
	return (size_t)k;
}

static double clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --- requests and replies ------------------------------------------------- */

TestSuite(api_server, .init = setup, .fini = teardown, .timeout = 60);

Test(api_server, request_gets_its_reply)
{
	struct conn *c;

	srv = start();
	c = conn_open();
	send_line(c, "{\"request\": \"status\"}");
	expect_status(c, 1, "ids count from 1");
	send_line(c, "{\"request\": \"status\"}\r");
	expect_status(c, 1, "a \\r before the newline is tolerated");
	cr_expect_eq(seen_count(), 2);
	cr_expect_eq(t.log[0].kind, API_REQ_STATUS);
	cr_expect_eq(t.log[0].client, 1);
	conn_close(c);
}

Test(api_server, two_clients_each_get_their_own_reply)
{
	struct conn *a, *b;

	srv = start();
	a = conn_open();
	b = conn_open();
	send_line(a, "{\"request\": \"hibernate\"}");
	wait_seen(1);
	send_line(b, "{\"request\": \"status\"}");
	expect_status(b, 2, "b, while a's request is held");
	answer_held();
	expect_line(a, "{\"ok\": true, \"request\": \"hibernate\", \"client\": 1}", "a");
	send_line(a, "{\"request\": \"status\"}");
	send_line(b, "{\"request\": \"status\"}");
	expect_status(b, 2, "b again");
	expect_status(a, 1, "a again");
	conn_close(a);
	conn_close(b);
}

Test(api_server, a_reply_to_a_gone_client_is_ignored)
{
	struct conn *a, *b;
	double cpu;

	srv = start();
	a = conn_open();
	send_line(a, "{\"request\": \"hibernate\"}");
	wait_seen(1);
	conn_close(a);
	/* Time to notice the hang-up, so that b may take a's slot; a server
	 * that kept polling the hung-up socket would spin meanwhile. */
	cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	usleep(300 * 1000);
	cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	cr_expect_lt(cpu, 100, "%.0f ms of CPU while idle", cpu);
	b = conn_open();
	send_line(b, "{\"request\": \"status\"}");
	expect_status(b, 2, "an id is never reused");
	answer_held();
	send_line(b, "{\"request\": \"status\"}");
	expect_status(b, 2, "b gets nothing of a's");
	conn_close(b);
}

Test(api_server, a_half_closed_client_still_gets_its_reply)
{
	struct conn *a;

	srv = start();
	a = conn_open();
	send_line(a, "{\"request\": \"status\"}");
	send_line(a, "{\"request\": \"hibernate\"}");
	cr_assert_eq(shutdown(a->fd, SHUT_WR), 0);
	expect_status(a, 1, "first");
	wait_seen(2);
	answer_held();
	expect_line(a, "{\"ok\": true, \"request\": \"hibernate\", \"client\": 1}", "second");
	expect_eof(a, "then closed");
	conn_close(a);
}

Test(api_server, a_half_closed_events_client_gets_every_event)
{
	/* 250 kB: more than the socket takes, less than API_MAX_QUEUED. */
	enum { SIZE = 1000, COUNT = 250 };
	struct conn *a;
	char line[API_MAX_REPLY], want[SIZE];
	size_t n;

	srv = start();
	a = conn_open();
	send_line(a, "{\"request\": \"events\"}");
	expect_line(a, EVENTS_OK, "subscribes");
	for (unsigned i = 0; i < COUNT; i++)
		api_server_event(srv, want, event_line(want, SIZE, i));
	cr_assert_eq(shutdown(a->fd, SHUT_WR), 0);
	/* Time for the server to read the EOF with output still queued. */
	usleep(200 * 1000);
	for (unsigned i = 0; i < COUNT; i++) {
		n = event_line(want, SIZE, i);
		want[n - 1] = 0;
		cr_assert_geq(conn_line(a, line, sizeof(line)), 0, "event %u lost", i);
		cr_assert_str_eq(line, want);
	}
	/* Events are what it waits for: it stays subscribed. */
	n = event_line(want, SIZE, COUNT);
	api_server_event(srv, want, n);
	want[n - 1] = 0;
	cr_assert_geq(conn_line(a, line, sizeof(line)), 0, "the event after the half-close");
	cr_assert_str_eq(line, want);
	conn_close(a);
}

Test(api_server, a_second_request_waits_for_the_first_reply)
{
	enum { MORE = 300 };    /* lines well past one line's buffer */
	static const char status[] = "{\"request\": \"status\"}\n";
	char *all = malloc(MORE * (sizeof(status) - 1));
	struct conn *a;

	cr_assert_not_null(all);
	for (unsigned i = 0; i < MORE; i++)
		memcpy(all + i * (sizeof(status) - 1), status, sizeof(status) - 1);
	srv = start();
	a = conn_open();
	send_line(a, "{\"request\": \"hibernate\"}");
	/* In one piece: each small send costs the socket far more than its
	 * bytes, and nothing is read until hibernate is answered. */
	conn_send(a, all, MORE * (sizeof(status) - 1));
	free(all);
	wait_seen(1);
	usleep(300 * 1000);
	cr_expect_eq(seen_count(), 1, "status delivered before hibernate was answered");
	answer_held();
	expect_line(a, "{\"ok\": true, \"request\": \"hibernate\", \"client\": 1}", "first");
	for (unsigned i = 0; i < MORE; i++)
		expect_status(a, 1, "then each of the others, none lost");
	cr_expect_eq(seen_count(), 1 + MORE);
	cr_expect_eq(t.log[1].kind, API_REQ_STATUS);
	conn_close(a);
}

/* --- events --------------------------------------------------------------- */

Test(api_server, events_go_to_subscribers_only_in_order)
{
	struct conn *a, *b, *c;
	char line[API_MAX_REPLY], want[256];

	srv = start();
	a = conn_open();
	b = conn_open();
	c = conn_open();
	send_line(a, "{\"request\": \"events\"}");
	send_line(c, "{\"request\": \"events\"}");
	expect_line(a, EVENTS_OK, "a subscribes");
	expect_line(c, EVENTS_OK, "c subscribes");
	cr_expect_eq(seen_count(), 0, "events is the server's own");
	for (unsigned i = 0; i < 200; i++) {
		size_t n = event_line(want, 100 + i % 50, i);

		api_server_event(srv, want, n);
	}
	for (unsigned i = 0; i < 200; i++) {
		size_t n = event_line(want, 100 + i % 50, i);

		want[n - 1] = 0;
		cr_assert_geq(conn_line(a, line, sizeof(line)), 0);
		cr_assert_str_eq(line, want, "a: event %u", i);
		cr_assert_geq(conn_line(c, line, sizeof(line)), 0);
		cr_assert_str_eq(line, want, "c: event %u", i);
	}
	send_line(b, "{\"request\": \"status\"}");
	expect_status(b, 2, "b saw no event");
	send_line(a, "{\"request\": \"status\"}");
	expect_status(a, 1, "a subscriber still makes requests");
	conn_close(a);
	conn_close(b);
	conn_close(c);
}

Test(api_server, a_client_that_does_not_read_is_disconnected)
{
	enum { SIZE = 1000, COUNT = 8000 };     /* 8 MB: far past queue and socket */
	struct conn *slow, *b;
	char line[API_MAX_REPLY], want[SIZE];
	unsigned got = 0;
	int n;

	srv = start();
	slow = conn_open();
	b = conn_open();
	send_line(slow, "{\"request\": \"events\"}");
	expect_line(slow, EVENTS_OK, "subscribes");
	for (unsigned i = 0; i < COUNT; i++)
		api_server_event(srv, want, event_line(want, SIZE, i));
	send_line(b, "{\"request\": \"status\"}");
	expect_status(b, 2, "the server stays responsive");
	/* What reached the slow client: events in order, then EOF (perhaps
	 * in the middle of one). */
	while ((n = conn_line(slow, line, sizeof(line))) >= 0) {
		size_t k = event_line(want, SIZE, got);

		want[k - 1] = 0;
		cr_assert_str_eq(line, want, "event %u", got);
		got++;
	}
	cr_expect_lt(got, COUNT, "all %u events arrived: never disconnected", got);
	send_line(b, "{\"request\": \"status\"}");
	expect_status(b, 2, "still responsive");
	conn_close(slow);
	conn_close(b);
}

/* --- what a client may send ----------------------------------------------- */

#define BAD(s, why)     { s, sizeof(s) - 1, why }

struct bad_line {
	char bytes[64];
	size_t len;
	char why[32];
};

ParameterizedTestParameters(api_server, bad_lines_get_an_error)
{
	static struct bad_line bad[] = {
		BAD("garbage", "garbage"),
		BAD("{\"request\": \"status\"", "unterminated"),
		BAD("{\"request\": \"sta\0tus\"}", "a NUL byte"),
		BAD("\0", "a lone NUL"),
		BAD("\xff\xfe\x01\x02\x80\x90", "binary"),
		BAD("{\"request\": \"st\xc3\x28tus\"}", "malformed UTF-8"),
		BAD("{\"request\": \"\xed\xa0\x80\"}", "a UTF-16 surrogate"),
		BAD("{\"request\": \"nap\"}", "unknown request"),
		BAD("{\"request\": [\"status\"]}", "an array"),
		BAD("\r\r", "two carriage returns"),
	};

	return cr_make_param_array(struct bad_line, bad, sizeof(bad) / sizeof(bad[0]));
}

ParameterizedTest(struct bad_line *b, api_server, bad_lines_get_an_error)
{
	struct conn *c;

	srv = start();
	c = conn_open();
	conn_send(c, b->bytes, b->len);
	conn_send(c, "\n", 1);
	send_line(c, "{\"request\": \"status\"}");
	expect_error(c, "", b->why);
	expect_status(c, 1, "the connection keeps working");
	cr_expect_eq(seen_count(), 1, "%s: only status reached the callback", b->why);
	conn_close(c);
}

Test(api_server, empty_lines_are_ignored)
{
	struct conn *c;

	srv = start();
	c = conn_open();
	conn_send(c, "\n\r\n\n", 4);
	send_line(c, "{\"request\": \"status\"}");
	expect_status(c, 1, "the first line back is status's");
	conn_close(c);
}

/* {"request": "status"} padded with spaces to len bytes. */
static char *padded_status(size_t len)
{
	static const char head[] = "{\"request\": \"status\"";
	char *p = malloc(len);

	cr_assert_not_null(p);
	memcpy(p, head, sizeof(head) - 1);
	memset(p + sizeof(head) - 1, ' ', len - sizeof(head));
	p[len - 1] = '}';
	return p;
}

/* API_MAX_LINE counts the newline (formats/torpor-api.md). */
Test(api_server, a_line_of_api_max_line_bytes_is_served)
{
	struct conn *c;
	char *p = padded_status(API_MAX_LINE - 1);

	srv = start();
	c = conn_open();
	conn_send(c, p, API_MAX_LINE - 1);
	conn_send(c, "\n", 1);
	expect_status(c, 1, "exactly API_MAX_LINE bytes with the newline");
	free(p);
	conn_close(c);
}

Test(api_server, a_line_one_byte_too_long_gets_one_error)
{
	struct conn *c;
	char *p = padded_status(API_MAX_LINE);

	srv = start();
	c = conn_open();
	conn_send(c, p, API_MAX_LINE);
	conn_send(c, "\n", 1);
	send_line(c, "{\"request\": \"status\"}");
	expect_error(c, "request longer than 4096 bytes",
		     "API_MAX_LINE + 1 bytes with the newline");
	expect_status(c, 1, "then the next line");
	cr_expect_eq(seen_count(), 1);
	free(p);
	conn_close(c);
}

Test(api_server, a_huge_line_gets_one_error)
{
	enum { HUGE = 4 << 20 };
	struct conn *c;
	char *p = malloc(HUGE);

	cr_assert_not_null(p);
	for (size_t i = 0; i < HUGE; i++)
		p[i] = (char)(i % 251 + 1 == '\n' ? 'x' : i % 251 + 1);
	srv = start();
	c = conn_open();
	conn_send(c, p, HUGE);
	conn_send(c, "\n", 1);
	send_line(c, "{\"request\": \"status\"}");
	expect_error(c, "request longer than 4096 bytes", "4 MiB");
	expect_status(c, 1, "one error, then the next line");
	free(p);
	conn_close(c);
}

/* --- clients -------------------------------------------------------------- */

Test(api_server, one_client_too_many_gets_an_error)
{
	struct conn *c[API_MAX_CLIENTS], *extra;
	int joined = 0;

	srv = start();
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
		c[i] = conn_open();
		send_line(c[i], "{\"request\": \"status\"}");
		expect_status(c[i], i + 1, "a client within the limit");
	}
	extra = conn_open();
	expect_error(extra, "too many clients", "one too many");
	expect_eof(extra, "and closed");
	conn_close(extra);
	send_line(c[3], "{\"request\": \"status\"}");
	expect_status(c[3], 4, "the others keep working");
	/* A slot that frees up takes a new client (once the server noticed). */
	conn_close(c[0]);
	for (int tries = 0; tries < 100 && !joined; tries++) {
		char line[256];

		extra = conn_open();
		send_line(extra, "{\"request\": \"status\"}");
		cr_assert_geq(conn_line(extra, line, sizeof(line)), 0);
		joined = !strstr(line, "too many clients");
		conn_close(extra);
		if (!joined)
			usleep(50 * 1000);
	}
	cr_expect(joined, "a freed slot was never given out");
	for (unsigned i = 1; i < API_MAX_CLIENTS; i++)
		conn_close(c[i]);
}

/* --- the socket file ------------------------------------------------------ */

Test(api_server, the_socket_is_private)
{
	struct stat st;

	umask(0);
	srv = start();
	cr_assert_eq(lstat(sock, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
}

Test(api_server, a_stale_socket_is_replaced)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	struct conn *c;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, sock);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	cr_assert_eq(lstat(sock, &st), 0, "left behind");
	srv = start();
	c = conn_open();
	send_line(c, "{\"request\": \"status\"}");
	expect_status(c, 1, "served on the new socket");
	conn_close(c);
}

Test(api_server, a_live_socket_is_refused)
{
	struct api_server *second;
	char err[256] = "";
	struct conn *c;

	srv = start();
	second = api_server_start(sock, on_request, NULL, err, sizeof(err));
	cr_expect_null(second, "a second server took the path");
	api_server_stop(second, 0);
	cr_expect(strstr(err, "is in use by a running torpor"), "%s", err);
	c = conn_open();
	send_line(c, "{\"request\": \"status\"}");
	expect_status(c, 2, "the first server is untouched (the probe was client 1)");
	conn_close(c);
}

Test(api_server, a_file_at_the_path_is_refused_and_kept)
{
	char err[256] = "", back[16] = "";
	int fd = open(sock, O_WRONLY | O_CREAT | O_EXCL, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "precious", 8), 8);
	close(fd);
	cr_expect_null(api_server_start(sock, on_request, NULL, err, sizeof(err)));
	cr_expect(strstr(err, "exists and is not a socket"), "%s", err);
	fd = open(sock, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_expect_eq(read(fd, back, sizeof(back)), 8);
	cr_expect_str_eq(back, "precious");
	close(fd);
}

Test(api_server, a_path_too_long_is_refused)
{
	char err[256] = "", path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	cr_expect_null(api_server_start(path, on_request, NULL, err, sizeof(err)));
	cr_expect(strstr(err, "at most 107 bytes"), "%s", err);
}

/* --- stop ----------------------------------------------------------------- */

Test(api_server, stop_removes_the_path)
{
	struct stat st;

	srv = start();
	api_server_stop(srv, 1000);
	srv = NULL;
	cr_expect_eq(lstat(sock, &st), -1);
	cr_expect_eq(errno, ENOENT);
	api_server_stop(NULL, 0);
}

Test(api_server, stop_leaves_what_replaced_the_socket)
{
	struct stat st;
	int fd;

	srv = start();
	cr_assert_eq(unlink(sock), 0);
	fd = open(sock, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	api_server_stop(srv, 1000);
	srv = NULL;
	cr_expect_eq(lstat(sock, &st), 0, "someone else's file was removed");
}

Test(api_server, stop_sends_what_is_queued)
{
	struct conn *a;
	char line[API_MAX_REPLY], want[256];
	size_t n;

	srv = start();
	a = conn_open();
	send_line(a, "{\"request\": \"events\"}");
	expect_line(a, EVENTS_OK, "subscribes");
	for (unsigned i = 0; i < 100; i++)
		api_server_event(srv, want, event_line(want, 200, i));
	api_server_stop(srv, 5000);
	srv = NULL;
	for (unsigned i = 0; i < 100; i++) {
		n = event_line(want, 200, i);
		want[n - 1] = 0;
		cr_assert_geq(conn_line(a, line, sizeof(line)), 0, "event %u lost", i);
		cr_assert_str_eq(line, want);
	}
	expect_eof(a, "closed after the last event");
	conn_close(a);
}

Test(api_server, stop_with_a_client_that_does_not_read_keeps_its_timeout)
{
	/* 250 kB: more than the socket takes, less than API_MAX_QUEUED. */
	enum { SIZE = 1000, COUNT = 250, TIMEOUT_MS = 500, SLACK_MS = 5000 };
	struct conn *slow;
	char line[API_MAX_REPLY], want[SIZE];
	unsigned got = 0;
	double t0, took;

	srv = start();
	slow = conn_open();
	send_line(slow, "{\"request\": \"events\"}");
	expect_line(slow, EVENTS_OK, "subscribes");
	for (unsigned i = 0; i < COUNT; i++)
		api_server_event(srv, want, event_line(want, SIZE, i));
	t0 = clock_ms(CLOCK_MONOTONIC);
	api_server_stop(srv, TIMEOUT_MS);
	took = clock_ms(CLOCK_MONOTONIC) - t0;
	srv = NULL;
	cr_expect_lt(took, TIMEOUT_MS + SLACK_MS, "stop took %.0f ms", took);
	while (conn_line(slow, line, sizeof(line)) >= 0)
		got++;
	cr_expect_lt(got, COUNT, "everything fit in the socket: nothing was waited for");
	conn_close(slow);
}
