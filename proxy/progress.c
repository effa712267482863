/*
 * progress.c - completing real requests without blocking inside MPI.
 *
 * Every blocking MPI call of the application ends here as a test loop.
 * Between tests the loop watches the channel: if the application dies
 * the proxy aborts the job instead of waiting forever.  (A checkpoint
 * request will be noticed here too.)  When the proxy shares its CPU with
 * the application or another process, yielding lets them run; MPICH and
 * Open MPI make progress inside the test calls.
 */
#include "px.h"

#include <sched.h>

/* Tests between yields: a handful keeps latency low when we own a CPU. */
#define PX_TESTS_PER_YIELD 64

static void progress_pause(unsigned *n)
{
	if (atomic_load_explicit(&px.ch.hdr->state, memory_order_relaxed) != CHAN_UP)
		px_app_gone();
	if (px.ch.hdr->same_cpu || ++*n % PX_TESTS_PER_YIELD == 0)
		sched_yield();
}

int px_wait(MPI_Request *r, MPI_Status *st)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int rc = MPI_Test(r, &flag, st);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		progress_pause(&n);
	}
}

int px_waitall(int count, MPI_Request *r, MPI_Status *st)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int rc = MPI_Testall(count, r, &flag, st);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		progress_pause(&n);
	}
}

int px_waitany(int count, MPI_Request *r, int *index, MPI_Status *st)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int rc = MPI_Testany(count, r, index, &flag, st);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		progress_pause(&n);
	}
}

int px_waitsome(int count, MPI_Request *r, int *outcount, int *idx, MPI_Status *st)
{
	unsigned n = 0;

	for (;;) {
		int rc = MPI_Testsome(count, r, outcount, idx, st);
		if (rc != MPI_SUCCESS || *outcount != 0)
			return rc;
		progress_pause(&n);
	}
}

int px_probe(int source, int tag, MPI_Comm comm, MPI_Status *st)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int rc = MPI_Iprobe(source, tag, comm, &flag, st);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		progress_pause(&n);
	}
}
