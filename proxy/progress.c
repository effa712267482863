/*
 * progress.c - completing real requests without blocking inside MPI.
 *
 * Every blocking MPI call of the application ends here as a test loop.
 * Between tests the loop watches the channel: if the application dies
 * the proxy aborts the job instead of waiting forever.  (A checkpoint
 * request will be noticed here too.)  When the proxy shares its CPU with
 * the application or another process, yielding lets them run; MPICH and
 * Open MPI make progress inside the test calls.
 *
 * Sharing a CPU (same_cpu), the proxy tests for PX_SPIN_NS before each
 * yield.  The application is only waiting for our reply, so testing at
 * once after every yield handed the CPU to it for nothing: the message
 * we wait for was seen at most every other context switch.  A few
 * microseconds of tests catch a peer that is one hand-off away (2 ranks
 * on 2 CPUs, SCHED_FIFO, MPICH: 8-byte ping-pong one way 5.5 -> 4.1 us,
 * Allreduce 9.8 -> 5.0 us) and delay a process sharing the CPU by no
 * more than that when nothing comes.
 */
#include "px.h"

#include <sched.h>
#include <time.h>

/* Tests between yields: a handful keeps latency low when we own a CPU. */
#define PX_TESTS_PER_YIELD 64
#define PX_SPIN_NS 3000u /* sharing a CPU: test this long, then yield */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Between two tests of one wait; *n is 0 at the first pause. */
static void progress_pause(unsigned *n)
{
	static uint64_t turn; /* when our current run of tests began */

	if (atomic_load_explicit(&px.ch.hdr->state, memory_order_relaxed) != CHAN_UP)
		px_app_gone();
	if (!px.ch.hdr->same_cpu) {
		if (++*n % PX_TESTS_PER_YIELD == 0)
			sched_yield();
		return;
	}
	uint64_t t = now_ns();
	if ((*n)++ == 0) {
		turn = t;
	} else if (t - turn >= PX_SPIN_NS) {
		sched_yield();
		turn = now_ns();
	}
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
