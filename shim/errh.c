/*
 * errh.c - errors as the application sees them.
 *
 * The proxy and the argument checks produce standard-ABI error classes;
 * here they meet the error handler of the communicator involved.  The
 * shim only ever returns error classes, so an error code is its own
 * class and MPI_Error_string can answer from a table, identically under
 * both MPIs; codes the application added are shim/errh_user.c's, as are
 * user handlers, which are called here.  A fatal handler prints one line
 * naming the function and the class, then aborts the whole job through
 * the proxy.
 */
#include "shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

struct err_desc {
	int cls;
	const char *name;
	const char *text;
};

#define E(n, t) { MPI_##n, "MPI_" #n, t }
static const struct err_desc errors[] = {
	E(SUCCESS, "no error"),
	E(ERR_BUFFER, "invalid buffer pointer"),
	E(ERR_COUNT, "invalid count argument"),
	E(ERR_TYPE, "invalid datatype"),
	E(ERR_TAG, "invalid tag"),
	E(ERR_COMM, "invalid communicator"),
	E(ERR_RANK, "invalid rank"),
	E(ERR_REQUEST, "invalid request"),
	E(ERR_ROOT, "invalid root"),
	E(ERR_GROUP, "invalid group"),
	E(ERR_OP, "invalid operation"),
	E(ERR_TOPOLOGY, "invalid topology"),
	E(ERR_DIMS, "invalid dimension argument"),
	E(ERR_ARG, "invalid argument"),
	E(ERR_UNKNOWN, "unknown error"),
	E(ERR_TRUNCATE, "message truncated on receive"),
	E(ERR_OTHER, "other error"),
	E(ERR_INTERN, "internal error"),
	E(ERR_PENDING, "pending request"),
	E(ERR_IN_STATUS, "error code is in the status"),
	E(ERR_ACCESS, "permission denied"),
	E(ERR_AMODE, "invalid access mode"),
	E(ERR_ASSERT, "invalid assert argument"),
	E(ERR_BAD_FILE, "invalid file name"),
	E(ERR_BASE, "invalid base address"),
	E(ERR_CONVERSION, "data conversion error"),
	E(ERR_DISP, "invalid displacement"),
	E(ERR_DUP_DATAREP, "data representation already defined"),
	E(ERR_FILE_EXISTS, "file exists"),
	E(ERR_FILE_IN_USE, "file in use"),
	E(ERR_FILE, "invalid file handle"),
	E(ERR_INFO_KEY, "invalid info key"),
	E(ERR_INFO_NOKEY, "info key not defined"),
	E(ERR_INFO_VALUE, "invalid info value"),
	E(ERR_INFO, "invalid info object"),
	E(ERR_IO, "I/O error"),
	E(ERR_KEYVAL, "invalid keyval"),
	E(ERR_LOCKTYPE, "invalid lock type"),
	E(ERR_NAME, "invalid service name"),
	E(ERR_NO_MEM, "out of memory"),
	E(ERR_NOT_SAME, "arguments differ between processes"),
	E(ERR_NO_SPACE, "no space left"),
	E(ERR_NO_SUCH_FILE, "no such file"),
	E(ERR_PORT, "invalid port name"),
	E(ERR_QUOTA, "quota exceeded"),
	E(ERR_READ_ONLY, "read-only file or file system"),
	E(ERR_RMA_ATTACH, "memory cannot be attached"),
	E(ERR_RMA_CONFLICT, "conflicting accesses to a window"),
	E(ERR_RMA_RANGE, "target memory not in the window"),
	E(ERR_RMA_SHARED, "memory cannot be shared"),
	E(ERR_RMA_SYNC, "wrong synchronisation of RMA calls"),
	E(ERR_SERVICE, "invalid service name to unpublish"),
	E(ERR_SIZE, "invalid size"),
	E(ERR_SPAWN, "error spawning processes"),
	E(ERR_UNSUPPORTED_DATAREP, "unsupported data representation"),
	E(ERR_UNSUPPORTED_OPERATION, "operation not supported"),
	E(ERR_WIN, "invalid window"),
	E(ERR_RMA_FLAVOR, "wrong window flavor"),
	E(ERR_PROC_ABORTED, "peer process aborted"),
	E(ERR_VALUE_TOO_LARGE, "value too large for its output"),
	E(ERR_SESSION, "invalid session"),
	E(ERR_ERRHANDLER, "invalid error handler"),
	E(ERR_ABI, "ABI mismatch"),
};
#undef E

