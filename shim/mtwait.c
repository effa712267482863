/*
 * mtwait.c - blocking calls when several application threads call MPI.
 *
 * The channel has one call slot.  A blocking call that kept it while the
 * proxy waits for a peer would stop every other thread of the rank, and
 * MPI_THREAD_MULTIPLE promises that thread A may wait in MPI_Recv for a
 * message that rank 1 sends only after it got one from thread B.  So under
 * MULTIPLE every blocking point-to-point or completion call is its
 * nonblocking twin followed by polls (Test, Testall, Iprobe, ...), and
 * the slot is free between two polls: other threads' calls go through.
 *
 * The polls back off: a few that only yield the CPU (a reply one hand-off
 * away arrives within microseconds), then sleeps that double up to
 * MT_SLEEP_MAX_NS, so a thread waiting long costs about one round trip
 * per MT_SLEEP_MAX_NS and never spins on a crowded machine.  Below
 * MULTIPLE a blocking call is one round trip, except a Waitall, Waitany
 * or Waitsome over a generalized request still running (shim/req.c):
 * only the application completes that one, so those poll too.
 *
 * A checkpoint parks polling threads at their next poll (the gate in
 * shim_call_begin); the requests they poll are reposted or completed by
 * the checkpoint like any other, and the next poll finds them so.
 * Blocking collectives work the same way (shim_coll_run), except that
 * their polls are never parked: the collective was admitted, every
 * member will finish it, and the checkpoint drains only after that.
 * So do communicator splits and creates, topology constructors and
 * intercommunicator ones (shim_mt_ctor_run), which the proxy makes on a
 * thread of its own.
 *
 * Errors were raised by the nonblocking call or the poll that found them,
 * through the communicator's handler, and are returned as they are.
 */
#include "shim.h"

#include <sched.h>
#include <time.h>

#include "chan/coll.h"

#define MT_YIELDS 16              /* polls that only yield the CPU */
#define MT_SLEEP_MIN_NS 2000u     /* then sleeps from this ... */
#define MT_SLEEP_MAX_NS 500000u   /* ... doubling up to this */

/* Between two polls of one wait; *n counts the pauses so far. */
static void pause_poll(unsigned *n)
{
	if (*n < MT_YIELDS) {
		(*n)++;
		sched_yield();
		return;
	}
	long ns = (long)MT_SLEEP_MIN_NS << (*n - MT_YIELDS);

	if (ns >= MT_SLEEP_MAX_NS)
		ns = MT_SLEEP_MAX_NS;
	else
		(*n)++;
	struct timespec ts = { 0, ns };
	nanosleep(&ts, NULL);
}

int shim_mt_wait(MPI_Request *request, MPI_Status *status)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int err = PMPI_Test(request, &flag, status);
		if (err || flag)
			return err;
		pause_poll(&n);
	}
}

/* Send modes as shim/p2p.c numbers them (arg[6] of SEND). */
enum { MT_MODE_SYNC = 1, MT_MODE_READY = 2 };

int shim_mt_send(const void *buf, int count, MPI_Datatype type, int dest, int tag,
		 MPI_Comm comm, int mode)
{
	MPI_Request r;
	int err = mode == MT_MODE_SYNC ? PMPI_Issend(buf, count, type, dest, tag, comm, &r)
		: mode == MT_MODE_READY ? PMPI_Irsend(buf, count, type, dest, tag, comm, &r)
		: PMPI_Isend(buf, count, type, dest, tag, comm, &r);

	return err ? err : shim_mt_wait(&r, MPI_STATUS_IGNORE);
}

int shim_mt_recv(void *buf, int count, MPI_Datatype type, int source, int tag,
		 MPI_Comm comm, MPI_Status *status)
{
	MPI_Request r;
	int err = PMPI_Irecv(buf, count, type, source, tag, comm, &r);

	return err ? err : shim_mt_wait(&r, status);
}

/* The send of a Sendrecv_replace is copied when it is posted (even from
 * an MPI_Alloc_mem block, shim_p2p_isend_copy), so rbuf may be sbuf.
 * Each request is waited for on its own: a truncated receive is
 * MPI_ERR_TRUNCATE as in Sendrecv, not MPI_ERR_IN_STATUS as Waitall
 * would make it. */
int shim_mt_sendrecv(const void *sbuf, int scount, MPI_Datatype stype, int dest,
		     int stag, void *rbuf, int rcount, MPI_Datatype rtype, int source,
		     int rtag, MPI_Comm comm, MPI_Status *status)
{
	MPI_Request s, r;

	int err = sbuf == rbuf ?
		shim_p2p_isend_copy("MPI_Sendrecv_replace", sbuf, scount, stype, NULL, dest,
				    stag, comm, NULL, &s) :
		PMPI_Isend(sbuf, scount, stype, dest, stag, comm, &s);
	if (err)
		return err;
	err = PMPI_Irecv(rbuf, rcount, rtype, source, rtag, comm, &r);
	int rerr = err ? err : shim_mt_wait(&r, status);
	int serr = shim_mt_wait(&s, MPI_STATUS_IGNORE);
	return rerr ? rerr : serr;
}

int shim_mt_probe(int source, int tag, MPI_Comm comm, MPI_Status *status)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int err = PMPI_Iprobe(source, tag, comm, &flag, status);
		if (err || flag)
			return err;
		pause_poll(&n);
	}
}

int shim_mt_waitall(int count, MPI_Request reqs[], MPI_Status statuses[])
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int err = PMPI_Testall(count, reqs, &flag, statuses);
		if (err || flag)
			return err;
		pause_poll(&n);
	}
}

