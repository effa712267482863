/*
 * comm_freepending.c - MPI_Comm_free while receives on the communicator
 * are pending.  MPI-4.1 7.4.3: the handle becomes MPI_COMM_NULL, pending
 * operations complete normally, and the communicator goes away only when
 * nothing refers to it any more.
 *
 * Rank 0 posts receives on dups A and B, and both ranks free A and B,
 * rank 1 after sending four ints on each, rank 0 before it waits.  Then
 * both make two new dups, the calls that take freed handles again, and
 * rank 1 sends on the first with A's tag.  Rank 0's receives must get
 * their own messages, data and status, through Waitall and Wait.  (An
 * error on such a receive is left out: natively both MPIs abort on it
 * even under MPI_ERRORS_RETURN, Open MPI 4.1 "on a NULL communicator",
 * MPICH 4.0 with a fatal error in MPI_Wait; tests/unit/test_commfree.c
 * checks where ours goes.)
 */
/* ranks: 2 */
#include "mt.h"

static void check_msg(const MPI_Status *st, const int *got, int base, const char *what)
{
	int cnt = -1;

	MPI_Get_count(st, MPI_INT, &cnt);
	MT_CHECK(st->MPI_SOURCE == 1 && cnt == 4, "%s: source %d count %d", what,
		 st->MPI_SOURCE, cnt);
	MT_CHECK(got[0] == base && got[3] == base + 3, "%s: data %d..%d", what, got[0], got[3]);
	mt_say("%s: source %d tag %d count %d data %d..%d", what, st->MPI_SOURCE,
	       st->MPI_TAG, cnt, got[0], got[3]);
}

int main(int argc, char **argv)
{
	int me, size, ga[4] = { 0 }, gb[4] = { 0 }, gn[4] = { 0 };
	int sa[4] = { 10, 11, 12, 13 }, sb[4] = { 20, 21, 22, 23 }, sn[4] = { 30, 31, 32, 33 };
	MPI_Comm a, b, n1, n2;
	MPI_Request r[2] = { MPI_REQUEST_NULL, MPI_REQUEST_NULL }, rn = MPI_REQUEST_NULL;
	MPI_Status st[2], s1;

	MPI_Init(&argc, &argv);
	mt_begin("comm_freepending");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	MPI_Comm_dup(MPI_COMM_WORLD, &a);
	MPI_Comm_dup(MPI_COMM_WORLD, &b);
	if (me == 0) {
		MPI_Irecv(ga, 4, MPI_INT, 1, 7, a, &r[0]);
		MPI_Irecv(gb, 4, MPI_INT, 1, 8, b, &r[1]);
	} else {
		MPI_Send(sa, 4, MPI_INT, 0, 7, a);
		MPI_Send(sb, 4, MPI_INT, 0, 8, b);
	}
	MPI_Comm_free(&a);
	MPI_Comm_free(&b);
	MT_CHECK(a == MPI_COMM_NULL && b == MPI_COMM_NULL, "freed handles are not MPI_COMM_NULL");
	MPI_Comm_dup(MPI_COMM_WORLD, &n1);
	MPI_Comm_dup(MPI_COMM_WORLD, &n2);
	if (me == 0) {
		MPI_Irecv(gn, 4, MPI_INT, 1, 7, n1, &rn);
		MT_CHECK(MPI_Waitall(2, r, st) == MPI_SUCCESS, "Waitall on freed A, B failed");
		check_msg(&st[0], ga, 10, "receive on freed A");
		check_msg(&st[1], gb, 20, "receive on freed B");
		MT_CHECK(MPI_Wait(&rn, &s1) == MPI_SUCCESS, "Wait on the new dup failed");
		check_msg(&s1, gn, 30, "receive on the new dup");
	} else {
		MPI_Send(sn, 4, MPI_INT, 0, 7, n1);
	}
	MPI_Comm_free(&n1);
	MPI_Comm_free(&n2);
	return mt_finish();
}
