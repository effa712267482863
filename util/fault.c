/*
 * fault.c - is a test fault point armed?  See fault.h.
 *
 * One reader for every process of the system (engine, restart, shim,
 * proxy), so that every point accepts the same list syntax.
 */
#include "util/fault.h"

#include <stdlib.h>
#include <string.h>

int dm_fault(const char *point)
{
	const char *list = getenv("DMTCP_MPI_FAULT");
	size_t n = strlen(point);

	/* Whole items only: "ckpt" is not armed by "ckpt-kill". */
	for (const char *at = list; at != NULL && *at; ) {
		const char *end = strchrnul(at, ',');
		if ((size_t)(end - at) == n && memcmp(at, point, n) == 0)
			return 1;
		at = *end ? end + 1 : end;
	}
	return 0;
}
