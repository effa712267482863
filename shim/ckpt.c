/*
 * ckpt.c - the application's side of a consistent checkpoint of an MPI job.
 *
 * The engine's client thread (ckpt/client.c) drives the phases the
 * coordinator announces, through the ops this file registers at MPI_Init:
 *
 *   INTENT   report, per communicator, how many collectives this rank has
 *            admitted (its sequence number), and the same for the keys of
 *            shim/collkey.c; admit no new collective.
 *   TARGETS  the coordinator's maximum per communicator: collectives up to
 *            it may start (a rank behind catches up; nobody passes it), so
 *            no rank is ever caught inside a collective others will not
 *            enter.  Point-to-point runs freely meanwhile: a rank that is
 *            behind may need messages to catch up.
 *   PARK     no new call may start; the proxy finishes or abandons the call
 *            in flight (a receive that is abandoned is posted again later,
 *            see shim_ckpt_retry); an incomplete synchronous send
 *            becomes a wait for its receiver's word once this rank
 *            drains, and stays what it was if the checkpoint fails
 *            before (shim/ssend.c).
 *   DRAIN    messages still in flight are received into application memory
 *            (shim/drain.c) until every rank's sends are accounted for.
 *   then the engine writes the image; RESUME or RESTART undo the parking
 *   (a restored image keeps every call out until its new proxy is ready).
 *   RESUME and TARGETS also take the synchronous sends' infos that a
 *   checkpoint which failed during DRAIN left in flight (sweep_infos),
 *   from such a failure until the next DRAIN that ends (infos_astray).
 *
 * This is MANA's sequence-number scheme (see doc/design.md), run over the
 * coordinator instead of inside MPI.
 */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt/ckpt.h"
#include "ckpt/client.h"
#include "util/exitcode.h"
#include "util/fault.h"
#include "util/log.h"

_Atomic int shim_ck_phase;
int shim_ck_no_bookkeeping;
_Thread_local int shim_ck_exempt;

static pthread_mutex_t ck_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ck_cv = PTHREAD_COND_INITIALIZER;

/* Targets of the current checkpoint: (gid, max seq) pairs. */
static int64_t *targets;
static int ntargets;

/* A key nobody reported was made after every rank's report: a
 * communicator whose constructor was still running at INTENT or that a
 * rank made while catching up, or a Comm_create_group none of its
 * members had entered.  Nothing under it is admitted unless a rise of
 * the targets names it (a stuck rank reports it with the call it waits
 * for), and no rank is behind on it.  Admitting its calls freely let a
 * rank enter a collective on it that a fellow member, held at another
 * target, could not reach (comm_many: rank 1 inside the pair's
 * Allreduce, rank 0 held before it at the split's), and counting it as
 * behind (target INT64_MAX) kept that rank from ever answering TARGETS. */
static int target_known(int64_t gid, int64_t *target)
{
	for (int i = 0; i < ntargets; i++)
		if (targets[2 * i] == gid) {
			*target = targets[2 * i + 1];
			return 1;
		}
	*target = 0;
	return 0;
}

static int64_t target_of(int64_t gid)
{
	int64_t t;

	target_known(gid, &t);
	return t;
}

static void set_phase(int phase)
{
	pthread_mutex_lock(&ck_mu);
	atomic_store(&shim_ck_phase, phase);
	pthread_cond_broadcast(&ck_cv);
	pthread_mutex_unlock(&ck_mu);
}

/* May the call of ticket t start now?  Only if it passes no target. */
static int ticket_admitted(const struct shim_coll_ticket *t)
{
	switch (atomic_load(&shim_ck_phase)) {
	case SHIM_CK_NONE:
		return 1;
	case SHIM_CK_INTENT:
		return 0; /* targets not known yet */
	default:
		for (int i = 0; i < t->n; i++)
			if (t->seq[i] > target_of(t->key[i]))
				return 0;
		return 1;
	}
}

/* Held back by one key although another's target counts the call: a
 * fellow participant is inside it, so the targets must rise. */
static int ticket_owed(const struct shim_coll_ticket *t)
{
	int64_t target;

	for (int i = 0; i < t->n; i++)
		if (target_known(t->key[i], &target) && t->seq[i] <= target)
			return 1;
	return 0;
}

/* Threads held at the gate now (their tickets), and collectives
 * admitted during a checkpoint so far: how ck_reach_targets tells a rank
 * that is stuck. */
static int gate_waiters;
static struct shim_coll_ticket *held;
static uint64_t gate_admitted;

