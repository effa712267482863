/*
 * coll_derived.c - collectives with derived datatypes: a strided vector
 * (holes between its elements), a struct with a hole, a type whose data
 * lies before the buffer pointer (negative lower bound), and a struct of absolute
 * addresses used with MPI_BOTTOM.  Receive buffers start poisoned: every
 * element must arrive, and every byte outside the typemap (holes,
 * padding, gaps between v-variant blocks) must keep its poison, as the
 * real MPI leaves it.  Neither MPI defines the predefined ops on derived
 * types: Allreduce on the vector must say MPI_ERR_OP.  The negative lower bound is
 * a struct whose one int sits 8 bytes before the element's start.
 */
/* ranks: 3 */
#include <stddef.h>
#include "mt.h"

#define POISON (-7777)
#define NV 4                 /* vector: NV ints, stride 3 */

static int me, np;
static MPI_Datatype vec, rec, neg, cont;

struct item {                /* rec's layout: a, a hole, b */
	int a;
	int hole;
	double b;
};

static void make_types(void)
{
	MPI_Type_vector(NV, 1, 3, MPI_INT, &vec);
	MPI_Type_commit(&vec);

	int bl[2] = { 1, 1 };
	MPI_Aint disp[2] = { offsetof(struct item, a), offsetof(struct item, b) };
	MPI_Datatype ty[2] = { MPI_INT, MPI_DOUBLE };
	MPI_Datatype tmp;
	MPI_Type_create_struct(2, bl, disp, ty, &tmp);
	MPI_Type_create_resized(tmp, 0, sizeof(struct item), &rec);
	MPI_Type_free(&tmp);
	MPI_Type_commit(&rec);

	/* one int 8 bytes before the element, extent 16: element k of a
	 * buffer is the int at byte 16 k - 8 */
	int one = 1;
	MPI_Aint minus8 = -8;
	MPI_Datatype int_t = MPI_INT;
	MPI_Type_create_struct(1, &one, &minus8, &int_t, &tmp);
	MPI_Type_create_resized(tmp, -8, 16, &neg);
	MPI_Type_free(&tmp);
	MPI_Type_commit(&neg);

	MPI_Type_contiguous(3, MPI_INT, &cont);
	MPI_Type_commit(&cont);
}

static void free_types(void)
{
	MPI_Type_free(&vec);
	MPI_Type_free(&rec);
	MPI_Type_free(&neg);
	MPI_Type_free(&cont);
}

static void fill(int *b, int n, int v)
{
	for (int i = 0; i < n; i++)
		b[i] = v;
}

/* Vector: Bcast, Allgather, Gatherv with a gap, Allreduce SUM. */
static void test_vector(void)
{
	int b[2 * 3 * NV * 8];

	/* Bcast 2 vectors from rank 1, whose buffer has ints 0, 3, 6, ...
	 * set: element e is ints [e ext, e ext + ext), NV of them at stride 3
	 * in the typemap.  Elsewhere the root's value arrives; holes keep
	 * this rank's own bytes. */
	int ext = 3 * (NV - 1) + 1;
	fill(b, 2 * ext, POISON);
	for (int i = 0; me == 1 && i < 2 * ext; i += 3)
		b[i] = 100 + i / 3;
	MPI_Bcast(b, 2, vec, 1, MPI_COMM_WORLD);
	for (int i = 0; i < 2 * ext; i++) {
		int at_root = i % 3 == 0 ? 100 + i / 3 : POISON;
		int in_type = i % ext % 3 == 0;
		MT_EQ(b[i], me == 1 || in_type ? at_root : POISON,
		      in_type ? "bcast vector element" : "bcast vector: hole written");
	}

	/* Allgather one vector from each rank. */
	int s[3 * NV];
	fill(s, 3 * NV, -1);
	for (int k = 0; k < NV; k++)
		s[3 * k] = me * 10 + k;
	fill(b, np * ext, POISON);
	MPI_Allgather(s, 1, vec, b, 1, vec, MPI_COMM_WORLD);
	for (int r = 0; r < np; r++)
		for (int j = 0; j < ext; j++)
			MT_EQ(b[r * ext + j], j % 3 == 0 ? r * 10 + j / 3 : POISON,
			      "allgather vector");

	/* Neither MPI defines the predefined ops on derived types. */
	int r[3 * NV], rc, cls = MPI_SUCCESS;
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	rc = MPI_Allreduce(s, r, 1, vec, MPI_SUM, MPI_COMM_WORLD);
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	if (rc != MPI_SUCCESS)
		MPI_Error_class(rc, &cls);
	MT_CHECK(cls == MPI_ERR_OP, "allreduce SUM on a vector: expected MPI_ERR_OP, got %s",
		 mt_class_name(cls));
	mt_say("vector: bcast, allgather; holes untouched; allreduce SUM is MPI_ERR_OP");
}

