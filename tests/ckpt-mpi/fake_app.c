/*
 * fake_app.c - drives a real proxy through a checkpoint's control
 * requests, with raw calls on the channel and no shim.
 *
 *   mpirun -n 2 dmtcp_mpi fake_app      (run.sh does this for each MPI)
 *
 * The launcher starts the real proxy; this program plays the
 * application: it fills the call slot as the shim would (layouts in
 * shim/p2p.c, shim/req.c, proxy/comm.c) and issues CTL_PARK / CTL_DRAIN
 * / CTL_RESUME through chan_ctl_call as the shim's checkpoint code will.
 * Rank 0 sends, rank 1 receives; every expected value below follows from
 * the script of calls, never from the proxy's answers.
 *
 * Round 1  rank 1 has a blocking RECV in flight and two IRECVs pending
 *          (one matched, one not); rank 0 has five ISENDs (one of them a
 *          rendezvous-size message, two on a second communicator, one of
 *          them empty) and a blocking rendezvous SEND in flight.  PARK: the RECV gets
 *          CHAN_RETRY with its arguments intact, the IRECVs come back as
 *          DONE (with its data) and REPOST, rank 0's SEND is reported
 *          busy; DRAIN (starting with a block too small) yields exactly
 *          the six unreceived messages, in order, with their bytes; the
 *          counters agree (8 sent by rank 0, 8 received by rank 1) and
 *          RESUME does not reset them (they count on in round 2).
 *          After RESUME the abandoned RECV and the cancelled IRECV are
 *          posted again and get the messages sent afterwards.  The two
 *          IRECVs are posted before their messages are sent, so the
 *          proxy must not report them complete at their post
 *          (CALL_ARG_DONE); an IRECV whose message may be there already
 *          takes either answer (recv_req).
 * Round 2  rank 1 is in a SENDRECV, rank 0 in a PROBE, both give way; the
 *          SENDRECV comes back as the RECV to repost, its send part is
 *          drained on rank 0; both are posted again and complete.
 * Round 3  rank 1 waits (WAITALL) on a pending IRECV: CHAN_RETRY, the
 *          request is reported REPOST and is posted again.
 * Ring     posts on the ring are started before the next call and before
 *          PARK (which cancels the unmatched receive among them); one that
 *          fails (unknown communicator) fails its WAIT.
 * Also: communicator ids agree across members of one communicator and
 * differ for two disjoint ones; COMM_REBUILD makes a working communicator
 * that keeps the id it is given, and ids made later differ from it; a
 * drain block outside the arena is refused.
 *
 * Like the coordinator, rank 1 starts draining only once rank 0 is
 * parked: rank 0 leaves a file in $DMTCP_MPI_TEST_SYNC (run.sh makes the
 * directory), since MPI itself is what is being parked.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan/abi_gen.h"
#include "chan/calls.h"
#include "chan/chan.h"

#define REQ(i) ((int64_t)3 << 24 | (i))   /* request handles, as the shim */
#define COMM(i) ((int64_t)1 << 24 | (i))  /* communicator handles */
#define DUP COMM(1)
#define SPLIT COMM(2)
#define REBUILT COMM(3)
#define LATER COMM(4)

/* Arena layout of this test. */
#define MB (1u << 20)
#define OFF_SEND(t) ((int64_t)(t) * MB)   /* payload of the message tagged t */
#define OFF_RECV(t) ((int64_t)(64 + (t)) * MB)
#define OFF_DRAIN ((int64_t)256 * MB)
#define DRAIN_SIZE (4 * MB)

#define DEADLINE_S 20

static struct chan ch;
static int rank;

