/*
 * typeops.c - making, committing and freeing derived datatypes.
 *
 * Previous hop: the application.  Next hop: proxy/type.c (TYPE_CREATE,
 * TYPE_FREE), which builds the same real datatype under the handle we
 * pick, as communicators are made (shim/commops.c).
 *
 * A constructor records its arguments exactly as MPI_Type_get_envelope
 * and MPI_Type_get_contents return them (combiner, integers, addresses,
 * datatypes): that is what the application may ask back, and what
 * rebuilding the type under another MPI after a restart replays.  From
 * them it computes the bounds MPI defines (size, lb, extent, true lb and
 * extent; shim/typeshape.c) without the proxy, and sends them along: the proxy forces the
 * same lb and extent on the real type (the MPIs disagree on a few corner
 * cases, and the application must see one answer everywhere) and checks
 * the size.  Commit flattens the typemap (shim/pack.c) so staging never
 * walks the constructor tree.
 *
 * TYPE_CREATE (served by proxy/type.c):
 *   arg[0] new handle, 1 combiner, 2 nints, 3 naddrs, 4 ntypes,
 *   5 arrays: CHAN_OFF_NONE = in inl[], else an arena offset,
 *   6 lb, 7 extent (to enforce), 8 size, 9 true_lb, 10 true_extent (to check),
 *   11 for MPI_COMBINER_F90_*: the predefined type it is (shim/typef90.c)
 *   arrays: int64 addrs[naddrs] | int64 types[ntypes] (ABI handles) |
 *           int32 ints[nints]
 * TYPE_FREE: arg[0] n, inl int64 handles[n] (batched, see dead_flush).
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"
#include "util/log.h"

#define ABI(h) ((int64_t)(intptr_t)(h))

static _Atomic uint64_t type_seq; /* records made: two threads may make one at once */

/* ------------------------------------------------------------ references */

void shim_type_hold(struct shim_type *t)
{
	if (t->combiner == MPI_COMBINER_NAMED)
		return;
	shim_state_lock();
	t->refs++;
	shim_state_unlock();
}

/* Records of dead types whose real types the proxy still has.  A record
 * can die while the call slot is held (a request completing inside a
 * completion call), so TYPE_FREE waits for the next datatype call; until
 * then the handle stays reserved so its index is not reused.  Under
 * MPI_THREAD_MULTIPLE a record also dies outside the slot (MPI_Wait
 * completes its receive after the call), so dead[] is touched only under
 * the state lock, and a flush takes its batch out of it before the call:
 * a record added during the call is neither lost nor freed twice. */
static struct shim_type **dead;
static int ndead;
static size_t cap_dead;

static int dead_count(void)
{
	shim_state_lock();
	int n = ndead;
	shim_state_unlock();
	return n;
}

/* The last (at most max) dead records, moved into *batch (malloc'd);
 * how many.  0 without memory: they wait for the next flush. */
static int dead_take(int max, struct shim_type ***batch)
{
	shim_state_lock();
	int n = ndead < max ? ndead : max;
	*batch = n ? malloc((size_t)n * sizeof(**batch)) : NULL;
	if (!*batch)
		n = 0;
	else
		memcpy(*batch, dead + ndead - n, (size_t)n * sizeof(**batch));
	ndead -= n;
	shim_state_unlock();
	return n;
}

static void dead_flush(void)
{
	if (dead_count() == 0 || !shim.initialized || shim.finalized)
		return;
	struct chan_call *c = shim_call_begin(CALL_TYPE_FREE);
	/* Taken only now: the call may have waited at the checkpoint gate
	 * through a restart, which dropped every dead record. */
	struct shim_type **batch;
	int n = dead_take(CHAN_INLINE_SIZE / sizeof(int64_t), &batch);
	if (n == 0) {
		shim_call_end();
		return;
	}
	c->arg[0] = n;
	for (int i = 0; i < n; i++)
		((int64_t *)(void *)c->inl)[i] = ABI(batch[i]->handle);
	c->inl_len = (uint32_t)((size_t)n * sizeof(int64_t));
	shim_call_simple(c);
	for (int i = 0; i < n; i++) {
		shim_handle_free(SHIM_K_TYPE, (uintptr_t)batch[i]->handle);
		free(batch[i]);
	}
	free(batch);
	dead_flush();
}

/* Drop what t holds; the record itself waits in dead[] (or, if even that
 * cannot grow, stays allocated: a leak, never an early reuse). */
