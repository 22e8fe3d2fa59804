/* main.c - torpor's command dispatcher. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exitcodes.h"
#include "log.h"

static const char usage[] =
"usage: torpor COMMAND [options]\n"
"\n"
"A virtual machine monitor for arm64 KVM that checkpoints a guest when it\n"
"suspends itself, and restores it later.\n"
"\n"
"commands:\n"
"  run       boot a kernel (torpor run --help)\n"
"  restore   resume a guest from an image (torpor restore --help)\n"
"  inspect   describe an image (--json for scripts)\n"
"  verify    check every checksum of an image\n"
"  ctl       talk to a running torpor's control socket (torpor ctl --help)\n"
"\n"
"  -h, --help       this text\n"
"  -V, --version    the version\n"
"\n"
"exit codes: 0 ok / guest powered off, 1 runtime failure, 2 usage,\n"
"3 bad kernel or initrd, 4 no usable KVM, 5 bad or incompatible image,\n"
"6 guest reset, 7 guest hibernated, 8 guest crashed, 9 checkpoint failed,\n"
"10 (ctl) nothing answers at the socket, 128+N stopped by signal N.\n";

int cli_exit_code(int ret)
{
	struct failure f;

	if (ret >= 0)
		return ret;
	fail_take(&f);
	if (f.msg[0])
		fprintf(stderr, "torpor: %s\n", f.msg);
	return f.exit_code;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
		{ "run", cmd_run },
		{ "restore", cmd_restore },
		{ "inspect", cmd_inspect },
		{ "verify", cmd_verify },
		{ "ctl", cmd_ctl },
	};

	if (argc < 2) {
		fputs("torpor: no command given (see 'torpor --help')\n", stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("torpor %s\n", TORPOR_VERSION);
		return EXIT_OK;
	}
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "torpor: unknown command '%s' (see 'torpor --help')\n", argv[1]);
	return EXIT_USAGE;
}
