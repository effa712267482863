/*
 * commdup.c - what a duplicate inherits, and the dup variants
 * MPI_Comm_idup, MPI_Comm_idup_with_info and MPI_Comm_dup_with_info.
 *
 * A communicator record carries more than its members: a topology
 * (shim/topo.c), the remote group of an intercommunicator
 * (shim/intercomm.c), the hints the application gave (shim/info.c) and
 * attributes (shim/attr.c).  A dup has the same members and gets copies
 * of all four; attributes are copied by their keyvals' copy callbacks,
 * which run here in the application.  All of it lives in application
 * memory, so inheriting needs no proxy.  After a restart the proxy gets
 * the topology or the remote group back from the record
 * (shim_comm_rebuild_extras).
 *
 * MPI_Comm_idup (CALL_COMM_IDUP, layout in proxy/idup.c): the record is
 * complete at once, since a dup's members and ranks are its parent's;
 * the request (SHIM_REQ_COMM) only tells the application when the real
 * communicator exists in the proxy, which stores it under the handle at
 * completion.  Copy callbacks run at the call, as in MPICH and Open MPI.
 *
 * MPI_Comm_dup under MPI_THREAD_MULTIPLE is an idup plus polls: a dup
 * that kept the call slot while the proxy waits for the other members
 * deadlocks two threads that dup different communicators in different
 * orders on two ranks (rank 0's slot waits in dup(A) for rank 1, whose
 * slot waits in dup(B) for rank 0; MPICH's threads/comm/ctxdup).
 */
#include "shim.h"

#include <stdatomic.h>
#include <stdlib.h>

#define ABI(h) ((int64_t)(intptr_t)(h))

void shim_comm_drop_extras(struct shim_comm *c)
{
	shim_attr_forget(SHIM_K_COMM, (uintptr_t)c->handle);
	shim_topo_free(c->topo);
	free(c->remote);
	shim_info_release(c->info);
	c->topo = NULL;
	c->remote = NULL;
	c->remote_size = 0;
	c->info = NULL;
}

int shim_comm_rebuild_extras(struct shim_comm *c)
{
	if (c->remote)
		return shim_intercomm_rebuild(c);
	if (c->topo)
		return shim_topo_rebuild(c);
	return MPI_SUCCESS;
}

/* Copy p's extras to n; on failure n keeps what was copied so far, for
 * the caller to undo. */
static int inherit(struct shim_comm *p, struct shim_comm *n)
{
	if (p->topo && !(n->topo = shim_topo_dup(p->topo)))
		return MPI_ERR_NO_MEM;
	/* A dup's reply already brought the remote group; an idup's did not. */
	if (p->remote && !n->remote &&
	    shim_comm_set_remote(n, p->remote, p->remote_size) != MPI_SUCCESS)
		return MPI_ERR_NO_MEM;
	if (p->info && !(n->info = shim_info_copy(p->info)))
		return MPI_ERR_NO_MEM;
	return shim_attr_comm_copy(p->handle, n->handle);
}

/* Undo a duplicate that failed to inherit: the attributes copied so far
 * get their delete callbacks (their values may own memory). */
static void undo_attrs(struct shim_comm *n)
{
	if (shim_attr_comm_delete_all(n->handle))
		shim_attr_forget(SHIM_K_COMM, (uintptr_t)n->handle);
}

int shim_comm_inherit(MPI_Comm parent, MPI_Comm *newcomm, const char *fn)
{
	struct shim_comm *p = shim_comm_get(parent), *n = shim_comm_get(*newcomm);
	int err = inherit(p, n);

	if (err == MPI_SUCCESS)
		return MPI_SUCCESS;
	undo_attrs(n);
	struct chan_call *c = shim_call_begin(CALL_COMM_FREE);
	c->arg[0] = ABI(*newcomm);
	shim_call_simple(c);
	shim_comm_release(n);
	*newcomm = MPI_COMM_NULL;
	return shim_error(parent, err, fn, "copying the parent's attributes failed");
}

int PMPI_Comm_dup_with_info(MPI_Comm comm, MPI_Info info, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_dup_with_info";
	int err;

	if (!shim_comm_check(comm, fn, &err) || (err = shim_info_check(info, comm, fn)))
		return err;
	if ((err = PMPI_Comm_dup(comm, newcomm)))
		return err;
	/* The hints given replace the parent's. */
	struct shim_comm *n = shim_comm_get(*newcomm);
	shim_info_release(n->info);
	n->info = NULL;
	if (info != MPI_INFO_NULL && !(n->info = shim_info_copy(shim_info_get(info))))
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_dup_with_info)

