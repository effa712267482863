/*
 * topo.c - process topologies: Cartesian, graph and distributed graph.
 *
 * The description of a topology lives in its communicator's record
 * (struct shim_topo, shim.h): dims and periods, graph index and edges,
 * or a dist-graph's neighbours and weights.  Every query (coordinates,
 * ranks, shifts, neighbours, counts) is answered from it without a round
 * trip, and it is what a restart needs to make the topology again
 * (shim_topo_rebuild, once the communicator itself is rebuilt).  The
 * proxy makes the real topology communicator (proxy/topo.c) so that
 * neighbourhood collectives (shim/neighbor.c) run in the real MPI; the
 * reply names the members in the new rank order, as for every
 * constructor, so a reordering real MPI is followed faithfully.
 *
 * Ranks of a Cartesian grid are row-major: the last dimension varies
 * fastest, as the standard fixes.  A dist-graph made by
 * MPI_Dist_graph_create gets its neighbours from the real MPI in the
 * real MPI's order (the order fixes the buffer layout of neighbourhood
 * collectives); MPI_Dist_graph_create_adjacent keeps the order given.
 *
 * Errors: where MPICH 4.0 and Open MPI 4.1 agree we give their class;
 * where they differ we give the standard's or the stricter one (a
 * non-positive Cartesian dimension is MPI_ERR_DIMS, an edge naming no
 * node MPI_ERR_ARG, a rank outside the communicator MPI_ERR_RANK).
 * Queries on a communicator without the right topology are
 * MPI_ERR_TOPOLOGY; topologies on intercommunicators are MPI_ERR_COMM.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#define ABI(h) ((int64_t)(intptr_t)(h))

/* Weights arguments of the dist-graph calls, as proxy/topo.c reads them. */
enum { TOPO_W_ARRAY = 0, TOPO_W_UNWEIGHTED = 1, TOPO_W_EMPTY = 2 };

/* ------------------------------------------------------------ records */

/* A copy of a[0..n-1]; NULL for n == 0 or when out of memory (*ok = 0). */
static int *ints_dup(const int *a, int n, int *ok)
{
	if (n <= 0 || !a)
		return NULL;
	int *d = malloc((size_t)n * sizeof(int));
	if (!d) {
		*ok = 0;
		return NULL;
	}
	memcpy(d, a, (size_t)n * sizeof(int));
	return d;
}

void shim_topo_free(struct shim_topo *t)
{
	if (!t)
		return;
	free(t->dims);
	free(t->periods);
	free(t->index);
	free(t->edges);
	free(t->sources);
	free(t->dests);
	free(t->sweights);
	free(t->dweights);
	free(t);
}

struct shim_topo *shim_topo_dup(const struct shim_topo *t)
{
	struct shim_topo *d = malloc(sizeof(*d));
	int ok = 1;

	if (!d)
		return NULL;
	*d = *t;
	d->dims = ints_dup(t->dims, t->ndims, &ok);
	d->periods = ints_dup(t->periods, t->ndims, &ok);
	d->index = ints_dup(t->index, t->nnodes, &ok);
	d->edges = ints_dup(t->edges, t->nedges, &ok);
	d->sources = ints_dup(t->sources, t->indegree, &ok);
	d->dests = ints_dup(t->dests, t->outdegree, &ok);
	d->sweights = ints_dup(t->sweights, t->indegree, &ok);
	d->dweights = ints_dup(t->dweights, t->outdegree, &ok);
	if (!ok) {
		shim_topo_free(d);
		return NULL;
	}
	return d;
}

static struct shim_topo *topo_new(int kind)
{
	struct shim_topo *t = calloc(1, sizeof(*t));

	if (t)
		t->kind = kind;
	return t;
}

/* Graph neighbours of rank r: edges[first .. first + *n). */
static int graph_first(const struct shim_topo *t, int r, int *n)
{
	int first = r ? t->index[r - 1] : 0;

	*n = t->index[r] - first;
	return first;
}

static void cart_coords(const struct shim_topo *t, int r, int *coords, int n);
static int cart_neighbor(const struct shim_topo *t, const int *me, int dim, int disp);

int shim_topo_in_neighbor(const struct shim_comm *c, int i)
{
	const struct shim_topo *t = c->topo;

	if (t->kind == MPI_GRAPH) {
		int n;
		return t->edges[graph_first(t, c->rank, &n) + i];
	}
	if (t->kind == MPI_DIST_GRAPH)
		return t->sources[i];
	int me[t->ndims + 1];
	cart_coords(t, c->rank, me, t->ndims);
	return cart_neighbor(t, me, i / 2, i % 2 ? 1 : -1);
}

int shim_topo_degrees(const struct shim_comm *c, int *in, int *out)
{
	const struct shim_topo *t = c->topo;

	if (!t)
		return MPI_ERR_TOPOLOGY;
	if (t->kind == MPI_CART) {
		*in = *out = 2 * t->ndims;
	} else if (t->kind == MPI_GRAPH) {
		graph_first(t, c->rank, in);
		*out = *in;
	} else {
		*in = t->indegree;
		*out = t->outdegree;
	}
	return MPI_SUCCESS;
}

