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
 * exists, so we keep the pointers.  The datatypes are held as the
 * application holds them (shim_type_user_hold), so it may free them
 * after the Init call; user operations are not (MPI_Op_free before a
 * Start makes it fail).  Errors in the buffers or datatypes
 * show at MPI_Start, named after the MPI_I* call that found them.
 *
 * The large-count forms (MPI_*_init_c) of the v and w collectives keep
 * the application's 64-bit arrays and counts, and each MPI_Start calls
 * the MPI_I*_c twin (shim/vwbig.c), which makes the types for blocks
 * beyond INT_MAX afresh and frees them once the collective holds them.
 * The others take counts that fit an int (MPI_ERR_COUNT otherwise: a
 * chunked datatype, as shim/bigcount.c makes for the other _c calls,
 * would have to live as long as the request); Reduce_scatter_init_c's
 * counts are narrowed into an int array the record owns.
 *
 * Checkpoint: an inactive one is only records in application memory; an
 * active one is a pending nonblocking collective like any other (counted
 * in its communicator's sequence, completed at DRAIN, shim/icoll.c).
 */
#include "shim.h"

#include <assert.h>
#include <limits.h>
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
	int *owned[4];                           /* _init_c: the narrowed arrays */
	int nstypes, nrtypes;                    /* entries of stypes, rtypes held */
	/* _init_c of a v/w collective: started as its MPI_I*_c twin, with
	 * these in place of scount, rcount and the int arrays. */
	int wide;
	MPI_Count scount_c, rcount_c;
	const MPI_Count *scounts_c, *rcounts_c;
	const MPI_Aint *sdispls_c, *rdispls_c;
};

static int peers(MPI_Comm comm);
static int degree(MPI_Comm comm, int out);

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
	r->nb = NULL;
	r->local_done = 0;
	return r;
}

/* Start the large-count nonblocking twin of a wide record. */
static int post_wide(const struct shim_pcoll *a, MPI_Request *h)
{
	switch (a->kind) {
	case PC_GATHERV:
		return PMPI_Igatherv_c(a->sbuf, a->scount_c, a->stype, a->rbuf, a->rcounts_c,
				       a->rdispls_c, a->rtype, a->root, a->comm, h);
	case PC_SCATTERV:
		return PMPI_Iscatterv_c(a->sbuf, a->scounts_c, a->sdispls_c, a->stype, a->rbuf,
					a->rcount_c, a->rtype, a->root, a->comm, h);
	case PC_ALLGATHERV:
		return PMPI_Iallgatherv_c(a->sbuf, a->scount_c, a->stype, a->rbuf, a->rcounts_c,
					  a->rdispls_c, a->rtype, a->comm, h);
	case PC_ALLTOALLV:
		return PMPI_Ialltoallv_c(a->sbuf, a->scounts_c, a->sdispls_c, a->stype, a->rbuf,
					 a->rcounts_c, a->rdispls_c, a->rtype, a->comm, h);
	case PC_ALLTOALLW:
		return PMPI_Ialltoallw_c(a->sbuf, a->scounts_c, a->sdispls_c, a->stypes, a->rbuf,
					 a->rcounts_c, a->rdispls_c, a->rtypes, a->comm, h);
	case PC_NB_ALLGATHERV:
		return PMPI_Ineighbor_allgatherv_c(a->sbuf, a->scount_c, a->stype, a->rbuf,
						   a->rcounts_c, a->rdispls_c, a->rtype,
						   a->comm, h);
	case PC_NB_ALLTOALLV:
		return PMPI_Ineighbor_alltoallv_c(a->sbuf, a->scounts_c, a->sdispls_c, a->stype,
						  a->rbuf, a->rcounts_c, a->rdispls_c, a->rtype,
						  a->comm, h);
	case PC_NB_ALLTOALLW:
		return PMPI_Ineighbor_alltoallw_c(a->sbuf, a->scounts_c, a->sdispls_c, a->stypes,
						  a->rbuf, a->rcounts_c, a->rdispls_c, a->rtypes,
						  a->comm, h);
	default:
		return MPI_ERR_INTERN;
	}
}

