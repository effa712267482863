/*
 * chan.h - the shared-memory channel between an application and its proxy.
 *
 * One channel per rank: a memfd created by the launcher (private to the
 * user by construction: it is reachable only through an inherited fd) and
 * mapped by both the app (shim) and the proxy.  Layout:
 *
 *   [ struct chan_hdr | struct chan_call (the call slot) | arena ... ]
 *
 * Protocol (one outstanding call at a time; the shim serialises threads):
 *   app:   fill hdr->call, chan_post(ch, CHAN_REQ)      -> req_seq++
 *   proxy: sees req_seq move (it waits on the doorbell, below), serve,
 *          fill reply, chan_post(ch, CHAN_RSP)          -> rsp_seq++
 *   app:   chan_wait(ch, CHAN_RSP, seen) returns, read reply.
 *
 * A second slot, hdr->ctl, carries the checkpoint's control requests from
 * the engine's client thread (chan/ctl.c) with its own pair of words,
 * CHAN_CTL_REQ / CHAN_CTL_RSP, so it can reach the proxy while the call
 * slot is busy (an app thread blocked in MPI_Recv).  The proxy has to
 * notice either kind of request while idle, so every post of CHAN_REQ or
 * CHAN_CTL_REQ also rings a doorbell word, CHAN_BELL, and the idle proxy
 * sleeps on that one word.  While it progresses a blocking call it polls
 * seq[CHAN_CTL_REQ] instead (proxy/progress.c).
 *
 * The post ring.  Below MPI_THREAD_MULTIPLE an ISEND or IRECV needs no
 * reply (the shim picked the request handle, arguments were checked), so
 * the shim writes it into hdr->ring[] instead of the call slot and goes
 * on (shim_p2p_post_send/recv, chan/ring.c).  seq[CHAN_POSTS] counts the
 * entries published, hdr->ring_taken those the proxy took; a full ring
 * (CHAN_RING_SIZE published, not taken) makes the shim use the call
 * slot.  Publishing rings the bell, and the proxy takes every entry, in
 * order, whenever it wakes, before it serves the call slot and before
 * each control request (proxy/ring.c): MPI's progress rule holds (a send
 * starts while the application computes) and no call or checkpoint
 * step overtakes a post the application made before it.  A post that
 * fails in the proxy fails the request's completion call instead.
 *
 * Waiting is adaptive: spin (pause) while the peer runs on another CPU,
 * sched_yield so a peer sharing our CPU gets to run, then sleep on a futex
 * so a computing app costs its proxy no CPU and vice versa.
 *
 * Payloads larger than the inline area travel through the arena, a region
 * carved up by the app side (chan/arena.c); calls carry arena offsets.
 *
 * Constructor words.  Under MPI_THREAD_MULTIPLE an application thread
 * waits for a communicator the proxy makes on a thread of its own
 * (shim/mtwait.c, proxy/ctorbg.c), named by a token the shim picked.
 * The proxy steps the token's word, hdr->ctor[token % CHAN_CTOR_WORDS],
 * when that constructor ends, and the waiter sleeps on that word alone:
 * the end of another thread's constructor wakes nobody else (one word
 * for all of them woke every waiter, and all but one polled the proxy
 * for nothing).  Two constructors in flight whose tokens share a word
 * cost the one not done a poll, no more.
 */
#ifndef CHAN_H
#define CHAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CHAN_MAGIC 0x4e414843u /* "CHAN" */
#define CHAN_VERSION 8u

#define CHAN_ARGS 24                   /* scalar slots per call */
#define CHAN_INLINE_SIZE (256u << 10)  /* arrays, strings, status arrays */
#define CHAN_ARENA_DEFAULT (1024ull << 20) /* sparse; DMTCP_MPI_ARENA_MB */

/* Buffer arguments are arena offsets; these two are not offsets. */
#define CHAN_OFF_NONE (-1)     /* no buffer (count 0, or not significant) */
#define CHAN_OFF_IN_PLACE (-2) /* MPI_IN_PLACE */

/* Environment variable naming the inherited channel fd. */
#define CHAN_ENV_FD "DMTCP_MPI_CHAN_FD"

/* The fd number the launcher dup2s the channel to, for both children: a
 * restored application finds its new channel where the old one was. */
#define DMTCP_MPI_CHAN_FD_NUM 1000

