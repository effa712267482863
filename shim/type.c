/*
 * type.c - datatype records and the queries answered from them.
 *
 * The shim must know every datatype's layout without asking the proxy:
 * it stages buffers in the arena, copies back only what a receive
 * delivered, packs, and turns the byte count of a status into counts and
 * elements.  So each datatype has a record (struct shim_type, shim.h):
 *
 *   - predefined types have static records, filled once from the C (or
 *     Fortran) type on this ABI as sizeof/_Alignof expressions; pair
 *     types such as MPI_DOUBLE_INT are two-block typemaps with padding;
 *   - derived types get a record from their constructor (shim/typeops.c)
 *     holding the constructor itself, the bounds that follow from it and,
 *     once committed, the flattened typemap (shim/pack.c).
 *
 * A derived handle stays valid while the application holds it (user
 * references); the record lives on while other records or pending
 * requests use it (refs), so a type freed while a receive is pending
 * still describes where the data goes.
 */
#include "shim.h"

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* Indexed by handle & 0xff for the 0x200..0x2ff predefined range. */
static struct shim_type predefined[256];
static struct shim_block pre_blocks[256][2];
static struct shim_sig pre_sig[256][2];

static struct shim_type *pre_set(MPI_Datatype h, const char *name, int64_t size,
				 int64_t extent, int align)
{
	struct shim_type *t = &predefined[(uintptr_t)h & 0xff];

	t->handle = h;
	t->combiner = MPI_COMBINER_NAMED;
	t->size = size;
	t->extent = extent;
	t->true_extent = size;
	t->nelems = 1;
	t->align = align;
	t->committed = 1;
	t->user_refs = 1;
	t->blocks = pre_blocks[(uintptr_t)h & 0xff];
	t->blocks[0] = (struct shim_block){ 0, size };
	t->nblocks = 1;
	t->sig = pre_sig[(uintptr_t)h & 0xff];
	t->sig[0] = (struct shim_sig){ h, 1 };
	t->nsig = 1;
	t->contig = size == extent;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

/* A pair type { a v; b i; }: two blocks, padding after each as C lays it
 * out, signature (ta, tb). */
static void pre_pair(MPI_Datatype h, const char *name, MPI_Datatype ta, int64_t sa,
		     MPI_Datatype tb, int64_t sb, int64_t off_b, int64_t extent, int align)
{
	struct shim_type *t = pre_set(h, name, sa + sb, extent, align);

	t->true_extent = off_b + sb;
	t->nelems = 2;
	t->blocks[0] = (struct shim_block){ 0, sa };
	t->blocks[1] = (struct shim_block){ off_b, sb };
	t->nblocks = off_b == sa ? 1 : 2;
	if (t->nblocks == 1)
		t->blocks[0].len = sa + sb;
	t->sig[0] = (struct shim_sig){ ta, 1 };
	t->sig[1] = (struct shim_sig){ tb, 1 };
	t->nsig = ta == tb ? 1 : 2;
	if (t->nsig == 1)
		t->sig[0].n = 2;
	t->contig = t->nblocks == 1 && extent == sa + sb;
}

#define PLAIN(h, ctype) pre_set(h, #h, sizeof(ctype), sizeof(ctype), _Alignof(ctype))
#define PAIR(h, ta, a, tb, b)                                                   \
	do {                                                                    \
		struct pair_ { a v; b i; };                                     \
		pre_pair(h, #h, ta, sizeof(a), tb, sizeof(b),                   \
			 offsetof(struct pair_, i), sizeof(struct pair_),       \
			 _Alignof(struct pair_));                               \
	} while (0)
/* Fixed-size types: the ABI encodes log2(size) in bits 3..5. */
#define FIXED_SIZE(h) ((int64_t)1 << (((uintptr_t)(h) >> 3) & 7))
#define FIXED(h) pre_set(h, #h, FIXED_SIZE(h), FIXED_SIZE(h), (int)FIXED_SIZE(h))
#define FIXED_COMPLEX(h) pre_set(h, #h, FIXED_SIZE(h), FIXED_SIZE(h), (int)FIXED_SIZE(h) / 2)

static void type_table_init(void)
{
	PLAIN(MPI_AINT, MPI_Aint);
	PLAIN(MPI_COUNT, MPI_Count);
	PLAIN(MPI_OFFSET, MPI_Offset);
	PLAIN(MPI_PACKED, char);
	PLAIN(MPI_SHORT, short);
	PLAIN(MPI_INT, int);
	PLAIN(MPI_LONG, long);
	/* The names of these two are those of their synonyms, as in MPICH
	 * and Open MPI (MPI_LONG_LONG_INT, MPI_C_COMPLEX). */
	pre_set(MPI_LONG_LONG, "MPI_LONG_LONG_INT", sizeof(long long), sizeof(long long),
		_Alignof(long long));
	PLAIN(MPI_UNSIGNED_SHORT, unsigned short);
	PLAIN(MPI_UNSIGNED, unsigned);
	PLAIN(MPI_UNSIGNED_LONG, unsigned long);
	PLAIN(MPI_UNSIGNED_LONG_LONG, unsigned long long);
	PLAIN(MPI_FLOAT, float);
	pre_set(MPI_C_FLOAT_COMPLEX, "MPI_C_COMPLEX", sizeof(float _Complex),
		sizeof(float _Complex), _Alignof(float _Complex));
	PLAIN(MPI_CXX_FLOAT_COMPLEX, float _Complex);
	PLAIN(MPI_DOUBLE, double);
	PLAIN(MPI_C_DOUBLE_COMPLEX, double _Complex);
	PLAIN(MPI_CXX_DOUBLE_COMPLEX, double _Complex);
	PLAIN(MPI_LONG_DOUBLE, long double)->prefill = 1;
	PLAIN(MPI_C_LONG_DOUBLE_COMPLEX, long double _Complex)->prefill = 1;
	PLAIN(MPI_CXX_LONG_DOUBLE_COMPLEX, long double _Complex)->prefill = 1;
	/* Fortran types as gfortran lays them out on x86-64. */
	PLAIN(MPI_LOGICAL, int32_t);
	PLAIN(MPI_INTEGER, int32_t);
	PLAIN(MPI_REAL, float);
	PLAIN(MPI_COMPLEX, float _Complex);
	PLAIN(MPI_DOUBLE_PRECISION, double);
	PLAIN(MPI_DOUBLE_COMPLEX, double _Complex);
	PLAIN(MPI_CHARACTER, char);
	PAIR(MPI_FLOAT_INT, MPI_FLOAT, float, MPI_INT, int);
	PAIR(MPI_DOUBLE_INT, MPI_DOUBLE, double, MPI_INT, int);
	PAIR(MPI_LONG_INT, MPI_LONG, long, MPI_INT, int);
	PAIR(MPI_2INT, MPI_INT, int, MPI_INT, int);
	PAIR(MPI_SHORT_INT, MPI_SHORT, short, MPI_INT, int);
	PAIR(MPI_LONG_DOUBLE_INT, MPI_LONG_DOUBLE, long double, MPI_INT, int);
	predefined[(uintptr_t)MPI_LONG_DOUBLE_INT & 0xff].prefill = 1;
	PAIR(MPI_2REAL, MPI_REAL, float, MPI_REAL, float);
	PAIR(MPI_2DOUBLE_PRECISION, MPI_DOUBLE_PRECISION, double, MPI_DOUBLE_PRECISION,
	     double);
	PAIR(MPI_2INTEGER, MPI_INTEGER, int32_t, MPI_INTEGER, int32_t);
	PLAIN(MPI_C_BOOL, bool);
	PLAIN(MPI_CXX_BOOL, bool);
	PLAIN(MPI_WCHAR, wchar_t);
	FIXED(MPI_INT8_T); FIXED(MPI_UINT8_T); FIXED(MPI_CHAR); FIXED(MPI_SIGNED_CHAR);
	FIXED(MPI_UNSIGNED_CHAR); FIXED(MPI_BYTE); FIXED(MPI_INT16_T); FIXED(MPI_UINT16_T);
	FIXED(MPI_INT32_T); FIXED(MPI_UINT32_T); FIXED(MPI_INT64_T); FIXED(MPI_UINT64_T);
	FIXED(MPI_LOGICAL1); FIXED(MPI_INTEGER1); FIXED(MPI_LOGICAL2); FIXED(MPI_INTEGER2);
	FIXED(MPI_REAL2); FIXED(MPI_LOGICAL4); FIXED(MPI_INTEGER4); FIXED(MPI_REAL4);
	FIXED(MPI_LOGICAL8); FIXED(MPI_INTEGER8); FIXED(MPI_REAL8);
	FIXED(MPI_LOGICAL16); FIXED(MPI_INTEGER16); FIXED(MPI_REAL16);
	FIXED_COMPLEX(MPI_COMPLEX4); FIXED_COMPLEX(MPI_COMPLEX8);
	FIXED_COMPLEX(MPI_COMPLEX16); FIXED_COMPLEX(MPI_COMPLEX32);
}

static struct shim_type *predefined_rec(uintptr_t h)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, type_table_init);
	if (h <= 0x200 || h > 0x2ff || predefined[h & 0xff].size == 0)
		return NULL;
	return &predefined[h & 0xff];
}

