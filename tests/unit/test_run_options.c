/* test_run_options.c - size parsing and the `run` / `restore` command lines:
 * defaults, every option, the suspend-mode rules and each way to get it
 * wrong. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run_options.h"

#define MAX_ARGS        24
#define CASE_ARGS       14

/* Criterion runs each parameter in a new process image, so table entries
 * hold their strings rather than pointers to them. An empty string ends the
 * argument list. */
struct argv_case {
	char argv[CASE_ARGS][24];
	char msg[64];           /* text the error message must hold */
};

typedef int (*parse_fn)(struct run_options *, int, char **, char *, size_t);

/* Copies the table's argv (getopt wants char **) and parses it. */
/* args is NULL-terminated; getopt wants char **, which it does not write
 * through with a leading '+' in its option string. */
static int parse_with(parse_fn fn, struct run_options *o, const char *const *args,
		      char *err, size_t errlen)
{
	char *argv[MAX_ARGS + 1] = { 0 };
	int argc = 0;

	while (args[argc]) {
		cr_assert_lt(argc, MAX_ARGS);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	err[0] = '\0';
	return fn(o, argc, argv, err, errlen);
}

/* Parses command cmd with a table's arguments. */
static int parse_table(parse_fn fn, const char *cmd, const char (*argv)[24],
		       struct run_options *o, char *err, size_t errlen)
{
	const char *args[CASE_ARGS + 2] = { cmd };

	for (int i = 0; i < CASE_ARGS && argv[i][0]; i++)
		args[i + 1] = argv[i];
	return parse_with(fn, o, args, err, errlen);
}

#define RUN(o, err, ...) \
	parse_with(run_options_parse, (o), (const char *const[]){ "run", __VA_ARGS__, NULL }, \
		   (err), sizeof(err))
#define RESTORE(o, err, ...) \
	parse_with(restore_options_parse, (o), \
		   (const char *const[]){ "restore", __VA_ARGS__, NULL }, (err), sizeof(err))

/* --- parse_size ------------------------------------------------------------ */

struct size_case {
	char s[24];
	uint64_t want;
};

ParameterizedTestParameters(parse_size, good)
{
	static struct size_case cases[] = {
		{ "0", 0 },
		{ "1", 1ULL << 20 },            /* no suffix: MiB */
		{ "512", 512ULL << 20 },
		{ "4K", 4096 }, { "4k", 4096 },
		{ "2M", 2ULL << 20 }, { "2m", 2ULL << 20 },
		{ "3G", 3ULL << 30 }, { "3g", 3ULL << 30 },
		{ "1T", 1ULL << 40 }, { "1t", 1ULL << 40 },
		{ "512MiB", 512ULL << 20 }, { "512MB", 512ULL << 20 },
		{ "8KiB", 8192 }, { "1GB", 1ULL << 30 },
		{ "007M", 7ULL << 20 },
		/* the largest value each unit can hold */
		{ "16777215T", 16777215ULL << 40 },
		{ "17179869183G", 17179869183ULL << 30 },
		{ "17592186044415", 17592186044415ULL << 20 },
		{ "18014398509481983K", 18014398509481983ULL << 10 },
	};

	return cr_make_param_array(struct size_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct size_case *c, parse_size, good)
{
	uint64_t v = 0xdeadbeef;

	cr_assert_eq(parse_size(c->s, &v), 0, "'%s' refused", c->s);
	cr_expect_eq(v, c->want, "'%s' = %llu, want %llu", c->s,
		     (unsigned long long)v, (unsigned long long)c->want);
}

ParameterizedTestParameters(parse_size, bad)
{
	static char cases[][24] = {
		"", "M", "K1", "-1", "+1", " 1", "1 ", "1 M", "1X", "1.5G", "0x10",
		"1Mi", "1MiBs", "1MBB", "1iB", "1B", "1MiB\n", "1kb", "1Mib",
		/* overflow: past 64 bits after the shift, or in strtoull itself */
		"16777216T", "17179869184G", "17592186044416", "18014398509481984K",
		"18446744073709551615", "18446744073709551616",
		"99999999999999999999999K",
	};

	return cr_make_param_array(char[24], cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(char (*s)[24], parse_size, bad)
{
	uint64_t v = 0;

	cr_expect_eq(parse_size(*s, &v), -EINVAL, "'%s' accepted as %llu", *s,
		     (unsigned long long)v);
}

Test(parse_size, null_is_invalid)
{
	uint64_t v;

	cr_expect_eq(parse_size(NULL, &v), -EINVAL);
}

/* --- run ------------------------------------------------------------------- */

Test(run_options, defaults_with_only_a_kernel)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RUN(&o, err, "--kernel", "Image"), 0, "%s", err);
	cr_expect_str_eq(o.kernel, "Image");
	cr_expect_null(o.initrd);
	cr_expect_null(o.cmdline);
	cr_expect_null(o.image);
	cr_expect_null(o.restore_from);
	cr_expect_eq(o.cpus, RUN_DEFAULT_CPUS);
	cr_expect_eq(o.memory, RUN_DEFAULT_MEMORY);
	cr_expect_eq(o.on_suspend, SUSPEND_DENY);
	cr_expect_eq(o.on_suspend_set, 0);
	cr_expect_eq(o.clock, CLOCK_CONTINUE);
	cr_expect_eq(o.wake, 1);
	cr_expect_eq(o.help, 0);
}

/* A command line that parses, and what it must give; "" for options that
 * stay unset (NULL). */
struct run_case {
	char argv[CASE_ARGS][24];
	char kernel[8], initrd[8], cmdline[24], image[8];
	unsigned cpus;
	uint64_t memory;
	enum suspend_mode on_suspend;
	int on_suspend_set;
};

ParameterizedTestParameters(run_options, good)
{
	static struct run_case cases[] = {
		{ { "--kernel", "k", "--initrd", "rd", "--cmdline", "console=ttyS0 quiet",
		    "--cpus", "4", "--memory", "1G", "--image", "vm.img", "--on-suspend",
		    "snapshot" }, "k", "rd", "console=ttyS0 quiet", "vm.img",
		  4, 1ULL << 30, SUSPEND_SNAPSHOT, 1 },
		/* short options; --image alone means hibernate */
		{ { "-k", "k", "-i", "rd", "-p", "quiet", "-c", "2", "-m", "64", "-o", "img" },
		  "k", "rd", "quiet", "img", 2, 64ULL << 20, SUSPEND_HIBERNATE, 0 },
		{ { "--kernel=k2", "--memory=2G", "--cpus=32" }, "k2", "", "", "",
		  32, 2ULL << 30, SUSPEND_DENY, 0 },
		{ { "--kernel", "k", "--image", "vm.img" }, "k", "", "", "vm.img",
		  1, RUN_DEFAULT_MEMORY, SUSPEND_HIBERNATE, 0 },
		{ { "--on-suspend", "deny", "--kernel", "k", "--image", "x" }, "k", "", "", "x",
		  1, RUN_DEFAULT_MEMORY, SUSPEND_DENY, 1 },
		{ { "--kernel", "k", "--on-suspend", "hibernate", "--image", "x" }, "k", "", "", "x",
		  1, RUN_DEFAULT_MEMORY, SUSPEND_HIBERNATE, 1 },
		{ { "--kernel", "k", "--on-suspend", "deny" }, "k", "", "", "",
		  1, RUN_DEFAULT_MEMORY, SUSPEND_DENY, 1 },
		/* the limits are inclusive */
		{ { "--kernel", "k", "--memory", "1M", "--cpus", "1" }, "k", "", "", "",
		  1, 1ULL << 20, SUSPEND_DENY, 0 },
		{ { "--kernel", "k", "--memory", "1088K" }, "k", "", "", "",
		  1, 1088ULL << 10, SUSPEND_DENY, 0 },
		{ { "--kernel", "k", "--memory", "1024K" }, "k", "", "", "",
		  1, 1ULL << 20, SUSPEND_DENY, 0 },
		{ { "--kernel", "k", "--memory", "1022G" }, "k", "", "", "",
		  1, 1022ULL << 30, SUSPEND_DENY, 0 },
		{ { "--kernel", "k", "--memory", "1022GiB" }, "k", "", "", "",
		  1, 1022ULL << 30, SUSPEND_DENY, 0 },
	};

	return cr_make_param_array(struct run_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void expect_opt(const char *got, const char *want, const char *what)
{
	if (!want[0])
		cr_expect_null(got, "%s set to '%s'", what, got);
	else
		cr_expect(got && !strcmp(got, want), "%s is '%s', want '%s'", what,
			  got ? got : "(unset)", want);
}

ParameterizedTest(struct run_case *c, run_options, good)
{
	struct run_options o;
	char err[160];

	cr_assert_eq(parse_table(run_options_parse, "run", c->argv, &o, err, sizeof(err)), 0,
		     "%s", err);
	expect_opt(o.kernel, c->kernel, "kernel");
	expect_opt(o.initrd, c->initrd, "initrd");
	expect_opt(o.cmdline, c->cmdline, "cmdline");
	expect_opt(o.image, c->image, "image");
	cr_expect_eq(o.cpus, c->cpus);
	cr_expect_eq(o.memory, c->memory);
	cr_expect_eq(o.on_suspend, c->on_suspend);
	cr_expect_eq(o.on_suspend_set, c->on_suspend_set);
	cr_expect_null(o.restore_from);
	cr_expect_eq(o.help, 0);
}

Test(run_options, help_needs_no_kernel)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RUN(&o, err, "--help"), 0);
	cr_expect_eq(o.help, 1);
	cr_assert_eq(RUN(&o, err, "-h"), 0);
	cr_expect_eq(o.help, 1);
}

/* optind is reset on every call: a failed parse does not leak into the next. */
Test(run_options, parses_again_after_an_error)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RUN(&o, err, "--kernel", "a", "--cpus", "99"), -EINVAL);
	cr_assert_eq(RUN(&o, err, "--kernel", "b", "--cpus", "3"), 0, "%s", err);
	cr_expect_str_eq(o.kernel, "b");
	cr_expect_eq(o.cpus, 3);
	cr_expect_eq(o.memory, RUN_DEFAULT_MEMORY, "defaults come back each call");

	/* -h returns in the middle of a cluster of short options; the rest of
	 * it must not be taken up by the next call. */
	cr_assert_eq(RUN(&o, err, "-hc7"), 0);
	cr_assert_eq(RUN(&o, err, "--kernel", "c"), 0, "%s", err);
	cr_expect_eq(o.cpus, RUN_DEFAULT_CPUS);
	cr_expect_eq(o.help, 0);
}

