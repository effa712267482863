/*
 * coll_plan.h - how one collective's buffers cross the channel, shared by
 * the blocking collectives (shim/coll.c, which owns the planner) and the
 * nonblocking ones (shim/icoll.c, which keeps a plan in its request until
 * completion and copies the results back then).
 *
 * Private to those two files; the rules behind every field are in
 * shim/coll.c's header.
 */
#ifndef SHIM_COLL_PLAN_H
#define SHIM_COLL_PLAN_H

#include "shim.h"

/* A buffer argument of one call and how it crosses the channel. */
struct coll_buf {
	int slot;               /* COLL_SBUF or COLL_RBUF; 0: unused */
	const void *user;       /* the application's buffer (MPI_BOTTOM: NULL) */
	int in_place;           /* MPI_IN_PLACE: nothing staged */
	const struct shim_type *t;
	int64_t count;          /* elements at user ... */
	int64_t out_count;      /* ... and how many of them come back */
	const int *cnt, *dsp;   /* or v-variants: n blocks, cnt[i] elements */
	int n;                  /* at dsp[i] extents */
	struct shim_type **ts;  /* Alltoallw: block i is of ts[i], dsp[i] bytes */
	int copy_in, copy_out;
	int64_t lo, hi;         /* bytes [user + lo, user + hi) are staged */
	uint64_t skew;          /* image's offset within a cache line */
	int outside;            /* byte 0's image may fall outside the region */
	int staged;
	int borrowed;           /* inside an MPI_Alloc_mem block: arg names the
				 * buffer itself, nothing is copied */
	int64_t arg;            /* arena offset of user[0]'s image, or CHAN_OFF_* */
};

/* Everything one collective stages. */
struct coll_plan {
	struct coll_buf buf[2];
	const int *arr[4];      /* int arrays for the proxy, n entries each */
	int narr, n;
	const MPI_Datatype *types[2]; /* Alltoallw: after the int arrays */
	struct shim_stage st;
	/* A nonblocking collective: where its handle goes, and its record,
	 * made before the call is admitted so nothing can fail after. */
	MPI_Request *request;
	struct shim_req *req;
	struct icoll *keep;     /* the copy of the plan the request will keep */
	MPI_Comm comm;
};

/* Copy what the call produced from the staged images back into the
 * application's buffers (shim/coll.c). */
void shim_coll_plan_out(const struct coll_plan *p);

/* Nonblocking collectives (shim/icoll.c).  prepare makes p's request
 * record and the room its plan needs until completion (MPI_ERR_NO_MEM);
 * post runs the filled call c (slot locked), ends it, and on success
 * hands the staged block and the plan to the request. */
int shim_icoll_prepare(struct coll_plan *p);
int shim_icoll_post(struct coll_plan *p, struct chan_call *c);

#endif
