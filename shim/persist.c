/*
 * persist.c - persistent point-to-point requests (MPI_Send_init family,
 * MPI_Recv_init, MPI_Start, MPI_Startall).
 *
 * A persistent request is an ordinary request record (shim/req.c) that
 * keeps the arguments of its Init call.  MPI_Start posts the ordinary
 * Isend or Irecv under the same handle, so the proxy needs nothing new:
 * to it, each Start is one more nonblocking call on a reused handle.
 * When the request completes, shim_req_complete hands it back here and
 * the record stays, inactive, instead of being freed; Wait and Test on an
 * inactive request return at once with an empty status (req.c).
 *
 * A persistent collective (shim/pcoll.c) is the same record with the
 * Init call's arguments in a struct shim_pcoll: Start hands it there.
 *
 * MPI_Comm_free leaves persistent requests working (MPI-4.1 7.4.3:
 * operations "active or inactive" at the free continue to work): the
 * request holds the communicator's record (shim/comm.c), so the proxy
 * keeps the real one, and a point-to-point Start posts on it; a restart
 * makes it, intercommunicators too, again in the new proxy
 * (shim/commheld.c).  A buffered one sends from the buffer attached to
 * the process (the communicator's own went with it, shim/bsend.c).  A
 * collective one is refused with MPI_ERR_COMM instead: it would count on
 * a communicator the checkpoint counts as gone.
 *
 * Checkpoint: an inactive request is only this record, in application
 * memory.  An active receive is a pending receive like any other, parked
 * and reposted by shim/ckpt.c and req.c; an active send is drained like
 * any other send.
 */
#include "shim.h"

#include <limits.h>
#include <stdlib.h>

/* What MPI_Start posts: the send modes of shim/p2p.c, then ours. */
enum { OP_SEND = 0, OP_SSEND = 1, OP_RSEND = 2, OP_BSEND = 3, OP_RECV = 4, OP_COLL = 5 };

struct shim_persist {
	int op;
	void *buf;
	int count;
	MPI_Datatype type;
	struct shim_type *t;     /* held: the application may free type */
	int peer, tag;
	MPI_Comm comm;
	const char *fn;          /* the Init call, for errors at Start */
	struct shim_pcoll *coll; /* OP_COLL: the collective's arguments (owned) */
};

static int make(const char *fn, int op, const void *buf, int count, MPI_Datatype type,
		int peer, int tag, MPI_Comm comm, MPI_Request *request)
{
	int err;

	if (!shim_comm_check(comm, fn, &err))
		return err;
	if ((err = shim_check_count(count)))
		return shim_errorf(comm, err, fn, "count %d", count);
	if (!request)
		return shim_error(comm, MPI_ERR_ARG, fn, "request is NULL");
	struct shim_type *t;
	if ((err = shim_type_check(type, &t)))
		return shim_errorf(comm, err, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)type, shim_type_why(type));
	struct shim_persist *p = malloc(sizeof(*p));
	struct shim_req *r = p ? shim_req_new(op == OP_RECV ? SHIM_REQ_RECV : SHIM_REQ_SEND,
					      comm) : NULL;
	if (!r) {
		free(p);
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	}
	*p = (struct shim_persist){ op, (void *)buf, count, type, t, peer, tag, comm, fn, NULL };
	shim_type_hold(t);
	r->persist = p;
	r->inactive = 1;
	*request = r->handle;
	return MPI_SUCCESS;
}

int shim_persist_coll_make(const char *fn, MPI_Comm comm, struct shim_pcoll *pc,
			   MPI_Request *request)
{
	struct shim_persist *p = malloc(sizeof(*p));
	struct shim_req *r = p ? shim_req_new(SHIM_REQ_COLL, comm) : NULL;

	if (!r) {
		free(p);
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	}
	*p = (struct shim_persist){ .op = OP_COLL, .comm = comm, .fn = fn, .coll = pc };
	r->persist = p;
	r->inactive = 1;
	*request = r->handle;
	return MPI_SUCCESS;
}

/* The large-count forms take what fits in an int. */
static int narrow(MPI_Count count, MPI_Comm comm, const char *fn, int *out)
{
	if (count < 0 || count > INT_MAX)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "count %lld",
				   (long long)count);
	*out = (int)count;
	return MPI_SUCCESS;
}

