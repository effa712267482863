/*
 * comm_freepersist.c - persistent point-to-point requests made on a
 * communicator that is then freed.  MPI-4.1 7.4.3: operations on it,
 * "whether active or inactive at the time of" MPI_Comm_free, continue to
 * work; MPICH 4.0 and Open MPI 4.1 start them natively.
 *
 * Both ranks make a dup, a Send_init, an Ssend_init, a Bsend_init (of a
 * derived type freed at once: the request keeps it) and a Recv_init for
 * each on it to the other rank, then free the dup and make a new one
 * (the call that would take the freed handle).  Three rounds of Startall
 * and Waitall must carry each round's data with the right statuses, next
 * to a message on the new dup with the same tag, and MPI_Request_free
 * ends them.  The same for a Send_init and a Recv_init on an
 * intercommunicator between the two ranks, freed too.  Until 2026-11-27
 * dmtcp_mpi refused the buffered one's Start with MPI_ERR_COMM, and, after
 * a restart, the intercommunicator's send.
 */
/* ranks: 2 */
#include "mt.h"

enum { N = 4, ROUNDS = 3, TAG = 5, NREQ = 8 };

int main(int argc, char **argv)
{
	int me, size, s1[N], s2[N], s3[N], s4[N], g1[N], g2[N], g3[N], g4[N], gn[N], sn[N];
	MPI_Comm dup, fresh, inter;
	MPI_Datatype four;
	MPI_Request r[NREQ];
	MPI_Status st[NREQ];
	static char pool[4 * (N * sizeof(int) + MPI_BSEND_OVERHEAD)];

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
	MPI_Type_contiguous(N, MPI_INT, &four);
	MPI_Type_commit(&four);
	MPI_Bsend_init(s3, 1, four, peer, TAG + 2, dup, &r[4]);
	MPI_Type_free(&four);
	MPI_Recv_init(g3, N, MPI_INT, peer, TAG + 2, dup, &r[5]);
	MPI_Intercomm_create(MPI_COMM_SELF, 0, MPI_COMM_WORLD, peer, TAG, &inter);
	MPI_Send_init(s4, N, MPI_INT, 0, TAG, inter, &r[6]);
	MPI_Recv_init(g4, N, MPI_INT, 0, TAG, inter, &r[7]);
	MPI_Comm_free(&inter);
	MPI_Buffer_attach(pool, (int)sizeof(pool));
	MPI_Comm_free(&dup);
	MPI_Comm_dup(MPI_COMM_WORLD, &fresh);
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < N; i++) {
			s1[i] = 1000 * me + 100 * round + i;
			s2[i] = -s1[i];
			s3[i] = 3 * s1[i];
			s4[i] = 5 * s1[i];
			sn[i] = 7 * s1[i];
		}
		MPI_Request q;
		MPI_Irecv(gn, N, MPI_INT, peer, TAG, fresh, &q);
		MT_EQ(MPI_Startall(NREQ, r), MPI_SUCCESS, "Startall on a freed communicator");
		MPI_Send(sn, N, MPI_INT, peer, TAG, fresh);
		MT_EQ(MPI_Waitall(NREQ, r, st), MPI_SUCCESS, "Waitall on a freed communicator");
		MPI_Wait(&q, MPI_STATUS_IGNORE);
		int want = 1000 * peer + 100 * round, cnt = -1;
		MPI_Get_count(&st[2], MPI_INT, &cnt);
		MT_CHECK(st[2].MPI_SOURCE == peer && st[2].MPI_TAG == TAG && cnt == N,
			 "round %d: status source %d tag %d count %d", round, st[2].MPI_SOURCE,
			 st[2].MPI_TAG, cnt);
		MT_CHECK(st[7].MPI_SOURCE == 0 && st[7].MPI_TAG == TAG,
			 "round %d: intercommunicator status source %d tag %d", round,
			 st[7].MPI_SOURCE, st[7].MPI_TAG);
		MT_CHECK(g1[0] == want && g1[N - 1] == want + N - 1 && g2[0] == -want &&
			 gn[0] == 7 * want && g3[0] == 3 * want && g3[N - 1] == 3 * (want + N - 1) &&
			 g4[0] == 5 * want && g4[N - 1] == 5 * (want + N - 1),
			 "round %d: got %d, %d, %d, %d, %d", round, g1[0], g2[0], gn[0], g3[0], g4[0]);
		mt_say("round %d: from %d tag %d: %d..%d, synchronous %d, buffered %d, new dup %d, "
		       "intercommunicator %d", round, st[2].MPI_SOURCE, st[2].MPI_TAG, g1[0],
		       g1[N - 1], g2[0], g3[0], gn[0], g4[0]);
	}
	for (int i = 0; i < NREQ; i++)
		MPI_Request_free(&r[i]);
	void *was;
	int was_size;
	MPI_Buffer_detach(&was, &was_size);
	MPI_Comm_free(&fresh);
	return mt_finish();
}
