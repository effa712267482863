/*
 * commops.c - the communicator functions of the MPI API.
 *
 * Queries (rank, size, compare, names, error handlers) are answered from
 * the records of shim/comm.c without a round trip: Comm_rank and
 * Comm_size are called in inner loops.  Constructors go to the proxy
 * (proxy/comm.c), which makes the real communicator and answers with
 * its members as world ranks; the record keeps that list and how the
 * communicator was made, which is what a restart needs to make it again.
 *
 * Making a communicator (dup, split, split_type, create, create_group):
 *   1. reserve a record and its handle (shim_comm_reserve), so the proxy
 *      can store the real communicator under the id we will hand out;
 *   2. call: arg[0] parent, arg[1] new handle, arg[2..4] per call;
 *      reply arg[5] new size (0: this process gets MPI_COMM_NULL),
 *      arg[6] my rank in it, inl its members' world ranks (int32[size]);
 *   3. fill the record (shim_comm_set; it inherits the parent's error
 *      handler), or release it for MPI_COMM_NULL and on errors.
 * The full layouts are documented at the handlers in proxy/comm.c.
 * A dup also inherits topology, hints and attributes (shim/commdup.c);
 * Comm_free runs the attributes' delete callbacks first (shim/attr.c).
 * User error handlers are shim/errh_user.c's.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABI(h) ((int64_t)(intptr_t)(h))

/* World-rank lists travel inline: a world larger than this is refused. */
#define COMM_MAX_MEMBERS ((int)(CHAN_INLINE_SIZE / sizeof(int32_t)))

/* --------------------------------------------------------- queries */

int PMPI_Comm_rank(MPI_Comm comm, int *rank)
{
	struct shim_comm *c = shim_comm_get(comm);
	int err;

	if (!c) {
		shim_comm_check(comm, "MPI_Comm_rank", &err);
		return err;
	}
	if (!rank)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_rank", "rank is NULL");
	*rank = c->rank;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_rank)

int PMPI_Comm_size(MPI_Comm comm, int *size)
{
	struct shim_comm *c = shim_comm_get(comm);
	int err;

	if (!c) {
		shim_comm_check(comm, "MPI_Comm_size", &err);
		return err;
	}
	if (!size)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_size", "size is NULL");
	*size = c->size;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_size)

/* in[w] = 1 for each member w of c; covers every world rank.  The
 * caller frees it; NULL when out of memory. */
static char *member_map(const struct shim_comm *c)
{
	char *in = calloc((size_t)shim.world_size + 1, 1);

	if (in)
		for (int i = 0; i < c->size; i++)
			in[c->world[i]] = 1;
	return in;
}

/* Does c have member w (a world rank)? */
static int has_member(const char *in, int w)
{
	return w >= 0 && w < shim.world_size && in[w];
}

/* Same members in any order?  1, 0, or -1 when out of memory.  Member
 * lists hold distinct ranks, so equal sizes and a in b is enough. */
static int same_members(const struct shim_comm *a, const struct shim_comm *b)
{
	char *in_b = member_map(b);
	int same = 1;

	if (!in_b)
		return -1;
	for (int i = 0; i < a->size && same; i++)
		same = has_member(in_b, a->world[i]);
	free(in_b);
	return same;
}

int PMPI_Comm_compare(MPI_Comm comm1, MPI_Comm comm2, int *result)
{
	static const char fn[] = "MPI_Comm_compare";
	int err;
	struct shim_comm *a = shim_comm_check(comm1, fn, &err);
	struct shim_comm *b = a ? shim_comm_check(comm2, fn, &err) : NULL;

	if (!b)
		return err;
	if (!result)
		return shim_error(comm1, MPI_ERR_ARG, fn, "result is NULL");
	if (a == b) {
		*result = MPI_IDENT;
		return MPI_SUCCESS;
	}
	if (a->size != b->size) {
		*result = MPI_UNEQUAL;
		return MPI_SUCCESS;
	}
	if (memcmp(a->world, b->world, (size_t)a->size * sizeof(int)) == 0) {
		*result = MPI_CONGRUENT;
		return MPI_SUCCESS;
	}
	int same = same_members(a, b);
	if (same < 0)
		return shim_error(comm1, MPI_ERR_NO_MEM, fn, NULL);
	*result = same ? MPI_SIMILAR : MPI_UNEQUAL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_compare)

