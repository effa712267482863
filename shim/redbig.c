/*
 * redbig.c - the large-count reductions (MPI_Reduce_c, Allreduce_c,
 * Scan_c, Exscan_c, Reduce_scatter_block_c, Reduce_scatter_c and their
 * nonblocking twins), in chunks of at most INT_MAX elements.
 *
 * The channel's calls carry int counts, and the made type that lets the
 * other _c calls (shim/bigcount.c) pass any count cannot carry a
 * predefined operation.  But these reductions work element by element:
 * element i of the result depends only on element i of every input.  So
 * a count beyond the limit becomes consecutive calls of the int twin on
 * chunks of the buffers, chunk k starting k * limit * extent bytes into
 * each, and the results are exactly the unchunked ones, for predefined
 * and user operations alike (a user one is folded in the application,
 * shim/opreduce.c, chunk by chunk).  Every rank computes the same
 * chunks from the same count, so the chunks are the same collectives,
 * issued in the same order, on every member.
 *
 * Reduce_scatter(_block) with a block beyond the limit is one Reduce per
 * block, rooted at the rank that gets it, each in chunks.  With
 * MPI_IN_PLACE the root's input and output then lie in the same buffer
 * (output at 0, input at the block's displacement); a Reduce of the
 * shim stages its input before it writes any output, and a block's
 * input is read before any later root writes, so nothing is overwritten
 * before it is read.  On an intercommunicator that needs the other
 * group's layout: MPI_ERR_COUNT there.
 *
 * A nonblocking one starts all its chunks at once and hands the
 * application one generalized request of the shim's own
 * (shim_greq_start_polled) that completes when they all have; every
 * completion call polls it (shim/greq.c).  Across a checkpoint the
 * chunks are ordinary pending collectives.
 *
 * DMTCP_MPI_TEST_REDUCE_CHUNK=N (1 <= N <= INT_MAX) lowers the limit, so
 * that tests run the chunked path with small buffers
 * (mpi-tests/reduce_big.c); nothing else should set it.  It is read once,
 * at MPI_Init, and kept in application memory, so in every image: the
 * ranks must cut a reduction into the same chunks for the whole job, and
 * a restart replaces the image's DMTCP_MPI_* variables with its own
 * command's (ckpt/checkpoint.c), which need not have it.  Read at each
 * call, a rank that had started a chunked reduction before the image
 * went on in chunks after the restart while its peer, which had not, made
 * one unchunked call: wrong sums, MPI_ERR_TRUNCATE, or both proxies
 * waiting in collectives that never match, which the next checkpoint's
 * DRAIN cannot end (ckpt_all chain mode, reduce_big;
 * tests/ckpt-mpi/restart_redchunk.sh).
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ chunks */

int64_t shim_redc_limit_of(const char *env)
{
	char *end;
	long long v;

	if (!env || !*env)
		return INT_MAX;
	v = strtoll(env, &end, 10);
	return *end || v < 1 || v > INT_MAX ? INT_MAX : v;
}

static int64_t redc_limit = INT_MAX;

void shim_redc_limit_init(void)
{
	redc_limit = shim_redc_limit_of(getenv("DMTCP_MPI_TEST_REDUCE_CHUNK"));
}

int64_t shim_redc_limit(void)
{
	return redc_limit;
}

int64_t shim_redc_nchunks(int64_t count, int64_t limit)
{
	return count <= 0 ? 0 : (count - 1) / limit + 1;
}

int shim_redc_chunk(int64_t count, int64_t limit, int64_t k, int64_t *first)
{
	*first = k * limit;
	return (int)(count - *first < limit ? count - *first : limit);
}

/* Element i of a buffer of elements extent bytes apart (MPI_BOTTOM
 * included: its addresses are absolute); MPI_IN_PLACE stays itself. */
static void *at(const void *buf, int64_t i, int64_t extent)
{
	if (buf == MPI_IN_PLACE)
		return MPI_IN_PLACE;
	return (void *)((uintptr_t)buf + (uintptr_t)(i * extent));
}

/* ----------------------------------------- the chunks of a request */

struct chunks {
	int n;                  /* started so far */
	MPI_Request req[];
};