/* chan_call.err of a call the proxy abandoned for a checkpoint (PARK):
 * the call's id, arguments and inline bytes are left as they were (a
 * SENDRECV is turned into a RECV, see proxy/p2p.c; its send, and a
 * SEND's, is complete or kept under the call's spare request); the app
 * posts it again after RESUME or RESTART.  Outside
 * the standard ABI's error range (0 .. ABI_ERR_LASTCODE). */
#define CHAN_RETRY (-1)

/* hdr->state: written by the launcher or a peer, read by waiters. */
enum chan_state {
	CHAN_UP = 0,        /* both ends alive */
	CHAN_APP_GONE = 1,  /* the application exited or was killed */
	CHAN_PROXY_GONE = 2 /* the proxy exited or was killed */
};

/* Which sequence word a post/wait concerns. */
enum chan_dir {
	CHAN_REQ = 0,     /* app -> proxy: hdr->call posted */
	CHAN_RSP = 1,     /* proxy -> app: hdr->call answered */
	CHAN_CTL_REQ = 2, /* client thread -> proxy: hdr->ctl posted */
	CHAN_CTL_RSP = 3, /* proxy -> client thread: hdr->ctl answered */
	CHAN_BELL = 4,    /* the proxy's doorbell: moves with every post of
			   * CHAN_REQ, CHAN_CTL_REQ or CHAN_POSTS; only
			   * waited on */
	CHAN_POSTS = 5,   /* app -> proxy: ring entries published (the top) */
	CHAN_NDIRS
};

/* Status as the standard ABI lays it out (8 ints), see MPI_Status. */
struct chan_status {
	int32_t source;
	int32_t tag;
	int32_t error;
	int32_t internal[5]; /* [0..1] int64 byte count, [2] cancelled */
};

/* The call slot.  Arguments and results are scalars in arg[], arrays and
 * strings in inl[]; meaning of each index is fixed per call id and
 * documented at the handler (proxy) and the wrapper (shim).  The fields
 * every call writes or reads (id, err, inl_len, status) come first, so a
 * call of up to 10 arguments (a blocking send or receive) touches two
 * cache lines of the slot, not three. */
struct chan_call {
	uint32_t id;      /* enum chan_call_id */
	int32_t err;      /* reply: standard-ABI error code, or CHAN_RETRY */
	uint32_t inl_len;
	uint32_t pad;
	struct chan_status status;
	int64_t arg[CHAN_ARGS];
	unsigned char inl[CHAN_INLINE_SIZE];
};

