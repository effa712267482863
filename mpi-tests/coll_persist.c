/*
 * coll_persist.c - persistent collectives (MPI-4.0: every MPI_*_init of
 * chapter 6 and the neighbourhood ones) and the nonblocking neighbourhood
 * collectives (MPI-3).
 *
 * Every persistent collective is made once, then started three times
 * with new send data each round: round 0 starts and waits for each in
 * turn, the later rounds start all of them with one MPI_Startall and
 * wait with MPI_Waitall; each round checks every result against a
 * formula of (rank, index, round).  Between rounds the requests are inactive: MPI_Test returns at once
 * with flag set and the handle kept.  A reduction with a user operation
 * goes through the same path, and four large-count forms (_init_c), two
 * with their arrays narrowed; one uses a derived datatype freed right after
 * its Init call.  At the end every request is freed and
 * must read MPI_REQUEST_NULL.  With MT_PAUSE_US (tests/ckpt-mpi/ckpt_all.sh)
 * a rank pauses while they are active and while they are inactive, and
 * while an Ineighbor_alltoall is pending, so a checkpoint at a random
 * moment may find them either way.
 *
 * A nonblocking neighbourhood collective started by rank 0 before it
 * sends rank 1 the message rank 1 waits for before starting it must not
 * deadlock.  Neighbourhood collectives run on a non-periodic 1-D Cartesian
 * communicator (the end ranks have an MPI_PROC_NULL neighbour, whose
 * receive block must stay untouched) and on a ring made with
 * MPI_Dist_graph_create_adjacent.  Not a periodic Cartesian one of two
 * ranks: there both neighbours are one process and the native MPIs pair
 * the blocks of Ineighbor_alltoall differently.
 *
 * An MPI older than 4.0 (Open MPI 4.1) has no persistent collectives,
 * and MPICH 4.0 (MPI 4.0) has wrong ones: its MPI_Gather_init delivers
 * nothing of the root's own block and stale data of the others, and
 * MPI_Test of a new request says it is active.  Natively under both
 * those checks are skipped and the same lines printed, so outputs agree;
 * through dmtcp_mpi (our mpi.h is MPI 5.0) they run under both MPIs.
 * The MPI-3 neighbourhood part runs everywhere, its two large-count
 * calls (MPI-4.0) where they exist.
 */
/* ranks: 2 */
#include "mt.h"

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && !(defined(MPICH_VERSION) && MPI_SUBVERSION == 0))
#define PERSISTENT_COLLECTIVES 1
#endif

#define ROUNDS 3

static int me, n;

/* The value rank r puts at index i of its send data in round it. */
static int val(int r, int i, int it)
{
	return r * 1000 + i * 10 + it;
}

static void fill(int *b, int count, int it)
{
	for (int i = 0; i < count; i++)
		b[i] = val(me, i, it);
}

/* ---------------------------------------------- neighbourhood collectives */

/* The two communicators and, per communicator, the ranks of in-neighbour
 * k (in[k]) and which block k of that neighbour's send data comes here. */
struct topo {
	MPI_Comm comm;
	int deg;
	int in[2];
	int their_block[2];
	const char *name;
};

static void make_topos(struct topo *cart, struct topo *ring)
{
	int dims[1] = { n }, periods[1] = { 0 };
	int left = (me + n - 1) % n, right = (me + 1) % n, wt[1] = { 1 };
	int lo = me > 0 ? me - 1 : MPI_PROC_NULL, hi = me + 1 < n ? me + 1 : MPI_PROC_NULL;

	MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &cart->comm);
	*cart = (struct topo){ cart->comm, 2, { lo, hi }, { 1, 0 }, "cart" };
	MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, &left, wt, 1, &right, wt,
				       MPI_INFO_NULL, 0, &ring->comm);
	*ring = (struct topo){ ring->comm, 1, { left, 0 }, { 0, 0 }, "ring" };
}

/* What receive block k of t holds: block `block` of in-neighbour k's
 * send data, or the poison (-1) from an MPI_PROC_NULL neighbour. */
static int from(const struct topo *t, int k, int block, int it)
{
	return t->in[k] == MPI_PROC_NULL ? -1 : val(t->in[k], block, it);
}

