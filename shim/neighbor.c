/*
 * neighbor.c - neighbourhood collectives, application side.
 *
 * Previous hop: the application.  Next hop: shim/call.c, then
 * proxy/neighbor.c, which runs the real MPI_Ineighbor_* on the real
 * topology communicator.
 *
 * The buffers' sizes follow from the topology record (shim/topo.c): a
 * Cartesian process has 2 * ndims neighbours each way (MPI_PROC_NULL ones
 * included), a graph node its neighbours, a dist-graph node its in- and
 * out-degree.  Each buffer is described as blocks (byte offset, length)
 * relative to the user's pointer: one block for the plain variants, one
 * per neighbour for the v and w variants, so the gaps between blocks are
 * never written.  The real MPI leaves the receive block of an
 * MPI_PROC_NULL neighbour (off a non-periodic Cartesian edge) alone, so
 * that block is not staged nor copied back.  All blocks of a call, and
 * the count/displacement
 * arrays when they do not fit inline, share ONE arena block; a receive
 * block whose datatype has holes is copied in first so the holes come
 * back unchanged.  A buffer whose blocks all lie inside one MPI_Alloc_mem
 * block goes to the real MPI where it is (buf_borrow, shim/mem.c), as
 * for the other collectives: nothing staged, nothing copied.  MPI_IN_PLACE
 * does not exist for these calls.
 *
 * Argument slots are chan/coll.h's plus the degrees (layout at the top
 * of proxy/neighbor.c).
 *
 * The nonblocking forms (MPI_Ineighbor_*) plan and stage exactly as the
 * blocking ones and send the same call with COLL_REQ set: the proxy
 * starts the real MPI_Ineighbor_* under the request's handle and answers
 * at once.  The request keeps the receive blocks and the staged block
 * (struct shim_nbkeep) and copies the blocks out when it completes
 * (shim_neighbor_complete, from shim/icoll.c's completion); across a
 * checkpoint it is a pending nonblocking collective like the others
 * (shim/icoll.c).  That holds on a Cartesian communicator where the
 * proxy exchanges the blocks itself (a dimension whose two neighbours
 * are one process, see proxy/neighbor.c) too: the proxy starts the
 * exchange under the request and steps it in every completion call.
 *
 * Under MPI_THREAD_MULTIPLE a blocking call does not keep the call slot
 * while it waits for its neighbours (shim_coll_run, shim/mtwait.c): the
 * proxy starts it under a request of ours and we poll, as for the other
 * blocking collectives, so two threads' calls on two communicators
 * entered in different orders on two ranks cannot wait for each other.
 * That includes the Cartesian exchange above, which the proxy then
 * steps at each poll (proxy/neighbor.c, cart_started).
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "chan/coll.h"
#include "util/grow.h"

#define ABI(h) ((int64_t)(intptr_t)(h))
#define NB_IN COLL_NARGS
#define NB_OUT (COLL_NARGS + 1)

/* One buffer of a call. */
struct nb_buf {
	const void *user;
	int n;                  /* blocks */
	int64_t *off, *len;     /* block i: bytes [off, off + len) of user */
	int64_t lo, hi;         /* span of all blocks */
	int in, out;            /* copy blocks in before / out after the call */
	int64_t arg;            /* arena offset of user byte 0's image, or NONE */
};

struct nb_plan {
	struct nb_buf b[2];     /* send, receive */
	unsigned char *arr;     /* arrays for the proxy, laid out as it reads them */
	size_t arr_len, arr_cap;
	struct shim_stage st;
	MPI_Comm comm;
	MPI_Request *request;   /* nonblocking: where its handle goes, ... */
	struct shim_req *req;   /* ... its record and what it keeps, made */
	struct shim_nbkeep *keep; /* before admission so nothing fails after */
};

/* What a pending nonblocking one copies out at completion. */
struct shim_nbkeep {
	struct nb_buf out;
};

static void plan_init(struct nb_plan *p, MPI_Comm comm, MPI_Request *request)
{
	memset(p, 0, sizeof(*p));
	p->st.off = ARENA_NONE;
	p->b[0].arg = p->b[1].arg = CHAN_OFF_NONE;
	p->comm = comm;
	p->request = request;
}

static void plan_free(struct nb_plan *p)
{
	for (int i = 0; i < 2; i++) {
		free(p->b[i].off);
		free(p->b[i].len);
	}
	free(p->arr);
	free(p->keep);
	shim_stage_free(&p->st);
}

