/*
 * req.c - requests and their completion, application side.
 *
 * A request record owns the arena block of its message until the request
 * completes; a receive is copied into the user's buffer at completion,
 * through its datatype, which the record holds until then (the
 * application may free it meanwhile).
 * The proxy keeps the real request under the same handle index, unless
 * it found the request complete when it posted it (CALL_ARG_DONE) or at
 * a checkpoint: then the record is marked done here (local_done, with
 * the status and error to report) and completion calls answer it
 * without a round trip.
 *
 * Completion calls pass the active requests' handles as an array, in the
 * inline area or, when large, in an arena block (arg[1]); the proxy
 * writes one status per request after the handles:
 *
 *   region: int64 handle[n] | struct chan_status st[n] | int32 idx[n]
 *
 *   WAIT, TEST        0 request; TEST replies arg[1] flag; status
 *   REQUEST_GET_STATUS as TEST, but the request stays active
 *   CANCEL            0 request
 *   WAITALL, TESTALL  0 n, 1 region offset or CHAN_OFF_NONE (inline);
 *                     TESTALL replies arg[2] flag; st[] filled when done
 *   WAITANY, TESTANY  0 n, 1 region; replies arg[2] index (-1: none),
 *                     TESTANY arg[3] flag; status
 *   WAITSOME, TESTSOME 0 n, 1 region; replies arg[2] outcount, idx[],
 *                     st[] (in idx order)
 */
#include "shim.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

/* Requests freed while active: the proxy still works on them, so their
 * records and arena blocks stay until it reports them done.  They are
 * reaped when their number reaches reap_at, which then becomes twice
 * what is left (at least REAP_FIRST), so a loop of Isend and
 * Request_free costs O(1) tests per request; MPI_Finalize reaps them all. */
#define REAP_FIRST 16
static struct shim_req *zombies;
static int nzombies, reap_at = REAP_FIRST;

struct shim_req *shim_req_new(int kind, MPI_Comm comm)
{
	struct shim_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	uintptr_t h = shim_handle_new(SHIM_K_REQ, r);
	if (!h) {
		free(r);
		return NULL;
	}
	r->handle = (MPI_Request)h;
	r->kind = kind;
	r->comm = comm;
	r->held = shim_comm_hold(comm);
	r->stage.off = ARENA_NONE;
	return r;
}

struct shim_req *shim_req_get(MPI_Request h)
{
	return shim_handle_get(SHIM_K_REQ, (uintptr_t)h);
}

void shim_req_set_recv(struct shim_req *r, void *buf, int64_t count, struct shim_type *t)
{
	r->ubuf = buf;
	r->bottom = buf == MPI_BOTTOM;
	r->ucount = count;
	r->utype = t;
	shim_type_hold(t);
}

void shim_req_complete(struct shim_req *r, const struct chan_status *st)
{
	/* A cancelled receive delivered nothing, whatever its count says. */
	if (st && r->kind == SHIM_REQ_RECV && (r->ubuf || r->bottom) &&
	    r->stage.off != ARENA_NONE && !st->internal[2])
		shim_stage_unload_typed(r->ubuf, r->ucount, r->utype, r->base, r->stage.packed,
					 st);
	if (r->kind == SHIM_REQ_COLL)
		shim_icoll_complete(r, st);
	if (r->fold)
		shim_opreduce_done(r, st);
	if (r->utype)
		shim_type_release(r->utype);
	r->utype = NULL;
	shim_stage_free(&r->stage);
	if (r->persist && shim_persist_complete(r))
		return;
	if (r->greq)
		shim_greq_free(r);
	shim_comm_unhold(r->held);
	shim_handle_free(SHIM_K_REQ, (uintptr_t)r->handle);
	free(r);
}

/* ---- the handle/status region of multi-request calls ---- */

struct region {
	struct shim_stage stage;   /* arena block when it does not fit inline */
	int64_t *h;
	struct chan_status *st;
	int32_t *idx;
};

static size_t region_bytes(int n)
{
	return (size_t)n * (sizeof(int64_t) + sizeof(struct chan_status) + sizeof(int32_t));
}

static int region_open(struct region *g, int n, const char *fn)
{
	unsigned char *p;

	g->stage.off = ARENA_NONE;
	if (region_bytes(n) <= CHAN_INLINE_SIZE) {
		p = shim.ch.hdr->call.inl;
	} else {
		int err = shim_stage_alloc(&g->stage, region_bytes(n), fn);
		if (err)
			return err;
		p = shim_stage_ptr(&g->stage);
	}
	g->h = (int64_t *)p;
	g->st = (struct chan_status *)(p + (size_t)n * sizeof(int64_t));
	g->idx = (int32_t *)(p + (size_t)n * (sizeof(int64_t) + sizeof(struct chan_status)));
	return MPI_SUCCESS;
}

