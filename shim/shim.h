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
#include <stddef.h>
#include <stdint.h>

#include "mpi.h"
#include "chan/arena.h"
#include "chan/calls.h"
#include "chan/chan.h"

/* Each hand-written PMPI_X is followed by SHIM_WEAK(X): MPI_X becomes a
 * weak alias, so tools can interpose MPI_X and still reach PMPI_X. */
#define SHIM_STR_(x) #x
#define SHIM_WEAK(f) _Pragma(SHIM_STR_(weak MPI_##f = PMPI_##f))

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
	pthread_t main_thread;
	int world_rank;
	int world_size;
	char backend[256];       /* real MPI's library version, first line */
};
extern struct shim_state shim;

/* ---- calls over the channel (shim/call.c) ---- */

/* Lock the slot and start a call; returns the slot to fill. */
struct chan_call *shim_call_begin(enum chan_call_id id);
/* Post the call, wait for the reply.  Returns the ABI error code; the
 * reply's outputs are readable in the slot until shim_call_end(). */
int shim_call_run(struct chan_call *c);
void shim_call_end(void);
/* begin + run + end for calls without outputs beyond the error code. */
int shim_call_simple(struct chan_call *c);
/* Before MPI_Init / after MPI_Finalize most calls are erroneous. */
int shim_require_init(const char *fn);

/* ---- payload staging in the arena (shim/stage.c) ---- */
struct shim_stage {
	uint64_t off;   /* arena offset, ARENA_NONE when nothing staged */
	uint64_t len;   /* bytes reserved from off rounded down to ARENA_ALIGN */
};
/* Reserve len bytes; MPI_ERR_NO_MEM (with one message) if it can't. */
int shim_stage_alloc(struct shim_stage *s, uint64_t len, const char *fn);
/* The same for a payload copied to or from buf: the block starts at buf's
 * offset within a cache line (see stage.c). */
int shim_stage_alloc_like(struct shim_stage *s, uint64_t len, const void *buf,
			  const char *fn);
void shim_stage_free(struct shim_stage *s);
/* Copy what a receive delivered into buf (never more than cap bytes). */
void shim_stage_unload(void *buf, size_t cap, const struct shim_stage *s,
		       const struct chan_status *st);
static inline void *shim_stage_ptr(const struct shim_stage *s)
{
	return chan_arena_ptr(&shim.ch, s->off);
}

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
	/* How it was made, enough to make it again under another MPI. */
	MPI_Comm parent;
	int made_by;             /* CALL_COMM_DUP, CALL_COMM_SPLIT, ... */
};
/* Record for h, or NULL if h is not a live communicator. */
struct shim_comm *shim_comm_get(MPI_Comm h);
/* Look up h; on failure raises MPI_ERR_COMM for fn and returns NULL
 * with *err set. */
struct shim_comm *shim_comm_check(MPI_Comm h, const char *fn, int *err);
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
void shim_comm_release(struct shim_comm *c);

/* ---- groups (shim/group.c): world-rank lists, no proxy object ---- */
struct shim_group {
	int size;
	int rank;                /* my rank or MPI_UNDEFINED */
	int *world;
};
struct shim_group *shim_group_get(MPI_Group h);
MPI_Group shim_group_from_list(const int *world, int size);

/* ---- datatypes (shim/type.c) ---- */
/* Size and extent of a datatype; MPI_ERR_TYPE if it is not a valid,
 * committed datatype. */
int shim_type_info(MPI_Datatype t, size_t *size, size_t *extent);

/* ---- errors (shim/errh.c) ---- */
/* Whose handler takes errors tied to no communicator (an invalid
 * communicator argument, groups, datatypes, requests).  MPI-4 says
 * MPI_COMM_SELF; MPICH 4.0 and Open MPI 4.1 use MPI_COMM_WORLD, and
 * applications tested on them expect that, so we do too. */
#define SHIM_NOCOMM MPI_COMM_WORLD

/* Route a non-zero ABI error code through comm's error handler
 * (SHIM_NOCOMM's when comm is MPI_COMM_NULL or invalid).  Returns code when the handler
 * returns; does not return when it is fatal. */
int shim_error(MPI_Comm comm, int code, const char *fn, const char *detail);
/* shim_error with a printf-style detail. */
int shim_errorf(MPI_Comm comm, int code, const char *fn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *shim_error_name(int cls);
int shim_unsupported(const char *fn);

/* ---- argument checks shared by the wrappers (shim/check.c) ---- */
/* Each returns MPI_SUCCESS or an error class; none prints. */
int shim_check_count(int count);
int shim_check_buf(const void *buf, int count);
int shim_check_rank(const struct shim_comm *c, int rank, int allow_any);
int shim_check_root(const struct shim_comm *c, int root);
int shim_check_tag(int tag, int allow_any);

/* ---- requests (shim/req.c) ---- */
enum shim_req_kind {
	SHIM_REQ_SEND = 1,       /* payload staged in, nothing to copy out */
	SHIM_REQ_RECV = 2,       /* copy out of the stage at completion */
	SHIM_REQ_COLL = 3        /* nonblocking collective (later) */
};
struct shim_req {
	MPI_Request handle;
	int kind;
	MPI_Comm comm;
	void *ubuf;              /* user buffer to fill (RECV) */
	size_t ubytes;           /* its capacity in bytes */
	struct shim_stage stage;
	int from_proc_null;      /* receive from MPI_PROC_NULL */
	struct shim_req *next_zombie; /* freed by MPI_Request_free while active */
};
/* New active request record; MPI_REQUEST_NULL on ENOMEM. */
struct shim_req *shim_req_new(int kind, MPI_Comm comm);
struct shim_req *shim_req_get(MPI_Request h);
/* The request completed with status st (NULL: it never started): copy
 * data out, free the stage, the handle and the record. */
void shim_req_complete(struct shim_req *r, const struct chan_status *st);
/* Complete requests the application freed while active (MPI_Request_free)
 * whose proxy side is done; with wait, wait for all of them. */
void shim_req_reap(int wait);

/* Status helpers (shim/status.c) */
void shim_status_out(MPI_Status *out, const struct chan_status *in);
void shim_status_out_multi(MPI_Status *out, const struct chan_status *in);
void shim_status_empty(MPI_Status *out);
/* The status of a receive from MPI_PROC_NULL, which the real MPIs do not
 * all report through a test loop. */
void shim_status_proc_null(struct chan_status *st);

#endif
