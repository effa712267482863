/*
 * type_bottom.c - MPI_BOTTOM with absolute addresses: a struct datatype
 * whose displacements come from MPI_Get_address of separate variables (a
 * global int, a global array of doubles, a heap block of shorts) is sent,
 * received, broadcast and received nonblocking with the buffer
 * MPI_BOTTOM, so every displacement is an address.  Also a datatype made
 * of absolute addresses nested in a relative one (hindexed of the struct
 * at address 0), and MPI_Aint_add/diff on addresses.  The receivers
 * check each variable, and that the neighbours of the heap block are
 * untouched.
 */
/* ranks: 2 */
#include "mt.h"

#define ND 6
#define NS 9

static int me;
static int g_count;
static double g_vals[ND];
static short *g_heap;       /* NS shorts between two guards */

static MPI_Datatype absolute_type(void)
{
	int bl[3] = { 1, ND, NS };
	MPI_Aint d[3];
	MPI_Datatype t[3] = { MPI_INT, MPI_DOUBLE, MPI_SHORT }, r;

	MPI_Get_address(&g_count, &d[0]);
	MPI_Get_address(g_vals, &d[1]);
	MPI_Get_address(g_heap, &d[2]);
	MPI_Type_create_struct(3, bl, d, t, &r);
	MPI_Type_commit(&r);
	return r;
}

static void set_vars(int seed)
{
	g_count = 11 * seed;
	for (int k = 0; k < ND; k++)
		g_vals[k] = seed + k / 8.0;
	for (int k = 0; k < NS; k++)
		g_heap[k] = (short)(seed * 100 - k);
}

static void clear_vars(void)
{
	g_count = -1;
	for (int k = 0; k < ND; k++)
		g_vals[k] = -1;
	for (int k = 0; k < NS; k++)
		g_heap[k] = -1;
}

static void check_vars(int seed, const char *what)
{
	MT_EQ(g_count, 11 * seed, what);
	for (int k = 0; k < ND; k++)
		MT_CHECK(g_vals[k] == seed + k / 8.0, "%s: value %d", what, k);
	for (int k = 0; k < NS; k++)
		MT_EQ(g_heap[k], seed * 100 - k, what);
	MT_EQ(g_heap[-1], 0x7777, "guard before the heap block");
	MT_EQ(g_heap[NS], 0x7777, "guard after the heap block");
}

static uint64_t vars_hash(void)
{
	uint64_t h = mt_hash(MT_HASH_INIT, &g_count, sizeof(g_count));

	h = mt_hash(h, g_vals, sizeof(g_vals));
	return mt_hash(h, g_heap, NS * sizeof(short));
}

static void test_bottom(void)
{
	MPI_Datatype t = absolute_type(), twice;
	MPI_Request r;
	MPI_Status st;
	int n;

	/* p2p */
	if (me == 0) {
		set_vars(3);
		MPI_Send(MPI_BOTTOM, 1, t, 1, 1, MPI_COMM_WORLD);
	} else {
		clear_vars();
		MPI_Recv(MPI_BOTTOM, 1, t, 0, 1, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, t, &n);
		MT_EQ(n, 1, "one absolute struct received");
		MPI_Get_elements(&st, t, &n);
		MT_EQ(n, 1 + ND + NS, "its elements");
		check_vars(3, "recv at MPI_BOTTOM");
	}
	/* nonblocking, the type freed while pending */
	MPI_Datatype keep = t;
	if (me == 1) {
		set_vars(5);
		MPI_Isend(MPI_BOTTOM, 1, keep, 0, 2, MPI_COMM_WORLD, &r);
	} else {
		clear_vars();
		MPI_Irecv(MPI_BOTTOM, 1, keep, 1, 2, MPI_COMM_WORLD, &r);
	}
	MPI_Wait(&r, MPI_STATUS_IGNORE);
	if (me == 0)
		check_vars(5, "irecv at MPI_BOTTOM");
	/* collective */
	if (me == 0)
		set_vars(8);
	else
		clear_vars();
	MPI_Bcast(MPI_BOTTOM, 1, t, 0, MPI_COMM_WORLD);
	check_vars(8, "bcast at MPI_BOTTOM");
	/* Absolute inside relative: two copies of the struct at 0, and at a
	 * displacement of zero again (the same variables twice). */
	int bl[2] = { 1, 1 };
	MPI_Aint d[2] = { 0, 0 };
	MPI_Type_create_hindexed(2, bl, d, t, &twice);
	MPI_Type_commit(&twice);
	if (me == 0) {
		set_vars(9);
		MPI_Send(MPI_BOTTOM, 1, twice, 1, 3, MPI_COMM_WORLD);
	} else {
		/* Receive into a plain buffer: the bytes in typemap order. */
		char buf[2 * (4 + ND * 8 + NS * 2)];
		MPI_Recv(buf, sizeof(buf), MPI_BYTE, 0, 3, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_BYTE, &n);
		MT_EQ(n, (int)sizeof(buf), "bytes of the struct sent twice");
		int c;
		memcpy(&c, buf + sizeof(buf) / 2, sizeof(c));
		MT_EQ(c, 99, "count in the second copy");
	}
	MPI_Type_free(&twice);
	MPI_Type_free(&t);
	MPI_Aint a0, a1;
	MPI_Get_address(&g_vals[0], &a0);
	MPI_Get_address(&g_vals[3], &a1);
	MT_EQ(MPI_Aint_diff(a1, a0), 3 * (long)sizeof(double), "Aint_diff");
	MT_CHECK(MPI_Aint_add(a0, 3 * sizeof(double)) == a1, "Aint_add");
	uint64_t h = vars_hash(), all[2];
	MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	mt_say("MPI_BOTTOM: %016llx %016llx", (unsigned long long)all[0],
	       (unsigned long long)all[1]);
}

int main(int argc, char **argv)
{
	int size = 0;

	MPI_Init(&argc, &argv);
	mt_begin("type_bottom");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		MT_FAIL("needs 2 ranks, got %d", size);
		return mt_finish();
	}
	short *block = malloc((NS + 2) * sizeof(short));
	block[0] = block[NS + 1] = 0x7777;
	g_heap = block + 1;
	test_bottom();
	free(block);
	return mt_finish();
}