static int64_t region_arg(const struct region *g)
{
	return g->stage.off == ARENA_NONE ? CHAN_OFF_NONE : (int64_t)g->stage.off;
}

/* The active requests of a user array: their positions and records,
 * and how many generalized requests not complete yet it holds besides
 * (only MPI_Grequest_complete, in the app, completes those). */
struct active {
	int n;
	int greqs;
	int *pos;
	struct shim_req **req;
};

static int active_collect(struct active *a, int count, const MPI_Request *reqs,
			  const char *fn)
{
	a->n = 0;
	a->greqs = 0;
	a->pos = malloc((size_t)(count ? count : 1) * sizeof(int));
	a->req = malloc((size_t)(count ? count : 1) * sizeof(*a->req));
	if (!a->pos || !a->req) {
		free(a->pos);
		free(a->req);
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, fn, NULL);
	}
	for (int i = 0; i < count; i++) {
		if (reqs[i] == MPI_REQUEST_NULL)
			continue;
		struct shim_req *r = shim_req_get(reqs[i]);
		if (!r) {
			free(a->pos);
			free(a->req);
			return shim_errorf(SHIM_NOCOMM, MPI_ERR_REQUEST, fn,
					   "request %d is not a live request", i);
		}
		if (r->inactive)
			continue;
		if (r->greq && !r->local_done) {
			a->greqs++;
			continue;
		}
		a->pos[a->n] = i;
		a->req[a->n++] = r;
	}
	return MPI_SUCCESS;
}

static void active_free(struct active *a)
{
	free(a->pos);
	free(a->req);
}

/* Run completion call id on a's requests: their handles in a region,
 * then the call.  Returns the slot, still locked, with *err the call's
 * error.  Returns NULL with everything released (a, the region, the
 * slot) when the region could not be had (*err raised already) or a
 * checkpoint came on the way (*err CHAN_RETRY: some may be done now, so
 * the caller starts over). */
static struct chan_call *run_active(const char *fn, enum chan_call_id id, struct active *a,
				    struct region *g, int *err)
{
	if ((*err = region_open(g, a->n, fn))) {
		active_free(a);
		*err = shim_error(SHIM_NOCOMM, *err, fn, NULL);
		return NULL;
	}
	struct chan_call *c = shim_call_begin(id);
	*err = CHAN_RETRY; /* parked at the gate */
	if (!shim_call_was_parked()) {
		for (int k = 0; k < a->n; k++)
			g->h[k] = (int64_t)(intptr_t)a->req[k]->handle;
		c->arg[0] = a->n;
		c->arg[1] = region_arg(g);
		*err = shim_call_run(c);
	}
	if (*err != CHAN_RETRY)
		return c;
	shim_call_end();
	shim_stage_free(&g->stage);
	active_free(a);
	return NULL;
}

/* Correct what the proxy reported for a receive from MPI_PROC_NULL. */
static void fix_status(const struct shim_req *r, struct chan_status *st)
{
	if (r->from_proc_null)
		shim_status_proc_null(st);
}

/* Finish request k of a: copy out, free, clear the user's handle. */
static void finish(struct active *a, int k, MPI_Request *reqs, const struct chan_status *st)
{
	MPI_Request left = shim_req_left(a->req[k]);

	shim_req_complete(a->req[k], st);
	reqs[a->pos[k]] = left;
}

/* The communicator a failed request's error goes to, held until
 * raise_held: completing the request may let go of the last other hold
 * on a freed one (shim/comm.c). */
static MPI_Comm hold_for_error(const struct shim_req *r)
{
	shim_comm_hold(r->comm);
	return r->comm;
}

/* Let go of comm, from hold_for_error. */
static void let_go(MPI_Comm comm)
{
	if (comm != MPI_COMM_WORLD && comm != MPI_COMM_SELF)
		shim_comm_unhold(shim_handle_get(SHIM_K_COMM, (uintptr_t)comm));
}

/* Raise err on comm (from hold_for_error), then let go of it. */
static int raise_held(MPI_Comm comm, int err, const char *fn, const char *detail)
{
	err = shim_error(comm, err, fn, detail);
	let_go(comm);
	return err;
}

/* The error of a multi-completion call goes to the first failing
 * request's communicator (held), as MPI_ERR_IN_STATUS. */