/* CALL_COMM_IDUP: arg[0] parent, arg[1] new handle, arg[2] request. */
static int idup(MPI_Comm comm, MPI_Info info, MPI_Comm *newcomm, MPI_Request *request,
		const char *fn)
{
	int err;
	struct shim_comm *p;

	shim_require_init(fn);
	if (!(p = shim_comm_check(comm, fn, &err)) || (err = shim_info_check(info, comm, fn)))
		return err;
	if (!request)
		return shim_error(comm, MPI_ERR_ARG, fn, "request is NULL");
	struct shim_comm *n = shim_comm_reserve_new(comm, newcomm, fn, &err);
	if (!n)
		return err;
	/* Rebuilt after a restart exactly like a dup. */
	struct shim_req *r = NULL;
	err = shim_comm_set(n, p->world, p->size, p->rank, comm, CALL_COMM_DUP);
	if (!err)
		err = inherit(p, n);
	if (!err && info != MPI_INFO_NULL) {
		/* The hints given replace the parent's. */
		shim_info_release(n->info);
		if (!(n->info = shim_info_copy(shim_info_get(info))))
			err = MPI_ERR_NO_MEM;
	}
	if (!err && !(r = shim_req_new(SHIM_REQ_COMM, comm)))
		err = MPI_ERR_NO_MEM;
	if (err) {
		undo_attrs(n);
		shim_comm_release(n);
		return shim_error(comm, err, fn, NULL);
	}
	/* Admitted as a collective on the parent: at a checkpoint every
	 * member has started it, or none (each image then holds the new
	 * record, or none does, and a restart makes it again alike). */
	struct chan_call *c = shim_call_begin_coll(CALL_COMM_IDUP, p);
	c->arg[0] = ABI(comm);
	c->arg[1] = ABI(n->handle);
	c->arg[2] = ABI(r->handle);
	if ((err = shim_call_simple(c))) {
		shim_req_complete(r, NULL);
		undo_attrs(n);
		shim_comm_release(n);
		return shim_error(comm, err, fn, NULL);
	}
	*newcomm = n->handle;
	*request = r->handle;
	return MPI_SUCCESS;
}

int PMPI_Comm_idup(MPI_Comm comm, MPI_Comm *newcomm, MPI_Request *request)
{
	return idup(comm, MPI_INFO_NULL, newcomm, request, "MPI_Comm_idup");
}
SHIM_WEAK(Comm_idup)

int PMPI_Comm_idup_with_info(MPI_Comm comm, MPI_Info info, MPI_Comm *newcomm,
			     MPI_Request *request)
{
	return idup(comm, info, newcomm, request, "MPI_Comm_idup_with_info");
}
SHIM_WEAK(Comm_idup_with_info)

/* k of the next id this rank hands out for a dup under MULTIPLE; in the
 * shim's own range (CALL_GID_SHIM_K), and in application memory, so a
 * restart goes on counting where the image stopped. */
static _Atomic int mt_next_k = 1;

/* MPI_2INT: value, index. */
struct gid_pair {
	int neg_rank;
	int k;
};

/* The global id of n (chan/calls.h), agreed the way proxy/gid.c does for
 * intracommunicators: MAXLOC over (-world rank, k) picks the lowest world
 * rank and carries its k along.  The Allreduce is detached under
 * MULTIPLE (shim/mtwait.c), so it too leaves the slot free while it
 * waits; every member makes it, so collective counts stay equal. */
static int agree_gid(struct shim_comm *n)
{
	struct gid_pair mine = { -shim.world_rank,
				 CALL_GID_SHIM_K | atomic_fetch_add(&mt_next_k, 1) }, got;
	int err = PMPI_Allreduce(&mine, &got, 1, MPI_2INT, MPI_MAXLOC, n->handle);

	if (err == MPI_SUCCESS)
		n->gid = (int64_t)-got.neg_rank << 32 | (uint32_t)got.k;
	return err;
}

int shim_comm_dup_mt(MPI_Comm comm, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_dup";
	MPI_Request r;
	/* Counted on the parent by idup, like the blocking dup it stands for. */
	int err = idup(comm, MPI_INFO_NULL, newcomm, &r, fn);

	if (err)
		return err;
	if ((err = shim_mt_wait(&r, MPI_STATUS_IGNORE))) {
		shim_comm_release(shim_comm_get(*newcomm));
		*newcomm = MPI_COMM_NULL;
		return err;
	}
	if ((err = agree_gid(shim_comm_get(*newcomm))))
		PMPI_Comm_free(newcomm);
	return err;
}