/* A nonblocking collective must not wait for the other members at its
 * start: rank 0 starts it and only then sends rank 1 the message that
 * rank 1 waits for before it starts it too (deadlocks otherwise). */
static void no_wait_at_start(const struct topo *t, int it)
{
	int s = val(me, 0, it), r[2] = { -1, -1 }, m = 0;
	MPI_Request q;

	if (n != 2)
		return;
	if (me == 0) {
		MPI_Ineighbor_allgather(&s, 1, MPI_INT, r, 1, MPI_INT, t->comm, &q);
		MPI_Send(&s, 1, MPI_INT, 1, 9, MPI_COMM_WORLD);
	} else {
		MPI_Recv(&m, 1, MPI_INT, 0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MT_EQ(m, val(0, 0, it), "the message sent after the start");
		MPI_Ineighbor_allgather(&s, 1, MPI_INT, r, 1, MPI_INT, t->comm, &q);
	}
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[k], from(t, k, 0, it), "Ineighbor_allgather started before a send");
}

/* Each nonblocking neighbourhood collective once on t, one int a block. */
static void ineighbor(const struct topo *t, int it)
{
	int s[2], r[4], cnt[2] = { 1, 1 }, dsp[2] = { 0, 1 }, rdsp[2] = { 2, 0 };
	MPI_Aint wd[2] = { 0, sizeof(int) }, wr[2] = { 2 * sizeof(int), 0 };
	MPI_Datatype ty[2] = { MPI_INT, MPI_INT };
	MPI_Request q;

	fill(s, 2, it);
	memset(r, 0xff, sizeof r);
	MPI_Ineighbor_allgather(s, 1, MPI_INT, r, 1, MPI_INT, t->comm, &q);
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	MT_CHECK(q == MPI_REQUEST_NULL, "%s: Ineighbor_allgather request not freed", t->name);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[k], from(t, k, 0, it), "Ineighbor_allgather");

	memset(r, 0xff, sizeof r);
	MPI_Ineighbor_alltoall(s, 1, MPI_INT, r, 1, MPI_INT, t->comm, &q);
	mt_pause(); /* a checkpoint finds it pending */
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[k], from(t, k, t->their_block[k], it), "Ineighbor_alltoall");

	memset(r, 0xff, sizeof r);
	MPI_Ineighbor_allgatherv(s, 1, MPI_INT, r, cnt, rdsp, MPI_INT, t->comm, &q);
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[rdsp[k]], from(t, k, 0, it), "Ineighbor_allgatherv");
	MT_EQ(r[1], -1, "Ineighbor_allgatherv: gap written");

	memset(r, 0xff, sizeof r);
	MPI_Ineighbor_alltoallv(s, cnt, dsp, MPI_INT, r, cnt, rdsp, MPI_INT, t->comm, &q);
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[rdsp[k]], from(t, k, t->their_block[k], it), "Ineighbor_alltoallv");

	memset(r, 0xff, sizeof r);
	MPI_Ineighbor_alltoallw(s, cnt, wd, ty, r, cnt, wr, ty, t->comm, &q);
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[wr[k] / (MPI_Aint)sizeof(int)], from(t, k, t->their_block[k], it),
		      "Ineighbor_alltoallw");
#if MPI_VERSION >= 4
	MPI_Count ccnt[2] = { 1, 1 };
	MPI_Aint cdsp[2] = { 0, 1 }, crdsp[2] = { 2, 0 };

	memset(r, 0xff, sizeof r);
	MPI_Ineighbor_allgatherv_c(s, 1, MPI_INT, r, ccnt, crdsp, MPI_INT, t->comm, &q);
	MPI_Wait(&q, MPI_STATUS_IGNORE);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[crdsp[k]], from(t, k, 0, it), "Ineighbor_allgatherv_c");
	memset(r, 0xff, sizeof r);
	MPI_Neighbor_alltoallv_c(s, ccnt, cdsp, MPI_INT, r, ccnt, crdsp, MPI_INT, t->comm);
	for (int k = 0; k < t->deg; k++)
		MT_EQ(r[crdsp[k]], from(t, k, t->their_block[k], it), "Neighbor_alltoallv_c");
#endif
}

#ifdef PERSISTENT_COLLECTIVES
/* ------------------------------------------------ persistent collectives */

