/*
 * main.c - dmtcp_mpi, the per-rank launcher: the top-level flow.
 *
 *   mpirun -n N dmtcp_mpi [options] ./app args...
 *   mpirun -n N dmtcp_mpi [options] --restart CKPT_DIR
 *
 * For each rank: parse options, find the program, learn which MPI started
 * us, pick the proxy built for it, decide CPU placement, create the channel,
 * start the proxy (which joins the real MPI job) and the app (which talks
 * to the proxy over the channel), then reap both (reap.c).  With --no-mpi
 * only the app is started, with the checkpoint engine preloaded.  With
 * --restart the app is this rank's image, restored (restart.c); a
 * checkpoint of a job without MPI is restored without a proxy.
 *
 * The app learns its place from DMTCP_MPI_RANK, DMTCP_MPI_NRANKS and
 * DMTCP_MPI_MPI (the checkpoint client registers with them), and finds
 * the channel at the fixed fd DMTCP_MPI_CHAN_FD_NUM, which is where a
 * restored app looks for it.
 *
 * Every failure before the children run ends the launcher with one error
 * line and a distinct exit code (util/exitcode.h).
 */
#include "launcher/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

/* A closed stdin/stdout/stderr would let the channel memfd land on fd 0-2,
 * where the children's redirections would clobber it. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			dm_die(DM_EXIT_INTERNAL, "cannot open /dev/null (fd %d): %s",
			       fd, strerror(errno));
	}
}

static enum ln_mpi choose_mpi(const struct ln_opts *o, const struct ln_where *w)
{
	if (o->mpi != LN_MPI_NONE)
		return o->mpi;
	if (w->mpi != LN_MPI_NONE)
		return w->mpi;
	return ln_singleton_mpi();
}

/* The proxy binary for mpi, or exit with the reason it cannot be used. */
static const char *find_proxy(enum ln_mpi mpi)
{
	const char *path = ln_proxy_path(mpi);
	const char *env = getenv("DMTCP_MPI_PROXY");

	if (access(path, X_OK) == 0)
		return path;
	if (env != NULL && *env != '\0')
		dm_die(DM_EXIT_NOPROG, "cannot run proxy (%s, from DMTCP_MPI_PROXY):"
		       " %s", path, strerror(errno));
	dm_die(DM_EXIT_NOMPI, "no proxy for %s (%s): rebuild with both MPIs "
	       "installed", ln_mpi_name(mpi), path);
}

static void export_int(const char *var, int v)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", v);
	if (setenv(var, val, 1) < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot set %s (%s): %s", var, val,
		       strerror(errno));
}

/* What the app (and its checkpoint client) must know about its rank. */
static void export_rank(const struct ln_where *w, enum ln_mpi mpi)
{
	export_int("DMTCP_MPI_RANK", w->rank);
	export_int("DMTCP_MPI_NRANKS", w->size);
	if (setenv("DMTCP_MPI_MPI", ln_mpi_name(mpi), 1) < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot set DMTCP_MPI_MPI (%s): %s",
		       ln_mpi_name(mpi), strerror(errno));
}

/* Move the new channel to its fixed number, so that an app restored from
 * an image finds it where its predecessor had the old one. */
static int fix_channel_fd(int fd)
{
	const int at = DMTCP_MPI_CHAN_FD_NUM;

	if (fcntl(at, F_GETFD) >= 0)
		dm_die(DM_EXIT_CHANNEL, "cannot place the channel (fd %d): the "
		       "number is taken by a descriptor mpirun gave us", at);
	if (dup2(fd, at) < 0)
		dm_die(DM_EXIT_CHANNEL, "cannot place the channel (fd %d): %s%s",
		       at, strerror(errno), errno == EBADF ?
		       " (raise the open-files limit, ulimit -n)" : "");
	close(fd);
	return at;
}

/* Create the channel and fill in what the launcher knows; returns its fd. */
static int make_channel(struct chan *ch, const struct ln_opts *o,
			const struct ln_where *w, const struct ln_bind *b)
{
	char val[16];
	int fd = chan_create(o->arena_size);

	if (fd < 0)
		exit(DM_EXIT_CHANNEL);
	fd = fix_channel_fd(fd);
	if (chan_attach(ch, fd) < 0)
		exit(DM_EXIT_CHANNEL);
	ch->hdr->rank = (uint32_t)w->rank;
	ch->hdr->same_cpu = (uint32_t)b->same_cpu;
	snprintf(val, sizeof(val), "%d", fd);
	if (setenv(CHAN_ENV_FD, val, 1) < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot set %s (%s): %s", CHAN_ENV_FD,
		       val, strerror(errno));
	return fd;
}

/* The app could not be started: end the proxy we already started. */
static int abandon_proxy(struct chan *ch, pid_t proxy)
{
	chan_set_state(ch, CHAN_APP_GONE);
	kill(proxy, SIGKILL);
	waitpid(proxy, NULL, 0);
	return DM_EXIT_INTERNAL;
}

