/*
 * commheld.c - freed communicators that requests still hold, made again
 * at a restart.
 *
 * MPI-4.1 7.4.3: operations on a communicator, active or inactive when
 * MPI_Comm_free is called, continue to work, so a persistent request
 * made before the free may be started after it, after a restart too.
 * The new proxy must then have the communicator.  Making it
 * (MPI_Comm_create_group) takes every member, but a member whose
 * requests are all gone has let its record go and no longer knows it.
 * So every rank tells every other which freed communicators its requests
 * hold, with their members (COMM_GATHER_FREED, an Allgatherv in the
 * proxies), and each rank makes every one it is a member of, in the
 * order of their ids: under its handle if it holds it, otherwise only so
 * the holders can, under a handle of the moment freed at once.
 * MPI_Comm_free is admitted like a collective (shim/commops.c), so at an
 * image every member or none has begun freeing a communicator: these
 * come after every live one on every rank, and no two ranks wait for
 * each other in different orders.  An intercommunicator's members are
 * both its groups: each makes its own group again, then the two are
 * joined as at any restart (shim_intercomm_rebuild).  One without an id
 * involves this rank alone and is made without the others.
 *
 * The list (inl) is, per communicator, int64 gid, int64 gid_root, int32
 * size, int32 remote_size (0 for an intracommunicator), int32 world
 * ranks[size], int32 remote world ranks[remote_size], unaligned.  A rank
 * whose own list does not fit sends one entry with gid GID_TOO_MANY, so
 * all ranks fail alike.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define HEAD (2 * sizeof(int64_t) + 2 * sizeof(int32_t))
#define GID_TOO_MANY (-2)

struct entry {
	int64_t gid, gid_root;
	int32_t size, remote_size;
	const unsigned char *world;  /* size int32, unaligned */
	const unsigned char *remote; /* remote_size int32, unaligned */
};

int shim_comm_held_by_requests(const struct shim_comm *c)
{
	/* Until its free returns the application's handle counts one. */
	return atomic_load(&c->refs) > (c->freed ? 0 : 1);
}

static size_t entry_bytes(const struct shim_comm *c)
{
	return HEAD + ((size_t)c->size + (size_t)c->remote_size) * sizeof(int32_t);
}

/* c's entry at p, or the marker if c is NULL; its length. */
static size_t put_entry(unsigned char *p, const struct shim_comm *c)
{
	int64_t id[2] = { c ? c->gid : GID_TOO_MANY, c ? c->gid_root : -1 };
	int32_t n[2] = { c ? c->size : 0, c ? c->remote_size : 0 };
	size_t off = HEAD;

	memcpy(p, id, sizeof(id));
	memcpy(p + sizeof(id), n, sizeof(n));
	if (n[0])
		memcpy(p + off, c->world, (size_t)n[0] * sizeof(int32_t));
	off += (size_t)n[0] * sizeof(int32_t);
	if (n[1])
		memcpy(p + off, c->remote, (size_t)n[1] * sizeof(int32_t));
	return off + (size_t)n[1] * sizeof(int32_t);
}

/* This rank's list into the call slot's inl. */
static void put_list(struct chan_call *call, struct shim_comm **c, size_t n)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		if (c[i]->gid < 0)
			continue;
		if (off + entry_bytes(c[i]) > CHAN_INLINE_SIZE) {
			off = put_entry(call->inl, NULL);
			break;
		}
		off += put_entry(call->inl + off, c[i]);
	}
	call->inl_len = (uint32_t)off;
}

/* Every rank's list, in a copy the caller frees; NULL with *err set. */
static unsigned char *gather(struct shim_comm **c, size_t n, size_t *len, int *err)
{
	struct chan_call *call = shim_call_begin(CALL_COMM_GATHER_FREED);
	unsigned char *all = NULL;

	put_list(call, c, n);
	*err = shim_call_run(call);
	*len = call->inl_len;
	if (!*err && !(all = malloc(*len + 1)))
		*err = MPI_ERR_NO_MEM;
	if (all)
		memcpy(all, call->inl, *len);
	shim_call_end();
	return all;
}

/* n int32 of all at *off, if they are there; NULL otherwise. */
static const unsigned char *take_ints(const unsigned char *all, size_t len, size_t *off,
				      int32_t n)
{
	const unsigned char *p = all + *off;

	if (n < 0 || (len - *off) / sizeof(int32_t) < (size_t)n)
		return NULL;
	*off += (size_t)n * sizeof(int32_t);
	return p;
}

/* The entries of all (len bytes) into e; their number, or -1 if one
 * is cut short. */