/* ------------------------------------------------------------- checks */

/* The parent of a new topology: a live intracommunicator. */
static struct shim_comm *topo_parent(MPI_Comm comm, const char *fn, int *err)
{
	shim_require_init(fn);
	struct shim_comm *c = shim_comm_check(comm, fn, err);

	if (c && c->remote) {
		*err = shim_error(comm, MPI_ERR_COMM, fn, "an intercommunicator has no topology");
		return NULL;
	}
	return c;
}

/* comm with a topology of this kind (0: any, or none); else raises. */
static struct shim_comm *topo_comm(MPI_Comm comm, int kind, const char *fn, int *err)
{
	static const char *const names[] = { "Cartesian", "graph", "distributed graph" };
	struct shim_comm *c = shim_comm_check(comm, fn, err);

	if (!c || !kind || (c->topo && c->topo->kind == kind))
		return c;
	*err = shim_errorf(comm, MPI_ERR_TOPOLOGY, fn, "the communicator has no %s topology",
			   names[kind - MPI_CART]);
	return NULL;
}

static int arg_error(MPI_Comm comm, const char *fn, const char *what)
{
	return shim_error(comm, MPI_ERR_ARG, fn, what);
}

/* Every rank in a[0..n-1] is in [0, size). */
static int ranks_ok(const int *a, int n, int size)
{
	for (int i = 0; i < n; i++)
		if (a[i] < 0 || a[i] >= size)
			return 0;
	return 1;
}

/* ------------------------------------------------ running a constructor */

/* Int arrays of a constructor call: in inl when they fit, else in an
 * arena block (the call's arg[4] says which, see proxy/topo.c). */
struct topo_ints {
	const int *part[4];
	int n[4];
	int k;                   /* parts added */
	size_t total;
	struct shim_stage st;
};

static void ints_init(struct topo_ints *a)
{
	memset(a, 0, sizeof(*a));
	a->st.off = ARENA_NONE;
}

static void ints_add(struct topo_ints *a, const int *p, int n)
{
	a->part[a->k] = p;
	a->n[a->k++] = n;
	a->total += (size_t)n;
}

/* Reserve the arena block when the arrays are too big for inl. */
static int ints_stage(struct topo_ints *a, const char *fn)
{
	if (a->total * sizeof(int32_t) <= CHAN_INLINE_SIZE)
		return MPI_SUCCESS;
	return shim_stage_alloc(&a->st, a->total * sizeof(int32_t), fn);
}

/* Copy the arrays into the locked slot's inl or their block; arg[4]. */
static void ints_fill(struct topo_ints *a, struct chan_call *c)
{
	unsigned char *dst = c->inl;

	c->arg[4] = CHAN_OFF_NONE;
	if (a->st.off != ARENA_NONE) {
		dst = shim_stage_ptr(&a->st);
		c->arg[4] = (int64_t)a->st.off;
	} else {
		c->inl_len = (uint32_t)(a->total * sizeof(int32_t));
	}
	for (int i = 0; i < a->k; i++)
		if (a->n[i] > 0) {
			memcpy(dst, a->part[i], (size_t)a->n[i] * sizeof(int32_t));
			dst += (size_t)a->n[i] * sizeof(int32_t);
		}
}

/* The topology a constructor attaches to its new record. */
struct attach {
	struct shim_topo *t;     /* prepared before the call, or NULL */
	int used;                /* now owned by the record */
	/* reads the topology from the reply instead (Dist_graph_create) */
	int (*from_reply)(struct chan_call *c, struct shim_comm *nc, struct shim_topo **t);
};

static int attach_topo(struct chan_call *c, struct shim_comm *nc, void *arg)
{
	struct attach *a = arg;
	int err;

	if (a->from_reply && (err = a->from_reply(c, nc, &a->t)))
		return err;
	nc->topo = a->t;
	a->used = 1;
	return MPI_SUCCESS;
}

/* Run constructor call c (scalars and inl filled) for parent, and attach
 * the topology.  Ends the call. */
static int topo_finish(struct chan_call *c, MPI_Comm parent, struct shim_comm *nc,
		       int made_by, MPI_Comm *newcomm, const char *fn, struct attach *a)
{
	int err = shim_comm_finish(c, parent, nc, made_by, newcomm, fn, attach_topo, a);

	if (!a->used)
		shim_topo_free(a->t);
	return err;
}

/* Reserve the record for a new topology of parent; frees t on failure. */
static struct shim_comm *topo_reserve(MPI_Comm parent, MPI_Comm *newcomm, struct shim_topo *t,
				      const char *fn, int *err)
{
	struct shim_comm *nc = shim_comm_reserve_new(parent, newcomm, fn, err);

	if (!nc)
		shim_topo_free(t);
	return nc;
}

/* ---------------------------------------------------------- Cartesian */

static struct shim_topo *cart_new(int ndims, const int *dims, const int *periods)
{
	struct shim_topo *t = topo_new(MPI_CART);
	int ok = t != NULL;

	if (!t)
		return NULL;
	t->ndims = ndims;
	t->dims = ints_dup(dims, ndims, &ok);
	t->periods = ints_dup(periods, ndims, &ok);
	for (int i = 0; ok && i < ndims; i++)
		t->periods[i] = t->periods[i] != 0;
	if (!ok) {
		shim_topo_free(t);
		return NULL;
	}
	return t;
}

