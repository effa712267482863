/*
 * intercomm.c - intercommunicators.  MPI_COMM_WORLD is split into the
 * even and the odd ranks; MPI_Intercomm_create joins the halves (leaders
 * world ranks 0 and 1, MPI_COMM_WORLD as the peer).  Checked:
 * MPI_Comm_test_inter (true, and false on an intracommunicator),
 * MPI_Comm_size and MPI_Comm_remote_size, MPI_Comm_remote_group as world
 * ranks, point-to-point across (rank i of one side with rank i of the
 * other, ranks naming the remote group), the same on a dup of the
 * intercommunicator, MPI_Intercomm_merge with the even side low and then
 * high (the merged order, as world ranks, is printed), and where the
 * MPI has them (MPI-4), MPI_Comm_create_from_group and
 * MPI_Intercomm_create_from_groups.  (Remote size and
 * group of an intracommunicator are erroneous; MPICH answers 1, Open MPI
 * 0 and MPI_ERR_COMM, so they are not tested.)
 */
/* ranks: 4 */
#include "mt.h"

#define NP 4

static int me;

static void say_members(MPI_Comm c, const char *what)
{
	int size, members[NP], n;
	char line[128];

	MPI_Comm_size(c, &size);
	MPI_Allgather(&me, 1, MPI_INT, members, 1, MPI_INT, c);
	n = snprintf(line, sizeof line, "%s:", what);
	for (int i = 0; i < size; i++)
		n += snprintf(line + n, sizeof line - n, " %d", members[i]);
	mt_say("%s", line);
}

/* Rank i of each side sends to rank i of the other and receives back. */
static void exchange_quiet(MPI_Comm inter)
{
	int r, out, in = -1;
	MPI_Status st;

	MPI_Comm_rank(inter, &r);
	out = 1000 + me;
	MPI_Sendrecv(&out, 1, MPI_INT, r, 5, &in, 1, MPI_INT, r, 5, inter, &st);
	MT_EQ(in, 1000 + (me % 2 ? me - 1 : me + 1), "value from the other side");
	MT_EQ(st.MPI_SOURCE, r, "status source (a remote rank)");
}

static void exchange(MPI_Comm inter, const char *what)
{
	exchange_quiet(inter);
	mt_say("%s: rank i of each side exchanged with rank i of the other", what);
}