static void fail(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ckpt-mpi: rank %d: line %d: ", rank, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__LINE__, __VA_ARGS__); } while (0)
#define CHECK_EQ(a, b) CHECK((int64_t)(a) == (int64_t)(b), "%s = %lld, want %s = %lld", \
			     #a, (long long)(a), #b, (long long)(b))

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- raw calls ---- */

static struct chan_call *slot(uint32_t id)
{
	struct chan_call *c = &ch.hdr->call;

	c->id = id;
	c->err = 0;
	c->inl_len = 0;
	memset(c->arg, 0, sizeof(c->arg));
	return c;
}

static uint32_t post(void)
{
	uint32_t seen = chan_seq(&ch, CHAN_RSP);

	chan_post(&ch, CHAN_REQ);
	return seen;
}

static int answered(uint32_t seen)
{
	return chan_seq(&ch, CHAN_RSP) != seen;
}

static int finish(uint32_t seen)
{
	CHECK(chan_wait(&ch, CHAN_RSP, seen) == 0, "proxy gone");
	return ch.hdr->call.err;
}

static int run(void)
{
	return finish(post());
}

static unsigned char pattern(int tag, int64_t i)
{
	return (unsigned char)(tag * 31 + i);
}

static void fill(int tag, int64_t bytes)
{
	unsigned char *p = chan_arena_ptr(&ch, (uint64_t)OFF_SEND(tag));

	for (int64_t i = 0; i < bytes; i++)
		p[i] = pattern(tag, i);
}

static void check_bytes(int line, int tag, int64_t off, int64_t bytes)
{
	const unsigned char *p = chan_arena_ptr(&ch, (uint64_t)off);

	for (int64_t i = 0; i < bytes; i++)
		if (p[i] != pattern(tag, i))
			fail(line, "message tagged %d: byte %lld is %u, want %u", tag,
			     (long long)i, p[i], pattern(tag, i));
}

/* arg layout of SEND/ISEND/RECV/IRECV (shim/p2p.c) */
static void msg(struct chan_call *c, int64_t off, int64_t bytes, int64_t peer, int64_t tag,
		int64_t comm)
{
	c->arg[0] = off;
	c->arg[1] = bytes;
	c->arg[2] = ABI_BYTE;
	c->arg[3] = peer;
	c->arg[4] = tag;
	c->arg[5] = comm;
}

static void start_send(uint32_t id, int tag, int64_t bytes, int64_t comm, int64_t req)
{
	struct chan_call *c = slot(id);

	fill(tag, bytes);
	msg(c, OFF_SEND(tag), bytes, 1, tag, comm);
	c->arg[6] = 0; /* standard mode */
	c->arg[7] = req;
}

static void send(int tag, int64_t bytes, int64_t comm)
{
	start_send(CALL_SEND, tag, bytes, comm, 0);
	CHECK_EQ(run(), 0);
}

static void isend(int tag, int64_t bytes, int64_t comm, int64_t req)
{
	start_send(CALL_ISEND, tag, bytes, comm, req);
	CHECK_EQ(run(), 0);
}

static void start_recv(uint32_t id, int tag, int64_t bytes, int64_t src, int64_t req)
{
	struct chan_call *c = slot(id);

	msg(c, OFF_RECV(tag), bytes, src, tag, ABI_COMM_WORLD);
	c->arg[6] = req;
}

/* Returns 1 if the proxy found the message there already and completed
 * the request at once (CALL_ARG_DONE; the status is in the slot). */
static int irecv(int tag, int64_t bytes, int64_t req)
{
	start_recv(CALL_IRECV, tag, bytes, 0, req);
	CHECK_EQ(run(), 0);
	return (int)ch.hdr->call.arg[CALL_ARG_DONE];
}

static int64_t status_bytes(const struct chan_status *st)
{
	int64_t n;

	memcpy(&n, st->internal, sizeof(n));
	return n;
}

/* The call in the slot completed a receive of the message tagged tag. */
static void check_received(int line, const struct chan_status *st, int tag, int64_t bytes)
{
	if (st->tag != tag || status_bytes(st) != bytes || st->internal[2] != 0)
		fail(line, "status tag %d bytes %lld cancelled %d, want tag %d bytes %lld",
		     st->tag, (long long)status_bytes(st), st->internal[2], tag,
		     (long long)bytes);
	check_bytes(line, tag, OFF_RECV(tag), bytes);
}

static void wait_req(int64_t req, int tag, int64_t bytes)
{
	struct chan_call *c = slot(CALL_WAIT);

	c->arg[0] = req;
	CHECK_EQ(run(), 0);
	if (tag >= 0)
		check_received(__LINE__, &c->status, tag, bytes);
}

static void barrier(void)
{
	struct chan_call *c = slot(CALL_BARRIER);

	c->arg[0] = ABI_COMM_WORLD; /* COLL_COMM, chan/coll.h */
	CHECK_EQ(run(), 0);
}

/* IRECV and its completion: the IRECV's reply if the message was there
 * already, else WAIT's. */
static void recv_req(int tag, int64_t bytes, int64_t req)
{
	if (irecv(tag, bytes, req))
		check_received(__LINE__, &ch.hdr->call.status, tag, bytes);
	else
		wait_req(req, tag, bytes);
}

/* A call abandoned by PARK: answered CHAN_RETRY, slot as it was posted. */
static void check_retry(int line, uint32_t seen, uint32_t id, const int64_t *args, int n)
{
	int err = finish(seen);

	if (err != CHAN_RETRY)
		fail(line, "abandoned call answered %d, want CHAN_RETRY", err);
	if (ch.hdr->call.id != id)
		fail(line, "abandoned call has id %u, want %u", ch.hdr->call.id, id);
	for (int i = 0; i < n; i++)
		if (ch.hdr->call.arg[i] != args[i])
			fail(line, "abandoned call's arg[%d] = %lld, want %lld", i,
			     (long long)ch.hdr->call.arg[i], (long long)args[i]);
}

/* Post the slot again as it is (the shim's retry). */
static void repost_saved(uint32_t id, const int64_t *args, int n)
{
	struct chan_call *c = slot(id);

	memcpy(c->arg, args, (size_t)n * sizeof(int64_t));
}

/* ---- control requests ---- */

static struct chan_ctl *ctl(uint32_t id)
{
	struct chan_ctl *t = &ch.hdr->ctl;
	int err = chan_ctl_call(&ch, id);

	CHECK(err == 0, "control request %u failed: %d", id, err);
	return t;
}

static struct chan_ctl *drain(int64_t size)
{
	ch.hdr->ctl.arg[CTL_ARG_DRAIN_OFF] = OFF_DRAIN;
	ch.hdr->ctl.arg[CTL_ARG_DRAIN_SIZE] = size;
	return ctl(CTL_DRAIN);
}

/* A message DRAIN is expected to find. */
struct want {
	int64_t comm;
	int source, tag;
	int64_t bytes;
	int got;
};

/* Check the messages of one DRAIN reply against wants; per communicator
 * they must come in the order of wants. */
static void take_drained(const struct chan_ctl *t, struct want *w, int nw, int64_t size)
{
	int64_t end = 0;

	for (uint32_t i = 0; i < t->n; i++) {
		const struct chan_drained *m = &t->msgs[i];
		int k;
		for (k = 0; k < nw; k++)
			if (!w[k].got && w[k].comm == m->comm && w[k].tag == m->tag)
				break;
		CHECK(k < nw, "drained an unexpected message: comm %#llx tag %d",
		      (unsigned long long)m->comm, m->tag);
		for (int j = 0; j < k; j++)
			CHECK(w[j].got || w[j].comm != m->comm || w[j].source != m->source,
			      "tag %d drained before tag %d from the same sender", m->tag,
			      w[j].tag);
		CHECK_EQ(m->source, w[k].source);
		CHECK_EQ(m->bytes, w[k].bytes);
		CHECK(m->off >= OFF_DRAIN && m->off + m->bytes <= OFF_DRAIN + size &&
		      (m->bytes == 0 || (m->off - OFF_DRAIN) % CHAN_DRAIN_ALIGN == 0) &&
		      m->off >= end,
		      "drained message at %lld (%lld bytes) outside its place",
		      (long long)m->off, (long long)m->bytes);
		check_bytes(__LINE__, m->tag, m->off, m->bytes);
		end = m->off + m->bytes;
		w[k].got = 1;
	}
	int64_t used = t->n ? end - OFF_DRAIN : 0;
	CHECK(t->arg[CTL_ARG_DRAIN_USED] == used, "DRAIN used %lld bytes, messages end at %lld",
	      (long long)t->arg[CTL_ARG_DRAIN_USED], (long long)used);
}

static int all_got(const struct want *w, int nw)
{
	for (int k = 0; k < nw; k++)
		if (!w[k].got)
			return 0;
	return 1;
}

/* DRAIN until every wanted message came, starting with a block of
 * `first` bytes, raised when DRAIN says it needs more. */
static void drain_all(struct want *w, int nw, int64_t first)
{
	int64_t size = first;
	int need_seen = 0;
	double end = now() + DEADLINE_S;

	while (!all_got(w, nw)) {
		CHECK(now() < end, "DRAIN did not find every message in %d s", DEADLINE_S);
		struct chan_ctl *t = drain(size);
		take_drained(t, w, nw, size);
		int64_t need = t->arg[CTL_ARG_DRAIN_NEED];
		if (need) {
			CHECK(need > size - t->arg[CTL_ARG_DRAIN_USED],
			      "DRAIN needs %lld bytes, %lld were left", (long long)need,
			      (long long)(size - t->arg[CTL_ARG_DRAIN_USED]));
			need_seen = 1;
			size = DRAIN_SIZE;
		} else if (t->n == 0) {
			usleep(1000);
		}
	}
	CHECK(first == DRAIN_SIZE || need_seen, "a %lld-byte block never fell short",
	      (long long)first);
	/* Nothing else is in flight. */
	struct chan_ctl *t = drain(DRAIN_SIZE);
	CHECK_EQ(t->n, 0);
}

static const struct chan_parked *parked(const struct chan_ctl *t, int64_t req)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->parked[i].handle == req)
			return &t->parked[i];
	fail(__LINE__, "request %#llx not reported by PARK", (unsigned long long)req);
	return NULL;
}

