/*
 * test_abi_header.c - our mpi.h and chan/abi_gen.h against the MPI-5.0
 * standard ABI.
 *
 * An application binary is only portable if every layout and constant is
 * the standard's, so the expected numbers below are typed in from the
 * standard's tables (see /work/shared/reference/prior-art-mpi_abi.md,
 * sections 1.3-1.10), not derived from our header.  Each constant is checked
 * twice: as spelled in shim/mpi.h (hand-written) and as ABI_<name> in
 * chan/abi_gen.h (read back by scripts/gen_mpi.py), so a generator that
 * misreads a value fails here too.  Layouts are compile-time checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chan/abi_gen.h"
#include "shim/mpi.h"

/* --------------------------------------------------------- layouts */

_Static_assert(sizeof(MPI_Status) == 32, "MPI_Status is 8 ints");
_Static_assert(offsetof(MPI_Status, MPI_SOURCE) == 0, "MPI_SOURCE first");
_Static_assert(offsetof(MPI_Status, MPI_TAG) == 4, "MPI_TAG second");
_Static_assert(offsetof(MPI_Status, MPI_ERROR) == 8, "MPI_ERROR third");
_Static_assert(offsetof(MPI_Status, MPI_internal) == 12, "then 5 private ints");
_Static_assert(_Alignof(MPI_Status) == _Alignof(int), "int-aligned status");
_Static_assert(sizeof(MPI_Aint) == sizeof(void *), "MPI_Aint holds a pointer");
_Static_assert((MPI_Aint)-1 < 0, "MPI_Aint is signed");
_Static_assert(sizeof(MPI_Offset) == 8 && (MPI_Offset)-1 < 0, "int64 offset");
_Static_assert(sizeof(MPI_Count) == 8 && (MPI_Count)-1 < 0, "int64 count");
_Static_assert(sizeof(MPI_Comm) == sizeof(void *), "handles are pointers");

/* A few values the proxy and shim hard-wire into switch statements. */
_Static_assert(ABI_COMM_WORLD == 0x101, "MPI_COMM_WORLD");
_Static_assert(ABI_ANY_TAG == -2, "MPI_ANY_TAG");
_Static_assert(ABI_ANY_SOURCE == -1, "MPI_ANY_SOURCE");
_Static_assert(ABI_PROC_NULL == -3, "MPI_PROC_NULL");
_Static_assert(ABI_REQUEST_NULL == 0x180, "MPI_REQUEST_NULL");
_Static_assert(MPI_SUCCESS == 0 && MPI_ERR_LASTCODE == 16383, "error range");
_Static_assert(MPI_ERR_UNSUPPORTED_OPERATION == 55, "unsupported operation");
_Static_assert(MPI_VERSION == 5 && MPI_SUBVERSION == 0, "MPI 5.0");
_Static_assert(MPI_ABI_VERSION == 1 && MPI_ABI_SUBVERSION == 0, "ABI 1.0");

/* ----------------------------------------------- constant value table */

struct abi_const {
	const char *name;
	intptr_t in_mpi_h;   /* value as our mpi.h spells it */
	intptr_t in_abi_gen; /* value as chan/abi_gen.h spells it */
	intptr_t standard;   /* value from the standard's tables */
};

#define K(name, value) { #name, (intptr_t)(MPI_##name), (intptr_t)(ABI_##name), value }

