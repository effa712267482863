/*
 * type.c - datatypes as the application sees them.
 *
 * The shim must know each datatype's size and extent without asking the
 * proxy: it stages count*extent bytes of every buffer and turns the byte
 * count of a status into MPI_Get_count.  For the predefined types these
 * are properties of the C (or Fortran) type on this ABI, written here as
 * sizeof expressions.  Derived datatypes (constructor trees) come later.
 */
#include "shim.h"

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

struct type_info {
	uint32_t size;
	uint32_t extent;
	uint32_t true_extent;   /* differs for pair types: no tail padding */
};

/* Indexed by handle & 0xff for the 0x200..0x2ff predefined range. */
static struct type_info predefined[256];

#define PAIR(a, b) struct { a v; b i; }
#define SET(h, sz, ext, text) \
	predefined[(uintptr_t)(h) & 0xff] = (struct type_info){ (sz), (ext), (text) }
#define PLAIN(h, ctype) SET(h, sizeof(ctype), sizeof(ctype), sizeof(ctype))
/* A pair type's size is the sum of its members, its extent the struct's,
 * its true extent ends with the second member. */
#define PAIRT(h, a, b) SET(h, sizeof(a) + sizeof(b), sizeof(PAIR(a, b)), \
			   offsetof(PAIR(a, b), i) + sizeof(b))

static void type_table_init(void)
{
	PLAIN(MPI_AINT, MPI_Aint);
	PLAIN(MPI_COUNT, MPI_Count);
	PLAIN(MPI_OFFSET, MPI_Offset);
	PLAIN(MPI_PACKED, char);
	PLAIN(MPI_SHORT, short);
	PLAIN(MPI_INT, int);
	PLAIN(MPI_LONG, long);
	PLAIN(MPI_LONG_LONG, long long);
	PLAIN(MPI_UNSIGNED_SHORT, unsigned short);
	PLAIN(MPI_UNSIGNED, unsigned);
	PLAIN(MPI_UNSIGNED_LONG, unsigned long);
	PLAIN(MPI_UNSIGNED_LONG_LONG, unsigned long long);
	PLAIN(MPI_FLOAT, float);
	PLAIN(MPI_C_FLOAT_COMPLEX, float _Complex);
	PLAIN(MPI_CXX_FLOAT_COMPLEX, float _Complex);
	PLAIN(MPI_DOUBLE, double);
	PLAIN(MPI_C_DOUBLE_COMPLEX, double _Complex);
	PLAIN(MPI_CXX_DOUBLE_COMPLEX, double _Complex);
	PLAIN(MPI_LONG_DOUBLE, long double);
	PLAIN(MPI_C_LONG_DOUBLE_COMPLEX, long double _Complex);
	PLAIN(MPI_CXX_LONG_DOUBLE_COMPLEX, long double _Complex);
	/* Fortran types as gfortran lays them out on x86-64. */
	PLAIN(MPI_LOGICAL, int32_t);
	PLAIN(MPI_INTEGER, int32_t);
	PLAIN(MPI_REAL, float);
	PLAIN(MPI_COMPLEX, float _Complex);
	PLAIN(MPI_DOUBLE_PRECISION, double);
	PLAIN(MPI_DOUBLE_COMPLEX, double _Complex);
	PLAIN(MPI_CHARACTER, char);
	PAIRT(MPI_FLOAT_INT, float, int);
	PAIRT(MPI_DOUBLE_INT, double, int);
	PAIRT(MPI_LONG_INT, long, int);
	PAIRT(MPI_2INT, int, int);
	PAIRT(MPI_SHORT_INT, short, int);
	PAIRT(MPI_LONG_DOUBLE_INT, long double, int);
	PAIRT(MPI_2REAL, float, float);
	PAIRT(MPI_2DOUBLE_PRECISION, double, double);
	PAIRT(MPI_2INTEGER, int32_t, int32_t);
	PLAIN(MPI_C_BOOL, bool);
	PLAIN(MPI_CXX_BOOL, bool);
	PLAIN(MPI_WCHAR, wchar_t);
	/* Fixed-size types: the ABI encodes log2(size) in bits 3..5. */
	static const MPI_Datatype fixed[] = {
		MPI_INT8_T, MPI_UINT8_T, MPI_CHAR, MPI_SIGNED_CHAR,
		MPI_UNSIGNED_CHAR, MPI_BYTE, MPI_INT16_T, MPI_UINT16_T,
		MPI_INT32_T, MPI_UINT32_T, MPI_INT64_T, MPI_UINT64_T,
		MPI_LOGICAL1, MPI_INTEGER1, MPI_LOGICAL2, MPI_INTEGER2,
		MPI_REAL2, MPI_LOGICAL4, MPI_INTEGER4, MPI_REAL4, MPI_COMPLEX4,
		MPI_LOGICAL8, MPI_INTEGER8, MPI_REAL8, MPI_COMPLEX8,
		MPI_LOGICAL16, MPI_INTEGER16, MPI_REAL16, MPI_COMPLEX16,
		MPI_COMPLEX32,
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint32_t sz = 1u << (((uintptr_t)fixed[i] >> 3) & 7);
		SET(fixed[i], sz, sz, sz);
	}
}

static const struct type_info *predefined_info(MPI_Datatype t)
{
	static int ready;
	uintptr_t h = (uintptr_t)t;

	if (!ready) {
		type_table_init();
		ready = 1;
	}
	if (h <= 0x200 || h > 0x2ff || predefined[h & 0xff].size == 0)
		return NULL;
	return &predefined[h & 0xff];
}

int shim_type_info(MPI_Datatype t, size_t *size, size_t *extent)
{
	const struct type_info *ti = predefined_info(t);

	if (!ti)
		return MPI_ERR_TYPE;
	*size = ti->size;
	*extent = ti->extent;
	return MPI_SUCCESS;
}

/* Checks a datatype argument and raises MPI_ERR_TYPE through SELF. */
static const struct type_info *type_check(MPI_Datatype t, const char *fn)
{
	const struct type_info *ti = predefined_info(t);

	if (!ti)
		shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "invalid datatype %#lx",
			    (unsigned long)(uintptr_t)t);
	return ti;
}

int PMPI_Type_size(MPI_Datatype datatype, int *size)
{
	const struct type_info *ti = type_check(datatype, "MPI_Type_size");

	if (!ti)
		return MPI_ERR_TYPE;
	*size = (int)ti->size;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_size)

int PMPI_Type_get_extent(MPI_Datatype datatype, MPI_Aint *lb, MPI_Aint *extent)
{
	const struct type_info *ti = type_check(datatype, "MPI_Type_get_extent");

	if (!ti)
		return MPI_ERR_TYPE;
	*lb = 0;
	*extent = (MPI_Aint)ti->extent;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_extent)

int PMPI_Type_get_true_extent(MPI_Datatype datatype, MPI_Aint *true_lb,
			      MPI_Aint *true_extent)
{
	const struct type_info *ti = type_check(datatype, "MPI_Type_get_true_extent");

	if (!ti)
		return MPI_ERR_TYPE;
	*true_lb = 0;
	*true_extent = (MPI_Aint)ti->true_extent;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_true_extent)
