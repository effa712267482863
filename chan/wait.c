/*
 * wait.c - posting and waiting on the channel's sequence words, and on
 * its constructor words (chan.h), which work the same way.
 *
 * A waiter goes through three phases, each checking the sequence word and
 * the channel state on every turn:
 *   1. spin with the CPU's pause hint for ch->spin_ns ($DMTCP_MPI_SPIN_NS,
 *      default 5 us), only when the peer has its own CPU (!hdr->same_cpu):
 *      a reply during a communication phase then costs no system call;
 *   2. sched_yield for ch->yield_ns ($DMTCP_MPI_YIELD_NS, default 50 us),
 *      so a peer sharing our CPU runs now instead of at the next tick;
 *   3. sleep on the sequence word with FUTEX_WAIT, so a computing app costs
 *      its proxy no CPU.  Each sleep lasts at most ch->sleep_ns (100 ms;
 *      tests raise it): a state change (chan_set_state) wakes sleepers, but
 *      one that lands between a waiter's state check and its FUTEX_WAIT is
 *      seen only at the next timeout, because the futex compares the
 *      sequence word alone.
 *
 * Crowded CPUs.  Phases 1 and 2 end early, straight into 3, when the clock
 * shows a gap of CHAN_CROWDED_NS between two looks: other threads are
 * taking our CPU.  The next CHAN_CROWDED_WAITS waits then sleep at once
 * (ch->crowded counts them down) and the wait after them probes again.  On
 * a crowded CPU a runnable waiter is the worst place to be: once the peer
 * posts it still queues behind the others (a yield even moves it back,
 * under EEVDF), while a futex sleeper is woken with the scheduler's
 * wake-up preference.  Measured here (2 cores, 4 busy loops, unpinned
 * pair): 2.7-8 ms per round trip when spinning or yielding through,
 * ~0.1 ms with this rule.  (Gaps there last 1-10 ms.)
 *
 * The tunables are read at attach (chan.c); tests lower them directly.
 * The clock is chan_clock_ns (clock.c): two reads per yield, so the
 * cheapest one there is.
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
 *
 * The doorbell.  A post of CHAN_REQ, CHAN_CTL_REQ or CHAN_POSTS (the
 * post ring) steps its own word, then CHAN_BELL, all seq_cst.  The proxy
 * reads the bell, then the three request words (seq_cst), and waits on
 * the bell only if none moved.
 * If a request word it read had not been stepped yet, that load precedes
 * the step, hence the bell's step, in the total order: the bell it read
 * is older than the bell after the post, so its wait returns and no
 * request is slept through.
 */
#include "chan/chan.h"
#include "util/hot.h"

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHAN_SPIN_BATCH 16       /* pauses between two clock reads */
/* A gap this long: others ran on our CPU.  Not shorter: on the 2-CPU KVM
 * guest we measure on, waiters see 20-100 us gaps a few hundred times a
 * second even under SCHED_FIFO with no other runnable thread (interrupts,
 * kernel threads, the hypervisor), and taking those for a crowd put one
 * wait in three to sleep during an 8-byte ping-pong (5.3 -> 6-8 us one
 * way); a competing CPU hog takes a whole scheduler slice, 0.7 ms and up. */
#define CHAN_CROWDED_NS 500000u
#define CHAN_CROWDED_WAITS 100u  /* then sleep at once for this many waits */

/* What one look at the channel, or one waiting phase, found. */
enum wait_result {
	WAIT_DOWN = -1, /* the channel state is no longer CHAN_UP */
	WAIT_ON = 0,    /* nothing yet */
	WAIT_STEP = 1   /* seq moved past seen */
};

/* One chan_wait or chan_wait_ctor call. */
struct waiter {
	struct chan_hdr *h;
	_Atomic uint32_t *word;     /* the sequence word waited on */
	_Atomic uint32_t *sleeping; /* its count of futex sleepers */
	uint32_t seen;
	bool crowded; /* a gap showed that others are taking our CPU */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, (uint32_t *)word, op, val, timeout, NULL, 0);
}

/* A posted step wins over a state change, so a reply sent just before its
 * sender died is still delivered. */
static enum wait_result poll_once(const struct waiter *w, memory_order mo)
{
	if (atomic_load_explicit(w->word, mo) != w->seen)
		return WAIT_STEP;
	if (atomic_load_explicit(&w->h->state, memory_order_relaxed) != CHAN_UP)
		return WAIT_DOWN;
	return WAIT_ON;
}

/* Advance *t to now; note a gap since the previous reading. */
static bool gap(struct waiter *w, uint64_t *t)
{
	uint64_t last = *t;

	*t = chan_clock_ns();
	if (*t - last > CHAN_CROWDED_NS)
		w->crowded = true;
	return w->crowded;
}

static enum wait_result spin_phase(struct waiter *w, uint64_t ns)
{
	uint64_t t = chan_clock_ns(), end = t + ns;

	for (int batch = 0;; batch++) {
		for (int i = 0; i < CHAN_SPIN_BATCH; i++) {
			cpu_relax();
			enum wait_result r = poll_once(w, memory_order_acquire);
			if (r == WAIT_ON)
				continue;
			/* A step seen after a preemption still counts it;
			 * the usual quick answer costs no clock read. */
			if (batch > 0)
				gap(w, &t);
			return r;
		}
		if (gap(w, &t) || t >= end)
			return WAIT_ON;
	}
}

