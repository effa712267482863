/*
 * thread_ctors.c - MPI_THREAD_MULTIPLE: topology and intercommunicator
 * constructors of two threads on different communicators, entered in
 * crossed orders, must not wait for each other.
 *
 * For each constructor (Cart_create, Cart_sub, Graph_create,
 * Dist_graph_create_adjacent, Dist_graph_create, Intercomm_create,
 * Intercomm_merge) two threads per rank make one communicator each, from
 * two different parents: rank 0's first thread makes the one of parent
 * 0, rank 1's first thread that of parent 1; each rank's second thread
 * makes the other, rank 1's only after a message from rank 0's second
 * thread.  So rank 0 is inside constructor 0 while rank 1 is inside
 * constructor 1, and each needs the other rank's second thread to get
 * into MPI: a constructor that kept its rank's way into MPI (or its
 * proxy's only thread) while it waits for the other member hangs here.
 * Every new communicator is then checked: its size, an Allreduce on it,
 * and what its topology or remote group says.
 *
 * Output: one line per constructor (rank 0).
 */
/* ranks: 2 */
#include "mt.h"

#include <pthread.h>

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static int rank;

/* mt.h's records are not thread-safe. */
#define CHECK(cond, ...) do { if (!(cond)) { pthread_mutex_lock(&fail_mu); \
	mt_fail_at(__LINE__, __VA_ARGS__); pthread_mutex_unlock(&fail_mu); } } while (0)

enum ctor { CART, CART_SUB, GRAPH, DIST_ADJ, DIST, INTER, MERGE, NCTORS };
static const char *const names[NCTORS] = {
	"Cart_create", "Cart_sub", "Graph_create", "Dist_graph_create_adjacent",
	"Dist_graph_create", "Intercomm_create", "Intercomm_merge",
};

static enum ctor which;
/* Per parent k: the world's duplicate, a 2x1 cart of it (for Cart_sub),
 * an intercommunicator over it (for Intercomm_merge); what was made. */
static MPI_Comm plain[2], cart[2], inter[2], made[2];

/* The sum of the ranks of comm's members, by an Allreduce on it. */
static void check_allreduce(MPI_Comm comm, int size, int k)
{
	int me = -1, sum = -1;

	MPI_Comm_rank(comm, &me);
	MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, comm);
	CHECK(sum == size * (size - 1) / 2, "%s %d: Allreduce %d", names[which], k, sum);
}

static void check_intra(MPI_Comm comm, int want_size, int k)
{
	int size = -1;

	MPI_Comm_size(comm, &size);
	CHECK(size == want_size, "%s %d: size %d, expected %d", names[which], k, size,
	      want_size);
	check_allreduce(comm, want_size, k);
}