/* ---- out of band: files in $DMTCP_MPI_TEST_SYNC ---- */

static void sync_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("DMTCP_MPI_TEST_SYNC");

	CHECK(dir != NULL && *dir != '\0', "DMTCP_MPI_TEST_SYNC is not set");
	snprintf(buf, len, "%s/%s", dir, name);
}

static void tell(const char *name)
{
	char path[4096];

	sync_path(path, sizeof(path), name);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0, "cannot create %s", path);
	close(fd);
}

static void await(const char *name)
{
	char path[4096];
	double end = now() + DEADLINE_S;

	sync_path(path, sizeof(path), name);
	while (access(path, F_OK) != 0) {
		CHECK(now() < end, "%s did not appear in %d s", path, DEADLINE_S);
		usleep(1000);
	}
}

/* ---- the script ---- */

static void init(void)
{
	CHECK(chan_attach_env(&ch) == 0, "no channel");
	struct chan_call *c = slot(CALL_INIT);
	CHECK_EQ(run(), 0);
	rank = (int)c->arg[1];
	CHECK_EQ(c->arg[2], 2);
}

/* Make SPLIT (each rank alone) and DUP (both ranks); rank 1 checks the
 * ids against rank 0's.  The split comes first: two processes that never
 * made a communicator before must still give their two an id each. */
