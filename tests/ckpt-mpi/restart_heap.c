/*
 * restart_heap.c - the application of tests/ckpt-mpi/restart_heap.sh.
 *
 *   restart_heap DIR STEPS
 *
 * Large malloc'ed arrays across a checkpoint.  dmtcp_mpi cuts them from
 * the channel arena, which no image holds as such (shim/heap.c): their
 * contents, and receives pending into them, must come back with a
 * restart, and they must go on working for MPI calls, as must blocks
 * malloc'ed and freed after it.  A state (malloc'ed, filled before any
 * checkpoint) that every step folds what it received into, a send buffer
 * (calloc'ed) and a receive buffer (realloc'ed up from a small block).
 * Each step posts a receive from the left neighbour and pauses with it
 * pending, sends to the right one, folds, then reduces a freshly
 * malloc'ed array over both ranks and frees it.  Each rank appends a
 * checksum of the state, the receive buffer and the sum to DIR/out.<rank>.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

enum { N = 100000 }; /* 400 KB: above the heap's threshold */

static void *must(void *p)
{
	if (!p)
		MPI_Abort(MPI_COMM_WORLD, 3);
	return p;
}

int main(int argc, char **argv)
{
	int rank, size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, 1, "restart_heap DIR STEPS");
	FILE *f = ra_fopen_out(argv[1], rank);
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	uint32_t *st = must(malloc(N * sizeof(uint32_t)));
	uint32_t *sb = must(calloc(N, sizeof(uint32_t)));
	uint32_t *rb = must(malloc(64));

	rb = must(realloc(rb, N * sizeof(uint32_t)));
	for (int i = 0; i < N; i++) {
		st[i] = (uint32_t)(rank * 7919 + i);
		rb[i] = 0xdeadbeefu;
	}
	for (long s = 0; s < steps; s++) {
		MPI_Request q[2];
		MPI_Status qs[2];
		uint32_t *tmp = must(malloc(N * sizeof(uint32_t)));
		uint32_t *sum = must(malloc(N * sizeof(uint32_t)));

		MPI_Irecv(rb, N, MPI_UINT32_T, left, 1, MPI_COMM_WORLD, &q[0]);
		ra_pause_ms(10);
		for (int i = 0; i < N; i++)
			sb[i] = st[i] * 2654435761u + (uint32_t)s;
		MPI_Isend(sb, N, MPI_UINT32_T, right, 1, MPI_COMM_WORLD, &q[1]);
		MPI_Waitall(2, q, qs);
		for (int i = 0; i < N; i++) {
			st[i] = st[i] * 31u + rb[i];
			tmp[i] = st[i] ^ (uint32_t)s;
		}
		MPI_Allreduce(tmp, sum, N, MPI_UINT32_T, MPI_SUM, MPI_COMM_WORLD);
		fprintf(f, "%ld: state %08x received %08x sum %08x\n", s, ra_checksum(st, N),
			ra_checksum(rb, N), ra_checksum(sum, N));
		fflush(f);
		free(sum);
		free(tmp);
	}
	free(st);
	free(sb);
	free(rb);
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