static void type_destroy(struct shim_type *t)
{
	for (int i = 0; i < t->ntypes; i++) {
		struct shim_type *k = shim_handle_get(SHIM_K_TYPE, (uintptr_t)t->types[i]);
		if (k)
			shim_type_release(k);
	}
	free(t->ints);
	free(t->addrs);
	free(t->types);
	free(t->blocks);
	free(t->sig);
	free(t->big);
	t->big = NULL;
	t->ints = NULL;
	t->addrs = NULL;
	t->types = NULL;
	t->blocks = NULL;
	t->sig = NULL;
	t->ntypes = t->nints = t->naddrs = 0;
	if (dm_grow((void **)&dead, &cap_dead, (size_t)ndead + 1, sizeof(*dead)) < 0)
		return;
	dead[ndead++] = t;
}

void shim_type_release(struct shim_type *t)
{
	if (t->combiner == MPI_COMBINER_NAMED)
		return;
	shim_state_lock();
	if (--t->refs == 0 && t->user_refs == 0)
		type_destroy(t);
	shim_state_unlock();
}

/* ---------------------------------------------------------- construction */

/* The constructor's arguments, as get_contents returns them. */
struct ctor {
	int combiner;
	int nints, naddrs, ntypes;
	const int *ints;
	const MPI_Aint *addrs;
	const MPI_Datatype *types;
};

static void *dup_array(const void *src, size_t n, size_t elem, int *fail)
{
	void *p = malloc(n ? n * elem : 1);

	if (!p)
		*fail = 1;
	else if (n)
		memcpy(p, src, n * elem);
	return p;
}

static struct shim_type *record_new(const struct ctor *k)
{
	struct shim_type *t = calloc(1, sizeof(*t));
	int fail = 0;

	if (!t)
		return NULL;
	t->combiner = k->combiner;
	t->nints = k->nints;
	t->naddrs = k->naddrs;
	t->ntypes = k->ntypes;
	t->ints = dup_array(k->ints, (size_t)k->nints, sizeof(int), &fail);
	t->addrs = dup_array(k->addrs, (size_t)k->naddrs, sizeof(MPI_Aint), &fail);
	t->types = dup_array(k->types, (size_t)k->ntypes, sizeof(MPI_Datatype), &fail);
	t->user_refs = 1;
	uintptr_t h = fail ? 0 : shim_handle_new(SHIM_K_TYPE, t);
	if (!h) {
		free(t->ints);
		free(t->addrs);
		free(t->types);
		free(t);
		return NULL;
	}
	t->handle = (MPI_Datatype)h;
	t->seq = atomic_fetch_add(&type_seq, 1) + 1;
	return t;
}

static uint64_t arrays_bytes(const struct shim_type *t)
{
	return (uint64_t)(t->naddrs + t->ntypes) * sizeof(int64_t) +
	       (uint64_t)t->nints * sizeof(int32_t);
}

static void arrays_fill(const struct shim_type *t, unsigned char *p)
{
	int64_t *a = (int64_t *)(void *)p;

	for (int i = 0; i < t->naddrs; i++)
		a[i] = t->addrs[i];
	for (int i = 0; i < t->ntypes; i++)
		a[t->naddrs + i] = ABI(t->types[i]);
	memcpy(a + t->naddrs + t->ntypes, t->ints, (size_t)t->nints * sizeof(int32_t));
}

/* Have the proxy build the real type under t's handle. */
static int type_create_real(struct shim_type *t, const char *fn)
{
	struct shim_stage s = { .off = ARENA_NONE };
	uint64_t bytes = arrays_bytes(t);
	int err;

	dead_flush();
	if (bytes > CHAN_INLINE_SIZE && (err = shim_stage_alloc(&s, bytes, fn)))
		return err;
	struct chan_call *c = shim_call_begin(CALL_TYPE_CREATE);
	c->arg[0] = ABI(t->handle);
	c->arg[1] = t->combiner;
	c->arg[2] = t->nints;
	c->arg[3] = t->naddrs;
	c->arg[4] = t->ntypes;
	c->arg[5] = s.off == ARENA_NONE ? CHAN_OFF_NONE : (int64_t)s.off;
	c->arg[6] = t->lb;
	c->arg[7] = t->extent;
	c->arg[8] = t->size;
	c->arg[9] = t->true_lb;
	c->arg[10] = t->true_extent;
	c->arg[11] = shim_type_f90(t) ? ABI(t->sig[0].basic) : ABI(MPI_DATATYPE_NULL);
	if (s.off == ARENA_NONE) {
		arrays_fill(t, c->inl);
		c->inl_len = (uint32_t)bytes;
	} else {
		arrays_fill(t, shim_stage_ptr(&s));
	}
	err = shim_call_simple(c);
	shim_stage_free(&s);
	return err;
}