int main(int argc, char **argv)
{
	MPI_Comm half, inter, dup, merged;
	MPI_Group remote;
	int size, flag = -1, rsize = -1, lsize = -1, members[NP];

	MPI_Init(&argc, &argv);
	mt_begin("intercomm");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != NP) {
		MT_FAIL("needs %d ranks, got %d", NP, size);
		return mt_finish();
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half);
	MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, me % 2 ? 0 : 1, 7, &inter);

	MPI_Comm_test_inter(inter, &flag);
	MT_EQ(flag, 1, "Comm_test_inter of the intercommunicator");
	MPI_Comm_test_inter(half, &flag);
	MT_EQ(flag, 0, "Comm_test_inter of an intracommunicator");
	MPI_Comm_size(inter, &lsize);
	MPI_Comm_remote_size(inter, &rsize);
	MT_CHECK(lsize == 2 && rsize == 2, "sizes %d local, %d remote", lsize, rsize);
	mt_say("test_inter 1 and 0; local size %d, remote size %d", lsize, rsize);

	MPI_Comm_remote_group(inter, &remote);
	int ranks[2] = { 0, 1 }, world[2];
	MPI_Group wg;
	MPI_Comm_group(MPI_COMM_WORLD, &wg);
	MPI_Group_translate_ranks(remote, 2, ranks, wg, world);
	int all[2 * NP];
	MPI_Gather(world, 2, MPI_INT, all, 2, MPI_INT, 0, MPI_COMM_WORLD);
	for (int r = 0; r < NP; r++)
		mt_say("remote group of world rank %d: %d %d", r, all[2 * r], all[2 * r + 1]);
	MPI_Group_free(&remote);
	MPI_Group_free(&wg);

	exchange(inter, "intercommunicator");
	MPI_Comm_dup(inter, &dup);
	MPI_Comm_test_inter(dup, &flag);
	MPI_Comm_remote_size(dup, &rsize);
	MT_CHECK(flag == 1 && rsize == 2, "the dup: test_inter %d, remote size %d", flag, rsize);
	exchange(dup, "its dup");
	MPI_Comm_free(&dup);

	/* Split and create on an intercommunicator make intercommunicators:
	 * everyone in color 0 with the keys reversed, then each side without
	 * its rank 0. */
	MPI_Comm split, made;
	int lr;
	MPI_Comm_rank(inter, &lr);
	MPI_Comm_split(inter, 0, -lr, &split);
	MPI_Comm_test_inter(split, &flag);
	MPI_Comm_remote_size(split, &rsize);
	MT_CHECK(flag == 1 && rsize == 2, "split of the intercommunicator: %d %d", flag, rsize);
	exchange(split, "a split of it (keys reversed)");
	MPI_Comm_free(&split);
	MPI_Group local, sub;
	int first = 0;
	MPI_Comm_group(inter, &local);
	MPI_Group_excl(local, 1, &first, &sub);
	MPI_Comm_create(inter, sub, &made);
	MT_EQ(made == MPI_COMM_NULL, lr == 0, "Comm_create of the intercommunicator: membership");
	if (made != MPI_COMM_NULL) {
		MPI_Comm_test_inter(made, &flag);
		MPI_Comm_remote_size(made, &rsize);
		MT_CHECK(flag == 1 && rsize == 1, "Comm_create of it: %d %d", flag, rsize);
		int out = me, in = -1;
		MPI_Sendrecv(&out, 1, MPI_INT, 0, 9, &in, 1, MPI_INT, 0, 9, made, MPI_STATUS_IGNORE);
		MT_EQ(in, me % 2 ? me - 1 : me + 1, "Comm_create of it: value across");
		MPI_Comm_free(&made);
	}
	MPI_Group_free(&sub);
	MPI_Group_free(&local);
	mt_say("Comm_create of it without local rank 0: world ranks 2 and 3 paired");

	MPI_Intercomm_merge(inter, me % 2, &merged);
	MPI_Comm_test_inter(merged, &flag);
	MT_EQ(flag, 0, "the merged communicator is an intracommunicator");
	say_members(merged, "merged, even side low");
	MPI_Comm_free(&merged);
	MPI_Intercomm_merge(inter, !(me % 2), &merged);
	say_members(merged, "merged, even side high");
	MPI_Allgather(&me, 1, MPI_INT, members, 1, MPI_INT, merged);
	MT_CHECK(members[0] % 2 == 1, "the odd side comes first when the even side is high");
	MPI_Comm_free(&merged);

#if MPI_VERSION >= 4
	/* MPI-4's constructors from groups (not in Open MPI 4.1): checked
	 * without printing, so every run prints the same. */
	MPI_Group wgroup, lg, rg;
	int mine[2] = { me % 2, me % 2 + 2 }, theirs[2] = { 1 - me % 2, 3 - me % 2 };
	MPI_Comm fg, fi;
	MPI_Comm_group(MPI_COMM_WORLD, &wgroup);
	MPI_Group_incl(wgroup, 2, mine, &lg);
	MPI_Group_incl(wgroup, 2, theirs, &rg);
	MPI_Comm_create_from_group(lg, "h11.half", MPI_INFO_NULL, MPI_ERRORS_RETURN, &fg);
	MPI_Comm_size(fg, &lsize);
	MT_EQ(lsize, 2, "Comm_create_from_group size");
	MPI_Intercomm_create_from_groups(lg, 0, rg, 0, "h11.inter", MPI_INFO_NULL,
					 MPI_ERRORS_RETURN, &fi);
	MPI_Comm_remote_size(fi, &rsize);
	MT_EQ(rsize, 2, "Intercomm_create_from_groups remote size");
	exchange_quiet(fi);
	MPI_Comm_free(&fi);
	MPI_Comm_free(&fg);
	MPI_Group_free(&lg);
	MPI_Group_free(&rg);
	MPI_Group_free(&wgroup);
#endif
	MPI_Comm_free(&inter);
	MPI_Comm_free(&half);
	return mt_finish();
}
