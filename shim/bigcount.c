/*
 * bigcount.c - the large-count (MPI_X_c) point-to-point calls and
 * collectives, built on their int twins.
 *
 * Open MPI 4.1 has no _c functions and the channel carries int counts,
 * so each _c call here becomes its int call:
 *
 *   - a count that fits an int is passed on as it is (a negative one
 *     too: the int call raises MPI_ERR_COUNT for it);
 *   - a larger count of a datatype t becomes one element of a datatype
 *     made for the call, "count consecutive t" (shim_bigc_type: chunks
 *     of 2^30 elements and a remainder, as a struct), freed right after
 *     the call (a pending request holds its record, shim/typeops.c);
 *   - the v/w collectives whose counts or displacements do not fit an
 *     int raise MPI_ERR_COUNT instead (doc/conformance.md).
 *
 * The reductions, where a made type cannot carry a predefined op, go in
 * chunks instead (shim/redbig.c).
 *
 * The statuses need nothing: they carry bytes, and MPI_Get_count_c
 * divides by the application's datatype.  The type constructors are in
 * shim/typebig.c, MPI_Pack_c and friends in shim/pack.c.
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>

/* ------------------------------------------------------ chunked types */

int shim_bigc_split(int64_t count, int64_t extent, struct shim_bigc_split *s)
{
	int64_t q = count / SHIM_BIGC_CHUNK;

	if (count < 0 || q > INT_MAX)
		return MPI_ERR_COUNT;
	s->nchunks = (int)q;
	s->rest = (int)(count % SHIM_BIGC_CHUNK);
	if (__builtin_mul_overflow(q * SHIM_BIGC_CHUNK, extent, &s->rest_disp))
		return MPI_ERR_COUNT;
	return MPI_SUCCESS;
}

int shim_bigc_type(int64_t count, MPI_Datatype t, MPI_Datatype *out, const char *fn)
{
	struct shim_type *r = shim_type_get(t);
	struct shim_bigc_split s;
	MPI_Datatype chunk;
	int err;

	if (!r)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)t, shim_type_why(t));
	if (shim_bigc_split(count, r->extent, &s))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn,
				   "count %lld of a datatype of extent %lld",
				   (long long)count, (long long)r->extent);
	if ((err = PMPI_Type_contiguous((int)SHIM_BIGC_CHUNK, t, &chunk)))
		return err;
	/* The chunks span [lb, lb + q * 2^30 * extent), the rest follows:
	 * the same typemap and bounds as count consecutive elements. */
	int bl[2] = { s.nchunks, s.rest };
	MPI_Aint disp[2] = { 0, (MPI_Aint)s.rest_disp };
	MPI_Datatype types[2] = { chunk, t };
	err = PMPI_Type_create_struct(s.rest ? 2 : 1, bl, disp, types, out);
	PMPI_Type_free(&chunk);
	return err;
}

/* ------------------------------------------------ arguments, narrowed */

/* One (buffer, count, datatype) on its way to the int call. */
struct big_arg {
	int count;
	MPI_Datatype type;
	MPI_Datatype made;       /* made for a large count; freed by big_done */
};

static int big_arg(struct big_arg *a, const void *buf, MPI_Count count, MPI_Datatype type,
		   const char *fn)
{
	a->made = MPI_DATATYPE_NULL;
	a->type = type;
	/* MPI_IN_PLACE: count and type are not significant. */
	if (buf == MPI_IN_PLACE && count > INT_MAX)
		count = 0;
	if (count <= INT_MAX) {
		a->count = count < INT_MIN ? -1 : (int)count;
		return MPI_SUCCESS;
	}
	int err = shim_bigc_type(count, type, &a->made, fn);
	if (!err && (err = PMPI_Type_commit(&a->made)))
		PMPI_Type_free(&a->made);
	a->count = 1;
	a->type = a->made;
	return err;
}

static void big_done(struct big_arg *a)
{
	if (a->made != MPI_DATATYPE_NULL)
		PMPI_Type_free(&a->made);
}

/* n counts or displacements as a new int array (NULL for NULL or when
 * not significant); MPI_ERR_COUNT when one does not fit. */