static int64_t dup_gid;

static void comms(void)
{
	int64_t ids[2];
	struct chan_call *c = slot(CALL_COMM_SPLIT);

	c->arg[0] = ABI_COMM_WORLD;
	c->arg[1] = SPLIT;
	c->arg[2] = rank;
	CHECK_EQ(run(), 0);
	CHECK_EQ(c->arg[5], 1);
	ids[1] = c->arg[CALL_ARG_GID];
	c = slot(CALL_COMM_DUP);
	c->arg[0] = ABI_COMM_WORLD;
	c->arg[1] = DUP;
	CHECK_EQ(run(), 0);
	CHECK_EQ(c->arg[5], 2);
	ids[0] = c->arg[CALL_ARG_GID];
	dup_gid = ids[0];
	CHECK(ids[0] > 0 && ids[1] > 0 && ids[0] != ids[1],
	      "ids %lld %lld: WORLD is 0, SELF -1", (long long)ids[0], (long long)ids[1]);
	if (rank == 0) {
		memcpy(chan_arena_ptr(&ch, OFF_SEND(100)), ids, sizeof(ids));
		c = slot(CALL_SEND);
		msg(c, OFF_SEND(100), sizeof(ids), 1, 100, ABI_COMM_WORLD);
		CHECK_EQ(run(), 0);
	} else {
		c = slot(CALL_RECV);
		msg(c, OFF_RECV(100), sizeof(ids), 0, 100, ABI_COMM_WORLD);
		CHECK_EQ(run(), 0);
		int64_t theirs[2];
		memcpy(theirs, chan_arena_ptr(&ch, OFF_RECV(100)), sizeof(theirs));
		CHECK(theirs[0] == ids[0], "DUP has id %lld here, %lld on rank 0",
		      (long long)ids[0], (long long)theirs[0]);
		CHECK(theirs[1] != ids[1], "two disjoint communicators share id %lld",
		      (long long)ids[1]);
	}
}

#define BIG 300000 /* a rendezvous message under both MPIs */

