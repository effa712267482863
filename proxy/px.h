/*
 * px.h - internals of the proxy, the one process of a rank that links the
 * real MPI (built once per MPI: proxy-mpich, proxy-openmpi).
 *
 * The proxy serves calls from its application over the channel:
 *   proxy/loop.c   waits for a call, dispatches it, posts the reply
 *   proxy/<family>.c  one handler per call id (see chan/calls.h)
 *   proxy/xlate.c  standard-ABI <-> real handles, constants, statuses,
 *                  error classes
 *   proxy/table.c  virtual handle -> real object tables
 *   proxy/progress.c  px_wait*: complete a real request without ever
 *                  blocking inside MPI, watching the channel meanwhile
 *
 *   proxy/ckpt.c   the control slot: PARK, DRAIN, RESUME for a checkpoint
 *   proxy/gid.c    global communicator ids agreed at creation
 *
 * It never blocks inside MPI: a blocking call is started as its
 * nonblocking twin and completed in px_wait, which is also where a
 * checkpoint's control request is noticed while a rank is "blocked".
 */
#ifndef PX_H
#define PX_H

#include <mpi.h>
#include <stdint.h>

#include "chan/abi_gen.h"
#include "chan/calls.h"
#include "chan/chan.h"
#include "util/hot.h"

/* 1 in the proxy built with MPICH (its mpi.h defines MPICH_VERSION), 0
 * with Open MPI: the few places that must differ (proxy/comm.c,
 * proxy/ctorbg.c) test it as a constant, not with #ifdef. */
#ifdef MPICH_VERSION
#define PX_MPICH 1
#else
#define PX_MPICH 0
#endif

struct px_state {
	struct chan ch;
	int initialized;         /* real MPI_Init done */
	int finalized;
	int world_rank;
	int world_size;
	MPI_Group world_group;   /* to turn world-rank lists into groups */
	MPI_Comm world_ctor;     /* Open MPI: a private dup of WORLD, the parent
				  * of Comm_create_group over WORLD (proxy/comm.c);
				  * MPI_COMM_WORLD itself under MPICH */
	/* Checkpoint state (proxy/ckpt.c) */
	uint32_t ctl_seen;       /* control requests answered */
	int parked;              /* PARK seen, until RESUME: receive-side
				  * waits answer CHAN_RETRY */
	int64_t busy;            /* call id being served, -1 when idle */
	int64_t sent, recvd;     /* message counters, see chan.h */
	int no_bookkeeping;      /* DMTCP_MPI_NO_CKPT_BOOKKEEPING: counters
				  * off, for bench/job_ckpt.sh only */
	int mt;                  /* the real MPI is at MPI_THREAD_MULTIPLE:
				  * constructors may run on threads */
	int early;               /* MPI_Init was called before the app asked
				  * (a restart, proxy/env.c) ... */
	int early_rc;            /* ... and returned this */
	int app_asked;           /* the app's CALL_INIT has come */
};
extern struct px_state px;

typedef void px_handler(struct chan_call *c);

/* Handlers, one per call id; defined in the family files. */
#define PX_DECLARE(name) px_handler px_call_##name;
CHAN_CALLS(PX_DECLARE)
#undef PX_DECLARE

/* ---- env.c ---- */
/* A restart: initialise the real MPI now, while the application is still
 * being restored, instead of at its CALL_INIT. */
void px_init_early(void);
/* End the whole job with MPI_Abort, after stderr had time to drain. */
_Noreturn void px_abort_job(MPI_Comm comm, int code);

/* ---- loop.c ---- */
/* Serve calls until the application is gone (then px_app_gone). */
_Noreturn void px_serve(void);
/* The application is gone: abort the job (or exit if it never had MPI,
 * or has finalized). */
_Noreturn void px_app_gone(void);

/* ---- progress.c ---- */
/* What a wait returns instead of an MPI code when a checkpoint's PARK
 * abandoned it; px_reply turns it into CHAN_RETRY. */
#define PX_RETRY (-1)
/* Complete *r (MPI_Test loop); returns the real error code.  Serves
 * control requests meanwhile and is never abandoned: collectives,
 * constructors (a blocking send is kept instead, proxy/p2p.c). */
int px_wait(MPI_Request *r, MPI_Status *st);
/* The same for a receive the proxy started itself (RECV): on PARK it is
 * cancelled and PX_RETRY returned, unless it had matched already; then it
 * completes as usual. */
int px_wait_recv(MPI_Request *r, MPI_Status *st);
/* The completion calls and PROBE: on PARK they return PX_RETRY at once,
 * leaving the requests as they are (they belong to the application). */
