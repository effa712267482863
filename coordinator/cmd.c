/*
 * cmd.c - what the coordinator does for dmtcp_mpi_command: checkpoint,
 * checkpoint-and-exit, status, kill, interval.  Each command connection
 * gets exactly one CMD_REPLY and is then closed; checkpoint and kill
 * reply only when they are over (the command blocks meanwhile), and both
 * are bounded by --timeout, so a command never waits forever.
 *
 * The status text is key=value lines, one "client ..." line per client,
 * so that scripts can read it as easily as people.
 */
#include "coordinator/coord.h"
#include "util/exitcode.h"
#include "util/grow.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void coord_cmd_reply(struct coord_conn *k, int code, const char *text)
{
	size_t n = strlen(text) + 1;
	struct coord_cmd_reply r = { .code = code };
	char *body = malloc(sizeof(r) + n);

	k->wait = COORD_WAIT_NONE;
	k->closing = 1;
	if (!body) {
		dm_err("cannot answer a command (%s): out of memory", k->peer);
		k->broken = 1;
		return;
	}
	memcpy(body, &r, sizeof(r));
	memcpy(body + sizeof(r), text, n);
	coord_conn_send(k, COORD_MSG_CMD_REPLY, body, sizeof(r) + n);
	free(body);
}

/* Append to a growing status text; on out-of-memory the text just stops. */
struct text {
	char *s;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		if (dm_grow((void **)&t->s, &t->cap, t->len + (size_t)n + 1, 1) < 0)
			return;
	}
}

/* What a client is doing: "running", or the phase of the checkpoint it
 * takes part in, "-done" once it answered (WRITE: writing / written). */
static const char *client_state(const struct coord *c,
				const struct coord_conn *k, char *buf,
				size_t len)
{
	const struct coord_ckpt *ck = &c->ck;

	if (ck->phase == COORD_PHASE_IDLE || k->part_gen != ck->gen)
		return "running";
	int answered = ck->parts[k->reg.rank].answered;
	if (ck->phase == COORD_PHASE_WRITE)
		return answered ? "written" : "writing";
	snprintf(buf, len, "%s%s", coord_phase_name(ck->phase),
		 answered ? "-done" : "");
	return buf;
}

static int by_rank(const void *a, const void *b)
{
	const struct coord_conn *x = *(struct coord_conn *const *)a;
	const struct coord_conn *y = *(struct coord_conn *const *)b;

	if (x->reg.rank != y->reg.rank)
		return x->reg.rank < y->reg.rank ? -1 : 1;
	return (x->reg.pid > y->reg.pid) - (x->reg.pid < y->reg.pid);
}

/* The job as the clients (sorted by rank) describe it: its size, which
 * ranks are connected, its MPI. */
static void job_lines(struct text *t, struct coord_conn **cl, int n)
{
	if (n == 0) {
		add(t, "ranks=none\n");
		return;
	}
	int nranks = cl[0]->reg.nranks, have = 0, prev = -1;
	for (int i = 0; i < n; i++) {
		if (cl[i]->reg.rank != prev && cl[i]->reg.nranks == nranks)
			have++;
		prev = cl[i]->reg.rank;
	}
	add(t, "ranks=%d/%d connected\nmpi=%s\n", have, nranks,
	    cl[0]->reg.mpi);
	if (have < nranks) {
		add(t, "missing_ranks=");
		int j = 0, sep = 0;
		for (int r = 0; r < nranks && r < 1 << 16; r++) {
			while (j < n && cl[j]->reg.rank < r)
				j++;
			if (j < n && cl[j]->reg.rank == r)
				continue;
			add(t, "%s%d", sep ? "," : "", r);
			sep = 1;
		}
		add(t, "\n");
	}
}