int shim_type_predefined(MPI_Datatype t)
{
	return predefined_rec((uintptr_t)t) != NULL;
}

DM_HOT struct shim_type *shim_type_get(MPI_Datatype t)
{
	uintptr_t h = (uintptr_t)t;

	if (h < SHIM_HANDLE_BASE)
		return predefined_rec(h);
	struct shim_type *r = shim_handle_get(SHIM_K_TYPE, h);
	return r && r->user_refs > 0 ? r : NULL;
}

DM_HOT int shim_type_check(MPI_Datatype t, struct shim_type **out)
{
	struct shim_type *r = shim_type_get(t);

	*out = r;
	return r && r->committed ? MPI_SUCCESS : MPI_ERR_TYPE;
}

const char *shim_type_why(MPI_Datatype t)
{
	struct shim_type *r = shim_type_get(t);

	if (t == MPI_DATATYPE_NULL)
		return "MPI_DATATYPE_NULL";
	if (!r)
		return "not a valid datatype";
	return r->committed ? "valid" : "not committed";
}

int shim_type_info(MPI_Datatype t, size_t *size, size_t *extent)
{
	struct shim_type *r;

	if (shim_type_check(t, &r))
		return MPI_ERR_TYPE;
	*size = (size_t)r->size;
	*extent = (size_t)r->extent;
	return MPI_SUCCESS;
}

