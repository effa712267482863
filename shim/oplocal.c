/*
 * oplocal.c - the predefined reduction operations on predefined types,
 * computed in the application for MPI_Reduce_local.
 *
 * MPI_Reduce_local touches no communicator and no other process, so a
 * round trip to the proxy would buy nothing but a second copy of both
 * buffers; the arithmetic is simple enough to do here.  Which pairs are
 * defined is the standard's table: SUM and PROD on integers, floating
 * point and complex; MIN and MAX on integers and floating point; the
 * logical ops on integers and C_BOOL; the bitwise ops on integers and
 * BYTE; MINLOC and MAXLOC on the pair types.  Anything else (derived
 * types, MPI_REPLACE and MPI_NO_OP, which are for one-sided
 * accumulation) is MPI_ERR_OP, as MPICH answers.
 *
 * Signed integers are added and multiplied as their unsigned twins, so
 * an overflow wraps as it does in both real MPIs instead of being
 * undefined behaviour.  Complex products use the textbook formula, as
 * both real MPIs do.
 */
#include "shim.h"

#include <stdbool.h>

enum pop { P_SUM, P_PROD, P_MIN, P_MAX, P_LAND, P_LOR, P_LXOR, P_BAND, P_BOR, P_BXOR,
	   P_MINLOC, P_MAXLOC, P_NONE };

static enum pop pop_of(MPI_Op op)
{
	static const MPI_Op ops[P_NONE] = {
		MPI_SUM, MPI_PROD, MPI_MIN, MPI_MAX, MPI_LAND, MPI_LOR, MPI_LXOR,
		MPI_BAND, MPI_BOR, MPI_BXOR, MPI_MINLOC, MPI_MAXLOC,
	};

	for (int i = 0; i < P_NONE; i++)
		if (ops[i] == op)
			return (enum pop)i;
	return P_NONE;
}

typedef int kernel_fn(const void *in, void *inout, int64_t n, enum pop op);

/* y[i] = expr for every element, x the input and y the input-output. */
#define EACH(T, expr) do {                                                     \
		const T *x = in;                                               \
		T *y = inout;                                                  \
		for (int64_t i = 0; i < n; i++)                                \
			y[i] = (expr);                                         \
	} while (0)

#define MINMAX(T, op)                                                          \
	case P_MIN: EACH(T, x[i] < y[i] ? x[i] : y[i]); break;                 \
	case P_MAX: EACH(T, x[i] > y[i] ? x[i] : y[i]); break;

#define INTEGER(name, T, U)                                                    \
static int name(const void *in, void *inout, int64_t n, enum pop op)           \
{                                                                              \
	switch (op) {                                                          \
	case P_SUM: EACH(T, (T)((U)x[i] + (U)y[i])); break;                    \
	case P_PROD: EACH(T, (T)((U)x[i] * (U)y[i])); break;                   \
	MINMAX(T, op)                                                          \
	case P_LAND: EACH(T, (T)(x[i] && y[i])); break;                        \
	case P_LOR: EACH(T, (T)(x[i] || y[i])); break;                         \
	case P_LXOR: EACH(T, (T)(!x[i] != !y[i])); break;                      \
	case P_BAND: EACH(T, (T)(x[i] & y[i])); break;                         \
	case P_BOR: EACH(T, (T)(x[i] | y[i])); break;                          \
	case P_BXOR: EACH(T, (T)(x[i] ^ y[i])); break;                         \
	default: return MPI_ERR_OP;                                            \
	}                                                                      \
	return MPI_SUCCESS;                                                    \
}

#define FLOATING(name, T)                                                      \
static int name(const void *in, void *inout, int64_t n, enum pop op)           \
{                                                                              \
	switch (op) {                                                          \
	case P_SUM: EACH(T, x[i] + y[i]); break;                               \
	case P_PROD: EACH(T, x[i] * y[i]); break;                              \
	MINMAX(T, op)                                                          \
	default: return MPI_ERR_OP;                                            \
	}                                                                      \
	return MPI_SUCCESS;                                                    \
}

#define COMPLEX(name, T)                                                       \
struct name##_c { T re, im; };                                                 \
static struct name##_c name##_mul(struct name##_c a, struct name##_c b)        \
{                                                                              \
	return (struct name##_c){ a.re * b.re - a.im * b.im,                   \
				  a.re * b.im + a.im * b.re };                 \
}                                                                              \
static int name(const void *in, void *inout, int64_t n, enum pop op)           \
{                                                                              \
	switch (op) {                                                          \
	case P_SUM:                                                            \
		EACH(struct name##_c, ((struct name##_c){ x[i].re + y[i].re,   \
							  x[i].im + y[i].im })); \
		break;                                                         \
	case P_PROD: EACH(struct name##_c, name##_mul(x[i], y[i])); break;     \
	default: return MPI_ERR_OP;                                            \
	}                                                                      \
	return MPI_SUCCESS;                                                    \
}

