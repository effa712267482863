/*
 * test_chan.c - unit tests of the channel (chan/chan.c, chan/wait.c).
 *
 * Layout and validation are checked in one process; the wait protocol
 * across fork(), the child attaching the inherited fd anew as the proxy
 * does.  Each waiting phase is forced in turn by lowering ch.spin_ns and
 * ch.yield_ns (0/0 goes straight to the futex), and wake-up latencies are
 * compared with a sleep bound raised to seconds (SLEEP_BOUND_NS), so a
 * lost FUTEX_WAKE shows up as a failure rather than as a slow pass.
 *
 * The control slot and the proxy's doorbell: the child then plays the
 * proxy with chan_wait_request, while the parent issues calls from one
 * thread and control requests (chan_ctl_call) from another, as the shim
 * and the engine's client thread do.
 *
 * Constructor words: a post steps its token's word only, and a child
 * sleeping on one token stays asleep through posts of other tokens.
 *
 * The waits' clock (chan/clock.c) keeps to CLOCK_MONOTONIC.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "chan/calls.h"
#include "chan/chan.h"

#define ARENA_REQ ((1u << 20) + 1) /* deliberately not a page multiple */
#define ROUNDS 1000
/* Waits here sleep up to SLEEP_BOUND_NS, not the 100 ms of a job, so that
 * a wake-up that was lost (the waiter then sees its step only when the
 * sleep runs out) stands apart from one a loaded machine was slow to
 * schedule: 50 ms thresholds against the 100 ms bound failed at load 13. */
#define SLEEP_BOUND_NS 8000000000ull
#define WAKE_FAST_NS 2000000000ull /* a real wake, however loaded the machine */
#define CHILD_ALARM_S 30           /* a hung child fails the test, not the run */

struct fixture {
	int fd;
	struct chan ch;
	uint64_t job_sleep_ns; /* the bound attach gives a job's waits */
	pid_t child; /* killed by teardown if a test failed before reaping it */
};

/* As the launcher does: a peer killed by a signal marks the channel, so
 * a parent waiting for a crashed child fails instead of hanging.  A clean
 * exit is left to expect_child_ok (WNOWAIT keeps the status for it). */
static struct chan *watched;
static pid_t watched_pid;