/* ---------------------------------------------------------------- restart */

struct type_list {
	struct shim_type **t;
	size_t n, cap;
};

static void collect(uintptr_t h, void *obj, void *arg)
{
	struct type_list *l = arg;
	struct shim_type *t = obj;

	(void)h;
	if ((t->user_refs > 0 || t->refs > 0) && l->n < l->cap)
		l->t[l->n++] = t;
}

static int by_seq(const void *a, const void *b)
{
	const struct shim_type *x = *(struct shim_type *const *)a;
	const struct shim_type *y = *(struct shim_type *const *)b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

int shim_type_rebuild_all(void)
{
	uint64_t made = atomic_load(&type_seq);
	struct type_list l = { malloc((made + 1) * sizeof(*l.t)), 0, made + 1 };
	int err = MPI_SUCCESS;

	if (!l.t)
		return MPI_ERR_NO_MEM;
	/* Records still waiting for TYPE_FREE died with the old proxy. */
	for (int i = 0; i < ndead; i++) {
		shim_handle_free(SHIM_K_TYPE, (uintptr_t)dead[i]->handle);
		free(dead[i]);
	}
	ndead = 0;
	shim_handle_each(SHIM_K_TYPE, collect, &l);
	/* Components were made before the types made of them. */
	qsort(l.t, l.n, sizeof(*l.t), by_seq);
	for (size_t i = 0; i < l.n && err == MPI_SUCCESS; i++)
		if ((err = type_create_real(l.t[i], "restart")))
			dm_err("restart (rank %d): cannot make datatype %#lx again (%s)",
			       shim.world_rank, (unsigned long)(uintptr_t)l.t[i]->handle,
			       shim_error_name(err));
	free(l.t);
	return err;
}

/* Undo record_new for a type the proxy never made: no references were
 * taken yet. */
static void record_discard(struct shim_type *t)
{
	shim_handle_free(SHIM_K_TYPE, (uintptr_t)t->handle);
	free(t->ints);
	free(t->addrs);
	free(t->types);
	free(t->blocks);
	free(t->sig);
	free(t);
}

/* Make a derived type from constructor k whose datatype arguments were
 * checked; *out gets the new handle. */
static int type_make(const struct ctor *k, MPI_Datatype *out, const char *fn)
{
	struct shim_type *t = record_new(k);
	int err;

	if (!t)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, "no memory for a datatype");
	if ((err = shim_type_bounds(t)) || (err = type_create_real(t, fn))) {
		record_discard(t);
		return shim_error(SHIM_NOCOMM, err, fn, NULL);
	}
	for (int i = 0; i < t->ntypes; i++)
		shim_type_hold(shim_type_get(t->types[i]));
	/* A duplicate of a committed type is committed. */
	struct shim_type *old = t->ntypes ? shim_type_get(t->types[0]) : NULL;
	if (t->combiner == MPI_COMBINER_DUP && old->committed) {
		if ((err = shim_type_map(t))) {
			t->user_refs = 0;
			t->refs = 1;
			shim_type_release(t);
			return shim_error(SHIM_NOCOMM, err, fn, NULL);
		}
		t->committed = 1;
	}
	*out = t->handle;
	return MPI_SUCCESS;
}

int shim_type_f90(const struct shim_type *t)
{
	int c = t->combiner;

	return c == MPI_COMBINER_F90_REAL || c == MPI_COMBINER_F90_COMPLEX ||
	       c == MPI_COMBINER_F90_INTEGER;
}

/* A copy of basic's typemap for t, which has basic's layout. */
static int map_copy(struct shim_type *t, const struct shim_type *basic)
{
	t->blocks = malloc((size_t)basic->nblocks * sizeof(*t->blocks));
	t->sig = malloc((size_t)basic->nsig * sizeof(*t->sig));
	if (!t->blocks || !t->sig)
		return MPI_ERR_NO_MEM;
	memcpy(t->blocks, basic->blocks, (size_t)basic->nblocks * sizeof(*t->blocks));
	memcpy(t->sig, basic->sig, (size_t)basic->nsig * sizeof(*t->sig));
	t->nblocks = basic->nblocks;
	t->nsig = basic->nsig;
	t->contig = basic->contig;
	return MPI_SUCCESS;
}

