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
 * MPI-4.1 adds buffers attached to one communicator (its buffered sends
 * use that one instead of the process's), MPI_BUFFER_AUTOMATIC (no
 * limit) and flushing (wait until a buffer's messages are sent, keep the
 * buffer attached).  MPI_Comm_free detaches a communicator's buffer.
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
 * is sent, without the lock (wait_sent).  Other sends nobody waits for
 * (shim/isendrecv.c) are adopted into the same list, holding no buffer
 * space.  One lock keeps the accounting whole when several threads send.
 */
#include "shim.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/grow.h"

static pthread_mutex_t bb_lock = PTHREAD_MUTEX_INITIALIZER;

enum { HEADER = 96 };

/* An attached buffer: the process's (comm MPI_COMM_NULL) or, from
 * MPI_Comm_attach_buffer (MPI-4.1), one communicator's, which that
 * communicator's buffered sends use instead.  MPI_BUFFER_AUTOMATIC is a
 * buffer without limit. */
struct pool {
	MPI_Comm comm;
	void *buf;               /* NULL when none is attached */
	int64_t size;
	int64_t used;            /* bytes held by pending messages */
};

static struct pool proc_pool = { MPI_COMM_NULL, NULL, 0, 0 };
/* What a zero-sized buffer attached as NULL is remembered as: an address
 * no pool moves (comm_pools is a growing array). */
static char zero_sized;
static struct pool *comm_pools;
static int ncomm_pools;
static size_t cap_comm_pools;

/* A pending message: its Isend, the bytes it holds, and whose. */
struct held {
	MPI_Request req;
	int64_t len;
	MPI_Comm owner;
};

/* The pending messages. */
static struct {
	struct held *v;
	int n;
	size_t cap;
} bb;

/* The pool of key (a communicator, or MPI_COMM_NULL for the process's),
 * made empty if make; NULL if there is none (or no memory). */
static struct pool *pool_find(MPI_Comm key, int make)
{
	if (key == MPI_COMM_NULL)
		return &proc_pool;
	for (int i = 0; i < ncomm_pools; i++)
		if (comm_pools[i].comm == key)
			return &comm_pools[i];
	if (!make)
		return NULL;
	if (dm_grow((void **)&comm_pools, &cap_comm_pools, (size_t)ncomm_pools + 1,
		    sizeof(*comm_pools)) < 0)
		return NULL;
	struct pool *p = &comm_pools[ncomm_pools++];
	*p = (struct pool){ key, NULL, 0, 0 };
	return p;
}

/* What a buffered send on comm uses: its own buffer, else the process's. */
static struct pool *pool_for(MPI_Comm comm)
{
	struct pool *p = pool_find(comm, 0);

	return p && p->buf ? p : &proc_pool;
}

static int attach_locked(MPI_Comm key, void *buffer, int64_t size, const char *fn)
{
	MPI_Comm ec = key == MPI_COMM_NULL ? SHIM_NOCOMM : key;
	struct pool *p = pool_find(key, 1);

	if (!p)
		return shim_error(ec, MPI_ERR_NO_MEM, fn, NULL);
	if (p->buf)
		return shim_error(ec, MPI_ERR_BUFFER, fn, "a buffer is attached already");
	if (buffer == MPI_BUFFER_AUTOMATIC)
		size = INT64_MAX;
	if (size < 0)
		return shim_errorf(ec, MPI_ERR_BUFFER, fn, "size %lld", (long long)size);
	if (!buffer && size > 0)
		return shim_error(ec, MPI_ERR_BUFFER, fn, "buffer is NULL");
	/* A zero-sized buffer still counts as attached: remember something. */
	p->buf = buffer ? buffer : &zero_sized;
	p->size = size;
	p->used = 0;
	return MPI_SUCCESS;
}

