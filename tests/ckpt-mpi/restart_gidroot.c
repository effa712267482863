/*
 * restart_gidroot.c - the application of tests/ckpt-mpi/restart_gidroot.sh.
 *
 *   restart_gidroot DIR STEPS
 *
 * An idup'd communicator outlives its parent across restarts, and the
 * parent's global id is not handed out again.  At the start P is made by
 * MPI_Comm_dup (its id drawn from rank 0's counter, proxy/gid.c), A by
 * MPI_Comm_idup from P (its id computed from P's id and P's sequence
 * number, shim/commdup.c), and P is freed at once.  Every step runs an
 * Allreduce and a Bcast on A.  At step STEPS/2 the same recipe runs
 * again: N by MPI_Comm_dup of WORLD, D by MPI_Comm_idup from N right
 * away, and E by MPI_Comm_idup from A; from then on every step also runs
 * an Allreduce on D and one on E.
 *
 * A restart starts a new proxy whose counter starts over; were P's id not
 * kept from reuse (COMM_REBUILD's arg[4]), N would get it, and D, made
 * from it at the same sequence number, A's id.  Two communicators under
 * one id count their collectives together: D would always look behind
 * A's count, and a checkpoint would wait in TARGETS for ever.  So a run
 * that was restarted (the engine says so) stops at step STEPS/2 + 10,
 * both ranks outside MPI after a Barrier, creates DIR/again and waits for
 * DIR/again-go, which restart_app.sh (RESTART_APP_AGAIN) creates after it
 * has taken a second checkpoint, which must succeed.  What each step got
 * goes to DIR/out.<rank>; a native run does not stop.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/ckpt.h"

#define WAIT_MS (120 * 1000) /* give up waiting: the run then fails */

static atomic_int restarted;

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void note_restart(void *arg)
{
	(void)arg;
	atomic_store(&restarted, 1);
}

/* Under dmtcp_mpi: learn when this process is a restarted one. */
static void watch_restarts(void)
{
	static const struct ck_hooks hooks = { .restart = note_restart };
	int (*reg)(const struct ck_hooks *) =
		(int (*)(const struct ck_hooks *))dlsym(RTLD_DEFAULT, "ck_register_hooks");

	if (reg)
		reg(&hooks);
}

static void file_path(char *path, size_t len, const char *dir, const char *name)
{
	snprintf(path, len, "%s/%s", dir, name);
}

/* Both ranks outside MPI until the second checkpoint is over. */
static void stop_for_checkpoint(int rank, const char *dir)
{
	char path[4200];

	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0) {
		file_path(path, sizeof(path), dir, "again");
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0) {
			perror(path);
			exit(3);
		}
		close(fd);
	}
	file_path(path, sizeof(path), dir, "again-go");
	for (int ms = 0; access(path, F_OK) != 0; ms += 10) {
		if (ms >= WAIT_MS) {
			fprintf(stderr, "restart_gidroot: rank %d: no %s came\n", rank, path);
			exit(3);
		}
		pause_ms(10);
	}
}

static void idup_wait(MPI_Comm parent, MPI_Comm *out)
{
	MPI_Request r;

	MPI_Comm_idup(parent, out, &r);
	MPI_Wait(&r, MPI_STATUS_IGNORE);
}

/* Dup of WORLD, an idup from it, the dup freed: the idup'd one. */
static MPI_Comm orphan_idup(void)
{
	MPI_Comm p, a;

	MPI_Comm_dup(MPI_COMM_WORLD, &p);
	idup_wait(p, &a);
	MPI_Comm_free(&p);
	return a;
}

static long sum_on(MPI_Comm comm, long v)
{
	long sum = 0;

	MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, comm);
	return sum;
}

int main(int argc, char **argv)
{
	int rank, size;
	char path[4096];
	MPI_Comm n, d = MPI_COMM_NULL, e = MPI_COMM_NULL;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 3 || size != 2) {
		fprintf(stderr, "usage: restart_gidroot DIR STEPS (on 2 ranks)\n");
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	long steps = atol(argv[2]);
	file_path(path, sizeof(path), argv[1], rank ? "out.1" : "out.0");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0) {
		perror(path);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	watch_restarts();
	MPI_Comm a = orphan_idup();
	long again_step = steps / 2 + 10;
	for (long s = 1; s <= steps; s++) {
		long root_val = s * 11 + rank, sd = 0, se = 0;

		if (rank == 1)
			pause_ms(20);
		if (s == steps / 2) {
			MPI_Comm_dup(MPI_COMM_WORLD, &n);
			idup_wait(n, &d);
			MPI_Comm_free(&n);
			idup_wait(a, &e);
		}
		if (s == again_step && atomic_load(&restarted))
			stop_for_checkpoint(rank, argv[1]);
		long sa = sum_on(a, s * (rank + 3));
		MPI_Bcast(&root_val, 1, MPI_LONG, (int)(s % size), a);
		if (d != MPI_COMM_NULL) {
			sd = sum_on(d, s * (rank + 5));
			se = sum_on(e, s * (rank + 7));
		}
		dprintf(fd, "step %ld a %ld bcast %ld d %ld e %ld\n", s, sa, root_val, sd, se);
	}
	MPI_Comm_free(&e);
	MPI_Comm_free(&d);
	MPI_Comm_free(&a);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
