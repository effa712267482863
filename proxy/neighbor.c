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
 * calls no-ops, as the standard wants.  Each exchange on a communicator
 * has tags of its own (tag_base), so two of them outstanding at once
 * never take each other's messages, whatever order they are posted in.
 *
 * COLL_REQ non-zero makes the call nonblocking (MPI_Ineighbor_*): the
 * real nonblocking collective is started into that request's slot, kept
 * with a copy of its arrays (px_icoll_track), and the call answered at
 * once.  A blocking call the shim detaches under MPI_THREAD_MULTIPLE
 * (COLL_DETACH, shim/mtwait.c) is started the same way under that
 * handle, so the proxy serves other threads' calls while it runs.  On a
 * Cartesian communicator that is only done where no dimension has one
 * process as both neighbours.  Elsewhere a nonblocking or detached
 * call's exchange of ours is started under that handle as a generalized
 * request, which the proxy steps whenever it tests or waits
 * (cart_started); a persistent one is a nonblocking one per MPI_Start
 * (shim/pcoll.c).
 *
 * Slots are chan/coll.h's: COMM, SBUF, SCOUNT, STYPE, RBUF, RCOUNT,
 * RTYPE, ARRAYS (CHAN_OFF_NONE: the arrays are in inl, else the arena
 * offset of a block holding them), REQ, DETACH; NB_IN and NB_OUT carry
 * the in- and out-degree the shim computed from its topology record.
 * The arrays:
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
			rc = px_icoll_track(nb_handle(c), keep, NULL);
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
 * member is in that call), freed with the communicator.  The dup is
 * started there and, for a started exchange, completed as it is
 * stepped: waiting for it at once would keep the proxy from other
 * threads' calls while the other members may still be busy with theirs. */
struct shadow {
	int64_t abi;
	MPI_Comm dup;
	MPI_Request idup;       /* the dup still running, or MPI_REQUEST_NULL */
	uint32_t seq;           /* exchanges started on it */
	struct shadow *next;
};

static struct shadow *shadows;

/* comm's shadow, its dup started if new; NULL after a failed start. */
static struct shadow *shadow_start(int64_t abi, MPI_Comm comm, int *rc)
{
	struct shadow *s;

	*rc = MPI_SUCCESS;
	for (s = shadows; s; s = s->next)
		if (s->abi == abi)
			return s;
	if (!(s = malloc(sizeof(*s)))) {
		*rc = MPI_ERR_NO_MEM;
		return NULL;
	}
	if ((*rc = MPI_Comm_idup(comm, &s->dup, &s->idup)) != MPI_SUCCESS) {
		free(s);
		return NULL;
	}
	s->abi = abi;
	s->seq = 0;
	s->next = shadows;
	shadows = s;
	return s;
}

/* An exchange still waiting for the shadow's dup (the application may
 * free a communicator with a nonblocking collective pending) is posted
 * here, once the dup is made: the real MPI_Comm_free lets what is posted
 * on the dup complete, and the exchange needs the shadow no more. */