static int raise_in_status(const char *fn, MPI_Comm comm)
{
	return raise_held(comm, MPI_ERR_IN_STATUS, fn, "see the statuses");
}

/* ---- requests completed in the app (at their post, a checkpoint) ---- */

_Atomic int shim_req_local;

/* local_done goes last, as a release: under MPI_THREAD_MULTIPLE a thread
 * waiting for the request (an MPI_Grequest_complete from another thread)
 * may complete and free r the moment it sees it. */
void shim_req_done_locally(struct shim_req *r, const struct chan_status *st)
{
	r->local_st = *st;
	r->ubuf = NULL; /* delivered already */
	shim_stage_free(&r->stage);
	atomic_fetch_add(&shim_req_local, 1);
	__atomic_store_n(&r->local_done, 1, __ATOMIC_RELEASE);
}

/* The error a locally completed request reports: a generalized one's
 * query result goes to its status only. */
static int local_err(const struct shim_req *r)
{
	return r->greq ? MPI_SUCCESS : r->local_st.error;
}

/* Finish a locally completed request: status out, record gone.  If it
 * failed, *bad becomes its communicator, held (unless set already): the
 * caller raises it with raise_held or raise_in_status. */
static void local_finish(MPI_Request *req, MPI_Status *status, int multi, MPI_Comm *bad)
{
	struct shim_req *r = shim_req_get(*req);

	if (r->greq)
		shim_greq_query(r);
	struct chan_status st = r->local_st;
	MPI_Request left = shim_req_left(r);

	if (local_err(r) && *bad == MPI_COMM_NULL)
		*bad = hold_for_error(r);
	if (multi && status != MPI_STATUSES_IGNORE)
		shim_status_out_multi(status, &st);
	else if (!multi)
		shim_status_out(status, &st);
	atomic_fetch_sub(&shim_req_local, 1);
	shim_req_complete(r, &st);
	*req = left;
}

static int is_local(MPI_Request h)
{
	struct shim_req *r = h == MPI_REQUEST_NULL ? NULL : shim_req_get(h);

	return r && r->local_done;
}

static int testall(int count, MPI_Request reqs[], int *flag, MPI_Status statuses[]);

/* Waitall/Testall with some requests completed in the app: the others
 * go to the proxy first (all or nothing for Testall), then ours.  Which
 * are ours is noted before: testall frees the others' handles, and under
 * MPI_THREAD_MULTIPLE another thread's post may take one of them for a
 * request completed at its post, which is_local would then call ours. */
static int local_all(int count, MPI_Request reqs[], int *flag, MPI_Status statuses[])
{
	size_t n = (size_t)(count ? count : 1);
	/* One block: rest[n] first (pointer-aligned), then st[n], local[n]. */
	MPI_Request *rest = malloc(n * (sizeof(MPI_Request) + sizeof(MPI_Status) + 1));
	int done = 1, err = MPI_SUCCESS;
	MPI_Comm bad = MPI_COMM_NULL;

	if (!rest)
		return shim_error(SHIM_NOCOMM, MPI_ERR_NO_MEM, "MPI_Waitall", NULL);
	MPI_Status *st = (MPI_Status *)(rest + n);
	unsigned char *local = (unsigned char *)(st + n);

	for (int i = 0; i < count; i++) {
		local[i] = (unsigned char)is_local(reqs[i]);
		rest[i] = local[i] ? MPI_REQUEST_NULL : reqs[i];
	}
	err = testall(count, rest, flag ? &done : NULL, st);
	if (done) {
		for (int i = 0; i < count; i++) {
			MPI_Status *out = statuses == MPI_STATUSES_IGNORE ? MPI_STATUSES_IGNORE
									 : &statuses[i];
			if (local[i]) {
				local_finish(&reqs[i], out, 1, &bad);
			} else {
				reqs[i] = rest[i];
				if (out != MPI_STATUSES_IGNORE)
					*out = st[i];
			}
		}
	}
	if (flag)
		*flag = done;
	free(rest);
	if (bad != MPI_COMM_NULL && !err)
		return raise_in_status(flag ? "MPI_Testall" : "MPI_Waitall", bad);
	if (bad != MPI_COMM_NULL) /* testall raised its own error */
		let_go(bad);
	return err;
}

/* 1 if a locally completed request was found and finished; *err is then
 * its error, raised. */
