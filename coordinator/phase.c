/*
 * phase.c - one checkpoint, driven through the phases of enum coord_phase
 * (proto.h): IDLE -> WRITE -> COMMIT -> RESUME -> IDLE, any failure going
 * straight to RESUME.
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
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *phase_name(enum coord_phase p)
{
	switch (p) {
	case COORD_PHASE_IDLE: return "idle";
	case COORD_PHASE_WRITE: return "write";
	case COORD_PHASE_COMMIT: return "commit";
	case COORD_PHASE_RESUME: return "resume";
	}
	return "?";
}

/* Tell participants the outcome, answer waiting commands, back to IDLE. */
static void finish(struct coord *c, int ok)
{
	struct coord_ckpt *ck = &c->ck;
	struct coord_phase_msg msg;
	char text[COORD_WHY_MAX + PATH_MAX + 64];

	if (ok) {
		snprintf(c->last_path, sizeof(c->last_path), "%s", ck->final);
		c->last_time = ck->started;
		dm_info("checkpoint %u written: %s (%d rank%s, %.2f s)", ck->gen,
			ck->final, ck->nparts, ck->nparts == 1 ? "" : "s",
			coord_now() - ck->t0);
		snprintf(text, sizeof(text), "%s", ck->final);
	} else {
		const char *where = ck->tmp[0] ? ck->tmp : c->ckptdir;
		if (ck->tmp[0])
			coord_discard(ck->tmp);
		dm_err("checkpoint %u failed (%s): %s", ck->gen, where, ck->why);
		snprintf(text, sizeof(text), "checkpoint %u failed (%s): %s",
			 ck->gen, where, ck->why);
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
		coord_conn_send(k, COORD_MSG_PHASE, &msg, sizeof(msg));
	}
	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *k = c->conns[i];
		if (!k->dead && k->wait == COORD_WAIT_CKPT)
			coord_cmd_reply(k, ok ? DM_EXIT_OK : DM_EXIT_CKPT, text);
	}
	free(ck->parts);
	ck->parts = NULL;
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

static void start_write(struct coord *c)
{
	struct coord_ckpt *ck = &c->ck;
	struct coord_phase_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.phase = COORD_PHASE_WRITE;
	msg.gen = ck->gen;
	snprintf(msg.dir, sizeof(msg.dir), "%s", ck->tmp);
	ck->phase = COORD_PHASE_WRITE;
	ck->nanswered = 0;
	ck->deadline = coord_now() + c->timeout;
	for (int r = 0; r < ck->nparts; r++) {
		ck->parts[r].answered = 0;
		ck->parts[r].conn->part_gen = ck->gen;
		coord_conn_send(ck->parts[r].conn, COORD_MSG_PHASE, &msg,
				sizeof(msg));
	}
}

void coord_ckpt_request(struct coord *c, struct coord_conn *cmd)
{
	char why[COORD_WHY_MAX];

	if (cmd)
		cmd->wait = COORD_WAIT_CKPT;
	if (c->ck.phase != COORD_PHASE_IDLE)
		return;         /* the command gets this one's outcome */
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
	if (make_tmpdir(c, why, sizeof(why)) < 0) {
		fail(c, "%s", why);
		return;
	}
	dm_info("checkpoint %u: %d rank%s writing to %s", c->ck.gen,
		c->ck.nparts, c->ck.nparts == 1 ? "" : "s", c->ck.tmp);
	start_write(c);
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

void coord_ckpt_answer(struct coord *c, struct coord_conn *k,
		       const struct coord_phase_done *d)
{
	struct coord_ckpt *ck = &c->ck;
	char name[400];

	/* A late answer to a checkpoint that already failed is expected
	 * after a timeout: ignore it. */
	if (ck->phase != COORD_PHASE_WRITE || d->gen != ck->gen ||
	    d->phase != COORD_PHASE_WRITE || k->part_gen != ck->gen)
		return;
	struct coord_part *p = &ck->parts[k->reg.rank];
	if (p->answered)
		return;
	p->answered = 1;
	p->done = *d;
	ck->nanswered++;
	coord_client_name(k, name, sizeof(name));
	if (!d->ok)
		fail(c, "%s: %s", name, d->reason[0] ? d->reason : "failed");
	else if (!inside(d->path, ck->tmp))
		fail(c, "%s: image %s is not in %s", name, d->path, ck->tmp);
	else if (ck->nanswered == ck->nparts)
		commit(c);
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
	if (!p->answered)
		fail(c, "%s left during phase %s", coord_client_name(k, name,
		     sizeof(name)), phase_name(ck->phase));
}

void coord_ckpt_tick(struct coord *c, double now)
{
	struct coord_ckpt *ck = &c->ck;

	if (ck->phase == COORD_PHASE_WRITE && now >= ck->deadline) {
		for (int r = 0; r < ck->nparts; r++) {
			struct coord_part *p = &ck->parts[r];
			if (p->answered)
				continue;
			fail(c, "rank %d pid %d on %s did not answer phase %s "
			     "within %d s", r, p->reg.pid, p->reg.host,
			     phase_name(ck->phase), c->timeout);
			return;
		}
	}
	if (ck->phase == COORD_PHASE_IDLE && c->next_ckpt > 0 &&
	    now >= c->next_ckpt) {
		c->next_ckpt = now + c->interval;
		if (c->nclients > 0)
			coord_ckpt_request(c, NULL);
	}
}
