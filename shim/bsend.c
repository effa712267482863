/*
 * bsend.c - buffered sends: MPI_Buffer_attach/detach, MPI_Bsend,
 * MPI_Ibsend (MPI_Bsend_init starts here too, from shim/persist.c).
 *
 * Why the shim, not the proxy, does the buffering: every send the shim
 * makes already copies the user's data into the channel's arena before
 * the call returns (shim/stage.c), so an ordinary MPI_Isend leaves the
 * user's buffer free at once, which is all a buffered send promises.
 * A buffered send is therefore an Isend the shim completes in the
 * background, and a checkpoint treats it as the ordinary send it is; a
 * buffer attached in the proxy would instead hold messages no image
 * keeps and would have to be attached again after a restart.
 *
 * The attached buffer is used for accounting only: each pending buffered
 * message holds its MPI_Pack_size plus HEADER bytes of it, released when
 * its Isend completes, so MPI_ERR_BUFFER comes when the application
 * attached too little.  Its contents are never touched.  HEADER is
 * MPICH's per-message overhead, the smaller of the two backends': the
 * ABI's MPI_BSEND_OVERHEAD (512) is what a program must reserve, and
 * programs tested on MPICH or Open MPI sometimes reserve only what those
 * charge (MPICH's pt2pt/bsend2 does).
 * MPI_Buffer_detach and MPI_Finalize wait until every buffered message
 * is sent.  Other sends nobody waits for (shim/isendrecv.c) are adopted
 * into the same list, holding no buffer space.  One
 * lock keeps the accounting whole when several threads send.
 */
#include "shim.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static pthread_mutex_t bb_lock = PTHREAD_MUTEX_INITIALIZER;

enum { HEADER = 96 };

static struct {
	void *buf;               /* attached buffer, NULL when none */
	int64_t size;
	int64_t used;            /* bytes held by pending messages */
	MPI_Request *req;        /* pending messages' Isends ... */
	int64_t *len;            /* ... and the bytes each holds */
	int n, cap;
} bb;

static int attach_locked(void *buffer, int64_t size, const char *fn)
{
	if (bb.buf)
		return shim_error(SHIM_NOCOMM, MPI_ERR_BUFFER, fn, "a buffer is attached already");
	if (size < 0)
		return shim_errorf(SHIM_NOCOMM, MPI_ERR_BUFFER, fn, "size %lld",
				   (long long)size);
	if (!buffer && size > 0)
		return shim_error(SHIM_NOCOMM, MPI_ERR_BUFFER, fn, "buffer is NULL");
	/* A zero-sized buffer still counts as attached: remember something. */
	bb.buf = buffer ? buffer : (void *)&bb;
	bb.size = size;
	bb.used = 0;
	return MPI_SUCCESS;
}

