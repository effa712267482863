/*
 * typef90.c - MPI_Type_create_f90_real, _complex and _integer: the
 * datatypes of Fortran's parameterized kinds, chosen by precision and
 * range as SELECTED_REAL_KIND(p, r) and SELECTED_INT_KIND(r) choose.
 *
 * MPI calls the result predefined, yet MPI_Type_get_envelope reports
 * MPI_COMBINER_F90_* and MPI_Type_get_contents the p and r given, and a
 * type matches only one made from the same (p, r).  So each (combiner,
 * p, r) gets one record of its own (shim/typeops.c), made once and
 * handed out again on every later call; it cannot be freed.  The records
 * themselves are the list of what was made: their envelope and contents
 * are (combiner, p, r).
 *
 * The kinds are those gfortran has on x86-64, with C types of the same
 * layout as the basic types, which every build of both real MPIs has
 * and reduces: REAL(4), (8) and (10) are float, double and long double
 * (REAL(10) is the x87 format, stored in 16 bytes); INTEGER(1)..(8) are
 * int8_t..int64_t.  The proxy uses that very C type (proxy/type.c), so
 * the type survives a restart under the other MPI.  gfortran's REAL(16)
 * (IEEE quad) and INTEGER(16) are left out: neither real MPI returns a
 * type for them (doc/conformance.md), and a reduction on one in the proxy
 * would not compute in quad.  Asking for more than the kinds give is
 * MPI_ERR_ARG.
 */
#include "shim.h"

#include <string.h>

/* One kind: the largest precision and exponent range it gives. */
struct kind {
	int p, r;
	MPI_Datatype real, cplx;
};

static const struct kind real_kinds[] = {
	{ 6, 37, MPI_FLOAT, MPI_C_FLOAT_COMPLEX },
	{ 15, 307, MPI_DOUBLE, MPI_C_DOUBLE_COMPLEX },
	{ 18, 4931, MPI_LONG_DOUBLE, MPI_C_LONG_DOUBLE_COMPLEX },
};

static const struct { int r; MPI_Datatype t; } int_kinds[] = {
	{ 2, MPI_INT8_T }, { 4, MPI_INT16_T }, { 9, MPI_INT32_T }, { 18, MPI_INT64_T },
};

/* Held from looking for a type to making it, so two threads asking for
 * the same (p, r) get one type.  Not the records' lock (shim_state_mu),
 * which is a leaf: making a type takes the call slot.  Recursive: a
 * failed make calls the error handler with it held, and a user handler
 * may ask for an f90 type again.  Held at a checkpoint when the make
 * waits at the gate, so a shim_rlock (shim/rlock.h says why). */
static struct shim_rlock make_mu = SHIM_RLOCK_INIT;

/* The kind SELECTED_REAL_KIND(p, r) picks: the first that gives both;
 * MPI_UNDEFINED (like a negative value) asks for nothing. */
static const struct kind *real_kind(int p, int r)
{
	for (size_t i = 0; i < sizeof(real_kinds) / sizeof(real_kinds[0]); i++)
		if ((p == MPI_UNDEFINED || p <= real_kinds[i].p) &&
		    (r == MPI_UNDEFINED || r <= real_kinds[i].r))
			return &real_kinds[i];
	return NULL;
}

static MPI_Datatype int_kind(int r)
{
	for (size_t i = 0; i < sizeof(int_kinds) / sizeof(int_kinds[0]); i++)
		if (r <= int_kinds[i].r)
			return int_kinds[i].t;
	return MPI_DATATYPE_NULL;
}

/* A constructor to look for among the datatype records. */
struct ctor_key {
	int combiner, nints;
	const int *ints;
	MPI_Datatype found;
};

static void match_ctor(uintptr_t h, void *obj, void *arg)
{
	const struct shim_type *t = obj;
	struct ctor_key *k = arg;

	(void)h;
	if (t->combiner == k->combiner && t->nints == k->nints &&
	    memcmp(t->ints, k->ints, (size_t)k->nints * sizeof(int)) == 0)
		k->found = t->handle;
}

/* The type for (combiner, p, r) of basic layout: the one made before, or
 * a new one.  Integer types have one integer in their contents, r. */
static int f90_type(int combiner, int p, int r, MPI_Datatype basic, MPI_Datatype *out,
		    const char *fn)
{
	int pr[2] = { p, r };
	struct ctor_key k = { combiner, 2, pr, MPI_DATATYPE_NULL };
	int err = MPI_SUCCESS;

	if (combiner == MPI_COMBINER_F90_INTEGER)
		k = (struct ctor_key){ combiner, 1, &pr[1], MPI_DATATYPE_NULL };
	shim_rlock_take(&make_mu);
	shim_handle_each(SHIM_K_TYPE, match_ctor, &k);
	if (k.found != MPI_DATATYPE_NULL)
		*out = k.found;
	else
		err = shim_type_make_f90(combiner, k.nints, k.ints, basic, out, fn);
	shim_rlock_give(&make_mu);
	return err;
}

static int real_or_complex(int combiner, int p, int r, MPI_Datatype *newtype,
			   const char *fn)
{
	shim_require_init(fn);
	if (!newtype)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "newtype is NULL");
	if (p == MPI_UNDEFINED && r == MPI_UNDEFINED)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				  "p and r are both MPI_UNDEFINED");
	const struct kind *k = real_kind(p, r);
	if (!k)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				   "no Fortran kind has precision %d and range %d", p, r);
	return f90_type(combiner, p, r, combiner == MPI_COMBINER_F90_REAL ? k->real : k->cplx,
			newtype, fn);
}

int PMPI_Type_create_f90_real(int p, int r, MPI_Datatype *newtype)
{
	return real_or_complex(MPI_COMBINER_F90_REAL, p, r, newtype,
			       "MPI_Type_create_f90_real");
}
SHIM_WEAK(Type_create_f90_real)

int PMPI_Type_create_f90_complex(int p, int r, MPI_Datatype *newtype)
{
	return real_or_complex(MPI_COMBINER_F90_COMPLEX, p, r, newtype,
			       "MPI_Type_create_f90_complex");
}
SHIM_WEAK(Type_create_f90_complex)

/* r == MPI_UNDEFINED asks for no range, as in both real MPIs. */
int PMPI_Type_create_f90_integer(int r, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_f90_integer";

	shim_require_init(fn);
	if (!newtype)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "newtype is NULL");
	MPI_Datatype basic = int_kind(r);
	if (basic == MPI_DATATYPE_NULL)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				   "no Fortran integer kind has range %d", r);
	return f90_type(MPI_COMBINER_F90_INTEGER, 0, r, basic, newtype, fn);
}
SHIM_WEAK(Type_create_f90_integer)
