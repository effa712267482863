/*
 * typebig.c - the large-count datatype constructors (MPI_Type_*_c) and
 * MPI_Type_get_envelope_c / MPI_Type_get_contents_c.
 *
 * Every shim datatype record holds an int constructor (shim/typeops.c):
 * it is what the bounds, the typemap, the proxy and a rebuild after a
 * restart work from, and Open MPI 4.1 has no _c constructors anyway.  So
 * a _c constructor makes the same type with an int constructor, then
 * notes on the record what the application gave (struct shim_type_c),
 * which is what the envelope and contents calls return for it:
 *
 *   - arguments that fit an int: the int constructor of the same name;
 *   - the h-variants take their byte displacements and strides as they
 *     are (MPI_Aint is 64 bits here) when counts and block lengths fit;
 *   - otherwise the typemap as blocks of MPI_Type_create_struct, each
 *     displacement in bytes, and a block longer than INT_MAX one element
 *     of a type made for it (shim_bigc_type, shim/bigcount.c);
 *   - subarray and darray sizes that do not fit an int: MPI_ERR_COUNT.
 *
 * The envelope of a type made by a _c constructor has large counts, so
 * the int MPI_Type_get_envelope/get_contents refuse it with
 * MPI_ERR_TYPE (shim/typeops.c), as MPI-4 says.
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int fits(int64_t v)
{
	return v >= INT_MIN && v <= INT_MAX;
}

static int all_fit(const MPI_Count *v, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (!fits(v[i]))
			return 0;
	return 1;
}

/* An int copy of n counts that fit; NULL with MPI_ERR_NO_MEM raised. */
static int *ints_of(const MPI_Count *v, int64_t n, const char *fn)
{
	int *w = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));

	if (!w) {
		shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
		return NULL;
	}
	for (int64_t i = 0; i < n; i++)
		w[i] = (int)v[i];
	return w;
}

static int count_arg(int64_t count, const void *array, const char *fn)
{
	if (count < 0 || count > (INT_MAX - 1) / 2)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "count %lld",
				   (long long)count);
	if (count > 0 && !array)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array");
	return MPI_SUCCESS;
}

static int extent_of(MPI_Datatype t, int64_t *extent, const char *fn)
{
	struct shim_type *r = shim_type_get(t);

	if (!r)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "oldtype %#lx is %s",
				   (unsigned long)(uintptr_t)t, shim_type_why(t));
	*extent = r->extent;
	return MPI_SUCCESS;
}

/* ------------------------------------------- the typemap as a struct */

/* The blocks of a struct constructor being filled; made[i] is the type
 * made for a long block i, freed once the struct holds it.  [lo, hi) are
 * the bounds the blocks span, which a vector or an indexed type has
 * exactly: a struct would pad its extent for alignment. */
struct blocks {
	int n;
	int *bl;
	MPI_Aint *disp;
	MPI_Datatype *types;
	MPI_Datatype *made;
	int64_t lo, hi;
	int spans;               /* 1: lo and hi are set; -1: a negative extent,
				  * left to the struct */
};

static int blocks_init(struct blocks *b, int64_t n, const char *fn)
{
	int err = count_arg(n, b, fn);

	if (err)
		return err;
	size_t k = (size_t)(n > 0 ? n : 1);
	b->n = (int)n;
	b->bl = malloc(k * sizeof(int));
	b->disp = malloc(k * sizeof(MPI_Aint));
	b->types = malloc(k * sizeof(MPI_Datatype));
	b->made = malloc(k * sizeof(MPI_Datatype));
	if (!b->bl || !b->disp || !b->types || !b->made) {
		free(b->bl);
		free(b->disp);
		free(b->types);
		free(b->made);
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	}
	for (int i = 0; i < b->n; i++)
		b->made[i] = MPI_DATATYPE_NULL;
	b->spans = 0;
	return MPI_SUCCESS;
}

