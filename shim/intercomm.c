/*
 * intercomm.c - intercommunicators: Intercomm_create, Intercomm_merge,
 * Comm_test_inter, Comm_remote_size, Comm_remote_group.
 *
 * An intercommunicator's record is a communicator record whose world[]
 * is the local group and whose remote[] lists the remote group, both as
 * world ranks: every constructor's reply carries the remote group when
 * the new communicator is an intercommunicator (CALL_ARG_REMOTE,
 * chan/calls.h), so Intercomm_create, and Comm_dup, Comm_split and
 * Comm_create of an intercommunicator, all record it
 * (shim_comm_set_remote, from shim_comm_finish).  The queries are
 * answered from the record and a restart makes it again from the two
 * lists (shim_intercomm_rebuild).  Point-to-point calls on it name
 * remote ranks (shim_check_rank) and Intercomm_merge makes an ordinary
 * intracommunicator.  The MPI-4 constructors from groups
 * (Comm_create_from_group, Intercomm_create_from_groups) are made here
 * from the world-model ones: groups are world-rank lists anyway, so
 * MPI_COMM_WORLD is the parent and the peer, and the string tag becomes
 * an integer tag both sides compute alike.  Collectives on
 * intercommunicators are not offered:
 * the collective wrappers check roots and buffers as intracommunicators
 * have them.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#define ABI(h) ((int64_t)(intptr_t)(h))

/* An intercommunicator; else raises MPI_ERR_COMM. */
static struct shim_comm *inter_check(MPI_Comm comm, const char *fn, int *err)
{
	struct shim_comm *c = shim_comm_check(comm, fn, err);

	if (c && !c->remote) {
		*err = shim_error(comm, MPI_ERR_COMM, fn, "not an intercommunicator");
		return NULL;
	}
	return c;
}

int PMPI_Comm_test_inter(MPI_Comm comm, int *flag)
{
	int err;
	struct shim_comm *c = shim_comm_check(comm, "MPI_Comm_test_inter", &err);

	if (!c)
		return err;
	if (!flag)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_test_inter", "flag is NULL");
	*flag = c->remote != NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_test_inter)

int PMPI_Comm_remote_size(MPI_Comm comm, int *size)
{
	int err;
	struct shim_comm *c = inter_check(comm, "MPI_Comm_remote_size", &err);

	if (!c)
		return err;
	if (!size)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_remote_size", "size is NULL");
	*size = c->remote_size;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_remote_size)

int PMPI_Comm_remote_group(MPI_Comm comm, MPI_Group *group)
{
	int err;
	struct shim_comm *c = inter_check(comm, "MPI_Comm_remote_group", &err);

	if (!c)
		return err;
	if (!group)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_remote_group", "group is NULL");
	MPI_Group g = shim_group_from_list(c->remote, c->remote_size);
	if (g == MPI_GROUP_NULL)
		return shim_error(comm, MPI_ERR_NO_MEM, "MPI_Comm_remote_group", NULL);
	*group = g;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_remote_group)

int shim_comm_set_remote(struct shim_comm *c, const int *world, int n)
{
	int *r = malloc((size_t)(n ? n : 1) * sizeof(int));

	if (!r)
		return MPI_ERR_NO_MEM;
	memcpy(r, world, (size_t)n * sizeof(int));
	free(c->remote);
	c->remote = r;
	c->remote_size = n;
	return MPI_SUCCESS;
}

/* CALL_INTERCOMM_CREATE: arg[2] local leader, arg[3] peer (at the leader),
 * arg[4] remote leader, arg[7] tag. */
int PMPI_Intercomm_create(MPI_Comm local_comm, int local_leader, MPI_Comm peer_comm,
			  int remote_leader, int tag, MPI_Comm *newintercomm)
{
	static const char fn[] = "MPI_Intercomm_create";
	struct shim_comm *lc, *nc;
	int err;

	shim_require_init(fn);
	if (!(lc = shim_comm_check(local_comm, fn, &err)))
		return err;
	if (lc->remote)
		return shim_error(local_comm, MPI_ERR_COMM, fn,
				  "local_comm is an intercommunicator");
	if (local_leader < 0 || local_leader >= lc->size)
		return shim_errorf(local_comm, MPI_ERR_RANK, fn, "local_leader %d is not in [0, %d)",
				   local_leader, lc->size);
	if (shim_check_tag(tag, 0))
		return shim_errorf(local_comm, MPI_ERR_TAG, fn, "tag = %d", tag);
	/* The peer and the remote leader matter at the local leader only. */
	struct shim_comm *peer = shim_comm_get(peer_comm);
	if (lc->rank == local_leader) {
		if (!peer)
			return shim_error(local_comm, MPI_ERR_COMM, fn, "invalid peer_comm");
		if (remote_leader < 0 || remote_leader >= peer->size)
			return shim_errorf(local_comm, MPI_ERR_RANK, fn,
					   "remote_leader %d is not in [0, %d)", remote_leader,
					   peer->size);
	}
	if (!(nc = shim_comm_reserve_new(local_comm, newintercomm, fn, &err)))
		return err;
	/* Collective over local_comm, and the leaders wait for each other
	 * (shim/collkey.c). */
	struct shim_coll_ticket t = { 0 };
	shim_coll_ticket_comm(&t, lc);
	if (lc->rank == local_leader) {
		const int *peers = peer->remote ? peer->remote : peer->world;
		shim_coll_ticket_key(&t, shim_key_pair(shim.world_rank, peers[remote_leader]),
				     NULL, 0);
	}
	shim_coll_ticket_admit(&t);
	struct chan_call *c = shim_call_begin_admitted(CALL_INTERCOMM_CREATE);
	c->arg[2] = local_leader;
	c->arg[3] = ABI(peer ? peer_comm : MPI_COMM_NULL);
	c->arg[4] = remote_leader;
	c->arg[7] = tag;
	err = shim_comm_finish(c, local_comm, nc, CALL_INTERCOMM_CREATE, newintercomm, fn, NULL,
			       NULL);
	shim_coll_ticket_done(&t);
	return err;
}
SHIM_WEAK(Intercomm_create)

