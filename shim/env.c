/*
 * env.c - starting and ending MPI, and the environment queries.
 *
 * MPI_Init attaches the channel the launcher created (its fd is in
 * $DMTCP_MPI_CHAN_FD) and asks the proxy to initialise the real MPI.
 * Everything the application may ask before MPI_Init or after
 * MPI_Finalize (versions, Wtime, Initialized...) is answered here without
 * the proxy.
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/log.h"

#define SHIM_VERSION "0.1"

struct shim_state shim = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.world_rank = -1,
};

static int attach_channel(void)
{
	if (shim.attached)
		return 0;
	if (!getenv(CHAN_ENV_FD))
		dm_die(DM_EXIT_CHANNEL, "MPI_Init: no channel to a proxy (%s is not set): "
		       "start the program as: mpirun -n N dmtcp_mpi ./app", CHAN_ENV_FD);
	if (chan_attach_env(&shim.ch) < 0)
		_exit(DM_EXIT_CHANNEL);
	if (arena_init(&shim.arena, shim.ch.hdr->arena_size) < 0)
		dm_die(DM_EXIT_CHANNEL, "MPI_Init: out of memory for the arena table");
	shim.attached = 1;
	shim_heap_attach();
	return 0;
}

/* CALL_INIT: arg[0] requested thread level (ABI) -> arg[1] world rank,
 * arg[2] world size, inl the real library's version string, arg[3..6]
 * the real MPI_COMM_WORLD's predefined attributes (proxy/env.c). */
static int init(int required, int *provided, const char *fn)
{
	if (shim.initialized || shim.finalized) {
		dm_err("%s called twice (or after MPI_Finalize)", fn);
		_exit(DM_EXIT_MPI_FATAL);
	}
	attach_channel();
	shim_redc_limit_init();
	/* Before the proxy's MPI_Init, which may take long: a checkpoint
	 * meanwhile waits for it (ck_coll_seqs) instead of imaging a process
	 * half-way into MPI_Init, which no restart could go on from. */
	shim_ckpt_register();
	struct chan_call *c = shim_call_begin(CALL_INIT);
	c->arg[0] = required;
	int err = shim_call_run(c);
	if (err == MPI_SUCCESS) {
		shim.world_rank = (int)c->arg[1];
		shim.world_size = (int)c->arg[2];
		size_t n = c->inl_len < sizeof(shim.backend) ? c->inl_len
							     : sizeof(shim.backend) - 1;
		memcpy(shim.backend, c->inl, n);
		shim.backend[n] = '\0';
		shim.backend[strcspn(shim.backend, "\n")] = '\0';
	}
	int64_t attrs[7];
	memcpy(attrs, c->arg, sizeof(attrs));
	shim_call_end();
	if (err != MPI_SUCCESS) {
		dm_err("%s: the proxy could not initialise MPI (%s)", fn, shim_error_name(err));
		_exit(DM_EXIT_MPI_FATAL);
	}
	if (shim_comm_init_world(shim.world_rank, shim.world_size))
		dm_die(DM_EXIT_MPI_FATAL, "%s: out of memory", fn);
	shim_attr_init_world(attrs);
	/* Every level is offered; MULTIPLE changes how blocking calls wait
	 * (shim/mtwait.c), so it is given only to those who ask for it. */
	shim.thread_level = required < MPI_THREAD_MULTIPLE ? required : MPI_THREAD_MULTIPLE;
	if (shim.thread_level < MPI_THREAD_SINGLE)
		shim.thread_level = MPI_THREAD_SINGLE;
	if (provided)
		*provided = shim.thread_level;
	shim.main_thread = pthread_self();
	__atomic_store_n(&shim.initialized, 1, __ATOMIC_RELEASE);
	/* A collective like the application's first: checkpoints count it. */
	if (shim_ssend_init() != MPI_SUCCESS)
		dm_die(DM_EXIT_MPI_FATAL, "%s: cannot make the communicator of synchronous "
		       "sends' acknowledgements", fn);
	return MPI_SUCCESS;
}

/* The real MPI_Finalize, counted as WORLD's next collective (see
 * PMPI_Finalize). */
static int finalize_call(void)
{
	int err = shim_call_run(shim_call_begin_coll(CALL_FINALIZE,
						     shim_comm_get(MPI_COMM_WORLD)));
	/* Still holding the slot: an image is never taken between the
	 * answer and the flag (DRAIN waits for an idle slot). */
	shim.finalized = 1;
	shim_call_end();
	return err;
}

/* A restored application: MPI_Init again in its new proxy (possibly
 * another MPI), which must have the world the image was made in. */
int shim_env_reinit(void)
{
	struct chan_call *c = shim_call_begin(CALL_INIT);
	c->arg[0] = shim.thread_level;
	int err = shim_call_run(c);
	int rank = (int)c->arg[1], size = (int)c->arg[2];
	size_t n = c->inl_len < sizeof(shim.backend) ? c->inl_len : sizeof(shim.backend) - 1;
	memcpy(shim.backend, c->inl, n);
	shim.backend[n] = '\0';
	shim.backend[strcspn(shim.backend, "\n")] = '\0';
	shim_call_end();
	if (err != MPI_SUCCESS)
		return err;
	if (size != shim.world_size || rank != shim.world_rank) {
		dm_err("restart: this image is rank %d of %d but was started as rank %d of %d: "
		       "restart with mpirun -n %d", shim.world_rank, shim.world_size, rank, size,
		       shim.world_size);
		return MPI_ERR_OTHER;
	}
	/* An image taken after MPI_Finalize: the new proxy ends MPI again at
	 * once, with every other rank (MPI_Finalize is a collective, so the
	 * images of a job are all finalized or none), and the launcher sees
	 * the finalized end it expects. */
	if (shim.finalized)
		return finalize_call();
	return MPI_SUCCESS;
}

