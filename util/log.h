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

/* Print an error and _exit(code). */
void dm_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