#define NREQ 29
#define M 4                   /* elements per rank and block */
#define MAXR 8                /* ranks the buffers have room for */

/* Every buffer of every request: send data s* refilled each round. */
static struct bufs {
	int bc[M], red_s[M], red_r[M], all_s[M], all_r[M], scan_s[M], scan_r[M];
	int ex_s[M], ex_r[M], ga_s[M], ga_r[M * MAXR], gv_s[MAXR], gv_r[MAXR * MAXR];
	int sc_s[M * MAXR], sc_r[M], sv_s[MAXR * MAXR], sv_r[MAXR];
	int ag_s[M], ag_r[M * MAXR], av_s[MAXR], av_r[MAXR * MAXR];
	int a2a_s[M * MAXR], a2a_r[M * MAXR], a2v_s[MAXR * MAXR], a2v_r[MAXR * MAXR];
	int a2w_s[MAXR], a2w_r[MAXR], rs_s[MAXR * MAXR], rs_r[MAXR], rsb_s[M * MAXR];
	int rsb_r[M], uo_s[M], uo_r[M], bcc[M], avc_s[MAXR], avc_r[MAXR * MAXR];
	int dt_s[M], dt_r[M * MAXR], redc_s[M], redc_r[M], gac_s[M], gac_r[M * MAXR];
	int nb_s[2], nb_r[2], nbt_s[2], nbt_r[2], nbv_r[4], nbx_r[4], nbw_r[4];
} b;

static int cnt_v[MAXR], dsp_v[MAXR], one[MAXR], dsp_one[MAXR], wdsp[MAXR];
static MPI_Count cnt_c[MAXR];
static MPI_Aint dsp_c[MAXR];
static MPI_Datatype wtypes[MAXR];

/* A commutative user operation: elementwise sum. */
static void usum(void *in, void *inout, int *len, MPI_Datatype *t)
{
	(void)t;
	for (int i = 0; i < *len; i++)
		((int *)inout)[i] += ((int *)in)[i];
}