static int chunks_poll(void *extra, int wait, struct chan_status *st)
{
	struct chunks *c = extra;
	int flag = 1;
	int err = wait ? PMPI_Waitall(c->n, c->req, MPI_STATUSES_IGNORE)
		       : PMPI_Testall(c->n, c->req, &flag, MPI_STATUSES_IGNORE);

	if (!flag && !err)
		return 0;
	memset(st, 0, sizeof(*st));
	st->source = MPI_ANY_SOURCE;
	st->tag = MPI_ANY_TAG;
	st->error = err;
	return 1;
}

/* The record goes: chunks not waited for (MPI_Request_free of it) go too. */
static int chunks_free(void *extra)
{
	struct chunks *c = extra;

	for (int i = 0; i < c->n; i++)
		if (c->req[i] != MPI_REQUEST_NULL)
			PMPI_Request_free(&c->req[i]);
	free(c);
	return MPI_SUCCESS;
}

/* ------------------------------------------------- one reduction */

struct redc;
/* The int call on n elements from in to out (request: its nonblocking twin). */
typedef int chunk_fn(const void *in, void *out, int n, const struct redc *a,
		     MPI_Request *request);

struct redc {
	chunk_fn *call;
	MPI_Datatype type;
	MPI_Op op;
	int root;
	MPI_Comm comm;
	int64_t extent;
	struct chunks *nb;      /* nonblocking: its chunks; NULL: blocking */
};

static int extent_of(struct redc *a, const char *fn)
{
	struct shim_type *t = shim_type_get(a->type);

	if (!t)
		return shim_errorf(a->comm, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)a->type, shim_type_why(a->type));
	a->extent = t->extent;
	return MPI_SUCCESS;
}

static int nb_begin(struct redc *a, int64_t nchunks, const char *fn)
{
	a->nb = calloc(1, sizeof(*a->nb) + (size_t)nchunks * sizeof(MPI_Request));
	if (!a->nb)
		return shim_errorf(a->comm, MPI_ERR_NO_MEM, fn, "%lld chunk requests",
				   (long long)nchunks);
	return MPI_SUCCESS;
}

/* After the chunks started (err: the first failure, raised already):
 * the request that completes with them all, or their end. */
static int nb_end(struct redc *a, int err, MPI_Request *request, const char *fn)
{
	if (!err && (err = shim_greq_start_polled(chunks_poll, chunks_free, a->nb, a->comm,
						  request)))
		err = shim_error(a->comm, err, fn, "no memory for the request");
	if (err) {
		/* Started chunks are collectives the others go on with. */
		PMPI_Waitall(a->nb->n, a->nb->req, MPI_STATUSES_IGNORE);
		free(a->nb);
	}
	return err;
}

/* count elements from in to out, chunk after chunk. */
static int run(struct redc *a, const void *in, void *out, int64_t count)
{
	int64_t limit = shim_redc_limit(), first;
	int64_t n = shim_redc_nchunks(count, limit);

	for (int64_t k = 0; k < n; k++) {
		int len = shim_redc_chunk(count, limit, k, &first);
		MPI_Request *req = a->nb ? &a->nb->req[a->nb->n] : NULL;
		int err = a->call(at(in, first, a->extent), at(out, first, a->extent), len, a,
				  req);
		if (err)
			return err;
		if (a->nb)
			a->nb->n++;
	}
	return MPI_SUCCESS;
}

/* Reduce, Allreduce, Scan, Exscan: one run over count elements. */
static int reduction(chunk_fn *call, const char *fn, const void *sendbuf, void *recvbuf,
		     MPI_Count count, MPI_Datatype type, MPI_Op op, int root, MPI_Comm comm,
		     MPI_Request *request)
{
	struct redc a = { call, type, op, root, comm, 0, NULL };
	int64_t limit = shim_redc_limit();
	int err;

	if (count <= limit) /* a negative one too: the int call raises it */
		return call(sendbuf, recvbuf, count < INT_MIN ? -1 : (int)count, &a, request);
	if ((err = extent_of(&a, fn)))
		return err;
	if (request && (err = nb_begin(&a, shim_redc_nchunks(count, limit), fn)))
		return err;
	err = run(&a, sendbuf, recvbuf, count);
	return request ? nb_end(&a, err, request, fn) : err;
}