ParameterizedTestParameters(run_options, bad)
{
	static struct argv_case cases[] = {
		{ { "" }, "--kernel FILE is required" },
		{ { "--initrd", "rd" }, "--kernel FILE is required" },
		{ { "--kernel", "k", "--cpus", "0" }, "--cpus must be 1..32: '0'" },
		{ { "--kernel", "k", "--cpus", "33" }, "--cpus must be 1..32: '33'" },
		{ { "--kernel", "k", "--cpus", "-1" }, "--cpus" },
		{ { "--kernel", "k", "--cpus", "2x" }, "--cpus" },
		{ { "--kernel", "k", "--cpus=" }, "--cpus must be 1..32: ''" },
		{ { "--kernel", "k", "--cpus", "99999999999999999999" }, "--cpus" },
		{ { "--kernel", "k", "--memory", "1023K" }, "--memory must be a size: '1023K'" },
		{ { "--kernel", "k", "--memory", "1023G" }, "--memory" },
		{ { "--kernel", "k", "--memory", "1T" }, "--memory" },
		{ { "--kernel", "k", "--memory", "0" }, "--memory" },
		{ { "--kernel", "k", "--memory", "lots" }, "--memory" },
		{ { "--kernel", "k", "--memory", "1X" }, "--memory" },
		/* KVM maps RAM in pages: refused at start, not at boot */
		{ { "--kernel", "k", "--memory", "1025K" },
		  "--memory must be a multiple of 64K: '1025K'" },
		{ { "--kernel", "k", "--memory", "1056K" }, "--memory must be a multiple" },
		{ { "--kernel", "k", "--image", "dir/" },
		  "--image must name a file, not a directory: 'dir/'" },
		{ { "--kernel", "k", "--on-suspend", "sleep" }, "--on-suspend must be" },
		{ { "--kernel", "k", "--on-suspend", "hibernate" },
		  "--on-suspend hibernate needs --image PATH" },
		{ { "--kernel", "k", "--on-suspend", "snapshot" },
		  "--on-suspend snapshot needs --image PATH" },
		{ { "--kernel", "k", "--bogus" }, "unknown or incomplete option: '--bogus'" },
		{ { "--kernel", "k", "-x" }, "unknown or incomplete option: '-x'" },
		/* an unknown letter inside a cluster names the cluster, not the
		 * argument before it */
		{ { "--kernel", "k", "-xh" }, "unknown or incomplete option: '-xh'" },
		{ { "--kernel" }, "unknown or incomplete option: '--kernel'" },
		{ { "--kernel", "k", "--memory" }, "unknown or incomplete option: '--memory'" },
		{ { "-k" }, "unknown or incomplete option: '-k'" },
		{ { "--kernel", "k", "extra" }, "unexpected argument: 'extra'" },
		{ { "Image", "--kernel", "k" }, "unexpected argument: 'Image'" },
		{ { "--kernel=k", "--disk=a", "--disk=b", "--disk=c", "--disk=d", "--disk=e",
		    "--disk=f", "--disk=g", "--disk=h", "--disk=i" }, "at most 8 --disk options: 'i'" },
		{ { "--kernel", "k", "--disk", "a,fast" }, "unknown option 'fast'" },
		{ { "--kernel", "k", "--disk", "" }, "--disk" },
		{ { "--kernel", "k", "--disk" }, "unknown or incomplete option: '--disk'" },
		{ { "--kernel=k", "--net=tap=a", "--net=tap=b", "--net=tap=c", "--net=tap=d",
		    "--net=tap=e" }, "at most 4 --net options: 'tap=e'" },
		{ { "--kernel", "k", "--net", "tap=t0", "--net", "tap=t0" },
		  "--net names a tap twice: 't0'" },
		{ { "--kernel", "k", "--net", "mac=02:00:00:00:00:01" }, "tap" },
		{ { "--kernel", "k", "--net" }, "unknown or incomplete option: '--net'" },
		{ { "--kernel", "k", "--chunk-size", "3K" },
		  "--chunk-size must be a power of two from 4K to 16M: '3K'" },
		{ { "--kernel", "k", "--chunk-size", "2K" }, "--chunk-size must be a power of two" },
		{ { "--kernel", "k", "--chunk-size", "96K" }, "--chunk-size must be a power of two" },
		{ { "--kernel", "k", "--chunk-size", "32M" }, "--chunk-size must be a power of two" },
		{ { "--kernel", "k", "--chunk-size", "1G" }, "--chunk-size must be a power of two" },
		{ { "--kernel", "k", "--chunk-size", "0" }, "--chunk-size must be a power of two" },
		{ { "--kernel", "k", "--chunk-size", "big" }, "--chunk-size must be a power of two" },
		{ { "--kernel", "k", "--chunk-size=" },
		  "--chunk-size must be a power of two from 4K to 16M: ''" },
		{ { "--kernel", "k", "--chunk-size" }, "unknown or incomplete option: '--chunk-size'" },
		/* a reader takes at most 2^22 chunks a region: 16G of 4K ones */
		{ { "--kernel", "k", "--memory", "17G", "--chunk-size", "4K" },
		  "--chunk-size cuts --memory into more than 4194304 chunks" },
		{ { "--kernel", "k", "--api-socket=" }, "--api-socket needs a path: ''" },
		{ { "--kernel", "k", "--api-socket" }, "unknown or incomplete option: '--api-socket'" },
		/* restore-only options are not run options */
		{ { "--kernel", "k", "--disk-overlay" }, "unknown or incomplete option" },
		{ { "--kernel", "k", "--clock", "freeze" }, "unknown or incomplete option" },
		{ { "--kernel", "k", "--no-wake" }, "unknown or incomplete option" },
	};

	return cr_make_param_array(struct argv_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The message must hold the expected text; "what: 'arg'" patterns are
 * matched as two pieces so the long explanations need not be repeated. */
static void expect_message(const char *err, const char *msg)
{
	const char *quote = strstr(msg, ": '");

	if (!quote) {
		cr_expect(strstr(err, msg), "message '%s' lacks '%s'", err, msg);
		return;
	}
	cr_expect(!strncmp(err, msg, (size_t)(quote - msg)), "message '%s' does not start "
		  "with '%.*s'", err, (int)(quote - msg), msg);
	cr_expect(strstr(err, quote), "message '%s' lacks '%s'", err, quote);
}

/* Runs command cmd with the case's arguments: refused with its message. */
static void expect_refused(parse_fn fn, const char *cmd, const struct argv_case *c)
{
	struct run_options o;
	char err[160];

	cr_assert_eq(parse_table(fn, cmd, c->argv, &o, err, sizeof(err)), -EINVAL,
		     "accepted (expected '%s')", c->msg);
	expect_message(err, c->msg);
}

ParameterizedTest(struct argv_case *c, run_options, bad)
{
	expect_refused(run_options_parse, "run", c);
}

/* --chunk-size: powers of two from 4K to 16M, in pages; unset it is 0, the
 * writer's default, on every call. */
Test(run_options, chunk_size)
{
	static const struct { const char *arg; uint32_t pages; } good[] = {
		{ "4K", 1 }, { "8k", 2 }, { "64K", 16 }, { "256K", 64 }, { "1M", 256 },
		{ "1", 256 }, { "4MiB", 1024 }, { "16M", 4096 },
	};
	struct run_options o;
	char err[128];

	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(RUN(&o, err, "--kernel", "k", "--chunk-size", good[i].arg), 0,
			     "%s: %s", good[i].arg, err);
		cr_expect_eq(o.chunk_pages, good[i].pages, "%s", good[i].arg);
	}
	cr_assert_eq(RUN(&o, err, "--kernel", "k", "--memory", "16G", "--chunk-size", "4K"), 0,
		     "%s", err);
	cr_assert_eq(RUN(&o, err, "--kernel", "k"), 0, "%s", err);
	cr_expect_eq(o.chunk_pages, 0);
}

/* --api-socket: any path a UNIX socket can have, kept as given; unset NULL
 * on every call. */
Test(run_options, api_socket)
{
	char path[108], longer[109];
	struct run_options o;
	char err[128];

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	cr_assert_eq(RUN(&o, err, "--kernel", "k", "--api-socket", path), 0, "%s", err);
	cr_expect_str_eq(o.api_socket, path);
	cr_assert_eq(RUN(&o, err, "--kernel", "k", "--api-socket", longer), -EINVAL);
	cr_expect(strstr(err, "--api-socket: the path is longer than 107 bytes"), "%s", err);
	cr_assert_eq(RESTORE(&o, err, "--api-socket=/run/vm.sock", "vm.img"), 0, "%s", err);
	cr_expect_str_eq(o.api_socket, "/run/vm.sock");
	cr_assert_eq(RUN(&o, err, "--kernel", "k"), 0, "%s", err);
	cr_expect_null(o.api_socket);
}

/* --- restore --------------------------------------------------------------- */

Test(restore_options, defaults_from_the_image)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RESTORE(&o, err, "vm.img"), 0, "%s", err);
	cr_expect_str_eq(o.restore_from, "vm.img");
	cr_expect_str_eq(o.image, "vm.img", "checkpoints go back to the image");
	cr_expect_eq(o.on_suspend, SUSPEND_HIBERNATE);
	cr_expect_eq(o.clock, CLOCK_CONTINUE);
	cr_expect_eq(o.wake, 1);
	cr_expect_eq(o.memory_mode, MEMORY_LAZY);
	cr_expect_null(o.kernel);
	cr_expect_eq(o.help, 0);
}

