/* cmd_ctl.c - `torpor ctl PATH REQUEST [ARGS]`: talk to a running torpor
 * through its control socket (--api-socket PATH; formats/torpor-api.md). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctl.h"
#include "exitcodes.h"

static const char ctl_usage[] =
"usage: torpor ctl [--json] PATH REQUEST [--image PATH] [--timeout SECONDS]\n"
"\n"
"Sends one request to the torpor whose control socket is PATH (run or\n"
"restore --api-socket PATH) and prints its reply: \"key: value\" lines, or\n"
"with --json the reply line as received. An error reply is printed as\n"
"\"torpor ctl: <error>\" on stderr (--json: the line, on stdout).\n"
"\n"
"requests:\n"
"  status      state (running, suspend-requested, checkpointing, asleep,\n"
"              powering-off), vcpus, ram_bytes, image, on_suspend, uptime_s,\n"
"              pid; after a checkpoint last_image, last_bytes, last_ratio,\n"
"              last_seconds\n"
"  hibernate   press the sleep key, checkpoint when the guest suspends, and\n"
"              end torpor (its exit status 7); replies image, bytes, ratio,\n"
"              seconds, suspend_s, checkpoint_s\n"
"  snapshot    the same, and the guest goes on running\n"
"    --image PATH      write this image instead of run's --image (a\n"
"                      relative PATH is taken from ctl's directory)\n"
"    --timeout SECONDS how long the guest has to suspend (0.1 to 86400,\n"
"                      default 60); it keeps running if it does not\n"
"  poweroff    press the power key and wait for the guest to power off\n"
"    --timeout SECONDS as above\n"
"  quit        end torpor now: the guest is lost\n"
"  wake        wake a guest held asleep (restore --no-wake)\n"
"  events      follow the VM's events, one line each, until it closes the\n"
"              socket: \"<event> key=value ...\" (--json: as received)\n"
"\n"
"events:\n"
"  suspend-requested   the sleep key was pressed\n"
"  checkpoint-started  the guest suspended; the image is being written\n"
"  checkpoint-done     image, bytes, ratio, seconds\n"
"  checkpoint-failed   reason (the guest keeps running)\n"
"  resumed             the guest runs again at its resume entry point\n"
"                      (after a snapshot, or a restore's wakeup)\n"
"  wakeup              how torpor woke a restored guest (how)\n"
"  poweroff            the guest powered off\n"
"  exit                code: torpor's exit status\n"
"\n"
"exit codes: 0 ok (events: the VM closed the socket), 1 the VM answered\n"
"an error (or something that is not a reply), 2 usage, 10 nothing answers\n"
"at PATH (no such socket, connection refused, not a socket) or the\n"
"connection broke before the reply.\n";

/* torpor runs in a directory of its own: a relative --image is made
 * absolute here, where the user meant it. */
static int absolute_image(struct ctl_options *o, char *buf, size_t len)
{
	size_t n;

	if (!o->image || o->image[0] == '/')
		return 0;
	if (!getcwd(buf, len))
		return -1;
	n = strlen(buf);
	if ((size_t)snprintf(buf + n, len - n, "/%s", o->image) >= len - n)
		return -1;
	o->image = buf;
	return 0;
}

int cmd_ctl(int argc, char **argv)
{
	static char image[PATH_MAX];
	struct ctl_options o;
	char err[512];

	if (ctl_options_parse(&o, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "torpor ctl: %s (see 'torpor ctl --help')\n", err);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(ctl_usage, stdout);
		return EXIT_OK;
	}
	if (absolute_image(&o, image, sizeof(image))) {
		fprintf(stderr, "torpor ctl: --image: cannot make '%s' an absolute path\n",
			o.image);
		return EXIT_USAGE;
	}
	return ctl_run(&o, stdout, stderr);
}