/* Room for n blocks in buffer b; MPI_ERR_NO_MEM. */
static int buf_blocks(struct nb_buf *b, const void *user, int n, int in, int out)
{
	b->user = user;
	b->n = n;
	b->in = in;
	b->out = out;
	b->off = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
	b->len = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
	return b->off && b->len ? MPI_SUCCESS : MPI_ERR_NO_MEM;
}

static uint64_t align_up(uint64_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(uint64_t)(ARENA_ALIGN - 1);
}

static void buf_span(struct nb_buf *b)
{
	int first = 1;

	b->lo = b->hi = 0;
	for (int i = 0; i < b->n; i++) {
		if (b->len[i] <= 0)
			continue;
		if (first || b->off[i] < b->lo)
			b->lo = b->off[i];
		if (first || b->off[i] + b->len[i] > b->hi)
			b->hi = b->off[i] + b->len[i];
		first = 0;
	}
}

static void buf_copy(const struct nb_buf *b, int out)
{
	unsigned char *img = chan_arena_ptr(&shim.ch, (uint64_t)b->arg);
	unsigned char *user = (unsigned char *)(uintptr_t)b->user;

	for (int i = 0; i < b->n; i++)
		if (b->len[i] > 0) {
			if (out)
				memcpy(user + b->off[i], img + b->off[i], (size_t)b->len[i]);
			else
				memcpy(img + b->off[i], user + b->off[i], (size_t)b->len[i]);
		}
}

/* Blocks all inside one MPI_Alloc_mem block: the real MPI uses them
 * where they are, so b is neither staged nor copied; 1 if so.  Never
 * when the base would read as a sentinel. */
static int buf_borrow(struct nb_buf *b)
{
	int64_t base = (int64_t)((uintptr_t)b->user - (uintptr_t)shim.ch.arena);

	if (b->hi <= b->lo || base == CHAN_OFF_NONE || base == CHAN_OFF_IN_PLACE ||
	    !shim_mem_in_arena((const void *)((uintptr_t)b->user + (uintptr_t)b->lo),
			       (uint64_t)(b->hi - b->lo)))
		return 0;
	b->arg = base;
	b->in = b->out = 0;
	return 1;
}

/* One arena block for both buffers not borrowed and (when too big for
 * inl) the arrays; copies the inputs in. */
static int plan_stage(struct nb_plan *p, const char *fn)
{
	uint64_t total = 0, at;
	int err, borrowed[2];

	for (int i = 0; i < 2; i++) {
		buf_span(&p->b[i]);
		borrowed[i] = buf_borrow(&p->b[i]);
		if (!borrowed[i] && p->b[i].hi > p->b[i].lo)
			total += align_up((uint64_t)(p->b[i].hi - p->b[i].lo));
	}
	if (p->arr_len > CHAN_INLINE_SIZE)
		total += p->arr_len;
	if (total && (err = shim_stage_alloc(&p->st, total, fn)))
		return err;
	at = p->st.off;
	for (int i = 0; i < 2; i++) {
		struct nb_buf *b = &p->b[i];
		if (borrowed[i] || b->hi <= b->lo)
			continue;
		b->arg = (int64_t)(at - (uint64_t)b->lo);
		at += align_up((uint64_t)(b->hi - b->lo));
		if (b->in)
			buf_copy(b, 0);
	}
	if (p->request && (!(p->keep = malloc(sizeof(*p->keep))) ||
			   !(p->req = shim_req_new_user(SHIM_REQ_COLL, p->comm))))
		return MPI_ERR_NO_MEM;
	return MPI_SUCCESS;
}

/* The receive blocks of MPI_PROC_NULL neighbours are not the call's to
 * write. */
/* Block i of b: count elements of t placed at byte at.  Their data may
 * start before at (a datatype's lower bound) or end past count extents
 * (its true extent), so the block is their span (shim_type_span). */
static void block_of(struct nb_buf *b, int i, int64_t at, int64_t count, MPI_Datatype t)
{
	int64_t lo = 0, hi = 0;

	shim_type_span(shim_type_get(t), count, &lo, &hi);
	b->off[i] = at + lo;
	b->len[i] = hi - lo;
}

/* A receive block of t has bytes that are not data: copy them in first
 * so they come back unchanged. */
