/*
 * xlate.c - between the standard ABI (what the application holds) and
 * the real MPI the proxy links.
 *
 * Predefined datatypes and ops are decoded by table (the ABI packs them
 * into 0x200..0x2ff and 0x20..0x3f); Open MPI's predefined handles are
 * addresses, so the tables are filled at start-up.  Integer constants
 * with special values (ranks, tags, thread levels, error classes) are
 * mapped one by one, since both MPIs use numbers of their own.
 */
#include "px.h"

#include <string.h>

static MPI_Datatype types[256];   /* ABI 0x2XX -> real */
static MPI_Op ops[64];            /* ABI 0x20..0x3f -> real */

#define TYPE(name) types[ABI_##name & 0xff] = MPI_##name
#define OP(name) ops[ABI_##name & 0x3f] = MPI_##name

static void types_init(void)
{
	for (int i = 0; i < 256; i++)
		types[i] = MPI_DATATYPE_NULL;
	TYPE(AINT); TYPE(COUNT); TYPE(OFFSET); TYPE(PACKED);
	TYPE(SHORT); TYPE(INT); TYPE(LONG); TYPE(LONG_LONG);
	TYPE(UNSIGNED_SHORT); TYPE(UNSIGNED); TYPE(UNSIGNED_LONG);
	TYPE(UNSIGNED_LONG_LONG); TYPE(FLOAT); TYPE(C_FLOAT_COMPLEX);
	TYPE(CXX_FLOAT_COMPLEX); TYPE(DOUBLE); TYPE(C_DOUBLE_COMPLEX);
	TYPE(CXX_DOUBLE_COMPLEX); TYPE(LONG_DOUBLE); TYPE(C_LONG_DOUBLE_COMPLEX);
	TYPE(CXX_LONG_DOUBLE_COMPLEX);
	TYPE(LOGICAL); TYPE(INTEGER); TYPE(REAL); TYPE(COMPLEX);
	TYPE(DOUBLE_PRECISION); TYPE(DOUBLE_COMPLEX); TYPE(CHARACTER);
	TYPE(FLOAT_INT); TYPE(DOUBLE_INT); TYPE(LONG_INT); TYPE(2INT);
	TYPE(SHORT_INT); TYPE(LONG_DOUBLE_INT); TYPE(2REAL);
	TYPE(2DOUBLE_PRECISION); TYPE(2INTEGER);
	TYPE(C_BOOL); TYPE(CXX_BOOL); TYPE(WCHAR);
	TYPE(INT8_T); TYPE(UINT8_T); TYPE(CHAR); TYPE(SIGNED_CHAR);
	TYPE(UNSIGNED_CHAR); TYPE(BYTE); TYPE(INT16_T); TYPE(UINT16_T);
	TYPE(INT32_T); TYPE(UINT32_T); TYPE(INT64_T); TYPE(UINT64_T);
	/* Optional Fortran sized types: not every build has them. */
#ifdef MPI_LOGICAL1
	TYPE(LOGICAL1);
#endif
#ifdef MPI_INTEGER1
	TYPE(INTEGER1);
#endif
#ifdef MPI_LOGICAL2
	TYPE(LOGICAL2);
#endif
#ifdef MPI_INTEGER2
	TYPE(INTEGER2);
#endif
#ifdef MPI_REAL2
	TYPE(REAL2);
#endif
#ifdef MPI_LOGICAL4
	TYPE(LOGICAL4);
#endif
#ifdef MPI_INTEGER4
	TYPE(INTEGER4);
#endif
#ifdef MPI_REAL4
	TYPE(REAL4);
#endif
#ifdef MPI_COMPLEX4
	TYPE(COMPLEX4);
#endif
#ifdef MPI_LOGICAL8
	TYPE(LOGICAL8);
#endif
#ifdef MPI_INTEGER8
	TYPE(INTEGER8);
#endif
#ifdef MPI_REAL8
	TYPE(REAL8);
#endif
#ifdef MPI_COMPLEX8
	TYPE(COMPLEX8);
#endif
#ifdef MPI_LOGICAL16
	TYPE(LOGICAL16);
#endif
#ifdef MPI_INTEGER16
	TYPE(INTEGER16);
#endif
#ifdef MPI_REAL16
	TYPE(REAL16);
#endif
#ifdef MPI_COMPLEX16
	TYPE(COMPLEX16);
#endif
#ifdef MPI_COMPLEX32
	TYPE(COMPLEX32);
#endif
}

static void ops_init(void)
{
	for (int i = 0; i < 64; i++)
		ops[i] = MPI_OP_NULL;
	OP(SUM); OP(MIN); OP(MAX); OP(PROD); OP(BAND); OP(BOR); OP(BXOR);
	OP(LAND); OP(LOR); OP(LXOR); OP(MINLOC); OP(MAXLOC); OP(REPLACE);
	OP(NO_OP);
}

void px_xlate_init(void)
{
	types_init();
	ops_init();
}

DM_HOT MPI_Datatype px_type(int64_t abi)
{
	if (abi >= 0x200 && abi <= 0x2ff)
		return types[abi & 0xff];
	return px_type_derived(abi);
}

MPI_Op px_op(int64_t abi)
{
	if (abi >= 0x20 && abi <= 0x3f)
		return ops[abi & 0x3f];
	return MPI_OP_NULL;
}

/* ---- error classes ---- */

struct err_map {
	int real;
	int abi;
};

