/*
 * reap.c - wait for the application and its proxy, forward signals, and
 * turn their ends into the launcher's exit status.
 *
 * The rule is that the death of either child ends the rank, promptly and
 * without orphans, and that no wait lasts for ever once something died:
 *
 *   app ends first   set CHAN_APP_GONE, give the proxy
 *                    DMTCP_MPI_KILL_TIMEOUT seconds, then SIGKILL it.  After
 *                    a completed MPI_Finalize call the proxy, which waited
 *                    for this to answer a checkpoint's control requests,
 *                    exits 0; otherwise it calls MPI_Abort, which ends the
 *                    job.
 *                    The launcher exits with the app's status, 128+N if a
 *                    signal N killed it.
 *   proxy ends first exit 0 is a normal end after MPI_Finalize: keep waiting
 *                    for the app (if the app had not asked to finalize, set
 *                    CHAN_PROXY_GONE so its next MPI call fails instead of
 *                    waiting for an answer that never comes).  Any other end
 *                    is a death: set CHAN_PROXY_GONE, SIGKILL the app, exit
 *                    DM_EXIT_PROXY_DIED.  Except when the app's call in the
 *                    slot is MPI_Abort: the proxy then exits with the
 *                    application's error code, as the application would
 *                    natively; SIGKILL the app and exit with that code,
 *                    with no error line (MPICH's Hydra reports a 1-rank
 *                    job's status as its process's: a user sees it there).
 *
 * "Completed MPI_Finalize call" is read from the channel: the last call in
 * the slot is CALL_FINALIZE and it has been answered (seq[REQ] == seq[RSP]).
 *
 * One more case: an app that fails before its first MPI call (a restart
 * whose image cannot be restored, a program that dies at once) leaves
 * its proxy outside the MPI job.  Open MPI's mpirun ends a job on the
 * first non-zero exit, but MPICH's Hydra only on a death by signal or an
 * MPI_Abort, so there the other ranks would wait in MPI_Init for ever:
 * the launcher then ends itself by the signal that killed the app, or
 * SIGTERM (ln_end_job).
 *
 * Signals: SIGINT, SIGTERM and SIGHUP go to both children, SIGUSR1 and
 * SIGUSR2 (checkpoint requests from a batch system) to the app only.  A
 * child that dies of a signal we forwarded (mpirun ending the job) is not
 * reported: whoever sent it knows.  All
 * of them and SIGCHLD are taken through a signalfd, so the loop below is
 * the only place where anything happens, with no handler races.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan/calls.h"
#include "util/exitcode.h"
#include "util/log.h"

/* How long a child that was sent SIGKILL may take to be reaped. */
#define LN_REAP_GRACE_S 5.0

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };

/* The reaper's progress. */
struct reaper {
	struct ln_run *r;
	int code;                 /* exit status decided so far; -1: none */
	struct ln_child *target;  /* child we wait for with a deadline */
	double deadline;          /* CLOCK_MONOTONIC seconds */
	int killed;               /* target was sent SIGKILL */
	int app_first;            /* the app ended before the proxy did */
	int forwarded;            /* last signal forwarded, 0: none */
};

int ln_signals_take(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	/* An inherited SIG_IGN would make the kernel reap our children
	 * before we could see their status. */
	signal(SIGCHLD, SIG_DFL);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0) {
		dm_err("cannot block signals (launcher): %s", strerror(errno));
		return -1;
	}
	int fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0)
		dm_err("cannot create a signalfd (launcher): %s", strerror(errno));
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int alive(const struct ln_child *c)
{
	return c->pid > 0 && !c->ended;
}

static const char *sig_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	snprintf(buf, len, "SIG%s", abbrev != NULL ? abbrev : "?");
	return buf;
}

static void arm(struct reaper *rp, struct ln_child *c, double seconds,
		int killed)
{
	rp->target = c;
	rp->deadline = now_s() + seconds;
	rp->killed = killed;
}

/* The app's last call was MPI_Finalize and the proxy answered it. */
static int app_finalized(const struct chan *ch)
{
	struct chan_hdr *h = ch->hdr;

	return h->call.id == CALL_FINALIZE &&
	       atomic_load(&h->seq[CHAN_REQ]) == atomic_load(&h->seq[CHAN_RSP]);
}

static void reap_children(struct ln_run *r)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct ln_child *c = pid == r->app.pid     ? &r->app
				   : pid == r->proxy.pid ? &r->proxy
							 : NULL;
		if (c != NULL) {
			c->ended = 1;
			c->status = st;
		}
	}
}

/* The app is in MPI_Abort: the call never returns, so it stays the
 * slot's call until the proxy, carrying it out, has ended the job. */
static int app_aborting(const struct chan *ch)
{
	return ch != NULL && ch->hdr->call.id == CALL_ABORT;
}

/* The launcher's exit status for the app's wait status. */
static int app_exit_code(const struct reaper *rp)
{
	const struct ln_run *r = rp->r;
	int st = r->app.status;
	char name[32];

	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WTERMSIG(st) != rp->forwarded)
		dm_err("rank %d: application killed by signal %d (%s)", r->rank,
		       WTERMSIG(st), sig_name(WTERMSIG(st), name, sizeof(name)));
	return 128 + WTERMSIG(st);
}

