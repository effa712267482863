/*
 * bigcount.c - the MPI-4 large-count (_c) calls: point-to-point, a
 * blocking and a v collective, a nonblocking one, MPI_Pack_c, and the
 * datatype constructors with what MPI_Type_get_envelope_c/get_contents_c
 * report back, including types whose counts do not fit an int (their
 * size and extent only: nothing larger than a few KiB is allocated).
 * A count beyond INT_MAX also goes through MPI_Send_c/MPI_Recv_c, with
 * a datatype of size 0 so that no data moves.
 *
 * Open MPI 4.1 (MPI 3.1) has no _c function: there the checks are
 * skipped and the same lines are printed, so the native outputs agree;
 * through dmtcp_mpi the calls exist under both MPIs and must pass.
 */
/* ranks: 2 */
#include "mt.h"

#if MPI_VERSION >= 4
#define BIG ((MPI_Count)1 << 31)

static void p2p(int me)
{
	int out[100], in[200];
	MPI_Status st;
	MPI_Count n;
	MPI_Request r[2];

	for (int i = 0; i < 100; i++)
		out[i] = me * 1000 + i;
	if (me == 0) {
		MPI_Send_c(out, 100, MPI_INT, 1, 7, MPI_COMM_WORLD);
	} else if (me == 1) {
		MPI_Recv_c(in, 200, MPI_INT, 0, 7, MPI_COMM_WORLD, &st);
		MPI_Get_count_c(&st, MPI_INT, &n);
		MT_EQ(n, 100, "Recv_c count");
		for (int i = 0; i < 100; i++)
			MT_EQ(in[i], i, "Recv_c data");
	}
	int peer = 1 - me;
	MPI_Irecv_c(in, 200, MPI_INT, peer, 8, MPI_COMM_WORLD, &r[0]);
	MPI_Isend_c(out, 50, MPI_INT, peer, 8, MPI_COMM_WORLD, &r[1]);
	MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
	for (int i = 0; i < 50; i++)
		MT_EQ(in[i], peer * 1000 + i, "Isend_c/Irecv_c data");
	MPI_Sendrecv_c(out, 30, MPI_INT, peer, 9, in, 200, MPI_INT, peer, 9, MPI_COMM_WORLD,
		       &st);
	MPI_Get_count_c(&st, MPI_INT, &n);
	MT_EQ(n, 30, "Sendrecv_c count");
	MT_EQ(in[29], peer * 1000 + 29, "Sendrecv_c data");
}

/* The other send modes: rank 0 sends n ints with tag, rank 1 checks
 * them.  A ready send's receive is posted before the barrier. */
static void one_mode(int me, int tag, int n)
{
	int out[4] = { 40 + tag, 41 + tag, 42 + tag, 43 + tag }, in[4] = { -1, -1, -1, -1 };
	MPI_Request r = MPI_REQUEST_NULL;
	MPI_Status st;
	MPI_Count got = -1;
	static const char *const mode[] = { "", "Ssend_c", "Rsend_c", "Issend_c", "Irsend_c" };

	if (me == 1)
		MPI_Irecv_c(in, 4, MPI_INT, 0, tag, MPI_COMM_WORLD, &r);
	MPI_Barrier(MPI_COMM_WORLD);
	if (me == 0) {
		if (tag == 1)
			MPI_Ssend_c(out, n, MPI_INT, 1, tag, MPI_COMM_WORLD);
		else if (tag == 2)
			MPI_Rsend_c(out, n, MPI_INT, 1, tag, MPI_COMM_WORLD);
		else if (tag == 3)
			MPI_Issend_c(out, n, MPI_INT, 1, tag, MPI_COMM_WORLD, &r);
		else
			MPI_Irsend_c(out, n, MPI_INT, 1, tag, MPI_COMM_WORLD, &r);
	}
	MPI_Wait(&r, &st);
	if (me != 1)
		return;
	MPI_Get_count_c(&st, MPI_INT, &got);
	MT_EQ(got, n, mode[tag]);
	for (int i = 0; i < 4; i++)
		MT_EQ(in[i], i < n ? 40 + tag + i : -1, mode[tag]);
}

static void p2p_modes(int me)
{
	for (int tag = 1; tag <= 4; tag++)
		one_mode(me, tag, tag);
}