Test(restore_options, every_option)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RESTORE(&o, err, "--image", "next.img", "--on-suspend", "snapshot",
			     "--clock", "freeze", "--no-wake", "vm.img"), 0, "%s", err);
	cr_expect_str_eq(o.restore_from, "vm.img");
	cr_expect_str_eq(o.image, "next.img");
	cr_expect_eq(o.on_suspend, SUSPEND_SNAPSHOT);
	cr_expect_eq(o.clock, CLOCK_FREEZE);
	cr_expect_eq(o.wake, 0);

	cr_assert_eq(RESTORE(&o, err, "--clock=continue", "-o", "b.img", "a.img"), 0, "%s", err);
	cr_expect_eq(o.clock, CLOCK_CONTINUE);
	cr_expect_str_eq(o.image, "b.img");
	cr_expect_str_eq(o.restore_from, "a.img");
	cr_expect_eq(o.wake, 1, "--no-wake of the previous call does not stick");

	cr_assert_eq(RESTORE(&o, err, "--chunk-size", "64K", "vm.img"), 0, "%s", err);
	cr_expect_eq(o.chunk_pages, 16);
	cr_assert_eq(RESTORE(&o, err, "--chunk-size=16M", "vm.img"), 0, "%s", err);
	cr_expect_eq(o.chunk_pages, 4096);
	cr_assert_eq(RESTORE(&o, err, "vm.img"), 0, "%s", err);
	cr_expect_eq(o.chunk_pages, 0);

	cr_assert_eq(RESTORE(&o, err, "--memory", "eager", "vm.img"), 0, "%s", err);
	cr_expect_eq(o.memory_mode, MEMORY_EAGER);
	cr_assert_eq(RESTORE(&o, err, "--memory=lazy", "vm.img"), 0, "%s", err);
	cr_expect_eq(o.memory_mode, MEMORY_LAZY);
	cr_assert_eq(RESTORE(&o, err, "--memory", "eager", "vm.img"), 0, "%s", err);
	cr_assert_eq(RESTORE(&o, err, "vm.img"), 0, "%s", err);
	cr_expect_eq(o.memory_mode, MEMORY_LAZY, "--memory of the previous call does not stick");
}

