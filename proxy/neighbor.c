/*
 * neighbor.c - neighbourhood collectives, proxy side (issued by
 * shim/neighbor.c).
 *
 * The communicator is a real topology communicator (proxy/topo.c), so
 * the real MPI knows the neighbours.  On graph and dist-graph
 * communicators each handler starts the nonblocking twin
 * (MPI_Ineighbor_*) and completes it in px_wait.  On Cartesian ones we
 * exchange the blocks ourselves, with nonblocking point-to-point calls on
 * a private duplicate of the communicator: Open MPI 4.1's
 * MPI_Ineighbor_alltoall mismatches the two blocks of a dimension whose
 * neighbours are one process (a periodic dimension of 2), while its
 * blocking form and MPICH get it right.  Block k goes to neighbour k
 * with tag k and arrives there as block k ^ 1 (the neighbour on the
 * other side), so a process that is both neighbours of a dimension
 * still gets each block in its place; MPI_PROC_NULL neighbours make the
 * calls no-ops, as the standard wants.
 *
 * COLL_REQ non-zero makes the call nonblocking (MPI_Ineighbor_*): the
 * real nonblocking collective is started into that request's slot, kept
 * with a copy of its arrays (px_icoll_track), and the call answered at
 * once.  A blocking call the shim detaches under MPI_THREAD_MULTIPLE
 * (COLL_DETACH, shim/mtwait.c) is started the same way under that
 * handle, so the proxy serves other threads' calls while it runs.  On a
 * Cartesian communicator that is only done where no dimension has one
 * process as both neighbours; elsewhere the exchange is done as for the
 * blocking call and the request's slot stays empty, so the request
 * completes at its first test.
 *
 * Slots are chan/coll.h's: COMM, SBUF, SCOUNT, STYPE, RBUF, RCOUNT,
 * RTYPE, ARRAYS (CHAN_OFF_NONE: the arrays are in inl, else the arena
 * offset of a block holding them), REQ, DETACH; NB_IN and NB_OUT carry the in-
 * and out-degree the shim computed from its topology record.  The arrays:
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

/* The request handle a nonblocking or detached call is kept under, or
 * 0 for a call completed before the reply. */
static int64_t nb_handle(const struct chan_call *c)
{
	return c->arg[COLL_REQ] ? c->arg[COLL_REQ] : c->arg[COLL_DETACH];
}

/* Where the real request goes: the slot of nb_handle, else local. */
static MPI_Request *nb_req(struct chan_call *c, MPI_Request *local)
{
	return nb_handle(c) ? px_req_slot(nb_handle(c)) : local;
}

/* The arrays of call c (bytes of them): the call's own for a call
 * completed before the reply, else a copy, which *keep then owns. */
static unsigned char *nb_keep_arrays(struct chan_call *c, size_t bytes, void **keep)
{
	*keep = NULL;
	if (!nb_handle(c))
		return nb_arrays(c);
	if (!(*keep = malloc(bytes ? bytes : 1)))
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for a neighbourhood collective");
	if (bytes)
		memcpy(*keep, nb_arrays(c), bytes);
	return *keep;
}

/* Started (rc): complete it and reply, or for a nonblocking or detached
 * call keep it with keep and reply at once. */
static void nb_finish(struct chan_call *c, int rc, MPI_Request *req, void *keep)
{
	if (nb_handle(c)) {
		if (rc == MPI_SUCCESS)
			rc = px_icoll_track(nb_handle(c), keep);
		else
			free(keep);
		px_reply(c, rc);
		return;
	}
	if (rc == MPI_SUCCESS)
		rc = px_wait(req, MPI_STATUS_IGNORE);
	free(keep);
	px_reply(c, rc);
}

/* ------------------------------------------------ Cartesian exchanges */

/* Private duplicates of Cartesian communicators, so our point-to-point
 * traffic never meets the application's.  Made on first use (every
 * member is in that call), freed with the communicator. */
struct shadow {
	int64_t abi;
	MPI_Comm dup;
	struct shadow *next;
};

static struct shadow *shadows;

