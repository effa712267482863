/*
 * comm_freepersist.c - persistent point-to-point requests made on a
 * communicator that is then freed.  MPI-4.1 7.4.3: operations on it,
 * "whether active or inactive at the time of" MPI_Comm_free, continue to
 * work; MPICH 4.0 and Open MPI 4.1 start them natively.
 *
 * Both ranks make a dup, a Send_init, an Ssend_init and a Recv_init on
 * it to the other rank, then free the dup and make a new one (the call
 * that would take the freed handle).  Three rounds of Startall and
 * Waitall must carry each round's data with the right statuses, next to
 * a message on the new dup with the same tag, and MPI_Request_free ends
 * them.
 */
/* ranks: 2 */
#include "mt.h"

enum { N = 4, ROUNDS = 3, TAG = 5 };

int main(int argc, char **argv)
{
	int me, size, s1[N], s2[N], g1[N], g2[N], gn[N], sn[N];
	MPI_Comm dup, fresh;
	MPI_Request r[4];
	MPI_Status st[4];

	MPI_Init(&argc, &argv);
	mt_begin("comm_freepersist");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	int peer = 1 - me;
	MPI_Comm_dup(MPI_COMM_WORLD, &dup);
	MPI_Send_init(s1, N, MPI_INT, peer, TAG, dup, &r[0]);
	MPI_Ssend_init(s2, N, MPI_INT, peer, TAG + 1, dup, &r[1]);
	MPI_Recv_init(g1, N, MPI_INT, peer, TAG, dup, &r[2]);
	MPI_Recv_init(g2, N, MPI_INT, peer, TAG + 1, dup, &r[3]);
	MPI_Comm_free(&dup);
	MPI_Comm_dup(MPI_COMM_WORLD, &fresh);
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < N; i++) {
			s1[i] = 1000 * me + 100 * round + i;
			s2[i] = -s1[i];
			sn[i] = 7 * s1[i];
		}
		MPI_Request q;
		MPI_Irecv(gn, N, MPI_INT, peer, TAG, fresh, &q);
		MT_EQ(MPI_Startall(4, r), MPI_SUCCESS, "Startall on a freed communicator");
		MPI_Send(sn, N, MPI_INT, peer, TAG, fresh);
		MT_EQ(MPI_Waitall(4, r, st), MPI_SUCCESS, "Waitall on a freed communicator");
		MPI_Wait(&q, MPI_STATUS_IGNORE);
		int want = 1000 * peer + 100 * round, cnt = -1;
		MPI_Get_count(&st[2], MPI_INT, &cnt);
		MT_CHECK(st[2].MPI_SOURCE == peer && st[2].MPI_TAG == TAG && cnt == N,
			 "round %d: status source %d tag %d count %d", round, st[2].MPI_SOURCE,
			 st[2].MPI_TAG, cnt);
		MT_CHECK(g1[0] == want && g1[N - 1] == want + N - 1 && g2[0] == -want &&
			 gn[0] == 7 * want,
			 "round %d: got %d, %d, %d", round, g1[0], g2[0], gn[0]);
		mt_say("round %d: from %d tag %d: %d..%d, synchronous %d, new dup %d", round,
		       st[2].MPI_SOURCE, st[2].MPI_TAG, g1[0], g1[N - 1], g2[0], gn[0]);
	}
	for (int i = 0; i < 4; i++)
		MPI_Request_free(&r[i]);
	MPI_Comm_free(&fresh);
	return mt_finish();
}
