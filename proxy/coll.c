/*
 * coll.c - blocking collectives, proxy side.
 *
 * Previous hop: proxy/loop.c (dispatch by call id), issued by
 * shim/coll.c.  Next hop: the real MPI, then the reply to the app.
 *
 * Each handler starts the real nonblocking twin (MPI_Ibcast for
 * MPI_Bcast, ...) and completes it in px_wait, so the proxy never blocks
 * inside MPI.  The shim has already checked the arguments, staged every
 * buffer in the arena and put count/displacement arrays in inl[] (or in
 * the arena, see COLL_ARRAYS); non-significant arguments arrive benign
 * (count 0, MPI_BYTE, no buffer).  Reductions with predefined operations
 * happen inside the real MPI.
 *
 * Argument slots are chan/coll.h's; each handler lists those it reads.
 * Buffers: CHAN_OFF_NONE becomes a placeholder (coll_buf),
 * CHAN_OFF_IN_PLACE the real MPI_IN_PLACE, anything else an arena
 * pointer.  Roots go through px_rank_in, so an intercommunicator's
 * MPI_ROOT and MPI_PROC_NULL arrive as the real MPI's.
 */
#include "px.h"

#include "chan/coll.h"

/* A buffer argument.  "No buffer" becomes one of two distinct
 * placeholders, never NULL: MPICH checks a send buffer that is not
 * significant against NULL when the count is (the root of an
 * intercommunicator MPI_Reduce), and two different placeholders never
 * look like MPI_IN_PLACE (sendbuf == recvbuf) to Open MPI's nonblocking
 * collectives.  Nothing is ever read or written through them. */
static void *coll_buf(int64_t off, int recv)
{
	static unsigned char none[2];

	if (off == CHAN_OFF_NONE)
		return &none[recv];
	if (off == CHAN_OFF_IN_PLACE)
		return MPI_IN_PLACE;
	return px_ptr(off);
}

/* Array i of those sent with the call (COLL_NARR ints each), or NULL
 * when this rank sent none (a v-variant's arrays off its root). */
static int *coll_array(struct chan_call *c, int i)
{
	unsigned char *base = c->arg[COLL_ARRAYS] == CHAN_OFF_NONE ? c->inl
		: px_ptr(c->arg[COLL_ARRAYS]);

	if (c->arg[COLL_NARR] == 0)
		return NULL;
	return (int *)(void *)(base + (size_t)i * (size_t)c->arg[COLL_NARR] * sizeof(int));
}

/* The communicator of c, or NULL after replying MPI_ERR_COMM: the shim
 * only sends live ones, so this guards against a stale table. */
static MPI_Comm coll_comm(struct chan_call *c)
{
	MPI_Comm comm = px_comm(c->arg[COLL_COMM]);

	if (comm == MPI_COMM_NULL)
		c->err = ABI_ERR_COMM;
	return comm;
}

/* Complete a started collective and reply with its outcome; or, when
 * the shim asked (COLL_DETACH), keep it as that request and reply now. */
static void coll_finish(struct chan_call *c, int rc, MPI_Request *req)
{
	if (rc == MPI_SUCCESS && c->arg[COLL_DETACH])
		*px_req_slot(c->arg[COLL_DETACH]) = *req;
	else if (rc == MPI_SUCCESS)
		rc = px_wait(req, MPI_STATUS_IGNORE);
	px_reply(c, rc);
}

#define SBUF coll_buf(c->arg[COLL_SBUF], 0)
#define RBUF coll_buf(c->arg[COLL_RBUF], 1)
#define SCOUNT ((int)c->arg[COLL_SCOUNT])
#define RCOUNT ((int)c->arg[COLL_RCOUNT])
#define STYPE px_type(c->arg[COLL_STYPE])
#define RTYPE px_type(c->arg[COLL_RTYPE])
#define OP px_op(c->arg[COLL_OP])
#define ROOT px_rank_in(c->arg[COLL_ROOT])

/* BARRIER: COMM. */
void px_call_BARRIER(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Ibarrier(comm, &req), &req);
}

