/*
 * pcoll.c - persistent collectives (MPI_Barrier_init ... MPI_Exscan_init,
 * MPI_Neighbor_*_init), built in the shim: Open MPI 4.1 has none of them.
 *
 * MPI-4 lets a persistent collective be implemented as the nonblocking
 * collective it names, started afresh at each MPI_Start.  That is what we
 * do.  The Init call checks what it can without communicating (the
 * communicator, the info, the request pointer), records its arguments in
 * a struct shim_pcoll and makes an inactive persistent request
 * (shim/persist.c).  MPI_Start calls the matching MPI_I* wrapper (shim/
 * coll.c, shim/neighbor.c), which checks and stages the buffers as they
 * are at that moment, so contents changed between starts travel; the
 * record that wrapper would make for its request is the persistent one
 * (shim_req_new_user), so the proxy knows the collective under the
 * handle the application holds, as it knows a persistent send.  At
 * completion the request becomes inactive again (shim_persist_complete).
 *
 * The arrays (counts, displacements, Alltoallw's datatypes) are the
 * application's: the standard forbids changing them while the request
 * exists, so we keep the pointers.  Errors in the buffers or datatypes
 * show at MPI_Start, named after the MPI_I* call that found them.
 *
 * Checkpoint: an inactive one is only records in application memory; an
 * active one is a pending nonblocking collective like any other (counted
 * in its communicator's sequence, completed at DRAIN, shim/icoll.c).
 */
#include "shim.h"

#include <assert.h>
#include <stdlib.h>

/* Which collective a record starts. */
enum pc_kind {
	PC_BARRIER, PC_BCAST, PC_REDUCE, PC_ALLREDUCE, PC_SCAN, PC_EXSCAN,
	PC_GATHER, PC_GATHERV, PC_SCATTER, PC_SCATTERV, PC_ALLGATHER, PC_ALLGATHERV,
	PC_ALLTOALL, PC_ALLTOALLV, PC_ALLTOALLW, PC_REDUCE_SCATTER,
	PC_REDUCE_SCATTER_BLOCK, PC_NB_ALLGATHER, PC_NB_ALLGATHERV, PC_NB_ALLTOALL,
	PC_NB_ALLTOALLV, PC_NB_ALLTOALLW
};

/* The arguments of one Init call; those a collective lacks stay zero.
 * For Reduce_scatter, rcounts is its recvcounts. */
struct shim_pcoll {
	enum pc_kind kind;
	const void *sbuf;
	void *rbuf;
	int scount, rcount;
	MPI_Datatype stype, rtype;
	const int *scounts, *sdispls, *rcounts, *rdispls;
	const MPI_Aint *sdispls_w, *rdispls_w;   /* Neighbor_alltoallw */
	const MPI_Datatype *stypes, *rtypes;     /* the w variants */
	MPI_Op op;
	int root;
	MPI_Comm comm;
};

static _Thread_local struct shim_req *starting;

struct shim_req *shim_req_new_user(int kind, MPI_Comm comm)
{
	struct shim_req *r = starting;

	if (!r)
		return shim_req_new(kind, comm);
	starting = NULL;
	r->kind = kind;
	r->comm = comm;
	r->stage.off = ARENA_NONE;
	r->coll = NULL;
	r->local_done = 0;
	return r;
}

