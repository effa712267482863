/*
 * coll.h - where the arguments of a collective call sit in chan_call.arg[].
 *
 * Every collective id (CALL_BARRIER ... CALL_EXSCAN, chan/calls.h) uses
 * this one layout, so the shim (shim/coll.c) and the proxy (proxy/coll.c)
 * cannot disagree about an index; a call simply leaves unused slots alone.
 * Which slots each call reads is documented above its proxy handler.
 * A nonblocking collective is CALL_ICOLL with the same slots as its
 * blocking twin, plus COLL_ID (the twin's id) and COLL_REQ.  Alltoallw's
 * datatypes follow its four int arrays as int64 ABI handles (send
 * datatypes, then receive datatypes).
 *
 * Buffers are arena offsets of the image of the application's buffer
 * (byte 0 of the user buffer, which may lie inside a staged block when
 * v-variant displacements are negative), or CHAN_OFF_NONE (no data on
 * this rank) or CHAN_OFF_IN_PLACE.  Arguments that are not significant on
 * the calling rank (Gather's receive side on a non-root, ...) travel as a
 * count of 0 and the datatype MPI_BYTE, so the real MPI never sees the
 * application's garbage there.
 */
#ifndef CHAN_COLL_H
#define CHAN_COLL_H

enum chan_coll_arg {
	COLL_COMM = 0,   /* communicator, ABI handle value */
	COLL_SBUF,       /* send (or Bcast's) buffer */
	COLL_SCOUNT,     /* send count; the count of Bcast and reductions */
	COLL_STYPE,      /* send datatype; the datatype of Bcast and reductions */
	COLL_RBUF,       /* receive buffer */
	COLL_RCOUNT,     /* receive count; Reduce_scatter_block's block */
	COLL_RTYPE,      /* receive datatype */
	COLL_OP,         /* reduction operation, ABI handle value */
	COLL_ROOT,       /* root rank */
	COLL_ARRAYS,     /* int arrays: CHAN_OFF_NONE = in inl[], else offset */
	COLL_NARR,       /* entries in each array; 0: no arrays on this rank */
	COLL_ID,         /* CALL_ICOLL: which collective (its blocking call id) */
	COLL_REQ,        /* CALL_ICOLL: the request's ABI handle */
	COLL_NARGS
};

/* Under MPI_THREAD_MULTIPLE (shim/mtwait.c): 0, or a request handle the
 * proxy stores the started collective under; it replies at once and the
 * shim completes the request with TEST polls.  Far from the slots above
 * so later layouts can grow. */
#define COLL_DETACH (CHAN_ARGS - 3)

#endif
