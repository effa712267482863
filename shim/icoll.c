/*
 * icoll.c - nonblocking collectives, application side: their requests.
 *
 * Previous hop: the MPI_I* wrappers in shim/coll.c, which check and stage
 * exactly as their blocking twins do (one planner, struct coll_plan) and
 * send CALL_ICOLL.  Next hop: proxy/icoll.c, which starts the real
 * nonblocking collective on the staged block and answers at once, so a
 * rank never waits at initiation for peers that are still busy
 * elsewhere (Ibarrier; Send against Recv; Ibarrier must not deadlock).
 *
 * The request owns the staged block and a copy of the plan until it
 * completes; then (shim_icoll_complete, from any Wait/Test) the results
 * are copied into the application's buffers, as the blocking call does
 * right away.  Send data was staged at the call, which is safe because
 * the standard forbids changing it before completion.  The copy keeps
 * what completion reads and the application may change or free
 * meanwhile: the receive side's counts and displacements, and its
 * datatype records (held).
 *
 * Across a checkpoint a pending collective request is never cancelled:
 * it counts in its communicator's collective sequence like a blocking
 * one, so at TARGETS every member has started it, and the proxy keeps
 * DRAIN going until it completed (proxy/ckpt.c).  shim_icoll_drained
 * then completes each one here with MPI_Test, copies its results out
 * and marks it completed locally (shim_req_done_locally), so a Wait
 * after resume, or after a restart in a proxy that never saw it,
 * returns what it would have.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan/coll.h"
#include "coll_plan.h"
#include "util/fault.h"

/* A pending collective's plan, and room for the arrays it reads at
 * completion: the receive side's counts and displacements (2n ints)
 * and, for Alltoallw, its datatype records (n pointers). */
struct icoll {
	struct coll_plan p;
	struct shim_type *ts[];
};

/* The buffer that comes back: the receive buffer, or Bcast's only one.
 * No call has two. */
static const struct coll_buf *out_buf(const struct coll_plan *p)
{
	for (int i = 0; i < 2; i++)
		if (p->buf[i].staged && p->buf[i].copy_out)
			return &p->buf[i];
	return NULL;
}

static size_t keep_bytes(const struct coll_plan *p)
{
	const struct coll_buf *b = out_buf(p);
	size_t n = b && b->cnt ? (size_t)b->n : 0;

	return sizeof(struct icoll) + n * sizeof(struct shim_type *) + 2 * n * sizeof(int);
}

int shim_icoll_prepare(struct coll_plan *p)
{
	struct icoll *k = malloc(keep_bytes(p));

	if (!k)
		return MPI_ERR_NO_MEM;
	if (!(p->req = shim_req_new_user(SHIM_REQ_COLL, p->comm))) {
		free(k);
		return MPI_ERR_NO_MEM;
	}
	p->keep = k;
	return MPI_SUCCESS;
}

/* The datatypes of the buffer that comes back, held or released. */
static void hold_types(const struct coll_buf *b, int hold)
{
	void (*fn)(struct shim_type *) = hold ? shim_type_hold : shim_type_release;

	if (!b)
		return;
	if (b->ts) {
		for (int i = 0; i < b->n; i++)
			fn(b->ts[i]);
	} else {
		fn((struct shim_type *)b->t);
	}
}

/* Copy p into k, with the receive side's arrays in k's own room; the
 * other buffer is staged already and never read again. */
static void keep_plan(struct icoll *k, const struct coll_plan *p)
{
	const struct coll_buf *out = out_buf(p);

	memset(&k->p, 0, sizeof(k->p));
	k->p.st.off = ARENA_NONE; /* the block is the request's now */
	if (!out)
		return;
	struct coll_buf *b = &k->p.buf[out - p->buf];
	*b = *out;
	if (b->cnt) {
		int *cnt = (int *)(void *)(k->ts + b->n), *dsp = cnt + b->n;
		memcpy(cnt, b->cnt, (size_t)b->n * sizeof(int));
		memcpy(dsp, b->dsp, (size_t)b->n * sizeof(int));
		b->cnt = cnt;
		b->dsp = dsp;
		if (b->ts) {
			memcpy(k->ts, b->ts, (size_t)b->n * sizeof(*k->ts));
			b->ts = k->ts;
		}
	}
	hold_types(b, 1);
}