static int has_holes(MPI_Datatype t)
{
	return !shim_type_get(t)->contig;
}

static void skip_proc_null(struct nb_buf *b, const struct shim_comm *c)
{
	for (int i = 0; i < b->n; i++)
		if (shim_topo_in_neighbor(c, i) == MPI_PROC_NULL)
			b->len[i] = 0;
}

/* A nonblocking call: the request takes the receive blocks and the
 * staged block before the call runs (under the slot lock, so a
 * checkpoint counts it as started in the proxy only with them). */
static int run_nonblocking(struct nb_plan *p, struct chan_call *c)
{
	struct shim_req *r = p->req;
	struct shim_nbkeep *k = p->keep;

	p->keep = NULL;
	k->out = p->b[1];
	p->b[1].off = p->b[1].len = NULL;
	r->nb = k;
	r->stage = p->st;
	p->st.off = ARENA_NONE;
	c->arg[COLL_REQ] = ABI(r->handle);
	int err = shim_call_run(c);
	if (err != MPI_SUCCESS) /* not pending for a checkpoint any more */
		shim_neighbor_complete(r, NULL);
	shim_call_end();
	if (err != MPI_SUCCESS) {
		shim_req_complete(r, NULL);
		return err;
	}
	*p->request = r->handle;
	return MPI_SUCCESS;
}

/* Run call c with plan p; ends the call, copies results out (or hands
 * them to the request), frees p. */
static int plan_run(struct nb_plan *p, struct chan_call *c, int in, int out)
{
	int err;

	c->arg[COLL_SBUF] = p->b[0].arg;
	c->arg[COLL_RBUF] = p->b[1].arg;
	c->arg[NB_IN] = in;
	c->arg[NB_OUT] = out;
	c->arg[COLL_ARRAYS] = CHAN_OFF_NONE;
	if (p->arr_len > CHAN_INLINE_SIZE) {
		uint64_t off = p->st.off + p->st.len - p->arr_len;
		memcpy(chan_arena_ptr(&shim.ch, off), p->arr, p->arr_len);
		c->arg[COLL_ARRAYS] = (int64_t)off;
	} else if (p->arr_len) {
		memcpy(c->inl, p->arr, p->arr_len);
		c->inl_len = (uint32_t)p->arr_len;
	}
	if (p->req) {
		err = run_nonblocking(p, c);
	} else {
		err = shim_coll_run(c);
		if (err == MPI_SUCCESS && p->b[1].out && p->b[1].arg != CHAN_OFF_NONE)
			buf_copy(&p->b[1], 1);
	}
	plan_free(p);
	return err;
}

void shim_neighbor_complete(struct shim_req *r, const struct chan_status *st)
{
	struct shim_nbkeep *k = r->nb;

	if (!k)
		return;
	if (st && !r->local_done && k->out.out && k->out.arg != CHAN_OFF_NONE)
		buf_copy(&k->out, 1);
	free(k->out.off);
	free(k->out.len);
	free(k);
	r->nb = NULL;
}

/* ---------------------------------------------------------------- checks */

/* The communicator and its degrees; raises without a topology. */
static struct shim_comm *nb_comm(MPI_Comm comm, int *in, int *out, const char *fn, int *err)
{
	struct shim_comm *c = shim_comm_check(comm, fn, err);

	if (c && shim_topo_degrees(c, in, out)) {
		*err = shim_error(comm, MPI_ERR_TOPOLOGY, fn, "the communicator has no topology");
		return NULL;
	}
	return c;
}

/* count, datatype and buffer of one side; MPI_IN_PLACE is not allowed. */
static int check_side(MPI_Comm comm, const void *buf, int count, int64_t nblocks,
		      MPI_Datatype t, size_t *size, size_t *ext, const char *side,
		      const char *fn)
{
	if (count < 0)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "%scount = %d", side, count);
	if (shim_type_info(t, size, ext))
		return shim_errorf(comm, MPI_ERR_TYPE, fn, "invalid %stype %#lx", side,
				   (unsigned long)(uintptr_t)t);
	if (buf == MPI_IN_PLACE)
		return shim_errorf(comm, MPI_ERR_BUFFER, fn, "%sbuf cannot be MPI_IN_PLACE", side);
	if (!buf && count > 0 && nblocks > 0)
		return shim_errorf(comm, MPI_ERR_BUFFER, fn, "%sbuf is NULL", side);
	return MPI_SUCCESS;
}

