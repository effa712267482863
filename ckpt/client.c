/*
 * client.c - the engine's coordinator client thread (see client.h).
 *
 * Life of the thread:
 *   connect -> (no answer on a local address: start a coordinator, retry
 *   with backoff for about 5 s) -> HELLO with the secret -> REGISTER ->
 *   serve: PHASE(INTENT | TARGETS | PARK | DRAIN) -> the MPI shim's ops
 *   -> PHASE_DONE(pairs, counts) | PHASE(WRITE) -> ck_checkpoint() ->
 *   PHASE_DONE(image path, size, CRC-32C) | PHASE(RESUME) | KILL.
 * A WRITE with hold (--checkpoint-and-exit) leaves the application's
 * threads stopped after the image is written, until RESUME (the
 * checkpoint failed elsewhere) or KILL: nothing runs past the image.
 * The ops are taken once per checkpoint, at INTENT, so a shim that
 * registers half-way through one is left alone until the next; a
 * checkpoint that reached the shim always ends with ops->resume(), even
 * when it failed or the coordinator went away in the middle of it.
 * When ck_checkpoint() returns CK_RESTARTED we are a restored process:
 * ops->restart() rebuilds the MPI side, and since the socket we had
 * belongs to a coordinator of the past, the thread connects and
 * registers all over again.  If the coordinator cannot be reached or goes
 * away, one line is printed and the thread ends; the application itself
 * always goes on.
 *
 * The thread blocks every signal, so the application's signals (and our
 * own SIGTERM on KILL) go to the application's threads.
 */
#include "ckpt/client.h"
#include "ckpt/ckpt.h"
#include "coordinator/proto.h"
#include "util/crc32c.h"
#include "util/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_PATIENCE_S 5.0   /* total retry time, spawn included */
#define SPAWN_ERR_MAX      (COORD_PATH_MAX + 1024)

extern char **environ;

/* The socket to the coordinator; -1 when none.  Written by the client
 * thread, read by the fork handler in a child. */
static volatile int client_fd = -1;
static int restarts;             /* restarts of this process so far */

/* Registered by the shim (any thread); read by the client thread. */
static const struct ck_mpi_ops *mpi_ops;

/* The checkpoint in progress, as this client sees it. */
static struct {
	const struct ck_mpi_ops *ops;  /* taken at INTENT; NULL: no MPI */
	uint32_t gen;                  /* ... of this checkpoint */
	int owed;                      /* resume() is owed */
} session;

/* The application's threads are stopped since a WRITE with hold. */
static int holding;

/* CLOCK_MONOTONIC milliseconds at which the phase being served times
 * out; 0 when none is. */
static int64_t phase_end_ms;

/* A PHASE with the most pairs, and the answer with the most pairs. */
static _Alignas(8) unsigned char in_buf[sizeof(struct coord_phase_msg) +
	COORD_MAX_PAIRS * sizeof(struct coord_pair)];
static _Alignas(8) unsigned char out_buf[sizeof(struct coord_phase_done) +
	COORD_MAX_PAIRS * sizeof(struct coord_pair)];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------- checksum */

/* Size and CRC-32C of the file at path; 0, or -1 with the reason. */
static int checksum_file(const char *path, uint64_t *size, uint32_t *crc,
			 char *why, size_t len)
{
	const size_t bufsz = 1 << 20;
	/* mmap, not malloc: the buffer must not linger in the heap that the
	 * next image will contain. */
	unsigned char *buf = mmap(NULL, bufsz, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	*size = 0;
	*crc = 0;
	if (buf != MAP_FAILED && fd >= 0) {
		while ((n = read(fd, buf, bufsz)) > 0) {
			*crc = dm_crc32c(*crc, buf, (size_t)n);
			*size += (uint64_t)n;
		}
	}
	int failed = buf == MAP_FAILED || fd < 0 || n < 0;
	if (failed)
		snprintf(why, len, "cannot read back %.160s: %s", path,
			 strerror(errno));
	if (fd >= 0)
		close(fd);
	if (buf != MAP_FAILED)
		munmap(buf, bufsz);
	return failed ? -1 : 0;
}

/* ---------------------------------------------------------- identity */

static int env_int(const char *name, int def, int min)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return def;
	long v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > 1 << 30)
		return -1;
	return (int)v;
}