int shim_type_make_f90(int combiner, int nints, const int *ints, MPI_Datatype basic,
		       MPI_Datatype *out, const char *fn)
{
	const struct shim_type *b = shim_type_get(basic);
	struct ctor k = { combiner, nints, 0, 0, ints, NULL, NULL };
	struct shim_type *t = record_new(&k);
	int err;

	if (!t)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, "no memory for a datatype");
	t->size = b->size;
	t->extent = b->extent;
	t->true_extent = b->true_extent;
	t->nelems = b->nelems;
	t->align = b->align;
	t->prefill = b->prefill;
	t->committed = 1;
	if ((err = map_copy(t, b)) || (err = type_create_real(t, fn))) {
		record_discard(t);
		return shim_error(SHIM_NOCOMM, err, fn, NULL);
	}
	*out = t->handle;
	return MPI_SUCCESS;
}

/* ------------------------------------------------------ argument checks */

static int bad_type(MPI_Datatype t, const char *what, const char *fn)
{
	return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn, "%s %#lx is %s", what,
			   (unsigned long)(uintptr_t)t, shim_type_why(t));
}

static int check_old(MPI_Datatype t, const char *fn)
{
	return shim_type_get(t) ? MPI_SUCCESS : bad_type(t, "oldtype", fn);
}

static int check_out(const void *newtype, const char *fn)
{
	return newtype ? MPI_SUCCESS
		: shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "newtype is NULL");
}

static int check_count(int64_t n, const char *what, const char *fn)
{
	return n >= 0 ? MPI_SUCCESS
		: shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "%s %lld", what, (long long)n);
}

/* count, then (when count > 0) the arrays, then each blocklength. */
static int check_blocks(int count, const int *bl, const void *disp, const char *fn)
{
	int err;

	if ((err = check_count(count, "count", fn)))
		return err;
	if (count > (INT_MAX - 1) / 2)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "count %d", count);
	if (count > 0 && (!bl || !disp))
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array");
	for (int i = 0; i < count; i++)
		if ((err = check_count(bl[i], "blocklength", fn)))
			return err;
	return MPI_SUCCESS;
}

/* --------------------------------------------------------- constructors */

int PMPI_Type_contiguous(int count, MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_contiguous";
	int err;

	shim_require_init(fn);
	if ((err = check_count(count, "count", fn)) || (err = check_old(oldtype, fn)) ||
	    (err = check_out(newtype, fn)))
		return err;
	struct ctor k = { MPI_COMBINER_CONTIGUOUS, 1, 0, 1, &count, NULL, &oldtype };
	return type_make(&k, newtype, fn);
}
SHIM_WEAK(Type_contiguous)

int PMPI_Type_vector(int count, int blocklength, int stride, MPI_Datatype oldtype,
		     MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_vector";
	int ints[3] = { count, blocklength, stride };
	int err;

	shim_require_init(fn);
	if ((err = check_count(count, "count", fn)) ||
	    (err = check_count(blocklength, "blocklength", fn)) ||
	    (err = check_old(oldtype, fn)) || (err = check_out(newtype, fn)))
		return err;
	struct ctor k = { MPI_COMBINER_VECTOR, 3, 0, 1, ints, NULL, &oldtype };
	return type_make(&k, newtype, fn);
}
SHIM_WEAK(Type_vector)

int PMPI_Type_create_hvector(int count, int blocklength, MPI_Aint stride,
			     MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_hvector";
	int ints[2] = { count, blocklength };
	int err;

	shim_require_init(fn);
	if ((err = check_count(count, "count", fn)) ||
	    (err = check_count(blocklength, "blocklength", fn)) ||
	    (err = check_old(oldtype, fn)) || (err = check_out(newtype, fn)))
		return err;
	struct ctor k = { MPI_COMBINER_HVECTOR, 2, 1, 1, ints, &stride, &oldtype };
	return type_make(&k, newtype, fn);
}
SHIM_WEAK(Type_create_hvector)

/* MPI_Type_hvector and MPI_Type_hindexed, the MPI-1 names removed in
 * MPI-3.0, take the same arguments; programs still call them (MPICH's
 * own test suite does), so they are exported as aliases, undeclared in
 * mpi.h like the standard ABI has them. */