static int attach(MPI_Comm key, void *buffer, int64_t size, const char *fn)
{
	pthread_mutex_lock(&bb_lock);
	int err = attach_locked(key, buffer, size, fn);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

int PMPI_Buffer_attach(void *buffer, int size)
{
	return attach(MPI_COMM_NULL, buffer, size, "MPI_Buffer_attach");
}
SHIM_WEAK(Buffer_attach)

int PMPI_Buffer_attach_c(void *buffer, MPI_Count size)
{
	return attach(MPI_COMM_NULL, buffer, size, "MPI_Buffer_attach_c");
}
SHIM_WEAK(Buffer_attach_c)

/* Take the pending messages that are done: give their bytes back and
 * drop them.  A test, never a wait, so it may run under bb_lock. */
static int settle(void)
{
	int m = bb.n, out = 0;
	int *done = malloc((size_t)(m ? m : 1) * sizeof(int));
	MPI_Request *q = malloc((size_t)(m ? m : 1) * sizeof(*q));

	if (!done || !q) {
		free(done);
		free(q);
		return MPI_ERR_NO_MEM;
	}
	for (int i = 0; i < m; i++)
		q[i] = bb.v[i].req;
	int err = PMPI_Testsome(m, q, &out, done, MPI_STATUSES_IGNORE);
	for (int i = 0; i < m; i++) {
		if (q[i] != MPI_REQUEST_NULL)
			continue;
		pool_find(bb.v[i].owner, 0)->used -= bb.v[i].len;
		bb.v[i].req = MPI_REQUEST_NULL;
	}
	int k = 0;
	for (int i = 0; i < m; i++)
		if (bb.v[i].req != MPI_REQUEST_NULL)
			bb.v[k++] = bb.v[i];
	bb.n = k;
	free(done);
	free(q);
	return err;
}

/* Move the pending messages of key's pool (of every pool, if all) out
 * of bb into *h, their requests into *q; how many, or -1 without
 * memory (nothing moved). */
static int take_out(int all, MPI_Comm key, struct held **h, MPI_Request **q)
{
	int m = 0, k = 0;

	for (int i = 0; i < bb.n; i++)
		m += all || bb.v[i].owner == key;
	if (!m)
		return 0;
	*h = malloc((size_t)m * sizeof(**h));
	*q = malloc((size_t)m * sizeof(**q));
	if (!*h || !*q) {
		free(*h);
		free(*q);
		return -1;
	}
	m = 0;
	for (int i = 0; i < bb.n; i++) {
		if (all || bb.v[i].owner == key) {
			(*q)[m] = bb.v[i].req;
			(*h)[m++] = bb.v[i];
		} else {
			bb.v[k++] = bb.v[i];
		}
	}
	bb.n = k;
	return m;
}

/* Wait until the messages of key's pool (of every pool, if all) are
 * sent, and give their bytes back.  Called and returns with bb_lock
 * held, but waits without it: under MPI_THREAD_MULTIPLE another
 * thread's buffered send, on another communicator's buffer, may be the
 * message the receiver of ours takes first (thread_bsenddetach.c).  The
 * messages stay charged to their pool while the wait lasts; those sent
 * meanwhile are waited for in the next round. */
static int wait_sent(int all, MPI_Comm key)
{
	struct held *h;
	MPI_Request *q;
	int m = 0, err = MPI_SUCCESS;

	while (!err && (m = take_out(all, key, &h, &q)) > 0) {
		pthread_mutex_unlock(&bb_lock);
		err = PMPI_Waitall(m, q, MPI_STATUSES_IGNORE);
		pthread_mutex_lock(&bb_lock);
		for (int j = 0; j < m; j++) {
			if (q[j] == MPI_REQUEST_NULL)
				pool_find(h[j].owner, 0)->used -= h[j].len;
			else if (dm_grow((void **)&bb.v, &bb.cap, (size_t)bb.n + 1,
					 sizeof(*bb.v)) == 0)
				bb.v[bb.n++] = h[j]; /* the wait failed: pending still */
		}
		free(h);
		free(q);
	}
	return m < 0 ? MPI_ERR_NO_MEM : err;
}

void shim_bsend_flush(void)
{
	pthread_mutex_lock(&bb_lock);
	wait_sent(1, MPI_COMM_NULL);
	pthread_mutex_unlock(&bb_lock);
}

/* Detached without waiting: its messages still go and stay charged to
 * the pool, since the shim never touches the buffer's bytes, and their
 * requests hold the handle (shim/comm.c), so no new communicator takes
 * it, and this pool, before they are done. */
void shim_bsend_comm_freed(MPI_Comm comm)
{
	pthread_mutex_lock(&bb_lock);
	struct pool *p = pool_find(comm, 0);
	if (p) {
		p->buf = NULL;
		p->size = 0;
	}
	pthread_mutex_unlock(&bb_lock);
}

static int detach_locked(MPI_Comm key, void *buffer_addr, int64_t *size, const char *fn)
{
	MPI_Comm ec = key == MPI_COMM_NULL ? SHIM_NOCOMM : key;
	struct pool *p = pool_find(key, 0);

	if (!buffer_addr || !size)
		return shim_error(ec, MPI_ERR_ARG, fn, "NULL argument");
	if (!p || !p->buf) {
		/* As both MPIs do: nothing attached gives NULL and 0. */
		*(void **)buffer_addr = NULL;
		*size = 0;
		return MPI_SUCCESS;
	}
	int err = wait_sent(0, key);
	if (err)
		return shim_error(ec, err, fn, "waiting for buffered messages");
	p = pool_find(key, 0); /* another thread's attach may have moved it */
	*(void **)buffer_addr = p->buf == &zero_sized ? NULL : p->buf;
	*size = p->buf == MPI_BUFFER_AUTOMATIC ? 0 : p->size;
	p->buf = NULL;
	p->size = 0;
	return MPI_SUCCESS;
}

static int detach(MPI_Comm key, void *buffer_addr, int64_t *size, const char *fn)
{
	pthread_mutex_lock(&bb_lock);
	int err = detach_locked(key, buffer_addr, size, fn);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

int PMPI_Buffer_detach(void *buffer_addr, int *size)
{
	int64_t n = 0;
	int err = detach(MPI_COMM_NULL, buffer_addr, &n, "MPI_Buffer_detach");

	if (!err)
		*size = (int)n;
	return err;
}
SHIM_WEAK(Buffer_detach)

/* MPI_Count is int64_t: the _c twins pass their size through. */
int PMPI_Buffer_detach_c(void *buffer_addr, MPI_Count *size)
{
	return detach(MPI_COMM_NULL, buffer_addr, size, "MPI_Buffer_detach_c");
}
SHIM_WEAK(Buffer_detach_c)

/* ---- MPI-4.1: communicator buffers, flushing ---- */

/* The calls that name a communicator: it must be a valid one (the
 * process's buffer is never reached through them). */
static int comm_attach(MPI_Comm comm, void *buffer, int64_t size, const char *fn)
{
	int err;

	if (!shim_comm_check(comm, fn, &err))
		return err;
	return attach(comm, buffer, size, fn);
}

static int comm_detach(MPI_Comm comm, void *buffer_addr, int64_t *size, const char *fn)
{
	int err;

	if (!shim_comm_check(comm, fn, &err))
		return err;
	return detach(comm, buffer_addr, size, fn);
}

int PMPI_Comm_attach_buffer(MPI_Comm comm, void *buffer, int size)
{
	return comm_attach(comm, buffer, size, "MPI_Comm_attach_buffer");
}
SHIM_WEAK(Comm_attach_buffer)

int PMPI_Comm_attach_buffer_c(MPI_Comm comm, void *buffer, MPI_Count size)
{
	return comm_attach(comm, buffer, size, "MPI_Comm_attach_buffer_c");
}
SHIM_WEAK(Comm_attach_buffer_c)

int PMPI_Comm_detach_buffer(MPI_Comm comm, void *buffer_addr, int *size)
{
	int64_t n = 0;
	int err = comm_detach(comm, buffer_addr, &n, "MPI_Comm_detach_buffer");

	if (!err)
		*size = (int)n;
	return err;
}
SHIM_WEAK(Comm_detach_buffer)

int PMPI_Comm_detach_buffer_c(MPI_Comm comm, void *buffer_addr, MPI_Count *size)
{
	return comm_detach(comm, buffer_addr, size, "MPI_Comm_detach_buffer_c");
}
SHIM_WEAK(Comm_detach_buffer_c)

/* Wait until the messages in key's buffer are sent; the buffer stays. */
static int flush(MPI_Comm key, const char *fn)
{
	pthread_mutex_lock(&bb_lock);
	int err = wait_sent(0, key);
	pthread_mutex_unlock(&bb_lock);
	return err ? shim_error(key == MPI_COMM_NULL ? SHIM_NOCOMM : key, err, fn,
				"waiting for buffered messages") : MPI_SUCCESS;
}

/* The nonblocking flushes flush at once and hand back a request that is
 * complete: the messages are already on their way in the proxy, so the
 * wait is for their sends, which need no action of another rank beyond
 * the receives the standard already requires. */
static int done_request(int err, MPI_Comm comm, MPI_Request *request, const char *fn)
{
	if (err)
		return err;
	if (!request)
		return shim_error(comm, MPI_ERR_ARG, fn, "request is NULL");
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

int PMPI_Buffer_flush(void)
{
	return flush(MPI_COMM_NULL, "MPI_Buffer_flush");
}
SHIM_WEAK(Buffer_flush)

int PMPI_Buffer_iflush(MPI_Request *request)
{
	return done_request(flush(MPI_COMM_NULL, "MPI_Buffer_iflush"), SHIM_NOCOMM, request,
			    "MPI_Buffer_iflush");
}
SHIM_WEAK(Buffer_iflush)

int PMPI_Comm_flush_buffer(MPI_Comm comm)
{
	int err;

	if (!shim_comm_check(comm, "MPI_Comm_flush_buffer", &err))
		return err;
	return flush(comm, "MPI_Comm_flush_buffer");
}
SHIM_WEAK(Comm_flush_buffer)

int PMPI_Comm_iflush_buffer(MPI_Comm comm, MPI_Request *request)
{
	int err;

	if (!shim_comm_check(comm, "MPI_Comm_iflush_buffer", &err))
		return err;
	return done_request(flush(comm, "MPI_Comm_iflush_buffer"), comm, request,
			    "MPI_Comm_iflush_buffer");
}
SHIM_WEAK(Comm_iflush_buffer)

static int remember(MPI_Request h, int64_t len, struct pool *p)
{
	if (dm_grow((void **)&bb.v, &bb.cap, (size_t)bb.n + 1, sizeof(*bb.v)) < 0)
		return MPI_ERR_NO_MEM;
	bb.v[bb.n++] = (struct held){ h, len, p->comm };
	p->used += len;
	return MPI_SUCCESS;
}

/* MPI_Pack_size's answer, also for a type a persistent request holds
 * after its handle was freed. */
static int bsend_size(const char *fn, int count, MPI_Datatype type, struct shim_type *held,
		      MPI_Comm comm, int *packed)
{
	if (!held)
		return PMPI_Pack_size(count, type, comm, packed);
	int64_t n = shim_type_packed_bytes(held, count);
	if (n < 0 || n > INT_MAX)
		return shim_errorf(comm, MPI_ERR_VALUE_TOO_LARGE, fn,
				   "%d elements take more than INT_MAX bytes", count);
	*packed = (int)n;
	return MPI_SUCCESS;
}

/* A persistent one's Start brings the type's and the communicator's
 * records (held, on), which outlive MPI_Type_free and MPI_Comm_free and
 * were checked at its Init; other calls look the handles up. */
static int bsend_locked(const char *fn, const void *buf, int count, MPI_Datatype type,
			struct shim_type *held, int dest, int tag, MPI_Comm comm,
			struct shim_comm *on)
{
	int packed, err;

	if ((err = bsend_size(fn, count, type, held, comm, &packed)))
		return err;
	if (dest == MPI_PROC_NULL)
		return held ? MPI_SUCCESS : PMPI_Send(buf, count, type, dest, tag, comm);
	int64_t need = (int64_t)packed + HEADER;
	struct pool *p = pool_for(comm);
	if (bb.n && p->used + need > p->size && (err = settle()))
		return shim_error(comm, err, fn, "completing buffered messages");
	if (!p->buf || p->used + need > p->size)
		return shim_errorf(comm, MPI_ERR_BUFFER, fn,
				   "message needs %lld bytes of the buffer, %lld of %lld are free",
				   (long long)need, (long long)(p->size - p->used),
				   (long long)p->size);
	MPI_Request h;
	/* The buffer is the caller's again at once. */
	if ((err = shim_p2p_isend_copy(fn, buf, count, type, held, dest, tag, comm, on, &h)))
		return err;
	if ((err = remember(h, need, p))) {
		PMPI_Wait(&h, MPI_STATUS_IGNORE);
		return shim_error(comm, err, fn, "no memory for a buffered message");
	}
	return MPI_SUCCESS;
}

int shim_bsend_start(const char *fn, const void *buf, int count, MPI_Datatype type,
		     struct shim_type *held, int dest, int tag, MPI_Comm comm,
		     struct shim_comm *on)
{
	pthread_mutex_lock(&bb_lock);
	int err = bsend_locked(fn, buf, count, type, held, dest, tag, comm, on);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

/* Adopted sends hold no buffer space; reap now and then so their arena
 * blocks come back even when nothing else does. */
int shim_bsend_adopt(MPI_Request h)
{
	pthread_mutex_lock(&bb_lock);
	if (bb.n >= 64)
		settle();
	int err = remember(h, 0, &proc_pool);
	pthread_mutex_unlock(&bb_lock);
	return err;
}

int PMPI_Bsend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag,
	       MPI_Comm comm)
{
	return shim_bsend_start("MPI_Bsend", buf, count, datatype, NULL, dest, tag, comm, NULL);
}
SHIM_WEAK(Bsend)

int PMPI_Bsend_c(const void *buf, MPI_Count count, MPI_Datatype datatype, int dest, int tag,
		 MPI_Comm comm)
{
	if (count < 0 || count > INT32_MAX)
		return shim_errorf(comm, MPI_ERR_COUNT, "MPI_Bsend_c", "count %lld",
				   (long long)count);
	return shim_bsend_start("MPI_Bsend_c", buf, (int)count, datatype, NULL, dest, tag,
				comm, NULL);
}
SHIM_WEAK(Bsend_c)

/* Complete as soon as it returns: the message is buffered. */
static int ibsend(const char *fn, const void *buf, int count, MPI_Datatype type, int dest,
		  int tag, MPI_Comm comm, MPI_Request *request)
{
	return done_request(shim_bsend_start(fn, buf, count, type, NULL, dest, tag, comm, NULL),
			    comm, request, fn);
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
