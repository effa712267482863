/*
 * coll.c - collectives, application side: checks and staging for the
 * blocking ones and for their nonblocking twins (MPI_Ibcast ...).
 *
 * Previous hop: the application.  Next hop: shim/call.c, then
 * proxy/coll.c, which runs the real nonblocking twin to completion; a
 * nonblocking call goes as CALL_ICOLL to proxy/icoll.c instead, and its
 * request (shim/icoll.c) keeps the plan until completion, when the
 * results are copied out as a blocking call copies them at once.
 *
 * Each wrapper checks its arguments first, in the order comm, root,
 * (op,) counts, datatypes, buffers, and only those the standard makes
 * significant on the calling rank (Gather's receive side only at the
 * root, ...), so bad input gives the same error class under every MPI
 * and never a crash.  Where MPICH and Open MPI agree on which error
 * wins (an invalid op before a bad count), the order follows them.
 * Then it describes each buffer the call touches (struct coll_buf):
 * its datatype and elements, whether they go in before the call, and
 * which of them come back after it.  plan_stage() puts every buffer of
 * the call, and the count/displacement arrays when they are too big for
 * the inline area, into ONE arena block, so an 8-byte MPI_Allreduce
 * costs a single small block and one round trip.
 *
 * Staging rules that keep the application's memory as the real MPI
 * would leave it:
 *   - a buffer's image is laid out as the buffer (byte d of the buffer
 *     at image byte d), spanning the true extent of its elements, so
 *     the real MPI sees the same displacements; its base may lie outside
 *     the block (positive lower bounds, MPI_BOTTOM);
 *   - what comes back is the typemap's bytes only, never the holes of a
 *     datatype (the padding of MPI_SHORT_INT, a vector's stride);
 *   - v-variants copy only the blocks named by counts/displacements,
 *     never the gaps between them;
 *   - MPI_IN_PLACE travels as CHAN_OFF_IN_PLACE and the receive buffer,
 *     which then holds this rank's input, is copied in and out;
 *   - Exscan's result on rank 0 is undefined, so rank 0's buffer is left
 *     alone.
 *
 * A buffer inside an MPI_Alloc_mem block is not staged at all: the real
 * MPI gets it in place (plan_borrow), as natively, and nothing is copied.
 *
 * Alltoallw gives every block its own datatype and a byte displacement
 * (struct coll_buf's ts).
 *
 * The arg[] layout is chan/coll.h; each proxy handler lists the slots it
 * reads.  Reductions accept the predefined operations only; the real MPI
 * decides which (op, datatype) pairs are valid.  On intercommunicators
 * blocks are exchanged with the remote group (peers()), roots are
 * MPI_ROOT / MPI_PROC_NULL / a remote rank (enum coll_role), there is no
 * MPI_IN_PLACE, and Scan/Exscan are MPI_ERR_COMM as in both real MPIs.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan/coll.h"
#include "coll_plan.h"

#define ABI(h) ((int64_t)(intptr_t)(h))

/* Buffers at least this long are staged with the user buffer's cache-line
 * offset (see region_bytes); shorter ones are not copied with `rep movsb`,
 * and keeping them unskewed keeps a small call's block small. */
#define COLL_SKEW_MIN 2048

/* request: NULL for a blocking call, else where the nonblocking one's
 * handle goes. */
static void plan_init(struct coll_plan *p, MPI_Comm comm, MPI_Request *request)
{
	memset(p, 0, sizeof(*p));
	p->st.off = ARENA_NONE;
	p->comm = comm;
	p->request = request;
}

