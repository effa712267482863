/*
 * restart.c - dmtcp_mpi_restart: restart a process from its image.
 *
 *   dmtcp_mpi_restart [--no-verify] [--threads N] IMAGE
 *   dmtcp_mpi_restart --info IMAGE
 *   [mpirun -n N] dmtcp_mpi_restart CKPT_DIR
 *
 * A checkpoint directory (one image per rank, a manifest) is handed to
 * the launcher in restart mode, `dmtcp_mpi --restart CKPT_DIR` (see
 * launcher/restart.c): per rank it checks the manifest against the
 * launch, picks rank<R>.img by the rank mpirun gave, starts the proxy of
 * the MPI that launched it, and runs this command on the image.
 *
 * Everything that can be checked is checked before the point of no
 * return, each failure being one line and a distinct exit code:
 *   DM_EXIT_IMAGE    the image is truncated, corrupt (every section's
 *                    checksum is verified), foreign or another version;
 *   DM_EXIT_RESTORE  a good image that cannot come back here: another
 *                    kernel (vdso layout), a CPU lacking features the
 *                    process may use, a file or directory it had open
 *                    that is gone.
 * Then: start the decompressor if sections are compressed, write the
 * plan, and exec the restorer, which becomes the restored process (same
 * pid as this command).
 */
#include "ckpt/restart.h"
#include "ckpt/restore/plan.h"
#include "util/exitcode.h"
#include "util/fault.h"
#include "util/log.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

struct verify {
	const struct ck_img *im;
	uint32_t next;            /* atomic: next DATA section */
	int bad;                  /* atomic */
	struct ck_img_err err;
	pthread_mutex_t lock;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: dmtcp_mpi_restart [--no-verify] [--threads N] IMAGE\n"
		"       [mpirun -n N] dmtcp_mpi_restart CKPT_DIR\n"
		"       dmtcp_mpi_restart --info IMAGE\n");
	exit(DM_EXIT_USAGE);
}

static void *verify_worker(void *arg)
{
	struct verify *v = arg;
	struct ck_img_err e;

	for (;;) {
		uint32_t k = __atomic_fetch_add(&v->next, 1, __ATOMIC_ACQ_REL);
		if (k >= v->im->ndata || __atomic_load_n(&v->bad,
							 __ATOMIC_ACQUIRE))
			return NULL;
		if (ck_img_check_data(v->im, k, &e)) {
			pthread_mutex_lock(&v->lock);
			if (!v->bad)
				v->err = e;
			v->bad = 1;
			pthread_mutex_unlock(&v->lock);
		}
	}
}

/* Every DATA section's checksum, on nthreads threads. */
static int verify_data(const struct ck_img *im, int nthreads,
		       struct ck_img_err *e)
{
	struct verify v = { .im = im };
	pthread_t th[16];
	int n = 0;

	pthread_mutex_init(&v.lock, NULL);
	for (int i = 1; i < nthreads && i < 16; i++)
		if (pthread_create(&th[n], NULL, verify_worker, &v) == 0)
			n++;
	verify_worker(&v);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	*e = v.err;
	return v.bad ? -1 : 0;
}

static int check_kernel_and_cpu(const struct ck_img *im)
{
	struct utsname u;
	unsigned a, b, c, d, have[4];
	uint64_t xcr0 = 0;

	uname(&u);
	if (strcmp(u.release, im->hdr->kernel) != 0) {
		dm_err("cannot restore on this kernel (%s): the image was "
		       "written under %s, whose vdso the process uses",
		       u.release, im->hdr->kernel);
		return -1;
	}
	__cpuid(1, a, b, c, d);
	have[0] = c;
	have[1] = d;
	if (c & bit_OSXSAVE) {
		uint32_t lo, hi;
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		xcr0 = ((uint64_t)hi << 32) | lo;
	}
	__cpuid_count(7, 0, a, b, c, d);
	have[2] = b;
	have[3] = c;
	for (int i = 0; i < 4; i++)
		if (im->proc->cpuid[i] & ~have[i]) {
			dm_err("cannot restore on this CPU: it lacks features "
			       "the image's process may use (cpuid word %d: "
			       "%#x)", i, im->proc->cpuid[i] & ~have[i]);
			return -1;
		}
	if (im->proc->xcr0 & ~xcr0) {
		dm_err("cannot restore on this CPU: register state %#llx "
		       "not enabled here",
		       (unsigned long long)(im->proc->xcr0 & ~xcr0));
		return -1;
	}
	return 0;
}

/* Files the restorer will reopen must be there: it could only stop
 * half-way otherwise. */
