/* peak-rss - test tool: runs a command and records its peak resident set
 * size, so the rig's soak can watch torpor's memory from cycle to cycle.
 *
 * usage: peak-rss FILE CMD [ARG...]
 *
 * Runs CMD, waits for it and writes to FILE one line: the peak RSS in KiB of
 * CMD and of the descendants it waited for (wait4's ru_maxrss). Exits with
 * CMD's exit status, or 128 + the signal that killed it.
 *
 * Busybox's `time -v` is no substitute: it scales ru_maxrss, already in KiB
 * on Linux, by the page size over 1024 (4x too much with 4 KiB pages). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: peak-rss FILE CMD [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("peak-rss: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "peak-rss: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("peak-rss: wait4");
			return 1;
		}
	}
	out = fopen(argv[1], "w");
	if (!out || fprintf(out, "%ld\n", ru.ru_maxrss) < 0 || fclose(out)) {
		fprintf(stderr, "peak-rss: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