/* counts/displs arrays of n neighbours (v variants); NULL is fine for n 0. */
static int check_arrays(MPI_Comm comm, const int *cnt, const void *dsp, int n,
			const char *side, const char *fn)
{
	if (n > 0 && (!cnt || !dsp))
		return shim_errorf(comm, MPI_ERR_ARG, fn, "%scounts or %sdispls is NULL", side,
				   side);
	for (int i = 0; i < n; i++)
		if (cnt[i] < 0)
			return shim_errorf(comm, MPI_ERR_COUNT, fn, "%scounts[%d] = %d", side, i,
					   cnt[i]);
	return MPI_SUCCESS;
}

static int any_count(const int *cnt, int n)
{
	for (int i = 0; i < n; i++)
		if (cnt[i] > 0)
			return 1;
	return 0;
}

/* Admitted as a collective (counted, held at a checkpoint's targets):
 * a rank inside one in the proxy while the others were parked would keep
 * the call slot, and the checkpoint could not drain. */
static struct chan_call *begin(enum chan_call_id id, MPI_Comm comm)
{
	struct chan_call *c = shim_call_begin_coll(id, shim_comm_get(comm));

	c->arg[COLL_COMM] = ABI(comm);
	c->arg[COLL_SCOUNT] = c->arg[COLL_RCOUNT] = 0;
	c->arg[COLL_STYPE] = c->arg[COLL_RTYPE] = ABI(MPI_BYTE);
	c->arg[COLL_REQ] = 0;
	c->arg[COLL_DETACH] = 0;
	return c;
}

/* ------------------------------------------------------------ the calls */

/* Allgather and Alltoall: blocks of scount (one, or one per out-neighbour)
 * and of rcount per in-neighbour. */
static int plain(enum chan_call_id id, const char *fn, const void *sendbuf, int sendcount,
		 MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
		 MPI_Comm comm, MPI_Request *request)
{
	struct nb_plan p;
	struct shim_comm *cm;
	size_t ssize, sext, rsize, rext;
	int in, out, err;

	if (!(cm = nb_comm(comm, &in, &out, fn, &err)))
		return err;
	int sblocks = id == CALL_NEIGHBOR_ALLTOALL ? out : 1;
	if ((err = check_side(comm, sendbuf, sendcount, sblocks, sendtype, &ssize, &sext,
			      "send", fn)) ||
	    (err = check_side(comm, recvbuf, recvcount, in, recvtype, &rsize, &rext, "recv", fn)))
		return err;
	plan_init(&p, comm, request);
	if ((err = buf_blocks(&p.b[0], sendbuf, 1, 1, 0)) ||
	    (err = buf_blocks(&p.b[1], recvbuf, in, has_holes(recvtype), 1))) {
		plan_free(&p);
		return shim_error(comm, err, fn, NULL);
	}
	block_of(&p.b[0], 0, 0, (int64_t)sblocks * sendcount, sendtype);
	for (int i = 0; i < in; i++)
		block_of(&p.b[1], i, (int64_t)i * recvcount * (int64_t)rext, recvcount, recvtype);
	skip_proc_null(&p.b[1], cm);
	if ((err = plan_stage(&p, fn))) {
		plan_free(&p);
		return shim_error(comm, err, fn, NULL);
	}
	struct chan_call *c = begin(id, comm);
	c->arg[COLL_SCOUNT] = sendcount;
	c->arg[COLL_STYPE] = ABI(sendtype);
	c->arg[COLL_RCOUNT] = recvcount;
	c->arg[COLL_RTYPE] = ABI(recvtype);
	return shim_error(comm, plan_run(&p, c, in, out), fn, NULL);
}

int PMPI_Neighbor_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			    void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
	return plain(CALL_NEIGHBOR_ALLGATHER, "MPI_Neighbor_allgather", sendbuf, sendcount,
		     sendtype, recvbuf, recvcount, recvtype, comm, NULL);
}
SHIM_WEAK(Neighbor_allgather)

int PMPI_Neighbor_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			   void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
	return plain(CALL_NEIGHBOR_ALLTOALL, "MPI_Neighbor_alltoall", sendbuf, sendcount,
		     sendtype, recvbuf, recvcount, recvtype, comm, NULL);
}
SHIM_WEAK(Neighbor_alltoall)

