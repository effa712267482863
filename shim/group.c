/*
 * group.c - MPI groups, kept entirely in the application.
 *
 * A group is an ordered list of distinct processes.  We record each
 * member as its rank in MPI_COMM_WORLD, which names the same process
 * under any MPI, so a group needs no object in the proxy, every group
 * operation is local arithmetic on lists, and nothing has to be rebuilt
 * after a restart: the record in application memory is the whole group.
 * Communicator records (shim/comm.c) use the same representation, and
 * MPI_Comm_create sends a group to the proxy as its world-rank list.
 *
 * Invariants: a record's world[] holds `size` distinct world ranks;
 * `rank` is the position of this process in it, or MPI_UNDEFINED.  The
 * empty group is always the predefined MPI_GROUP_EMPTY (no record is ever
 * made for size 0), which is also what both MPIs return for an empty
 * result.  Records are never shared: every constructor makes a new one,
 * so MPI_Group_free just drops it.
 *
 * Errors: a group belongs to no communicator, so argument errors are
 * raised on SHIM_NOCOMM's error handler (see shim.h for why WORLD).
 * Ranks out of range or repeated in incl/excl are MPI_ERR_RANK; a bad
 * (first, last, stride) triplet in range_incl/range_excl is MPI_ERR_ARG.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

static struct shim_group group_empty = { .size = 0, .rank = MPI_UNDEFINED };

struct shim_group *shim_group_get(MPI_Group h)
{
	if (h == MPI_GROUP_EMPTY)
		return &group_empty;
	return shim_handle_get(SHIM_K_GROUP, (uintptr_t)h);
}

MPI_Group shim_group_from_list(const int *world, int size)
{
	if (size == 0)
		return MPI_GROUP_EMPTY;
	struct shim_group *g = malloc(sizeof(*g));
	int *list = malloc((size_t)size * sizeof(int));
	uintptr_t h = g && list ? shim_handle_new(SHIM_K_GROUP, g) : 0;

	if (!h) {
		free(list);
		free(g);
		return MPI_GROUP_NULL;
	}
	memcpy(list, world, (size_t)size * sizeof(int));
	g->world = list;
	g->size = size;
	g->rank = MPI_UNDEFINED;
	for (int i = 0; i < size; i++)
		if (list[i] == shim.world_rank)
			g->rank = i;
	return (MPI_Group)h;
}

/* Record behind h; otherwise raise MPI_ERR_GROUP for fn and return NULL
 * with *err set. */
static struct shim_group *group_check(MPI_Group h, const char *fn, int *err)
{
	struct shim_group *g = shim_group_get(h);

	*err = MPI_SUCCESS;
	if (!g)
		*err = shim_errorf(SHIM_NOCOMM, MPI_ERR_GROUP, fn,
				   h == MPI_GROUP_NULL ? "MPI_GROUP_NULL" : "invalid group %#lx",
				   (unsigned long)(uintptr_t)h);
	return g;
}

static int arg_error(const char *fn, const char *what)
{
	return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, what);
}

static int no_mem(const char *fn)
{
	return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
}

/* Make the group of world[0..size-1] and store its handle in *out. */
static int group_out(const int *world, int size, MPI_Group *out, const char *fn)
{
	MPI_Group h = shim_group_from_list(world, size);

	if (h == MPI_GROUP_NULL)
		return no_mem(fn);
	*out = h;
	return MPI_SUCCESS;
}

/* Largest world rank in a or b, plus one: the size of a position map. */
static int world_span(const struct shim_group *a, const struct shim_group *b)
{
	int span = 0;

	for (int i = 0; i < a->size; i++)
		if (a->world[i] >= span)
			span = a->world[i] + 1;
	for (int i = 0; i < b->size; i++)
		if (b->world[i] >= span)
			span = b->world[i] + 1;
	return span;
}

/* pos[w] = position of world rank w in g, or -1; covers w < span.  The
 * caller frees it.  NULL when out of memory. */
static int *position_map(const struct shim_group *g, int span)
{
	int *pos = malloc((size_t)(span ? span : 1) * sizeof(int));

	if (!pos)
		return NULL;
	for (int w = 0; w < span; w++)
		pos[w] = -1;
	for (int i = 0; i < g->size; i++)
		pos[g->world[i]] = i;
	return pos;
}