/* Who we are; 0, or -1 (one line printed) for a bad rank setting. */
static int identify(struct coord_register *r)
{
	const char *mpi = getenv("DMTCP_MPI_MPI");

	memset(r, 0, sizeof(*r));
	r->pid = (int32_t)getpid();
	r->rank = env_int("DMTCP_MPI_RANK", 0, 0);
	r->nranks = env_int("DMTCP_MPI_NRANKS", 1, 1);
	r->restarts = restarts;
	if (r->rank < 0 || r->nranks < 1 || r->rank >= r->nranks) {
		dm_err("bad rank for the coordinator (DMTCP_MPI_RANK=%s, "
		       "DMTCP_MPI_NRANKS=%s): this process cannot be "
		       "checkpointed", getenv("DMTCP_MPI_RANK"),
		       getenv("DMTCP_MPI_NRANKS"));
		return -1;
	}
	if (gethostname(r->host, sizeof(r->host) - 1) < 0)
		snprintf(r->host, sizeof(r->host), "?");
	snprintf(r->program, sizeof(r->program), "%s",
		 program_invocation_short_name);
	snprintf(r->mpi, sizeof(r->mpi), "%s", mpi && *mpi ? mpi : "none");
	return 0;
}

/* ---------------------------------------------------------- auto-start */

/* Starting a coordinator for a remote address would start it in the
 * wrong place. */
static int host_is_local(const char *host)
{
	char me[256];

	if (strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 ||
	    strcmp(host, "::1") == 0)
		return 1;
	return gethostname(me, sizeof(me)) == 0 && strcmp(host, me) == 0;
}

/* <dir of the library we are in>/../bin/dmtcp_mpi_coordinator */
static int coordinator_path(char *out, size_t len)
{
	Dl_info info;

	if (!dladdr((void *)ck_client_start, &info) || !info.dli_fname)
		return -1;
	const char *slash = strrchr(info.dli_fname, '/');
	int dirlen = slash ? (int)(slash - info.dli_fname) : 1;
	const char *dir = slash ? info.dli_fname : ".";
	int n = snprintf(out, len, "%.*s/../bin/dmtcp_mpi_coordinator",
			 dirlen, dir);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Our environment minus LD_PRELOAD: the coordinator must not load the
 * engine and become a client of itself. */
static char **coordinator_env(void)
{
	size_t n = 0, j = 0;

	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof(*env));
	for (size_t i = 0; env && i < n; i++) {
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[j++] = environ[i];
	}
	return env;
}

/* Read the coordinator's error output until it closes (it does once
 * listening, or on exit), for at most the time left. */
static void collect(int fd, char *out, size_t len, double deadline)
{
	size_t got = strlen(out);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ms = (int)((deadline - now_s()) * 1000);
		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			return;
		char tmp[256];
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n <= 0)
			return;
		size_t keep = (size_t)n < len - 1 - got ? (size_t)n
							 : len - 1 - got;
		memcpy(out + got, tmp, keep);
		got += keep;
		out[got] = '\0';
	}
}

/* Start `dmtcp_mpi_coordinator --daemon --exit-on-last` for host:port and
 * wait until it listens or gives up.  Its error output is kept in err and
 * shown only if we fail to connect in the end: losing the race to bind
 * against another rank's coordinator is normal. */
