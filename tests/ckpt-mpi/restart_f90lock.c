/*
 * restart_f90lock.c - the application of tests/ckpt-mpi/restart_f90lock.sh.
 *
 *   restart_f90lock DIR
 *
 * A checkpoint while rank 1 is inside MPI_Type_create_f90_real, which
 * holds the shim's f90 lock (shim/typef90.c) around its call to the
 * proxy.  Rank 1 asks for a new type, MPI_UNDEFINED precision and range
 * r = 1, 2, ..., one after the other (each (p, r) is a type of its own,
 * made by the proxy; then the same as complex types), creates
 * DIR/started after the first and goes on
 * until a checkpoint is over; nearly all of that time is spent in the
 * proxy call, and once the checkpoint has parked the job the next call
 * waits at the gate with the lock held, so the image holds it.  Then it
 * asks for every type again, which must give the handle made first, and
 * sends rank 0 the word.  A native run makes 50 types.  Each rank prints
 * one line.  ckpt_all's type_f90 hung after such a restart: the lock
 * remembered the kernel thread id of the image's thread, which a
 * restart changes.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

enum { MAX_R = 4931, NTYPES = 2 * MAX_R, NATIVE_TYPES = 50 };

static MPI_Datatype made[NTYPES + 1];

/* Type i (from 1): REAL then COMPLEX of range 1..MAX_R, each a type of
 * its own, so that the loop has a few seconds of proxy calls to offer
 * even on a fast machine (it made about 2000 while the checkpoint came
 * on a loaded one). */
static void f90_type(int i, MPI_Datatype *t)
{
	int r = (i - 1) % MAX_R + 1;

	if (i <= MAX_R)
		MPI_Type_create_f90_real(MPI_UNDEFINED, r, t);
	else
		MPI_Type_create_f90_complex(MPI_UNDEFINED, r, t);
}

/* Rank 1: 1 if every type asked for again is the one made first.  Once
 * all are made (a checkpoint slower than ever seen), it asks for made
 * ones until the checkpoint comes: the lock is then held only briefly,
 * and the image may miss it, but the run does not fail for slowness. */
static int make_types(const char *dir, int watch)
{
	int n = 0;
	MPI_Datatype again;

	for (int i = 1; watch ? !atomic_load(&ra_ckpt_over) : i <= NATIVE_TYPES; i++) {
		if (i <= NTYPES) {
			f90_type(i, &made[i]);
			n = i;
		} else {
			f90_type((i - 1) % NTYPES + 1, &again);
		}
		if (i == 1 && watch)
			ra_touch(dir, "started");
	}
	if (watch)
		fprintf(stderr, "restart_f90lock: %d of %d types made at the checkpoint\n", n,
			NTYPES);
	for (int i = 1; i <= n; i++) {
		f90_type(i, &again);
		if (again != made[i])
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	int rank = ra_init_pair(&argc, &argv, 1, "restart_f90lock DIR");
	int ok = 0;
	int watch = ra_watch_checkpoints();
	if (rank == 1) {
		ok = make_types(argv[1], watch);
		MPI_Send(&ok, 1, MPI_INT, 0, 0, MPI_COMM_WORLD);
		printf("rank 1: f90 types made again are the same: %s\n", ok ? "ok" : "WRONG");
	} else {
		MPI_Recv(&ok, 1, MPI_INT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		printf("rank 0: rank 1 says %s\n", ok ? "ok" : "WRONG");
	}
	fflush(stdout);
	MPI_Finalize();
	return 0;
}