/* Start the nonblocking twin of pc; its request handle goes to *h. */
static int post(const struct shim_pcoll *a, MPI_Request *h)
{
	switch (a->kind) {
	case PC_BARRIER:
		return PMPI_Ibarrier(a->comm, h);
	case PC_BCAST:
		return PMPI_Ibcast(a->rbuf, a->rcount, a->rtype, a->root, a->comm, h);
	case PC_REDUCE:
		return PMPI_Ireduce(a->sbuf, a->rbuf, a->rcount, a->rtype, a->op, a->root,
				    a->comm, h);
	case PC_ALLREDUCE:
		return PMPI_Iallreduce(a->sbuf, a->rbuf, a->rcount, a->rtype, a->op, a->comm, h);
	case PC_SCAN:
		return PMPI_Iscan(a->sbuf, a->rbuf, a->rcount, a->rtype, a->op, a->comm, h);
	case PC_EXSCAN:
		return PMPI_Iexscan(a->sbuf, a->rbuf, a->rcount, a->rtype, a->op, a->comm, h);
	case PC_GATHER:
		return PMPI_Igather(a->sbuf, a->scount, a->stype, a->rbuf, a->rcount, a->rtype,
				    a->root, a->comm, h);
	case PC_GATHERV:
		return PMPI_Igatherv(a->sbuf, a->scount, a->stype, a->rbuf, a->rcounts,
				     a->rdispls, a->rtype, a->root, a->comm, h);
	case PC_SCATTER:
		return PMPI_Iscatter(a->sbuf, a->scount, a->stype, a->rbuf, a->rcount, a->rtype,
				     a->root, a->comm, h);
	case PC_SCATTERV:
		return PMPI_Iscatterv(a->sbuf, a->scounts, a->sdispls, a->stype, a->rbuf,
				      a->rcount, a->rtype, a->root, a->comm, h);
	case PC_ALLGATHER:
		return PMPI_Iallgather(a->sbuf, a->scount, a->stype, a->rbuf, a->rcount,
				       a->rtype, a->comm, h);
	case PC_ALLGATHERV:
		return PMPI_Iallgatherv(a->sbuf, a->scount, a->stype, a->rbuf, a->rcounts,
					a->rdispls, a->rtype, a->comm, h);
	case PC_ALLTOALL:
		return PMPI_Ialltoall(a->sbuf, a->scount, a->stype, a->rbuf, a->rcount, a->rtype,
				      a->comm, h);
	case PC_ALLTOALLV:
		return PMPI_Ialltoallv(a->sbuf, a->scounts, a->sdispls, a->stype, a->rbuf,
				       a->rcounts, a->rdispls, a->rtype, a->comm, h);
	case PC_ALLTOALLW:
		return PMPI_Ialltoallw(a->sbuf, a->scounts, a->sdispls, a->stypes, a->rbuf,
				       a->rcounts, a->rdispls, a->rtypes, a->comm, h);
	case PC_REDUCE_SCATTER:
		return PMPI_Ireduce_scatter(a->sbuf, a->rbuf, a->rcounts, a->rtype, a->op,
					    a->comm, h);
	case PC_REDUCE_SCATTER_BLOCK:
		return PMPI_Ireduce_scatter_block(a->sbuf, a->rbuf, a->rcount, a->rtype, a->op,
						  a->comm, h);
	case PC_NB_ALLGATHER:
		return PMPI_Ineighbor_allgather(a->sbuf, a->scount, a->stype, a->rbuf, a->rcount,
						a->rtype, a->comm, h);
	case PC_NB_ALLGATHERV:
		return PMPI_Ineighbor_allgatherv(a->sbuf, a->scount, a->stype, a->rbuf,
						 a->rcounts, a->rdispls, a->rtype, a->comm, h);
	case PC_NB_ALLTOALL:
		return PMPI_Ineighbor_alltoall(a->sbuf, a->scount, a->stype, a->rbuf, a->rcount,
					       a->rtype, a->comm, h);
	case PC_NB_ALLTOALLV:
		return PMPI_Ineighbor_alltoallv(a->sbuf, a->scounts, a->sdispls, a->stype,
						a->rbuf, a->rcounts, a->rdispls, a->rtype,
						a->comm, h);
	case PC_NB_ALLTOALLW:
		return PMPI_Ineighbor_alltoallw(a->sbuf, a->scounts, a->sdispls_w, a->stypes,
						a->rbuf, a->rcounts, a->rdispls_w, a->rtypes,
						a->comm, h);
	}
	return MPI_ERR_INTERN;
}

int shim_pcoll_start(struct shim_req *r, const struct shim_pcoll *pc)
{
	MPI_Request h = MPI_REQUEST_NULL;

	starting = r;
	int err = post(pc, &h);
	/* Not taken when the call failed before making its request. */
	starting = NULL;
	assert(err != MPI_SUCCESS || h == r->handle);
	return err;
}

void shim_pcoll_free(struct shim_pcoll *pc)
{
	free(pc);
}