/* Blocks of cnt[i] elements of t at dsp[i] extents of buffer b. */
static void blocks_v(struct nb_buf *b, const int *cnt, const int *dsp, int n, size_t ext,
		     MPI_Datatype t)
{
	for (int i = 0; i < n; i++)
		block_of(b, i, (int64_t)dsp[i] * (int64_t)ext, cnt[i], t);
}

/* Append n ints (or int64s) to the plan's arrays. */
static int arr_add(struct nb_plan *p, const void *a, size_t bytes)
{
	if (dm_grow((void **)&p->arr, &p->arr_cap, p->arr_len + bytes, 1) < 0)
		return MPI_ERR_NO_MEM;
	if (bytes)
		memcpy(p->arr + p->arr_len, a, bytes);
	p->arr_len += bytes;
	return MPI_SUCCESS;
}

static int allgatherv(const char *fn, const void *sendbuf, int sendcount,
		      MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
		      const int displs[], MPI_Datatype recvtype, MPI_Comm comm,
		      MPI_Request *request)
{
	struct nb_plan p;
	struct shim_comm *cm;
	size_t ssize, sext, rsize, rext;
	int in, out, err;

	if (!(cm = nb_comm(comm, &in, &out, fn, &err)))
		return err;
	if ((err = check_side(comm, sendbuf, sendcount, 1, sendtype, &ssize, &sext, "send",
			      fn)) ||
	    (err = check_arrays(comm, recvcounts, displs, in, "recv", fn)) ||
	    (err = check_side(comm, recvbuf, any_count(recvcounts, in), in, recvtype, &rsize,
			      &rext, "recv", fn)))
		return err;
	plan_init(&p, comm, request);
	if ((err = buf_blocks(&p.b[0], sendbuf, 1, 1, 0)) ||
	    (err = buf_blocks(&p.b[1], recvbuf, in, has_holes(recvtype), 1)) ||
	    (err = arr_add(&p, recvcounts, (size_t)in * sizeof(int))) ||
	    (err = arr_add(&p, displs, (size_t)in * sizeof(int)))) {
		plan_free(&p);
		return shim_error(comm, err, fn, NULL);
	}
	p.b[0].off[0] = 0;
	block_of(&p.b[0], 0, 0, sendcount, sendtype);
	blocks_v(&p.b[1], recvcounts, displs, in, rext, recvtype);
	skip_proc_null(&p.b[1], cm);
	if ((err = plan_stage(&p, fn))) {
		plan_free(&p);
		return shim_error(comm, err, fn, NULL);
	}
	struct chan_call *c = begin(CALL_NEIGHBOR_ALLGATHERV, comm);
	c->arg[COLL_SCOUNT] = sendcount;
	c->arg[COLL_STYPE] = ABI(sendtype);
	c->arg[COLL_RTYPE] = ABI(recvtype);
	return shim_error(comm, plan_run(&p, c, in, out), fn, NULL);
}

int PMPI_Neighbor_allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			     void *recvbuf, const int recvcounts[], const int displs[],
			     MPI_Datatype recvtype, MPI_Comm comm)
{
	return allgatherv("MPI_Neighbor_allgatherv", sendbuf, sendcount, sendtype, recvbuf,
			  recvcounts, displs, recvtype, comm, NULL);
}
SHIM_WEAK(Neighbor_allgatherv)

