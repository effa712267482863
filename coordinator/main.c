/*
 * main.c - dmtcp_mpi_coordinator: options, listening socket, daemon mode
 * and the single-threaded poll() loop that drives everything else.
 *
 * One process, one thread: every peer is a non-blocking socket in one
 * poll() set, and every deadline (phase timeout, interval, kill grace,
 * hello) is turned into poll()'s timeout, so the coordinator can neither
 * hang on a peer nor race with itself.  See coord.h for the modules.
 */
#include "coordinator/coord.h"
#include "util/exitcode.h"
#include "util/grow.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

double coord_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: dmtcp_mpi_coordinator [options]\n"
"  --host H        listen on address H (default 127.0.0.1)\n"
"  --port P        listen on port P (default 7779; 0: any free port)\n"
"  --port-file F   write the port to F once listening\n"
"  --ckptdir DIR   where checkpoints go (default $DMTCP_MPI_CKPTDIR, "
"else ./ckpt)\n"
"  --interval N    checkpoint every N seconds (default $DMTCP_MPI_INTERVAL,\n"
"                  else 0: only on request)\n"
"  --timeout S     seconds a checkpoint phase may take before the\n"
"                  checkpoint fails (default $DMTCP_MPI_COORD_TIMEOUT,\n"
"                  else 60)\n"
"  --daemon        detach; log to $DMTCP_MPI_TMPDIR/coord-<host>-<port>.log\n"
"  --exit-on-last  exit when the last client has left\n");
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

struct options {
	const char *port_file;
	int daemon;
};

static void parse_options(int argc, char **argv, struct coord *c,
			  struct options *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "ckptdir", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "exit-on-last", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = getenv("DMTCP_MPI_CKPTDIR");
	const char *iv = getenv("DMTCP_MPI_INTERVAL");
	const char *to = getenv("DMTCP_MPI_COORD_TIMEOUT");
	int opt, bad = 0;

	snprintf(c->host, sizeof(c->host), "%s", COORD_DEFAULT_HOST);
	c->port = COORD_DEFAULT_PORT;
	c->timeout = 60;
	if (!dir || !*dir)
		dir = "ckpt";
	/* The launcher's --interval reaches a coordinator that a client
	 * starts through the environment. */
	if (iv && *iv && parse_int(iv, 0, 1 << 30, &c->interval) < 0)
		dm_die(DM_EXIT_USAGE, "bad DMTCP_MPI_INTERVAL (%s)", iv);
	if (to && *to && parse_int(to, 1, 1 << 20, &c->timeout) < 0)
		dm_die(DM_EXIT_USAGE, "bad DMTCP_MPI_COORD_TIMEOUT (%s)", to);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H': snprintf(c->host, sizeof(c->host), "%s", optarg); break;
		case 'p': bad |= parse_int(optarg, 0, 65535, &c->port); break;
		case 'f': o->port_file = optarg; break;
		case 'd': dir = optarg; break;
		case 'i': bad |= parse_int(optarg, 0, 1 << 30, &c->interval); break;
		case 't': bad |= parse_int(optarg, 1, 1 << 20, &c->timeout); break;
		case 'D': o->daemon = 1; break;
		case 'x': c->exit_on_last = 1; break;
		case 'h': usage(stdout); exit(DM_EXIT_OK);
		default: usage(stderr); exit(DM_EXIT_USAGE);
		}
		if (bad)
			dm_die(DM_EXIT_USAGE, "bad option value (%s)", optarg);
	}
	if (optind < argc) {
		usage(stderr);
		exit(DM_EXIT_USAGE);
	}
	/* Absolute: the daemon leaves the directory it was started in. */
	char cwd[PATH_MAX];
	if (dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		dm_die(DM_EXIT_USAGE, "cannot get the current directory: %s",
		       strerror(errno));
	int n = dir[0] == '/' ? snprintf(c->ckptdir, sizeof(c->ckptdir), "%s",
					 dir)
			      : snprintf(c->ckptdir, sizeof(c->ckptdir),
					 "%s/%s", cwd, dir);
	if (n < 0 || (size_t)n >= sizeof(c->ckptdir))
		dm_die(DM_EXIT_USAGE, "checkpoint directory name too long (%s)",
		       dir);
}

/* Directory of our own executable: restart.sh names dmtcp_mpi_restart
 * there, so it works without PATH. */