static enum wait_result yield_phase(struct waiter *w, uint64_t ns)
{
	uint64_t t = chan_clock_ns(), end = t + ns;

	while (t < end) {
		sched_yield();
		bool crowded = gap(w, &t);
		enum wait_result r = poll_once(w, memory_order_acquire);
		if (r != WAIT_ON || crowded)
			return r;
	}
	return WAIT_ON;
}

static enum wait_result sleep_phase(struct waiter *w, uint64_t bound_ns)
{
	const struct timespec ts = { (time_t)(bound_ns / 1000000000u),
				     (long)(bound_ns % 1000000000u) };
	enum wait_result r;

	atomic_fetch_add(w->sleeping, 1);
	/* EINTR (a checkpoint signal), EAGAIN and timeouts all re-check. */
	while ((r = poll_once(w, memory_order_seq_cst)) == WAIT_ON)
		futex(w->word, FUTEX_WAIT, w->seen, &ts);
	atomic_fetch_sub(w->sleeping, 1);
	return r;
}

DM_HOT static void step(_Atomic uint32_t *word, _Atomic uint32_t *sleeping)
{
	atomic_fetch_add(word, 1);
	if (atomic_load(sleeping) != 0)
		futex(word, FUTEX_WAKE, INT_MAX, NULL);
}

DM_HOT void chan_post(struct chan *ch, enum chan_dir dir)
{
	struct chan_hdr *h = ch->hdr;

	step(&h->seq[dir], &h->sleeping[dir]);
	if (dir == CHAN_REQ || dir == CHAN_CTL_REQ || dir == CHAN_POSTS)
		step(&h->seq[CHAN_BELL], &h->sleeping[CHAN_BELL]);
}

DM_HOT uint32_t chan_seq(const struct chan *ch, enum chan_dir dir)
{
	return atomic_load_explicit(&ch->hdr->seq[dir], memory_order_acquire);
}

static uint32_t ctor_word(int64_t token)
{
	return (uint32_t)((uint64_t)token % CHAN_CTOR_WORDS);
}

void chan_post_ctor(struct chan *ch, int64_t token)
{
	uint32_t i = ctor_word(token);

	step(&ch->hdr->ctor[i], &ch->hdr->ctor_sleeping[i]);
}

uint32_t chan_ctor_seq(const struct chan *ch, int64_t token)
{
	return atomic_load_explicit(&ch->hdr->ctor[ctor_word(token)], memory_order_acquire);
}

/* The three phases of the top of the file on w's word. */
DM_HOT static int wait_word(struct chan *ch, struct waiter *w)
{
	enum wait_result r = poll_once(w, memory_order_acquire);
	uint32_t left = atomic_load_explicit(&ch->crowded, memory_order_relaxed);

	if (r == WAIT_ON && left > 0) {
		atomic_store_explicit(&ch->crowded, left - 1, memory_order_relaxed);
	} else {
		if (r == WAIT_ON && !w->h->same_cpu && ch->spin_ns > 0)
			r = spin_phase(w, ch->spin_ns);
		if (r == WAIT_ON && !w->crowded && ch->yield_ns > 0)
			r = yield_phase(w, ch->yield_ns);
		if (w->crowded)
			atomic_store_explicit(&ch->crowded, CHAN_CROWDED_WAITS,
					      memory_order_relaxed);
	}
	if (r == WAIT_ON)
		r = sleep_phase(w, ch->sleep_ns);
	return r == WAIT_STEP ? 0 : -1;
}

DM_HOT int chan_wait(struct chan *ch, enum chan_dir dir, uint32_t seen)
{
	struct waiter w = { ch->hdr, &ch->hdr->seq[dir], &ch->hdr->sleeping[dir], seen, false };

	return wait_word(ch, &w);
}

int chan_wait_ctor(struct chan *ch, int64_t token, uint32_t seen)
{
	uint32_t i = ctor_word(token);
	struct waiter w = { ch->hdr, &ch->hdr->ctor[i], &ch->hdr->ctor_sleeping[i], seen, false };

	return wait_word(ch, &w);
}

DM_HOT int chan_wait_request(struct chan *ch, uint32_t seen_req, uint32_t seen_ctl)
{
	struct chan_hdr *h = ch->hdr;

	for (;;) {
		/* seq_cst loads, in this order: see "The doorbell" above. */
		uint32_t bell = atomic_load(&h->seq[CHAN_BELL]);
		if (atomic_load(&h->seq[CHAN_POSTS]) != atomic_load(&h->ring_taken))
			return CHAN_POSTS;
		if (atomic_load(&h->seq[CHAN_REQ]) != seen_req)
			return CHAN_REQ;
		if (atomic_load(&h->seq[CHAN_CTL_REQ]) != seen_ctl)
			return CHAN_CTL_REQ;
		if (chan_wait(ch, CHAN_BELL, bell) < 0)
			return -1;
	}
}

void chan_set_state(struct chan *ch, enum chan_state st)
{
	struct chan_hdr *h = ch->hdr;

	atomic_store(&h->state, (uint32_t)st);
	for (int dir = 0; dir < CHAN_NDIRS; dir++)
		futex(&h->seq[dir], FUTEX_WAKE, INT_MAX, NULL);
	for (int i = 0; i < CHAN_CTOR_WORDS; i++)
		futex(&h->ctor[i], FUTEX_WAKE, INT_MAX, NULL);
}