/* Widen [lo, hi) by bl elements of t at byte disp. */
static int blocks_span(struct blocks *b, int64_t bl, int64_t disp, MPI_Datatype t,
		       const char *fn)
{
	const struct shim_type *r = shim_type_get(t);
	int64_t len, lo, hi;

	if (!r || bl <= 0 || b->spans < 0)
		return MPI_SUCCESS;
	if (r->extent < 0) {
		b->spans = -1;
		return MPI_SUCCESS;
	}
	if (__builtin_mul_overflow(bl - 1, r->extent, &len) ||
	    __builtin_add_overflow(disp, r->lb, &lo) ||
	    __builtin_add_overflow(lo, r->extent, &hi) || __builtin_add_overflow(hi, len, &hi))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn,
				   "%lld elements at byte %lld do not fit 64 bits", (long long)bl,
				   (long long)disp);
	if (!b->spans || lo < b->lo)
		b->lo = lo;
	if (!b->spans || hi > b->hi)
		b->hi = hi;
	b->spans = 1;
	return MPI_SUCCESS;
}

/* Block i: bl elements of t at byte index * unit (overflow: MPI_ERR_COUNT). */
static int blocks_set(struct blocks *b, int i, int64_t bl, int64_t index, int64_t unit,
		      MPI_Datatype t, const char *fn)
{
	int64_t disp;

	if (__builtin_mul_overflow(index, unit, &disp))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn,
				   "displacement %lld of %lld-byte units does not fit",
				   (long long)index, (long long)unit);
	b->disp[i] = (MPI_Aint)disp;
	int err = blocks_span(b, bl, disp, t, fn);
	if (err)
		return err;
	if (fits(bl)) {
		b->bl[i] = (int)bl;
		b->types[i] = t;
		return MPI_SUCCESS;
	}
	b->bl[i] = 1;
	err = shim_bigc_type(bl, t, &b->made[i], fn);
	b->types[i] = b->made[i];
	return err;
}

/* The struct; with exact, resized to the blocks' own bounds. */
static int blocks_make(struct blocks *b, int exact, MPI_Datatype *out)
{
	MPI_Datatype st;
	int resize = exact && b->spans == 1;
	int err = PMPI_Type_create_struct(b->n, b->bl, b->disp, b->types, resize ? &st : out);

	if (err || !resize)
		return err;
	err = PMPI_Type_create_resized(st, (MPI_Aint)b->lo, (MPI_Aint)(b->hi - b->lo), out);
	PMPI_Type_free(&st);
	return err;
}

static void blocks_free(struct blocks *b)
{
	for (int i = 0; i < b->n; i++)
		if (b->made[i] != MPI_DATATYPE_NULL)
			PMPI_Type_free(&b->made[i]);
	free(b->bl);
	free(b->disp);
	free(b->types);
	free(b->made);
}

/* count blocks of bl elements of t, block i at byte i * stride: a
 * vector whose block length or stride does not fit an int. */
static int strided_struct(int64_t count, int64_t bl, int64_t stride, MPI_Datatype t,
			  MPI_Datatype *out, const char *fn)
{
	struct blocks b;
	int err = blocks_init(&b, count, fn);

	if (err)
		return err;
	for (int i = 0; !err && i < b.n; i++)
		err = blocks_set(&b, i, bl, i, stride, t, fn);
	if (!err)
		err = blocks_make(&b, 1, out);
	blocks_free(&b);
	return err;
}

/* ------------------------------------------- what the application gave */

/* Note constructor (combiner; ints, counts, types) on *newtype's record.
 * On failure *newtype is freed. */
static int remember(MPI_Datatype *newtype, int combiner, int nints, const int *ints,
		    int64_t ncounts, const MPI_Count *counts, int ntypes,
		    const MPI_Datatype *types, const char *fn)
{
	size_t bytes = sizeof(struct shim_type_c) + (size_t)ncounts * sizeof(MPI_Count) +
		       (size_t)ntypes * sizeof(MPI_Datatype) + (size_t)nints * sizeof(int);
	struct shim_type_c *b = malloc(bytes);

	if (!b) {
		PMPI_Type_free(newtype);
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	}
	b->combiner = combiner;
	b->nints = nints;
	b->naddrs = 0;
	b->ncounts = (int)ncounts;
	b->ntypes = ntypes;
	b->addrs = NULL;
	b->counts = (MPI_Count *)(b + 1);
	b->types = (MPI_Datatype *)(b->counts + ncounts);
	b->ints = (int *)(b->types + ntypes);
	memcpy(b->counts, counts, (size_t)ncounts * sizeof(MPI_Count));
	memcpy(b->types, types, (size_t)ntypes * sizeof(MPI_Datatype));
	if (nints)
		memcpy(b->ints, ints, (size_t)nints * sizeof(int));
	shim_type_get(*newtype)->big = b;
	return MPI_SUCCESS;
}