static int ints_of(const int64_t *v, int n, int **out, MPI_Comm comm, const char *fn,
		   const char *what)
{
	*out = NULL;
	if (!v || n <= 0)
		return MPI_SUCCESS;
	int *w = malloc((size_t)n * sizeof(int));
	if (!w)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	for (int i = 0; i < n; i++) {
		if (v[i] > INT_MAX || v[i] < INT_MIN) {
			free(w);
			return shim_errorf(comm, MPI_ERR_COUNT, fn,
					   "%s[%d] = %lld: v/w collectives with counts or "
					   "displacements beyond INT_MAX are not supported",
					   what, i, (long long)v[i]);
		}
		w[i] = (int)v[i];
	}
	*out = w;
	return MPI_SUCCESS;
}
#define INTS(v, n, out, comm, fn, what) \
	ints_of((const int64_t *)(const void *)(v), n, out, comm, fn, what)

/* Entries of the count arrays: the group the calls address (the remote
 * one of an intercommunicator), or 0 for an invalid communicator, which
 * the int call then reports. */
static int peers(MPI_Comm comm)
{
	struct shim_comm *c = shim_comm_get(comm);

	return !c ? 0 : c->remote ? c->remote_size : c->size;
}

/* Are the root's arrays significant here (Gatherv, Scatterv)? */
static int at_root(MPI_Comm comm, int root)
{
	struct shim_comm *c = shim_comm_get(comm);

	return c && (c->remote ? root == MPI_ROOT : c->rank == root);
}

/* The parameters some calls add, spliced into the macros below. */
#define NONE
#define ROOT_P , int root
#define ROOT_A , root
#define REQ_P , MPI_Request *request
#define REQ_A , request
#define STATUS_P , MPI_Status *status
#define STATUS_A , status
#define ROOT_SIG at_root(comm, root)

/* -------------------------------------------------- point-to-point */

/* Send, Ssend, Rsend, Recv and their nonblocking twins: one buffer
 * (count, datatype) and one peer; Const is `const` for the sends, Last
 * what ends the parameter list (a request, a status or NONE). */