static const struct abi_const handles[] = {
	K(OP_NULL, 0x20), K(SUM, 0x21), K(MIN, 0x22), K(MAX, 0x23),
	K(PROD, 0x24), K(BAND, 0x28), K(BOR, 0x29), K(BXOR, 0x2a),
	K(LAND, 0x30), K(LOR, 0x31), K(LXOR, 0x32), K(MINLOC, 0x38),
	K(MAXLOC, 0x39), K(REPLACE, 0x3c), K(NO_OP, 0x3d),
	K(COMM_NULL, 0x100), K(COMM_WORLD, 0x101), K(COMM_SELF, 0x102),
	K(GROUP_NULL, 0x108), K(GROUP_EMPTY, 0x109), K(WIN_NULL, 0x110),
	K(FILE_NULL, 0x118), K(SESSION_NULL, 0x120), K(MESSAGE_NULL, 0x128),
	K(MESSAGE_NO_PROC, 0x129), K(INFO_NULL, 0x130), K(INFO_ENV, 0x131),
	K(ERRHANDLER_NULL, 0x140), K(ERRORS_ARE_FATAL, 0x141),
	K(ERRORS_ABORT, 0x142), K(ERRORS_RETURN, 0x143),
	K(REQUEST_NULL, 0x180),
	K(DATATYPE_NULL, 0x200), K(AINT, 0x201), K(COUNT, 0x202),
	K(OFFSET, 0x203), K(PACKED, 0x207), K(SHORT, 0x208), K(INT, 0x209),
	K(LONG, 0x20a), K(LONG_LONG, 0x20b), K(UNSIGNED_SHORT, 0x20c),
	K(UNSIGNED, 0x20d), K(UNSIGNED_LONG, 0x20e),
	K(UNSIGNED_LONG_LONG, 0x20f), K(FLOAT, 0x210),
	K(C_FLOAT_COMPLEX, 0x212), K(CXX_FLOAT_COMPLEX, 0x213),
	K(DOUBLE, 0x214), K(C_DOUBLE_COMPLEX, 0x216),
	K(CXX_DOUBLE_COMPLEX, 0x217), K(LOGICAL, 0x218), K(INTEGER, 0x219),
	K(REAL, 0x21a), K(COMPLEX, 0x21b), K(DOUBLE_PRECISION, 0x21c),
	K(DOUBLE_COMPLEX, 0x21d), K(CHARACTER, 0x21e), K(LONG_DOUBLE, 0x220),
	K(C_LONG_DOUBLE_COMPLEX, 0x224), K(CXX_LONG_DOUBLE_COMPLEX, 0x225),
	K(FLOAT_INT, 0x228), K(DOUBLE_INT, 0x229), K(LONG_INT, 0x22a),
	K(2INT, 0x22b), K(SHORT_INT, 0x22c), K(LONG_DOUBLE_INT, 0x22d),
	K(2REAL, 0x230), K(2DOUBLE_PRECISION, 0x231), K(2INTEGER, 0x232),
	K(C_BOOL, 0x238), K(CXX_BOOL, 0x239), K(WCHAR, 0x23c),
	K(INT8_T, 0x240), K(UINT8_T, 0x241), K(CHAR, 0x243),
	K(SIGNED_CHAR, 0x244), K(UNSIGNED_CHAR, 0x245), K(BYTE, 0x247),
	K(INT16_T, 0x248), K(UINT16_T, 0x249), K(INT32_T, 0x250),
	K(UINT32_T, 0x251), K(INT64_T, 0x258), K(UINT64_T, 0x259),
	K(LOGICAL1, 0x2c0), K(INTEGER1, 0x2c1), K(LOGICAL2, 0x2c8),
	K(INTEGER2, 0x2c9), K(REAL2, 0x2ca), K(LOGICAL4, 0x2d0),
	K(INTEGER4, 0x2d1), K(REAL4, 0x2d2), K(COMPLEX4, 0x2d3),
	K(LOGICAL8, 0x2d8), K(INTEGER8, 0x2d9), K(REAL8, 0x2da),
	K(COMPLEX8, 0x2db), K(LOGICAL16, 0x2e0), K(INTEGER16, 0x2e1),
	K(REAL16, 0x2e2), K(COMPLEX16, 0x2e3), K(COMPLEX32, 0x2eb),
};

/* Aliases share their target's value; kept apart so uniqueness holds above. */
static const struct abi_const aliases[] = {
	K(LONG_LONG_INT, 0x20b), K(C_COMPLEX, 0x212),
};