static void round1_sender(void)
{
	isend(1, 10, ABI_COMM_WORLD, REQ(1));
	isend(2, 1000, ABI_COMM_WORLD, REQ(2));
	isend(3, 200000, ABI_COMM_WORLD, REQ(3));
	isend(5, 77, DUP, REQ(4));
	isend(6, 0, DUP, REQ(5));
	barrier(); /* the receiver's IRECV of 7 is posted, not complete */
	send(7, 64, ABI_COMM_WORLD);
	barrier();
	start_send(CALL_SEND, 8, BIG, ABI_COMM_WORLD, 0);
	uint32_t seen = post();
	usleep(100000);
	CHECK(!answered(seen), "a %d-byte SEND nobody receives completed", BIG);

	struct chan_ctl *t = ctl(CTL_PARK);
	CHECK_EQ(t->arg[CTL_ARG_BUSY], CALL_SEND);
	CHECK_EQ(t->n, 0);
	CHECK_EQ(t->arg[CTL_ARG_SENT], 8);
	CHECK_EQ(t->arg[CTL_ARG_RECVD], 0);
	t->arg[CTL_ARG_DRAIN_OFF] = (int64_t)ch.hdr->arena_size - 8;
	t->arg[CTL_ARG_DRAIN_SIZE] = 64;
	CHECK_EQ(chan_ctl_call(&ch, CTL_DRAIN), ABI_ERR_ARG);
	tell("rank0-parked");

	/* Rank 1 drains; our sends end meanwhile. */
	double end = now() + DEADLINE_S;
	for (;;) {
		CHECK(now() < end, "sends not drained in %d s", DEADLINE_S);
		t = drain(DRAIN_SIZE);
		CHECK_EQ(t->n, 0);
		if (answered(seen) && t->arg[CTL_ARG_DRAIN_PENDING] == 0)
			break;
		usleep(1000);
	}
	CHECK_EQ(finish(seen), 0);
	/* Counters run on across checkpoints (a failed one leaves messages
	 * in flight that the next drain must still balance). */
	t = ctl(CTL_RESUME);
	CHECK_EQ(t->arg[CTL_ARG_SENT], 8);
	barrier();
	for (int i = 1; i <= 5; i++)
		wait_req(REQ(i), -1, 0);
	send(42, 16, ABI_COMM_WORLD);
	send(99, 16, ABI_COMM_WORLD);
}

static void round1_receiver(void)
{
	CHECK_EQ(irecv(99, 16, REQ(1)), 0);
	CHECK_EQ(irecv(7, 64, REQ(2)), 0);
	barrier();
	barrier();
	start_recv(CALL_RECV, 42, 16, ABI_ANY_SOURCE, 0);
	int64_t saved[6];
	memcpy(saved, ch.hdr->call.arg, sizeof(saved));
	uint32_t seen = post();

	struct chan_ctl *t = ctl(CTL_PARK);
	check_retry(__LINE__, seen, CALL_RECV, saved, 6);
	CHECK_EQ(t->arg[CTL_ARG_BUSY], -1);
	CHECK_EQ(t->n, 2);
	CHECK_EQ(parked(t, REQ(1))->state, CHAN_PARKED_REPOST);
	const struct chan_parked *p = parked(t, REQ(2));
	CHECK_EQ(p->state, CHAN_PARKED_DONE);
	check_received(__LINE__, &p->status, 7, 64);
	CHECK_EQ(p->status.source, 0);
	CHECK_EQ(t->arg[CTL_ARG_RECVD], 2);

	struct want w[] = {
		{ ABI_COMM_WORLD, 0, 1, 10, 0 }, { ABI_COMM_WORLD, 0, 2, 1000, 0 },
		{ ABI_COMM_WORLD, 0, 3, 200000, 0 }, { ABI_COMM_WORLD, 0, 8, BIG, 0 },
		{ DUP, 0, 5, 77, 0 }, { DUP, 0, 6, 0, 0 },
	};
	await("rank0-parked");
	drain_all(w, 6, 16);
	t = drain(DRAIN_SIZE);
	CHECK_EQ(t->arg[CTL_ARG_RECVD], 8);
	CHECK_EQ(t->arg[CTL_ARG_SENT], 0);
	CHECK_EQ(t->arg[CTL_ARG_DRAIN_PENDING], 0);
	t = ctl(CTL_RESUME);
	CHECK_EQ(t->arg[CTL_ARG_RECVD], 8);
	barrier();
	/* Posted again, they get what was sent after the checkpoint. */
	repost_saved(CALL_RECV, saved, 6);
	CHECK_EQ(run(), 0);
	check_received(__LINE__, &ch.hdr->call.status, 42, 16);
	recv_req(99, 16, REQ(1));
}