static int local_any(const char *fn, int count, MPI_Request reqs[], int *index, int *flag,
		     MPI_Status *status, int *err)
{
	for (int i = 0; i < count; i++) {
		if (is_local(reqs[i])) {
			MPI_Comm bad = MPI_COMM_NULL;
			int e = local_err(shim_req_get(reqs[i]));
			*index = i;
			if (flag)
				*flag = 1;
			local_finish(&reqs[i], status, 0, &bad);
			*err = e ? raise_held(bad, e, fn, NULL) : MPI_SUCCESS;
			return 1;
		}
	}
	return 0;
}

/* How many locally completed requests were finished; *err as Waitsome
 * reports them. */
static int local_some(const char *fn, int count, MPI_Request reqs[], int indices[],
		      MPI_Status statuses[], int *err)
{
	MPI_Comm bad = MPI_COMM_NULL;
	int out = 0;

	for (int i = 0; i < count; i++) {
		if (is_local(reqs[i])) {
			indices[out] = i;
			local_finish(&reqs[i], statuses == MPI_STATUSES_IGNORE ?
				     MPI_STATUSES_IGNORE : &statuses[out], 1, &bad);
			out++;
		}
	}
	*err = bad != MPI_COMM_NULL ? raise_in_status(fn, bad) : MPI_SUCCESS;
	return out;
}

/* ---- pending receives across a checkpoint ---- */

static _Atomic uint64_t posts;

void shim_req_note_recv(struct shim_req *r, MPI_Datatype type, int source, int tag)
{
	r->dtype = type;
	r->peer = source;
	r->tag = tag;
	r->posted = atomic_fetch_add(&posts, 1) + 1;
}

/* The proxy completed r and forgot it: at a checkpoint (PARK) or right
 * after posting it.  A receive's data is in the arena, which no image
 * keeps: deliver it now, and the completion call finds r done here. */
void shim_req_done_in_proxy(struct shim_req *r, const struct chan_status *st)
{
	if (r->kind == SHIM_REQ_RECV && (r->ubuf || r->bottom) && !st->internal[2])
		shim_stage_unload_typed(r->ubuf, r->ucount, r->utype, r->base, r->stage.packed,
					st);
	shim_req_done_locally(r, st);
}

/* Run c, the call that posts r: the proxy tests the new request once and
 * says in CALL_ARG_DONE that it completed and was forgotten.  Then r is
 * done here, before shim_call_end, so a checkpoint (which waits for an
 * idle slot) never sees it half done. */
int shim_req_post_run(struct shim_req *r, struct chan_call *c)
{
	c->arg[CALL_ARG_DONE] = 0;
	int err = shim_call_run(c);

	if (!err && c->arg[CALL_ARG_DONE])
		shim_req_done_in_proxy(r, &c->status);
	shim_call_end();
	return err;
}

/* What CTL_PARK did with a pending receive: it completed or was
 * cancelled. */
void shim_req_parked(const struct chan_parked *p)
{
	struct shim_req *r = shim_req_get((MPI_Request)(intptr_t)p->handle);

	if (!r)
		return;
	if (p->state == CHAN_PARKED_REPOST) {
		r->repost = 1;
		return;
	}
	if (p->state == CHAN_PARKED_SSEND) {
		shim_ssend_parked(r, p);
		return;
	}
	struct chan_status st = p->status;
	fix_status(r, &st);
	shim_req_done_in_proxy(r, &st);
}

struct req_list {
	struct shim_req **r;
	size_t n, cap;
	int (*keep)(const struct shim_req *r);
};

static void collect(uintptr_t h, void *obj, void *arg)
{
	struct req_list *l = arg;
	struct shim_req *r = obj;

	(void)h;
	if (!l->keep(r))
		return;
	if (dm_grow((void **)&l->r, &l->cap, l->n + 1, sizeof(*l->r)) < 0)
		return;
	l->r[l->n++] = r;
}

static int by_post(const void *a, const void *b)
{
	const struct shim_req *x = *(struct shim_req *const *)a;
	const struct shim_req *y = *(struct shim_req *const *)b;

	return (x->posted > y->posted) - (x->posted < y->posted);
}

/* Post r again, or complete it from the drain queue, which holds the
 * older messages. */
