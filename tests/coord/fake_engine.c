/*
 * fake_engine.c - a stand-in for the checkpoint engine, for tests/coord.
 *
 * It is the real coordinator client (ckpt/client.c) over a stub
 * ck_checkpoint(), so the coordinator, the command and the client are
 * tested before and apart from the real engine.  The stub writes an image
 * the way the engine promises to (temporary name, fsync, rename) and can
 * be told to misbehave by DMTCP_MPI_FAKE_CKPT:
 *   ok (default)   write <dir>/<name>.img: DMTCP_MPI_FAKE_SIZE bytes
 *                  (default 100000) that differ from run to run
 *   fail           return CK_FAILED
 *   hang           sleep for ten minutes, then fail (tests kill us first)
 *   restart-once   the first call returns CK_RESTARTED, as a restored
 *                  process would; later calls behave as "ok"
 * The library's constructor starts the client, as the engine's will.
 *
 * With DMTCP_MPI_FAKE_MPI=1 it also plays the MPI shim: it registers a
 * struct ck_mpi_ops (found with dlsym, as the shim finds it) whose
 * answers are scripted by
 *   DMTCP_MPI_FAKE_SEQS   INTENT pairs, "gid:seq,gid:seq,..."
 *   DMTCP_MPI_FAKE_DRAIN  DRAIN answers per round since PARK,
 *                         "sent:recvd,sent:recvd,..."; the last repeats
 *   DMTCP_MPI_FAKE_FAIL   intent | targets | park | drain: that op fails;
 *                         targets-late: reach_targets waits until the
 *                         phase has no time left, then fails
 * and logs every call, one line each, to DMTCP_MPI_FAKE_LOG:
 *   intent | targets gid:seq ... | park | drain ROUND | resume | restart
 *   (targets-late adds "left MS", the time it was given).
 */
#include "ckpt/ckpt.h"
#include "ckpt/client.h"
#include "util/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int write_image(const struct ck_opts *o, char *path_out, size_t len)
{
	const char *sz = getenv("DMTCP_MPI_FAKE_SIZE");
	size_t size = sz ? strtoul(sz, NULL, 10) : 100000;
	char tmp[4200];
	unsigned x = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);

	snprintf(path_out, len, "%s/%s.img", o->dir, o->name ? o->name : "ckpt");
	snprintf(tmp, sizeof(tmp), "%s.part", path_out);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		dm_err("fake engine: cannot create %s: %s", tmp, strerror(errno));
		return CK_FAILED;
	}
	for (size_t i = 0; i < size; i++) {
		x = x * 1103515245u + 12345u;
		unsigned char b = (unsigned char)(x >> 16);
		if (write(fd, &b, 1) != 1) {
			dm_err("fake engine: cannot write %s: %s", tmp,
			       strerror(errno));
			close(fd);
			return CK_FAILED;
		}
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path_out) < 0) {
		dm_err("fake engine: cannot finish %s: %s", path_out,
		       strerror(errno));
		return CK_FAILED;
	}
	return CK_WRITTEN;
}

int ck_checkpoint(const struct ck_opts *o, char *path_out, size_t len)
{
	static int restarted;
	const char *mode = getenv("DMTCP_MPI_FAKE_CKPT");

	if (!mode)
		mode = "ok";
	if (strcmp(mode, "fail") == 0) {
		dm_err("fake engine: told to fail (%s)", o->dir);
		return CK_FAILED;
	}
	if (strcmp(mode, "hang") == 0) {
		sleep(600);
		return CK_FAILED;
	}
	if (strcmp(mode, "restart-once") == 0 && !restarted) {
		restarted = 1;
		return CK_RESTARTED;
	}
	return write_image(o, path_out, len);
}

/* Nothing is stopped here, so a held checkpoint has nothing to let go. */
void ck_release(void)
{
}

/* ------------------------------------------------------- the fake shim */

static int drain_round;

/* One line to the log, in one write so lines never mix. */
static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	const char *path = getenv("DMTCP_MPI_FAKE_LOG");
	char line[8192];
	va_list ap;

	if (!path)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0 && write(fd, line, (size_t)n) != n)
		dm_err("fake shim: cannot write %s", path);
	if (fd >= 0)
		close(fd);
}

static int told_to_fail(const char *op)
{
	const char *f = getenv("DMTCP_MPI_FAKE_FAIL");

	return f && strcmp(f, op) == 0;
}

static int fake_coll_seqs(int64_t *pairs, int max)
{
	const char *s = getenv("DMTCP_MPI_FAKE_SEQS");
	int n = 0;

	log_line("intent");
	if (told_to_fail("intent"))
		return -1;
	while (s && *s && n < max) {
		long long gid, seq;
		int used;
		if (sscanf(s, "%lld:%lld%n", &gid, &seq, &used) != 2)
			break;
		pairs[2 * n] = gid;
		pairs[2 * n + 1] = seq;
		n++;
		s += used;
		s += *s == ',';
	}
	return n;
}

static int fake_reach_targets(const int64_t *pairs, int n)
{
	char text[4096] = "";
	size_t len = 0;

	for (int i = 0; i < n && len < sizeof(text) - 48; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, " %lld:%lld",
					(long long)pairs[2 * i],
					(long long)pairs[2 * i + 1]);
	log_line("targets%s", text);
	if (told_to_fail("targets-late")) {
		log_line("left %d", ck_client_phase_left_ms());
		while (ck_client_phase_left_ms() > 0)
			usleep(10000);
		return -1;
	}
	return told_to_fail("targets") ? -1 : 0;
}

static int fake_park(void)
{
	log_line("park");
	drain_round = 0;
	return told_to_fail("park") ? -1 : 0;
}

static int fake_drain(int64_t *sent, int64_t *recvd)
{
	const char *s = getenv("DMTCP_MPI_FAKE_DRAIN");
	long long a = 0, b = 0;

	log_line("drain %d", ++drain_round);
	if (told_to_fail("drain"))
		return -1;
	for (int i = 0; s && i < drain_round; i++) {
		int used;
		if (sscanf(s, "%lld:%lld%n", &a, &b, &used) != 2)
			break;
		s += used;
		if (*s != ',')
			break;      /* the last answer repeats */
		s++;
	}
	*sent = a;
	*recvd = b;
	return 0;
}

static void fake_resume(void)
{
	log_line("resume");
}

static void fake_restart(void)
{
	log_line("restart");
}

static const struct ck_mpi_ops fake_ops = {
	.coll_seqs = fake_coll_seqs,
	.reach_targets = fake_reach_targets,
	.park = fake_park,
	.drain = fake_drain,
	.resume = fake_resume,
	.restart = fake_restart,
};

__attribute__((constructor)) static void fake_engine_init(void)
{
	const char *mpi = getenv("DMTCP_MPI_FAKE_MPI");

	ck_client_start();
	if (mpi && strcmp(mpi, "1") == 0) {
		int (*reg)(const struct ck_mpi_ops *) = (int (*)(
			const struct ck_mpi_ops *))dlsym(RTLD_DEFAULT,
							 "ck_client_register_mpi");
		if (!reg || reg(&fake_ops) != 0)
			dm_err("fake shim: cannot register the MPI ops");
	}
}