/* ---- the control slot (served by proxy/ckpt.c, issued by chan/ctl.c) ----
 *
 * One request at a time, from the application's checkpoint code.  The
 * caller fills ctl.arg[] as below and calls chan_ctl_call(); outputs are
 * in ctl.arg[], ctl.n and the arrays when it returns.  Arguments not
 * listed are ignored and may be overwritten.
 *
 * Counters (CTL_ARG_SENT, CTL_ARG_RECVD): messages sent = sends started by
 * SEND, ISEND, SENDRECV to a peer other than MPI_PROC_NULL; received =
 * receives (RECV, IRECV, SENDRECV, PARK's completed ones, drained
 * messages) completed with a message, not cancelled, not from
 * MPI_PROC_NULL.  Collectives are not counted.  Both count from the
 * proxy's start, across checkpoints (a failed one leaves messages in
 * flight that a later drain must still balance).
 *
 * CTL_PARK   No argument.  The proxy abandons a receive-side blocking call
 *            in progress (RECV, PROBE, WAIT, WAITALL, WAITANY, WAITSOME:
 *            the app gets CHAN_RETRY; a RECV whose cancel fails because it
 *            matched completes normally instead; a SENDRECV is answered
 *            CHAN_RETRY as a RECV; a SEND or SENDRECV whose send is still
 *            in flight leaves it pending under the call's spare request,
 *            proxy/p2p.c keep_send), then
 *            reports every pending nonblocking receive in parked[]:
 *            CHAN_PARKED_DONE (completed; status set; the data is in the
 *            request's arena block) or CHAN_PARKED_REPOST (cancelled; post
 *            it again).  Reported requests are gone from the proxy.  Sends
 *            and collectives are never abandoned: a blocking one may still
 *            be in progress when PARK is answered (CTL_ARG_BUSY); it ends
 *            during DRAIN, or because every member reached the target,
 *            and its reply comes on the call slot as usual.  Until
 *            CTL_RESUME, a new receive-side blocking call is answered
 *            CHAN_RETRY at once.
 *   reply    BUSY, MORE (parked[] was full: call PARK again for the
 *            rest), SENT, RECVD; n = entries in parked[]
 * CTL_DRAIN  arg[CTL_ARG_DRAIN_OFF] arena offset of the drain block (the
 *            caller's), arg[CTL_ARG_DRAIN_SIZE] its size.  Progresses
 *            pending requests (a send completes once its receiver drained
 *            it; it stays in the table for the app's Wait/Test), then
 *            takes every message waiting on every live communicator
 *            (WORLD, SELF, each in the table) with Iprobe(ANY_SOURCE,
 *            ANY_TAG) and receives it as MPI_BYTE into the block, each at
 *            the next CHAN_DRAIN_ALIGN boundary from the block's start
 *            (an empty one right after the previous one),
 *            described in msgs[] in the order received (per communicator
 *            and sender, the order MPI would have matched them).  Stops
 *            early when the next message does not fit (DRAIN_NEED) or
 *            msgs[] is full (MORE): take the messages out of the block and
 *            call again (with a block of at least DRAIN_NEED bytes).
 *   reply    BUSY, MORE, SENT, RECVD (drained messages included),
 *            DRAIN_USED bytes of the block used, DRAIN_NEED 0 or the size
 *            of a message that did not fit in what was left, DRAIN_PENDING
 *            send requests not complete yet, DRAIN_COLLS nonblocking
 *            collectives and constructor threads not complete yet (call
 *            again until 0: every member started them, they are never
 *            cancelled; nothing is drained while a constructor runs);
 *            n = entries in msgs[]
 * CTL_RESUME No argument.  Ends the parked state.
 *   reply    BUSY, SENT, RECVD
 * CTL_INFOS  arg[CTL_ARG_INFO_COMM] the ABI handle of the shim's private
 *            communicator for synchronous sends (shim/ssend.c), DRAIN_OFF
 *            and DRAIN_SIZE a block as for CTL_DRAIN, arg[CTL_ARG_INFO_ACKS]
 *            how many entries of acks[] to send first: an empty message
 *            to each (world rank, tag) on that communicator.  Then takes,
 *            as CTL_DRAIN does, only the messages waiting there with tag 0
 *            (the infos of synchronous sends, which only the shim sends).
 *            Served in any state, parked or not: infos that a checkpoint
 *            failed to drain reach their receiver this way (shim/ckpt.c).
 *   reply    MORE, SENT, RECVD, DRAIN_USED, DRAIN_NEED; n = entries in msgs[]
 *
 * ctl.err: 0; an ABI error class if an MPI call failed (the reply is then
 * partial but consistent: its n entries are valid); ABI_ERR_ARG for an
 * unknown id or a drain block outside the arena.
 */
enum chan_ctl_id {
	CTL_NONE = 0,
	CTL_PARK = 1,
	CTL_DRAIN = 2,
	CTL_RESUME = 3,
	CTL_INFOS = 4
};

#define CHAN_CTOR_WORDS 64     /* constructor words, see the top */
#define CHAN_RING_SIZE 64      /* entries of the post ring, see the top */
#define CHAN_RING_ARGS 8       /* arg[0..7] of ISEND / IRECV */

/* One reply-less post: a call id (CALL_ISEND, CALL_IRECV) and the
 * arguments it has in the call slot. */
struct chan_ring_post {
	uint32_t id;
	uint32_t pad;
	int64_t arg[CHAN_RING_ARGS];
};

#define CHAN_CTL_ARGS 12
#define CHAN_CTL_MAX 4096      /* entries in parked[] / msgs[] per reply */
#define CHAN_DRAIN_ALIGN 64u   /* drained payloads start at multiples */

/* ctl.arg[] indices, see above. */
#define CTL_ARG_BUSY 0         /* out: call id in progress, -1 idle */
#define CTL_ARG_MORE 1         /* out: 1 if the array filled up */
#define CTL_ARG_SENT 2         /* out: messages sent */
#define CTL_ARG_RECVD 3        /* out: messages received */
#define CTL_ARG_DRAIN_OFF 4    /* in: drain block, arena offset */
#define CTL_ARG_DRAIN_SIZE 5   /* in: its size */
#define CTL_ARG_DRAIN_USED 6   /* out: bytes of it used */
#define CTL_ARG_DRAIN_NEED 7   /* out: 0, or a message that did not fit */
#define CTL_ARG_DRAIN_PENDING 8 /* out: send requests still incomplete */
#define CTL_ARG_DRAIN_COLLS 9  /* out: nonblocking collectives incomplete */
#define CTL_ARG_INFO_COMM 10   /* in: CTL_INFOS, the communicator */
#define CTL_ARG_INFO_ACKS 11   /* in: CTL_INFOS, entries of acks[] to send */

