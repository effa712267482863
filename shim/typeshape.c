/*
 * typeshape.c - what a datatype constructor means: its components in
 * typemap order, and the bounds that follow from them.
 *
 * shim_type_components() is the one place that knows each combiner's
 * layout; bounds (here) and flattening (shim/pack.c) both walk it.
 * Subarrays and darrays are walked as runs of their innermost dimension,
 * each process owning, per dimension, the runs of indices its
 * distribution gives it (processes in row-major order for both storage
 * orders, as the standard says).
 *
 * Bounds follow MPI's typemap rules: lb/ub are the lowest/highest byte of
 * any entry, unless some entry carries explicit markers (a resized,
 * subarray or darray component: "sticky" bounds), in which case only the
 * markers count; a struct without markers pads its extent to the
 * strictest alignment of its basic types, as MPICH and Open MPI both do
 * (Open MPI pads hvector/hindexed too; we follow MPICH there).  True
 * bounds cover the bytes of data only.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ components */

/* The record behind a component handle, even if the application has
 * freed its own handle to it (the component is held by its user). */
static struct shim_type *component(MPI_Datatype h)
{
	struct shim_type *k = shim_handle_get(SHIM_K_TYPE, (uintptr_t)h);

	return k ? k : shim_type_get(h);
}

/* Per dimension of a subarray or darray: the runs of indices this
 * process owns, in increasing order. */
struct dim {
	int64_t stride;          /* elements between consecutive indices */
	int64_t nrun;
	int64_t *start, *len;
};

static int dims_walk(const struct dim *d, int nd, int k, int64_t disp, int64_t ext,
		     struct shim_type *old, shim_type_comp_fn *fn, void *arg)
{
	const struct dim *x = &d[k];
	int err;

	for (int64_t r = 0; r < x->nrun; r++) {
		if (k == nd - 1) {
			err = fn(arg, disp + x->start[r] * x->stride * ext, x->len[r], old);
			if (err)
				return err;
			continue;
		}
		for (int64_t i = x->start[r]; i < x->start[r] + x->len[r]; i++)
			if ((err = dims_walk(d, nd, k + 1, disp + i * x->stride * ext, ext,
					     old, fn, arg)))
				return err;
	}
	return MPI_SUCCESS;
}

/* Owned runs of one darray dimension: n indices, p processes, this one
 * at coordinate r, distribution dist with argument darg. */
static int darray_runs(struct dim *x, int64_t n, int dist, int darg, int p, int r)
{
	int64_t k = dist == MPI_DISTRIBUTE_NONE ? n
		: darg == MPI_DISTRIBUTE_DFLT_DARG
		? (dist == MPI_DISTRIBUTE_BLOCK ? (n + p - 1) / p : 1) : darg;
	int64_t step = dist == MPI_DISTRIBUTE_NONE ? n : k * p;
	int64_t first = dist == MPI_DISTRIBUTE_NONE ? 0 : k * r;
	int64_t cap = first < n ? (n - first + step - 1) / step : 0;

	x->nrun = 0;
	x->start = malloc((size_t)(cap ? cap : 1) * sizeof(int64_t));
	x->len = malloc((size_t)(cap ? cap : 1) * sizeof(int64_t));
	if (!x->start || !x->len)
		return MPI_ERR_NO_MEM;
	for (int64_t s = first; s < n; s += step) {
		x->start[x->nrun] = s;
		x->len[x->nrun++] = n - s < k ? n - s : k;
		if (dist == MPI_DISTRIBUTE_BLOCK)
			break;
	}
	return MPI_SUCCESS;
}

/* Subarray (darray == 0) or darray: dimensions ordered outermost first,
 * then the walk. */
static int array_walk(const struct shim_type *t, shim_type_comp_fn *fn, void *arg)
{
	const int *a = t->ints;
	int darray = t->combiner == MPI_COMBINER_DARRAY;
	int nd = darray ? a[2] : a[0];
	const int *g = darray ? a + 3 : a + 1;
	int order = darray ? a[3 + 4 * nd] : a[1 + 3 * nd];
	struct shim_type *old = component(t->types[0]);
	struct dim *d = calloc((size_t)nd, sizeof(*d));
	int err = MPI_SUCCESS, rank = darray ? a[1] : 0;

	if (!d)
		return MPI_ERR_NO_MEM;
	/* Row-major process coordinates, for both storage orders. */
	int coord[nd > 0 ? nd : 1];
	for (int i = nd - 1; darray && i >= 0; i--) {
		int p = a[3 + 3 * nd + i];
		coord[i] = rank % p;
		rank /= p;
	}
	int64_t stride = 1;
	for (int j = 0; j < nd && !err; j++) {
		int k = order == MPI_ORDER_C ? nd - 1 - j : j;  /* j-th from the inside */
		struct dim *x = &d[order == MPI_ORDER_C ? k : nd - 1 - k];
		x->stride = stride;
		stride *= g[k];
		if (darray) {
			err = darray_runs(x, g[k], a[3 + nd + k], a[3 + 2 * nd + k],
					  a[3 + 3 * nd + k], coord[k]);
			continue;
		}
		x->start = malloc(sizeof(int64_t));
		x->len = malloc(sizeof(int64_t));
		if (!x->start || !x->len) {
			err = MPI_ERR_NO_MEM;
			continue;
		}
		x->nrun = 1;
		x->start[0] = a[1 + 2 * nd + k];
		x->len[0] = a[1 + nd + k];
	}
	if (!err)
		err = dims_walk(d, nd, 0, 0, old->extent, old, fn, arg);
	for (int j = 0; j < nd; j++) {
		free(d[j].start);
		free(d[j].len);
	}
	free(d);
	return err;
}

