/*
 * p2p_mprobe.c - matched probe: Mprobe then Mrecv receives exactly the
 * probed message even when another receive for the same source and tag
 * comes in between; Improbe with and without a message; Imrecv; a
 * matched message received through a derived type and with MPI_ANY_TAG;
 * MPI_PROC_NULL gives MPI_MESSAGE_NO_PROC and Mrecv of it a PROC_NULL
 * status; Message_c2f/f2c round trip.
 */
/* ranks: 2 */
#include "mt.h"

static int me;

static void test_matched(void)
{
	int a[3] = { 1, 2, 3 }, b[5] = { 4, 5, 6, 7, 8 }, got[5] = { 0 }, n = -1;
	MPI_Message msg;
	MPI_Status st;

	if (me == 0) {
		MPI_Send(a, 3, MPI_INT, 1, 5, MPI_COMM_WORLD);
		MPI_Send(b, 5, MPI_INT, 1, 5, MPI_COMM_WORLD);
		return;
	}
	MPI_Mprobe(0, 5, MPI_COMM_WORLD, &msg, &st);
	MPI_Get_count(&st, MPI_INT, &n);
	MT_EQ(n, 3, "Mprobe count");
	MT_CHECK(msg != MPI_MESSAGE_NULL, "Mprobe gave MPI_MESSAGE_NULL");
	/* A plain receive now gets the second message: the first is matched. */
	MPI_Recv(got, 5, MPI_INT, 0, 5, MPI_COMM_WORLD, &st);
	MPI_Get_count(&st, MPI_INT, &n);
	MT_EQ(n, 5, "receive after Mprobe takes the next message");
	MT_EQ(got[4], 8, "receive after Mprobe data");
	MPI_Fint f = MPI_Message_c2f(msg);
	MT_CHECK(MPI_Message_f2c(f) == msg, "Message_c2f/f2c round trip");
	memset(got, 0, sizeof got);
	MPI_Mrecv(got, 5, MPI_INT, &msg, &st);
	MT_CHECK(msg == MPI_MESSAGE_NULL, "Mrecv left the message handle");
	MPI_Get_count(&st, MPI_INT, &n);
	MT_EQ(n, 3, "Mrecv count");
	MT_EQ(st.MPI_SOURCE, 0, "Mrecv source");
	MT_EQ(st.MPI_TAG, 5, "Mrecv tag");
	for (int i = 0; i < 3; i++)
		MT_EQ(got[i], i + 1, "Mrecv data");
	mt_say("mprobe: matched message kept from a later receive, mrecv delivers it");
}

static void test_improbe_imrecv(void)
{
	double v[6], w[12];
	int flag = -1;
	MPI_Message msg = MPI_MESSAGE_NULL;
	MPI_Request r;
	MPI_Status st;
	MPI_Datatype every_other;

	if (me == 0) {
		MPI_Recv(NULL, 0, MPI_INT, 1, 20, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int i = 0; i < 6; i++)
			v[i] = i + 0.25;
		MPI_Send(v, 6, MPI_DOUBLE, 1, 21, MPI_COMM_WORLD);
		return;
	}
	MPI_Improbe(0, 21, MPI_COMM_WORLD, &flag, &msg, &st);
	MT_EQ(flag, 0, "Improbe before the message is sent");
	MPI_Send(NULL, 0, MPI_INT, 0, 20, MPI_COMM_WORLD);
	do
		MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &msg, &st);
	while (!flag);
	MT_EQ(st.MPI_TAG, 21, "Improbe tag");
	MPI_Type_vector(6, 1, 2, MPI_DOUBLE, &every_other);
	MPI_Type_commit(&every_other);
	for (int i = 0; i < 12; i++)
		w[i] = -1;
	MPI_Imrecv(w, 1, every_other, &msg, &r);
	MT_CHECK(msg == MPI_MESSAGE_NULL, "Imrecv left the message handle");
	MPI_Wait(&r, &st);
	MT_EQ(st.MPI_SOURCE, 0, "Imrecv source");
	for (int i = 0; i < 12; i++)
		MT_CHECK(w[i] == (i % 2 ? -1 : i / 2 + 0.25), "Imrecv element %d: %g", i, w[i]);
	MPI_Type_free(&every_other);
	mt_say("improbe (nothing, then any source/tag), imrecv through a vector type");
}

static void test_proc_null(void)
{
	MPI_Message msg = MPI_MESSAGE_NULL;
	MPI_Status st;
	int flag = 0, n = -1, x = 42;

	MPI_Mprobe(MPI_PROC_NULL, 3, MPI_COMM_WORLD, &msg, &st);
	MT_CHECK(msg == MPI_MESSAGE_NO_PROC, "Mprobe of MPI_PROC_NULL");
	MT_EQ(st.MPI_SOURCE, MPI_PROC_NULL, "Mprobe PROC_NULL source");
	MPI_Mrecv(&x, 1, MPI_INT, &msg, &st);
	MT_CHECK(msg == MPI_MESSAGE_NULL, "Mrecv of MPI_MESSAGE_NO_PROC");
	MT_EQ(st.MPI_SOURCE, MPI_PROC_NULL, "Mrecv PROC_NULL source");
	MT_EQ(st.MPI_TAG, MPI_ANY_TAG, "Mrecv PROC_NULL tag");
	MPI_Get_count(&st, MPI_INT, &n);
	MT_EQ(n, 0, "Mrecv PROC_NULL count");
	MT_EQ(x, 42, "Mrecv PROC_NULL touched the buffer");
	MPI_Improbe(MPI_PROC_NULL, 3, MPI_COMM_WORLD, &flag, &msg, &st);
	MT_EQ(flag, 1, "Improbe of MPI_PROC_NULL");
	MT_CHECK(msg == MPI_MESSAGE_NO_PROC, "Improbe of MPI_PROC_NULL message");
	mt_say("MPI_PROC_NULL: MPI_MESSAGE_NO_PROC, empty receive");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_mprobe");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	test_matched();
	test_improbe_imrecv();
	test_proc_null();
	return mt_finish();
}