static const struct err_desc *err_find(int cls)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].cls == cls)
			return &errors[i];
	return NULL;
}

const char *shim_error_name(int cls)
{
	const struct err_desc *d = err_find(cls);

	return d ? d->name : "MPI_ERR_UNKNOWN";
}

/* End the whole job: the proxy calls the real MPI_Abort. */
static _Noreturn void abort_job(int code)
{
	if (shim.initialized && !shim.finalized) {
		struct chan_call *c = shim_call_begin(CALL_ABORT);
		c->arg[0] = (int64_t)(intptr_t)MPI_COMM_WORLD;
		c->arg[1] = code;
		shim_call_run(c);
	}
	_exit(DM_EXIT_MPI_FATAL);
}

/* A request's errors go to its communicator's handler even after
 * MPI_Comm_free (the request keeps the record: shim/comm.c). */
static MPI_Errhandler handler_of(MPI_Comm comm)
{
	struct shim_comm *c = shim_comm_any(comm);

	if (!c)
		c = shim_comm_get(SHIM_NOCOMM);
	return c ? c->errh : MPI_ERRORS_ARE_FATAL;
}

int shim_error_raise(MPI_Comm comm, int code, const char *fn, const char *detail)
{
	MPI_Errhandler eh = handler_of(comm);
	if (eh == MPI_ERRORS_RETURN ||
	    shim_errh_call(eh, shim_comm_any(comm) ? comm : SHIM_NOCOMM, code))
		return code;
	dm_err("%s (rank %d): %s: %s%s%s", fn, shim.world_rank,
	       shim_error_name(code), err_find(code) ? err_find(code)->text : "",
	       detail ? ": " : "", detail ? detail : "");
	abort_job(code);
}

int shim_errorf(MPI_Comm comm, int code, const char *fn, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return shim_error(comm, code, fn, detail);
}

/*
 * Where the standard raises an error of an unsupported call: MPI_T calls
 * never raise one (they may even come before MPI_Init), file calls raise
 * it on the file's handler, which is MPI_FILE_NULL's, MPI_ERRORS_RETURN,
 * since setting another one is unsupported too.  Everything else goes to
 * MPI_COMM_WORLD's handler, for want of the window or session's own.
 */
static MPI_Errhandler unsupported_handler(const char *fn)
{
	if (strncmp(fn, "MPI_T_", 6) == 0 || strncmp(fn, "MPI_File_", 9) == 0 ||
	    strncmp(fn, "MPI_Register_datarep", 20) == 0)
		return MPI_ERRORS_RETURN;
	return handler_of(MPI_COMM_WORLD);
}

int shim_unsupported(const char *fn)
{
	MPI_Errhandler eh = unsupported_handler(fn);
	int fatal = eh == MPI_ERRORS_ARE_FATAL || eh == MPI_ERRORS_ABORT;

	dm_err("%s is not supported by dmtcp_mpi (MPI_ERR_UNSUPPORTED_OPERATION)%s",
	       fn, fatal ? "; aborting" : "");
	if (!fatal) {
		shim_errh_call(eh, MPI_COMM_WORLD, MPI_ERR_UNSUPPORTED_OPERATION);
		return MPI_ERR_UNSUPPORTED_OPERATION;
	}
	abort_job(MPI_ERR_UNSUPPORTED_OPERATION);
}

int PMPI_Error_class(int errorcode, int *errorclass)
{
	const char *text;

	if (shim_error_user(errorcode, errorclass, &text))
		return MPI_SUCCESS;
	if (!err_find(errorcode))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Error_class",
				   "%d is not an error code", errorcode);
	*errorclass = errorcode;
	return MPI_SUCCESS;
}
SHIM_WEAK(Error_class)

int PMPI_Error_string(int errorcode, char *string, int *resultlen)
{
	const struct err_desc *d = err_find(errorcode);
	const char *text;
	int cls;

	if (shim_error_user(errorcode, &cls, &text)) {
		int n = snprintf(string, MPI_MAX_ERROR_STRING, "%s", text ? text : "");
		*resultlen = n < MPI_MAX_ERROR_STRING ? n : MPI_MAX_ERROR_STRING - 1;
		return MPI_SUCCESS;
	}
	if (!d)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Error_string",
				   "%d is not an error code", errorcode);
	int n = snprintf(string, MPI_MAX_ERROR_STRING, "%s: %s", d->name, d->text);
	*resultlen = n < MPI_MAX_ERROR_STRING ? n : MPI_MAX_ERROR_STRING - 1;
	return MPI_SUCCESS;
}
SHIM_WEAK(Error_string)