/* What the application child runs: the program, or dmtcp_mpi_restart
 * bringing back this rank's image (which has the engine already). */
struct ln_app {
	const char *path;
	char **argv;
	int preload;
	const struct ln_restart *rs;  /* a restart: the image to check */
};

/* The proxy; at a restart it starts MPI at once (proxy/main.c), so that
 * MPI_Init runs while the image is checked and restored.  The variable
 * is for the proxy alone: the application never sees it. */
static pid_t start_proxy(const char *path, const struct ln_app *a,
			 const struct ln_bind *b, const sigset_t *mask)
{
	const char *early = "DMTCP_MPI_PROXY_EARLY_INIT";

	if (a->rs != NULL && setenv(early, "1", 1) < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot set %s: %s", early,
		       strerror(errno));
	pid_t pid = ln_spawn_proxy(path, b->proxy_pu, mask);
	unsetenv(early);
	return pid;
}

/* The restart's image failed its check: no application, end the job. */
static _Noreturn void refuse_image(struct chan *ch, pid_t proxy,
				   enum ln_mpi mpi, int size)
{
	abandon_proxy(ch, proxy);
	ln_end_job(mpi, size, DM_EXIT_IMAGE);
}

static int run_rank(const struct ln_opts *o, const struct ln_where *w,
		    const struct ln_app *a, int sigfd, const sigset_t *mask)
{
	enum ln_mpi mpi = choose_mpi(o, w);
	const char *proxy = find_proxy(mpi);
	struct ln_bind b;
	struct chan ch;

	if (o->verbose)
		dm_info("rank %d (local %d of %d): %s from %s; proxy %s",
			w->rank, w->local_rank, w->local_size, ln_mpi_name(mpi),
			w->marker != NULL ? w->marker : "no mpirun (singleton)",
			proxy);
	ln_bind_plan(&b, w, o->no_bind, o->verbose);
	int fd = make_channel(&ch, o, w, &b);
	export_rank(w, mpi);

	struct ln_run r = {
		.app = { .what = "application" },
		.proxy = { .what = "proxy" },
		.ch = &ch,
		.mpi = mpi,
		.rank = w->rank,
		.size = w->size,
		.kill_timeout = o->kill_timeout,
		.verbose = o->verbose,
		.sigfd = sigfd,
	};
	r.proxy.pid = start_proxy(proxy, a, &b, mask);
	if (r.proxy.pid < 0)
		return DM_EXIT_INTERNAL;
	if (a->rs != NULL && ln_restart_verify(w, a->rs) < 0)
		refuse_image(&ch, r.proxy.pid, mpi, w->size);
	r.app.pid = ln_spawn_app(a->path, a->argv, fd, b.app_pu, mask,
				 a->preload);
	if (r.app.pid < 0)
		return abandon_proxy(&ch, r.proxy.pid);
	return ln_reap(&r);
}

static int run_plain(const struct ln_opts *o, const struct ln_where *w,
		     const struct ln_app *a, int sigfd, const sigset_t *mask)
{
	struct ln_run r = {
		.app = { .what = "application" },
		.proxy = { .what = "proxy" },
		.rank = w->rank,
		.size = w->size,
		.kill_timeout = o->kill_timeout,
		.verbose = o->verbose,
		.sigfd = sigfd,
	};

	export_rank(w, LN_MPI_NONE);
	if (a->rs != NULL && ln_restart_verify(w, a->rs) < 0)
		ln_end_job(LN_MPI_NONE, w->size, DM_EXIT_IMAGE);
	r.app.pid = ln_spawn_app(a->path, a->argv, -1, -1, mask, a->preload);
	if (r.app.pid < 0)
		return DM_EXIT_INTERNAL;
	return ln_reap(&r);
}

int main(int argc, char **argv)
{
	static struct ln_restart rs;
	struct ln_opts o;
	struct ln_where w;
	struct ln_app a = { .preload = 1 };
	sigset_t mask;

	ensure_stdio();
	ln_parse_opts(&o, argc, argv);
	ln_detect(&w);
	ln_own_session(&w, o.verbose);
	if (o.restart != NULL) {
		ln_restart_prepare(&o, &w, &rs);
		a = (struct ln_app){ .path = rs.tool, .argv = rs.argv, .rs = &rs };
		o.no_mpi = rs.plain;
	} else {
		a.path = ln_find_program(o.argv[0]);
		a.argv = o.argv;
		if (a.path == NULL)
			return DM_EXIT_NOPROG;
	}
	int sigfd = ln_signals_take(&mask);
	if (sigfd < 0)
		return DM_EXIT_INTERNAL;
	if (o.no_mpi)
		return run_plain(&o, &w, &a, sigfd, &mask);
	return run_rank(&o, &w, &a, sigfd, &mask);
}