int shim_type_components(const struct shim_type *t, shim_type_comp_fn *fn, void *arg)
{
	const int *a = t->ints;
	const MPI_Aint *ad = t->addrs;
	struct shim_type *old = t->ntypes ? component(t->types[0]) : NULL;
	int err = MPI_SUCCESS;
	int64_t ext = old ? old->extent : 0;
	switch (t->combiner) {
	case MPI_COMBINER_DUP:
	case MPI_COMBINER_RESIZED:
		return fn(arg, 0, 1, old);
	case MPI_COMBINER_CONTIGUOUS:
		return fn(arg, 0, a[0], old);
	case MPI_COMBINER_VECTOR:
		for (int64_t i = 0; i < a[0] && !err; i++)
			err = fn(arg, i * a[2] * ext, a[1], old);
		return err;
	case MPI_COMBINER_HVECTOR:
		for (int64_t i = 0; i < a[0] && !err; i++)
			err = fn(arg, i * ad[0], a[1], old);
		return err;
	case MPI_COMBINER_INDEXED:
		for (int i = 0; i < a[0] && !err; i++)
			err = fn(arg, (int64_t)a[1 + a[0] + i] * ext, a[1 + i], old);
		return err;
	case MPI_COMBINER_HINDEXED:
		for (int i = 0; i < a[0] && !err; i++)
			err = fn(arg, ad[i], a[1 + i], old);
		return err;
	case MPI_COMBINER_INDEXED_BLOCK:
		for (int i = 0; i < a[0] && !err; i++)
			err = fn(arg, (int64_t)a[2 + i] * ext, a[1], old);
		return err;
	case MPI_COMBINER_HINDEXED_BLOCK:
		for (int i = 0; i < a[0] && !err; i++)
			err = fn(arg, ad[i], a[1], old);
		return err;
	case MPI_COMBINER_STRUCT:
		for (int i = 0; i < a[0] && !err; i++)
			err = fn(arg, ad[i], a[1 + i], component(t->types[i]));
		return err;
	case MPI_COMBINER_SUBARRAY:
	case MPI_COMBINER_DARRAY:
		return array_walk(t, fn, arg);
	default:
		return MPI_ERR_INTERN;
	}
}

/* ---------------------------------------------------------------- bounds */

struct acc {
	int plain, sticky, data;           /* seen: unmarked, marked, any data */
	int prefill;
	int64_t lb, ub, slb, sub, tlb, tub;
	int64_t size, nelems;
	int align;
};

static int acc_add(void *arg, int64_t disp, int64_t bl, struct shim_type *k)
{
	struct acc *a = arg;

	if (bl <= 0)
		return MPI_SUCCESS;
	int64_t span = (bl - 1) * k->extent;
	int64_t lo = disp + (span < 0 ? span : 0), hi = disp + (span > 0 ? span : 0);
	int64_t lb = lo + k->lb, ub = hi + k->lb + k->extent;
	if (k->sticky) {
		a->slb = a->sticky && a->slb < lb ? a->slb : lb;
		a->sub = a->sticky && a->sub > ub ? a->sub : ub;
		a->sticky = 1;
	} else {
		a->lb = a->plain && a->lb < lb ? a->lb : lb;
		a->ub = a->plain && a->ub > ub ? a->ub : ub;
		a->plain = 1;
	}
	if (k->size > 0) {
		int64_t tlb = lo + k->true_lb, tub = hi + k->true_lb + k->true_extent;
		a->tlb = a->data && a->tlb < tlb ? a->tlb : tlb;
		a->tub = a->data && a->tub > tub ? a->tub : tub;
		a->data = 1;
	}
	a->size += bl * k->size;
	a->nelems += bl * k->nelems;
	a->align = k->align > a->align ? k->align : a->align;
	a->prefill |= k->prefill;
	return MPI_SUCCESS;
}

static int64_t array_extent(const struct shim_type *t, const struct shim_type *old)
{
	int darray = t->combiner == MPI_COMBINER_DARRAY;
	int nd = darray ? t->ints[2] : t->ints[0];
	const int *g = darray ? t->ints + 3 : t->ints + 1;
	int64_t n = old->extent;

	for (int i = 0; i < nd; i++)
		n *= g[i];
	return n;
}

int shim_type_bounds(struct shim_type *t)
{
	struct acc a;
	struct shim_type *old = t->ntypes ? component(t->types[0]) : NULL;

	memset(&a, 0, sizeof(a));
	a.align = 1;
	int err = shim_type_components(t, acc_add, &a);
	if (err)
		return err;
	t->size = a.size;
	t->nelems = a.nelems;
	t->align = a.align;
	t->true_lb = a.data ? a.tlb : 0;
	t->true_extent = a.data ? a.tub - a.tlb : 0;
	t->sticky = a.sticky;
	t->prefill = a.prefill;
	t->lb = a.sticky ? a.slb : a.plain ? a.lb : 0;
	t->extent = (a.sticky ? a.sub : a.plain ? a.ub : 0) - t->lb;
	switch (t->combiner) {
	case MPI_COMBINER_STRUCT:
		if (!a.sticky && t->extent % t->align)
			t->extent += t->align - t->extent % t->align;
		break;
	case MPI_COMBINER_RESIZED:
		t->lb = t->addrs[0];
		t->extent = t->addrs[1];
		t->sticky = 1;
		break;
	case MPI_COMBINER_SUBARRAY:
	case MPI_COMBINER_DARRAY:
		t->lb = 0;
		t->extent = array_extent(t, old);
		t->sticky = 1;
		break;
	}
	return MPI_SUCCESS;
}