static void on_sigchld(int sig)
{
	siginfo_t si = { 0 };

	(void)sig;
	if (watched == NULL ||
	    waitid(P_PID, (id_t)watched_pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return;
	if (si.si_pid == watched_pid && si.si_code != CLD_EXITED)
		chan_set_state(watched, CHAN_PROXY_GONE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->fd = chan_create(ARENA_REQ);
	if (f->fd < 0 || chan_attach(&f->ch, f->fd) < 0)
		return -1;
	f->job_sleep_ns = f->ch.sleep_ns;
	f->ch.sleep_ns = SLEEP_BOUND_NS;
	/* Not stops: a SIGCHLD for the SIGSTOP of gap_sends_to_sleep would
	 * cut short the usleep that makes the gap. */
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_NOCLDSTOP };
	sigaction(SIGCHLD, &sa, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	watched = NULL;
	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	chan_detach(&f->ch);
	close(f->fd);
	free(f);
	return 0;
}

/* Run fn in a child that maps the inherited fd anew. */
static void spawn(struct fixture *f, int (*fn)(struct chan *, void *), void *arg)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct chan ch;

		alarm(CHILD_ALARM_S);
		if (chan_attach(&ch, f->fd) < 0)
			_exit(90);
		ch.sleep_ns = f->ch.sleep_ns;
		int rc = fn(&ch, arg);
		chan_detach(&ch);
		_exit(rc);
	}
	f->child = pid;
	watched_pid = pid;
	watched = &f->ch;
}

static void expect_child_ok(struct fixture *f)
{
	int st;

	watched = NULL;
	assert_int_equal(waitpid(f->child, &st, 0), f->child);
	f->child = 0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Wait (bounded) until a waiter on dir is inside its futex sleep. */
static void await_sleeper(struct chan *ch, enum chan_dir dir)
{
	for (int i = 0; i < 5000 && atomic_load(&ch->hdr->sleeping[dir]) == 0; i++)
		usleep(1000);
	assert_int_not_equal(atomic_load(&ch->hdr->sleeping[dir]), 0);
	usleep(20000); /* from the counter into FUTEX_WAIT */
}

static void test_layout(void **state)
{
	struct fixture *f = *state;
	struct chan_hdr *h = f->ch.hdr;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct stat st;

	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(h->magic, CHAN_MAGIC);
	assert_int_equal(h->version, CHAN_VERSION);
	assert_int_equal(h->map_size, (uint64_t)st.st_size);
	assert_int_equal(f->ch.size, (size_t)st.st_size);
	assert_int_equal(h->arena_off % page, 0);
	assert_true(h->arena_off >= sizeof(struct chan_hdr));
	assert_int_equal(h->arena_size % page, 0);
	assert_true(h->arena_size >= ARENA_REQ);
	assert_true(h->arena_size < ARENA_REQ + page);
	assert_int_equal(h->arena_off + h->arena_size, h->map_size);
	assert_ptr_equal(f->ch.base, (unsigned char *)h);
	assert_ptr_equal(f->ch.arena, f->ch.base + h->arena_off);
	assert_ptr_equal(chan_arena_ptr(&f->ch, 10), f->ch.arena + 10);
	assert_true((unsigned char *)(&h->call + 1) <= f->ch.arena);
	assert_true((unsigned char *)(&h->ctl + 1) <= f->ch.arena);
	assert_true((unsigned char *)&h->ctl >= (unsigned char *)(&h->call + 1));
	assert_int_equal(offsetof(struct chan_hdr, seq) % 64, 0);
	/* A post and a wait touch one line of the header: the words, their
	 * sleepers, the state, same_cpu and the ring's taken count. */
#define IN_SEQ_LINE(f) (offsetof(struct chan_hdr, f) >= offsetof(struct chan_hdr, seq) && \
			offsetof(struct chan_hdr, f) + sizeof(h->f) <= offsetof(struct chan_hdr, seq) + 64)
	assert_true(IN_SEQ_LINE(seq));
	assert_true(IN_SEQ_LINE(sleeping));
	assert_true(IN_SEQ_LINE(state));
	assert_true(IN_SEQ_LINE(same_cpu));
	assert_true(IN_SEQ_LINE(ring_taken));
#undef IN_SEQ_LINE
	assert_int_equal(offsetof(struct chan_hdr, call) % 64, 0);
	/* A blocking send or receive (10 arguments at most) touches two
	 * lines of the slot: the header and reply in the first. */
	assert_true(offsetof(struct chan_call, status) + sizeof(h->call.status) <= 64);
	assert_true(offsetof(struct chan_call, inl_len) + sizeof(h->call.inl_len) <= 64);
	assert_true(offsetof(struct chan_call, arg[10]) <= 128);
	assert_int_equal(offsetof(struct chan_hdr, ctl) % 64, 0);
	assert_int_equal(atomic_load(&h->state), CHAN_UP);
	for (int d = 0; d < CHAN_NDIRS; d++)
		assert_int_equal(chan_seq(&f->ch, (enum chan_dir)d), 0);
	assert_int_equal(offsetof(struct chan_hdr, ctor) % 64, 0);
	assert_int_equal(sizeof(h->ctor) / sizeof(h->ctor[0]), CHAN_CTOR_WORDS);
	for (int64_t t = 0; t < CHAN_CTOR_WORDS; t++)
		assert_int_equal(chan_ctor_seq(&f->ch, t), 0);
	/* The reply arrays hold what chan.h promises. */
	assert_int_equal(sizeof(h->ctl.parked) / sizeof(h->ctl.parked[0]), CHAN_CTL_MAX);
	assert_int_equal(sizeof(h->ctl.msgs) / sizeof(h->ctl.msgs[0]), CHAN_CTL_MAX);
	assert_true(CTL_ARG_DRAIN_PENDING < CHAN_CTL_ARGS);
	/* CHAN_RETRY is no standard-ABI error code (0 .. 16383). */
	assert_true(CHAN_RETRY < 0 || CHAN_RETRY > 16383);
	/* The whole arena is mapped: its last byte is writable. */
	f->ch.arena[h->arena_size - 1] = 0x5a;
	assert_int_equal(f->ch.arena[h->arena_size - 1], 0x5a);
}

/* Children inherit the fd; nobody else can open it or resize it. */
static void test_fd_properties(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(fcntl(f->fd, F_GETFD) & FD_CLOEXEC, 0);
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	assert_int_equal(ftruncate(f->fd, 4096), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(f->fd, st.st_size * 2), -1);
	assert_int_equal(errno, EPERM);
}

static void test_two_mappings_share(void **state)
{
	struct fixture *f = *state;
	struct chan other;

	assert_int_equal(chan_attach(&other, f->fd), 0);
	assert_ptr_not_equal(other.hdr, f->ch.hdr);
	f->ch.hdr->call.arg[3] = 0x1234567890;
	f->ch.arena[100] = 77;
	chan_post(&f->ch, CHAN_REQ);
	assert_int_equal(chan_seq(&other, CHAN_REQ), 1);
	assert_int_equal(chan_wait(&other, CHAN_REQ, 0), 0);
	assert_int_equal(other.hdr->call.arg[3], 0x1234567890);
	assert_int_equal(other.arena[100], 77);
	chan_detach(&other);
	assert_null(other.hdr);
}

static void test_seq_numbers(void **state)
{
	struct fixture *f = *state;

	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(chan_seq(&f->ch, CHAN_REQ), i);
		chan_post(&f->ch, CHAN_REQ);
	}
	assert_int_equal(chan_seq(&f->ch, CHAN_RSP), 0); /* directions apart */
	/* A step already taken is seen at once, whatever the phase. */
	f->ch.spin_ns = 0;
	f->ch.yield_ns = 0;
	assert_int_equal(chan_wait(&f->ch, CHAN_REQ, 3), 0);
	/* The words wrap; waiting only compares for inequality. */
	atomic_store(&f->ch.hdr->seq[CHAN_RSP], UINT32_MAX);
	chan_post(&f->ch, CHAN_RSP);
	assert_int_equal(chan_seq(&f->ch, CHAN_RSP), 0);
	assert_int_equal(chan_wait(&f->ch, CHAN_RSP, UINT32_MAX), 0);
}

