/* test_image_io.c - whole images: write then read back every part, the
 * atomic writer's guarantees (an existing image survives a failed or
 * cancelled write, no temporary file is left), and caller errors. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/image/image_int.h"
#include "image_fixture.h"

static char *dir;
static char path[256];

static void setup(void)
{
	dir = fix_dir();
	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/vm.img", dir);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

TestSuite(io, .init = setup, .fini = teardown);

/* Names in dir other than . and .., joined by spaces. */
static void dir_names(char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	out[0] = '\0';
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(out + strlen(out), len - strlen(out), "%s ", e->d_name);
	closedir(d);
}

/* Whole file at p into a heap buffer; *len its size. */
static uint8_t *slurp(const char *p, size_t *len)
{
	struct stat sb;
	int fd = open(p, O_RDONLY);
	uint8_t *b;

	cr_assert(fd >= 0 && fstat(fd, &sb) == 0);
	*len = (size_t)sb.st_size;
	b = malloc(*len + 1);
	cr_assert_eq(pread(fd, b, *len, 0), (ssize_t)*len);
	close(fd);
	return b;
}

Test(io, round_trip_every_part)
{
	struct image_error err = { 0 };
	struct image_write_stats ws = { 0 };
	struct image_write_opts opts = { .threads = 3 };
	struct vm_state in, out;
	struct image *img;
	struct stat sb;
	uint8_t *mem = fix_memory(), *back;
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = mem, .size = FIX_MEM_SIZE };

	fix_state(&in);
	cr_assert_eq(image_write(path, &in, &src, 1, &opts, &ws, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_expect_eq(ws.file_bytes, (uint64_t)sb.st_size);
	cr_expect_eq(sb.st_mode & 0777, 0600, "an image holds guest memory");
	cr_expect_eq(ws.mem_bytes, FIX_MEM_SIZE);
	cr_expect_eq(ws.data_pages + ws.zero_pages + ws.untouched_pages, FIX_PAGES);
	cr_expect_eq(ws.data_pages, FIX_DATA_PAGES);

	cr_assert_eq(image_open(&img, path, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(image_read_state(img, &out, &err), 0, "%s", err.msg);
	cr_expect_eq(memcmp(&out.config, &in.config, sizeof(in.config)), 0);
	cr_expect_eq(memcmp(&out.host, &in.host, sizeof(in.host)), 0);
	cr_expect_eq(memcmp(&out.clock, &in.clock, sizeof(in.clock)), 0);
	cr_expect_eq(memcmp(&out.resume, &in.resume, sizeof(in.resume)), 0);
	for (unsigned i = 0; i < in.config.ncpus; i++) {
		cr_expect_eq(out.vcpus[i].mpidr, in.vcpus[i].mpidr);
		cr_expect_eq(out.vcpus[i].mp_state, in.vcpus[i].mp_state);
		cr_expect_eq(memcmp(&out.vcpus[i].events, &in.vcpus[i].events,
				    sizeof(in.vcpus[i].events)), 0);
		cr_assert_eq(out.vcpus[i].nregs, in.vcpus[i].nregs);
		cr_expect_arr_eq(out.vcpus[i].reg_ids, in.vcpus[i].reg_ids, FIX_NREGS * 8);
		cr_assert_eq(out.vcpus[i].reg_data_len, in.vcpus[i].reg_data_len);
		cr_expect_arr_eq(out.vcpus[i].reg_data, in.vcpus[i].reg_data,
				 in.vcpus[i].reg_data_len);
	}
	cr_assert_eq(out.gic.nregs, in.gic.nregs);
	cr_expect_arr_eq(out.gic.regs, in.gic.regs, in.gic.nregs * sizeof(*in.gic.regs));
	cr_assert_eq(out.ndevs, in.ndevs);
	cr_expect_eq(memcmp(out.devs, in.devs, sizeof(in.devs[0]) * in.ndevs), 0);

	back = mmap(NULL, FIX_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_eq(image_load_memory(img, 0, back, FIX_MEM_SIZE, 2, &err), 0, "%s", err.msg);
	cr_expect_eq(memcmp(back, mem, FIX_MEM_SIZE), 0);
	cr_expect_eq(image_load_memory(img, 1, back, FIX_MEM_SIZE, 2, &err), -IMG_EINVAL);
	cr_expect_eq(image_load_memory(img, 0, back, FIX_MEM_SIZE / 2, 2, &err), -IMG_EINVAL);
	image_close(img);
	vm_state_free(&in);
	vm_state_free(&out);
	munmap(back, FIX_MEM_SIZE);
	munmap(mem, FIX_MEM_SIZE);
}

Test(io, no_temporary_left_after_success)
{
	struct image_error err = { 0 };
	char names[512];

	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	dir_names(names, sizeof(names));
	cr_expect_str_eq(names, "vm.img ");
}

/* Writes a first image, then runs a failing second write to the same path
 * and checks the first is byte for byte intact and no temporary remains. */
static void expect_old_image_kept(int (*second)(struct image_error *err), int want)
{
	struct image_error err = { 0 };
	uint8_t *before, *after;
	size_t lb, la;
	char names[512];

	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	before = slurp(path, &lb);
	memset(&err, 0, sizeof(err));
	cr_expect_eq(second(&err), -want, "got %s: %s", image_strerror(err.code), err.msg);
	cr_expect_eq(err.code, want);
	cr_expect_neq(err.msg[0], '\0');
	after = slurp(path, &la);
	cr_assert_eq(la, lb);
	cr_expect_eq(memcmp(before, after, lb), 0);
	dir_names(names, sizeof(names));
	cr_expect_str_eq(names, "vm.img ");
	free(before);
	free(after);
}

static int write_cancelled(struct image_error *err)
{
	static volatile sig_atomic_t stop = 1;

	return fix_write(path, &stop, err);
}

Test(io, cancel_keeps_old_image)
{
	expect_old_image_kept(write_cancelled, IMG_EINTR);
}

static volatile sig_atomic_t stop_flag;
static uint8_t *trap_start;
static size_t trap_len;

/* The writer's first read of the protected half lands here, in the middle
 * of the write: the signal sets the cancel flag, then lets the read go on. */
static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	stop_flag = 1;
	mprotect(trap_start, trap_len, PROT_READ | PROT_WRITE);
}

#define TRAP_REGION (64ULL << 20)

/* A 64 MiB region of random words whose second half faults on the writer's
 * first read (handler: fn), for signals that come halfway through a write
 * without a timer that could fire too late on a fast machine. */
static uint64_t *trapped_region(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO };
	uint64_t *mem = mmap(NULL, TRAP_REGION, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t x = 88172645463325252ULL;

	cr_assert_neq(mem, MAP_FAILED);
	for (size_t i = 0; i < TRAP_REGION / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mem[i] = x;
	}
	trap_start = (uint8_t *)mem + TRAP_REGION / 2;
	trap_len = TRAP_REGION / 2;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
	cr_assert_eq(mprotect(trap_start, trap_len, PROT_NONE), 0);
	return mem;
}

/* image_write of the fixture state with its region of size bytes at host. */
static int write_region(const void *host, uint64_t size, const struct image_write_opts *opts,
			struct image_error *err)
{
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = host, .size = size };
	struct vm_state st;
	int rc;

	fix_state(&st);
	st.config.mem[0].size = size;
	rc = image_write(path, &st, &src, 1, opts, NULL, err);
	vm_state_free(&st);
	return rc;
}

static int write_trapped(uint64_t *mem, struct image_error *err)
{
	struct image_write_opts opts = { .threads = 2, .cancel = &stop_flag };

	return write_region(mem, TRAP_REGION, &opts, err);
}

/* A signal arrives while the writer is halfway through guest memory. */
static int write_interrupted(struct image_error *err)
{
	uint64_t *mem = trapped_region(on_trap);
	int rc = write_trapped(mem, err);

	cr_expect_eq(stop_flag, 1, "the writer never reached the second half");
	munmap(mem, TRAP_REGION);
	return rc;
}

Test(io, signal_mid_write_keeps_old_image)
{
	expect_old_image_kept(write_interrupted, IMG_EINTR);
}

static void on_trap_kill(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	kill(getpid(), SIGKILL);
}

/* SIGKILL halfway through a write: nothing can clean up, yet the old image
 * under the final name is untouched; at most a temporary file is left. */
Test(io, sigkill_mid_write_keeps_old_image)
{
	struct image_error err = { 0 };
	uint8_t *before, *after;
	size_t lb, la;
	char names[512], *name, *save;
	int status, others = 0;
	pid_t pid;

	cr_assert_eq(fix_write(path, NULL, &err), 0, "%s", err.msg);
	before = slurp(path, &lb);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		write_trapped(trapped_region(on_trap_kill), &err);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the writer was not killed mid-write (status %#x)", status);
	after = slurp(path, &la);
	cr_assert_eq(la, lb);
	cr_expect_eq(memcmp(before, after, lb), 0);
	dir_names(names, sizeof(names));
	for (name = strtok_r(names, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(name);

		if (strcmp(name, "vm.img")) {
			cr_expect(name[0] == '.' && n > 4 && !strcmp(name + n - 4, ".tmp"),
				  "unexpected file %s", name);
			others++;
		}
	}
	cr_expect_leq(others, 1);
	free(before);
	free(after);
}

/* RLIMIT_FSIZE makes the write fail part-way (EFBIG) once the sections are
 * written, in the middle of the memory chunks. */
static int write_too_big(struct image_error *err)
{
	struct rlimit rl = { 16384, 16384 };

	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	return fix_write(path, NULL, err);
}

Test(io, failed_write_keeps_old_image)
{
	expect_old_image_kept(write_too_big, IMG_EIO);
}

/* image_write of the fixture state with the PSCI resume vCPU and the memory
 * source size replaced; the source's memory is never read, as the write must
 * be refused before it starts. Expects msg in the error. */
static int write_refused(struct image_error *err, uint32_t resume_vcpu, uint64_t src_size,
			 const char *msg)
{
	struct vm_state st;
	uint8_t page[MEM_PAGE_SIZE] = { 0 };
	struct image_mem_src src = { .guest_addr = RAM_BASE, .host = page, .size = src_size };
	int rc;

	fix_state(&st);
	st.resume.vcpu = resume_vcpu;
	rc = image_write(path, &st, &src, 1, &fix_opts, NULL, err);
	cr_expect(strstr(err->msg, msg), "%s", err->msg);
	vm_state_free(&st);
	return rc;
}

static int write_bad_state(struct image_error *err)
{
	return write_refused(err, 2, FIX_MEM_SIZE, "psci resume");  /* vCPUs are 0 and 1 */
}

Test(io, invalid_state_refused_before_writing)
{
	expect_old_image_kept(write_bad_state, IMG_EINVAL);
}

static int write_wrong_sources(struct image_error *err)
{
	return write_refused(err, 0, MEM_PAGE_SIZE, "memory source 0");
}

Test(io, memory_sources_must_match_config)
{
	expect_old_image_kept(write_wrong_sources, IMG_EINVAL);
}

/* The fixture written with chunks of chunk_pages pages (0: the default). */
static int write_chunks(uint32_t chunk_pages, struct image_error *err)
{
	struct image_write_opts opts = { .threads = 2, .chunk_pages = chunk_pages };
	uint8_t *mem = fix_memory();
	int rc = write_region(mem, FIX_MEM_SIZE, &opts, err);

	munmap(mem, FIX_MEM_SIZE);
	return rc;
}

/* The chunk size the caller chooses is the one the index records, and the
 * memory reads back the same from chunks of any size. */
Test(io, chunk_size_is_the_callers)
{
	static const uint32_t sizes[] = { 0, 1, 16, 64, MEM_CHUNK_PAGES_MAX };
	uint8_t *want = fix_memory(), *back;

	back = mmap(NULL, FIX_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(back, MAP_FAILED);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t pages = sizes[i] ? sizes[i] : MEM_CHUNK_PAGES;
		struct image_error err = { 0 };
		struct image *img;

		cr_assert_eq(write_chunks(sizes[i], &err), 0, "%u pages: %s", sizes[i], err.msg);
		cr_assert_eq(image_open(&img, path, 1, &err), 0, "%u pages: %s", sizes[i], err.msg);
		cr_expect_eq(img->mem[0].idx.chunk_pages, pages);
		cr_expect_eq(img->mem[0].idx.nchunks, (FIX_PAGES + pages - 1) / pages);
		memset(back, 0, FIX_MEM_SIZE);
		cr_assert_eq(image_load_memory(img, 0, back, FIX_MEM_SIZE, 2, &err), 0, "%s", err.msg);
		cr_expect_eq(memcmp(back, want, FIX_MEM_SIZE), 0, "%u pages: memory differs", pages);
		image_close(img);
	}
	munmap(back, FIX_MEM_SIZE);
	munmap(want, FIX_MEM_SIZE);
}

static int write_huge_chunks(struct image_error *err)
{
	int rc = write_chunks(MEM_CHUNK_PAGES_MAX + 1, err);

	cr_expect(strstr(err->msg, "chunks of 4097 pages"), "%s", err->msg);
	return rc;
}

Test(io, chunk_size_beyond_the_limit_refused)
{
	expect_old_image_kept(write_huge_chunks, IMG_EINVAL);
}

/* One chunk more than a reader takes in a region: refused before the
 * source (one page here) is read. */
static int write_too_many_chunks(struct image_error *err)
{
	struct image_write_opts opts = { .chunk_pages = 1 };
	uint8_t page[MEM_PAGE_SIZE] = { 0 };
	int rc = write_region(page, (IMAGE_MAX_CHUNKS + 1ULL) * MEM_PAGE_SIZE, &opts, err);

	cr_expect(strstr(err->msg, "memory source 0: 4194305 chunks of 1 pages (max 4194304)"),
		  "%s", err->msg);
	return rc;
}

Test(io, more_chunks_than_a_reader_takes_refused)
{
	expect_old_image_kept(write_too_many_chunks, IMG_EINVAL);
}

Test(io, missing_directory_is_an_io_error)
{
	struct image_error err = { 0 };
	char p[300];

	snprintf(p, sizeof(p), "%s/no/such/vm.img", dir);
	cr_expect_eq(fix_write(p, NULL, &err), -IMG_EIO);
	cr_expect(strstr(err.msg, "no/such/vm.img"), "%s", err.msg);
}

/* A full filesystem: a 64 KiB tmpfs in a private mount namespace. */
Test(io, full_disk_is_enospc)
{
	struct image_error err = { 0 };
	char names[512];

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=64k"))
		cr_skip_test("cannot mount a tmpfs here: %s", strerror(errno));
	cr_expect_eq(fix_write(path, NULL, &err), -IMG_ENOSPC, "%s", err.msg);
	dir_names(names, sizeof(names));
	cr_expect_str_eq(names, "", "no temporary left on the full filesystem");
	umount(dir);
}

Test(io, strerror_names_every_code)
{
	for (int c = IMG_OK; c <= IMG_EUNSUPPORTED; c++) {
		cr_expect_str_neq(image_strerror(c), "unknown image error", "code %d", c);
		cr_expect_str_eq(image_strerror(-c), image_strerror(c));
	}
	cr_expect_str_eq(image_strerror(99), "unknown image error");
	cr_expect_str_eq(image_strerror(-2147483647 - 1), "unknown image error");
}
