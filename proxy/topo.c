/*
 * topo.c - making real topology communicators (served for shim/topo.c).
 *
 * The application keeps every topology description itself (dims and
 * periods, graph index and edges, dist-graph neighbours) and answers all
 * queries from it; the proxy only makes the real communicator, so that
 * the neighbourhood collectives (proxy/neighbor.c) run in the real MPI
 * with its own knowledge of the neighbours.  The real MPI may reorder
 * ranks (reorder is passed on as given); the reply names the members as
 * world ranks in the new rank order, exactly as for the other
 * constructors (px_comm_serve, proxy/comm.c).
 *
 * None of these calls has a nonblocking form in MPI, so they block here,
 * as MPI_Comm_split does: every member of the parent is in the same call.
 * Under MPI_THREAD_MULTIPLE the shim has them made on a thread of their
 * own (px_comm_serve, proxy/ctorbg.c), so two application threads making
 * communicators from different parents, entered in different orders on
 * two ranks, do not wait for each other in the proxy's only thread.
 *
 * Layouts (arg[0] parent, arg[1] handle for the new communicator; reply
 * arg[5] size (0: MPI_COMM_NULL here), arg[6] my rank, inl the members'
 * world ranks, int32[size]):
 *   CART_CREATE   arg[2] ndims, arg[3] reorder; inl int32 dims[ndims],
 *                 int32 periods[ndims]
 *   CART_SUB      arg[2] ndims of the parent; inl int32 remain_dims[ndims]
 *   GRAPH_CREATE  arg[2] nnodes, arg[3] reorder, arg[4] arrays (below):
 *                 int32 index[nnodes], int32 edges[index[nnodes-1]]
 *   DIST_GRAPH_CREATE_ADJACENT  arg[2] indegree, arg[3] reorder, arg[4]
 *                 arrays, arg[7] outdegree, arg[8] / arg[9] weights of the
 *                 sources / destinations (TOPO_W_*); arrays: sources[in],
 *                 sourceweights[in] (TOPO_W_ARRAY only), destinations[out],
 *                 destweights[out] (TOPO_W_ARRAY only)
 *   DIST_GRAPH_CREATE  arg[2] n, arg[3] reorder, arg[4] arrays, arg[7] m =
 *                 the sum of degrees, arg[8] weights (TOPO_W_*); arrays:
 *                 sources[n], degrees[n], destinations[m], weights[m]
 *                 (TOPO_W_ARRAY only).  Each process then learns its own
 *                 neighbours from the real MPI, in the real MPI's order
 *                 (which fixes the buffer layout of neighbourhood
 *                 collectives): reply arg[10] indegree, arg[11] outdegree,
 *                 arg[12] weighted, and after the members in inl:
 *                 sources[in], sourceweights[in] (if weighted),
 *                 destinations[out], destweights[out] (if weighted).
 *   TOPO_REBUILD  after a restart, arg[0] names a communicator made again
 *                 from its members (COMM_REBUILD, proxy/comm.c); give it
 *                 its topology back.  arg[2] ABI_CART, ABI_GRAPH or
 *                 ABI_DIST_GRAPH; CART: arg[3] ndims, arrays dims[ndims],
 *                 periods[ndims]; GRAPH: arg[3] nnodes, arrays
 *                 index[nnodes], edges[index[nnodes-1]]; DIST_GRAPH: arg[3]
 *                 indegree, arg[7] outdegree, arg[8] weighted, arrays
 *                 sources[in], sourceweights[in] (if weighted),
 *                 destinations[out], destweights[out] (if weighted).  No
 *                 reordering, so every rank keeps its rank; no reply.
 * "arrays" is CHAN_OFF_NONE when they travel in inl, otherwise the arena
 * offset of a block holding them (arg[4]).  Info arguments are not
 * forwarded: the shim keeps hints to itself.
 */
#include "px.h"

#include <string.h>

#include "util/log.h"

/* Weight arguments of the dist-graph constructors (arg[8], arg[9]). */
enum { TOPO_W_ARRAY = 0, TOPO_W_UNWEIGHTED = 1, TOPO_W_EMPTY = 2 };

static int *topo_arrays(struct chan_call *c)
{
	return c->arg[4] == CHAN_OFF_NONE ? (int *)(void *)c->inl : px_ptr(c->arg[4]);
}

/* The real weights argument for mode w, whose array (if any) is at p. */
static const int *topo_weights(int64_t w, const int *p)
{
	if (w == TOPO_W_UNWEIGHTED)
		return MPI_UNWEIGHTED;
	if (w == TOPO_W_EMPTY)
		return MPI_WEIGHTS_EMPTY;
	return p;
}

static int make_cart(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	int ndims = (int)c->arg[2];
	const int *dims = (const int *)(void *)c->inl;

	return MPI_Cart_create(parent, ndims, dims, dims + ndims, (int)c->arg[3], real);
}