int shim_mt_waitany(int count, MPI_Request reqs[], int *index, MPI_Status *status)
{
	unsigned n = 0;
	int flag = 0;

	for (;;) {
		int err = PMPI_Testany(count, reqs, index, &flag, status);
		if (err || flag)
			return err;
		pause_poll(&n);
	}
}

int shim_mt_waitsome(int incount, MPI_Request reqs[], int *outcount, int indices[],
		     MPI_Status statuses[])
{
	unsigned n = 0;

	for (;;) {
		int err = PMPI_Testsome(incount, reqs, outcount, indices, statuses);
		if (err || *outcount != 0)
			return err;
		pause_poll(&n);
	}
}

/* ---- collectives ---- */

_Atomic int shim_coll_pending;

/* One poll of the collective kept as request r; *done when it is. */
static int poll_coll(const struct shim_req *r, int *done)
{
	struct chan_call *c = shim_call_begin_admitted(CALL_TEST);

	c->arg[0] = (int64_t)(intptr_t)r->handle;
	int err = shim_call_run(c);
	*done = (int)c->arg[1];
	shim_call_end();
	return err;
}

/* Two threads' collectives on different communicators may be entered in
 * different orders on two ranks; a collective that kept the slot until
 * it is complete would wait for the other rank, whose slot waits for us. */
int shim_coll_run(struct chan_call *c)
{
	struct shim_req *r = shim_mt() ? shim_req_new(SHIM_REQ_COLL,
				(MPI_Comm)(intptr_t)c->arg[COLL_COMM]) : NULL;
	unsigned n = 0;
	int done = 0;

	if (!r) { /* one round trip, the slot kept until the reply */
		int err = shim_call_run(c);
		shim_call_end();
		return err;
	}
	atomic_fetch_add(&shim_coll_pending, 1);
	c->arg[COLL_DETACH] = (int64_t)(intptr_t)r->handle;
	int err = shim_call_run(c);
	shim_call_end();
	while (err == MPI_SUCCESS && !done) {
		err = poll_coll(r, &done);
		if (err == MPI_SUCCESS && !done)
			pause_poll(&n);
	}
	atomic_fetch_sub(&shim_coll_pending, 1);
	shim_req_complete(r, NULL);
	return err;
}

/* ---- communicator constructors ---- */

/* The constructors the proxy can make on a thread of its own. */
static int detachable(uint32_t id)
{
	return id == CALL_COMM_DUP || id == CALL_COMM_SPLIT || id == CALL_COMM_SPLIT_TYPE ||
	       id == CALL_COMM_CREATE || id == CALL_COMM_CREATE_GROUP ||
	       id == CALL_CART_CREATE || id == CALL_CART_SUB || id == CALL_GRAPH_CREATE ||
	       id == CALL_DIST_GRAPH_CREATE || id == CALL_DIST_GRAPH_CREATE_ADJACENT ||
	       id == CALL_INTERCOMM_CREATE || id == CALL_INTERCOMM_MERGE;
}

/* Split and create have no nonblocking form, and one that kept the slot
 * until every member got there would deadlock like a collective (see
 * shim_coll_run): the proxy makes it on a thread of its own and we poll
 * (proxy/ctorbg.c).  The polls pass the checkpoint gate as admitted
 * collectives do, and DRAIN waits for them (shim_coll_pending).
 *
 * Between two polls we wait for the proxy to finish this constructor
 * (its token's constructor word, chan/chan.h), not for a timer: the
 * other members of a constructor wait for us, MPICH's context-id
 * allocation holds its mask across ranks, and on a crowded machine each
 * timed poll cost milliseconds (a sched_yield puts the thread behind
 * every runnable one, and the proxy's main thread must be woken for each
 * poll).  Measured with MPICH's threads/comm/comm_create_group_threads,
 * 2 ranks, load 12-18: a made communicator waited 4-8 ms for the poll
 * that collected it; at load 5 the whole test took 24-30 s with timed
 * polls, 3.8-7.2 s with a wait on one word that every constructor of the
 * rank stepped.  That word woke every waiting thread and all but one
 * polled for nothing, which made Open MPI, whose constructors end
 * sooner, slower than with timed polls (2.3-2.5 s against 3.2-3.7 s);
 * hence one word per token.  We wait before the first poll too: the
 * proxy answers the start at once, long before any member is done.  The
 * word is read before the start and before each poll, so no step goes
 * unnoticed; a step for another token on the same word costs one poll. */
int shim_mt_ctor_run(struct chan_call *c)
{
	static _Atomic int64_t next_token = 1;

	if (!shim_mt() || !detachable(c->id)) {
		c->arg[CALL_ARG_DETACH] = 0;
		return shim_call_run(c);
	}
	int64_t token = atomic_fetch_add(&next_token, 1);
	uint32_t seen = chan_ctor_seq(&shim.ch, token);
	c->arg[CALL_ARG_DETACH] = token;
	int err = shim_call_run(c);
	if (err)
		return err;
	atomic_fetch_add(&shim_coll_pending, 1);
	shim_call_end();
	for (;;) {
		/* A proxy gone fails the poll. */
		chan_wait_ctor(&shim.ch, token, seen);
		seen = chan_ctor_seq(&shim.ch, token);
		c = shim_call_begin_admitted(CALL_COMM_POLL);
		c->arg[0] = token;
		err = shim_call_run(c);
		if (err || c->arg[2])
			break;
		shim_call_end();
	}
	atomic_fetch_sub(&shim_coll_pending, 1);
	return err;
}