static void round2_probe_side(void)
{
	struct chan_call *c = slot(CALL_PROBE);

	c->arg[0] = 1;
	c->arg[1] = 30;
	c->arg[2] = ABI_COMM_WORLD;
	int64_t saved[3];
	memcpy(saved, c->arg, sizeof(saved));
	uint32_t seen = post();
	struct chan_ctl *t = ctl(CTL_PARK);
	check_retry(__LINE__, seen, CALL_PROBE, saved, 3);
	CHECK_EQ(t->n, 0);
	struct want w[] = { { ABI_COMM_WORLD, 1, 20, 16, 0 } };
	drain_all(w, 1, DRAIN_SIZE);
	t = drain(DRAIN_SIZE);
	CHECK_EQ(t->arg[CTL_ARG_RECVD], 1);
	CHECK_EQ(t->arg[CTL_ARG_SENT], 10); /* round 1's 8, then 42 and 99 */
	ctl(CTL_RESUME);
	barrier();
	send(21, 16, ABI_COMM_WORLD);
	repost_saved(CALL_PROBE, saved, 3);
	CHECK_EQ(run(), 0);
	CHECK_EQ(ch.hdr->call.status.tag, 30);
	start_recv(CALL_RECV, 30, 16, 1, 0);
	CHECK_EQ(run(), 0);
	check_received(__LINE__, &ch.hdr->call.status, 30, 16);
}

static void round2_sendrecv_side(void)
{
	struct chan_call *c = slot(CALL_SENDRECV);

	fill(20, 16);
	msg(c, OFF_SEND(20), 16, 0, 20, 0);
	c->arg[5] = OFF_RECV(21);
	c->arg[6] = 16;
	c->arg[7] = ABI_BYTE;
	c->arg[8] = 0;
	c->arg[9] = 21;
	c->arg[10] = ABI_COMM_WORLD;
	int64_t as_recv[6] = { OFF_RECV(21), 16, ABI_BYTE, 0, 21, ABI_COMM_WORLD };
	uint32_t seen = post();
	struct chan_ctl *t = ctl(CTL_PARK);
	check_retry(__LINE__, seen, CALL_RECV, as_recv, 6);
	CHECK_EQ(t->n, 0);
	CHECK_EQ(t->arg[CTL_ARG_SENT], 1);
	CHECK_EQ(t->arg[CTL_ARG_RECVD], 10); /* round 1's 8, then 42 and 99 */
	ctl(CTL_RESUME);
	barrier();
	repost_saved(CALL_RECV, as_recv, 6);
	CHECK_EQ(run(), 0);
	check_received(__LINE__, &ch.hdr->call.status, 21, 16);
	fill(30, 16);
	c = slot(CALL_SEND);
	msg(c, OFF_SEND(30), 16, 0, 30, ABI_COMM_WORLD);
	CHECK_EQ(run(), 0);
}

/* WAITALL on one pending receive: region inline, handle then status. */
static void round3(void)
{
	if (rank == 0) {
		barrier();
		send(50, 16, ABI_COMM_WORLD);
		return;
	}
	CHECK_EQ(irecv(50, 16, REQ(3)), 0);
	struct chan_call *c = slot(CALL_WAITALL);
	c->arg[0] = 1;
	c->arg[1] = CHAN_OFF_NONE;
	memcpy(c->inl, &(int64_t){ REQ(3) }, sizeof(int64_t));
	int64_t saved[2] = { 1, CHAN_OFF_NONE };
	uint32_t seen = post();
	struct chan_ctl *t = ctl(CTL_PARK);
	check_retry(__LINE__, seen, CALL_WAITALL, saved, 2);
	CHECK_EQ(t->n, 1);
	CHECK_EQ(parked(t, REQ(3))->state, CHAN_PARKED_REPOST);
	ctl(CTL_RESUME);
	barrier();
	recv_req(50, 16, REQ(3));
}

/* An ISEND or IRECV on the post ring (chan/chan.h): no reply. */
static void ring_post(uint32_t id, int tag, int64_t bytes, int64_t peer, int64_t comm,
		      int64_t req)
{
	int64_t *e = chan_ring_claim(&ch);

	CHECK(e != NULL, "the post ring is full");
	if (id == CALL_ISEND)
		fill(tag, bytes);
	e[0] = id == CALL_ISEND ? OFF_SEND(tag) : OFF_RECV(tag);
	e[1] = bytes;
	e[2] = ABI_BYTE;
	e[3] = peer;
	e[4] = tag;
	e[5] = comm;
	e[6] = id == CALL_ISEND ? 0 : req; /* standard mode for ISEND */
	e[7] = req;
	chan_ring_publish(&ch, id);
}