void shim_ckpt_ticket_gate(struct shim_coll_ticket *t)
{
	if (shim_ck_exempt || t->n == 0)
		return;
	pthread_mutex_lock(&ck_mu);
	if (!ticket_admitted(t)) {
		shim_coll_on_way_hold(1); /* not on its way meanwhile */
		gate_waiters++;
		t->next = held;
		held = t;
		pthread_cond_broadcast(&ck_cv);
		while (!ticket_admitted(t))
			pthread_cond_wait(&ck_cv, &ck_mu);
		struct shim_coll_ticket **pp = &held;
		while (*pp != t)
			pp = &(*pp)->next;
		*pp = t->next;
		gate_waiters--;
		shim_coll_on_way_hold(0);
	}
	gate_admitted++;
	/* Wake a client waiting for this rank to reach its targets. */
	pthread_cond_broadcast(&ck_cv);
	pthread_mutex_unlock(&ck_mu);
}

int shim_ckpt_was_admitted(const struct shim_comm *c, int64_t seq)
{
	return seq <= target_of(c->gid);
}

void shim_ckpt_coll_gate(struct shim_comm *c, int64_t seq)
{
	struct shim_coll_ticket t = { .n = 1, .key = { c->gid }, .seq = { seq } };

	if (c->gid >= 0)
		shim_ckpt_ticket_gate(&t);
}

/* Everything but admitted collectives (shim_call_begin_coll) stops here
 * while parked, and everything while restarting; called with the slot
 * locked, waits with it unlocked. */
void shim_ckpt_call_gate(int admitted)
{
	if (shim_ck_exempt)
		return;
	while (shim_ck_closed(atomic_load(&shim_ck_phase), admitted)) {
		pthread_mutex_unlock(&shim.lock);
		pthread_mutex_lock(&ck_mu);
		while (shim_ck_closed(atomic_load(&shim_ck_phase), admitted))
			pthread_cond_wait(&ck_cv, &ck_mu);
		pthread_mutex_unlock(&ck_mu);
		pthread_mutex_lock(&shim.lock);
	}
}

/* The proxy abandoned the receive in the slot: give the slot up until
 * the checkpoint is over (its own calls use it), then let the wrapper
 * start over: the message it waited for may be in the drain queue now. */
void shim_ckpt_wait_resume(void)
{
	pthread_mutex_unlock(&shim.lock);
	pthread_mutex_lock(&ck_mu);
	while (atomic_load(&shim_ck_phase) != SHIM_CK_NONE)
		pthread_cond_wait(&ck_cv, &ck_mu);
	pthread_mutex_unlock(&ck_mu);
	pthread_mutex_lock(&shim.lock);
}

/* The drain queue is the application's only outside a parked
 * checkpoint: set_phase takes ck_mu too, so no receive is taking a
 * message when PARK begins, and none takes one until the receives PARK
 * cancelled are posted again (release). */
DM_HOT int shim_ckpt_queue_enter(void)
{
	if (!shim_drain_head)
		return 0;
	pthread_mutex_lock(&ck_mu);
	if (shim_ck_exempt || !shim_ck_closed(atomic_load(&shim_ck_phase), 0))
		return 1;
	pthread_mutex_unlock(&ck_mu);
	return 0;
}

void shim_ckpt_queue_leave(void)
{
	pthread_mutex_unlock(&ck_mu);
}

/* ---- infos a failed DRAIN left in flight ----
 *
 * A synchronous send's info goes out at its sender's first DRAIN, and
 * only a DRAIN used to take it.  A checkpoint that fails during DRAIN
 * may end before the receiver's last round saw the info (its sender was
 * late, stopped, or just slower than the failure): the sender then
 * waited for the acknowledgement until a later checkpoint's DRAIN, and
 * for ever if it could only reach that checkpoint's targets once its
 * send had completed (NBX: the Ibarrier comes after the Issends; the
 * later checkpoints all failed in TARGETS).  So the infos waiting for
 * this rank are taken, through the control slot, at every RESUME and
 * at every TARGETS, once the targets are out and before this rank waits
 * for its own, and placed at once among the entries of the last
 * checkpoint that parked here, which is the one they were sent in
 * unless another parked since.  The acknowledgements that owes go
 * through the control slot too: an application thread may hold the
 * call slot in a blocking call that waits for their sender.
 *
 * Only while infos may be astray, though: from the RESUME of a
 * checkpoint that failed after this rank parked until a DRAIN ends,
 * whose job-wide counts took every info still in flight.  A rank that
 * parked cannot tell whether the coordinator sent DRAIN to the others
 * before the checkpoint failed, so a failure after PARK counts as one
 * during DRAIN.  Every image is taken after a DRAIN that ended
 * (hook_pre_ckpt clears both flags first), so a restored process has
 * none astray, as it must: its new MPI job holds no message of the old
 * one.  A job whose checkpoints all succeed never sweeps (each sweep
 * is a control call, and below MULTIPLE a proxy inside a blocking
 * constructor makes it wait CK_INFO_PATIENCE_MS). */
