/*
 * nbr_overlap.c - nonblocking and persistent neighbourhood collectives
 * on Cartesian communicators where one process is both neighbours of a
 * dimension: the start returns before the exchange is done, and every
 * completion call completes them.
 *
 * Two communicators of 2 ranks: "ring", 1-D periodic (the other rank is
 * both neighbours), and "slab", 2 x 1 with its second dimension periodic
 * (in the first, one real neighbour and one MPI_PROC_NULL; in the second,
 * the rank itself both ways).  dmtcp_mpi's proxy exchanges such blocks
 * itself (proxy/neighbor.c).  In each case rank 0 starts the collective
 * (MPI_Ineighbor_*, or MPI_Start of an MPI_Neighbor_*_init request) and
 * then sends rank 1 a token; rank 1 starts its own only once it has the
 * token, so a start that waits for the exchange hangs here.  Both then
 * complete it, each case with another completion call: Wait, Test,
 * Waitall, Waitany, Waitsome, Testall, Testany, Testsome and
 * Request_get_status.  A persistent request is started twice, with new
 * data each time.  (MPI_Request_free of an active collective request is
 * erroneous, and MPICH rejects it.)
 *
 * A sender sends the same data to a process that is both its neighbours
 * in a dimension: the native MPIs pair those two blocks differently
 * (Open MPI 4.1's Ineighbor_alltoall swaps them).  Every received value
 * is checked, and so are the gaps between blocks and the blocks of
 * MPI_PROC_NULL neighbours, which must keep their bytes.
 *
 * Last, on a fresh ring, a nonblocking alltoall, then a blocking one
 * before the first is waited for: their messages must not mix.
 *
 * Where the MPI has no persistent collectives (natively: Open MPI 4.1,
 * and MPICH 4.0's are wrong, see coll_persist.c) those cases are skipped
 * and the same lines printed.
 */
/* ranks: 2 */
#include "mt.h"

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && !(defined(MPICH_VERSION) && MPI_SUBVERSION == 0))
#define PERSISTENT_COLLECTIVES 1
#endif

enum kind { ALLGATHER, ALLGATHERV, ALLTOALL, ALLTOALLV, ALLTOALLW, NKINDS };
static const char *const kind_names[NKINDS] = {
	"allgather", "allgatherv", "alltoall", "alltoallv", "alltoallw",
};

enum done { WAIT, TEST, WAITALL, WAITANY, WAITSOME, TESTALL, TESTANY, TESTSOME, GET_STATUS,
	    NDONES };
static const char *const done_names[NDONES] = {
	"Wait", "Test", "Waitall", "Waitany", "Waitsome", "Testall", "Testany", "Testsome",
	"Request_get_status",
};

#define NB 4            /* most blocks each way (the slab's 2 dimensions) */
#define SLOT 8          /* ints per block's place in a v-variant buffer */
#define LEN (NB * SLOT)
#define UNTOUCHED (-7)  /* what a receive buffer holds where nothing lands */
#define TOKEN_TAG 7

/* A Cartesian communicator and this rank's neighbours on it. */
struct topo {
	const char *name;
	MPI_Comm comm;
	int n;                  /* blocks each way */
	int nb[NB];             /* neighbour k (MPI_PROC_NULL off an edge) */
	int same[NB];           /* first block going where block k goes */
};

/* One collective's buffers and arrays, which must live until it
 * completes. */
struct call {
	int sbuf[LEN], rbuf[LEN];
	int scnt[NB], sdsp[NB], rcnt[NB], rdsp[NB];
	MPI_Aint swd[NB], rwd[NB];
	MPI_Datatype ty[NB];
};

static int me;
static int round_no;    /* one per start, so no two starts send alike */

/* Element e of the data sender s sends as (canonical) block j in kind k. */
static int val(int s, enum kind k, int j, int e)
{
	return 1000000 * s + 10000 * round_no + 100 * (int)k + 10 * j + e + 1;
}

/* Elements in sender s's (canonical) block j of a v variant. */
static int count_of(int s, int j)
{
	return 1 + s + j;
}

static int is_v(enum kind k)
{
	return k == ALLGATHERV || k == ALLTOALLV || k == ALLTOALLW;
}

/* Where block i starts: the v variants leave a gap of one element
 * before each block. */