/* dims[0..ndims-1] > 0 with a product of at most size; else raises. */
static int cart_check_dims(MPI_Comm comm, int ndims, const int *dims, int size,
			   int too_big, const char *fn)
{
	int64_t prod = 1;

	if (ndims < 0)
		return shim_errorf(comm, MPI_ERR_ARG, fn, "ndims = %d", ndims);
	if (ndims > 0 && !dims)
		return arg_error(comm, fn, "dims is NULL");
	if ((size_t)ndims * 2 * sizeof(int32_t) > CHAN_INLINE_SIZE)
		return shim_errorf(comm, MPI_ERR_DIMS, fn, "%d dimensions", ndims);
	for (int i = 0; i < ndims; i++) {
		if (dims[i] <= 0)
			return shim_errorf(comm, MPI_ERR_DIMS, fn, "dims[%d] = %d", i, dims[i]);
		prod *= dims[i];
		if (prod > size)
			return shim_errorf(comm, too_big, fn,
					   "the grid has more than the %d processes of the "
					   "communicator", size);
	}
	return MPI_SUCCESS;
}

/* CALL_CART_CREATE: arg[2] ndims, arg[3] reorder; inl dims, periods. */
int PMPI_Cart_create(MPI_Comm comm_old, int ndims, const int dims[], const int periods[],
		     int reorder, MPI_Comm *comm_cart)
{
	static const char fn[] = "MPI_Cart_create";
	struct shim_comm *p, *nc;
	struct attach a = { 0 };
	int err;

	if (!(p = topo_parent(comm_old, fn, &err)))
		return err;
	if ((err = cart_check_dims(comm_old, ndims, dims, p->size, MPI_ERR_ARG, fn)))
		return err;
	if (ndims > 0 && !periods)
		return arg_error(comm_old, fn, "periods is NULL");
	if (!(a.t = cart_new(ndims, dims, periods)))
		return shim_error(comm_old, MPI_ERR_NO_MEM, fn, NULL);
	if (!(nc = topo_reserve(comm_old, comm_cart, a.t, fn, &err)))
		return err;
	struct chan_call *c = shim_call_begin_coll(CALL_CART_CREATE,
						       shim_comm_get(comm_old));
	c->arg[2] = ndims;
	c->arg[3] = reorder != 0;
	if (ndims > 0) {
		memcpy(c->inl, dims, (size_t)ndims * sizeof(int32_t));
		memcpy(c->inl + (size_t)ndims * sizeof(int32_t), a.t->periods,
		       (size_t)ndims * sizeof(int32_t));
	}
	c->inl_len = (uint32_t)((size_t)ndims * 2 * sizeof(int32_t));
	return topo_finish(c, comm_old, nc, CALL_CART_CREATE, comm_cart, fn, &a);
}
SHIM_WEAK(Cart_create)

/* CALL_CART_SUB: arg[2] ndims of the parent; inl remain_dims. */
int PMPI_Cart_sub(MPI_Comm comm, const int remain_dims[], MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Cart_sub";
	struct shim_comm *p, *nc;
	struct attach a = { 0 };
	int err;

	shim_require_init(fn);
	if (!(p = topo_comm(comm, MPI_CART, fn, &err)))
		return err;
	const struct shim_topo *t = p->topo;
	if (t->ndims > 0 && !remain_dims)
		return arg_error(comm, fn, "remain_dims is NULL");
	int *dims = malloc((size_t)(t->ndims + 1) * sizeof(int));
	int *periods = malloc((size_t)(t->ndims + 1) * sizeof(int));
	int *remain = malloc((size_t)(t->ndims + 1) * sizeof(int));
	int n = 0;
	if (dims && periods && remain)
		for (int i = 0; i < t->ndims; i++) {
			remain[i] = remain_dims[i] != 0;
			if (remain[i]) {
				dims[n] = t->dims[i];
				periods[n++] = t->periods[i];
			}
		}
	a.t = dims && periods && remain ? cart_new(n, dims, periods) : NULL;
	free(dims);
	free(periods);
	if (!a.t) {
		free(remain);
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	}
	if (!(nc = topo_reserve(comm, newcomm, a.t, fn, &err))) {
		free(remain);
		return err;
	}
	struct chan_call *c = shim_call_begin_coll(CALL_CART_SUB,
						       shim_comm_get(comm));
	c->arg[2] = t->ndims;
	memcpy(c->inl, remain, (size_t)t->ndims * sizeof(int32_t));
	c->inl_len = (uint32_t)((size_t)t->ndims * sizeof(int32_t));
	free(remain);
	return topo_finish(c, comm, nc, CALL_CART_SUB, newcomm, fn, &a);
}
SHIM_WEAK(Cart_sub)

/* Coordinates of rank r in t, row-major. */
static void cart_coords(const struct shim_topo *t, int r, int *coords, int n)
{
	for (int i = t->ndims - 1; i >= 0; i--) {
		if (i < n)
			coords[i] = r % t->dims[i];
		r /= t->dims[i];
	}
}

