/*
 * restart_nbc.c - the application of tests/ckpt-mpi/restart_nbc.sh.
 *
 *   restart_nbc DIR STEPS
 *
 * Step after step: start an Iallreduce on WORLD, an Ibcast on a dup of
 * WORLD from a root that moves, and an Ialltoallv on WORLD whose counts
 * change with the step, then "compute" (sleep) with the three left
 * outstanding, poll them once with Testall, and Waitall.  Rank 1 starts
 * its collectives later than rank 0, so a checkpoint usually finds rank 0
 * with collectives pending that rank 1 has not started: rank 1 must catch
 * up to the targets, DRAIN must complete them, and the Waitall after a
 * resume or a restart (where the new proxy never saw them) must return
 * their results.  Each rank appends what it got to DIR/out.<rank>, as
 * restart_ring.c does, so a restarted run must leave the files of one
 * that never stopped.
 */
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAXR 8

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int rank, size;
	char path[4096];
	MPI_Comm dup;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc != 3 || size > MAXR) {
		fprintf(stderr, "usage: restart_nbc DIR STEPS (at most %d ranks)\n", MAXR);
		MPI_Abort(MPI_COMM_WORLD, 64);
	}
	long steps = atol(argv[2]);
	snprintf(path, sizeof(path), "%s/out.%d", argv[1], rank);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0) {
		perror(path);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	MPI_Comm_dup(MPI_COMM_WORLD, &dup);
	for (long s = 1; s <= steps; s++) {
		long mine = s * (rank + 3), sum = 0, root_val = s * 11 + rank;
		int sc[MAXR], sd[MAXR], rc[MAXR], rd[MAXR], at = 0, rat = 0;
		long sbuf[3 * MAXR], rbuf[3 * MAXR];
		MPI_Request rq[3];
		MPI_Status st[3];

		/* to rank d: (s + rank + d) % 3 + 1 longs */
		for (int d = 0; d < size; d++) {
			sc[d] = (int)((s + rank + d) % 3) + 1;
			sd[d] = at;
			at += sc[d];
			rc[d] = (int)((s + d + rank) % 3) + 1;
			rd[d] = rat;
			rat += rc[d];
		}
		for (int i = 0; i < at; i++)
			sbuf[i] = s * 100 + rank * 10 + i;
		for (int i = 0; i < rat; i++)
			rbuf[i] = -1;
		if (rank == 1)
			pause_ms(15);
		MPI_Iallreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &rq[0]);
		MPI_Ibcast(&root_val, 1, MPI_LONG, (int)(s % size), dup, &rq[1]);
		MPI_Ialltoallv(sbuf, sc, sd, MPI_LONG, rbuf, rc, rd, MPI_LONG, MPI_COMM_WORLD,
			       &rq[2]);
		pause_ms(rank == 1 ? 5 : 20);
		int flag = 0;
		MPI_Testall(3, rq, &flag, st);
		MPI_Waitall(3, rq, st);
		long h = 0;
		for (int i = 0; i < rat; i++)
			h = h * 31 + rbuf[i];
		dprintf(fd, "step %ld sum %ld bcast %ld alltoallv %d %ld\n", s, sum, root_val,
			rat, h);
	}
	MPI_Comm_free(&dup);
	close(fd);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