static void find_bindir(struct coord *c)
{
	ssize_t n = readlink("/proc/self/exe", c->bindir,
			     sizeof(c->bindir) - 1);

	if (n < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot read /proc/self/exe: %s",
		       strerror(errno));
	c->bindir[n] = '\0';
	char *slash = strrchr(c->bindir, '/');
	if (slash)
		*slash = '\0';
}

/* Bind host:port, make the secret file, then listen (secret.c says why
 * in this order).  Exits on failure: nothing to serve without it. */
static void listen_on(struct coord *c)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	char service[16], err[PATH_MAX + 128];
	int one = 1, saved = 0;

	snprintf(service, sizeof(service), "%d", c->port);
	int gai = getaddrinfo(c->host, service, &hints, &res);
	if (gai != 0)
		dm_die(DM_EXIT_USAGE, "cannot resolve --host (%s): %s", c->host,
		       gai_strerror(gai));
	c->listen_fd = -1;
	for (ai = res; ai && c->listen_fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
				SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			c->listen_fd = fd;
			break;
		}
		saved = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (c->listen_fd < 0)
		dm_die(DM_EXIT_COORD, "cannot listen on %s:%d: %s", c->host,
		       c->port, strerror(saved));
	if (getsockname(c->listen_fd, (struct sockaddr *)&sa, &sl) == 0)
		c->port = ntohs(sa.ss_family == AF_INET6
			? ((struct sockaddr_in6 *)&sa)->sin6_port
			: ((struct sockaddr_in *)&sa)->sin_port);
	if (coord_secret_setup(c, err, sizeof(err)) < 0)
		dm_die(DM_EXIT_COORD, "cannot set up the secret (%s:%d): %s",
		       c->host, c->port, err);
	if (listen(c->listen_fd, SOMAXCONN) < 0) {
		coord_secret_remove(c);
		dm_die(DM_EXIT_COORD, "cannot listen on %s:%d: %s", c->host,
		       c->port, strerror(errno));
	}
}

static void write_port_file(struct coord *c, const char *path)
{
	char tmp[PATH_MAX + 32];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", c->port) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) < 0) {
		coord_secret_remove(c);
		dm_die(DM_EXIT_USAGE, "cannot write the port file (%s): %s", path,
		       strerror(errno));
	}
}

/* Fork; the parent waits until the child listens (or dies) and exits with
 * its verdict, so whoever started us can connect right away.  Returns the
 * pipe the child must write one byte to once ready. */
