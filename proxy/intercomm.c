/*
 * intercomm.c - intercommunicators, proxy side (issued by
 * shim/intercomm.c).
 *
 *   INTERCOMM_CREATE  arg[0] local communicator, arg[1] handle for the
 *                     new one, arg[2] local leader, arg[3] peer
 *                     communicator (significant at the local leader only),
 *                     arg[4] remote leader (rank in the peer), arg[7] tag;
 *                     reply as every constructor (proxy/comm.c: arg[5]
 *                     local size, arg[6] my rank, inl the local group's
 *                     world ranks), which for an intercommunicator also
 *                     carries the remote group (CALL_ARG_REMOTE,
 *                     chan/calls.h; px_reply_remote below).  So do the
 *                     replies of Comm_dup, Comm_split and Comm_create on
 *                     an intercommunicator.
 *   INTERCOMM_MERGE   arg[0] intercommunicator, arg[1] handle for the
 *                     intracommunicator, arg[2] high; reply as every
 *                     constructor.
 *   INTERCOMM_REBUILD after a restart, arg[0] names the local group made
 *                     again as an intracommunicator (COMM_REBUILD,
 *                     proxy/comm.c); join it to its remote group again:
 *                     arg[2] the world rank of the remote group's first
 *                     member.  Local rank 0 leads, MPI_COMM_WORLD is the
 *                     peer and REBUILD_TAG the tag: both sides rebuild
 *                     their communicators in the order they made them, so
 *                     the two leaders' messages pair up in that order.
 *
 * Neither has a nonblocking form in MPI; both block like MPI_Comm_split,
 * here or, under MPI_THREAD_MULTIPLE, on a thread of their own
 * (px_comm_serve, proxy/ctorbg.c).
 */
#include "px.h"

#include <stdlib.h>
#include <string.h>

#define REBUILD_TAG 0x7ffe

int px_reply_remote(struct chan_call *c, MPI_Comm real)
{
	int n, rc;
	MPI_Group g;

	MPI_Comm_remote_size(real, &n);
	if (c->inl_len + (size_t)n * sizeof(int32_t) > CHAN_INLINE_SIZE)
		return MPI_ERR_INTERN; /* the shim refuses worlds this large */
	int *idx = malloc((size_t)(n ? n : 1) * sizeof(int));
	if (!idx)
		return MPI_ERR_NO_MEM;
	for (int i = 0; i < n; i++)
		idx[i] = i;
	rc = MPI_Comm_remote_group(real, &g);
	if (rc == MPI_SUCCESS) {
		rc = MPI_Group_translate_ranks(g, n, idx, px.world_group,
					       (int *)(void *)(c->inl + c->inl_len));
		MPI_Group_free(&g);
	}
	free(idx);
	c->arg[CALL_ARG_REMOTE] = n;
	c->inl_len += (uint32_t)((size_t)n * sizeof(int32_t));
	return rc;
}

/* The peer communicator travels to the maker in arg[3], looked up here:
 * the proxy's table belongs to the main thread, and the maker may run on
 * a thread of its own.  Nothing reads arg[3] of the reply. */
static void peer_put(struct chan_call *c, MPI_Comm peer)
{
	_Static_assert(sizeof(MPI_Comm) <= sizeof(c->arg[3]), "MPI_Comm fits an argument");
	memcpy(&c->arg[3], &peer, sizeof(peer));
}

static MPI_Comm peer_get(const struct chan_call *c)
{
	MPI_Comm peer;

	memcpy(&peer, &c->arg[3], sizeof(peer));
	return peer;
}

static int make_intercomm(struct chan_call *c, MPI_Comm local, MPI_Comm *real)
{
	return MPI_Intercomm_create(local, (int)c->arg[2], peer_get(c), (int)c->arg[4],
				    px_tag_in(c->arg[7]), real);
}

void px_call_INTERCOMM_CREATE(struct chan_call *c)
{
	peer_put(c, px_comm(c->arg[3]));
	px_comm_serve(c, make_intercomm, NULL);
}

static int make_merge(struct chan_call *c, MPI_Comm inter, MPI_Comm *real)
{
	return MPI_Intercomm_merge(inter, (int)c->arg[2], real);
}

void px_call_INTERCOMM_MERGE(struct chan_call *c)
{
	px_comm_serve(c, make_merge, NULL);
}

void px_call_INTERCOMM_REBUILD(struct chan_call *c)
{
	MPI_Comm local = px_comm(c->arg[0]), real = MPI_COMM_NULL;

	if (local == MPI_COMM_NULL) {
		px_reply(c, MPI_ERR_COMM);
		return;
	}
	int rc = MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, (int)c->arg[2], REBUILD_TAG,
				      &real);
	if (rc == MPI_SUCCESS)
		rc = MPI_Comm_set_errhandler(real, MPI_ERRORS_RETURN);
	if (rc == MPI_SUCCESS) {
		px_comm_set(c->arg[0], real);
		MPI_Comm_free(&local);
	}
	px_reply(c, rc);
}