/* Concatenate count, then the arrays a (n1 entries) and c (n2). */
static MPI_Count *counts_of(MPI_Count first, const MPI_Count *a, int64_t n1,
			    const MPI_Count *c, int64_t n2, const char *fn)
{
	MPI_Count *v = malloc((size_t)(1 + n1 + n2) * sizeof(MPI_Count));

	if (!v) {
		shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
		return NULL;
	}
	v[0] = first;
	if (n1)
		memcpy(v + 1, a, (size_t)n1 * sizeof(MPI_Count));
	if (n2)
		memcpy(v + 1 + n1, c, (size_t)n2 * sizeof(MPI_Count));
	return v;
}

/* remember() with the counts (count, a[n1], c[n2]). */
static int remember_arrays(MPI_Datatype *newtype, int combiner, MPI_Count count,
			   const MPI_Count *a, int64_t n1, const MPI_Count *c, int64_t n2,
			   int ntypes, const MPI_Datatype *types, const char *fn)
{
	MPI_Count *v = counts_of(count, a, n1, c, n2, fn);

	if (!v) {
		PMPI_Type_free(newtype);
		return MPI_ERR_NO_MEM;
	}
	int err = remember(newtype, combiner, 0, NULL, 1 + n1 + n2, v, ntypes, types, fn);
	free(v);
	return err;
}

/* -------------------------------------------------------- constructors */

int PMPI_Type_contiguous_c(MPI_Count count, MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_contiguous_c";
	MPI_Datatype chunks;
	int err;

	if (fits(count)) {
		err = PMPI_Type_contiguous((int)count, oldtype, newtype);
	} else if (!(err = shim_bigc_type(count, oldtype, &chunks, fn))) {
		err = PMPI_Type_contiguous(1, chunks, newtype);
		PMPI_Type_free(&chunks);
	}
	return err ? err : remember(newtype, MPI_COMBINER_CONTIGUOUS, 0, NULL, 1, &count, 1,
				    &oldtype, fn);
}
SHIM_WEAK(Type_contiguous_c)

int PMPI_Type_vector_c(MPI_Count count, MPI_Count blocklength, MPI_Count stride,
		       MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_vector_c";
	MPI_Count v[3] = { count, blocklength, stride };
	int64_t extent = 0;
	int err;

	if (all_fit(v, 3))
		err = PMPI_Type_vector((int)count, (int)blocklength, (int)stride, oldtype,
				       newtype);
	else if (!(err = extent_of(oldtype, &extent, fn))) {
		int64_t bytes;
		err = __builtin_mul_overflow(stride, extent, &bytes)
			? shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "stride %lld",
				      (long long)stride)
			: strided_struct(count, blocklength, bytes, oldtype, newtype, fn);
	}
	return err ? err : remember(newtype, MPI_COMBINER_VECTOR, 0, NULL, 3, v, 1, &oldtype,
				    fn);
}
SHIM_WEAK(Type_vector_c)

int PMPI_Type_create_hvector_c(MPI_Count count, MPI_Count blocklength, MPI_Count stride,
			       MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_hvector_c";
	MPI_Count v[3] = { count, blocklength, stride };
	int err;

	if (all_fit(v, 2))
		err = PMPI_Type_create_hvector((int)count, (int)blocklength, (MPI_Aint)stride,
					       oldtype, newtype);
	else
		err = strided_struct(count, blocklength, stride, oldtype, newtype, fn);
	return err ? err : remember(newtype, MPI_COMBINER_HVECTOR, 0, NULL, 3, v, 1, &oldtype,
				    fn);
}
SHIM_WEAK(Type_create_hvector_c)

/* Indexed types as a struct: block i is bl[i] (or bl1 when bl is NULL)
 * elements at displacement disp[i] units of unit bytes. */
static int indexed_struct(MPI_Count count, const MPI_Count *bl, MPI_Count bl1,
			  const MPI_Count *disp, int64_t unit, MPI_Datatype oldtype,
			  MPI_Datatype *newtype, const char *fn)
{
	struct blocks b;
	int err = blocks_init(&b, count, fn);

	if (err)
		return err;
	for (int i = 0; !err && i < b.n; i++)
		err = blocks_set(&b, i, bl ? bl[i] : bl1, disp[i], unit, oldtype, fn);
	if (!err)
		err = blocks_make(&b, 1, newtype);
	blocks_free(&b);
	return err;
}

