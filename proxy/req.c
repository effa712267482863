/*
 * req.c - completing requests, proxy side (layouts in shim/req.c).
 *
 * The real requests live in the table slot of their handle; completion
 * calls gather them into a scratch array, complete them with the test
 * loops of progress.c, and write them back (MPI sets completed ones to
 * MPI_REQUEST_NULL, which frees the slot for reuse).
 *
 * For a checkpoint: a completed receive request is counted
 * (px_count_recv), and a blocking completion call gives way to PARK: it
 * is answered CHAN_RETRY with the requests untouched (progress.c).
 */
#include "px.h"

#include <string.h>

#include "util/exitcode.h"
#include "util/grow.h"
#include "util/log.h"

/* Scratch arrays for multi-request calls, grown as needed. */
static MPI_Request *reals;
static MPI_Status *stats;
static int *idxs;
static size_t cap_reals, cap_stats, cap_idxs;

static void scratch(int n)
{
	if (dm_grow((void **)&reals, &cap_reals, (size_t)n, sizeof(*reals)) < 0 ||
	    dm_grow((void **)&stats, &cap_stats, (size_t)n, sizeof(*stats)) < 0 ||
	    dm_grow((void **)&idxs, &cap_idxs, (size_t)n, sizeof(*idxs)) < 0)
		dm_die(DM_EXIT_INTERNAL, "proxy: out of memory for %d requests", n);
}

/* The handle/status region of a multi-request call. */
struct region {
	int64_t *h;
	struct chan_status *st;
	int32_t *idx;
};

static void region_in(struct chan_call *c, int n, struct region *g)
{
	unsigned char *p = c->arg[1] == CHAN_OFF_NONE ? c->inl : px_ptr(c->arg[1]);

	g->h = (int64_t *)p;
	g->st = (struct chan_status *)(p + (size_t)n * sizeof(int64_t));
	g->idx = (int32_t *)(p + (size_t)n * (sizeof(int64_t) + sizeof(struct chan_status)));
}

/* Before a multi-request call: step the collectives that move only
 * when stepped (px_icoll_step), then take the requests' slots. */
static void gather(int n, const struct region *g)
{
	px_icoll_step();
	scratch(n);
	memset(stats, 0, (size_t)n * sizeof(*stats));
	for (int k = 0; k < n; k++)
		reals[k] = *px_req_slot(g->h[k]);
}

/* Request h completed with st: a receive counts for a checkpoint. */
static void count(int64_t h, const MPI_Status *st)
{
	if (px_req_kind(h) == PX_REQ_RECV)
		px_count_recv(st);
}

/* Request h is complete: it is no send or receive any more, and may have
 * work left in the proxy (px_req_done). */
static void finished(int64_t h)
{
	if (px_req_kind(h) == PX_REQ_COLL)
		px_icoll_done(h);
	if (px_req_kind(h) != PX_REQ_OTHER)
		px_req_mark(h, PX_REQ_OTHER);
	px_req_done(h);
}

/* Write the requests back; those the call completed are now
 * MPI_REQUEST_NULL. */
static void scatter(int n, const struct region *g)
{
	for (int k = 0; k < n; k++) {
		*px_req_slot(g->h[k]) = reals[k];
		if (reals[k] == MPI_REQUEST_NULL)
			finished(g->h[k]);
	}
}

/* Count the requests an all-call completed (before scatter: a slot
 * still holds the request as it was). */
static void count_all(int n, const struct region *g)
{
	for (int k = 0; k < n; k++)
		if (reals[k] == MPI_REQUEST_NULL && *px_req_slot(g->h[k]) != MPI_REQUEST_NULL)
			count(g->h[k], &stats[k]);
}

void px_call_WAIT(struct chan_call *c)
{
	MPI_Status st = { 0 };
	int rc = px_wait_app(px_req_slot(c->arg[0]), &st);

	if (rc == PX_RETRY) {
		px_reply(c, rc);
		return;
	}
	count(c->arg[0], &st);
	finished(c->arg[0]);
	px_status_out(&st, &c->status);
	px_reply(c, rc);
}