static void repost(struct shim_req *r)
{
	if (shim_ssend_repost(r))
		return;
	shim_state_lock();
	struct shim_drained *d = shim_drain_find(r->comm, r->peer, r->tag);
	struct chan_status st;

	r->repost = 0;
	if (d)
		shim_drain_deliver(d, r->ubuf, (int)r->ucount, r->utype, &st);
	shim_state_unlock();
	if (d) {
		shim_req_done_locally(r, &st);
		return;
	}
	int64_t count = r->ucount;
	MPI_Datatype type = r->dtype;
	shim_stage_wire(&r->stage, r->utype, &count, &type);
	struct chan_call *c = shim_call_begin(CALL_IRECV);
	c->arg[0] = r->base;
	c->arg[1] = count;
	c->arg[2] = (int64_t)(intptr_t)type;
	c->arg[3] = r->peer;
	c->arg[4] = r->tag;
	c->arg[5] = (int64_t)(intptr_t)r->comm;
	c->arg[6] = (int64_t)(intptr_t)r->handle;
	shim_req_post_run(r, c);
}

/* In the order the application posted them, as MPI matches them. */
struct shim_req **shim_req_select(int (*keep)(const struct shim_req *r), size_t *n)
{
	struct req_list l = { NULL, 0, 0, keep };

	shim_handle_each(SHIM_K_REQ, collect, &l);
	*n = l.n;
	return l.r;
}

static int to_repost(const struct shim_req *r)
{
	return r->repost;
}

void shim_req_repost_all(void)
{
	size_t n;
	struct shim_req **l = shim_req_select(to_repost, &n);

	qsort(l, n, sizeof(*l), by_post);
	for (size_t i = 0; i < n; i++)
		repost(l[i]);
	free(l);
}

/* Taken by the proxy and not complete here, nor waiting for anything
 * the shim does (a synchronous send's acknowledgement).  A send whose
 * post waits at the gate, its payload staged, is not in the proxy yet. */
static int active_send(const struct shim_req *r)
{
	return r->kind == SHIM_REQ_SEND && r->in_proxy && !r->inactive && !r->local_done &&
	       !r->ack_wait;
}

/* At RESTART, application threads wait at the gate for their calls,
 * and none was between a done answer and its request's end when the
 * image was taken (they are one stretch under the slot lock, which
 * DRAIN saw free; see single): no send picked here is being completed
 * or freed by another thread. */
void shim_req_sends_done(void)
{
	size_t n;
	struct shim_req **l = shim_req_select(active_send, &n);
	struct chan_status st;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++)
		shim_req_done_locally(l[i], &st);
	free(l);
}

/* ---- single request ---- */

/* Request_get_status found receive r complete in the proxy: its data is
 * the application's now, though the request lives on; copied once, so
 * the completion call leaves the buffer alone. */
static void deliver_early(struct shim_req *r, const struct chan_status *st)
{
	if (r->local_done || r->kind != SHIM_REQ_RECV || !(r->ubuf || r->bottom) ||
	    r->stage.off == ARENA_NONE || st->internal[2])
		return;
	shim_stage_unload_typed(r->ubuf, r->ucount, r->utype, r->base, r->stage.packed, st);
	r->ubuf = NULL;
	r->bottom = 0;
}

static int single(const char *fn, enum chan_call_id id, MPI_Request *request,
		  int *flag, MPI_Status *status)
{
	if (*request == MPI_REQUEST_NULL) {
		if (flag)
			*flag = 1;
		shim_status_empty(status);
		return MPI_SUCCESS;
	}
	shim_greq_drive(1, request, id == CALL_WAIT);
	struct shim_req *r = shim_req_get(*request);
	if (!r)
		return shim_error(SHIM_NOCOMM, MPI_ERR_REQUEST, fn, "not a live request");
	MPI_Comm comm = r->comm;
	struct chan_status st;
	int err = MPI_SUCCESS, done = 1, slot = 0, held = 0;
	if (r->inactive) {
		/* An inactive persistent request is complete, with nothing in it. */
		if (flag)
			*flag = 1;
		shim_status_empty(status);
		return MPI_SUCCESS;
	}
	/* Only MPI_Grequest_complete, from another thread, ends this wait. */
	while (r->greq && id == CALL_WAIT && !__atomic_load_n(&r->local_done, __ATOMIC_ACQUIRE))
		sched_yield();
	if (r->greq && !r->local_done) {
		done = 0;
	} else if (r->local_done) {
		if (r->greq)
			shim_greq_query(r);
		st = r->local_st;
		err = local_err(r);
	} else {
		struct chan_call *c = shim_call_begin(id);
		err = CHAN_RETRY; /* parked on the way: r may be done now */
		if (!shim_call_was_parked()) {
			c->arg[0] = (int64_t)(intptr_t)*request;
			err = shim_call_run(c);
		}
		done = id == CALL_WAIT ? 1 : (int)c->arg[1];
		st = c->status;
		if (err == CHAN_RETRY) { /* a checkpoint came: r may be done now */
			shim_call_end();
			return single(fn, id, request, flag, status);
		}
		fix_status(r, &st);
		slot = 1; /* kept until r is complete here: see below */
	}
	if (flag)
		*flag = done;
	if (done) {
		shim_status_out(status, &st);
		if (id == CALL_REQUEST_GET_STATUS) {
			deliver_early(r, &st);
		} else {
			MPI_Request left = shim_req_left(r);
			if (r->local_done)
				atomic_fetch_sub(&shim_req_local, 1);
			held = err != MPI_SUCCESS; /* r may be all that keeps comm */
			if (held)
				hold_for_error(r);
			shim_req_complete(r, &st);
			*request = left;
		}
	}
	/* The proxy forgot r when it answered done, so r is completed before
	 * the slot is let go, as testall and some do: a checkpoint's DRAIN
	 * and RESTART pick the requests they complete under the slot lock
	 * (shim_icoll_drained, shim_req_sends_done), and one that the proxy
	 * had answered and this thread not yet freed would be completed
	 * twice, or used after this thread freed it. */
	if (slot)
		shim_call_end();
	return held ? raise_held(comm, err, fn, NULL) : shim_error(comm, err, fn, NULL);
}