/* Reduce_scatter(_block) with block q of counts[q] elements: one Reduce
 * per block, rooted at q (see the top of the file). */
static int scatter_reduces(chunk_fn *call, const char *fn, const void *sendbuf,
			   void *recvbuf, const int64_t *counts, MPI_Datatype type, MPI_Op op,
			   MPI_Comm comm, MPI_Request *request)
{
	struct shim_comm *c = shim_comm_get(comm);
	struct redc a = { call, type, op, 0, comm, 0, NULL };
	int64_t limit = shim_redc_limit(), nchunks = 0, disp = 0;
	const void *in = sendbuf == MPI_IN_PLACE ? recvbuf : sendbuf;
	int err;

	if (c->remote)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "blocks of more than %lld elements "
				   "on an intercommunicator are not supported", (long long)limit);
	for (int q = 0; q < c->size; q++) {
		if (counts[q] < 0)
			return shim_errorf(comm, MPI_ERR_COUNT, fn, "count %lld of rank %d",
					   (long long)counts[q], q);
		nchunks += shim_redc_nchunks(counts[q], limit);
	}
	if ((err = extent_of(&a, fn)) || (request && (err = nb_begin(&a, nchunks, fn))))
		return err;
	for (int q = 0; q < c->size && !err; q++) {
		const void *src = at(in, disp, a.extent);
		if (q == c->rank && sendbuf == MPI_IN_PLACE && disp == 0)
			src = MPI_IN_PLACE;
		a.root = q;
		err = run(&a, src, recvbuf, counts[q]);
		disp += counts[q];
	}
	return request ? nb_end(&a, err, request, fn) : err;
}

/* ------------------------------------------------- the int calls */

static int reduce_1(const void *in, void *out, int n, const struct redc *a, MPI_Request *r)
{
	return r ? PMPI_Ireduce(in, out, n, a->type, a->op, a->root, a->comm, r)
		 : PMPI_Reduce(in, out, n, a->type, a->op, a->root, a->comm);
}

static int allreduce_1(const void *in, void *out, int n, const struct redc *a,
		       MPI_Request *r)
{
	return r ? PMPI_Iallreduce(in, out, n, a->type, a->op, a->comm, r)
		 : PMPI_Allreduce(in, out, n, a->type, a->op, a->comm);
}

static int scan_1(const void *in, void *out, int n, const struct redc *a, MPI_Request *r)
{
	return r ? PMPI_Iscan(in, out, n, a->type, a->op, a->comm, r)
		 : PMPI_Scan(in, out, n, a->type, a->op, a->comm);
}

static int exscan_1(const void *in, void *out, int n, const struct redc *a, MPI_Request *r)
{
	return r ? PMPI_Iexscan(in, out, n, a->type, a->op, a->comm, r)
		 : PMPI_Exscan(in, out, n, a->type, a->op, a->comm);
}

/* ------------------------------------------------ the _c functions */

#define NOROOT 0
#define NOREQ NULL

int PMPI_Reduce_c(const void *sendbuf, void *recvbuf, MPI_Count count, MPI_Datatype datatype,
		  MPI_Op op, int root, MPI_Comm comm)
{
	return reduction(reduce_1, "MPI_Reduce_c", sendbuf, recvbuf, count, datatype, op, root,
			 comm, NOREQ);
}
SHIM_WEAK(Reduce_c)

int PMPI_Ireduce_c(const void *sendbuf, void *recvbuf, MPI_Count count,
		   MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm,
		   MPI_Request *request)
{
	return reduction(reduce_1, "MPI_Ireduce_c", sendbuf, recvbuf, count, datatype, op,
			 root, comm, request);
}
SHIM_WEAK(Ireduce_c)

