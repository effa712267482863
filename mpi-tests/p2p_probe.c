/*
 * p2p_probe.c - Probe and Iprobe (fixed source and tag, MPI_PROC_NULL,
 * no message yet, probing twice does not consume), and Get_count /
 * Get_elements / Get_elements_x on the statuses: the same message counted
 * in several basic types, and a length no type divides (MPI_UNDEFINED).
 * The shim must translate statuses so that these stay right.  Counts in
 * a derived type, where count and elements differ, are in p2p_derived.c.
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

static void test_probe_counts(void)
{
	double d[37];
	char c[7] = "abcdef";
	MPI_Status st, st2;

	if (me == 0) {
		for (int i = 0; i < 37; i++)
			d[i] = i / 4.0;
		MPI_Send(d, 37, MPI_DOUBLE, 1, 4, MPI_COMM_WORLD);
		MPI_Send(c, 7, MPI_CHAR, 1, 5, MPI_COMM_WORLD);
		MPI_Send(NULL, 0, MPI_DOUBLE, 1, 6, MPI_COMM_WORLD);
		return;
	}
	MPI_Probe(0, 4, MPI_COMM_WORLD, &st);
	MPI_Probe(0, 4, MPI_COMM_WORLD, &st2);
	MT_CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 4, "probe status source/tag");
	expect_counts(&st, MPI_DOUBLE, 37, 37, "probe 37 doubles as double");
	expect_counts(&st2, MPI_DOUBLE, 37, 37, "second probe of the same message");
	expect_counts(&st, MPI_INT, 74, 74, "probe 37 doubles as int");
	expect_counts(&st, MPI_BYTE, 296, 296, "probe 37 doubles as byte");
	MPI_Recv(d, 37, MPI_DOUBLE, 0, 4, MPI_COMM_WORLD, &st);
	expect_counts(&st, MPI_DOUBLE, 37, 37, "recv 37 doubles");
	MT_CHECK(d[36] == 9.0, "last double %g", d[36]);

	MPI_Probe(0, 5, MPI_COMM_WORLD, &st);
	expect_counts(&st, MPI_CHAR, 7, 7, "probe 7 chars as char");
	expect_counts(&st, MPI_INT, MPI_UNDEFINED, MPI_UNDEFINED, "probe 7 chars as int");
	MPI_Recv(c, 7, MPI_CHAR, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	MT_CHECK(strcmp(c, "abcdef") == 0, "chars received as '%s'", c);

	MPI_Probe(0, 6, MPI_COMM_WORLD, &st);
	expect_counts(&st, MPI_DOUBLE, 0, 0, "probe zero-count message");
	MPI_Recv(d, 37, MPI_DOUBLE, 0, 6, MPI_COMM_WORLD, &st);
	expect_counts(&st, MPI_DOUBLE, 0, 0, "recv zero-count message");
}

static void test_iprobe(void)
{
	int flag = 1, v = 0;
	MPI_Status st;

	if (me == 0) {
		MPI_Barrier(MPI_COMM_WORLD);
		v = 31;
		MPI_Send(&v, 1, MPI_INT, 1, 9, MPI_COMM_WORLD);
	} else {
		MPI_Iprobe(0, 9, MPI_COMM_WORLD, &flag, &st);
		MT_EQ(flag, 0, "Iprobe before anything was sent");
		MPI_Barrier(MPI_COMM_WORLD);
		for (flag = 0; !flag;)
			MPI_Iprobe(0, 9, MPI_COMM_WORLD, &flag, &st);
		MT_CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 9, "Iprobe status source/tag");
		expect_counts(&st, MPI_INT, 1, 1, "Iprobe count");
		MPI_Iprobe(0, 9, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
		MT_EQ(flag, 1, "second Iprobe of the same message");
		MPI_Recv(&v, 1, MPI_INT, 0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_EQ(v, 31, "value received after Iprobe");
		MPI_Iprobe(0, 9, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
		MT_EQ(flag, 0, "Iprobe after the message was received");
	}
	mt_say("iprobe: nothing before the send, found after, gone after recv");
}

static void test_probe_proc_null(void)
{
	int flag = 0;
	MPI_Status st;

	MPI_Probe(MPI_PROC_NULL, 3, MPI_COMM_WORLD, &st);
	MT_CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG,
		 "Probe of MPI_PROC_NULL: source %d tag %d", st.MPI_SOURCE, st.MPI_TAG);
	expect_counts(&st, MPI_INT, 0, 0, "Probe of MPI_PROC_NULL");
	MPI_Iprobe(MPI_PROC_NULL, 3, MPI_COMM_WORLD, &flag, &st);
	MT_EQ(flag, 1, "Iprobe of MPI_PROC_NULL flag");
	MT_CHECK(st.MPI_SOURCE == MPI_PROC_NULL, "Iprobe of MPI_PROC_NULL source %d", st.MPI_SOURCE);
	mt_say("probe proc_null: immediate, empty status");
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("p2p_probe");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	test_probe_counts();
	mt_say("probe counts: 37 doubles = 74 ints = 296 bytes; 7 chars not ints; zero count");
	test_iprobe();
	test_probe_proc_null();
	return mt_finish();
}