int px_wait_app(MPI_Request *r, MPI_Status *st);
int px_waitall(int n, MPI_Request *r, MPI_Status *st);
int px_waitany(int n, MPI_Request *r, int *index, MPI_Status *st);
/* Returns once at least one completed (*outcount != 0). */
int px_waitsome(int n, MPI_Request *r, int *outcount, int *idx, MPI_Status *st);
/* MPI_Probe as an Iprobe loop. */
int px_probe(int source, int tag, MPI_Comm comm, MPI_Status *st);
/* Complete *r watching only the channel state (for the control requests
 * themselves, which must not serve another one). */
int px_wait_quiet(MPI_Request *r, MPI_Status *st);
/* Take back the active requests among r[0..n-1], all receives or all
 * sends (is_send), that a call started before it failed, so none outlives
 * the call's error reply; each becomes MPI_REQUEST_NULL.  A receive is
 * cancelled and completed (MPI guarantees that completion is local); a
 * send is cancelled and, if it is not complete then, freed to finish on
 * its own: Open MPI 4.1 never cancels a send, and waiting for a peer that
 * may never receive could hang the proxy. */
void px_take_back(int n, MPI_Request *r, int is_send);

/* ---- ckpt.c: the control slot (layouts in chan/chan.h) ---- */
/* A control request is waiting (one load; progress loops call this). */
static inline int px_ctl_waiting(void)
{
	return atomic_load_explicit(&px.ch.hdr->seq[CHAN_CTL_REQ],
				    memory_order_relaxed) != px.ctl_seen;
}
/* Serve the waiting control request.  can_retry: the call in progress
 * gives way to PARK (a receive-side wait); then PARK only marks the
 * proxy parked and is answered once that call was answered CHAN_RETRY. */
void px_ctl_poll(int can_retry);
/* Drive MPI once without completing anything (the idle loop while
 * parked). */
void px_parked_progress(void);
/* Message counters: a send started to peer (real rank), a receive
 * completed with st. */
void px_count_send(int peer);
void px_count_recv(const MPI_Status *st);

/* ---- ssend.c: synchronous sends pending at a checkpoint ---- */
/* Synchronous sends tracked (0 almost always). */
extern size_t px_ssend_n;
/* Synchronous send request h (marked PX_REQ_SEND) was started to peer
 * with tag on comm (real values) and is not complete. */
void px_ssend_track(int64_t h, int peer, int tag, MPI_Comm comm);
void px_ssend_note(int peer, int tag, MPI_Comm comm);
/* A send to (peer, tag, comm) is starting: counted for every tracked
 * synchronous send before it. */
static inline void px_ssend_count(int peer, int tag, MPI_Comm comm)
{
	if (px_ssend_n)
		px_ssend_note(peer, tag, comm);
}
/* PARK: every tracked synchronous send still incomplete is reported
 * (CHAN_PARKED_SSEND), until ctl is full (CTL_ARG_MORE), and held: its
 * real request is freed at the checkpoint's first DRAIN, or at once if
 * one has run. */
void px_ssend_park(struct chan_ctl *ctl);
/* DRAIN: free the held requests (the shim has told their receivers). */
void px_ssend_let_go(void);
/* RESUME: a checkpoint that ran no DRAIN here gives the held sends back,
 * tracked as before PARK. */
void px_ssend_resume(void);

/* ---- table.c: virtual (ABI) handle -> real object ---- */
MPI_Comm px_comm(int64_t abi);          /* MPI_COMM_NULL if unknown */
void px_comm_set(int64_t abi, MPI_Comm real);
MPI_Comm px_comm_take(int64_t abi);     /* forget and return it */
MPI_Request *px_req_slot(int64_t abi);  /* slot for a request id, grows */
/* What a table request is, for a checkpoint: set where ISEND/IRECV
 * start it, back to PX_REQ_OTHER when it completes. */
enum px_req_kind { PX_REQ_OTHER = 0, PX_REQ_SEND = 1, PX_REQ_RECV = 2,
		   PX_REQ_COLL = 3 /* nonblocking collective, proxy/icoll.c */ };
void px_req_mark(int64_t abi, enum px_req_kind kind);
enum px_req_kind px_req_kind(int64_t abi);
/* When it was marked a send or receive: larger is later. */
uint64_t px_req_order(int64_t abi);
/* Visit every request slot whose kind is not PX_REQ_OTHER, and every
 * communicator in the table (not WORLD, SELF), until fn returns non-zero
 * (which is returned). */
int px_req_each(int (*fn)(int64_t abi, MPI_Request *r, enum px_req_kind kind, void *arg),
		void *arg);