/* Allreduce, Scan, Exscan and their nonblocking twins: no root. */
#define ROOTLESS_C(Name, IName, call)                                                         \
	int PMPI_##Name##_c(const void *sendbuf, void *recvbuf, MPI_Count count,       \
			    MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)            \
	{                                                                              \
		return reduction(call, "MPI_" #Name "_c", sendbuf, recvbuf, count,     \
				 datatype, op, NOROOT, comm, NOREQ);                   \
	}                                                                              \
	SHIM_WEAK(Name##_c)                                                            \
	int PMPI_##IName##_c(const void *sendbuf, void *recvbuf, MPI_Count count,      \
			     MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,           \
			     MPI_Request *request)                                      \
	{                                                                              \
		return reduction(call, "MPI_" #IName "_c", sendbuf, recvbuf, count,    \
				 datatype, op, NOROOT, comm, request);                 \
	}                                                                              \
	SHIM_WEAK(IName##_c)

ROOTLESS_C(Allreduce, Iallreduce, allreduce_1)
ROOTLESS_C(Scan, Iscan, scan_1)
ROOTLESS_C(Exscan, Iexscan, exscan_1)

static int rsb(const char *fn, const void *sendbuf, void *recvbuf, MPI_Count recvcount,
	       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
	struct shim_comm *c = shim_comm_get(comm);

	if (!c || recvcount <= shim_redc_limit()) {
		int n = recvcount < INT_MIN ? -1 : (int)recvcount;
		return request ? PMPI_Ireduce_scatter_block(sendbuf, recvbuf, n, datatype, op,
							    comm, request)
			       : PMPI_Reduce_scatter_block(sendbuf, recvbuf, n, datatype, op,
							   comm);
	}
	int64_t *counts = malloc((size_t)c->size * sizeof(int64_t));
	if (!counts)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	for (int q = 0; q < c->size; q++)
		counts[q] = recvcount;
	int err = scatter_reduces(reduce_1, fn, sendbuf, recvbuf, counts, datatype, op, comm,
				  request);
	free(counts);
	return err;
}

int PMPI_Reduce_scatter_block_c(const void *sendbuf, void *recvbuf, MPI_Count recvcount,
				MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return rsb("MPI_Reduce_scatter_block_c", sendbuf, recvbuf, recvcount, datatype, op,
		   comm, NOREQ);
}
SHIM_WEAK(Reduce_scatter_block_c)

int PMPI_Ireduce_scatter_block_c(const void *sendbuf, void *recvbuf, MPI_Count recvcount,
				 MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
				 MPI_Request *request)
{
	return rsb("MPI_Ireduce_scatter_block_c", sendbuf, recvbuf, recvcount, datatype, op,
		   comm, request);
}
SHIM_WEAK(Ireduce_scatter_block_c)

/* Reduce_scatter: the int call when every block is within the limit
 * (their sum need not be), one Reduce per block otherwise. */
static int rs(const char *fn, const void *sendbuf, void *recvbuf,
	      const MPI_Count recvcounts[], MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
	      MPI_Request *request)
{
	struct shim_comm *c = shim_comm_get(comm);
	int n = c && recvcounts ? c->size : 0, big = 0, err;
	int *ints = malloc((size_t)(n ? n : 1) * sizeof(int));

	if (!ints)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	for (int q = 0; q < n; q++) {
		big |= recvcounts[q] > shim_redc_limit();
		ints[q] = recvcounts[q] < INT_MIN || recvcounts[q] > INT_MAX
				  ? -1 : (int)recvcounts[q];
	}
	if (big)
		err = scatter_reduces(reduce_1, fn, sendbuf, recvbuf,
				      (const int64_t *)(const void *)recvcounts, datatype, op,
				      comm, request);
	else if (request)
		err = PMPI_Ireduce_scatter(sendbuf, recvbuf, n ? ints : NULL, datatype, op, comm,
					   request);
	else
		err = PMPI_Reduce_scatter(sendbuf, recvbuf, n ? ints : NULL, datatype, op, comm);
	free(ints);
	return err;
}

int PMPI_Reduce_scatter_c(const void *sendbuf, void *recvbuf, const MPI_Count recvcounts[],
			  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return rs("MPI_Reduce_scatter_c", sendbuf, recvbuf, recvcounts, datatype, op, comm,
		  NOREQ);
}
SHIM_WEAK(Reduce_scatter_c)

int PMPI_Ireduce_scatter_c(const void *sendbuf, void *recvbuf, const MPI_Count recvcounts[],
			   MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
			   MPI_Request *request)
{
	return rs("MPI_Ireduce_scatter_c", sendbuf, recvbuf, recvcounts, datatype, op, comm,
		  request);
}
SHIM_WEAK(Ireduce_scatter_c)