static int alltoallv(const char *fn, const void *sendbuf, const int sendcounts[],
		     const int sdispls[], MPI_Datatype sendtype, void *recvbuf,
		     const int recvcounts[], const int rdispls[], MPI_Datatype recvtype,
		     MPI_Comm comm, MPI_Request *request)
{
	struct nb_plan p;
	struct shim_comm *cm;
	size_t ssize, sext, rsize, rext;
	int in, out, err;

	if (!(cm = nb_comm(comm, &in, &out, fn, &err)))
		return err;
	if ((err = check_arrays(comm, sendcounts, sdispls, out, "send", fn)) ||
	    (err = check_side(comm, sendbuf, any_count(sendcounts, out), out, sendtype, &ssize,
			      &sext, "send", fn)) ||
	    (err = check_arrays(comm, recvcounts, rdispls, in, "recv", fn)) ||
	    (err = check_side(comm, recvbuf, any_count(recvcounts, in), in, recvtype, &rsize,
			      &rext, "recv", fn)))
		return err;
	plan_init(&p, comm, request);
	if ((err = buf_blocks(&p.b[0], sendbuf, out, 1, 0)) ||
	    (err = buf_blocks(&p.b[1], recvbuf, in, has_holes(recvtype), 1)) ||
	    (err = arr_add(&p, sendcounts, (size_t)out * sizeof(int))) ||
	    (err = arr_add(&p, sdispls, (size_t)out * sizeof(int))) ||
	    (err = arr_add(&p, recvcounts, (size_t)in * sizeof(int))) ||
	    (err = arr_add(&p, rdispls, (size_t)in * sizeof(int)))) {
		plan_free(&p);
		return shim_error(comm, err, fn, NULL);
	}
	blocks_v(&p.b[0], sendcounts, sdispls, out, sext, sendtype);
	blocks_v(&p.b[1], recvcounts, rdispls, in, rext, recvtype);
	skip_proc_null(&p.b[1], cm);
	if ((err = plan_stage(&p, fn))) {
		plan_free(&p);
		return shim_error(comm, err, fn, NULL);
	}
	struct chan_call *c = begin(CALL_NEIGHBOR_ALLTOALLV, comm);
	c->arg[COLL_STYPE] = ABI(sendtype);
	c->arg[COLL_RTYPE] = ABI(recvtype);
	return shim_error(comm, plan_run(&p, c, in, out), fn, NULL);
}

int PMPI_Neighbor_alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
			    MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
			    const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm)
{
	return alltoallv("MPI_Neighbor_alltoallv", sendbuf, sendcounts, sdispls, sendtype,
			 recvbuf, recvcounts, rdispls, recvtype, comm, NULL);
}
SHIM_WEAK(Neighbor_alltoallv)

/* One side of Alltoallw: n blocks of cnt[i] elements of types[i] at byte
 * displacement dsp[i]; checks each datatype that carries data. */
static int side_w(MPI_Comm comm, struct nb_buf *b, const void *buf, const int *cnt,
		  const MPI_Aint *dsp, const MPI_Datatype *types, int n, int recv,
		  const char *side, const char *fn)
{
	size_t size, ext;
	int holes = 0, err;

	if ((err = check_arrays(comm, cnt, dsp, n, side, fn)))
		return err;
	if (n > 0 && !types)
		return shim_errorf(comm, MPI_ERR_ARG, fn, "%stypes is NULL", side);
	if ((err = buf_blocks(b, buf, n, 0, recv)))
		return shim_error(comm, err, fn, NULL);
	/* Counts were checked with the arrays; a NULL buffer is MPI_BOTTOM
	 * with absolute displacements, so it is not an error here. */
	for (int i = 0; i < n; i++) {
		if ((err = check_side(comm, buf, 0, 1, types[i], &size, &ext, side, fn)))
			return err;
		holes |= has_holes(types[i]);
		block_of(b, i, (int64_t)dsp[i], cnt[i], types[i]);
	}
	b->in = recv ? holes : 1;
	return MPI_SUCCESS;
}

static int alltoallw(const char *fn, const void *sendbuf, const int sendcounts[],
		     const MPI_Aint sdispls[], const MPI_Datatype sendtypes[], void *recvbuf,
		     const int recvcounts[], const MPI_Aint rdispls[],
		     const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Request *request)
{
	struct nb_plan p;
	struct shim_comm *cm;
	int in, out, err;

	if (!(cm = nb_comm(comm, &in, &out, fn, &err)))
		return err;
	plan_init(&p, comm, request);
	if ((err = side_w(comm, &p.b[0], sendbuf, sendcounts, sdispls, sendtypes, out, 0,
			  "send", fn)) ||
	    (err = side_w(comm, &p.b[1], recvbuf, recvcounts, rdispls, recvtypes, in, 1,
			  "recv", fn))) {
		plan_free(&p);
		return err;
	}
	skip_proc_null(&p.b[1], cm);
	/* Layout of proxy/neighbor.c: counts, then 64-bit displs and types. */
	int n = in + out;
	int64_t *wide = malloc((size_t)(2 * n + 1) * sizeof(int64_t));
	static const int64_t pad = 0;
	size_t narrow = (size_t)n * sizeof(int32_t);
	if (wide) {
		for (int i = 0; i < out; i++) {
			wide[i] = (int64_t)sdispls[i];
			wide[n + i] = ABI(sendtypes[i]);
		}
		for (int i = 0; i < in; i++) {
			wide[out + i] = (int64_t)rdispls[i];
			wide[n + out + i] = ABI(recvtypes[i]);
		}
	}
	if (!wide || (err = arr_add(&p, sendcounts, (size_t)out * sizeof(int))) ||
	    (err = arr_add(&p, recvcounts, (size_t)in * sizeof(int))) ||
	    (err = arr_add(&p, &pad, ((narrow + 7) & ~(size_t)7) - narrow)) ||
	    (err = arr_add(&p, wide, (size_t)2 * n * sizeof(int64_t))) ||
	    (err = plan_stage(&p, fn))) {
		free(wide);
		plan_free(&p);
		return shim_error(comm, wide ? err : MPI_ERR_NO_MEM, fn, NULL);
	}
	free(wide);
	return shim_error(comm, plan_run(&p, begin(CALL_NEIGHBOR_ALLTOALLW, comm), in, out),
			  fn, NULL);
}