/* Start the nonblocking twin of pc; its request handle goes to *h. */
static int post(const struct shim_pcoll *a, MPI_Request *h)
{
	if (a->wide)
		return post_wide(a, h);
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

static void free_owned(const struct shim_pcoll *a)
{
	for (int i = 0; i < 4; i++)
		free(a->owned[i]);
}

/* The datatypes a record uses, held (1) or released (0) as the
 * application holds its own, so freeing them after Init is fine. */
static void hold_types(const struct shim_pcoll *a, int hold)
{
	void (*fn)(MPI_Datatype) = hold ? shim_type_user_hold : shim_type_user_release;

	fn(a->stype);
	fn(a->rtype);
	for (int i = 0; i < a->nstypes; i++)
		fn(a->stypes[i]);
	for (int i = 0; i < a->nrtypes; i++)
		fn(a->rtypes[i]);
}

void shim_pcoll_free(struct shim_pcoll *pc)
{
	hold_types(pc, 0);
	free_owned(pc);
	free(pc);
}

/* What every Init call checks, then the request that owns a copy of a. */
static int make(const char *fn, const struct shim_pcoll *a, MPI_Info info,
		MPI_Request *request)
{
	int err;

	struct shim_pcoll *pc = NULL;

	if (!shim_comm_check(a->comm, fn, &err))
		goto fail;
	if ((err = shim_info_check(info, a->comm, fn)))
		goto fail;
	if (!request) {
		err = shim_error(a->comm, MPI_ERR_ARG, fn, "request is NULL");
		goto fail;
	}
	if (!(pc = malloc(sizeof(*pc)))) {
		err = shim_error(a->comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
		goto fail;
	}
	*pc = *a;
	if (!(err = shim_persist_coll_make(fn, a->comm, pc, request))) {
		hold_types(pc, 1);
		return MPI_SUCCESS;
	}
fail:
	free_owned(a);
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

/* Reduce_init ... Exscan_init and Gather_init ... Neighbor_alltoall_init
 * are made with their large-count forms, below. */

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
	     .rdispls = rdispls, .rtypes = recvtypes, .comm = comm,
	     .nstypes = sendbuf == MPI_IN_PLACE || !sendtypes ? 0 : peers(comm),
	     .nrtypes = recvtypes ? peers(comm) : 0);
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
	     .rcounts = recvcounts, .rdispls_w = rdispls, .rtypes = recvtypes, .comm = comm,
	     .nstypes = sendtypes ? degree(comm, 1) : 0, .nrtypes = recvtypes ? degree(comm, 0) : 0);
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

/* ------------------------------------------------ the large-count forms */

static int narrow(MPI_Count c, int *out, int *err, MPI_Comm comm, const char *fn)
{
	if (*err)
		return *err;
	if (c > INT_MAX || c < INT_MIN)
		return *err = shim_errorf(comm, MPI_ERR_COUNT, fn, "count %lld: persistent"
					  " collectives of more than INT_MAX elements are not"
					  " supported", (long long)c);
	*out = (int)c;
	return MPI_SUCCESS;
}

/* n entries of v (MPI_Count or MPI_Aint, both 64 bits) as an int array
 * a owns (slot k); NULL for NULL or n 0. */
static const int *narrow_array(const void *v, int n, struct shim_pcoll *a, int k, int *err,
			       const char *fn)
{
	const int64_t *w = v;

	if (*err || !v || n <= 0)
		return NULL;
	if (!(a->owned[k] = malloc((size_t)n * sizeof(int)))) {
		*err = shim_error(a->comm, MPI_ERR_NO_MEM, fn, NULL);
		return NULL;
	}
	for (int i = 0; i < n && !*err; i++)
		narrow(w[i], &a->owned[k][i], err, a->comm, fn);
	return a->owned[k];
}

/* Entries of the arrays: the group addressed (the remote one of an
 * intercommunicator), or the topology's degrees (in, out). */
static int peers(MPI_Comm comm)
{
	struct shim_comm *c = shim_comm_get(comm);

	return !c ? 0 : c->remote ? c->remote_size : c->size;
}

static int degree(MPI_Comm comm, int out)
{
	struct shim_comm *c = shim_comm_get(comm);
	int d[2] = { 0, 0 };

	if (c)
		shim_topo_degrees(c, &d[0], &d[1]);
	return d[out];
}

/* Narrow, then make as the int form does; an error already raised ends
 * it, with what was narrowed freed. */
#define INIT_C(name, ...)                                                                \
	do {                                                                             \
		static const char fn[] = "MPI_" #name;                                   \
		int err = MPI_SUCCESS;                                                   \
		struct shim_pcoll a = { .comm = comm };                                  \
		__VA_ARGS__;                                                             \
		if (err) {                                                               \
			free_owned(&a);                                                  \
			return err;                                                      \
		}                                                                        \
		return make(fn, &a, info, request);                                      \
	} while (0)

int PMPI_Bcast_init_c(void *buffer, MPI_Count count, MPI_Datatype datatype, int root,
		      MPI_Comm comm, MPI_Info info, MPI_Request *request)
{
	INIT_C(Bcast_init_c, a.kind = PC_BCAST; a.rbuf = buffer; a.rtype = datatype;
	       a.root = root; narrow(count, &a.rcount, &err, comm, fn));
}
SHIM_WEAK(Bcast_init_c)

/* The families whose counts are scalars are written once for both forms:
 * Count is the counts' type, Set how one is stored (the int form keeps
 * it, the _c form narrows it). */
#define KEPT(v, field) ((field) = (v))
#define NARROWED(v, field) narrow(v, &(field), &err, comm, fn)
#define BOTH_FORMS(FAMILY, name, ...)                                                    \
	FAMILY(name##_init, int, KEPT, __VA_ARGS__)                                      \
	FAMILY(name##_init_c, MPI_Count, NARROWED, __VA_ARGS__)

/* Reduce, Allreduce, Scan, Exscan. */
#define REDUCTION_INIT(name, Count, Set, kind_, root_, ...)                              \
	int PMPI_##name(const void *sendbuf, void *recvbuf, Count count,                 \
			MPI_Datatype datatype, MPI_Op op, __VA_ARGS__ MPI_Comm comm,     \
			MPI_Info info, MPI_Request *request)                             \
	{                                                                                \
		INIT_C(name, a.kind = kind_; a.sbuf = sendbuf; a.rbuf = recvbuf;         \
		       a.rtype = datatype; a.op = op; a.root = root_;                    \
		       Set(count, a.rcount));                                            \
	}                                                                                \
	SHIM_WEAK(name)

BOTH_FORMS(REDUCTION_INIT, Reduce, PC_REDUCE, root, int root,)
BOTH_FORMS(REDUCTION_INIT, Allreduce, PC_ALLREDUCE, 0, )
BOTH_FORMS(REDUCTION_INIT, Scan, PC_SCAN, 0, )
BOTH_FORMS(REDUCTION_INIT, Exscan, PC_EXSCAN, 0, )

int PMPI_Reduce_scatter_block_init_c(const void *sendbuf, void *recvbuf, MPI_Count recvcount,
				     MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
				     MPI_Info info, MPI_Request *request)
{
	INIT_C(Reduce_scatter_block_init_c, a.kind = PC_REDUCE_SCATTER_BLOCK; a.sbuf = sendbuf;
	       a.rbuf = recvbuf; a.rtype = datatype; a.op = op;
	       narrow(recvcount, &a.rcount, &err, comm, fn));
}
SHIM_WEAK(Reduce_scatter_block_init_c)

int PMPI_Reduce_scatter_init_c(const void *sendbuf, void *recvbuf, const MPI_Count recvcounts[],
			       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Info info,
			       MPI_Request *request)
{
	INIT_C(Reduce_scatter_init_c, a.kind = PC_REDUCE_SCATTER; a.sbuf = sendbuf;
	       a.rbuf = recvbuf; a.rtype = datatype; a.op = op;
	       a.rcounts = narrow_array(recvcounts, shim_comm_get(comm) ?
					shim_comm_get(comm)->size : 0, &a, 0, &err, fn));
}
SHIM_WEAK(Reduce_scatter_init_c)

/* Gather, Scatter (rooted), Allgather, Alltoall and their neighbour twins. */
#define PLAIN_INIT(name, Count, Set, kind_, root_, ...)                                  \
	int PMPI_##name(const void *sendbuf, Count sendcount, MPI_Datatype sendtype,     \
			void *recvbuf, Count recvcount, MPI_Datatype recvtype,           \
			__VA_ARGS__ MPI_Comm comm, MPI_Info info, MPI_Request *request)  \
	{                                                                                \
		INIT_C(name, a.kind = kind_; a.sbuf = sendbuf; a.stype = sendtype;       \
		       a.rbuf = recvbuf; a.rtype = recvtype; a.root = root_;             \
		       Set(sendcount, a.scount); Set(recvcount, a.rcount));              \
	}                                                                                \
	SHIM_WEAK(name)

BOTH_FORMS(PLAIN_INIT, Gather, PC_GATHER, root, int root,)
BOTH_FORMS(PLAIN_INIT, Scatter, PC_SCATTER, root, int root,)
BOTH_FORMS(PLAIN_INIT, Allgather, PC_ALLGATHER, 0, )
BOTH_FORMS(PLAIN_INIT, Alltoall, PC_ALLTOALL, 0, )
BOTH_FORMS(PLAIN_INIT, Neighbor_allgather, PC_NB_ALLGATHER, 0, )
BOTH_FORMS(PLAIN_INIT, Neighbor_alltoall, PC_NB_ALLTOALL, 0, )

/* The v/w ones keep the application's arrays (see the top of the file). */
#define GATHERV_INIT_C(name, kind_, root_, ...)                                          \
	int PMPI_##name(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype, \
			void *recvbuf, const MPI_Count recvcounts[],                     \
			const MPI_Aint displs[], MPI_Datatype recvtype,                  \
			__VA_ARGS__ MPI_Comm comm, MPI_Info info, MPI_Request *request)  \
	{                                                                                \
		INIT(name, .kind = kind_, .wide = 1, .sbuf = sendbuf,                    \
		     .scount_c = sendcount, .stype = sendtype, .rbuf = recvbuf,          \
		     .rcounts_c = recvcounts, .rdispls_c = displs, .rtype = recvtype,    \
		     .root = root_, .comm = comm);                                       \
	}                                                                                \
	SHIM_WEAK(name)

