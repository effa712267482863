/*
 * comm.c - making and freeing real communicators (served for
 * shim/commops.c).
 *
 * The shim picks the handle of every new communicator before the call
 * (arg[1]); we store the real communicator under it (proxy/table.c) and
 * answer with its members as world ranks, which the shim records so it
 * can answer rank/size/compare/group queries itself and rebuild the
 * communicator after a restart.  Every new real communicator gets
 * MPI_ERRORS_RETURN: errors come back as codes and the shim raises them
 * on the application's handler.
 *
 * Split and create have no nonblocking form in MPI, so they block here;
 * all ranks of the parent are inside the same call, so this is short.
 * Under MPI_THREAD_MULTIPLE the shim may ask (CALL_ARG_DETACH) for them
 * to block on a thread of their own instead (proxy/ctorbg.c).  Dup uses
 * MPI_Comm_idup and the progress loop, except when detached: MPICH 4.0
 * allocates an idup's context id by a schedule that, while another thread
 * holds the context-id mask in a blocking constructor, retries at once
 * when the reduction needs no other process (a dup of SELF); those retries
 * run inside MPI_Comm_idup, under MPICH's global lock, so the holder never
 * gets the lock back to finish: the call never returns and the schedule
 * grows by gigabytes (threads/comm/comm_create_group_threads).  A blocking
 * MPI_Comm_dup gives the lock up between its tries.  Open MPI's idup does
 * not loop so.
 *
 * Calls that make a communicator share one layout:
 *   arg[0] parent comm, arg[1] handle for the new comm, arg[2..4] below;
 *   reply: arg[5] size of the new comm (0: MPI_COMM_NULL here), arg[6] my
 *   rank in it, inl int32[size] the world rank of each member,
 *   arg[CALL_ARG_GID] (chan/calls.h) its global id, agreed by all members
 *   (proxy/gid.c).
 *   COMM_DUP           -
 *   COMM_SPLIT         arg[2] color (ABI, may be MPI_UNDEFINED), arg[3] key
 *   COMM_SPLIT_TYPE    arg[2] split type (ABI: COMM_TYPE_SHARED or
 *                      UNDEFINED), arg[3] key
 *   COMM_CREATE        arg[2] n, inl int32[n] the group as world ranks
 *   COMM_CREATE_GROUP  arg[2] n, inl int32[n] the group, arg[3] tag
 *   COMM_REBUILD       after a restart, the communicator an image had:
 *                      arg[0] ignored (the members are world ranks),
 *                      arg[2] n, inl int32[n] the members as world ranks
 *                      in their rank order, arg[3] its global id, which it
 *                      keeps (the reply's CALL_ARG_GID repeats it);
 *                      arg[4] -1, or for an idup'd one the id its own was
 *                      computed from, which no new communicator may
 *                      get (shim/commdup.c).  Made
 *                      with MPI_Comm_create_group over WORLD (its private
 *                      dup under Open MPI, px.world_ctor), so only the
 *                      members call it; each rank rebuilds its
 *                      communicators in the order of their ids.
 * COMM_GATHER_FREED: after a restart, inl the caller's list of freed
 *                      communicators its requests still hold
 *                      (shim/commheld.c says the format); reply: inl
 *                      every rank's list, in world rank order.  All ranks
 *                      call it.
 * COMM_FREE: arg[0] comm, arg[1] 1 if the application's requests still
 *                      use it (shim/comm.c): then it stays in the table,
 *                      where DRAIN probes it, until a COMM_FREE with
 *                      arg[1] 0 comes once the last of them is gone.
 */
#include "px.h"

#include <stdlib.h>
#include <string.h>

#define ARG_SIZE 5
#define ARG_RANK 6