#define P2P_C(Name, Const, LastP, LastA)                                               \
	int PMPI_##Name##_c(Const void *buf, MPI_Count count, MPI_Datatype datatype,   \
			    int peer, int tag, MPI_Comm comm LastP)                     \
	{                                                                              \
		struct big_arg a;                                                      \
		int err = big_arg(&a, buf, count, datatype, "MPI_" #Name "_c");        \
		if (!err)                                                              \
			err = PMPI_##Name(buf, a.count, a.type, peer, tag,             \
					  comm LastA);                                 \
		big_done(&a);                                                          \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

P2P_C(Send, const, NONE, NONE)
P2P_C(Ssend, const, NONE, NONE)
P2P_C(Rsend, const, NONE, NONE)
P2P_C(Isend, const, REQ_P, REQ_A)
P2P_C(Issend, const, REQ_P, REQ_A)
P2P_C(Irsend, const, REQ_P, REQ_A)
P2P_C(Recv, NONE, STATUS_P, STATUS_A)
P2P_C(Irecv, NONE, REQ_P, REQ_A)

int PMPI_Sendrecv_c(const void *sendbuf, MPI_Count sendcount, MPI_Datatype sendtype,
		    int dest, int sendtag, void *recvbuf, MPI_Count recvcount,
		    MPI_Datatype recvtype, int source, int recvtag, MPI_Comm comm,
		    MPI_Status *status)
{
	static const char fn[] = "MPI_Sendrecv_c";
	struct big_arg s, r = { 0, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL };
	int err = big_arg(&s, sendbuf, sendcount, sendtype, fn);

	if (!err && !(err = big_arg(&r, recvbuf, recvcount, recvtype, fn)))
		err = PMPI_Sendrecv(sendbuf, s.count, s.type, dest, sendtag, recvbuf, r.count,
				    r.type, source, recvtag, comm, status);
	big_done(&s);
	big_done(&r);
	return err;
}
SHIM_WEAK(Sendrecv_c)

int PMPI_Sendrecv_replace_c(void *buf, MPI_Count count, MPI_Datatype datatype, int dest,
			    int sendtag, int source, int recvtag, MPI_Comm comm,
			    MPI_Status *status)
{
	struct big_arg a;
	int err = big_arg(&a, buf, count, datatype, "MPI_Sendrecv_replace_c");

	if (!err)
		err = PMPI_Sendrecv_replace(buf, a.count, a.type, dest, sendtag, source,
					    recvtag, comm, status);
	big_done(&a);
	return err;
}
SHIM_WEAK(Sendrecv_replace_c)

/* ------------------------------------------------------- collectives */

/* Bcast and Ibcast: one buffer (count, datatype). */
#define BCAST_C(Name, ReqP, ReqA)                                                      \
	int PMPI_##Name##_c(void *buffer, MPI_Count count, MPI_Datatype datatype,      \
			    int root, MPI_Comm comm ReqP)                               \
	{                                                                              \
		struct big_arg a;                                                      \
		int err = big_arg(&a, buffer, count, datatype, "MPI_" #Name "_c");     \
		if (!err)                                                              \
			err = PMPI_##Name(buffer, a.count, a.type, root, comm ReqA);   \
		big_done(&a);                                                          \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

BCAST_C(Bcast, NONE, NONE)
BCAST_C(Ibcast, REQ_P, REQ_A)

/* Gather, Scatter (Root: ", root"), Allgather, Alltoall, and their
 * nonblocking twins (Req: ", request"): one send and one receive
 * (count, datatype); each count is per process, so a made type's extent,
 * count times the datatype's, keeps the blocks where MPI puts them. */
#define PAIR_C(Name, RootP, RootA, ReqP, ReqA)                                         \
	int PMPI_##Name##_c(const void *sendbuf, MPI_Count sendcount,                  \
			    MPI_Datatype sendtype, void *recvbuf, MPI_Count recvcount,  \
			    MPI_Datatype recvtype RootP, MPI_Comm comm ReqP)            \
	{                                                                              \
		static const char fn[] = "MPI_" #Name "_c";                            \
		struct big_arg s, r = { 0, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL };     \
		int err = big_arg(&s, sendbuf, sendcount, sendtype, fn);               \
		if (!err && !(err = big_arg(&r, recvbuf, recvcount, recvtype, fn)))    \
			err = PMPI_##Name(sendbuf, s.count, s.type, recvbuf, r.count,  \
					  r.type RootA, comm ReqA);                    \
		big_done(&s);                                                          \
		big_done(&r);                                                          \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

PAIR_C(Gather, ROOT_P, ROOT_A, NONE, NONE)
PAIR_C(Scatter, ROOT_P, ROOT_A, NONE, NONE)
PAIR_C(Allgather, NONE, NONE, NONE, NONE)
PAIR_C(Alltoall, NONE, NONE, NONE, NONE)
PAIR_C(Igather, ROOT_P, ROOT_A, REQ_P, REQ_A)
PAIR_C(Iscatter, ROOT_P, ROOT_A, REQ_P, REQ_A)
PAIR_C(Iallgather, NONE, NONE, REQ_P, REQ_A)
PAIR_C(Ialltoall, NONE, NONE, REQ_P, REQ_A)

/* Gatherv and Allgatherv: one send (count, datatype), the receive side's
 * arrays (at the root only for Gatherv). */
#define GATHERV_C(Name, RootP, RootA, RootSig, ReqP, ReqA)                             \
	int PMPI_##Name##_c(const void *sendbuf, MPI_Count sendcount,                  \
			    MPI_Datatype sendtype, void *recvbuf,                       \
			    const MPI_Count recvcounts[], const MPI_Aint displs[],      \
			    MPI_Datatype recvtype RootP, MPI_Comm comm ReqP)            \
	{                                                                              \
		static const char fn[] = "MPI_" #Name "_c";                            \
		int n = RootSig ? peers(comm) : 0, *rc = NULL, *rd = NULL;             \
		struct big_arg s;                                                      \
		int err = big_arg(&s, sendbuf, sendcount, sendtype, fn);               \
		if (!err && !(err = INTS(recvcounts, n, &rc, comm, fn, "recvcounts")) && \
		    !(err = INTS(displs, n, &rd, comm, fn, "displs")))                 \
			err = PMPI_##Name(sendbuf, s.count, s.type, recvbuf, rc, rd,   \
					  recvtype RootA, comm ReqA);                  \
		big_done(&s);                                                          \
		free(rc);                                                              \
		free(rd);                                                              \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

GATHERV_C(Gatherv, ROOT_P, ROOT_A, ROOT_SIG, NONE, NONE)
GATHERV_C(Allgatherv, NONE, NONE, 1, NONE, NONE)
GATHERV_C(Igatherv, ROOT_P, ROOT_A, ROOT_SIG, REQ_P, REQ_A)
GATHERV_C(Iallgatherv, NONE, NONE, 1, REQ_P, REQ_A)

