/*
 * fault.h - named fault points for tests (DMTCP_MPI_FAULT).
 *
 * A test sets DMTCP_MPI_FAULT to one point name, or to several separated
 * by commas, and the code where each would really fail asks dm_fault
 * whether to fail there.  The points are listed in doc/ckpt-engine.md.
 */
#ifndef DM_FAULT_H
#define DM_FAULT_H

/* 1 if $DMTCP_MPI_FAULT names point, else 0.  Reads the environment on
 * every call (no lock, no allocation): a path taken often reads it once
 * and keeps the answer.  Hidden: each object keeps its own copy, and
 * libmpi_abi does not export it. */
__attribute__((visibility("hidden")))
int dm_fault(const char *point);

#endif
