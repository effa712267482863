/*
 * type.c - real derived datatypes (served for shim/typeops.c, whose
 * header documents the TYPE_CREATE and TYPE_FREE layouts).
 *
 * The shim sends each constructor as MPI_Type_get_contents would return
 * it; we make the same real datatype, commit it at once (the shim keeps
 * the commit state; a real commit costs nothing to the application) and
 * store it under the handle the shim picked (proxy/table.c), so px_type()
 * resolves derived handles like predefined ones.
 *
 * The shim also sends the bounds it computed.  Where the real MPI's lb or
 * extent differ (MPICH and Open MPI disagree on a few padding and marker
 * corner cases), the real type is resized to the shim's, so both sides
 * lay out count elements identically and the application sees the same
 * extent under every MPI.  A different size means a different type
 * signature: that is a bug, reported as MPI_ERR_INTERN.
 *
 * A type from MPI_Type_create_f90_* is no constructor: the shim sends the
 * predefined type it is (arg[11]) and we store that real type itself, so
 * the real MPI reduces it like any predefined one and no real f90 type,
 * which neither MPI lets anyone free, is ever made.
 */
#include "px.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The constructor as it arrived, with handles and constants made real. */
struct ctor {
	int combiner;            /* ABI_COMBINER_* */
	int nints, naddrs, ntypes;
	int *ints;               /* a copy: darray/subarray constants are translated */
	MPI_Aint *addrs;
	MPI_Datatype *types;
};

static int ctor_in(struct chan_call *c, struct ctor *k)
{
	const unsigned char *p = c->arg[5] == CHAN_OFF_NONE ? c->inl : px_ptr(c->arg[5]);
	const int64_t *a = (const int64_t *)(const void *)p;

	k->combiner = (int)c->arg[1];
	k->nints = (int)c->arg[2];
	k->naddrs = (int)c->arg[3];
	k->ntypes = (int)c->arg[4];
	k->ints = malloc((size_t)k->nints * sizeof(int) + 1);
	k->addrs = malloc((size_t)k->naddrs * sizeof(MPI_Aint) + 1);
	k->types = malloc((size_t)k->ntypes * sizeof(MPI_Datatype) + 1);
	if (!k->ints || !k->addrs || !k->types)
		return MPI_ERR_NO_MEM;
	for (int i = 0; i < k->naddrs; i++)
		k->addrs[i] = (MPI_Aint)a[i];
	for (int i = 0; i < k->ntypes; i++)
		if ((k->types[i] = px_type(a[k->naddrs + i])) == MPI_DATATYPE_NULL)
			return MPI_ERR_TYPE;
	memcpy(k->ints, a + k->naddrs + k->ntypes, (size_t)k->nints * sizeof(int));
	return MPI_SUCCESS;
}

static void ctor_free(struct ctor *k)
{
	free(k->ints);
	free(k->addrs);
	free(k->types);
}

static int order_in(int abi)
{
	return abi == ABI_ORDER_FORTRAN ? MPI_ORDER_FORTRAN : MPI_ORDER_C;
}

static int distrib_in(int abi)
{
	switch (abi) {
	case ABI_DISTRIBUTE_BLOCK: return MPI_DISTRIBUTE_BLOCK;
	case ABI_DISTRIBUTE_CYCLIC: return MPI_DISTRIBUTE_CYCLIC;
	default: return MPI_DISTRIBUTE_NONE;
	}
}

static int darg_in(int abi)
{
	return abi == ABI_DISTRIBUTE_DFLT_DARG ? MPI_DISTRIBUTE_DFLT_DARG : abi;
}

static int make_subarray(struct ctor *k, MPI_Datatype *out)
{
	int nd = k->ints[0];
	const int *v = k->ints + 1;

	return MPI_Type_create_subarray(nd, v, v + nd, v + 2 * nd, order_in(v[3 * nd]),
					k->types[0], out);
}

static int make_darray(struct ctor *k, MPI_Datatype *out)
{
	int nd = k->ints[2];
	int *g = k->ints + 3, *ds = g + nd, *da = g + 2 * nd, *ps = g + 3 * nd;

	for (int i = 0; i < nd; i++) {
		ds[i] = distrib_in(ds[i]);
		da[i] = darg_in(da[i]);
	}
	return MPI_Type_create_darray(k->ints[0], k->ints[1], nd, g, ds, da, ps,
				      order_in(g[4 * nd]), k->types[0], out);
}

