/*
 * restart_allocmem.c - the application of tests/ckpt-mpi/restart_allocmem.sh.
 *
 *   restart_allocmem DIR STEPS
 *
 * MPI_Alloc_mem memory across a checkpoint.  dmtcp_mpi takes it from
 * the channel arena, which no image holds as such, and hands it to the
 * real MPI in place (shim/mem.c): its contents, and receives pending
 * into it, must come back with a restart.  Three blocks, made once: a
 * state that every step folds what it received into (so a lost or stale
 * byte shows in every later line), a send buffer and a receive buffer.
 * Each step posts two receives into the receive block from the left
 * neighbour, a contiguous run and a column of a matrix (a vector type,
 * whose holes must keep their bytes), and pauses with them pending (a
 * checkpoint then finds them posted: they are reposted in the new proxy
 * into the same memory), then sends both from the send block, computed
 * from the state, to the right neighbour and waits.  Each rank appends a
 * checksum of the state and of the receive block to DIR/out.<rank>.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

enum { N = 20000, M = 64 };

static void *alloc(MPI_Aint bytes)
{
	void *p = NULL;

	if (MPI_Alloc_mem(bytes, MPI_INFO_NULL, &p) != MPI_SUCCESS || !p)
		MPI_Abort(MPI_COMM_WORLD, 3);
	return p;
}

int main(int argc, char **argv)
{
	int rank, size;
	MPI_Datatype col;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, 1, "restart_allocmem DIR STEPS");
	FILE *f = ra_fopen_out(argv[1], rank);
	int left = (rank + size - 1) % size, right = (rank + 1) % size;
	/* state: N words; send and receive blocks: a run of N, then an M x M matrix */
	uint32_t *st = alloc(N * sizeof(uint32_t));
	uint32_t *sb = alloc((N + M * M) * sizeof(uint32_t));
	uint32_t *rb = alloc((N + M * M) * sizeof(uint32_t));
	MPI_Type_vector(M, 1, M, MPI_UINT32_T, &col);
	MPI_Type_commit(&col);
	for (int i = 0; i < N; i++)
		st[i] = (uint32_t)(rank * 7919 + i);
	for (int i = 0; i < N + M * M; i++)
		rb[i] = 0xdeadbeefu;

	for (long s = 0; s < steps; s++) {
		MPI_Request q[4];
		MPI_Status qs[4];
		uint32_t *rm = rb + N, *sm = sb + N;

		MPI_Irecv(rb, N, MPI_UINT32_T, left, 1, MPI_COMM_WORLD, &q[0]);
		MPI_Irecv(rm + s % M, 1, col, left, 2, MPI_COMM_WORLD, &q[1]);
		ra_pause_ms(10);
		for (int i = 0; i < N; i++)
			sb[i] = st[i] * 2654435761u + (uint32_t)s;
		for (int i = 0; i < M * M; i++)
			sm[i] = st[i] ^ (uint32_t)(s << 8);
		MPI_Isend(sb, N, MPI_UINT32_T, right, 1, MPI_COMM_WORLD, &q[2]);
		MPI_Isend(sm + (s + 1) % M, 1, col, right, 2, MPI_COMM_WORLD, &q[3]);
		MPI_Waitall(4, q, qs);
		for (int i = 0; i < N; i++)
			st[i] = st[i] * 31u + rb[i] + rm[i % (M * M)];
		fprintf(f, "%ld: state %08x received %08x\n", s, ra_checksum(st, N),
			ra_checksum(rb, N + M * M));
		fflush(f);
	}
	MPI_Type_free(&col);
	MPI_Free_mem(st);
	MPI_Free_mem(sb);
	MPI_Free_mem(rb);
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