GATHERV_INIT_C(Gatherv_init_c, PC_GATHERV, root, int root,)
GATHERV_INIT_C(Allgatherv_init_c, PC_ALLGATHERV, 0, )
GATHERV_INIT_C(Neighbor_allgatherv_init_c, PC_NB_ALLGATHERV, 0, )

int PMPI_Scatterv_init_c(const void *sendbuf, const MPI_Count sendcounts[],
			 const MPI_Aint displs[], MPI_Datatype sendtype, void *recvbuf,
			 MPI_Count recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
			 MPI_Info info, MPI_Request *request)
{
	INIT(Scatterv_init_c, .kind = PC_SCATTERV, .wide = 1, .sbuf = sendbuf,
	     .scounts_c = sendcounts, .sdispls_c = displs, .stype = sendtype, .rbuf = recvbuf,
	     .rcount_c = recvcount, .rtype = recvtype, .root = root, .comm = comm);
}
SHIM_WEAK(Scatterv_init_c)

#define ALLTOALLV_INIT_C(name, kind_)                                                    \
	int PMPI_##name(const void *sendbuf, const MPI_Count sendcounts[],               \
			const MPI_Aint sdispls[], MPI_Datatype sendtype, void *recvbuf,  \
			const MPI_Count recvcounts[], const MPI_Aint rdispls[],          \
			MPI_Datatype recvtype, MPI_Comm comm, MPI_Info info,             \
			MPI_Request *request)                                            \
	{                                                                                \
		INIT(name, .kind = kind_, .wide = 1, .sbuf = sendbuf,                    \
		     .scounts_c = sendcounts, .sdispls_c = sdispls, .stype = sendtype,   \
		     .rbuf = recvbuf, .rcounts_c = recvcounts, .rdispls_c = rdispls,     \
		     .rtype = recvtype, .comm = comm);                                   \
	}                                                                                \
	SHIM_WEAK(name)

