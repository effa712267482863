/*
 * status.c - MPI_Status in the standard ABI layout.
 *
 * The proxy fills a struct chan_status, laid out exactly like the ABI's
 * MPI_Status: source, tag, error, then MPI_internal[5] holding the
 * received byte count (int64 in [0..1]) and the cancelled flag ([2]).
 * Byte counts make MPI_Get_count a division by the datatype size, with
 * no round trip, for whatever type the receiver names; MPI_Get_elements
 * walks the type signature for the part of an element (shim/pack.c).
 */
#include "shim.h"

#include <string.h>

_Static_assert(sizeof(struct chan_status) == sizeof(MPI_Status),
	       "chan_status must mirror the ABI MPI_Status");

static int64_t status_bytes(const MPI_Status *st)
{
	int64_t n;

	memcpy(&n, &st->MPI_internal[0], sizeof(n));
	return n;
}

static void status_set_bytes(MPI_Status *st, int64_t n)
{
	memcpy(&st->MPI_internal[0], &n, sizeof(n));
}

/* Single-completion calls leave the caller's MPI_ERROR alone (the
 * standard sets it only for calls that complete several requests). */
DM_HOT void shim_status_out(MPI_Status *out, const struct chan_status *in)
{
	if (out == MPI_STATUS_IGNORE)
		return;
	out->MPI_SOURCE = in->source;
	out->MPI_TAG = in->tag;
	memcpy(out->MPI_internal, in->internal, sizeof(out->MPI_internal));
}

void shim_status_out_multi(MPI_Status *out, const struct chan_status *in)
{
	shim_status_out(out, in);
	out->MPI_ERROR = in->error;
}

void shim_status_empty(MPI_Status *out)
{
	if (out == MPI_STATUS_IGNORE)
		return;
	out->MPI_SOURCE = MPI_ANY_SOURCE;
	out->MPI_TAG = MPI_ANY_TAG;
	out->MPI_ERROR = MPI_SUCCESS;
	memset(out->MPI_internal, 0, sizeof(out->MPI_internal));
}

void shim_status_proc_null(struct chan_status *st)
{
	memset(st, 0, sizeof(*st));
	st->source = MPI_PROC_NULL;
	st->tag = MPI_ANY_TAG;
}

/* The datatype of a count query; MPI_ERR_TYPE through SHIM_NOCOMM. */
static struct shim_type *count_type(MPI_Datatype t, const char *fn)
{
	struct shim_type *r = shim_type_get(t);

	if (!r)
		shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "datatype %#lx is %s",
			    (unsigned long)(uintptr_t)t, shim_type_why(t));
	return r;
}

/* Whole elements of t in the status's bytes, MPI_UNDEFINED for a part. */
static int count_of(const MPI_Status *st, MPI_Datatype t, const char *fn,
		    MPI_Count *count)
{
	struct shim_type *r = count_type(t, fn);

	if (!r)
		return MPI_ERR_TYPE;
	int64_t bytes = status_bytes(st);
	if (r->size == 0)
		*count = 0;
	else
		*count = bytes % r->size ? MPI_UNDEFINED : bytes / r->size;
	return MPI_SUCCESS;
}

/* Basic elements in the status's bytes, MPI_UNDEFINED for a part of one. */
static int elements_of(const MPI_Status *st, MPI_Datatype t, const char *fn,
		       MPI_Count *count)
{
	struct shim_type *r = count_type(t, fn);

	if (!r)
		return MPI_ERR_TYPE;
	*count = shim_type_elements(r, status_bytes(st));
	return MPI_SUCCESS;
}

static int count_to_int(MPI_Count n, int *out)
{
	*out = n > 0x7fffffff ? MPI_UNDEFINED : (int)n;
	return MPI_SUCCESS;
}

int PMPI_Get_count(const MPI_Status *status, MPI_Datatype datatype, int *count)
{
	MPI_Count n = 0;
	int err = count_of(status, datatype, "MPI_Get_count", &n);

	return err ? err : count_to_int(n, count);
}
SHIM_WEAK(Get_count)

int PMPI_Get_count_c(const MPI_Status *status, MPI_Datatype datatype, MPI_Count *count)
{
	return count_of(status, datatype, "MPI_Get_count_c", count);
}
SHIM_WEAK(Get_count_c)

int PMPI_Get_elements(const MPI_Status *status, MPI_Datatype datatype, int *count)
{
	MPI_Count n = 0;
	int err = elements_of(status, datatype, "MPI_Get_elements", &n);

	return err ? err : count_to_int(n, count);
}
SHIM_WEAK(Get_elements)

int PMPI_Get_elements_x(const MPI_Status *status, MPI_Datatype datatype, MPI_Count *count)
{
	return elements_of(status, datatype, "MPI_Get_elements_x", count);
}
SHIM_WEAK(Get_elements_x)

int PMPI_Get_elements_c(const MPI_Status *status, MPI_Datatype datatype, MPI_Count *count)
{
	return elements_of(status, datatype, "MPI_Get_elements_c", count);
}
SHIM_WEAK(Get_elements_c)

int PMPI_Test_cancelled(const MPI_Status *status, int *flag)
{
	*flag = status->MPI_internal[2] != 0;
	return MPI_SUCCESS;
}
SHIM_WEAK(Test_cancelled)

/* count basic elements of datatype: the bytes they take, so Get_count
 * and Get_elements answer from them as for a received message. */
static int set_elements(MPI_Status *status, MPI_Datatype datatype, MPI_Count count,
			const char *fn)
{
	struct shim_type *r = count_type(datatype, fn);

	if (!r)
		return MPI_ERR_TYPE;
	if (count < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "count %lld",
				   (long long)count);
	status_set_bytes(status, shim_type_bytes_of(r, count));
	return MPI_SUCCESS;
}

int PMPI_Status_set_elements(MPI_Status *status, MPI_Datatype datatype, int count)
{
	return set_elements(status, datatype, count, "MPI_Status_set_elements");
}
SHIM_WEAK(Status_set_elements)

int PMPI_Status_set_elements_x(MPI_Status *status, MPI_Datatype datatype, MPI_Count count)
{
	return set_elements(status, datatype, count, "MPI_Status_set_elements_x");
}
SHIM_WEAK(Status_set_elements_x)

int PMPI_Status_set_elements_c(MPI_Status *status, MPI_Datatype datatype, MPI_Count count)
{
	return set_elements(status, datatype, count, "MPI_Status_set_elements_c");
}
SHIM_WEAK(Status_set_elements_c)

int PMPI_Status_set_cancelled(MPI_Status *status, int flag)
{
	status->MPI_internal[2] = flag != 0;
	return MPI_SUCCESS;
}
SHIM_WEAK(Status_set_cancelled)

#define STATUS_FIELD(Name, field)                                       \
	int PMPI_Status_get_##Name(const MPI_Status *status, int *out)   \
	{                                                                \
		*out = status->field;                                    \
		return MPI_SUCCESS;                                      \
	}                                                                \
	SHIM_WEAK(Status_get_##Name)                                     \
	int PMPI_Status_set_##Name(MPI_Status *status, int in)           \
	{                                                                \
		status->field = in;                                      \
		return MPI_SUCCESS;                                      \
	}                                                                \
	SHIM_WEAK(Status_set_##Name)

STATUS_FIELD(source, MPI_SOURCE)
STATUS_FIELD(tag, MPI_TAG)
STATUS_FIELD(error, MPI_ERROR)
