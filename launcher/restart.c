/*
 * restart.c - restart mode, `dmtcp_mpi --restart DIR`: what
 * `mpirun -n N dmtcp_mpi_restart DIR` becomes (dmtcp_mpi_restart execs
 * the launcher when it is given a checkpoint directory).
 *
 * Each rank checks, before anything is started, that this launch can
 * restart the checkpoint:
 *   - DIR/manifest is readable, ours, and complete;
 *   - the job has as many ranks as the checkpoint (else DM_EXIT_NRANKS,
 *     naming both numbers);
 *   - every rank's image is there with the size the manifest recorded
 *     (else DM_EXIT_IMAGE, naming the rank and the file);
 * All ranks reach the same verdict on these, so rank 0 alone reports it
 * (one line, not one per rank); the other ranks give it a moment
 * (mpirun ends the job when the first rank fails) and exit with the same
 * status, silently.
 *
 * The rank then runs as in a normal launch (the channel at its fixed fd,
 * the proxy of the MPI that launched us, the same reaping), except that
 * the proxy starts MPI at once, and while it does, the rank reads its
 * own image through and compares its CRC-32C with the manifest's
 * (ln_restart_verify): a corrupt image is known to its rank only, which
 * reports it, kills its proxy and ends the job (ln_end_job: the others
 * are waiting in MPI_Init).  Only then is the application started: it
 * is `dmtcp_mpi_restart --no-verify IMAGE` (the whole
 * file was just checked) without the engine preloaded: the restored
 * process carries its own.  The restored process takes this launch's
 * DMTCP_MPI_* variables (rank, MPI, coordinator: the engine swaps them
 * in), and goes on checkpointing next to DIR unless --ckptdir or
 * DMTCP_MPI_CKPTDIR says otherwise.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/crc32c.h"
#include "util/exitcode.h"
#include "util/log.h"

/* How long ranks other than 0 wait before exiting on a job-wide error. */
#define LN_QUIET_RANK_WAIT_MS 1000

/* A problem of the whole checkpoint: rank 0 says it, every rank exits. */
static void job_die(const struct ln_where *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void job_die(const struct ln_where *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->rank == 0) {
		va_start(ap, fmt);
		dm_vlog("error: ", fmt, ap);
		va_end(ap);
	} else {
		struct timespec ts = { LN_QUIET_RANK_WAIT_MS / 1000,
				       (LN_QUIET_RANK_WAIT_MS % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	_exit(code);
}

/* Size and CRC-32C of the file behind fd; -1 with errno on a read error. */
static int checksum_fd(int fd, uint64_t *size, uint32_t *crc)
{
	const size_t bufsz = 4u << 20;
	unsigned char *buf = mmap(NULL, bufsz, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ssize_t n = 0;

	if (buf == MAP_FAILED)
		return -1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*size = 0;
	*crc = 0;
	while ((n = read(fd, buf, bufsz)) > 0) {
		*crc = dm_crc32c(*crc, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	int saved = errno;
	munmap(buf, bufsz);
	errno = saved;
	return n < 0 ? -1 : 0;
}

/* Every rank's image is there and has its size: a verdict every rank
 * reaches alike, so only rank 0 needs to say it. */
static void check_images_present(const struct ln_where *w,
				 const struct ln_manifest *m, const char *dir)
{
	char path[4096 + 64];
	struct stat st;

	for (int r = 0; r < m->nranks; r++) {
		const struct ln_manifest_rank *k = &m->rank[r];
		if (!k->image[0])
			job_die(w, DM_EXIT_IMAGE, "cannot restart rank %d "
				"(%s/manifest): no image listed for it", r, dir);
		snprintf(path, sizeof(path), "%s/%s", dir, k->image);
		if (stat(path, &st) != 0)
			job_die(w, DM_EXIT_IMAGE, "cannot restart rank %d (%s): "
				"%s", r, path, strerror(errno));
		if (k->have_size && (uint64_t)st.st_size != k->size)
			job_die(w, DM_EXIT_IMAGE, "corrupt checkpoint image of "
				"rank %d (%s): %llu bytes, the manifest says %llu",
				r, path, (unsigned long long)st.st_size,
				(unsigned long long)k->size);
	}
}

int ln_restart_verify(const struct ln_where *w, const struct ln_restart *rs)
{
	uint64_t size;
	uint32_t crc;
	int fd = open(rs->image, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || checksum_fd(fd, &size, &crc) < 0) {
		dm_err("cannot restart rank %d (%s): %s", w->rank, rs->image,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (rs->own.have_crc && crc != rs->own.crc) {
		dm_err("corrupt checkpoint image of rank %d (%s): checksum "
		       "crc32c:%08x, the manifest says crc32c:%08x", w->rank,
		       rs->image, crc, rs->own.crc);
		return -1;
	}
	return 0;
}

/* Checkpoints of the restarted job go where this one was taken. */
static void default_ckptdir(const char *dir)
{
	const char *set = getenv("DMTCP_MPI_CKPTDIR");
	char copy[4096];

	if (set != NULL && *set != '\0')
		return;
	snprintf(copy, sizeof(copy), "%s", dir);
	if (setenv("DMTCP_MPI_CKPTDIR", dirname(copy), 1) < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot set DMTCP_MPI_CKPTDIR (%s): %s",
		       dir, strerror(errno));
}

void ln_restart_prepare(const struct ln_opts *o, const struct ln_where *w,
			struct ln_restart *rs)
{
	struct ln_manifest m;
	char err[512];

	memset(rs, 0, sizeof(*rs));
	if (realpath(o->restart, rs->dir) == NULL)
		job_die(w, DM_EXIT_IMAGE, "cannot restart (%s): %s", o->restart,
			strerror(errno));
	if (ln_manifest_read(rs->dir, &m, err, sizeof(err)) < 0)
		job_die(w, DM_EXIT_IMAGE, "cannot restart (%s/manifest): %s",
			rs->dir, err);
	if (!m.complete)
		job_die(w, DM_EXIT_IMAGE, "cannot restart (%s): the checkpoint "
			"is incomplete (its manifest does not end with "
			"status=complete)", rs->dir);
	if (m.nranks != w->size)
		job_die(w, DM_EXIT_NRANKS, "cannot restart with %d rank%s (%s): "
			"the checkpoint has %d; launch it with -n %d", w->size,
			w->size == 1 ? "" : "s", rs->dir, m.nranks, m.nranks);
	check_images_present(w, &m, rs->dir);
	snprintf(rs->image, sizeof(rs->image), "%s/%s", rs->dir,
		 m.rank[w->rank].image);
	rs->plain = strcmp(m.mpi, "none") == 0;
	rs->own = m.rank[w->rank];
	snprintf(rs->tool, sizeof(rs->tool), "%s/bin/dmtcp_mpi_restart",
		 ln_prefix());
	if (access(rs->tool, X_OK) != 0)
		dm_die(DM_EXIT_NOPROG, "cannot run the restart tool (%s): %s",
		       rs->tool, strerror(errno));
	rs->argv[0] = rs->tool;
	rs->argv[1] = "--no-verify";
	rs->argv[2] = rs->image;
	rs->argv[3] = NULL;
	default_ckptdir(rs->dir);
}
