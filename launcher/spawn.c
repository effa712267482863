/*
 * spawn.c - start the proxy and the application.
 *
 * Both children inherit the channel fd (DMTCP_MPI_CHAN_FD_NUM, named by
 * DMTCP_MPI_CHAN_FD, set by the caller), are bound to their PU, and get
 * PR_SET_PDEATHSIG(SIGKILL) so that neither survives the launcher,
 * whatever kills it.
 *
 *   proxy: keeps everything mpirun gave this rank (PMI_FD, Open MPI's
 *          sockets, the environment): it is the process that joins the real
 *          MPI job.  stdin is /dev/null: the application owns the input.
 *   app:   keeps stdin/stdout/stderr and the channel, and nothing else from
 *          the MPI launcher, so a checkpoint image holds no live MPI
 *          connection.  The checkpoint engine, if built, is preloaded.
 *
 * The code between fork and exec runs in a copy of the single-threaded
 * launcher, so plain libc calls (setenv, snprintf) are safe there.
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

#define LN_ENGINE_LIB "libdmtcp_ckpt.so"

static void bind_to_pu(int pu, const char *what)
{
	cpu_set_t *set = CPU_ALLOC((size_t)pu + 1);
	size_t size = CPU_ALLOC_SIZE((size_t)pu + 1);

	if (set == NULL)
		return;
	CPU_ZERO_S(size, set);
	CPU_SET_S((size_t)pu, size, set);
	if (sched_setaffinity(0, size, set) < 0)
		dm_warn("cannot bind the %s to PU %d: %s; running unbound",
			what, pu, strerror(errno));
	CPU_FREE(set);
}

/* First steps of either child. */
static void child_setup(pid_t launcher, int pu, const char *what)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		dm_err("cannot tie the %s to the launcher (prctl "
		       "PR_SET_PDEATHSIG): %s", what, strerror(errno));
		_exit(DM_EXIT_INTERNAL);
	}
	/* The launcher may have died before the prctl took effect. */
	if (getppid() != launcher)
		_exit(DM_EXIT_INTERNAL);
	if (pu >= 0)
		bind_to_pu(pu, what);
}

static void child_exec(const char *path, char **argv, const sigset_t *mask,
		       const char *what)
{
	sigprocmask(SIG_SETMASK, mask, NULL);
	execv(path, argv);
	dm_err("cannot start the %s (%s): %s", what, path, strerror(errno));
	_exit(DM_EXIT_NOPROG);
}

/* fork, the child set up as the launcher's what: its pid in the
 * launcher (-1, said, if fork failed), 0 in the child. */
static pid_t fork_child(const char *path, int pu, const char *what)
{
	pid_t launcher = getpid();
	pid_t pid = fork();

	if (pid < 0)
		dm_err("cannot start the %s (%s): fork: %s", what, path, strerror(errno));
	else if (pid == 0)
		child_setup(launcher, pu, what);
	return pid;
}

pid_t ln_spawn_proxy(const char *path, int pu, const sigset_t *sigmask)
{
	pid_t pid = fork_child(path, pu, "proxy");

	if (pid != 0)
		return pid;
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0) {
		dm_err("cannot start the proxy (%s): stdin from /dev/null: %s",
		       path, strerror(errno));
		_exit(DM_EXIT_INTERNAL);
	}
	if (null != 0)
		close(null);
	char *argv[] = { (char *)path, NULL };
	child_exec(path, argv, sigmask, "proxy");
	return -1; /* not reached */
}

/* Put the checkpoint engine first in LD_PRELOAD, if it is installed. */
static void preload_engine(void)
{
	char lib[PATH_MAX + 32];
	const char *old = getenv("LD_PRELOAD");

	snprintf(lib, sizeof(lib), "%s/lib/%s", ln_prefix(), LN_ENGINE_LIB);
	if (access(lib, R_OK) != 0)
		return;
	if (old != NULL && *old != '\0') {
		size_t n = strlen(lib) + strlen(old) + 2;
		char *both = malloc(n);
		if (both == NULL)
			return;
		snprintf(both, n, "%s:%s", lib, old);
		setenv("LD_PRELOAD", both, 1);
		free(both);
	} else {
		setenv("LD_PRELOAD", lib, 1);
	}
}

/* Close every fd above stderr except keep (the channel). */
static void close_launcher_fds(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0u, 0);
}

pid_t ln_spawn_app(const char *path, char **argv, int chan_fd, int pu,
		   const sigset_t *sigmask, int preload)
{
	pid_t pid = fork_child(path, pu, "application");

	if (pid != 0)
		return pid;
	if (chan_fd >= 0)
		close_launcher_fds(chan_fd);
	if (preload)
		preload_engine();
	child_exec(path, argv, sigmask, "application");
	return -1; /* not reached */
}
