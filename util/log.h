/*
 * log.h - the one format every user-facing message uses:
 *   dmtcp_mpi: error: <what failed> (<object, rank, path>): <reason>
 *   dmtcp_mpi: warning: ...
 * Messages are written with a single write(2) so lines from many ranks
 * do not interleave, and without malloc so they are safe in a signal
 * handler or a half-initialised process.
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdarg.h>

void dm_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dm_vlog(const char *level, const char *fmt, va_list ap);

/* 1 if DMTCP_MPI_VERBOSE is set, non-empty and not "0": the one reader
 * of it, for every process of the system (launcher, proxy, shim), so
 * that each takes the same values for "on".  Reads the environment on
 * every call.  Hidden: libmpi_abi exports the MPI surface, not this. */
__attribute__((visibility("hidden")))
int dm_verbose(void);

/* Print an error and _exit(code). */
void dm_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