static int block_at(enum kind k, int i)
{
	return is_v(k) ? i * SLOT + 1 : i * 3;
}

/* The canonical block this rank sends as block j (allgathers send one). */
static int sent_as(const struct topo *t, enum kind k, int j)
{
	return k == ALLGATHER || k == ALLGATHERV ? 0 : t->same[j];
}

static int sent_count(int s, const struct topo *t, enum kind k, int j)
{
	return is_v(k) ? count_of(s, sent_as(t, k, j)) : 3;
}

/* Fill c for a collective of kind k on t in this round. */
static void prepare(struct call *c, const struct topo *t, enum kind k)
{
	for (int e = 0; e < LEN; e++)
		c->sbuf[e] = c->rbuf[e] = UNTOUCHED;
	for (int j = 0; j < t->n; j++) {
		int nsend = k == ALLGATHER || k == ALLGATHERV ? 1 : t->n;
		if (j < nsend)
			for (int e = 0; e < sent_count(me, t, k, j); e++)
				c->sbuf[block_at(k, j) + e] = val(me, k, sent_as(t, k, j), e);
		c->scnt[j] = sent_count(me, t, k, j);
		c->sdsp[j] = block_at(k, j);
		/* Block i comes from neighbour i, which sent it as its block
		 * i ^ 1 (we are on that side of it); the two topologies are
		 * alike on both ranks, so its canonical blocks are ours. */
		c->rcnt[j] = t->nb[j] == MPI_PROC_NULL ? 2 : sent_count(t->nb[j], t, k, j ^ 1);
		c->rdsp[j] = block_at(k, j);
		c->swd[j] = (MPI_Aint)c->sdsp[j] * (MPI_Aint)sizeof(int);
		c->rwd[j] = (MPI_Aint)c->rdsp[j] * (MPI_Aint)sizeof(int);
		c->ty[j] = MPI_INT;
	}
}

static int start_nonblocking(struct call *c, const struct topo *t, enum kind k, MPI_Request *r)
{
	switch (k) {
	case ALLGATHER:
		return MPI_Ineighbor_allgather(c->sbuf, 3, MPI_INT, c->rbuf, 3, MPI_INT, t->comm, r);
	case ALLGATHERV:
		return MPI_Ineighbor_allgatherv(c->sbuf + block_at(k, 0), c->scnt[0], MPI_INT, c->rbuf, c->rcnt,
						c->rdsp, MPI_INT, t->comm, r);
	case ALLTOALL:
		return MPI_Ineighbor_alltoall(c->sbuf, 3, MPI_INT, c->rbuf, 3, MPI_INT, t->comm, r);
	case ALLTOALLV:
		return MPI_Ineighbor_alltoallv(c->sbuf, c->scnt, c->sdsp, MPI_INT, c->rbuf,
					       c->rcnt, c->rdsp, MPI_INT, t->comm, r);
	case ALLTOALLW:
		return MPI_Ineighbor_alltoallw(c->sbuf, c->scnt, c->swd, c->ty, c->rbuf, c->rcnt,
					       c->rwd, c->ty, t->comm, r);
	default:
		return MPI_ERR_OTHER;
	}
}

#ifdef PERSISTENT_COLLECTIVES
static int init_persistent(struct call *c, const struct topo *t, enum kind k, MPI_Request *r)
{
	switch (k) {
	case ALLGATHER:
		return MPI_Neighbor_allgather_init(c->sbuf, 3, MPI_INT, c->rbuf, 3, MPI_INT,
						   t->comm, MPI_INFO_NULL, r);
	case ALLGATHERV:
		return MPI_Neighbor_allgatherv_init(c->sbuf + block_at(k, 0), c->scnt[0], MPI_INT, c->rbuf,
						    c->rcnt, c->rdsp, MPI_INT, t->comm,
						    MPI_INFO_NULL, r);
	case ALLTOALL:
		return MPI_Neighbor_alltoall_init(c->sbuf, 3, MPI_INT, c->rbuf, 3, MPI_INT,
						  t->comm, MPI_INFO_NULL, r);
	case ALLTOALLV:
		return MPI_Neighbor_alltoallv_init(c->sbuf, c->scnt, c->sdsp, MPI_INT, c->rbuf,
						   c->rcnt, c->rdsp, MPI_INT, t->comm,
						   MPI_INFO_NULL, r);
	case ALLTOALLW:
		return MPI_Neighbor_alltoallw_init(c->sbuf, c->scnt, c->swd, c->ty, c->rbuf,
						   c->rcnt, c->rwd, c->ty, t->comm,
						   MPI_INFO_NULL, r);
	default:
		return MPI_ERR_OTHER;
	}
}
#endif