/* chan_parked.state */
enum chan_parked_state {
	CHAN_PARKED_DONE = 1,   /* completed; status valid (it says cancelled
				 * if the app had cancelled it itself) */
	CHAN_PARKED_REPOST = 2, /* cancelled by PARK: post it again */
	CHAN_PARKED_SSEND = 3   /* a synchronous send the proxy let go
				 * incomplete (proxy/ssend.c): status.source
				 * and status.tag are its destination and tag,
				 * later the sends to them started after it */
};

/* A pending receive request, or synchronous send, as CTL_PARK left it. */
struct chan_parked {
	int64_t handle;            /* the request (ABI handle) */
	int32_t state;             /* enum chan_parked_state */
	int32_t pad;
	struct chan_status status; /* CHAN_PARKED_DONE: as Wait gives it */
	int64_t later;             /* CHAN_PARKED_SSEND, see there */
};

/* An acknowledgement CTL_INFOS sends: an empty message. */
struct chan_ack {
	int32_t to;       /* world rank (the communicator is a dup of WORLD) */
	int32_t tag;
};

/* A message CTL_DRAIN received. */
struct chan_drained {
	int64_t comm;     /* ABI handle of its communicator */
	int32_t source;   /* rank in comm (ABI value) */
	int32_t tag;      /* ABI value */
	int64_t bytes;    /* payload length */
	int64_t off;      /* arena offset of the payload, in the drain block */
};

struct chan_ctl {
	uint32_t id;      /* enum chan_ctl_id */
	int32_t err;      /* reply, see above */
	int64_t arg[CHAN_CTL_ARGS];
	uint32_t n;       /* reply: entries used in parked[] or msgs[] */
	uint32_t pad;
	union {
		struct chan_parked parked[CHAN_CTL_MAX]; /* CTL_PARK */
		struct chan_drained msgs[CHAN_CTL_MAX];  /* CTL_DRAIN, CTL_INFOS */
		struct chan_ack acks[CHAN_CTL_MAX];      /* CTL_INFOS, in */
	};
};

struct chan_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t map_size;    /* whole mapping */
	uint64_t arena_off;   /* from the start of the mapping */
	uint64_t arena_size;
	uint32_t rank;        /* for messages; set by the launcher if known */
	uint32_t pad;
	/* One cache line for every word a post or a wait reads, so a
	 * blocking call's hand-offs touch this line alone of the header. */
	_Alignas(64) _Atomic uint32_t seq[CHAN_NDIRS];      /* futex words */
	_Atomic uint32_t sleeping[CHAN_NDIRS]; /* in futex_wait */
	_Atomic uint32_t state;       /* enum chan_state */
	uint32_t same_cpu;    /* app and proxy share a CPU: yield, don't spin */
	/* The post ring (see the top): entries taken by the proxy. */
	_Atomic uint32_t ring_taken;
	/* Constructor words and their sleepers (see the top). */
	_Alignas(64) _Atomic uint32_t ctor[CHAN_CTOR_WORDS];
	_Alignas(64) _Atomic uint32_t ctor_sleeping[CHAN_CTOR_WORDS];
	_Alignas(64) struct chan_ring_post ring[CHAN_RING_SIZE];
	_Alignas(64) struct chan_call call;
	_Alignas(64) struct chan_ctl ctl;
};

struct chan {
	struct chan_hdr *hdr;
	unsigned char *base;  /* == (unsigned char *)hdr */
	unsigned char *arena; /* base + hdr->arena_off */
	size_t size;
	int fd;
	uint64_t spin_ns;     /* chan_wait phases, from the environment */
	uint64_t yield_ns;    /* at attach; tests may lower them */
	uint64_t sleep_ns;    /* one futex sleep at most: 100 ms */
	_Atomic uint32_t crowded; /* waits left that go straight to sleep */
};

