/*
 * idup.c - MPI_Comm_idup, proxy side (issued by shim/commdup.c).
 *
 *   COMM_IDUP  arg[0] parent, arg[1] handle for the new communicator,
 *              arg[2] request handle.  No members in the reply: a dup has
 *              the parent's, which the shim already knows.
 *
 * The real MPI writes the new communicator when the request completes,
 * so it needs an address that stays put until then: the communicator
 * table may move as it grows (proxy/table.c).  Each pending idup gets a
 * cell of its own; whichever completion call sees its request finish
 * (Wait, Test, Waitall, ... in proxy/req.c) calls px_req_done, which
 * moves the communicator into the table under its handle.
 */
#include "px.h"

#include <stdlib.h>

struct idup {
	int64_t req;            /* request handle (ABI) */
	int64_t comm;           /* handle of the new communicator (ABI) */
	MPI_Comm real;          /* written by the real MPI at completion */
	struct idup *next;
};

static struct idup *pending;

void px_call_COMM_IDUP(struct chan_call *c)
{
	MPI_Comm parent = px_comm(c->arg[0]);
	struct idup *d;

	if (parent == MPI_COMM_NULL) {
		px_reply(c, MPI_ERR_COMM);
		return;
	}
	if (!(d = malloc(sizeof(*d)))) {
		px_reply(c, MPI_ERR_NO_MEM);
		return;
	}
	d->req = c->arg[2];
	d->comm = c->arg[1];
	d->real = MPI_COMM_NULL;
	int rc = MPI_Comm_idup(parent, &d->real, px_req_slot(d->req));
	if (rc != MPI_SUCCESS) {
		free(d);
		px_reply(c, rc);
		return;
	}
	d->next = pending;
	pending = d;
	px_reply(c, MPI_SUCCESS);
}

void px_req_done(int64_t req)
{
	for (struct idup **pp = &pending; *pp; pp = &(*pp)->next) {
		struct idup *d = *pp;
		if (d->req != req)
			continue;
		*pp = d->next;
		/* Like every communicator the proxy makes (proxy/comm.c). */
		if (d->real != MPI_COMM_NULL)
			MPI_Comm_set_errhandler(d->real, MPI_ERRORS_RETURN);
		px_comm_set(d->comm, d->real);
		free(d);
		return;
	}
}
