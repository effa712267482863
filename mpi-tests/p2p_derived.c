/*
 * p2p_derived.c - Get_count, Get_elements and Get_elements_x with a
 * derived datatype, where they differ: 5 ints received as pairs of ints
 * are 2 whole pairs and one element over (count MPI_UNDEFINED, 5
 * elements), and 3 pairs are 3 items of 6 elements.  The shim keeps
 * byte counts in its statuses and must derive both answers from them.
 */
/* ranks: 2 */
#include "mt.h"

static int me;

static void expect_counts(const MPI_Status *st, MPI_Datatype t, int count, int elements,
			  const char *what)
{
	int c = -2, e = -2;
	MPI_Count ex = -2;

	MPI_Get_count(st, t, &c);
	MPI_Get_elements(st, t, &e);
	MPI_Get_elements_x(st, t, &ex);
	MT_EQ(c, count, what);
	MT_EQ(e, elements, what);
	MT_EQ(ex, elements, what);
}

/* A partial receive of a two-int type: 5 ints are 2 whole pairs + 1. */
static void test_derived_counts(void)
{
	int v[6] = { 1, 2, 3, 4, 5, 6 }, in[6] = { 0 };
	MPI_Datatype pair;
	MPI_Status st;

	MPI_Type_contiguous(2, MPI_INT, &pair);
	MPI_Type_commit(&pair);
	if (me == 0) {
		MPI_Send(v, 5, MPI_INT, 1, 10, MPI_COMM_WORLD);
		MPI_Send(v, 3, pair, 1, 11, MPI_COMM_WORLD);
	} else {
		MPI_Recv(in, 3, pair, 0, 10, MPI_COMM_WORLD, &st);
		expect_counts(&st, pair, MPI_UNDEFINED, 5, "5 ints received as pairs");
		expect_counts(&st, MPI_INT, 5, 5, "5 ints received as pairs, counted as int");
		MT_CHECK(in[4] == 5 && in[5] == 0, "partial pair receive wrote %d %d", in[4], in[5]);
		MPI_Recv(in, 6, MPI_INT, 0, 11, MPI_COMM_WORLD, &st);
		expect_counts(&st, MPI_INT, 6, 6, "3 pairs received as ints");
		expect_counts(&st, pair, 3, 6, "3 pairs counted as pairs");
	}
	MPI_Type_free(&pair);
	MT_CHECK(pair == MPI_DATATYPE_NULL, "Type_free did not null the handle");
	mt_say("derived counts: partial pair undefined count, 5 elements; 3 pairs = 6 elements");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_derived");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	test_derived_counts();
	return mt_finish();
}
