/*
 * log.c - one-line messages with the dmtcp_mpi prefix, and whether the
 * user asked for the verbose ones (see log.h).
 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dm_verbose(void)
{
	const char *v = getenv("DMTCP_MPI_VERBOSE");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

void dm_vlog(const char *level, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "dmtcp_mpi: %s", level);

	if (n < 0)
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);

	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write: lines from many ranks must not interleave. */
	ssize_t w = write(2, line, len);
	(void)w;
}

#define DM_LOG_FN(name, level)                  \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		dm_vlog(level, fmt, ap);        \
		va_end(ap);                     \
	}

DM_LOG_FN(dm_err, "error: ")
DM_LOG_FN(dm_warn, "warning: ")
DM_LOG_FN(dm_info, "")

void dm_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dm_vlog("error: ", fmt, ap);
	va_end(ap);
	_exit(code);
}