/* Saturating arithmetic: an absurd span must fail in the arena, not wrap. */
static int64_t mul_sat(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* Bytes [*lo, *hi) that count elements of t occupy from byte 0 (the same
 * rule as shim/stage.c): the true extent of the first element, stretched
 * by (count - 1) extents either way.  Saturates rather than wraps. */
static void type_span(const struct shim_type *t, int64_t count, int64_t *lo, int64_t *hi)
{
	*lo = *hi = 0;
	if (count <= 0 || t->size == 0)
		return;
	if (t->contig) {
		*lo = t->blocks[0].off;
		*hi = *lo + mul_sat(count, t->size);
		return;
	}
	int64_t ext = mul_sat(count - 1, t->extent);
	*lo = t->true_lb + (ext < 0 ? ext : 0);
	*hi = t->true_lb + t->true_extent + (ext > 0 ? ext : 0);
}

static struct coll_buf *plan_buf(struct coll_plan *p, int slot, const void *user,
				 const struct shim_type *t, int64_t count)
{
	struct coll_buf *b = &p->buf[slot == COLL_SBUF ? 0 : 1];

	b->slot = slot;
	b->user = user;
	b->t = t;
	b->count = b->out_count = count;
	type_span(t, count, &b->lo, &b->hi);
	return b;
}

/* Input only. */
static void plan_send(struct coll_plan *p, int slot, const void *user,
		      const struct shim_type *t, int64_t count)
{
	plan_buf(p, slot, user, t, count)->copy_in = 1;
}

/* Output only; prefilled where the real MPI may not write all of the
 * typemap's bytes (long double, see shim.h). */
static void plan_recv(struct coll_plan *p, int slot, void *user, const struct shim_type *t,
		      int64_t count)
{
	struct coll_buf *b = plan_buf(p, slot, user, t, count);

	b->copy_in = t->prefill;
	b->copy_out = 1;
}

/* Input and output (the receive buffer of an MPI_IN_PLACE call). */
static void plan_inout(struct coll_plan *p, int slot, void *user,
		       const struct shim_type *t, int64_t count)
{
	struct coll_buf *b = plan_buf(p, slot, user, t, count);

	b->copy_in = b->copy_out = 1;
}

static void plan_in_place(struct coll_plan *p, int slot)
{
	plan_buf(p, slot, NULL, NULL, 0)->in_place = 1;
}

/* Block i of a v- or w-variant buffer: its datatype and where it starts. */
static const struct shim_type *block_type(const struct coll_buf *b, int i)
{
	return b->ts ? b->ts[i] : b->t;
}

static int64_t block_at(const struct coll_buf *b, int i)
{
	return b->ts ? b->dsp[i] : mul_sat(b->dsp[i], b->t->extent);
}

/* Blocks of cnt[i] elements at dsp[i]: extents of t, or (ts: Alltoallw)
 * bytes, block i of datatype ts[i]. */
static void plan_blocks(struct coll_plan *p, int slot, const void *user, const int *cnt,
			const int *dsp, int n, const struct shim_type *t,
			struct shim_type **ts, int in, int out)
{
	struct coll_buf *b = plan_buf(p, slot, user, t, 0);
	int any = 0, prefill = 0;

	b->cnt = cnt;
	b->dsp = dsp;
	b->n = n;
	b->ts = ts;
	for (int i = 0; i < n; i++) {
		int64_t lo, hi, at = block_at(b, i);
		type_span(block_type(b, i), cnt[i], &lo, &hi);
		prefill |= block_type(b, i)->prefill;
		if (hi <= lo)
			continue;
		lo += at;
		hi += at;
		b->lo = !any || lo < b->lo ? lo : b->lo;
		b->hi = !any || hi > b->hi ? hi : b->hi;
		any = 1;
	}
	b->copy_in = in || (out && prefill);
	b->copy_out = out;
}

/* A v-variant buffer: blocks of cnt[i] elements at dsp[i] extents. */
static void plan_v(struct coll_plan *p, int slot, const void *user, const int *cnt,
		   const int *dsp, int n, const struct shim_type *t, int in, int out)
{
	plan_blocks(p, slot, user, cnt, dsp, n, t, NULL, in, out);
}

static void plan_arrays(struct coll_plan *p, int n, const int *a0, const int *a1,
			const int *a2, const int *a3)
{
	const int *a[4] = { a0, a1, a2, a3 };

	p->n = n;
	for (p->narr = 0; p->narr < 4 && a[p->narr]; p->narr++)
		p->arr[p->narr] = a[p->narr];
}

static uint64_t align_up(uint64_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(uint64_t)(ARENA_ALIGN - 1);
}

/* Room for a staged buffer.  The image starts skew bytes into its region
 * so it has the user buffer's offset within a cache line (memcpy between
 * differently skewed buffers is many times slower here, see
 * shim/stage.c).  When byte 0 lies inside the span, its image lies
 * inside the region: one spare byte keeps it off the start of the next
 * region (it sits at the END when every displacement is negative), so
 * two images never share a base, which Open MPI's nonblocking
 * collectives would take for MPI_IN_PLACE.  Otherwise the base may be
 * anywhere; two spare lines let plan_stage move it off the sentinels and
 * off the other buffer's base. */
static uint64_t region_bytes(const struct coll_buf *b)
{
	uint64_t n = add_sat(b->skew, (uint64_t)(b->hi - b->lo));

	return b->outside ? add_sat(align_up(n), 2 * ARENA_ALIGN) : align_up(add_sat(n, 1));
}

static uint64_t arrays_bytes(const struct coll_plan *p)
{
	uint64_t types = p->types[0] ? 2 * (uint64_t)p->n * sizeof(int64_t) : 0;

	return (uint64_t)p->narr * (uint64_t)p->n * sizeof(int) + types;
}

/* Where byte d of a buffer staged at base is (integer arithmetic: the
 * base itself may lie outside the arena). */
static unsigned char *at_image(int64_t base, int64_t d)
{
	return (unsigned char *)((uintptr_t)shim.ch.arena + (uintptr_t)base + (uintptr_t)d);
}

static unsigned char *at_user(const void *user, int64_t d)
{
	return (unsigned char *)((uintptr_t)user + (uintptr_t)d);
}

/* count elements of t between user and image (both at element 0): one
 * memcpy when the type is contiguous or its holes are few (reading them
 * is harmless), else the typemap's bytes; coming back, only those. */
static void run_copy(const struct shim_type *t, int64_t count, unsigned char *user,
		     unsigned char *img, int out)
{
	int64_t lo, hi;

	type_span(t, count, &lo, &hi);
	if (hi <= lo)
		return;
	if (t->contig || (!out && hi - lo <= 2 * count * t->size + 4096)) {
		if (out)
			memcpy(user + lo, img + lo, (size_t)(hi - lo));
		else
			memcpy(img + lo, user + lo, (size_t)(hi - lo));
	} else if (out) {
		shim_type_copy_out(t, count, user, img, count * t->size);
	} else {
		shim_type_copy_in(t, count, user, img);
	}
}

/* Copy buffer b in (before the call) or out (after it). */
static void buf_copy(const struct coll_buf *b, int out)
{
	if (!b->cnt) {
		run_copy(b->t, out ? b->out_count : b->count, at_user(b->user, 0),
			 at_image(b->arg, 0), out);
		return;
	}
	for (int i = 0; i < b->n; i++) {
		int64_t d = block_at(b, i);
		run_copy(block_type(b, i), b->cnt[i], at_user(b->user, d), at_image(b->arg, d),
			 out);
	}
}

static int is_sentinel(int64_t base)
{
	return base == CHAN_OFF_NONE || base == CHAN_OFF_IN_PLACE;
}

/* A buffer whose span lies inside one MPI_Alloc_mem block goes to the
 * real MPI where it is (shim/mem.c); 1 if b does, its arg set. */
static int plan_borrow(struct coll_buf *b)
{
	int64_t base = (int64_t)((uintptr_t)b->user - (uintptr_t)shim.ch.arena);

	if (is_sentinel(base) ||
	    !shim_mem_in_arena(at_user(b->user, b->lo), (uint64_t)(b->hi - b->lo)))
		return 0;
	b->borrowed = 1;
	b->arg = base;
	return 1;
}

/* Reserve one block for every staged buffer (and oversized arrays) and
 * copy the inputs in.  Sets each buffer's arg. */
static int plan_stage(struct coll_plan *p, const char *fn)
{
	struct coll_buf *b;
	uint64_t total = 0;
	int err;

	for (b = p->buf; b < p->buf + 2; b++) {
		b->staged = b->slot && !b->in_place && b->hi > b->lo;
		if (b->staged && plan_borrow(b))
			b->staged = 0;
		if (!b->staged)
			continue;
		if (b->hi - b->lo >= COLL_SKEW_MIN)
			b->skew = ((uintptr_t)b->user + (uint64_t)b->lo) % ARENA_ALIGN;
		b->outside = b->lo > 0 || b->hi < 0;
		total = add_sat(total, region_bytes(b));
	}
	if (arrays_bytes(p) > CHAN_INLINE_SIZE)
		total = add_sat(total, arrays_bytes(p));
	if (total && (err = shim_stage_alloc(&p->st, total, fn)))
		return err;
	uint64_t at = p->st.off;
	for (b = p->buf; b < p->buf + 2; b++) {
		if (b->borrowed)
			continue;
		b->arg = b->in_place ? CHAN_OFF_IN_PLACE : CHAN_OFF_NONE;
		if (!b->staged)
			continue;
		b->arg = (int64_t)(at + b->skew - (uint64_t)b->lo);
		at += region_bytes(b);
	}
	for (b = p->buf; b < p->buf + 2; b++) {
		const struct coll_buf *o = b == p->buf ? p->buf + 1 : p->buf;
		/* at most two of base, base + 64, base + 128 are bad */
		while (b->staged && b->outside &&
		       (is_sentinel(b->arg) || ((o->staged || o->borrowed) && o->arg == b->arg)))
			b->arg += ARENA_ALIGN;
		if (b->staged && b->copy_in)
			buf_copy(b, 0);
	}
	if (p->request && (err = shim_icoll_prepare(p))) {
		shim_stage_free(&p->st);
		return err;
	}
	return MPI_SUCCESS;
}

/* Fill buffers and arrays into the locked slot c. */
static void plan_fill(const struct coll_plan *p, struct chan_call *c)
{
	for (int i = 0; i < 2; i++)
		if (p->buf[i].slot)
			c->arg[p->buf[i].slot] = p->buf[i].arg;
	uint64_t bytes = arrays_bytes(p);
	unsigned char *dst = c->inl;

	c->arg[COLL_ARRAYS] = CHAN_OFF_NONE;
	c->arg[COLL_NARR] = p->narr ? p->n : 0;
	if (bytes > CHAN_INLINE_SIZE) {
		/* The arrays take the tail of the staged block. */
		uint64_t off = p->st.off + p->st.len - bytes;
		dst = chan_arena_ptr(&shim.ch, off);
		c->arg[COLL_ARRAYS] = (int64_t)off;
	} else {
		c->inl_len = (uint32_t)bytes;
	}
	for (int i = 0; i < p->narr; i++)
		memcpy(dst + (size_t)i * (size_t)p->n * sizeof(int), p->arr[i],
		       (size_t)p->n * sizeof(int));
	/* Alltoallw's datatypes follow, as ABI handle values. */
	int64_t *types = (int64_t *)(void *)(dst + (size_t)p->narr * (size_t)p->n * sizeof(int));
	for (int j = 0; j < 2 && p->types[0]; j++)
		for (int i = 0; i < p->n; i++)
			types[j * p->n + i] = ABI(p->types[j][i]);
}

void shim_coll_plan_out(const struct coll_plan *p)
{
	for (int i = 0; i < 2; i++) {
		const struct coll_buf *b = &p->buf[i];
		if (b->staged && b->copy_out)
			buf_copy(b, 1);
	}
}

/* Run call c (scalar arguments already set) with plan p; ends the call.
 * A nonblocking call's results come back when its request completes
 * (shim/icoll.c).  Returns the ABI error class, not yet raised. */
static int plan_run(struct coll_plan *p, struct chan_call *c)
{
	plan_fill(p, c);
	if (p->request)
		return shim_icoll_post(p, c);
	int err = shim_coll_run(c);
	if (err == MPI_SUCCESS)
		shim_coll_plan_out(p);
	shim_stage_free(&p->st);
	return err;
}

/* ---------------------------------------------------------------- checks */
/* Each check raises its error through comm's handler and returns it. */

/* What the calling rank does in a rooted collective. */
enum coll_role {
	ROLE_ROOT,   /* the root (an intercommunicator's: root == MPI_ROOT) */
	ROLE_LEAF,   /* another member; on an intercommunicator, one of the
		      * group facing the root */
	ROLE_IDLE    /* intercommunicator: the root's group, not the root
		      * (MPI_PROC_NULL); no argument but comm is significant */
};

/* Members a rank exchanges blocks with: the remote group of an
 * intercommunicator, else the communicator. */
static int peers(const struct shim_comm *cm)
{
	return cm->remote ? cm->remote_size : cm->size;
}

static int check_root(MPI_Comm comm, const struct shim_comm *cm, int root,
		      enum coll_role *role, const char *fn)
{
	if (!cm->remote && shim_check_root(cm, root) == MPI_SUCCESS) {
		*role = root == cm->rank ? ROLE_ROOT : ROLE_LEAF;
		return MPI_SUCCESS;
	}
	if (cm->remote && (root == MPI_ROOT || root == MPI_PROC_NULL ||
			   (root >= 0 && root < cm->remote_size))) {
		*role = root == MPI_ROOT ? ROLE_ROOT : root == MPI_PROC_NULL ? ROLE_IDLE
			: ROLE_LEAF;
		return MPI_SUCCESS;
	}
	if (cm->remote)
		return shim_errorf(comm, MPI_ERR_ROOT, fn, "root %d is not MPI_ROOT, "
				   "MPI_PROC_NULL or in [0, %d) of the remote group", root,
				   cm->remote_size);
	return shim_errorf(comm, MPI_ERR_ROOT, fn, "root %d is not in [0, %d)", root, cm->size);
}

/* The root of an intracommunicator contributes too; an
 * intercommunicator's root only collects (or only hands out). */
static int contributes(const struct shim_comm *cm, enum coll_role role)
{
	return role == ROLE_LEAF || (role == ROLE_ROOT && !cm->remote);
}

static int check_count(MPI_Comm comm, int count, const char *what, const char *fn)
{
	if (shim_check_count(count) == MPI_SUCCESS)
		return MPI_SUCCESS;
	return shim_errorf(comm, MPI_ERR_COUNT, fn, "%s %d", what, count);
}

static int check_type(MPI_Comm comm, MPI_Datatype t, struct shim_type **rec,
		      const char *what, const char *fn)
{
	if (shim_type_check(t, rec) == MPI_SUCCESS)
		return MPI_SUCCESS;
	return shim_errorf(comm, MPI_ERR_TYPE, fn, "%s %#lx is %s", what,
			   (unsigned long)(uintptr_t)t, shim_type_why(t));
}

/* The predefined reduction operations (user operations never get here:
 * shim/opreduce.c reduces them in the application).  Both real MPIs
 * check the (op, datatype) pair before the count and the datatype, so an
 * invalid op, or MPI_DATATYPE_NULL which has no operations, is
 * MPI_ERR_OP first. */
static int op_predefined(MPI_Op op)
{
	return shim_op_predefined(op);
}

static int check_op(MPI_Comm comm, MPI_Op op, MPI_Datatype t, const char *fn)
{
	if (op == MPI_OP_NULL)
		return shim_error(comm, MPI_ERR_OP, fn, "MPI_OP_NULL");
	if (!op_predefined(op))
		return shim_errorf(comm, MPI_ERR_OP, fn, "%#lx is not an operation",
				   (unsigned long)(uintptr_t)op);
	if (t == MPI_DATATYPE_NULL)
		return shim_error(comm, MPI_ERR_OP, fn, "no operation on MPI_DATATYPE_NULL");
	return MPI_SUCCESS;
}

/* NULL is MPI_BOTTOM, a valid buffer for derived types (absolute
 * addresses); with a predefined type it cannot address data. */
static int check_buf(MPI_Comm comm, const void *buf, int64_t count, MPI_Datatype t,
		     const char *what, const char *fn)
{
	if (buf != NULL || count == 0 || !shim_type_predefined(t))
		return MPI_SUCCESS;
	return shim_errorf(comm, MPI_ERR_BUFFER, fn, "%s is NULL with %lld elements", what,
			   (long long)count);
}

/* MPI_IN_PLACE where the standard allows it (never on an
 * intercommunicator); else MPI_ERR_BUFFER. */
static int check_in_place(MPI_Comm comm, const struct shim_comm *cm, const void *buf,
			  int allowed, const char *what, const char *fn)
{
	if (buf != MPI_IN_PLACE || (allowed && !cm->remote))
		return MPI_SUCCESS;
	return shim_errorf(comm, MPI_ERR_BUFFER, fn, "%s cannot be MPI_IN_PLACE %s", what,
			   cm->remote ? "on an intercommunicator" : "here");
}

/* count, datatype, then buffer of one side of a call. */
static int check_side(MPI_Comm comm, const void *buf, int count, int64_t nblocks,
		      MPI_Datatype t, struct shim_type **rec, const char *side,
		      const char *fn)
{
	char what[32];
	int err;

	snprintf(what, sizeof(what), "%scount", side);
	if ((err = check_count(comm, count, what, fn)))
		return err;
	snprintf(what, sizeof(what), "%stype", side);
	if ((err = check_type(comm, t, rec, what, fn)))
		return err;
	snprintf(what, sizeof(what), "%sbuf", side);
	return check_buf(comm, buf, (int64_t)count * nblocks, t, what, fn);
}

/* The counts and displacements arrays of a v- or w-variant side; *total
 * is the sum of the counts. */
static int check_arrays(MPI_Comm comm, const int *cnt, const int *dsp, int n,
			int64_t *total, const char *side, const char *fn)
{
	*total = 0;
	if (!cnt)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "%scounts is NULL", side);
	if (!dsp)
		return shim_errorf(comm, MPI_ERR_BUFFER, fn, "%sdispls is NULL", side);
	for (int i = 0; i < n; i++) {
		if (cnt[i] < 0)
			return shim_errorf(comm, MPI_ERR_COUNT, fn, "%scounts[%d] = %d",
					   side, i, cnt[i]);
		*total += cnt[i];
	}
	return MPI_SUCCESS;
}