Test(restore_options, deny_keeps_running_without_checkpoints)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RESTORE(&o, err, "--on-suspend", "deny", "vm.img"), 0, "%s", err);
	cr_expect_eq(o.on_suspend, SUSPEND_DENY);
	cr_expect_str_eq(o.restore_from, "vm.img");
}

/* Disks in order, with their options split off the path. */
Test(run_options, disks_in_order)
{
	char d0[] = "root.raw", d1[] = "data.raw,readonly,serial=DATA-1";
	struct run_options o;
	char err[128];

	cr_assert_eq(RUN(&o, err, "--kernel", "k", "--disk", d0, "--disk", d1), 0, "%s", err);
	cr_assert_eq(o.ndisks, 2);
	cr_expect_str_eq(o.disks[0].path, "root.raw");
	cr_expect_eq(o.disks[0].readonly, 0);
	cr_expect_null(o.disks[0].serial);
	cr_expect_str_eq(o.disks[1].path, "data.raw");
	cr_expect_eq(o.disks[1].readonly, 1);
	cr_expect_str_eq(o.disks[1].serial, "DATA-1");
	cr_assert_eq(RUN(&o, err, "--kernel", "k"), 0, "%s", err);
	cr_expect_eq(o.ndisks, 0, "disks of the previous call do not stick");
}