static int shadow_of(int64_t abi, MPI_Comm comm, MPI_Comm *dup)
{
	struct shadow *s;
	MPI_Request r;

	for (s = shadows; s; s = s->next)
		if (s->abi == abi) {
			*dup = s->dup;
			return MPI_SUCCESS;
		}
	if (!(s = malloc(sizeof(*s))))
		return MPI_ERR_NO_MEM;
	int rc = MPI_Comm_idup(comm, &s->dup, &r);
	if (rc == MPI_SUCCESS)
		rc = px_wait(&r, MPI_STATUS_IGNORE);
	if (rc != MPI_SUCCESS) {
		free(s);
		return rc;
	}
	s->abi = abi;
	s->next = shadows;
	shadows = s;
	*dup = s->dup;
	return MPI_SUCCESS;
}

void px_neighbor_forget(int64_t abi)
{
	for (struct shadow **pp = &shadows; *pp; pp = &(*pp)->next)
		if ((*pp)->abi == abi) {
			struct shadow *s = *pp;
			*pp = s->next;
			MPI_Comm_free(&s->dup);
			free(s);
			return;
		}
}

/* One block of a neighbourhood exchange. */
struct blk {
	void *buf;
	int count;
	MPI_Datatype type;
};

static int is_cart(MPI_Comm comm)
{
	int t = MPI_UNDEFINED;

	MPI_Topo_test(comm, &t);
	return t == MPI_CART;
}

/* Does a dimension of Cartesian comm have one process as both
 * neighbours (the case the real nonblocking calls get wrong)? */
static int cart_doubled(MPI_Comm comm)
{
	int nd = 0, lo, hi;

	MPI_Cartdim_get(comm, &nd);
	for (int d = 0; d < nd; d++) {
		MPI_Cart_shift(comm, d, 1, &lo, &hi);
		if (lo == hi && lo != MPI_PROC_NULL)
			return 1;
	}
	return 0;
}

/* Exchange the blocks ourselves: a Cartesian communicator, unless the
 * call is nonblocking or detached and the real MPI gets it right. */
static int own_exchange(struct chan_call *c, MPI_Comm comm)
{
	return is_cart(comm) && (!nb_handle(c) || cart_doubled(comm));
}

/* Exchange n = 2 * ndims blocks each way with the Cartesian neighbours. */
static int cart_exchange(struct chan_call *c, MPI_Comm comm, int n, const struct blk *s,
			 const struct blk *r)
{
	MPI_Comm dup;
	int rc = shadow_of(c->arg[COLL_COMM], comm, &dup);

	if (rc != MPI_SUCCESS)
		return rc;
	int *nb = malloc((size_t)(n ? n : 1) * sizeof(int));
	MPI_Request *q = malloc((size_t)(n > 0 ? 2 * n : 1) * sizeof(*q));
	if (!nb || !q)
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for a neighbourhood collective");
	for (int k = 0; k < 2 * n; k++)
		q[k] = MPI_REQUEST_NULL;
	for (int d = 0; d < n / 2; d++)
		MPI_Cart_shift(comm, d, 1, &nb[2 * d], &nb[2 * d + 1]);
	for (int k = 0; k < n && rc == MPI_SUCCESS; k++)
		rc = MPI_Irecv(r[k].buf, r[k].count, r[k].type, nb[k], k ^ 1, dup, &q[k]);
	for (int k = 0; k < n && rc == MPI_SUCCESS; k++)
		rc = MPI_Isend(s[k].buf, s[k].count, s[k].type, nb[k], k, dup, &q[n + k]);
	/* Held like any collective, never abandoned (px_waitall gives way to
	 * PARK): every member was admitted, so it ends, and DRAIN waits for
	 * it.  Abandoned, it answered CHAN_RETRY, which the application saw
	 * as MPI_ERR_UNKNOWN after the resume and in every restart. */
	for (int k = 0; k < 2 * n && rc == MPI_SUCCESS; k++)
		rc = px_wait(&q[k], MPI_STATUS_IGNORE);
	/* A start or a completion failed: what we started must not outlive
	 * the error reply, or a receive left posted on the shadow would take
	 * the next exchange's message, and nothing would ever free it. */
	if (rc != MPI_SUCCESS) {
		px_take_back(n, q, 0);
		px_take_back(n, q + n, 1);
	}
	free(nb);
	free(q);
	return rc;
}

