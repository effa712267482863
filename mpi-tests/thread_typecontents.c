/*
 * thread_typecontents.c - MPI_THREAD_MULTIPLE: several threads of a rank
 * take the components of one datatype with MPI_Type_get_contents and free
 * them, at once.
 *
 * The component is a vector whose own handle the application freed as
 * soon as the parent (a contiguous of it) was made, so only the parent
 * keeps it.  Each Type_get_contents hands the component out again as a
 * new reference the caller must free (a derived one: MPI says so), so every thread
 * holds it between its get_contents and its Type_free while the other
 * threads take and drop theirs.  The shim counts those references on the
 * component's record; one taken without the lock that Type_free drops
 * them under can be lost, and a thread's handle then stops being a valid
 * datatype (Type_size or Type_free fail) while it still holds it.
 *
 * Checked: every call's return code (errors return), the component's
 * size and combiner each round, the parent's size at the end.  Output:
 * one verdict line.
 */
/* ranks: 2 */
#include "mt_threads.h"

#include <sched.h>

#define NT 4             /* threads per rank */
#define ROUNDS 20000     /* get_contents and free, per thread */
#define HOLD 4           /* looks at the component, yielding between */
#define VCOUNT 3         /* the vector: 3 blocks of 2 ints */
#define VBLOCK 2

static MPI_Datatype parent;

/* One round: the parent's component handed out, looked at, freed.
 * Returns the first error; *size and *combiner what the component says. */
static int take_and_free(int *size, int *combiner)
{
	int ints[1], ni, na, nt;
	MPI_Aint addrs[1];
	MPI_Datatype k;
	int err;

	if ((err = MPI_Type_get_contents(parent, 1, 0, 1, ints, addrs, &k)))
		return err;
	/* Held a while: the other threads' rounds run meanwhile. */
	for (int i = 0; i < HOLD && !err; i++) {
		err = MPI_Type_size(k, size);
		if (!err)
			err = MPI_Type_get_envelope(k, &ni, &na, &nt, combiner);
		sched_yield();
	}
	int ferr = MPI_Type_free(&k);
	return err ? err : ferr;
}

static void *run(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int round = 0; round < ROUNDS; round++) {
		int size = -1, combiner = -1;
		int err = take_and_free(&size, &combiner);
		CHECK(err == MPI_SUCCESS, "thread %d round %d: a call returned %d", id, round,
		      err);
		if (err)
			return NULL;
		CHECK(size == VCOUNT * VBLOCK * (int)sizeof(int),
		      "thread %d round %d: component size %d", id, round, size);
		CHECK(combiner == MPI_COMBINER_VECTOR,
		      "thread %d round %d: component combiner %d", id, round, combiner);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	MPI_Datatype vec;
	int size = -1;

	if (!mt_init_multiple(&argc, &argv, "thread_typecontents"))
		return mt_finish();
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN); /* datatype errors */
	MT_CHECK(MPI_Type_vector(VCOUNT, VBLOCK, 2 * VBLOCK, MPI_INT, &vec) == MPI_SUCCESS,
		 "Type_vector failed");
	MT_CHECK(MPI_Type_contiguous(2, vec, &parent) == MPI_SUCCESS, "Type_contiguous failed");
	MT_CHECK(MPI_Type_commit(&parent) == MPI_SUCCESS, "Type_commit failed");
	MT_CHECK(MPI_Type_free(&vec) == MPI_SUCCESS, "Type_free of the vector failed");
	mt_run_threads(NT, run);
	MT_CHECK(MPI_Type_size(parent, &size) == MPI_SUCCESS &&
		 size == 2 * VCOUNT * VBLOCK * (int)sizeof(int), "parent size %d", size);
	MT_CHECK(MPI_Type_free(&parent) == MPI_SUCCESS, "Type_free of the parent failed");
	mt_say("%d threads x %d get_contents of a component only its parent keeps",
	       NT, ROUNDS);
	return mt_finish();
}