int px_comm_each(int (*fn)(int64_t abi, MPI_Comm real, void *arg), void *arg);
MPI_Datatype px_type(int64_t abi);      /* MPI_DATATYPE_NULL if unknown */
MPI_Datatype px_type_derived(int64_t abi); /* px_type for non-predefined */
void px_type_set(int64_t abi, MPI_Datatype real);
MPI_Datatype px_type_take(int64_t abi); /* forget and return it */
MPI_Op px_op(int64_t abi);              /* MPI_OP_NULL if unknown */

/* ---- comm.c: the outcome of every communicator constructor ---- */
/* The creation call c returned rc and real: keep real under the new
 * handle (arg[1]) and reply with its members (layout in proxy/comm.c);
 * used by proxy/topo.c and proxy/intercomm.c too.  It is the two steps
 * below; a constructor thread (proxy/ctorbg.c) does the first. */
void px_comm_made(struct chan_call *c, int rc, MPI_Comm real);
/* What a constructor adds to its reply once real is made and described
 * (a dist graph's neighbours); returns the real MPI code. */
typedef int px_more_fn(struct chan_call *c, MPI_Comm real);
/* Agree real's id and write c's reply, then more's part (more may be
 * NULL); frees real on failure (then MPI_COMM_NULL).  Touches nothing
 * but c and real. */
int px_comm_describe(struct chan_call *c, int rc, MPI_Comm *real, px_more_fn *more);
/* Keep real under c->arg[1] (on success) and set the reply's code. */
void px_comm_keep(struct chan_call *c, int rc, MPI_Comm real);
/* Make the communicator c asks for from parent (the blocking MPI call). */
typedef int px_make_fn(struct chan_call *c, MPI_Comm parent, MPI_Comm *real);
/* Serve constructor call c: make it from the parent named by arg[0],
 * describe it (with more, may be NULL) and keep it; now, or on a thread
 * of its own when the shim asked (CALL_ARG_DETACH, proxy/ctorbg.c).
 * Replies MPI_ERR_COMM when the parent is unknown. */
void px_comm_serve(struct chan_call *c, px_make_fn *make, px_more_fn *more);

/* ---- ctorbg.c: constructors on threads of their own (MULTIPLE) ---- */
/* Start make on a thread of its own for the call c (which carries
 * CALL_ARG_DETACH) and reply at once; COMM_POLL collects the result. */
void px_ctor_start(struct chan_call *c, MPI_Comm parent, px_make_fn *make, px_more_fn *more);
/* The same, but make in this thread before the reply (make must not
 * block in MPI: px_wait): the shim's polls then find it done. */
void px_ctor_start_here(struct chan_call *c, MPI_Comm parent, px_make_fn *make,
			px_more_fn *more);
/* Constructors still running on threads of their own (main thread only).
 * DRAIN probes nothing meanwhile: Open MPI's Intercomm_create sends the
 * leaders' messages on the peer communicator with the application's tag,
 * and a wildcard probe would take one before the constructor's thread
 * posts its receive (tests/ckpt-mpi/restart_iccmt.sh). */
int px_ctor_running(void);
/* Set on those threads: they wait in MPI itself, not in px_wait, which
 * serves the channel and belongs to the main thread. */
extern _Thread_local int px_on_ctor_thread;

/* ---- gid.c: global communicator ids (chan/calls.h CALL_ARG_GID) ---- */
/* Agree the id of the new communicator real with its other members, all
 * in the same creation call.  Returns the real MPI code. */
int px_gid_agree(MPI_Comm real, int64_t *gid);
/* A communicator rebuilt at restart keeps its id: ids made later must
 * differ from it. */
void px_gid_keep(int64_t gid);

/* ---- neighbor.c ---- */
/* The communicator abi is being freed: drop what neighbourhood
 * collectives kept for it. */
void px_neighbor_forget(int64_t abi);

/* ---- intercomm.c ---- */
/* Append the remote group of intercommunicator real to a constructor's
 * reply as world ranks and set CALL_ARG_REMOTE (chan/calls.h). */
int px_reply_remote(struct chan_call *c, MPI_Comm real);

/* ---- ring.c, p2p.c: the post ring (chan/chan.h) ---- */
/* Take every entry published, in order (main thread, outside calls). */
void px_ring_take(void);
/* Start one ring post (ISEND or IRECV) into its request's slot. */
void px_ring_post(const struct chan_ring_post *p);
/* Request h could not be started: make it a request complete with the
 * real error code, which its completion call reports. */
