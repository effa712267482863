/*
 * progress.c - completing real requests without blocking inside MPI.
 *
 * Every blocking MPI call of the application ends here as a test loop.
 * Between tests the loop watches the channel: if the application dies
 * the proxy aborts the job instead of waiting forever, and a control
 * request of a checkpoint (chan.h) is served here while the application's
 * call is still in progress.  When the proxy shares its CPU with the
 * application or another process, yielding lets them run; MPICH and
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
 *
 * What a checkpoint's PARK does to a wait depends on who owns it:
 *   hold     (px_wait) collectives, constructors: nothing; they end
 *            once every member got there, and PARK is answered
 *            meanwhile (a blocking send is not held: proxy/p2p.c
 *            keep_send);
 *   app      (px_wait_app, px_waitall/any/some, px_probe) the requests
 *            are the application's: return PX_RETRY and let it ask again;
 *   recv     (px_wait_recv) a receive the proxy posted for RECV: cancel
 *            it; if the cancel comes too late (it matched), it completes.
 * The latter two leave PARK waiting (px_ctl_poll) until the call they
 * serve has been answered, so PARK's reply finds the slot idle.
 */
#include "px.h"

#include <sched.h>

/* Tests between yields: a handful keeps latency low when we own a CPU. */
#define PX_TESTS_PER_YIELD 64
#define PX_SPIN_NS 3000u /* sharing a CPU: test this long, then yield */

enum park { HOLD, APP, RECV };

/* Between two tests of one wait; *n is 0 at the first pause. */
DM_HOT static void relax(unsigned *n)
{
	static uint64_t turn; /* when our current run of tests began */

	if (atomic_load_explicit(&px.ch.hdr->state, memory_order_relaxed) != CHAN_UP)
		px_app_gone();
	if (!px.ch.hdr->same_cpu) {
		if (++*n % PX_TESTS_PER_YIELD == 0)
			sched_yield();
		return;
	}
	uint64_t t = chan_clock_ns();
	if ((*n)++ == 0) {
		turn = t;
	} else if (t - turn >= PX_SPIN_NS) {
		sched_yield();
		turn = chan_clock_ns();
	}
}

/* Between two tests.  Returns 1 if the wait must give way to PARK.
 * Our own Cartesian exchanges are stepped here (px_icoll_step): a peer
 * may be waiting for their messages while this rank waits for
 * something else. */
static int progress_pause(unsigned *n, enum park p)
{
	px_icoll_step();
	if (px_ctl_waiting())
		px_ctl_poll(p != HOLD);
	if (p != HOLD && px.parked)
		return 1;
	relax(n);
	return 0;
}

int px_wait_quiet(MPI_Request *r, MPI_Status *st)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int rc = MPI_Test(r, &flag, st);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		relax(&n);
	}
}

void px_take_back(int n, MPI_Request *r, int is_send)
{
	for (int k = 0; k < n; k++) {
		int done = 0;
		if (r[k] == MPI_REQUEST_NULL)
			continue;
		MPI_Cancel(&r[k]);
		if (!is_send)
			px_wait_quiet(&r[k], MPI_STATUS_IGNORE);
		else if (MPI_Test(&r[k], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || !done)
			MPI_Request_free(&r[k]);
		r[k] = MPI_REQUEST_NULL;
	}
}

/* PARK caught a receive the proxy posted: take it back if MPI still can. */
static int cancel_recv(MPI_Request *r, MPI_Status *st)
{
	int cancelled = 0;
	int rc = MPI_Cancel(r);

	if (rc == MPI_SUCCESS)
		rc = px_wait_quiet(r, st);
	if (rc == MPI_SUCCESS)
		MPI_Test_cancelled(st, &cancelled);
	return cancelled ? PX_RETRY : rc;
}

static int wait_one(MPI_Request *r, MPI_Status *st, enum park p)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int rc = MPI_Test(r, &flag, st);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		if (progress_pause(&n, p))
			return p == RECV ? cancel_recv(r, st) : PX_RETRY;
	}
}

int px_wait(MPI_Request *r, MPI_Status *st)
{
	return wait_one(r, st, HOLD);
}

DM_HOT int px_wait_recv(MPI_Request *r, MPI_Status *st)
{
	return wait_one(r, st, RECV);
}

DM_HOT int px_wait_app(MPI_Request *r, MPI_Status *st)
{
	return wait_one(r, st, APP);
}

int px_waitall(int count, MPI_Request *r, MPI_Status *st)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int rc = MPI_Testall(count, r, &flag, st);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		if (progress_pause(&n, APP))
			return PX_RETRY;
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
		if (progress_pause(&n, APP))
			return PX_RETRY;
	}
}

int px_waitsome(int count, MPI_Request *r, int *outcount, int *idx, MPI_Status *st)
{
	unsigned n = 0;

	for (;;) {
		int rc = MPI_Testsome(count, r, outcount, idx, st);
		if (rc != MPI_SUCCESS || *outcount != 0)
			return rc;
		if (progress_pause(&n, APP))
			return PX_RETRY;
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
		if (progress_pause(&n, APP))
			return PX_RETRY;
	}
}