int PMPI_Wait(MPI_Request *request, MPI_Status *status)
{
	if (shim_mt())
		return shim_mt_wait(request, status);
	return single("MPI_Wait", CALL_WAIT, request, NULL, status);
}
SHIM_WEAK(Wait)

int PMPI_Test(MPI_Request *request, int *flag, MPI_Status *status)
{
	return single("MPI_Test", CALL_TEST, request, flag, status);
}
SHIM_WEAK(Test)

int PMPI_Request_get_status(MPI_Request request, int *flag, MPI_Status *status)
{
	return single("MPI_Request_get_status", CALL_REQUEST_GET_STATUS, &request, flag,
		      status);
}
SHIM_WEAK(Request_get_status)

int PMPI_Cancel(MPI_Request *request)
{
	struct shim_req *r = shim_req_get(*request);

	if (!r)
		return shim_error(SHIM_NOCOMM, MPI_ERR_REQUEST, "MPI_Cancel",
				  "not a live request");
	if (r->greq)
		return shim_greq_cancel(r);
	if (r->inactive || r->local_done)
		return MPI_SUCCESS;
	struct chan_call *c = shim_call_begin(CALL_CANCEL);
	if (r->local_done) { /* a restart at the gate completed it */
		shim_call_end();
		return MPI_SUCCESS;
	}
	c->arg[0] = (int64_t)(intptr_t)*request;
	return shim_error(r->comm, shim_call_simple(c), "MPI_Cancel", NULL);
}
SHIM_WEAK(Cancel)

/* The proxy keeps working on a freed active request; we keep its arena
 * block until the proxy reports it done (shim_req_reap). */
int PMPI_Request_free(MPI_Request *request)
{
	struct shim_req *r = shim_req_get(*request);

	if (!r)
		return shim_error(SHIM_NOCOMM, MPI_ERR_REQUEST, "MPI_Request_free",
				  "not a live request");
	r->ubuf = NULL; /* the application gave up on the data */
	r->bottom = 0;
	if (r->persist)
		shim_persist_forget(r);
	if (r->inactive || r->local_done || r->greq) {
		/* Nothing left in the proxy. */
		if (r->local_done)
			atomic_fetch_sub(&shim_req_local, 1);
		shim_req_complete(r, NULL);
		*request = MPI_REQUEST_NULL;
		return MPI_SUCCESS;
	}
	shim_state_lock();
	r->next_zombie = zombies;
	zombies = r;
	int due = ++nzombies >= reap_at;
	shim_state_unlock();
	*request = MPI_REQUEST_NULL;
	if (due)
		shim_req_reap(0);
	return MPI_SUCCESS;
}
SHIM_WEAK(Request_free)

/* Complete zombie r if the proxy is done with it (with wait: once it
 * is); 1 when r is gone.  A checkpoint on the way leaves it for later. */
static int reap_one(struct shim_req *r, int wait)
{
	if (r->local_done) { /* a checkpoint completed it */
		atomic_fetch_sub(&shim_req_local, 1);
		shim_req_complete(r, NULL);
		return 1;
	}
	struct chan_call *c = shim_call_begin(wait ? CALL_WAIT : CALL_TEST);
	int err = CHAN_RETRY;
	if (!shim_call_was_parked()) {
		c->arg[0] = (int64_t)(intptr_t)r->handle;
		err = shim_call_run(c);
	}
	int done = err != CHAN_RETRY && (wait || err != MPI_SUCCESS || c->arg[1]);
	if (done) /* before the slot goes, as in single */
		shim_req_complete(r, NULL);
	shim_call_end();
	return done;
}