/* What every Init call checks, then the request that owns a copy of a. */
static int make(const char *fn, const struct shim_pcoll *a, MPI_Info info,
		MPI_Request *request)
{
	int err;

	if (!shim_comm_check(a->comm, fn, &err))
		return err;
	if ((err = shim_info_check(info, a->comm, fn)))
		return err;
	if (!request)
		return shim_error(a->comm, MPI_ERR_ARG, fn, "request is NULL");
	struct shim_pcoll *pc = malloc(sizeof(*pc));
	if (!pc)
		return shim_error(a->comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	*pc = *a;
	if ((err = shim_persist_coll_make(fn, a->comm, pc, request)))
		free(pc);
	return err;
}

#define INIT(name, ...)                                                                  \
	do {                                                                             \
		struct shim_pcoll a = { __VA_ARGS__ };                                   \
		return make("MPI_" #name, &a, info, request);                            \
	} while (0)

int PMPI_Barrier_init(MPI_Comm comm, MPI_Info info, MPI_Request *request)
{
	INIT(Barrier_init, .kind = PC_BARRIER, .comm = comm);
}
SHIM_WEAK(Barrier_init)

int PMPI_Bcast_init(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm,
		    MPI_Info info, MPI_Request *request)
{
	INIT(Bcast_init, .kind = PC_BCAST, .rbuf = buffer, .rcount = count, .rtype = datatype,
	     .root = root, .comm = comm);
}
SHIM_WEAK(Bcast_init)

/* Reduce, Allreduce, Scan, Exscan. */
#define REDUCTION_INIT(name, kind_, root_, ...)                                          \
	int PMPI_##name(const void *sendbuf, void *recvbuf, int count,                   \
			MPI_Datatype datatype, MPI_Op op, __VA_ARGS__ MPI_Comm comm,     \
			MPI_Info info, MPI_Request *request)                             \
	{                                                                                \
		INIT(name, .kind = kind_, .sbuf = sendbuf, .rbuf = recvbuf,              \
		     .rcount = count, .rtype = datatype, .op = op, .root = root_,        \
		     .comm = comm);                                                      \
	}                                                                                \
	SHIM_WEAK(name)

REDUCTION_INIT(Reduce_init, PC_REDUCE, root, int root,)
REDUCTION_INIT(Allreduce_init, PC_ALLREDUCE, 0, )
REDUCTION_INIT(Scan_init, PC_SCAN, 0, )
REDUCTION_INIT(Exscan_init, PC_EXSCAN, 0, )

/* Gather, Scatter (rooted), Allgather, Alltoall and their neighbour twins. */
#define PLAIN_INIT(name, kind_, root_, ...)                                              \
	int PMPI_##name(const void *sendbuf, int sendcount, MPI_Datatype sendtype,       \
			void *recvbuf, int recvcount, MPI_Datatype recvtype,             \
			__VA_ARGS__ MPI_Comm comm, MPI_Info info, MPI_Request *request)  \
	{                                                                                \
		INIT(name, .kind = kind_, .sbuf = sendbuf, .scount = sendcount,          \
		     .stype = sendtype, .rbuf = recvbuf, .rcount = recvcount,            \
		     .rtype = recvtype, .root = root_, .comm = comm);                    \
	}                                                                                \
	SHIM_WEAK(name)

PLAIN_INIT(Gather_init, PC_GATHER, root, int root,)
PLAIN_INIT(Scatter_init, PC_SCATTER, root, int root,)
PLAIN_INIT(Allgather_init, PC_ALLGATHER, 0, )
PLAIN_INIT(Alltoall_init, PC_ALLTOALL, 0, )
PLAIN_INIT(Neighbor_allgather_init, PC_NB_ALLGATHER, 0, )
PLAIN_INIT(Neighbor_alltoall_init, PC_NB_ALLTOALL, 0, )

/* Gatherv, Allgatherv and the neighbour one: v on the receive side. */
#define GATHERV_INIT(name, kind_, root_, ...)                                            \
	int PMPI_##name(const void *sendbuf, int sendcount, MPI_Datatype sendtype,       \
			void *recvbuf, const int recvcounts[], const int displs[],       \
			MPI_Datatype recvtype, __VA_ARGS__ MPI_Comm comm, MPI_Info info, \
			MPI_Request *request)                                            \
	{                                                                                \
		INIT(name, .kind = kind_, .sbuf = sendbuf, .scount = sendcount,          \
		     .stype = sendtype, .rbuf = recvbuf, .rcounts = recvcounts,          \
		     .rdispls = displs, .rtype = recvtype, .root = root_, .comm = comm); \
	}                                                                                \
	SHIM_WEAK(name)