static int make_all(MPI_Request *q, MPI_Op uop, const struct topo *cart,
		    const struct topo *ring)
{
	MPI_Comm w = MPI_COMM_WORLD;
	MPI_Info ni = MPI_INFO_NULL;
	int k = 0;
	static int nbcnt[2] = { 1, 1 }, nbdsp[2] = { 0, 1 }, nbrdsp[2] = { 2, 0 };
	static MPI_Aint nbw_s[2] = { 0, sizeof(int) }, nbw_r[2] = { 2 * sizeof(int), 0 };
	static MPI_Datatype nbty[2] = { MPI_INT, MPI_INT };

	for (int i = 0; i < n; i++) {
		cnt_v[i] = i + 1;          /* rank i's block has i + 1 elements */
		dsp_v[i] = i * MAXR;
		one[i] = 1;
		dsp_one[i] = i;
		wdsp[i] = i * (int)sizeof(int);
		wtypes[i] = MPI_INT;
		cnt_c[i] = i + 1;
		dsp_c[i] = i * MAXR;
	}
	MPI_Barrier_init(w, ni, &q[k++]);
	MPI_Bcast_init(b.bc, M, MPI_INT, n - 1, w, ni, &q[k++]);
	MPI_Reduce_init(b.red_s, b.red_r, M, MPI_INT, MPI_SUM, 0, w, ni, &q[k++]);
	MPI_Allreduce_init(b.all_s, b.all_r, M, MPI_INT, MPI_MAX, w, ni, &q[k++]);
	MPI_Scan_init(b.scan_s, b.scan_r, M, MPI_INT, MPI_SUM, w, ni, &q[k++]);
	MPI_Exscan_init(b.ex_s, b.ex_r, M, MPI_INT, MPI_SUM, w, ni, &q[k++]);
	MPI_Gather_init(b.ga_s, M, MPI_INT, b.ga_r, M, MPI_INT, 0, w, ni, &q[k++]);
	MPI_Gatherv_init(b.gv_s, me + 1, MPI_INT, b.gv_r, cnt_v, dsp_v, MPI_INT, 0, w, ni,
			 &q[k++]);
	MPI_Scatter_init(b.sc_s, M, MPI_INT, b.sc_r, M, MPI_INT, 0, w, ni, &q[k++]);
	MPI_Scatterv_init(b.sv_s, cnt_v, dsp_v, MPI_INT, b.sv_r, me + 1, MPI_INT, 0, w, ni,
			  &q[k++]);
	MPI_Allgather_init(b.ag_s, M, MPI_INT, b.ag_r, M, MPI_INT, w, ni, &q[k++]);
	MPI_Allgatherv_init(b.av_s, me + 1, MPI_INT, b.av_r, cnt_v, dsp_v, MPI_INT, w, ni,
			    &q[k++]);
	MPI_Alltoall_init(b.a2a_s, M, MPI_INT, b.a2a_r, M, MPI_INT, w, ni, &q[k++]);
	MPI_Alltoallv_init(b.a2v_s, one, dsp_v, MPI_INT, b.a2v_r, one, dsp_v, MPI_INT, w, ni,
			   &q[k++]);
	MPI_Alltoallw_init(b.a2w_s, one, wdsp, wtypes, b.a2w_r, one, wdsp, wtypes, w, ni,
			   &q[k++]);
	MPI_Reduce_scatter_init(b.rs_s, b.rs_r, cnt_v, MPI_INT, MPI_SUM, w, ni, &q[k++]);
	MPI_Reduce_scatter_block_init(b.rsb_s, b.rsb_r, M, MPI_INT, MPI_SUM, w, ni, &q[k++]);
	MPI_Allreduce_init(b.uo_s, b.uo_r, M, MPI_INT, uop, w, ni, &q[k++]);
	MPI_Bcast_init_c(b.bcc, M, MPI_INT, 0, w, ni, &q[k++]);
	/* A derived datatype the application frees right after the Init. */
	MPI_Datatype tc;
	MPI_Type_contiguous(M, MPI_INT, &tc);
	MPI_Type_commit(&tc);
	MPI_Allgather_init(b.dt_s, 1, tc, b.dt_r, 1, tc, w, ni, &q[k++]);
	MPI_Type_free(&tc);
	MPI_Allgatherv_init_c(b.avc_s, me + 1, MPI_INT, b.avc_r, cnt_c, dsp_c, MPI_INT, w, ni,
			      &q[k++]);
	MPI_Reduce_init_c(b.redc_s, b.redc_r, M, MPI_INT, MPI_SUM, n - 1, w, ni, &q[k++]);
	MPI_Gather_init_c(b.gac_s, M, MPI_INT, b.gac_r, M, MPI_INT, n - 1, w, ni, &q[k++]);
	MPI_Neighbor_allgather_init(b.nb_s, 1, MPI_INT, b.nb_r, 1, MPI_INT, cart->comm, ni,
				    &q[k++]);
	MPI_Neighbor_alltoall_init(b.nbt_s, 1, MPI_INT, b.nbt_r, 1, MPI_INT, ring->comm, ni,
				   &q[k++]);
	MPI_Neighbor_allgatherv_init(b.nb_s, 1, MPI_INT, b.nbv_r, nbcnt, nbrdsp, MPI_INT,
				     cart->comm, ni, &q[k++]);
	MPI_Neighbor_alltoallv_init(b.nbt_s, nbcnt, nbdsp, MPI_INT, b.nbx_r, nbcnt, nbrdsp,
				    MPI_INT, cart->comm, ni, &q[k++]);
	MPI_Neighbor_alltoallw_init(b.nbt_s, nbcnt, nbw_s, nbty, b.nbw_r, nbcnt, nbw_r,
				    nbty, ring->comm, ni, &q[k++]);
	return k;
}

