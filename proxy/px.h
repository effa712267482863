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
 * It never blocks inside MPI: a blocking call is started as its
 * nonblocking twin and completed in px_wait, which is also where a
 * checkpoint request will be noticed while a rank is "blocked".
 */
#ifndef PX_H
#define PX_H

#include <mpi.h>
#include <stdint.h>

#include "chan/abi_gen.h"
#include "chan/calls.h"
#include "chan/chan.h"

struct px_state {
	struct chan ch;
	int initialized;         /* real MPI_Init done */
	int finalized;
	int world_rank;
	int world_size;
	MPI_Group world_group;   /* to turn world-rank lists into groups */
};
extern struct px_state px;

typedef void px_handler(struct chan_call *c);

/* Handlers, one per call id; defined in the family files. */
#define PX_DECLARE(name) px_handler px_call_##name;
CHAN_CALLS(PX_DECLARE)
#undef PX_DECLARE

/* ---- loop.c ---- */
int px_serve(void);
/* The application is gone: abort the job (or exit if MPI never started). */
_Noreturn void px_app_gone(void);

/* ---- progress.c ---- */
/* Complete *r (MPI_Test loop); returns the real error code. */
int px_wait(MPI_Request *r, MPI_Status *st);
int px_waitall(int n, MPI_Request *r, MPI_Status *st);
int px_waitany(int n, MPI_Request *r, int *index, MPI_Status *st);
/* Returns once at least one completed (*outcount != 0). */
int px_waitsome(int n, MPI_Request *r, int *outcount, int *idx, MPI_Status *st);
/* MPI_Probe as an Iprobe loop. */
int px_probe(int source, int tag, MPI_Comm comm, MPI_Status *st);

/* ---- table.c: virtual (ABI) handle -> real object ---- */
MPI_Comm px_comm(int64_t abi);          /* MPI_COMM_NULL if unknown */
void px_comm_set(int64_t abi, MPI_Comm real);
MPI_Comm px_comm_take(int64_t abi);     /* forget and return it */
MPI_Request *px_req_slot(int64_t abi);  /* slot for a request id, grows */
MPI_Datatype px_type(int64_t abi);      /* MPI_DATATYPE_NULL if unknown */
MPI_Datatype px_type_derived(int64_t abi); /* px_type for non-predefined */
void px_type_set(int64_t abi, MPI_Datatype real);
MPI_Datatype px_type_take(int64_t abi); /* forget and return it */
MPI_Op px_op(int64_t abi);              /* MPI_OP_NULL if unknown */

/* ---- comm.c: the outcome of every communicator constructor ---- */
/* The creation call c returned rc and real: keep real under the new
 * handle (arg[1]) and reply with its members (layout in proxy/comm.c);
 * used by proxy/topo.c and proxy/intercomm.c too. */
void px_comm_made(struct chan_call *c, int rc, MPI_Comm real);

/* ---- idup.c ---- */
/* Request abi has completed (any completion call in req.c): finish what
 * waited for it in the proxy, such as an MPI_Comm_idup. */
void px_req_done(int64_t abi);

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
	c->err = real_code == MPI_SUCCESS ? 0 : px_err(real_code);
}

#endif