#define ERR(name) { MPI_##name, ABI_##name }
static const struct err_map errs[] = {
	ERR(SUCCESS), ERR(ERR_BUFFER), ERR(ERR_COUNT), ERR(ERR_TYPE),
	ERR(ERR_TAG), ERR(ERR_COMM), ERR(ERR_RANK), ERR(ERR_REQUEST),
	ERR(ERR_ROOT), ERR(ERR_GROUP), ERR(ERR_OP), ERR(ERR_TOPOLOGY),
	ERR(ERR_DIMS), ERR(ERR_ARG), ERR(ERR_UNKNOWN), ERR(ERR_TRUNCATE),
	ERR(ERR_OTHER), ERR(ERR_INTERN), ERR(ERR_PENDING), ERR(ERR_IN_STATUS),
	ERR(ERR_ACCESS), ERR(ERR_AMODE), ERR(ERR_ASSERT), ERR(ERR_BAD_FILE),
	ERR(ERR_BASE), ERR(ERR_CONVERSION), ERR(ERR_DISP), ERR(ERR_DUP_DATAREP),
	ERR(ERR_FILE_EXISTS), ERR(ERR_FILE_IN_USE), ERR(ERR_FILE),
	ERR(ERR_INFO_KEY), ERR(ERR_INFO_NOKEY), ERR(ERR_INFO_VALUE), ERR(ERR_INFO),
	ERR(ERR_IO), ERR(ERR_KEYVAL), ERR(ERR_LOCKTYPE), ERR(ERR_NAME),
	ERR(ERR_NO_MEM), ERR(ERR_NOT_SAME), ERR(ERR_NO_SPACE), ERR(ERR_NO_SUCH_FILE),
	ERR(ERR_PORT), ERR(ERR_QUOTA), ERR(ERR_READ_ONLY), ERR(ERR_RMA_ATTACH),
	ERR(ERR_RMA_CONFLICT), ERR(ERR_RMA_RANGE), ERR(ERR_RMA_SHARED),
	ERR(ERR_RMA_SYNC), ERR(ERR_SERVICE), ERR(ERR_SIZE), ERR(ERR_SPAWN),
	ERR(ERR_UNSUPPORTED_DATAREP), ERR(ERR_UNSUPPORTED_OPERATION), ERR(ERR_WIN),
	ERR(ERR_RMA_FLAVOR),
#ifdef MPI_ERR_PROC_ABORTED
	ERR(ERR_PROC_ABORTED),
#endif
#ifdef MPI_ERR_SESSION
	ERR(ERR_SESSION),
#endif
#ifdef MPI_ERR_VALUE_TOO_LARGE
	ERR(ERR_VALUE_TOO_LARGE),
#endif
};
#undef ERR

int px_err(int real_code)
{
	int cls = real_code;

	if (real_code == MPI_SUCCESS)
		return 0;
	if (MPI_Error_class(real_code, &cls) != MPI_SUCCESS)
		return ABI_ERR_UNKNOWN;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (errs[i].real == cls)
			return errs[i].abi;
	return ABI_ERR_OTHER;
}

/* ---- integer constants ---- */

DM_HOT int px_rank_in(int64_t r)
{
	switch (r) {
	case ABI_ANY_SOURCE: return MPI_ANY_SOURCE;
	case ABI_PROC_NULL: return MPI_PROC_NULL;
	case ABI_ROOT: return MPI_ROOT;
	default: return (int)r;
	}
}

DM_HOT int px_rank_out(int r)
{
	if (r == MPI_ANY_SOURCE)
		return ABI_ANY_SOURCE;
	if (r == MPI_PROC_NULL)
		return ABI_PROC_NULL;
	if (r == MPI_ROOT)
		return ABI_ROOT;
	if (r == MPI_UNDEFINED)
		return ABI_UNDEFINED;
	return r;
}

DM_HOT int px_tag_in(int64_t t)
{
	return t == ABI_ANY_TAG ? MPI_ANY_TAG : (int)t;
}

DM_HOT int px_tag_out(int t)
{
	return t == MPI_ANY_TAG ? ABI_ANY_TAG : t;
}

int px_undefined_in(int64_t v)
{
	return v == ABI_UNDEFINED ? MPI_UNDEFINED : (int)v;
}

int px_thread_level_in(int64_t abi)
{
	if (abi >= ABI_THREAD_MULTIPLE)
		return MPI_THREAD_MULTIPLE;
	if (abi >= ABI_THREAD_SERIALIZED)
		return MPI_THREAD_SERIALIZED;
	if (abi >= ABI_THREAD_FUNNELED)
		return MPI_THREAD_FUNNELED;
	return MPI_THREAD_SINGLE;
}

int px_thread_level_out(int real)
{
	switch (real) {
	case MPI_THREAD_MULTIPLE: return ABI_THREAD_MULTIPLE;
	case MPI_THREAD_SERIALIZED: return ABI_THREAD_SERIALIZED;
	case MPI_THREAD_FUNNELED: return ABI_THREAD_FUNNELED;
	default: return ABI_THREAD_SINGLE;
	}
}

/* ---- status ---- */

DM_HOT void px_status_out(const MPI_Status *st, struct chan_status *out)
{
	/* Byte counts let the shim compute Get_count for any datatype. */
	int64_t n = px_status_bytes(st);

	out->source = px_rank_out(st->MPI_SOURCE);
	out->tag = px_tag_out(st->MPI_TAG);
	out->error = st->MPI_ERROR == MPI_SUCCESS ? 0 : px_err(st->MPI_ERROR);
	memcpy(&out->internal[0], &n, sizeof(n));
	out->internal[2] = px_status_cancelled(st);
	out->internal[3] = 0;
	out->internal[4] = 0;
}

void px_status_proc_null(struct chan_status *out)
{
	memset(out, 0, sizeof(*out));
	out->source = ABI_PROC_NULL;
	out->tag = ABI_ANY_TAG;
}