static int ck_parked;    /* this checkpoint parked here; its DRAIN has not ended */
static int infos_astray; /* one failed after this rank parked; no DRAIN ended since */

static struct shim_stage info_block = { .off = ARENA_NONE };
#define CK_INFO_BLOCK (64u << 10) /* infos are SHIM_INFO_WORDS words each */

/* A CTL_INFOS the proxy has not answered yet: it was inside a blocking
 * call that serves no control request (a constructor below MULTIPLE,
 * which may wait for a member behind its targets: restart_icc.sh).  Its
 * reply is taken before any other control request is posted. */
static int infos_outstanding;
static uint32_t infos_rsp_seen;  /* CHAN_CTL_RSP when it was posted */
static int infos_acks;           /* acknowledgements it carried */

#define CK_INFO_POLL_NS 20000    /* between looks for its reply */
#define CK_INFO_PATIENCE_MS 20   /* a sweep's wait at TARGETS and RESUME */

/* Place the infos kept so far, with no receive taking a drained message
 * meanwhile (shim_ckpt_queue_enter). */
static void place_infos(void)
{
	pthread_mutex_lock(&ck_mu);
	shim_ssend_settle();
	pthread_mutex_unlock(&ck_mu);
}

/* Post CTL_INFOS with the acknowledgements owed; 0, or -1 (one line
 * printed) when the arena has no room for the infos. */
static int infos_post(void)
{
	struct chan_ctl *ctl = &shim.ch.hdr->ctl;

	if (info_block.off == ARENA_NONE &&
	    shim_stage_alloc_fit(&info_block, CK_INFO_BLOCK, CK_INFO_BLOCK) != MPI_SUCCESS) {
		dm_err("checkpoint (rank %d): no %u bytes free in the channel arena to take "
		       "synchronous sends' infos: raise DMTCP_MPI_ARENA_MB", shim.world_rank,
		       CK_INFO_BLOCK);
		return -1;
	}
	infos_acks = shim_ssend_take_acks(ctl->acks, CHAN_CTL_MAX);
	ctl->arg[CTL_ARG_INFO_COMM] = (int64_t)(intptr_t)shim_ssend_comm;
	ctl->arg[CTL_ARG_INFO_ACKS] = infos_acks;
	ctl->arg[CTL_ARG_DRAIN_OFF] = (int64_t)info_block.off;
	ctl->arg[CTL_ARG_DRAIN_SIZE] = (int64_t)info_block.len;
	ctl->id = CTL_INFOS;
	ctl->err = 0;
	ctl->n = 0;
	infos_rsp_seen = chan_seq(&shim.ch, CHAN_CTL_RSP);
	infos_outstanding = 1;
	chan_post(&shim.ch, CHAN_CTL_REQ);
	return 0;
}

/* Wait for the reply, at most patience_ms (-1: for as long as it takes);
 * 1 once it is there. */
static int infos_answered(int patience_ms)
{
	struct timespec ts = { 0, CK_INFO_POLL_NS };
	int64_t left = (int64_t)patience_ms * 1000000;

	while (chan_seq(&shim.ch, CHAN_CTL_RSP) == infos_rsp_seen) {
		if (patience_ms < 0) {
			if (chan_wait(&shim.ch, CHAN_CTL_RSP, infos_rsp_seen) < 0)
				return 0;
			continue;
		}
		if (left <= 0)
			return 0;
		nanosleep(&ts, NULL);
		left -= CK_INFO_POLL_NS;
	}
	infos_outstanding = 0;
	return 1;
}

/* Take every info waiting here, place it, send what that owes, waiting
 * for each reply at most patience_ms (-1: as long as it takes): if one
 * does not come, it is taken at the next sweep (the next one that may
 * wait is PARK's).  A request left by an earlier sweep goes first. */
static void sweep_infos(int patience_ms)
{
	struct chan_ctl *ctl = &shim.ch.hdr->ctl;

	if (shim.finalized || shim_ssend_comm == MPI_COMM_NULL)
		return;
	for (;;) {
		if (!infos_outstanding && infos_post() < 0)
			return;
		if (!infos_answered(patience_ms))
			return;
		if (ctl->err || ctl->arg[CTL_ARG_DRAIN_NEED]) {
			dm_err("checkpoint (rank %d): cannot take synchronous sends' infos",
			       shim.world_rank);
			break;
		}
		for (uint32_t i = 0; i < ctl->n; i++)
			shim_ssend_info(ctl->msgs[i].source,
					chan_arena_ptr(&shim.ch, (uint64_t)ctl->msgs[i].off),
					(size_t)ctl->msgs[i].bytes);
		/* restart_drainfail.sh greps this line under drain-fail-late. */
		if (ctl->n && dm_verbose())
			dm_info("rank %d: took %u synchronous sends' infos that a checkpoint "
				"failed during DRAIN left in flight", shim.world_rank, ctl->n);
		if (ctl->n)
			place_infos();
		else if (!infos_acks && !ctl->arg[CTL_ARG_MORE])
			break;
	}
	shim_stage_free(&info_block);
}