int PMPI_Cart_coords(MPI_Comm comm, int rank, int maxdims, int coords[])
{
	static const char fn[] = "MPI_Cart_coords";
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_CART, fn, &err);

	if (!c)
		return err;
	if (rank < 0 || rank >= c->size)
		return shim_errorf(comm, MPI_ERR_RANK, fn, "rank %d is not in [0, %d)", rank,
				   c->size);
	if (maxdims < c->topo->ndims)
		return shim_errorf(comm, MPI_ERR_ARG, fn, "maxdims %d < ndims %d", maxdims,
				   c->topo->ndims);
	if (c->topo->ndims > 0 && !coords)
		return arg_error(comm, fn, "coords is NULL");
	cart_coords(c->topo, rank, coords, c->topo->ndims);
	return MPI_SUCCESS;
}
SHIM_WEAK(Cart_coords)

int PMPI_Cart_rank(MPI_Comm comm, const int coords[], int *rank)
{
	static const char fn[] = "MPI_Cart_rank";
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_CART, fn, &err);

	if (!c)
		return err;
	const struct shim_topo *t = c->topo;
	if ((t->ndims > 0 && !coords) || !rank)
		return arg_error(comm, fn, "coords or rank is NULL");
	int r = 0;
	for (int i = 0; i < t->ndims; i++) {
		int x = coords[i], d = t->dims[i];
		if (t->periods[i])
			x = (x % d + d) % d;
		else if (x < 0 || x >= d)
			return shim_errorf(comm, MPI_ERR_ARG, fn,
					   "coords[%d] = %d is outside the non-periodic "
					   "dimension of %d", i, x, d);
		r = r * d + x;
	}
	*rank = r;
	return MPI_SUCCESS;
}
SHIM_WEAK(Cart_rank)

/* The rank at my coordinates moved by disp along dim, or MPI_PROC_NULL
 * off the edge of a non-periodic dimension. */
static int cart_neighbor(const struct shim_topo *t, const int *me, int dim, int disp)
{
	int r = 0;

	for (int i = 0; i < t->ndims; i++) {
		int64_t x = me[i], d = t->dims[i];
		if (i == dim) {
			x += disp;
			if (t->periods[i])
				x = (x % d + d) % d;
			else if (x < 0 || x >= d)
				return MPI_PROC_NULL;
		}
		r = r * (int)d + (int)x;
	}
	return r;
}

int PMPI_Cart_shift(MPI_Comm comm, int direction, int disp, int *rank_source,
		    int *rank_dest)
{
	static const char fn[] = "MPI_Cart_shift";
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_CART, fn, &err);

	if (!c)
		return err;
	const struct shim_topo *t = c->topo;
	if (direction < 0 || direction >= t->ndims)
		return shim_errorf(comm, MPI_ERR_ARG, fn, "direction %d is not in [0, %d)",
				   direction, t->ndims);
	if (!rank_source || !rank_dest)
		return arg_error(comm, fn, "rank_source or rank_dest is NULL");
	int *me = malloc((size_t)t->ndims * sizeof(int));
	if (!me)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	cart_coords(t, c->rank, me, t->ndims);
	*rank_dest = cart_neighbor(t, me, direction, disp);
	*rank_source = cart_neighbor(t, me, direction, -disp);
	free(me);
	return MPI_SUCCESS;
}
SHIM_WEAK(Cart_shift)

/* Entries beyond maxdims are left out, as both MPIs do. */
int PMPI_Cart_get(MPI_Comm comm, int maxdims, int dims[], int periods[], int coords[])
{
	static const char fn[] = "MPI_Cart_get";
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_CART, fn, &err);

	if (!c)
		return err;
	const struct shim_topo *t = c->topo;
	int n = maxdims < t->ndims ? maxdims : t->ndims;
	if (n > 0 && (!dims || !periods || !coords))
		return arg_error(comm, fn, "dims, periods or coords is NULL");
	for (int i = 0; i < n; i++) {
		dims[i] = t->dims[i];
		periods[i] = t->periods[i];
	}
	if (n > 0)
		cart_coords(t, c->rank, coords, n);
	return MPI_SUCCESS;
}
SHIM_WEAK(Cart_get)

int PMPI_Cartdim_get(MPI_Comm comm, int *ndims)
{
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_CART, "MPI_Cartdim_get", &err);

	if (!c)
		return err;
	if (!ndims)
		return arg_error(comm, "MPI_Cartdim_get", "ndims is NULL");
	*ndims = c->topo->ndims;
	return MPI_SUCCESS;
}
SHIM_WEAK(Cartdim_get)

/* No reordering: the grid takes the first ranks in order. */
int PMPI_Cart_map(MPI_Comm comm, int ndims, const int dims[], const int periods[],
		  int *newrank)
{
	static const char fn[] = "MPI_Cart_map";
	int err;
	struct shim_comm *c = topo_comm(comm, 0, fn, &err);

	(void)periods;
	if (!c)
		return err;
	if ((err = cart_check_dims(comm, ndims, dims, c->size, MPI_ERR_DIMS, fn)))
		return err;
	if (!newrank)
		return arg_error(comm, fn, "newrank is NULL");
	int64_t prod = 1;
	for (int i = 0; i < ndims; i++)
		prod *= dims[i];
	*newrank = c->rank < prod ? c->rank : MPI_UNDEFINED;
	return MPI_SUCCESS;
}
SHIM_WEAK(Cart_map)

