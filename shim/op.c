/*
 * op.c - reduction operations: the predefined ones by value, user ones
 * as records in application memory.
 *
 * A user operation is an application function, which only the
 * application can call: the proxy never sees it (shim/opreduce.c does
 * the arithmetic).  Its record (the function, its flavour and whether it
 * commutes) is plain application memory, so a checkpoint keeps it and a
 * restart, which maps the image back at the same addresses, finds the
 * function pointer still valid; nothing has to be rebuilt in the new
 * proxy.  Handles are virtual (kind SHIM_K_OP, shim/handle.c).
 *
 * Errors go to MPI_COMM_WORLD's handler (SHIM_NOCOMM), as both real MPIs
 * do for calls that name no communicator.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

int shim_op_predefined(MPI_Op op)
{
	uintptr_t h = (uintptr_t)op;

	return (h >= 0x21 && h <= 0x24) || (h >= 0x28 && h <= 0x2a) ||
	       (h >= 0x30 && h <= 0x32) || h == 0x38 || h == 0x39 || h == 0x3c || h == 0x3d;
}

struct shim_op *shim_op_get(MPI_Op op)
{
	return shim_handle_get(SHIM_K_OP, (uintptr_t)op);
}

static int op_new(MPI_User_function *fn, MPI_User_function_c *fn_c, int commute,
		  MPI_Op *op, const char *name)
{
	struct shim_op *o;
	uintptr_t h;

	if (!op || (!fn && !fn_c))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, name, "%s is NULL",
				   op ? "user_fn" : "op");
	if (!(o = calloc(1, sizeof(*o))))
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, name, "op record");
	o->fn = fn;
	o->fn_c = fn_c;
	o->commute = commute != 0;
	if (!(h = shim_handle_new(SHIM_K_OP, o))) {
		free(o);
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, name, "op handle");
	}
	*op = (MPI_Op)h;
	return MPI_SUCCESS;
}

int PMPI_Op_create(MPI_User_function *user_fn, int commute, MPI_Op *op)
{
	return op_new(user_fn, NULL, commute, op, "MPI_Op_create");
}
SHIM_WEAK(Op_create)

int PMPI_Op_create_c(MPI_User_function_c *user_fn, int commute, MPI_Op *op)
{
	return op_new(NULL, user_fn, commute, op, "MPI_Op_create_c");
}
SHIM_WEAK(Op_create_c)

/* Predefined operations and MPI_OP_NULL cannot be freed (MPI_ERR_OP, as
 * in both real MPIs). */
int PMPI_Op_free(MPI_Op *op)
{
	static const char fn[] = "MPI_Op_free";
	struct shim_op *o;

	if (!op)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "op is NULL");
	if (!(o = shim_op_get(*op)))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_OP, fn, "%#lx is %s",
				   (unsigned long)(uintptr_t)*op,
				   shim_op_predefined(*op) ? "a predefined operation"
							   : "not a user operation");
	shim_handle_free(SHIM_K_OP, (uintptr_t)*op);
	free(o);
	*op = MPI_OP_NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Op_free)

/* MPI_REPLACE and MPI_NO_OP exist for one-sided accumulation; MPICH calls
 * them not commutative, Open MPI commutative: answer as the MPI
 * underneath would. */
int PMPI_Op_commutative(MPI_Op op, int *commute)
{
	static const char fn[] = "MPI_Op_commutative";
	struct shim_op *o;

	if (!commute)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "commute is NULL");
	if ((o = shim_op_get(op))) {
		*commute = o->commute;
		return MPI_SUCCESS;
	}
	if (!shim_op_predefined(op))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_OP, fn, "%#lx is not an operation",
				   (unsigned long)(uintptr_t)op);
	*commute = (op != MPI_REPLACE && op != MPI_NO_OP) ||
		   strstr(shim.backend, "Open MPI") != NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Op_commutative)
