/*
 * comm.c - communicator records.
 *
 * A record says who is in a communicator (as world ranks, which mean the
 * same thing under any MPI) and how it was made; together with the
 * records of its ancestors that is enough to make it again in a new
 * proxy after a restart.  The proxy keeps the real communicator under
 * the same handle.  Communicator functions are in shim/commops.c.
 *
 * A record is counted (refs): one for the application's handle, one per
 * request made on it.  MPI_Comm_free drops the first and hides the
 * record from every lookup; the last request to complete releases it and
 * its handle index.  Until then the index is not reused, so a pending
 * request's errors reach this communicator's handler, and at a restart
 * its reposts and drained messages (keyed by handle) still mean it.  The
 * proxy keeps its real communicator as long (COMM_FREE, proxy/comm.c),
 * so DRAIN still probes it.  A restart makes a freed one again only
 * while requests hold it (shim/commheld.c).
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static struct shim_comm world_rec, self_rec;
static uint64_t created_count; /* records made so far: rebuild order */

DM_HOT struct shim_comm *shim_comm_get(MPI_Comm h)
{
	if (h == MPI_COMM_WORLD)
		return world_rec.world ? &world_rec : NULL;
	if (h == MPI_COMM_SELF)
		return self_rec.world ? &self_rec : NULL;
	struct shim_comm *c = shim_handle_get(SHIM_K_COMM, (uintptr_t)h);

	/* Reserved records are not live yet, freed ones no more. */
	return c && c->world && !c->freed ? c : NULL;
}

struct shim_comm *shim_comm_any(MPI_Comm h)
{
	if (h == MPI_COMM_WORLD || h == MPI_COMM_SELF)
		return shim_comm_get(h);
	struct shim_comm *c = shim_handle_get(SHIM_K_COMM, (uintptr_t)h);

	return c && c->world ? c : NULL;
}

struct shim_comm *shim_comm_hold(MPI_Comm h)
{
	struct shim_comm *c = h == MPI_COMM_WORLD || h == MPI_COMM_SELF ? NULL : shim_comm_any(h);

	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

/* Freed records whose real communicator the proxy kept (proxy_keeps).
 * Their last hold goes in a completion call, which may hold the call
 * slot, so the proxy is told later, before the next constructor takes a
 * handle or MPI_Comm_free runs; until then the handle is not reused,
 * since the proxy's table still has it.  Under the state lock. */
static struct shim_comm *retired;

/* The decrement that reaches 0 is the only one: under
 * MPI_THREAD_MULTIPLE a request may complete on one thread while
 * another frees the communicator. */
void shim_comm_unhold(struct shim_comm *c)
{
	if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (!c->proxy_keeps) {
		shim_comm_release(c);
		return;
	}
	shim_state_lock();
	c->next_retired = retired;
	retired = c;
	shim_state_unlock();
}

void shim_comm_flush_retired(void)
{
	if (!__atomic_load_n(&retired, __ATOMIC_RELAXED))
		return;
	shim_state_lock();
	struct shim_comm *list = retired;
	retired = NULL;
	shim_state_unlock();
	while (list) {
		struct shim_comm *c = list;
		list = c->next_retired;
		shim_comm_discard(c);
	}
}

void shim_comm_discard(struct shim_comm *c)
{
	struct chan_call *call = shim_call_begin(CALL_COMM_FREE);

	call->arg[0] = (int64_t)(intptr_t)c->handle;
	call->arg[1] = 0;
	shim_call_simple(call); /* its error: a restart's proxy may never have had it */
	shim_comm_release(c);
}

void shim_comm_free(struct shim_comm *c)
{
	c->freed = 1;
	shim_comm_unhold(c);
}

struct shim_comm *shim_comm_bad(MPI_Comm h, const char *fn, int *err)
{
	*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_COMM, fn,
			   h == MPI_COMM_NULL ? "MPI_COMM_NULL" : "invalid communicator %#lx",
			   (unsigned long)(uintptr_t)h);
	return NULL;
}

static int comm_fill(struct shim_comm *c, MPI_Comm h, const int *world,
		     int size, int rank)
{
	c->world = malloc((size_t)size * sizeof(int));
	if (!c->world)
		return MPI_ERR_NO_MEM;
	memcpy(c->world, world, (size_t)size * sizeof(int));
	c->handle = h;
	c->size = size;
	c->rank = rank;
	c->errh = MPI_ERRORS_ARE_FATAL;
	c->parent = MPI_COMM_NULL;
	return MPI_SUCCESS;
}

int shim_comm_init_world(int rank, int size)
{
	int *all = malloc((size_t)size * sizeof(int));

	if (!all)
		return MPI_ERR_NO_MEM;
	for (int i = 0; i < size; i++)
		all[i] = i;
	int err = comm_fill(&world_rec, MPI_COMM_WORLD, all, size, rank);
	free(all);
	if (err)
		return err;
	strcpy(world_rec.name, "MPI_COMM_WORLD");
	world_rec.gid = 0;
	err = comm_fill(&self_rec, MPI_COMM_SELF, &rank, 1, 0);
	strcpy(self_rec.name, "MPI_COMM_SELF");
	self_rec.gid = -1; /* local: no checkpoint constraint */
	return err;
}

struct shim_comm *shim_comm_reserve(void)
{
	shim_comm_flush_retired();
	struct shim_comm *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	uintptr_t h = shim_handle_new(SHIM_K_COMM, c);
	if (!h) {
		free(c);
		return NULL;
	}
	c->handle = (MPI_Comm)h;
	c->refs = 1; /* the application's, once the constructor hands it out */
	return c;
}