/* The child serves ROUNDS requests the way the proxy does. */
struct serve_args {
	uint64_t spin_ns, yield_ns;
};

static int serve(struct chan *ch, void *arg)
{
	struct serve_args *sa = arg;

	ch->spin_ns = sa->spin_ns;
	ch->yield_ns = sa->yield_ns;
	for (uint32_t i = 0; i < ROUNDS; i++) {
		if (chan_wait(ch, CHAN_REQ, i) < 0)
			return 1;
		if (chan_seq(ch, CHAN_REQ) != i + 1)
			return 2;
		struct chan_call *c = &ch->hdr->call;
		c->arg[1] = c->arg[0] * 3 + 1;
		ch->arena[i % 4096] = (unsigned char)i;
		c->err = (int32_t)i;
		chan_post(ch, CHAN_RSP);
	}
	return 0;
}

static void round_trips(struct fixture *f, uint32_t same_cpu, uint64_t spin_ns,
			uint64_t yield_ns)
{
	struct serve_args sa = { spin_ns, yield_ns };
	struct chan *ch = &f->ch;

	ch->hdr->same_cpu = same_cpu;
	ch->spin_ns = spin_ns;
	ch->yield_ns = yield_ns;
	spawn(f, serve, &sa);
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint64_t t0 = now_ns();
		uint32_t seen = chan_seq(ch, CHAN_RSP);
		ch->hdr->call.arg[0] = (int64_t)i * 7;
		chan_post(ch, CHAN_REQ);
		assert_int_equal(chan_wait(ch, CHAN_RSP, seen), 0);
		assert_int_equal(ch->hdr->call.arg[1], (int64_t)i * 21 + 1);
		assert_int_equal(ch->hdr->call.err, (int32_t)i);
		assert_int_equal(ch->arena[i % 4096], (unsigned char)i);
		/* CPU contention costs scheduler slices, ms at worst. */
		assert_true(now_ns() - t0 < WAKE_FAST_NS);
	}
	expect_child_ok(f);
	assert_int_equal(chan_seq(ch, CHAN_REQ), ROUNDS);
	assert_int_equal(chan_seq(ch, CHAN_RSP), ROUNDS);
}

static void test_fork_spin(void **state)
{
	round_trips(*state, 0, 5000, 50000);
}

static void test_fork_yield_only(void **state)
{
	round_trips(*state, 1, 5000, 50000);
}

static void test_fork_futex_only(void **state)
{
	round_trips(*state, 0, 0, 0);
}

/* Sleeps, then records at arena offset 0 when its wait returned. */
struct sleeper_args {
	enum chan_dir dir;
	int expect; /* chan_wait's result */
};

static int sleeper(struct chan *ch, void *arg)
{
	struct sleeper_args *sa = arg;

	ch->spin_ns = 0;
	ch->yield_ns = 0;
	/* The parent acts only once we sleep: this is the value before. */
	int rc = chan_wait(ch, sa->dir, chan_seq(ch, sa->dir));
	*(uint64_t *)chan_arena_ptr(ch, 0) = now_ns();
	return rc == sa->expect ? 0 : 1;
}

static uint64_t sleeper_latency(struct fixture *f, enum chan_dir dir, int expect,
				void (*act)(struct chan *, enum chan_dir))
{
	struct sleeper_args sa = { dir, expect };
	spawn(f, sleeper, &sa);
	await_sleeper(&f->ch, dir);
	uint64_t t0 = now_ns();
	act(&f->ch, dir);
	expect_child_ok(f);
	assert_int_equal(atomic_load(&f->ch.hdr->sleeping[dir]), 0);
	return *(uint64_t *)chan_arena_ptr(&f->ch, 0) - t0;
}

static void act_post(struct chan *ch, enum chan_dir dir)
{
	chan_post(ch, dir);
}

static void act_state(struct chan *ch, enum chan_dir dir)
{
	(void)dir;
	chan_set_state(ch, CHAN_PROXY_GONE);
}

/* A state change nobody announces with a wake (the race wait.c
 * describes): only the sleep bound lets the waiter notice it. */
static void act_state_silent(struct chan *ch, enum chan_dir dir)
{
	(void)dir;
	atomic_store(&ch->hdr->state, CHAN_APP_GONE);
}

static void test_post_wakes_sleeper(void **state)
{
	struct fixture *f = *state;

	assert_true(sleeper_latency(f, CHAN_RSP, 0, act_post) < WAKE_FAST_NS);
	assert_true(sleeper_latency(f, CHAN_REQ, 0, act_post) < WAKE_FAST_NS);
}

