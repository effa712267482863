/*
 * opreduce.c - reductions with user operations, computed in the
 * application; MPI_Reduce_local.
 *
 * A user operation is a function of the application, and the proxy
 * cannot call into the application.  So a reduction with one brings
 * every contribution to the ranks that need the result with an ordinary
 * collective of this shim (Gather, Allgather or Alltoallv, with the
 * application's datatype, so holes and strides arrive as the user laid
 * them out), then folds the blocks here.  Going through the shim's own
 * wrappers means the checkpoint's collective sequence numbers count those
 * collectives, and every rank of the communicator issues the same one,
 * whatever its role.
 *
 * Order: MPI defines the result on n ranks as x0 op x1 op ... op x(n-1)
 * with the ranks in order, and a user function computes
 * inoutvec = invec op inoutvec.  Folding from the right,
 * acc = x(n-1); acc = x(i) op acc for i = n-2 .. 0, gives exactly that
 * for an associative operation, commutative or not, so no commute flag
 * is needed for correctness.
 *
 * The blocks sit in one zeroed scratch buffer, block i at i * count
 * extents from block 0, which is how a collective with count elements
 * per peer lays them out; the user function is called on whole blocks
 * (len = count, the application's datatype handle).  Memory: n * count
 * elements on the ranks that fold (n blocks of one rank's share for an
 * intracommunicator's Reduce_scatter, the remote group's whole inputs
 * for an intercommunicator's).
 *
 * On an intercommunicator, Reduce, Allreduce and Reduce_scatter(_block)
 * fold the remote group's blocks (what Gather and Allgather bring in
 * there).
 *
 * The nonblocking reductions (request not NULL) are computed at once,
 * with the same blocking collectives, and hand back a request that is
 * already complete.  Every rank enters those collectives in the order it
 * starts its reductions, so this is safe except where a rank makes the
 * start of a reduction wait for a message another rank sends only after
 * starting it.
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>

/* The scratch of n blocks. */
struct blocks {
	unsigned char *mem;
	uintptr_t base;         /* byte 0 of block 0 */
	int64_t stride;         /* bytes from a block to the next */
};

void shim_op_apply(const struct shim_op *o, const void *in, void *inout, int64_t count,
		   MPI_Datatype t)
{
	/* A user function may write its len and datatype arguments: copies. */
	MPI_Datatype dt = t;

	if (o->fn_c) {
		MPI_Count len = count;
		o->fn_c((void *)in, inout, &len, &dt);
	} else {
		int len = (int)count;
		o->fn((void *)in, inout, &len, &dt);
	}
}

static int blocks_alloc(struct blocks *b, const struct shim_type *t, int64_t count, int n,
			MPI_Comm comm, const char *fn)
{
	int64_t lo, hi;

	b->mem = NULL;
	if (shim_type_span(t, count * n, &lo, &hi) != MPI_SUCCESS ||
	    !(b->mem = calloc(1, (size_t)(hi - lo) + 1)))
		return shim_errorf(comm, MPI_ERR_NO_MEM, fn, "%d blocks of %lld elements", n,
				   (long long)count);
	b->base = (uintptr_t)b->mem - (uintptr_t)lo;
	b->stride = count * t->extent;
	return MPI_SUCCESS;
}

static void *block(const struct blocks *b, int i)
{
	return (void *)(b->base + (uintptr_t)((int64_t)i * b->stride));
}

/* Blocks first..last, in rank order, reduced into the result, returned:
 * x(first) op (... op x(last)), built from the right. */
static void *fold(const struct blocks *b, int first, int last, const struct shim_op *o,
		  int64_t count, MPI_Datatype t)
{
	void *acc = block(b, last);

	for (int i = last - 1; i >= first; i--)
		shim_op_apply(o, block(b, i), acc, count, t);
	return acc;
}

/* The result's typemap bytes into the user's buffer, holes untouched. */
static void result_out(const struct shim_type *t, int64_t count, void *recvbuf,
		       const void *acc)
{
	shim_type_copy_out(t, count, recvbuf, acc, count * t->size);
}

/* After the work of a reduction: for a nonblocking one, a request that
 * is already complete, with an empty status. */
static int finish(int err, MPI_Comm comm, MPI_Request *request, const char *fn)
{
	struct shim_req *r;

	if (err || !request)
		return err;
	if (!(r = shim_req_new_user(SHIM_REQ_SEND, comm)))
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	struct chan_status st = { 0 };
	st.source = MPI_ANY_SOURCE;
	st.tag = MPI_ANY_TAG;
	shim_req_done_locally(r, &st);
	*request = r->handle;
	return MPI_SUCCESS;
}

/* ------------------------------------------------------------- checks */