/* The gated sweep of TARGETS and RESUME.  With DMTCP_MPI_VERBOSE=1 a
 * rank says it sweeps: restart_issend.sh checks that a job whose
 * checkpoints all succeed never does, restart_drainfail.sh that one
 * whose checkpoint failed in DRAIN does. */
static void sweep_if_astray(const char *phase)
{
	if (!infos_astray)
		return;
	if (dm_verbose())
		dm_info("rank %d: %s sweeps for infos a failed checkpoint may have left in "
			"flight", shim.world_rank, phase);
	sweep_infos(CK_INFO_PATIENCE_MS);
}

/* ---- INTENT and TARGETS ---- */

struct seq_walk {
	int64_t *pairs;
	int max;
	int n;
};

static void add_seq(struct shim_comm *c, struct seq_walk *w)
{
	if (c->gid < 0 || w->n >= w->max)
		return;
	w->pairs[2 * w->n] = c->gid;
	w->pairs[2 * w->n + 1] = atomic_load(&c->coll_seq);
	w->n++;
}

static void add_seq_each(uintptr_t h, void *obj, void *arg)
{
	const struct shim_comm *c = obj;

	(void)h;
	if (c->world && !c->freed) /* a freed one reports as retired */
		add_seq(obj, arg);
}

/* From here on no collective is admitted until the targets arrive, so
 * the numbers reported stay true.  A rank still in MPI_Init finishes it
 * first: every rank's MPI_Init ends once all proxies have started, and
 * the coordinator's phase timeout bounds the wait. */
static int ck_coll_seqs(int64_t *pairs, int max)
{
	struct seq_walk w = { pairs, max, 0 };
	struct timespec ms = { 0, 1000 * 1000 };

	while (!__atomic_load_n(&shim.initialized, __ATOMIC_ACQUIRE))
		nanosleep(&ms, NULL);
	set_phase(SHIM_CK_INTENT);
	add_seq(shim_comm_get(MPI_COMM_WORLD), &w);
	shim_handle_each(SHIM_K_COMM, add_seq_each, &w);
	return w.n + shim_key_report(pairs + 2 * w.n, max - w.n, shim.world_rank);
}

struct reach_walk {
	int behind;
};

static void check_reached(struct shim_comm *c, struct reach_walk *w)
{
	if (c->gid >= 0 && atomic_load(&c->coll_seq) < target_of(c->gid))
		w->behind++;
}

static void check_reached_each(uintptr_t h, void *obj, void *arg)
{
	const struct shim_comm *c = obj;

	(void)h;
	if (c->world && !c->freed) /* a freed one reports as retired */
		check_reached(obj, arg);
}

static int behind_targets(void)
{
	struct reach_walk w = { 0 };

	check_reached(shim_comm_get(MPI_COMM_WORLD), &w);
	shim_handle_each(SHIM_K_COMM, check_reached_each, &w);
	for (const struct shim_coll_ticket *t = held; t; t = t->next)
		w.behind += !ticket_admitted(t) && ticket_owed(t);
	return w.behind + shim_key_behind(targets, ntargets, shim.world_rank);
}

/* Waits, with the application running, until every communicator of
 * this rank has admitted its target; the phase timeout of the
 * coordinator bounds it from outside, CK_REACH_TIMEOUT_S from inside.
 * Returns 1 instead if the rank is behind but a thread has waited
 * CK_STUCK_MS at the gate with nothing admitted meanwhile: it must pass
 * another communicator's target to catch up (a split communicator's
 * collectives before WORLD's next one), so the targets must rise. */