/* Checks a datatype argument of a query; raises MPI_ERR_TYPE through
 * SHIM_NOCOMM.  Queries accept uncommitted types. */
static struct shim_type *type_arg(MPI_Datatype t, const char *fn)
{
	struct shim_type *r = shim_type_get(t);

	if (!r)
		shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
			    (unsigned long)(uintptr_t)t, shim_type_why(t));
	return r;
}

/* An int output that cannot hold v gets MPI_UNDEFINED, as MPI says. */
static int int_or_undefined(int64_t v)
{
	return v > INT32_MAX || v < INT32_MIN ? MPI_UNDEFINED : (int)v;
}

int PMPI_Type_size(MPI_Datatype datatype, int *size)
{
	struct shim_type *r = type_arg(datatype, "MPI_Type_size");

	if (!r)
		return MPI_ERR_TYPE;
	*size = int_or_undefined(r->size);
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_size)

static int size_count(MPI_Datatype datatype, MPI_Count *size, const char *fn)
{
	struct shim_type *r = type_arg(datatype, fn);

	if (!r)
		return MPI_ERR_TYPE;
	*size = r->size;
	return MPI_SUCCESS;
}

int PMPI_Type_size_x(MPI_Datatype datatype, MPI_Count *size)
{
	return size_count(datatype, size, "MPI_Type_size_x");
}
SHIM_WEAK(Type_size_x)