static const struct abi_const integers[] = {
	K(ANY_SOURCE, -1), K(ANY_TAG, -2), K(PROC_NULL, -3), K(ROOT, -4),
	K(UNDEFINED, -32766),
	K(THREAD_SINGLE, 0), K(THREAD_FUNNELED, 1024),
	K(THREAD_SERIALIZED, 2048), K(THREAD_MULTIPLE, 4096),
	K(ORDER_C, 12), K(ORDER_FORTRAN, 15), K(DISTRIBUTE_NONE, 16),
	K(DISTRIBUTE_BLOCK, 17), K(DISTRIBUTE_CYCLIC, 18),
	K(DISTRIBUTE_DFLT_DARG, 19),
	K(COMBINER_NAMED, 101), K(COMBINER_DUP, 102),
	K(COMBINER_CONTIGUOUS, 103), K(COMBINER_VECTOR, 104),
	K(COMBINER_HVECTOR, 105), K(COMBINER_INDEXED, 106),
	K(COMBINER_HINDEXED, 107), K(COMBINER_INDEXED_BLOCK, 108),
	K(COMBINER_HINDEXED_BLOCK, 109), K(COMBINER_STRUCT, 110),
	K(COMBINER_SUBARRAY, 111), K(COMBINER_DARRAY, 112),
	K(COMBINER_F90_REAL, 113), K(COMBINER_F90_COMPLEX, 114),
	K(COMBINER_F90_INTEGER, 115), K(COMBINER_RESIZED, 116),
	K(COMBINER_VALUE_INDEX, 117),
	K(TYPECLASS_INTEGER, 192), K(TYPECLASS_REAL, 193),
	K(TYPECLASS_COMPLEX, 194),
	K(IDENT, 201), K(CONGRUENT, 202), K(SIMILAR, 203), K(UNEQUAL, 204),
	K(CART, 211), K(GRAPH, 212), K(DIST_GRAPH, 213),
	K(COMM_TYPE_SHARED, 221), K(COMM_TYPE_HW_UNGUIDED, 222),
	K(COMM_TYPE_HW_GUIDED, 223), K(COMM_TYPE_RESOURCE_GUIDED, 224),
	K(LOCK_EXCLUSIVE, 301), K(LOCK_SHARED, 302),
	K(WIN_FLAVOR_CREATE, 311), K(WIN_FLAVOR_ALLOCATE, 312),
	K(WIN_FLAVOR_DYNAMIC, 313), K(WIN_FLAVOR_SHARED, 314),
	K(WIN_UNIFIED, 321), K(WIN_SEPARATE, 322),
	K(SEEK_CUR, 401), K(SEEK_END, 402), K(SEEK_SET, 403),
	K(DISPLACEMENT_CURRENT, -1),
	K(MODE_APPEND, 1), K(MODE_CREATE, 2), K(MODE_DELETE_ON_CLOSE, 4),
	K(MODE_EXCL, 8), K(MODE_RDONLY, 16), K(MODE_RDWR, 32),
	K(MODE_SEQUENTIAL, 64), K(MODE_UNIQUE_OPEN, 128), K(MODE_WRONLY, 256),
	K(MODE_NOCHECK, 1024), K(MODE_NOPRECEDE, 2048), K(MODE_NOPUT, 4096),
	K(MODE_NOSTORE, 8192), K(MODE_NOSUCCEED, 16384),
	K(KEYVAL_INVALID, 0), K(TAG_UB, 501), K(IO, 502), K(HOST, 503),
	K(WTIME_IS_GLOBAL, 504), K(APPNUM, 505), K(LASTUSEDCODE, 506),
	K(UNIVERSE_SIZE, 507), K(WIN_BASE, 601), K(WIN_DISP_UNIT, 602),
	K(WIN_SIZE, 603), K(WIN_CREATE_FLAVOR, 604), K(WIN_MODEL, 605),
	K(MAX_DATAREP_STRING, 128), K(MAX_ERROR_STRING, 512),
	K(MAX_INFO_KEY, 256), K(MAX_INFO_VAL, 1024),
	K(MAX_LIBRARY_VERSION_STRING, 8192), K(MAX_OBJECT_NAME, 128),
	K(MAX_PORT_NAME, 1024), K(MAX_PROCESSOR_NAME, 256),
	K(MAX_STRINGTAG_LEN, 1024), K(MAX_PSET_NAME_LEN, 1024),
	K(BSEND_OVERHEAD, 512),
	K(F_STATUS_SIZE, 8), K(F_SOURCE, 0), K(F_TAG, 1), K(F_ERROR, 2),
	K(T_ERR_CANNOT_INIT, 1001), K(T_ERR_PVAR_NO_ATOMIC, 1018),
	K(ERR_LASTCODE, 16383),
};