/* Check what arrived in c: each block from its neighbour, nothing else
 * touched. */
static void check(const struct call *c, const struct topo *t, enum kind k)
{
	int want[LEN];

	for (int e = 0; e < LEN; e++)
		want[e] = UNTOUCHED;
	for (int i = 0; i < t->n; i++) {
		int s = t->nb[i];
		if (s == MPI_PROC_NULL)
			continue;
		for (int e = 0; e < sent_count(s, t, k, i ^ 1); e++)
			want[block_at(k, i) + e] = val(s, k, sent_as(t, k, i ^ 1), e);
	}
	for (int e = 0; e < LEN; e++)
		MT_CHECK(c->rbuf[e] == want[e], "%s on %s, round %d: rbuf[%d] = %d, expected %d",
			 kind_names[k], t->name, round_no, e, c->rbuf[e], want[e]);
}

/* Complete *r with completion call d (a second, null request alongside
 * for the array forms). */
static void complete(MPI_Request *r, enum done d)
{
	MPI_Request a[2] = { *r, MPI_REQUEST_NULL };
	MPI_Status st[2];
	int flag = 0, idx = -1, out = 0, idxs[2], rc = MPI_SUCCESS;

	switch (d) {
	case WAIT:
		rc = MPI_Wait(r, &st[0]);
		break;
	case TEST:
		while (rc == MPI_SUCCESS && !flag)
			rc = MPI_Test(r, &flag, &st[0]);
		break;
	case WAITALL:
		rc = MPI_Waitall(2, a, st);
		break;
	case WAITANY:
		rc = MPI_Waitany(2, a, &idx, &st[0]);
		MT_EQ(idx, 0, "Waitany's index");
		break;
	case WAITSOME:
		rc = MPI_Waitsome(2, a, &out, idxs, st);
		MT_CHECK(out == 1 && idxs[0] == 0, "Waitsome: %d completed", out);
		break;
	case TESTALL:
		while (rc == MPI_SUCCESS && !flag)
			rc = MPI_Testall(2, a, &flag, st);
		break;
	case TESTANY:
		while (rc == MPI_SUCCESS && !flag)
			rc = MPI_Testany(2, a, &idx, &flag, &st[0]);
		MT_EQ(idx, 0, "Testany's index");
		break;
	case TESTSOME:
		while (rc == MPI_SUCCESS && out == 0)
			rc = MPI_Testsome(2, a, &out, idxs, st);
		MT_CHECK(out == 1 && idxs[0] == 0, "Testsome: %d completed", out);
		break;
	case GET_STATUS:
		while (rc == MPI_SUCCESS && !flag)
			rc = MPI_Request_get_status(*r, &flag, &st[0]);
		MT_CHECK(*r != MPI_REQUEST_NULL, "Request_get_status freed the request");
		if (rc == MPI_SUCCESS)
			rc = MPI_Wait(r, &st[0]);
		break;
	default:
		break;
	}
	if (d >= WAITALL && d <= TESTSOME)
		*r = a[0];
	MT_CHECK(rc == MPI_SUCCESS, "%s: error %d", done_names[d], rc);
}

/* Rank 0 starts, then lets rank 1 start: neither may wait for the other
 * in its start. */