/* World rank of each member of real, in its rank order, into the reply. */
static int reply_members(struct chan_call *c, MPI_Comm real)
{
	int size, rank, rc;
	MPI_Group g;

	MPI_Comm_size(real, &size);
	MPI_Comm_rank(real, &rank);
	if ((size_t)size * sizeof(int32_t) > CHAN_INLINE_SIZE)
		return MPI_ERR_INTERN; /* the shim refuses worlds this large */
	int *idx = malloc((size_t)size * sizeof(int));
	if (!idx)
		return MPI_ERR_NO_MEM;
	for (int i = 0; i < size; i++)
		idx[i] = i;
	rc = MPI_Comm_group(real, &g);
	if (rc == MPI_SUCCESS) {
		rc = MPI_Group_translate_ranks(g, size, idx, px.world_group, (int *)c->inl);
		MPI_Group_free(&g);
	}
	free(idx);
	c->arg[ARG_SIZE] = size;
	c->arg[ARG_RANK] = rank;
	c->inl_len = (uint32_t)((size_t)size * sizeof(int32_t));
	/* An intercommunicator's remote group follows (CALL_ARG_REMOTE). */
	int inter = 0;
	c->arg[CALL_ARG_REMOTE] = -1;
	MPI_Comm_test_inter(real, &inter);
	if (rc == MPI_SUCCESS && inter)
		rc = px_reply_remote(c, real);
	return rc;
}

/* Fill c's reply for real, whose id is gid: size 0 for MPI_COMM_NULL or
 * a failure (real is then freed).  Returns rc or the first error. */
static int describe(struct chan_call *c, int rc, MPI_Comm *real, int64_t gid)
{
	c->arg[ARG_SIZE] = 0;
	c->inl_len = 0;
	c->arg[CALL_ARG_GID] = gid;
	if (rc == MPI_SUCCESS && *real != MPI_COMM_NULL) {
		rc = MPI_Comm_set_errhandler(*real, MPI_ERRORS_RETURN);
		if (rc == MPI_SUCCESS)
			rc = reply_members(c, *real);
		if (rc != MPI_SUCCESS)
			MPI_Comm_free(real);
	}
	if (rc != MPI_SUCCESS)
		c->arg[ARG_SIZE] = 0;
	return rc;
}

int px_comm_describe(struct chan_call *c, int rc, MPI_Comm *real, px_more_fn *more)
{
	int64_t gid = -1;

	/* The id first, while every member is still in step. */
	if (rc == MPI_SUCCESS && *real != MPI_COMM_NULL) {
		rc = px_gid_agree(*real, &gid);
		if (rc != MPI_SUCCESS)
			MPI_Comm_free(real);
	}
	rc = describe(c, rc, real, gid);
	if (rc != MPI_SUCCESS || !more || *real == MPI_COMM_NULL)
		return rc;
	if ((rc = more(c, *real)) != MPI_SUCCESS) {
		MPI_Comm_free(real);
		c->arg[ARG_SIZE] = 0;
	}
	return rc;
}

void px_comm_keep(struct chan_call *c, int rc, MPI_Comm real)
{
	if (rc == MPI_SUCCESS && real != MPI_COMM_NULL)
		px_comm_set(c->arg[1], real);
	px_reply(c, rc);
}

void px_comm_made(struct chan_call *c, int rc, MPI_Comm real)
{
	rc = px_comm_describe(c, rc, &real, NULL);
	px_comm_keep(c, rc, real);
}

/* The real parent named by arg[0]; replies MPI_ERR_COMM when unknown. */
static MPI_Comm parent_of(struct chan_call *c)
{
	MPI_Comm p = px_comm(c->arg[0]);

	if (p == MPI_COMM_NULL) {
		c->arg[ARG_SIZE] = 0;
		px_reply(c, MPI_ERR_COMM);
	}
	return p;
}

void px_comm_serve(struct chan_call *c, px_make_fn *make, px_more_fn *more)
{
	MPI_Comm parent = parent_of(c), real = MPI_COMM_NULL;

	if (parent == MPI_COMM_NULL)
		return;
	if (c->arg[CALL_ARG_DETACH]) {
		px_ctor_start(c, parent, make, more);
		return;
	}
	int rc = make(c, parent, &real);

	rc = px_comm_describe(c, rc, &real, more);
	px_comm_keep(c, rc, real);
}