static int check_root(MPI_Comm comm, const struct shim_comm *cm, int root, const char *fn)
{
	if (cm->remote ? root == MPI_ROOT || root == MPI_PROC_NULL ||
			 (root >= 0 && root < cm->remote_size)
		       : shim_check_root(cm, root) == MPI_SUCCESS)
		return MPI_SUCCESS;
	return shim_errorf(comm, MPI_ERR_ROOT, fn, "root %d is out of range", root);
}

static int check_count_type(MPI_Comm comm, int count, MPI_Datatype datatype,
			    struct shim_type **t, const char *fn)
{
	if (count < 0)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "count %d", count);
	if (shim_type_check(datatype, t) != MPI_SUCCESS)
		return shim_errorf(comm, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)datatype, shim_type_why(datatype));
	return MPI_SUCCESS;
}

/* MPI_IN_PLACE is for intracommunicators, on ranks that get a result. */
static int check_in_place(MPI_Comm comm, const struct shim_comm *cm, const void *sendbuf,
			  int gets_result, const char *fn)
{
	if (sendbuf != MPI_IN_PLACE || (gets_result && !cm->remote))
		return MPI_SUCCESS;
	return shim_error(comm, MPI_ERR_BUFFER, fn, "sendbuf cannot be MPI_IN_PLACE here");
}

/* --------------------------------------------- Reduce, Allreduce, Scan */

/* Which blocks this rank folds after the exchange: [*first, *last], or
 * returns 0 when it gets no result. */
static int fold_range(enum chan_call_id id, const struct shim_comm *cm, int root,
		      int *first, int *last)
{
	int n = cm->remote ? cm->remote_size : cm->size;

	*first = 0;
	*last = n - 1;
	switch (id) {
	case CALL_REDUCE:
		return cm->remote ? root == MPI_ROOT : root == cm->rank;
	case CALL_SCAN:
		*last = cm->rank;
		return 1;
	case CALL_EXSCAN:
		*last = cm->rank - 1;
		return cm->rank > 0;
	default:
		return 1;
	}
}

int shim_opreduce(enum chan_call_id id, const char *fn, const void *sendbuf, void *recvbuf,
		  int count, MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm,
		  MPI_Request *request)
{
	const struct shim_op *o = shim_op_get(op);
	struct shim_comm *cm;
	struct shim_type *t;
	struct blocks b;
	int err, first, last;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if (cm->remote && (id == CALL_SCAN || id == CALL_EXSCAN))
		return shim_error(comm, MPI_ERR_COMM, fn, "not defined on an intercommunicator");
	if (id == CALL_REDUCE && (err = check_root(comm, cm, root, fn)))
		return err;
	int gets = fold_range(id, cm, root, &first, &last);
	if ((err = check_count_type(comm, count, datatype, &t, fn)) ||
	    (err = check_in_place(comm, cm, sendbuf, gets, fn)))
		return err;
	/* MPI_IN_PLACE: this rank's input is in recvbuf. */
	const void *in = sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf;
	/* Allgather fills n blocks everywhere (Exscan's rank 0 too); Gather
	 * only at the root. */
	int n = cm->remote ? cm->remote_size : cm->size;
	if ((err = blocks_alloc(&b, t, count, id != CALL_REDUCE || gets ? n : 0, comm, fn)))
		return err;
	if (id == CALL_REDUCE)
		err = PMPI_Gather(in, count, datatype, block(&b, 0), count, datatype, root, comm);
	else
		err = PMPI_Allgather(in, count, datatype, block(&b, 0), count, datatype, comm);
	if (err == MPI_SUCCESS && gets && count > 0)
		result_out(t, count, recvbuf, fold(&b, first, last, o, count, datatype));
	free(b.mem);
	return finish(err, comm, request, fn);
}

/* ---------------------------------------------------- Reduce_scatter */

/* Intracommunicator: each rank i receives block i of every rank's input
 * (Alltoallv) and folds the n pieces it got. */
static int scatter_intra(const struct shim_op *o, const void *in, void *recvbuf,
			 const int *cnt, const int *dsp, int rank, int n, struct shim_type *t,
			 MPI_Datatype datatype, MPI_Comm comm, const char *fn)
{
	int mine = cnt[rank], err;
	struct blocks b;
	int *rcnt = malloc(2 * (size_t)n * sizeof(int)), *rdsp = rcnt + n;

	if (!rcnt)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "count arrays");
	for (int i = 0; i < n; i++) {
		rcnt[i] = mine;
		rdsp[i] = i * mine;
	}
	if (!(err = blocks_alloc(&b, t, mine, n, comm, fn))) {
		err = PMPI_Alltoallv(in, cnt, dsp, datatype, block(&b, 0), rcnt, rdsp, datatype,
				     comm);
		if (err == MPI_SUCCESS && mine > 0)
			result_out(t, mine, recvbuf, fold(&b, 0, n - 1, o, mine, datatype));
		free(b.mem);
	}
	free(rcnt);
	return err;
}