static void test_state_wakes_sleeper(void **state)
{
	struct fixture *f = *state;

	assert_true(sleeper_latency(f, CHAN_REQ, -1, act_state) < WAKE_FAST_NS);
}

static void test_missed_state_wake_bounded(void **state)
{
	struct fixture *f = *state;
	f->ch.sleep_ns = f->job_sleep_ns;
	uint64_t lat = sleeper_latency(f, CHAN_RSP, -1, act_state_silent);

	assert_true(lat < 1000000000ull);
}

/* Waits with long spin and yield phases; exits 0 if the wait returned
 * the step and left the channel in crowded mode: one wait fewer to go
 * if it started there, a fresh countdown if it found the gap itself. */
struct crowd_args {
	uint32_t same_cpu;
	uint32_t crowded; /* preset countdown */
};

static int crowd_waiter(struct chan *ch, void *arg)
{
	struct crowd_args *ca = arg;

	ch->spin_ns = 1000000000;
	ch->yield_ns = 1000000000;
	ch->hdr->same_cpu = ca->same_cpu;
	atomic_store(&ch->crowded, ca->crowded);
	if (chan_wait(ch, CHAN_REQ, 0) != 0)
		return 1;
	uint32_t left = atomic_load(&ch->crowded);
	if (ca->crowded > 0)
		return left == ca->crowded - 1 ? 0 : 2;
	return left > ca->crowded ? 0 : 3;
}

/* A waiter already in crowded mode sleeps at once instead of spending
 * seconds in its spin and yield phases. */
static void test_crowded_mode_sleeps_at_once(void **state)
{
	struct fixture *f = *state;
	struct crowd_args ca = { 0, 3 };

	spawn(f, crowd_waiter, &ca);
	uint64_t t0 = now_ns();
	await_sleeper(&f->ch, CHAN_REQ);
	assert_true(now_ns() - t0 < 500000000ull);
	chan_post(&f->ch, CHAN_REQ);
	expect_child_ok(f);
}

/* Stopping a spinning or yielding waiter for a while is what a crowded
 * CPU does to it: it must notice the gap and go to sleep. */
static void gap_sends_to_sleep(struct fixture *f, uint32_t same_cpu)
{
	struct crowd_args ca = { same_cpu, 0 };

	spawn(f, crowd_waiter, &ca);
	usleep(50000);
	uint64_t t0 = now_ns();
	assert_int_equal(kill(f->child, SIGSTOP), 0);
	usleep(5000);
	assert_int_equal(kill(f->child, SIGCONT), 0);
	await_sleeper(&f->ch, CHAN_REQ);
	assert_true(now_ns() - t0 < 500000000ull);
	chan_post(&f->ch, CHAN_REQ);
	expect_child_ok(f);
}

static void test_gap_in_spin_sends_to_sleep(void **state)
{
	gap_sends_to_sleep(*state, 0);
}

static void test_gap_in_yield_sends_to_sleep(void **state)
{
	gap_sends_to_sleep(*state, 1);
}

static int die(struct chan *ch, void *arg)
{
	(void)ch;
	(void)arg;
	usleep(20000);
	raise(SIGKILL);
	return 1;
}

/* The SIGCHLD path the launcher uses: a peer that dies mid-call turns a
 * wait that would never end into -1. */
static void test_child_death_ends_wait(void **state)
{
	struct fixture *f = *state;

	spawn(f, die, NULL);
	assert_int_equal(chan_wait(&f->ch, CHAN_RSP, 0), -1);
	int st;
	assert_int_equal(waitpid(f->child, &st, 0), f->child);
	f->child = 0;
	assert_true(WIFSIGNALED(st));
}

static void test_state_and_posted_step(void **state)
{
	struct fixture *f = *state;
	struct chan *ch = &f->ch;

	ch->spin_ns = 1000;
	ch->yield_ns = 1000;
	chan_set_state(ch, CHAN_APP_GONE);
	assert_int_equal(chan_wait(ch, CHAN_REQ, 0), -1);
	/* A reply posted before its sender died is still delivered. */
	chan_post(ch, CHAN_RSP);
	assert_int_equal(chan_wait(ch, CHAN_RSP, 0), 0);
	assert_int_equal(chan_wait(ch, CHAN_RSP, 1), -1);
}

/* Which words a post steps: its own, and the bell for the two request
 * directions only. */