/* ------------------------------------------------------------ queries */

int PMPI_Group_size(MPI_Group group, int *size)
{
	int err;
	struct shim_group *g = group_check(group, "MPI_Group_size", &err);

	if (!g)
		return err;
	if (!size)
		return arg_error("MPI_Group_size", "size is NULL");
	*size = g->size;
	return MPI_SUCCESS;
}
SHIM_WEAK(Group_size)

int PMPI_Group_rank(MPI_Group group, int *rank)
{
	int err;
	struct shim_group *g = group_check(group, "MPI_Group_rank", &err);

	if (!g)
		return err;
	if (!rank)
		return arg_error("MPI_Group_rank", "rank is NULL");
	*rank = g->rank;
	return MPI_SUCCESS;
}
SHIM_WEAK(Group_rank)

int PMPI_Group_translate_ranks(MPI_Group group1, int n, const int ranks1[],
			       MPI_Group group2, int ranks2[])
{
	static const char fn[] = "MPI_Group_translate_ranks";
	int err;
	struct shim_group *a = group_check(group1, fn, &err);
	struct shim_group *b = a ? group_check(group2, fn, &err) : NULL;

	if (!b)
		return err;
	if (n < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "n = %d", n);
	if (n > 0 && (!ranks1 || !ranks2))
		return arg_error(fn, "rank array is NULL");
	for (int i = 0; i < n; i++)
		if (ranks1[i] != MPI_PROC_NULL && (ranks1[i] < 0 || ranks1[i] >= a->size))
			return shim_errorf(SHIM_NOCOMM, MPI_ERR_RANK, fn,
					   "ranks1[%d] = %d, group1 has %d members",
					   i, ranks1[i], a->size);
	int *pos = position_map(b, world_span(a, b));
	if (!pos)
		return no_mem(fn);
	for (int i = 0; i < n; i++) {
		int r = ranks1[i];
		if (r == MPI_PROC_NULL)
			ranks2[i] = MPI_PROC_NULL;
		else
			ranks2[i] = pos[a->world[r]] < 0 ? MPI_UNDEFINED : pos[a->world[r]];
	}
	free(pos);
	return MPI_SUCCESS;
}
SHIM_WEAK(Group_translate_ranks)

/* MPI_IDENT, MPI_SIMILAR or MPI_UNEQUAL for two records; -1 on ENOMEM. */
static int group_compare(const struct shim_group *a, const struct shim_group *b)
{
	if (a->size != b->size)
		return MPI_UNEQUAL;
	if (a->size == 0 || memcmp(a->world, b->world, (size_t)a->size * sizeof(int)) == 0)
		return MPI_IDENT;
	int *pos = position_map(b, world_span(a, b));
	if (!pos)
		return -1;
	int res = MPI_SIMILAR; /* members are distinct: same size + a in b = same set */
	for (int i = 0; i < a->size && res == MPI_SIMILAR; i++)
		if (pos[a->world[i]] < 0)
			res = MPI_UNEQUAL;
	free(pos);
	return res;
}

int PMPI_Group_compare(MPI_Group group1, MPI_Group group2, int *result)
{
	static const char fn[] = "MPI_Group_compare";
	int err;
	struct shim_group *a = group_check(group1, fn, &err);
	struct shim_group *b = a ? group_check(group2, fn, &err) : NULL;

	if (!b)
		return err;
	if (!result)
		return arg_error(fn, "result is NULL");
	int res = group_compare(a, b);
	if (res < 0)
		return no_mem(fn);
	*result = res;
	return MPI_SUCCESS;
}
SHIM_WEAK(Group_compare)

int PMPI_Comm_group(MPI_Comm comm, MPI_Group *group)
{
	int err;
	struct shim_comm *c = shim_comm_check(comm, "MPI_Comm_group", &err);

	if (!c)
		return err;
	if (!group)
		return shim_error(comm, MPI_ERR_ARG, "MPI_Comm_group", "group is NULL");
	MPI_Group h = shim_group_from_list(c->world, c->size);
	if (h == MPI_GROUP_NULL)
		return shim_error(comm, MPI_ERR_NO_MEM, "MPI_Comm_group", NULL);
	*group = h;
	return MPI_SUCCESS;
}
SHIM_WEAK(Comm_group)