int PMPI_Type_size_c(MPI_Datatype datatype, MPI_Count *size)
{
	return size_count(datatype, size, "MPI_Type_size_c");
}
SHIM_WEAK(Type_size_c)

/* lb/extent (true == 0) or true_lb/true_extent of a datatype. */
static int bounds(MPI_Datatype datatype, int true_bounds, int64_t *lb, int64_t *extent,
		  const char *fn)
{
	struct shim_type *r = type_arg(datatype, fn);

	if (!r)
		return MPI_ERR_TYPE;
	*lb = true_bounds ? r->true_lb : r->lb;
	*extent = true_bounds ? r->true_extent : r->extent;
	return MPI_SUCCESS;
}

int PMPI_Type_get_extent(MPI_Datatype datatype, MPI_Aint *lb, MPI_Aint *extent)
{
	int64_t l, e;
	int err = bounds(datatype, 0, &l, &e, "MPI_Type_get_extent");

	if (err == MPI_SUCCESS) {
		*lb = (MPI_Aint)l;
		*extent = (MPI_Aint)e;
	}
	return err;
}
SHIM_WEAK(Type_get_extent)

int PMPI_Type_get_extent_x(MPI_Datatype datatype, MPI_Count *lb, MPI_Count *extent)
{
	return bounds(datatype, 0, lb, extent, "MPI_Type_get_extent_x");
}
SHIM_WEAK(Type_get_extent_x)

int PMPI_Type_get_extent_c(MPI_Datatype datatype, MPI_Count *lb, MPI_Count *extent)
{
	return bounds(datatype, 0, lb, extent, "MPI_Type_get_extent_c");
}
SHIM_WEAK(Type_get_extent_c)

int PMPI_Type_get_true_extent(MPI_Datatype datatype, MPI_Aint *true_lb,
			      MPI_Aint *true_extent)
{
	int64_t l, e;
	int err = bounds(datatype, 1, &l, &e, "MPI_Type_get_true_extent");

	if (err == MPI_SUCCESS) {
		*true_lb = (MPI_Aint)l;
		*true_extent = (MPI_Aint)e;
	}
	return err;
}
SHIM_WEAK(Type_get_true_extent)

int PMPI_Type_get_true_extent_x(MPI_Datatype datatype, MPI_Count *true_lb,
				MPI_Count *true_extent)
{
	return bounds(datatype, 1, true_lb, true_extent, "MPI_Type_get_true_extent_x");
}
SHIM_WEAK(Type_get_true_extent_x)

int PMPI_Type_get_true_extent_c(MPI_Datatype datatype, MPI_Count *true_lb,
				MPI_Count *true_extent)
{
	return bounds(datatype, 1, true_lb, true_extent, "MPI_Type_get_true_extent_c");
}
SHIM_WEAK(Type_get_true_extent_c)

int PMPI_Type_get_name(MPI_Datatype datatype, char *type_name, int *resultlen)
{
	struct shim_type *r = type_arg(datatype, "MPI_Type_get_name");

	if (!r)
		return MPI_ERR_TYPE;
	*resultlen = snprintf(type_name, MPI_MAX_OBJECT_NAME, "%s", r->name);
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_name)

int PMPI_Type_set_name(MPI_Datatype datatype, const char *type_name)
{
	struct shim_type *r = type_arg(datatype, "MPI_Type_set_name");

	if (!r)
		return MPI_ERR_TYPE;
	if (!type_name)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Type_set_name", "NULL name");
	snprintf(r->name, sizeof(r->name), "%s", type_name);
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_set_name)

