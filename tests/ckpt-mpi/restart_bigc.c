/*
 * restart_bigc.c - the application of tests/ckpt-mpi/restart_bigc.sh.
 *
 *   restart_bigc DIR STEPS
 *
 * Datatypes made by the large-count constructors must survive a
 * checkpoint and a restart under either MPI: the new proxy makes them
 * again from their records' int constructors, including the types the
 * shim made on the side for counts beyond INT_MAX (shim/typebig.c), and
 * MPI_Type_get_envelope_c/get_contents_c still report what the program
 * gave.  Each step sends with a vector_c type and a duplicate of it, a
 * Send_c/Recv_c of 2^31 + 3 elements of an empty type and a Bcast_c,
 * queries the bounds and contents of types beyond INT_MAX, and appends
 * what it saw to DIR/out.<rank>; a restored process truncates its file
 * back to its size at the checkpoint, so an interrupted run must leave
 * the same files as one that never was.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "restart_app.h"

#define BIG ((MPI_Count)1 << 31)

/* size, extent and (for derived types) combiner and large counts */
static void describe(FILE *f, const char *name, MPI_Datatype t)
{
	MPI_Count size, lb, extent, ni, na, nc, nt, counts[8];
	int comb, ints[4];
	MPI_Aint addrs[1];
	MPI_Datatype types[1];

	MPI_Type_size_c(t, &size);
	MPI_Type_get_extent_c(t, &lb, &extent);
	MPI_Type_get_envelope_c(t, &ni, &na, &nc, &nt, &comb);
	/* the combiners' values differ between MPICH's ABI and the standard's */
	const char *cname = comb == MPI_COMBINER_CONTIGUOUS ? "contiguous"
			    : comb == MPI_COMBINER_VECTOR   ? "vector"
			    : comb == MPI_COMBINER_HVECTOR  ? "hvector"
							    : "other";
	fprintf(f, " %s: size %lld lb %lld extent %lld, %s, %lld/%lld/%lld/%lld:", name,
		(long long)size, (long long)lb, (long long)extent, cname, (long long)ni,
		(long long)na, (long long)nc, (long long)nt);
	if (ni <= 4 && na <= 1 && nc <= 8 && nt == 1) {
		MPI_Type_get_contents_c(t, 4, 1, 8, 1, ints, addrs, counts, types);
		for (int i = 0; i < nc; i++)
			fprintf(f, " %lld", (long long)counts[i]);
		fprintf(f, " of %s", types[0] == MPI_INT ? "int" : types[0] == MPI_BYTE ? "byte"
								     : "other");
	}
}

int main(int argc, char **argv)
{
	int rank, size, dummy = 0;
	MPI_Datatype big, hv, vec, vdup, empty;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long steps = ra_steps(argc, argv, size == 2, "restart_bigc DIR STEPS, on 2 ranks");
	FILE *f = ra_fopen_out(argv[1], rank);
	MPI_Type_contiguous_c(BIG + 5, MPI_BYTE, &big);
	MPI_Type_commit(&big);
	MPI_Type_create_hvector_c(2, BIG, 3, MPI_INT, &hv);
	MPI_Type_vector_c(3, 2, 4, MPI_INT, &vec);
	MPI_Type_commit(&vec);
	MPI_Type_dup(vec, &vdup);
	MPI_Type_contiguous(0, MPI_INT, &empty);
	MPI_Type_commit(&empty);
	int peer = 1 - rank;

	for (long s = 0; s < steps; s++) {
		int data[12], got[6], got2[6], b[3] = { -1, -1, -1 };
		MPI_Status st;
		MPI_Count n = -1;

		for (int i = 0; i < 12; i++)
			data[i] = rank * 1000 + (int)s * 12 + i;
		MPI_Sendrecv_c(data, 1, vec, peer, 1, got, 6, MPI_INT, peer, 1, MPI_COMM_WORLD,
			       MPI_STATUS_IGNORE);
		MPI_Sendrecv_c(data, 1, vdup, peer, 2, got2, 6, MPI_INT, peer, 2, MPI_COMM_WORLD,
			       MPI_STATUS_IGNORE);
		if (rank == 0)
			MPI_Send_c(&dummy, BIG + 3, empty, 1, 3, MPI_COMM_WORLD);
		else
			MPI_Recv_c(&dummy, BIG + 3, empty, 0, 3, MPI_COMM_WORLD, &st);
		if (rank == 1)
			MPI_Get_count_c(&st, MPI_BYTE, &n);
		if (rank == 0)
			for (int i = 0; i < 3; i++)
				b[i] = (int)s * 3 + i;
		MPI_Bcast_c(b, 3, MPI_INT, 0, MPI_COMM_WORLD);
		fprintf(f, "%ld: vec %d %d %d %d %d %d; dup %d %d; empty %lld; bcast %d %d %d;", s,
			got[0], got[1], got[2], got[3], got[4], got[5], got2[0], got2[5],
			(long long)n, b[0], b[1], b[2]);
		describe(f, "big", big);
		describe(f, "hv", hv);
		describe(f, "vec", vec);
		fprintf(f, "\n");
		fflush(f);
		ra_pause_ms(20);
	}
	MPI_Type_free(&big);
	MPI_Type_free(&hv);
	MPI_Type_free(&vec);
	MPI_Type_free(&vdup);
	MPI_Type_free(&empty);
	fclose(f);
	printf("rank %d of %d done\n", rank, size);
	MPI_Finalize();
	return 0;
}
