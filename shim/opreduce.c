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
 * The nonblocking reductions (request not NULL) start the nonblocking
 * twin of that collective (Igather, Iallgather, Ialltoallv) and hand its
 * request to the application with the fold attached (struct shim_fold):
 * the application never blocks at the start, so it may start one and
 * then send what a peer waits for before starting its own, and the real
 * MPI orders it among the communicator's other collectives as it was
 * started.  The fold runs when a completion call completes the request
 * (shim_req_complete, in the application thread, after the collective's
 * results are copied into the scratch).  The fold and its scratch are
 * application memory, so a request pending at a checkpoint (completed
 * into the scratch by shim_icoll_drained) is folded by the Wait after
 * resume or restart.
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

/* What is left to do once the blocks are in: fold blocks first..last
 * (count elements each, from shift bytes into each block) into recvbuf. */
struct shim_fold {
	struct blocks b;
	int first, last;
	int64_t count;          /* 0: this rank gets no result */
	int64_t shift;
	struct shim_op o;       /* a copy: the application may free the op */
	struct shim_type *t;    /* held: it may free the datatype too */
	void *recvbuf;
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

/* A fold of n blocks of per_block elements of t, the application's op. */
static struct shim_fold *fold_new(struct shim_type *t, int64_t per_block, int n,
				  MPI_Op op, void *recvbuf, MPI_Comm comm, const char *fn)
{
	struct shim_fold *f = calloc(1, sizeof(*f));

	if (!f) {
		shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a reduction");
		return NULL;
	}
	if (blocks_alloc(&f->b, t, per_block, n, comm, fn)) {
		free(f);
		return NULL;
	}
	f->o = *shim_op_get(op);
	f->t = t;
	shim_type_hold(t);
	f->recvbuf = recvbuf;
	return f;
}

static void fold_free(struct shim_fold *f)
{
	shim_type_release(f->t);
	free(f->b.mem);
	free(f);
}

/* Blocks first..last, in rank order, reduced into the result's typemap
 * bytes in recvbuf (holes untouched): x(first) op (... op x(last)),
 * built from the right. */
static void fold_run(const struct shim_fold *f)
{
	if (f->count <= 0)
		return;
	uintptr_t at = f->b.base + (uintptr_t)f->shift;
	void *acc = (void *)(at + (uintptr_t)((int64_t)f->last * f->b.stride));

	for (int i = f->last - 1; i >= f->first; i--)
		shim_op_apply(&f->o, (void *)(at + (uintptr_t)((int64_t)i * f->b.stride)),
			      acc, f->count, f->t->handle);
	shim_type_copy_out(f->t, f->count, f->recvbuf, acc, f->count * f->t->size);
}

/* After the collective that brings the blocks in started (err is its
 * error): a blocking reduction folds now; a nonblocking one leaves f to
 * its request, which folds when it completes (shim_opreduce_done). */
static int fold_after(struct shim_fold *f, int err, MPI_Request *request)
{
	struct shim_req *r;

	if (err == MPI_SUCCESS && request && (r = shim_req_get(*request))) {
		r->fold = f;
		return MPI_SUCCESS;
	}
	if (err == MPI_SUCCESS)
		fold_run(f);
	fold_free(f);
	return err;
}

void shim_opreduce_done(struct shim_req *r, const struct chan_status *st)
{
	if (st && !st->error)
		fold_run(r->fold);
	fold_free(r->fold);
	r->fold = NULL;
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
	struct shim_comm *cm;
	struct shim_type *t;
	struct shim_fold *f;
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
	if (!(f = fold_new(t, count, id != CALL_REDUCE || gets ? n : 0, op, recvbuf, comm, fn)))
		return MPI_ERR_NO_MEM;
	f->first = first;
	f->last = last;
	f->count = gets ? count : 0;
	void *blocks = block(&f->b, 0);
	if (id == CALL_REDUCE)
		err = request ? PMPI_Igather(in, count, datatype, blocks, count, datatype, root,
					     comm, request)
			      : PMPI_Gather(in, count, datatype, blocks, count, datatype, root,
					    comm);
	else
		err = request ? PMPI_Iallgather(in, count, datatype, blocks, count, datatype,
						comm, request)
			      : PMPI_Allgather(in, count, datatype, blocks, count, datatype,
					       comm);
	return fold_after(f, err, request);
}

/* ---------------------------------------------------- Reduce_scatter */

/* Intracommunicator: each rank i receives block i of every rank's input
 * (Alltoallv) and folds the n pieces it got. */
static int scatter_intra(MPI_Op op, const void *in, void *recvbuf, const int *cnt,
			 const int *dsp, int rank, int n, struct shim_type *t,
			 MPI_Datatype datatype, MPI_Comm comm, const char *fn,
			 MPI_Request *request)
{
	int mine = cnt[rank], err;
	struct shim_fold *f;
	int *rcnt = malloc(2 * (size_t)n * sizeof(int)), *rdsp = rcnt + n;

	if (!rcnt)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "count arrays");
	for (int i = 0; i < n; i++) {
		rcnt[i] = mine;
		rdsp[i] = i * mine;
	}
	if (!(f = fold_new(t, mine, n, op, recvbuf, comm, fn))) {
		free(rcnt);
		return MPI_ERR_NO_MEM;
	}
	f->last = n - 1;
	f->count = mine;
	void *blocks = block(&f->b, 0);
	err = request ? PMPI_Ialltoallv(in, cnt, dsp, datatype, blocks, rcnt, rdsp, datatype,
					comm, request)
		      : PMPI_Alltoallv(in, cnt, dsp, datatype, blocks, rcnt, rdsp, datatype,
				       comm);
	free(rcnt);
	return fold_after(f, err, request);
}