/* counts/displacements arrays of a v-variant, then datatype and buffer. */
static int check_side_v(MPI_Comm comm, const void *buf, const int *cnt, const int *dsp,
			int n, MPI_Datatype t, struct shim_type **rec, const char *side,
			const char *fn)
{
	int64_t total;
	char what[32];
	int err;

	if ((err = check_arrays(comm, cnt, dsp, n, &total, side, fn)))
		return err;
	snprintf(what, sizeof(what), "%stype", side);
	if ((err = check_type(comm, t, rec, what, fn)))
		return err;
	snprintf(what, sizeof(what), "%sbuf", side);
	return check_buf(comm, buf, total, t, what, fn);
}

/* The same for an Alltoallw side, whose blocks each have a datatype; the
 * datatypes' records go to recs[]. */
static int check_side_w(MPI_Comm comm, const void *buf, const int *cnt, const int *dsp,
			const MPI_Datatype *types, int n, struct shim_type **recs,
			const char *side, const char *fn)
{
	int64_t total;
	char what[32];
	int err;

	if ((err = check_arrays(comm, cnt, dsp, n, &total, side, fn)))
		return err;
	if (!types)
		return shim_errorf(comm, MPI_ERR_TYPE, fn, "%stypes is NULL", side);
	for (int i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "%stypes[%d]", side, i);
		if ((err = check_type(comm, types[i], &recs[i], what, fn)))
			return err;
		snprintf(what, sizeof(what), "%sbuf", side);
		if ((err = check_buf(comm, buf, cnt[i], types[i], what, fn)))
			return err;
	}
	return MPI_SUCCESS;
}