#define CK_REACH_TIMEOUT_S 3600
#define CK_STUCK_MS 2
static int ck_reach_targets(const int64_t *pairs, int n)
{
	int64_t *copy = malloc((size_t)(n ? n : 1) * 2 * sizeof(int64_t));

	if (!copy)
		return -1;
	memcpy(copy, pairs, (size_t)n * 2 * sizeof(int64_t));
	pthread_mutex_lock(&ck_mu);
	free(targets);
	targets = copy;
	ntargets = n;
	atomic_store(&shim_ck_phase, SHIM_CK_TARGETS);
	pthread_cond_broadcast(&ck_cv);
	/* A sender still waiting for an earlier failed checkpoint's info
	 * may need its acknowledgement to reach its targets.  With the
	 * targets out, so this rank's threads may go on meanwhile, and a
	 * bounded wait: a proxy inside a blocking constructor answers only
	 * once the members behind have caught up, which may take another
	 * round of targets, for which the coordinator needs our answer. */
	pthread_mutex_unlock(&ck_mu);
	sweep_if_astray("TARGETS");
	pthread_mutex_lock(&ck_mu);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += CK_REACH_TIMEOUT_S;
	int rc = 0, stuck = 0;
	while (behind_targets() && rc != ETIMEDOUT && !stuck) {
		uint64_t admitted = gate_admitted;
		struct timespec soon;
		clock_gettime(CLOCK_REALTIME, &soon);
		soon.tv_nsec += CK_STUCK_MS * 1000000L;
		if (soon.tv_nsec >= 1000000000L) {
			soon.tv_sec++;
			soon.tv_nsec -= 1000000000L;
		}
		rc = pthread_cond_timedwait(&ck_cv, &ck_mu, &soon);
		if (rc == ETIMEDOUT) {
			stuck = gate_waiters > 0 && gate_admitted == admitted &&
				behind_targets();
			clock_gettime(CLOCK_REALTIME, &soon);
			rc = soon.tv_sec >= deadline.tv_sec ? ETIMEDOUT : 0;
		}
	}
	pthread_mutex_unlock(&ck_mu);
	return rc == ETIMEDOUT ? -1 : stuck;
}

/* ---- PARK, DRAIN ---- */

/* The drain block: arena memory the proxy receives drained messages
 * into, grown when a message does not fit (the proxy names its size:
 * CTL_ARG_DRAIN_NEED).  CK_DRAIN_BLOCK if the arena has that in one
 * piece, else its largest piece (shim_stage_alloc_fit): heap blocks may
 * fill half the arena (shim/heap.c) and the application's pending
 * payloads the rest, while the messages in flight are often smaller
 * (four of 6 MiB with 12 MiB free failed the checkpoint when the block
 * had to be 16 MiB: tests/ckpt-mpi/restart_drainfit.sh).  A message larger than every
 * free piece fails the checkpoint, with the knobs that make room; the
 * job goes on and the last checkpoint stays the latest. */
static struct shim_stage drain_block = { .off = ARENA_NONE };
#define CK_DRAIN_BLOCK (16u << 20)

static int drain_block_at_least(uint64_t need)
{
	if (drain_block.off != ARENA_NONE && drain_block.len >= need)
		return 0;
	shim_stage_free(&drain_block);
	uint64_t len = need > CK_DRAIN_BLOCK ? need : CK_DRAIN_BLOCK;
	if (shim_stage_alloc_fit(&drain_block, len, need) == MPI_SUCCESS)
		return 0;
	dm_err("checkpoint (rank %d): a message in flight of %llu bytes does not fit in the "
	       "channel arena (%llu MiB, %llu bytes free in one piece; heap blocks and pending "
	       "calls hold the rest): raise DMTCP_MPI_ARENA_MB or set DMTCP_MPI_SHARED_HEAP=0",
	       shim.world_rank, (unsigned long long)(need ? need : len),
	       (unsigned long long)(shim.arena.size >> 20),
	       (unsigned long long)drain_block.len);
	return -1;
}

/* Milliseconds we may still wait in this phase (the coordinator's). */
static int phase_left_ms(void)
{
	int (*left)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "ck_client_phase_left_ms");

	return left ? left() : 60000;
}

static void pause_briefly(void)
{
	struct timespec ts = { 0, 200000 }; /* 0.2 ms: peers progress meanwhile */

	nanosleep(&ts, NULL);
}

/* CTL_PARK: every receive pending in the proxy completes or is
 * cancelled.  Returns how many there were, or -1. */
static int park_requests(void)
{
	struct chan_ctl *ctl = &shim.ch.hdr->ctl;
	int n = 0;

	do {
		if (chan_ctl_call(&shim.ch, CTL_PARK) != 0)
			return -1;
		for (uint32_t i = 0; i < ctl->n; i++)
			shim_req_parked(&ctl->parked[i]);
		n += (int)ctl->n;
	} while (ctl->arg[CTL_ARG_MORE]);
	return n;
}