/* Launcher: create a channel memfd with an arena of arena_size bytes
 * (rounded up to pages), mode 0600, sealed against resizing.  Set
 * hdr->same_cpu and hdr->rank before starting the peers.
 * Returns the fd (not close-on-exec) or -1 with an error printed. */
int chan_create(uint64_t arena_size);

/* Both ends: map the channel behind fd; validates magic, version and
 * sizes against the file.  The fd stays the caller's: detach does not
 * close it.  Returns 0, or -1 with one error line printed. */
int chan_attach(struct chan *ch, int fd);
/* chan_attach at a fixed address (MAP_FIXED_NOREPLACE): a restored
 * application maps its new channel where the old one was, so pointers
 * into it (the call slot) stay valid. */
int chan_attach_at(struct chan *ch, int fd, void *addr);

/* Attach to the fd named by $DMTCP_MPI_CHAN_FD. */
int chan_attach_env(struct chan *ch);

/* Unmap; ch->hdr becomes NULL.  Does not close ch->fd. */
void chan_detach(struct chan *ch);

/* Publish one step in direction dir and wake a sleeping waiter; a step
 * of CHAN_REQ or CHAN_CTL_REQ rings CHAN_BELL too (after its own word,
 * so a proxy that read the bell before looking at both request words
 * and found nothing is woken). */
void chan_post(struct chan *ch, enum chan_dir dir);

/* Current sequence number of dir (to remember before posting). */
uint32_t chan_seq(const struct chan *ch, enum chan_dir dir);

/* Wait until seq[dir] != seen.  Returns 0, or -1 if the channel state
 * is something other than CHAN_UP and no step was posted.  Signals
 * (EINTR) are absorbed. */
int chan_wait(struct chan *ch, enum chan_dir dir, uint32_t seen);

/* The proxy's idle wait: until a ring entry is waiting,
 * seq[CHAN_REQ] != seen_req or seq[CHAN_CTL_REQ] != seen_ctl, sleeping on
 * CHAN_BELL (adaptively, as chan_wait).  Returns CHAN_POSTS, CHAN_REQ or
 * CHAN_CTL_REQ, the first of them that moved, or -1 if the channel state
 * is something other than CHAN_UP and none moved. */
int chan_wait_request(struct chan *ch, uint32_t seen_req, uint32_t seen_ctl);

/* The post ring (chan/ring.c; see the top).  Application side, one
 * caller at a time (the shim holds its call lock): chan_ring_claim
 * returns the argument array of the next entry, or NULL when the ring is
 * full; fill it, then chan_ring_publish(id).  Proxy side: chan_ring_next
 * copies the oldest entry not taken into *out and takes it (1), or
 * returns 0 when none is waiting; chan_ring_waiting says whether one is. */
int64_t *chan_ring_claim(struct chan *ch);
void chan_ring_publish(struct chan *ch, uint32_t id);
int chan_ring_next(struct chan *ch, struct chan_ring_post *out);
int chan_ring_waiting(const struct chan *ch);

/* Constructor words (see the top), by the constructor's token: the
 * proxy steps it when the constructor ends; the application reads it
 * before it starts the constructor and waits until it moves, as
 * chan_seq and chan_wait do (same phases, same return values). */
void chan_post_ctor(struct chan *ch, int64_t token);
uint32_t chan_ctor_seq(const struct chan *ch, int64_t token);
int chan_wait_ctor(struct chan *ch, int64_t token, uint32_t seen);

/* Mark the channel state and wake every waiter (launcher on a death). */
void chan_set_state(struct chan *ch, enum chan_state st);

/* Client side of the control slot (chan/ctl.c): with ch->hdr->ctl.arg[]
 * filled, post CHAN_CTL_REQ for id and wait for CHAN_CTL_RSP.  Returns
 * ctl.err (0 on success), or -1 if the proxy is gone.  One control
 * request at a time: the caller serialises (the engine's client thread
 * is the only caller). */
int chan_ctl_call(struct chan *ch, uint32_t id);

/* The clock of the waits (chan/clock.c): CLOCK_MONOTONIC in ns, read
 * from the time-stamp counter when the kernel keeps time with it.
 * chan_attach measures the counter's rate (chan_clock_init, about
 * 0.1 ms); before that chan_clock_ns is clock_gettime. */
void chan_clock_init(void);
uint64_t chan_clock_ns(void);

static inline void *chan_arena_ptr(const struct chan *ch, uint64_t off)
{
	return ch->arena + off;
}

#endif
