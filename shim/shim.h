/*
 * shim.h - internals of the application-side MPI library (libmpi_abi).
 *
 * The shim holds no MPI implementation.  Every PMPI_ function here either
 * answers from state kept in application memory (ranks, groups, sizes,
 * error handlers) or forwards one call over the channel to the proxy:
 *
 *   PMPI_Send (shim/p2p.c) -> shim_call_* (shim/call.c) -> chan (chan/)
 *     -> proxy loop (proxy/loop.c) -> handler (proxy/p2p.c) -> real MPI
 *
 * Handles the application sees are either the standard ABI's predefined
 * values (< 0x1000) or virtual ids made here (shim/handle.c).  Everything
 * needed to rebuild an object under another MPI is recorded in the
 * object's record (struct shim_comm, struct shim_group, ...), which lives
 * in application memory and so is part of every checkpoint.
 */
#ifndef SHIM_H
#define SHIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mpi.h"
#include "chan/arena.h"
#include "chan/calls.h"
#include "chan/chan.h"
#include "shim/rlock.h"
#include "util/hot.h"

/* Each hand-written PMPI_X is followed by SHIM_WEAK(X): MPI_X becomes a
 * weak alias, so tools can interpose MPI_X and still reach PMPI_X. */
#define SHIM_STR_(x) #x
#define SHIM_WEAK(f) _Pragma(SHIM_STR_(weak MPI_##f = PMPI_##f))
/* The same for a DM_HOT PMPI_X: an alias must carry its target's attribute. */
#define SHIM_WEAK_HOT(f) extern __typeof__(PMPI_##f) MPI_##f DM_HOT; SHIM_WEAK(f)

/* Handle values: predefined ones are the ABI's; ours are kind << 24 | idx. */
#define SHIM_HANDLE_BASE 0x1000
enum shim_kind {
	SHIM_K_COMM = 1,
	SHIM_K_GROUP = 2,
	SHIM_K_REQ = 3,
	SHIM_K_TYPE = 4,
	SHIM_K_OP = 5,
	SHIM_K_ERRH = 6,
	SHIM_K_INFO = 7,
	SHIM_K_MESSAGE = 8,
	SHIM_K_COUNT
};
#define SHIM_H_KIND(h) ((int)(((uintptr_t)(h) >> 24) & 0x7f))
#define SHIM_H_INDEX(h) ((uint32_t)((uintptr_t)(h) & 0xffffff))
#define SHIM_H_MAKE(kind, idx) (((uintptr_t)(kind) << 24) | (uintptr_t)(idx))

/* ---- process-wide state (shim/env.c) ---- */
struct shim_state {
	struct chan ch;          /* attached at MPI_Init */
	struct arena arena;      /* payload blocks in ch's arena */
	pthread_mutex_t lock;    /* one call in flight: serialises threads */
	int attached;
	int initialized;
	int finalized;
	int thread_level;        /* provided level, ABI value */
	int shared_heap;         /* large malloc'ed blocks in the arena (heap.c) */
	pthread_t main_thread;
	int world_rank;
	int world_size;
	char backend[256];       /* real MPI's library version, first line */
};
extern struct shim_state shim;

/* ---- calls over the channel (shim/call.c) ---- */

/* Lock the slot and start a call; returns the slot to fill. */
struct chan_call *shim_call_begin(enum chan_call_id id);
/* The same for a collective or a communicator constructor on cm: admit
 * it first (shim_coll_enter), before the slot is locked, because a
 * checkpoint may hold it back there. */
struct shim_comm;
struct chan_call *shim_call_begin_coll(enum chan_call_id id, struct shim_comm *cm);
/* Admitted collectives on their way to the slot (shim/call.c): counted
 * from before admission until the call holds the slot; the checkpoint
 * gate uncounts a thread while it holds it back. */
extern _Atomic int shim_coll_on_way;
void shim_coll_on_way_mine(void);
/* The gate holds this thread's collective back (1), or lets it go (0). */
void shim_coll_on_way_hold(int held);
/* Post the call, wait for the reply.  Returns the ABI error code; the
 * reply's outputs are readable in the slot until shim_call_end(). */
int shim_call_run(struct chan_call *c);
void shim_call_end(void);
/* begin + run + end for calls without outputs beyond the error code. */
int shim_call_simple(struct chan_call *c);
/* Before MPI_Init / after MPI_Finalize most calls are erroneous. */
int shim_require_init(const char *fn);

/* ---- several application threads (shim/call.c, shim/mtwait.c) ----
 * Under MPI_THREAD_MULTIPLE the records the wrappers touch outside the
 * call slot (handle tables, the arena, datatype references, the drain
 * queue, freed requests) are guarded by one recursive lock.  It is a
 * leaf: never take the slot while holding it.  Below MULTIPLE both are
 * one predictable branch. */
extern struct shim_rlock shim_state_mu;
static inline int shim_mt(void)
{
	return shim.thread_level == MPI_THREAD_MULTIPLE;
}
static inline void shim_state_lock(void)
{
	if (shim_mt())
		shim_rlock_take(&shim_state_mu);
}
static inline void shim_state_unlock(void)
{
	if (shim_mt())
		shim_rlock_give(&shim_state_mu);
}
/* The arena and the block tables of shim/mem.c and shim/heap.c: with the
 * shared heap on, any thread may cut arena blocks (malloc), so this one
 * is taken at every thread level; the same lock, so that under MULTIPLE
 * nesting the two is free. */
static inline void shim_arena_lock(void)
{
	if (shim_mt() || shim.shared_heap)
		shim_rlock_take(&shim_state_mu);
}
static inline void shim_arena_unlock(void)
{
	if (shim_mt() || shim.shared_heap)
		shim_rlock_give(&shim_state_mu);
}
static inline void shim_state_lock_always(void)
{
	shim_rlock_take(&shim_state_mu);
}
static inline void shim_state_unlock_always(void)
{
	shim_rlock_give(&shim_state_mu);
}
/* After shim_call_begin: 1 (once) if this thread waited at the
 * checkpoint gate on the way, so what the wrapper decided before
 * (a request still in the proxy, no drained message) may be stale: it
 * must end the call and start over. */
int shim_call_was_parked(void);
/* Blocking calls under MULTIPLE: the nonblocking twin, then tests that
 * give the slot up between polls, so no thread holds it while it waits. */
int shim_mt_send(const void *buf, int count, MPI_Datatype type, int dest, int tag,
		 MPI_Comm comm, int mode);
int shim_mt_recv(void *buf, int count, MPI_Datatype type, int source, int tag,
		 MPI_Comm comm, MPI_Status *status);
int shim_mt_sendrecv(const void *sbuf, int scount, MPI_Datatype stype, int dest,
		     int stag, void *rbuf, int rcount, MPI_Datatype rtype, int source,
		     int rtag, MPI_Comm comm, MPI_Status *status);
int shim_mt_probe(int source, int tag, MPI_Comm comm, MPI_Status *status);
int shim_mt_wait(MPI_Request *request, MPI_Status *status);
/* shim_call_run for a communicator constructor: under MULTIPLE a split
 * or create is made on a proxy thread and polled for; returns with the
 * slot held and the constructor's reply in it. */