/* Cards in order, each with its MAC if given; --no-vmgenid. */
Test(run_options, nets_in_order)
{
	static const uint8_t mac[MAC_LEN] = { 0x02, 0, 0, 0, 0, 0x42 };
	struct run_options o;
	char err[128];

	cr_assert_eq(RUN(&o, err, "--kernel", "k", "--net", "tap=tap0", "--net",
			 "tap=tap1,mac=02:00:00:00:00:42", "--no-vmgenid"), 0, "%s", err);
	cr_assert_eq(o.nnets, 2);
	cr_expect_str_eq(o.nets[0].tap, "tap0");
	cr_expect_eq(o.nets[0].mac_set, 0);
	cr_expect_str_eq(o.nets[1].tap, "tap1");
	cr_expect_eq(o.nets[1].mac_set, 1);
	cr_expect_eq(memcmp(o.nets[1].mac, mac, MAC_LEN), 0);
	cr_expect_eq(o.no_vmgenid, 1);
	cr_assert_eq(RUN(&o, err, "--kernel", "k"), 0, "%s", err);
	cr_expect_eq(o.nnets, 0, "cards of the previous call do not stick");
	cr_expect_eq(o.no_vmgenid, 0);
}

/* restore --net moves a card to another tap, or only changes its MAC. */
Test(restore_options, nets)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RESTORE(&o, err, "--net", "tap=other", "--net", "mac=02:00:00:00:00:07",
			     "--no-vmgenid", "vm.img"), 0, "%s", err);
	cr_assert_eq(o.nnets, 2);
	cr_expect_str_eq(o.nets[0].tap, "other");
	cr_expect_eq(o.nets[0].mac_set, 0);
	cr_expect_str_eq(o.nets[1].tap, "");
	cr_expect_eq(o.nets[1].mac_set, 1);
	cr_expect_eq(o.nets[1].mac[5], 7);
	cr_expect_eq(o.no_vmgenid, 1);
}