/* ------------------------------------------------------------ the calls */

/* Lock the slot for collective id on cm and give every scalar a benign
 * value (set_side and the wrapper fill in the real ones).  Every
 * collective passes here once, after its arguments are checked and
 * staged. */
static struct chan_call *begin(const struct coll_plan *p, enum chan_call_id id,
			       const struct shim_comm *cm)
{
	/* Admission counts the collective for checkpoint consistency, a
	 * nonblocking one too: at a checkpoint every member has started it. */
	struct chan_call *c = shim_call_begin_coll(p->request ? CALL_ICOLL : id,
						   (struct shim_comm *)cm);

	c->arg[COLL_ID] = id;
	c->arg[COLL_COMM] = ABI(cm->handle);
	c->arg[COLL_SCOUNT] = c->arg[COLL_RCOUNT] = 0;
	c->arg[COLL_STYPE] = c->arg[COLL_RTYPE] = ABI(MPI_BYTE);
	c->arg[COLL_SBUF] = c->arg[COLL_RBUF] = CHAN_OFF_NONE;
	c->arg[COLL_OP] = ABI(MPI_OP_NULL);
	c->arg[COLL_ROOT] = 0;
	c->arg[COLL_DETACH] = 0;
	return c;
}

/* A count and datatype travel as the application passed them, also where
 * they are not significant: the real MPI may still act on them (Open
 * MPI's nonblocking collectives skip a count of 0 before they number the
 * operation, and an MPI_PROC_NULL rank that skips falls out of step with
 * the others).  Only values that are invalid stay benign (0, MPI_BYTE). */
static void set_side(struct chan_call *c, int slot, int count, MPI_Datatype t)
{
	struct shim_type *rec;

	if (count < 0 || shim_type_check(t, &rec) != MPI_SUCCESS)
		return;
	c->arg[slot] = count;
	c->arg[slot == COLL_SCOUNT ? COLL_STYPE : COLL_RTYPE] = ABI(t);
}

static int finish(struct coll_plan *p, struct chan_call *c, MPI_Comm comm, const char *fn)
{
	return shim_error(comm, plan_run(p, c), fn, NULL);
}

static int barrier(const char *fn, MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	plan_init(&p, comm, request);
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	return finish(&p, begin(&p, CALL_BARRIER, cm), comm, fn);
}

int PMPI_Barrier(MPI_Comm comm)
{
	return barrier("MPI_Barrier", comm, NULL);
}
SHIM_WEAK(Barrier)

int PMPI_Ibarrier(MPI_Comm comm, MPI_Request *request)
{
	return barrier("MPI_Ibarrier", comm, request);
}
SHIM_WEAK(Ibarrier)

/* The root sends, every leaf receives; on an intercommunicator the root's
 * own group (MPI_PROC_NULL) takes no part in the data. */
static int bcast(const char *fn, void *buffer, int count, MPI_Datatype datatype, int root,
		 MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *t;
	enum coll_role role;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if ((err = check_root(comm, cm, root, &role, fn)))
		return err;
	if (role != ROLE_IDLE &&
	    (err = check_side(comm, buffer, count, 1, datatype, &t, "", fn)))
		return err;
	plan_init(&p, comm, request);
	if (role == ROLE_ROOT)
		plan_send(&p, COLL_SBUF, buffer, t, count);
	else if (role == ROLE_LEAF)
		plan_recv(&p, COLL_SBUF, buffer, t, count);
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = begin(&p, CALL_BCAST, cm);
	set_side(c, COLL_SCOUNT, count, datatype);
	c->arg[COLL_ROOT] = root;
	return finish(&p, c, comm, fn);
}

int PMPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm)
{
	return bcast("MPI_Bcast", buffer, count, datatype, root, comm, NULL);
}
SHIM_WEAK(Bcast)

