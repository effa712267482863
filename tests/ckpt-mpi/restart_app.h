/*
 * restart_app.h - what the applications of restart_app.sh share
 * (tests/ckpt-mpi/restart_*.c).
 *
 * Each application appends what its rank saw, step after step, to
 * DIR/out.<rank>, which the script compares with a native run's.  Some
 * pick the moment of the checkpoint themselves (RESTART_APP_GO=1 in
 * restart_app.sh): rank 0 enters the operation under test, creates
 * DIR/started and waits outside MPI until its own resume or restart hook
 * says a checkpoint is over, while rank 1 holds back until DIR/go exists,
 * which the script creates once the coordinator waits in TARGETS.
 *
 * The engine's resume hook runs once an image was written (or could not
 * be), never for a checkpoint that failed in an MPI phase before it
 * (TARGETS, PARK, DRAIN): that one stops no thread and the job goes on
 * as if it had not been tried (ckpt/ckpt.h).  So an app waiting here
 * for a checkpoint that fails that way waits RA_WAIT_MS; restart_app.sh
 * ends such a job at once, and scripts that make checkpoints fail on
 * purpose tell their app by a file instead (restart_failckpt.sh,
 * restart_drainfail.sh).
 *
 * Header-only, like mpi-tests/mt.h: the script builds each application
 * from its one .c file, with dmtcp_mpicc and with mpicc.mpich.  Under a
 * native run no checkpoint engine is loaded, ra_watch_checkpoints()
 * returns 0 and nothing waits.
 */
#ifndef RESTART_APP_H
#define RESTART_APP_H

#include <dlfcn.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/ckpt.h"

#define RA_WAIT_MS (120 * 1000) /* give up waiting: the run then fails */

static atomic_int ra_ckpt_over;  /* a checkpoint is over (resumed or restarted) */
static atomic_int ra_restarted;  /* this process is a restarted one */

static inline void ra_pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* FNV-1a over n words: what an output line shows of a buffer. */
static inline unsigned ra_checksum(const unsigned *w, size_t n)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

/* The payload of step s of a ring: distinct per step, rank and word. */
static inline void ra_ring_fill(unsigned *out, size_t n, long s, int rank)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned)(s * 7919 + rank * 104729) + (unsigned)i * 31u;
}

/* One step of a ring of n words: out goes right, in comes from the left;
 * returns in's checksum and sets *all to the XOR of every rank's. */
