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
 *   - the v/w collectives, which have one count and displacement per
 *     peer, go as one Alltoallw of per-peer made types (shim/vwbig.c).
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

/* The parameters some calls add, spliced into the macros below. */
#define NONE
#define ROOT_P , int root
#define ROOT_A , root
#define REQ_P , MPI_Request *request
#define REQ_A , request
#define STATUS_P , MPI_Status *status
#define STATUS_A , status

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

/* ------------------------------------- neighbourhood collectives */

PAIR_C(Neighbor_allgather, NONE, NONE, NONE, NONE)
PAIR_C(Neighbor_alltoall, NONE, NONE, NONE, NONE)
PAIR_C(Ineighbor_allgather, NONE, NONE, REQ_P, REQ_A)
PAIR_C(Ineighbor_alltoall, NONE, NONE, REQ_P, REQ_A)
