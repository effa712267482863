/*
 * comm_cgtag.c - MPI_Comm_create_group over MPI_COMM_WORLD leaves the
 * application's messages on WORLD alone, whatever their tag.
 *
 * The standard says the tag of MPI_Comm_create_group does not conflict
 * with point-to-point tags.  Open MPI 4.1.4 sends the call's own messages
 * on the parent's point-to-point traffic under that tag, so natively a
 * message on WORLD with the same tag, sent before the call, is taken by
 * it (the call then fails with MPI_ERR_INTERN), and a wildcard receive
 * posted before the call takes one of the call's messages.  Through
 * dmtcp_mpi the proxy makes them on a private dup of WORLD under Open MPI
 * (proxy/comm.c), so the checks hold under both MPIs; natively under Open
 * MPI they are skipped and the same lines printed, so the outputs agree.
 * Checked:
 *   - rank 0 sends a double on WORLD with tag 77, both make a
 *     communicator with tag 77, rank 1 then receives the double whole;
 *   - rank 1 has a receive of any source and any tag pending on WORLD
 *     across MPI_Comm_create_group and (MPI-4) MPI_Comm_create_from_group,
 *     whose tag the application cannot know; it gets the message rank 0
 *     sends after them, and nothing else;
 *   - each new communicator works (an Allreduce of the ranks).
 */
/* ranks: 2 */
#include "mt.h"

#define TAG 77
#define VALUE 3.5

#if defined(OPEN_MPI) && !defined(MPI_ABI_VERSION)
#define CLASH_CHECKED 0 /* native Open MPI 4.1: the clash is its own */
#else
#define CLASH_CHECKED 1
#endif

static int me;
static MPI_Group world;

static void check_works(MPI_Comm c, const char *what)
{
	int sum = -1;

	MT_CHECK(c != MPI_COMM_NULL, "%s: no communicator", what);
	if (c == MPI_COMM_NULL)
		return;
	MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, c);
	MT_EQ(sum, 1, "Allreduce of the ranks on the new communicator");
	MPI_Comm_free(&c);
}

/* A message on WORLD with the tag of the Comm_create_group after it. */
static void message_before(void)
{
	double x = VALUE, y = 0;
	MPI_Status st;
	MPI_Comm c = MPI_COMM_NULL;
	int bytes = -1;

	if (me == 0)
		MPI_Send(&x, 1, MPI_DOUBLE, 1, TAG, MPI_COMM_WORLD);
	MT_EQ(MPI_Comm_create_group(MPI_COMM_WORLD, world, TAG, &c), MPI_SUCCESS,
	      "Comm_create_group with a message of its tag pending");
	check_works(c, "Comm_create_group");
	if (me == 1) {
		MPI_Recv(&y, 1, MPI_DOUBLE, 0, TAG, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_BYTE, &bytes);
		MT_CHECK(y == VALUE, "the message sent before: got %g, sent %g", y, VALUE);
		MT_EQ(bytes, (int)sizeof(double), "bytes of the message sent before");
	}
	mt_say("a message of the call's tag sent before Comm_create_group arrives whole");
}

/* make: a communicator of both ranks, made while rank 1 has a wildcard
 * receive pending on WORLD. */
static void wildcard_across(int (*make)(MPI_Comm *), const char *what)
{
	MPI_Request r = MPI_REQUEST_NULL;
	MPI_Status st;
	MPI_Comm c = MPI_COMM_NULL;
	int got = -1, sent = 4242;

	if (me == 1)
		MPI_Irecv(&got, 1, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &r);
	MT_EQ(make(&c), MPI_SUCCESS, what);
	check_works(c, what);
	if (me == 0)
		MPI_Send(&sent, 1, MPI_INT, 1, TAG + 1, MPI_COMM_WORLD);
	if (me == 1) {
		MPI_Wait(&r, &st);
		MT_EQ(got, sent, "the wildcard receive's value");
		MT_EQ(st.MPI_TAG, TAG + 1, "the wildcard receive's tag");
		MT_EQ(st.MPI_SOURCE, 0, "the wildcard receive's source");
	}
	mt_say("a wildcard receive pending across %s gets the application's message", what);
}

static int make_create_group(MPI_Comm *c)
{
	return MPI_Comm_create_group(MPI_COMM_WORLD, world, TAG, c);
}

#if MPI_VERSION >= 4
static int make_from_group(MPI_Comm *c)
{
	return MPI_Comm_create_from_group(world, "comm_cgtag.from_group", MPI_INFO_NULL,
					  MPI_ERRORS_RETURN, c);
}
#endif

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("comm_cgtag");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_group(MPI_COMM_WORLD, &world);
	if (CLASH_CHECKED) {
		message_before();
		wildcard_across(make_create_group, "Comm_create_group");
	} else {
		mt_say("a message of the call's tag sent before Comm_create_group arrives whole");
		mt_say("a wildcard receive pending across %s gets the application's message",
		       "Comm_create_group");
	}
#if MPI_VERSION >= 4
	wildcard_across(make_from_group, "Comm_create_from_group");
#else
	mt_say("a wildcard receive pending across %s gets the application's message",
	       "Comm_create_from_group");
#endif
	MPI_Group_free(&world);
	return mt_finish();
}
