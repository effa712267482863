/*
 * phase.c - one checkpoint, driven through the phases of enum coord_phase
 * (proto.h): IDLE -> INTENT -> TARGETS -> PARK -> DRAIN (rounds) -> WRITE
 * -> COMMIT -> RESUME -> IDLE, any failure going straight to RESUME.
 *
 * The MPI phases make the images consistent (MANA's scheme): INTENT
 * collects every rank's collective sequence number per communicator,
 * TARGETS sends back the maximum per communicator so that every member
 * of a collective someone has entered gets there too, PARK stops the
 * ranks at MPI entry, and DRAIN rounds move the messages still in flight
 * into application memory until the job-wide totals of messages sent and
 * received agree.  A round that found nothing new is followed by the next
 * one only after a short pause (DRAIN_PAUSE_S, growing), so waiting for
 * a slow network costs neither the ranks nor us a busy loop.
 *
 * A checkpoint is consistent only if it holds every rank of the job
 * exactly once, so it starts only when the registered clients are exactly
 * ranks 0..nranks-1 of one job; those clients are its participants, and
 * clients that join later wait for the next one.  Nothing here waits:
 * answers arrive through coord_ckpt_answer(), departures through
 * coord_ckpt_client_left(), and coord_ckpt_tick() enforces --timeout, so
 * a silent or dead client fails the checkpoint instead of hanging it.
 */
#include "coordinator/coord.h"
#include "util/exitcode.h"
#include "util/grow.h"
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DRAIN_PAUSE_S     0.005   /* after a round without progress ... */
#define DRAIN_PAUSE_MAX_S 0.1     /* ... doubling up to this */

const char *coord_phase_name(enum coord_phase p)
{
	switch (p) {
	case COORD_PHASE_IDLE: return "idle";
	case COORD_PHASE_INTENT: return "intent";
	case COORD_PHASE_TARGETS: return "targets";
	case COORD_PHASE_PARK: return "park";
	case COORD_PHASE_DRAIN: return "drain";
	case COORD_PHASE_WRITE: return "write";
	case COORD_PHASE_COMMIT: return "commit";
	case COORD_PHASE_RESUME: return "resume";
	}
	return "?";
}

/* Phases that wait for an answer from every participant. */
static int is_barrier(enum coord_phase p)
{
	return p >= COORD_PHASE_INTENT && p <= COORD_PHASE_WRITE;
}

/* Answer the commands waiting for this checkpoint.  On success those
 * that asked for --checkpoint-and-exit wait on for the job to end. */
static void reply_waiting(struct coord *c, int ok, const char *text)
{
	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *k = c->conns[i];
		if (k->dead)
			continue;
		if (ok && k->wait == COORD_WAIT_CKPT_EXIT)
			k->wait = COORD_WAIT_EXIT;
		else if (k->wait == COORD_WAIT_CKPT ||
			 k->wait == COORD_WAIT_CKPT_EXIT)
			coord_cmd_reply(k, ok ? DM_EXIT_OK : DM_EXIT_CKPT, text);
	}
}

/* Tell participants the outcome (or, after a successful checkpoint that
 * ends the job, kill them), answer waiting commands, back to IDLE. */