int PMPI_Comm_set_name(MPI_Comm comm, const char *comm_name)
{
	int err;
	struct shim_comm *c = shim_comm_check(comm, "MPI_Comm_set_name", &err);

	if (!c)
		return err;
	if (!comm_name)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_set_name", "comm_name is NULL");
	/* Longer names are cut, as both MPIs do. */
	snprintf(c->name, sizeof(c->name), "%s", comm_name);
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_set_name)

int PMPI_Comm_get_name(MPI_Comm comm, char *comm_name, int *resultlen)
{
	int err;
	struct shim_comm *c = shim_comm_check(comm, "MPI_Comm_get_name", &err);

	if (!c)
		return err;
	if (!comm_name || !resultlen)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_get_name",
				  "comm_name or resultlen is NULL");
	size_t n = strlen(c->name);
	memcpy(comm_name, c->name, n + 1);
	*resultlen = (int)n;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_get_name)

/* --------------------------------------------------- error handlers */

int PMPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler errhandler)
{
	int err;
	struct shim_comm *c = shim_comm_check(comm, "MPI_Comm_set_errhandler", &err);

	if (!c)
		return err;
	/* MPI_ERR_ARG rather than MPI-4.1's MPI_ERR_ERRHANDLER: it is what
	 * both MPIs we run on answer. */
	if (!shim_errh_valid(errhandler))
		return shim_errorf(comm, MPI_ERR_ARG, "MPI_Comm_set_errhandler",
				   "invalid error handler %#lx",
				   (unsigned long)(uintptr_t)errhandler);
	c->errh = errhandler;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_set_errhandler)

int PMPI_Comm_get_errhandler(MPI_Comm comm, MPI_Errhandler *errhandler)
{
	int err;
	struct shim_comm *c = shim_comm_check(comm, "MPI_Comm_get_errhandler", &err);

	if (!c)
		return err;
	if (!errhandler)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_get_errhandler",
				  "errhandler is NULL");
	*errhandler = c->errh;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_get_errhandler)

/* Freeing a predefined handler is allowed and only nulls the handle
 * (MPI-4.0 made this explicit); a user handler lives on in the
 * communicators that use it (shim/errh_user.c). */
int PMPI_Errhandler_free(MPI_Errhandler *errhandler)
{
	if (!errhandler || !shim_errh_valid(*errhandler))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, "MPI_Errhandler_free",
				   "invalid error handler %#lx",
				   errhandler ? (unsigned long)(uintptr_t)*errhandler : 0ul);
	*errhandler = MPI_ERRHANDLER_NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Errhandler_free)

/* ------------------------------------------------------ constructors */

/* The parent of a new communicator, checked; NULL with *err set. */
static struct shim_comm *comm_parent(MPI_Comm comm, const char *fn, int *err)
{
	shim_require_init(fn);
	return shim_comm_check(comm, fn, err);
}

/* Reserve the record of a communicator to be made from parent (step 1);
 * arguments are checked before, so an error leaves nothing behind. */
static struct shim_comm *comm_reserve(MPI_Comm parent, MPI_Comm *newcomm,
				      const char *fn, int *err)
{
	if (!newcomm) {
		*err = shim_error(parent, MPI_ERR_ARG, fn, "newcomm is NULL");
		return NULL;
	}
	if (shim.world_size > COMM_MAX_MEMBERS) {
		*err = shim_errorf(parent, MPI_ERR_UNSUPPORTED_OPERATION, fn,
				   "more than %d ranks", COMM_MAX_MEMBERS);
		return NULL;
	}
	struct shim_comm *nc = shim_comm_reserve();
	if (!nc)
		*err = shim_error(parent, MPI_ERR_NO_MEM, fn, NULL);
	return nc;
}

