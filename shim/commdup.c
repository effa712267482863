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
 * An idup'd communicator needs a global id (chan/calls.h) like any other,
 * or a checkpoint could catch one member inside a collective on it that
 * another has not entered; but agreeing one takes a collective on the
 * new communicator, which a call that may not block cannot make.  Every
 * member calls MPI_Comm_idup as the same collective on the parent, so at
 * the same parent sequence number: the id is computed from (parent id,
 * that number), alike on every member with no communication (idup_gid).
 *
 * MPI_Comm_dup under MPI_THREAD_MULTIPLE is an idup plus polls: a dup
 * that kept the call slot while the proxy waits for the other members
 * deadlocks two threads that dup different communicators in different
 * orders on two ranks (rank 0's slot waits in dup(A) for rank 1, whose
 * slot waits in dup(B) for rank 0; MPICH's threads/comm/ctxdup).  Its id
 * is the idup's.
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
		return shim_intercomm_rebuild(c->handle, c->remote[0]);
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
	shim_comm_discard(n);
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

/* Scramble x so that nearby inputs give unrelated outputs. */
static uint64_t mix(uint64_t x)
{
	for (int i = 0; i < 3; i++) {
		x ^= x >> 29;
		x *= UINT64_C(0x9e3779b97f4a7c15); /* odd: a bijection */
	}
	return x ^ x >> 32;
}

/* The id of the communicator p's collective number seq (an idup) makes:
 * 62 bits of a hash of (p's id, seq), the top bit clear (ids are >= 0,
 * shim/collkey.c's keys negative) and bit 31 set (CALL_GID_IDUP), which
 * no id of proxy/gid.c has.  The pair names the idup: p's id is unique
 * among live communicators and its numbers only grow; a restart could
 * reissue the id of a freed p, so the record keeps the id its line of
 * idups hangs off (gid_root), which the rebuild keeps from reuse. */
static int64_t idup_gid(const struct shim_comm *p, int64_t seq)
{
	uint64_t h = mix(mix((uint64_t)p->gid) ^ (uint64_t)seq);

	return (int64_t)((h & UINT64_C(0x7fffffff7fffffff)) | CALL_GID_IDUP);
}

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
	n->unbuilt = 1; /* until admitted, below */
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
	 * member has started it, or none.  Until then the record, complete
	 * already, is not in the proxy: a restart must not make it (a peer
	 * that had not reached this idup yet would not, and the two would
	 * wait in different rebuilds for ever); the call makes it after. */
	struct chan_call *c = shim_call_begin_coll(CALL_COMM_IDUP, p);
	n->unbuilt = 0;
	/* The slot is ours and no other thread may run a collective on p
	 * meanwhile (MPI): the number is this call's.  SELF (-1) and its
	 * dups need no id: no other rank takes part. */
	if (p->gid >= 0 && !shim_ck_no_bookkeeping) {
		n->gid = idup_gid(p, atomic_load(&p->coll_seq));
		n->gid_root = p->gid & CALL_GID_IDUP ? p->gid_root : p->gid;
	}
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
	}
	return err;
}