int shim_mt_ctor_run(struct chan_call *c);
int shim_mt_waitall(int count, MPI_Request reqs[], MPI_Status statuses[]);
int shim_mt_waitany(int count, MPI_Request reqs[], int *index, MPI_Status *status);
int shim_mt_waitsome(int incount, MPI_Request reqs[], int *outcount, int indices[],
		     MPI_Status statuses[]);
/* Run collective call c (slot locked by shim_call_begin_coll, arguments
 * set) and end it.  Under MULTIPLE the proxy keeps the started collective
 * as a request (COLL_DETACH, chan/coll.h) and this thread polls it with
 * the slot free between polls; the polls pass the checkpoint gate as the
 * admitted collective they finish, and shim_coll_pending counts them
 * so a checkpoint drains only once they are done. */
int shim_coll_run(struct chan_call *c);
extern _Atomic int shim_coll_pending;
/* shim_call_begin for a call that finishes an admitted collective. */
struct chan_call *shim_call_begin_admitted(enum chan_call_id id);

/* ---- payload staging in the arena (shim/stage.c) ---- */
struct shim_stage {
	uint64_t off;   /* arena offset, ARENA_NONE when nothing staged */
	uint64_t len;   /* bytes reserved from off rounded down to ARENA_ALIGN */
	int packed;     /* shim_stage_send/recv: MPI_PACKED bytes at off */
};
/* Reserve len bytes; MPI_ERR_NO_MEM (with one message) if it can't. */
int shim_stage_alloc(struct shim_stage *s, uint64_t len, const char *fn);
/* Reserve len bytes or, when no free piece is that large, the largest
 * one if it holds at least min (min <= len): s->len says how many.  If
 * none does, MPI_ERR_NO_MEM with nothing printed (the caller knows what
 * did not fit), s->off ARENA_NONE and s->len the largest free piece. */
int shim_stage_alloc_fit(struct shim_stage *s, uint64_t len, uint64_t min);
/* The same for a payload copied to or from buf: the block starts at buf's
 * offset within a cache line (see stage.c). */
int shim_stage_alloc_like(struct shim_stage *s, uint64_t len, const void *buf,
			  const char *fn);
/* Give s's block back; a buffer used in place has none (inline: the
 * common case of every call on an arena buffer). */
void shim_stage_release(struct shim_stage *s);
static inline void shim_stage_free(struct shim_stage *s)
{
	if (s->off != ARENA_NONE)
		shim_stage_release(s);
}
static inline void *shim_stage_ptr(const struct shim_stage *s)
{
	return chan_arena_ptr(&shim.ch, s->off);
}
/* A typed buffer (buf, count, t) in the arena, laid out as in the
 * application: byte d of the buffer (d may be negative, and for MPI_BOTTOM
 * an absolute address) has its image at arena offset *base + d, and *base
 * is never CHAN_OFF_NONE or CHAN_OFF_IN_PLACE.  What the proxy passes to
 * the real MPI is arena + base, with the real datatype.  Send copies the
 * data in (one memcpy of the whole span unless the type is sparse); recv
 * only reserves (copies in too for types with prefill set).  Contiguous types (every predefined one but the pair
 * types) cost one block and one memcpy, nothing more.  how says whether a
 * send may borrow an MPI_Alloc_mem buffer (below). */
struct shim_type;
enum shim_stage_how {
	SHIM_STAGE_BORROW, /* the buffer stays untouched until the send completes */
	SHIM_STAGE_COPY,   /* the caller reuses the buffer before: always copy */
};
int shim_stage_send(const void *buf, int64_t count, const struct shim_type *t,
		    enum shim_stage_how how, struct shim_stage *s, int64_t *base,
		    const char *fn);
int shim_stage_recv(const void *buf, int64_t count, const struct shim_type *t,
		    struct shim_stage *s, int64_t *base, const char *fn);
/* Bytes [*lo, *hi) of a buffer that count elements of t occupy: the data
 * of the first element stretched by count - 1 extents either way; empty
 * without data.  MPI_ERR_NO_MEM when that does not fit 64 bits. */
int shim_type_span(const struct shim_type *t, int64_t count, int64_t *lo, int64_t *hi);
/* A sparse type (holes most of its span, no prefill) is staged packed
 * instead: its typemap's bytes, in order, at *base == s->off, s->packed
 * set, and the proxy is told count * size bytes of MPI_PACKED
 * (shim_stage_wire), which matches any type signature. */
void shim_stage_wire(const struct shim_stage *s, const struct shim_type *t, int64_t *count,
		     MPI_Datatype *type);
/* Copy what a receive delivered (the byte count of st) from the image
 * into buf: only the typemap's bytes, never the holes between them.
 * Nothing when the image is buf itself (a borrowed buffer, below). */
void shim_stage_unload_typed(void *buf, int64_t count, const struct shim_type *t,
			     int64_t base, int packed, const struct chan_status *st);
/* A buffer whose span lies inside one MPI_Alloc_mem block is borrowed,
 * not staged: *base names the buffer itself (arena + *base == buf), s
 * holds no block (s->off == ARENA_NONE) and nothing is copied either way.
 * A send staged with SHIM_STAGE_COPY never borrows: buffered sends,
 * Isendrecv and Sendrecv_replace reuse the buffer before the send
 * completes. */

/* ---- memory from MPI_Alloc_mem (shim/mem.c) ---- */
/* 1 if bytes [p, p + len) lie inside one live MPI_Alloc_mem block in the
 * arena, which the real MPI may then use in place. */
int shim_mem_in_arena(const void *p, uint64_t len);
/* A block of shim/mem.c or shim/heap.c went or shrank (arena lock held):
 * what shim_mem_in_arena remembers of the tables is stale. */
void shim_mem_tables_changed(void);
/* Count len bytes more against the half of the arena that MPI_Alloc_mem
 * and heap blocks may keep: 0, or -1 (not attached, or over). */
int shim_mem_keep(uint64_t len);
void shim_mem_unkeep(uint64_t len);

/* ---- large heap blocks in the arena (shim/heap.c, shim/malloc.c) ----
 * Requests of SHIM_HEAP_MIN bytes or more, once the channel is attached,
 * come from the arena, so MPI calls on them need no staging copy. */
#define SHIM_HEAP_MIN ((size_t)128 << 10)
void *shim_heap_malloc(size_t n);
void shim_heap_free(void *p);
void *shim_heap_calloc(size_t a, size_t b);
void *shim_heap_realloc(void *p, size_t n);
void *shim_heap_memalign(size_t align, size_t n);
size_t shim_heap_usable_size(void *p);
/* MPI_Init: turn it on (unless DMTCP_MPI_SHARED_HEAP=0), tell the
 * checkpoint engine's malloc wrappers, register fork handlers. */
void shim_heap_attach(void);
/* Would a request of n bytes come from the arena now? */
int shim_heap_wants(size_t n);
/* Keep p's block, now n bytes (n no more than it has): 1, else 0. */
int shim_heap_resize(void *p, size_t n);
/* Table lookups, under the state lock: index of the last block at or
 * below p (the count if none); does one block hold [p, p+len)? (its
 * bytes [*lo, *hi) when there is a block at or below p); blocks live. */
size_t shim_heap_find(const void *p);
int shim_heap_holds(const void *p, uint64_t len, uintptr_t *lo, uintptr_t *hi);
size_t shim_heap_count(void);