static void test_post_steps_bell(void **state)
{
	struct fixture *f = *state;
	static const struct {
		enum chan_dir dir;
		uint32_t bell;
	} cases[] = {
		{ CHAN_REQ, 1 }, { CHAN_RSP, 0 }, { CHAN_CTL_REQ, 1 }, { CHAN_CTL_RSP, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t before[CHAN_NDIRS];
		for (int d = 0; d < CHAN_NDIRS; d++)
			before[d] = chan_seq(&f->ch, (enum chan_dir)d);
		chan_post(&f->ch, cases[i].dir);
		for (int d = 0; d < CHAN_NDIRS; d++) {
			uint32_t want = before[d];
			if (d == (int)cases[i].dir)
				want++;
			else if (d == CHAN_BELL)
				want += cases[i].bell;
			assert_int_equal(chan_seq(&f->ch, (enum chan_dir)d), want);
		}
	}
}

static void act_post_req(struct chan *ch, enum chan_dir dir)
{
	(void)dir;
	chan_post(ch, CHAN_REQ);
}

static void act_post_ctl(struct chan *ch, enum chan_dir dir)
{
	(void)dir;
	chan_post(ch, CHAN_CTL_REQ);
}

/* A proxy asleep on the bell wakes for either kind of request, at once. */
static void test_bell_wakes_sleeper(void **state)
{
	struct fixture *f = *state;

	assert_true(sleeper_latency(f, CHAN_BELL, 0, act_post_req) < WAKE_FAST_NS);
	assert_true(sleeper_latency(f, CHAN_BELL, 0, act_post_ctl) < WAKE_FAST_NS);
	assert_true(sleeper_latency(f, CHAN_BELL, -1, act_state) < WAKE_FAST_NS);
}

static void test_ctl_dirs_wake_sleepers(void **state)
{
	struct fixture *f = *state;

	assert_true(sleeper_latency(f, CHAN_CTL_RSP, 0, act_post) < WAKE_FAST_NS);
	assert_true(sleeper_latency(f, CHAN_CTL_REQ, 0, act_post) < WAKE_FAST_NS);
	assert_true(sleeper_latency(f, CHAN_CTL_RSP, -1, act_state) < WAKE_FAST_NS);
}

/* chan_wait_request: the call slot first, a request already posted is
 * seen without waiting, -1 only when the channel is down and nothing
 * was posted. */
static void test_wait_request_order(void **state)
{
	struct fixture *f = *state;
	struct chan *ch = &f->ch;

	ch->spin_ns = 0;
	ch->yield_ns = 0;
	chan_post(ch, CHAN_CTL_REQ);
	assert_int_equal(chan_wait_request(ch, 0, 0), CHAN_CTL_REQ);
	chan_post(ch, CHAN_REQ);
	assert_int_equal(chan_wait_request(ch, 0, 0), CHAN_REQ);
	assert_int_equal(chan_wait_request(ch, 1, 0), CHAN_CTL_REQ);
	chan_set_state(ch, CHAN_APP_GONE);
	assert_int_equal(chan_wait_request(ch, 1, 1), -1);
	assert_int_equal(chan_wait_request(ch, 0, 1), CHAN_REQ);
}

/* The post ring: entries come out in the order published with their
 * id and arguments; a full ring refuses a claim until the proxy took
 * one; each publish rings the bell, and chan_wait_request reports the
 * ring before a call posted after it.  Several laps, so the counts wrap
 * around the ring. */
static void test_ring_order_full_wrap(void **state)
{
	struct fixture *f = *state;
	struct chan *ch = &f->ch;
	struct chan_ring_post p;
	int64_t next_in = 0, next_out = 0;

	ch->spin_ns = 0;
	ch->yield_ns = 0;
	for (int lap = 0; lap < 3; lap++) {
		uint32_t bell = chan_seq(ch, CHAN_BELL);
		int64_t *e;
		while ((e = chan_ring_claim(ch))) {
			for (int i = 0; i < CHAN_RING_ARGS; i++)
				e[i] = next_in * CHAN_RING_ARGS + i;
			chan_ring_publish(ch, (uint32_t)(next_in % 2 ? CALL_ISEND : CALL_IRECV));
			next_in++;
		}
		assert_int_equal(next_in - next_out, CHAN_RING_SIZE);
		assert_int_equal(chan_seq(ch, CHAN_BELL) - bell, CHAN_RING_SIZE);
		chan_post(ch, CHAN_REQ);
		assert_int_equal(chan_wait_request(ch, (uint32_t)lap, 0), CHAN_POSTS);
		/* Half now: a claim succeeds again, the rest stays in order. */
		for (int k = 0; k < CHAN_RING_SIZE / 2; k++, next_out++) {
			assert_int_equal(chan_ring_next(ch, &p), 1);
			assert_int_equal(p.id, next_out % 2 ? CALL_ISEND : CALL_IRECV);
			for (int i = 0; i < CHAN_RING_ARGS; i++)
				assert_int_equal(p.arg[i], next_out * CHAN_RING_ARGS + i);
		}
		assert_non_null(chan_ring_claim(ch));
		while (chan_ring_next(ch, &p)) {
			for (int i = 0; i < CHAN_RING_ARGS; i++)
				assert_int_equal(p.arg[i], next_out * CHAN_RING_ARGS + i);
			next_out++;
		}
		assert_int_equal(next_out, next_in);
		assert_false(chan_ring_waiting(ch));
		assert_int_equal(chan_wait_request(ch, (uint32_t)lap, 0), CHAN_REQ);
	}
}

static void act_ring_post(struct chan *ch, enum chan_dir dir)
{
	(void)dir;
	int64_t *e = chan_ring_claim(ch);
	assert_non_null(e);
	e[0] = 1;
	chan_ring_publish(ch, CALL_ISEND);
}

/* A proxy asleep on the bell wakes for a ring post at once. */
static void test_ring_post_wakes_bell_sleeper(void **state)
{
	struct fixture *f = *state;

	assert_true(sleeper_latency(f, CHAN_BELL, 0, act_ring_post) < WAKE_FAST_NS);
}

/* The child plays the proxy: serves ROUNDS calls and ROUNDS control
 * requests in whatever order they come, waiting on the bell. */
static int serve_both(struct chan *ch, void *arg)
{
	struct serve_args *sa = arg;
	uint32_t req = 0, ctl = 0;

	ch->spin_ns = sa->spin_ns;
	ch->yield_ns = sa->yield_ns;
	while (req < ROUNDS || ctl < ROUNDS) {
		int which = chan_wait_request(ch, req, ctl);
		if (which == CHAN_REQ) {
			struct chan_call *c = &ch->hdr->call;
			c->arg[1] = c->arg[0] + 1;
			c->err = 0;
			req++;
			chan_post(ch, CHAN_RSP);
		} else if (which == CHAN_CTL_REQ) {
			struct chan_ctl *c = &ch->hdr->ctl;
			c->arg[1] = c->arg[0] * 2 + c->id;
			c->n = (uint32_t)c->id;
			c->err = c->id == CTL_DRAIN ? 5 : 0;
			ctl++;
			chan_post(ch, CHAN_CTL_RSP);
		} else {
			return 1;
		}
	}
	return 0;
}

static void *call_thread(void *arg)
{
	struct chan *ch = arg;
	intptr_t bad = 0;

	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t seen = chan_seq(ch, CHAN_RSP);
		ch->hdr->call.arg[0] = (int64_t)i << 8;
		chan_post(ch, CHAN_REQ);
		if (chan_wait(ch, CHAN_RSP, seen) < 0 ||
		    ch->hdr->call.arg[1] != ((int64_t)i << 8) + 1)
			bad++;
	}
	return (void *)bad;
}

