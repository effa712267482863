/*
 * wait.c - posting and waiting on the channel's sequence words.
 *
 * A waiter goes through three phases, each checking the sequence word and
 * the channel state on every turn:
 *   1. spin with the CPU's pause hint for ch->spin_ns ($DMTCP_MPI_SPIN_NS,
 *      default 5 us), only when the peer has its own CPU (!hdr->same_cpu):
 *      a reply during a communication phase then costs no system call;
 *   2. sched_yield for ch->yield_ns ($DMTCP_MPI_YIELD_NS, default 50 us),
 *      so a peer sharing our CPU runs now instead of at the next tick;
 *   3. sleep on the sequence word with FUTEX_WAIT, so a computing app costs
 *      its proxy no CPU.  Each sleep lasts at most CHAN_SLEEP_NS: a state
 *      change (chan_set_state) wakes sleepers, but one that lands between
 *      a waiter's state check and its FUTEX_WAIT is seen only at the next
 *      timeout, because the futex compares the sequence word alone.
 * The tunables are read at attach (chan.c); tests lower them directly.
 *
 * The futexes are shared (no FUTEX_PRIVATE_FLAG): the words live in a
 * MAP_SHARED mapping that two processes map at different addresses.
 *
 * No lost wake-up.  The poster does  P1: seq++        P2: load sleeping
 * and the sleeper does               W1: sleeping++   W2: load seq,
 * all four seq_cst, then FUTEX_WAIT(seq, seen).  In the single total order
 * of seq_cst operations either P2 precedes W1, so P1 precedes W2 and the
 * sleeper sees the new seq and never sleeps; or W1 precedes P2, so the
 * poster sees a sleeper and calls FUTEX_WAKE.  If that wake comes before
 * the sleeper enters FUTEX_WAIT, the kernel's own check (seq == seen,
 * atomic with queueing) fails and FUTEX_WAIT returns at once.
 */
#include "chan/chan.h"

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHAN_SLEEP_NS 100000000L /* 100 ms: bounds a missed state change */
#define CHAN_SPIN_BATCH 16       /* pauses between two clock reads */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, (uint32_t *)word, op, val, timeout, NULL, 0);
}

/* 1 when seq moved past seen, -1 when the channel is no longer up, else 0.
 * A posted step wins over a state change, so a reply sent just before its
 * sender died is still delivered. */
static int poll_once(struct chan_hdr *h, enum chan_dir dir, uint32_t seen,
		     memory_order mo)
{
	if (atomic_load_explicit(&h->seq[dir], mo) != seen)
		return 1;
	if (atomic_load_explicit(&h->state, memory_order_relaxed) != CHAN_UP)
		return -1;
	return 0;
}

static int spin_phase(struct chan_hdr *h, enum chan_dir dir, uint32_t seen,
		      uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	do {
		for (int i = 0; i < CHAN_SPIN_BATCH; i++) {
			cpu_relax();
			int r = poll_once(h, dir, seen, memory_order_acquire);
			if (r != 0)
				return r;
		}
	} while (now_ns() < end);
	return 0;
}

static int yield_phase(struct chan_hdr *h, enum chan_dir dir, uint32_t seen,
		       uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end) {
		sched_yield();
		int r = poll_once(h, dir, seen, memory_order_acquire);
		if (r != 0)
			return r;
	}
	return 0;
}

static int sleep_phase(struct chan_hdr *h, enum chan_dir dir, uint32_t seen)
{
	const struct timespec ts = { 0, CHAN_SLEEP_NS };
	int r;

	atomic_fetch_add(&h->sleeping[dir], 1);
	/* EINTR (a checkpoint signal), EAGAIN and timeouts all re-check. */
	while ((r = poll_once(h, dir, seen, memory_order_seq_cst)) == 0)
		futex(&h->seq[dir], FUTEX_WAIT, seen, &ts);
	atomic_fetch_sub(&h->sleeping[dir], 1);
	return r;
}

void chan_post(struct chan *ch, enum chan_dir dir)
{
	struct chan_hdr *h = ch->hdr;

	atomic_fetch_add(&h->seq[dir], 1);
	if (atomic_load(&h->sleeping[dir]) != 0)
		futex(&h->seq[dir], FUTEX_WAKE, INT_MAX, NULL);
}

uint32_t chan_seq(const struct chan *ch, enum chan_dir dir)
{
	return atomic_load_explicit(&ch->hdr->seq[dir], memory_order_acquire);
}

int chan_wait(struct chan *ch, enum chan_dir dir, uint32_t seen)
{
	struct chan_hdr *h = ch->hdr;
	int r = poll_once(h, dir, seen, memory_order_acquire);

	if (r == 0 && !h->same_cpu && ch->spin_ns > 0)
		r = spin_phase(h, dir, seen, ch->spin_ns);
	if (r == 0 && ch->yield_ns > 0)
		r = yield_phase(h, dir, seen, ch->yield_ns);
	if (r == 0)
		r = sleep_phase(h, dir, seen);
	return r > 0 ? 0 : -1;
}

void chan_set_state(struct chan *ch, enum chan_state st)
{
	struct chan_hdr *h = ch->hdr;

	atomic_store(&h->state, (uint32_t)st);
	futex(&h->seq[CHAN_REQ], FUTEX_WAKE, INT_MAX, NULL);
	futex(&h->seq[CHAN_RSP], FUTEX_WAKE, INT_MAX, NULL);
}
