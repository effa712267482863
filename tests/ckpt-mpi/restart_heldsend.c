/*
 * restart_heldsend.c - the application of tests/ckpt-mpi/restart_heldsend.sh.
 *
 *   restart_heldsend DIR
 *
 * A checkpoint while rank 1 is inside a blocking call whose 1 MiB send
 * (rendezvous under both MPIs) rank 0 has not received: rank 0 waits
 * outside MPI until the checkpoint is over.  One step per shape of that
 * call: MPI_Sendrecv between two MPI_Alloc_mem blocks (passed to the
 * real MPI in place), between malloc'ed buffers (staged), in place with
 * MPI_Sendrecv_replace, a plain MPI_Send and an MPI_Ssend.
 *
 * At each step rank 1 enters the call; rank 0 waits until MPI_Iprobe
 * sees its message (so the send has started), creates DIR/started.K,
 * for which the script asks for a checkpoint, and waits for that
 * checkpoint to be over; then it takes the message (and sends its own
 * for a Sendrecv).  A restarted process waits for no later checkpoint,
 * and a native run for none.  Each rank checks every int it received
 * and prints one line per step: "step K rank R SHAPE: ok" or how many
 * ints were wrong.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

enum { N = 1 << 18 }; /* ints: 1 MiB */

enum shape { SR_ALLOCMEM, SR_MALLOC, SR_REPLACE, SEND_MALLOC, SSEND_ALLOCMEM, NSHAPES };

static const char *const shape_name[NSHAPES] = {
	"Sendrecv between Alloc_mem blocks", "Sendrecv between malloc'ed buffers",
	"Sendrecv_replace in an Alloc_mem block", "Send from a malloc'ed buffer",
	"Ssend from an Alloc_mem block",
};

static int val(int step, int rank, int i)
{
	return step * 1000003 + rank * 7919 + i;
}

static int in_alloc_mem(enum shape s)
{
	return s == SR_ALLOCMEM || s == SR_REPLACE || s == SSEND_ALLOCMEM;
}

static int *get(enum shape s)
{
	void *p = NULL;

	if (in_alloc_mem(s)) {
		if (MPI_Alloc_mem(N * sizeof(int), MPI_INFO_NULL, &p) != MPI_SUCCESS)
			p = NULL;
	} else {
		p = malloc(N * sizeof(int));
	}
	if (!p)
		MPI_Abort(MPI_COMM_WORLD, 3);
	return p;
}

static void put(enum shape s, int *p)
{
	if (in_alloc_mem(s))
		MPI_Free_mem(p);
	else
		free(p);
}

/* Rank 1: the blocking call the checkpoint finds it in. */
static void sender(enum shape s, int *sb, int *rb)
{
	switch (s) {
	case SR_ALLOCMEM:
	case SR_MALLOC:
		MPI_Sendrecv(sb, N, MPI_INT, 0, s, rb, N, MPI_INT, 0, s, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
		break;
	case SR_REPLACE:
		MPI_Sendrecv_replace(sb, N, MPI_INT, 0, s, 0, s, MPI_COMM_WORLD,
				     MPI_STATUS_IGNORE);
		break;
	case SEND_MALLOC:
		MPI_Send(sb, N, MPI_INT, 0, s, MPI_COMM_WORLD);
		break;
	default:
		MPI_Ssend(sb, N, MPI_INT, 0, s, MPI_COMM_WORLD);
		break;
	}
}

/* Rank 0: once rank 1's send has started, the checkpoint (if one is
 * to come), then its side of the call. */
static void receiver(enum shape s, int *sb, int *rb, const char *dir, int watch)
{
	char name[32];
	int flag = 0;

	while (!flag) {
		MPI_Iprobe(1, s, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
		if (!flag)
			ra_pause_ms(1);
	}
	if (watch && !atomic_load(&ra_restarted)) {
		atomic_store(&ra_ckpt_over, 0);
		snprintf(name, sizeof(name), "started.%d", (int)s);
		ra_touch(dir, name);
		ra_wait_ckpt_over();
	}
	if (s == SEND_MALLOC || s == SSEND_ALLOCMEM)
		MPI_Recv(rb, N, MPI_INT, 1, s, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	else
		MPI_Sendrecv(sb, N, MPI_INT, 1, s, rb, N, MPI_INT, 1, s, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
}

static void step(enum shape s, int rank, const char *dir, int watch)
{
	int *sb = get(s), *rb = get(s), bad = 0;
	int sent_back = s != SEND_MALLOC && s != SSEND_ALLOCMEM;

	for (int i = 0; i < N; i++) {
		sb[i] = val(s, rank, i);
		rb[i] = -1;
	}
	if (rank == 1)
		sender(s, sb, rb);
	else
		receiver(s, sb, rb, dir, watch);
	/* Sendrecv_replace received into its send buffer. */
	const int *got = s == SR_REPLACE && rank == 1 ? sb : rb;
	if (rank == 0 || sent_back)
		for (int i = 0; i < N; i++)
			bad += got[i] != val(s, 1 - rank, i);
	if (bad)
		printf("step %d rank %d %s: %d wrong ints\n", (int)s, rank, shape_name[s], bad);
	else
		printf("step %d rank %d %s: ok\n", (int)s, rank, shape_name[s]);
	fflush(stdout);
	put(s, sb);
	put(s, rb);
}

int main(int argc, char **argv)
{
	int rank = ra_init_pair(&argc, &argv, 1, "restart_heldsend DIR");
	int watch = ra_watch_checkpoints();
	for (int s = 0; s < NSHAPES; s++)
		step((enum shape)s, rank, argv[1], watch);
	MPI_Finalize();
	return 0;
}