int PMPI_Group_free(MPI_Group *group)
{
	int err;

	if (!group)
		return arg_error("MPI_Group_free", "group is NULL");
	struct shim_group *g = group_check(*group, "MPI_Group_free", &err);
	if (!g)
		return err;
	/* Freeing MPI_GROUP_EMPTY is allowed (it is what an empty result
	 * returns) and only nulls the handle, as both MPIs do. */
	if (g != &group_empty) {
		shim_handle_free(SHIM_K_GROUP, (uintptr_t)*group);
		free(g->world);
		free(g);
	}
	*group = MPI_GROUP_NULL;
	return MPI_SUCCESS;
}
SHIM_WEAK(Group_free)

/* -------------------------------------------------- rank-list subsets */

/* Check n ranks are valid and distinct members of a group of `size`,
 * marking each in mark[size] (zeroed by the caller). */
static int ranks_check(const int *ranks, int n, int size, char *mark, const char *fn)
{
	for (int i = 0; i < n; i++) {
		int r = ranks[i];
		if (r < 0 || r >= size)
			return shim_errorf(SHIM_NOCOMM, MPI_ERR_RANK, fn,
					   "ranks[%d] = %d, the group has %d members", i, r, size);
		if (mark[r])
			return shim_errorf(SHIM_NOCOMM, MPI_ERR_RANK, fn,
					   "rank %d is named twice", r);
		mark[r] = 1;
	}
	return MPI_SUCCESS;
}

/* Expand n (first, last, stride) triplets into out[] (at most size
 * ranks, since they must be distinct), marking each in mark[size]. */
static int ranges_expand(int n, int ranges[][3], int size, char *mark,
			 int *out, int *count, const char *fn)
{
	*count = 0;
	for (int i = 0; i < n; i++) {
		int first = ranges[i][0], last = ranges[i][1], stride = ranges[i][2];
		/* A stride pointing away from last is refused by both MPIs
		 * (C's division would round it to a one-rank range). */
		if (first < 0 || first >= size || last < 0 || last >= size || stride == 0 ||
		    (first < last && stride < 0) || (first > last && stride > 0))
			return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
					   "range %d is (%d, %d, %d) in a group of %d",
					   i, first, last, stride, size);
		for (int k = 0; k <= (last - first) / stride; k++) {
			int r = first + k * stride;
			if (mark[r])
				return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
						   "range %d names rank %d again", i, r);
			mark[r] = 1;
			out[(*count)++] = r;
		}
	}
	return MPI_SUCCESS;
}

/* Members of g at positions ranks[0..n-1] (incl), or those not marked
 * (excl), as a new group. */
/* incl: the members ranks[0..n) in that order (n may be 0, ranks NULL);
 * else the members mark leaves unmarked. */
static int subset_out(const struct shim_group *g, int incl, const int *ranks, int n,
		      const char *mark, MPI_Group *out, const char *fn)
{
	int *list = malloc((size_t)(g->size ? g->size : 1) * sizeof(int));
	int len = 0;

	if (!list)
		return no_mem(fn);
	if (incl) {
		for (int i = 0; i < n; i++)
			list[len++] = g->world[ranks[i]];
	} else {
		for (int i = 0; i < g->size; i++)
			if (!mark[i])
				list[len++] = g->world[i];
	}
	int err = group_out(list, len, out, fn);
	free(list);
	return err;
}

/* Checks common to the four subset constructors; *g is the source group. */
static int subset_args(MPI_Group group, int n, const void *ranks, MPI_Group *newgroup,
		       struct shim_group **g, const char *fn)
{
	int err;

	*g = group_check(group, fn, &err);
	if (!*g)
		return err;
	if (n < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "n = %d", n);
	if (n > 0 && !ranks)
		return arg_error(fn, "rank array is NULL");
	if (!newgroup)
		return arg_error(fn, "newgroup is NULL");
	return MPI_SUCCESS;
}