int PMPI_Ibcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm,
		MPI_Request *request)
{
	return bcast("MPI_Ibcast", buffer, count, datatype, root, comm, request);
}
SHIM_WEAK(Ibcast)

/* Reduce, Allreduce, Scan and Exscan: one element-wise reduction whose
 * result lands everywhere, at the root only, or as a prefix.  On an
 * intercommunicator each group gets the other group's reduction; the
 * prefix reductions are not defined there. */
static int reduction(enum chan_call_id id, const char *fn, const void *sendbuf,
		     void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op, int root,
		     MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *t = NULL;
	enum coll_role role = ROLE_ROOT;
	int err;

	if (shim_op_get(op))
		return shim_opreduce(id, fn, sendbuf, recvbuf, count, datatype, op, root, comm,
				     request);
	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if (cm->remote && (id == CALL_SCAN || id == CALL_EXSCAN))
		return shim_error(comm, MPI_ERR_COMM, fn, "not defined on an intercommunicator");
	if (id == CALL_REDUCE && (err = check_root(comm, cm, root, &role, fn)))
		return err;
	if (role != ROLE_IDLE &&
	    ((err = check_op(comm, op, datatype, fn)) ||
	     (err = check_count(comm, count, "count", fn)) ||
	     (err = check_type(comm, datatype, &t, "datatype", fn))))
		return err;
	int has_send = id != CALL_REDUCE || contributes(cm, role);
	int has_recv = id != CALL_REDUCE || role == ROLE_ROOT;
	int in_place = sendbuf == MPI_IN_PLACE;
	if ((has_send && (err = check_in_place(comm, cm, sendbuf, has_recv, "sendbuf", fn))) ||
	    (has_send && !in_place &&
	     (err = check_buf(comm, sendbuf, count, datatype, "sendbuf", fn))) ||
	    (has_recv && (err = check_buf(comm, recvbuf, count, datatype, "recvbuf", fn))))
		return err;
	plan_init(&p, comm, request);
	if (has_send && in_place) {
		plan_in_place(&p, COLL_SBUF);
		plan_inout(&p, COLL_RBUF, recvbuf, t, count);
	} else {
		if (has_send)
			plan_send(&p, COLL_SBUF, sendbuf, t, count);
		if (has_recv)
			plan_recv(&p, COLL_RBUF, recvbuf, t, count);
	}
	/* Exscan leaves rank 0's result undefined: keep the user's bytes. */
	if (id == CALL_EXSCAN && cm->rank == 0)
		p.buf[1].copy_out = 0;
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = begin(&p, id, cm);
	set_side(c, COLL_SCOUNT, count, datatype);
	if (op_predefined(op))
		c->arg[COLL_OP] = ABI(op);
	c->arg[COLL_ROOT] = root;
	return finish(&p, c, comm, fn);
}

int PMPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		MPI_Op op, int root, MPI_Comm comm)
{
	return reduction(CALL_REDUCE, "MPI_Reduce", sendbuf, recvbuf, count, datatype, op,
			 root, comm, NULL);
}
SHIM_WEAK(Reduce)

int PMPI_Ireduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		 MPI_Op op, int root, MPI_Comm comm, MPI_Request *request)
{
	return reduction(CALL_REDUCE, "MPI_Ireduce", sendbuf, recvbuf, count, datatype, op,
			 root, comm, request);
}
SHIM_WEAK(Ireduce)

int PMPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		   MPI_Op op, MPI_Comm comm)
{
	return reduction(CALL_ALLREDUCE, "MPI_Allreduce", sendbuf, recvbuf, count, datatype,
			 op, 0, comm, NULL);
}
SHIM_WEAK(Allreduce)

int PMPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		    MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
	return reduction(CALL_ALLREDUCE, "MPI_Iallreduce", sendbuf, recvbuf, count, datatype,
			 op, 0, comm, request);
}
SHIM_WEAK(Iallreduce)

int PMPI_Scan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
	      MPI_Op op, MPI_Comm comm)
{
	return reduction(CALL_SCAN, "MPI_Scan", sendbuf, recvbuf, count, datatype, op, 0,
			 comm, NULL);
}
SHIM_WEAK(Scan)

int PMPI_Iscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
	       MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
	return reduction(CALL_SCAN, "MPI_Iscan", sendbuf, recvbuf, count, datatype, op, 0,
			 comm, request);
}
SHIM_WEAK(Iscan)

int PMPI_Exscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		MPI_Op op, MPI_Comm comm)
{
	return reduction(CALL_EXSCAN, "MPI_Exscan", sendbuf, recvbuf, count, datatype, op, 0,
			 comm, NULL);
}
SHIM_WEAK(Exscan)

int PMPI_Iexscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		 MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
	return reduction(CALL_EXSCAN, "MPI_Iexscan", sendbuf, recvbuf, count, datatype, op, 0,
			 comm, request);
}
SHIM_WEAK(Iexscan)

/* Gather, Allgather and Alltoall: every rank sends, the root (or every
 * rank) receives one block from each peer.  Alltoall sends one block to
 * each peer too.  MPI_IN_PLACE is the send buffer where allowed. */
static int gather(enum chan_call_id id, const char *fn, const void *sendbuf, int sendcount,
		  MPI_Datatype sendtype, void *recvbuf, int recvcount,
		  MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *st = NULL, *rt = NULL;
	enum coll_role role = ROLE_ROOT;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if (id == CALL_GATHER && (err = check_root(comm, cm, root, &role, fn)))
		return err;
	int n = peers(cm), sblocks = id == CALL_ALLTOALL ? n : 1;
	int has_send = id != CALL_GATHER || contributes(cm, role);
	int has_recv = id != CALL_GATHER || role == ROLE_ROOT;
	int in_place = has_send && sendbuf == MPI_IN_PLACE;
	if (has_send && (err = check_in_place(comm, cm, sendbuf, has_recv, "sendbuf", fn)))
		return err;
	if (has_send && !in_place &&
	    (err = check_side(comm, sendbuf, sendcount, sblocks, sendtype, &st, "send", fn)))
		return err;
	if (has_recv &&
	    (err = check_side(comm, recvbuf, recvcount, n, recvtype, &rt, "recv", fn)))
		return err;
	plan_init(&p, comm, request);
	if (in_place) {
		plan_in_place(&p, COLL_SBUF);
		plan_inout(&p, COLL_RBUF, recvbuf, rt, (int64_t)n * recvcount);
	} else {
		if (has_send)
			plan_send(&p, COLL_SBUF, sendbuf, st, (int64_t)sblocks * sendcount);
		if (has_recv)
			plan_recv(&p, COLL_RBUF, recvbuf, rt, (int64_t)n * recvcount);
	}
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = begin(&p, id, cm);
	set_side(c, COLL_SCOUNT, sendcount, sendtype);
	set_side(c, COLL_RCOUNT, recvcount, recvtype);
	c->arg[COLL_ROOT] = root;
	return finish(&p, c, comm, fn);
}

int PMPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	return gather(CALL_GATHER, "MPI_Gather", sendbuf, sendcount, sendtype, recvbuf,
		      recvcount, recvtype, root, comm, NULL);
}
SHIM_WEAK(Gather)

int PMPI_Igather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
		 MPI_Request *request)
{
	return gather(CALL_GATHER, "MPI_Igather", sendbuf, sendcount, sendtype, recvbuf,
		      recvcount, recvtype, root, comm, request);
}
SHIM_WEAK(Igather)

int PMPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		   void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
	return gather(CALL_ALLGATHER, "MPI_Allgather", sendbuf, sendcount, sendtype, recvbuf,
		      recvcount, recvtype, 0, comm, NULL);
}
SHIM_WEAK(Allgather)

int PMPI_Iallgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		    void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
		    MPI_Request *request)
{
	return gather(CALL_ALLGATHER, "MPI_Iallgather", sendbuf, sendcount, sendtype, recvbuf,
		      recvcount, recvtype, 0, comm, request);
}
SHIM_WEAK(Iallgather)

int PMPI_Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		  void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
	return gather(CALL_ALLTOALL, "MPI_Alltoall", sendbuf, sendcount, sendtype, recvbuf,
		      recvcount, recvtype, 0, comm, NULL);
}
SHIM_WEAK(Alltoall)

int PMPI_Ialltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		   void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
		   MPI_Request *request)
{
	return gather(CALL_ALLTOALL, "MPI_Ialltoall", sendbuf, sendcount, sendtype, recvbuf,
		      recvcount, recvtype, 0, comm, request);
}
SHIM_WEAK(Ialltoall)

/* The root sends one block to each peer; MPI_IN_PLACE as an
 * intracommunicator root's receive buffer keeps its own block where it
 * is. */
static int scatter(const char *fn, const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		   void *recvbuf, int recvcount, MPI_Datatype recvtype, int root,
		   MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *st = NULL, *rt = NULL;
	enum coll_role role;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if ((err = check_root(comm, cm, root, &role, fn)))
		return err;
	int has_send = role == ROLE_ROOT, has_recv = contributes(cm, role);
	int in_place = has_recv && recvbuf == MPI_IN_PLACE;
	if (has_recv && (err = check_in_place(comm, cm, recvbuf, has_send, "recvbuf", fn)))
		return err;
	if (has_send && (err = check_side(comm, sendbuf, sendcount, peers(cm), sendtype, &st,
					  "send", fn)))
		return err;
	if (has_recv && !in_place &&
	    (err = check_side(comm, recvbuf, recvcount, 1, recvtype, &rt, "recv", fn)))
		return err;
	plan_init(&p, comm, request);
	if (has_send)
		plan_send(&p, COLL_SBUF, sendbuf, st, (int64_t)peers(cm) * sendcount);
	if (in_place)
		plan_in_place(&p, COLL_RBUF);
	else if (has_recv)
		plan_recv(&p, COLL_RBUF, recvbuf, rt, recvcount);
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = begin(&p, CALL_SCATTER, cm);
	set_side(c, COLL_SCOUNT, sendcount, sendtype);
	set_side(c, COLL_RCOUNT, recvcount, recvtype);
	c->arg[COLL_ROOT] = root;
	return finish(&p, c, comm, fn);
}

int PMPI_Scatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	return scatter("MPI_Scatter", sendbuf, sendcount, sendtype, recvbuf, recvcount,
		       recvtype, root, comm, NULL);
}
SHIM_WEAK(Scatter)

int PMPI_Iscatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		  int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm,
		  MPI_Request *request)
{
	return scatter("MPI_Iscatter", sendbuf, sendcount, sendtype, recvbuf, recvcount,
		       recvtype, root, comm, request);
}
SHIM_WEAK(Iscatter)

/* Gatherv and Allgatherv: blocks of recvcounts[i] at displs[i], one per
 * peer; the arrays are significant where the data is received. */
static int gatherv(enum chan_call_id id, const char *fn, const void *sendbuf,
		   int sendcount, MPI_Datatype sendtype, void *recvbuf,
		   const int recvcounts[], const int displs[], MPI_Datatype recvtype,
		   int root, MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *st = NULL, *rt = NULL;
	enum coll_role role = ROLE_ROOT;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if (id == CALL_GATHERV && (err = check_root(comm, cm, root, &role, fn)))
		return err;
	int has_send = id != CALL_GATHERV || contributes(cm, role);
	int has_recv = id != CALL_GATHERV || role == ROLE_ROOT;
	int in_place = has_send && sendbuf == MPI_IN_PLACE;
	if (has_send && (err = check_in_place(comm, cm, sendbuf, has_recv, "sendbuf", fn)))
		return err;
	if (has_send && !in_place &&
	    (err = check_side(comm, sendbuf, sendcount, 1, sendtype, &st, "send", fn)))
		return err;
	if (has_recv && (err = check_side_v(comm, recvbuf, recvcounts, displs, peers(cm),
					    recvtype, &rt, "recv", fn)))
		return err;
	plan_init(&p, comm, request);
	if (in_place)
		plan_in_place(&p, COLL_SBUF);
	else if (has_send)
		plan_send(&p, COLL_SBUF, sendbuf, st, sendcount);
	if (has_recv) {
		plan_v(&p, COLL_RBUF, recvbuf, recvcounts, displs, peers(cm), rt, in_place, 1);
		plan_arrays(&p, peers(cm), recvcounts, displs, NULL, NULL);
	}
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = begin(&p, id, cm);
	set_side(c, COLL_SCOUNT, sendcount, sendtype);
	set_side(c, COLL_RCOUNT, 0, recvtype);
	c->arg[COLL_ROOT] = root;
	return finish(&p, c, comm, fn);
}

int PMPI_Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		 const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
		 MPI_Comm comm)
{
	return gatherv(CALL_GATHERV, "MPI_Gatherv", sendbuf, sendcount, sendtype, recvbuf,
		       recvcounts, displs, recvtype, root, comm, NULL);
}
SHIM_WEAK(Gatherv)

int PMPI_Igatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		  const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
		  MPI_Comm comm,
		  MPI_Request *request)
{
	return gatherv(CALL_GATHERV, "MPI_Igatherv", sendbuf, sendcount, sendtype, recvbuf,
		       recvcounts, displs, recvtype, root, comm, request);
}
SHIM_WEAK(Igatherv)

int PMPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		    void *recvbuf, const int recvcounts[], const int displs[],
		    MPI_Datatype recvtype, MPI_Comm comm)
{
	return gatherv(CALL_ALLGATHERV, "MPI_Allgatherv", sendbuf, sendcount, sendtype,
		       recvbuf, recvcounts, displs, recvtype, 0, comm, NULL);
}
SHIM_WEAK(Allgatherv)

