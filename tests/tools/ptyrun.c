/* ptyrun - test tool: runs a command on a new pseudo-terminal and types
 * Ctrl-A x on it at a chosen moment, so the rig can quit torpor from its
 * console the way a user at a terminal does (torpor reads its Ctrl-A escapes
 * only when stdin is a terminal).
 *
 * usage: ptyrun [--when-exists PATTERN] -- CMD [ARG...]
 *   CMD runs as a session leader with the pty as its controlling terminal,
 *   its stdin and stdout; stderr is ptyrun's. What it writes to the pty is
 *   copied to ptyrun's stdout. Once a file matches the glob PATTERN (checked
 *   every 10 ms), ptyrun writes 0x01 'x' to the pty, once, and says so on
 *   stderr. Exit status: CMD's, 128+N if signal N killed it, 125 if ptyrun
 *   itself failed, 127 if CMD could not be run. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed(const char *what)
{
	fprintf(stderr, "ptyrun: %s: %s\n", what, strerror(errno));
	return 125;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Copies what is waiting on the pty to stdout; -1 when nothing is left
 * (EAGAIN on the non-blocking drain) or on an error. */
static int copy_out(int master)
{
	char buf[4096];
	ssize_t n = read(master, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0 || write_all(STDOUT_FILENO, buf, (size_t)n))
		return -1;
	return 0;
}

static int exists(const char *pattern)
{
	glob_t g;
	int found;

	memset(&g, 0, sizeof(g));
	found = glob(pattern, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
	globfree(&g);
	return found;
}

int main(int argc, char **argv)
{
	const char *pattern = NULL, *name;
	int argi = 1, master, slave, status, typed = 0;
	pid_t pid;

	if (argi + 1 < argc && !strcmp(argv[argi], "--when-exists")) {
		pattern = argv[argi + 1];
		argi += 2;
	}
	if (argi >= argc || strcmp(argv[argi], "--") || argi + 1 >= argc) {
		fprintf(stderr, "usage: ptyrun [--when-exists PATTERN] -- CMD [ARG...]\n");
		return 125;
	}
	argi++;
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master) || !(name = ptsname(master)))
		return failed("creating a pseudo-terminal");
	/* Held open here too, so that reading the master never fails with EIO
	 * before the command opened the slave or after it closed it. */
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return failed(name);
	pid = fork();
	if (pid < 0)
		return failed("fork");
	if (pid == 0) {
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 ||
		    dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0) {
			fprintf(stderr, "ptyrun: setting up the terminal: %s\n", strerror(errno));
			_exit(125);
		}
		execvp(argv[argi], argv + argi);
		fprintf(stderr, "ptyrun: %s: %s\n", argv[argi], strerror(errno));
		_exit(127);
	}
	for (;;) {
		struct pollfd pf = { master, POLLIN, 0 };
		pid_t w;

		if (poll(&pf, 1, 10) < 0 && errno != EINTR)
			return failed("poll");
		if ((pf.revents & POLLIN) && copy_out(master))
			return failed("copying the terminal's output");
		if (pattern && !typed && exists(pattern)) {
			if (write_all(master, "\001x", 2))
				return failed("typing on the terminal");
			typed = 1;
			fprintf(stderr, "ptyrun: typed Ctrl-A x (%s exists)\n", pattern);
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w < 0)
			return failed("waitpid");
		if (w == pid)
			break;
	}
	/* The command is gone: what it wrote last is still in the pty. */
	if (fcntl(master, F_SETFL, O_NONBLOCK) < 0)
		return failed("fcntl");
	while (!copy_out(master))
		;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