#define INIT_FORMS(Name, Op, Const)                                                     \
	int PMPI_##Name(Const void *buf, int count, MPI_Datatype datatype, int peer,     \
			int tag, MPI_Comm comm, MPI_Request *request)                    \
	{                                                                                \
		return make("MPI_" #Name, Op, buf, count, datatype, peer, tag, comm,     \
			    request);                                                    \
	}                                                                                \
	SHIM_WEAK(Name)                                                                  \
	int PMPI_##Name##_c(Const void *buf, MPI_Count count, MPI_Datatype datatype,     \
			    int peer, int tag, MPI_Comm comm, MPI_Request *request)      \
	{                                                                                \
		int n = 0, err = narrow(count, comm, "MPI_" #Name "_c", &n);             \
		return err ? err : make("MPI_" #Name "_c", Op, buf, n, datatype, peer,  \
					tag, comm, request);                             \
	}                                                                                \
	SHIM_WEAK(Name##_c)

INIT_FORMS(Send_init, OP_SEND, const)
INIT_FORMS(Ssend_init, OP_SSEND, const)
INIT_FORMS(Rsend_init, OP_RSEND, const)
INIT_FORMS(Bsend_init, OP_BSEND, const)
INIT_FORMS(Recv_init, OP_RECV, )

/* A buffered send is complete as soon as its data is in the buffer. */
static int start_bsend(struct shim_req *r, const struct shim_persist *p)
{
	int err = shim_bsend_start("MPI_Start", p->buf, p->count, p->type, p->t, p->peer, p->tag,
				   p->comm, r->held);
	if (err)
		return err;
	struct chan_status st = { 0 };
	st.source = MPI_ANY_SOURCE;
	st.tag = MPI_ANY_TAG;
	shim_req_done_locally(r, &st);
	return MPI_SUCCESS;
}

/* Why r cannot start on its freed communicator, or NULL if it can. */
static const char *freed_limit(const struct shim_req *r)
{
	const struct shim_comm *c = r->held;

	if (!c || !c->freed)
		return NULL;
	if (r->persist->op == OP_COLL)
		return "its communicator was freed; dmtcp_mpi starts no persistent "
		       "collective after that";
	return NULL;
}

static int start(MPI_Request *request, const char *fn)
{
	struct shim_req *r = request ? shim_req_get(*request) : NULL;

	if (!r || !r->persist)
		return shim_error(SHIM_NOCOMM, MPI_ERR_REQUEST, fn,
				  "not a persistent request");
	if (!r->inactive)
		return shim_error(r->comm, MPI_ERR_REQUEST, fn,
				  "the persistent request is active already");
	const char *limit = freed_limit(r);
	if (limit)
		return shim_error(r->comm, MPI_ERR_COMM, fn, limit);
	const struct shim_persist *p = r->persist;
	int err;
	r->inactive = 0;
	r->local_done = 0;
	r->ack_wait = 0; /* a checkpoint's wait for the last one's receive */
	if (p->op == OP_RECV)
		err = shim_p2p_post_recv(r, fn, p->buf, p->count, p->type, p->t, p->peer,
					 p->tag, p->comm, r->held);
	else if (p->op == OP_BSEND)
		err = start_bsend(r, p);
	else if (p->op == OP_COLL)
		err = shim_pcoll_start(r, p->coll);
	else
		err = shim_p2p_post_send(r, fn, p->buf, p->count, p->type, p->t, p->peer,
					 p->tag, p->comm, r->held, p->op, SHIM_STAGE_BORROW);
	if (err)
		r->inactive = 1;
	return err;
}

int PMPI_Start(MPI_Request *request)
{
	return start(request, "MPI_Start");
}
SHIM_WEAK(Start)

int PMPI_Startall(int count, MPI_Request array_of_requests[])
{
	int err;

	if ((err = shim_check_count(count)))
		return shim_errorf(SHIM_NOCOMM, err, "MPI_Startall", "count %d", count);
	for (int i = 0; i < count; i++)
		if ((err = start(&array_of_requests[i], "MPI_Startall")))
			return err;
	return MPI_SUCCESS;
}
SHIM_WEAK(Startall)

int shim_persist_complete(struct shim_req *r)
{
	r->inactive = 1;
	r->local_done = 0;
	r->repost = 0;
	r->ubuf = NULL;
	r->bottom = 0;
	return 1;
}

void shim_persist_forget(struct shim_req *r)
{
	if (r->persist->coll)
		shim_pcoll_free(r->persist->coll);
	else
		shim_type_release(r->persist->t);
	free(r->persist);
	r->persist = NULL;
}