int PMPI_Iallgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		     void *recvbuf, const int recvcounts[], const int displs[],
		     MPI_Datatype recvtype, MPI_Comm comm,
		     MPI_Request *request)
{
	return gatherv(CALL_ALLGATHERV, "MPI_Iallgatherv", sendbuf, sendcount, sendtype,
		       recvbuf, recvcounts, displs, recvtype, 0, comm, request);
}
SHIM_WEAK(Iallgatherv)

static int scatterv(const char *fn, const void *sendbuf, const int sendcounts[],
		    const int displs[], MPI_Datatype sendtype, void *recvbuf, int recvcount,
		    MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *st = NULL, *rt = NULL;
	enum coll_role role;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if ((err = check_root(comm, cm, root, &role, fn)))
		return err;
	int has_send = role == ROLE_ROOT, has_recv = contributes(cm, role);
	int in_place = has_recv && recvbuf == MPI_IN_PLACE;
	if (has_recv && (err = check_in_place(comm, cm, recvbuf, has_send, "recvbuf", fn)))
		return err;
	if (has_send && (err = check_side_v(comm, sendbuf, sendcounts, displs, peers(cm),
					    sendtype, &st, "send", fn)))
		return err;
	if (has_recv && !in_place &&
	    (err = check_side(comm, recvbuf, recvcount, 1, recvtype, &rt, "recv", fn)))
		return err;
	plan_init(&p, comm, request);
	if (has_send) {
		plan_v(&p, COLL_SBUF, sendbuf, sendcounts, displs, peers(cm), st, 1, 0);
		plan_arrays(&p, peers(cm), sendcounts, displs, NULL, NULL);
	}
	if (in_place)
		plan_in_place(&p, COLL_RBUF);
	else if (has_recv)
		plan_recv(&p, COLL_RBUF, recvbuf, rt, recvcount);
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = begin(&p, CALL_SCATTERV, cm);
	set_side(c, COLL_SCOUNT, 0, sendtype);
	set_side(c, COLL_RCOUNT, recvcount, recvtype);
	c->arg[COLL_ROOT] = root;
	return finish(&p, c, comm, fn);
}

int PMPI_Scatterv(const void *sendbuf, const int sendcounts[], const int displs[],
		  MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
		  int root, MPI_Comm comm)
{
	return scatterv("MPI_Scatterv", sendbuf, sendcounts, displs, sendtype, recvbuf,
			recvcount, recvtype, root, comm, NULL);
}
SHIM_WEAK(Scatterv)

int PMPI_Iscatterv(const void *sendbuf, const int sendcounts[], const int displs[],
		   MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
		   int root, MPI_Comm comm, MPI_Request *request)
{
	return scatterv("MPI_Iscatterv", sendbuf, sendcounts, displs, sendtype, recvbuf,
			recvcount, recvtype, root, comm, request);
}
SHIM_WEAK(Iscatterv)

/* With MPI_IN_PLACE the send arrays are not significant (they may be
 * NULL); the receive arrays travel in their place. */
static int alltoallv(const char *fn, const void *sendbuf, const int sendcounts[],
		     const int sdispls[], MPI_Datatype sendtype, void *recvbuf,
		     const int recvcounts[], const int rdispls[], MPI_Datatype recvtype,
		     MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *st = NULL, *rt = NULL;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	int n = peers(cm), in_place = sendbuf == MPI_IN_PLACE;
	if ((err = check_in_place(comm, cm, sendbuf, 1, "sendbuf", fn)))
		return err;
	if (!in_place && (err = check_side_v(comm, sendbuf, sendcounts, sdispls, n, sendtype,
					     &st, "send", fn)))
		return err;
	if ((err = check_side_v(comm, recvbuf, recvcounts, rdispls, n, recvtype, &rt,
				"recv", fn)))
		return err;
	/* An empty datatype's blocks go as count 0, as in Alltoallw. */
	int *zeros = NULL;
	if (((st && !st->size) || !rt->size) && !(zeros = calloc((size_t)n + 1, sizeof(int))))
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	const int *sc = st && !st->size ? zeros : sendcounts;
	const int *rc = !rt->size ? zeros : recvcounts;
	plan_init(&p, comm, request);
	if (in_place) {
		plan_in_place(&p, COLL_SBUF);
		plan_v(&p, COLL_RBUF, recvbuf, recvcounts, rdispls, n, rt, 1, 1);
		plan_arrays(&p, n, rc, rdispls, rc, rdispls);
	} else {
		plan_v(&p, COLL_SBUF, sendbuf, sendcounts, sdispls, n, st, 1, 0);
		plan_v(&p, COLL_RBUF, recvbuf, recvcounts, rdispls, n, rt, 0, 1);
		plan_arrays(&p, n, sc, sdispls, rc, rdispls);
	}
	if ((err = plan_stage(&p, fn))) {
		free(zeros);
		return shim_error(comm, err, fn, NULL);
	}
	struct chan_call *c = begin(&p, CALL_ALLTOALLV, cm);
	set_side(c, COLL_SCOUNT, 0, in_place ? recvtype : sendtype);
	set_side(c, COLL_RCOUNT, 0, recvtype);
	err = finish(&p, c, comm, fn);
	free(zeros);
	return err;
}

int PMPI_Alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
		   MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
		   const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm)
{
	return alltoallv("MPI_Alltoallv", sendbuf, sendcounts, sdispls, sendtype, recvbuf,
			 recvcounts, rdispls, recvtype, comm, NULL);
}
SHIM_WEAK(Alltoallv)

int PMPI_Ialltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
		    MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
		    const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm,
		    MPI_Request *request)
{
	return alltoallv("MPI_Ialltoallv", sendbuf, sendcounts, sdispls, sendtype, recvbuf,
			 recvcounts, rdispls, recvtype, comm, request);
}
SHIM_WEAK(Ialltoallv)

/* Alltoallw: block i of each side has its own datatype and a byte
 * displacement; both datatype arrays go to the proxy after the int
 * arrays.  With MPI_IN_PLACE the receive side travels as both, and the
 * receive buffer is staged twice, as the send buffer too: MPICH 4.0.2's
 * in-place MPI_Ialltoallw, which the proxy runs, loses a block when one
 * block's type is a struct at byte 6000 and another a plain one (seen
 * natively; mpi-tests/vcoll_big.c). */
