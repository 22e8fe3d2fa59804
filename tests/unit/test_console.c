/* test_console.c - the console on a real terminal (a pseudo-terminal): raw
 * mode while the VM runs, the terminal given back on every way out, fatal
 * signals included, and log lines that end in \r\n while it is raw. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "log.h"

static int master = -1, slave = -1;

static void open_pty(void)
{
	master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	cr_assert_geq(slave, 0);
}

static size_t no_input(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	return len;
}

static void no_quit(void *ctx)
{
	(void)ctx;
}

/* In a child whose stdin, stdout and stderr are the terminal: starts the
 * console (raw mode), then ends as how says. */
static pid_t child(int how)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct console_ops ops = { no_input, no_quit, NULL };
		struct console *c;

		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (console_open(&c, &ops) || console_start(c))
			_exit(90);
		log_info("raw line");
		if (how)
			raise(how);
		console_close(c);
		log_info("cooked line");
		_exit(0);
	}
	return pid;
}

/* The terminal after the child: canonical, echoing, output processed. */
static void expect_cooked(const char *what)
{
	struct termios t;

	cr_assert_eq(tcgetattr(slave, &t), 0);
	cr_expect(t.c_lflag & ICANON, "%s: left without ICANON", what);
	cr_expect(t.c_lflag & ECHO, "%s: left without ECHO", what);
	cr_expect(t.c_oflag & OPOST, "%s: left without OPOST", what);
}

static void run(int how, int want_sig)
{
	int status;
	pid_t pid;

	open_pty();
	pid = child(how);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (want_sig)
		cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == want_sig,
			  "status 0x%x, want killed by %d", status, want_sig);
	else
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	expect_cooked(want_sig ? strsignal(want_sig) : "console_close");
}

Test(console, close_gives_the_terminal_back)
{
	run(0, 0);
}

Test(console, sigsegv_gives_the_terminal_back)
{
	run(SIGSEGV, SIGSEGV);
}

Test(console, sigabrt_gives_the_terminal_back)
{
	run(SIGABRT, SIGABRT);
}

Test(console, sigquit_gives_the_terminal_back)
{
	run(SIGQUIT, SIGQUIT);
}

/* While raw, the terminal adds no \r: the log line must carry it. After
 * close, the terminal's own output processing turns \n into \r\n. */
Test(console, log_lines_end_in_crlf_while_raw)
{
	char buf[256];
	size_t len = 0;
	int status;
	ssize_t n;
	pid_t pid;

	open_pty();
	pid = child(0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(slave);
	while (len < sizeof(buf) - 1 && (n = read(master, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	cr_expect_not_null(strstr(buf, "torpor: raw line\r\n"), "got '%s'", buf);
	cr_expect_null(strstr(buf, "raw line\r\r\n"), "got '%s'", buf);
	cr_expect_not_null(strstr(buf, "torpor: cooked line\r\n"), "got '%s'", buf);
}
