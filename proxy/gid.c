/*
 * gid.c - global communicator ids.
 *
 * A checkpoint compares collective sequence numbers per communicator
 * across ranks (shim/ckpt.c), so every communicator needs a name that all
 * its members agree on and that no other live communicator of the job
 * has; handles will not do, each process picks its own.  The id of a new
 * communicator is
 *
 *     gid = m << 32 | k
 *
 * where m is the lowest world rank among its members and k drawn from a
 * counter of process m (one draw per communicator it is in).  Two
 * communicators with the same m both contain m, which handed out
 * different k: ids are unique job-wide without a central authority.  The
 * members learn (m, k) in one reduction over the new communicator:
 * MPI_MAXLOC over (-world rank, own next k) picks the lowest rank and
 * carries its k along.  An intercommunicator reduces each group into the
 * other, so it takes a second round that hands each side the better of
 * its own and the other's result.
 *
 * WORLD is 0 and SELF -1 by definition (no call); k starts at 1 so no id
 * equals WORLD's.  After a restart the new proxy's counter starts over,
 * so each rebuilt communicator (COMM_REBUILD) raises it past the id it
 * keeps (px_gid_keep).
 */
#include "px.h"

#include <stdatomic.h>

/* k of the next communicator this rank may lead.  Taken before the
 * agreement, not after, since constructor threads (proxy/ctorbg.c) agree
 * ids at the same time: a k not used is lost, which is harmless. */
static _Atomic int next_k = 1;

/* MPI_2INT: value, index. */
struct pair {
	int neg_rank;
	int k;
};

static int maxloc(MPI_Comm comm, const struct pair *in, struct pair *out)
{
	MPI_Request r;
	int rc = MPI_Iallreduce(in, out, 1, MPI_2INT, MPI_MAXLOC, comm, &r);

	if (rc != MPI_SUCCESS)
		return rc;
	return px_on_ctor_thread ? MPI_Wait(&r, MPI_STATUS_IGNORE)
		: px_wait(&r, MPI_STATUS_IGNORE);
}

static const struct pair *better(const struct pair *a, const struct pair *b)
{
	return a->neg_rank >= b->neg_rank ? a : b;
}

int px_gid_agree(MPI_Comm real, int64_t *gid)
{
	struct pair mine = { -px.world_rank, atomic_fetch_add(&next_k, 1) }, got;
	int inter = 0;
	int rc = maxloc(real, &mine, &got);

	if (rc == MPI_SUCCESS)
		rc = MPI_Comm_test_inter(real, &inter);
	if (rc == MPI_SUCCESS && inter) {
		struct pair other = got;
		rc = maxloc(real, better(&mine, &other), &got);
	}
	if (rc != MPI_SUCCESS)
		return rc;
	*gid = (int64_t)-got.neg_rank << 32 | (uint32_t)got.k;
	return MPI_SUCCESS;
}

void px_gid_keep(int64_t gid)
{
	int k = (int)(gid & 0xffffffff);

	if (gid & CALL_GID_IDUP)
		return; /* computed by the shim, not drawn (chan/calls.h) */
	if (gid >= 0 && (gid >> 32) == px.world_rank && k >= next_k)
		atomic_store(&next_k, k + 1); /* at restart: no thread runs yet */
}