int shim_comm_set(struct shim_comm *c, const int *world, int size, int rank,
		  MPI_Comm parent, int made_by)
{
	int err = comm_fill(c, c->handle, world, size, rank);

	if (err)
		return err;
	struct shim_comm *p = shim_comm_get(parent);
	if (p)
		c->errh = p->errh;
	c->parent = parent;
	c->made_by = made_by;
	c->gid = -1;
	c->created = ++created_count;
	return MPI_SUCCESS;
}

void shim_comm_release(struct shim_comm *c)
{
	if (c == &world_rec || c == &self_rec)
		return;
	shim_comm_drop_extras(c);
	shim_handle_free(SHIM_K_COMM, (uintptr_t)c->handle);
	free(c->world);
	free(c);
}

/* ---- after a restart ---- */

struct comm_list {
	struct shim_comm **c;
	size_t n;
};

static void collect(uintptr_t h, void *obj, void *arg)
{
	struct comm_list *l = arg;
	struct shim_comm *c = obj;

	(void)h;
	if (c->world)
		l->c[l->n++] = c;
}

/* Ids are unique job-wide and the same on every member (proxy/gid.c,
 * shim/commdup.c), so every rank meets any two communicators it shares
 * with another in the same order.  Creation order is not that order
 * under MPI_THREAD_MULTIPLE: two threads' constructors on different
 * parents, or Idups issued in different orders, end in a different
 * order on each rank, and a restart that followed it had rank 0 in one
 * MPI_Comm_create_group and rank 1 in the other for ever
 * (mpi-tests/thread_ctors, tests/ckpt-mpi/restart_xorder.sh).
 * Communicators without an id (-1, shim/commdup.c) involve this rank
 * alone; they keep their creation order. */
static int by_gid(const void *a, const void *b)
{
	const struct shim_comm *x = *(struct shim_comm *const *)a;
	const struct shim_comm *y = *(struct shim_comm *const *)b;

	if (x->gid != y->gid)
		return (x->gid > y->gid) - (x->gid < y->gid);
	return (x->created > y->created) - (x->created < y->created);
}

/* CALL_COMM_REBUILD (proxy/comm.c): arg[1] handle, arg[2] n, arg[3] gid,
 * arg[4] an idup'd record's gid_root (shim/commdup.c) or -1, inl the
 * members as world ranks. */
int shim_comm_remake(MPI_Comm h, int64_t gid, int64_t gid_root, int size, const void *world)
{
	struct chan_call *c2 = shim_call_begin(CALL_COMM_REBUILD);

	c2->arg[0] = (int64_t)(intptr_t)MPI_COMM_WORLD;
	c2->arg[1] = (int64_t)(intptr_t)h;
	c2->arg[2] = size;
	c2->arg[3] = gid;
	c2->arg[4] = gid >= 0 && gid & CALL_GID_IDUP ? gid_root : -1;
	memcpy(c2->inl, world, (size_t)size * sizeof(int));
	c2->inl_len = (uint32_t)((size_t)size * sizeof(int));
	return shim_call_simple(c2);
}

static int rebuild(struct shim_comm *c)
{
	return shim_comm_remake(c->handle, c->gid, c->gid_root, c->size, c->world);
}

/* Skipped by the loop below: freed, or its free admitted on every member. */
static int free_begun(const struct shim_comm *c)
{
	return c->freed || (c->free_seq && c->free_seq <= atomic_load(&c->coll_seq) &&
			    shim_ckpt_was_admitted(c, c->free_seq));
}

/* Every rank makes its communicators again in the order of their ids
 * (by_gid), so no two ranks wait for each other in different orders;
 * then those freed ones that requests still hold (shim/commheld.c). */
int shim_comm_rebuild_all(void)
{
	struct comm_list l = { malloc((created_count + 1) * sizeof(*l.c)), 0 };
	struct comm_list held = { malloc((created_count + 1) * sizeof(*l.c)), 0 };
	int err = MPI_SUCCESS;

	if (!l.c || !held.c) {
		free(l.c);
		free(held.c);
		return MPI_ERR_NO_MEM;
	}
	shim_handle_each(SHIM_K_COMM, collect, &l);
	qsort(l.c, l.n, sizeof(*l.c), by_gid);
	for (size_t i = 0; i < l.n && err == MPI_SUCCESS; i++) {
		struct shim_comm *c = l.c[i];
		if (c->unbuilt && !c->freed) /* an idup held at the gate (shim/commdup.c) */
			continue;
		/* Every member has begun freeing it (shim/commops.c): its free
		 * returned or was admitted, so no member makes it here. */
		if (free_begun(c)) {
			c->unbuilt = 1;
			c->proxy_keeps = 0; /* this proxy has nothing to free */
			if (shim_comm_held_by_requests(c))
				held.c[held.n++] = c;
			continue;
		}
		err = rebuild(c);
		/* Topology or remote group, from the record (shim/commdup.c). */
		if (!err)
			err = shim_comm_rebuild_extras(c);
		if (err)
			dm_err("restart (rank %d): cannot make communicator %s again (%s)",
			       shim.world_rank, c->name, shim_error_name(err));
	}
	if (!err)
		err = shim_comm_rebuild_held(held.c, held.n);
	free(l.c);
	free(held.c);
	return err;
}
