/*
 * mprobe.c - matched probe: MPI_Mprobe, MPI_Improbe, MPI_Mrecv,
 * MPI_Imrecv.
 *
 * A matched message must reach exactly the receive that names it, and
 * must survive a checkpoint between the probe and the receive.  Both
 * follow from taking the message out of MPI at the probe: once a probe
 * finds a message (source s, tag t), the shim receives the oldest
 * message from s with tag t (which MPI's ordering makes the probed one)
 * as raw bytes into application memory, and the MPI_Message handle names
 * that copy.  MPI_Mrecv then unpacks it through the receive datatype the
 * way drained messages are (shim/drain.c); nothing is left in the proxy
 * or the network, so a checkpoint has nothing to do for it.
 *
 * The price is one copy of the payload, and one thing MPI_Mprobe is
 * for: between the probe and the receive another thread's MPI_Recv on
 * the same (s, t) could take the message.  The receive then gets the
 * next message from s with tag t, still a match for the probe; only its
 * size may differ, and the status the probe returns is the receive's,
 * so it is always the message the handle holds.  Matched probes among
 * themselves are serialised.
 */
#include "shim.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t match_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t status_bytes(const MPI_Status *st)
{
	int64_t n;

	memcpy(&n, &st->MPI_internal[0], sizeof(n));
	return n;
}

/* Receive the probed message into a new record behind *message. */
static int take(const char *fn, const MPI_Status *probed, MPI_Comm comm,
		MPI_Message *message, MPI_Status *status)
{
	int64_t bytes = status_bytes(probed);

	if (bytes > INT_MAX)
		return shim_errorf(comm, MPI_ERR_COUNT, fn, "message of %lld bytes",
				   (long long)bytes);
	struct shim_drained *d = malloc(sizeof(*d) + (size_t)bytes);
	if (!d)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for the message");
	MPI_Status got;
	int err = PMPI_Recv(d->data, (int)bytes, MPI_BYTE, probed->MPI_SOURCE,
			    probed->MPI_TAG, comm, &got);
	if (err) {
		free(d);
		return err;
	}
	d->next = NULL;
	d->comm = comm;
	d->source = got.MPI_SOURCE;
	d->tag = got.MPI_TAG;
	d->bytes = (size_t)status_bytes(&got);
	uintptr_t h = shim_handle_new(SHIM_K_MESSAGE, d);
	if (!h) {
		free(d);
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a message handle");
	}
	*message = (MPI_Message)h;
	if (status != MPI_STATUS_IGNORE) {
		struct chan_status st;
		shim_drain_status(d, &st);
		shim_status_out(status, &st);
	}
	return MPI_SUCCESS;
}

static int mprobe(const char *fn, int source, int tag, MPI_Comm comm, int *flag,
		  MPI_Message *message, MPI_Status *status)
{
	MPI_Status probed;
	int found = 1, err;

	if (!message)
		return shim_error(comm, MPI_ERR_ARG, fn, "message is NULL");
	pthread_mutex_lock(&match_lock);
	if (flag)
		err = PMPI_Iprobe(source, tag, comm, &found, &probed);
	else
		err = PMPI_Probe(source, tag, comm, &probed);
	if (!err && found && source == MPI_PROC_NULL) {
		struct chan_status st;
		*message = MPI_MESSAGE_NO_PROC;
		shim_status_proc_null(&st);
		shim_status_out(status, &st);
	} else if (!err && found) {
		err = take(fn, &probed, comm, message, status);
	} else if (!err) {
		*message = MPI_MESSAGE_NULL;
	}
	pthread_mutex_unlock(&match_lock);
	if (flag && !err)
		*flag = found;
	return err;
}

int PMPI_Mprobe(int source, int tag, MPI_Comm comm, MPI_Message *message, MPI_Status *status)
{
	return mprobe("MPI_Mprobe", source, tag, comm, NULL, message, status);
}
SHIM_WEAK(Mprobe)

