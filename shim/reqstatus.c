/*
 * reqstatus.c - MPI_Request_get_status_all, _any and _some (MPI-4.1):
 * MPI_Testall, Testany and Testsome that leave every request as it is,
 * built on MPI_Request_get_status (shim/req.c), which asks the proxy
 * about one request without completing it.
 *
 * As in the Test family, a null or inactive request counts as complete
 * with an empty status for _all and is not looked at by _any and _some,
 * which report MPI_UNDEFINED when the array holds no active request.
 */
#include "shim.h"

#include <stdlib.h>

static int active(MPI_Request h)
{
	struct shim_req *r = h == MPI_REQUEST_NULL ? NULL : shim_req_get(h);

	return r && !r->inactive;
}

int PMPI_Request_get_status_all(int count, const MPI_Request array_of_requests[], int *flag,
				MPI_Status *array_of_statuses)
{
	static const char fn[] = "MPI_Request_get_status_all";
	MPI_Status *st = malloc((size_t)(count > 0 ? count : 1) * sizeof(*st));
	int err = MPI_SUCCESS, done = 1;

	if (!st)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	if (count < 0 || !flag)
		err = shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "count %d or flag NULL", count);
	for (int i = 0; i < count && !err && done; i++)
		err = PMPI_Request_get_status(array_of_requests[i], &done, &st[i]);
	if (!err) {
		*flag = done;
		for (int i = 0; i < count && done && array_of_statuses != MPI_STATUSES_IGNORE; i++)
			array_of_statuses[i] = st[i];
	}
	free(st);
	return err;
}
SHIM_WEAK(Request_get_status_all)

int PMPI_Request_get_status_any(int count, const MPI_Request array_of_requests[], int *indx,
				int *flag, MPI_Status *status)
{
	int err = MPI_SUCCESS, any = 0;

	if (count < 0 || !indx || !flag)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Request_get_status_any",
				   "count %d, or indx or flag NULL", count);
	*indx = MPI_UNDEFINED;
	*flag = 0;
	for (int i = 0; i < count && !err && !*flag; i++) {
		if (!active(array_of_requests[i]))
			continue;
		any = 1;
		err = PMPI_Request_get_status(array_of_requests[i], flag, status);
		if (!err && *flag)
			*indx = i;
	}
	if (!err && !any) {
		*flag = 1;
		shim_status_empty(status);
	}
	return err;
}
SHIM_WEAK(Request_get_status_any)

int PMPI_Request_get_status_some(int incount, const MPI_Request array_of_requests[],
				 int *outcount, int array_of_indices[],
				 MPI_Status *array_of_statuses)
{
	int err = MPI_SUCCESS, any = 0, n = 0;

	if (incount < 0 || !outcount)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Request_get_status_some",
				   "incount %d or outcount NULL", incount);
	for (int i = 0; i < incount && !err; i++) {
		MPI_Status st;
		int done = 0;
		if (!active(array_of_requests[i]))
			continue;
		any = 1;
		err = PMPI_Request_get_status(array_of_requests[i], &done, &st);
		if (err || !done)
			continue;
		array_of_indices[n] = i;
		if (array_of_statuses != MPI_STATUSES_IGNORE)
			array_of_statuses[n] = st;
		n++;
	}
	if (!err)
		*outcount = any ? n : MPI_UNDEFINED;
	return err;
}
SHIM_WEAK(Request_get_status_some)