struct shim_comm *shim_comm_reserve_new(MPI_Comm parent, MPI_Comm *newcomm,
					const char *fn, int *err)
{
	return comm_reserve(parent, newcomm, fn, err);
}

/* Run the prepared call c (steps 2 and 3 of the header comment): *newcomm
 * becomes nc's handle, or MPI_COMM_NULL when this process is not in the
 * new communicator.  more reads the rest of the reply (shim.h).  Ends
 * the call. */
int shim_comm_finish(struct chan_call *c, MPI_Comm parent, struct shim_comm *nc,
		     int made_by, MPI_Comm *newcomm, const char *fn,
		     shim_comm_more_fn *more, void *arg)
{
	c->arg[0] = ABI(parent);
	c->arg[1] = ABI(nc->handle);
	int err = shim_mt_ctor_run(c);
	int size = err ? 0 : (int)c->arg[5];

	if (size > 0)
		err = shim_comm_set(nc, (const int *)c->inl, size, (int)c->arg[6],
				    parent, made_by);
	if (size > 0 && !err)
		nc->gid = c->arg[CALL_ARG_GID];
	if (size > 0 && !err && c->arg[CALL_ARG_REMOTE] >= 0)
		err = shim_comm_set_remote(nc, (const int *)c->inl + size,
					   (int)c->arg[CALL_ARG_REMOTE]);
	if (size > 0 && !err && more)
		err = more(c, nc, arg);
	shim_call_end();
	if (err || size == 0) {
		shim_comm_release(nc);
		if (err)
			return shim_error(parent, err, fn, NULL);
		*newcomm = MPI_COMM_NULL;
		return MPI_SUCCESS;
	}
	*newcomm = nc->handle;
	return MPI_SUCCESS;
}

static int comm_finish(struct chan_call *c, MPI_Comm parent, struct shim_comm *nc,
		       int made_by, MPI_Comm *newcomm, const char *fn)
{
	return shim_comm_finish(c, parent, nc, made_by, newcomm, fn, NULL, NULL);
}

int PMPI_Comm_dup(MPI_Comm comm, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_dup";
	int err;
	struct shim_comm *p = comm_parent(comm, fn, &err);

	if (!p)
		return err;
	/* A dup with no other member waits for nobody; an
	 * intercommunicator's id takes two rounds in the proxy.  Under
	 * MULTIPLE both are made on a proxy thread (shim_mt_ctor_run; why
	 * not as idups: proxy/comm.c). */
	if (shim_mt() && p->size > 1 && !p->remote)
		return shim_comm_dup_mt(comm, newcomm);
	struct shim_comm *nc = comm_reserve(comm, newcomm, fn, &err);
	if (!nc)
		return err;
	struct chan_call *c = shim_call_begin_coll(CALL_COMM_DUP, shim_comm_get(comm));
	if ((err = comm_finish(c, comm, nc, CALL_COMM_DUP, newcomm, fn)))
		return err;
	return shim_comm_inherit(comm, newcomm, fn);
}
SHIM_WEAK(Comm_dup)

int PMPI_Comm_split(MPI_Comm comm, int color, int key, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_split";
	int err;

	if (!comm_parent(comm, fn, &err))
		return err;
	if (color < 0 && color != MPI_UNDEFINED)
		return shim_errorf(comm, MPI_ERR_ARG, fn, "color = %d", color);
	struct shim_comm *nc = comm_reserve(comm, newcomm, fn, &err);
	if (!nc)
		return err;
	struct chan_call *c = shim_call_begin_coll(CALL_COMM_SPLIT, shim_comm_get(comm));
	c->arg[2] = color;
	c->arg[3] = key;
	return comm_finish(c, comm, nc, CALL_COMM_SPLIT, newcomm, fn);
}
SHIM_WEAK(Comm_split)