static int ck_park(void)
{
	/* Every rank has reached its targets: no member of a freed
	 * communicator needs telling any more. */
	shim_key_forget_retired();
	/* A sweep of TARGETS still waiting for its reply (the proxy was in a
	 * constructor, over now that every member reached its targets):
	 * its infos belong with the last checkpoint's entries. */
	if (infos_outstanding)
		sweep_infos(-1);
	/* From here on only admitted collectives pass the gate.  A thread
	 * may be past it already (it holds the slot lock, perhaps blocked in
	 * a receive the proxy is about to abandon): ck_drain waits for it.
	 * Under MPI_THREAD_MULTIPLE no thread keeps the slot while it waits
	 * for a peer (shim/mtwait.c), so we take it: a thread polling a
	 * request is then either done with its poll or parked before it, and
	 * never polls a request PARK has just taken out of the proxy. */
	shim_drain_epoch++;
	ck_parked = 1;
	shim_ssend_park_begin();
	int rc;
	if (!shim_mt()) {
		set_phase(SHIM_CK_PARK);
		rc = park_requests();
	} else {
		pthread_mutex_lock(&shim.lock);
		set_phase(SHIM_CK_PARK);
		rc = park_requests();
		pthread_mutex_unlock(&shim.lock);
	}
	/* Acknowledgements queued before PARK; the infos of the synchronous
	 * sends it took wait for this rank's first DRAIN (shim/ssend.c). */
	shim_ssend_flush(1);
	/* DMTCP_MPI_FAULT=park-fail: this rank parks, then reports that it
	 * could not, so the checkpoint fails after PARK and before any
	 * DRAIN (tests/ckpt-mpi/restart_failckpt.sh). */
	return rc < 0 || dm_fault("park-fail") ? -1 : 0;
}

/* With the slot idle and the rank parked nothing can post a receive, but
 * a thread that passed the gate just before PARK may have posted an
 * Irecv since: take it out of the proxy too.  How many, or -1. */
static int park_late_receives(void)
{
	if (shim_mt())
		pthread_mutex_lock(&shim.lock);
	int n = park_requests();
	if (shim_mt())
		pthread_mutex_unlock(&shim.lock);
	shim_ssend_flush(1);
	return n;
}

/* DMTCP_MPI_FAULT=drain-fail: the first DRAIN round of this process
 * that took messages of the application into its drain queue takes them
 * all the same, then reports that it could not: the checkpoint fails
 * during DRAIN with messages drained here and perhaps others still in
 * flight.  Once per process, so later checkpoints succeed.
 * drain-fail-late: the same, and until it has fired every rank but
 * world rank 0 starts its DRAIN rounds DRAIN_LATE_MS late, so rank 0
 * fails its round before the infos of the others' synchronous sends can
 * reach it, as from a rank that stopped answering during DRAIN and went
 * on later (tests/ckpt-mpi/restart_drainfail.sh). */
#define DRAIN_LATE_MS 300
static int drain_fault_fired;

static int drain_fault(int took)
{
	if (drain_fault_fired || !took ||
	    !(dm_fault("drain-fail") || dm_fault("drain-fail-late")))
		return 0;
	drain_fault_fired = 1;
	return 1;
}

static void drain_start_late(void)
{
	struct timespec ts = { 0, DRAIN_LATE_MS * 1000000L };

	if (!drain_fault_fired && shim.world_rank != 0 && dm_fault("drain-fail-late"))
		nanosleep(&ts, NULL);
}

/* Take the drained messages out of the arena into application memory;
 * how many went into the drain queue, or -1. */
static int keep_drained(const struct chan_ctl *ctl)
{
	int took = 0;

	for (uint32_t i = 0; i < ctl->n; i++) {
		const struct chan_drained *m = &ctl->msgs[i];
		if ((MPI_Comm)(intptr_t)m->comm == shim_ssend_comm && m->tag == 0) {
			shim_ssend_info(m->source, chan_arena_ptr(&shim.ch, (uint64_t)m->off),
					(size_t)m->bytes);
			continue;
		}
		if (shim_drain_push((MPI_Comm)(intptr_t)m->comm, m->source, m->tag,
				    chan_arena_ptr(&shim.ch, (uint64_t)m->off),
				    (size_t)m->bytes))
			return -1;
		took++;
	}
	return took;
}

/* No application thread is inside a call (between the gate and the end
 * of its call): then, parked as we are, none can post anything more. */
static int slot_idle(void)
{
	if (pthread_mutex_trylock(&shim.lock) != 0)
		return 0;
	pthread_mutex_unlock(&shim.lock);
	return 1;
}

/* One DRAIN round: repeat the control call until nothing is left that
 * this rank can take now and no call of the application is still in
 * the proxy (an admitted collective finishes once the peers enter it,
 * which they are doing meanwhile; a blocking send is not left there,
 * since its receiver may drain it only in a later round: proxy/p2p.c
 * keep_send). */
