/*
 * coll.c - collectives, proxy side: starting them, and the blocking ones.
 *
 * Previous hop: proxy/loop.c (dispatch by call id), issued by
 * shim/coll.c.  Next hop: the real MPI, then the reply to the app.
 *
 * Each collective has a start function that begins the real nonblocking
 * twin (MPI_Ibcast for MPI_Bcast, ...).  A blocking call completes it in
 * px_wait, so the proxy never blocks inside MPI; a nonblocking one
 * (CALL_ICOLL, proxy/icoll.c) leaves that to the application's Wait or
 * Test.  The shim has already checked the arguments, staged every
 * buffer in the arena and put count/displacement arrays in inl[] (or in
 * the arena, see COLL_ARRAYS); non-significant arguments arrive benign
 * (count 0, MPI_BYTE, no buffer).  Reductions with predefined operations
 * happen inside the real MPI.
 *
 * Argument slots are chan/coll.h's; each start function lists those it
 * reads.
 * Buffers: CHAN_OFF_NONE becomes a placeholder (coll_buf),
 * CHAN_OFF_IN_PLACE the real MPI_IN_PLACE, anything else an arena
 * pointer.  Roots go through px_rank_in, so an intercommunicator's
 * MPI_ROOT and MPI_PROC_NULL arrive as the real MPI's.
 */
#include "px.h"

#include <stdlib.h>
#include <string.h>

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

/* One started collective: its communicator and what it reads until it
 * completes besides the arena: the int arrays, copied out of the call
 * slot (the next call overwrites inl[]), and Alltoallw's real datatypes. */
struct coll_call {
	struct chan_call *c;
	MPI_Comm comm;
	int *arr[4];            /* NULL when this rank sent none */
	MPI_Datatype *types[2];
};

typedef int coll_start_fn(const struct coll_call *k, MPI_Request *req);

#define SBUF coll_buf(c->arg[COLL_SBUF], 0)
#define RBUF coll_buf(c->arg[COLL_RBUF], 1)
#define SCOUNT ((int)c->arg[COLL_SCOUNT])
#define RCOUNT ((int)c->arg[COLL_RCOUNT])
#define STYPE px_type(c->arg[COLL_STYPE])
#define RTYPE px_type(c->arg[COLL_RTYPE])
#define OP px_op(c->arg[COLL_OP])
#define ROOT px_rank_in(c->arg[COLL_ROOT])
#define ARR(i) k->arr[i]

/* BARRIER: COMM. */
static int start_BARRIER(const struct coll_call *k, MPI_Request *req)
{
	return MPI_Ibarrier(k->comm, req);
}

/* BCAST: COMM, SBUF (the buffer), SCOUNT, STYPE, ROOT. */
static int start_BCAST(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Ibcast(SBUF, SCOUNT, STYPE, ROOT, k->comm, req);
}

/* REDUCE: COMM, SBUF, RBUF, SCOUNT (count), STYPE (datatype), OP, ROOT. */
static int start_REDUCE(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Ireduce(SBUF, RBUF, SCOUNT, STYPE, OP, ROOT, k->comm, req);
}

/* ALLREDUCE: COMM, SBUF, RBUF, SCOUNT (count), STYPE (datatype), OP. */
static int start_ALLREDUCE(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Iallreduce(SBUF, RBUF, SCOUNT, STYPE, OP, k->comm, req);
}

/* SCAN: as ALLREDUCE. */
static int start_SCAN(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Iscan(SBUF, RBUF, SCOUNT, STYPE, OP, k->comm, req);
}

/* EXSCAN: as ALLREDUCE. */
static int start_EXSCAN(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Iexscan(SBUF, RBUF, SCOUNT, STYPE, OP, k->comm, req);
}

/* GATHER: COMM, SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, ROOT. */
static int start_GATHER(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Igather(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, ROOT, k->comm, req);
}

/* SCATTER: as GATHER. */
static int start_SCATTER(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Iscatter(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, ROOT, k->comm, req);
}