/* New send data for round it; receive buffers poisoned. */
static void fill_round(int it)
{
	memset(b.bc, 0xff, sizeof b.bc);
	if (me == n - 1)
		fill(b.bc, M, it);
	fill(b.red_s, M, it);
	fill(b.all_s, M, it);
	fill(b.scan_s, M, it);
	fill(b.ex_s, M, it);
	fill(b.ga_s, M, it);
	fill(b.gv_s, me + 1, it);
	fill(b.sc_s, M * n, it);
	fill(b.sv_s, MAXR * n, it);
	fill(b.ag_s, M, it);
	fill(b.av_s, me + 1, it);
	fill(b.a2a_s, M * n, it);
	fill(b.a2v_s, MAXR * n, it);
	fill(b.a2w_s, n, it);
	fill(b.rs_s, MAXR * n, it);
	fill(b.rsb_s, M * n, it);
	fill(b.uo_s, M, it);
	memset(b.bcc, 0xff, sizeof b.bcc);
	if (me == 0)
		fill(b.bcc, M, it);
	fill(b.avc_s, me + 1, it);
	fill(b.redc_s, M, it);
	fill(b.gac_s, M, it);
	memset(b.redc_r, 0xff, sizeof b.redc_r);
	memset(b.gac_r, 0xff, sizeof b.gac_r);
	fill(b.dt_s, M, it);
	memset(b.dt_r, 0xff, sizeof b.dt_r);
	memset(b.avc_r, 0xff, sizeof b.avc_r);
	fill(b.nb_s, 1, it);
	fill(b.nbt_s, 2, it);
	memset(b.nb_r, 0xff, sizeof b.nb_r);
	memset(b.nbt_r, 0xff, sizeof b.nbt_r);
	memset(b.red_r, 0xff, sizeof b.red_r);
	memset(b.ga_r, 0xff, sizeof b.ga_r);
	memset(b.gv_r, 0xff, sizeof b.gv_r);
	memset(b.av_r, 0xff, sizeof b.av_r);
	memset(b.a2v_r, 0xff, sizeof b.a2v_r);
	memset(b.nbv_r, 0xff, sizeof b.nbv_r);
	memset(b.nbx_r, 0xff, sizeof b.nbx_r);
	memset(b.nbw_r, 0xff, sizeof b.nbw_r);
}

/* Sum over ranks lo..hi-1 of val(r, i, it). */
static int sum(int lo, int hi, int i, int it)
{
	int s = 0;

	for (int r = lo; r < hi; r++)
		s += val(r, i, it);
	return s;
}

static void check_round(int it, const struct topo *cart, const struct topo *ring)
{
	for (int i = 0; i < M; i++) {
		MT_EQ(b.bc[i], val(n - 1, i, it), "Bcast_init");
		if (me == 0)
			MT_EQ(b.red_r[i], sum(0, n, i, it), "Reduce_init");
		MT_EQ(b.all_r[i], val(n - 1, i, it), "Allreduce_init (MAX)");
		MT_EQ(b.scan_r[i], sum(0, me + 1, i, it), "Scan_init");
		if (me > 0)
			MT_EQ(b.ex_r[i], sum(0, me, i, it), "Exscan_init");
		MT_EQ(b.sc_r[i], val(0, me * M + i, it), "Scatter_init");
		MT_EQ(b.rsb_r[i], sum(0, n, me * M + i, it), "Reduce_scatter_block_init");
		MT_EQ(b.uo_r[i], sum(0, n, i, it), "Allreduce_init (user op)");
		MT_EQ(b.bcc[i], val(0, i, it), "Bcast_init_c");
		if (me == n - 1)
			MT_EQ(b.redc_r[i], sum(0, n, i, it), "Reduce_init_c");
	}
	for (int r = 0; r < n; r++) {
		for (int i = 0; i < M; i++) {
			if (me == 0)
				MT_EQ(b.ga_r[r * M + i], val(r, i, it), "Gather_init");
			MT_EQ(b.ag_r[r * M + i], val(r, i, it), "Allgather_init");
			MT_EQ(b.dt_r[r * M + i], val(r, i, it), "Allgather_init, datatype freed");
			MT_EQ(b.a2a_r[r * M + i], val(r, me * M + i, it), "Alltoall_init");
			if (me == n - 1)
				MT_EQ(b.gac_r[r * M + i], val(r, i, it), "Gather_init_c");
		}
		for (int i = 0; i <= r; i++) {
			if (me == 0)
				MT_EQ(b.gv_r[r * MAXR + i], val(r, i, it), "Gatherv_init");
			MT_EQ(b.av_r[r * MAXR + i], val(r, i, it), "Allgatherv_init");
			MT_EQ(b.avc_r[r * MAXR + i], val(r, i, it), "Allgatherv_init_c");
		}
		if (r + 1 < MAXR)
			MT_EQ(b.av_r[r * MAXR + r + 1], -1, "Allgatherv_init: gap written");
		MT_EQ(b.a2v_r[r * MAXR], val(r, me * MAXR, it), "Alltoallv_init");
		MT_EQ(b.a2w_r[r], val(r, me, it), "Alltoallw_init");
	}
	for (int i = 0; i <= me; i++) {
		MT_EQ(b.sv_r[i], val(0, me * MAXR + i, it), "Scatterv_init");
		/* Reduce_scatter: block me starts after blocks 0..me-1. */
		MT_EQ(b.rs_r[i], sum(0, n, me * (me + 1) / 2 + i, it), "Reduce_scatter_init");
	}
	for (int k = 0; k < cart->deg; k++) {
		MT_EQ(b.nb_r[k], from(cart, k, 0, it), "Neighbor_allgather_init");
		MT_EQ(b.nbv_r[k == 0 ? 2 : 0], from(cart, k, 0, it),
		      "Neighbor_allgatherv_init");
	}
	MT_EQ(b.nbv_r[1], -1, "Neighbor_allgatherv_init: gap written");
	MT_EQ(b.nbt_r[0], from(ring, 0, 0, it), "Neighbor_alltoall_init");
	/* Block k of the cart's Alltoallv lands at 2 - 2k, the ring's one
	 * Alltoallw block at byte 2 * sizeof(int). */
	for (int k = 0; k < cart->deg; k++)
		MT_EQ(b.nbx_r[2 - 2 * k], from(cart, k, cart->their_block[k], it),
		      "Neighbor_alltoallv_init");
	MT_EQ(b.nbx_r[1], -1, "Neighbor_alltoallv_init: gap written");
	MT_EQ(b.nbw_r[2], from(ring, 0, 0, it), "Neighbor_alltoallw_init");
	MT_EQ(b.nbw_r[0], -1, "Neighbor_alltoallw_init: gap written");
}