extern __typeof__(PMPI_Type_create_hvector) PMPI_Type_hvector
	__attribute__((alias("PMPI_Type_create_hvector")));
#pragma weak MPI_Type_hvector = PMPI_Type_create_hvector

/* Indexed and hindexed: ints = count, blocklengths[, displacements]. */
static int indexed(int combiner, int count, const int *bl, const int *idisp,
		   const MPI_Aint *adisp, MPI_Datatype oldtype, MPI_Datatype *newtype,
		   const char *fn)
{
	int err;

	shim_require_init(fn);
	if ((err = check_blocks(count, bl, idisp ? (const void *)idisp : adisp, fn)) ||
	    (err = check_old(oldtype, fn)) || (err = check_out(newtype, fn)))
		return err;
	int nints = 1 + count * (idisp ? 2 : 1);
	int *ints = malloc((size_t)nints * sizeof(int));
	if (!ints)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	ints[0] = count;
	if (count > 0)
		memcpy(ints + 1, bl, (size_t)count * sizeof(int));
	if (idisp && count > 0)
		memcpy(ints + 1 + count, idisp, (size_t)count * sizeof(int));
	struct ctor k = { combiner, nints, idisp ? 0 : count, 1, ints, adisp, &oldtype };
	err = type_make(&k, newtype, fn);
	free(ints);
	return err;
}

int PMPI_Type_indexed(int count, const int array_of_blocklengths[],
		      const int array_of_displacements[], MPI_Datatype oldtype,
		      MPI_Datatype *newtype)
{
	return indexed(MPI_COMBINER_INDEXED, count, array_of_blocklengths,
		       array_of_displacements, NULL, oldtype, newtype, "MPI_Type_indexed");
}
SHIM_WEAK(Type_indexed)

int PMPI_Type_create_hindexed(int count, const int array_of_blocklengths[],
			      const MPI_Aint array_of_displacements[], MPI_Datatype oldtype,
			      MPI_Datatype *newtype)
{
	return indexed(MPI_COMBINER_HINDEXED, count, array_of_blocklengths, NULL,
		       array_of_displacements, oldtype, newtype, "MPI_Type_create_hindexed");
}
SHIM_WEAK(Type_create_hindexed)

extern __typeof__(PMPI_Type_create_hindexed) PMPI_Type_hindexed
	__attribute__((alias("PMPI_Type_create_hindexed")));
#pragma weak MPI_Type_hindexed = PMPI_Type_create_hindexed

/* Indexed_block and hindexed_block: ints = count, blocklength[, displs]. */
static int indexed_block(int combiner, int count, int blocklength, const int *idisp,
			 const MPI_Aint *adisp, MPI_Datatype oldtype, MPI_Datatype *newtype,
			 const char *fn)
{
	int err;

	shim_require_init(fn);
	if ((err = check_count(count, "count", fn)))
		return err;
	if (count > INT_MAX - 2)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_COUNT, fn, "count %d", count);
	if (count > 0 && !(idisp ? (const void *)idisp : adisp))
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array");
	if ((err = check_count(blocklength, "blocklength", fn)) ||
	    (err = check_old(oldtype, fn)) || (err = check_out(newtype, fn)))
		return err;
	int nints = 2 + (idisp ? count : 0);
	int *ints = malloc((size_t)nints * sizeof(int));
	if (!ints)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	ints[0] = count;
	ints[1] = blocklength;
	if (idisp && count > 0)
		memcpy(ints + 2, idisp, (size_t)count * sizeof(int));
	struct ctor k = { combiner, nints, idisp ? 0 : count, 1, ints, adisp, &oldtype };
	err = type_make(&k, newtype, fn);
	free(ints);
	return err;
}

int PMPI_Type_create_indexed_block(int count, int blocklength,
				   const int array_of_displacements[], MPI_Datatype oldtype,
				   MPI_Datatype *newtype)
{
	return indexed_block(MPI_COMBINER_INDEXED_BLOCK, count, blocklength,
			     array_of_displacements, NULL, oldtype, newtype,
			     "MPI_Type_create_indexed_block");
}
SHIM_WEAK(Type_create_indexed_block)