/* Calls and control requests from two threads at once, served by one
 * proxy waiting on the bell: nothing is lost or answered on the wrong
 * slot, and chan_ctl_call returns the reply's err. */
static void both_slots(struct fixture *f, uint64_t spin_ns, uint64_t yield_ns)
{
	struct serve_args sa = { spin_ns, yield_ns };
	struct chan *ch = &f->ch;
	pthread_t t;
	void *bad;

	ch->spin_ns = spin_ns;
	ch->yield_ns = yield_ns;
	spawn(f, serve_both, &sa);
	assert_int_equal(pthread_create(&t, NULL, call_thread, ch), 0);
	for (uint32_t i = 0; i < ROUNDS; i++) {
		uint32_t id = i % 2 ? CTL_PARK : CTL_DRAIN;
		ch->hdr->ctl.arg[0] = i;
		assert_int_equal(chan_ctl_call(ch, id), id == CTL_DRAIN ? 5 : 0);
		assert_int_equal(ch->hdr->ctl.arg[1], (int64_t)i * 2 + id);
		assert_int_equal(ch->hdr->ctl.n, id);
	}
	assert_int_equal(pthread_join(t, &bad), 0);
	assert_null(bad);
	expect_child_ok(f);
	assert_int_equal(chan_seq(ch, CHAN_CTL_REQ), ROUNDS);
	assert_int_equal(chan_seq(ch, CHAN_CTL_RSP), ROUNDS);
	assert_int_equal(chan_seq(ch, CHAN_RSP), ROUNDS);
	assert_int_equal(chan_seq(ch, CHAN_BELL), 2 * ROUNDS);
}

static void test_both_slots_spin(void **state)
{
	both_slots(*state, 5000, 50000);
}

static void test_both_slots_futex_only(void **state)
{
	both_slots(*state, 0, 0);
}

/* A control request to a proxy that dies returns -1, not a hang. */
static void test_ctl_call_proxy_gone(void **state)
{
	struct fixture *f = *state;

	spawn(f, die, NULL);
	assert_int_equal(chan_ctl_call(&f->ch, CTL_PARK), -1);
	int st;
	assert_int_equal(waitpid(f->child, &st, 0), f->child);
	f->child = 0;
	assert_true(WIFSIGNALED(st));
}

