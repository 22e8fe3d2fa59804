/* cmd_run.c - `torpor run`: check the arguments and guest files, then boot. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm.h"
#include "cli.h"
#include "exitcodes.h"
#include "log.h"
#include "memmap.h"
#include "run_options.h"

static const char run_usage[] =
"usage: torpor run --kernel FILE [options]\n"
"  -k, --kernel FILE        arm64 Linux Image, or a raw binary named *.bin\n"
"                           (loaded and entered at the start of RAM)\n"
"  -i, --initrd FILE        initial ramdisk\n"
"  -p, --cmdline STRING     kernel command line\n"
"  -c, --cpus N             vCPUs, 1..32 (default 1)\n"
"  -m, --memory SIZE        guest RAM, K/M/G suffix, plain number = MiB\n"
"                           (default 256M)\n"
"  -o, --image PATH         where a guest suspend is checkpointed to\n"
"      --on-suspend MODE    hibernate (default with --image): checkpoint, exit 7\n"
"                           snapshot: checkpoint, then let the guest resume\n"
"                           deny (default without --image): PSCI DENIED\n"
"      --disk PATH[,readonly][,serial=ID]\n"
"                           a raw disk image or block device as virtio-blk;\n"
"                           repeatable (up to 8): /dev/vda, /dev/vdb, ...\n"
"                           snapshot mode copies writable disks to IMAGE.diskN\n"
"      --net tap=NAME[,mac=MAC]\n"
"                           a virtio-net card on host tap NAME (created if it\n"
"                           does not exist and torpor may); repeatable (up to\n"
"                           4): eth0, eth1, ...; default MAC derived from NAME\n"
"      --no-vmgenid         no VM generation ID device (microsoft,vmgenid)\n"
"      --chunk-size SIZE    memory chunk of the images written: a power of two\n"
"                           from 4K to 16M, K/M suffix (default 64K; more\n"
"                           for a guest over 256G)\n"
"      --api-socket PATH    a control socket (mode 0600): `torpor ctl PATH\n"
"                           hibernate|snapshot|poweroff|status|events|...`\n"
"Console: stdin/stdout; on a terminal, Ctrl-A x quits.\n";

static int open_file(const char *path, const char *what, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(EXIT_GUEST_FILE, "cannot open %s '%s': %s", what,
			    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(EXIT_GUEST_FILE, "%s '%s' is not a regular file",
			    what, path);
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static int check_files(const struct run_options *o, struct boot_files *f)
{
	uint8_t hdr[ARM64_IMAGE_HDR_SIZE];
	ssize_t n;
	int ret;

	f->initrd_fd = -1;
	f->kernel_fd = open_file(o->kernel, "kernel", &f->kernel_size);
	if (f->kernel_fd < 0)
		return f->kernel_fd;
	n = pread(f->kernel_fd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return fail(EXIT_GUEST_FILE, "reading kernel '%s': %s", o->kernel,
			    strerror(errno));
	ret = payload_probe(hdr, (size_t)n, o->kernel, &f->payload);
	if (ret == -ENODATA)
		return fail(EXIT_GUEST_FILE, "kernel '%s' is empty", o->kernel);
	if (ret == -ENOEXEC)
		return fail(EXIT_GUEST_FILE, "kernel '%s' is a big-endian arm64 Image; "
			    "torpor runs little-endian guests", o->kernel);
	if (ret)
		return fail(EXIT_GUEST_FILE, "kernel '%s' is not an arm64 Linux Image "
			    "(no valid header) nor a raw binary named *.bin", o->kernel);
	if (f->payload.kind == PAYLOAD_RAW)
		f->payload.image_size = f->kernel_size;
	else if (f->payload.image_size < f->kernel_size)
		f->payload.image_size = f->kernel_size;
	if (o->initrd) {
		f->initrd_fd = open_file(o->initrd, "initrd", &f->initrd_size);
		if (f->initrd_fd < 0)
			return f->initrd_fd;
	}
	ret = boot_layout_plan(&f->layout, &f->payload, f->kernel_size, f->initrd_size,
			       RAM_BASE, o->memory);
	if (ret)
		return fail(EXIT_GUEST_FILE, "kernel%s do not fit in %llu MiB of "
			    "guest memory", o->initrd ? ", initrd and device tree" :
			    " and device tree", (unsigned long long)(o->memory >> 20));
	return 0;
}

/* A build without the KVM back end (not for arm64) still checks arguments
 * and files, so the CLI behaves the same everywhere up to the VM. */
static int start_guest(const struct run_options *o, const struct boot_files *f)
{
#ifdef TORPOR_KVM
	return boot_run(o, f);
#else
	(void)o;
	(void)f;
	return fail(EXIT_NO_KVM, "this torpor was built without KVM support; "
		    "run the arm64 build on an arm64 Linux host with /dev/kvm");
#endif
}

int cmd_run(int argc, char **argv)
{
	struct run_options o;
	struct boot_files f = { .kernel_fd = -1, .initrd_fd = -1 };
	char err[PATH_MAX + 256];
	int ret;

	if (run_options_parse(&o, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "torpor run: %s (see 'torpor run --help')\n", err);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(run_usage, stdout);
		return EXIT_OK;
	}
	if (o.image && image_path_check(o.image, err, sizeof(err))) {
		fprintf(stderr, "torpor run: %s\n", err);
		return EXIT_USAGE;
	}
	ret = check_files(&o, &f) ? -1 : start_guest(&o, &f);
	if (f.kernel_fd >= 0)
		close(f.kernel_fd);
	if (f.initrd_fd >= 0)
		close(f.initrd_fd);
	return cli_exit_code(ret);
}