int PMPI_Init(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return init(MPI_THREAD_SINGLE, NULL, "MPI_Init");
}
SHIM_WEAK(Init)

int PMPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
	(void)argc;
	(void)argv;
	return init(required, provided, "MPI_Init_thread");
}
SHIM_WEAK(Init_thread)

int PMPI_Finalize(void)
{
	shim_require_init("MPI_Finalize");
	/* As if MPI_COMM_SELF were freed first (the standard), then WORLD:
	 * their attributes' delete callbacks run while MPI still works. */
	shim_attr_comm_delete_all(MPI_COMM_SELF);
	shim_attr_comm_delete_all(MPI_COMM_WORLD);
	shim_bsend_flush();
	shim_req_reap(1);
	/* The real MPI_Finalize waits for the other ranks inside the proxy,
	 * where no checkpoint can PARK it (restart_fin.sh: a rank finalizing
	 * while another computed made every checkpoint time out in PARK).
	 * So wait for them in a Barrier, which a checkpoint holds this rank
	 * in while the others catch up, and count the real call as WORLD's
	 * next collective: it starts on no rank, or on all (a checkpoint
	 * that finds one inside admits the others).  The proxy stays after
	 * it (proxy/loop.c), so a checkpoint that comes later is answered. */
	if (!shim_ck_no_bookkeeping)
		PMPI_Barrier(MPI_COMM_WORLD);
	int err = finalize_call();

	return shim_error(MPI_COMM_WORLD, err, "MPI_Finalize", NULL);
}
SHIM_WEAK(Finalize)

int PMPI_Initialized(int *flag)
{
	*flag = shim.initialized;
	return MPI_SUCCESS;
}
SHIM_WEAK(Initialized)

int PMPI_Finalized(int *flag)
{
	*flag = shim.finalized;
	return MPI_SUCCESS;
}
SHIM_WEAK(Finalized)

/* CALL_ABORT: arg[0] comm, arg[1] error code.  Does not come back when
 * the real MPI_Abort works; we end ourselves in case it does not. */
int PMPI_Abort(MPI_Comm comm, int errorcode)
{
	if (shim.initialized && !shim.finalized) {
		struct chan_call *c = shim_call_begin(CALL_ABORT);
		c->arg[0] = (int64_t)(intptr_t)comm;
		c->arg[1] = errorcode;
		shim_call_run(c);
	}
	_exit(errorcode & 0xff ? errorcode & 0xff : 1);
}
SHIM_WEAK(Abort)

int PMPI_Get_version(int *version, int *subversion)
{
	*version = MPI_VERSION;
	*subversion = MPI_SUBVERSION;
	return MPI_SUCCESS;
}
SHIM_WEAK(Get_version)

int PMPI_Abi_get_version(int *abi_major, int *abi_minor)
{
	*abi_major = MPI_ABI_VERSION;
	*abi_minor = MPI_ABI_SUBVERSION;
	return MPI_SUCCESS;
}
SHIM_WEAK(Abi_get_version)

int PMPI_Get_library_version(char *version, int *resultlen)
{
	int n = snprintf(version, MPI_MAX_LIBRARY_VERSION_STRING,
			 "dmtcp_mpi %s (MPI-%d.%d standard ABI %d.%d)%s%s",
			 SHIM_VERSION, MPI_VERSION, MPI_SUBVERSION, MPI_ABI_VERSION,
			 MPI_ABI_SUBVERSION, shim.backend[0] ? " over " : "",
			 shim.backend);
	*resultlen = n < MPI_MAX_LIBRARY_VERSION_STRING ? n
						       : MPI_MAX_LIBRARY_VERSION_STRING - 1;
	return MPI_SUCCESS;
}
SHIM_WEAK(Get_library_version)

int PMPI_Get_processor_name(char *name, int *resultlen)
{
	if (gethostname(name, MPI_MAX_PROCESSOR_NAME) < 0)
		strcpy(name, "localhost");
	name[MPI_MAX_PROCESSOR_NAME - 1] = '\0';
	*resultlen = (int)strlen(name);
	return MPI_SUCCESS;
}
SHIM_WEAK(Get_processor_name)

/* Wall-clock time: it stays meaningful across a checkpoint and a restart
 * on another node, which a monotonic clock would not. */
double PMPI_Wtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
SHIM_WEAK(Wtime)

double PMPI_Wtick(void)
{
	struct timespec res;

	clock_getres(CLOCK_REALTIME, &res);
	return (double)res.tv_sec + (double)res.tv_nsec * 1e-9;
}
SHIM_WEAK(Wtick)

int PMPI_Query_thread(int *provided)
{
	*provided = shim.thread_level;
	return MPI_SUCCESS;
}
SHIM_WEAK(Query_thread)

int PMPI_Is_thread_main(int *flag)
{
	*flag = pthread_equal(pthread_self(), shim.main_thread);
	return MPI_SUCCESS;
}
SHIM_WEAK(Is_thread_main)

MPI_Aint PMPI_Aint_add(MPI_Aint base, MPI_Aint disp)
{
	return base + disp;
}
SHIM_WEAK(Aint_add)

MPI_Aint PMPI_Aint_diff(MPI_Aint addr1, MPI_Aint addr2)
{
	return addr1 - addr2;
}
SHIM_WEAK(Aint_diff)