/* ---- virtual handles (shim/handle.c) ---- */
/* Register obj; returns a new handle value of that kind (0 on ENOMEM). */
uintptr_t shim_handle_new(enum shim_kind kind, void *obj);
/* Object behind a handle of that kind, or NULL if not a live handle. */
void *shim_handle_get(enum shim_kind kind, uintptr_t h);
void shim_handle_free(enum shim_kind kind, uintptr_t h);
/* Iterate live objects of a kind (for rebuild and drain). */
void shim_handle_each(enum shim_kind kind, void (*fn)(uintptr_t h, void *obj, void *arg), void *arg);

/* ---- communicators (shim/comm.c) ---- */
struct shim_comm {
	MPI_Comm handle;
	int rank;                /* my rank in it */
	int size;
	int *world;              /* world rank of each member, size entries */
	MPI_Errhandler errh;
	char name[MPI_MAX_OBJECT_NAME];
	/* What it carries besides its members (shim/commdup.c frees and
	 * copies them); attributes live in shim/attr.c, keyed by handle. */
	struct shim_topo *topo;  /* topology, or NULL (shim/topo.c) */
	int *remote;             /* intercommunicator: world rank of each member
				  * of the remote group; NULL for intra */
	int remote_size;
	struct shim_info *info;  /* hints the application gave, or NULL */
	/* How it was made, enough to make it again under another MPI. */
	MPI_Comm parent;
	int made_by;             /* CALL_COMM_DUP, CALL_COMM_SPLIT, ... */
	/* Checkpoint consistency (shim/ckpt.c). */
	int64_t gid;             /* id all members agree on; WORLD 0, SELF -1 */
	int64_t gid_root;        /* idup'd: the agreed id its idups hang off */
	uint64_t created;        /* this process's creation order (rebuild ties) */
	_Atomic int64_t coll_seq; /* collectives admitted on it so far */
	int64_t free_seq;        /* coll_seq of its MPI_Comm_free, once begun */
	int unbuilt;             /* not in this proxy: freed at a checkpoint
				  * and held by no request (or an
				  * intercommunicator), or an idup the gate
				  * holds back */
	/* Lifetime: MPI_Comm_free may come while requests on it are pending
	 * (MPI-4.1 7.4.3: they complete normally), so the record and its
	 * handle index live on until the last of them lets go; were the
	 * index reused meanwhile, their errors, reposts and drained
	 * messages would meet another communicator. */
	_Atomic int refs;        /* the application's handle, until freed,
				  * and each request made on it */
	int freed;               /* MPI_Comm_free'd: no lookup finds it */
	int proxy_keeps;         /* freed with requests pending: the proxy
				  * keeps the real one until told again */
	struct shim_comm *next_retired; /* on shim/comm.c's retired list */
};
/* Record for h, or NULL if h is not a live communicator (freed ones
 * are not). */
struct shim_comm *shim_comm_get(MPI_Comm h);
/* Record for h even if freed while requests still hold it: where their
 * errors go.  NULL if h is no record at all. */
struct shim_comm *shim_comm_any(MPI_Comm h);
/* Keep h's record and handle while a request (or an error on its way
 * to the handler) uses it; returns what to give shim_comm_unhold, NULL
 * for WORLD and SELF, which are never freed.  The last unhold of a
 * freed record releases it. */
struct shim_comm *shim_comm_hold(MPI_Comm h);
void shim_comm_unhold(struct shim_comm *c);
/* MPI_Comm_free's end: the handle is the application's no more. */
void shim_comm_free(struct shim_comm *c);
/* Tell the proxy to free the communicators it kept for requests now
 * gone; call with the call slot not held. */
void shim_comm_flush_retired(void);
/* Look up h; on failure raises MPI_ERR_COMM for fn and returns NULL
 * with *err set.  Inline: every communication call's first check. */
struct shim_comm *shim_comm_bad(MPI_Comm h, const char *fn, int *err);
static inline struct shim_comm *shim_comm_check(MPI_Comm h, const char *fn, int *err)
{
	struct shim_comm *c = shim_comm_get(h);

	if (!c)
		return shim_comm_bad(h, fn, err);
	*err = MPI_SUCCESS;
	return c;
}
/* Create the WORLD and SELF records at MPI_Init. */
int shim_comm_init_world(int rank, int size);
/* Making a communicator is two steps, because the proxy stores the real
 * communicator under the handle the shim picked: reserve a record and its
 * handle, send c->handle with the call, then fill the record from the
 * reply (members' world ranks and my rank).  Release on failure or when
 * the result is MPI_COMM_NULL. */
struct shim_comm *shim_comm_reserve(void);
int shim_comm_set(struct shim_comm *c, const int *world, int size, int rank,
		  MPI_Comm parent, int made_by);
/* Release a record no request holds: a constructor's failure. */
void shim_comm_release(struct shim_comm *c);
/* Free c's real communicator in the proxy, then release c. */
void shim_comm_discard(struct shim_comm *c);

/* ---- groups (shim/group.c): world-rank lists, no proxy object ---- */
struct shim_group {
	int size;
	int rank;                /* my rank or MPI_UNDEFINED */
	int *world;
};
struct shim_group *shim_group_get(MPI_Group h);
MPI_Group shim_group_from_list(const int *world, int size);

/* ---- datatypes (shim/type.c, typeops.c, typeshape.c, pack.c) ---- */
/* Bytes [off, off + len) of one element, off relative to the buffer. */
struct shim_block {
	int64_t off;
	int64_t len;
};
/* n consecutive basic elements of one predefined type. */
struct shim_sig {
	MPI_Datatype basic;
	int64_t n;
};
/*
 * A datatype.  Predefined types have static records (combiner
 * MPI_COMBINER_NAMED).  A derived type keeps its constructor exactly as
 * MPI_Type_get_envelope/get_contents return it, which is also what
 * rebuilding it under another MPI needs (components first: seq orders
 * creation), and what follows from it.
 */
struct shim_type {
	MPI_Datatype handle;
	int combiner;            /* MPI_COMBINER_* */
	int nints, naddrs, ntypes;
	int *ints;
	MPI_Aint *addrs;
	MPI_Datatype *types;     /* derived components are held (refs) */
	uint64_t seq;            /* creation order */
	int64_t size;            /* data bytes in one element */
	int64_t lb, extent;
	int64_t true_lb, true_extent;
	int64_t nelems;          /* basic elements in one element */
	int align;               /* strictest alignment of its basic types */
	int sticky;              /* bounds set by markers (resized, subarray, darray) */
	int prefill;             /* holds long double: the real MPI may copy its 10
				  * bytes, not the 16 of the typemap, so a receive
				  * image starts as the application's bytes */
	int committed;
	/* Typemap of one element (shim_type_map, done at commit), in typemap
	 * order: blocks merged where adjacent, signature runs.  contig: one
	 * block as long as the extent, so count elements are one run. */
	struct shim_block *blocks;
	int64_t nblocks;
	struct shim_sig *sig;
	int64_t nsig;
	int contig;
	int user_refs;           /* handles the application holds */
	int refs;                /* records and requests that use it */
	char name[MPI_MAX_OBJECT_NAME];
	struct shim_type_c *big; /* made by an MPI_Type_*_c constructor: what
				  * it was given (shim/typebig.c); the fields
				  * above hold an int constructor of the same type */
};
/* Record of a valid datatype handle (predefined or derived, committed
 * or not), or NULL. */