/* Ring posts: taken before the next call (two receives, then their
 * WAITs) and before a control request (PARK finds the ring's receive and
 * cancels it); a post the proxy cannot start (an unknown communicator)
 * fails its WAIT instead. */
static void round_ring(void)
{
	if (rank == 0) {
		ring_post(CALL_ISEND, 63, 16, 1, COMM(60), REQ(9));
		struct chan_call *c = slot(CALL_WAIT);
		c->arg[0] = REQ(9);
		CHECK(run() != 0, "WAIT of a ring ISEND on an unknown communicator succeeded");
		barrier();
		send(60, 16, ABI_COMM_WORLD);
		send(61, 16, ABI_COMM_WORLD);
		barrier();
		barrier();
		send(62, 16, ABI_COMM_WORLD);
		return;
	}
	ring_post(CALL_IRECV, 60, 16, 0, ABI_COMM_WORLD, REQ(6));
	ring_post(CALL_IRECV, 61, 16, 0, ABI_COMM_WORLD, REQ(7));
	barrier();
	wait_req(REQ(6), 60, 16);
	wait_req(REQ(7), 61, 16);
	ring_post(CALL_IRECV, 62, 16, 0, ABI_COMM_WORLD, REQ(8));
	struct chan_ctl *t = ctl(CTL_PARK);
	CHECK_EQ(t->n, 1);
	CHECK_EQ(parked(t, REQ(8))->state, CHAN_PARKED_REPOST);
	ctl(CTL_RESUME);
	barrier();
	ring_post(CALL_IRECV, 62, 16, 0, ABI_COMM_WORLD, REQ(8));
	barrier();
	wait_req(REQ(8), 62, 16);
}

/* As after a restart: DUP made again from its members, under a new
 * handle, with the id the leader (rank 0) would hand out next; a
 * communicator made after it must not get that id again. */
static void rebuild(int64_t dup_gid)
{
	int64_t kept = dup_gid + 1; /* m << 32 | k: the next k of rank 0 */
	struct chan_call *c = slot(CALL_COMM_REBUILD);

	c->arg[0] = ABI_COMM_WORLD;
	c->arg[1] = REBUILT;
	c->arg[2] = 2;
	c->arg[3] = kept;
	memcpy(c->inl, (int32_t[]){ 0, 1 }, 2 * sizeof(int32_t));
	c->inl_len = 2 * sizeof(int32_t);
	CHECK_EQ(run(), 0);
	CHECK_EQ(c->arg[5], 2);
	CHECK_EQ(c->arg[6], rank);
	CHECK_EQ(c->arg[CALL_ARG_GID], kept);
	c = slot(CALL_COMM_DUP);
	c->arg[0] = REBUILT;
	c->arg[1] = LATER;
	CHECK_EQ(run(), 0);
	int64_t later = c->arg[CALL_ARG_GID];
	CHECK(later > 0 && later != kept && later != dup_gid,
	      "a communicator made after the rebuild got id %lld (rebuilt: %lld)",
	      (long long)later, (long long)kept);
	/* The rebuilt communicator carries messages. */
	if (rank == 0) {
		fill(60, 32);
		c = slot(CALL_SEND);
		msg(c, OFF_SEND(60), 32, 1, 60, REBUILT);
		CHECK_EQ(run(), 0);
	} else {
		c = slot(CALL_RECV);
		msg(c, OFF_RECV(60), 32, 0, 60, REBUILT);
		CHECK_EQ(run(), 0);
		check_received(__LINE__, &c->status, 60, 32);
	}
}

int main(void)
{
	init();
	comms();
	if (rank == 0)
		round1_sender();
	else
		round1_receiver();
	barrier();
	if (rank == 0)
		round2_probe_side();
	else
		round2_sendrecv_side();
	barrier();
	round3();
	barrier();
	round_ring();
	barrier();
	rebuild(dup_gid);
	barrier();
	slot(CALL_FINALIZE);
	CHECK_EQ(run(), 0);
	printf("ckpt-mpi: rank %d: all checks passed\n", rank);
	return 0;
}
