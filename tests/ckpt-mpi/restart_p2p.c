/*
 * restart_p2p.c - the application of tests/ckpt-mpi/restart_p2p.sh.
 *
 *   restart_p2p DIR STEPS
 *
 * The requests of shim/persist.c, bsend.c and mprobe.c across a
 * checkpoint.  Made once before the first step: a persistent receive
 * from the left neighbour and a persistent send to the right one, and an
 * attached send buffer.  The persistent receive lands in a column (3
 * ints 8 KiB apart: a sparse type, which the shim stages packed).  Each
 * step starts the receive and pauses with it
 * active (a checkpoint then finds it posted: it must be reposted under
 * the same handle in the new proxy), starts the send, waits for both;
 * then it buffered-sends a second message to the right, matches the one
 * from the left with MPI_Mprobe and pauses holding it (a checkpoint then
 * finds a matched message not yet received: it must not be lost) before
 * MPI_Mrecv.  Between steps both persistent requests are inactive, a
 * checkpoint there keeps only their records.  Each rank appends what it
 * received to DIR/out.<rank>; an interrupted run must leave the same
 * files as one that never was.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

int main(int argc, char **argv)
{
	enum { STRIDE = 2048 };
	static int rv[2 * STRIDE + 1];
	int rank, size, sv[3], bs[2], br[2], bsize;
	MPI_Request pr, ps;
	MPI_Datatype col;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, 1, "restart_p2p DIR STEPS");
	FILE *f = ra_fopen_out(argv[1], rank);
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	MPI_Type_vector(3, 1, STRIDE, MPI_INT, &col);
	MPI_Type_commit(&col);
	MPI_Recv_init(rv, 1, col, left, 3, MPI_COMM_WORLD, &pr);
	MPI_Send_init(sv, 3, MPI_INT, right, 3, MPI_COMM_WORLD, &ps);
	MPI_Pack_size(2, MPI_INT, MPI_COMM_WORLD, &bsize);
	bsize = 4 * (bsize + MPI_BSEND_OVERHEAD);
	void *buffer = malloc((size_t)bsize);
	MPI_Buffer_attach(buffer, bsize);

	for (long s = 0; s < steps; s++) {
		MPI_Message msg;
		MPI_Status st;
		int n = -1;

		MPI_Start(&pr);
		ra_pause_ms(10);
		sv[0] = rank;
		sv[1] = (int)s;
		sv[2] = rank * 1000 + (int)s * 3;
		MPI_Start(&ps);
		MPI_Wait(&ps, MPI_STATUS_IGNORE);
		MPI_Wait(&pr, &st);
		MPI_Get_count(&st, MPI_INT, &n);
		bs[0] = (int)s * 7 + rank;
		bs[1] = -rank;
		MPI_Bsend(bs, 2, MPI_INT, right, 5, MPI_COMM_WORLD);
		MPI_Mprobe(left, 5, MPI_COMM_WORLD, &msg, MPI_STATUS_IGNORE);
		ra_pause_ms(10);
		MPI_Mrecv(br, 2, MPI_INT, &msg, MPI_STATUS_IGNORE);
		fprintf(f, "%ld: persistent %d %d %d (count %d, from %d); matched %d %d\n", s,
			rv[0], rv[STRIDE], rv[2 * STRIDE], n, st.MPI_SOURCE, br[0], br[1]);
		fflush(f);
	}
	MPI_Request_free(&pr);
	MPI_Request_free(&ps);
	MPI_Type_free(&col);
	MPI_Buffer_detach(&buffer, &bsize);
	free(buffer);
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