static void spawn_coordinator(const char *host, int port, char *err,
			      size_t errlen, double deadline)
{
	char path[COORD_PATH_MAX], portstr[16];
	const char *dir = getenv("DMTCP_MPI_CKPTDIR");
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid;

	err[0] = '\0';
	if (coordinator_path(path, sizeof(path)) < 0) {
		snprintf(err, errlen, "dmtcp_mpi: error: cannot find "
			 "dmtcp_mpi_coordinator next to the engine library\n");
		return;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	char *argv[] = { path, "--daemon", "--exit-on-last", "--host",
			 (char *)host, "--port", portstr, "--ckptdir",
			 (char *)(dir && *dir ? dir : "ckpt"), NULL };
	char **env = coordinator_env();
	if (!env || pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "dmtcp_mpi: error: cannot start %s: %s\n",
			 path, strerror(env ? errno : ENOMEM));
		free(env);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	/* We run beside the application's threads: any fd it has open without
	 * O_CLOEXEC right now (a shell's command-substitution pipe, the
	 * channel) would live on in the daemon, and a reader of that pipe
	 * would wait for an EOF that never comes. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	int rc = posix_spawn(&pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	close(p[1]);
	if (rc != 0)
		snprintf(err, errlen, "dmtcp_mpi: error: cannot start %s: %s\n",
			 path, strerror(rc));
	else
		collect(p[0], err, errlen, deadline);
	close(p[0]);
	/* The daemon's first process exits once the real one listens.  The
	 * application may reap it first (SIGCHLD ignored, wait(-1)): fine. */
	if (rc == 0)
		waitpid(pid, NULL, 0);
}

/* ---------------------------------------------------------- connect */

/* Connect, authenticate and register.  The socket, or -1 after one error
 * line (the thread then ends and the process runs uncheckpointable). */
static int connect_and_register(void)
{
	const char *host = getenv("DMTCP_MPI_COORD_HOST");
	int port = env_int("DMTCP_MPI_COORD_PORT", COORD_DEFAULT_PORT, 1);
	char spawn_err[SPAWN_ERR_MAX] = "", err[COORD_PATH_MAX + 128];
	uint8_t secret[COORD_SECRET_LEN];
	struct coord_register reg;
	double deadline = now_s() + CONNECT_PATIENCE_S;
	long delay = 10;
	int fd, spawned = 0;

	if (!host || !*host)
		host = COORD_DEFAULT_HOST;
	if (port < 1 || port > 65535) {
		dm_err("bad coordinator port (DMTCP_MPI_COORD_PORT=%s): this "
		       "process cannot be checkpointed",
		       getenv("DMTCP_MPI_COORD_PORT"));
		return -1;
	}
	if (identify(&reg) < 0)
		return -1;
	while ((fd = coord_connect(host, port, 1000)) < 0) {
		int e = errno;
		if (e == ECONNREFUSED && !spawned && host_is_local(host)) {
			spawned = 1;
			spawn_coordinator(host, port, spawn_err,
					  sizeof(spawn_err), deadline);
			continue;
		}
		if (now_s() >= deadline) {
			if (spawn_err[0] && write(2, spawn_err,
						  strlen(spawn_err)) < 0)
				e = errno;
			dm_err("cannot reach the coordinator (%s:%d): %s; this "
			       "process cannot be checkpointed", host, port,
			       strerror(e));
			return -1;
		}
		sleep_ms(delay);
		delay = delay * 2 > 500 ? 500 : delay * 2;
	}
	if (coord_secret_load(secret, host, port, err, sizeof(err)) < 0 ||
	    coord_hello(fd, secret, COORD_ROLE_CLIENT, err, sizeof(err)) < 0) {
		dm_err("the coordinator did not accept us (%s:%d): %s; this "
		       "process cannot be checkpointed", host, port, err);
		close(fd);
		return -1;
	}
	if (coord_send(fd, COORD_MSG_REGISTER, &reg, sizeof(reg)) < 0) {
		dm_err("cannot register with the coordinator (%s:%d): %s; this "
		       "process cannot be checkpointed", host, port,
		       strerror(errno));
		close(fd);
		return -1;
	}
	client_fd = fd;
	return fd;
}

/* ---------------------------------------------------------- serve */

enum serve_end { SERVE_GO_ON, SERVE_LOST, SERVE_RESTARTED };

int ck_client_register_mpi(const struct ck_mpi_ops *ops)
{
	__atomic_store_n(&mpi_ops, ops, __ATOMIC_RELEASE);
	return 0;
}

int ck_client_phase_left_ms(void)
{
	int64_t end = __atomic_load_n(&phase_end_ms, __ATOMIC_RELAXED);

	if (end == 0)
		return 0;
	int64_t left = end - (int64_t)(now_s() * 1000);
	return left > 0 ? (int)(left < 1 << 30 ? left : 1 << 30) : 0;
}

/* The application goes on (threads held since WRITE first, then the MPI
 * side): after a finished or failed checkpoint, or when the coordinator
 * is gone. */
static void mpi_resume(void)
{
	ck_release();
	holding = 0;
	if (session.owed && session.ops)
		session.ops->resume();
	session.owed = 0;
}

/* PHASE(WRITE): write our image into d.  SERVE_RESTARTED if we return
 * from ck_checkpoint() as the restored process. */
static enum serve_end write_image(int fd, const struct coord_phase_msg *ph,
				  struct coord_phase_done *d)
{
	char name[32];
	/* Image options from the launcher (--compress, --fork-ckpt). */
	struct ck_opts o = { .dir = ph->dir, .name = name,
			     .zstd_level = env_int("DMTCP_MPI_COMPRESS", 1, 0),
			     .fork_ckpt = env_int("DMTCP_MPI_FORK_CKPT", 0, 0),
			     .hold = ph->hold != 0 };

	snprintf(name, sizeof(name), "rank%d",
		 env_int("DMTCP_MPI_RANK", 0, 0));
	int r = ck_checkpoint(&o, d->path, sizeof(d->path));
	if (r == CK_RESTARTED) {
		/* The old socket is gone.  Close the number only if it is
		 * still a socket: after a restore it may be anything. */
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
			close(fd);
		client_fd = -1;
		restarts++;
		/* The MPI state in the image belongs to a job that is gone;
		 * the shim attaches to the new proxy, whether or not it took
		 * part in this checkpoint's MPI phases. */
		const struct ck_mpi_ops *ops =
			__atomic_load_n(&mpi_ops, __ATOMIC_ACQUIRE);
		session.owed = 0;
		if (ops)
			ops->restart();
		return SERVE_RESTARTED;
	}
	holding = r == CK_WRITTEN && o.hold;
	if (r == CK_WRITTEN)
		d->ok = checksum_file(d->path, &d->size, &d->crc, d->reason,
				      sizeof(d->reason)) == 0;
	else
		snprintf(d->reason, sizeof(d->reason), "the engine could not "
			 "write the image (see the rank's error output)");
	return SERVE_GO_ON;
}

/* INTENT .. DRAIN through the shim's ops (none registered: nothing to
 * report).  Fills d; 0, or -1 with d->reason. */
static int mpi_phase(const struct coord_phase_msg *ph,
		     struct coord_phase_done *d)
{
	const struct ck_mpi_ops *ops;

	if (ph->phase == COORD_PHASE_INTENT) {
		mpi_resume();   /* a checkpoint we never heard the end of */
		session.ops = __atomic_load_n(&mpi_ops, __ATOMIC_ACQUIRE);
		session.gen = ph->gen;
	}
	ops = session.gen == ph->gen ? session.ops : NULL;
	if (!ops)
		return 0;
	switch (ph->phase) {
	case COORD_PHASE_INTENT: {
		/* From here on the shim knows a checkpoint is coming (its
		 * threads may stop at their targets): resume() is owed. */
		session.owed = 1;
		int n = ops->coll_seqs((int64_t *)(d + 1), COORD_MAX_PAIRS);
		if (n < 0 || n > COORD_MAX_PAIRS) {
			snprintf(d->reason, sizeof(d->reason), "the MPI shim "
				 "cannot report its collective sequence "
				 "numbers");
			return -1;
		}
		d->npairs = (uint32_t)n;
		return 0;
	}
	case COORD_PHASE_TARGETS: {
		int r = ops->reach_targets((const int64_t *)(ph + 1),
					   (int)ph->npairs);
		if (r == 0)
			return 0;
		/* Stuck below a target: the numbers now include the
		 * collectives it waits to enter, the coordinator's raise. */
		int n = r == 1 ? ops->coll_seqs((int64_t *)(d + 1),
						COORD_MAX_PAIRS) : -1;
		if (n >= 0 && n <= COORD_MAX_PAIRS) {
			d->npairs = (uint32_t)n;
			return 0;
		}
		snprintf(d->reason, sizeof(d->reason), "the application did "
			 "not reach its collective targets");
		return -1;
	}
	case COORD_PHASE_PARK:
		if (ops->park() == 0)
			return 0;
		snprintf(d->reason, sizeof(d->reason), "the MPI shim could not "
			 "park the application");
		return -1;
	case COORD_PHASE_DRAIN:
		if (ops->drain(&d->sent, &d->recvd) == 0)
			return 0;
		snprintf(d->reason, sizeof(d->reason), "the MPI shim could not "
			 "drain messages in flight (round %u)", ph->round);
		return -1;
	default:
		return 0;
	}
}

/* One PHASE message (n body bytes in in_buf): act, and answer every
 * phase but RESUME. */
static enum serve_end serve_phase(int fd, long n)
{
	const struct coord_phase_msg *ph = (const void *)in_buf;
	struct coord_phase_done *d = (void *)out_buf;
	enum serve_end r = SERVE_GO_ON;

	if ((size_t)n < sizeof(*ph) || ph->npairs > COORD_MAX_PAIRS ||
	    (size_t)n != sizeof(*ph) + ph->npairs * sizeof(struct coord_pair))
		return SERVE_LOST;
	if (ph->phase == COORD_PHASE_RESUME) {
		mpi_resume();
		return SERVE_GO_ON;
	}
	if (ph->phase < COORD_PHASE_INTENT || ph->phase > COORD_PHASE_WRITE)
		return SERVE_LOST;
	((struct coord_phase_msg *)in_buf)->dir[sizeof(ph->dir) - 1] = '\0';
	memset(d, 0, sizeof(*d));
	d->phase = ph->phase;
	d->gen = ph->gen;
	d->round = ph->round;
	__atomic_store_n(&phase_end_ms, (int64_t)(now_s() * 1000) +
			 ph->timeout_ms, __ATOMIC_RELAXED);
	if (ph->phase == COORD_PHASE_WRITE)
		r = write_image(fd, ph, d);
	else
		d->ok = mpi_phase(ph, d) == 0;
	__atomic_store_n(&phase_end_ms, 0, __ATOMIC_RELAXED);
	if (r != SERVE_GO_ON)
		return r;
	size_t len = sizeof(*d) + d->npairs * sizeof(struct coord_pair);
	return coord_send(fd, COORD_MSG_PHASE_DONE, d, (uint32_t)len) < 0 ?
		SERVE_LOST : SERVE_GO_ON;
}

/* KILL: end the process as a user would, then for sure.  With the
 * threads held since WRITE, at once: a SIGTERM handler of the
 * application would run past the image (and could wait for ever on a
 * lock a stopped thread holds). */
static void kill_self(void)
{
	if (holding)
		kill(getpid(), SIGKILL);
	kill(getpid(), SIGTERM);
	sleep_ms(COORD_KILL_GRACE_S * 1000L);
	kill(getpid(), SIGKILL);
}

static enum serve_end serve(int fd)
{
	struct coord_hdr h;

	for (;;) {
		long n = coord_recv(fd, &h, in_buf, sizeof(in_buf));
		if (n < 0)
			break;
		if (h.type == COORD_MSG_KILL) {
			kill_self();
			continue;
		}
		enum serve_end r = h.type == COORD_MSG_PHASE ?
			serve_phase(fd, n) : SERVE_LOST;
		if (r == SERVE_RESTARTED)
			return r;
		if (r == SERVE_LOST)
			break;
	}
	close(fd);
	client_fd = -1;
	/* Nobody will tell us the outcome now: let the application go. */
	mpi_resume();
	return SERVE_LOST;
}

static void *client_main(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	for (;;) {
		int fd = connect_and_register();
		if (fd < 0)
			return NULL;
		if (serve(fd) == SERVE_LOST)
			break;
	}
	dm_warn("lost the coordinator: this process (pid %d) can no longer "
		"be checkpointed", (int)getpid());
	return NULL;
}

/* A forked child has no client thread; its copy of the socket would only
 * hide our death from the coordinator. */
static void atfork_child(void)
{
	if (client_fd >= 0)
		close(client_fd);
	client_fd = -1;
}

int ck_client_start(void)
{
	static int started;
	pthread_attr_t attr;
	pthread_t tid;

	if (__atomic_exchange_n(&started, 1, __ATOMIC_SEQ_CST))
		return 0;
	pthread_atfork(NULL, NULL, atfork_child);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&tid, &attr, client_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		dm_err("cannot start the coordinator client thread (pid %d): "
		       "%s", (int)getpid(), strerror(rc));
		return -1;
	}
	return 0;
}