/* MINLOC/MAXLOC: the smaller (larger) value; on a tie, the smaller index. */
#define PAIR(name, V)                                                          \
struct name##_p { V v; int i; };                                               \
static struct name##_p name##_pick(struct name##_p a, struct name##_p b,       \
				   int max)                                    \
{                                                                              \
	if (a.v == b.v)                                                        \
		return (struct name##_p){ a.v, a.i < b.i ? a.i : b.i };        \
	return (max ? a.v > b.v : a.v < b.v) ? a : b;                          \
}                                                                              \
static int name(const void *in, void *inout, int64_t n, enum pop op)           \
{                                                                              \
	if (op != P_MINLOC && op != P_MAXLOC)                                  \
		return MPI_ERR_OP;                                             \
	EACH(struct name##_p, name##_pick(x[i], y[i], op == P_MAXLOC));        \
	return MPI_SUCCESS;                                                    \
}

static int k_bool(const void *in, void *inout, int64_t n, enum pop op)
{
	switch (op) {
	case P_LAND: EACH(bool, x[i] && y[i]); break;
	case P_LOR: EACH(bool, x[i] || y[i]); break;
	case P_LXOR: EACH(bool, x[i] != y[i]); break;
	default: return MPI_ERR_OP;
	}
	return MPI_SUCCESS;
}

static int k_byte(const void *in, void *inout, int64_t n, enum pop op)
{
	switch (op) {
	case P_BAND: EACH(unsigned char, (unsigned char)(x[i] & y[i])); break;
	case P_BOR: EACH(unsigned char, (unsigned char)(x[i] | y[i])); break;
	case P_BXOR: EACH(unsigned char, (unsigned char)(x[i] ^ y[i])); break;
	default: return MPI_ERR_OP;
	}
	return MPI_SUCCESS;
}

INTEGER(k_i8, int8_t, uint8_t)
INTEGER(k_u8, uint8_t, uint8_t)
INTEGER(k_i16, int16_t, uint16_t)
INTEGER(k_u16, uint16_t, uint16_t)
INTEGER(k_i32, int32_t, uint32_t)
INTEGER(k_u32, uint32_t, uint32_t)
INTEGER(k_i64, int64_t, uint64_t)
INTEGER(k_u64, uint64_t, uint64_t)
FLOATING(k_float, float)
FLOATING(k_double, double)
FLOATING(k_ldouble, long double)
COMPLEX(k_cfloat, float)
COMPLEX(k_cdouble, double)
COMPLEX(k_cldouble, long double)
PAIR(k_float_int, float)
PAIR(k_double_int, double)
PAIR(k_long_int, long)
PAIR(k_2int, int)
PAIR(k_short_int, short)
PAIR(k_ldouble_int, long double)

/* The kernel of a signed (unsigned) integer type, by its size. */
#define SKERNEL(T) (sizeof(T) == 1 ? k_i8 : sizeof(T) == 2 ? k_i16 : \
		    sizeof(T) == 4 ? k_i32 : k_i64)
#define UKERNEL(T) (sizeof(T) == 1 ? k_u8 : sizeof(T) == 2 ? k_u16 : \
		    sizeof(T) == 4 ? k_u32 : k_u64)

static kernel_fn *kernel_of(MPI_Datatype t)
{
	static const struct { MPI_Datatype t; kernel_fn *k; } tab[] = {
		{ MPI_SIGNED_CHAR, SKERNEL(signed char) },
		{ MPI_UNSIGNED_CHAR, UKERNEL(unsigned char) },
		{ MPI_SHORT, SKERNEL(short) },
		{ MPI_UNSIGNED_SHORT, UKERNEL(unsigned short) },
		{ MPI_INT, SKERNEL(int) },
		{ MPI_UNSIGNED, UKERNEL(unsigned) },
		{ MPI_LONG, SKERNEL(long) },
		{ MPI_UNSIGNED_LONG, UKERNEL(unsigned long) },
		{ MPI_LONG_LONG, SKERNEL(long long) },
		{ MPI_UNSIGNED_LONG_LONG, UKERNEL(unsigned long long) },
		{ MPI_INT8_T, k_i8 }, { MPI_UINT8_T, k_u8 },
		{ MPI_INT16_T, k_i16 }, { MPI_UINT16_T, k_u16 },
		{ MPI_INT32_T, k_i32 }, { MPI_UINT32_T, k_u32 },
		{ MPI_INT64_T, k_i64 }, { MPI_UINT64_T, k_u64 },
		{ MPI_AINT, SKERNEL(MPI_Aint) },
		{ MPI_OFFSET, SKERNEL(MPI_Offset) },
		{ MPI_COUNT, SKERNEL(MPI_Count) },
		{ MPI_FLOAT, k_float }, { MPI_DOUBLE, k_double },
		{ MPI_LONG_DOUBLE, k_ldouble },
		{ MPI_C_FLOAT_COMPLEX, k_cfloat }, { MPI_CXX_FLOAT_COMPLEX, k_cfloat },
		{ MPI_C_DOUBLE_COMPLEX, k_cdouble }, { MPI_CXX_DOUBLE_COMPLEX, k_cdouble },
		{ MPI_C_LONG_DOUBLE_COMPLEX, k_cldouble },
		{ MPI_CXX_LONG_DOUBLE_COMPLEX, k_cldouble },
		{ MPI_C_BOOL, k_bool }, { MPI_CXX_BOOL, k_bool },
		{ MPI_BYTE, k_byte },
		{ MPI_FLOAT_INT, k_float_int }, { MPI_DOUBLE_INT, k_double_int },
		{ MPI_LONG_INT, k_long_int }, { MPI_2INT, k_2int },
		{ MPI_SHORT_INT, k_short_int }, { MPI_LONG_DOUBLE_INT, k_ldouble_int },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].t == t)
			return tab[i].k;
	return NULL;
}

int shim_op_local_predefined(const void *in, void *inout, int64_t count, MPI_Datatype t,
			     MPI_Op op)
{
	const struct shim_type *r = shim_type_get(t);
	/* An MPI_Type_create_f90_* type reduces as the C type it is laid
	 * out as (shim/typef90.c). */
	kernel_fn *k = kernel_of(r && shim_type_f90(r) ? r->sig[0].basic : t);
	enum pop p = pop_of(op);

	if (!k || p == P_NONE)
		return MPI_ERR_OP;
	return k(in, inout, count, p);
}