static const struct abi_const sentinels[] = {
	K(BOTTOM, 0), K(IN_PLACE, 1), K(BUFFER_AUTOMATIC, 2),
	K(ARGV_NULL, 0), K(ARGVS_NULL, 0), K(ERRCODES_IGNORE, 0),
	K(STATUS_IGNORE, 0), K(STATUSES_IGNORE, 0), K(UNWEIGHTED, 10),
	K(WEIGHTS_EMPTY, 11),
	K(NULL_COPY_FN, 0), K(DUP_FN, 1), K(NULL_DELETE_FN, 0),
	K(COMM_NULL_COPY_FN, 0), K(COMM_DUP_FN, 1), K(COMM_NULL_DELETE_FN, 0),
	K(TYPE_NULL_COPY_FN, 0), K(TYPE_DUP_FN, 1), K(TYPE_NULL_DELETE_FN, 0),
	K(WIN_NULL_COPY_FN, 0), K(WIN_DUP_FN, 1), K(WIN_NULL_DELETE_FN, 0),
	K(CONVERSION_FN_NULL, 0), K(CONVERSION_FN_NULL_C, 0),
	K(T_ENUM_NULL, 0), K(T_PVAR_HANDLE_NULL, 0), K(T_PVAR_ALL_HANDLES, 1),
};

/* Error classes 0..62 in the standard's order: index == value. */
static const struct abi_const error_classes[] = {
	K(SUCCESS, 0), K(ERR_BUFFER, 1), K(ERR_COUNT, 2), K(ERR_TYPE, 3),
	K(ERR_TAG, 4), K(ERR_COMM, 5), K(ERR_RANK, 6), K(ERR_REQUEST, 7),
	K(ERR_ROOT, 8), K(ERR_GROUP, 9), K(ERR_OP, 10), K(ERR_TOPOLOGY, 11),
	K(ERR_DIMS, 12), K(ERR_ARG, 13), K(ERR_UNKNOWN, 14),
	K(ERR_TRUNCATE, 15), K(ERR_OTHER, 16), K(ERR_INTERN, 17),
	K(ERR_PENDING, 18), K(ERR_IN_STATUS, 19), K(ERR_ACCESS, 20),
	K(ERR_AMODE, 21), K(ERR_ASSERT, 22), K(ERR_BAD_FILE, 23),
	K(ERR_BASE, 24), K(ERR_CONVERSION, 25), K(ERR_DISP, 26),
	K(ERR_DUP_DATAREP, 27), K(ERR_FILE_EXISTS, 28),
	K(ERR_FILE_IN_USE, 29), K(ERR_FILE, 30), K(ERR_INFO_KEY, 31),
	K(ERR_INFO_NOKEY, 32), K(ERR_INFO_VALUE, 33), K(ERR_INFO, 34),
	K(ERR_IO, 35), K(ERR_KEYVAL, 36), K(ERR_LOCKTYPE, 37),
	K(ERR_NAME, 38), K(ERR_NO_MEM, 39), K(ERR_NOT_SAME, 40),
	K(ERR_NO_SPACE, 41), K(ERR_NO_SUCH_FILE, 42), K(ERR_PORT, 43),
	K(ERR_QUOTA, 44), K(ERR_READ_ONLY, 45), K(ERR_RMA_ATTACH, 46),
	K(ERR_RMA_CONFLICT, 47), K(ERR_RMA_RANGE, 48), K(ERR_RMA_SHARED, 49),
	K(ERR_RMA_SYNC, 50), K(ERR_SERVICE, 51), K(ERR_SIZE, 52),
	K(ERR_SPAWN, 53), K(ERR_UNSUPPORTED_DATAREP, 54),
	K(ERR_UNSUPPORTED_OPERATION, 55), K(ERR_WIN, 56),
	K(ERR_RMA_FLAVOR, 57), K(ERR_PROC_ABORTED, 58),
	K(ERR_VALUE_TOO_LARGE, 59), K(ERR_SESSION, 60),
	K(ERR_ERRHANDLER, 61), K(ERR_ABI, 62),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_values(const struct abi_const *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (k[i].in_mpi_h != k[i].standard || k[i].in_abi_gen != k[i].standard)
			fail_msg("%s: mpi.h %ld, abi_gen.h %ld, standard %ld",
				 k[i].name, (long)k[i].in_mpi_h,
				 (long)k[i].in_abi_gen, (long)k[i].standard);
	}
}

