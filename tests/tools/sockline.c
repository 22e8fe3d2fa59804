/* sockline - test tool: sends raw bytes to a UNIX stream socket and prints
 * the lines that come back, so the rig can feed torpor's control socket
 * what `torpor ctl` never would (malformed JSON, NUL bytes, huge lines).
 *
 * usage: sockline PATH N [SECONDS]
 *
 * Connects to PATH, writes all of stdin to it without closing its end,
 * then prints what it reads until N lines came or SECONDS (10) passed.
 * Exits 0 when N lines came, 1 when fewer did (the peer closed or the time
 * ran out), 2 on bad usage or when it cannot connect. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double deadline;
	long want, got = 0;
	char buf[65536];
	ssize_t n;
	int fd;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path) ||
	    (want = strtol(argv[2], NULL, 10)) < 0) {
		fprintf(stderr, "usage: sockline PATH N [SECONDS]\n");
		return 2;
	}
	deadline = now() + (argc > 3 ? atof(argv[3]) : 10.0);
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "sockline: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (send_all(fd, buf, (size_t)n) < 0) {
			/* The peer may hang up on what it was sent: read what it said. */
			fprintf(stderr, "sockline: send: %s\n", strerror(errno));
			break;
		}
	while (got < want) {
		struct pollfd pf = { fd, POLLIN, 0 };
		double left = deadline - now();

		if (left <= 0 || poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
		for (ssize_t i = 0; i < n; i++)
			got += buf[i] == '\n';
	}
	fflush(stdout);
	close(fd);
	return got >= want ? 0 : 1;
}