/* -------------------------------------------------------------- graph */

/* index non-decreasing from >= 0, edges naming nodes; else raises. */
static int graph_check(MPI_Comm comm, int nnodes, const int *index, const int *edges,
		       int size, const char *fn)
{
	if (nnodes < 0 || nnodes > size)
		return shim_errorf(comm, MPI_ERR_ARG, fn, "nnodes = %d with %d processes",
				   nnodes, size);
	if (nnodes > 0 && !index)
		return arg_error(comm, fn, "index is NULL");
	for (int i = 0; i < nnodes; i++)
		if (index[i] < (i ? index[i - 1] : 0))
			return shim_errorf(comm, MPI_ERR_ARG, fn, "index[%d] = %d decreases", i,
					   index[i]);
	int nedges = nnodes ? index[nnodes - 1] : 0;
	if (nedges > 0 && !edges)
		return arg_error(comm, fn, "edges is NULL");
	for (int i = 0; i < nedges; i++)
		if (edges[i] < 0 || edges[i] >= nnodes)
			return shim_errorf(comm, MPI_ERR_ARG, fn, "edges[%d] = %d is not a node",
					   i, edges[i]);
	return MPI_SUCCESS;
}

/* CALL_GRAPH_CREATE: arg[2] nnodes, arg[3] reorder, arg[4] arrays:
 * index[nnodes], edges[nedges]. */
int PMPI_Graph_create(MPI_Comm comm_old, int nnodes, const int indx[], const int edges[],
		      int reorder, MPI_Comm *comm_graph)
{
	static const char fn[] = "MPI_Graph_create";
	struct shim_comm *p, *nc;
	struct attach a = { 0 };
	struct topo_ints arr;
	int err, ok = 1;

	if (!(p = topo_parent(comm_old, fn, &err)))
		return err;
	if ((err = graph_check(comm_old, nnodes, indx, edges, p->size, fn)))
		return err;
	if (!(a.t = topo_new(MPI_GRAPH)))
		return shim_error(comm_old, MPI_ERR_NO_MEM, fn, NULL);
	a.t->nnodes = nnodes;
	a.t->nedges = nnodes ? indx[nnodes - 1] : 0;
	a.t->index = ints_dup(indx, nnodes, &ok);
	a.t->edges = ints_dup(edges, a.t->nedges, &ok);
	ints_init(&arr);
	ints_add(&arr, indx, nnodes);
	ints_add(&arr, edges, a.t->nedges);
	if (!ok || (err = ints_stage(&arr, fn))) {
		shim_topo_free(a.t);
		return shim_error(comm_old, ok ? err : MPI_ERR_NO_MEM, fn, NULL);
	}
	if (!(nc = topo_reserve(comm_old, comm_graph, a.t, fn, &err))) {
		shim_stage_free(&arr.st);
		return err;
	}
	struct chan_call *c = shim_call_begin_coll(CALL_GRAPH_CREATE,
						       shim_comm_get(comm_old));
	c->arg[2] = nnodes;
	c->arg[3] = reorder != 0;
	ints_fill(&arr, c);
	err = topo_finish(c, comm_old, nc, CALL_GRAPH_CREATE, comm_graph, fn, &a);
	shim_stage_free(&arr.st);
	return err;
}
SHIM_WEAK(Graph_create)

int PMPI_Graphdims_get(MPI_Comm comm, int *nnodes, int *nedges)
{
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_GRAPH, "MPI_Graphdims_get", &err);

	if (!c)
		return err;
	if (!nnodes || !nedges)
		return arg_error(comm, "MPI_Graphdims_get", "nnodes or nedges is NULL");
	*nnodes = c->topo->nnodes;
	*nedges = c->topo->nedges;
	return MPI_SUCCESS;
}
SHIM_WEAK(Graphdims_get)

int PMPI_Graph_get(MPI_Comm comm, int maxindex, int maxedges, int indx[], int edges[])
{
	static const char fn[] = "MPI_Graph_get";
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_GRAPH, fn, &err);

	if (!c)
		return err;
	const struct shim_topo *t = c->topo;
	int ni = maxindex < t->nnodes ? maxindex : t->nnodes;
	int ne = maxedges < t->nedges ? maxedges : t->nedges;
	if ((ni > 0 && !indx) || (ne > 0 && !edges))
		return arg_error(comm, fn, "index or edges is NULL");
	if (ni > 0)
		memcpy(indx, t->index, (size_t)ni * sizeof(int));
	if (ne > 0)
		memcpy(edges, t->edges, (size_t)ne * sizeof(int));
	return MPI_SUCCESS;
}
SHIM_WEAK(Graph_get)

/* The graph of comm and a node of it; else raises. */
static struct shim_comm *graph_node(MPI_Comm comm, int rank, const char *fn, int *err)
{
	struct shim_comm *c = topo_comm(comm, MPI_GRAPH, fn, err);