static long read_list(const unsigned char *all, size_t len, struct entry *e)
{
	long n = 0;

	for (size_t off = 0; off < len; n++) {
		int64_t id[2];
		int32_t sizes[2];
		if (len - off < HEAD)
			return -1;
		memcpy(id, all + off, sizeof(id));
		memcpy(sizes, all + off + sizeof(id), sizeof(sizes));
		off += HEAD;
		e[n].gid = id[0];
		e[n].gid_root = id[1];
		e[n].size = sizes[0];
		e[n].remote_size = sizes[1];
		if (!(e[n].world = take_ints(all, len, &off, sizes[0])) ||
		    !(e[n].remote = take_ints(all, len, &off, sizes[1])))
			return -1;
	}
	return n;
}

static int by_gid(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->gid > y->gid) - (x->gid < y->gid);
}

static int has_me(const unsigned char *world, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		int32_t w;
		memcpy(&w, world + (size_t)i * sizeof(w), sizeof(w));
		if (w == shim.world_rank)
			return 1;
	}
	return 0;
}

static int first_of(const unsigned char *world)
{
	int32_t w;

	memcpy(&w, world, sizeof(w));
	return w;
}

static struct shim_comm *holder_of(struct shim_comm **c, size_t n, int64_t gid)
{
	for (size_t i = 0; i < n; i++)
		if (c[i]->gid == gid)
			return c[i];
	return NULL;
}

/* Make c again under its handle: its group, then, for an
 * intercommunicator, the join to its remote group. */
static int remake_held(struct shim_comm *c)
{
	int err = shim_comm_remake(c->handle, c->gid, c->gid_root, c->size, c->world);

	if (!err && c->remote)
		err = shim_intercomm_rebuild(c->handle, c->remote[0]);
	if (err) {
		dm_err("restart (rank %d): cannot make freed communicator %s again for "
		       "the requests that still use it (%s)", shim.world_rank, c->name,
		       shim_error_name(err));
		return err;
	}
	c->unbuilt = 0;
	c->proxy_keeps = 1; /* until the last request lets go (shim/comm.c) */
	return MPI_SUCCESS;
}

/* Take part in making e for its holders, under a handle of the moment
 * freed at once: this rank's group, then, for an intercommunicator, the
 * join to the remote group.  mine is this rank's group, leader the
 * remote group's first member. */
static int remake_for_others(const struct entry *e, const unsigned char *mine,
			     int32_t size, int leader)
{
	struct shim_comm *t = shim_comm_reserve();

	if (!t)
		return MPI_ERR_NO_MEM;
	int err = shim_comm_remake(t->handle, e->gid, e->gid_root, size, mine);
	if (!err && e->remote_size)
		err = shim_intercomm_rebuild(t->handle, leader);
	shim_comm_discard(t);
	return err;
}

/* One entry of the sorted list: a member makes it, under its handle if
 * its own requests hold it.  An intercommunicator's entry lists its
 * holder's group first; a member of the other group sees it reversed. */
static int remake_entry(const struct entry *e, struct shim_comm **c, size_t n)
{
	struct shim_comm *mine = holder_of(c, n, e->gid);
	int err;

	if (mine)
		return remake_held(mine);
	if (has_me(e->world, e->size))
		err = remake_for_others(e, e->world, e->size,
					e->remote_size ? first_of(e->remote) : -1);
	else if (has_me(e->remote, e->remote_size))
		err = remake_for_others(e, e->remote, e->remote_size, first_of(e->world));
	else
		return MPI_SUCCESS;
	if (err)
		dm_err("restart (rank %d): cannot take part in making freed communicator "
		       "%#llx again for its members' requests (%s)", shim.world_rank,
		       (unsigned long long)e->gid, shim_error_name(err));
	return err;
}

static int remake_all(struct entry *e, long m, struct shim_comm **c, size_t n)
{
	qsort(e, (size_t)m, sizeof(*e), by_gid);
	for (long i = 0; i < m; i++) {
		if (e[i].gid == GID_TOO_MANY) {
			dm_err("restart (rank %d): a rank's freed communicators still in use "
			       "do not fit one %u-byte list", shim.world_rank, CHAN_INLINE_SIZE);
			return MPI_ERR_NO_MEM;
		}
		if (i > 0 && e[i].gid == e[i - 1].gid)
			continue; /* another holder's copy */
		int err = remake_entry(&e[i], c, n);
		if (err)
			return err;
	}
	return MPI_SUCCESS;
}

int shim_comm_rebuild_held(struct shim_comm **c, size_t n)
{
	size_t len = 0;
	int err = MPI_SUCCESS;

	for (size_t i = 0; i < n && !err; i++)
		if (c[i]->gid < 0)
			err = remake_held(c[i]);
	if (err)
		return err;
	unsigned char *all = gather(c, n, &len, &err);
	struct entry *e = all ? malloc((len / HEAD + 1) * sizeof(*e)) : NULL;
	long m = e ? read_list(all, len, e) : 0;
	if (all && !e)
		err = MPI_ERR_NO_MEM;
	else if (m < 0)
		err = MPI_ERR_INTERN;
	else if (e)
		err = remake_all(e, m, c, n);
	free(e);
	free(all);
	return err;
}