/* The list is taken out under the state lock and the survivors put
 * back, so no call runs with that lock held. */
void shim_req_reap(int wait)
{
	shim_state_lock();
	struct shim_req *list = zombies, *keep = NULL, **tail = &keep;
	zombies = NULL;
	nzombies = 0;
	shim_state_unlock();
	int kept = 0;
	while (list) {
		struct shim_req *r = list;
		list = r->next_zombie;
		if (reap_one(r, wait))
			continue;
		*tail = r;
		tail = &r->next_zombie;
		kept++;
	}
	shim_state_lock();
	*tail = zombies;
	zombies = keep;
	nzombies += kept;
	reap_at = 2 * nzombies > REAP_FIRST ? 2 * nzombies : REAP_FIRST;
	shim_state_unlock();
	if (wait && kept) /* a checkpoint came in between */
		shim_req_reap(1);
}

/* ---- many requests ---- */

int PMPI_Waitall(int count, MPI_Request reqs[], MPI_Status statuses[])
{
	if (shim_mt())
		return shim_mt_waitall(count, reqs, statuses);
	return PMPI_Testall(count, reqs, NULL, statuses);
}
SHIM_WEAK(Waitall)

/* Waitall is Testall that waits: one implementation, flag == NULL. */
int PMPI_Testall(int count, MPI_Request reqs[], int *flag, MPI_Status statuses[])
{
	shim_greq_drive(count, reqs, 0);
	if (atomic_load(&shim_req_local))
		return local_all(count, reqs, flag, statuses);
	return testall(count, reqs, flag, statuses);
}
SHIM_WEAK(Testall)

/* Testall of requests that all live in the proxy. */
static int testall(int count, MPI_Request reqs[], int *flag, MPI_Status statuses[])
{
	const char *fn = flag ? "MPI_Testall" : "MPI_Waitall";
	struct active a;
	struct region g;
	int err = active_collect(&a, count, reqs, fn);

	if (err)
		return err;
	if (a.greqs) {
		/* Not all complete; Waitall polls until the application's
		 * other thread completes them. */
		active_free(&a);
		if (!flag)
			return shim_mt_waitall(count, reqs, statuses);
		*flag = 0;
		return MPI_SUCCESS;
	}
	if (a.n == 0) { /* nothing in the proxy (all done at their post, say) */
		active_free(&a);
		if (statuses != MPI_STATUSES_IGNORE)
			for (int i = 0; i < count; i++)
				shim_status_empty(&statuses[i]);
		if (flag)
			*flag = 1;
		return MPI_SUCCESS;
	}
	struct chan_call *c = run_active(fn, flag ? CALL_TESTALL : CALL_WAITALL, &a, &g, &err);
	if (!c)
		return err == CHAN_RETRY ? PMPI_Testall(count, reqs, flag, statuses) : err;
	int done = flag ? (int)c->arg[2] : 1;
	MPI_Comm bad = MPI_COMM_NULL;
	if (done) {
		if (statuses != MPI_STATUSES_IGNORE)
			for (int i = 0; i < count; i++)
				if (reqs[i] == MPI_REQUEST_NULL ||
				    shim_req_get(reqs[i])->inactive)
					shim_status_empty(&statuses[i]);
		for (int k = 0; k < a.n; k++) {
			fix_status(a.req[k], &g.st[k]);
			if (statuses != MPI_STATUSES_IGNORE)
				shim_status_out_multi(&statuses[a.pos[k]], &g.st[k]);
			if (g.st[k].error && bad == MPI_COMM_NULL)
				bad = hold_for_error(a.req[k]);
			finish(&a, k, reqs, &g.st[k]);
		}
	}
	shim_call_end();
	shim_stage_free(&g.stage);
	active_free(&a);
	if (flag)
		*flag = done;
	if (bad != MPI_COMM_NULL)
		return raise_in_status(fn, bad);
	return shim_error(MPI_COMM_WORLD, err, fn, NULL);
}