/* Scatterv: the root's arrays, one receive (count, datatype). */
#define SCATTERV_C(Name, ReqP, ReqA)                                                   \
	int PMPI_##Name##_c(const void *sendbuf, const MPI_Count sendcounts[],         \
			    const MPI_Aint displs[], MPI_Datatype sendtype,             \
			    void *recvbuf, MPI_Count recvcount, MPI_Datatype recvtype,  \
			    int root, MPI_Comm comm ReqP)                               \
	{                                                                              \
		static const char fn[] = "MPI_" #Name "_c";                            \
		int n = at_root(comm, root) ? peers(comm) : 0, *sc = NULL, *sd = NULL; \
		struct big_arg r;                                                      \
		int err = big_arg(&r, recvbuf, recvcount, recvtype, fn);               \
		if (!err && !(err = INTS(sendcounts, n, &sc, comm, fn, "sendcounts")) && \
		    !(err = INTS(displs, n, &sd, comm, fn, "displs")))                 \
			err = PMPI_##Name(sendbuf, sc, sd, sendtype, recvbuf, r.count, \
					  r.type, root, comm ReqA);                    \
		big_done(&r);                                                          \
		free(sc);                                                              \
		free(sd);                                                              \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

SCATTERV_C(Scatterv, NONE, NONE)
SCATTERV_C(Iscatterv, REQ_P, REQ_A)

/* Alltoallv and Alltoallw: four arrays as ints, the send ones unused
 * with MPI_IN_PLACE. */
struct four {
	int *sc, *sd, *rc, *rd;
};

static int four_of(struct four *f, const void *sendbuf, const MPI_Count *sc,
		   const MPI_Aint *sd, const MPI_Count *rc, const MPI_Aint *rd, MPI_Comm comm,
		   const char *fn)
{
	int n = peers(comm), ns = sendbuf == MPI_IN_PLACE ? 0 : n;
	int err;

	f->sd = f->rc = f->rd = NULL;
	if ((err = INTS(sc, ns, &f->sc, comm, fn, "sendcounts")) ||
	    (err = INTS(sd, ns, &f->sd, comm, fn, "sdispls")) ||
	    (err = INTS(rc, n, &f->rc, comm, fn, "recvcounts")))
		return err;
	return INTS(rd, n, &f->rd, comm, fn, "rdispls");
}

static void four_free(struct four *f)
{
	free(f->sc);
	free(f->sd);
	free(f->rc);
	free(f->rd);
}

/* STypeP/RTypeP: the datatype parameters (one, or an array for w). */
#define ALLTOALLVW_C(Name, STypeP, SType, RTypeP, RType, ReqP, ReqA)                   \
	int PMPI_##Name##_c(const void *sendbuf, const MPI_Count sendcounts[],         \
			    const MPI_Aint sdispls[], STypeP, void *recvbuf,            \
			    const MPI_Count recvcounts[], const MPI_Aint rdispls[],     \
			    RTypeP, MPI_Comm comm ReqP)                                 \
	{                                                                              \
		struct four f;                                                         \
		int err = four_of(&f, sendbuf, sendcounts, sdispls, recvcounts,        \
				  rdispls, comm, "MPI_" #Name "_c");                   \
		if (!err)                                                              \
			err = PMPI_##Name(sendbuf, f.sc, f.sd, SType, recvbuf, f.rc,   \
					  f.rd, RType, comm ReqA);                     \
		four_free(&f);                                                         \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

#define V_STYPE MPI_Datatype sendtype
#define V_RTYPE MPI_Datatype recvtype
#define W_STYPES const MPI_Datatype sendtypes[]
#define W_RTYPES const MPI_Datatype recvtypes[]
ALLTOALLVW_C(Alltoallv, V_STYPE, sendtype, V_RTYPE, recvtype, NONE, NONE)
ALLTOALLVW_C(Ialltoallv, V_STYPE, sendtype, V_RTYPE, recvtype, REQ_P, REQ_A)
ALLTOALLVW_C(Alltoallw, W_STYPES, sendtypes, W_RTYPES, recvtypes, NONE, NONE)
ALLTOALLVW_C(Ialltoallw, W_STYPES, sendtypes, W_RTYPES, recvtypes, REQ_P, REQ_A)

/* ------------------------------------- neighbourhood collectives */

/* The nonblocking ones complete at initiation (shim/neighbor.c), so the
 * narrowed arrays may go when they return. */

/* Blocks of the v/w variants: in receive, out send (shim_topo_degrees);
 * 0 and 0 without a topology, which the int call then reports. */
static void degrees(MPI_Comm comm, int *in, int *out)
{
	struct shim_comm *c = shim_comm_get(comm);

	*in = *out = 0;
	if (c)
		shim_topo_degrees(c, in, out);
}

PAIR_C(Neighbor_allgather, NONE, NONE, NONE, NONE)
PAIR_C(Neighbor_alltoall, NONE, NONE, NONE, NONE)
PAIR_C(Ineighbor_allgather, NONE, NONE, REQ_P, REQ_A)
PAIR_C(Ineighbor_alltoall, NONE, NONE, REQ_P, REQ_A)

#define NB_ALLGATHERV_C(Name, ReqP, ReqA)                                              \
	int PMPI_##Name##_c(const void *sendbuf, MPI_Count sendcount,                  \
			    MPI_Datatype sendtype, void *recvbuf,                       \
			    const MPI_Count recvcounts[], const MPI_Aint displs[],      \
			    MPI_Datatype recvtype, MPI_Comm comm ReqP)                  \
	{                                                                              \
		static const char fn[] = "MPI_" #Name "_c";                            \
		int in, out, *rc = NULL, *rd = NULL;                                   \
		struct big_arg s;                                                      \
		degrees(comm, &in, &out);                                              \
		int err = big_arg(&s, sendbuf, sendcount, sendtype, fn);               \
		if (!err && !(err = INTS(recvcounts, in, &rc, comm, fn, "recvcounts")) && \
		    !(err = INTS(displs, in, &rd, comm, fn, "displs")))                \
			err = PMPI_##Name(sendbuf, s.count, s.type, recvbuf, rc, rd,   \
					  recvtype, comm ReqA);                        \
		big_done(&s);                                                          \
		free(rc);                                                              \
		free(rd);                                                              \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