static int ck_drain(int64_t *sent, int64_t *recvd)
{
	struct chan_ctl *ctl = &shim.ch.hdr->ctl;

	if (drain_block_at_least(0) < 0)
		return -1;
	drain_start_late();
	/* The synchronous sends PARK took tell their receivers now, before
	 * the proxy lets go of them and before any count is reported, so
	 * DRAIN delivers that before the image (shim/ssend.c). */
	shim_ssend_commit();
	shim_ssend_flush(1);
	int took = 0;
	for (;;) {
		ctl->arg[CTL_ARG_DRAIN_OFF] = (int64_t)drain_block.off;
		ctl->arg[CTL_ARG_DRAIN_SIZE] = (int64_t)drain_block.len;
		int n = chan_ctl_call(&shim.ch, CTL_DRAIN) != 0 ? -1 : keep_drained(ctl);
		if (n < 0)
			return -1;
		took += n;
		if (ctl->arg[CTL_ARG_DRAIN_NEED] &&
		    drain_block_at_least((uint64_t)ctl->arg[CTL_ARG_DRAIN_NEED]) < 0)
			return -1;
		int more = ctl->arg[CTL_ARG_MORE] || ctl->arg[CTL_ARG_DRAIN_NEED];
		if (!more && ctl->arg[CTL_ARG_BUSY] < 0 && !ctl->arg[CTL_ARG_DRAIN_COLLS] &&
		    slot_idle() && !atomic_load(&shim_coll_pending) &&
		    !atomic_load(&shim_coll_on_way)) {
			int late = park_late_receives();
			if (late < 0)
				return -1;
			if (late == 0)
				break;
			continue; /* what they left unmatched is to be drained */
		}
		if (!more && phase_left_ms() <= 0)
			return -1;
		if (!more)
			pause_briefly();
	}
	if (drain_fault(took))
		return -1;
	*sent = ctl->arg[CTL_ARG_SENT];
	*recvd = ctl->arg[CTL_ARG_RECVD];
	if (shim_icoll_drained() < 0)
		return -1;
	shim_stage_free(&drain_block); /* emptied: no need to keep it in an image */
	return 0;
}

/* ---- the arena across an image ----
 *
 * The arena is shared with the proxy and left out of images, but a
 * parked thread may have staged a payload in it already (a send waiting
 * at the gate).  Just before the image is written, with every other
 * thread stopped, the blocks in use are copied into application memory;
 * a restarted process puts them back into its new arena.  Large malloc'ed
 * blocks live there too (shim/heap.c): with any in use, every image keeps
 * the arena, MPI-consistent or not (an INTENT that came while this rank
 * was in MPI_Init, before it registered, and another thread allocated),
 * and the copy costs as much memory again while the image is written. */

struct arena_copy {
	struct arena_copy *next;
	uint64_t off, len;
	unsigned char data[];
};
static struct arena_copy *arena_saved;

static void save_range(uint64_t off, uint64_t len, void *arg)
{
	struct arena_copy *a = malloc(sizeof(*a) + len);

	if (!a) {
		*(int *)arg = -1;
		return;
	}
	a->off = off;
	a->len = len;
	memcpy(a->data, chan_arena_ptr(&shim.ch, off), len);
	a->next = arena_saved;
	arena_saved = a;
}

static void drop_saved_arena(void)
{
	while (arena_saved) {
		struct arena_copy *a = arena_saved;
		arena_saved = a->next;
		free(a);
	}
}

static void hook_pre_ckpt(void *arg)
{
	int err = 0;

	(void)arg;
	/* An MPI-consistent image: its DRAIN ended, nothing is in flight. */
	if (atomic_load(&shim_ck_phase) == SHIM_CK_PARK)
		ck_parked = infos_astray = 0;
	/* Not an MPI-consistent checkpoint: nothing staged matters. */
	if (atomic_load(&shim_ck_phase) != SHIM_CK_PARK && !shim_heap_count())
		return;
	drop_saved_arena();
	arena_each_used(&shim.arena, save_range, &err);
	if (err)
		dm_err("checkpoint (rank %d): no memory to keep staged payloads; "
		       "a parked send may carry zeros after a restart", shim.world_rank);
}

static void hook_resume(void *arg)
{
	(void)arg;
	drop_saved_arena();
}

static void restore_arena(void)
{
	for (struct arena_copy *a = arena_saved; a; a = a->next)
		memcpy(chan_arena_ptr(&shim.ch, a->off), a->data, a->len);
	drop_saved_arena();
}

/* A restored image: the old proxy and channel are gone.  The new channel
 * is mapped where the old one was, and the staged blocks put back, while
 * the engine still holds the application's threads: a thread that was
 * outside MPI at the checkpoint stages its next payload into the arena
 * as soon as it runs, before the client thread reaches ck_restart. */
/* hook_restart ran: the image was taken after this shim's MPI_Init. */
static int restored_initialized;