/* incl/excl of an explicit rank list. */
static int group_select(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup,
			int incl, const char *fn)
{
	struct shim_group *g;
	int err = subset_args(group, n, ranks, newgroup, &g, fn);

	if (err)
		return err;
	char *mark = calloc((size_t)g->size + 1, 1);
	if (!mark)
		return no_mem(fn);
	err = ranks_check(ranks, n, g->size, mark, fn);
	if (!err)
		err = subset_out(g, incl, ranks, n, mark, newgroup, fn);
	free(mark);
	return err;
}

/* range_incl/range_excl. */
static int group_select_ranges(MPI_Group group, int n, int ranges[][3],
			       MPI_Group *newgroup, int incl, const char *fn)
{
	struct shim_group *g;
	int err = subset_args(group, n, ranges, newgroup, &g, fn);

	if (err)
		return err;
	char *mark = calloc((size_t)g->size + 1, 1);
	int *ranks = malloc(((size_t)g->size + 1) * sizeof(int));
	int count = 0;
	if (!mark || !ranks)
		err = no_mem(fn);
	if (!err)
		err = ranges_expand(n, ranges, g->size, mark, ranks, &count, fn);
	if (!err)
		err = subset_out(g, incl, ranks, count, mark, newgroup, fn);
	free(ranks);
	free(mark);
	return err;
}

int PMPI_Group_incl(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup)
{
	return group_select(group, n, ranks, newgroup, 1, "MPI_Group_incl");
}
SHIM_WEAK(Group_incl)

int PMPI_Group_excl(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup)
{
	return group_select(group, n, ranks, newgroup, 0, "MPI_Group_excl");
}
SHIM_WEAK(Group_excl)

int PMPI_Group_range_incl(MPI_Group group, int n, int ranges[][3], MPI_Group *newgroup)
{
	return group_select_ranges(group, n, ranges, newgroup, 1, "MPI_Group_range_incl");
}
SHIM_WEAK(Group_range_incl)

int PMPI_Group_range_excl(MPI_Group group, int n, int ranges[][3], MPI_Group *newgroup)
{
	return group_select_ranges(group, n, ranges, newgroup, 0, "MPI_Group_range_excl");
}
SHIM_WEAK(Group_range_excl)

/* ------------------------------------------------------ set operations */

enum set_op { SET_UNION, SET_INTERSECTION, SET_DIFFERENCE };

/* The standard fixes the order of every result: group1's members first,
 * in group1's order; a union then adds group2's other members in
 * group2's order. */
static int group_set_op(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup,
			enum set_op op, const char *fn)
{
	int err;
	struct shim_group *a = group_check(group1, fn, &err);
	struct shim_group *b = a ? group_check(group2, fn, &err) : NULL;

	if (!b)
		return err;
	if (!newgroup)
		return arg_error(fn, "newgroup is NULL");
	int span = world_span(a, b);
	int *in_a = position_map(a, span), *in_b = position_map(b, span);
	int *list = malloc(((size_t)a->size + (size_t)b->size + 1) * sizeof(int));
	int len = 0;
	if (!in_a || !in_b || !list) {
		err = no_mem(fn);
		goto out;
	}
	for (int i = 0; i < a->size; i++) {
		int in_both = in_b[a->world[i]] >= 0;
		if (op == SET_UNION || in_both == (op == SET_INTERSECTION))
			list[len++] = a->world[i];
	}
	if (op == SET_UNION)
		for (int i = 0; i < b->size; i++)
			if (in_a[b->world[i]] < 0)
				list[len++] = b->world[i];
	err = group_out(list, len, newgroup, fn);
out:
	free(list);
	free(in_b);
	free(in_a);
	return err;
}

int PMPI_Group_union(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
	return group_set_op(group1, group2, newgroup, SET_UNION, "MPI_Group_union");
}
SHIM_WEAK(Group_union)

int PMPI_Group_intersection(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
	return group_set_op(group1, group2, newgroup, SET_INTERSECTION,
			    "MPI_Group_intersection");
}
SHIM_WEAK(Group_intersection)

int PMPI_Group_difference(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
	return group_set_op(group1, group2, newgroup, SET_DIFFERENCE,
			    "MPI_Group_difference");
}
SHIM_WEAK(Group_difference)