static inline unsigned ra_ring_step(const unsigned *out, unsigned *in, size_t n,
				    int left, int right, unsigned *all)
{
	MPI_Sendrecv(out, (int)n, MPI_UNSIGNED, right, 1, in, (int)n, MPI_UNSIGNED,
		     left, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	unsigned mine = ra_checksum(in, n);
	MPI_Allreduce(&mine, all, 1, MPI_UNSIGNED, MPI_BXOR, MPI_COMM_WORLD);
	return mine;
}

/* The start of an application that runs on a pair of ranks: MPI
 * started; the job ends (usage: USAGE, on 2 ranks) unless there are
 * exactly nargs arguments and 2 ranks.  Returns this rank. */
static inline int ra_init_pair(int *argc, char ***argv, int nargs, const char *usage)
{
	int rank, size;

	MPI_Init(argc, argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (*argc != nargs + 1 || size != 2) {
		fprintf(stderr, "usage: %s (on 2 ranks)\n", usage);
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	return rank;
}

/* STEPS, from the arguments DIR STEPS; the job ends (usage: ...) if
 * they are not that or ok (the app's condition on its ranks) is 0. */
static inline long ra_steps(int argc, char **argv, int ok, const char *usage, ...)
	__attribute__((format(printf, 4, 5)));
static inline long ra_steps(int argc, char **argv, int ok, const char *usage, ...)
{
	va_list ap;

	if (argc != 3 || !ok) {
		va_start(ap, usage);
		fputs("usage: ", stderr);
		vfprintf(stderr, usage, ap);
		fputc('\n', stderr);
		va_end(ap);
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	return atol(argv[2]);
}

/* DIR/out.<rank>, empty, every write appended; the job ends if it
 * cannot be opened. */
static inline int ra_open_out(const char *dir, int rank)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/out.%d", dir, rank);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0) {
		perror(path);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	return fd;
}

/* The same as a stream, for applications that fprintf and fflush. */
static inline FILE *ra_fopen_out(const char *dir, int rank)
{
	FILE *f = fdopen(ra_open_out(dir, rank), "a");

	if (!f) {
		perror(dir);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	return f;
}

static inline void ra_note_ckpt_over(void *arg)
{
	(void)arg;
	atomic_store(&ra_ckpt_over, 1);
}

static inline void ra_note_restart(void *arg)
{
	atomic_store(&ra_restarted, 1);
	ra_note_ckpt_over(arg);
}

/* 1 if the checkpoint engine is loaded (it is under dmtcp_mpi).  Looked
 * up at run time so that the native build needs no engine. */
static inline int ra_watch_checkpoints(void)
{
	static const struct ck_hooks hooks = {
		.resume = ra_note_ckpt_over,
		.restart = ra_note_restart,
	};
	int (*reg)(const struct ck_hooks *) =
		(int (*)(const struct ck_hooks *))dlsym(RTLD_DEFAULT, "ck_register_hooks");

	return reg && reg(&hooks) == 0;
}

/* Until this process's resume or restart hook has run: a checkpoint is
 * over. */
static inline void ra_wait_ckpt_over(void)
{
	for (int ms = 0; !atomic_load(&ra_ckpt_over); ms++) {
		if (ms == RA_WAIT_MS) {
			fprintf(stderr, "restart app: no checkpoint came\n");
			exit(3);
		}
		ra_pause_ms(1);
	}
}

/* DIR/NAME, created empty: a sign to the script. */
static inline void ra_touch(const char *dir, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror(path);
		exit(3);
	}
	close(fd);
}

/* Until the script creates DIR/NAME (DIR/go: the checkpoint asks for the
 * operation rank 1 held back). */
static inline void ra_wait_file(const char *dir, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (int ms = 0; access(path, F_OK) != 0; ms += 10) {
		if (ms >= RA_WAIT_MS) {
			fprintf(stderr, "restart app: no %s came\n", path);
			exit(3);
		}
		ra_pause_ms(10);
	}
}

/* Rank 0, inside the operation under test: say so (DIR/started), and
 * wait until a checkpoint is over. */
static inline void ra_hold_for_checkpoint(const char *dir)
{
	ra_touch(dir, "started");
	ra_wait_ckpt_over();
}

/* An exchange under test, run once in the middle of a ring (ra_ring_around). */
typedef void ra_exchange_fn(FILE *f, int rank, int engine, const char *dir, long step);

/* The whole run of an application that tests one exchange in the middle
 * of a ring (restart_freedup.c, restart_freepersist.c): argv is DIR
 * STEPS (else the job ends: usage), then STEPS steps of a 64 KiB
 * Sendrecv ring and an Allreduce of checksums, a line each in
 * DIR/out.<rank>, and after step STEPS/4 + 1's line, at().  Returns
 * main's status. */
static inline int ra_ring_around(int argc, char **argv, const char *usage, ra_exchange_fn *at)
{
	enum { WORDS = 64 * 1024 / sizeof(unsigned) };
	static unsigned out[WORDS], in[WORDS];
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, 1, usage);
	int engine = ra_watch_checkpoints();
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	FILE *f = ra_fopen_out(argv[1], rank);
	ra_ring_fill(out, WORDS, 0, rank);
	for (long s = 1; s <= steps; s++) {
		unsigned all, mine = ra_ring_step(out, in, WORDS, left, right, &all);
		ra_pause_ms(5); /* so the killed run is still going when it is killed */
		ra_ring_fill(out, WORDS, s, rank);
		fprintf(f, "%ld: from %d %08x all %08x\n", s, left, mine, all);
		fflush(f);
		if (s == steps / 4 + 1)
			at(f, rank, engine, argv[1], s);
	}
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}

#endif