void px_call_CART_CREATE(struct chan_call *c)
{
	px_comm_serve(c, make_cart, NULL);
}

static int make_cart_sub(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	return MPI_Cart_sub(parent, (const int *)(void *)c->inl, real);
}

void px_call_CART_SUB(struct chan_call *c)
{
	px_comm_serve(c, make_cart_sub, NULL);
}

static int make_graph(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	int nnodes = (int)c->arg[2];
	const int *index = topo_arrays(c);

	return MPI_Graph_create(parent, nnodes, index, index + nnodes, (int)c->arg[3], real);
}

void px_call_GRAPH_CREATE(struct chan_call *c)
{
	px_comm_serve(c, make_graph, NULL);
}

/* Append my neighbours in real, as the real MPI orders them, to the reply
 * after the members (DIST_GRAPH_CREATE's reply layout). */
static int reply_neighbors(struct chan_call *c, MPI_Comm real)
{
	int in, out, weighted;
	int rc = MPI_Dist_graph_neighbors_count(real, &in, &out, &weighted);

	if (rc != MPI_SUCCESS)
		return rc;
	size_t words = (size_t)(in + out) * (weighted ? 2 : 1);
	if (c->inl_len + words * sizeof(int32_t) > CHAN_INLINE_SIZE) {
		dm_err("rank %d: MPI_Dist_graph_create: %d in and %d out neighbours do not fit "
		       "the reply", px.world_rank, in, out);
		return MPI_ERR_NO_MEM;
	}
	int *p = (int *)(void *)(c->inl + c->inl_len);
	int *sw = weighted ? p + in : MPI_UNWEIGHTED;
	int *d = p + in + (weighted ? in : 0);
	int *dw = weighted ? d + out : MPI_UNWEIGHTED;
	rc = MPI_Dist_graph_neighbors(real, in, p, sw, out, d, dw);
	c->arg[10] = in;
	c->arg[11] = out;
	c->arg[12] = weighted;
	c->inl_len += (uint32_t)(words * sizeof(int32_t));
	return rc;
}

static int make_dist_graph(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	int n = (int)c->arg[2], m = (int)c->arg[7];
	const int *src = topo_arrays(c), *deg = src + n, *dst = deg + n;

	return MPI_Dist_graph_create(parent, n, src, deg, dst, topo_weights(c->arg[8], dst + m),
				     MPI_INFO_NULL, (int)c->arg[3], real);
}

void px_call_DIST_GRAPH_CREATE(struct chan_call *c)
{
	px_comm_serve(c, make_dist_graph, reply_neighbors);
}

static int make_dist_adjacent(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	int in = (int)c->arg[2], out = (int)c->arg[7];
	const int *src = topo_arrays(c);
	const int *sw = src + in;
	const int *dst = sw + (c->arg[8] == TOPO_W_ARRAY ? in : 0);
	const int *dw = dst + out;

	return MPI_Dist_graph_create_adjacent(parent, in, src, topo_weights(c->arg[8], sw), out,
					      dst, topo_weights(c->arg[9], dw), MPI_INFO_NULL,
					      (int)c->arg[3], real);
}

void px_call_DIST_GRAPH_CREATE_ADJACENT(struct chan_call *c)
{
	px_comm_serve(c, make_dist_adjacent, NULL);
}

/* The weights argument of a rebuilt dist-graph side of n edges. */
static const int *rebuilt_weights(int weighted, int n, const int *w)
{
	if (!weighted)
		return MPI_UNWEIGHTED;
	return n ? w : MPI_WEIGHTS_EMPTY;
}

void px_call_TOPO_REBUILD(struct chan_call *c)
{
	MPI_Comm plain = px_comm(c->arg[0]), real = MPI_COMM_NULL;
	int n = (int)c->arg[3], rc;
	const int *a = topo_arrays(c);

	if (plain == MPI_COMM_NULL) {
		px_reply(c, MPI_ERR_COMM);
		return;
	}
	if (c->arg[2] == ABI_CART) {
		rc = MPI_Cart_create(plain, n, a, a + n, 0, &real);
	} else if (c->arg[2] == ABI_GRAPH) {
		rc = MPI_Graph_create(plain, n, a, a + n, 0, &real);
	} else {
		int out = (int)c->arg[7], w = (int)c->arg[8];
		const int *sw = a + n, *dst = sw + (w ? n : 0), *dw = dst + out;
		rc = MPI_Dist_graph_create_adjacent(plain, n, a, rebuilt_weights(w, n, sw), out, dst,
						    rebuilt_weights(w, out, dw), MPI_INFO_NULL, 0,
						    &real);
	}
	if (rc == MPI_SUCCESS)
		rc = MPI_Comm_set_errhandler(real, MPI_ERRORS_RETURN);
	if (rc == MPI_SUCCESS) {
		px_comm_set(c->arg[0], real);
		px_neighbor_forget(c->arg[0]);
		MPI_Comm_free(&plain);
	}
	px_reply(c, rc);
}
