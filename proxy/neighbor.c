/*
 * neighbor.c - neighbourhood collectives, proxy side (issued by
 * shim/neighbor.c).
 *
 * The communicator is a real topology communicator (proxy/topo.c), so
 * the real MPI knows the neighbours; each handler starts the nonblocking
 * twin (MPI_Ineighbor_*) and completes it in px_wait.
 *
 * Slots are chan/coll.h's: COMM, SBUF, SCOUNT, STYPE, RBUF, RCOUNT,
 * RTYPE, ARRAYS (CHAN_OFF_NONE: the arrays are in inl, else the arena
 * offset of a block holding them); NB_IN and NB_OUT carry the in- and
 * out-degree the shim computed from its topology record.  The arrays:
 *   ALLGATHERV  int32 recvcounts[in], int32 displs[in]
 *   ALLTOALLV   int32 sendcounts[out], int32 sdispls[out],
 *               int32 recvcounts[in], int32 rdispls[in]
 *   ALLTOALLW   int32 sendcounts[out], int32 recvcounts[in], then from
 *               the next multiple of 8 bytes: int64 sdispls[out],
 *               int64 rdispls[in] (bytes), int64 sendtypes[out],
 *               int64 recvtypes[in] (ABI handles)
 */
#include "px.h"

#include <stdlib.h>
#include <string.h>

#include "chan/coll.h"
#include "util/exitcode.h"
#include "util/log.h"

#define NB_IN COLL_NARGS
#define NB_OUT (COLL_NARGS + 1)

static void *nb_buf(int64_t off)
{
	return off == CHAN_OFF_NONE ? NULL : px_ptr(off);
}

static unsigned char *nb_arrays(struct chan_call *c)
{
	return c->arg[COLL_ARRAYS] == CHAN_OFF_NONE ? c->inl : px_ptr(c->arg[COLL_ARRAYS]);
}

/* The communicator, or MPI_COMM_NULL after replying MPI_ERR_COMM. */
static MPI_Comm nb_comm(struct chan_call *c)
{
	MPI_Comm comm = px_comm(c->arg[COLL_COMM]);

	if (comm == MPI_COMM_NULL)
		c->err = ABI_ERR_COMM;
	return comm;
}

static void nb_finish(struct chan_call *c, int rc, MPI_Request *req)
{
	if (rc == MPI_SUCCESS)
		rc = px_wait(req, MPI_STATUS_IGNORE);
	px_reply(c, rc);
}

#define SBUF nb_buf(c->arg[COLL_SBUF])
#define RBUF nb_buf(c->arg[COLL_RBUF])
#define SCOUNT ((int)c->arg[COLL_SCOUNT])
#define RCOUNT ((int)c->arg[COLL_RCOUNT])
#define STYPE px_type(c->arg[COLL_STYPE])
#define RTYPE px_type(c->arg[COLL_RTYPE])

void px_call_NEIGHBOR_ALLGATHER(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);

	if (comm != MPI_COMM_NULL)
		nb_finish(c, MPI_Ineighbor_allgather(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, comm,
						     &req), &req);
}

void px_call_NEIGHBOR_ALLTOALL(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);

	if (comm != MPI_COMM_NULL)
		nb_finish(c, MPI_Ineighbor_alltoall(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, comm,
						    &req), &req);
}

void px_call_NEIGHBOR_ALLGATHERV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	const int *cnt = (const int *)(void *)nb_arrays(c);

	if (comm != MPI_COMM_NULL)
		nb_finish(c, MPI_Ineighbor_allgatherv(SBUF, SCOUNT, STYPE, RBUF, cnt,
						      cnt + c->arg[NB_IN], RTYPE, comm, &req),
			  &req);
}

void px_call_NEIGHBOR_ALLTOALLV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	const int *scnt = (const int *)(void *)nb_arrays(c);
	const int *sdsp = scnt + c->arg[NB_OUT], *rcnt = sdsp + c->arg[NB_OUT];

	if (comm != MPI_COMM_NULL)
		nb_finish(c, MPI_Ineighbor_alltoallv(SBUF, scnt, sdsp, STYPE, RBUF, rcnt,
						     rcnt + c->arg[NB_IN], RTYPE, comm, &req),
			  &req);
}

/* ALLTOALLW: the real MPI wants MPI_Aint displacements and real
 * datatypes; both arrays must live until the collective completes,
 * which px_wait guarantees before we free them. */
void px_call_NEIGHBOR_ALLTOALLW(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	int in = (int)c->arg[NB_IN], out = (int)c->arg[NB_OUT], n = in + out;
	unsigned char *a = nb_arrays(c);
	const int *scnt = (const int *)(void *)a, *rcnt = scnt + out;
	size_t wide = ((size_t)n * sizeof(int32_t) + 7) & ~(size_t)7;
	const int64_t *dsp = (const int64_t *)(void *)(a + wide), *typ = dsp + n;

	if (comm == MPI_COMM_NULL)
		return;
	MPI_Aint *d = malloc((size_t)(n ? n : 1) * sizeof(*d));
	MPI_Datatype *t = malloc((size_t)(n ? n : 1) * sizeof(*t));
	if (!d || !t)
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for MPI_Neighbor_alltoallw");
	for (int i = 0; i < n; i++) {
		d[i] = (MPI_Aint)dsp[i];
		t[i] = px_type(typ[i]);
	}
	nb_finish(c, MPI_Ineighbor_alltoallw(SBUF, scnt, d, t, RBUF, rcnt, d + out, t + out, comm,
					     &req), &req);
	free(d);
	free(t);
}