static void finish(struct coord *c, int ok)
{
	struct coord_ckpt *ck = &c->ck;
	struct coord_phase_msg msg;
	char text[COORD_WHY_MAX + PATH_MAX + 64];

	if (ok) {
		snprintf(c->last_path, sizeof(c->last_path), "%s", ck->final);
		c->last_time = ck->started;
		dm_info("checkpoint %u written: %s (%d rank%s, %u drain "
			"round%s, %.2f s)", ck->gen, ck->final, ck->nparts,
			ck->nparts == 1 ? "" : "s", ck->round,
			ck->round == 1 ? "" : "s", coord_now() - ck->t0);
		snprintf(text, sizeof(text), "%s", ck->final);
	} else {
		const char *where = ck->tmp[0] ? ck->tmp : c->ckptdir;
		if (ck->tmp[0])
			coord_discard(ck->tmp);
		dm_err("checkpoint %u failed (%s): %s", ck->gen, where, ck->why);
		snprintf(text, sizeof(text), "checkpoint %u failed (%s): %s",
			 ck->gen, where, ck->why);
		c->last_failed_gen = ck->gen;
		snprintf(c->last_failure, sizeof(c->last_failure), "%s",
			 ck->why);
	}
	ck->phase = COORD_PHASE_RESUME;
	memset(&msg, 0, sizeof(msg));
	msg.phase = COORD_PHASE_RESUME;
	msg.gen = ck->gen;
	msg.ok = ok;
	for (int r = 0; r < ck->nparts; r++) {
		struct coord_conn *k = ck->parts[r].conn;
		if (!k)
			continue;
		k->part_gen = 0;
		/* Ending the job: the ranks stay parked until KILL, so
		 * nothing runs past the state the images hold. */
		if (!(ok && ck->exit_after))
			coord_conn_send(k, COORD_MSG_PHASE, &msg, sizeof(msg));
	}
	if (ok && ck->exit_after) {
		dm_info("checkpoint %u: ending the job as asked", ck->gen);
		coord_kill_start(c);
	}
	reply_waiting(c, ok, text);
	free(ck->parts);
	free(ck->pairs);
	ck->parts = NULL;
	ck->pairs = NULL;
	ck->npairs = ck->cap_pairs = 0;
	ck->next_round = 0;
	ck->exit_after = 0;
	ck->phase = COORD_PHASE_IDLE;
	if (c->interval > 0)
		c->next_ckpt = coord_now() + c->interval;
}

static void fail(struct coord *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct coord *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->ck.why, sizeof(c->ck.why), fmt, ap);
	va_end(ap);
	finish(c, 0);
}

/* Are the registered clients exactly ranks 0..n-1 of one job?  Fills
 * ck->parts and returns 0, or explains in why and returns -1. */
static int gather_parts(struct coord *c, char *why, size_t len)
{
	struct coord_ckpt *ck = &c->ck;
	int n = 0;

	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *k = c->conns[i];
		if (k->dead || !k->registered)
			continue;
		if (n == 0)
			n = k->reg.nranks;
		if (k->reg.nranks != n) {
			snprintf(why, len, "clients disagree on the number of "
				 "ranks (%d and %d): more than one job uses "
				 "this coordinator", n, k->reg.nranks);
			return -1;
		}
	}
	if (n == 0) {
		snprintf(why, len, "no clients connected");
		return -1;
	}
	ck->parts = calloc((size_t)n, sizeof(*ck->parts));
	if (!ck->parts) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	ck->nparts = n;
	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *k = c->conns[i];
		if (k->dead || !k->registered)
			continue;
		struct coord_part *p = &ck->parts[k->reg.rank];
		if (p->conn) {
			snprintf(why, len, "rank %d registered twice (pids %d "
				 "and %d): more than one job uses this "
				 "coordinator", k->reg.rank, p->reg.pid,
				 k->reg.pid);
			goto err;
		}
		p->conn = k;
		p->reg = k->reg;
	}
	for (int r = 0; r < n; r++) {
		if (!ck->parts[r].conn) {
			snprintf(why, len, "rank %d of %d is not connected", r, n);
			goto err;
		}
	}
	return 0;
err:
	free(ck->parts);
	ck->parts = NULL;
	return -1;
}