int PMPI_Type_create_hindexed_block(int count, int blocklength,
				    const MPI_Aint array_of_displacements[],
				    MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	return indexed_block(MPI_COMBINER_HINDEXED_BLOCK, count, blocklength, NULL,
			     array_of_displacements, oldtype, newtype,
			     "MPI_Type_create_hindexed_block");
}
SHIM_WEAK(Type_create_hindexed_block)

int PMPI_Type_create_struct(int count, const int array_of_blocklengths[],
			    const MPI_Aint array_of_displacements[],
			    const MPI_Datatype array_of_types[], MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_struct";
	int err;

	shim_require_init(fn);
	if ((err = check_blocks(count, array_of_blocklengths, array_of_displacements, fn)))
		return err;
	if (count > 0 && !array_of_types)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array_of_types");
	for (int i = 0; i < count; i++)
		if (!shim_type_get(array_of_types[i]))
			return bad_type(array_of_types[i], "a member type", fn);
	if ((err = check_out(newtype, fn)))
		return err;
	int *ints = malloc((size_t)(count + 1) * sizeof(int));
	if (!ints)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	ints[0] = count;
	if (count > 0)
		memcpy(ints + 1, array_of_blocklengths, (size_t)count * sizeof(int));
	struct ctor k = { MPI_COMBINER_STRUCT, count + 1, count, count, ints,
			  array_of_displacements, array_of_types };
	err = type_make(&k, newtype, fn);
	free(ints);
	return err;
}
SHIM_WEAK(Type_create_struct)

static int check_order(int order, const char *fn)
{
	if (order == MPI_ORDER_C || order == MPI_ORDER_FORTRAN)
		return MPI_SUCCESS;
	return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "order %d", order);
}

int PMPI_Type_create_subarray(int ndims, const int array_of_sizes[],
			      const int array_of_subsizes[], const int array_of_starts[],
			      int order, MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_subarray";
	const int *sz = array_of_sizes, *sub = array_of_subsizes, *st = array_of_starts;
	int err;

	shim_require_init(fn);
	if (ndims <= 0 || ndims > (INT_MAX - 2) / 3)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "ndims %d", ndims);
	if (!sz || !sub || !st)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array");
	for (int i = 0; i < ndims; i++)
		if (sz[i] <= 0 || sub[i] <= 0 || sub[i] > sz[i] || st[i] < 0 ||
		    st[i] > sz[i] - sub[i])
			return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
					   "dimension %d: size %d, subsize %d, start %d",
					   i, sz[i], sub[i], st[i]);
	if ((err = check_order(order, fn)) || (err = check_old(oldtype, fn)) ||
	    (err = check_out(newtype, fn)))
		return err;
	int nints = 2 + 3 * ndims;
	int *ints = malloc((size_t)nints * sizeof(int));
	if (!ints)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	ints[0] = ndims;
	memcpy(ints + 1, sz, (size_t)ndims * sizeof(int));
	memcpy(ints + 1 + ndims, sub, (size_t)ndims * sizeof(int));
	memcpy(ints + 1 + 2 * ndims, st, (size_t)ndims * sizeof(int));
	ints[1 + 3 * ndims] = order;
	struct ctor k = { MPI_COMBINER_SUBARRAY, nints, 0, 1, ints, NULL, &oldtype };
	err = type_make(&k, newtype, fn);
	free(ints);
	return err;
}
SHIM_WEAK(Type_create_subarray)

/* One dimension of a darray: distribution, argument, process count. */
static int check_darray_dim(int i, int g, int dist, int darg, int p, const char *fn)
{
	int ok = g > 0 && p > 0;

	if (dist == MPI_DISTRIBUTE_BLOCK)
		ok = ok && (darg == MPI_DISTRIBUTE_DFLT_DARG ||
			    (darg > 0 && (int64_t)darg * p >= g));
	else if (dist == MPI_DISTRIBUTE_CYCLIC)
		ok = ok && (darg == MPI_DISTRIBUTE_DFLT_DARG || darg > 0);
	else
		ok = ok && dist == MPI_DISTRIBUTE_NONE;
	if (ok)
		return MPI_SUCCESS;
	return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
			   "dimension %d: gsize %d, distrib %d, darg %d, psize %d",
			   i, g, dist, darg, p);
}