static int attach(void *buffer, int64_t size, const char *fn)
{
	pthread_mutex_lock(&bb_lock);
	int err = attach_locked(buffer, size, fn);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

int PMPI_Buffer_attach(void *buffer, int size)
{
	return attach(buffer, size, "MPI_Buffer_attach");
}
SHIM_WEAK(Buffer_attach)

int PMPI_Buffer_attach_c(void *buffer, MPI_Count size)
{
	return attach(buffer, size, "MPI_Buffer_attach_c");
}
SHIM_WEAK(Buffer_attach_c)

/* Drop the messages whose Isend completed, or wait for all of them. */
static int reap(int wait)
{
	int out = 0, err;
	int *idx = malloc((size_t)(bb.n ? bb.n : 1) * sizeof(int));

	if (!idx)
		return MPI_ERR_NO_MEM;
	if (wait) {
		err = PMPI_Waitall(bb.n, bb.req, MPI_STATUSES_IGNORE);
		bb.n = 0;
		bb.used = 0;
		free(idx);
		return err;
	}
	err = PMPI_Testsome(bb.n, bb.req, &out, idx, MPI_STATUSES_IGNORE);
	for (int j = 0; j < out && out != MPI_UNDEFINED; j++)
		bb.used -= bb.len[idx[j]];
	int k = 0;
	for (int i = 0; i < bb.n; i++) {
		if (bb.req[i] == MPI_REQUEST_NULL)
			continue;
		bb.req[k] = bb.req[i];
		bb.len[k++] = bb.len[i];
	}
	bb.n = k;
	free(idx);
	return err;
}

void shim_bsend_flush(void)
{
	pthread_mutex_lock(&bb_lock);
	if (bb.n)
		reap(1);
	pthread_mutex_unlock(&bb_lock);
}

static int detach_locked(void *buffer_addr, int64_t *size, const char *fn)
{
	if (!buffer_addr || !size)
		return shim_error(SHIM_NOCOMM, MPI_ERR_ARG, fn, "NULL argument");
	if (!bb.buf) {
		/* As both MPIs do: nothing attached gives NULL and 0. */
		*(void **)buffer_addr = NULL;
		*size = 0;
		return MPI_SUCCESS;
	}
	int err = reap(1);
	if (err)
		return shim_error(SHIM_NOCOMM, err, fn, "waiting for buffered messages");
	*(void **)buffer_addr = bb.buf == (void *)&bb ? NULL : bb.buf;
	*size = bb.size;
	bb.buf = NULL;
	bb.size = 0;
	return MPI_SUCCESS;
}

static int detach(void *buffer_addr, int64_t *size, const char *fn)
{
	pthread_mutex_lock(&bb_lock);
	int err = detach_locked(buffer_addr, size, fn);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

int PMPI_Buffer_detach(void *buffer_addr, int *size)
{
	int64_t n = 0;
	int err = detach(buffer_addr, &n, "MPI_Buffer_detach");

	if (!err)
		*size = (int)n;
	return err;
}
SHIM_WEAK(Buffer_detach)

int PMPI_Buffer_detach_c(void *buffer_addr, MPI_Count *size)
{
	int64_t n = 0;
	int err = detach(buffer_addr, &n, "MPI_Buffer_detach_c");

	if (!err)
		*size = n;
	return err;
}
SHIM_WEAK(Buffer_detach_c)

static int remember(MPI_Request h, int64_t len)
{
	if (bb.n == bb.cap) {
		int cap = bb.cap ? 2 * bb.cap : 16;
		MPI_Request *r = realloc(bb.req, (size_t)cap * sizeof(*r));
		if (!r)
			return MPI_ERR_NO_MEM;
		bb.req = r;
		int64_t *l = realloc(bb.len, (size_t)cap * sizeof(*l));
		if (!l)
			return MPI_ERR_NO_MEM;
		bb.len = l;
		bb.cap = cap;
	}
	bb.req[bb.n] = h;
	bb.len[bb.n++] = len;
	bb.used += len;
	return MPI_SUCCESS;
}

static int bsend_locked(const char *fn, const void *buf, int count, MPI_Datatype type,
			int dest, int tag, MPI_Comm comm)
{
	int packed, err;

	if ((err = PMPI_Pack_size(count, type, comm, &packed)))
		return err;
	if (dest == MPI_PROC_NULL)
		return PMPI_Send(buf, count, type, dest, tag, comm);
	int64_t need = (int64_t)packed + HEADER;
	if (bb.n && bb.used + need > bb.size && (err = reap(0)))
		return shim_error(comm, err, fn, "completing buffered messages");
	if (!bb.buf || bb.used + need > bb.size)
		return shim_errorf(comm, MPI_ERR_BUFFER, fn,
				   "message needs %lld bytes of the buffer, %lld of %lld are free",
				   (long long)need, (long long)(bb.size - bb.used),
				   (long long)bb.size);
	MPI_Request h;
	if ((err = PMPI_Isend(buf, count, type, dest, tag, comm, &h)))
		return err;
	if ((err = remember(h, need))) {
		PMPI_Wait(&h, MPI_STATUS_IGNORE);
		return shim_error(comm, err, fn, "no memory for a buffered message");
	}
	return MPI_SUCCESS;
}

int shim_bsend_start(const char *fn, const void *buf, int count, MPI_Datatype type,
		     int dest, int tag, MPI_Comm comm)
{
	pthread_mutex_lock(&bb_lock);
	int err = bsend_locked(fn, buf, count, type, dest, tag, comm);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

/* Adopted sends hold no buffer space; reap now and then so their arena
 * blocks come back even when nothing else does. */
int shim_bsend_adopt(MPI_Request h)
{
	pthread_mutex_lock(&bb_lock);
	if (bb.n >= 64)
		reap(0);
	int err = remember(h, 0);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

int PMPI_Bsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
	       MPI_Comm comm)
{
	return shim_bsend_start("MPI_Bsend", buf, count, datatype, dest, tag, comm);
}
SHIM_WEAK(Bsend)

int PMPI_Bsend_c(const void *buf, MPI_Count count, MPI_Datatype datatype, int dest, int tag,
		 MPI_Comm comm)
{
	if (count < 0 || count > INT32_MAX)
		return shim_errorf(comm, MPI_ERR_COUNT, "MPI_Bsend_c", "count %lld",
				   (long long)count);
	return shim_bsend_start("MPI_Bsend_c", buf, (int)count, datatype, dest, tag, comm);
}
SHIM_WEAK(Bsend_c)

/* Complete as soon as it returns: the message is buffered. */
static int ibsend(const char *fn, const void *buf, int count, MPI_Datatype type, int dest,
		  int tag, MPI_Comm comm, MPI_Request *request)
{
	int err = shim_bsend_start(fn, buf, count, type, dest, tag, comm);

	if (err)
		return err;
	struct shim_req *r = shim_req_new(SHIM_REQ_SEND, comm);
	if (!r)
		return shim_error(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	struct chan_status st = { 0 };
	st.source = MPI_ANY_SOURCE;
	st.tag = MPI_ANY_TAG;
	shim_req_done_locally(r, &st);
	*request = r->handle;
	return MPI_SUCCESS;
}

int PMPI_Ibsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
		MPI_Comm comm, MPI_Request *request)
{
	return ibsend("MPI_Ibsend", buf, count, datatype, dest, tag, comm, request);
}
SHIM_WEAK(Ibsend)

int PMPI_Ibsend_c(const void *buf, MPI_Count count, MPI_Datatype datatype, int dest, int tag,
		  MPI_Comm comm, MPI_Request *request)
{
	if (count < 0 || count > INT32_MAX)
		return shim_errorf(comm, MPI_ERR_COUNT, "MPI_Ibsend_c", "count %lld",
				   (long long)count);
	return ibsend("MPI_Ibsend_c", buf, (int)count, datatype, dest, tag, comm, request);
}
SHIM_WEAK(Ibsend_c)
