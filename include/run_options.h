/* run_options.h - the command line of `torpor run` and `torpor restore`,
 * parsed without side effects so it can be unit-tested. */
#ifndef TORPOR_RUN_OPTIONS_H
#define TORPOR_RUN_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "disk.h"
#include "tap.h"

enum suspend_mode {
	SUSPEND_DENY,           /* SYSTEM_SUSPEND returns PSCI DENIED */
	SUSPEND_HIBERNATE,      /* checkpoint, then exit */
	SUSPEND_SNAPSHOT,       /* checkpoint, then wake the guest */
};

enum clock_mode {
	CLOCK_CONTINUE,         /* counter advances by the downtime */
	CLOCK_FREEZE,           /* counter resumes where it stopped */
};

enum memory_mode {
	MEMORY_LAZY,            /* restore: the guest runs before its memory is read */
	MEMORY_EAGER,           /* restore: all of memory decoded first */
};

#define RUN_DEFAULT_MEMORY      (256ULL << 20)
#define RAM_ALIGN               (64ULL << 10)   /* --memory granularity */
#define RUN_DEFAULT_CPUS        1

struct run_options {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	unsigned cpus;
	uint64_t memory;
	const char *image;              /* --image: where checkpoints go */
	const char *restore_from;       /* restore: the IMAGE argument */
	enum suspend_mode on_suspend;
	int on_suspend_set;
	enum clock_mode clock;          /* restore only */
	int wake;                       /* restore: --no-wake clears */
	int force_wake;                 /* restore: --force-wake */
	unsigned ndisks;                /* --disk, in order: /dev/vda onwards */
	struct disk_spec disks[VM_MAX_DISKS];   /* restore: paths only */
	int disk_overlay;               /* restore: --disk-overlay */
	unsigned nnets;                 /* --net, in order: eth0 onwards */
	struct net_spec nets[VM_MAX_NICS];      /* restore: where the image's
						 * cards go now, in order */
	int no_vmgenid;                 /* run: no generation ID device;
					 * restore: keep the image's ID */
	enum memory_mode memory_mode;   /* restore: --memory lazy|eager */
	uint32_t chunk_pages;           /* --chunk-size of the images this process
					 * writes, in guest pages; 0: the writer's
					 * default (mem_chunk_pages_for) */
	const char *api_socket;         /* --api-socket: the control socket */
	int help;
};

/* Parses a size: digits with an optional K/M/G/T suffix (binary units);
 * no suffix means MiB, as in QEMU's -m. 0 on success, -EINVAL otherwise. */
int parse_size(const char *s, uint64_t *out);

/* Parses `run` arguments (argv[0] is "run"); --disk arguments are split in
 * place (disk_spec_parse), --net ones copied (net_spec_parse). On error returns -EINVAL and
 * writes a one-line message to err. */
int run_options_parse(struct run_options *o, int argc, char **argv,
		      char *err, size_t errlen);

/* Parses `restore` arguments (argv[0] is "restore"): IMAGE, --image,
 * --on-suspend, --clock, --memory lazy|eager, --no-wake, --force-wake,
 * --disk PATH (where the image's disks are now, in order), --disk-overlay,
 * --net (where its cards go now, in order), --no-vmgenid, --chunk-size,
 * --api-socket.
 * Same error convention. */
int restore_options_parse(struct run_options *o, int argc, char **argv,
			  char *err, size_t errlen);

/* Checks, before any guest runs, that checkpoints can be written to image:
 * not a directory, and its directory exists and is writable (a suspend
 * hours later must not be the first to find out). 0, or a negative errno
 * with a one-line message in err. */
int image_path_check(const char *image, char *err, size_t errlen);

#endif