void px_req_fail(int64_t h, int code);
/* free_fn and cancel_fn of the generalized requests the proxy makes for
 * itself (a failed ring post, a Cartesian exchange): they own no memory
 * MPI frees, and they end on their own. */
int px_greq_free_nothing(void *extra);
int px_greq_cancel_nothing(void *extra, int complete);

/* ---- idup.c ---- */
/* Request abi has completed (any completion call in req.c): finish what
 * waited for it in the proxy, such as an MPI_Comm_idup. */
void px_req_done(int64_t abi);

/* ---- coll.c, icoll.c: collectives ---- */
/* Start collective id (a blocking call id) with c's arguments into *req.
 * *keep receives what the real MPI reads until completion (free it
 * then; NULL when nothing).  Returns the real MPI code. */
int px_coll_start(struct chan_call *c, int64_t id, MPI_Request *req, void **keep);
/* Start collective id as request req and keep it until it completes
 * (CALL_ICOLL, a detached blocking one); returns the real MPI code. */
int px_icoll_start(struct chan_call *c, int64_t id, int64_t req);
/* A nonblocking collective started elsewhere (proxy/neighbor.c) into
 * req's slot: kept and counted like ours, keep freed at completion;
 * MPI_ERR_NO_MEM (keep freed).  poll, if not NULL, is called with keep
 * at each px_icoll_step until req completes; it must only test, never
 * wait. */
int px_icoll_track(int64_t req, void *keep, void (*poll)(void *keep));
/* Step the work of every collective request kept with a poll function:
 * before each test call and between the tests of each wait loop. */
void px_icoll_step(void);
/* Nonblocking collective request abi completed: free what it kept. */
void px_icoll_done(int64_t abi);
/* Nonblocking collectives started and not complete yet (progresses them). */
int64_t px_icoll_incomplete(void);

/* ---- xlate.c ---- */
void px_xlate_init(void);
int px_err(int real_code);              /* real code -> ABI error class */
int px_rank_in(int64_t abi_rank);       /* ANY_SOURCE, PROC_NULL, ROOT */
int px_rank_out(int real_rank);
int px_tag_in(int64_t abi_tag);
int px_tag_out(int real_tag);
int px_thread_level_in(int64_t abi);
int px_thread_level_out(int real);
int px_undefined_in(int64_t abi);       /* color/key: MPI_UNDEFINED */
void px_status_out(const MPI_Status *st, struct chan_status *out);
void px_status_proc_null(struct chan_status *out);

/* A real status's byte count and cancelled flag, read from the fields the
 * real mpi.h declares.  Each receive's way to its reply needs both, and
 * MPI_Get_count and MPI_Test_cancelled cost 82 and 21 instructions there
 * under MPICH 4.0 (argument checks, a datatype lookup).  MPICH and Open
 * MPI both keep the count in bytes, as a 64-bit number (MPICH: 32 bits in
 * count_lo, the rest above the cancelled flag, bit 0 of
 * count_hi_and_cancelled), so a count past INT_MAX comes out right too;
 * another MPI is asked. */
static inline int64_t px_status_bytes(const MPI_Status *st)
{
#if defined(MPICH_VERSION)
	uint64_t hi = (unsigned)st->count_hi_and_cancelled >> 1;

	return (int64_t)(hi << 32 | (unsigned)st->count_lo);
#elif defined(OPEN_MPI)
	return (int64_t)st->_ucount;
#else
	MPI_Count n = 0;

	MPI_Get_elements_x(st, MPI_BYTE, &n);
	return n == MPI_UNDEFINED ? 0 : n;
#endif
}

static inline int px_status_cancelled(const MPI_Status *st)
{
#if defined(MPICH_VERSION)
	return st->count_hi_and_cancelled & 1;
#elif defined(OPEN_MPI)
	return st->_cancelled != 0;
#else
	int flag = 0;

	MPI_Test_cancelled(st, &flag);
	return flag;
#endif
}

/* Arena pointer named by a call argument.  A typed buffer's argument is
 * the offset of its byte 0, which may lie before the arena (a datatype
 * with a positive lower bound, MPI_BOTTOM and absolute addresses): the
 * real MPI adds the displacements back, so compute it as an integer. */
static inline void *px_ptr(int64_t off)
{
	return (void *)((uintptr_t)px.ch.arena + (uintptr_t)off);
}

/* Store a real error code into the reply as an ABI class. */
static inline void px_reply(struct chan_call *c, int real_code)
{
	if (real_code == PX_RETRY)
		c->err = CHAN_RETRY;
	else
		c->err = real_code == MPI_SUCCESS ? 0 : px_err(real_code);
}

#endif