/* More than INT_MAX elements of an empty type: a message of 0 bytes. */
static void p2p_beyond_int(int me)
{
	MPI_Datatype empty;
	MPI_Status st;
	MPI_Count n = -1, size = -1;
	int dummy = 0;

	MPI_Type_contiguous(0, MPI_INT, &empty);
	MPI_Type_commit(&empty);
	if (me == 0) {
		MT_EQ(MPI_Send_c(&dummy, BIG + 3, empty, 1, 10, MPI_COMM_WORLD), MPI_SUCCESS,
		      "Send_c of 2^31+3 empty elements");
	} else if (me == 1) {
		MT_EQ(MPI_Recv_c(&dummy, BIG + 3, empty, 0, 10, MPI_COMM_WORLD, &st), MPI_SUCCESS,
		      "Recv_c of 2^31+3 empty elements");
		MPI_Get_count_c(&st, MPI_BYTE, &n);
		MT_EQ(n, 0, "bytes of 2^31+3 empty elements");
	}
	MPI_Type_size_c(empty, &size);
	MT_EQ(size, 0, "empty type size");
	MPI_Type_free(&empty);
}

static void collectives(int me, int np)
{
	double v[4], sum[4];
	int all[8], mine[3] = { me + 1, me + 2, me + 3 };
	MPI_Count counts[2];
	MPI_Aint displs[2];
	MPI_Request r;

	for (int i = 0; i < 4; i++)
		v[i] = me == 0 ? 2.5 * i : -1;
	MPI_Bcast_c(v, 4, MPI_DOUBLE, 0, MPI_COMM_WORLD);
	MT_EQ(v[3] * 2, 15, "Bcast_c");
	long root_last[2] = { me * 7, me * 7 + 1 };
	MPI_Ibcast_c(root_last, 2, MPI_LONG, np - 1, MPI_COMM_WORLD, &r);
	MPI_Wait(&r, MPI_STATUS_IGNORE);
	MT_EQ(root_last[1], (np - 1) * 7 + 1, "Ibcast_c");
	MPI_Allreduce_c(v, sum, 4, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	MT_EQ(sum[2] * 2, 10 * np, "Allreduce_c");
	/* rank i gives i + 1 ints, packed one after the other */
	for (int i = 0; i < np && i < 2; i++) {
		counts[i] = i + 1;
		displs[i] = i == 0 ? 0 : 1;
	}
	memset(all, 0, sizeof all);
	MPI_Allgatherv_c(mine, me + 1, MPI_INT, all, counts, displs, MPI_INT, MPI_COMM_WORLD);
	MT_EQ(all[0], 1, "Allgatherv_c from 0");
	if (np > 1) {
		MT_EQ(all[1], 2, "Allgatherv_c from 1");
		MT_EQ(all[2], 3, "Allgatherv_c from 1");
	}
	long x = me + 10, xs = 0;
	MPI_Iallreduce_c(&x, &xs, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD, &r);
	MPI_Wait(&r, MPI_STATUS_IGNORE);
	MT_EQ(xs, np + 9, "Iallreduce_c");
	int a2a_out[2] = { me * 10, me * 10 + 1 }, a2a_in[2] = { -1, -1 };
	if (np == 2) {
		MPI_Ialltoall_c(a2a_out, 1, MPI_INT, a2a_in, 1, MPI_INT, MPI_COMM_WORLD, &r);
		MPI_Wait(&r, MPI_STATUS_IGNORE);
		MT_EQ(a2a_in[1 - me], (1 - me) * 10 + me, "Ialltoall_c");
		MPI_Count c2[2] = { 1, 1 };
		MPI_Aint d2[2] = { 0, 1 }, bytes2[2] = { 0, sizeof(int) };
		MPI_Datatype t2[2] = { MPI_INT, MPI_INT };
		a2a_in[1 - me] = -1;
		MPI_Alltoallv_c(a2a_out, c2, d2, MPI_INT, a2a_in, c2, d2, MPI_INT, MPI_COMM_WORLD);
		MT_EQ(a2a_in[1 - me], (1 - me) * 10 + me, "Alltoallv_c");
		a2a_in[1 - me] = -1;
		MPI_Alltoallw_c(a2a_out, c2, bytes2, t2, a2a_in, c2, bytes2, t2, MPI_COMM_WORLD);
		MT_EQ(a2a_in[1 - me], (1 - me) * 10 + me, "Alltoallw_c");
		/* to rank 1; rank 0's receive arrays are not significant */
		MPI_Count gc[2] = { 1, 2 };
		MPI_Aint gd[2] = { 2, 0 };
		int g[3] = { -1, -1, -1 };
		MPI_Gatherv_c(mine, me + 1, MPI_INT, g, me == 1 ? gc : NULL, me == 1 ? gd : NULL,
			      MPI_INT, 1, MPI_COMM_WORLD);
		if (me == 1) {
			MT_EQ(g[2], 1, "Gatherv_c from 0");
			MT_EQ(g[0], 2, "Gatherv_c from 1");
			MT_EQ(g[1], 3, "Gatherv_c from 1");
		}
	}
}

static void envelope(MPI_Datatype t, int combiner, MPI_Count ni, MPI_Count nc,
		     MPI_Count nt, const char *what)
{
	MPI_Count gi = -1, ga = -1, gc = -1, gt = -1;
	int comb = -1;

	MT_EQ(MPI_Type_get_envelope_c(t, &gi, &ga, &gc, &gt, &comb), MPI_SUCCESS, what);
	MT_EQ(comb, combiner, what);
	MT_EQ(gi, ni, what);
	MT_EQ(ga, 0, what);
	MT_EQ(gc, nc, what);
	MT_EQ(gt, nt, what);
}

/* contents: large counts want[nc], one datatype old. */
static void contents(MPI_Datatype t, const MPI_Count *want, int nc, MPI_Datatype old,
		     const char *what)
{
	MPI_Count got[16];
	MPI_Datatype types[1];
	int ints[4];
	MPI_Aint addrs[1];

	MT_EQ(MPI_Type_get_contents_c(t, 4, 1, 16, 1, ints, addrs, got, types), MPI_SUCCESS,
	      what);
	for (int i = 0; i < nc; i++)
		MT_EQ(got[i], want[i], what);
	MT_CHECK(types[0] == old, "%s: datatype", what);
}

static void extent_is(MPI_Datatype t, MPI_Count size, MPI_Count lb, MPI_Count extent,
		      const char *what)
{
	MPI_Count s = -1, l = -1, e = -1;

	MPI_Type_size_c(t, &s);
	MT_EQ(s, size, what);
	MPI_Type_get_extent_c(t, &l, &e);
	MT_EQ(l, lb, what);
	MT_EQ(e, extent, what);
}

static void small_types(int me)
{
	MPI_Datatype vec, hidx, st;
	MPI_Count vwant[3] = { 3, 2, 4 };
	int data[12], got[12];
	MPI_Status status;

	MPI_Type_vector_c(3, 2, 4, MPI_INT, &vec);
	MPI_Type_commit(&vec);
	extent_is(vec, 24, 0, 40, "vector_c bounds");
	envelope(vec, MPI_COMBINER_VECTOR, 0, 3, 1, "vector_c envelope");
	contents(vec, vwant, 3, MPI_INT, "vector_c contents");
	/* the vector's ints, as a peer receives them contiguous */
	for (int i = 0; i < 12; i++)
		data[i] = 100 * me + i;
	memset(got, 0, sizeof got);
	MPI_Sendrecv_c(data, 1, vec, 1 - me, 11, got, 12, MPI_INT, 1 - me, 11, MPI_COMM_WORLD,
		       &status);
	int at[6] = { 0, 1, 4, 5, 8, 9 };
	for (int i = 0; i < 6; i++)
		MT_EQ(got[i], 100 * (1 - me) + at[i], "vector_c layout");

	MPI_Count hbl[2] = { 1, 2 }, hd[2] = { 8, 0 };
	MPI_Count hwant[5] = { 2, 1, 2, 8, 0 };
	MPI_Type_create_hindexed_c(2, hbl, hd, MPI_INT, &hidx);
	extent_is(hidx, 12, 0, 12, "hindexed_c bounds");
	envelope(hidx, MPI_COMBINER_HINDEXED, 0, 5, 1, "hindexed_c envelope");
	contents(hidx, hwant, 5, MPI_INT, "hindexed_c contents");

	MPI_Count sbl[1] = { 3 }, sd[1] = { 4 };
	MPI_Datatype stypes[1] = { MPI_SHORT };
	MPI_Type_create_struct_c(1, sbl, sd, stypes, &st);
	extent_is(st, 6, 4, 6, "struct_c bounds");
	envelope(st, MPI_COMBINER_STRUCT, 0, 3, 1, "struct_c envelope");

	/* Pack_c/Unpack_c of the vector: its 6 ints in order */
	char packed[64];
	MPI_Count pos = 0, psize = -1;
	MPI_Pack_size_c(1, vec, MPI_COMM_WORLD, &psize);
	MT_CHECK(psize >= 24, "Pack_size_c %lld", (long long)psize);
	MPI_Pack_c(data, 1, vec, packed, sizeof packed, &pos, MPI_COMM_WORLD);
	MT_EQ(pos, 24, "Pack_c position");
	pos = 0;
	MPI_Unpack_c(packed, 24, &pos, got, 6, MPI_INT, MPI_COMM_WORLD);
	MT_EQ(pos, 24, "Unpack_c position");
	for (int i = 0; i < 6; i++)
		MT_EQ(got[i], 100 * me + at[i], "Pack_c/Unpack_c data");
	MPI_Type_free(&vec);
	MPI_Type_free(&hidx);
	MPI_Type_free(&st);
}

/* Types of more than INT_MAX elements or bytes: bounds only. */
static void big_types(void)
{
	MPI_Datatype contig, hidx, vec, hv, sub;
	MPI_Count n = BIG + 5, l = -1, e = -1;

	MPI_Type_contiguous_c(n, MPI_BYTE, &contig);
	MPI_Type_commit(&contig);
	extent_is(contig, n, 0, n, "contiguous_c(2^31+5) bounds");
	MPI_Type_get_true_extent_c(contig, &l, &e);
	MT_EQ(l, 0, "contiguous_c(2^31+5) true lb");
	MT_EQ(e, n, "contiguous_c(2^31+5) true extent");
	envelope(contig, MPI_COMBINER_CONTIGUOUS, 0, 1, 1, "contiguous_c(2^31+5) envelope");
	contents(contig, &n, 1, MPI_BYTE, "contiguous_c(2^31+5) contents");

	/* as the MPICH suite's type_large: the last block beyond INT_MAX */
	MPI_Count bl[3] = { 1, 2, 3 * BIG }, d[3] = { 0, 1, 3 };
	MPI_Type_create_hindexed_c(3, bl, d, MPI_CHAR, &hidx);
	MPI_Type_commit(&hidx);
	extent_is(hidx, 3 + 3 * BIG, 0, 3 + 3 * BIG, "hindexed_c beyond INT_MAX bounds");

	/* two blocks of 2^31 ints, 2^31 + 10 ints apart */
	MPI_Type_vector_c(2, BIG, BIG + 10, MPI_INT, &vec);
	extent_is(vec, 4 * 2 * BIG, 0, 4 * (BIG + 10 + BIG), "vector_c beyond INT_MAX bounds");
	MPI_Count vwant[3] = { 2, BIG, BIG + 10 };
	contents(vec, vwant, 3, MPI_INT, "vector_c beyond INT_MAX contents");

	/* overlapping blocks 3 bytes apart: an extent no struct would have */
	MPI_Type_create_hvector_c(2, BIG, 3, MPI_INT, &hv);
	extent_is(hv, 8 * BIG, 0, 4 * BIG + 3, "hvector_c beyond INT_MAX bounds");
	envelope(hv, MPI_COMBINER_HVECTOR, 0, 3, 1, "hvector_c beyond INT_MAX envelope");

	MPI_Count sz[2] = { 4, 6 }, subsz[2] = { 2, 3 }, st[2] = { 1, 2 };
	MPI_Count swant[6] = { 4, 6, 2, 3, 1, 2 };
	MPI_Type_create_subarray_c(2, sz, subsz, st, MPI_ORDER_C, MPI_INT, &sub);
	extent_is(sub, 24, 0, 96, "subarray_c bounds");
	envelope(sub, MPI_COMBINER_SUBARRAY, 2, 6, 1, "subarray_c envelope");
	contents(sub, swant, 6, MPI_INT, "subarray_c contents");
	MPI_Type_free(&contig);
	MPI_Type_free(&hidx);
	MPI_Type_free(&vec);
	MPI_Type_free(&hv);
	MPI_Type_free(&sub);
}
#endif

int main(int argc, char **argv)
{
	int me = 0, np = 0;

	MPI_Init(&argc, &argv);
	mt_begin("bigcount");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
#if MPI_VERSION >= 4
	p2p(me);
	p2p_modes(me);
	p2p_beyond_int(me);
#endif
	mt_say("Send_c, Recv_c, Isend_c, Irecv_c, Sendrecv_c; Ssend_c, Rsend_c, Issend_c, "
	       "Irsend_c; 2^31+3 empty elements");
#if MPI_VERSION >= 4
	collectives(me, np);
#endif
	mt_say("Bcast_c, Ibcast_c, Allreduce_c, Allgatherv_c, Iallreduce_c, Ialltoall_c, Alltoallv_c, "
	       "Alltoallw_c, Gatherv_c");
#if MPI_VERSION >= 4
	small_types(me);
	big_types();
#endif
	mt_say("vector_c, hvector_c, hindexed_c, struct_c, subarray_c, contiguous_c(2^31+5): "
	       "bounds, envelope, contents; Pack_c, Unpack_c");
	return mt_finish();
}