struct shim_type *shim_type_get(MPI_Datatype t);
int shim_type_predefined(MPI_Datatype t);
/* For communication: *out = record; MPI_ERR_TYPE unless valid and
 * committed.  shim_type_why says which, for the message. */
int shim_type_check(MPI_Datatype t, struct shim_type **out);
const char *shim_type_why(MPI_Datatype t);
/* Size and extent of a valid, committed datatype, else MPI_ERR_TYPE. */
int shim_type_info(MPI_Datatype t, size_t *size, size_t *extent);
/* Keep a record alive past MPI_Type_free (pending requests, parents). */
void shim_type_hold(struct shim_type *t);
void shim_type_release(struct shim_type *t);
/* A reference like the application's own, which keeps the handle valid
 * after MPI_Type_free (persistent collectives, shim/pcoll.c); no-ops for
 * predefined or invalid handles. */
void shim_type_user_hold(MPI_Datatype h);
void shim_type_user_release(MPI_Datatype h);
/* MPI_Type_get_contents(_c): copy n datatypes out, each a new reference
 * the application must free. */
void shim_type_hand_out(const MPI_Datatype *types, int n, MPI_Datatype out[]);
/* Visit the constructor's components in typemap order: bl consecutive
 * elements of k at byte disp.  A non-zero return stops and is returned. */
typedef int shim_type_comp_fn(void *arg, int64_t disp, int64_t bl, struct shim_type *k);
int shim_type_components(const struct shim_type *t, shim_type_comp_fn *fn, void *arg);
/* After a restart: make every datatype record's real type again in the
 * new proxy, components first (shim/typeops.c). */
int shim_type_rebuild_all(void);
/* Size, bounds, alignment and markers of a new record from its
 * constructor (shim/typeshape.c). */
int shim_type_bounds(struct shim_type *t);
/* Flatten t's typemap (once); MPI_ERR_NO_MEM if it does not fit. */
int shim_type_map(struct shim_type *t);
/* Typemap bytes of count elements of mapped t at buf (byte 0; MPI_BOTTOM
 * is address 0): to or from packed bytes, or between buf and an image
 * with the same layout; at most limit bytes in typemap order. */
void shim_type_pack_raw(const struct shim_type *t, int64_t count, const void *buf,
			void *packed);
/* count elements of t as packed bytes, or -1 when that overflows. */
int64_t shim_type_packed_bytes(const struct shim_type *t, int64_t count);
int64_t shim_type_unpack_raw(const struct shim_type *t, int64_t count, const void *packed,
			     void *buf, int64_t limit);
void shim_type_copy_in(const struct shim_type *t, int64_t count, const void *buf,
		       void *img);
void shim_type_copy_out(const struct shim_type *t, int64_t count, void *buf,
			const void *img, int64_t limit);
/* Basic elements in bytes of t's data (MPI_UNDEFINED when bytes end
 * inside one), and the bytes of that many elements. */
int64_t shim_type_elements(struct shim_type *t, int64_t bytes);
int64_t shim_type_bytes_of(struct shim_type *t, int64_t elements);
/* MPI_Type_create_f90_* (shim/typef90.c, made in shim/typeops.c): a type
 * with constructor (combiner, ints) and the layout of predefined basic,
 * which is also what the proxy uses for it.  MPI calls it predefined: it
 * is committed and cannot be freed. */
int shim_type_make_f90(int combiner, int nints, const int *ints, MPI_Datatype basic,
		       MPI_Datatype *out, const char *fn);
int shim_type_f90(const struct shim_type *t);

/* ---- errors (shim/errh.c) ---- */
/* Whose handler takes errors tied to no communicator (an invalid
 * communicator argument, groups, datatypes, requests).  MPI-4 says
 * MPI_COMM_SELF; MPICH 4.0 and Open MPI 4.1 use MPI_COMM_WORLD, and
 * applications tested on them expect that, so we do too. */
#define SHIM_NOCOMM MPI_COMM_WORLD

/* Route a non-zero ABI error code through comm's error handler
 * (SHIM_NOCOMM's when comm is MPI_COMM_NULL or invalid).  Returns code when the handler
 * returns; does not return when it is fatal.  Every wrapper ends in it, so
 * success returns inline: the call cost 15 instructions of a small
 * message's path. */