void px_neighbor_forget(int64_t abi)
{
	for (struct shadow **pp = &shadows; *pp; pp = &(*pp)->next)
		if ((*pp)->abi == abi) {
			struct shadow *s = *pp;
			if (s->idup != MPI_REQUEST_NULL)
				px_wait(&s->idup, MPI_STATUS_IGNORE);
			px_icoll_step();
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

/* Neighbour k (0 <= k < 2 * ndims) of Cartesian comm: the lower, then
 * the upper one of each dimension. */
static int cart_neighbor(MPI_Comm comm, int k)
{
	int lo = MPI_PROC_NULL, hi = MPI_PROC_NULL;

	MPI_Cart_shift(comm, k / 2, 1, &lo, &hi);
	return k % 2 ? hi : lo;
}

/* The first tag of the next exchange of n blocks on shadow s.  Every
 * member starts the exchanges of a communicator in one order, so they
 * agree on it; an exchange waiting for the dup may be posted after a
 * later one that did not wait.  32767 is the least MPI_TAG_UB there is;
 * tags repeat only after that many blocks' worth of exchanges. */
static int tag_base(struct shadow *s, int n)
{
	uint32_t per = n > 0 ? (uint32_t)n : 1, slots = (32767u + 1) / per;

	return (int)(s->seq++ % (slots ? slots : 1) * per);
}

/* Start the exchange of n = 2 * ndims blocks each way on comm's shadow
 * dup with tags tag..tag + n - 1 into q[2 * n] (receives, then sends;
 * all MPI_REQUEST_NULL before). */
static int cart_post(MPI_Comm comm, MPI_Comm dup, int tag, int n, const struct blk *s,
		     const struct blk *r, MPI_Request *q)
{
	int rc = MPI_SUCCESS;

	for (int k = 0; k < n && rc == MPI_SUCCESS; k++)
		rc = MPI_Irecv(r[k].buf, r[k].count, r[k].type, cart_neighbor(comm, k),
			       tag + (k ^ 1), dup, &q[k]);
	for (int k = 0; k < n && rc == MPI_SUCCESS; k++)
		rc = MPI_Isend(s[k].buf, s[k].count, s[k].type, cart_neighbor(comm, k), tag + k,
			       dup, &q[n + k]);
	return rc;
}

/* A start or a completion failed: what we started must not outlive the
 * error reply, or a receive left posted on the shadow would take the
 * next exchange's message, and nothing would ever free it. */
static void cart_take_back(int n, MPI_Request *q)
{
	px_take_back(n, q, 0);
	px_take_back(n, q + n, 1);
}

/* Exchange n = 2 * ndims blocks each way with the Cartesian neighbours,
 * before the reply. */
static int cart_exchange(struct chan_call *c, MPI_Comm comm, int n, const struct blk *s,
			 const struct blk *r)
{
	int rc;
	struct shadow *sh = shadow_start(c->arg[COLL_COMM], comm, &rc);

	if (!sh)
		return rc;
	int tag = tag_base(sh, n);
	if (sh->idup != MPI_REQUEST_NULL &&
	    (rc = px_wait(&sh->idup, MPI_STATUS_IGNORE)) != MPI_SUCCESS)
		return rc;
	MPI_Request *q = malloc((size_t)(n > 0 ? 2 * n : 1) * sizeof(*q));
	if (!q)
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for a neighbourhood collective");
	for (int k = 0; k < 2 * n; k++)
		q[k] = MPI_REQUEST_NULL;
	rc = cart_post(comm, sh->dup, tag, n, s, r, q);
	/* Held like any collective, never abandoned (px_waitall gives way to
	 * PARK): every member was admitted, so it ends, and DRAIN waits for
	 * it.  Abandoned, it answered CHAN_RETRY, which the application saw
	 * as MPI_ERR_UNKNOWN after the resume and in every restart. */
	for (int k = 0; k < 2 * n && rc == MPI_SUCCESS; k++)
		rc = px_wait(&q[k], MPI_STATUS_IGNORE);
	if (rc != MPI_SUCCESS)
		cart_take_back(n, q);
	free(q);
	return rc;
}

/* -------------------------------------- started Cartesian exchanges */

/* A nonblocking call (COLL_REQ), or a blocking one the shim detached
 * (COLL_DETACH), on a Cartesian communicator where we exchange the
 * blocks ourselves.  Completing it before the reply would hold the
 * application's call (no overlap for a nonblocking one) and keep the
 * proxy from the calls of the rank's other threads, which the other
 * members may be waiting for.  So its request's slot holds a generalized
 * request that we complete once the shadow's dup and then the
 * point-to-point requests have, as the proxy steps it (xchg_poll,
 * through px_icoll_step: every test call and wait loop, and DRAIN's
 * count).  One allocation, kept with the request (px_icoll_track) and
 * freed at its completion. */
struct xchg {
	int64_t req;            /* the shim's handle */
	MPI_Comm comm;
	struct shadow *shadow;  /* until posted (px_neighbor_forget) */
	int tag;                /* the first of its tags (tag_base) */
	int n;                  /* blocks each way */
	int posted;             /* the point-to-point requests are started */
	int done;               /* the generalized request is complete */
	int rc;                 /* what it completes with */
	struct blk *s, *r;      /* n each, after this struct */
	MPI_Request *q;         /* 2 * n, after them */
};

static int xchg_query(void *extra, MPI_Status *st)
{
	MPI_Status_set_elements(st, MPI_BYTE, 0);
	MPI_Status_set_cancelled(st, 0);
	st->MPI_SOURCE = MPI_UNDEFINED;
	st->MPI_TAG = MPI_UNDEFINED;
	return ((const struct xchg *)extra)->rc;
}

static void xchg_end(struct xchg *x, int rc)
{
	x->rc = rc;
	x->done = 1;
	MPI_Grequest_complete(*px_req_slot(x->req));
}

/* 1 once shadow s can carry messages; *rc says why not otherwise. */
static int shadow_ready(struct shadow *s, int *rc)
{
	int flag = 1;

	*rc = MPI_SUCCESS;
	if (s->idup != MPI_REQUEST_NULL)
		*rc = MPI_Test(&s->idup, &flag, MPI_STATUS_IGNORE);
	return *rc == MPI_SUCCESS && flag;
}

/* Test each of q[n]; *all when every one is complete. */
static int test_each(int n, MPI_Request *q, int *all)
{
	int rc = MPI_SUCCESS;

	*all = 1;
	for (int k = 0; k < n && rc == MPI_SUCCESS; k++) {
		int flag = 1;
		if (q[k] != MPI_REQUEST_NULL)
			rc = MPI_Test(&q[k], &flag, MPI_STATUS_IGNORE);
		*all &= flag;
	}
	return rc;
}

static void xchg_poll(void *keep)
{
	struct xchg *x = keep;
	int rc, flag = 0;

	if (x->done)
		return;
	if (!x->posted) {
		if (!shadow_ready(x->shadow, &rc)) {
			if (rc != MPI_SUCCESS)
				xchg_end(x, rc);
			return;
		}
		x->posted = 1;
		if ((rc = cart_post(x->comm, x->shadow->dup, x->tag, x->n, x->s, x->r, x->q)) !=
		    MPI_SUCCESS) {
			cart_take_back(x->n, x->q);
			xchg_end(x, rc);
			return;
		}
	}
	rc = test_each(2 * x->n, x->q, &flag);
	if (rc != MPI_SUCCESS)
		cart_take_back(x->n, x->q);
	if (rc != MPI_SUCCESS || flag)
		xchg_end(x, rc);
}

static struct xchg *xchg_new(struct chan_call *c, MPI_Comm comm, struct shadow *sh, int n,
			     const struct blk *s, const struct blk *r)
{
	size_t nn = (size_t)(n ? n : 1);
	struct xchg *x = malloc(sizeof(*x) + 2 * nn * (sizeof(struct blk) + sizeof(MPI_Request)));

	if (!x)
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for a neighbourhood collective");
	*x = (struct xchg){ .req = nb_handle(c), .comm = comm, .shadow = sh, .n = n };
	x->s = (struct blk *)(void *)(x + 1);
	x->r = x->s + nn;
	x->q = (MPI_Request *)(void *)(x->r + nn);
	memcpy(x->s, s, (size_t)n * sizeof(*s));
	memcpy(x->r, r, (size_t)n * sizeof(*r));
	for (int k = 0; k < 2 * n; k++)
		x->q[k] = MPI_REQUEST_NULL;
	return x;
}

/* Start a nonblocking or detached exchange (or its shadow's dup) and
 * reply at once. */
static void cart_started(struct chan_call *c, MPI_Comm comm, const struct blk *s,
			 const struct blk *r)
{
	int rc, n = (int)c->arg[NB_IN];
	struct shadow *sh = shadow_start(c->arg[COLL_COMM], comm, &rc);

	if (!sh) {
		px_reply(c, rc);
		return;
	}
	struct xchg *x = xchg_new(c, comm, sh, n, s, r);
	MPI_Request *slot = px_req_slot(x->req);
	int64_t req = x->req;

	x->tag = tag_base(sh, n);
	/* x is freed with the request's record (px_icoll_done), and the
	 * exchange is never cancelled: every member was admitted. */
	if ((rc = MPI_Grequest_start(xchg_query, px_greq_free_nothing, px_greq_cancel_nothing, x,
				     slot)) != MPI_SUCCESS) {
		free(x);
		px_reply(c, rc);
		return;
	}
	if ((rc = px_icoll_track(req, x, xchg_poll)) != MPI_SUCCESS) { /* x freed */
		slot = px_req_slot(req);
		MPI_Grequest_complete(*slot);
		MPI_Request_free(slot);
	} else {
		xchg_poll(x);
	}
	px_reply(c, rc);
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

/* The blocks of a call on a Cartesian communicator, then the exchange:
 * started under the request's handle for a nonblocking or detached
 * call, else done before the reply. */
static void cart_call(struct chan_call *c, MPI_Comm comm, struct blk *s, struct blk *r)
{
	if (nb_handle(c))
		cart_started(c, comm, s, r);
	else
		px_reply(c, cart_exchange(c, comm, (int)c->arg[NB_IN], s, r));
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
