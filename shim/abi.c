/*
 * abi.c - the MPI-5.0 ABI chapter's queries, and the calls whose
 * standard-allowed answer is "nothing here": MPI_Pcontrol (there is no
 * profiling layer to control: a no-op, as the standard permits) and
 * MPI_Comm_get_parent (dynamic processes are not supported, so no
 * process was spawned: MPI_COMM_NULL).
 *
 * MPI_Abi_get_info describes the C ABI: the sizes of MPI_Aint, MPI_Count
 * and MPI_Offset.  libmpi_abi is a C library only; a Fortran binding
 * layered on it tells it the Fortran ABI through MPI_Abi_set_fortran_info
 * (once: a second call is MPI_ERR_ABI) and MPI_Abi_set_fortran_booleans
 * (per LOGICAL size), and the get calls return what was set:
 * MPI_INFO_NULL and is_set false until then.  Nothing here uses those
 * values, because nothing here takes Fortran arguments.
 */
#include "shim.h"

#include <stdio.h>
#include <string.h>

int PMPI_Pcontrol(const int level, ...)
{
	(void)level;
	return MPI_SUCCESS;
}
SHIM_WEAK(Pcontrol)

int PMPI_Comm_get_parent(MPI_Comm *parent)
{
	if (!parent)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Comm_get_parent",
				  "parent is NULL");
	*parent = MPI_COMM_NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_get_parent)

static int set_size(MPI_Info info, const char *key, size_t size)
{
	char v[24];

	snprintf(v, sizeof v, "%zu", size);
	return PMPI_Info_set(info, key, v);
}

int PMPI_Abi_get_info(MPI_Info *info)
{
	static const char fn[] = "MPI_Abi_get_info";
	int err;

	if (!info)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "info is NULL");
	if ((err = PMPI_Info_create(info)))
		return err;
	if ((err = set_size(*info, "mpi_aint_size", sizeof(MPI_Aint))) ||
	    (err = set_size(*info, "mpi_count_size", sizeof(MPI_Count))) ||
	    (err = set_size(*info, "mpi_offset_size", sizeof(MPI_Offset))))
		PMPI_Info_free(info);
	return err;
}
SHIM_WEAK(Abi_get_info)

static MPI_Info fortran_info = MPI_INFO_NULL;

int PMPI_Abi_get_fortran_info(MPI_Info *info)
{
	if (!info)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Abi_get_fortran_info",
				  "info is NULL");
	if (fortran_info == MPI_INFO_NULL) {
		*info = MPI_INFO_NULL;
		return MPI_SUCCESS;
	}
	return PMPI_Info_dup(fortran_info, info);
}
SHIM_WEAK(Abi_get_fortran_info)

int PMPI_Abi_set_fortran_info(MPI_Info info)
{
	static const char fn[] = "MPI_Abi_set_fortran_info";

	if (fortran_info != MPI_INFO_NULL)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ABI, fn, "the Fortran ABI is set already");
	if (info == MPI_INFO_NULL || !shim_info_get(info))
		return shim_error(SHIM_NOCOMM, MPI_ERR_INFO, fn, "info is not a live info object");
	return PMPI_Info_dup(info, &fortran_info);
}
SHIM_WEAK(Abi_set_fortran_info)

/* LOGICAL values by size: 1, 2, 4, 8 and 16 bytes (slot log2 of it). */
static struct {
	int set;
	unsigned char t[16], f[16];
} booleans[5];

static int logical_slot(int size, const char *fn)
{
	for (int i = 0; i < 5; i++)
		if (size == 1 << i)
			return i;
	return -shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "logical_size %d is not 1, 2, 4,"
			    " 8 or 16", size);
}

int PMPI_Abi_set_fortran_booleans(int logical_size, void *logical_true, void *logical_false)
{
	static const char fn[] = "MPI_Abi_set_fortran_booleans";
	int i = logical_slot(logical_size, fn);

	if (i < 0)
		return -i;
	if (!logical_true || !logical_false)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "a value is NULL");
	memcpy(booleans[i].t, logical_true, (size_t)logical_size);
	memcpy(booleans[i].f, logical_false, (size_t)logical_size);
	booleans[i].set = 1;
	return MPI_SUCCESS;
}
SHIM_WEAK(Abi_set_fortran_booleans)

int PMPI_Abi_get_fortran_booleans(int logical_size, void *logical_true, void *logical_false,
				  int *is_set)
{
	static const char fn[] = "MPI_Abi_get_fortran_booleans";
	int i = logical_slot(logical_size, fn);

	if (i < 0)
		return -i;
	if (!is_set)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "is_set is NULL");
	*is_set = booleans[i].set;
	if (booleans[i].set && logical_true && logical_false) {
		memcpy(logical_true, booleans[i].t, (size_t)logical_size);
		memcpy(logical_false, booleans[i].f, (size_t)logical_size);
	}
	return MPI_SUCCESS;
}
SHIM_WEAK(Abi_get_fortran_booleans)