int PMPI_Type_indexed_c(MPI_Count count, const MPI_Count array_of_blocklengths[],
			const MPI_Count array_of_displacements[], MPI_Datatype oldtype,
			MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_indexed_c";
	const MPI_Count *bl = array_of_blocklengths, *d = array_of_displacements;
	int64_t extent = 0;
	int err;

	if ((err = count_arg(count, bl && d ? bl : NULL, fn)) ||
	    (err = extent_of(oldtype, &extent, fn)))
		return err;
	if (all_fit(bl, count) && all_fit(d, count)) {
		int *ib = ints_of(bl, count, fn), *id = ints_of(d, count, fn);
		err = ib && id ? PMPI_Type_indexed((int)count, ib, id, oldtype, newtype)
			       : MPI_ERR_NO_MEM;
		free(ib);
		free(id);
	} else {
		err = indexed_struct(count, bl, 0, d, extent, oldtype, newtype, fn);
	}
	return err ? err : remember_arrays(newtype, MPI_COMBINER_INDEXED, count, bl, count, d,
					   count, 1, &oldtype, fn);
}
SHIM_WEAK(Type_indexed_c)

int PMPI_Type_create_hindexed_c(MPI_Count count, const MPI_Count array_of_blocklengths[],
				const MPI_Count array_of_displacements[],
				MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_hindexed_c";
	const MPI_Count *bl = array_of_blocklengths, *d = array_of_displacements;
	int err;

	if ((err = count_arg(count, bl && d ? bl : NULL, fn)))
		return err;
	if (all_fit(bl, count)) {
		int *ib = ints_of(bl, count, fn);
		err = ib ? PMPI_Type_create_hindexed((int)count, ib, (const MPI_Aint *)d,
						     oldtype, newtype)
			 : MPI_ERR_NO_MEM;
		free(ib);
	} else {
		err = indexed_struct(count, bl, 0, d, 1, oldtype, newtype, fn);
	}
	return err ? err : remember_arrays(newtype, MPI_COMBINER_HINDEXED, count, bl, count, d,
					   count, 1, &oldtype, fn);
}
SHIM_WEAK(Type_create_hindexed_c)

int PMPI_Type_create_indexed_block_c(MPI_Count count, MPI_Count blocklength,
				     const MPI_Count array_of_displacements[],
				     MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_indexed_block_c";
	const MPI_Count *d = array_of_displacements;
	int64_t extent = 0;
	int err;

	if ((err = count_arg(count, d, fn)) ||
	    (err = extent_of(oldtype, &extent, fn)))
		return err;
	if (fits(blocklength) && all_fit(d, count)) {
		int *id = ints_of(d, count, fn);
		err = id ? PMPI_Type_create_indexed_block((int)count, (int)blocklength, id,
							  oldtype, newtype)
			 : MPI_ERR_NO_MEM;
		free(id);
	} else {
		err = indexed_struct(count, NULL, blocklength, d, extent, oldtype, newtype, fn);
	}
	return err ? err : remember_arrays(newtype, MPI_COMBINER_INDEXED_BLOCK, count,
					   &blocklength, 1, d, count, 1, &oldtype, fn);
}
SHIM_WEAK(Type_create_indexed_block_c)

int PMPI_Type_create_hindexed_block_c(MPI_Count count, MPI_Count blocklength,
				      const MPI_Count array_of_displacements[],
				      MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_hindexed_block_c";
	const MPI_Count *d = array_of_displacements;
	int err;

	if ((err = count_arg(count, d, fn)))
		return err;
	if (fits(blocklength))
		err = PMPI_Type_create_hindexed_block((int)count, (int)blocklength,
						      (const MPI_Aint *)d, oldtype, newtype);
	else
		err = indexed_struct(count, NULL, blocklength, d, 1, oldtype, newtype, fn);
	return err ? err : remember_arrays(newtype, MPI_COMBINER_HINDEXED_BLOCK, count,
					   &blocklength, 1, d, count, 1, &oldtype, fn);
}
SHIM_WEAK(Type_create_hindexed_block_c)