	if (c && (rank < 0 || rank >= c->topo->nnodes)) {
		*err = shim_errorf(comm, MPI_ERR_RANK, fn, "rank %d is not a node of the graph",
				   rank);
		return NULL;
	}
	return c;
}

int PMPI_Graph_neighbors_count(MPI_Comm comm, int rank, int *nneighbors)
{
	int err;
	struct shim_comm *c = graph_node(comm, rank, "MPI_Graph_neighbors_count", &err);

	if (!c)
		return err;
	if (!nneighbors)
		return arg_error(comm, "MPI_Graph_neighbors_count", "nneighbors is NULL");
	graph_first(c->topo, rank, nneighbors);
	return MPI_SUCCESS;
}
SHIM_WEAK(Graph_neighbors_count)

int PMPI_Graph_neighbors(MPI_Comm comm, int rank, int maxneighbors, int neighbors[])
{
	static const char fn[] = "MPI_Graph_neighbors";
	int err, n;
	struct shim_comm *c = graph_node(comm, rank, fn, &err);

	if (!c)
		return err;
	int first = graph_first(c->topo, rank, &n);
	if (maxneighbors < n)
		n = maxneighbors;
	if (n > 0 && !neighbors)
		return arg_error(comm, fn, "neighbors is NULL");
	if (n > 0)
		memcpy(neighbors, c->topo->edges + first, (size_t)n * sizeof(int));
	return MPI_SUCCESS;
}
SHIM_WEAK(Graph_neighbors)

/* No reordering: the graph takes the first ranks in order. */
int PMPI_Graph_map(MPI_Comm comm, int nnodes, const int indx[], const int edges[],
		   int *newrank)
{
	static const char fn[] = "MPI_Graph_map";
	int err;
	struct shim_comm *c = topo_comm(comm, 0, fn, &err);

	if (!c)
		return err;
	if ((err = graph_check(comm, nnodes, indx, edges, c->size, fn)))
		return err;
	if (!newrank)
		return arg_error(comm, fn, "newrank is NULL");
	*newrank = c->rank < nnodes ? c->rank : MPI_UNDEFINED;
	return MPI_SUCCESS;
}
SHIM_WEAK(Graph_map)

/* --------------------------------------------------- distributed graph */

/* The TOPO_W_* mode of a weights argument for n edges; -1 if invalid. */
static int weights_mode(const int *w, int64_t n)
{
	if (w == MPI_UNWEIGHTED)
		return TOPO_W_UNWEIGHTED;
	if (w == MPI_WEIGHTS_EMPTY || (!w && n == 0))
		return n == 0 ? TOPO_W_EMPTY : -1;
	return w ? TOPO_W_ARRAY : -1;
}

/* CALL_DIST_GRAPH_CREATE_ADJACENT: arg[2] indegree, arg[3] reorder,
 * arg[4] arrays, arg[7] outdegree, arg[8]/arg[9] weight modes. */
int PMPI_Dist_graph_create_adjacent(MPI_Comm comm_old, int indegree, const int sources[],
				    const int sourceweights[], int outdegree,
				    const int destinations[], const int destweights[],
				    MPI_Info info, int reorder, MPI_Comm *comm_dist_graph)
{
	static const char fn[] = "MPI_Dist_graph_create_adjacent";
	struct shim_comm *p, *nc;
	struct attach a = { 0 };
	struct topo_ints arr;
	int err, ok = 1;

	if (!(p = topo_parent(comm_old, fn, &err)) || (err = shim_info_check(info, comm_old, fn)))
		return err;
	if (indegree < 0 || outdegree < 0)
		return shim_errorf(comm_old, MPI_ERR_ARG, fn, "indegree %d, outdegree %d",
				   indegree, outdegree);
	if ((indegree > 0 && !sources) || (outdegree > 0 && !destinations))
		return arg_error(comm_old, fn, "sources or destinations is NULL");
	if (!ranks_ok(sources, indegree, p->size) || !ranks_ok(destinations, outdegree, p->size))
		return arg_error(comm_old, fn, "a neighbour is not a rank of the communicator");
	int sw = weights_mode(sourceweights, indegree), dw = weights_mode(destweights, outdegree);
	if (sw < 0 || dw < 0 || (sw == TOPO_W_UNWEIGHTED) != (dw == TOPO_W_UNWEIGHTED))
		return arg_error(comm_old, fn, "invalid weights (MPI_UNWEIGHTED goes on both sides)");
	if (!(a.t = topo_new(MPI_DIST_GRAPH)))
		return shim_error(comm_old, MPI_ERR_NO_MEM, fn, NULL);
	a.t->indegree = indegree;
	a.t->outdegree = outdegree;
	a.t->weighted = sw != TOPO_W_UNWEIGHTED;
	a.t->sources = ints_dup(sources, indegree, &ok);
	a.t->dests = ints_dup(destinations, outdegree, &ok);
	ints_init(&arr);
	ints_add(&arr, sources, indegree);
	if (sw == TOPO_W_ARRAY) {
		a.t->sweights = ints_dup(sourceweights, indegree, &ok);
		ints_add(&arr, sourceweights, indegree);
	}
	ints_add(&arr, destinations, outdegree);
	if (dw == TOPO_W_ARRAY) {
		a.t->dweights = ints_dup(destweights, outdegree, &ok);
		ints_add(&arr, destweights, outdegree);
	}
	if (!ok || (err = ints_stage(&arr, fn))) {
		shim_topo_free(a.t);
		return shim_error(comm_old, ok ? err : MPI_ERR_NO_MEM, fn, NULL);
	}
	if (!(nc = topo_reserve(comm_old, comm_dist_graph, a.t, fn, &err))) {
		shim_stage_free(&arr.st);
		return err;
	}
	struct chan_call *c = shim_call_begin_coll(CALL_DIST_GRAPH_CREATE_ADJACENT,
						       shim_comm_get(comm_old));
	c->arg[2] = indegree;
	c->arg[3] = reorder != 0;
	c->arg[7] = outdegree;
	c->arg[8] = sw;
	c->arg[9] = dw;
	ints_fill(&arr, c);
	err = topo_finish(c, comm_old, nc, CALL_DIST_GRAPH_CREATE_ADJACENT, comm_dist_graph, fn,
			  &a);
	shim_stage_free(&arr.st);
	return err;
}
SHIM_WEAK(Dist_graph_create_adjacent)

