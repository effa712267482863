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
 *   proxy: chan_wait(ch, CHAN_REQ, seen) returns, serve, fill reply,
 *          chan_post(ch, CHAN_RSP)                      -> rsp_seq++
 *   app:   chan_wait(ch, CHAN_RSP, seen) returns, read reply.
 *
 * Waiting is adaptive: spin (pause) while the peer runs on another CPU,
 * sched_yield so a peer sharing our CPU gets to run, then sleep on a futex
 * so a computing app costs its proxy no CPU and vice versa.
 *
 * Payloads larger than the inline area travel through the arena, a region
 * carved up by the app side (chan/arena.c); calls carry arena offsets.
 */
#ifndef CHAN_H
#define CHAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CHAN_MAGIC 0x4e414843u /* "CHAN" */
#define CHAN_VERSION 1u

#define CHAN_ARGS 24                   /* scalar slots per call */
#define CHAN_INLINE_SIZE (256u << 10)  /* arrays, strings, status arrays */
#define CHAN_ARENA_DEFAULT (1024ull << 20) /* sparse; DMTCP_MPI_ARENA_MB */

/* Buffer arguments are arena offsets; these two are not offsets. */
#define CHAN_OFF_NONE (-1)     /* no buffer (count 0, or not significant) */
#define CHAN_OFF_IN_PLACE (-2) /* MPI_IN_PLACE */

/* Environment variable naming the inherited channel fd. */
#define CHAN_ENV_FD "DMTCP_MPI_CHAN_FD"

/* hdr->state: written by the launcher or a peer, read by waiters. */
enum chan_state {
	CHAN_UP = 0,        /* both ends alive */
	CHAN_APP_GONE = 1,  /* the application exited or was killed */
	CHAN_PROXY_GONE = 2 /* the proxy exited or was killed */
};

/* Which sequence word a post/wait concerns. */
enum chan_dir {
	CHAN_REQ = 0, /* app -> proxy */
	CHAN_RSP = 1  /* proxy -> app */
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
 * documented at the handler (proxy) and the wrapper (shim). */
struct chan_call {
	uint32_t id;      /* enum chan_call_id */
	int32_t err;      /* reply: standard-ABI error code */
	int64_t arg[CHAN_ARGS];
	struct chan_status status;
	uint32_t inl_len;
	uint32_t pad;
	unsigned char inl[CHAN_INLINE_SIZE];
};

struct chan_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t map_size;    /* whole mapping */
	uint64_t arena_off;   /* from the start of the mapping */
	uint64_t arena_size;
	uint32_t same_cpu;    /* app and proxy share a CPU: yield, don't spin */
	uint32_t rank;        /* for messages; set by the launcher if known */
	_Alignas(64) _Atomic uint32_t seq[2];      /* futex words, enum chan_dir */
	_Alignas(64) _Atomic uint32_t sleeping[2]; /* waiters in futex_wait */
	_Alignas(64) _Atomic uint32_t state;       /* enum chan_state */
	_Alignas(64) struct chan_call call;
};

struct chan {
	struct chan_hdr *hdr;
	unsigned char *base;  /* == (unsigned char *)hdr */
	unsigned char *arena; /* base + hdr->arena_off */
	size_t size;
	int fd;
	uint64_t spin_ns;     /* chan_wait phases, from the environment */
	uint64_t yield_ns;    /* at attach; tests may lower them */
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

/* Attach to the fd named by $DMTCP_MPI_CHAN_FD. */
int chan_attach_env(struct chan *ch);

/* Unmap; ch->hdr becomes NULL.  Does not close ch->fd. */
void chan_detach(struct chan *ch);

/* Publish one step in direction dir and wake a sleeping waiter. */
void chan_post(struct chan *ch, enum chan_dir dir);

/* Current sequence number of dir (to remember before posting). */
uint32_t chan_seq(const struct chan *ch, enum chan_dir dir);

/* Wait until seq[dir] != seen.  Returns 0, or -1 if the channel state
 * is something other than CHAN_UP and no step was posted.  Signals
 * (EINTR) are absorbed. */
int chan_wait(struct chan *ch, enum chan_dir dir, uint32_t seen);

/* Mark the channel state and wake every waiter (launcher on a death). */
void chan_set_state(struct chan *ch, enum chan_state st);

static inline void *chan_arena_ptr(const struct chan *ch, uint64_t off)
{
	return ch->arena + off;
}

#endif
