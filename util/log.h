/*
 * log.h - the one format every user-facing message uses:
 *   dmtcp_mpi: error: <what failed> (<object, rank, path>): <reason>
 *   dmtcp_mpi: warning: ...
 * Messages are written with a single write(2) so lines from many ranks
 * do not interleave, and without malloc so they are safe in a signal
 * handler or a half-initialised process.
 *
 * Hidden, every one: each object that links util/log.c keeps its own
 * copy, bound at link time, so libmpi_abi exports none of them and an
 * application's own dm_err (say) neither replaces the shim's nor is
 * replaced by it.
 */
#ifndef DM_LOG_H
#define DM_LOG_H

#include <stdarg.h>

#define DM_LOG_HIDDEN __attribute__((visibility("hidden")))

DM_LOG_HIDDEN void dm_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
DM_LOG_HIDDEN void dm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
DM_LOG_HIDDEN void dm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
DM_LOG_HIDDEN void dm_vlog(const char *level, const char *fmt, va_list ap);

/* 1 if DMTCP_MPI_VERBOSE is set, non-empty and not "0": the one reader
 * of it, for every process of the system (launcher, proxy, shim), so
 * that each takes the same values for "on".  Reads the environment on
 * every call. */
DM_LOG_HIDDEN int dm_verbose(void);

/* Print an error and _exit(code). */
DM_LOG_HIDDEN void dm_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
