/* netbench - test tool: TCP throughput between the rig's host and a guest
 * (or over the host's loopback), for net_bench in scripts/rig/lib.sh.
 * Busybox's nc and dd move data 8 KiB at a time through a pipe: under TCG
 * they, not the network, bound the rate, so both ends use this instead.
 *
 * usage: netbench serve PORT send MIB   accept one connection, send MIB MiB
 *                                       of zeros, close
 *        netbench serve PORT recv       accept one connection, read to EOF,
 *                                       answer the byte count, close
 *        netbench HOST PORT recv        connect, read to EOF; prints
 *                                       "BYTES USEC"
 *        netbench HOST PORT send MIB    connect, send MIB MiB, shut down
 *                                       the sending side, read the answer;
 *                                       prints "BYTES USEC"
 *
 * USEC runs from before connect() to the last byte read (recv) or to the
 * peer's answer, which it sends once it has read everything (send): what
 * the receiver got, not what a send buffer took. HOST is a dotted IPv4
 * address. A server prints "listening" once it listens. Exit status 0, or
 * 1 with a line on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static char buf[CHUNK];

static int die(const char *what)
{
	fprintf(stderr, "netbench: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Sends n bytes of zeros; 0 or -1. */
static int send_zeros(int fd, uint64_t n)
{
	memset(buf, 0, sizeof(buf));
	while (n) {
		size_t len = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		n -= (uint64_t)w;
	}
	return 0;
}

/* Reads to EOF; the byte count, or -1. */
static int64_t drain(int fd)
{
	int64_t total = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return total;
		total += r;
	}
}

static int parse_mib(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 4096) {
		fprintf(stderr, "netbench: bad MIB '%s' (1..4096)\n", s);
		return -1;
	}
	*bytes = (uint64_t)v << 20;
	return 0;
}

static int serve(int port, int sending, uint64_t bytes)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, ls, fd;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		return die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1))
		return die("bind/listen");
	printf("listening\n");
	fflush(stdout);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return die("accept");
	close(ls);
	if (sending) {
		if (send_zeros(fd, bytes))
			return die("write");
	} else {
		int64_t got = drain(fd);
		char line[32];
		int len;

		if (got < 0)
			return die("read");
		len = snprintf(line, sizeof(line), "%lld\n", (long long)got);
		if (write(fd, line, (size_t)len) != len)
			return die("write");
	}
	close(fd);
	return 0;
}

static int client(const char *host, int port, int sending, uint64_t bytes)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	uint64_t t0;
	int64_t got;
	int fd;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "netbench: bad address '%s'\n", host);
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return die("socket");
	t0 = now_us();
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return die("connect");
	if (sending) {
		char answer[32] = "";
		ssize_t r;

		if (send_zeros(fd, bytes) || shutdown(fd, SHUT_WR))
			return die("write");
		r = read(fd, answer, sizeof(answer) - 1);
		if (r <= 0)
			return die("read the answer");
		answer[r] = 0;
		got = strtoll(answer, NULL, 10);
		if ((uint64_t)got != bytes) {
			fprintf(stderr, "netbench: the peer read %lld bytes of %llu\n", (long long)got,
				(unsigned long long)bytes);
			return 1;
		}
	} else {
		got = drain(fd);
		if (got < 0)
			return die("read");
	}
	printf("%lld %llu\n", (long long)got, (unsigned long long)(now_us() - t0));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t bytes = 0;
	int port;

	if (argc >= 4 && !strcmp(argv[1], "serve")) {
		port = atoi(argv[2]);
		if (argc == 5 && !strcmp(argv[3], "send") && !parse_mib(argv[4], &bytes))
			return serve(port, 1, bytes);
		if (argc == 4 && !strcmp(argv[3], "recv"))
			return serve(port, 0, 0);
	} else if (argc >= 4) {
		port = atoi(argv[2]);
		if (argc == 4 && !strcmp(argv[3], "recv"))
			return client(argv[1], port, 0, 0);
		if (argc == 5 && !strcmp(argv[3], "send") && !parse_mib(argv[4], &bytes))
			return client(argv[1], port, 1, bytes);
	}
	fprintf(stderr, "usage: netbench serve PORT send MIB | serve PORT recv |\n"
		"                HOST PORT recv | HOST PORT send MIB\n");
	return 2;
}