static void test_handle_values(void **state)
{
	(void)state;
	check_values(handles, N(handles));
	check_values(aliases, N(aliases));
}

static void test_integer_values(void **state)
{
	(void)state;
	check_values(integers, N(integers));
	check_values(sentinels, N(sentinels));
}

static void test_error_classes_are_dense_and_ordered(void **state)
{
	(void)state;
	check_values(error_classes, N(error_classes));
	for (size_t i = 0; i < N(error_classes); i++)
		assert_int_equal(error_classes[i].in_mpi_h, (intptr_t)i);
	assert_true(MPI_ERR_ABI < MPI_T_ERR_CANNOT_INIT);
	assert_true(MPI_T_ERR_PVAR_NO_ATOMIC < MPI_ERR_LASTCODE);
}

static int cmp_intptr(const void *a, const void *b)
{
	intptr_t x = *(const intptr_t *)a, y = *(const intptr_t *)b;
	return (x > y) - (x < y);
}

/* 0 must stay invalid and user handles start above 4095, so every
 * predefined handle is in 1..4095 and no two share a value. */
static void test_handles_unique_in_reserved_range(void **state)
{
	intptr_t v[N(handles)];

	(void)state;
	for (size_t i = 0; i < N(handles); i++) {
		v[i] = handles[i].in_mpi_h;
		assert_in_range(v[i], 1, 4095);
	}
	qsort(v, N(handles), sizeof(v[0]), cmp_intptr);
	for (size_t i = 1; i < N(handles); i++)
		if (v[i] == v[i - 1])
			fail_msg("two predefined handles share 0x%lx", (long)v[i]);
}

static size_t size_rule(MPI_Datatype t)
{
	return (size_t)1 << (((uintptr_t)t >> 3) & 7);
}

/* For the fixed-size datatypes the size is encoded in the handle. */
static void test_fixed_size_rule_matches_c_types(void **state)
{
	static const struct {
		MPI_Datatype t;
		size_t size;
	} c_types[] = {
		{ MPI_INT8_T, sizeof(int8_t) },   { MPI_UINT8_T, sizeof(uint8_t) },
		{ MPI_CHAR, sizeof(char) },       { MPI_SIGNED_CHAR, sizeof(signed char) },
		{ MPI_UNSIGNED_CHAR, sizeof(unsigned char) },
		{ MPI_BYTE, 1 },
		{ MPI_INT16_T, sizeof(int16_t) }, { MPI_UINT16_T, sizeof(uint16_t) },
		{ MPI_INT32_T, sizeof(int32_t) }, { MPI_UINT32_T, sizeof(uint32_t) },
		{ MPI_INT64_T, sizeof(int64_t) }, { MPI_UINT64_T, sizeof(uint64_t) },
	};

	(void)state;
	for (size_t i = 0; i < N(c_types); i++) {
		assert_in_range((uintptr_t)c_types[i].t, 0x240, 0x2ff);
		assert_int_equal(size_rule(c_types[i].t), c_types[i].size);
	}
}