/* Create <ckptdir>/ckpt_<gen>_<time>.tmp; 0, or -1 with why. */
static int make_tmpdir(struct coord *c, char *why, size_t len)
{
	struct coord_ckpt *ck = &c->ck;
	char stamp[32];
	struct tm tm;

	ck->tmp[0] = '\0';
	if (mkdir(c->ckptdir, 0755) < 0 && errno != EEXIST) {
		snprintf(why, len, "cannot create %s: %s", c->ckptdir,
			 strerror(errno));
		return -1;
	}
	ck->gen = coord_next_gen(c->ckptdir, c->last_gen);
	c->last_gen = ck->gen;
	ck->started = time(NULL);
	localtime_r(&ck->started, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	int n = snprintf(ck->final, sizeof(ck->final), "%s/ckpt_%u_%s",
			 c->ckptdir, ck->gen, stamp);
	int m = snprintf(ck->tmp, sizeof(ck->tmp), "%s.tmp", ck->final);
	if (n < 0 || m < 0 || (size_t)m >= sizeof(ck->tmp)) {
		ck->tmp[0] = '\0';
		snprintf(why, len, "checkpoint directory name too long");
		return -1;
	}
	/* Images hold the whole memory of the application: ours only. */
	if (mkdir(ck->tmp, 0700) < 0) {
		snprintf(why, len, "cannot create %s: %s", ck->tmp,
			 strerror(errno));
		ck->tmp[0] = '\0';
		return -1;
	}
	return 0;
}

/* Send PHASE(phase) to every participant and wait for their answers.
 * The TARGETS body carries the targets; every DRAIN round shares the
 * deadline of the first, while each TARGETS round has its own (a round
 * only follows one in which some collective was admitted). */
static void start_phase(struct coord *c, enum coord_phase phase)
{
	struct coord_ckpt *ck = &c->ck;
	size_t npairs = phase == COORD_PHASE_TARGETS ? ck->npairs : 0;
	size_t len = sizeof(struct coord_phase_msg) +
		     npairs * sizeof(struct coord_pair);
	struct coord_phase_msg *msg = calloc(1, len);
	double now = coord_now();

	if (!msg) {
		snprintf(ck->why, sizeof(ck->why), "coordinator out of memory");
		finish(c, 0);
		return;
	}
	if (phase != COORD_PHASE_DRAIN || ck->round == 1)
		ck->deadline = now + c->timeout;
	ck->phase = phase;
	ck->nanswered = 0;
	ck->next_round = 0;
	msg->phase = phase;
	msg->gen = ck->gen;
	msg->round = ck->round;
	msg->timeout_ms = (uint32_t)((ck->deadline - now) * 1000);
	msg->npairs = (uint32_t)npairs;
	msg->hold = (uint32_t)ck->exit_after;
	snprintf(msg->dir, sizeof(msg->dir), "%s", ck->tmp);
	memcpy(msg + 1, ck->pairs, npairs * sizeof(struct coord_pair));
	for (int r = 0; r < ck->nparts; r++) {
		ck->parts[r].answered = 0;
		ck->parts[r].conn->part_gen = ck->gen;
		coord_conn_send(ck->parts[r].conn, COORD_MSG_PHASE, msg, len);
	}
	free(msg);
}

void coord_ckpt_request(struct coord *c, struct coord_conn *cmd,
			int exit_after)
{
	char why[COORD_WHY_MAX];

	if (cmd)
		cmd->wait = exit_after ? COORD_WAIT_CKPT_EXIT : COORD_WAIT_CKPT;
	if (c->ck.phase != COORD_PHASE_IDLE) {
		/* The command gets this one's outcome. */
		c->ck.exit_after |= exit_after;
		return;
	}
	if (c->kill_deadline > 0)
		snprintf(why, sizeof(why), "the job is being killed");
	if (c->kill_deadline > 0 || gather_parts(c, why, sizeof(why)) < 0) {
		dm_err("checkpoint not started (%s): %s", c->ckptdir, why);
		if (cmd)
			coord_cmd_reply(cmd, DM_EXIT_CKPT, why);
		return;
	}
	c->ck.t0 = coord_now();
	c->ck.why[0] = '\0';
	c->ck.exit_after = exit_after;
	c->ck.round = 0;
	c->ck.raise = 0;
	if (make_tmpdir(c, why, sizeof(why)) < 0) {
		fail(c, "%s", why);
		return;
	}
	dm_info("checkpoint %u: %d rank%s writing to %s", c->ck.gen,
		c->ck.nparts, c->ck.nparts == 1 ? "" : "s", c->ck.tmp);
	start_phase(c, COORD_PHASE_INTENT);
}

/* Is path an entry directly inside dir? */
static int inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] &&
	       !strchr(path + n + 1, '/');
}

static void commit(struct coord *c)
{
	char why[COORD_WHY_MAX];

	c->ck.phase = COORD_PHASE_COMMIT;
	if (coord_commit(c, why, sizeof(why)) < 0)
		fail(c, "%s", why);
	else
		finish(c, 1);
}

static int by_gid(const void *a, const void *b)
{
	const struct coord_pair *x = a, *y = b;

	return (x->gid > y->gid) - (x->gid < y->gid);
}