/* My neighbours as the real MPI reported them (layout in proxy/topo.c). */
static int dist_from_reply(struct chan_call *c, struct shim_comm *nc, struct shim_topo **out)
{
	struct shim_topo *t = topo_new(MPI_DIST_GRAPH);
	const int *p = (const int *)(void *)c->inl + nc->size;
	int ok = t != NULL;

	if (!t)
		return MPI_ERR_NO_MEM;
	t->indegree = (int)c->arg[10];
	t->outdegree = (int)c->arg[11];
	t->weighted = (int)c->arg[12];
	t->sources = ints_dup(p, t->indegree, &ok);
	p += t->indegree;
	if (t->weighted) {
		t->sweights = ints_dup(p, t->indegree, &ok);
		p += t->indegree;
	}
	t->dests = ints_dup(p, t->outdegree, &ok);
	p += t->outdegree;
	if (t->weighted)
		t->dweights = ints_dup(p, t->outdegree, &ok);
	if (!ok) {
		shim_topo_free(t);
		return MPI_ERR_NO_MEM;
	}
	*out = t;
	return MPI_SUCCESS;
}

/* CALL_DIST_GRAPH_CREATE: arg[2] n, arg[3] reorder, arg[4] arrays,
 * arg[7] m, arg[8] weight mode. */
int PMPI_Dist_graph_create(MPI_Comm comm_old, int n, const int sources[], const int degrees[],
			   const int destinations[], const int weights[], MPI_Info info,
			   int reorder, MPI_Comm *comm_dist_graph)
{
	static const char fn[] = "MPI_Dist_graph_create";
	struct shim_comm *p, *nc;
	struct attach a = { .from_reply = dist_from_reply };
	struct topo_ints arr;
	int64_t m = 0;
	int err;

	if (!(p = topo_parent(comm_old, fn, &err)) || (err = shim_info_check(info, comm_old, fn)))
		return err;
	if (n < 0)
		return shim_errorf(comm_old, MPI_ERR_ARG, fn, "n = %d", n);
	if (n > 0 && (!sources || !degrees))
		return arg_error(comm_old, fn, "sources or degrees is NULL");
	for (int i = 0; i < n; i++) {
		if (degrees[i] < 0)
			return shim_errorf(comm_old, MPI_ERR_ARG, fn, "degrees[%d] = %d", i,
					   degrees[i]);
		m += degrees[i];
	}
	if ((size_t)(2 * n + 2 * m) * sizeof(int32_t) > (size_t)1 << 30)
		return shim_errorf(comm_old, MPI_ERR_ARG, fn, "%lld edges", (long long)m);
	if ((m > 0 && !destinations) || !ranks_ok(sources, n, p->size) ||
	    !ranks_ok(destinations, (int)m, p->size))
		return arg_error(comm_old, fn, "a source or destination is not a rank");
	int w = weights_mode(weights, m);
	if (w < 0)
		return arg_error(comm_old, fn, "weights is NULL");
	ints_init(&arr);
	ints_add(&arr, sources, n);
	ints_add(&arr, degrees, n);
	ints_add(&arr, destinations, (int)m);
	if (w == TOPO_W_ARRAY)
		ints_add(&arr, weights, (int)m);
	if ((err = ints_stage(&arr, fn)))
		return shim_error(comm_old, err, fn, NULL);
	if (!(nc = shim_comm_reserve_new(comm_old, comm_dist_graph, fn, &err))) {
		shim_stage_free(&arr.st);
		return err;
	}
	struct chan_call *c = shim_call_begin_coll(CALL_DIST_GRAPH_CREATE,
						       shim_comm_get(comm_old));
	c->arg[2] = n;
	c->arg[3] = reorder != 0;
	c->arg[7] = m;
	c->arg[8] = w;
	ints_fill(&arr, c);
	err = topo_finish(c, comm_old, nc, CALL_DIST_GRAPH_CREATE, comm_dist_graph, fn, &a);
	shim_stage_free(&arr.st);
	return err;
}
SHIM_WEAK(Dist_graph_create)