/* Intercommunicator: each group reduces the other group's inputs (total
 * elements each, the sum of either group's recvcounts) and keeps this
 * rank's block of the result.  Every rank gets the remote group's whole
 * inputs (Allgather) and folds its own block of them. */
static int scatter_inter(const struct shim_op *o, const void *in, void *recvbuf, int total,
			 int off, int mine, int rn, struct shim_type *t,
			 MPI_Datatype datatype, MPI_Comm comm, const char *fn)
{
	struct blocks b;
	int err;

	if ((err = blocks_alloc(&b, t, total, rn, comm, fn)))
		return err;
	err = PMPI_Allgather(in, total, datatype, block(&b, 0), total, datatype, comm);
	if (err == MPI_SUCCESS && mine > 0) {
		struct blocks part = b;
		part.base += (uintptr_t)((int64_t)off * t->extent);
		result_out(t, mine, recvbuf, fold(&part, 0, rn - 1, o, mine, datatype));
	}
	free(b.mem);
	return err;
}

int shim_opreduce_scatter(enum chan_call_id id, const char *fn, const void *sendbuf,
			  void *recvbuf, const int recvcounts[], int recvcount,
			  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
	const struct shim_op *o = shim_op_get(op);
	struct shim_comm *cm;
	struct shim_type *t;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	int n = cm->size;
	if (id == CALL_REDUCE_SCATTER && !recvcounts)
		return shim_error(comm, MPI_ERR_COUNT, fn, "recvcounts is NULL");
	/* This group's blocks of the result, and where each starts. */
	int *cnt = malloc(2 * (size_t)n * sizeof(int)), *dsp = cnt + n;
	if (!cnt)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "count arrays");
	int64_t at = 0;
	for (int i = 0; i < n; i++) {
		cnt[i] = recvcounts ? recvcounts[i] : recvcount;
		err = err ? err : check_count_type(comm, cnt[i], datatype, &t, fn);
		dsp[i] = at > INT_MAX ? INT_MAX : (int)at;
		at += cnt[i] > 0 ? cnt[i] : 0;
	}
	if (!err && at > INT_MAX)
		err = shim_errorf(comm, MPI_ERR_COUNT, fn, "%lld elements in all",
				  (long long)at);
	if (!err && !(err = check_in_place(comm, cm, sendbuf, 1, fn))) {
		const void *in = sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf;
		if (cm->remote)
			err = scatter_inter(o, in, recvbuf, (int)at, dsp[cm->rank],
					    cnt[cm->rank], cm->remote_size, t, datatype, comm, fn);
		else
			err = scatter_intra(o, in, recvbuf, cnt, dsp, cm->rank, n, t, datatype,
					    comm, fn);
	}
	free(cnt);
	return finish(err, comm, request, fn);
}

/* ------------------------------------------------------ Reduce_local */

static int reduce_local(const void *inbuf, void *inoutbuf, int64_t count,
			MPI_Datatype datatype, MPI_Op op, const char *fn)
{
	const struct shim_op *o = shim_op_get(op);
	struct shim_type *t;
	int err;

	if (!o && !shim_op_predefined(op))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_OP, fn, "%#lx is not an operation",
				   (unsigned long)(uintptr_t)op);
	if (count < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "count %lld",
				   (long long)count);
	if (shim_type_check(datatype, &t) != MPI_SUCCESS)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)datatype, shim_type_why(datatype));
	if (count > 0 && t->size > 0 && (!inbuf || !inoutbuf || inbuf == MPI_IN_PLACE))
		return shim_error(SHIM_NOCOMM, MPI_ERR_BUFFER, fn, "a buffer is NULL or "
				  "MPI_IN_PLACE");
	if (o) {
		if (count > 0)
			shim_op_apply(o, inbuf, inoutbuf, count, datatype);
		return MPI_SUCCESS;
	}
	if ((err = shim_op_local_predefined(inbuf, inoutbuf, count, datatype, op)))
		return shim_errorf(SHIM_NOCOMM, err, fn, "operation %#lx is not defined on "
				   "datatype %#lx", (unsigned long)(uintptr_t)op,
				   (unsigned long)(uintptr_t)datatype);
	return MPI_SUCCESS;
}

int PMPI_Reduce_local(const void *inbuf, void *inoutbuf, int count, MPI_Datatype datatype,
		      MPI_Op op)
{
	return reduce_local(inbuf, inoutbuf, count, datatype, op, "MPI_Reduce_local");
}
SHIM_WEAK(Reduce_local)

int PMPI_Reduce_local_c(const void *inbuf, void *inoutbuf, MPI_Count count,
			MPI_Datatype datatype, MPI_Op op)
{
	return reduce_local(inbuf, inoutbuf, count, datatype, op, "MPI_Reduce_local_c");
}
SHIM_WEAK(Reduce_local_c)