/* Blocks k of count elements of type t at buf + disp[k] * extent(t)
 * (disp NULL: k * count * extent). */
static void blocks(struct blk *b, int n, void *buf, const int *count, int one_count,
		   const int *disp, MPI_Datatype t)
{
	MPI_Aint lb, ext;

	MPI_Type_get_extent(t, &lb, &ext);
	for (int k = 0; k < n; k++) {
		b[k].count = count ? count[k] : one_count;
		b[k].type = t;
		MPI_Aint at = disp ? (MPI_Aint)disp[k] * ext : (MPI_Aint)k * one_count * ext;
		b[k].buf = buf ? (char *)buf + at : NULL;
	}
}

static struct blk *blk_alloc(int n)
{
	struct blk *b = malloc((size_t)(n ? n : 1) * sizeof(*b));

	if (!b)
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for a neighbourhood collective");
	return b;
}

#define SBUF nb_buf(c->arg[COLL_SBUF])
#define RBUF nb_buf(c->arg[COLL_RBUF])
#define SCOUNT ((int)c->arg[COLL_SCOUNT])
#define RCOUNT ((int)c->arg[COLL_RCOUNT])
#define STYPE px_type(c->arg[COLL_STYPE])
#define RTYPE px_type(c->arg[COLL_RTYPE])

/* The blocks of a call on a Cartesian communicator, then the exchange;
 * a nonblocking or detached call's request slot stays empty: complete. */
static void cart_call(struct chan_call *c, MPI_Comm comm, struct blk *s, struct blk *r)
{
	int rc = cart_exchange(c, comm, (int)c->arg[NB_IN], s, r);

	if (nb_handle(c))
		*px_req_slot(nb_handle(c)) = MPI_REQUEST_NULL;
	px_reply(c, rc);
	free(s);
	free(r);
}

void px_call_NEIGHBOR_ALLGATHER(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	int n = (int)c->arg[NB_IN];

	if (comm == MPI_COMM_NULL)
		return;
	if (!own_exchange(c, comm)) {
		MPI_Request *q = nb_req(c, &req);
		nb_finish(c, MPI_Ineighbor_allgather(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, comm,
						     q), q, NULL);
		return;
	}
	struct blk *s = blk_alloc(n), *r = blk_alloc(n);
	for (int k = 0; k < n; k++)
		s[k] = (struct blk){ SBUF, SCOUNT, STYPE };
	blocks(r, n, RBUF, NULL, RCOUNT, NULL, RTYPE);
	cart_call(c, comm, s, r);
}

void px_call_NEIGHBOR_ALLTOALL(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	int n = (int)c->arg[NB_IN];

	if (comm == MPI_COMM_NULL)
		return;
	if (!own_exchange(c, comm)) {
		MPI_Request *q = nb_req(c, &req);
		nb_finish(c, MPI_Ineighbor_alltoall(SBUF, SCOUNT, STYPE, RBUF, RCOUNT, RTYPE, comm,
						    q), q, NULL);
		return;
	}
	struct blk *s = blk_alloc(n), *r = blk_alloc(n);
	blocks(s, n, SBUF, NULL, SCOUNT, NULL, STYPE);
	blocks(r, n, RBUF, NULL, RCOUNT, NULL, RTYPE);
	cart_call(c, comm, s, r);
}