static void status(struct coord *c, struct coord_conn *k)
{
	struct text t = { .s = malloc(4096), .cap = 4096 };
	struct coord_conn **cl = calloc((size_t)c->nconns + 1, sizeof(*cl));
	int n = 0;

	if (!t.s || !cl) {
		free(t.s);
		free(cl);
		coord_cmd_reply(k, DM_EXIT_INTERNAL, "coordinator out of memory");
		return;
	}
	t.s[0] = '\0';
	add(&t, "coordinator=%s:%d\npid=%d\nckptdir=%s\ninterval=%d\n"
	    "timeout=%d\n", c->host, c->port, (int)getpid(), c->ckptdir,
	    c->interval, c->timeout);
	if (c->log_path[0])
		add(&t, "log=%s\n", c->log_path);
	if (c->ck.phase == COORD_PHASE_IDLE)
		add(&t, "state=idle\n");
	else
		add(&t, "state=checkpoint %u (%d/%d ranks answered)\n",
		    c->ck.gen, c->ck.nanswered, c->ck.nparts);
	add(&t, "phase=%s\n", coord_phase_name(c->ck.phase));
	if (c->ck.phase == COORD_PHASE_DRAIN)
		add(&t, "drain_round=%u\n", c->ck.round);
	for (int i = 0; i < c->nconns; i++) {
		if (!c->conns[i]->dead && c->conns[i]->registered)
			cl[n++] = c->conns[i];
	}
	qsort(cl, (size_t)n, sizeof(*cl), by_rank);
	add(&t, "clients=%d\n", n);
	job_lines(&t, cl, n);
	for (int i = 0; i < n; i++) {
		char st[32];
		add(&t, "client rank=%d nranks=%d pid=%d host=%s program=%s "
		    "state=%s restarts=%d mpi=%s\n", cl[i]->reg.rank,
		    cl[i]->reg.nranks, cl[i]->reg.pid, cl[i]->reg.host,
		    cl[i]->reg.program, client_state(c, cl[i], st, sizeof(st)),
		    cl[i]->reg.restarts, cl[i]->reg.mpi);
	}
	if (c->last_path[0]) {
		char when[64];
		struct tm tm;
		localtime_r(&c->last_time, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		add(&t, "last_checkpoint=%s\nlast_checkpoint_time=%s\n",
		    c->last_path, when);
	} else {
		add(&t, "last_checkpoint=none\n");
	}
	if (c->last_failed_gen)
		add(&t, "last_failure=checkpoint %u: %s\n", c->last_failed_gen,
		    c->last_failure);
	coord_cmd_reply(k, DM_EXIT_OK, t.s);
	free(cl);
	free(t.s);
}

void coord_kill_start(struct coord *c)
{
	if (c->kill_deadline > 0)
		return;         /* already under way: wait for the same end */
	dm_info("killing %d client%s", c->nclients, c->nclients == 1 ? "" : "s");
	c->kill_deadline = coord_now() + c->timeout + COORD_KILL_GRACE_S;
	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *p = c->conns[i];
		if (!p->dead && p->registered)
			coord_conn_send(p, COORD_MSG_KILL, NULL, 0);
	}
}

void coord_cmd_kill_tick(struct coord *c, double now)
{
	char text[128], done[PATH_MAX + 256];

	if (c->kill_deadline <= 0 ||
	    (c->nclients > 0 && now < c->kill_deadline))
		return;
	int code = c->nclients == 0 ? DM_EXIT_OK : DM_EXIT_COORD;
	if (code == DM_EXIT_OK)
		snprintf(text, sizeof(text), "every client has exited");
	else
		snprintf(text, sizeof(text), "%d client%s still connected after "
			 "%d s", c->nclients, c->nclients == 1 ? " is" : "s are",
			 c->timeout + COORD_KILL_GRACE_S);
	c->kill_deadline = 0;
	/* --checkpoint-and-exit is told where the checkpoint is. */
	if (code == DM_EXIT_OK)
		snprintf(done, sizeof(done), "%s", c->last_path);
	else
		snprintf(done, sizeof(done), "checkpoint written (%s), but %s",
			 c->last_path, text);
	for (int i = 0; i < c->nconns; i++) {
		struct coord_conn *k = c->conns[i];
		if (!k->dead && k->wait == COORD_WAIT_KILL)
			coord_cmd_reply(k, code, text);
		else if (!k->dead && k->wait == COORD_WAIT_EXIT)
			coord_cmd_reply(k, code, done);
	}
}

void coord_cmd(struct coord *c, struct coord_conn *k,
	       const struct coord_cmd *cmd)
{
	char text[64];

	switch (cmd->op) {
	case COORD_CMD_CHECKPOINT:
	case COORD_CMD_CHECKPOINT_EXIT:
		coord_ckpt_request(c, k, cmd->op == COORD_CMD_CHECKPOINT_EXIT);
		return;
	case COORD_CMD_STATUS:
		status(c, k);
		return;
	case COORD_CMD_KILL:
		/* Not "every client has exited": a job that is starting or
		 * restarting has not connected yet, and would run on. */
		if (c->nclients == 0 && c->kill_deadline <= 0) {
			coord_cmd_reply(k, DM_EXIT_NOJOB, "no rank is connected to the "
					"coordinator, so nothing was killed: a job that is "
					"starting connects within seconds; retry then");
			return;
		}
		k->wait = COORD_WAIT_KILL;
		coord_kill_start(c);
		coord_cmd_kill_tick(c, coord_now());
		return;
	case COORD_CMD_INTERVAL:
		if (cmd->arg < 0) {
			coord_cmd_reply(k, DM_EXIT_USAGE, "interval must be >= 0");
			return;
		}
		c->interval = cmd->arg;
		c->next_ckpt = cmd->arg ? coord_now() + cmd->arg : 0;
		dm_info("checkpoint interval set to %d s", cmd->arg);
		snprintf(text, sizeof(text), "interval=%d", cmd->arg);
		coord_cmd_reply(k, DM_EXIT_OK, text);
		return;
	}
	coord_cmd_reply(k, DM_EXIT_USAGE, "unknown command");
}