int PMPI_Type_create_darray(int size, int rank, int ndims, const int array_of_gsizes[],
			    const int array_of_distribs[], const int array_of_dargs[],
			    const int array_of_psizes[], int order, MPI_Datatype oldtype,
			    MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_darray";
	const int *g = array_of_gsizes, *ds = array_of_distribs, *da = array_of_dargs,
		*ps = array_of_psizes;
	int64_t procs = 1;
	int err;

	shim_require_init(fn);
	if (size <= 0 || rank < 0 || rank >= size)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "rank %d of size %d", rank,
				   size);
	if (ndims <= 0 || ndims > (INT_MAX - 4) / 4)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn, "ndims %d", ndims);
	if (!g || !ds || !da || !ps)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL array");
	for (int i = 0; i < ndims; i++) {
		if ((err = check_darray_dim(i, g[i], ds[i], da[i], ps[i], fn)))
			return err;
		procs *= ps[i];
	}
	if (procs != size)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				   "the process grid has %lld processes, not %d",
				   (long long)procs, size);
	if ((err = check_order(order, fn)) || (err = check_old(oldtype, fn)) ||
	    (err = check_out(newtype, fn)))
		return err;
	int nints = 4 + 4 * ndims;
	int *ints = malloc((size_t)nints * sizeof(int));
	if (!ints)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	ints[0] = size;
	ints[1] = rank;
	ints[2] = ndims;
	memcpy(ints + 3, g, (size_t)ndims * sizeof(int));
	memcpy(ints + 3 + ndims, ds, (size_t)ndims * sizeof(int));
	memcpy(ints + 3 + 2 * ndims, da, (size_t)ndims * sizeof(int));
	memcpy(ints + 3 + 3 * ndims, ps, (size_t)ndims * sizeof(int));
	ints[3 + 4 * ndims] = order;
	struct ctor k = { MPI_COMBINER_DARRAY, nints, 0, 1, ints, NULL, &oldtype };
	err = type_make(&k, newtype, fn);
	free(ints);
	return err;
}
SHIM_WEAK(Type_create_darray)

int PMPI_Type_create_resized(MPI_Datatype oldtype, MPI_Aint lb, MPI_Aint extent,
			     MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_resized";
	MPI_Aint addrs[2] = { lb, extent };
	int err;

	shim_require_init(fn);
	if ((err = check_old(oldtype, fn)) || (err = check_out(newtype, fn)))
		return err;
	struct ctor k = { MPI_COMBINER_RESIZED, 0, 2, 1, NULL, addrs, &oldtype };
	return type_make(&k, newtype, fn);
}
SHIM_WEAK(Type_create_resized)

int PMPI_Type_dup(MPI_Datatype oldtype, MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_dup";
	int err;

	shim_require_init(fn);
	if ((err = check_old(oldtype, fn)) || (err = check_out(newtype, fn)))
		return err;
	struct ctor k = { MPI_COMBINER_DUP, 0, 0, 1, NULL, NULL, &oldtype };
	if ((err = type_make(&k, newtype, fn)))
		return err;
	/* Attributes follow through their copy callbacks (shim/attr.c). */
	if ((err = shim_attr_type_copy(oldtype, *newtype))) {
		shim_attr_type_delete_all(*newtype);
		shim_attr_forget(SHIM_K_TYPE, (uintptr_t)*newtype);
		PMPI_Type_free(newtype);
		return shim_error(SHIM_NOCOMM, err, fn, "an attribute's copy callback failed");
	}
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_dup)

/* ------------------------------------------------------ commit and free */

int PMPI_Type_commit(MPI_Datatype *datatype)
{
	static const char fn[] = "MPI_Type_commit";
	struct shim_type *t = datatype ? shim_type_get(*datatype) : NULL;
	int err;

	if (!datatype)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL datatype pointer");
	if (!t)
		return bad_type(*datatype, "datatype", fn);
	if (t->committed)
		return MPI_SUCCESS;
	if ((err = shim_type_map(t)))
		return shim_error(SHIM_NOCOMM, err, fn, "cannot flatten the typemap");
	t->committed = 1;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_commit)