/* ALLGATHER: COMM, SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE. */
static int start_ALLGATHER(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Iallgather(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, k->comm, req);
}

/* ALLTOALL: as ALLGATHER. */
static int start_ALLTOALL(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Ialltoall(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, k->comm, req);
}

/* GATHERV: COMM, SBUF, SCOUNT, STYPE, RBUF, RTYPE, ROOT; at the root
 * ARRAYS, NARR = recvcounts, displs. */
static int start_GATHERV(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Igatherv(SBUF, SCOUNT, STYPE, RBUF, ARR(0), ARR(1), RTYPE, ROOT, k->comm,
			    req);
}

/* SCATTERV: COMM, SBUF, STYPE, RBUF, RCOUNT, RTYPE, ROOT; at the root
 * ARRAYS, NARR = sendcounts, displs. */
static int start_SCATTERV(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Iscatterv(SBUF, ARR(0), ARR(1), STYPE, RBUF, RCOUNT, RTYPE, ROOT, k->comm,
			     req);
}

/* ALLGATHERV: COMM, SBUF, SCOUNT, STYPE, RBUF, RTYPE;
 * ARRAYS, NARR = recvcounts, displs. */
static int start_ALLGATHERV(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Iallgatherv(SBUF, SCOUNT, STYPE, RBUF, ARR(0), ARR(1), RTYPE, k->comm, req);
}

/* ALLTOALLV: COMM, SBUF, STYPE, RBUF, RTYPE; ARRAYS, NARR = sendcounts,
 * sdispls, recvcounts, rdispls (the send pair repeats the receive pair
 * when SBUF is IN_PLACE). */
static int start_ALLTOALLV(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Ialltoallv(SBUF, ARR(0), ARR(1), STYPE, RBUF, ARR(2), ARR(3), RTYPE,
			      k->comm, req);
}

/* ALLTOALLW: COMM, SBUF, RBUF; ARRAYS, NARR = sendcounts, sdispls (bytes),
 * recvcounts, rdispls, then the send and receive datatypes (int64 each). */
static int start_ALLTOALLW(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Ialltoallw(SBUF, ARR(0), ARR(1), k->types[0], RBUF, ARR(2), ARR(3),
			      k->types[1], k->comm, req);
}

/* REDUCE_SCATTER: COMM, SBUF, RBUF, STYPE (datatype), OP;
 * ARRAYS, NARR = recvcounts. */
static int start_REDUCE_SCATTER(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Ireduce_scatter(SBUF, RBUF, ARR(0), STYPE, OP, k->comm, req);
}

/* REDUCE_SCATTER_BLOCK: COMM, SBUF, RBUF, RCOUNT, STYPE (datatype), OP. */
static int start_REDUCE_SCATTER_BLOCK(const struct coll_call *k, MPI_Request *req)
{
	struct chan_call *c = k->c;

	return MPI_Ireduce_scatter_block(SBUF, RBUF, RCOUNT, STYPE, OP, k->comm, req);
}

/* Each collective: its start and how many int arrays (and, for
 * Alltoallw, datatype arrays) its call may carry. */
static const struct {
	coll_start_fn *start;
	int narr, types;
} kinds[CALL_COUNT] = {
#define K(name, narr, types) [CALL_##name] = { start_##name, narr, types }
	K(BARRIER, 0, 0), K(BCAST, 0, 0), K(REDUCE, 0, 0), K(ALLREDUCE, 0, 0),
	K(SCAN, 0, 0), K(EXSCAN, 0, 0), K(GATHER, 0, 0), K(SCATTER, 0, 0),
	K(ALLGATHER, 0, 0), K(ALLTOALL, 0, 0), K(GATHERV, 2, 0), K(SCATTERV, 2, 0),
	K(ALLGATHERV, 2, 0), K(ALLTOALLV, 4, 0), K(ALLTOALLW, 4, 1),
	K(REDUCE_SCATTER, 1, 0), K(REDUCE_SCATTER_BLOCK, 0, 0),
#undef K
};

