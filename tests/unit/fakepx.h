/*
 * fakepx.h - a proxy played by a thread of the test, for unit tests of
 * shim code that sends calls over the channel (test_coll.c, test_reap.c).
 *
 * A real channel is created in this process; the shim attaches one
 * mapping, the thread another (fakepx_ch), and the thread answers every
 * call with the test's function, which reads the arguments and the arena
 * through fakepx_ch and writes the reply (c->err starts as 0).  Posts on
 * the ring (ISEND, IRECV below MULTIPLE, chan/chan.h) go to the same
 * function, in order, before the call that follows them; their replies
 * are dropped, as the proxy drops them.  Header only: a unit test is one
 * .c file linked with the shim's objects.
 */
#ifndef FAKEPX_H
#define FAKEPX_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "shim/shim.h"

static struct chan fakepx_ch;    /* the proxy's own mapping */
static pthread_t fakepx_thread;
static void (*fakepx_answer)(struct chan_call *c);
static struct chan_call fakepx_posted; /* a ring post, as a call */

static void fakepx_take_ring(void)
{
	struct chan_ring_post p;

	while (chan_ring_next(&fakepx_ch, &p)) {
		fakepx_posted.id = p.id;
		fakepx_posted.err = 0;
		memcpy(fakepx_posted.arg, p.arg, sizeof(p.arg));
		fakepx_answer(&fakepx_posted);
	}
}

static void *fakepx_loop(void *arg)
{
	uint32_t last = 0;

	(void)arg;
	while (chan_wait(&fakepx_ch, CHAN_REQ, last) == 0) {
		struct chan_call *c = &fakepx_ch.hdr->call;

		last = chan_seq(&fakepx_ch, CHAN_REQ);
		fakepx_take_ring();
		c->err = 0;
		fakepx_answer(c);
		chan_post(&fakepx_ch, CHAN_RSP);
	}
	return NULL;
}

/* A channel of size bytes, the shim initialised as world rank me of n
 * with errors returned (not fatal), and the thread answering with
 * answer.  0, or -1 if any step failed. */
static inline int fakepx_start(uint64_t size, int me, int n,
			       void (*answer)(struct chan_call *c))
{
	int fd = chan_create(size);

	if (fd < 0 || chan_attach(&shim.ch, fd) < 0 || chan_attach(&fakepx_ch, fd) < 0)
		return -1;
	if (arena_init(&shim.arena, shim.ch.hdr->arena_size) < 0)
		return -1;
	shim.world_rank = me;
	shim.world_size = n;
	if (shim_comm_init_world(me, n) != MPI_SUCCESS)
		return -1;
	shim.attached = shim.initialized = 1;
	if (MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
	    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN) != MPI_SUCCESS)
		return -1;
	fakepx_answer = answer;
	return pthread_create(&fakepx_thread, NULL, fakepx_loop, NULL) == 0 ? 0 : -1;
}

/* The application is gone: the thread's wait fails and it ends. */
static inline void fakepx_stop(void)
{
	chan_set_state(&shim.ch, CHAN_APP_GONE);
	pthread_join(fakepx_thread, NULL);
}

/* The cmocka group fixtures most tests use: setup starts the thread on
 * a channel of size bytes as world rank me of n, teardown stops it. */
#define FAKEPX_FIXTURES(size, me, n, answer)                                  \
	static int setup(void **state)                                        \
	{                                                                     \
		(void)state;                                                  \
		return fakepx_start(size, me, n, answer);                     \
	}                                                                     \
	static int teardown(void **state)                                     \
	{                                                                     \
		(void)state;                                                  \
		fakepx_stop();                                                \
		return 0;                                                     \
	}

#endif
