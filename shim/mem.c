/*
 * mem.c - MPI_Alloc_mem and MPI_Free_mem.
 *
 * Memory the application asks MPI for is ordinary heap memory here: the
 * real MPI runs in the proxy and could not use registered memory of ours
 * anyway, and heap memory is checkpointed like any other.  The info
 * hints are accepted and ignored.
 */
#include "shim.h"

#include <stdlib.h>

int PMPI_Alloc_mem(MPI_Aint size, MPI_Info info, void *baseptr)
{
	static const char fn[] = "MPI_Alloc_mem";
	int err;

	if ((err = shim_info_check(info, SHIM_NOCOMM, fn)))
		return err;
	if (size < 0 || !baseptr)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "size %ld, baseptr %p", (long)size,
				   baseptr);
	void *p = malloc(size ? (size_t)size : 1);
	if (!p)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, "%ld bytes", (long)size);
	*(void **)baseptr = p;
	return MPI_SUCCESS;
}
SHIM_WEAK(Alloc_mem)

int PMPI_Free_mem(void *base)
{
	free(base);
	return MPI_SUCCESS;
}
SHIM_WEAK(Free_mem)
