/*
 * topo_graph.c - graph and distributed-graph topologies.  MPI_Graph_create
 * of a small undirected graph and every query on it (Graphdims_get,
 * Graph_get, Graph_neighbors_count, Graph_neighbors, Topo_test,
 * Graph_map), a graph on 3 of 4 processes; MPI_Dist_graph_create_adjacent
 * (a weighted ring, an unweighted one, MPI_WEIGHTS_EMPTY for a process
 * without neighbours) and MPI_Dist_graph_create with every edge given by
 * rank 0, whose neighbour order is the real MPI's (lists are printed
 * sorted).  Neighbourhood collectives run on each: Neighbor_allgather,
 * Neighbor_allgatherv, Neighbor_alltoall, Neighbor_alltoallv and
 * Neighbor_alltoallw, each result checked against the neighbour lists
 * the process itself reads back.  Errors both MPIs agree on: a rank that
 * is not a node (MPI_ERR_RANK), more nodes than processes (MPI_ERR_ARG),
 * Cartesian queries on a graph (MPI_ERR_TOPOLOGY).
 */
/* ranks: 4 */
#include "mt.h"

#define NP 4

static int me;

static int error_class(int rc)
{
	int cls = -1;

	MPI_Error_class(rc, &cls);
	return cls;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* "what: a b c" with the list sorted, on rank 0 for every rank. */
static void say_sorted(const char *what, const int *list, int n)
{
	int sorted[16], all[NP][17], k;
	char line[200];

	memcpy(sorted, list, (size_t)n * sizeof(int));
	qsort(sorted, (size_t)n, sizeof(int), cmp_int);
	all[0][0] = n;
	int mine[17] = { n };
	memcpy(mine + 1, sorted, (size_t)n * sizeof(int));
	MPI_Gather(mine, 17, MPI_INT, all, 17, MPI_INT, 0, MPI_COMM_WORLD);
	for (int r = 0; r < NP && me == 0; r++) {
		k = snprintf(line, sizeof line, "%s of %d:", what, r);
		for (int i = 0; i < all[r][0]; i++)
			k += snprintf(line + k, sizeof line - k, " %d", all[r][1 + i]);
		mt_say("%s", line);
	}
}

/* 0-1, 0-2, 0-3, 1-2, both directions. */
static const int g_index[NP] = { 3, 5, 7, 8 };
static const int g_edges[8] = { 1, 2, 3, 0, 2, 0, 1, 0 };

static void test_graph(void)
{
	MPI_Comm g;
	int t = -1, nn, ne, idx[NP], ed[8], cnt, nbr[NP], r, nd;

	MPI_Graph_create(MPI_COMM_WORLD, NP, g_index, g_edges, 0, &g);
	MPI_Comm_set_errhandler(g, MPI_ERRORS_RETURN);
	MPI_Topo_test(g, &t);
	MT_CHECK(t == MPI_GRAPH, "Topo_test of the graph is not MPI_GRAPH");
	MPI_Graphdims_get(g, &nn, &ne);
	MT_CHECK(nn == NP && ne == 8, "Graphdims_get: %d nodes %d edges", nn, ne);
	MPI_Graph_get(g, NP, 8, idx, ed);
	MT_CHECK(!memcmp(idx, g_index, sizeof idx) && !memcmp(ed, g_edges, sizeof ed),
		 "Graph_get differs from what was given");
	mt_say("graph: %d nodes, %d edges, Graph_get gives them back", nn, ne);
	for (r = 0; r < NP; r++) {
		MPI_Graph_neighbors_count(g, r, &cnt);
		MPI_Graph_neighbors(g, r, NP, nbr);
		char line[80];
		int k = snprintf(line, sizeof line, "graph node %d has %d neighbours:", r, cnt);
		for (int i = 0; i < cnt; i++)
			k += snprintf(line + k, sizeof line - k, " %d", nbr[i]);
		mt_say("%s", line);
	}

	/* Neighbor_allgather: block i comes from neighbour i. */
	MPI_Comm_rank(g, &r);
	MPI_Graph_neighbors_count(g, r, &cnt);
	MPI_Graph_neighbors(g, r, NP, nbr);
	int mine = 10 * r + 7, got[NP];
	MPI_Neighbor_allgather(&mine, 1, MPI_INT, got, 1, MPI_INT, g);
	for (int i = 0; i < cnt; i++)
		MT_EQ(got[i], 10 * nbr[i] + 7, "graph Neighbor_allgather block");
	mt_say("graph Neighbor_allgather: every block from its neighbour");

	/* Neighbor_alltoallv: i + 1 ints to neighbour i, a gap between blocks. */
	int sbuf[64], rbuf[64], scnt[NP], sdsp[NP], rcnt[NP], rdsp[NP];
	for (int i = 0; i < 64; i++)
		rbuf[i] = -1;
	for (int i = 0; i < cnt; i++) {
		int peer = nbr[i], peer_cnt, peer_nbr[NP], pos = 0;
		/* My position in my neighbour's list fixes the size it sends me. */
		MPI_Graph_neighbors_count(g, peer, &peer_cnt);
		MPI_Graph_neighbors(g, peer, NP, peer_nbr);
		while (peer_nbr[pos] != r)
			pos++;
		scnt[i] = i + 1;
		sdsp[i] = 8 * i;
		rcnt[i] = pos + 1;
		rdsp[i] = 8 * i + 1;
		for (int k = 0; k < scnt[i]; k++)
			sbuf[sdsp[i] + k] = 100 * r + 10 * peer + k;
	}
	MPI_Neighbor_alltoallv(sbuf, scnt, sdsp, MPI_INT, rbuf, rcnt, rdsp, MPI_INT, g);
	int bad = 0;
	for (int i = 0; i < cnt; i++) {
		for (int k = 0; k < rcnt[i]; k++)
			bad += rbuf[rdsp[i] + k] != 100 * nbr[i] + 10 * r + k;
		bad += rbuf[rdsp[i] - 1] != -1;
	}
	MT_EQ(bad, 0, "graph Neighbor_alltoallv: wrong values or a gap written");
	mt_say("graph Neighbor_alltoallv: blocks of varying size, gaps untouched");

	MT_EQ(error_class(MPI_Graph_neighbors_count(g, NP + 2, &cnt)), MPI_ERR_RANK,
	      "Graph_neighbors_count of a rank that is not a node");
	MT_EQ(error_class(MPI_Cartdim_get(g, &nd)), MPI_ERR_TOPOLOGY, "Cartdim_get on a graph");
	MPI_Comm_free(&g);

	MPI_Comm g3;
	int i3[3] = { 1, 2, 3 }, e3[3] = { 1, 2, 0 };
	MPI_Graph_create(MPI_COMM_WORLD, 3, i3, e3, 0, &g3);
	MT_EQ(g3 == MPI_COMM_NULL, me == 3, "3-node graph membership");
	if (g3 != MPI_COMM_NULL) {
		int nm = -1;
		MPI_Graph_map(g3, 3, i3, e3, &nm);
		MT_EQ(nm, me, "Graph_map on the 3-node graph");
		MPI_Comm_free(&g3);
	}
	MT_EQ(error_class(MPI_Graph_create(MPI_COMM_WORLD, NP + 1, g_index, g_edges, 0, &g3)),
	      MPI_ERR_ARG, "Graph_create of 5 nodes on 4 processes");
	mt_say("graph errors: MPI_ERR_RANK, MPI_ERR_TOPOLOGY, MPI_ERR_ARG; 3-node graph leaves 3 out");
}

/* A ring: source left, destination right, weights 1 and 2 or none. */
static void test_ring(int weighted)
{
	MPI_Comm d;
	int left = (me + NP - 1) % NP, right = (me + 1) % NP;
	int sw[1] = { 1 }, dw[1] = { 2 }, in, out, w, src, dst, gsw = -1, gdw = -1;

	MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, &left, weighted ? sw : MPI_UNWEIGHTED, 1,
				       &right, weighted ? dw : MPI_UNWEIGHTED, MPI_INFO_NULL, 0,
				       &d);
	int t = -1;
	MPI_Topo_test(d, &t);
	MT_CHECK(t == MPI_DIST_GRAPH, "Topo_test of the ring is not MPI_DIST_GRAPH");
	MPI_Dist_graph_neighbors_count(d, &in, &out, &w);
	MT_CHECK(in == 1 && out == 1 && w == weighted, "ring counts %d %d %d", in, out, w);
	if (weighted)
		MPI_Dist_graph_neighbors(d, 1, &src, &gsw, 1, &dst, &gdw);
	else
		MPI_Dist_graph_neighbors(d, 1, &src, MPI_UNWEIGHTED, 1, &dst, MPI_UNWEIGHTED);
	MT_CHECK(src == left && dst == right, "ring neighbours %d %d", src, dst);
	if (weighted)
		MT_CHECK(gsw == 1 && gdw == 2, "ring weights %d %d", gsw, gdw);
	mt_say("%s ring: indegree %d, outdegree %d, weighted %d", weighted ? "weighted" : "unweighted",
	       in, out, w);

	/* Alltoall on the ring passes one step right. */
	int v = me * 3, got = -1;
	MPI_Neighbor_alltoall(&v, 1, MPI_INT, &got, 1, MPI_INT, d);
	MT_EQ(got, left * 3, "ring Neighbor_alltoall");
	/* Allgatherv with a displacement. */
	int two[2] = { me, -me }, gv[4] = { -9, -9, -9, -9 }, rc2 = 2, rd = 1;
	MPI_Neighbor_allgatherv(two, 2, MPI_INT, gv, &rc2, &rd, MPI_INT, d);
	MT_CHECK(gv[0] == -9 && gv[1] == left && gv[2] == -left && gv[3] == -9,
		 "ring Neighbor_allgatherv: %d %d %d %d", gv[0], gv[1], gv[2], gv[3]);
	mt_say("%s ring: Neighbor_alltoall and Neighbor_allgatherv pass to the right",
	       weighted ? "weighted" : "unweighted");
	MPI_Comm_free(&d);
}