static void start_then_token(MPI_Request *r, int persistent, struct call *c,
			     const struct topo *t, enum kind k)
{
	int token = round_no, rc;

	if (me == 1)
		MPI_Recv(&token, 1, MPI_INT, 0, TOKEN_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	rc = persistent ? MPI_Start(r) : start_nonblocking(c, t, k, r);
	MT_CHECK(rc == MPI_SUCCESS, "start of %s on %s: error %d", kind_names[k], t->name, rc);
	if (me == 0)
		MPI_Send(&token, 1, MPI_INT, 1, TOKEN_TAG, MPI_COMM_WORLD);
}

static void nonblocking_case(const struct topo *t, enum kind k, enum done d)
{
	struct call c;
	MPI_Request r = MPI_REQUEST_NULL;

	round_no++;
	prepare(&c, t, k);
	start_then_token(&r, 0, &c, t, k);
	complete(&r, d);
	MT_CHECK(r == MPI_REQUEST_NULL, "%s left the request", done_names[d]);
	check(&c, t, k);
	mt_say("Ineighbor_%s on %s, started before the peer's: %s", kind_names[k], t->name,
	       done_names[d]);
}

static void persistent_case(const struct topo *t, enum kind k, enum done d)
{
#ifdef PERSISTENT_COLLECTIVES
	struct call c;
	MPI_Request r = MPI_REQUEST_NULL;

	prepare(&c, t, k);
	int rc = init_persistent(&c, t, k, &r);
	MT_CHECK(rc == MPI_SUCCESS, "Neighbor_%s_init on %s: error %d", kind_names[k], t->name,
		 rc);
	for (int start = 0; start < 2 && rc == MPI_SUCCESS; start++) {
		round_no++;
		prepare(&c, t, k); /* new data, same arrays */
		start_then_token(&r, 1, &c, t, k);
		complete(&r, d);
		MT_CHECK(r != MPI_REQUEST_NULL, "%s freed a persistent request", done_names[d]);
		check(&c, t, k);
	}
	if (r != MPI_REQUEST_NULL)
		MPI_Request_free(&r);
#else
	round_no += 2;
#endif
	mt_say("Neighbor_%s_init on %s, 2 starts before the peer's: %s", kind_names[k], t->name,
	       done_names[d]);
}

/* A nonblocking alltoall, then a blocking one before the first is
 * waited for, on a communicator neither was used on. */
static void overlapping(const struct topo *t)
{
	struct call a, b;
	MPI_Request r = MPI_REQUEST_NULL;

	round_no++;
	prepare(&a, t, ALLTOALL);
	int rc = start_nonblocking(&a, t, ALLTOALL, &r);
	int round_a = round_no++;
	prepare(&b, t, ALLTOALL);
	if (rc == MPI_SUCCESS)
		rc = MPI_Neighbor_alltoall(b.sbuf, 3, MPI_INT, b.rbuf, 3, MPI_INT, t->comm);
	if (rc == MPI_SUCCESS)
		rc = MPI_Wait(&r, MPI_STATUS_IGNORE);
	MT_CHECK(rc == MPI_SUCCESS, "overlapping alltoalls on %s: error %d", t->name, rc);
	check(&b, t, ALLTOALL);
	round_no = round_a;
	check(&a, t, ALLTOALL);
	mt_say("Ineighbor_alltoall on a fresh %s, then Neighbor_alltoall, then Wait", t->name);
}

/* A 2-rank Cartesian communicator of ndims dimensions; the first has
 * both ranks. */
static void make_topo(struct topo *t, const char *name, int ndims, const int *periods)
{
	int dims[2] = { 2, 1 };

	t->name = name;
	t->n = 2 * ndims;
	MPI_Cart_create(MPI_COMM_WORLD, ndims, dims, periods, 0, &t->comm);
	for (int d = 0; d < ndims; d++) {
		MPI_Cart_shift(t->comm, d, 1, &t->nb[2 * d], &t->nb[2 * d + 1]);
		t->same[2 * d] = 2 * d;
		t->same[2 * d + 1] = t->nb[2 * d] == t->nb[2 * d + 1] ? 2 * d : 2 * d + 1;
	}
}

int main(int argc, char **argv)
{
	static const int ring_periods[1] = { 1 }, slab_periods[2] = { 0, 1 };
	struct topo topos[2], fresh;
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("nbr_overlap");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MT_EQ(size, 2, "ranks");
	if (size == 2) {
		make_topo(&topos[0], "ring", 1, ring_periods);
		make_topo(&topos[1], "slab", 2, slab_periods);
		for (int i = 0; i < 2; i++)
			for (enum kind k = 0; k < NKINDS; k++) {
				int n = i * NKINDS + (int)k;
				nonblocking_case(&topos[i], k, (enum done)(n % NDONES));
				persistent_case(&topos[i], k, (enum done)(n % NDONES));
			}
		make_topo(&fresh, "ring", 1, ring_periods);
		overlapping(&fresh);
		MPI_Comm_free(&fresh.comm);
		for (int i = 0; i < 2; i++)
			MPI_Comm_free(&topos[i].comm);
	}
	return mt_finish();
}
