/*
 * session.c - one session per rank, whichever MPI launched it.
 *
 * Linux schedules by session when autogroup is on (the default on most
 * distributions, /proc/sys/kernel/sched_autogroup_enabled): each session
 * gets an equal share of the CPU however many processes it holds.  MPICH's
 * Hydra starts every rank as a session leader, so on a busy machine each
 * rank gets one share; Open MPI leaves all of a node's ranks in mpirun's
 * session (each in its own process group), so together they get one
 * share.  On this 2-core machine, loaded by other sessions, that alone
 * made a restart under Open MPI take 2-3x as long as under MPICH: the
 * image restore, which is the same work under both, ran at half the speed
 * (doc/performance.md has the numbers).
 *
 * So under Open MPI the launcher makes itself a session leader, with the
 * app and the proxy it starts: the same placement Hydra gives.  setsid()
 * refuses a process-group leader, and Open MPI made us one, so we first
 * join our parent's process group (same session, which is allowed), then
 * start the new session; its process group id is our pid again, as Open
 * MPI expects when it signals the group.  Not done outside Open MPI: a
 * launcher started from an interactive shell must stay in the terminal's
 * foreground group, or ^C would no longer reach it.  Best effort: on any
 * refusal the rank simply stays where it was.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

void ln_own_session(const struct ln_where *w, int verbose)
{
	pid_t me = getpid();

	if (w->mpi != LN_MPI_OPENMPI || getsid(0) == me)
		return;
	if (getpgid(0) == me && setpgid(0, getpgid(getppid())) < 0) {
		if (verbose)
			dm_info("rank %d: stays in mpirun's session (setpgid: %s)",
				w->rank, strerror(errno));
		return;
	}
	if (setsid() < 0 && verbose)
		dm_info("rank %d: stays in mpirun's session (setsid: %s)",
			w->rank, strerror(errno));
}