int PMPI_Improbe(int source, int tag, MPI_Comm comm, int *flag, MPI_Message *message,
		 MPI_Status *status)
{
	return mprobe("MPI_Improbe", source, tag, comm, flag, message, status);
}
SHIM_WEAK(Improbe)

/* Deliver the message behind *message into (buf, count, type); st gets
 * its status.  *message becomes MPI_MESSAGE_NULL. */
static int deliver(const char *fn, void *buf, int64_t count, MPI_Datatype type,
		   MPI_Message *message, struct chan_status *st, MPI_Comm *comm)
{
	struct shim_type *t;
	int err;

	*comm = SHIM_NOCOMM;
	if (!message)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "message is NULL");
	if (*message == MPI_MESSAGE_NO_PROC) {
		shim_status_proc_null(st);
		*message = MPI_MESSAGE_NULL;
		return MPI_SUCCESS;
	}
	struct shim_drained *d = shim_handle_get(SHIM_K_MESSAGE, (uintptr_t)*message);
	if (!d)
		return shim_error(SHIM_NOCOMM, MPI_ERR_REQUEST, fn, "not a matched message");
	*comm = d->comm;
	if (count < 0 || count > INT_MAX)
		return shim_errorf(d->comm, MPI_ERR_COUNT, fn, "count %lld", (long long)count);
	if ((err = shim_type_check(type, &t)))
		return shim_errorf(d->comm, err, fn, "datatype %#lx is %s",
				   (unsigned long)(uintptr_t)type, shim_type_why(type));
	err = shim_drain_unpack(d, buf, (int)count, t, st);
	shim_handle_free(SHIM_K_MESSAGE, (uintptr_t)*message);
	free(d);
	*message = MPI_MESSAGE_NULL;
	return err ? shim_error(*comm, err, fn, NULL) : MPI_SUCCESS;
}

/* Mrecv (blocking: the status out), or Imrecv, whose request is
 * complete when it is made: the data is here already. */
static int mrecv(const char *fn, int blocking, void *buf, int64_t count, MPI_Datatype type,
		 MPI_Message *message, MPI_Status *status, MPI_Request *request)
{
	struct chan_status st;
	MPI_Comm comm;

	if (!blocking && !request)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "request is NULL");
	int err = deliver(fn, buf, count, type, message, &st, &comm);
	if (err && err != MPI_ERR_TRUNCATE)
		return err;
	if (blocking) {
		shim_status_out(status, &st);
		return err;
	}
	struct shim_req *r = shim_req_new(SHIM_REQ_RECV, comm);
	if (!r)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	shim_req_done_locally(r, &st);
	*request = r->handle;
	return MPI_SUCCESS;
}

int PMPI_Mrecv(void *buf, int count, MPI_Datatype datatype, MPI_Message *message,
	       MPI_Status *status)
{
	return mrecv("MPI_Mrecv", 1, buf, count, datatype, message, status, NULL);
}
SHIM_WEAK(Mrecv)

int PMPI_Mrecv_c(void *buf, MPI_Count count, MPI_Datatype datatype, MPI_Message *message,
		 MPI_Status *status)
{
	return mrecv("MPI_Mrecv_c", 1, buf, count, datatype, message, status, NULL);
}
SHIM_WEAK(Mrecv_c)

int PMPI_Imrecv(void *buf, int count, MPI_Datatype datatype, MPI_Message *message,
		MPI_Request *request)
{
	return mrecv("MPI_Imrecv", 0, buf, count, datatype, message, NULL, request);
}
SHIM_WEAK(Imrecv)

int PMPI_Imrecv_c(void *buf, MPI_Count count, MPI_Datatype datatype, MPI_Message *message,
		  MPI_Request *request)
{
	return mrecv("MPI_Imrecv_c", 0, buf, count, datatype, message, NULL, request);
}
SHIM_WEAK(Imrecv_c)