static int check_files(const struct ck_img *im)
{
	struct stat st;
	const char *cwd = ck_img_str(im, im->proc->cwd);

	if (stat(cwd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		dm_err("cannot restore: working directory %s: %s", cwd,
		       strerror(errno ? errno : ENOTDIR));
		return -1;
	}
	for (uint32_t i = 0; i < im->nfds; i++) {
		const struct ck_img_fd *f = &im->fds[i];
		const char *p = ck_img_str(im, f->path);
		if (p && (f->kind == CK_FD_FILE || f->kind == CK_FD_DIR ||
			  f->kind == CK_FD_DEV) && stat(p, &st) != 0) {
			dm_err("cannot restore: fd %d was %s: %s", f->fd, p,
			       strerror(errno));
			return -1;
		}
	}
	for (uint32_t i = 0; i < im->nregions; i++) {
		const char *p = ck_img_str(im, im->regions[i].path);
		if (im->regions[i].kind == CK_REG_SHARED_FILE &&
		    stat(p, &st) != 0) {
			dm_err("cannot restore: mapped file %s: %s", p,
			       strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* A number above every fd the image restores, for our own fds. */
static int high_fd(const struct ck_img *im, int fd)
{
	int min = 3;

	for (uint32_t i = 0; i < im->nfds; i++)
		if (im->fds[i].fd >= min)
			min = im->fds[i].fd + 1;
	int r = fcntl(fd, F_DUPFD, min);
	if (r < 0)
		dm_err("cannot restore: no free fd above %d (RLIMIT_NOFILE): %s",
		       min, strerror(errno));
	close(fd);
	return r;
}

static int cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static int open_image(const char *path, const uint8_t **map, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		dm_err("cannot open image %s: %s", path, strerror(errno));
		exit(DM_EXIT_IMAGE);
	}
	*len = (size_t)st.st_size;
	*map = st.st_size ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) :
			    (const uint8_t *)"";
	if (*map == MAP_FAILED) {
		dm_err("cannot map image %s: %s", path, strerror(errno));
		exit(DM_EXIT_IMAGE);
	}
	return fd;
}

/* Where memfds may not be executed (vm.memfd_noexec), a copy in
 * $TMPDIR; the restorer removes it once it runs.  Its path, or NULL. */
static char *restorer_file(int elf_fd)
{
	static char path[4096];
	const char *dir = getenv("TMPDIR");
	char buf[65536];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/dmtcp_mpi-restorer.XXXXXX",
		 dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	lseek(elf_fd, 0, SEEK_SET);
	while ((n = read(elf_fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			n = -1;
	if (n < 0 || fchmod(fd, 0700) != 0 || close(fd) != 0) {
		unlink(path);
		return NULL;
	}
	return path;
}

static void __attribute__((noreturn)) exec_restorer(
	const struct ck_plan_out *po)
{
	char fdstr[16], base[32], size[32];
	char *argv[] = { "dmtcp_mpi_restart", fdstr, base, size, NULL, NULL };
	char *envp[] = { NULL };
	int old = personality(0xffffffff);

	snprintf(fdstr, sizeof(fdstr), "%d", po->plan_fd);
	snprintf(base, sizeof(base), "%llx",
		 (unsigned long long)po->plan_base);
	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)po->plan_size);
	/* Without randomisation the kernel starts the restorer's program
	 * break at its end: the image's start_brk.  The restorer puts the
	 * image's own personality back at once. */
	personality((unsigned long)old | ADDR_NO_RANDOMIZE);
	/* DMTCP_MPI_FAULT=restart-file: as if memfds were not executable */
	if (dm_fault("restart-file"))
		errno = EACCES;
	else
		syscall(SYS_execveat, po->elf_fd, "", argv, envp,
			AT_EMPTY_PATH);
	if (errno == EACCES || errno == EPERM) {
		argv[4] = restorer_file(po->elf_fd);
		if (argv[4]) {
			execve(argv[4], argv, envp);
			unlink(argv[4]);
		}
	}
	personality((unsigned long)old);
	dm_die(DM_EXIT_INTERNAL, "cannot start the restorer (exec): %s",
	       strerror(errno));
}

/* A checkpoint directory: the launcher next to us restarts it. */
static void restart_directory(const char *dir)
{
	struct stat st;
	char exe[4096], launcher[4096 + 16];

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot find our own directory "
		       "(/proc/self/exe): %s", strerror(errno));
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	snprintf(launcher, sizeof(launcher), "%.*s/dmtcp_mpi",
		 slash ? (int)(slash - exe) : 1, slash ? exe : ".");
	char *argv[] = { launcher, "--restart", (char *)dir, NULL };
	execv(launcher, argv);
	dm_die(DM_EXIT_NOPROG, "cannot restart the checkpoint directory (%s): "
	       "cannot run %s: %s", dir, launcher, strerror(errno));
}

int main(int argc, char **argv)
{
	int info = 0, verify = 1, nthreads = cpus();
	const char *path = NULL;
	struct ck_img im;
	struct ck_img_err e;
	const uint8_t *map;
	size_t len;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--info") == 0)
			info = 1;
		else if (strcmp(argv[i], "--no-verify") == 0)
			verify = 0;
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else if (argv[i][0] == '-' || path)
			usage();
		else
			path = argv[i];
	}
	if (!path)
		usage();
	if (!info)
		restart_directory(path);
	int fd = open_image(path, &map, &len);
	if (ck_img_open(&im, map, len, 0, &e) ||
	    (verify && verify_data(&im, nthreads, &e)))
		dm_die(DM_EXIT_IMAGE, "bad image %s: section %s: %s", path,
		       e.section, e.reason);
	if (info) {
		ck_info_print(&im, path);
		return DM_EXIT_OK;
	}
	if (check_kernel_and_cpu(&im) || check_files(&im))
		return DM_EXIT_RESTORE;
	struct ck_feed feed = { .data_fd = -1, .go_fd = -1, .pid = 0 };
	for (uint32_t k = 0; k < im.ndata && feed.data_fd < 0; k++)
		if (im.sec[im.first_data + k].codec == CK_CODEC_ZSTD) {
			if (ck_feed_start(&im, nthreads, getpid(), &feed))
				return DM_EXIT_INTERNAL;
			feed.data_fd = high_fd(&im, feed.data_fd);
			feed.go_fd = high_fd(&im, feed.go_fd);
		}
	int image_fd = high_fd(&im, fd);
	struct ck_plan_out po;
	if (image_fd < 0 || ck_plan_build(&im, image_fd, &feed, &po))
		return DM_EXIT_RESTORE;
	exec_restorer(&po);
}