int PMPI_Neighbor_alltoallw(const void *sendbuf, const int sendcounts[],
			    const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],
			    void *recvbuf, const int recvcounts[], const MPI_Aint rdispls[],
			    const MPI_Datatype recvtypes[], MPI_Comm comm)
{
	return alltoallw("MPI_Neighbor_alltoallw", sendbuf, sendcounts, sdispls, sendtypes,
			 recvbuf, recvcounts, rdispls, recvtypes, comm, NULL);
}
SHIM_WEAK(Neighbor_alltoallw)


/* ------------------------------------------------ the nonblocking forms */

static int no_request(MPI_Request *request, MPI_Comm comm, const char *fn)
{
	return request ? MPI_SUCCESS : shim_error(comm, MPI_ERR_ARG, fn, "request is NULL");
}

int PMPI_Ineighbor_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			     void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
			     MPI_Request *request)
{
	static const char fn[] = "MPI_Ineighbor_allgather";

	return no_request(request, comm, fn)
		       ?: plain(CALL_NEIGHBOR_ALLGATHER, fn, sendbuf, sendcount, sendtype,
				recvbuf, recvcount, recvtype, comm, request);
}
SHIM_WEAK(Ineighbor_allgather)

int PMPI_Ineighbor_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			    void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
			    MPI_Request *request)
{
	static const char fn[] = "MPI_Ineighbor_alltoall";

	return no_request(request, comm, fn)
		       ?: plain(CALL_NEIGHBOR_ALLTOALL, fn, sendbuf, sendcount, sendtype,
				recvbuf, recvcount, recvtype, comm, request);
}
SHIM_WEAK(Ineighbor_alltoall)

int PMPI_Ineighbor_allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			      void *recvbuf, const int recvcounts[], const int displs[],
			      MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *request)
{
	static const char fn[] = "MPI_Ineighbor_allgatherv";

	return no_request(request, comm, fn)
		       ?: allgatherv(fn, sendbuf, sendcount, sendtype, recvbuf, recvcounts,
				     displs, recvtype, comm, request);
}
SHIM_WEAK(Ineighbor_allgatherv)

int PMPI_Ineighbor_alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
			     MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
			     const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm,
			     MPI_Request *request)
{
	static const char fn[] = "MPI_Ineighbor_alltoallv";

	return no_request(request, comm, fn)
		       ?: alltoallv(fn, sendbuf, sendcounts, sdispls, sendtype, recvbuf,
				    recvcounts, rdispls, recvtype, comm, request);
}
SHIM_WEAK(Ineighbor_alltoallv)

int PMPI_Ineighbor_alltoallw(const void *sendbuf, const int sendcounts[],
			     const MPI_Aint sdispls[], const MPI_Datatype sendtypes[],
			     void *recvbuf, const int recvcounts[], const MPI_Aint rdispls[],
			     const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Request *request)
{
	static const char fn[] = "MPI_Ineighbor_alltoallw";

	return no_request(request, comm, fn)
		       ?: alltoallw(fn, sendbuf, sendcounts, sdispls, sendtypes, recvbuf,
				    recvcounts, rdispls, recvtypes, comm, request);
}
SHIM_WEAK(Ineighbor_alltoallw)