static void test_attach_rejects(void **state)
{
	struct fixture *f = *state;
	struct chan ch;
	struct chan_hdr *h = f->ch.hdr;

	assert_int_equal(chan_attach(&ch, -1), -1);
	assert_null(ch.hdr);
	int closed = dup(f->fd);
	close(closed);
	assert_int_equal(chan_attach(&ch, closed), -1);

	int small = memfd_create("small", 0);
	assert_true(small >= 0);
	assert_int_equal(ftruncate(small, 100), 0);
	assert_int_equal(chan_attach(&ch, small), -1);
	/* Right size, but zeroes: no magic. */
	assert_int_equal(ftruncate(small, (off_t)f->ch.size), 0);
	assert_int_equal(chan_attach(&ch, small), -1);
	close(small);

	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(chan_attach(&ch, pipefd[0]), -1);
	close(pipefd[0]);
	close(pipefd[1]);

	/* Corrupt one header field at a time through the live mapping. */
	h->magic ^= 1;
	assert_int_equal(chan_attach(&ch, f->fd), -1);
	h->magic ^= 1;
	h->version++;
	assert_int_equal(chan_attach(&ch, f->fd), -1);
	h->version--;
	h->map_size += 4096;
	assert_int_equal(chan_attach(&ch, f->fd), -1);
	h->map_size -= 4096;
	h->arena_off += 8;
	assert_int_equal(chan_attach(&ch, f->fd), -1);
	h->arena_off -= 8;
	h->arena_size += 4096;
	assert_int_equal(chan_attach(&ch, f->fd), -1);
	h->arena_size -= 4096;
	assert_int_equal(chan_attach(&ch, f->fd), 0);
	chan_detach(&ch);
}

static void test_attach_env(void **state)
{
	struct fixture *f = *state;
	struct chan ch;
	char buf[32];

	unsetenv(CHAN_ENV_FD);
	assert_int_equal(chan_attach_env(&ch), -1);
	const char *bad[] = { "", "abc", "-1", "5x", "99999999999", " 3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(CHAN_ENV_FD, bad[i], 1);
		assert_int_equal(chan_attach_env(&ch), -1);
	}
	snprintf(buf, sizeof(buf), "%d", f->fd);
	setenv(CHAN_ENV_FD, buf, 1);
	assert_int_equal(chan_attach_env(&ch), 0);
	assert_int_equal(ch.fd, f->fd);
	assert_int_equal(ch.hdr->magic, CHAN_MAGIC);
	chan_detach(&ch);
	unsetenv(CHAN_ENV_FD);
}

static void test_tunables_from_env(void **state)
{
	struct fixture *f = *state;
	struct chan ch;

	unsetenv("DMTCP_MPI_SPIN_NS");
	unsetenv("DMTCP_MPI_YIELD_NS");
	assert_int_equal(chan_attach(&ch, f->fd), 0);
	uint64_t spin_def = ch.spin_ns, yield_def = ch.yield_ns;
	chan_detach(&ch);

	setenv("DMTCP_MPI_SPIN_NS", "1234", 1);
	setenv("DMTCP_MPI_YIELD_NS", "0", 1);
	assert_int_equal(chan_attach(&ch, f->fd), 0);
	assert_int_equal(ch.spin_ns, 1234);
	assert_int_equal(ch.yield_ns, 0);
	chan_detach(&ch);

	setenv("DMTCP_MPI_SPIN_NS", " 7", 1);
	setenv("DMTCP_MPI_YIELD_NS", "99999999999999", 1);
	assert_int_equal(chan_attach(&ch, f->fd), 0);
	assert_int_equal(ch.spin_ns, spin_def);
	assert_int_equal(ch.yield_ns, yield_def);
	chan_detach(&ch);
	unsetenv("DMTCP_MPI_SPIN_NS");
	unsetenv("DMTCP_MPI_YIELD_NS");
}

static void test_create_too_large(void **state)
{
	(void)state;
	assert_int_equal(chan_create(UINT64_MAX - 100), -1);
}

/* A post of a constructor token steps the word of that token (which
 * token + CHAN_CTOR_WORDS shares) and nothing else. */
static void test_ctor_post_steps_own_word(void **state)
{
	struct fixture *f = *state;
	const int64_t tok = 5;
	uint32_t dirs[CHAN_NDIRS];

	for (int d = 0; d < CHAN_NDIRS; d++)
		dirs[d] = chan_seq(&f->ch, (enum chan_dir)d);
	chan_post_ctor(&f->ch, tok);
	chan_post_ctor(&f->ch, tok);
	for (int64_t t = 0; t < CHAN_CTOR_WORDS; t++)
		assert_int_equal(chan_ctor_seq(&f->ch, t), t == tok ? 2 : 0);
	assert_int_equal(chan_ctor_seq(&f->ch, tok + CHAN_CTOR_WORDS), 2);
	for (int d = 0; d < CHAN_NDIRS; d++)
		assert_int_equal(chan_seq(&f->ch, (enum chan_dir)d), dirs[d]);
	/* Like chan_wait: returns at once on a step, -1 once the peer is gone. */
	assert_int_equal(chan_wait_ctor(&f->ch, tok, 1), 0);
	chan_set_state(&f->ch, CHAN_PROXY_GONE);
	assert_int_equal(chan_wait_ctor(&f->ch, tok, 2), -1);
}

/* Sleeps on the word of token *arg (futex only); records at arena offset
 * 0 when its wait returned; exits with the wait's result + 1. */
static int ctor_sleeper(struct chan *ch, void *arg)
{
	int64_t tok = *(const int64_t *)arg;

	ch->spin_ns = 0;
	ch->yield_ns = 0;
	int rc = chan_wait_ctor(ch, tok, chan_ctor_seq(ch, tok));
	*(uint64_t *)chan_arena_ptr(ch, 0) = now_ns();
	return rc + 1;
}