/* The info hints are ignored, which the standard allows. */
int PMPI_Comm_split_type(MPI_Comm comm, int split_type, int key, MPI_Info info,
			 MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_split_type";
	int err;

	(void)info;
	if (!comm_parent(comm, fn, &err))
		return err;
	/* Hardware splits have no meaning that survives a move to another
	 * MPI (and Open MPI 4.1 has none): every member gets MPI_COMM_NULL,
	 * which MPI allows when no such split is offered. */
	if (split_type == MPI_COMM_TYPE_HW_GUIDED || split_type == MPI_COMM_TYPE_HW_UNGUIDED ||
	    split_type == MPI_COMM_TYPE_RESOURCE_GUIDED) {
		if (!newcomm)
			return shim_error(comm, MPI_ERR_ARG, fn, "newcomm is NULL");
		*newcomm = MPI_COMM_NULL;
		return MPI_SUCCESS;
	}
	if (split_type != MPI_COMM_TYPE_SHARED && split_type != MPI_UNDEFINED)
		return shim_errorf(comm, MPI_ERR_ARG, fn,
				   "split_type = %d (only MPI_COMM_TYPE_SHARED is offered)",
				   split_type);
	struct shim_comm *nc = comm_reserve(comm, newcomm, fn, &err);
	if (!nc)
		return err;
	struct chan_call *c = shim_call_begin_coll(CALL_COMM_SPLIT_TYPE, shim_comm_get(comm));
	c->arg[2] = split_type;
	c->arg[3] = key;
	return comm_finish(c, comm, nc, CALL_COMM_SPLIT_TYPE, newcomm, fn);
}
SHIM_WEAK(Comm_split_type)

/* The group of a Comm_create/Comm_create_group must be a valid group
 * whose members all belong to p. */
static struct shim_group *group_in_comm(MPI_Comm comm, const struct shim_comm *p,
					MPI_Group group, const char *fn, int *err)
{
	struct shim_group *g = shim_group_get(group);

	if (!g) {
		*err = shim_errorf(comm, MPI_ERR_GROUP, fn, "%s",
				   group == MPI_GROUP_NULL ? "MPI_GROUP_NULL" : "invalid group");
		return NULL;
	}
	char *in = member_map(p);
	if (!in) {
		*err = shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
		return NULL;
	}
	int stray = -1;
	for (int i = 0; i < g->size && stray < 0; i++)
		if (!has_member(in, g->world[i]))
			stray = g->world[i];
	free(in);
	if (stray >= 0) {
		*err = shim_errorf(comm, MPI_ERR_GROUP, fn,
				   "world rank %d is in the group but not in the communicator",
				   stray);
		return NULL;
	}
	return g;
}

/* Put the group's world ranks in the call: arg[2] count, inl the list. */
static void group_to_call(struct chan_call *c, const struct shim_group *g)
{
	c->arg[2] = g->size;
	if (g->size)
		memcpy(c->inl, g->world, (size_t)g->size * sizeof(int32_t));
	c->inl_len = (uint32_t)((size_t)g->size * sizeof(int32_t));
}

int PMPI_Comm_create(MPI_Comm comm, MPI_Group group, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_create";
	int err;
	struct shim_comm *p = comm_parent(comm, fn, &err);
	struct shim_group *g = p ? group_in_comm(comm, p, group, fn, &err) : NULL;

	if (!g)
		return err;
	/* Collective over comm: non-members take part and get MPI_COMM_NULL. */
	struct shim_comm *nc = comm_reserve(comm, newcomm, fn, &err);
	if (!nc)
		return err;
	struct chan_call *c = shim_call_begin_coll(CALL_COMM_CREATE, shim_comm_get(comm));
	group_to_call(c, g);
	return comm_finish(c, comm, nc, CALL_COMM_CREATE, newcomm, fn);
}
SHIM_WEAK(Comm_create)