int PMPI_Type_create_struct_c(MPI_Count count, const MPI_Count array_of_blocklengths[],
			      const MPI_Count array_of_displacements[],
			      const MPI_Datatype array_of_types[], MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_struct_c";
	const MPI_Count *bl = array_of_blocklengths, *d = array_of_displacements;
	struct blocks b;
	int err;

	if ((err = count_arg(count, bl && d && array_of_types ? bl : NULL, fn)))
		return err;
	if (all_fit(bl, count)) {
		int *ib = ints_of(bl, count, fn);
		err = ib ? PMPI_Type_create_struct((int)count, ib, (const MPI_Aint *)d,
						   array_of_types, newtype)
			 : MPI_ERR_NO_MEM;
		free(ib);
	} else if (!(err = blocks_init(&b, count, fn))) {
		for (int i = 0; !err && i < b.n; i++)
			err = blocks_set(&b, i, bl[i], d[i], 1, array_of_types[i], fn);
		if (!err)
			err = blocks_make(&b, 0, newtype);
		blocks_free(&b);
	}
	return err ? err : remember_arrays(newtype, MPI_COMBINER_STRUCT, count, bl, count, d,
					   count, (int)count, array_of_types, fn);
}
SHIM_WEAK(Type_create_struct_c)

int PMPI_Type_create_subarray_c(int ndims, const MPI_Count array_of_sizes[],
				const MPI_Count array_of_subsizes[],
				const MPI_Count array_of_starts[], int order,
				MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_subarray_c";
	const MPI_Count *sz = array_of_sizes, *sub = array_of_subsizes, *st = array_of_starts;
	int err;

	if (ndims <= 0 || ndims > (INT_MAX - 2) / 3)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "ndims %d", ndims);
	if (!sz || !sub || !st)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array");
	if (!all_fit(sz, ndims) || !all_fit(sub, ndims) || !all_fit(st, ndims))
		return shim_error(SHIM_NOCOMM, MPI_ERR_COUNT, fn,
				  "subarrays with sizes beyond INT_MAX are not supported");
	int *isz = ints_of(sz, ndims, fn), *isub = ints_of(sub, ndims, fn),
	    *ist = ints_of(st, ndims, fn);
	/* counts: sizes, subsizes, starts */
	MPI_Count *v = malloc((size_t)(3 * ndims) * sizeof(MPI_Count));
	int ints[2] = { ndims, order };
	err = MPI_ERR_NO_MEM;
	if (!v)
		shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	else if (isz && isub && ist &&
		 !(err = PMPI_Type_create_subarray(ndims, isz, isub, ist, order, oldtype,
						   newtype))) {
		memcpy(v, sz, (size_t)ndims * sizeof(MPI_Count));
		memcpy(v + ndims, sub, (size_t)ndims * sizeof(MPI_Count));
		memcpy(v + 2 * ndims, st, (size_t)ndims * sizeof(MPI_Count));
		err = remember(newtype, MPI_COMBINER_SUBARRAY, 2, ints, 3 * ndims, v, 1,
			       &oldtype, fn);
	}
	free(isz);
	free(isub);
	free(ist);
	free(v);
	return err;
}
SHIM_WEAK(Type_create_subarray_c)

int PMPI_Type_create_darray_c(int size, int rank, int ndims, const MPI_Count array_of_gsizes[],
			      const int array_of_distribs[], const int array_of_dargs[],
			      const int array_of_psizes[], int order, MPI_Datatype oldtype,
			      MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_darray_c";
	const MPI_Count *g = array_of_gsizes;
	int err;

	if (ndims <= 0 || ndims > (INT_MAX - 4) / 4)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "ndims %d", ndims);
	if (!g || !array_of_distribs || !array_of_dargs || !array_of_psizes)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array");
	if (!all_fit(g, ndims))
		return shim_error(SHIM_NOCOMM, MPI_ERR_COUNT, fn,
				  "darrays with sizes beyond INT_MAX are not supported");
	int *ig = ints_of(g, ndims, fn);
	int *ints = malloc((size_t)(4 + 3 * ndims) * sizeof(int));
	err = MPI_ERR_NO_MEM;
	if (!ints)
		shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	else if (ig &&
	    !(err = PMPI_Type_create_darray(size, rank, ndims, ig, array_of_distribs,
					    array_of_dargs, array_of_psizes, order, oldtype,
					    newtype))) {
		/* ints: size, rank, ndims, distribs, dargs, psizes, order. */
		ints[0] = size;
		ints[1] = rank;
		ints[2] = ndims;
		memcpy(ints + 3, array_of_distribs, (size_t)ndims * sizeof(int));
		memcpy(ints + 3 + ndims, array_of_dargs, (size_t)ndims * sizeof(int));
		memcpy(ints + 3 + 2 * ndims, array_of_psizes, (size_t)ndims * sizeof(int));
		ints[3 + 3 * ndims] = order;
		err = remember(newtype, MPI_COMBINER_DARRAY, 4 + 3 * ndims, ints, ndims, g, 1,
			       &oldtype, fn);
	}
	free(ig);
	free(ints);
	return err;
}
SHIM_WEAK(Type_create_darray_c)

