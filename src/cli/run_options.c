/* run_options.c - command-line parsing for `torpor run` and `torpor restore`. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "image_format.h"
#include "image_mem.h"
#include "memmap.h"
#include "run_options.h"

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 20;

	if (!s || !*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return -EINVAL;
		}
		/* Accept "512M" and "512MiB", nothing else after the unit. */
		if (end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_cpus(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > TORPOR_MAX_CPUS)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static void defaults(struct run_options *o)
{
	memset(o, 0, sizeof(*o));
	o->cpus = RUN_DEFAULT_CPUS;
	o->memory = RUN_DEFAULT_MEMORY;
	o->on_suspend = SUSPEND_DENY;
	o->clock = CLOCK_CONTINUE;
	o->wake = 1;
}

/* --image without --on-suspend means hibernate; --on-suspend other than deny
 * needs --image. */
static int finish_suspend(struct run_options *o, char *err, size_t errlen)
{
	if (o->image && !o->on_suspend_set)
		o->on_suspend = SUSPEND_HIBERNATE;
	if (!o->image && o->on_suspend != SUSPEND_DENY) {
		snprintf(err, errlen, "--on-suspend %s needs --image PATH",
			 o->on_suspend == SUSPEND_HIBERNATE ? "hibernate" : "snapshot");
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_ON_SUSPEND = 256, OPT_CLOCK, OPT_NO_WAKE, OPT_FORCE_WAKE, OPT_DISK,
	OPT_DISK_OVERLAY, OPT_NET, OPT_NO_VMGENID, OPT_CHUNK_SIZE, OPT_API_SOCKET,
};

static const struct option run_longopts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'p' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "memory", required_argument, NULL, 'm' },
	{ "image", required_argument, NULL, 'o' },
	{ "on-suspend", required_argument, NULL, OPT_ON_SUSPEND },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "no-vmgenid", no_argument, NULL, OPT_NO_VMGENID },
	{ "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
	{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int bad(char *err, size_t errlen, const char *what, const char *arg)
{
	snprintf(err, errlen, "%s: '%s'", what, arg ? arg : "");
	return -EINVAL;
}

/* --on-suspend, shared by run and restore. */
static int parse_on_suspend(struct run_options *o, const char *s, char *err,
			    size_t errlen)
{
	if (!strcmp(s, "hibernate"))
		o->on_suspend = SUSPEND_HIBERNATE;
	else if (!strcmp(s, "snapshot"))
		o->on_suspend = SUSPEND_SNAPSHOT;
	else if (!strcmp(s, "deny"))
		o->on_suspend = SUSPEND_DENY;
	else
		return bad(err, errlen, "--on-suspend must be hibernate, snapshot or deny", s);
	o->on_suspend_set = 1;
	return 0;
}

/* --image names the file checkpoints are written to: never a directory. */
static int parse_image(struct run_options *o, const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (!n || s[n - 1] == '/')
		return bad(err, errlen, "--image must name a file, not a directory", s);
	o->image = s;
	return 0;
}

/* --disk: up to VM_MAX_DISKS, each "PATH[,readonly][,serial=ID]"; on
 * restore a path only, as read-only and serial belong to the image. */
static int parse_disk(struct run_options *o, char *s, int restore, char *err,
		      size_t errlen)
{
	struct disk_spec *d = &o->disks[o->ndisks];

	if (o->ndisks == VM_MAX_DISKS)
		return bad(err, errlen, "at most 8 --disk options", s);
	if (restore && strchr(s, ','))
		return bad(err, errlen, "restore --disk takes a path only (read-only "
			   "and serial come from the image)", s);
	if (disk_spec_parse(s, d, err, errlen))
		return -EINVAL;
	o->ndisks++;
	return 0;
}

/* --net: up to VM_MAX_NICS, each "tap=NAME[,mac=MAC]"; on restore the
 * k-th names where the image's k-th card goes, and "mac=MAC" alone keeps
 * its tap. A tap named twice would be two cards on one wire. */
static int parse_net(struct run_options *o, const char *s, int restore, char *err,
		     size_t errlen)
{
	struct net_spec *n = &o->nets[o->nnets];

	if (o->nnets == VM_MAX_NICS) {
		snprintf(err, errlen, "at most %u --net options: '%s'", VM_MAX_NICS, s);
		return -EINVAL;
	}
	if (net_spec_parse(n, s, restore, err, errlen))
		return -EINVAL;
	for (unsigned i = 0; i < o->nnets; i++)
		if (n->tap[0] && !strcmp(o->nets[i].tap, n->tap))
			return bad(err, errlen, "--net names a tap twice", n->tap);
	o->nnets++;
	return 0;
}

/* --chunk-size: the memory chunk of the images this process writes, a
 * power of two from one page to MEM_CHUNK_PAGES_MAX pages. Powers of two
 * nest with host pages (4K, 16K, 64K) and huge pages, so a chunk is never
 * cut by a page that a lazy restore faults in whole. */
_Static_assert(MEM_PAGE_SIZE == 4096 && MEM_CHUNK_PAGES_MAX * MEM_PAGE_SIZE == 16u << 20,
	       "--chunk-size's message and help name 4K and 16M");

static int parse_chunk_size(struct run_options *o, const char *s, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_size(s, &v) || v < MEM_PAGE_SIZE ||
	    v > (uint64_t)MEM_CHUNK_PAGES_MAX * MEM_PAGE_SIZE || (v & (v - 1)))
		return bad(err, errlen, "--chunk-size must be a power of two from 4K to 16M", s);
	o->chunk_pages = (uint32_t)(v / MEM_PAGE_SIZE);
	return 0;
}

/* --api-socket: a path a UNIX socket can have (sun_path holds 107 bytes
 * and its NUL). */
static int parse_api_socket(struct run_options *o, const char *s, char *err, size_t errlen)
{
	if (!*s)
		return bad(err, errlen, "--api-socket needs a path", s);
	if (strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "--api-socket: the path is longer than %zu bytes, "
			 "more than a UNIX socket can have",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -EINVAL;
	}
	o->api_socket = s;
	return 0;
}

/* The options run and restore share (--image, --on-suspend, --disk, --net,
 * --no-vmgenid, --chunk-size, --api-socket);
 * anything else is unknown: 0, or -EINVAL with the message in err. */
static int parse_shared(struct run_options *o, int c, const char *arg, int restore,
			char *err, size_t errlen)
{
	if (c == 'o')
		return parse_image(o, optarg, err, errlen);
	if (c == OPT_ON_SUSPEND)
		return parse_on_suspend(o, optarg, err, errlen);
	if (c == OPT_DISK)
		return parse_disk(o, optarg, restore, err, errlen);
	if (c == OPT_NET)
		return parse_net(o, optarg, restore, err, errlen);
	if (c == OPT_NO_VMGENID) {
		o->no_vmgenid = 1;
		return 0;
	}
	if (c == OPT_CHUNK_SIZE)
		return parse_chunk_size(o, optarg, err, errlen);
	if (c == OPT_API_SOCKET)
		return parse_api_socket(o, optarg, err, errlen);
	return bad(err, errlen, "unknown or incomplete option", arg);
}

/* getopt_long, and in *at the argument it is about to look at: inside a
 * cluster such as "-xh" optind stays on the cluster, so argv[optind - 1]
 * would name the argument before it. */
static int next_option(int argc, char **argv, const char *optstring,
		       const struct option *longopts, int *at)
{
	*at = optind ? optind : 1;
	return getopt_long(argc, argv, optstring, longopts, NULL);
}

int run_options_parse(struct run_options *o, int argc, char **argv,
		      char *err, size_t errlen)
{
	int c, at;

	defaults(o);
	optind = 0;     /* glibc: full re-initialisation, so tests can call again */
	opterr = 0;
	while ((c = next_option(argc, argv, "+k:i:p:c:m:o:h", run_longopts, &at)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'p': o->cmdline = optarg; break;
		case 'c':
			if (parse_cpus(optarg, &o->cpus))
				return bad(err, errlen, "--cpus must be 1..32", optarg);
			break;
		case 'm':
			if (parse_size(optarg, &o->memory) ||
			    o->memory < RAM_MIN_SIZE || o->memory > RAM_MAX_SIZE)
				return bad(err, errlen, "--memory must be a size from 1M "
					   "to 1022G (K/M/G suffix)", optarg);
			/* KVM maps RAM in host pages; 64K is the largest arm64
			 * page, so the image restores on any arm64 host. */
			if (o->memory % RAM_ALIGN)
				return bad(err, errlen, "--memory must be a multiple of 64K",
					   optarg);
			break;
		case 'h': o->help = 1; return 0;
		default:
			if (parse_shared(o, c, argv[at], 0, err, errlen))
				return -EINVAL;
			break;
		}
	}
	if (optind < argc)
		return bad(err, errlen, "unexpected argument", argv[optind]);
	if (!o->kernel) {
		snprintf(err, errlen, "--kernel FILE is required");
		return -EINVAL;
	}
	/* The writer would refuse it at the first checkpoint, hours later. */
	if (o->chunk_pages &&
	    (o->memory / MEM_PAGE_SIZE + o->chunk_pages - 1) / o->chunk_pages > IMAGE_MAX_CHUNKS) {
		snprintf(err, errlen, "--chunk-size cuts --memory into more than %u chunks",
			 IMAGE_MAX_CHUNKS);
		return -EINVAL;
	}
	return finish_suspend(o, err, errlen);
}

static const struct option restore_longopts[] = {
	{ "image", required_argument, NULL, 'o' },
	{ "on-suspend", required_argument, NULL, OPT_ON_SUSPEND },
	{ "clock", required_argument, NULL, OPT_CLOCK },
	{ "memory", required_argument, NULL, 'm' },
	{ "no-wake", no_argument, NULL, OPT_NO_WAKE },
	{ "force-wake", no_argument, NULL, OPT_FORCE_WAKE },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "disk-overlay", no_argument, NULL, OPT_DISK_OVERLAY },
	{ "net", required_argument, NULL, OPT_NET },
	{ "no-vmgenid", no_argument, NULL, OPT_NO_VMGENID },
	{ "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
	{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int restore_options_parse(struct run_options *o, int argc, char **argv,
			  char *err, size_t errlen)
{
	int c, at;

	defaults(o);
	optind = 0;
	opterr = 0;
	while ((c = next_option(argc, argv, "+o:h", restore_longopts, &at)) != -1) {
		switch (c) {
		case OPT_CLOCK:
			if (!strcmp(optarg, "continue"))
				o->clock = CLOCK_CONTINUE;
			else if (!strcmp(optarg, "freeze"))
				o->clock = CLOCK_FREEZE;
			else
				return bad(err, errlen, "--clock must be continue or freeze",
					   optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "lazy"))
				o->memory_mode = MEMORY_LAZY;
			else if (!strcmp(optarg, "eager"))
				o->memory_mode = MEMORY_EAGER;
			else
				return bad(err, errlen, "--memory must be lazy or eager "
					   "(a restore takes the image's RAM size)", optarg);
			break;
		case OPT_NO_WAKE: o->wake = 0; break;
		case OPT_FORCE_WAKE: o->force_wake = 1; break;
		case OPT_DISK_OVERLAY: o->disk_overlay = 1; break;
		case 'h': o->help = 1; return 0;
		default:
			if (parse_shared(o, c, argv[at], 1, err, errlen))
				return -EINVAL;
			break;
		}
	}
	if (optind != argc - 1) {
		snprintf(err, errlen, optind >= argc ? "IMAGE is required"
			 : "exactly one IMAGE expected");
		return -EINVAL;
	}
	if (!o->wake && o->force_wake) {
		snprintf(err, errlen, "--no-wake and --force-wake exclude each other");
		return -EINVAL;
	}
	/* The restored guest checkpoints to the image it came from unless told
	 * otherwise, so that a second suspend works without extra options. */
	o->restore_from = argv[optind];
	/* A private overlay's writes are thrown away at exit, so a checkpoint
	 * could not keep the disk the guest sees: such a clone cannot suspend. */
	if (o->disk_overlay) {
		if (o->on_suspend_set && o->on_suspend != SUSPEND_DENY) {
			snprintf(err, errlen, "--disk-overlay cannot be checkpointed: "
				 "it takes --on-suspend deny only");
			return -EINVAL;
		}
		o->on_suspend = SUSPEND_DENY;
		o->image = NULL;
		return 0;
	}
	if (!o->image)
		o->image = argv[optind];
	if (!o->on_suspend_set)
		o->on_suspend = SUSPEND_HIBERNATE;
	return finish_suspend(o, err, errlen);
}

int image_path_check(const char *image, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(image, '/');
	size_t n = slash ? (size_t)(slash - image) : 0;
	struct stat st;

	if (stat(image, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--image: '%s' is a directory, not a file", image);
		return -EISDIR;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", n ? (int)n : 1, image);
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	n = (size_t)errno;
	snprintf(err, errlen, "--image: cannot write into directory '%s': %s", dir,
		 strerror((int)n));
	return -(int)n;
}