static int any(const char *fn, int count, MPI_Request reqs[], int *index, int *flag,
	       MPI_Status *status)
{
	struct active a;
	struct region g;

	shim_greq_drive(count, reqs, 0);
	int err;
	if (atomic_load(&shim_req_local) && local_any(fn, count, reqs, index, flag, status, &err))
		return err;
	err = active_collect(&a, count, reqs, fn);

	if (err)
		return err;
	if (a.greqs && !flag) { /* one may complete first: poll them all */
		active_free(&a);
		return shim_mt_waitany(count, reqs, index, status);
	}
	*index = MPI_UNDEFINED;
	if (a.n == 0) {
		active_free(&a);
		if (flag)
			*flag = !a.greqs;
		if (!a.greqs)
			shim_status_empty(status);
		return MPI_SUCCESS;
	}
	struct chan_call *c = run_active(fn, flag ? CALL_TESTANY : CALL_WAITANY, &a, &g, &err);
	if (!c)
		return err == CHAN_RETRY ? any(fn, count, reqs, index, flag, status) : err;
	int k = (int)c->arg[2];
	struct chan_status st = c->status;
	if (flag)
		*flag = (int)c->arg[3];
	MPI_Comm comm = MPI_COMM_WORLD;
	if (k >= 0 && k < a.n) { /* finished before the slot goes, as in single */
		fix_status(a.req[k], &st);
		*index = a.pos[k];
		comm = err ? hold_for_error(a.req[k]) : MPI_COMM_WORLD;
		shim_status_out(status, &st);
		finish(&a, k, reqs, &st);
	}
	shim_call_end();
	shim_stage_free(&g.stage);
	active_free(&a);
	return err ? raise_held(comm, err, fn, NULL) : MPI_SUCCESS;
}

int PMPI_Waitany(int count, MPI_Request reqs[], int *index, MPI_Status *status)
{
	if (shim_mt())
		return shim_mt_waitany(count, reqs, index, status);
	return any("MPI_Waitany", count, reqs, index, NULL, status);
}
SHIM_WEAK(Waitany)

int PMPI_Testany(int count, MPI_Request reqs[], int *index, int *flag, MPI_Status *status)
{
	return any("MPI_Testany", count, reqs, index, flag, status);
}
SHIM_WEAK(Testany)

static int some(const char *fn, enum chan_call_id id, int incount, MPI_Request reqs[],
		int *outcount, int indices[], MPI_Status statuses[])
{
	struct active a;
	struct region g;

	shim_greq_drive(incount, reqs, 0);
	int err;
	if (atomic_load(&shim_req_local) &&
	    (*outcount = local_some(fn, incount, reqs, indices, statuses, &err)) > 0)
		return err;
	err = active_collect(&a, incount, reqs, fn);

	if (err)
		return err;
	if (a.greqs && id == CALL_WAITSOME) { /* one may complete first */
		active_free(&a);
		return shim_mt_waitsome(incount, reqs, outcount, indices, statuses);
	}
	if (a.n == 0) {
		active_free(&a);
		*outcount = a.greqs ? 0 : MPI_UNDEFINED;
		return MPI_SUCCESS;
	}
	struct chan_call *c = run_active(fn, id, &a, &g, &err);
	if (!c)
		return err == CHAN_RETRY ? some(fn, id, incount, reqs, outcount, indices, statuses)
					 : err;
	int out = (int)c->arg[2];
	MPI_Comm bad = MPI_COMM_NULL;
	for (int j = 0; j < out; j++) {
		int k = g.idx[j];
		fix_status(a.req[k], &g.st[j]);
		indices[j] = a.pos[k];
		if (statuses != MPI_STATUSES_IGNORE)
			shim_status_out_multi(&statuses[j], &g.st[j]);
		if (g.st[j].error && bad == MPI_COMM_NULL)
			bad = hold_for_error(a.req[k]);
		finish(&a, k, reqs, &g.st[j]);
	}
	shim_call_end();
	shim_stage_free(&g.stage);
	active_free(&a);
	*outcount = out;
	if (bad != MPI_COMM_NULL)
		return raise_in_status(fn, bad);
	return shim_error(MPI_COMM_WORLD, err, fn, NULL);
}

int PMPI_Waitsome(int incount, MPI_Request reqs[], int *outcount, int indices[],
		  MPI_Status statuses[])
{
	if (shim_mt())
		return shim_mt_waitsome(incount, reqs, outcount, indices, statuses);
	return some("MPI_Waitsome", CALL_WAITSOME, incount, reqs, outcount, indices, statuses);
}
SHIM_WEAK(Waitsome)

int PMPI_Testsome(int incount, MPI_Request reqs[], int *outcount, int indices[],
		  MPI_Status statuses[])
{
	return some("MPI_Testsome", CALL_TESTSOME, incount, reqs, outcount, indices, statuses);
}
SHIM_WEAK(Testsome)