static int alltoallw(const char *fn, const void *sendbuf, const int sendcounts[],
		     const int sdispls[], const MPI_Datatype sendtypes[], void *recvbuf,
		     const int recvcounts[], const int rdispls[],
		     const MPI_Datatype recvtypes[], MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	int err;

	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	int n = peers(cm), in_place = sendbuf == MPI_IN_PLACE;
	size_t room = 2 * (size_t)(n ? n : 1);
	struct shim_type **st = calloc(room, sizeof(*st) + sizeof(int));
	if (!st)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, NULL);
	struct shim_type **rt = st + n;
	int *sc = (int *)(void *)(st + room), *rc = sc + n;
	if ((err = check_in_place(comm, cm, sendbuf, 1, "sendbuf", fn)) ||
	    (!in_place && (err = check_side_w(comm, sendbuf, sendcounts, sdispls, sendtypes, n,
					      st, "send", fn))) ||
	    (err = check_side_w(comm, recvbuf, recvcounts, rdispls, recvtypes, n, rt, "recv",
				fn))) {
		free(st);
		return err;
	}
	/* A block of no bytes goes as count 0 (here count 1 of an empty type
	 * may face count 0 of MPI_INT): Open MPI's Ialltoallw skips count 0
	 * and would otherwise wait for a message the peer never sends. */
	for (int i = 0; i < n; i++) {
		sc[i] = in_place || !st[i]->size ? 0 : sendcounts[i];
		rc[i] = rt[i]->size ? recvcounts[i] : 0;
	}
	plan_init(&p, comm, request);
	if (in_place) {
		plan_blocks(&p, COLL_SBUF, recvbuf, recvcounts, rdispls, n, NULL, rt, 1, 0);
		plan_blocks(&p, COLL_RBUF, recvbuf, recvcounts, rdispls, n, NULL, rt, 0, 1);
		plan_arrays(&p, n, rc, rdispls, rc, rdispls);
		p.types[0] = recvtypes;
	} else {
		plan_blocks(&p, COLL_SBUF, sendbuf, sendcounts, sdispls, n, NULL, st, 1, 0);
		plan_blocks(&p, COLL_RBUF, recvbuf, recvcounts, rdispls, n, NULL, rt, 0, 1);
		plan_arrays(&p, n, sc, sdispls, rc, rdispls);
		p.types[0] = sendtypes;
	}
	p.types[1] = recvtypes;
	if ((err = plan_stage(&p, fn))) {
		free(st);
		return shim_error(comm, err, fn, NULL);
	}
	err = finish(&p, begin(&p, CALL_ALLTOALLW, cm), comm, fn);
	free(st);
	return err;
}

int PMPI_Alltoallw(const void *sendbuf, const int sendcounts[], const int sdispls[],
		   const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
		   const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm)
{
	return alltoallw("MPI_Alltoallw", sendbuf, sendcounts, sdispls, sendtypes, recvbuf,
			 recvcounts, rdispls, recvtypes, comm, NULL);
}
SHIM_WEAK(Alltoallw)

int PMPI_Ialltoallw(const void *sendbuf, const int sendcounts[], const int sdispls[],
		    const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
		    const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm,
		    MPI_Request *request)
{
	return alltoallw("MPI_Ialltoallw", sendbuf, sendcounts, sdispls, sendtypes, recvbuf,
			 recvcounts, rdispls, recvtypes, comm, request);
}
SHIM_WEAK(Ialltoallw)

/* Reduce_scatter (recvcounts given) and Reduce_scatter_block (recvcounts
 * NULL: every block is recvcount long).  Blocks are per member of the
 * local group, on an intercommunicator too (each group scatters the other
 * group's reduction).  With MPI_IN_PLACE the whole input is in recvbuf
 * and only this rank's block comes back. */
static int reduce_scatter(enum chan_call_id id, const char *fn, const void *sendbuf,
			  void *recvbuf, const int recvcounts[], int recvcount,
			  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request)
{
	struct coll_plan p;
	struct shim_comm *cm;
	struct shim_type *t;
	int64_t total = 0;
	int err, mine = recvcount;

	if (shim_op_get(op))
		return shim_opreduce_scatter(id, fn, sendbuf, recvbuf, recvcounts, recvcount,
					     datatype, op, comm, request);
	if (!(cm = shim_comm_check(comm, fn, &err)))
		return err;
	if ((err = check_op(comm, op, datatype, fn)))
		return err;
	if (id == CALL_REDUCE_SCATTER) {
		if (!recvcounts)
			return shim_error(comm, MPI_ERR_COUNT, fn, "recvcounts is NULL");
		for (int i = 0; i < cm->size; i++) {
			if ((err = check_count(comm, recvcounts[i], "a recvcounts entry", fn)))
				return err;
			total += recvcounts[i];
		}
		mine = recvcounts[cm->rank];
	} else {
		if ((err = check_count(comm, recvcount, "recvcount", fn)))
			return err;
		total = (int64_t)recvcount * cm->size;
	}
	if ((err = check_type(comm, datatype, &t, "datatype", fn)))
		return err;
	int in_place = sendbuf == MPI_IN_PLACE;
	if ((err = check_in_place(comm, cm, sendbuf, 1, "sendbuf", fn)) ||
	    (!in_place && (err = check_buf(comm, sendbuf, total, datatype, "sendbuf", fn))) ||
	    (err = check_buf(comm, recvbuf, in_place ? total : mine, datatype, "recvbuf", fn)))
		return err;
	plan_init(&p, comm, request);
	if (in_place) {
		plan_in_place(&p, COLL_SBUF);
		plan_inout(&p, COLL_RBUF, recvbuf, t, total);
		p.buf[1].out_count = mine;
	} else {
		plan_send(&p, COLL_SBUF, sendbuf, t, total);
		plan_recv(&p, COLL_RBUF, recvbuf, t, mine);
	}
	if (recvcounts)
		plan_arrays(&p, cm->size, recvcounts, NULL, NULL, NULL);
	if ((err = plan_stage(&p, fn)))
		return shim_error(comm, err, fn, NULL);
	struct chan_call *c = begin(&p, id, cm);
	set_side(c, COLL_SCOUNT, 0, datatype);
	c->arg[COLL_RCOUNT] = recvcount;
	c->arg[COLL_OP] = ABI(op);
	return finish(&p, c, comm, fn);
}

int PMPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
			MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return reduce_scatter(CALL_REDUCE_SCATTER, "MPI_Reduce_scatter", sendbuf, recvbuf,
			      recvcounts, 0, datatype, op, comm, NULL);
}
SHIM_WEAK(Reduce_scatter)

int PMPI_Ireduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
			 MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
			 MPI_Request *request)
{
	return reduce_scatter(CALL_REDUCE_SCATTER, "MPI_Ireduce_scatter", sendbuf, recvbuf,
			      recvcounts, 0, datatype, op, comm, request);
}
SHIM_WEAK(Ireduce_scatter)

int PMPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount,
			      MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return reduce_scatter(CALL_REDUCE_SCATTER_BLOCK, "MPI_Reduce_scatter_block",
			      sendbuf, recvbuf, NULL, recvcount, datatype, op, comm, NULL);
}
SHIM_WEAK(Reduce_scatter_block)

int PMPI_Ireduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount,
			       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
			       MPI_Request *request)
{
	return reduce_scatter(CALL_REDUCE_SCATTER_BLOCK, "MPI_Ireduce_scatter_block",
			      sendbuf, recvbuf, NULL, recvcount, datatype, op, comm, request);
}
SHIM_WEAK(Ireduce_scatter_block)
