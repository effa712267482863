/*
 * env.c - starting and ending the real MPI (served for shim/env.c).
 *
 *   INIT      arg[0] requested thread level (ABI) -> arg[1] world rank,
 *             arg[2] world size, inl = real library version string; and
 *             the values of the real MPI_COMM_WORLD's predefined
 *             attributes the shim attaches to its own (shim/attr.c):
 *             arg[3] MPI_TAG_UB, arg[4] MPI_APPNUM, arg[5]
 *             MPI_UNIVERSE_SIZE (-1: not set), arg[6] MPI_WTIME_IS_GLOBAL
 *   FINALIZE  -
 *   ABORT     arg[0] comm, arg[1] error code; does not return
 *   GET_LIBRARY_VERSION -> inl = real library version string
 *   NOP       -  (an empty round trip, for the benchmark)
 *
 * At a restart the launcher has the proxy start MPI at once
 * (px_init_early): MPI_Init, the MPI's slowest call, then runs while the
 * image is restored, and INIT only answers what it found.
 */
#include "px.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

/* The value of a predefined integer attribute of MPI_COMM_WORLD, or -1
 * when the real MPI does not set it. */
static int64_t world_attr(int key)
{
	int *v, flag = 0;

	MPI_Comm_get_attr(MPI_COMM_WORLD, key, &v, &flag);
	return flag ? *v : -1;
}

static void library_version(struct chan_call *c)
{
	int len = 0;

	MPI_Get_library_version((char *)c->inl, &len);
	c->inl_len = (uint32_t)len;
}

/* MPI_Init_thread at want, and what the proxy keeps of the world. */
static int start_mpi(int want)
{
	int provided;
	int rc = MPI_Init_thread(NULL, NULL, want, &provided);

	if (rc != MPI_SUCCESS)
		return rc;
	px.initialized = 1;
	px.mt = provided == MPI_THREAD_MULTIPLE;
	/* Errors come back as codes; the shim raises them. */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &px.world_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &px.world_size);
	MPI_Comm_group(MPI_COMM_WORLD, &px.world_group);
	px.ch.hdr->rank = (uint32_t)px.world_rank;
	/* Open MPI 4.1's MPI_Comm_create_group exchanges its messages on the
	 * parent's point-to-point traffic under the caller's tag, so one over
	 * WORLD could take an application's message on WORLD (or lose its
	 * own to a receive of the application): proxy/comm.c runs those on
	 * this private dup instead.  MPICH keeps them apart itself. */
	px.world_ctor = MPI_COMM_WORLD;
	if (!PX_MPICH)
		rc = MPI_Comm_dup(MPI_COMM_WORLD, &px.world_ctor);
	return rc;
}

/* The restored application's thread level is in its image, which is not
 * read yet: ask for MULTIPLE, which serves every level (px.mt only lets
 * constructors run on threads, and only MULTIPLE applications ask for
 * that).  A failure is kept for the application's CALL_INIT, so it is
 * reported as at a first start. */
void px_init_early(void)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	px.early = 1;
	px.early_rc = start_mpi(MPI_THREAD_MULTIPLE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (px.early_rc == MPI_SUCCESS && dm_verbose())
		dm_info("rank %d: proxy started MPI in %.2f s, during the restore",
			px.world_rank, (double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

void px_call_INIT(struct chan_call *c)
{
	/* The shim serialises the application's threads, so the real MPI
	 * needs no more than SINGLE; but under MULTIPLE communicator
	 * constructors block on threads of their own (proxy/ctorbg.c). */
	int want = px_thread_level_in(c->arg[0]) == MPI_THREAD_MULTIPLE ?
		MPI_THREAD_MULTIPLE : MPI_THREAD_SINGLE;
	int rc = px.early ? px.early_rc : start_mpi(want);

	px.app_asked = 1;
	if (rc == MPI_SUCCESS) {
		c->arg[1] = px.world_rank;
		c->arg[2] = px.world_size;
		c->arg[3] = world_attr(MPI_TAG_UB);
		c->arg[4] = world_attr(MPI_APPNUM);
		c->arg[5] = world_attr(MPI_UNIVERSE_SIZE);
		c->arg[6] = world_attr(MPI_WTIME_IS_GLOBAL);
		library_version(c);
	}
	px_reply(c, rc);
}

void px_call_FINALIZE(struct chan_call *c)
{
	MPI_Group_free(&px.world_group);
	if (px.world_ctor != MPI_COMM_WORLD)
		MPI_Comm_free(&px.world_ctor);
	px_reply(c, MPI_Finalize());
	px.finalized = 1;
}

/* MPI_Abort, a moment after the error lines it follows.  MPICH's mpiexec
 * tears the job down as soon as the abort reaches it and drops stderr it
 * has not printed yet: the application's last words, the launcher's
 * "killed by signal" and ours went missing in 3 of 300 aborted jobs
 * (1 in 30 with MPICH's own MPI_Abort natively).  With 0.2 s for them to
 * reach the terminal first, 0 of 300. */
_Noreturn void px_abort_job(MPI_Comm comm, int code)
{
	struct timespec settle = { 0, 200 * 1000 * 1000 };

	nanosleep(&settle, NULL);
	MPI_Abort(comm, code);
	_exit(code & 0xff ? code & 0xff : 1);
}

void px_call_ABORT(struct chan_call *c)
{
	MPI_Comm comm = px_comm(c->arg[0]);

	px_abort_job(comm == MPI_COMM_NULL ? MPI_COMM_WORLD : comm, (int)c->arg[1]);
}

void px_call_GET_LIBRARY_VERSION(struct chan_call *c)
{
	library_version(c);
	c->err = 0;
}

void px_call_NOP(struct chan_call *c)
{
	c->err = 0;
}