GATHERV_INIT(Gatherv_init, PC_GATHERV, root, int root,)
GATHERV_INIT(Allgatherv_init, PC_ALLGATHERV, 0, )
GATHERV_INIT(Neighbor_allgatherv_init, PC_NB_ALLGATHERV, 0, )

int PMPI_Scatterv_init(const void *sendbuf, const int sendcounts[], const int displs[],
		       MPI_Datatype sendtype, void *recvbuf, int recvcount,
		       MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Info info,
		       MPI_Request *request)
{
	INIT(Scatterv_init, .kind = PC_SCATTERV, .sbuf = sendbuf, .scounts = sendcounts,
	     .sdispls = displs, .stype = sendtype, .rbuf = recvbuf, .rcount = recvcount,
	     .rtype = recvtype, .root = root, .comm = comm);
}
SHIM_WEAK(Scatterv_init)

#define ALLTOALLV_INIT(name, kind_)                                                      \
	int PMPI_##name(const void *sendbuf, const int sendcounts[], const int sdispls[], \
			MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],    \
			const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm,       \
			MPI_Info info, MPI_Request *request)                             \
	{                                                                                \
		INIT(name, .kind = kind_, .sbuf = sendbuf, .scounts = sendcounts,        \
		     .sdispls = sdispls, .stype = sendtype, .rbuf = recvbuf,             \
		     .rcounts = recvcounts, .rdispls = rdispls, .rtype = recvtype,       \
		     .comm = comm);                                                      \
	}                                                                                \
	SHIM_WEAK(name)

ALLTOALLV_INIT(Alltoallv_init, PC_ALLTOALLV)
ALLTOALLV_INIT(Neighbor_alltoallv_init, PC_NB_ALLTOALLV)

int PMPI_Alltoallw_init(const void *sendbuf, const int sendcounts[], const int sdispls[],
			const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
			const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm,
			MPI_Info info, MPI_Request *request)
{
	INIT(Alltoallw_init, .kind = PC_ALLTOALLW, .sbuf = sendbuf, .scounts = sendcounts,
	     .sdispls = sdispls, .stypes = sendtypes, .rbuf = recvbuf, .rcounts = recvcounts,
	     .rdispls = rdispls, .rtypes = recvtypes, .comm = comm);
}
SHIM_WEAK(Alltoallw_init)

int PMPI_Neighbor_alltoallw_init(const void *sendbuf, const int sendcounts[],
				 const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],
				 void *recvbuf, const int recvcounts[], const MPI_Aint rdispls[],
				 const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Info info,
				 MPI_Request *request)
{
	INIT(Neighbor_alltoallw_init, .kind = PC_NB_ALLTOALLW, .sbuf = sendbuf,
	     .scounts = sendcounts, .sdispls_w = sdispls, .stypes = sendtypes, .rbuf = recvbuf,
	     .rcounts = recvcounts, .rdispls_w = rdispls, .rtypes = recvtypes, .comm = comm);
}
SHIM_WEAK(Neighbor_alltoallw_init)

int PMPI_Reduce_scatter_init(const void *sendbuf, void *recvbuf, const int recvcounts[],
			     MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Info info,
			     MPI_Request *request)
{
	INIT(Reduce_scatter_init, .kind = PC_REDUCE_SCATTER, .sbuf = sendbuf, .rbuf = recvbuf,
	     .rcounts = recvcounts, .rtype = datatype, .op = op, .comm = comm);
}
SHIM_WEAK(Reduce_scatter_init)

int PMPI_Reduce_scatter_block_init(const void *sendbuf, void *recvbuf, int recvcount,
				   MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
				   MPI_Info info, MPI_Request *request)
{
	INIT(Reduce_scatter_block_init, .kind = PC_REDUCE_SCATTER_BLOCK, .sbuf = sendbuf,
	     .rbuf = recvbuf, .rcount = recvcount, .rtype = datatype, .op = op, .comm = comm);
}
SHIM_WEAK(Reduce_scatter_block_init)