int PMPI_Comm_create_group(MPI_Comm comm, MPI_Group group, int tag, MPI_Comm *newcomm)
{
	static const char fn[] = "MPI_Comm_create_group";
	int err;
	struct shim_comm *p = comm_parent(comm, fn, &err);
	struct shim_group *g = p ? group_in_comm(comm, p, group, fn, &err) : NULL;

	if (!g)
		return err;
	if (shim_check_tag(tag, 0))
		return shim_errorf(comm, MPI_ERR_TAG, fn, "tag = %d", tag);
	if (!newcomm)
		return shim_error(comm, MPI_ERR_ARG, fn, "newcomm is NULL");
	/* Collective over the group only: outsiders get MPI_COMM_NULL
	 * without involving anyone. */
	if (g->rank == MPI_UNDEFINED) {
		*newcomm = MPI_COMM_NULL;
		return MPI_SUCCESS;
	}
	struct shim_comm *nc = comm_reserve(comm, newcomm, fn, &err);
	if (!nc)
		return err;
	/* Counted under the group's own key (shim/collkey.c). */
	struct shim_coll_ticket t = { 0 };
	shim_coll_ticket_key(&t, shim_key_group(p->gid, tag, g->world, g->size), g->world,
			     g->size);
	shim_coll_ticket_admit(&t);
	struct chan_call *c = shim_call_begin_admitted(CALL_COMM_CREATE_GROUP);
	group_to_call(c, g);
	c->arg[3] = tag;
	err = comm_finish(c, comm, nc, CALL_COMM_CREATE_GROUP, newcomm, fn);
	shim_coll_ticket_done(&t);
	return err;
}
SHIM_WEAK(Comm_create_group)

/* CALL_COMM_FREE: arg[0] the communicator, arg[1] 1 if requests on it
 * are still pending: the proxy then keeps it until shim/comm.c's
 * flush_retired frees it. */
int PMPI_Comm_free(MPI_Comm *comm)
{
	static const char fn[] = "MPI_Comm_free";
	int err;

	if (!comm)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "comm is NULL");
	struct shim_comm *rec = comm_parent(*comm, fn, &err);
	if (!rec)
		return err;
	if (*comm == MPI_COMM_WORLD || *comm == MPI_COMM_SELF)
		return shim_errorf(*comm, MPI_ERR_COMM, fn, "cannot free %s",
				   *comm == MPI_COMM_WORLD ? "MPI_COMM_WORLD" : "MPI_COMM_SELF");
	if ((err = shim_attr_comm_delete_all(*comm)))
		return shim_error(*comm, err, fn, "an attribute's delete callback failed");
	/* MPI_Comm_free is collective: admitted like one, so at a checkpoint
	 * either every member has begun freeing it (and no restart makes it
	 * again) or none has (every restart does).  Nothing else may use the
	 * communicator meanwhile, so its number is known before it is counted:
	 * the restart can tell from the image alone which one it was. */
	shim_comm_flush_retired();
	rec->free_seq = atomic_load(&rec->coll_seq) + 1;
	rec->proxy_keeps = atomic_load(&rec->refs) > 1;
	struct chan_call *c = shim_call_begin_coll(CALL_COMM_FREE, rec);
	c->arg[0] = ABI(*comm);
	c->arg[1] = rec->proxy_keeps;
	if (rec->unbuilt) { /* a restart came meanwhile and left it out */
		shim_call_end();
		rec->proxy_keeps = 0;
		err = MPI_SUCCESS;
	} else {
		err = shim_call_simple(c);
	}
	if (err)
		return shim_error(*comm, err, fn, NULL);
	if (rec->gid >= 0)
		shim_key_retire(rec->gid, atomic_load(&rec->coll_seq));
	shim_bsend_comm_freed(*comm);
	shim_comm_free(rec); /* pending requests keep the record (shim/comm.c) */
	*comm = MPI_COMM_NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_free)