/* Struct with a hole and padding: Gatherv with gaps, Scatter. */
static void test_struct(void)
{
	struct item s[2], g[16];
	int cnt[8], dsp[8];

	memset(s, 0x33, sizeof s);
	for (int k = 0; k < 2; k++) {
		s[k].a = me * 100 + k;
		s[k].b = me + 0.5 * k;
	}
	for (int r = 0; r < np; r++) {
		cnt[r] = 1 + r % 2;
		dsp[r] = 3 * (np - 1 - r);
	}
	memset(g, 0x5a, sizeof g);
	MPI_Gatherv(s, cnt[me], rec, g, cnt, dsp, rec, 0, MPI_COMM_WORLD);
	if (me == 0) {
		unsigned char poison[sizeof(struct item)];
		memset(poison, 0x5a, sizeof poison);
		for (int r = 0; r < np; r++) {
			for (int k = 0; k < 3; k++) {
				struct item *e = &g[dsp[r] + k];
				if (k >= cnt[r]) {
					MT_CHECK(memcmp(e, poison, sizeof *e) == 0,
						 "gatherv struct: gap after block %d written", r);
					continue;
				}
				MT_EQ(e->a, r * 100 + k, "gatherv struct a");
				MT_CHECK(e->b == r + 0.5 * k, "gatherv struct b of %d/%d", r, k);
				MT_CHECK(memcmp(&e->hole, poison, sizeof e->hole) == 0,
					 "gatherv struct: hole of %d/%d written", r, k);
			}
		}
	}

	struct item all[8], one;
	for (int r = 0; r < np; r++) {
		all[r].a = 7 * r;
		all[r].b = 2.0 * r;
	}
	memset(&one, 0x5a, sizeof one);
	MPI_Scatter(all, 1, rec, &one, 1, rec, np - 1, MPI_COMM_WORLD);
	MT_EQ(one.a, 7 * me, "scatter struct a");
	MT_CHECK(one.b == 2.0 * me, "scatter struct b");
	MT_EQ(one.hole, 0x5a5a5a5a, "scatter struct: hole written");
	mt_say("struct with a hole: gatherv with gaps, scatter; holes untouched");
}

/* Negative lower bound: element k's int is base[4 k - 2], so the first
 * one lies before the buffer pointer. */
static void test_negative_lb(void)
{
	int mem[64], *base = mem + 8;

	fill(mem, 64, POISON);
	if (me == 0)
		for (int k = 0; k < 3; k++)
			base[4 * k - 2] = 40 + k;
	MPI_Bcast(base, 3, neg, 0, MPI_COMM_WORLD);
	for (int i = 0; i < 64; i++) {
		int off = i - 8 + 2;
		int want = off >= 0 && off % 4 == 0 && off / 4 < 3 ? 40 + off / 4 : POISON;
		MT_EQ(mem[i], want, "bcast negative lower bound");
	}

	/* Alltoall: element d goes to rank d. */
	int s[64], r[64];
	fill(s, 64, POISON);
	fill(r, 64, POISON);
	for (int d = 0; d < np; d++)
		s[8 + 4 * d - 2] = me * 10 + d;
	MPI_Alltoall(s + 8, 1, neg, r + 8, 1, neg, MPI_COMM_WORLD);
	for (int i = 0; i < 64; i++) {
		int off = i - 8 + 2;
		int want = off >= 0 && off % 4 == 0 && off / 4 < np ? (off / 4) * 10 + me : POISON;
		MT_EQ(r[i], want, "alltoall negative lower bound");
	}
	mt_say("negative lower bound: bcast, alltoall");
}

/* Contiguous type: Allgatherv with reversed blocks, Scatterv to
 * MPI_IN_PLACE at the root. */
static void test_contig(void)
{
	int s[3], r[3 * 8 * 2], cnt[8], dsp[8];

	for (int j = 0; j < 3; j++)
		s[j] = me * 10 + j;
	for (int p = 0; p < np; p++) {
		cnt[p] = 1;
		dsp[p] = 2 * (np - 1 - p);
	}
	fill(r, 3 * 2 * np, POISON);
	MPI_Allgatherv(s, 1, cont, r, cnt, dsp, cont, MPI_COMM_WORLD);
	for (int i = 0; i < 3 * 2 * np; i++) {
		int blk = i / 3, p = np - 1 - blk / 2;
		MT_EQ(r[i], blk % 2 == 0 ? p * 10 + i % 3 : POISON, "allgatherv contiguous");
	}

	int all[3 * 8];
	for (int i = 0; i < 3 * np; i++)
		all[i] = 500 + i;
	fill(s, 3, POISON);
	if (me == 0)
		MPI_Scatterv(all, cnt, dsp, cont, MPI_IN_PLACE, 0, cont, 0, MPI_COMM_WORLD);
	else
		MPI_Scatterv(NULL, NULL, NULL, cont, s, 1, cont, 0, MPI_COMM_WORLD);
	for (int j = 0; me > 0 && j < 3; j++)
		MT_EQ(s[j], 500 + 3 * dsp[me] + j, "scatterv contiguous");
	mt_say("contiguous: allgatherv with gaps, scatterv to MPI_IN_PLACE");
}

/* MPI_BOTTOM with absolute addresses: two separate variables. */
static void test_bottom(void)
{
	int x = me == 2 % np ? 31 : -1;
	double y = me == 2 % np ? 4.25 : -1;
	int bl[2] = { 1, 1 };
	MPI_Aint disp[2];
	MPI_Datatype ty[2] = { MPI_INT, MPI_DOUBLE }, abs_t;

	MPI_Get_address(&x, &disp[0]);
	MPI_Get_address(&y, &disp[1]);
	MPI_Type_create_struct(2, bl, disp, ty, &abs_t);
	MPI_Type_commit(&abs_t);
	MPI_Bcast(MPI_BOTTOM, 1, abs_t, 2 % np, MPI_COMM_WORLD);
	MPI_Type_free(&abs_t);
	MT_EQ(x, 31, "bcast MPI_BOTTOM int");
	MT_CHECK(y == 4.25, "bcast MPI_BOTTOM double: got %g", y);
	mt_say("MPI_BOTTOM: bcast of a struct of absolute addresses");
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	mt_begin("coll_derived");
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &np);
	if (np > 8) {
		mt_say("needs at most 8 ranks");
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	make_types();
	test_vector();
	test_struct();
	test_negative_lb();
	test_contig();
	test_bottom();
	free_types();
	return mt_finish();
}
