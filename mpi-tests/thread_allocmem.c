/*
 * thread_allocmem.c - MPI_Alloc_mem memory under MPI_THREAD_MULTIPLE.
 * dmtcp_mpi hands such memory to the real MPI in place (shim/mem.c) and
 * keeps its table under the shim's state lock, and blocking calls under
 * MULTIPLE become nonblocking ones plus polls (shim/mtwait.c).  NT
 * threads per rank each allocate their own blocks every round, exchange
 * with the peer's thread of the same number (its own tag) by Sendrecv
 * and by Sendrecv_replace (whose send must be a copy: the receive lands
 * in the same bytes), check what came, and free the blocks again.
 */
#include "mt.h"

#include <pthread.h>

#define NT 3          /* threads per rank */
#define ROUNDS 40
#define LEN 40000     /* ints per message: past the eager limits */

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static int rank, peer;

/* mt.h's records are not thread-safe. */
#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&fail_mu); \
	mt_fail_at(__LINE__, __VA_ARGS__); pthread_mutex_unlock(&fail_mu); } } while (0)

static int val(int t, int round, int from, int i)
{
	return t * 1000003 + round * 10007 + from * 101 + i;
}

static int wrong(const int *v, int t, int round, int from)
{
	int bad = 0;

	for (int i = 0; i < LEN; i++)
		bad += v[i] != val(t, round, from, i);
	return bad;
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;

	for (int k = 0; k < ROUNDS; k++) {
		int *s = NULL, *r = NULL;
		if (MPI_Alloc_mem(LEN * sizeof(int), MPI_INFO_NULL, &s) != MPI_SUCCESS ||
		    MPI_Alloc_mem(LEN * sizeof(int), MPI_INFO_NULL, &r) != MPI_SUCCESS) {
			CHECK(0, "thread %d: MPI_Alloc_mem failed", t);
			return NULL;
		}
		for (int i = 0; i < LEN; i++)
			s[i] = val(t, k, rank, i);
		MPI_Sendrecv(s, LEN, MPI_INT, peer, t, r, LEN, MPI_INT, peer, t, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
		CHECK(!wrong(r, t, k, peer), "thread %d round %d: Sendrecv: wrong ints", t, k);
		MPI_Sendrecv_replace(s, LEN, MPI_INT, peer, NT + t, peer, NT + t, MPI_COMM_WORLD,
				     MPI_STATUS_IGNORE);
		CHECK(!wrong(s, t, k, peer), "thread %d round %d: Sendrecv_replace: wrong ints",
		      t, k);
		MPI_Free_mem(r);
		MPI_Free_mem(s);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int provided;
	pthread_t th[NT];

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	mt_begin("thread_allocmem");
	rank = mt_rank();
	peer = 1 - rank;
	MT_EQ(provided, MPI_THREAD_MULTIPLE, "provided thread level");
	for (int t = 0; t < NT; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < NT; t++)
		pthread_join(th[t], NULL);
	mt_say("%d threads x %d rounds: ok", NT, ROUNDS);
	return mt_finish();
}