/* restore --disk relocates; --disk-overlay cannot checkpoint, so it denies
 * suspends and writes no image. */
Test(restore_options, disks_and_overlay)
{
	char d0[] = "/elsewhere/root.raw";
	struct run_options o;
	char err[128];

	cr_assert_eq(RESTORE(&o, err, "--disk", d0, "vm.img"), 0, "%s", err);
	cr_assert_eq(o.ndisks, 1);
	cr_expect_str_eq(o.disks[0].path, "/elsewhere/root.raw");
	cr_expect_eq(o.disk_overlay, 0);
	cr_expect_eq(o.on_suspend, SUSPEND_HIBERNATE);
	cr_assert_eq(RESTORE(&o, err, "--disk-overlay", "vm.img"), 0, "%s", err);
	cr_expect_eq(o.disk_overlay, 1);
	cr_expect_eq(o.on_suspend, SUSPEND_DENY);
	cr_expect_null(o.image);
	cr_assert_eq(RESTORE(&o, err, "--disk-overlay", "--on-suspend", "deny", "vm.img"), 0,
		     "%s", err);
	cr_expect_eq(o.on_suspend, SUSPEND_DENY);
}

Test(restore_options, help)
{
	struct run_options o;
	char err[128];

	cr_assert_eq(RESTORE(&o, err, "--help"), 0);
	cr_expect_eq(o.help, 1);
}