static void persistent(const struct topo *cart, const struct topo *ring)
{
	MPI_Request q[NREQ];
	MPI_Op uop;
	int flag = 0;

	MPI_Op_create(usum, 1, &uop);
	int k = make_all(q, uop, cart, ring);
	MT_CHECK(k <= NREQ, "too many requests");
	for (int it = 0; it < ROUNDS; it++) {
		fill_round(it);
		if (it == 0) {
			for (int i = 0; i < k; i++) {
				MPI_Start(&q[i]);
				MPI_Wait(&q[i], MPI_STATUS_IGNORE);
			}
		} else {
			MPI_Startall(k, q);
			mt_pause(); /* a checkpoint finds them active */
		}
		MPI_Waitall(k, q, MPI_STATUSES_IGNORE);
		for (int i = 0; i < k; i++)
			MT_CHECK(q[i] != MPI_REQUEST_NULL, "request %d freed by its completion", i);
		check_round(it, cart, ring);
		mt_pause(); /* a checkpoint finds them inactive */
		flag = 0;
		MPI_Test(&q[0], &flag, MPI_STATUS_IGNORE);
		MT_CHECK(flag && q[0] != MPI_REQUEST_NULL, "an inactive request tests wrong");
	}
	for (int i = 0; i < k; i++) {
		MPI_Request_free(&q[i]);
		MT_CHECK(q[i] == MPI_REQUEST_NULL, "request %d not null after free", i);
	}
	MPI_Op_free(&uop);
}
#endif

int main(int argc, char **argv)
{
	struct topo cart, ring;

	MPI_Init(&argc, &argv);
	mt_begin("coll_persist");
	me = mt_rank();
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	if (n > 8) {
		MT_FAIL("at most 8 ranks");
		return mt_finish();
	}
	make_topos(&cart, &ring);
	for (int it = 0; it < ROUNDS; it++) {
		ineighbor(&cart, it);
		ineighbor(&ring, it);
		no_wait_at_start(&cart, it);
		no_wait_at_start(&ring, it);
	}
	mt_say("ineighbor allgather(v), alltoall(v,w) on a cart and a ring, %d rounds",
	       ROUNDS);
#ifdef PERSISTENT_COLLECTIVES
	persistent(&cart, &ring);
#endif
	mt_say("28 persistent collectives, Start then Startall, %d rounds", ROUNDS);
	MPI_Comm_free(&cart.comm);
	MPI_Comm_free(&ring.comm);
	return mt_finish();
}