NB_ALLGATHERV_C(Neighbor_allgatherv, NONE, NONE)
NB_ALLGATHERV_C(Ineighbor_allgatherv, REQ_P, REQ_A)

#define NB_ALLTOALLV_C(Name, ReqP, ReqA)                                               \
	int PMPI_##Name##_c(const void *sendbuf, const MPI_Count sendcounts[],         \
			    const MPI_Aint sdispls[], MPI_Datatype sendtype,            \
			    void *recvbuf, const MPI_Count recvcounts[],                \
			    const MPI_Aint rdispls[], MPI_Datatype recvtype,            \
			    MPI_Comm comm ReqP)                                         \
	{                                                                              \
		static const char fn[] = "MPI_" #Name "_c";                            \
		int in, out, *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL;           \
		int err;                                                               \
		degrees(comm, &in, &out);                                              \
		if (!(err = INTS(sendcounts, out, &sc, comm, fn, "sendcounts")) &&     \
		    !(err = INTS(sdispls, out, &sd, comm, fn, "sdispls")) &&           \
		    !(err = INTS(recvcounts, in, &rc, comm, fn, "recvcounts")) &&      \
		    !(err = INTS(rdispls, in, &rd, comm, fn, "rdispls")))              \
			err = PMPI_##Name(sendbuf, sc, sd, sendtype, recvbuf, rc, rd,  \
					  recvtype, comm ReqA);                        \
		free(sc);                                                              \
		free(sd);                                                              \
		free(rc);                                                              \
		free(rd);                                                              \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

NB_ALLTOALLV_C(Neighbor_alltoallv, NONE, NONE)
NB_ALLTOALLV_C(Ineighbor_alltoallv, REQ_P, REQ_A)

/* Alltoallw's displacements are MPI_Aint in both forms: only the counts
 * narrow. */
#define NB_ALLTOALLW_C(Name, ReqP, ReqA)                                               \
	int PMPI_##Name##_c(const void *sendbuf, const MPI_Count sendcounts[],         \
			    const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],   \
			    void *recvbuf, const MPI_Count recvcounts[],                \
			    const MPI_Aint rdispls[], const MPI_Datatype recvtypes[],   \
			    MPI_Comm comm ReqP)                                         \
	{                                                                              \
		static const char fn[] = "MPI_" #Name "_c";                            \
		int in, out, *sc = NULL, *rc = NULL;                                   \
		int err;                                                               \
		degrees(comm, &in, &out);                                              \
		if (!(err = INTS(sendcounts, out, &sc, comm, fn, "sendcounts")) &&     \
		    !(err = INTS(recvcounts, in, &rc, comm, fn, "recvcounts")))        \
			err = PMPI_##Name(sendbuf, sc, sdispls, sendtypes, recvbuf, rc, \
					  rdispls, recvtypes, comm ReqA);              \
		free(sc);                                                              \
		free(rc);                                                              \
		return err;                                                            \
	}                                                                              \
	SHIM_WEAK(Name##_c)

NB_ALLTOALLW_C(Neighbor_alltoallw, NONE, NONE)
NB_ALLTOALLW_C(Ineighbor_alltoallw, REQ_P, REQ_A)