static void test(struct chan_call *c, int keep)
{
	MPI_Status st = { 0 };
	int flag = 0;

	px_icoll_step(); /* some collectives move only when stepped */
	MPI_Request *r = px_req_slot(c->arg[0]);
	int rc = keep ? MPI_Request_get_status(*r, &flag, &st) : MPI_Test(r, &flag, &st);

	c->arg[1] = flag;
	if (flag && !keep) {
		count(c->arg[0], &st);
		finished(c->arg[0]);
	}
	if (flag)
		px_status_out(&st, &c->status);
	px_reply(c, rc);
}

void px_call_TEST(struct chan_call *c)
{
	test(c, 0);
}

void px_call_REQUEST_GET_STATUS(struct chan_call *c)
{
	test(c, 1);
}

void px_call_CANCEL(struct chan_call *c)
{
	px_reply(c, MPI_Cancel(px_req_slot(c->arg[0])));
}

/* Error of a multi-request call: per-request errors go in the statuses. */
static void all_out(struct chan_call *c, int n, const struct region *g, int rc)
{
	for (int k = 0; k < n; k++)
		px_status_out(&stats[k], &g->st[k]);
	if (rc == MPI_ERR_IN_STATUS)
		c->err = ABI_ERR_IN_STATUS;
	else
		px_reply(c, rc);
}

void px_call_WAITALL(struct chan_call *c)
{
	struct region g;
	int n = (int)c->arg[0];

	region_in(c, n, &g);
	gather(n, &g);
	int rc = px_waitall(n, reals, stats);
	if (rc != PX_RETRY)
		count_all(n, &g);
	scatter(n, &g);
	if (rc == PX_RETRY)
		px_reply(c, rc);
	else
		all_out(c, n, &g, rc);
}

void px_call_TESTALL(struct chan_call *c)
{
	struct region g;
	int n = (int)c->arg[0], flag = 0;

	region_in(c, n, &g);
	gather(n, &g);
	int rc = MPI_Testall(n, reals, &flag, stats);
	count_all(n, &g);
	scatter(n, &g);
	c->arg[2] = flag;
	if (flag || rc != MPI_SUCCESS)
		all_out(c, n, &g, rc);
	else
		c->err = 0;
}

static void any(struct chan_call *c, int wait)
{
	struct region g;
	int n = (int)c->arg[0], idx = MPI_UNDEFINED, flag = 1;

	region_in(c, n, &g);
	gather(n, &g);
	int rc = wait ? px_waitany(n, reals, &idx, &stats[0])
		      : MPI_Testany(n, reals, &idx, &flag, &stats[0]);
	if (rc == PX_RETRY) {
		scatter(n, &g);
		px_reply(c, rc);
		return;
	}
	if (idx != MPI_UNDEFINED)
		count(g.h[idx], &stats[0]);
	scatter(n, &g);
	c->arg[2] = idx == MPI_UNDEFINED ? -1 : idx;
	c->arg[3] = flag;
	if (idx != MPI_UNDEFINED)
		px_status_out(&stats[0], &c->status);
	px_reply(c, rc);
}

void px_call_WAITANY(struct chan_call *c)
{
	any(c, 1);
}

void px_call_TESTANY(struct chan_call *c)
{
	any(c, 0);
}

static void some(struct chan_call *c, int wait)
{
	struct region g;
	int n = (int)c->arg[0], out = 0;

	region_in(c, n, &g);
	gather(n, &g);
	int rc = wait ? px_waitsome(n, reals, &out, idxs, stats)
		      : MPI_Testsome(n, reals, &out, idxs, stats);
	if (rc == PX_RETRY) {
		scatter(n, &g);
		px_reply(c, rc);
		return;
	}
	if (out == MPI_UNDEFINED)
		out = 0;
	for (int j = 0; j < out; j++)
		count(g.h[idxs[j]], &stats[j]);
	scatter(n, &g);
	c->arg[2] = out;
	for (int j = 0; j < out; j++) {
		g.idx[j] = idxs[j];
		px_status_out(&stats[j], &g.st[j]);
	}
	if (rc == MPI_ERR_IN_STATUS)
		c->err = ABI_ERR_IN_STATUS;
	else
		px_reply(c, rc);
}

void px_call_WAITSOME(struct chan_call *c)
{
	some(c, 1);
}

void px_call_TESTSOME(struct chan_call *c)
{
	some(c, 0);
}
