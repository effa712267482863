/*
 * restart_late.c - the application of tests/ckpt-mpi/restart_late.sh.
 *
 *   restart_late DIR STEPS
 *
 * A communicator made after the checkpoint's INTENT: no rank reported
 * its sequence numbers, so its collectives have no target, and none may
 * start until the checkpoint is over.  Admitted freely instead (what the
 * shim did before 5eb516e), the ranks can leave it at different places
 * in the image: a Bcast root finishes on its eager sends alone, the data
 * goes with the old proxy, and after a restart the receiver waits in a
 * Bcast the root has left (ckpt_all's coll_basic hang, seed 70137: ranks
 * inside their split's Bcasts between TARGETS and PARK).
 *
 * Step after step, the ranks Bcast a value from a root that moves and
 * Allreduce another, and append what they got to DIR/out.<rank>.  At
 * step STEPS/4 + 1 they make the communicator the steps use from then
 * on, a dup of WORLD, and the checkpoint comes in the middle of it: rank
 * 0 enters the Comm_dup, and a thread of its own (no MPI calls) creates
 * DIR/started a moment later, so the checkpoint finds rank 0 inside it;
 * rank 1 enters it only once DIR/go exists, which restart_app.sh creates
 * when the coordinator waits in TARGETS for it.  Then rank 0 at once
 * Bcasts NB values from root 0 on the new communicator and waits,
 * outside MPI, until a checkpoint is over, while rank 1 waits for that
 * before it receives them.  A native run (no engine) waits for nothing.
 */
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>

#include "restart_app.h"

#define NB 8               /* Bcasts from rank 0 right after the dup */
#define STARTED_AFTER_MS 300

struct starter {
	const char *dir;
	atomic_int entering;   /* rank 0 is about to enter the Comm_dup */
};

/* Say "started" once rank 0's main thread has surely entered the dup:
 * it cannot say so itself from inside a blocking call. */
static void *say_started(void *arg)
{
	struct starter *s = arg;

	while (!atomic_load(&s->entering))
		ra_pause_ms(1);
	ra_pause_ms(STARTED_AFTER_MS);
	ra_touch(s->dir, "started");
	return NULL;
}

/* The step that makes the communicator, with the checkpoint inside;
 * *h sums up the Bcasts. */
static MPI_Comm make_late(const char *dir, int rank, int engine, long *h)
{
	struct starter s = { dir, 0 };
	pthread_t t;
	MPI_Comm late;
	long v[NB];

	if (engine && rank == 0 && pthread_create(&t, NULL, say_started, &s) != 0)
		MPI_Abort(MPI_COMM_WORLD, 3);
	if (engine && rank == 1)
		ra_wait_file(dir, "go");
	atomic_store(&s.entering, 1);
	MPI_Comm_dup(MPI_COMM_WORLD, &late);
	if (engine && rank == 0)
		pthread_join(t, NULL);
	if (engine && rank == 1)
		ra_wait_ckpt_over();
	for (int i = 0; i < NB; i++) {
		v[i] = rank == 0 ? 1000 + i * 7 : -1;
		MPI_Bcast(&v[i], 1, MPI_LONG, 0, late);
	}
	if (engine && rank == 0)
		ra_wait_ckpt_over();
	for (int i = 0; i < NB; i++)
		*h = *h * 31 + v[i];
	return late;
}

int main(int argc, char **argv)
{
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_late DIR STEPS (2 ranks)");
	int fd = ra_open_out(argv[1], rank);
	int engine = ra_watch_checkpoints();
	MPI_Comm comm = MPI_COMM_WORLD;

	for (long s = 1; s <= steps; s++) {
		long late = 0;
		if (s == steps / 4 + 1)
			comm = make_late(argv[1], rank, engine, &late);
		long root_val = s * 11 + rank, mine = s * (rank + 3), sum = 0;
		MPI_Bcast(&root_val, 1, MPI_LONG, (int)(s % size), comm);
		MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, comm);
		dprintf(fd, "step %ld bcast %ld sum %ld late %ld\n", s, root_val, sum, late);
		ra_pause_ms(rank == 1 ? 10 : 5);
	}
	if (comm != MPI_COMM_WORLD)
		MPI_Comm_free(&comm);
	close(fd);
	MPI_Finalize();
	return 0;
}
