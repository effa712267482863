/*
 * thread_selfdup.c - MPI_THREAD_MULTIPLE: one thread per rank duplicates
 * MPI_COMM_SELF over and over while another makes communicators with
 * MPI_Comm_create_group over MPI_COMM_WORLD's group.
 *
 * A regression test for dmtcp_mpi's dups of one-member communicators:
 * made as an MPI_Comm_idup in the proxy's main thread, MPICH 4.0's dup
 * of SELF retries its context-id allocation without end, inside the
 * idup and under MPICH's global lock, when one constructor of the same
 * proxy holds the eager part of the context-id mask and another the rest
 * (each waiting in MPI_Comm_create_group for the other rank): the job
 * hangs and the proxy grows by gigabytes (proxy/comm.c).  MPICH's
 * threads/comm/comm_create_group_threads found it, at 4 ranks and tens
 * of seconds; this is the same pattern at 2 ranks in about a second.
 *
 *   dupper     Comm_dup(SELF), then on the dup: size and rank, a message
 *              to itself, an Allreduce; Comm_free.  It goes on while the
 *              creators run (at least MIN_DUPS times), so dups keep coming
 *              while create_groups wait for the other rank.
 *   creator k  (NCREATORS threads) CREATES times
 *              Comm_create_group(parent k, its group, tag k), parent k
 *              being a dup of WORLD (MPICH 4.0.2 crashes natively given
 *              WORLD's own group there), then on the result: size, rank,
 *              comparison with WORLD, an Allreduce of the world ranks;
 *              Comm_free.  Two of them, so that one can hold the eager
 *              part of the mask while the other holds the rest.
 *
 * Output: one line per kind of thread (rank 0); the number of dups varies
 * from run to run and is not printed.
 */
/* ranks: 2 */
#include "mt.h"

#include <pthread.h>
#include <stdatomic.h>

#define CREATES 40      /* create_groups per creator thread */
#define NCREATORS 2     /* creator threads per rank */
#define MIN_DUPS 20     /* dups per rank, at least */

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int creators_left = NCREATORS;
static MPI_Comm parents[NCREATORS];
static int rank, size;

/* mt.h's records are not thread-safe. */
#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&fail_mu); \
	mt_fail_at(__LINE__, __VA_ARGS__); pthread_mutex_unlock(&fail_mu); } } while (0)

/* Use dup, a duplicate of SELF, in round i. */
static void use_self_dup(MPI_Comm dup, int i)
{
	int n = -1, me = -1, got = -1, sum = -1, v = i * 7 + rank;
	MPI_Status st;

	MPI_Comm_size(dup, &n);
	MPI_Comm_rank(dup, &me);
	CHECK(n == 1 && me == 0, "dup %d of SELF: size %d rank %d", i, n, me);
	MPI_Sendrecv(&v, 1, MPI_INT, 0, i, &got, 1, MPI_INT, 0, i, dup, &st);
	CHECK(got == v && st.MPI_SOURCE == 0 && st.MPI_TAG == i,
	      "dup %d of SELF: message %d from %d tag %d, expected %d", i, got,
	      st.MPI_SOURCE, st.MPI_TAG, v);
	MPI_Allreduce(&v, &sum, 1, MPI_INT, MPI_SUM, dup);
	CHECK(sum == v, "dup %d of SELF: Allreduce %d, expected %d", i, sum, v);
}

static void *dupper(void *arg)
{
	(void)arg;
	for (int i = 0; i < MIN_DUPS || atomic_load(&creators_left) > 0; i++) {
		MPI_Comm dup = MPI_COMM_NULL;
		int rc = MPI_Comm_dup(MPI_COMM_SELF, &dup);

		CHECK(rc == MPI_SUCCESS && dup != MPI_COMM_NULL, "dup %d of SELF: rc %d", i, rc);
		if (dup == MPI_COMM_NULL)
			break;
		use_self_dup(dup, i);
		MPI_Comm_free(&dup);
	}
	return NULL;
}

/* Use c, made by creator k's create_group over all of WORLD, in round i. */
static void use_world_copy(MPI_Comm c, int k, int i)
{
	int n = -1, me = -1, cmp = -1, sum = -1;

	MPI_Comm_size(c, &n);
	MPI_Comm_rank(c, &me);
	CHECK(n == size && me == rank, "creator %d, create_group %d: size %d rank %d", k, i, n,
	      me);
	MPI_Comm_compare(c, MPI_COMM_WORLD, &cmp);
	CHECK(cmp == MPI_CONGRUENT, "creator %d, create_group %d: compare with WORLD %d", k, i,
	      cmp);
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, c);
	CHECK(sum == size * (size - 1) / 2, "creator %d, create_group %d: Allreduce %d", k, i,
	      sum);
}

static void *creator(void *arg)
{
	int k = *(const int *)arg;

	for (int i = 0; i < CREATES; i++) {
		MPI_Group g;
		MPI_Comm c = MPI_COMM_NULL;

		MPI_Comm_group(parents[k], &g);
		int rc = MPI_Comm_create_group(parents[k], g, k, &c);
		MPI_Group_free(&g);
		CHECK(rc == MPI_SUCCESS && c != MPI_COMM_NULL, "creator %d, create_group %d: rc %d",
		      k, i, rc);
		if (c == MPI_COMM_NULL)
			break;
		use_world_copy(c, k, i);
		MPI_Comm_free(&c);
	}
	atomic_fetch_sub(&creators_left, 1);
	return NULL;
}

static void run_threads(void)
{
	static int ks[NCREATORS];
	pthread_t td, tc[NCREATORS];

	for (int k = 0; k < NCREATORS; k++)
		MPI_Comm_dup(MPI_COMM_WORLD, &parents[k]);
	pthread_create(&td, NULL, dupper, NULL);
	for (int k = 0; k < NCREATORS; k++) {
		ks[k] = k;
		pthread_create(&tc[k], NULL, creator, &ks[k]);
	}
	for (int k = 0; k < NCREATORS; k++)
		pthread_join(tc[k], NULL);
	pthread_join(td, NULL);
	for (int k = 0; k < NCREATORS; k++)
		MPI_Comm_free(&parents[k]);
}

int main(int argc, char **argv)
{
	int provided = -1;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	mt_begin("thread_selfdup");
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MT_EQ(provided, MPI_THREAD_MULTIPLE, "provided");
	if (provided == MPI_THREAD_MULTIPLE) {
		run_threads();
		mt_say("Comm_dup(MPI_COMM_SELF): at least %d made and used", MIN_DUPS);
		mt_say("Comm_create_group: %d threads, %d each made and used", NCREATORS,
		       CREATES);
	}
	return mt_finish();
}