/* Test fault point icoll-finish-slow: an application thread that
 * completes a nonblocking collective stops for 2 s between copying its
 * results out and letting go of its plan (restart_finishwin.c arms it
 * around one MPI_Test).  Read at each completion: a getenv is little
 * beside the round trips of a collective. */
static int finish_slow(void)
{
	return !shim_ck_exempt && dm_fault("icoll-finish-slow");
}

/* Results out (when st says it completed), datatypes released, plan gone. */
static void finish_plan(struct shim_req *r, const struct chan_status *st)
{
	struct icoll *k = r->coll;

	if (!k)
		return;
	if (st && !r->local_done)
		shim_coll_plan_out(&k->p);
	if (finish_slow())
		nanosleep(&(struct timespec){ 2, 0 }, NULL);
	hold_types(out_buf(&k->p), 0);
	free(k);
	r->coll = NULL;
}

int shim_icoll_post(struct coll_plan *p, struct chan_call *c)
{
	struct shim_req *r = p->req;

	c->arg[COLL_REQ] = (int64_t)(intptr_t)r->handle;
	/* Under the slot lock: from here on a checkpoint's
	 * shim_icoll_drained counts r as started in the proxy. */
	keep_plan(p->keep, p);
	r->coll = p->keep;
	r->stage = p->st;
	int err = shim_call_run(c);
	if (err != MPI_SUCCESS) {
		r->stage.off = ARENA_NONE;
		finish_plan(r, NULL);
	}
	shim_call_end();
	if (err != MPI_SUCCESS) {
		shim_stage_free(&p->st);
		shim_req_complete(r, NULL);
		*p->request = MPI_REQUEST_NULL;
		return err;
	}
	*p->request = r->handle;
	return MPI_SUCCESS;
}

void shim_icoll_complete(struct shim_req *r, const struct chan_status *st)
{
	if (r->nb)
		shim_neighbor_complete(r, st);
	else
		finish_plan(r, st);
}

/* ---- at a checkpoint ---- */

static int pending(const struct shim_req *r)
{
	return r->kind == SHIM_REQ_COLL && !r->local_done && (r->coll || r->nb);
}

/* Complete r now if the proxy has (it has, after DRAIN). */
static int complete_now(struct shim_req *r)
{
	struct chan_call *c = shim_call_begin(CALL_TEST);

	c->arg[0] = (int64_t)(intptr_t)r->handle;
	int err = shim_call_run(c);
	int done = (int)c->arg[1];
	struct chan_status st = c->status;
	shim_call_end();
	if (err != MPI_SUCCESS || !done)
		return -1;
	shim_icoll_complete(r, &st);
	shim_req_done_locally(r, &st);
	return 0;
}

int shim_icoll_drained(void)
{
	size_t n;
	int rc = 0;

	/* The checkpoint client thread: its calls pass the parked gate.
	 * Requests are collected under the slot lock, which a collective
	 * holds from its start in the proxy until its request has a plan,
	 * and a completion call from the proxy's answer until the request
	 * is completed and freed (shim/req.c, single).  So none collected
	 * here is being completed by an application thread, and none can
	 * be until this ends: their next call waits at the gate. */
	shim_ck_exempt = 1;
	pthread_mutex_lock(&shim.lock);
	struct shim_req **l = shim_req_select(pending, &n);
	pthread_mutex_unlock(&shim.lock);
	for (size_t i = 0; i < n; i++)
		if (complete_now(l[i]) < 0)
			rc = -1;
	free(l);
	return rc;
}