static void on_app_end(struct reaper *rp)
{
	struct ln_run *r = rp->r;
	int st = r->app.status;

	if (rp->code < 0) {
		rp->code = app_exit_code(rp);
		rp->app_first = 1;
		if (WIFEXITED(st) && r->ch != NULL && app_finalized(r->ch))
			ln_note_end(r->rank, WEXITSTATUS(st));
	}
	if (!alive(&r->proxy))
		return;
	if (r->verbose)
		dm_info("rank %d: application %s; proxy has %u s to end", r->rank,
			WIFEXITED(st) && app_finalized(r->ch) ? "finalized and exited" : "gone",
			r->kill_timeout);
	chan_set_state(r->ch, CHAN_APP_GONE);
	arm(rp, &r->proxy, r->kill_timeout, 0);
}

static void on_proxy_end(struct reaper *rp)
{
	struct ln_run *r = rp->r;
	int st = r->proxy.status;
	char name[32];

	if (!alive(&r->app))
		return; /* ended because the app did: nothing to report */
	if (WIFEXITED(st) && app_aborting(r->ch)) {
		/* Not CHAN_PROXY_GONE: the app would say the proxy died.
		 * First: MPI_Abort(comm, 0) ends the proxy with 0 too. */
		kill(r->app.pid, SIGKILL);
		rp->code = WEXITSTATUS(st);
		arm(rp, &r->app, LN_REAP_GRACE_S, 1);
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		if (!app_finalized(r->ch))
			chan_set_state(r->ch, CHAN_PROXY_GONE);
		if (r->verbose)
			dm_info("rank %d: proxy finished; waiting for the "
				"application", r->rank);
		return;
	}
	if (WIFEXITED(st))
		dm_err("rank %d: proxy exited with status %d; ending the rank",
		       r->rank, WEXITSTATUS(st));
	else if (WTERMSIG(st) != rp->forwarded)
		dm_err("rank %d: proxy killed by signal %d (%s); ending the rank",
		       r->rank, WTERMSIG(st),
		       sig_name(WTERMSIG(st), name, sizeof(name)));
	chan_set_state(r->ch, CHAN_PROXY_GONE);
	kill(r->app.pid, SIGKILL);
	rp->code = DM_EXIT_PROXY_DIED;
	arm(rp, &r->app, LN_REAP_GRACE_S, 1);
}

/* The target outlived its deadline.  Returns 0 to stop waiting. */
static int on_deadline(struct reaper *rp)
{
	struct ln_child *c = rp->target;
	int rank = rp->r->rank;

	if (!rp->killed) {
		dm_warn("rank %d: %s still running %u s after the application "
			"ended; killing it", rank, c->what, rp->r->kill_timeout);
		kill(c->pid, SIGKILL);
		arm(rp, c, LN_REAP_GRACE_S, 1);
		return 1;
	}
	dm_warn("rank %d: %s (pid %d) still there %.0f s after SIGKILL; not "
		"waiting for it", rank, c->what, (int)c->pid, LN_REAP_GRACE_S);
	return 0;
}

_Noreturn void ln_end_job(enum ln_mpi mpi, int size, int code)
{
	int sig = code > 128 && code <= 128 + 64 ? code - 128 : SIGTERM;
	sigset_t set;

	if (mpi == LN_MPI_MPICH && size > 1) {
		sigemptyset(&set);
		sigaddset(&set, sig);
		signal(sig, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
	}
	exit(code);
}

/* The app failed without ever calling MPI (see the header comment). */
static int failed_before_mpi(const struct ln_run *r)
{
	int st = r->app.status;

	return r->ch != NULL && (!WIFEXITED(st) || WEXITSTATUS(st) != 0) &&
	       atomic_load(&r->ch->hdr->seq[CHAN_REQ]) == 0;
}

static void forward(struct reaper *rp, int sig)
{
	struct ln_run *r = rp->r;

	rp->forwarded = sig;
	if (alive(&r->app))
		kill(r->app.pid, sig);
	if (sig != SIGUSR1 && sig != SIGUSR2 && alive(&r->proxy))
		kill(r->proxy.pid, sig);
}

/* Sleep until a signal arrives or the deadline passes; forward signals. */
static void wait_event(struct reaper *rp)
{
	struct pollfd pfd = { .fd = rp->r->sigfd, .events = POLLIN };
	int timeout = -1;

	if (rp->target != NULL) {
		double left = rp->deadline - now_s();
		timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
	}
	if (poll(&pfd, 1, timeout) <= 0)
		return; /* timeout or EINTR: the caller looks again */

	struct signalfd_siginfo si[8];
	ssize_t n = read(rp->r->sigfd, si, sizeof(si));
	for (ssize_t i = 0; i < n / (ssize_t)sizeof(si[0]); i++) {
		if (si[i].ssi_signo != SIGCHLD)
			forward(rp, (int)si[i].ssi_signo);
	}
}

int ln_reap(struct ln_run *r)
{
	struct reaper rp = { .r = r, .code = -1 };
	int app_done = 0, proxy_done = 0;

	for (;;) {
		reap_children(r);
		if (r->app.ended && !app_done) {
			app_done = 1;
			on_app_end(&rp);
		}
		if (r->proxy.ended && !proxy_done) {
			proxy_done = 1;
			on_proxy_end(&rp);
		}
		if (!alive(&r->app) && !alive(&r->proxy))
			break;
		if (rp.target != NULL && !alive(rp.target))
			rp.target = NULL;
		if (rp.target != NULL && now_s() >= rp.deadline) {
			if (!on_deadline(&rp))
				break;
			continue;
		}
		wait_event(&rp);
	}
	int code = rp.code >= 0 ? rp.code : DM_EXIT_INTERNAL;
	if (rp.app_first && failed_before_mpi(r))
		ln_end_job(r->mpi, r->size, code);
	return code;
}