int PMPI_Type_create_resized_c(MPI_Datatype oldtype, MPI_Count lb, MPI_Count extent,
			       MPI_Datatype *newtype)
{
	MPI_Count v[2] = { lb, extent };
	int err = PMPI_Type_create_resized(oldtype, (MPI_Aint)lb, (MPI_Aint)extent, newtype);

	return err ? err : remember(newtype, MPI_COMBINER_RESIZED, 0, NULL, 2, v, 1, &oldtype,
				    "MPI_Type_create_resized_c");
}
SHIM_WEAK(Type_create_resized_c)

/* --------------------------------------------------- envelope, contents */

int PMPI_Type_get_envelope_c(MPI_Datatype datatype, MPI_Count *num_integers,
			     MPI_Count *num_addresses, MPI_Count *num_large_counts,
			     MPI_Count *num_datatypes, int *combiner)
{
	struct shim_type *t = shim_type_get(datatype);

	if (!t)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, "MPI_Type_get_envelope_c",
				   "datatype %#lx is %s", (unsigned long)(uintptr_t)datatype,
				   shim_type_why(datatype));
	const struct shim_type_c *b = t->big;
	*num_integers = b ? b->nints : t->nints;
	*num_addresses = b ? b->naddrs : t->naddrs;
	*num_large_counts = b ? b->ncounts : 0;
	*num_datatypes = b ? b->ntypes : t->ntypes;
	*combiner = b ? b->combiner : t->combiner;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_envelope_c)

/* Derived types handed out are new references the caller must free. */
int PMPI_Type_get_contents_c(MPI_Datatype datatype, MPI_Count max_integers,
			     MPI_Count max_addresses, MPI_Count max_large_counts,
			     MPI_Count max_datatypes, int array_of_integers[],
			     MPI_Aint array_of_addresses[], MPI_Count array_of_large_counts[],
			     MPI_Datatype array_of_datatypes[])
{
	static const char fn[] = "MPI_Type_get_contents_c";
	struct shim_type *t = shim_type_get(datatype);

	if (!t)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)datatype, shim_type_why(datatype));
	if (t->combiner == MPI_COMBINER_NAMED)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn,
				   "%s is predefined: it has no contents", t->name);
	struct shim_type_c plain = { t->combiner, t->nints, t->naddrs, 0, t->ntypes,
				     t->ints, t->addrs, NULL, t->types };
	const struct shim_type_c *b = t->big ? t->big : &plain;
	if (max_integers < b->nints || max_addresses < b->naddrs ||
	    max_large_counts < b->ncounts || max_datatypes < b->ntypes)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				   "room for %lld/%lld/%lld/%lld, the type has %d/%d/%d/%d",
				   (long long)max_integers, (long long)max_addresses,
				   (long long)max_large_counts, (long long)max_datatypes,
				   b->nints, b->naddrs, b->ncounts, b->ntypes);
	if (b->nints)
		memcpy(array_of_integers, b->ints, (size_t)b->nints * sizeof(int));
	if (b->naddrs)
		memcpy(array_of_addresses, b->addrs, (size_t)b->naddrs * sizeof(MPI_Aint));
	if (b->ncounts)
		memcpy(array_of_large_counts, b->counts, (size_t)b->ncounts * sizeof(MPI_Count));
	shim_type_hand_out(b->types, b->ntypes, array_of_datatypes);
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_contents_c)