/* Rank 3 has no neighbours and says so with MPI_WEIGHTS_EMPTY. */
static void test_empty(void)
{
	MPI_Comm d;
	int n = me == 3 ? 0 : 1, nb = (me + 1) % 3, wt = 5, in, out, w;

	MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, n, &nb, n ? &wt : MPI_WEIGHTS_EMPTY, n, &nb,
				       n ? &wt : MPI_WEIGHTS_EMPTY, MPI_INFO_NULL, 0, &d);
	MPI_Dist_graph_neighbors_count(d, &in, &out, &w);
	MT_CHECK(in == n && out == n && w == 1, "empty-weights counts %d %d %d", in, out, w);
	mt_say("MPI_WEIGHTS_EMPTY: no neighbours, still weighted");
	MPI_Comm_free(&d);
}

/* Rank 0 names every edge i -> i+1 and i -> i+2 (weight 10 i + j). */
static void test_general(void)
{
	int src[NP], deg[NP], dst[2 * NP], wts[2 * NP], n = me == 0 ? NP : 0;
	MPI_Comm d;

	for (int i = 0; i < NP; i++) {
		src[i] = i;
		deg[i] = 2;
		dst[2 * i] = (i + 1) % NP;
		dst[2 * i + 1] = (i + 2) % NP;
		wts[2 * i] = 10 * i + dst[2 * i];
		wts[2 * i + 1] = 10 * i + dst[2 * i + 1];
	}
	MPI_Dist_graph_create(MPI_COMM_WORLD, n, src, deg, dst, wts, MPI_INFO_NULL, 0, &d);
	int in, out, w, ins[NP], outs[NP], inw[NP], outw[NP];
	MPI_Dist_graph_neighbors_count(d, &in, &out, &w);
	MT_CHECK(in == 2 && out == 2 && w == 1, "general counts %d %d %d", in, out, w);
	MPI_Dist_graph_neighbors(d, NP, ins, inw, NP, outs, outw);
	for (int i = 0; i < in; i++)
		MT_EQ(inw[i], 10 * ins[i] + me, "weight of an in-edge");
	for (int i = 0; i < out; i++)
		MT_EQ(outw[i], 10 * me + outs[i], "weight of an out-edge");
	say_sorted("dist graph sources", ins, in);
	say_sorted("dist graph destinations", outs, out);

	/* Alltoallw in the real MPI's order: an int and a double to each
	 * destination, at byte displacements. */
	struct { int i; double x; } sb[NP], rb[NP];
	int sc[NP], rcnt[NP];
	MPI_Aint sd[NP], rd[NP];
	MPI_Datatype st[NP], rt[NP];
	for (int k = 0; k < out; k++) {
		sb[k].i = 100 * me + outs[k];
		sb[k].x = me + 0.5 * outs[k];
		sc[k] = 1;
		sd[k] = (MPI_Aint)((char *)&sb[k].i - (char *)sb);
		st[k] = MPI_INT;
	}
	for (int k = 0; k < in; k++) {
		rb[k].i = -1;
		rcnt[k] = 1;
		rd[k] = (MPI_Aint)((char *)&rb[k].i - (char *)rb);
		rt[k] = MPI_INT;
	}
	MPI_Neighbor_alltoallw(sb, sc, sd, st, rb, rcnt, rd, rt, d);
	for (int k = 0; k < in; k++)
		MT_EQ(rb[k].i, 100 * ins[k] + me, "dist graph Neighbor_alltoallw int");
	for (int k = 0; k < out; k++) {
		sd[k] = (MPI_Aint)((char *)&sb[k].x - (char *)sb);
		st[k] = MPI_DOUBLE;
	}
	for (int k = 0; k < in; k++) {
		rb[k].x = -1;
		rd[k] = (MPI_Aint)((char *)&rb[k].x - (char *)rb);
		rt[k] = MPI_DOUBLE;
	}
	MPI_Neighbor_alltoallw(sb, sc, sd, st, rb, rcnt, rd, rt, d);
	for (int k = 0; k < in; k++)
		MT_CHECK(rb[k].x == ins[k] + 0.5 * me, "dist graph Neighbor_alltoallw double %g",
			 rb[k].x);
	mt_say("dist graph Neighbor_alltoallw: ints and doubles at byte displacements");
	MPI_Comm_free(&d);
}

int main(int argc, char **argv)
{
	int size;

	MPI_Init(&argc, &argv);
	mt_begin("topo_graph");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != NP) {
		MT_FAIL("needs %d ranks, got %d", NP, size);
		return mt_finish();
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	test_graph();
	test_ring(1);
	test_ring(0);
	test_empty();
	test_general();
	return mt_finish();
}
