/*
 * p2p_isendrecv.c - MPI_Isendrecv and MPI_Isendrecv_replace (MPI-4.0):
 * a ring exchange in both directions, the send buffer overwritten right
 * after the call (its data must have been taken), _replace receiving
 * into the buffer it sends from.  Not the statuses: MPICH 4.0.2
 * natively reports source and tag 0 for these requests.  An MPI older than
 * 4.0 (Open MPI 4.1) has neither call: the checks are skipped there and
 * the same line is printed, so native outputs still agree.
 */
/* ranks: 2 */
#include "mt.h"

#if MPI_VERSION >= 4
static void exchange(int me, int size)
{
	int right = (me + 1) % size, left = (me + size - 1) % size;
	int out[4], in[4], rep[4];
	MPI_Request r[2];

	for (int i = 0; i < 4; i++) {
		out[i] = me * 10 + i;
		rep[i] = me * 100 + i;
	}
	MPI_Isendrecv(out, 4, MPI_INT, right, 1, in, 4, MPI_INT, left, 1, MPI_COMM_WORLD, &r[0]);
	memset(out, 0, sizeof out);
	MPI_Isendrecv_replace(rep, 4, MPI_INT, left, 2, right, 2, MPI_COMM_WORLD, &r[1]);
	MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
	for (int i = 0; i < 4; i++) {
		MT_EQ(in[i], left * 10 + i, "Isendrecv data");
		MT_EQ(rep[i], right * 100 + i, "Isendrecv_replace data");
	}
}
#endif

int main(int argc, char **argv)
{
	int me = 0, size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_isendrecv");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
#if MPI_VERSION >= 4
	for (int k = 0; k < 3; k++)
		exchange(me, size);
#endif
	mt_say("isendrecv and isendrecv_replace round the ring, 3 times");
	return mt_finish();
}