static int make(struct ctor *k, MPI_Datatype *out)
{
	const int *v = k->ints;
	MPI_Datatype old = k->ntypes ? k->types[0] : MPI_DATATYPE_NULL;

	switch (k->combiner) {
	case ABI_COMBINER_DUP:
		return MPI_Type_dup(old, out);
	case ABI_COMBINER_CONTIGUOUS:
		return MPI_Type_contiguous(v[0], old, out);
	case ABI_COMBINER_VECTOR:
		return MPI_Type_vector(v[0], v[1], v[2], old, out);
	case ABI_COMBINER_HVECTOR:
		return MPI_Type_create_hvector(v[0], v[1], k->addrs[0], old, out);
	case ABI_COMBINER_INDEXED:
		return MPI_Type_indexed(v[0], v + 1, v + 1 + v[0], old, out);
	case ABI_COMBINER_HINDEXED:
		return MPI_Type_create_hindexed(v[0], v + 1, k->addrs, old, out);
	case ABI_COMBINER_INDEXED_BLOCK:
		return MPI_Type_create_indexed_block(v[0], v[1], v + 2, old, out);
	case ABI_COMBINER_HINDEXED_BLOCK:
		return MPI_Type_create_hindexed_block(v[0], v[1], k->addrs, old, out);
	case ABI_COMBINER_STRUCT:
		return MPI_Type_create_struct(v[0], v + 1, k->addrs, k->types, out);
	case ABI_COMBINER_SUBARRAY:
		return make_subarray(k, out);
	case ABI_COMBINER_DARRAY:
		return make_darray(k, out);
	case ABI_COMBINER_RESIZED:
		return MPI_Type_create_resized(old, k->addrs[0], k->addrs[1], out);
	default:
		return MPI_ERR_TYPE;
	}
}

/* Give *t the shim's lb and extent if it has others. */
static int force_bounds(MPI_Datatype *t, MPI_Aint lb, MPI_Aint extent)
{
	MPI_Aint l, e;
	MPI_Datatype r;
	int rc = MPI_Type_get_extent(*t, &l, &e);

	if (rc != MPI_SUCCESS || (l == lb && e == extent))
		return rc;
	if ((rc = MPI_Type_create_resized(*t, lb, extent, &r)) != MPI_SUCCESS)
		return rc;
	if ((rc = MPI_Type_commit(&r)) != MPI_SUCCESS) {
		MPI_Type_free(&r);
		return rc;
	}
	MPI_Type_free(t);
	*t = r;
	return MPI_SUCCESS;
}

/* The real type must carry the data the shim thinks it does. */
static int check_data(struct chan_call *c, MPI_Datatype t)
{
	MPI_Count size, tlb, text;

	if (MPI_Type_size_x(t, &size) != MPI_SUCCESS ||
	    MPI_Type_get_true_extent_x(t, &tlb, &text) != MPI_SUCCESS)
		return MPI_ERR_INTERN;
	if (size != c->arg[8]) {
		dm_err("rank %d: datatype %#llx (combiner %lld): the real MPI says %lld "
		       "bytes, the shim %lld", px.world_rank, (unsigned long long)c->arg[0],
		       (long long)c->arg[1], (long long)size, (long long)c->arg[8]);
		return MPI_ERR_INTERN;
	}
	if (size > 0 && (tlb != c->arg[9] || text != c->arg[10]))
		dm_warn("rank %d: datatype %#llx (combiner %lld): true bounds %lld+%lld, "
			"the shim's %lld+%lld", px.world_rank, (unsigned long long)c->arg[0],
			(long long)c->arg[1], (long long)tlb, (long long)text,
			(long long)c->arg[9], (long long)c->arg[10]);
	return MPI_SUCCESS;
}

static int is_f90(int64_t combiner)
{
	return combiner == ABI_COMBINER_F90_REAL || combiner == ABI_COMBINER_F90_COMPLEX ||
	       combiner == ABI_COMBINER_F90_INTEGER;
}

static void f90_create(struct chan_call *c)
{
	MPI_Datatype real = px_type(c->arg[11]);
	int rc = real == MPI_DATATYPE_NULL ? MPI_ERR_TYPE : check_data(c, real);

	if (rc == MPI_SUCCESS)
		px_type_set(c->arg[0], real);
	px_reply(c, rc);
}

void px_call_TYPE_CREATE(struct chan_call *c)
{
	struct ctor k = { 0 };
	MPI_Datatype real = MPI_DATATYPE_NULL;

	if (is_f90(c->arg[1])) {
		f90_create(c);
		return;
	}
	int rc = ctor_in(c, &k);

	if (rc == MPI_SUCCESS)
		rc = make(&k, &real);
	ctor_free(&k);
	if (rc == MPI_SUCCESS && (rc = MPI_Type_commit(&real)) == MPI_SUCCESS &&
	    (rc = force_bounds(&real, (MPI_Aint)c->arg[6], (MPI_Aint)c->arg[7])) ==
	    MPI_SUCCESS)
		rc = check_data(c, real);
	if (rc == MPI_SUCCESS)
		px_type_set(c->arg[0], real);
	else if (real != MPI_DATATYPE_NULL)
		MPI_Type_free(&real);
	px_reply(c, rc);
}

/* TYPE_FREE: arg[0] n, inl int64 handles[n]. */
void px_call_TYPE_FREE(struct chan_call *c)
{
	const int64_t *h = (const int64_t *)(const void *)c->inl;
	int rc = MPI_SUCCESS;

	for (int64_t i = 0; i < c->arg[0]; i++) {
		MPI_Datatype real = px_type_take(h[i]);
		if (real != MPI_DATATYPE_NULL && MPI_Type_free(&real) != MPI_SUCCESS)
			rc = MPI_ERR_TYPE;
	}
	px_reply(c, rc);
}