static void hook_restart(void *arg)
{
	(void)arg;
	restored_initialized = 1;
	if (chan_attach_at(&shim.ch, shim.ch.fd, shim.ch.hdr) < 0)
		dm_die(DM_EXIT_CHANNEL, "restart (rank %d): cannot map the new channel",
		       shim.world_rank);
	if (shim.ch.hdr->arena_size < shim.arena.size)
		dm_die(DM_EXIT_CHANNEL, "restart (rank %d): the channel arena is %llu MiB, "
		       "the image's was %llu MiB: set DMTCP_MPI_ARENA_MB=%llu or more",
		       shim.world_rank, (unsigned long long)(shim.ch.hdr->arena_size >> 20),
		       (unsigned long long)(shim.arena.size >> 20),
		       (unsigned long long)((shim.arena.size + (1 << 20) - 1) >> 20));
	restore_arena();
	/* An image taken after MPI_Finalize: nothing holds the application
	 * once its threads go on, and it ends at once, before ck_restart
	 * would have started MPI (its proxy then stayed in MPI_Init, waiting
	 * for the other ranks', until killed).  So MPI starts and ends in
	 * the new proxy here, threads held; ck_restart has nothing to do. */
	if (shim.finalized) {
		shim_ck_exempt = 1;
		if (shim_env_reinit() != MPI_SUCCESS)
			dm_die(DM_EXIT_MPI_FATAL, "restart (rank %d): cannot start and "
			       "end MPI again", shim.world_rank);
	}
	/* The threads go on before ck_restart has started MPI in the new
	 * proxy and made the communicators again: until then none may call
	 * it, not even a collective admitted before the image.  No lock: a
	 * stopped thread may hold ck_mu; release() wakes the waiters. */
	atomic_store(&shim_ck_phase, SHIM_CK_RESTART);
}

/* ---- RESUME, RESTART ---- */

static void release(void)
{
	shim_stage_free(&drain_block);
	shim_ssend_settle();
	shim_req_repost_all();
	shim_ssend_flush(1);
	free(targets);
	targets = NULL;
	ntargets = 0;
	set_phase(SHIM_CK_NONE);
}

static void ck_resume(void)
{
	shim_ck_exempt = 1;
	/* A sweep of TARGETS still unanswered means the checkpoint failed
	 * before PARK: the proxy was not parked, and RESUME can wait. */
	if (infos_outstanding)
		sweep_infos(CK_INFO_PATIENCE_MS);
	if (!infos_outstanding)
		chan_ctl_call(&shim.ch, CTL_RESUME);
	shim_ssend_undo(); /* the checkpoint failed before this rank drained */
	infos_astray |= ck_parked; /* ... or during DRAIN, before an info came */
	ck_parked = 0;
	sweep_if_astray("RESUME");
	release();
}

/* A restored image, its new channel in place (hook_restart): start MPI
 * in the new proxy, make every communicator again (unless the image was
 * taken after MPI_Finalize: hook_restart did all there is), then let the
 * application go on. */
static void ck_restart(void)
{
	/* An image taken before MPI_Init has no hooks, so hook_restart did
	 * not run; the application's own MPI_Init, which may already have
	 * registered us, starts MPI (a second INIT here made Open MPI abort). */
	if (!restored_initialized)
		return;
	restored_initialized = 0;
	shim_ck_exempt = 1;
	if (!shim.finalized &&
	    (shim_env_reinit() != MPI_SUCCESS || shim_comm_rebuild_all() != MPI_SUCCESS ||
	     shim_type_rebuild_all() != MPI_SUCCESS))
		dm_die(DM_EXIT_MPI_FATAL, "restart (rank %d): cannot rebuild MPI state",
		       shim.world_rank);
	shim_req_sends_done();
	release();
}

static const struct ck_mpi_ops ops = {
	.coll_seqs = ck_coll_seqs,
	.reach_targets = ck_reach_targets,
	.park = ck_park,
	.drain = ck_drain,
	.resume = ck_resume,
	.restart = ck_restart,
};

/* The checkpoint engine is preloaded when the launcher found it; without
 * it there is nothing to register and the job just cannot be
 * checkpointed.  Looked up at run time so libmpi_abi never depends on it. */
void shim_ckpt_register(void)
{
	int (*reg)(const struct ck_mpi_ops *) =
		(int (*)(const struct ck_mpi_ops *))dlsym(RTLD_DEFAULT, "ck_client_register_mpi");

	int (*skip)(void *, size_t) =
		(int (*)(void *, size_t))dlsym(RTLD_DEFAULT, "ck_skip_region");
	int (*hooks)(const struct ck_hooks *) =
		(int (*)(const struct ck_hooks *))dlsym(RTLD_DEFAULT, "ck_register_hooks");
	static const struct ck_hooks arena_hooks = {
		.pre_ckpt = hook_pre_ckpt,
		.resume = hook_resume,
		.restart = hook_restart,
	};

	shim_ck_no_bookkeeping = getenv("DMTCP_MPI_NO_CKPT_BOOKKEEPING") != NULL;
	if (!reg || !skip || !hooks)
		return;
	/* The channel belongs to this run's proxy: never in an image. */
	skip(shim.ch.base, shim.ch.size);
	hooks(&arena_hooks);
	reg(&ops);
}