/* Intercommunicator: each group reduces the other group's inputs (total
 * elements each, the sum of either group's recvcounts) and keeps this
 * rank's block of the result.  Every rank gets the remote group's whole
 * inputs (Allgather) and folds its own block of them. */
static int scatter_inter(MPI_Op op, const void *in, void *recvbuf, int total, int off,
			 int mine, int rn, struct shim_type *t, MPI_Datatype datatype,
			 MPI_Comm comm, const char *fn, MPI_Request *request)
{
	struct shim_fold *f;

	if (!(f = fold_new(t, total, rn, op, recvbuf, comm, fn)))
		return MPI_ERR_NO_MEM;
	f->last = rn - 1;
	f->count = mine;
	f->shift = (int64_t)off * t->extent;
	void *blocks = block(&f->b, 0);
	int err = request ? PMPI_Iallgather(in, total, datatype, blocks, total, datatype, comm,
					    request)
			  : PMPI_Allgather(in, total, datatype, blocks, total, datatype, comm);
	return fold_after(f, err, request);
}

int shim_opreduce_scatter(enum chan_call_id id, const char *fn, const void *sendbuf,
			  void *recvbuf, const int recvcounts[], int recvcount,
			  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
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
			err = scatter_inter(op, in, recvbuf, (int)at, dsp[cm->rank],
					    cnt[cm->rank], cm->remote_size, t, datatype, comm, fn,
					    request);
		else
			err = scatter_intra(op, in, recvbuf, cnt, dsp, cm->rank, n, t, datatype,
					    comm, fn, request);
	}
	free(cnt);
	return err;
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
		if (o->fn_c) {
			if (count > 0)
				shim_op_apply(o, inbuf, inoutbuf, count, datatype);
			return MPI_SUCCESS;
		}
		/* A function of int len sees chunks it can count. */
		int64_t limit = shim_redc_limit(), first;
		for (int64_t k = 0; k < shim_redc_nchunks(count, limit); k++) {
			int len = shim_redc_chunk(count, limit, k, &first);
			uintptr_t off = (uintptr_t)(first * t->extent);
			shim_op_apply(o, (const char *)inbuf + off, (char *)inoutbuf + off, len,
				      datatype);
		}
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