ALLTOALLV_INIT_C(Alltoallv_init_c, PC_ALLTOALLV)
ALLTOALLV_INIT_C(Neighbor_alltoallv_init_c, PC_NB_ALLTOALLV)

int PMPI_Alltoallw_init_c(const void *sendbuf, const MPI_Count sendcounts[],
			  const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],
			  void *recvbuf, const MPI_Count recvcounts[], const MPI_Aint rdispls[],
			  const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Info info,
			  MPI_Request *request)
{
	INIT(Alltoallw_init_c, .kind = PC_ALLTOALLW, .wide = 1, .sbuf = sendbuf,
	     .scounts_c = sendcounts, .sdispls_c = sdispls, .stypes = sendtypes, .rbuf = recvbuf,
	     .rcounts_c = recvcounts, .rdispls_c = rdispls, .rtypes = recvtypes, .comm = comm,
	     .nstypes = sendbuf == MPI_IN_PLACE || !sendtypes ? 0 : peers(comm),
	     .nrtypes = recvtypes ? peers(comm) : 0);
}
SHIM_WEAK(Alltoallw_init_c)

int PMPI_Neighbor_alltoallw_init_c(const void *sendbuf, const MPI_Count sendcounts[],
				   const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],
				   void *recvbuf, const MPI_Count recvcounts[],
				   const MPI_Aint rdispls[], const MPI_Datatype recvtypes[],
				   MPI_Comm comm, MPI_Info info, MPI_Request *request)
{
	INIT(Neighbor_alltoallw_init_c, .kind = PC_NB_ALLTOALLW, .wide = 1, .sbuf = sendbuf,
	     .scounts_c = sendcounts, .sdispls_c = sdispls, .stypes = sendtypes, .rbuf = recvbuf,
	     .rcounts_c = recvcounts, .rdispls_c = rdispls, .rtypes = recvtypes, .comm = comm,
	     .nstypes = sendtypes ? degree(comm, 1) : 0,
	     .nrtypes = recvtypes ? degree(comm, 0) : 0);
}
SHIM_WEAK(Neighbor_alltoallw_init_c)