/* The main thread's dup: it may not block inside MPI (proxy/progress.c). */
static int make_idup(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	MPI_Request r;
	int rc = MPI_Comm_idup(parent, real, &r);

	(void)c;
	return rc == MPI_SUCCESS ? px_wait(&r, MPI_STATUS_IGNORE) : rc;
}

static int make_dup(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	(void)c;
	return MPI_Comm_dup(parent, real);
}

/* Detached (MULTIPLE: a dup of SELF or of an intercommunicator, see
 * shim/commops.c), under MPICH a blocking MPI_Comm_dup on a thread of its
 * own, since an idup in the main thread can loop inside MPI without end
 * (above); under Open MPI the idup, here, which is faster than a thread
 * (MPICH's threads/comm/comm_create_group_threads under Open MPI, 2
 * ranks: 2.3-3.1 s, against 4.2-7.1 s with the dup on a thread). */
void px_call_COMM_DUP(struct chan_call *c)
{
	MPI_Comm parent = parent_of(c), real = MPI_COMM_NULL;

	if (parent == MPI_COMM_NULL)
		return;
	if (!c->arg[CALL_ARG_DETACH]) {
		int rc = make_idup(c, parent, &real);
		px_comm_made(c, rc, real);
	} else if (PX_MPICH) {
		px_ctor_start(c, parent, make_dup, NULL);
	} else {
		px_ctor_start_here(c, parent, make_idup, NULL);
	}
}

static int make_split(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	return MPI_Comm_split(parent, px_undefined_in(c->arg[2]), (int)c->arg[3], real);
}

void px_call_COMM_SPLIT(struct chan_call *c)
{
	px_comm_serve(c, make_split, NULL);
}

static int make_split_type(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	int type;

	if (c->arg[2] == ABI_COMM_TYPE_SHARED)
		type = MPI_COMM_TYPE_SHARED;
	else if (c->arg[2] == ABI_UNDEFINED)
		type = MPI_UNDEFINED;
	else
		return MPI_ERR_ARG;
	return MPI_Comm_split_type(parent, type, (int)c->arg[3], MPI_INFO_NULL, real);
}

void px_call_COMM_SPLIT_TYPE(struct chan_call *c)
{
	px_comm_serve(c, make_split_type, NULL);
}

/* The group named by arg[2] and inl (world ranks), made from parent's
 * own group: MPICH 4.0.2 crashes in MPI_Comm_create_group given a group
 * made from another communicator's, even one with the same members. */
static int group_of(struct chan_call *c, MPI_Comm parent, MPI_Group *g)
{
	int n = (int)c->arg[2], rc;
	MPI_Group pg;

	if (n == 0) {
		*g = MPI_GROUP_EMPTY;
		return MPI_SUCCESS;
	}
	int *ranks = malloc((size_t)n * sizeof(int));
	if (!ranks)
		return MPI_ERR_NO_MEM;
	rc = MPI_Comm_group(parent, &pg);
	if (rc == MPI_SUCCESS) {
		rc = MPI_Group_translate_ranks(px.world_group, n, (const int *)c->inl, pg,
					       ranks);
		if (rc == MPI_SUCCESS)
			rc = MPI_Group_incl(pg, n, ranks, g);
		MPI_Group_free(&pg);
	}
	free(ranks);
	return rc;
}

static void group_release(MPI_Group *g)
{
	if (*g != MPI_GROUP_EMPTY)
		MPI_Group_free(g);
}

static int make_create(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	MPI_Group g;
	int rc = group_of(c, parent, &g);

	if (rc == MPI_SUCCESS) {
		rc = MPI_Comm_create(parent, g, real);
		group_release(&g);
	}
	return rc;
}

void px_call_COMM_CREATE(struct chan_call *c)
{
	px_comm_serve(c, make_create, NULL);
}

/* Over WORLD, on the proxy's private dup of it under Open MPI (see
 * px.world_ctor): Comm_create_from_group and Intercomm_create_from_groups
 * (shim/intercomm.c) come here with a tag hashed from their string, which
 * an application cannot keep clear of its own tags on WORLD. */