/* CALL_INTERCOMM_MERGE: arg[2] high. */
int PMPI_Intercomm_merge(MPI_Comm intercomm, int high, MPI_Comm *newintracomm)
{
	static const char fn[] = "MPI_Intercomm_merge";
	struct shim_comm *nc;
	int err;

	shim_require_init(fn);
	if (!inter_check(intercomm, fn, &err))
		return err;
	if (!(nc = shim_comm_reserve_new(intercomm, newintracomm, fn, &err)))
		return err;
	struct chan_call *c = shim_call_begin_coll(CALL_INTERCOMM_MERGE,
						       shim_comm_get(intercomm));
	c->arg[2] = high != 0;
	return shim_comm_finish(c, intercomm, nc, CALL_INTERCOMM_MERGE, newintracomm, fn, NULL,
				NULL);
}
SHIM_WEAK(Intercomm_merge)

/* CALL_INTERCOMM_REBUILD: arg[0] the local group, made again; arg[2] the
 * remote leader's world rank (layout in proxy/intercomm.c). */
int shim_intercomm_rebuild(MPI_Comm h, int leader)
{
	struct chan_call *call = shim_call_begin(CALL_INTERCOMM_REBUILD);

	call->arg[0] = ABI(h);
	call->arg[2] = leader;
	return shim_call_simple(call);
}

/* ------------------------------------------------------ from groups */

/* The integer tag for a string tag: the same on every process. */
static int tag_of(const char *stringtag)
{
	uint32_t h = 2166136261u;

	for (const char *p = stringtag; p && *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (int)(h & 0x7fff);
}

int PMPI_Comm_create_from_group(MPI_Group group, const char *stringtag, MPI_Info info,
				MPI_Errhandler errhandler, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_create_from_group";
	int err;

	shim_require_init(fn);
	if ((err = shim_info_check(info, SHIM_NOCOMM, fn)))
		return err;
	if (!stringtag || !shim_errh_valid(errhandler))
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "stringtag or errhandler is invalid");
	if ((err = PMPI_Comm_create_group(MPI_COMM_WORLD, group, tag_of(stringtag), newcomm)))
		return err;
	if (*newcomm != MPI_COMM_NULL)
		shim_comm_get(*newcomm)->errh = errhandler;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_create_from_group)

int PMPI_Intercomm_create_from_groups(MPI_Group local_group, int local_leader,
				      MPI_Group remote_group, int remote_leader,
				      const char *stringtag, MPI_Info info,
				      MPI_Errhandler errhandler, MPI_Comm *newintercomm)
{
	static const char fn[] = "MPI_Intercomm_create_from_groups";
	struct shim_group *rg = shim_group_get(remote_group);
	MPI_Comm local;
	int err;

	shim_require_init(fn);
	if ((err = shim_info_check(info, SHIM_NOCOMM, fn)))
		return err;
	if (!stringtag || !shim_errh_valid(errhandler) || !newintercomm)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				  "stringtag, errhandler or newintercomm is invalid");
	if (!rg || remote_leader < 0 || remote_leader >= rg->size)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_GROUP, fn,
				   "invalid remote group or remote_leader %d", remote_leader);
	int tag = tag_of(stringtag);
	if ((err = PMPI_Comm_create_group(MPI_COMM_WORLD, local_group, tag, &local)))
		return err;
	if (local == MPI_COMM_NULL)
		return shim_error(SHIM_NOCOMM, MPI_ERR_GROUP, fn,
				  "this process is not in local_group");
	err = PMPI_Intercomm_create(local, local_leader, MPI_COMM_WORLD,
				    rg->world[remote_leader], tag, newintercomm);
	PMPI_Comm_free(&local);
	if (err == MPI_SUCCESS)
		shim_comm_get(*newintercomm)->errh = errhandler;
	return err;
}
SHIM_WEAK(Intercomm_create_from_groups)