int shim_error_raise(MPI_Comm comm, int code, const char *fn, const char *detail);
static inline int shim_error(MPI_Comm comm, int code, const char *fn, const char *detail)
{
	return code == MPI_SUCCESS ? code : shim_error_raise(comm, code, fn, detail);
}
/* shim_error with a printf-style detail. */
int shim_errorf(MPI_Comm comm, int code, const char *fn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *shim_error_name(int cls);
int shim_unsupported(const char *fn);

/* ---- argument checks shared by the wrappers (shim/check.h, inline) ---- */
#include "shim/check.h"

/* ---- requests (shim/req.c) ---- */
enum shim_req_kind {
	SHIM_REQ_SEND = 1,       /* payload staged in, nothing to copy out */
	SHIM_REQ_RECV = 2,       /* copy out of the stage at completion */
	SHIM_REQ_COLL = 3,       /* nonblocking collective (shim/icoll.c) */
	SHIM_REQ_COMM = 4        /* Comm_idup: no payload, the record is ready */
};
struct shim_req {
	MPI_Request handle;
	int kind;
	MPI_Comm comm;
	struct shim_comm *held;  /* comm's record, kept until r is freed
				  * (shim_comm_hold); NULL for WORLD, SELF */
	void *ubuf;              /* user buffer to fill (RECV) */
	int64_t ucount;          /* its count and datatype (held) */
	struct shim_type *utype;
	int64_t base;            /* arena offset of its byte 0 (shim_stage_recv) */
	int bottom;              /* ubuf is MPI_BOTTOM (NULL) and still to fill */
	struct shim_stage stage;
	int from_proc_null;      /* receive from MPI_PROC_NULL */
	struct shim_req *next_zombie; /* freed by MPI_Request_free while active */
	/* A receive as posted, to post it again after a checkpoint. */
	MPI_Datatype dtype;
	int peer, tag;
	uint64_t posted;         /* order of posting: reposts keep it */
	int repost;              /* cancelled by a checkpoint: post again */
	int local_done;          /* completed in the app (drained message, or
				  * done at a checkpoint): no proxy request */
	struct chan_status local_st;
	/* Persistent (shim/persist.c): the arguments Start posts again;
	 * inactive between a completion and the next Start. */
	struct shim_persist *persist;
	int inactive;
	/* Generalized (shim/greq.c): the application's callbacks. */
	struct shim_greq *greq;
	struct icoll *coll;      /* SHIM_REQ_COLL: its plan, until completion */
	struct shim_fold *fold;  /* a user-op reduction's fold, run at completion */
	struct shim_nbkeep *nb;  /* a neighbourhood one's receive blocks (shim/neighbor.c) */
	/* A synchronous send a checkpoint let go (shim/ssend.c): it now
	 * waits for the 0-byte acknowledgement (ack_peer, ack_tag) on
	 * shim_ssend_comm, posted again like a parked receive. */
	int ack_wait;
	int ack_peer, ack_tag;
	int in_proxy;            /* a send the proxy took (posted or kept): a
				  * restart completes it (shim_req_sends_done);
				  * 0 while its post waits at the gate */
};
/* Requests completed in the app and not yet waited for (zero almost
 * always: the completion calls test it before anything else). */
extern _Atomic int shim_req_local;
/* The request records for which keep(r) holds, as an array to free
 * (NULL if none, or out of memory: then some may be missing); *n of them. */
struct shim_req **shim_req_select(int (*keep)(const struct shim_req *r), size_t *n);
/* Remember how receive r was posted (shim/p2p.c's Irecv). */
void shim_req_note_recv(struct shim_req *r, MPI_Datatype type, int source, int tag);
/* Complete r in the app with status st (its data is already delivered). */
void shim_req_done_locally(struct shim_req *r, const struct chan_status *st);
/* The proxy completed r and has forgotten it: at its post (CALL_ARG_DONE)
 * or at a checkpoint (CTL_PARK, shim_req_parked).  Deliver a receive's
 * data from the arena, then shim_req_done_locally.  st->error is the
 * error class the completion call reports. */
void shim_req_done_in_proxy(struct shim_req *r, const struct chan_status *st);
/* Run c (shim_call_begin'd, arguments set), the ISEND or IRECV that posts
 * r; if the proxy finished r at once, shim_req_done_in_proxy.  Ends the
 * call; returns its error. */
int shim_req_post_run(struct shim_req *r, struct chan_call *c);
/* New active request record; MPI_REQUEST_NULL on ENOMEM. */
struct shim_req *shim_req_new(int kind, MPI_Comm comm);
/* A receive request fills (buf, count, t) at completion; holds t. */
void shim_req_set_recv(struct shim_req *r, void *buf, int64_t count, struct shim_type *t);
struct shim_req *shim_req_get(MPI_Request h);
/* The request completed with status st (NULL: it never started): copy
 * data out, free the stage, the handle and the record. */
void shim_req_complete(struct shim_req *r, const struct chan_status *st);
/* What the application's handle becomes once r completes: a persistent
 * request stays, inactive; any other becomes MPI_REQUEST_NULL.  Read it
 * before shim_req_complete, which may free r. */
static inline MPI_Request shim_req_left(const struct shim_req *r)
{
	return r->persist ? r->handle : MPI_REQUEST_NULL;
}
/* Nonblocking collectives (shim/icoll.c): request r completed with st
 * (NULL: never started): copy the results out, drop the kept plan.  At a
 * checkpoint, after DRAIN completed every pending one in the proxy:
 * complete them in the app (0, or -1 if one was not complete). */
void shim_icoll_complete(struct shim_req *r, const struct chan_status *st);
int shim_icoll_drained(void);
/* The same for a nonblocking neighbourhood collective (r->nb). */
void shim_neighbor_complete(struct shim_req *r, const struct chan_status *st);
/* Complete requests the application freed while active (MPI_Request_free)
 * whose proxy side is done; with wait, wait for all of them. */
void shim_req_reap(int wait);

/* ---- persistent, buffered, generalized requests (shim/persist.c,
 * shim/bsend.c, shim/greq.c) ---- */
/* Post a send (mode: 0 standard, 1 synchronous, 2 ready) or a receive
 * on the record r the caller made, under r's handle (shim/p2p.c).  held,
 * if not NULL, is type's record, and on comm's, held by the caller (a
 * persistent request: the application may have freed the handles).  On
 * an error, raised on comm already, r holds nothing and stays the
 * caller's. */
int shim_p2p_post_send(struct shim_req *r, const char *fn, const void *buf, int count,
		       MPI_Datatype type, struct shim_type *held, int dest, int tag,
		       MPI_Comm comm, struct shim_comm *on, int mode, enum shim_stage_how how);
/* A standard Isend whose data is copied before it returns, even from an
 * MPI_Alloc_mem block (SHIM_STAGE_COPY): the buffer is the caller's again
 * at once.  held and on as above, or NULL.  Errors are raised on comm,
 * naming fn. */
int shim_p2p_isend_copy(const char *fn, const void *buf, int count, MPI_Datatype type,
			struct shim_type *held, int dest, int tag, MPI_Comm comm,
			struct shim_comm *on, MPI_Request *request);
int shim_p2p_post_recv(struct shim_req *r, const char *fn, void *buf, int count,
		       MPI_Datatype type, struct shim_type *held, int source, int tag,
		       MPI_Comm comm, struct shim_comm *on);
/* A buffered send: reserve room in the attached buffer, send a copy.
 * held and on as for shim_p2p_isend_copy (a persistent one's Start). */
int shim_bsend_start(const char *fn, const void *buf, int count, MPI_Datatype type,
		     struct shim_type *held, int dest, int tag, MPI_Comm comm,
		     struct shim_comm *on);
/* Take over send request h, which the application never sees: it is
 * completed in the background (MPI_Isendrecv's send). */
int shim_bsend_adopt(MPI_Request h);
/* MPI_Finalize: wait until every buffered message is sent. */
void shim_bsend_flush(void);
/* MPI_Comm_free: the communicator's own buffer (MPI-4.1) goes with it. */
void shim_bsend_comm_freed(MPI_Comm comm);
/* r completed: a persistent one becomes inactive and keeps its record
 * (returns 1); 0 when r is to be freed, its persistent part gone. */
int shim_persist_complete(struct shim_req *r);
/* MPI_Request_free of a persistent request: it is an ordinary one now,
 * freed at its completion (at once when inactive). */
void shim_persist_forget(struct shim_req *r);
/* Persistent collectives (shim/pcoll.c).  make: an inactive persistent
 * request that owns pc (MPI_ERR_NO_MEM raised on comm for fn).  start:
 * MPI_Start of r posts the nonblocking collective pc records, under r's
 * handle.  free: pc's memory, at MPI_Request_free. */
struct shim_pcoll;
int shim_persist_coll_make(const char *fn, MPI_Comm comm, struct shim_pcoll *pc,
			   MPI_Request *request);
int shim_pcoll_start(struct shim_req *r, const struct shim_pcoll *pc);
void shim_pcoll_free(struct shim_pcoll *pc);
/* The request a nonblocking call hands the application: during
 * shim_pcoll_start in this thread, the persistent request being started
 * (made active again as kind on comm); otherwise shim_req_new's. */
struct shim_req *shim_req_new_user(int kind, MPI_Comm comm);
/* Before a generalized request's status is read: ask query_fn.  When
 * it is freed: call free_fn.  MPI_Cancel of one: cancel_fn. */
void shim_greq_query(struct shim_req *r);
void shim_greq_free(struct shim_req *r);
int shim_greq_cancel(struct shim_req *r);
/* The shim's own operation of several requests as one generalized
 * request on comm: poll(extra, wait, st) returns 1 once it is done (with
 * wait: waits until it is), its status in *st; free_fn(extra) when the
 * record goes.  MPI_ERR_NO_MEM, raised by nobody, when it cannot. */
typedef int shim_greq_poll_fn(void *extra, int wait, struct chan_status *st);
int shim_greq_start_polled(shim_greq_poll_fn *poll, MPI_Grequest_free_function *free_fn,
			   void *extra, MPI_Comm comm, MPI_Request *request);
/* Poll (with wait: wait for) the polled ones among count requests and
 * complete those done locally.  Completion calls run it first, without
 * the call slot. */
void shim_greq_drive(int count, const MPI_Request *reqs, int wait);

/* ---- checkpoint consistency (shim/ckpt.c) ---- */
/* Where a checkpoint is, as the application's threads see it. */
enum shim_ck_phase {
	SHIM_CK_NONE = 0,    /* run freely */
	SHIM_CK_INTENT,      /* sequence numbers reported: no new collective */
	SHIM_CK_TARGETS,     /* collectives up to the targets may start */
	SHIM_CK_PARK,        /* no new call at all (collectives already admitted
			      * up to the targets excepted) */
	SHIM_CK_RESTART      /* a restored image, its proxy not ready: no call,
			      * admitted or not, but the checkpoint thread's */
};
/* Calls wait at the gate in this phase (shim_ckpt_call_gate). */
static inline int shim_ck_closed(int phase, int admitted)
{
	return phase == SHIM_CK_RESTART || (phase == SHIM_CK_PARK && !admitted);
}
extern _Atomic int shim_ck_phase;
/* DMTCP_MPI_NO_CKPT_BOOKKEEPING set: collectives are not counted, so a
 * checkpoint is not consistent; only bench/job_ckpt.sh uses it, to price
 * the counting. */
extern int shim_ck_no_bookkeeping;
/* Threads that must never park: the checkpoint client thread. */
extern _Thread_local int shim_ck_exempt;

void shim_ckpt_register(void);
/* Admit a collective (or communicator constructor) on c: count it, and
 * during a checkpoint wait while it would pass c's target. */
void shim_ckpt_coll_gate(struct shim_comm *c, int64_t seq);
/* At a restart: did the checkpoint admit collective seq of c? */
int shim_ckpt_was_admitted(const struct shim_comm *c, int64_t seq);
static inline void shim_coll_enter(struct shim_comm *c)
{
	if (shim_ck_no_bookkeeping)
		return;
	int64_t seq = atomic_fetch_add(&c->coll_seq, 1) + 1;

	if (atomic_load(&shim_ck_phase) != SHIM_CK_NONE)
		shim_ckpt_coll_gate(c, seq);
}
/* A constructor counted under several keys at once (shim/collkey.c):
 * Intercomm_create at a leader (local_comm and the leaders' pair),
 * Comm_create_group (its group).  It is admitted on all of them or none.
 * Fill with shim_coll_ticket_comm/_key, then shim_coll_ticket_admit
 * before shim_call_begin_admitted, and shim_coll_ticket_done once the
 * call has returned. */
#define SHIM_TICKET_MAX 2
struct shim_coll_ticket {
	int n;
	int64_t key[SHIM_TICKET_MAX];
	int64_t seq[SHIM_TICKET_MAX];
	int counted[SHIM_TICKET_MAX];    /* a collkey.c record, not a comm */
	struct shim_coll_ticket *next;   /* shim/ckpt.c: tickets held back */
};
void shim_coll_ticket_comm(struct shim_coll_ticket *t, struct shim_comm *c);
void shim_coll_ticket_key(struct shim_coll_ticket *t, int64_t key, const int *members, int n);
void shim_coll_ticket_admit(struct shim_coll_ticket *t);
void shim_coll_ticket_done(struct shim_coll_ticket *t);
void shim_ckpt_ticket_gate(struct shim_coll_ticket *t);
/* Keys: the two leaders of an Intercomm_create (world ranks), a
 * Comm_create_group's group. */
int64_t shim_key_pair(int a, int b);
int64_t shim_key_group(int64_t parent_gid, int tag, const int *world, int n);
int64_t shim_key_seq(int64_t key);
/* INTENT: write (key, seq) pairs and notices, at most max; how many.
 * TARGETS: on how many keys this rank (world rank me) is behind. */
int shim_key_report(int64_t *pairs, int max, int me);
/* A communicator freed with its last sequence number; forgotten once a
 * checkpoint has parked (every member has reached it then). */
void shim_key_retire(int64_t gid, int64_t seq);
void shim_key_forget_retired(void);
int shim_key_behind(const int64_t *targets, int n, int me);
/* shim_call_begin, with the slot locked: wait (unlocking) while closed
 * to this call (shim_ck_closed). */
void shim_ckpt_call_gate(int admitted);
/* The proxy answered CHAN_RETRY: wait, slot lock released, until the
 * checkpoint is over.  The wrapper then starts its call over. */
void shim_ckpt_wait_resume(void);
/* May the caller use the drain queue now?  1 with it held (release with
 * shim_ckpt_queue_leave); 0 when it is empty or a checkpoint is parked
 * (the checkpoint's own thread excepted). */
int shim_ckpt_queue_enter(void);
void shim_ckpt_queue_leave(void);
/* Restart support, elsewhere in the shim: MPI_Init again in a new proxy
 * (shim/env.c), make every communicator again (shim/comm.c), the pending
 * receives a checkpoint parked (shim/req.c). */
int shim_env_reinit(void);
int shim_comm_rebuild_all(void);
/* One communicator in the new proxy under handle h; world is its
 * members' world ranks as ints at any alignment. */
int shim_comm_remake(MPI_Comm h, int64_t gid, int64_t gid_root, int size, const void *world);
/* Freed communicators that requests still hold (shim/commheld.c): does
 * c count, and make the n of them again, with every rank taking part. */
int shim_comm_held_by_requests(const struct shim_comm *c);
int shim_comm_rebuild_held(struct shim_comm **c, size_t n);
void shim_req_parked(const struct chan_parked *p);
void shim_req_repost_all(void);
/* A restored image: every send request still active completed before
 * the image (DRAIN ends only once every message sent was received), but
 * the new proxy has none of them, and Waitany, Waitsome, Testany and
 * Testsome skip a request it does not have, so they would never report
 * one.  Complete them in the application. */
void shim_req_sends_done(void);

/* ---- messages drained at a checkpoint (shim/drain.c) ---- */
struct shim_drained {
	struct shim_drained *next;
	MPI_Comm comm;
	int source;              /* rank in comm */
	int tag;
	unsigned epoch;          /* the checkpoint that drained it (shim_drain_epoch) */
	int ack_to, ack_tag;     /* a synchronous send's: acknowledge it to world
				  * rank ack_to when taken (shim/ssend.c); -1 none */
	size_t bytes;
	unsigned char data[];
};
extern struct shim_drained *shim_drain_head;
/* Checkpoints so far that drained (shim/ckpt.c counts them). */
extern unsigned shim_drain_epoch;
int shim_drain_push(MPI_Comm comm, int source, int tag, const void *data, size_t bytes);
/* Oldest drained message matching (source, tag) on comm, or NULL. */
struct shim_drained *shim_drain_find(MPI_Comm comm, int source, int tag);
void shim_drain_remove(struct shim_drained *d);
/* A status describing d, as a receive of it would report. */
void shim_drain_status(const struct shim_drained *d, struct chan_status *st);
/* Receive d into (buf, count, t) and remove it: the typemap's bytes in
 * order, holes untouched; MPI_ERR_TRUNCATE if it does not fit (what fits
 * is delivered). */
int shim_drain_deliver(struct shim_drained *d, void *buf, int count,
		       const struct shim_type *t, struct chan_status *st);
/* The same for a message kept outside the queue (a matched probe's):
 * d stays. */
int shim_drain_unpack(const struct shim_drained *d, void *buf, int count,
		      const struct shim_type *t, struct chan_status *st);

/* Status helpers (shim/status.c) */
void shim_status_out(MPI_Status *out, const struct chan_status *in);
void shim_status_out_multi(MPI_Status *out, const struct chan_status *in);
void shim_status_empty(MPI_Status *out);
/* The status of a receive from MPI_PROC_NULL, which the real MPIs do not
 * all report through a test loop. */
void shim_status_proc_null(struct chan_status *st);

/* ---- making communicators outside commops.c (topo.c, intercomm.c) ---- */
/* Steps 1 and 3 of a constructor (see shim/commops.c): reserve the
 * record (arguments already checked), then run the prepared call.  more,
 * if not NULL, reads what else the reply holds into the new record while
 * the slot is still ours; its error undoes the communicator. */
struct shim_comm *shim_comm_reserve_new(MPI_Comm parent, MPI_Comm *newcomm,
					const char *fn, int *err);
typedef int shim_comm_more_fn(struct chan_call *c, struct shim_comm *nc, void *arg);
int shim_comm_finish(struct chan_call *c, MPI_Comm parent, struct shim_comm *nc,
		     int made_by, MPI_Comm *newcomm, const char *fn,
		     shim_comm_more_fn *more, void *arg);

/* ---- what a duplicate inherits (shim/commdup.c) ---- */
/* Topology, remote group, hints, and attributes through their copy
 * callbacks, from parent to the new *newcomm.  On failure *newcomm is
 * freed and set to MPI_COMM_NULL, and the error is raised on parent. */
int shim_comm_inherit(MPI_Comm parent, MPI_Comm *newcomm, const char *fn);
/* MPI_Comm_dup of an intracommunicator under MPI_THREAD_MULTIPLE: the
 * call slot stays free while it waits for the other members. */
int shim_comm_dup_mt(MPI_Comm comm, MPI_Comm *newcomm);
/* Free what c carries besides its members (shim_comm_release). */
void shim_comm_drop_extras(struct shim_comm *c);
/* After a restart, once c is made again from its members (COMM_REBUILD),
 * give the real communicator back its topology or its remote group
 * (shim_topo_rebuild, shim_intercomm_rebuild).  Call for every rebuilt
 * communicator in the order of shim_comm_rebuild_all. */
int shim_comm_rebuild_extras(struct shim_comm *c);
int shim_topo_rebuild(struct shim_comm *c);
/* Join the group made again under h to its remote group, whose first
 * member is world rank leader. */
int shim_intercomm_rebuild(MPI_Comm h, int leader);
/* Record the remote group of intercommunicator c (a constructor's reply,
 * CALL_ARG_REMOTE in chan/calls.h); MPI_ERR_NO_MEM. */
int shim_comm_set_remote(struct shim_comm *c, const int *world, int n);

/* ---- topologies (shim/topo.c), kept in the communicator record ---- */
struct shim_topo {
	int kind;                /* MPI_CART, MPI_GRAPH or MPI_DIST_GRAPH */
	int ndims;               /* MPI_CART: dims[ndims], periods[ndims] */
	int *dims, *periods;
	int nnodes, nedges;      /* MPI_GRAPH: index[nnodes], edges[nedges] */
	int *index, *edges;
	int indegree, outdegree; /* MPI_DIST_GRAPH, in the real MPI's order */
	int *sources, *dests;
	int *sweights, *dweights; /* NULL unless weighted */
	int weighted;
};
struct shim_topo *shim_topo_dup(const struct shim_topo *t); /* NULL: no memory */
void shim_topo_free(struct shim_topo *t);
/* In- and out-degree of c's topology (neighbourhood collectives);
 * MPI_ERR_TOPOLOGY when c has none. */
int shim_topo_degrees(const struct shim_comm *c, int *in, int *out);
/* The rank of c's in-neighbour i, in the order neighbourhood collectives
 * use; MPI_PROC_NULL off a non-periodic Cartesian edge. */
int shim_topo_in_neighbor(const struct shim_comm *c, int i);

/* ---- MPI_Dims_create's arithmetic (shim/dims.c) ---- */
/* How free dimensions are chosen: BALANCED minimises largest - smallest
 * (then prefers the larger smallest, then the lexicographically smaller),
 * which is what MPICH returns; GREEDY puts each prime factor, largest
 * first, into the currently smallest dimension, which is Open MPI's. */
enum shim_dims_rule { SHIM_DIMS_BALANCED, SHIM_DIMS_GREEDY };
/* Fill the zero entries of dims[ndims] with a non-increasing
 * factorisation of nnodes / (product of the others).  MPI_ERR_DIMS when
 * that does not divide or an entry is negative; MPI_ERR_NO_MEM. */
int shim_dims_fill(int nnodes, int ndims, int dims[], enum shim_dims_rule rule);

/* ---- attributes (shim/attr.c) ---- */
/* MPI_COMM_WORLD's predefined attributes, from CALL_INIT's reply
 * arg[3..6] (layout in proxy/env.c). */
void shim_attr_init_world(const int64_t *arg);
/* MPI_LASTUSEDCODE follows MPI_Add_error_class/code. */
void shim_attr_set_lastused(int code);
/* Run the copy callbacks of from's attributes onto to (Comm_dup); the
 * first failing callback's error stops it. */
int shim_attr_comm_copy(MPI_Comm from, MPI_Comm to);
/* Run the delete callbacks of every attribute of comm, newest first, and
 * drop them (Comm_free, MPI_Finalize on MPI_COMM_SELF); a failing
 * callback stops it and its attribute and the older ones stay. */
int shim_attr_comm_delete_all(MPI_Comm comm);
/* The same for datatypes, for shim/typeops.c: copy at MPI_Type_dup once
 * the new type exists; delete at MPI_Type_free before the handle goes. */
int shim_attr_type_copy(MPI_Datatype from, MPI_Datatype to);
int shim_attr_type_delete_all(MPI_Datatype t);
/* Drop an object's attributes without callbacks (error paths). */
void shim_attr_forget(enum shim_kind kind, uintptr_t handle);

/* ---- info objects (shim/info.c) ---- */
struct shim_info;
/* Record of a live info (MPI_INFO_ENV too), or NULL. */
struct shim_info *shim_info_get(MPI_Info h);
/* An info argument must be MPI_INFO_NULL or live: else MPI_ERR_INFO is
 * raised on comm for fn and returned. */
int shim_info_check(MPI_Info h, MPI_Comm comm, const char *fn);
struct shim_info *shim_info_copy(const struct shim_info *i); /* NULL: none or no memory */
void shim_info_release(struct shim_info *i);

/* ---- user error handlers and error codes (shim/errh_user.c) ---- */
/* A predefined handler or a live one from MPI_Comm_create_errhandler. */
int shim_errh_valid(MPI_Errhandler e);
/* When e is a user handler, call it with (comm, code) and return 1. */
int shim_errh_call(MPI_Errhandler e, MPI_Comm comm, int code);
/* For a code or class made by MPI_Add_error_class/code: its class and
 * text (NULL until MPI_Add_error_string), and 1; 0 for any other code. */
int shim_error_user(int code, int *cls, const char **text);

/* ---- reduction operations (shim/op.c, shim/opreduce.c, shim/oplocal.c) ---- */
/* A user operation: one of fn (MPI_Op_create) or fn_c (MPI_Op_create_c). */
struct shim_op {
	MPI_User_function *fn;
	MPI_User_function_c *fn_c;
	int commute;
};
int shim_op_predefined(MPI_Op op);
/* Record of a live user operation, or NULL (predefined ones have none). */
struct shim_op *shim_op_get(MPI_Op op);
/* inoutbuf = inbuf op inoutbuf for count elements of t (t's handle is
 * what a user function is given). */
void shim_op_apply(const struct shim_op *o, const void *in, void *inout, int64_t count,
		   MPI_Datatype t);
/* The reductions of shim/coll.c when op is a user operation: computed in
 * the application from blocks that ordinary collectives bring in.  id is
 * CALL_REDUCE, CALL_ALLREDUCE, CALL_SCAN or CALL_EXSCAN (root only for
 * Reduce), or CALL_REDUCE_SCATTER(_BLOCK) with recvcounts or recvcount.
 * request: NULL for the blocking call; for a nonblocking one *request
 * is the collective that brings the blocks in, with r->fold attached. */
int shim_opreduce(enum chan_call_id id, const char *fn, const void *sendbuf, void *recvbuf,
		  int count, MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm,
		  MPI_Request *request);
int shim_opreduce_scatter(enum chan_call_id id, const char *fn, const void *sendbuf,
			  void *recvbuf, const int recvcounts[], int recvcount,
			  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *request);
/* Request r with a fold completed with st (NULL: it never finished):
 * fold its blocks into the application's buffer unless it failed, and
 * free the fold. */
void shim_opreduce_done(struct shim_req *r, const struct chan_status *st);
/* inoutbuf = inbuf op inoutbuf with a predefined op on a predefined
 * type, as MPI_Reduce_local; MPI_ERR_OP for a pair it does not define. */
int shim_op_local_predefined(const void *in, void *inout, int64_t count, MPI_Datatype t,
			     MPI_Op op);

/* ---- large counts (shim/bigcount.c, shim/typebig.c) ---- */
/* count elements as q chunks of SHIM_BIGC_CHUNK elements, then the rest
 * at byte rest_disp; MPI_ERR_COUNT when count < 0 or q or rest_disp
 * (with elements extent bytes apart) does not fit. */
#define SHIM_BIGC_CHUNK ((int64_t)1 << 30)
struct shim_bigc_split {
	int nchunks;
	int rest;
	int64_t rest_disp;
};
int shim_bigc_split(int64_t count, int64_t extent, struct shim_bigc_split *s);
/* A new (uncommitted) datatype whose one element is count consecutive
 * elements of t, made with int constructors; errors raised for fn. */
int shim_bigc_type(int64_t count, MPI_Datatype t, MPI_Datatype *out, const char *fn);
/* Reductions beyond INT_MAX elements go in chunks of at most
 * shim_redc_limit() elements (shim/redbig.c): INT_MAX, or what env
 * (DMTCP_MPI_TEST_REDUCE_CHUNK, tests only) says if it is a number from
 * 1 to INT_MAX, as shim_redc_limit_init read it at MPI_Init (a restart
 * keeps it).  count elements make shim_redc_nchunks chunks; chunk k
 * starts at element *first and has the length returned. */
int64_t shim_redc_limit_of(const char *env);
void shim_redc_limit_init(void);
int64_t shim_redc_limit(void);
int64_t shim_redc_nchunks(int64_t count, int64_t limit);
int shim_redc_chunk(int64_t count, int64_t limit, int64_t k, int64_t *first);
/* Block of a large-count v/w collective (shim/vwbig.c): count elements
 * at displacement disp units of unit bytes, *bytes = disp * unit.  0:
 * the int Alltoallw takes it as it is; 1: beyond limit, it needs a made
 * type; -1: disp * unit overflows. */
int shim_vw_entry(int64_t count, int64_t disp, int64_t unit, int64_t limit, int64_t *bytes);
/* The arguments of an MPI_Type_*_c constructor, as
 * MPI_Type_get_envelope_c/get_contents_c return them; one allocation. */
struct shim_type_c {
	int combiner;
	int nints, naddrs, ncounts, ntypes;
	int *ints;
	MPI_Aint *addrs;
	MPI_Count *counts;
	MPI_Datatype *types;
};

/* ---- synchronous sends across a checkpoint (shim/ssend.c) ---- */
/* The private dup of WORLD their acknowledgements travel on. */
extern MPI_Comm shim_ssend_comm;
/* At MPI_Init: make shim_ssend_comm. */
int shim_ssend_init(void);
/* PARK took synchronous send r (CHAN_PARKED_SSEND p): r waits for an
 * acknowledgement from now on; its info goes to the receiver at this
 * rank's first DRAIN (at once if one has run). */
void shim_ssend_parked(struct shim_req *r, const struct chan_parked *p);
/* PARK begins: the sends it takes are only noted. */
void shim_ssend_park_begin(void);
/* This rank's first DRAIN: queue the noted infos, which the caller
 * sends (shim_ssend_flush) before the proxy lets go of the real sends
 * (CTL_DRAIN). */
void shim_ssend_commit(void);
/* RESUME of a checkpoint that ran no DRAIN here: the noted requests are
 * synchronous sends again (the proxy gives them back), their infos are
 * dropped. */
void shim_ssend_undo(void);
/* DRAIN brought the info message (tag 0 on shim_ssend_comm) from world
 * rank from. */
void shim_ssend_info(int from, const void *data, size_t bytes);
/* Place the infos kept so far among the entries the last checkpoint
 * that parked here drained: mark the entry each names, or acknowledge
 * it if a receive took its message already.  At the end of a checkpoint,
 * before parked receives are posted again, and when a later one finds
 * infos a failed DRAIN left in flight (shim/ckpt.c sweep_infos); the
 * caller keeps the application out of the drain queue meanwhile. */
void shim_ssend_settle(void);
/* The application took marked entry d (from shim_drain_remove). */
void shim_ssend_matched(const struct shim_drained *d);
/* The info message, int64 words: the communicator's gid and handle
 * (the handle tells SELF's dups apart), the tag, the sends to the same
 * (destination, comm, tag) started after it, the acknowledgement's tag. */
enum { SHIM_INFO_GID, SHIM_INFO_COMM, SHIM_INFO_TAG, SHIM_INFO_LATER, SHIM_INFO_ACK_TAG,
       SHIM_INFO_WORDS };
/* A message waiting to go on shim_ssend_comm: an info (tag 0) or an
 * acknowledgement (no payload). */
struct shim_ssend_out {
	struct shim_ssend_out *next;
	int to, tag;             /* world rank (= rank in shim_ssend_comm) */
	int n;                   /* int64 words of payload */
	int64_t word[SHIM_INFO_WORDS];
};
/* Messages waiting to go, oldest first (NULL almost always). */
extern struct shim_ssend_out *shim_ssend_outbox;
/* Take them all out (the caller frees each). */
struct shim_ssend_out *shim_ssend_take(void);
void shim_ssend_flush_now(int exempt);
/* Take out up to max acknowledgements (not infos) into out, for the
 * proxy to send (CTL_INFOS); how many. */
int shim_ssend_take_acks(struct chan_ack *out, int max);
/* Send them; exempt: the checkpoint thread, during a checkpoint.  No
 * lock may be held. */
static inline void shim_ssend_flush(int exempt)
{
	if (shim_ssend_outbox)
		shim_ssend_flush_now(exempt);
}
/* Post r again if it waits for an acknowledgement (1), else 0. */
int shim_ssend_repost(struct shim_req *r);

#endif