ParameterizedTestParameters(restore_options, bad)
{
	static struct argv_case cases[] = {
		{ { "" }, "IMAGE is required" },
		{ { "--no-wake" }, "IMAGE is required" },
		{ { "a.img", "b.img" }, "exactly one IMAGE expected" },
		{ { "--clock", "stop", "vm.img" }, "--clock must be continue or freeze: 'stop'" },
		{ { "--clock" }, "unknown or incomplete option: '--clock'" },
		{ { "--no-wake", "--force-wake", "vm.img" },
		  "--no-wake and --force-wake exclude each other" },
		{ { "--image", "out/", "vm.img" },
		  "--image must name a file, not a directory: 'out/'" },
		{ { "--on-suspend", "nap", "vm.img" }, "--on-suspend must be" },
		{ { "--bogus", "vm.img" }, "unknown or incomplete option: '--bogus'" },
		{ { "-xh", "vm.img" }, "unknown or incomplete option: '-xh'" },
		{ { "--kernel", "k", "vm.img" }, "unknown or incomplete option: '--kernel'" },
		{ { "--cpus", "2", "vm.img" }, "unknown or incomplete option: '--cpus'" },
		{ { "--no-wake=1", "vm.img" }, "unknown or incomplete option" },
		{ { "--disk", "a.raw,readonly", "vm.img" }, "restore --disk takes a path only" },
		{ { "--disk-overlay", "--on-suspend", "hibernate", "vm.img" },
		  "--disk-overlay cannot be checkpointed" },
		{ { "--disk-overlay", "--on-suspend", "snapshot", "vm.img" },
		  "--disk-overlay cannot be checkpointed" },
		{ { "--chunk-size", "128", "vm.img" },
		  "--chunk-size must be a power of two from 4K to 16M: '128'" },
		{ { "--chunk-size", "48K", "vm.img" }, "--chunk-size must be a power of two" },
		{ { "--memory", "1G", "vm.img" }, "--memory must be lazy or eager" },
		{ { "--api-socket=", "vm.img" }, "--api-socket needs a path" },
		{ { "--memory", "vm.img" }, "--memory must be lazy or eager" },
	};

	return cr_make_param_array(struct argv_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct argv_case *c, restore_options, bad)
{
	expect_refused(restore_options_parse, "restore", c);
}

/* --image checked at start: a directory, or a directory that cannot be
 * written into, is refused with a message naming it. */
Test(image_path_check, directory_or_unwritable)
{
	char dir[] = "/tmp/torpor-opts-XXXXXX", path[64], err[256];

	cr_assert_not_null(mkdtemp(dir));
	cr_expect_eq(image_path_check(dir, err, sizeof(err)), -EISDIR);
	cr_expect_not_null(strstr(err, "is a directory"), "%s", err);
	snprintf(path, sizeof(path), "%s/vm.torpor", dir);
	cr_expect_eq(image_path_check(path, err, sizeof(err)), 0, "%s", err);
	snprintf(path, sizeof(path), "%s/none/vm.torpor", dir);
	cr_expect_eq(image_path_check(path, err, sizeof(err)), -ENOENT);
	cr_expect_not_null(strstr(err, "cannot write into directory"), "%s", err);
	cr_expect_eq(image_path_check("vm.torpor", err, sizeof(err)), 0, "%s", err);
	rmdir(dir);
}