static int make_create_group(struct chan_call *c, MPI_Comm parent, MPI_Comm *real)
{
	MPI_Group g;

	if (parent == MPI_COMM_WORLD)
		parent = px.world_ctor;
	int rc = group_of(c, parent, &g);

	if (rc == MPI_SUCCESS) {
		rc = MPI_Comm_create_group(parent, g, px_tag_in(c->arg[3]), real);
		group_release(&g);
	}
	return rc;
}

void px_call_COMM_CREATE_GROUP(struct chan_call *c)
{
	px_comm_serve(c, make_create_group, NULL);
}

void px_call_COMM_REBUILD(struct chan_call *c)
{
	MPI_Comm real = MPI_COMM_NULL;
	MPI_Group g;
	int64_t gid = c->arg[3];
	/* Concurrent rebuilds with common members come in the same order on
	 * each: any tag in range will do; the leader's counter varies. */
	int rc = group_of(c, px.world_ctor, &g);

	if (rc == MPI_SUCCESS) {
		rc = MPI_Comm_create_group(px.world_ctor, g, (int)(gid & 0x7fff), &real);
		group_release(&g);
	}
	if (rc == MPI_SUCCESS) {
		px_gid_keep(gid);
		px_gid_keep(c->arg[4]);
	}
	rc = describe(c, rc, &real, gid);
	px_comm_keep(c, rc, real);
}

/* The lists' lengths, then the lists into c->inl, in world rank order:
 * lens holds 2 * size ints (the lengths, then the offsets). */
static int allgather_lists(struct chan_call *c, const char *own, int mine, int *lens,
			   int size)
{
	int *offs = lens + size;
	size_t total = 0;
	int rc = MPI_Allgather(&mine, 1, MPI_INT, lens, 1, MPI_INT, px.world_ctor);

	for (int i = 0; rc == MPI_SUCCESS && i < size; i++) {
		offs[i] = (int)total;
		total += (size_t)lens[i];
	}
	/* Every rank sees the same total, so all give up together. */
	if (rc == MPI_SUCCESS && total > CHAN_INLINE_SIZE)
		rc = MPI_ERR_NO_MEM;
	if (rc == MPI_SUCCESS)
		rc = MPI_Allgatherv(own, mine, MPI_BYTE, c->inl, lens, offs, MPI_BYTE,
				    px.world_ctor);
	c->inl_len = rc == MPI_SUCCESS ? (uint32_t)total : 0;
	return rc;
}

/* Everyone's list of freed communicators its requests hold, for
 * everyone (shim/commheld.c).  A rank out of memory here ends its
 * restart (the shim dies on the error), and with it the job. */
void px_call_COMM_GATHER_FREED(struct chan_call *c)
{
	int size, rc = MPI_ERR_NO_MEM;

	MPI_Comm_size(px.world_ctor, &size);
	int *lens = malloc(2 * (size_t)size * sizeof(int));
	char *own = malloc(c->inl_len + 1);
	if (lens && own) {
		memcpy(own, c->inl, c->inl_len);
		rc = allgather_lists(c, own, (int)c->inl_len, lens, size);
	}
	free(lens);
	free(own);
	px_reply(c, rc);
}

void px_call_COMM_FREE(struct chan_call *c)
{
	MPI_Comm real = px_comm(c->arg[0]);

	if (real == MPI_COMM_NULL || real == MPI_COMM_WORLD || real == MPI_COMM_SELF) {
		px_reply(c, MPI_ERR_COMM);
		return;
	}
	/* Kept: a message in flight to a pending receive must be drained
	 * from it at a checkpoint, and its requests' errors go to its
	 * MPI_ERRORS_RETURN (Open MPI aborts on those of a freed one). */
	if (c->arg[1]) {
		px_reply(c, MPI_SUCCESS);
		return;
	}
	px_comm_take(c->arg[0]);
	px_neighbor_forget(c->arg[0]);
	px_reply(c, MPI_Comm_free(&real));
}