static int daemon_fork(void)
{
	int p[2];
	char ok;

	if (pipe2(p, O_CLOEXEC) < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot create a pipe: %s",
		       strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		dm_die(DM_EXIT_INTERNAL, "cannot fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		setsid();
		return p[1];
	}
	close(p[1]);
	if (read(p[0], &ok, 1) == 1)
		_exit(DM_EXIT_OK);
	int st;
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	_exit(DM_EXIT_INTERNAL);
}

/* The child's half: log to a file, leave the terminal, tell the parent. */
static void daemon_ready(struct coord *c, int ready_fd)
{
	char dir[PATH_MAX], err[PATH_MAX + 64];

	if (coord_tmpdir(dir, sizeof(dir), err, sizeof(err)) < 0)
		dm_die(DM_EXIT_COORD, "cannot open the log (%s:%d): %s", c->host,
		       c->port, err);
	int n = snprintf(c->log_path, sizeof(c->log_path), "%s/coord-%s-%d.log",
			 dir, c->host, c->port);
	if (n < 0 || (size_t)n >= sizeof(c->log_path))
		dm_die(DM_EXIT_COORD, "log file name too long (%s)", dir);
	int log = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		       0600);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (log < 0 || null < 0)
		dm_die(DM_EXIT_COORD, "cannot open the log (%s): %s",
		       c->log_path, strerror(errno));
	if (chdir("/") < 0)
		dm_die(DM_EXIT_COORD, "cannot chdir to /: %s", strerror(errno));
	dup2(null, 0);
	dup2(log, 1);
	dup2(log, 2);
	close(null);
	close(log);
	if (write(ready_fd, "", 1) != 1)
		dm_warn("the process that started us is gone");
	close(ready_fd);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Block the stop signals except inside ppoll(), so a signal can never
 * slip in between the check of stop_signal and the wait. */
static void setup_signals(sigset_t *poll_mask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, poll_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* --exit-on-last: no client left, none ever came within --timeout, and
 * no command connection still waits for an answer. */
static int done(struct coord *c, double now)
{
	if (!c->exit_on_last || c->nclients > 0 ||
	    c->ck.phase != COORD_PHASE_IDLE)
		return 0;
	for (int i = 0; i < c->nconns; i++) {
		if (!c->conns[i]->dead &&
		    c->conns[i]->role != COORD_ROLE_CLIENT)
			return 0;
	}
	if (c->had_client)
		return 1;
	return now - c->start >= c->timeout;
}

/* Milliseconds until the earliest deadline, at most 10 s. */
static int poll_timeout(struct coord *c, double now)
{
	double t = now + 10;

	if (c->ck.phase != COORD_PHASE_IDLE && c->ck.deadline < t)
		t = c->ck.deadline;
	if (c->ck.next_round > 0 && c->ck.next_round < t)
		t = c->ck.next_round;
	if (c->next_ckpt > 0 && c->next_ckpt < t)
		t = c->next_ckpt;
	if (c->kill_deadline > 0 && c->kill_deadline < t)
		t = c->kill_deadline;
	if (c->exit_on_last && !c->had_client && c->start + c->timeout < t)
		t = c->start + c->timeout;
	for (int i = 0; i < c->nconns; i++) {
		if (coord_conn_owes(c->conns[i]) &&
		    c->conns[i]->hello_deadline < t)
			t = c->conns[i]->hello_deadline;
	}
	return t <= now ? 0 : (int)((t - now) * 1000) + 1;
}

static void serve(struct coord *c, const sigset_t *poll_mask)
{
	struct pollfd *pf = NULL;
	size_t cap_pf = 0;

	while (!stop_signal) {
		double now = coord_now();
		if (done(c, now))
			break;
		if (dm_grow((void **)&pf, &cap_pf, (size_t)c->nconns + 1, sizeof(*pf)) < 0) {
			dm_err("cannot poll (port %d): out of memory", c->port);
			break;
		}
		pf[0] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
		for (int i = 0; i < c->nconns; i++)
			pf[i + 1] = (struct pollfd){ .fd = c->conns[i]->fd,
				.events = (short)(POLLIN |
				(c->conns[i]->out.len ? POLLOUT : 0)) };
		int nfds = c->nconns + 1;
		struct timespec ts;
		int ms = poll_timeout(c, now);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		if (ppoll(pf, (nfds_t)nfds, &ts, poll_mask) < 0 && errno != EINTR) {
			dm_err("poll (port %d): %s", c->port, strerror(errno));
			break;
		}
		/* Connections accepted below sit after index nfds - 1: they
		 * are polled from the next turn on. */
		for (int i = 0; i < nfds - 1; i++) {
			struct coord_conn *k = c->conns[i];
			short ev = pf[i + 1].revents;
			if (!k->dead && (ev & POLLOUT))
				coord_conn_writable(k);
			if (!k->dead && (ev & (POLLIN | POLLHUP | POLLERR)))
				coord_conn_readable(c, k);
		}
		if (pf[0].revents & POLLIN)
			coord_conn_accept(c);
		now = coord_now();
		coord_conn_check_hello(c, now);
		coord_ckpt_tick(c, now);
		coord_cmd_kill_tick(c, now);
		coord_conn_reap(c);
	}
	free(pf);
}

int main(int argc, char **argv)
{
	static struct coord c;
	struct options o = { 0 };
	sigset_t poll_mask;
	int ready_fd = -1;

	parse_options(argc, argv, &c, &o);
	find_bindir(&c);
	if (o.daemon)
		ready_fd = daemon_fork();
	listen_on(&c);
	if (o.port_file)
		write_port_file(&c, o.port_file);
	if (o.daemon)
		daemon_ready(&c, ready_fd);
	setup_signals(&poll_mask);
	c.start = coord_now();
	if (c.interval > 0)
		c.next_ckpt = c.start + c.interval;
	dm_info("coordinator listening on %s:%d (pid %d, ckptdir %s)", c.host,
		c.port, (int)getpid(), c.ckptdir);
	serve(&c, &poll_mask);
	if (stop_signal)
		dm_info("coordinator stopped by signal %d", (int)stop_signal);
	else
		dm_info("coordinator exiting: no clients left");
	if (c.ck.phase != COORD_PHASE_IDLE && c.ck.tmp[0])
		coord_discard(c.ck.tmp);
	coord_secret_remove(&c);
	return DM_EXIT_OK;
}
