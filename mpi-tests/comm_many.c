/*
 * comm_many.c - many communicators made and freed in a mixed order, so
 * handles are reused while others stay alive: every round dups world,
 * splits the dup two ways by a rotating colour and key, builds a
 * communicator of a rotating pair with Comm_create_group on world (MPICH
 * 4.0.2 itself crashes in Comm_create_group on a dup), uses each for
 * an allreduce whose result is known, and frees them in an order that
 * changes with the round.  Live handles must stay distinct and each
 * communicator must reach exactly its own members.
 */
/* ranks: 3 */
#include "mt.h"

#define NP 3
#define ROUNDS 150
#define KEEP 4   /* communicators carried over into the next rounds */

static int me;

/* Sum of the world ranks of c's members, by allreduce and by the group. */
static void check_members(MPI_Comm c, const char *what, int round)
{
	MPI_Group wg, g;
	int size, idx[NP], w[NP], want = 0, got = -1;

	MPI_Comm_group(MPI_COMM_WORLD, &wg);
	MPI_Comm_group(c, &g);
	MPI_Group_size(g, &size);
	for (int i = 0; i < size; i++)
		idx[i] = i;
	MPI_Group_translate_ranks(g, size, idx, wg, w);
	for (int i = 0; i < size; i++)
		want += w[i];
	MPI_Allreduce(&me, &got, 1, MPI_INT, MPI_SUM, c);
	MT_CHECK(got == want, "round %d %s: members' world ranks sum to %d, expected %d",
		 round, what, got, want);
	MPI_Group_free(&g);
	MPI_Group_free(&wg);
}

int main(int argc, char **argv)
{
	MPI_Comm keep[KEEP];
	MPI_Group world;
	int size = 0, nkeep = 0;
	long total = 0;

	MPI_Init(&argc, &argv);
	mt_begin("comm_many");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != NP) {
		MT_FAIL("needs %d ranks, got %d", NP, size);
		return mt_finish();
	}
	MPI_Comm_group(MPI_COMM_WORLD, &world);
	for (int round = 0; round < ROUNDS; round++) {
		MPI_Comm d, s, p = MPI_COMM_NULL;
		int pair[2] = { round % NP, (round + 1) % NP }, r = -1;
		MPI_Group pg;

		MPI_Comm_dup(MPI_COMM_WORLD, &d);
		MPI_Comm_split(d, (me + round) % 2, (me * 7 + round) % NP, &s);
		MPI_Group_incl(world, 2, pair, &pg);
		if (me == pair[0] || me == pair[1]) {
			MPI_Comm_create_group(MPI_COMM_WORLD, pg, round, &p);
			MPI_Comm_rank(p, &r);
			MT_EQ(r, me == pair[0] ? 0 : 1, "rank in the pair");
		}
		MPI_Group_free(&pg);
		MT_CHECK(d != s && d != p && s != p, "round %d: two live communicators share a handle",
			 round);
		for (int i = 0; i < nkeep; i++)
			MT_CHECK(keep[i] != d && keep[i] != s && keep[i] != p,
				 "round %d: a new handle equals a live one", round);
		check_members(d, "dup", round);
		check_members(s, "split", round);
		if (p != MPI_COMM_NULL)
			check_members(p, "pair", round);
		MPI_Comm_size(s, &size);
		total += size;
		/* Keep the dup or the split (every rank has both, so all
		 * free the same ones in the same order) for a few rounds;
		 * free the rest in a round-dependent order. */
		MPI_Comm *mine[3] = { &d, &s, &p };
		int kept = round % 2;
		for (int i = 0; i < 3; i++) {
			MPI_Comm *c = mine[(round + i) % 3];
			if (c == mine[kept] || *c == MPI_COMM_NULL)
				continue;
			MPI_Comm_free(c);
		}
		if (nkeep == KEEP) {
			MPI_Comm_free(&keep[round % KEEP]);
			keep[round % KEEP] = *mine[kept];
		} else {
			keep[nkeep++] = *mine[kept];
		}
	}
	for (int i = 0; i < nkeep; i++)
		MPI_Comm_free(&keep[i]);
	MPI_Group_free(&world);
	mt_say("%d rounds; split sizes seen by rank 0 add up to %ld", ROUNDS, total);
	return mt_finish();
}
