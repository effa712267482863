/*
 * ctorbg.c - communicator constructors on threads of their own, under
 * MPI_THREAD_MULTIPLE (issued by shim/mtwait.c).
 *
 *   COMM_SPLIT, COMM_SPLIT_TYPE, COMM_CREATE, COMM_CREATE_GROUP, the
 *   topology constructors (proxy/topo.c), INTERCOMM_CREATE and
 *   INTERCOMM_MERGE (proxy/intercomm.c), with
 *              CALL_ARG_DETACH = token (chan/calls.h): reply at once;
 *   COMM_POLL  arg[0] token -> arg[2] 1 once the communicator is made,
 *              and then the constructor's whole reply (proxy/comm.c).
 *
 * MPI has no nonblocking split or create.  Made in the proxy's only
 * thread, two of them on different communicators, which an application's
 * threads may enter in different orders on two ranks, wait for each
 * other: rank 0's proxy blocks in create(A) until rank 1 enters it, rank
 * 1's in create(B) until rank 0 does (MPICH 4.0 even crashes on that).
 * So each one blocks on a thread of its own while the main thread goes on
 * serving calls, the real MPI being initialised at MPI_THREAD_MULTIPLE
 * (proxy/env.c).  The thread writes only its job: the communicator, its
 * id (agreed with MPI_Wait, proxy/gid.c) and the reply; the main thread
 * keeps the communicator in its table when a poll finds the job done.
 * A finished job steps its token's constructor word (chan/chan.h), on
 * which the application thread that waits for it sleeps between polls
 * (shim_mt_ctor_run).
 * When the real MPI did not grant MULTIPLE, the job runs at once in the
 * main thread, as without CALL_ARG_DETACH.
 */
#include "px.h"
#include "util/fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

_Thread_local int px_on_ctor_thread;

struct ctor_job {
	int64_t token;
	MPI_Comm parent;
	MPI_Comm real;           /* the new communicator, once done */
	px_make_fn *make;
	px_more_fn *more;
	int rc;
	atomic_int done;
	struct ctor_job *next;   /* jobs not collected yet (main thread) */
	struct chan_call call;   /* the request, then the reply */
};

static struct ctor_job *jobs;

static void run_job(struct ctor_job *j)
{
	int rc = j->make(&j->call, j->parent, &j->real);

	j->rc = px_comm_describe(&j->call, rc, &j->real, j->more);
	atomic_store(&j->done, 1);
	chan_post_ctor(&px.ch, j->token);
}

/* Under MPICH a constructor thread waits inside the real MPI by testing
 * in a loop (it tests, drops the global lock, yields, takes it again), so
 * it is always runnable.  Every call of the rank's other threads goes through
 * the one slot, the application thread and our main thread each woken in
 * turn; behind a few such waiters at the same priority each wake-up
 * waited milliseconds for a CPU.  Niced, the waiters take the CPU only
 * when those have none to run.  MPICH's threads/comm/
 * comm_create_group_threads, 2 ranks, 2 CPU hogs, machine at load 15:
 * 16.4-20.5 s at nice +0, 12.0-14.2 s at +15 (a made communicator waited
 * 2.7 ms for the application's poll, then 0.7 ms).  Not under Open MPI,
 * where one waiting thread makes progress for all while the others sleep:
 * niced, that one lags behind everything else (the same test, 2 ranks:
 * 4.0-4.4 s at +0, 6.3-7.9 s at +15). */
#define PX_CTOR_NICE 15

static void yield_to_callers(void)
{
	id_t tid = (id_t)syscall(SYS_gettid);
	int now = getpriority(PRIO_PROCESS, tid);

	/* Failure only leaves the thread at its priority. */
	if (now + PX_CTOR_NICE <= 19)
		setpriority(PRIO_PROCESS, tid, now + PX_CTOR_NICE);
}

static void *ctor_thread(void *arg)
{
	px_on_ctor_thread = 1;
	if (PX_MPICH)
		yield_to_callers();
	/* DMTCP_MPI_FAULT=ctor-late: a thread slow to start, as on a loaded
	 * machine (tests/ckpt-mpi/restart_iccmt.sh). */
	if (dm_fault("ctor-late"))
		sleep(2);
	run_job(arg);
	return NULL;
}

/* Start j on a thread of its own; 0 on success. */
static int start_thread(struct ctor_job *j)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	if (pthread_attr_init(&a))
		return -1;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &a, ctor_thread, j);
	pthread_attr_destroy(&a);
	return rc;
}

static void start(struct chan_call *c, MPI_Comm parent, px_make_fn *make, px_more_fn *more,
		  int here)
{
	struct ctor_job *j = malloc(sizeof(*j));

	if (!j) {
		px_reply(c, MPI_ERR_NO_MEM);
		return;
	}
	memcpy(&j->call, c, offsetof(struct chan_call, inl) + c->inl_len);
	j->token = c->arg[CALL_ARG_DETACH];
	j->parent = parent;
	j->real = MPI_COMM_NULL;
	j->make = make;
	j->more = more;
	atomic_init(&j->done, 0);
	if (!px.mt || here)
		run_job(j);
	else if (start_thread(j)) {
		free(j);
		px_reply(c, MPI_ERR_OTHER);
		return;
	}
	j->next = jobs;
	jobs = j;
	px_reply(c, MPI_SUCCESS);
}

void px_ctor_start(struct chan_call *c, MPI_Comm parent, px_make_fn *make, px_more_fn *more)
{
	start(c, parent, make, more, 0);
}

void px_ctor_start_here(struct chan_call *c, MPI_Comm parent, px_make_fn *make,
			px_more_fn *more)
{
	start(c, parent, make, more, 1);
}

int px_ctor_running(void)
{
	int n = 0;

	for (const struct ctor_job *j = jobs; j; j = j->next)
		n += !atomic_load(&j->done);
	return n;
}

void px_call_COMM_POLL(struct chan_call *c)
{
	struct ctor_job **pp = &jobs;

	while (*pp && (*pp)->token != c->arg[0])
		pp = &(*pp)->next;
	struct ctor_job *j = *pp;
	if (!j) {
		px_reply(c, MPI_ERR_INTERN);
		return;
	}
	if (!atomic_load(&j->done)) {
		c->arg[2] = 0;
		px_reply(c, MPI_SUCCESS);
		return;
	}
	*pp = j->next;
	memcpy(c->arg, j->call.arg, sizeof(c->arg));
	memcpy(c->inl, j->call.inl, j->call.inl_len);
	c->inl_len = j->call.inl_len;
	c->arg[2] = 1;
	px_comm_keep(c, j->rc, j->real);
	free(j);
}