/* Keep a rank's INTENT pairs.  -1 (SELF) is local to a rank; other
 * negative ids are shim/collkey.c's keys (Comm_create_group,
 * Intercomm_create leaders, notices), which need their maximum like any
 * communicator: dropping them left every Comm_create_group unconstrained. */
static int add_pairs(struct coord_ckpt *ck, const struct coord_pair *p,
		     size_t n)
{
	if (dm_grow((void **)&ck->pairs, &ck->cap_pairs, ck->npairs + n, sizeof(*ck->pairs)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (p[i].gid != -1)
			ck->pairs[ck->npairs++] = p[i];
	return 0;
}

/* The INTENT pairs of every rank become one target per gid: the
 * highest sequence number any member reported. */
static void make_targets(struct coord_ckpt *ck)
{
	size_t j = 0;

	qsort(ck->pairs, ck->npairs, sizeof(*ck->pairs), by_gid);
	for (size_t i = 0; i < ck->npairs; i++) {
		if (j > 0 && ck->pairs[j - 1].gid == ck->pairs[i].gid) {
			if (ck->pairs[i].seq > ck->pairs[j - 1].seq)
				ck->pairs[j - 1].seq = ck->pairs[i].seq;
		} else {
			ck->pairs[j++] = ck->pairs[i];
		}
	}
	ck->npairs = j;
}

/* Time to wait before the next DRAIN round: none after progress, else
 * a pause that doubles with each idle round. */
static double drain_pause(const struct coord_ckpt *ck, unsigned idle)
{
	double p = DRAIN_PAUSE_S;

	if (ck->sent != ck->prev_sent || ck->recvd != ck->prev_recvd)
		return 0;
	while (idle-- > 1 && p < DRAIN_PAUSE_MAX_S)
		p *= 2;
	return p < DRAIN_PAUSE_MAX_S ? p : DRAIN_PAUSE_MAX_S;
}

static void next_drain_round(struct coord *c)
{
	struct coord_ckpt *ck = &c->ck;

	ck->round++;
	ck->prev_sent = ck->sent;
	ck->prev_recvd = ck->recvd;
	ck->sent = ck->recvd = 0;
	start_phase(c, COORD_PHASE_DRAIN);
}

/* Every participant answered the current phase: on to the next. */
static void advance(struct coord *c)
{
	struct coord_ckpt *ck = &c->ck;

	switch (ck->phase) {
	case COORD_PHASE_INTENT:
		make_targets(ck);
		start_phase(c, COORD_PHASE_TARGETS);
		return;
	case COORD_PHASE_TARGETS:
		/* A rank held at one communicator's target could not reach
		 * another's: raise the targets to what it asked and go round
		 * again (MANA's targets rise the same way). */
		if (ck->raise) {
			ck->raise = 0;
			make_targets(ck);
			ck->round++;
			start_phase(c, COORD_PHASE_TARGETS);
			return;
		}
		start_phase(c, COORD_PHASE_PARK);
		return;
	case COORD_PHASE_PARK:
		ck->round = 0;
		ck->sent = ck->recvd = 0;
		ck->idle_rounds = 0;
		next_drain_round(c);
		return;
	case COORD_PHASE_DRAIN:
		if (ck->sent == ck->recvd) {
			start_phase(c, COORD_PHASE_WRITE);
			return;
		}
		double pause = drain_pause(ck, ++ck->idle_rounds);
		if (pause == 0) {
			ck->idle_rounds = 0;
			next_drain_round(c);
		} else {
			ck->next_round = coord_now() + pause;
		}
		return;
	case COORD_PHASE_WRITE:
		commit(c);
		return;
	default:
		return;
	}
}

void coord_ckpt_answer(struct coord *c, struct coord_conn *k,
		       const struct coord_phase_done *d,
		       const struct coord_pair *pairs)
{
	struct coord_ckpt *ck = &c->ck;
	char name[400];

	/* A late answer to a checkpoint that already failed, or to an
	 * earlier round, is expected after a timeout: ignore it. */
	if (!is_barrier(ck->phase) || d->gen != ck->gen ||
	    d->phase != ck->phase || k->part_gen != ck->gen ||
	    ((ck->phase == COORD_PHASE_DRAIN || ck->phase == COORD_PHASE_TARGETS) &&
	     d->round != ck->round))
		return;
	struct coord_part *p = &ck->parts[k->reg.rank];
	if (p->answered)
		return;
	p->answered = 1;
	ck->nanswered++;
	coord_client_name(k, name, sizeof(name));
	if (!d->ok) {
		fail(c, "%s: %s", name, d->reason[0] ? d->reason :
		     coord_phase_name(ck->phase));
		return;
	}
	switch (ck->phase) {
	case COORD_PHASE_INTENT:
	case COORD_PHASE_TARGETS:
		if (add_pairs(ck, pairs, d->npairs) < 0) {
			fail(c, "coordinator out of memory");
			return;
		}
		ck->raise |= ck->phase == COORD_PHASE_TARGETS && d->npairs > 0;
		break;
	case COORD_PHASE_DRAIN:
		p->sent = d->sent;
		p->recvd = d->recvd;
		ck->sent += d->sent;
		ck->recvd += d->recvd;
		break;
	case COORD_PHASE_WRITE:
		p->done = *d;
		if (!inside(d->path, ck->tmp)) {
			fail(c, "%s: image %s is not in %s", name, d->path,
			     ck->tmp);
			return;
		}
		break;
	default:
		break;
	}
	if (ck->nanswered == ck->nparts)
		advance(c);
}

void coord_ckpt_client_left(struct coord *c, struct coord_conn *k)
{
	struct coord_ckpt *ck = &c->ck;
	char name[400];

	if (ck->phase == COORD_PHASE_IDLE || k->part_gen != ck->gen)
		return;
	struct coord_part *p = &ck->parts[k->reg.rank];
	p->conn = NULL;
	k->part_gen = 0;
	/* Once it has answered WRITE its image is all we need from it; in
	 * the MPI phases it must stay to be resumed with the others. */
	if (!p->answered || ck->phase != COORD_PHASE_WRITE)
		fail(c, "%s left during phase %s", coord_client_name(k, name,
		     sizeof(name)), coord_phase_name(ck->phase));
}

/* The first participant that has not answered the current phase. */
static int silent_rank(const struct coord_ckpt *ck)
{
	for (int r = 0; r < ck->nparts; r++)
		if (!ck->parts[r].answered)
			return r;
	return -1;
}

/* DRAIN ran out of time after at least one whole round: the totals of
 * the last whole round say what is still missing. */
static void drain_time_out(struct coord *c)
{
	struct coord_ckpt *ck = &c->ck;
	int all = ck->nanswered == ck->nparts;
	int r = silent_rank(ck);
	char also[64] = "";

	if (!all)
		snprintf(also, sizeof(also), "; rank %d did not answer round "
			 "%u", r, ck->round);
	fail(c, "messages still in flight after %d s of draining (%u "
	     "rounds; the ranks sent %lld and received %lld)%s", c->timeout,
	     all ? ck->round : ck->round - 1,
	     (long long)(all ? ck->sent : ck->prev_sent),
	     (long long)(all ? ck->recvd : ck->prev_recvd), also);
}

/* The phase ran out of time: say who we were waiting for. */
static void time_out(struct coord *c)
{
	struct coord_ckpt *ck = &c->ck;

	if (ck->phase == COORD_PHASE_DRAIN &&
	    (ck->nanswered == ck->nparts || ck->round > 1)) {
		drain_time_out(c);
		return;
	}
	for (int r = 0; r < ck->nparts; r++) {
		struct coord_part *p = &ck->parts[r];
		if (p->answered)
			continue;
		fail(c, "rank %d pid %d on %s did not answer phase %s "
		     "within %d s", r, p->reg.pid, p->reg.host,
		     coord_phase_name(ck->phase), c->timeout);
		return;
	}
}

void coord_ckpt_tick(struct coord *c, double now)
{
	struct coord_ckpt *ck = &c->ck;

	if (is_barrier(ck->phase) && now >= ck->deadline) {
		time_out(c);
		return;
	}
	if (ck->phase == COORD_PHASE_DRAIN && ck->next_round > 0 &&
	    now >= ck->next_round)
		next_drain_round(c);
	if (ck->phase == COORD_PHASE_IDLE && c->next_ckpt > 0 &&
	    now >= c->next_ckpt) {
		c->next_ckpt = now + c->interval;
		if (c->nclients > 0)
			coord_ckpt_request(c, NULL, 0);
	}
}