/* BCAST: COMM, SBUF (the buffer), SCOUNT, STYPE, ROOT. */
void px_call_BCAST(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Ibcast(SBUF, SCOUNT, STYPE, ROOT, comm, &req), &req);
}

/* REDUCE: COMM, SBUF, RBUF, SCOUNT (count), STYPE (datatype), OP, ROOT. */
void px_call_REDUCE(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Ireduce(SBUF, RBUF, SCOUNT, STYPE, OP, ROOT, comm, &req),
			    &req);
}

/* ALLREDUCE: COMM, SBUF, RBUF, SCOUNT (count), STYPE (datatype), OP. */
void px_call_ALLREDUCE(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Iallreduce(SBUF, RBUF, SCOUNT, STYPE, OP, comm, &req), &req);
}

/* SCAN: as ALLREDUCE. */
void px_call_SCAN(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Iscan(SBUF, RBUF, SCOUNT, STYPE, OP, comm, &req), &req);
}

/* EXSCAN: as ALLREDUCE. */
void px_call_EXSCAN(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Iexscan(SBUF, RBUF, SCOUNT, STYPE, OP, comm, &req), &req);
}

/* GATHER: COMM, SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, ROOT. */
void px_call_GATHER(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Igather(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, ROOT,
					   comm, &req), &req);
}

/* SCATTER: as GATHER. */
void px_call_SCATTER(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Iscatter(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, ROOT,
					    comm, &req), &req);
}

/* ALLGATHER: COMM, SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE. */
void px_call_ALLGATHER(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Iallgather(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, comm,
					      &req), &req);
}

/* ALLTOALL: as ALLGATHER. */
void px_call_ALLTOALL(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Ialltoall(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, comm,
					     &req), &req);
}

/* GATHERV: COMM, SBUF, SCOUNT, STYPE, RBUF, RTYPE, ROOT; at the root
 * ARRAYS, NARR = recvcounts, displs. */
void px_call_GATHERV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Igatherv(SBUF, SCOUNT, STYPE, RBUF, coll_array(c, 0),
					    coll_array(c, 1), RTYPE, ROOT, comm, &req), &req);
}

/* SCATTERV: COMM, SBUF, STYPE, RBUF, RCOUNT, RTYPE, ROOT; at the root
 * ARRAYS, NARR = sendcounts, displs. */
void px_call_SCATTERV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Iscatterv(SBUF, coll_array(c, 0), coll_array(c, 1), STYPE,
					     RBUF, RCOUNT, RTYPE, ROOT, comm, &req), &req);
}

/* ALLGATHERV: COMM, SBUF, SCOUNT, STYPE, RBUF, RTYPE;
 * ARRAYS, NARR = recvcounts, displs. */
void px_call_ALLGATHERV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Iallgatherv(SBUF, SCOUNT, STYPE, RBUF, coll_array(c, 0),
					       coll_array(c, 1), RTYPE, comm, &req),
			    &req);
}

/* ALLTOALLV: COMM, SBUF, STYPE, RBUF, RTYPE; ARRAYS, NARR = sendcounts,
 * sdispls, recvcounts, rdispls (the send pair repeats the receive pair
 * when SBUF is IN_PLACE). */
void px_call_ALLTOALLV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Ialltoallv(SBUF, coll_array(c, 0),
					      coll_array(c, 1), STYPE, RBUF,
					      coll_array(c, 2), coll_array(c, 3),
					      RTYPE, comm, &req), &req);
}

/* REDUCE_SCATTER: COMM, SBUF, RBUF, STYPE (datatype), OP;
 * ARRAYS, NARR = recvcounts. */
void px_call_REDUCE_SCATTER(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Ireduce_scatter(SBUF, RBUF, coll_array(c, 0), STYPE,
						   OP, comm, &req), &req);
}

/* REDUCE_SCATTER_BLOCK: COMM, SBUF, RBUF, RCOUNT, STYPE (datatype), OP. */
void px_call_REDUCE_SCATTER_BLOCK(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = coll_comm(c);

	if (comm != MPI_COMM_NULL)
		coll_finish(c, MPI_Ireduce_scatter_block(SBUF, RBUF, RCOUNT, STYPE, OP, comm,
							 &req), &req);
}