int PMPI_Dist_graph_neighbors_count(MPI_Comm comm, int *indegree, int *outdegree,
				    int *weighted)
{
	static const char fn[] = "MPI_Dist_graph_neighbors_count";
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_DIST_GRAPH, fn, &err);

	if (!c)
		return err;
	if (!indegree || !outdegree || !weighted)
		return arg_error(comm, fn, "indegree, outdegree or weighted is NULL");
	*indegree = c->topo->indegree;
	*outdegree = c->topo->outdegree;
	*weighted = c->topo->weighted;
	return MPI_SUCCESS;
}
SHIM_WEAK(Dist_graph_neighbors_count)

/* Copy min(max, n) entries of from (weights only when there are some and
 * the caller asked for them). */
static void copy_some(int *to, const int *from, int max, int n)
{
	if (max > n)
		max = n;
	if (max > 0 && to && to != MPI_UNWEIGHTED && to != MPI_WEIGHTS_EMPTY && from)
		memcpy(to, from, (size_t)max * sizeof(int));
}

int PMPI_Dist_graph_neighbors(MPI_Comm comm, int maxindegree, int sources[],
			      int sourceweights[], int maxoutdegree, int destinations[],
			      int destweights[])
{
	static const char fn[] = "MPI_Dist_graph_neighbors";
	int err;
	struct shim_comm *c = topo_comm(comm, MPI_DIST_GRAPH, fn, &err);

	if (!c)
		return err;
	const struct shim_topo *t = c->topo;
	if ((maxindegree > 0 && t->indegree > 0 && !sources) ||
	    (maxoutdegree > 0 && t->outdegree > 0 && !destinations))
		return arg_error(comm, fn, "sources or destinations is NULL");
	copy_some(sources, t->sources, maxindegree, t->indegree);
	copy_some(sourceweights, t->sweights, maxindegree, t->indegree);
	copy_some(destinations, t->dests, maxoutdegree, t->outdegree);
	copy_some(destweights, t->dweights, maxoutdegree, t->outdegree);
	return MPI_SUCCESS;
}
SHIM_WEAK(Dist_graph_neighbors)

/* ------------------------------------------------------ the rest */

int PMPI_Topo_test(MPI_Comm comm, int *status)
{
	int err;
	struct shim_comm *c = shim_comm_check(comm, "MPI_Topo_test", &err);

	if (!c)
		return err;
	if (!status)
		return arg_error(comm, "MPI_Topo_test", "status is NULL");
	*status = c->topo ? c->topo->kind : MPI_UNDEFINED;
	return MPI_SUCCESS;
}
SHIM_WEAK(Topo_test)

/* Application-side arithmetic (shim/dims.c), with the rule of the MPI
 * underneath so results equal a native run's. */
int PMPI_Dims_create(int nnodes, int ndims, int dims[])
{
	static const char fn[] = "MPI_Dims_create";

	if (nnodes < 0 || ndims < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "nnodes = %d, ndims = %d",
				   nnodes, ndims);
	if (ndims > 0 && !dims)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "dims is NULL");
	enum shim_dims_rule rule = strstr(shim.backend, "Open MPI") ? SHIM_DIMS_GREEDY
								    : SHIM_DIMS_BALANCED;
	int err = shim_dims_fill(nnodes, ndims, dims, rule);
	if (err)
		return shim_errorf(SHIM_NOCOMM, err, fn,
				   err == MPI_ERR_DIMS ? "%d processes do not fit these dims"
						       : "%d processes", nnodes);
	return MPI_SUCCESS;
}
SHIM_WEAK(Dims_create)

/* CALL_TOPO_REBUILD (layout in proxy/topo.c). */
int shim_topo_rebuild(struct shim_comm *c)
{
	const struct shim_topo *t = c->topo;
	struct topo_ints arr;
	int err;

	ints_init(&arr);
	if (t->kind == MPI_CART) {
		ints_add(&arr, t->dims, t->ndims);
		ints_add(&arr, t->periods, t->ndims);
	} else if (t->kind == MPI_GRAPH) {
		ints_add(&arr, t->index, t->nnodes);
		ints_add(&arr, t->edges, t->nedges);
	} else {
		ints_add(&arr, t->sources, t->indegree);
		if (t->weighted)
			ints_add(&arr, t->sweights, t->indegree);
		ints_add(&arr, t->dests, t->outdegree);
		if (t->weighted)
			ints_add(&arr, t->dweights, t->outdegree);
	}
	if ((err = ints_stage(&arr, "restart")))
		return err;
	struct chan_call *call = shim_call_begin(CALL_TOPO_REBUILD);
	call->arg[0] = ABI(c->handle);
	call->arg[2] = t->kind;
	call->arg[3] = t->kind == MPI_CART ? t->ndims
		     : t->kind == MPI_GRAPH ? t->nnodes : t->indegree;
	call->arg[7] = t->outdegree;
	call->arg[8] = t->weighted;
	ints_fill(&arr, call);
	err = shim_call_simple(call);
	shim_stage_free(&arr.st);
	return err;
}