static void await_ctor_sleeper(struct chan *ch, int64_t tok)
{
	_Atomic uint32_t *n = &ch->hdr->ctor_sleeping[tok % CHAN_CTOR_WORDS];

	for (int i = 0; i < 5000 && atomic_load(n) == 0; i++)
		usleep(1000);
	assert_int_not_equal(atomic_load(n), 0);
	usleep(20000); /* from the counter into FUTEX_WAIT */
}

/* Posts of other tokens leave the sleeper asleep (a wake would make it
 * return, since its wait ends only on a step of its own word or a state
 * change); a post of its own wakes it at once. */
static void test_ctor_wakes_only_its_waiter(void **state)
{
	struct fixture *f = *state;
	int64_t mine = 7;

	spawn(f, ctor_sleeper, &mine);
	await_ctor_sleeper(&f->ch, mine);
	for (int64_t t = 0; t < 3 * CHAN_CTOR_WORDS; t++)
		if (t % CHAN_CTOR_WORDS != mine)
			chan_post_ctor(&f->ch, t);
	usleep(50000);
	assert_int_equal(waitpid(f->child, NULL, WNOHANG), 0);
	assert_int_equal(atomic_load(&f->ch.hdr->ctor_sleeping[mine]), 1);
	uint64_t t0 = now_ns();
	chan_post_ctor(&f->ch, mine + CHAN_CTOR_WORDS); /* same word */
	watched = NULL;
	int st;
	assert_int_equal(waitpid(f->child, &st, 0), f->child);
	f->child = 0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1); /* chan_wait_ctor returned 0 */
	assert_true(*(uint64_t *)chan_arena_ptr(&f->ch, 0) - t0 < WAKE_FAST_NS);
	assert_int_equal(atomic_load(&f->ch.hdr->ctor_sleeping[mine]), 0);
}

/* A proxy's death wakes constructor sleepers too. */
static void test_state_wakes_ctor_sleeper(void **state)
{
	struct fixture *f = *state;
	int64_t mine = 3;

	spawn(f, ctor_sleeper, &mine);
	await_ctor_sleeper(&f->ch, mine);
	uint64_t t0 = now_ns();
	chan_set_state(&f->ch, CHAN_PROXY_GONE);
	watched = NULL;
	int st;
	assert_int_equal(waitpid(f->child, &st, 0), f->child);
	f->child = 0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0); /* chan_wait_ctor returned -1 */
	assert_true(*(uint64_t *)chan_arena_ptr(&f->ch, 0) - t0 < WAKE_FAST_NS);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The waits' clock (chan/clock.c), from the time-stamp counter when the
 * kernel keeps time with it, is CLOCK_MONOTONIC: never going back, and
 * within 20 us of it over 20 ms (a rate off by 0.1% would be 20 us
 * off).  A read of chan_clock_ns between two of CLOCK_MONOTONIC lies
 * between them, give or take that; a preempted triple proves nothing
 * and is skipped. */
static void test_clock_follows_monotonic(void **state)
{
	(void)state;
	const uint64_t slack = 20000, span = 20000000;
	uint64_t last = 0, start, checked = 0;

	chan_clock_init();
	start = mono_ns();
	for (uint64_t a = start; a - start < span; a = mono_ns()) {
		uint64_t c = chan_clock_ns(), b = mono_ns();
		assert_true(c >= last);
		last = c;
		if (b - a > 1000)
			continue;
		assert_true(c + slack >= a);
		assert_true(c <= b + slack);
		checked++;
	}
	assert_true(checked > 1000);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_layout),
		T(test_fd_properties),
		T(test_two_mappings_share),
		T(test_seq_numbers),
		T(test_post_wakes_sleeper),
		T(test_state_wakes_sleeper),
		T(test_missed_state_wake_bounded),
		T(test_fork_spin),
		T(test_fork_yield_only),
		T(test_fork_futex_only),
		T(test_child_death_ends_wait),
		T(test_crowded_mode_sleeps_at_once),
		T(test_gap_in_spin_sends_to_sleep),
		T(test_gap_in_yield_sends_to_sleep),
		T(test_state_and_posted_step),
		T(test_post_steps_bell),
		T(test_bell_wakes_sleeper),
		T(test_ctl_dirs_wake_sleepers),
		T(test_wait_request_order),
		T(test_ring_order_full_wrap),
		T(test_ring_post_wakes_bell_sleeper),
		T(test_both_slots_spin),
		T(test_both_slots_futex_only),
		T(test_ctl_call_proxy_gone),
		T(test_ctor_post_steps_own_word),
		T(test_ctor_wakes_only_its_waiter),
		T(test_state_wakes_ctor_sleeper),
		T(test_attach_rejects),
		T(test_attach_env),
		T(test_tunables_from_env),
		cmocka_unit_test(test_clock_follows_monotonic),
		cmocka_unit_test(test_create_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