/* Copy the arrays of c (kinds[id]) into one block of our own, *keep. */
static int keep_arrays(struct chan_call *c, int64_t id, struct coll_call *k, void **keep)
{
	size_t n = (size_t)c->arg[COLL_NARR], ints = (size_t)kinds[id].narr * n;
	size_t bytes = ints * sizeof(int) + (kinds[id].types ? 2 * n * sizeof(MPI_Datatype) : 0);
	const unsigned char *src = c->arg[COLL_ARRAYS] == CHAN_OFF_NONE ? c->inl
		: (const unsigned char *)px_ptr(c->arg[COLL_ARRAYS]);

	*keep = NULL;
	if (bytes == 0)
		return MPI_SUCCESS;
	int *a = malloc(bytes);
	if (!a)
		return MPI_ERR_NO_MEM;
	memcpy(a, src, ints * sizeof(int));
	for (int i = 0; i < kinds[id].narr; i++)
		k->arr[i] = a + (size_t)i * n;
	if (kinds[id].types) {
		/* 16n bytes of ints: the datatypes after them stay aligned. */
		const int64_t *abi = (const int64_t *)(const void *)(src + ints * sizeof(int));
		MPI_Datatype *t = (MPI_Datatype *)(void *)(a + ints);
		for (size_t i = 0; i < 2 * n; i++)
			t[i] = px_type(abi[i]);
		k->types[0] = t;
		k->types[1] = t + n;
	}
	*keep = a;
	return MPI_SUCCESS;
}

int px_coll_start(struct chan_call *c, int64_t id, MPI_Request *req, void **keep)
{
	struct coll_call k = { c, px_comm(c->arg[COLL_COMM]), { NULL }, { NULL } };
	int rc;

	*keep = NULL;
	if (id < 0 || id >= CALL_COUNT || !kinds[id].start)
		return MPI_ERR_OTHER;
	/* The shim only sends live communicators: this guards against a
	 * stale table. */
	if (k.comm == MPI_COMM_NULL)
		return MPI_ERR_COMM;
	if ((rc = keep_arrays(c, id, &k, keep)) != MPI_SUCCESS)
		return rc;
	rc = kinds[id].start(&k, req);
	if (rc != MPI_SUCCESS) {
		free(*keep);
		*keep = NULL;
	}
	return rc;
}

/* A blocking collective: start it, complete it, reply; or, when the shim
 * asked (COLL_DETACH, shim/mtwait.c), keep it as that request and reply
 * at once, as a nonblocking one. */
static void run(struct chan_call *c, enum chan_call_id id)
{
	MPI_Request req;
	void *keep;

	if (c->arg[COLL_DETACH]) {
		px_reply(c, px_icoll_start(c, id, c->arg[COLL_DETACH]));
		return;
	}
	int rc = px_coll_start(c, id, &req, &keep);

	if (rc == MPI_SUCCESS)
		rc = px_wait(&req, MPI_STATUS_IGNORE);
	free(keep);
	px_reply(c, rc);
}

#define BLOCKING(name) \
	void px_call_##name(struct chan_call *c) { run(c, CALL_##name); }
BLOCKING(BARRIER)
BLOCKING(BCAST)
BLOCKING(REDUCE)
BLOCKING(ALLREDUCE)
BLOCKING(SCAN)
BLOCKING(EXSCAN)
BLOCKING(GATHER)
BLOCKING(SCATTER)
BLOCKING(ALLGATHER)
BLOCKING(ALLTOALL)
BLOCKING(GATHERV)
BLOCKING(SCATTERV)
BLOCKING(ALLGATHERV)
BLOCKING(ALLTOALLV)
BLOCKING(ALLTOALLW)
BLOCKING(REDUCE_SCATTER)
BLOCKING(REDUCE_SCATTER_BLOCK)