void px_call_NEIGHBOR_ALLGATHERV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	int n = (int)c->arg[NB_IN];
	void *keep;

	if (comm == MPI_COMM_NULL)
		return;
	const int *cnt = (const int *)(void *)nb_keep_arrays(c, 2 * (size_t)n * sizeof(int),
							     &keep), *dsp = cnt + n;
	if (!own_exchange(c, comm)) {
		MPI_Request *q = nb_req(c, &req);
		nb_finish(c, MPI_Ineighbor_allgatherv(SBUF, SCOUNT, STYPE, RBUF, cnt, dsp, RTYPE,
						      comm, q), q, keep);
		return;
	}
	struct blk *s = blk_alloc(n), *r = blk_alloc(n);
	for (int k = 0; k < n; k++)
		s[k] = (struct blk){ SBUF, SCOUNT, STYPE };
	blocks(r, n, RBUF, cnt, 0, dsp, RTYPE);
	cart_call(c, comm, s, r);
	free(keep);
}

void px_call_NEIGHBOR_ALLTOALLV(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	int in = (int)c->arg[NB_IN], out = (int)c->arg[NB_OUT];
	void *keep;

	if (comm == MPI_COMM_NULL)
		return;
	const int *scnt = (const int *)(void *)nb_keep_arrays(
		c, 2 * (size_t)(in + out) * sizeof(int), &keep);
	const int *sdsp = scnt + out, *rcnt = sdsp + out, *rdsp = rcnt + in;
	if (!own_exchange(c, comm)) {
		MPI_Request *q = nb_req(c, &req);
		nb_finish(c, MPI_Ineighbor_alltoallv(SBUF, scnt, sdsp, STYPE, RBUF, rcnt, rdsp,
						     RTYPE, comm, q), q, keep);
		return;
	}
	struct blk *s = blk_alloc(out), *r = blk_alloc(in);
	blocks(s, out, SBUF, scnt, 0, sdsp, STYPE);
	blocks(r, in, RBUF, rcnt, 0, rdsp, RTYPE);
	cart_call(c, comm, s, r);
	free(keep);
}

/* ALLTOALLW: the real MPI wants MPI_Aint displacements and real
 * datatypes; they and the counts must live until the collective
 * completes: one block, freed after px_wait or, for a nonblocking call,
 * kept with its request. */
void px_call_NEIGHBOR_ALLTOALLW(struct chan_call *c)
{
	MPI_Request req;
	MPI_Comm comm = nb_comm(c);
	int in = (int)c->arg[NB_IN], out = (int)c->arg[NB_OUT], n = in + out;
	unsigned char *a = nb_arrays(c);
	size_t wide = ((size_t)n * sizeof(int32_t) + 7) & ~(size_t)7;
	const int64_t *dsp = (const int64_t *)(void *)(a + wide), *typ = dsp + n;

	if (comm == MPI_COMM_NULL)
		return;
	size_t nn = (size_t)(n ? n : 1);
	unsigned char *keep = malloc(nn * (sizeof(MPI_Aint) + sizeof(MPI_Datatype) + sizeof(int)));
	if (!keep)
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for MPI_Neighbor_alltoallw");
	MPI_Aint *d = (MPI_Aint *)(void *)keep;
	MPI_Datatype *t = (MPI_Datatype *)(void *)(keep + nn * sizeof(MPI_Aint));
	int *scnt = (int *)(void *)(keep + nn * (sizeof(MPI_Aint) + sizeof(MPI_Datatype)));
	int *rcnt = scnt + out;
	memcpy(scnt, a, (size_t)n * sizeof(int));
	for (int i = 0; i < n; i++) {
		d[i] = (MPI_Aint)dsp[i];
		t[i] = px_type(typ[i]);
	}
	if (!own_exchange(c, comm)) {
		MPI_Request *q = nb_req(c, &req);
		nb_finish(c, MPI_Ineighbor_alltoallw(SBUF, scnt, d, t, RBUF, rcnt, d + out, t + out,
						     comm, q), q, keep);
		return;
	}
	struct blk *s = blk_alloc(out), *r = blk_alloc(in);
	for (int k = 0; k < out; k++)
		s[k] = (struct blk){ (char *)SBUF + d[k], scnt[k], t[k] };
	for (int k = 0; k < in; k++)
		r[k] = (struct blk){ (char *)RBUF + d[out + k], rcnt[k], t[out + k] };
	cart_call(c, comm, s, r);
	free(keep);
}