/* Make the communicator of the current kind from parent k, and check it. */
static void make(int k)
{
	int index[2] = { 1, 2 }, edges[2] = { 1, 0 };
	int dims[1] = { 2 }, periods[1] = { 1 }, remain[2] = { 1, 0 };
	int other = 1 - rank, degree = 1, weight = 3, in = -1, out = -1, w = -1, status = -1, n = -1;
	MPI_Comm comm = MPI_COMM_NULL;

	switch (which) {
	case CART:
		MPI_Cart_create(plain[k], 1, dims, periods, 0, &comm);
		MPI_Topo_test(comm, &status);
		CHECK(status == MPI_CART, "Cart_create %d: topology %d", k, status);
		break;
	case CART_SUB:
		MPI_Cart_sub(cart[k], remain, &comm);
		MPI_Cartdim_get(comm, &n);
		CHECK(n == 1, "Cart_sub %d: %d dimensions", k, n);
		break;
	case GRAPH:
		MPI_Graph_create(plain[k], 2, index, edges, 0, &comm);
		MPI_Graph_neighbors_count(comm, rank, &n);
		CHECK(n == 1, "Graph_create %d: %d neighbours", k, n);
		break;
	case DIST_ADJ:
		MPI_Dist_graph_create_adjacent(plain[k], 1, &other, &weight, 1, &other, &weight,
					       MPI_INFO_NULL, 0, &comm);
		MPI_Dist_graph_neighbors_count(comm, &in, &out, &w);
		CHECK(in == 1 && out == 1, "Dist_graph_create_adjacent %d: %d in, %d out", k, in,
		      out);
		break;
	case DIST:
		MPI_Dist_graph_create(plain[k], 1, &rank, &degree, &other, &weight,
				      MPI_INFO_NULL, 0, &comm);
		MPI_Dist_graph_neighbors_count(comm, &in, &out, &w);
		CHECK(in == 1 && out == 1, "Dist_graph_create %d: %d in, %d out", k, in, out);
		break;
	case INTER:
		MPI_Intercomm_create(MPI_COMM_SELF, 0, plain[k], other, 60 + k, &comm);
		MPI_Comm_remote_size(comm, &n);
		CHECK(n == 1, "Intercomm_create %d: remote size %d", k, n);
		break;
	case MERGE:
		MPI_Intercomm_merge(inter[k], rank, &comm);
		MPI_Comm_rank(comm, &n);
		CHECK(n == rank, "Intercomm_merge %d: rank %d, expected %d", k, n, rank);
		break;
	default:
		break;
	}
	CHECK(comm != MPI_COMM_NULL, "%s %d: MPI_COMM_NULL", names[which], k);
	if (comm == MPI_COMM_NULL)
		return;
	if (which == INTER) {
		/* One member each side: an Allreduce sums the remote rank. */
		int sum = -1, zero = 0;
		MPI_Allreduce(&zero, &sum, 1, MPI_INT, MPI_SUM, comm);
		CHECK(sum == 0, "Intercomm_create %d: Allreduce %d", k, sum);
	} else {
		check_intra(comm, 2, k);
	}
	made[k] = comm;
}

/* Rank 0 makes from parent 0 at once, rank 1 from parent 1. */
static void *first(void *arg)
{
	(void)arg;
	make(rank == 0 ? 0 : 1);
	return NULL;
}

/* Rank 1 makes from parent 0 only once rank 0's message came. */
static void *second(void *arg)
{
	int go = 1;

	(void)arg;
	if (rank == 0) {
		MPI_Send(&go, 1, MPI_INT, 1, 50, MPI_COMM_WORLD);
		make(1);
	} else {
		MPI_Recv(&go, 1, MPI_INT, 0, 50, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		make(0);
	}
	return NULL;
}

static void crossed(enum ctor c)
{
	pthread_t ta, tb;

	which = c;
	pthread_create(&ta, NULL, first, NULL);
	pthread_create(&tb, NULL, second, NULL);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	for (int k = 0; k < 2; k++)
		if (made[k] != MPI_COMM_NULL)
			MPI_Comm_free(&made[k]);
	mt_say("%s: two made in crossed orders", names[c]);
}

static void parents(void)
{
	int dims[2] = { 2, 1 }, periods[2] = { 0, 0 };

	for (int k = 0; k < 2; k++) {
		MPI_Comm_dup(MPI_COMM_WORLD, &plain[k]);
		MPI_Cart_create(plain[k], 2, dims, periods, 0, &cart[k]);
		MPI_Intercomm_create(MPI_COMM_SELF, 0, plain[k], 1 - rank, 70 + k, &inter[k]);
		made[k] = MPI_COMM_NULL;
	}
}

int main(int argc, char **argv)
{
	int provided = -1, size = 0;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	mt_begin("thread_ctors");
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MT_EQ(provided, MPI_THREAD_MULTIPLE, "provided");
	MT_EQ(size, 2, "ranks");
	if (size == 2 && provided == MPI_THREAD_MULTIPLE) {
		parents();
		for (enum ctor c = 0; c < NCTORS; c++)
			crossed(c);
		for (int k = 0; k < 2; k++) {
			MPI_Comm_free(&inter[k]);
			MPI_Comm_free(&cart[k]);
			MPI_Comm_free(&plain[k]);
		}
	}
	return mt_finish();
}