/* Addresses are plain pointers on this ABI, relative to MPI_BOTTOM (0). */
int PMPI_Get_address(const void *location, MPI_Aint *address)
{
	*address = (MPI_Aint)(uintptr_t)location;
	return MPI_SUCCESS;
}
SHIM_WEAK(Get_address)

/* The sized Fortran type of a class and size, as MPICH returns it (Open
 * MPI returns MPI_INTEGER, MPI_REAL and MPI_COMPLEX for their default
 * sizes, doc/conformance.md); both real MPIs have every one of these. */
int PMPI_Type_match_size(int typeclass, int size, MPI_Datatype *datatype)
{
	static const struct { int cls; MPI_Datatype t; } match[] = {
		{ MPI_TYPECLASS_INTEGER, MPI_INTEGER1 }, { MPI_TYPECLASS_INTEGER, MPI_INTEGER2 },
		{ MPI_TYPECLASS_INTEGER, MPI_INTEGER4 }, { MPI_TYPECLASS_INTEGER, MPI_INTEGER8 },
		{ MPI_TYPECLASS_REAL, MPI_REAL4 }, { MPI_TYPECLASS_REAL, MPI_REAL8 },
		{ MPI_TYPECLASS_REAL, MPI_REAL16 },
		{ MPI_TYPECLASS_COMPLEX, MPI_COMPLEX8 }, { MPI_TYPECLASS_COMPLEX, MPI_COMPLEX16 },
		{ MPI_TYPECLASS_COMPLEX, MPI_COMPLEX32 },
		{ MPIX_TYPECLASS_LOGICAL, MPI_C_BOOL },
	};

	for (size_t i = 0; i < sizeof(match) / sizeof(match[0]); i++)
		if (match[i].cls == typeclass && shim_type_get(match[i].t)->size == size) {
			*datatype = match[i].t;
			return MPI_SUCCESS;
		}
	return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Type_match_size",
			   "no predefined type of class %d and size %d", typeclass, size);
}
SHIM_WEAK(Type_match_size)

/* MPI-4.1: the predefined (value, index) pair type for MPI_MINLOC and
 * MPI_MAXLOC, or MPI_DATATYPE_NULL when no predefined one has that pair. */
int PMPI_Type_get_value_index(MPI_Datatype value_type, MPI_Datatype index_type,
			      MPI_Datatype *pair_type)
{
	static const struct { MPI_Datatype value, index, pair; } pairs[] = {
		{ MPI_FLOAT, MPI_INT, MPI_FLOAT_INT }, { MPI_DOUBLE, MPI_INT, MPI_DOUBLE_INT },
		{ MPI_LONG, MPI_INT, MPI_LONG_INT }, { MPI_INT, MPI_INT, MPI_2INT },
		{ MPI_SHORT, MPI_INT, MPI_SHORT_INT },
		{ MPI_LONG_DOUBLE, MPI_INT, MPI_LONG_DOUBLE_INT },
		{ MPI_REAL, MPI_REAL, MPI_2REAL },
		{ MPI_DOUBLE_PRECISION, MPI_DOUBLE_PRECISION, MPI_2DOUBLE_PRECISION },
		{ MPI_INTEGER, MPI_INTEGER, MPI_2INTEGER },
	};

	if (!pair_type)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Type_get_value_index",
				  "pair_type is NULL");
	if (!shim_type_get(value_type) || !shim_type_get(index_type))
		return shim_error(SHIM_NOCOMM, MPI_ERR_TYPE, "MPI_Type_get_value_index",
				  "value_type or index_type is not a datatype");
	*pair_type = MPI_DATATYPE_NULL;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (pairs[i].value == value_type && pairs[i].index == index_type)
			*pair_type = pairs[i].pair;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_value_index)