int PMPI_Type_free(MPI_Datatype *datatype)
{
	static const char fn[] = "MPI_Type_free";
	struct shim_type *t = datatype ? shim_type_get(*datatype) : NULL;

	if (!datatype)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL datatype pointer");
	if (!t)
		return bad_type(*datatype, "datatype", fn);
	if (t->combiner == MPI_COMBINER_NAMED)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn,
				   "%s is predefined and cannot be freed", t->name);
	if (shim_type_f90(t))
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn,
				   "%#lx is from MPI_Type_create_f90_*: it cannot be freed",
				   (unsigned long)(uintptr_t)*datatype);
	int err = shim_attr_type_delete_all(*datatype);
	if (err)
		return shim_error(SHIM_NOCOMM, err, fn, "an attribute's delete callback failed");
	*datatype = MPI_DATATYPE_NULL;
	/* Locked as shim_type_release: a request completing in another
	 * thread may drop the last reference at the same time. */
	shim_state_lock();
	if (--t->user_refs == 0 && t->refs == 0)
		type_destroy(t);
	shim_state_unlock();
	dead_flush();
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_free)

void shim_type_user_hold(MPI_Datatype h)
{
	struct shim_type *t = h == MPI_DATATYPE_NULL ? NULL : shim_type_get(h);

	if (!t || t->combiner == MPI_COMBINER_NAMED)
		return;
	shim_state_lock();
	t->user_refs++;
	shim_state_unlock();
}

/* Even a component whose handle the application freed becomes valid
 * again: its record is found with shim_handle_get, which shim_type_get
 * (and so shim_type_user_hold) would not do.  Counted under the state
 * lock, as Type_free drops the count: another thread may be handing the
 * same component out or freeing its copy (thread_typecontents.c). */
void shim_type_hand_out(const MPI_Datatype *types, int n, MPI_Datatype out[])
{
	shim_state_lock();
	for (int i = 0; i < n; i++) {
		struct shim_type *k = shim_handle_get(SHIM_K_TYPE, (uintptr_t)types[i]);
		if (k)
			k->user_refs++;
		out[i] = types[i];
	}
	shim_state_unlock();
}

void shim_type_user_release(MPI_Datatype h)
{
	struct shim_type *t = h == MPI_DATATYPE_NULL ? NULL : shim_type_get(h);

	if (!t || t->combiner == MPI_COMBINER_NAMED)
		return;
	shim_state_lock();
	if (--t->user_refs == 0 && t->refs == 0)
		type_destroy(t);
	shim_state_unlock();
	/* Not under the state lock: a thread holding the call slot may be
	 * waiting for it (a completion freeing its requests). */
	dead_flush();
}

/* --------------------------------------------------- envelope, contents */

int PMPI_Type_get_envelope(MPI_Datatype datatype, int *num_integers, int *num_addresses,
			   int *num_datatypes, int *combiner)
{
	struct shim_type *t = shim_type_get(datatype);

	if (!t)
		return bad_type(datatype, "datatype", "MPI_Type_get_envelope");
	if (t->big)
		return shim_error(SHIM_NOCOMM, MPI_ERR_TYPE, "MPI_Type_get_envelope",
				  "made by a large-count constructor: use MPI_Type_get_envelope_c");
	*num_integers = t->nints;
	*num_addresses = t->naddrs;
	*num_datatypes = t->ntypes;
	*combiner = t->combiner;
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_envelope)

/* Derived types handed out are new references the caller must free. */
int PMPI_Type_get_contents(MPI_Datatype datatype, int max_integers, int max_addresses,
			   int max_datatypes, int array_of_integers[],
			   MPI_Aint array_of_addresses[], MPI_Datatype array_of_datatypes[])
{
	static const char fn[] = "MPI_Type_get_contents";
	struct shim_type *t = shim_type_get(datatype);

	if (!t)
		return bad_type(datatype, "datatype", fn);
	if (t->combiner == MPI_COMBINER_NAMED)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_TYPE, fn,
				   "%s is predefined: it has no contents", t->name);
	if (t->big)
		return shim_error(SHIM_NOCOMM, MPI_ERR_TYPE, fn,
				  "made by a large-count constructor: use MPI_Type_get_contents_c");
	if (max_integers < t->nints || max_addresses < t->naddrs ||
	    max_datatypes < t->ntypes)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_ARG, fn,
				   "room for %d/%d/%d, the type has %d/%d/%d", max_integers,
				   max_addresses, max_datatypes, t->nints, t->naddrs, t->ntypes);
	if (t->nints)
		memcpy(array_of_integers, t->ints, (size_t)t->nints * sizeof(int));
	if (t->naddrs)
		memcpy(array_of_addresses, t->addrs, (size_t)t->naddrs * sizeof(MPI_Aint));
	shim_type_hand_out(t->types, t->ntypes, array_of_datatypes);
	return MPI_SUCCESS;
}
SHIM_WEAK(Type_get_contents)