/* Fortran sized types: the byte count is in the name (COMPLEX8 = 2 x REAL4). */
static void test_fixed_size_rule_matches_fortran_names(void **state)
{
	static const struct {
		MPI_Datatype t;
		size_t size;
	} f_types[] = {
		{ MPI_LOGICAL1, 1 },  { MPI_INTEGER1, 1 },  { MPI_LOGICAL2, 2 },
		{ MPI_INTEGER2, 2 },  { MPI_REAL2, 2 },     { MPI_LOGICAL4, 4 },
		{ MPI_INTEGER4, 4 },  { MPI_REAL4, 4 },     { MPI_COMPLEX4, 4 },
		{ MPI_LOGICAL8, 8 },  { MPI_INTEGER8, 8 },  { MPI_REAL8, 8 },
		{ MPI_COMPLEX8, 8 },  { MPI_LOGICAL16, 16 }, { MPI_INTEGER16, 16 },
		{ MPI_REAL16, 16 },   { MPI_COMPLEX16, 16 }, { MPI_COMPLEX32, 32 },
	};

	(void)state;
	for (size_t i = 0; i < N(f_types); i++)
		assert_int_equal(size_rule(f_types[i].t), f_types[i].size);
}

/* Mode bits are OR-ed by callers: each a distinct single bit per family. */
static void test_mode_bits_are_distinct_powers_of_two(void **state)
{
	static const int file_modes[] = {
		MPI_MODE_APPEND, MPI_MODE_CREATE, MPI_MODE_DELETE_ON_CLOSE,
		MPI_MODE_EXCL, MPI_MODE_RDONLY, MPI_MODE_RDWR,
		MPI_MODE_SEQUENTIAL, MPI_MODE_UNIQUE_OPEN, MPI_MODE_WRONLY,
	};
	static const int win_asserts[] = {
		MPI_MODE_NOCHECK, MPI_MODE_NOPRECEDE, MPI_MODE_NOPUT,
		MPI_MODE_NOSTORE, MPI_MODE_NOSUCCEED,
	};
	int seen = 0;

	(void)state;
	for (size_t i = 0; i < N(file_modes); i++) {
		assert_true(file_modes[i] > 0 && (file_modes[i] & (file_modes[i] - 1)) == 0);
		assert_false(seen & file_modes[i]);
		seen |= file_modes[i];
	}
	seen = 0;
	for (size_t i = 0; i < N(win_asserts); i++) {
		assert_true(win_asserts[i] > 0 && (win_asserts[i] & (win_asserts[i] - 1)) == 0);
		assert_false(seen & win_asserts[i]);
		seen |= win_asserts[i];
	}
}

/* Applications compare thread levels with < and >=. */
static void test_thread_levels_are_ordered(void **state)
{
	(void)state;
	assert_true(MPI_THREAD_SINGLE < MPI_THREAD_FUNNELED);
	assert_true(MPI_THREAD_FUNNELED < MPI_THREAD_SERIALIZED);
	assert_true(MPI_THREAD_SERIALIZED < MPI_THREAD_MULTIPLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handle_values),
		cmocka_unit_test(test_integer_values),
		cmocka_unit_test(test_error_classes_are_dense_and_ordered),
		cmocka_unit_test(test_handles_unique_in_reserved_range),
		cmocka_unit_test(test_fixed_size_rule_matches_c_types),
		cmocka_unit_test(test_fixed_size_rule_matches_fortran_names),
		cmocka_unit_test(test_mode_bits_are_distinct_powers_of_two),
		cmocka_unit_test(test_thread_levels_are_ordered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
